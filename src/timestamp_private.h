/*
 * RFC 3161 helpers that timestamp.c offers sign.c.  Time stamps sit below
 * signatures: nothing here, nor in timestamp.c, uses sign.c.
 */
#ifndef CUSTOS_TIMESTAMP_PRIVATE_H
#define CUSTOS_TIMESTAMP_PRIVATE_H

#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "custos/timestamp.h"

/*
 * Ask the TSA at url for a time stamp over digest (made with md): send a
 * query with a fresh nonce, and check that the answer is granted, carries
 * that nonce and is over that digest.  *out is the whole answer.
 */
custos_status custos__timestamp_fetch(TS_RESP **out, const char *url,
		unsigned int timeout, const EVP_MD *md,
		const unsigned char *digest, size_t digest_len,
		custos_error *err);

/* "sha256", "sha512", ... for a digest; "other" when unknown. */
const char *custos__md_name(const EVP_MD *md);

/* A record for a token found at path ("signature" or "file" kind). */
custos_timestamp *custos__timestamp_new(const char *kind, const char *path);
/* Record a failure found before the token could be checked. */
void custos__timestamp_fail(custos_timestamp *ts, custos_sign_check check,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Check token against the data it should stamp: in memory (data, len), or
 * the file at data_path when data is NULL.  Fills ts; returns its check.
 */
custos_sign_check custos__timestamp_check_token(custos_timestamp *ts,
		PKCS7 *token, const unsigned char *data, size_t len,
		const char *data_path, X509_STORE *store);
/* genTime of a token that passed its checks; 0 if none. */
int custos__timestamp_gen_time(const custos_timestamp *ts, time_t *out);
json_t *custos__timestamp_json(const custos_timestamp *ts);
void custos__timestamp_free(custos_timestamp *ts);

#endif
