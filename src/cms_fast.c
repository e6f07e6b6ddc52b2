/*
 * The fast path of CMS signature checking: a hand-written walk over the
 * DER of a detached CAdES SignedData, which splits off the embedded
 * certificates (so that they are decoded once per set, with what the
 * check needs of each) and checks the common case, one signer by ECDSA /
 * SHA-256 or by RSA-PSS / SHA-256 with custos's parameters, without
 * decoding the whole structure.  It never accepts what OpenSSL's
 * CMS_verify would refuse: anything else is "not shown here" and goes to
 * OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cms_fast_private.h"

/* One DER element at *p (end at end): its tag, class, whole size. */
static int der_next(const unsigned char **p, const unsigned char *end,
		const unsigned char **start, long *total, long *content,
		int *tag, int *cls)
{
	const unsigned char *q = *p;
	long len = 0;
	int r;

	if (q >= end)
		return 0;
	*start = q;
	r = ASN1_get_object(&q, &len, tag, cls, (long)(end - q));
	if ((r & 0x80) || r == 0x21 || len < 0 || len > end - q)
		return 0; /* an error, or indefinite length: not DER */
	/* DER: SEQUENCE, SET and the context-tagged parts here are
	 * constructed, every other universal type primitive (a primitive
	 * SEQUENCE is not CMS, and OpenSSL refuses it). */
	if (((*cls == V_ASN1_CONTEXT_SPECIFIC || (*cls == V_ASN1_UNIVERSAL &&
	      (*tag == V_ASN1_SEQUENCE || *tag == V_ASN1_SET))) !=
	     ((r & V_ASN1_CONSTRUCTED) != 0)) ||
	    (*cls != V_ASN1_UNIVERSAL && *cls != V_ASN1_CONTEXT_SPECIFIC))
		return 0;
	*content = len;
	*total = (long)(q - *start) + len;
	*p = q;
	return 1;
}

/*
 * Split a DER ContentInfo { signedData, [0] SignedData } into the same DER
 * without the SignedData's certificates ([0] IMPLICIT SET OF Certificate),
 * and those certificates' bytes.  0 when it is not shaped so (then the
 * slow path decodes it whole).
 */
int custos__cms_split_certs(const unsigned char *der, long len,
		unsigned char **out, long *out_len, const unsigned char **cs,
		long *cs_len, custos__cms_signer_parts *parts)
{
	int index = 0;
	const unsigned char *p = der, *end = der + len, *st, *oid, *sd_body;
	const unsigned char *cert_el = NULL;
	long total, clen, oid_total, cert_total = 0, sd_len, sd_new, x_new;
	long outer_new;
	int tag, cls, hdr;
	unsigned char *o, *w;

	if (!der_next(&p, end, &st, &total, &clen, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || total != len)
		return 0;
	if (!der_next(&p, end, &oid, &oid_total, &clen, &tag, &cls) ||
	    tag != V_ASN1_OBJECT)
		return 0;
	parts->ctype = oid;
	parts->ctype_total = oid_total;
	p += clen;
	if (!der_next(&p, end, &st, &total, &clen, &tag, &cls) ||
	    cls != V_ASN1_CONTEXT_SPECIFIC || tag != 0 || p + clen != end)
		return 0;
	if (!der_next(&p, end, &st, &total, &sd_len, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || p + sd_len != end)
		return 0;
	sd_body = p;
	while (p < end) {
		const unsigned char *el;

		if (!der_next(&p, end, &el, &total, &clen, &tag, &cls))
			return 0;
		if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
			cert_el = el;
			cert_total = total;
			*cs = p;
			*cs_len = clen;
		} else if (index == 0) {
			parts->version = el;
			parts->version_total = total;
		} else if (index == 1) {
			parts->dalgs = el;
			parts->dalgs_total = total;
		} else if (index == 2 && cls == V_ASN1_UNIVERSAL &&
			   tag == V_ASN1_SEQUENCE) {
			parts->eci = el;
			parts->eci_total = total;
		} else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_SET) {
			parts->sis = el;
			parts->sis_total = total;
		}
		index++;
		p += clen;
	}
	parts->elements = index;
	if (cert_el == NULL)
		return 0;
	sd_new = sd_len - cert_total;
	x_new = ASN1_object_size(1, (int)sd_new, V_ASN1_SEQUENCE);
	outer_new = oid_total + ASN1_object_size(1, (int)x_new, 0);
	hdr = ASN1_object_size(1, (int)outer_new, V_ASN1_SEQUENCE);
	if (sd_new < 0 || x_new < 0 || hdr < 0)
		return 0;
	o = malloc((size_t)hdr);
	if (o == NULL)
		return 0;
	w = o;
	ASN1_put_object(&w, 1, (int)outer_new, V_ASN1_SEQUENCE,
		V_ASN1_UNIVERSAL);
	memcpy(w, oid, (size_t)oid_total);
	w += oid_total;
	ASN1_put_object(&w, 1, (int)x_new, 0, V_ASN1_CONTEXT_SPECIFIC);
	ASN1_put_object(&w, 1, (int)sd_new, V_ASN1_SEQUENCE,
		V_ASN1_UNIVERSAL);
	memcpy(w, sd_body, (size_t)(cert_el - sd_body));
	w += cert_el - sd_body;
	memcpy(w, cert_el + cert_total,
		(size_t)(end - (cert_el + cert_total)));
	w += end - (cert_el + cert_total);
	if (w - o != hdr) {
		free(o);
		return 0;
	}
	*out = o;
	*out_len = hdr;
	return 1;
}

/* DER of the object identifiers the fast check needs. */
static const unsigned char oid_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	0xf7, 0x0d, 0x01, 0x07, 0x01};
static const unsigned char oid_content_type[] = {0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03};
static const unsigned char oid_message_digest[] = {0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04};

static const unsigned char oid_signed_data[] = {0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
static const unsigned char oid_signing_time[] = {0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05};
static const unsigned char oid_signing_cert_v2[] = {0x06, 0x0b, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f};
static const unsigned char version_1[] = {0x02, 0x01, 0x01};
/* AlgorithmIdentifier sha256, without and with NULL parameters; the SET
 * of it (digestAlgorithms) in the same two forms; ecdsa-with-SHA256. */
static const unsigned char alg_sha256[] = {0x30, 0x0b, 0x06, 0x09, 0x60,
	0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const unsigned char alg_sha256_null[] = {0x30, 0x0d, 0x06, 0x09,
	0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00};
static const unsigned char algs_sha256[] = {0x31, 0x0d, 0x30, 0x0b, 0x06,
	0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const unsigned char algs_sha256_null[] = {0x31, 0x0f, 0x30, 0x0d,
	0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00};
static const unsigned char alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08,
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
/* RSASSA-PSS with explicit parameters, as custos signs RSA (sign.c):
 * hashAlgorithm [0] sha256 (NULL parameters), maskGenAlgorithm [1] MGF1
 * with sha256, saltLength [2] 32, trailerField absent (1). */
static const unsigned char alg_rsa_pss_sha256[] = {0x30, 0x41, 0x06, 0x09,
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	0xa2, 0x03, 0x02, 0x01, 0x20};
/* encapContentInfo: id-data and no eContent (detached). */
static const unsigned char eci_detached[] = {0x30, 0x0b, 0x06, 0x09, 0x2a,
	0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};

/* 1 if the element el of total bytes is exactly want. */
static int is(const unsigned char *el, long total, const unsigned char *want,
		size_t want_len)
{
	return el != NULL && total == (long)want_len &&
		memcmp(el, want, want_len) == 0;
}

/* 1 if the element at el (total bytes) starts with the DER oid. */
static int starts_with_oid(const unsigned char *el, long total,
		const unsigned char *oid, size_t oid_len)
{
	const unsigned char *p = el, *st;
	long t, c;
	int tag, cls;

	if (!der_next(&p, el + total, &st, &t, &c, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE)
		return 0;
	return el + total - p >= (long)oid_len &&
		memcmp(p, oid, oid_len) == 0;
}

/* The issuerAndSerialNumber of cert as DER (*out, caller frees). */
static long sid_der(unsigned char **out, X509 *cert)
{
	unsigned char *name = NULL, *serial = NULL, *w;
	int nl, sl, body, all = -1;

	*out = NULL;
	nl = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
	sl = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(cert),
		&serial);
	if (nl > 0 && sl > 0) {
		body = nl + sl;
		all = ASN1_object_size(1, body, V_ASN1_SEQUENCE);
		if (all > 0 && (*out = malloc((size_t)all)) != NULL) {
			w = *out;
			ASN1_put_object(&w, 1, body, V_ASN1_SEQUENCE,
				V_ASN1_UNIVERSAL);
			memcpy(w, name, (size_t)nl);
			memcpy(w + nl, serial, (size_t)sl);
		}
	}
	OPENSSL_free(name);
	OPENSSL_free(serial);
	return *out != NULL ? all : -1;
}

/*
 * The signingCertificateV2 attribute that OpenSSL writes for cert (*out,
 * caller frees): one ESSCertIDv2 with the default hash (SHA-256) of the
 * certificate and its issuerSerial, no policies.  A signature's attribute
 * is compared with it byte for byte, so that nothing OpenSSL's ESS check
 * would refuse is accepted.  Also the certificate's SHA-256 (hash).
 */
static long ess_der(unsigned char **out, unsigned char hash[32], X509 *cert)
{
	unsigned char *name = NULL, *serial = NULL, *der = NULL, *want = NULL;
	unsigned char *w;
	unsigned int hlen = 32;
	int nl, sl, dl, dn, gns, iss, cid, cids, scv2, set, attr = -1;

	*out = NULL;
	nl = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
	sl = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(cert),
		&serial);
	dl = i2d_X509(cert, &der);
	if (nl <= 0 || sl <= 0 || dl <= 0 ||
	    EVP_Digest(der, (size_t)dl, hash, &hlen, EVP_sha256(), NULL) != 1)
		goto done;
	dn = ASN1_object_size(1, nl, 4);                   /* [4] Name */
	gns = ASN1_object_size(1, dn, V_ASN1_SEQUENCE);    /* GeneralNames */
	iss = ASN1_object_size(1, gns + sl, V_ASN1_SEQUENCE);
	cid = ASN1_object_size(1, 34 + iss, V_ASN1_SEQUENCE);
	cids = ASN1_object_size(1, cid, V_ASN1_SEQUENCE);
	scv2 = ASN1_object_size(1, cids, V_ASN1_SEQUENCE);
	set = ASN1_object_size(1, scv2, V_ASN1_SET);
	attr = ASN1_object_size(1, (int)sizeof(oid_signing_cert_v2) + set,
		V_ASN1_SEQUENCE);
	if (attr <= 0 || (want = malloc((size_t)attr)) == NULL)
		goto done;
	w = want;
	ASN1_put_object(&w, 1, (int)sizeof(oid_signing_cert_v2) + set,
		V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(w, oid_signing_cert_v2, sizeof(oid_signing_cert_v2));
	w += sizeof(oid_signing_cert_v2);
	ASN1_put_object(&w, 1, scv2, V_ASN1_SET, V_ASN1_UNIVERSAL);
	ASN1_put_object(&w, 1, cids, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	ASN1_put_object(&w, 1, cid, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	ASN1_put_object(&w, 1, 34 + iss, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	*w++ = V_ASN1_OCTET_STRING;
	*w++ = 32;
	memcpy(w, hash, 32);
	w += 32;
	ASN1_put_object(&w, 1, gns + sl, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	ASN1_put_object(&w, 1, dn, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	ASN1_put_object(&w, 1, nl, 4, V_ASN1_CONTEXT_SPECIFIC);
	memcpy(w, name, (size_t)nl);
	w += nl;
	memcpy(w, serial, (size_t)sl);
	w += sl;
	if (w - want == attr) {
		*out = want;
		want = NULL;
	}
done:
	OPENSSL_free(name);
	OPENSSL_free(serial);
	OPENSSL_free(der);
	free(want);
	return *out != NULL ? attr : -1;
}

int custos__cms_cert_facts_init(custos__cms_cert_facts *f, X509 *cert,
		const STACK_OF(X509) *set)
{
	int same = 0;

	memset(f, 0, sizeof(*f));
	f->cert = cert;
	f->sid_len = sid_der(&f->sid, cert);
	f->ess_len = ess_der(&f->ess, f->sha256, cert);
	if (f->sid == NULL || f->ess == NULL) {
		custos__cms_cert_facts_free(f);
		return 0;
	}
	/* OpenSSL takes as the signer the first certificate whose issuer
	 * (X509_NAME_cmp) and serial match the signer identifier. */
	for (int k = 0; k < sk_X509_num(set); k++) {
		X509 *x = sk_X509_value(set, k);

		if (X509_NAME_cmp(X509_get_issuer_name(x),
				X509_get_issuer_name(cert)) == 0 &&
		    ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
				X509_get0_serialNumber(cert)) == 0)
			same++;
	}
	f->unique = same == 1;
	return 1;
}

void custos__cms_cert_facts_free(custos__cms_cert_facts *f)
{
	free(f->sid);
	free(f->ess);
	memset(f, 0, sizeof(*f));
}

/* 1 if the attribute a (total bytes) is a signingTime with one value
 * that OpenSSL reads as a time. */
static int signing_time_ok(const unsigned char *a, long total)
{
	const unsigned char *p = a + 0, *end = a + total, *st, *v;
	long t, c;
	int tag, cls;
	ASN1_TIME *tm;

	if (!der_next(&p, end, &st, &t, &c, &tag, &cls))
		return 0;
	p += sizeof(oid_signing_time);
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls) ||
	    tag != V_ASN1_SET || p + c != end)
		return 0;
	v = p;
	tm = d2i_ASN1_TIME(NULL, &v, c);
	if (tm == NULL || v != end) {
		ASN1_TIME_free(tm);
		return 0;
	}
	ASN1_TIME_free(tm);
	return 1;
}

/*
 * The signature over the signed attributes (attrs, re-tagged as the SET OF
 * that was signed) with the signer's key: ECDSA, or RSA-PSS with SHA-256,
 * MGF1-SHA-256 and exactly a 32-byte salt (rsa_pss).
 */
static int attrs_signature_ok(const unsigned char *attrs, long attrs_total,
		const unsigned char *sig, long sig_len, X509 *cert, int rsa_pss)
{
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	unsigned char *tbs = malloc((size_t)attrs_total);
	int ok = 0;

	if (tbs != NULL && pkey != NULL && mctx != NULL &&
	    EVP_PKEY_get_base_id(pkey) == (rsa_pss ? EVP_PKEY_RSA
						   : EVP_PKEY_EC) &&
	    EVP_DigestVerifyInit(mctx, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
	    (!rsa_pss ||
	     (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
	      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1))) {
		memcpy(tbs, attrs, (size_t)attrs_total);
		tbs[0] = 0x31;
		ok = EVP_DigestVerify(mctx, sig, (size_t)sig_len, tbs,
			(size_t)attrs_total) == 1;
	}
	EVP_MD_CTX_free(mctx);
	free(tbs);
	return ok;
}

/*
 * The fast check of the common case, a CAdES signature by a certificate
 * of the set, in the shape custos writes: the signed attributes hold
 * exactly one content type (id-data) and one message digest equal to
 * SHA-256(line), optionally the signing time and the signingCertificateV2
 * OpenSSL writes for the signer, and the signature over them (re-tagged as
 * a SET) verifies with the certificate's key, ECDSA/SHA-256 or
 * RSA-PSS/SHA-256 with the parameters of alg_rsa_pss_sha256.  The signer
 * accepts; NULL means "not shown here", and the caller runs OpenSSL's
 * CMS_verify, whose verdict is the one given.  It never accepts what CMS
 * signature verification would refuse.
 */
const custos__cms_cert_facts *custos__cms_fast_verify(
		const custos__cms_signer_parts *sd,
		const custos__cms_cert_facts *facts, size_t n,
		const char *line, size_t line_len)
{
	const unsigned char *p, *end, *st, *si, *attrs = NULL, *sig = NULL;
	const unsigned char *dalg = NULL, *salg = NULL;
	const custos__cms_cert_facts *signer = NULL;
	long t, c, attrs_total = 0, sig_len = 0, dalg_total = 0;
	long salg_total = 0;
	int tag, cls, index = 0, md_seen = 0, ct_seen = 0, ok;
	int st_seen = 0, ess_seen = 0, rsa_pss;
	unsigned char digest[32];
	unsigned int dlen = 32;

	if (sd->eci == NULL || sd->sis == NULL || facts == NULL || n == 0)
		return NULL;
	/* The shape custos writes, exactly: signedData, version 1, one
	 * SHA-256 digest algorithm, detached id-data, the certificates, one
	 * signer, and nothing else (no CRLs). */
	if (!is(sd->ctype, sd->ctype_total, oid_signed_data,
		    sizeof(oid_signed_data)) || sd->elements != 5 ||
	    !is(sd->version, sd->version_total, version_1,
		    sizeof(version_1)) ||
	    !(is(sd->dalgs, sd->dalgs_total, algs_sha256,
		    sizeof(algs_sha256)) ||
	      is(sd->dalgs, sd->dalgs_total, algs_sha256_null,
		    sizeof(algs_sha256_null))) ||
	    !is(sd->eci, sd->eci_total, eci_detached, sizeof(eci_detached)))
		return NULL;
	/* signerInfos: exactly one SignerInfo. */
	p = sd->sis;
	end = sd->sis + sd->sis_total;
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls) ||
	    !der_next(&p, end, &si, &t, &c, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || si + t != end)
		return NULL;
	end = si + t;
	while (p < end) {
		const unsigned char *el;
		long total;

		if (!der_next(&p, end, &el, &total, &c, &tag, &cls))
			return NULL;
		if (index == 0 && !is(el, total, version_1,
				sizeof(version_1)))
			return NULL;
		if (index == 1) {
			/* issuerAndSerialNumber of exactly one certificate,
			 * byte for byte, that no other one shares */
			if (cls != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE)
				return NULL;
			for (size_t k = 0; k < n && signer == NULL; k++)
				if (is(el, total, facts[k].sid,
						(size_t)facts[k].sid_len))
					signer = &facts[k];
			if (signer == NULL || !signer->unique)
				return NULL;
		} else if (index == 2) {
			dalg = el;
			dalg_total = total;
		} else if (index == 3 && cls == V_ASN1_CONTEXT_SPECIFIC &&
			   tag == 0) {
			attrs = el;
			attrs_total = total;
		} else if (index == 4) {
			salg = el;
			salg_total = total;
		} else if (index == 5 && cls == V_ASN1_UNIVERSAL &&
			   tag == V_ASN1_OCTET_STRING) {
			sig = p;
			sig_len = c;
		}
		index++;
		p += c;
	}
	/* Exactly six: no unsigned attributes. */
	if (index != 6 || signer == NULL || dalg == NULL || attrs == NULL ||
	    salg == NULL || sig == NULL ||
	    !(is(dalg, dalg_total, alg_sha256, sizeof(alg_sha256)) ||
	      is(dalg, dalg_total, alg_sha256_null,
		      sizeof(alg_sha256_null))))
		return NULL;
	if (is(salg, salg_total, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256)))
		rsa_pss = 0;
	else if (is(salg, salg_total, alg_rsa_pss_sha256,
			sizeof(alg_rsa_pss_sha256)))
		rsa_pss = 1;
	else
		return NULL;
	/* The signed attributes. */
	if (EVP_Digest(line, line_len, digest, &dlen, EVP_sha256(), NULL) !=
			1)
		return NULL;
	p = attrs;
	end = attrs + attrs_total;
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls))
		return NULL;
	while (p < end) {
		const unsigned char *a, *q, *aend, *v;
		long at, ac, vt, vc;

		if (!der_next(&p, end, &a, &at, &ac, &tag, &cls) ||
		    tag != V_ASN1_SEQUENCE)
			return NULL;
		q = p;
		aend = p + ac;
		p = aend;
		if (starts_with_oid(a, at, oid_message_digest,
				sizeof(oid_message_digest))) {
			q += sizeof(oid_message_digest);
			/* SET { OCTET STRING (32) } and nothing else */
			if (!der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_SET || q + vc != aend ||
			    !der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_OCTET_STRING || vc != 32 ||
			    q + vc != aend || memcmp(q, digest, 32) != 0)
				return NULL;
			md_seen++;
		} else if (starts_with_oid(a, at, oid_content_type,
				sizeof(oid_content_type))) {
			q += sizeof(oid_content_type);
			if (!der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_SET || q + vc != aend ||
			    vc != (long)sizeof(oid_data) ||
			    memcmp(q, oid_data, sizeof(oid_data)) != 0)
				return NULL;
			ct_seen++;
		} else if (starts_with_oid(a, at, oid_signing_time,
				sizeof(oid_signing_time)) && !st_seen++ &&
			   signing_time_ok(a, at)) {
			continue;
		} else if (starts_with_oid(a, at, oid_signing_cert_v2,
				sizeof(oid_signing_cert_v2)) && !ess_seen++ &&
			   is(a, at, signer->ess, (size_t)signer->ess_len)) {
			continue;
		} else {
			return NULL; /* any other attribute: OpenSSL decides */
		}
	}
	if (md_seen != 1 || ct_seen != 1)
		return NULL;
	ok = attrs_signature_ok(attrs, attrs_total, sig, sig_len,
		signer->cert, rsa_pss);
	ERR_clear_error();
	return ok ? signer : NULL;
}
