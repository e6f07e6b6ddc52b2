/*
 * Fuzz target: custody-log proofs and checkpoint notes from untrusted
 * bytes.  The input is a verifier key line, then a tlog-proof, a
 * consistency proof or a signed note.  Invariants, beyond not crashing:
 * the outcome is one of the documented statuses; a note that verifies has
 * its text strictly inside the input and that text parses as a checkpoint
 * or is refused cleanly; and a proof that checks once checks again the
 * same way.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custos/custos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *vkey, *rest, *summary = NULL, *origin = NULL;
	size_t vlen, rlen, tlen = 0;
	custos_merkle_hash root;
	uint64_t tree = 0;
	custos_status st, again;

	if (nl == NULL || size > (1u << 20))
		return 0;
	vlen = (size_t)(nl - data);
	rlen = size - vlen - 1;
	vkey = malloc(vlen + 1);
	rest = malloc(rlen + 1);
	if (vkey == NULL || rest == NULL)
		abort();
	memcpy(vkey, data, vlen);
	vkey[vlen] = '\0';
	memcpy(rest, nl + 1, rlen);
	rest[rlen] = '\0';

	st = custos_custody_check_proof(&summary, rest, rlen, vkey, NULL);
	if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH && st != CUSTOS_EFORMAT &&
	    st != CUSTOS_EINVAL && st != CUSTOS_ENOMEM)
		abort();
	if ((st == CUSTOS_OK) != (summary != NULL))
		abort();
	free(summary);
	summary = NULL;
	again = custos_custody_check_proof(&summary, rest, rlen, vkey, NULL);
	if (again != st)
		abort();
	free(summary);

	st = custos_note_verify(&tlen, rest, rlen, vkey, NULL);
	if (st == CUSTOS_OK) {
		if (tlen == 0 || tlen >= rlen)
			abort();
		if (custos_note_checkpoint_parse(&origin, &tree, root, rest,
				tlen, NULL) == CUSTOS_OK && origin == NULL)
			abort();
		free(origin);
	}
	free(vkey);
	free(rest);
	return 0;
}
