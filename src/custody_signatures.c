/*
 * The signature of one custody record: sig/N.p7s read and checked over
 * the line's exact bytes (the fast DER path of cms_fast.c first, else
 * OpenSSL's CMS_verify), the signer being the record's actor, a chain to
 * a trusted CA (cached per certificate) and the certificate valid at the
 * record's time.  Called from the verifying threads.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_private.h"
#include "cms_fast_private.h"
#include "custody_private.h"
#include "fileio_private.h"

static char *chain_problem(X509_STORE *store, X509 *signer,
		STACK_OF(X509) *untrusted)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char *msg = NULL;
	int e;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, signer, untrusted)
			!= 1 ||
	    X509_STORE_CTX_set_default(ctx, "smime_sign") != 1) {
		X509_STORE_CTX_free(ctx);
		return custos__strdup("cannot check the certificate chain");
	}
	/* Validity is checked against the record's time, below. */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
		X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		msg = custos__aprintf("its certificate is not issued by a "
			"trusted CA: %s", X509_verify_cert_error_string(e));
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return msg;
}

/* What the fast check needs of each certificate of certs; NULL when
 * some certificate cannot be read so. */
static custos__cms_cert_facts *facts_of(STACK_OF(X509) *certs)
{
	int n = sk_X509_num(certs);
	custos__cms_cert_facts *f = n > 0 ? calloc((size_t)n, sizeof(*f))
					  : NULL;

	for (int k = 0; f != NULL && k < n; k++)
		if (!custos__cms_cert_facts_init(&f[k], sk_X509_value(certs,
				k), certs)) {
			custos__custody_cert_set_facts_free(f, k);
			f = NULL;
		}
	return f;
}

void custos__custody_cert_set_facts_free(custos__cms_cert_facts *f,
		int n)
{
	for (int k = 0; f != NULL && k < n; k++)
		custos__cms_cert_facts_free(&f[k]);
	free(f);
}

/* The decoded certificates for these bytes (borrowed from the cache). */
static const custos__custody_cert_set *cert_set_get(
		custos__custody_sig_ctx *c, const unsigned char *cs,
		long cs_len)
{
	unsigned char h[32];
	STACK_OF(X509) *certs = NULL;
	const custos__custody_cert_set *set = NULL;
	custos__cms_cert_facts *facts;
	const unsigned char *p = cs, *end = cs + cs_len;

	custos__custody_sha256(h, cs, (size_t)cs_len);
	pthread_mutex_lock(&c->mu);
	for (size_t k = 0; k < c->set_count; k++)
		if (memcmp(c->sets[k].hash, h, 32) == 0) {
			set = &c->sets[k];
			break;
		}
	pthread_mutex_unlock(&c->mu);
	if (set != NULL)
		return set;
	certs = sk_X509_new_null();
	while (certs != NULL && p < end) {
		X509 *x = d2i_X509(NULL, &p, (long)(end - p));

		/* Fill OpenSSL's lazily cached extension data now, before
		 * other threads read it. */
		if (x != NULL)
			(void)X509_check_purpose(x, -1, 0);
		if (x == NULL || !sk_X509_push(certs, x)) {
			X509_free(x);
			sk_X509_pop_free(certs, X509_free);
			return NULL;
		}
	}
	if (certs == NULL)
		return NULL;
	facts = facts_of(certs);
	pthread_mutex_lock(&c->mu);
	if (c->set_count < CHAIN_CACHE) {
		memcpy(c->sets[c->set_count].hash, h, 32);
		c->sets[c->set_count].certs = certs;
		c->sets[c->set_count].facts = facts;
		set = &c->sets[c->set_count];
		c->set_count++;
	} else {
		custos__custody_cert_set_facts_free(facts,
			sk_X509_num(certs));
		sk_X509_pop_free(certs, X509_free);
	}
	pthread_mutex_unlock(&c->mu);
	return set;
}

void custos__custody_check_sig(custos__custody_sig_ctx *c, uint64_t i)
{
	custos__custody_rec *r = &c->L->recs[i];
	char rel[48], *path, fp[HEX_SHA256];
	unsigned char *data = NULL, md[32];
	const unsigned char *p;
	unsigned int mdlen = 32;
	size_t len = 0;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *signers = NULL, *certs = NULL, *shared = NULL;
	BIO *content = NULL;
	X509 *signer;
	char *problem = NULL;
	int found = 0;
	time_t t;

	snprintf(rel, sizeof(rel), "sig/%08" PRIu64 ".p7s", i);
	path = custos__custody_path(c->dir, rel);
	if (path == NULL || custos__read_file_max(path, CUSTOS__PKI_FILE_MAX,
			&data, &len, "signature", NULL) != CUSTOS_OK) {
		custos__rec_fail(r, "record %" PRIu64 ": its signature file %s "
			"is missing or unreadable", i, rel);
		goto done;
	}
	{
		unsigned char *bare = NULL;
		const unsigned char *cs = NULL;
		long bare_len = 0, cs_len = 0;
		custos__cms_signer_parts sd;
		const custos__custody_cert_set *set = NULL;
		const custos__cms_cert_facts *fast = NULL;

		memset(&sd, 0, sizeof(sd));
		if (custos__cms_split_certs(data, (long)len, &bare,
				&bare_len, &cs, &cs_len, &sd) &&
		    (set = cert_set_get(c, cs, cs_len)) != NULL &&
		    set->facts != NULL)
			fast = custos__cms_fast_verify(&sd, set->facts,
				(size_t)sk_X509_num(set->certs), r->line,
				r->len);
		if (fast != NULL) {
			free(bare);
			shared = set->certs;
			signer = fast->cert;
			memcpy(md, fast->sha256, sizeof(md));
			goto have_signer;
		}
		if (set != NULL) {
			shared = set->certs;
			p = bare;
			cms = d2i_CMS_ContentInfo(NULL, &p, bare_len);
			if (cms != NULL && p != bare + bare_len) {
				CMS_ContentInfo_free(cms);
				cms = NULL;
			}
		}
		free(bare);
	}
	if (cms == NULL) {
		shared = NULL;
		p = data;
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
		if (cms != NULL && p != data + len) {
			CMS_ContentInfo_free(cms);
			cms = NULL;
		}
	}
	if (cms == NULL) {
		custos__rec_fail(r, "record %" PRIu64 ": %s is not a CMS "
			"signature", i, rel);
		goto done;
	}
	content = BIO_new_mem_buf(r->line, (int)r->len);
	if (content == NULL || CMS_verify(cms, shared, NULL, content, NULL,
			CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		custos__rec_fail(r, "record %" PRIu64 ": signature %s does not "
			"match the record's bytes (the record was changed, or "
			"the signature file belongs to another record)", i,
			rel);
		goto done;
	}
	signers = CMS_get0_signers(cms);
	signer = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
	if (signer == NULL || X509_digest(signer, EVP_sha256(), md, &mdlen)
			!= 1) {
		custos__rec_fail(r, "record %" PRIu64 ": %s must have exactly "
			"one signer", i, rel);
		goto done;
	}
have_signer:
	custos__custody_hex(fp, md);
	if (strcmp(fp, r->cert) != 0) {
		char *subj = custos__name_text(X509_get_subject_name(signer));

		custos__rec_fail(r, "record %" PRIu64 ": signed by certificate "
			"%.16s... (%s), not by its actor's certificate "
			"%.16s...", i, fp, subj != NULL ? subj : "?", r->cert);
		free(subj);
		goto done;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t k = 0; k < c->cached; k++) {
		if (strcmp(c->cache[k].fp, fp) == 0) {
			found = 1;
			if (c->cache[k].problem != NULL)
				problem = custos__strdup(c->cache[k].problem);
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (!found) {
		if (shared == NULL)
			certs = CMS_get1_certs(cms);
		problem = chain_problem(c->store, signer,
			shared != NULL ? shared : certs);
		pthread_mutex_lock(&c->mu);
		if (c->cached < CHAIN_CACHE) {
			memcpy(c->cache[c->cached].fp, fp, sizeof(fp));
			c->cache[c->cached].problem = custos__strdup(problem);
			c->cached++;
		}
		pthread_mutex_unlock(&c->mu);
	}
	if (problem != NULL) {
		custos__rec_fail(r, "record %" PRIu64 ": %s", i, problem);
		goto done;
	}
	if (!custos__custody_parse_time(r->recorded_at, &t)) {
		custos__rec_fail(r, "record %" PRIu64 ": recorded_at is not an "
			"RFC 3339 UTC time", i);
	} else if (X509_cmp_time(X509_get0_notBefore(signer), &t) > 0 ||
		   X509_cmp_time(X509_get0_notAfter(signer), &t) < 0) {
		custos__rec_fail(r, "record %" PRIu64 ": the signer's "
			"certificate was not valid at the recorded time %s", i,
			r->recorded_at);
	}
done:
	free(problem);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_free(signers);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	free(data);
	free(path);
	ERR_clear_error();
}
