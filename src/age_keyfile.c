/*
 * age identity files, written: a new X25519 identity in the layout
 * age-keygen uses ("# public key: age1..." then the AGE-SECRET-KEY-1...
 * line), written to a private temporary file with mode 0600, committed
 * without replacing anything, and wiped from memory after.
 * Reading such a file is custos_age_identity_file_read in age.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "custos/age.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

custos_status custos_age_identity_file_write(
		char recipient[CUSTOS_AGE_RECIPIENT_MAX], const char *path,
		custos_error *err)
{
	char id[CUSTOS_AGE_IDENTITY_MAX];
	char *text;
	custos_status st;
	size_t len;

	if (recipient == NULL || path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"identity file: no path");
	if ((st = custos_age_keygen(id, recipient, err)) != CUSTOS_OK)
		return st;
	text = custos__aprintf("# public key: %s\n%s\n", recipient, id);
	OPENSSL_cleanse(id, sizeof(id));
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	len = strlen(text);
	/* A private temporary file beside path (0600), fsynced, committed
	 * without replacing anything: never a partial identity file under
	 * the name, never through a planted symlink. */
	st = custos__write_file_exclusive(path, text, len, 0600, err);
	OPENSSL_cleanse(text, len);
	free(text);
	if (st != CUSTOS_OK) {
		char why[CUSTOS_ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
		return custos__error_set(err, st, "identity file %s: %s", path,
			why);
	}
	return CUSTOS_OK;
}
