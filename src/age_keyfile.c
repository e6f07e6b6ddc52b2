/*
 * age identity files, written: a new X25519 identity in the layout
 * age-keygen uses ("# public key: age1..." then the AGE-SECRET-KEY-1...
 * line), created exclusively with mode 0600 and wiped from memory after.
 * Reading such a file is custos_age_identity_file_read in age.c.
 */
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
	int fd = -1;

	if (recipient == NULL || path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"identity file: no path");
	if ((st = custos_age_keygen(id, recipient, err)) != CUSTOS_OK)
		return st;
	if ((st = custos__create_exclusive(&fd, path, 0600, err)) !=
			CUSTOS_OK) {
		OPENSSL_cleanse(id, sizeof(id));
		return custos__error_set(err, st, "%s: cannot create (exists?)",
			path);
	}
	text = custos__aprintf("# public key: %s\n%s\n", recipient, id);
	OPENSSL_cleanse(id, sizeof(id));
	if (text == NULL) {
		close(fd);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	len = strlen(text);
	st = custos__write_all(fd, text, len, path, err);
	if (close(fd) != 0 && st == CUSTOS_OK)
		st = CUSTOS_EIO;
	OPENSSL_cleanse(text, len);
	free(text);
	if (st != CUSTOS_OK)
		return custos__error_set(err, st, "%s: write failed", path);
	return CUSTOS_OK;
}
