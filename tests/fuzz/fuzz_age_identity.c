/*
 * Fuzz target: age identity files from untrusted bytes (what `-i FILE`
 * reads: identities, comments, blank lines).  Invariants, beyond not
 * crashing:
 *   - the outcome is a documented status, and success gives at least one
 *     identity;
 *   - every identity accepted is an X25519 secret key with a recipient;
 *   - reading twice gives the same identities;
 *   - the first identity custos_age_identity_file_read returns is the
 *     first of the whole list;
 *   - appending a comment line changes nothing.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custos/age.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static custos_status read_all(char ***ids, size_t *n, const char *path)
{
	custos_status st = custos_age_identity_file_read_all(ids, n, path,
		NULL);

	if (st != CUSTOS_OK && st != CUSTOS_EFORMAT && st != CUSTOS_EINVAL &&
	    st != CUSTOS_ENOMEM)
		abort();
	if (st == CUSTOS_OK && (*ids == NULL || *n == 0))
		abort();
	return st;
}

static int same(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128], first[CUSTOS_AGE_IDENTITY_MAX];
	char recipient[CUSTOS_AGE_RECIPIENT_MAX];
	char **a = NULL, **b = NULL;
	size_t na = 0, nb = 0;
	unsigned char *more;
	custos_status st;
	fuzz_dir d;

	if (fuzz_dir_make(&d) != 0)
		abort();
	fuzz_dir_write(&d, "id.txt", data, size);
	fuzz_dir_path(&d, "id.txt", path);
	st = read_all(&a, &na, path);
	if (read_all(&b, &nb, path) != st || (st == CUSTOS_OK &&
	    !same(a, na, b, nb)))
		abort();
	custos_age_identities_free(b, nb);
	if (st == CUSTOS_OK) {
		for (size_t i = 0; i < na; i++)
			if (strncmp(a[i], "AGE-SECRET-KEY-1", 16) != 0 ||
			    custos_age_identity_to_recipient(recipient, a[i],
				    NULL) != CUSTOS_OK)
				abort();
		if (custos_age_identity_file_read(first, path, NULL) !=
		    CUSTOS_OK || strcmp(first, a[0]) != 0)
			abort();
		/* A trailing comment line must not change the identities
		 * (only when the input ends its last line). */
		if (size > 0 && data[size - 1] == '\n' &&
		    (more = malloc(size + 12)) != NULL) {
			memcpy(more, data, size);
			memcpy(more + size, "# comment\n", 10);
			fuzz_dir_write(&d, "id.txt", more, size + 10);
			free(more);
			if (read_all(&b, &nb, path) != CUSTOS_OK ||
			    !same(a, na, b, nb))
				abort();
			custos_age_identities_free(b, nb);
		}
	}
	custos_age_identities_free(a, na);
	fuzz_dir_remove(&d);
	return 0;
}
