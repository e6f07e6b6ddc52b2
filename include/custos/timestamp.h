/*
 * RFC 3161 trusted time stamps: a client for a time-stamping authority
 * (TSA) over HTTP(S), and the tokens found while verifying.
 *
 * custos_timestamp_file() writes <file>.tsr, the TSA's TimeStampResp over
 * the file's digest, which anyone can check without custos:
 *   openssl ts -verify -in F.tsr -data F -CAfile TSA-CA.pem
 *
 * The client sends application/timestamp-query with a fresh 64-bit nonce
 * and asks for the TSA's certificate; it checks that the answer is granted,
 * carries the same nonce and is over the same digest.
 */
#ifndef CUSTOS_TIMESTAMP_H
#define CUSTOS_TIMESTAMP_H

#include "cert.h"
#include "check.h"
#include "common.h"
#include "digest.h"
#include "error.h"

#define CUSTOS_TSA_OPTIONS_VERSION 1
#define CUSTOS_TSA_DEFAULT_TIMEOUT 30

typedef struct custos_tsa_options {
	unsigned int version;     /* CUSTOS_TSA_OPTIONS_VERSION */
	const char *url;          /* http:// or https:// URL, required */
	unsigned int timeout;     /* seconds for connect plus answer (default 30) */
	custos_digest_alg digest; /* SHA256 (default) or SHA512 */
} custos_tsa_options;

CUSTOS_EXTERN void custos_tsa_options_init(custos_tsa_options *opts);

/*
 * Time-stamp the file at path: write the TSA's answer to <path>.tsr.
 * Refuses (CUSTOS_EEXIST) when it exists.  Errors: CUSTOS_EINVAL (a bad
 * URL), CUSTOS_EIO (TSA unreachable, timed out, or refused the request),
 * CUSTOS_EFORMAT (an answer that is not a valid time stamp for this
 * request: garbage, wrong nonce, other data).
 */
CUSTOS_EXTERN custos_status custos_timestamp_file(const char *path,
		const custos_tsa_options *opts, custos_error *err);

/* The same, writing to tsr_path. */
CUSTOS_EXTERN custos_status custos_timestamp_file_to(const char *path,
		const char *tsr_path, const custos_tsa_options *opts,
		custos_error *err);

/*
 * A time stamp found while verifying a signature (sign.h); borrowed from the
 * verification.  Strings are NULL when unknown.
 */
typedef struct custos_timestamp custos_timestamp;

/* "signature" (inside the .p7s, over the signature value) or "file" (.tsr). */
CUSTOS_EXTERN const char *custos_timestamp_kind(const custos_timestamp *ts);
CUSTOS_EXTERN const char *custos_timestamp_path(const custos_timestamp *ts);
CUSTOS_EXTERN custos_sign_check custos_timestamp_check(
		const custos_timestamp *ts);
CUSTOS_EXTERN const char *custos_timestamp_message(const custos_timestamp *ts);
/* genTime, RFC 3339 UTC. */
CUSTOS_EXTERN const char *custos_timestamp_time(const custos_timestamp *ts);
/* The TSA's name from the token, else its certificate's subject. */
CUSTOS_EXTERN const char *custos_timestamp_tsa_name(const custos_timestamp *ts);
CUSTOS_EXTERN const custos_cert *custos_timestamp_tsa_cert(
		const custos_timestamp *ts);
CUSTOS_EXTERN const char *custos_timestamp_serial(const custos_timestamp *ts);
CUSTOS_EXTERN const char *custos_timestamp_policy(const custos_timestamp *ts);
CUSTOS_EXTERN const char *custos_timestamp_digest(const custos_timestamp *ts);

#endif
