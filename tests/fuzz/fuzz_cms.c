/*
 * Fuzz target: detached CMS signatures (.p7s) from untrusted bytes, checked
 * by custos_sign_verify_file over a fixed content with the TEST-ONLY CA.
 * Invariants, beyond not crashing:
 *   - the outcome is a documented status, with a result whenever the
 *     signature was examined;
 *   - checking twice gives the same verdict (no hidden state);
 *   - differential: a signature custos accepts, OpenSSL's own CMS_verify
 *     accepts too (detached, binary, same trust anchor);
 *   - a signature custos accepts is refused once the content changes.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "custos/sign.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char content[] = "custos fuzz content\n";

static custos_sign_check check(const char *path, const char *sig)
{
	const char *trust[] = {CUSTOS_FUZZ_TRUST};
	custos_sign_verify_options o;
	custos_sign_verification *v = NULL;
	custos_sign_check c;
	custos_status st;

	custos_sign_verify_options_init(&o);
	o.trust = trust;
	o.trust_count = 1;
	o.signature_path = sig;
	st = custos_sign_verify_file(&v, path, &o, NULL);
	if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH && st != CUSTOS_EFORMAT &&
	    st != CUSTOS_EINVAL)
		abort();
	if ((st == CUSTOS_OK || st == CUSTOS_EMISMATCH) && v == NULL)
		abort();
	c = v == NULL ? CUSTOS_SIGN_MALFORMED :
		custos_sign_verification_signature_check(v);
	if (st == CUSTOS_OK && c != CUSTOS_SIGN_OK)
		abort();
	custos_sign_verification_free(v);
	return c;
}

/* OpenSSL's own verdict on the same bytes, with the same anchor. */
static int openssl_accepts(const uint8_t *der, size_t n)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
	X509_STORE *store = X509_STORE_new();
	BIO *in = BIO_new_mem_buf(content, (int)(sizeof(content) - 1));
	int ok = 0;

	if (cms != NULL && store != NULL && in != NULL &&
	    X509_STORE_load_file(store, CUSTOS_FUZZ_TRUST) == 1)
		ok = CMS_verify(cms, NULL, store, in, NULL,
			CMS_BINARY | CMS_DETACHED) == 1;
	BIO_free(in);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dir d;
	custos_sign_check first;
	char file[128], sig[128];

	if (fuzz_dir_make(&d) != 0)
		abort();
	fuzz_dir_path(&d, "content.txt", file);
	fuzz_dir_path(&d, "content.txt.p7s", sig);
	fuzz_dir_write(&d, "content.txt", content, sizeof(content) - 1);
	fuzz_dir_write(&d, "content.txt.p7s", data, size);
	first = check(file, sig);
	if (check(file, sig) != first)
		abort();
	if (first == CUSTOS_SIGN_OK) {
		if (!openssl_accepts(data, size))
			abort();
		fuzz_dir_write(&d, "content.txt", "Custos fuzz content\n",
			sizeof(content) - 1);
		if (check(file, sig) == CUSTOS_SIGN_OK)
			abort();
	}
	fuzz_dir_remove(&d);
	return 0;
}
