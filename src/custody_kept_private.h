/*
 * The records of a custody log as custos_custody_verify read and checked
 * them, handed to a caller inside libcustos that reads them next
 * (custos-verify's custody checks, verify_custody.c): the very bytes that
 * were verified, so nothing read afterwards can differ from them, and
 * parsed once, by the verifying threads.
 */
#ifndef CUSTOS_CUSTODY_KEPT_PRIVATE_H
#define CUSTOS_CUSTODY_KEPT_PRIVATE_H

#include <stddef.h>

#include <jansson.h>

#include "custos/custody.h"

typedef struct custos__custody_kept {
	json_t *json;          /* the record; the caller owns it */
	char sha256[65];       /* of the line with its LF */
} custos__custody_kept;

/*
 * custos_custody_verify, and when the log verifies without a problem,
 * *kept gets its records in log order (*count of them; the caller frees
 * each json and the array).  Otherwise *kept is NULL and *count 0.
 */
custos_status custos__custody_verify_keep(custos_custody_verification **out,
		const char *dir, const custos_custody_verify_options *opts,
		custos__custody_kept **kept, size_t *count, custos_error *err);

#endif
