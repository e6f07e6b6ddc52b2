/*
 * Names of the outcomes of signature and time-stamp checks (check.h).  The
 * lowest layer of verification: sign.c and timestamp.c both use it, and it
 * uses neither.
 */
#include "custos/check.h"

static const char *const check_names[] = {
	[CUSTOS_SIGN_OK] = "ok",
	[CUSTOS_SIGN_MISSING] = "missing",
	[CUSTOS_SIGN_MALFORMED] = "malformed",
	[CUSTOS_SIGN_CONTENT_CHANGED] = "content-changed",
	[CUSTOS_SIGN_BAD_SIGNATURE] = "bad-signature",
	[CUSTOS_SIGN_UNTRUSTED] = "untrusted",
	[CUSTOS_SIGN_EXPIRED] = "expired",
	[CUSTOS_SIGN_KEY_USAGE] = "key-usage",
	[CUSTOS_SIGN_TIMESTAMP_MISMATCH] = "timestamp-mismatch",
	[CUSTOS_SIGN_TIMESTAMP_INVALID] = "timestamp-invalid",
	[CUSTOS_SIGN_TIMESTAMP_UNTRUSTED] = "timestamp-untrusted",
};

const char *custos_sign_check_name(custos_sign_check check)
{
	if ((unsigned)check >= sizeof(check_names) / sizeof(check_names[0]))
		return "unknown";
	return check_names[check];
}
