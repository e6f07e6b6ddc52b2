/*
 * Fuzz target: RFC 3161 time-stamp tokens (.tsr) from untrusted bytes,
 * checked by custos_sign_verify_file beside a fixed, validly signed file
 * (tests/fuzz/data/tsr-content.p7s) with the TEST-ONLY CA.  Invariants,
 * beyond not crashing:
 *   - the outcome is a documented status;
 *   - checking twice gives the same verdict and the same time;
 *   - a token custos accepts names a time in RFC 3339 UTC and a TSA;
 *   - a token custos accepts is refused once the file changes.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custos/sign.h"
#include "custos/timestamp.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char content[] = "custos fuzz content\n";

typedef struct outcome {
	custos_sign_check check;    /* of the .tsr token */
	char time[40];
} outcome;

static outcome verify(const char *file, const char *sig, const char *tsr)
{
	const char *trust[] = {CUSTOS_FUZZ_TRUST};
	custos_sign_verify_options o;
	custos_sign_verification *v = NULL;
	outcome out = {CUSTOS_SIGN_MALFORMED, ""};
	custos_status st;
	size_t n;

	custos_sign_verify_options_init(&o);
	o.trust = trust;
	o.trust_count = 1;
	o.signature_path = sig;
	o.timestamp_path = tsr;
	st = custos_sign_verify_file(&v, file, &o, NULL);
	if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH && st != CUSTOS_EFORMAT &&
	    st != CUSTOS_EINVAL)
		abort();
	if (v == NULL)
		return out;
	n = custos_sign_verification_timestamp_count(v);
	for (size_t i = 0; i < n; i++) {
		const custos_timestamp *ts = custos_sign_verification_timestamp(v,
			i);
		const char *path = custos_timestamp_path(ts);

		if (path == NULL || strcmp(path, tsr) != 0)
			continue;
		out.check = custos_timestamp_check(ts);
		if (out.check == CUSTOS_SIGN_OK) {
			const char *t = custos_timestamp_time(ts);

			if (t == NULL || strlen(t) != 20 || t[10] != 'T' ||
			    t[19] != 'Z' || custos_timestamp_tsa_name(ts) == NULL)
				abort();
			snprintf(out.time, sizeof(out.time), "%s", t);
		}
	}
	custos_sign_verification_free(v);
	return out;
}

static unsigned char *p7s;
static size_t p7s_len;

static void load_signature(void)
{
	FILE *f = fopen(CUSTOS_FUZZ_DATA "/tsr-content.p7s", "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p7s = malloc((size_t)n)) == NULL ||
	    fread(p7s, 1, (size_t)n, f) != (size_t)n)
		abort();
	p7s_len = (size_t)n;
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char file[128], sig[128], tsr[128];
	outcome a, b;
	fuzz_dir d;

	if (p7s == NULL)
		load_signature();
	if (fuzz_dir_make(&d) != 0)
		abort();
	fuzz_dir_write(&d, "c.txt", content, sizeof(content) - 1);
	fuzz_dir_write(&d, "c.txt.p7s", p7s, p7s_len);
	fuzz_dir_write(&d, "c.txt.tsr", data, size);
	fuzz_dir_path(&d, "c.txt", file);
	fuzz_dir_path(&d, "c.txt.p7s", sig);
	fuzz_dir_path(&d, "c.txt.tsr", tsr);
	a = verify(file, sig, tsr);
	b = verify(file, sig, tsr);
	if (a.check != b.check || strcmp(a.time, b.time) != 0)
		abort();
	if (a.check == CUSTOS_SIGN_OK) {
		fuzz_dir_write(&d, "c.txt", "Custos fuzz content\n",
			sizeof(content) - 1);
		if (verify(file, sig, tsr).check == CUSTOS_SIGN_OK)
			abort();
	}
	fuzz_dir_remove(&d);
	return 0;
}
