/*
 * The fast path of CMS signature checking: a hand-written walk over the
 * DER of a detached CAdES SignedData, which splits off the embedded
 * certificates (so that they are decoded once per set) and checks the
 * common case, one ECDSA P-256 / SHA-256 signer, without decoding the
 * whole structure.  It never accepts what OpenSSL's CMS_verify would
 * refuse: anything else is "not shown here" and goes to OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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

/* 1 if the SignerIdentifier element is issuerAndSerialNumber of cert. */
static int sid_is(const unsigned char *el, long total, X509 *cert)
{
	unsigned char *name = NULL, *serial = NULL, *want = NULL, *w;
	int nl, sl, body, all, ok = 0;

	nl = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
	sl = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(cert),
		&serial);
	if (nl > 0 && sl > 0) {
		body = nl + sl;
		all = ASN1_object_size(1, body, V_ASN1_SEQUENCE);
		if (all == total && (want = malloc((size_t)all)) != NULL) {
			w = want;
			ASN1_put_object(&w, 1, body, V_ASN1_SEQUENCE,
				V_ASN1_UNIVERSAL);
			memcpy(w, name, (size_t)nl);
			memcpy(w + nl, serial, (size_t)sl);
			ok = memcmp(want, el, (size_t)all) == 0;
		}
	}
	OPENSSL_free(name);
	OPENSSL_free(serial);
	free(want);
	return ok;
}

/*
 * 1 if the attribute a (total bytes) is the signingCertificateV2 that
 * OpenSSL writes for cert: one ESSCertIDv2 with the default hash
 * (SHA-256) of the certificate and its issuerSerial, no policies.  Built
 * here and compared byte for byte, so that nothing OpenSSL's ESS check
 * would refuse is accepted.
 */
static int ess_is(const unsigned char *a, long total, X509 *cert)
{
	unsigned char *name = NULL, *serial = NULL, *der = NULL, *want = NULL;
	unsigned char hash[32], *w;
	unsigned int hlen = 32;
	int nl, sl, dl, dn, gns, iss, cid, cids, scv2, set, attr, ok = 0;

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
	if (attr != total || (want = malloc((size_t)attr)) == NULL)
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
	ok = w - want == attr && memcmp(want, a, (size_t)attr) == 0;
done:
	OPENSSL_free(name);
	OPENSSL_free(serial);
	OPENSSL_free(der);
	free(want);
	return ok;
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
 * The fast check of the common case, an ECDSA P-256 / SHA-256 CAdES
 * signature by the only certificate in the file: the signed attributes
 * hold exactly one content type (id-data) and one message digest equal to
 * SHA-256(line), and the signature over them (re-tagged as a SET) verifies
 * with the certificate's key.  1 accepts; 0 means "not shown here", and
 * the caller runs OpenSSL's CMS_verify, whose verdict is the one given.
 * It never accepts what CMS signature verification would refuse.
 */
int custos__cms_fast_verify(const custos__cms_signer_parts *sd, X509 *cert,
		const char *line, size_t line_len)
{
	const unsigned char *p, *end, *st, *si, *attrs = NULL, *sig = NULL;
	const unsigned char *dalg = NULL, *salg = NULL;
	long t, c, attrs_total = 0, sig_len = 0, dalg_total = 0;
	long salg_total = 0;
	int tag, cls, index = 0, md_seen = 0, ct_seen = 0, ok = 0;
	int st_seen = 0, ess_seen = 0;
	unsigned char digest[32], *tbs;
	unsigned int dlen = 32;
	EVP_PKEY *pkey;
	EVP_MD_CTX *mctx;

	if (sd->eci == NULL || sd->sis == NULL || cert == NULL)
		return 0;
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
		return 0;
	/* signerInfos: exactly one SignerInfo. */
	p = sd->sis;
	end = sd->sis + sd->sis_total;
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls) ||
	    !der_next(&p, end, &si, &t, &c, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || si + t != end)
		return 0;
	end = si + t;
	while (p < end) {
		const unsigned char *el;
		long total;

		if (!der_next(&p, end, &el, &total, &c, &tag, &cls))
			return 0;
		if (index == 0 && !is(el, total, version_1,
				sizeof(version_1)))
			return 0;
		if (index == 2) {
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
		if (index == 1 && (cls != V_ASN1_UNIVERSAL ||
				   tag != V_ASN1_SEQUENCE ||
				   !sid_is(el, total, cert)))
			return 0;
		index++;
		p += c;
	}
	/* Exactly six: no unsigned attributes. */
	if (index != 6 || dalg == NULL || attrs == NULL || salg == NULL ||
	    sig == NULL ||
	    !(is(dalg, dalg_total, alg_sha256, sizeof(alg_sha256)) ||
	      is(dalg, dalg_total, alg_sha256_null,
		      sizeof(alg_sha256_null))) ||
	    !is(salg, salg_total, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256)))
		return 0;
	/* The signed attributes. */
	if (EVP_Digest(line, line_len, digest, &dlen, EVP_sha256(), NULL) !=
			1)
		return 0;
	p = attrs;
	end = attrs + attrs_total;
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls))
		return 0;
	while (p < end) {
		const unsigned char *a, *q, *aend, *v;
		long at, ac, vt, vc;

		if (!der_next(&p, end, &a, &at, &ac, &tag, &cls) ||
		    tag != V_ASN1_SEQUENCE)
			return 0;
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
				return 0;
			md_seen++;
		} else if (starts_with_oid(a, at, oid_content_type,
				sizeof(oid_content_type))) {
			q += sizeof(oid_content_type);
			if (!der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_SET || q + vc != aend ||
			    vc != (long)sizeof(oid_data) ||
			    memcmp(q, oid_data, sizeof(oid_data)) != 0)
				return 0;
			ct_seen++;
		} else if (starts_with_oid(a, at, oid_signing_time,
				sizeof(oid_signing_time)) && !st_seen++ &&
			   signing_time_ok(a, at)) {
			continue;
		} else if (starts_with_oid(a, at, oid_signing_cert_v2,
				sizeof(oid_signing_cert_v2)) && !ess_seen++ &&
			   ess_is(a, at, cert)) {
			continue;
		} else {
			return 0; /* any other attribute: OpenSSL decides */
		}
	}
	if (md_seen != 1 || ct_seen != 1)
		return 0;
	/* The signature over the attributes as a SET OF. */
	tbs = malloc((size_t)attrs_total);
	pkey = X509_get0_pubkey(cert);
	mctx = EVP_MD_CTX_new();
	if (tbs != NULL && pkey != NULL && mctx != NULL &&
	    EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		memcpy(tbs, attrs, (size_t)attrs_total);
		tbs[0] = 0x31;
		ok = EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL,
			pkey) == 1 &&
			EVP_DigestVerify(mctx, sig, (size_t)sig_len, tbs,
				(size_t)attrs_total) == 1;
	}
	EVP_MD_CTX_free(mctx);
	free(tbs);
	ERR_clear_error();
	return ok;
}
