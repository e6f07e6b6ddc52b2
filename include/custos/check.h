/*
 * The outcome of a signature or time-stamp check, shared by the sign and
 * timestamp modules: the lowest layer of verification, so that time stamps
 * (timestamp.h) sit below signatures (sign.h) and depend on nothing of
 * theirs.
 */
#ifndef CUSTOS_CHECK_H
#define CUSTOS_CHECK_H

#include "common.h"

/* The outcome of one check; the values never change. */
typedef enum custos_sign_check {
	CUSTOS_SIGN_OK = 0,
	CUSTOS_SIGN_MISSING = 1,            /* no .p7s and no .tsr to check */
	CUSTOS_SIGN_MALFORMED = 2,          /* truncated, garbage, not detached CMS */
	CUSTOS_SIGN_CONTENT_CHANGED = 3,    /* the file is not what was signed */
	CUSTOS_SIGN_BAD_SIGNATURE = 4,      /* the signature value does not verify */
	CUSTOS_SIGN_UNTRUSTED = 5,          /* no chain to a trusted CA */
	CUSTOS_SIGN_EXPIRED = 6,            /* certificate expired or not yet valid */
	CUSTOS_SIGN_KEY_USAGE = 7,          /* certificate may not sign */
	CUSTOS_SIGN_TIMESTAMP_MISMATCH = 8, /* the token is over other data */
	CUSTOS_SIGN_TIMESTAMP_INVALID = 9,  /* the token is broken or badly signed */
	CUSTOS_SIGN_TIMESTAMP_UNTRUSTED = 10, /* the TSA has no trusted chain */
} custos_sign_check;

/* "ok", "missing", "malformed", "content-changed", "bad-signature",
 * "untrusted", "expired", "key-usage", "timestamp-mismatch",
 * "timestamp-invalid", "timestamp-untrusted". */
CUSTOS_EXTERN const char *custos_sign_check_name(custos_sign_check check);

#endif
