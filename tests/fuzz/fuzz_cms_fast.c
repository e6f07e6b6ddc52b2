/*
 * Differential fuzz target for the custody log's hand-written CMS fast path
 * (src/cms_fast.c): whatever the fast path accepts, OpenSSL's CMS_verify
 * must accept too, over the same content, with the same signer.
 *
 * Input: a 2-byte big-endian length L, L bytes of content (a record line),
 * then the DER of a detached CMS signature (a sig/N.p7s).  The fast path
 * is run as custody_signatures.c runs it (split the certificates off,
 * decode them and their facts, custos__cms_fast_verify); if it names a
 * signer, the whole DER must pass CMS_verify(CMS_BINARY |
 * CMS_NO_SIGNER_CERT_VERIFY) with exactly one signer, that certificate;
 * anything else aborts.  cms_fast.c
 * is compiled into the target (its symbols are private to libcustos).
 * Build with clang -fsanitize=fuzzer,address for libFuzzer (see README.md
 * here); replay.c runs the seed corpus in meson test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "cms_fast_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The certificates' DER (cs) decoded, or NULL if some is not one. */
static STACK_OF(X509) *certs_of(const unsigned char *cs, long cs_len)
{
	const unsigned char *p = cs, *end = cs + cs_len;
	STACK_OF(X509) *certs = sk_X509_new_null();

	while (certs != NULL && p < end) {
		X509 *x = d2i_X509(NULL, &p, (long)(end - p));

		if (x == NULL || !sk_X509_push(certs, x)) {
			X509_free(x);
			sk_X509_pop_free(certs, X509_free);
			return NULL;
		}
	}
	return certs;
}

/* 1 when OpenSSL's CMS_verify accepts der over content, signed by cert. */
static int openssl_accepts(const unsigned char *der, long len,
		const unsigned char *content, size_t clen, X509 *cert)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, len);
	BIO *in = BIO_new_mem_buf(content, (int)clen);
	STACK_OF(X509) *signers = NULL;
	int ok = 0;

	if (cms != NULL && in != NULL && p == der + len &&
	    CMS_verify(cms, NULL, NULL, in, NULL,
		    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1) {
		signers = CMS_get0_signers(cms);
		ok = sk_X509_num(signers) == 1 &&
			X509_cmp(sk_X509_value(signers, 0), cert) == 0;
	}
	sk_X509_free(signers);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos__cms_signer_parts sd;
	unsigned char *bare = NULL;
	const unsigned char *cs = NULL, *der;
	long bare_len = 0, cs_len = 0, der_len;
	size_t clen;
	STACK_OF(X509) *certs;
	custos__cms_cert_facts *facts;
	const custos__cms_cert_facts *signer = NULL;
	int n, made;

	if (size < 2 || size > (1u << 20))
		return 0;
	clen = (size_t)data[0] << 8 | data[1];
	if (clen > size - 2)
		return 0;
	der = data + 2 + clen;
	der_len = (long)(size - 2 - clen);
	memset(&sd, 0, sizeof(sd));
	if (!custos__cms_split_certs(der, der_len, &bare, &bare_len, &cs,
			&cs_len, &sd))
		return 0;
	/* The split copy lies within bounds and is not longer. */
	if (bare == NULL || bare_len <= 0 || bare_len > der_len ||
	    cs < der || cs + cs_len > der + der_len)
		abort();
	certs = certs_of(cs, cs_len);
	n = sk_X509_num(certs);
	facts = n > 0 ? calloc((size_t)n, sizeof(*facts)) : NULL;
	for (made = 0; facts != NULL && made < n; made++)
		if (!custos__cms_cert_facts_init(&facts[made],
				sk_X509_value(certs, made), certs))
			break;
	if (facts != NULL && made == n &&
	    (signer = custos__cms_fast_verify(&sd, facts, (size_t)n,
		    (const char *)data + 2, clen)) != NULL &&
	    !openssl_accepts(der, der_len, data + 2, clen, signer->cert))
		abort(); /* the fast path accepted what OpenSSL refuses */
	for (int k = 0; facts != NULL && k < made; k++)
		custos__cms_cert_facts_free(&facts[k]);
	free(facts);
	sk_X509_pop_free(certs, X509_free);
	free(bare);
	ERR_clear_error();
	return 0;
}
