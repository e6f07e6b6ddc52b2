/*
 * Message digests (MD5, SHA-1, SHA-256, SHA-512) through OpenSSL EVP.
 *
 * A custos_digest hashes one stream with one algorithm.  Several digests of
 * the same stream run on separate threads inside the acquisition pipeline;
 * this module is the single-threaded building block.
 */
#ifndef CUSTOS_DIGEST_H
#define CUSTOS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

typedef enum custos_digest_alg {
	CUSTOS_DIGEST_MD5 = 0,
	CUSTOS_DIGEST_SHA1 = 1,
	CUSTOS_DIGEST_SHA256 = 2,
	CUSTOS_DIGEST_SHA512 = 3,
} custos_digest_alg;

#define CUSTOS_DIGEST_COUNT 4
#define CUSTOS_DIGEST_MAX_SIZE 64
#define CUSTOS_DIGEST_HEX_MAX (2 * CUSTOS_DIGEST_MAX_SIZE + 1)

/* A set of algorithms, as a bit mask of (1u << alg). */
typedef unsigned int custos_digest_set;
#define CUSTOS_DIGEST_BIT(alg) (1u << (alg))
#define CUSTOS_DIGEST_SET_DEFAULT                                              \
	(CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_MD5) |                                \
	 CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA1) |                               \
	 CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA256))

typedef struct custos_digest custos_digest;

/* "md5", "sha1", "sha256", "sha512"; NULL for an unknown value. */
CUSTOS_EXTERN const char *custos_digest_name(custos_digest_alg alg);
/* Output size in bytes; 0 for an unknown value. */
CUSTOS_EXTERN size_t custos_digest_size(custos_digest_alg alg);

/* Parse one name, case-insensitively. */
CUSTOS_EXTERN custos_status custos_digest_parse(custos_digest_alg *out,
		const char *name, custos_error *err);

/* Parse a comma-separated list such as "md5,sha1,sha256". */
CUSTOS_EXTERN custos_status custos_digest_parse_list(custos_digest_set *out,
		const char *list, custos_error *err);

CUSTOS_EXTERN custos_status custos_digest_new(custos_digest **out,
		custos_digest_alg alg, custos_error *err);
CUSTOS_EXTERN custos_status custos_digest_update(custos_digest *d,
		const void *data, size_t len, custos_error *err);
/*
 * Finish and write the lowercase hex digest into hex (at least
 * CUSTOS_DIGEST_HEX_MAX bytes).  The digest may then be reset and reused.
 */
CUSTOS_EXTERN custos_status custos_digest_final_hex(custos_digest *d,
		char *hex, size_t hex_capacity, custos_error *err);
CUSTOS_EXTERN custos_status custos_digest_reset(custos_digest *d,
		custos_error *err);
CUSTOS_EXTERN custos_digest_alg custos_digest_alg_of(const custos_digest *d);
/* A copy of d in its current state, to finish two ways. */
CUSTOS_EXTERN custos_status custos_digest_dup(custos_digest **out,
		const custos_digest *d, custos_error *err);
CUSTOS_EXTERN void custos_digest_free(custos_digest *d);

/* One-shot convenience: hash a buffer. */
CUSTOS_EXTERN custos_status custos_digest_buffer_hex(custos_digest_alg alg,
		const void *data, size_t len, char *hex, size_t hex_capacity,
		custos_error *err);

#endif
