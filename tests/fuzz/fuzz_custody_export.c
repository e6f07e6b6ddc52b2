/*
 * Fuzz target: custody exports (metadata/custody.jsonl) from untrusted
 * bytes, checked with and without the TEST-ONLY CA of samples/pki.
 * Invariants, beyond not crashing:
 *   - the outcome is a documented status, and a result comes back exactly
 *     for CUSTOS_OK and CUSTOS_EMISMATCH;
 *   - checking the same bytes again gives the same outcome, records and
 *     problems;
 *   - without trust nothing is VERIFIED, and what fails without trust
 *     fails with it;
 *   - an accepted export has no record with a problem, and each record
 *     line ends in its LF;
 *   - one signed tree head never admits two different lines for the same
 *     record number: across all inputs accepted in this process (a byte
 *     changed in an accepted export may still verify, but only as the
 *     same history).
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "custos/custos.h"

#ifndef CUSTOS_FUZZ_TRUST
#define CUSTOS_FUZZ_TRUST "samples/pki/ca.pem"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEEN_MAX 4096

/* (tree head, seq) -> SHA-256 of the line, for accepted inputs. */
typedef struct seen {
	char root[48];
	uint64_t seq;
	unsigned char line_hash[32];
} seen;

static seen table[SEEN_MAX];
static size_t table_n;

static void remember(const char *root, uint64_t seq, const char *line,
		size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 32;

	if (strlen(root) >= sizeof(table[0].root) ||
	    EVP_Digest(line, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	for (size_t i = 0; i < table_n; i++) {
		if (table[i].seq == seq && strcmp(table[i].root, root) == 0) {
			if (memcmp(table[i].line_hash, md, 32) != 0)
				abort(); /* two histories under one head */
			return;
		}
	}
	if (table_n < SEEN_MAX) {
		memcpy(table[table_n].root, root, strlen(root) + 1);
		table[table_n].seq = seq;
		memcpy(table[table_n].line_hash, md, 32);
		table_n++;
	}
}

static custos_status check(custos_custody_export_verification **v,
		const char *buf, size_t len, int trusted)
{
	static const char *const trust[] = {CUSTOS_FUZZ_TRUST};
	custos_custody_export_verify_options o;
	custos_status st;

	custos_custody_export_verify_options_init(&o);
	o.trust = trusted ? trust : NULL;
	o.trust_count = trusted ? 1 : 0;
	st = custos_custody_export_verify(v, buf, len, &o, NULL);
	if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH && st != CUSTOS_EFORMAT &&
	    st != CUSTOS_ENOMEM)
		abort();
	if ((st == CUSTOS_OK || st == CUSTOS_EMISMATCH) != (*v != NULL))
		abort();
	return st;
}

static void same(const custos_custody_export_verification *a,
		const custos_custody_export_verification *b)
{
	size_t n;

	if (a == NULL || b == NULL)
		return;
	n = custos_custody_export_verification_record_count(a);
	if (custos_custody_export_verification_status(a) !=
		    custos_custody_export_verification_status(b) ||
	    n != custos_custody_export_verification_record_count(b) ||
	    custos_custody_export_verification_problem_count(a) !=
		    custos_custody_export_verification_problem_count(b))
		abort();
	for (size_t i = 0; i < n; i++)
		if (custos_custody_export_verification_record_seq(a, i) !=
		    custos_custody_export_verification_record_seq(b, i))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_custody_export_verification *v = NULL, *again = NULL;
	custos_custody_export_verification *bare = NULL;
	custos_status st, st2, st3;
	const char *buf = (const char *)data;

	if (size > (4u << 20))
		return 0;
	st = check(&v, buf, size, 1);
	st2 = check(&again, buf, size, 1);
	if (st != st2)
		abort();
	same(v, again);
	st3 = check(&bare, buf, size, 0);
	if (bare != NULL && custos_custody_export_verification_status(bare) ==
			CUSTOS_CUSTODY_EXPORT_VERIFIED)
		abort();
	if (st3 != CUSTOS_OK && st == CUSTOS_OK)
		abort();
	if (st == CUSTOS_OK) {
		const char *root =
			custos_custody_export_verification_checkpoint_root(v);

		if (custos_custody_export_verification_status(v) !=
				CUSTOS_CUSTODY_EXPORT_VERIFIED ||
		    custos_custody_export_verification_problem_count(v) != 0 ||
		    custos_custody_export_verification_status(bare) !=
				CUSTOS_CUSTODY_EXPORT_INCOMPLETE)
			abort();
		for (size_t i = 0;
		     i < custos_custody_export_verification_record_count(v);
		     i++) {
			size_t len = 0;
			const char *line =
				custos_custody_export_verification_record_line(
					v, i, &len);

			if (line == NULL || len == 0 || line[len - 1] != '\n' ||
			    custos_custody_export_verification_record_problem(
				    v, i) != NULL)
				abort();
			remember(root,
				custos_custody_export_verification_record_seq(
					v, i), line, len);
		}
	}
	custos_custody_export_verification_free(v);
	custos_custody_export_verification_free(again);
	custos_custody_export_verification_free(bare);
	return 0;
}
