/* Helpers for filling a custos_error inside the library. */
#ifndef CUSTOS_ERROR_PRIVATE_H
#define CUSTOS_ERROR_PRIVATE_H

#include "custos/error.h"

/* Set err (if not NULL) and return status, so callers can `return set(...)`. */
custos_status custos__error_set(custos_error *err, custos_status status,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like custos__error_set, with ": <strerror(errnum)>" appended. */
custos_status custos__error_errno(custos_error *err, int errnum,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Map an errno value to the closest status. */
custos_status custos__status_from_errno(int errnum);

/* Append the OpenSSL error queue's first entry and clear the queue. */
custos_status custos__error_openssl(custos_error *err, const char *what);

#endif
