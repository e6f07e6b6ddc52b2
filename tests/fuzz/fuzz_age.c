/*
 * Fuzz target: age v1 files from untrusted bytes (header, stanzas, MAC,
 * STREAM payload).  The input is an age file, or a C2SP CCTV vector (its
 * "key: value" lines and a blank line, then the file).  Invariants, beyond
 * not crashing: the outcome is one of the documented statuses; the
 * plaintext is never longer than the input; and decrypting twice gives
 * the same outcome and the same plaintext.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "custos/age.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The identity of the CCTV vectors (public test key). */
static const char *const ids[] = {
	"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
};

typedef struct src {
	const uint8_t *p;
	size_t n, pos;
} src;

static custos_status read_src(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	src *s = ctx;
	size_t n = s->n - s->pos;

	(void)err;
	if (n > cap)
		n = cap;
	if (n > 1000)
		n = 1000; /* short reads exercise the buffering */
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	*got = n;
	return CUSTOS_OK;
}

static custos_status run(const uint8_t *data, size_t size, int *stage,
		size_t *total, unsigned char digest[32])
{
	custos_age_reader *r = NULL;
	src s = {data, size, 0};
	unsigned char buf[4096];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	custos_status st;

	if (md == NULL)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	*total = 0;
	*stage = 0;
	st = custos_age_reader_new(&r, ids, 1, read_src, &s, NULL);
	if (st == CUSTOS_OK) {
		*stage = 1;
		for (;;) {
			size_t got = 0;
			st = custos_age_reader_read(r, buf, sizeof(buf), &got, NULL);
			if (st != CUSTOS_OK || got == 0)
				break;
			*total += got;
			EVP_DigestUpdate(md, buf, got);
		}
	}
	EVP_DigestFinal_ex(md, digest, NULL);
	EVP_MD_CTX_free(md);
	custos_age_reader_free(r);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int stage1, stage2;
	size_t t1, t2;
	unsigned char d1[32], d2[32];
	custos_status s1, s2;

	if (size > 7 && memcmp(data, "expect:", 7) == 0) {
		for (size_t i = 0; i + 1 < size; i++)
			if (data[i] == '\n' && data[i + 1] == '\n') {
				data += i + 2;
				size -= i + 2;
				break;
			}
	}
	s1 = run(data, size, &stage1, &t1, d1);
	if (s1 != CUSTOS_OK && s1 != CUSTOS_EFORMAT && s1 != CUSTOS_EMISMATCH &&
	    s1 != CUSTOS_ENOTFOUND)
		abort();
	if (t1 > size)
		abort();
	s2 = run(data, size, &stage2, &t2, d2);
	if (s1 != s2 || stage1 != stage2 || t1 != t2 ||
	    (s1 == CUSTOS_OK && memcmp(d1, d2, 32) != 0))
		abort();
	return 0;
}
