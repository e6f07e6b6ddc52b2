/* Detached CMS CAdES signatures (B-B, B-T) and their verification. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cert_private.h"
#include "custos/sign.h"
#include "error_private.h"
#include "timestamp_private.h"
#include "util_private.h"

/* A private key file larger than this is not one: 1 MiB. */
#define KEY_FILE_MAX (1u << 20)
/* Time stamps kept per verification. */
#define MAX_TIMESTAMPS 8

void custos_sign_options_init(custos_sign_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_SIGN_OPTIONS_VERSION;
	opts->digest = CUSTOS_SIGN_DIGEST_AUTO;
	opts->tsa_timeout = CUSTOS_TSA_DEFAULT_TIMEOUT;
}

static const struct {
	custos_sign_digest digest;
	const char *name;
} digest_names[] = {
	{CUSTOS_SIGN_DIGEST_AUTO, "auto"},
	{CUSTOS_SIGN_DIGEST_SHA256, "sha256"},
	{CUSTOS_SIGN_DIGEST_SHA384, "sha384"},
	{CUSTOS_SIGN_DIGEST_SHA512, "sha512"},
};

const char *custos_sign_digest_name(custos_sign_digest d)
{
	for (size_t i = 0; i < sizeof(digest_names) / sizeof(digest_names[0]);
			i++)
		if (digest_names[i].digest == d)
			return digest_names[i].name;
	return NULL;
}

custos_status custos_sign_digest_parse(custos_sign_digest *out,
		const char *name, custos_error *err)
{
	for (size_t i = 0; name != NULL && i < sizeof(digest_names) /
			sizeof(digest_names[0]); i++) {
		if (strcmp(name, digest_names[i].name) == 0) {
			*out = digest_names[i].digest;
			return CUSTOS_OK;
		}
	}
	return custos__error_set(err, CUSTOS_EINVAL,
		"unknown signature digest '%s' (sha256, sha384, sha512)",
		name != NULL ? name : "");
}

void custos_sign_verify_options_init(custos_sign_verify_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_SIGN_VERIFY_OPTIONS_VERSION;
}

/* ---- the private key ---- */

typedef struct pass_adapter {
	custos_passphrase_fn fn;
	void *ctx;
	int asked;
	int given;
} pass_adapter;

static int pem_passphrase(char *buf, int size, int rwflag, void *u)
{
	pass_adapter *a = u;
	int n;

	(void)rwflag;
	a->asked = 1;
	if (a->fn == NULL || size <= 0)
		return -1;
	n = a->fn(buf, (size_t)size, a->ctx);
	if (n < 0 || n > size)
		return -1;
	a->given = 1;
	return n;
}

static custos_status load_key(EVP_PKEY **out, const char *path,
		const custos_sign_options *o, custos_error *err)
{
	pass_adapter a = {o->passphrase, o->passphrase_ctx, 0, 0};
	unsigned char *data;
	size_t len;
	custos_status st;
	BIO *mem;

	*out = NULL;
	st = custos__read_file_max(path, KEY_FILE_MAX, &data, &len,
		"private key", err);
	if (st != CUSTOS_OK)
		return st;
	mem = BIO_new_mem_buf(data, (int)len);
	if (mem != NULL)
		*out = PEM_read_bio_PrivateKey(mem, NULL, pem_passphrase, &a);
	BIO_free(mem);
	OPENSSL_cleanse(data, len);
	free(data);
	ERR_clear_error();
	if (*out != NULL)
		return CUSTOS_OK;
	if (a.asked && o->passphrase == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"private key %s is encrypted and no passphrase was "
			"given", path);
	if (a.asked && !a.given)
		return custos__error_set(err, CUSTOS_EACCES,
			"no passphrase for private key %s", path);
	if (a.asked)
		return custos__error_set(err, CUSTOS_EACCES,
			"cannot decrypt private key %s: wrong passphrase", path);
	return custos__error_set(err, CUSTOS_EFORMAT,
		"%s is not a PEM private key", path);
}

/* ---- signing ---- */

static const EVP_MD *md_of(custos_sign_digest d)
{
	switch (d) {
	case CUSTOS_SIGN_DIGEST_SHA256: return EVP_sha256();
	case CUSTOS_SIGN_DIGEST_SHA384: return EVP_sha384();
	case CUSTOS_SIGN_DIGEST_SHA512: return EVP_sha512();
	case CUSTOS_SIGN_DIGEST_AUTO: break;
	}
	return NULL;
}

/*
 * The digest key signs with.  An ECDSA key has one: its curve's, as RFC
 * 5753 pairs them, and asking for another is a contradiction (EINVAL),
 * not a preference, because verifiers that follow the pairing (Suite B
 * profiles, some national ones) reject the result.  A curve outside the
 * three is refused for the same reason.  RSA-PSS takes any of the three.
 */
static custos_status choose_digest(const EVP_MD **out, EVP_PKEY *key,
		custos_sign_digest asked, const char *key_path,
		custos_error *err)
{
	static const struct {
		const char *group, *curve;
		custos_sign_digest digest;
	} curves[] = {
		{"prime256v1", "P-256", CUSTOS_SIGN_DIGEST_SHA256},
		{"secp384r1", "P-384", CUSTOS_SIGN_DIGEST_SHA384},
		{"secp521r1", "P-521", CUSTOS_SIGN_DIGEST_SHA512},
	};
	char group[64] = "";
	size_t i;

	*out = NULL;
	if (asked != CUSTOS_SIGN_DIGEST_AUTO && md_of(asked) == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown signature digest %d (sha256, sha384, sha512)",
			(int)asked);
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
		*out = md_of(asked == CUSTOS_SIGN_DIGEST_AUTO
			? CUSTOS_SIGN_DIGEST_SHA256 : asked);
		return CUSTOS_OK;
	}
	if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1)
		group[0] = '\0';
	ERR_clear_error();
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(group, curves[i].group) == 0)
			break;
	if (i == sizeof(curves) / sizeof(curves[0]))
		return custos__error_set(err, CUSTOS_EINVAL,
			"key %s is on curve %s; custos signs with P-256, P-384 "
			"or P-521", key_path, group[0] ? group : "(unknown)");
	if (asked != CUSTOS_SIGN_DIGEST_AUTO && asked != curves[i].digest)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a %s key signs with %s (RFC 5753), not %s",
			curves[i].curve,
			custos_sign_digest_name(curves[i].digest),
			custos_sign_digest_name(asked));
	*out = md_of(curves[i].digest);
	return CUSTOS_OK;
}

static custos_status check_signer(X509 *cert, EVP_PKEY *key,
		const char *cert_path, custos_error *err)
{
	custos_cert *c = NULL;
	custos_status st;
	int can_sign;

	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		return custos__error_set(err, CUSTOS_EINVAL,
			"the private key does not belong to certificate %s",
			cert_path);
	}
	if ((st = custos__cert_from_x509(&c, cert, err)) != CUSTOS_OK)
		return st;
	can_sign = custos_cert_can_sign(c);
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
		st = custos__error_set(err, CUSTOS_EINVAL,
			"certificate %s expired on %s", cert_path,
			custos_cert_not_after(c));
	else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
		st = custos__error_set(err, CUSTOS_EINVAL,
			"certificate %s is not valid before %s", cert_path,
			custos_cert_not_before(c));
	else if (!can_sign)
		st = custos__error_set(err, CUSTOS_EINVAL,
			"certificate %s may not sign: its key usage (%s) has "
			"neither digitalSignature nor nonRepudiation",
			cert_path, custos_cert_key_usage(c));
	custos_cert_free(c);
	return st;
}

/* The content to sign or check: a regular file (a FIFO would hang the
 * read, a device is not "a file" and may never end). */
static custos_status open_content(BIO **out, const char *path,
		custos_error *err)
{
	custos_status st;
	int fd;

	*out = NULL;
	if ((st = custos__open_regular(&fd, path, "file", err)) != CUSTOS_OK)
		return st;
	*out = BIO_new_fd(fd, BIO_CLOSE);
	if (*out == NULL) {
		close(fd);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	return CUSTOS_OK;
}

static custos_status add_timestamp(CMS_SignerInfo *si,
		const custos_sign_options *o, custos_error *err)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	unsigned char *der = NULL;
	TS_RESP *resp = NULL;
	custos_status st;
	int der_len;

	if (sig == NULL || EVP_Digest(ASN1_STRING_get0_data(sig),
			(size_t)ASN1_STRING_length(sig), md, &md_len,
			EVP_sha256(), NULL) != 1)
		return custos__error_openssl(err,
			"cannot hash the signature value");
	st = custos__timestamp_fetch(&resp, o->tsa_url, o->tsa_timeout,
		EVP_sha256(), md, md_len, err);
	if (st != CUSTOS_OK)
		return st;
	der_len = i2d_PKCS7(TS_RESP_get_token(resp), &der);
	if (der_len <= 0 ||
	    CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
		    V_ASN1_SEQUENCE, der, der_len) != 1)
		st = custos__error_openssl(err,
			"cannot add the time stamp to the signature");
	OPENSSL_free(der);
	TS_RESP_free(resp);
	return st;
}

/* Sign the file at path, or (path NULL) the len bytes at data. */
static custos_status sign_to(const char *path, const void *data,
		size_t len, const char *p7s_path, const custos_sign_options *o,
		custos_error *err)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL |
		CMS_NOSMIMECAP;
	STACK_OF(X509) *chain = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	const EVP_MD *md;
	BIO *content = NULL;
	unsigned char *der = NULL;
	custos_status st;
	int der_len, is_rsa;

	if ((path == NULL && data == NULL) || p7s_path == NULL || o == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_sign_file: NULL argument");
	if (o->version != CUSTOS_SIGN_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown sign options version %u", o->version);
	if (o->key_path == NULL || o->cert_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"signing needs a key and a certificate");
	if (o->digest != CUSTOS_SIGN_DIGEST_AUTO && md_of(o->digest) == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown signature digest %d (sha256, sha384, sha512)",
			(int)o->digest);
	if (custos__path_exists(p7s_path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; not overwritten", p7s_path);
	if ((st = custos__load_x509(&cert, o->cert_path, "certificate",
			err)) != CUSTOS_OK)
		return st;
	if (o->chain_path != NULL &&
	    (st = custos__load_x509_stack(&chain, o->chain_path,
		    "certificate chain", err)) != CUSTOS_OK)
		goto done;
	if ((st = load_key(&key, o->key_path, o, err)) != CUSTOS_OK ||
	    (st = check_signer(cert, key, o->cert_path, err)) != CUSTOS_OK)
		goto done;
	if (path != NULL) {
		if ((st = open_content(&content, path, err)) != CUSTOS_OK)
			goto done;
	} else if (len > INT32_MAX ||
		   (content = BIO_new_mem_buf(data, (int)len)) == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM,
			"cannot sign %zu bytes from memory", len);
		goto done;
	}

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_ED448) {
		/* RFC 8419 defines it, but OpenSSL's CMS can neither make
		 * nor check EdDSA signatures, and every signature custos
		 * writes must pass `openssl cms -verify`. */
		st = custos__error_set(err, CUSTOS_EINVAL,
			"an Ed25519 key cannot sign here: OpenSSL's CMS cannot "
			"check EdDSA signatures; use an ecdsa-p256 or rsa-3072 "
			"key");
		goto done;
	}
	is_rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
	if ((st = choose_digest(&md, key, o->digest, o->key_path, err)) !=
			CUSTOS_OK)
		goto done;
	cms = CMS_sign(NULL, NULL, chain, NULL, flags);
	if (cms == NULL) {
		st = custos__error_openssl(err, "cannot start the signature");
		goto done;
	}
	/* CMS_CADES adds the ESS signing-certificate-v2 attribute. */
	si = CMS_add1_signer(cms, cert, key, md, CMS_BINARY | CMS_CADES |
		CMS_NOSMIMECAP | (is_rsa ? CMS_KEY_PARAM : 0));
	if (si == NULL) {
		st = custos__error_openssl(err, "cannot add the signer");
		goto done;
	}
	if (is_rsa) {
		EVP_PKEY_CTX *pctx = CMS_SignerInfo_get0_pkey_ctx(si);

		if (pctx == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
			    != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
			    RSA_PSS_SALTLEN_DIGEST) != 1) {
			st = custos__error_openssl(err, "cannot select RSA-PSS");
			goto done;
		}
	}
	if (CMS_final(cms, content, NULL, CMS_DETACHED | CMS_BINARY) != 1) {
		st = custos__error_openssl(err, "cannot sign");
		goto done;
	}
	if (o->tsa_url != NULL &&
	    (st = add_timestamp(si, o, err)) != CUSTOS_OK)
		goto done;
	der_len = i2d_CMS_ContentInfo(cms, &der);
	if (der_len <= 0) {
		st = custos__error_openssl(err, "cannot encode the signature");
		goto done;
	}
	st = custos__write_file_atomic(p7s_path, der, (size_t)der_len, err);
done:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(content);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return st;
}

custos_status custos_sign_file_to(const char *path, const char *p7s_path,
		const custos_sign_options *o, custos_error *err)
{
	if (path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_sign_file: NULL argument");
	return sign_to(path, NULL, 0, p7s_path, o, err);
}

custos_status custos_sign_buffer_to(const void *data, size_t len,
		const char *p7s_path, const custos_sign_options *o,
		custos_error *err)
{
	if (data == NULL && len > 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_sign_buffer_to: NULL argument");
	return sign_to(NULL, data != NULL ? data : "", len, p7s_path, o, err);
}

custos_status custos_sign_file(const char *path,
		const custos_sign_options *opts, custos_error *err)
{
	char *p7s;
	custos_status st;

	if (path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_sign_file: NULL argument");
	p7s = custos__aprintf("%s.p7s", path);
	if (p7s == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos_sign_file_to(path, p7s, opts, err);
	free(p7s);
	return st;
}

/* ---- verification ---- */

struct custos_sign_verification {
	char *path;
	custos_sign_check result;
	char *message;
	char *sig_path;
	custos_sign_check sig_check;
	char *sig_message;
	custos_cert *signer;
	char signing_time[CUSTOS__RFC3339_MAX];
	const char *digest;
	int cades;
	char checked_at[CUSTOS__RFC3339_MAX];
	const char *checked_at_source; /* "timestamp" or "now" */
	custos_timestamp *ts[MAX_TIMESTAMPS];
	size_t ts_count;
};

static custos_sign_check sig_fail(custos_sign_verification *v,
		custos_sign_check check, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static custos_sign_check sig_fail(custos_sign_verification *v,
		custos_sign_check check, const char *fmt, ...)
{
	va_list ap;

	if (v->sig_check != CUSTOS_SIGN_OK)
		return v->sig_check; /* the first failure is the reason */
	v->sig_check = check;
	va_start(ap, fmt);
	if (vasprintf(&v->sig_message, fmt, ap) < 0)
		v->sig_message = NULL;
	va_end(ap);
	return check;
}

static void openssl_detail(char *out, size_t cap)
{
	unsigned long code = ERR_peek_last_error();

	if (code == 0)
		snprintf(out, cap, "no detail");
	else
		ERR_error_string_n(code, out, cap);
	ERR_clear_error();
}

static const ASN1_TYPE *signed_attr(CMS_SignerInfo *si, int nid)
{
	int i = CMS_signed_get_attr_by_NID(si, nid, -1);

	if (i < 0)
		return NULL;
	return X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0);
}

static void read_signing_time(custos_sign_verification *v,
		CMS_SignerInfo *si)
{
	const ASN1_TYPE *t = signed_attr(si, NID_pkcs9_signingTime);

	if (t == NULL || (t->type != V_ASN1_UTCTIME &&
			  t->type != V_ASN1_GENERALIZEDTIME))
		return;
	custos__asn1_time_rfc3339(v->signing_time, t->value.utctime);
}

/* CAdES: signing-certificate-v2 must name the signer's certificate. */
static void check_ess(custos_sign_verification *v, CMS_SignerInfo *si,
		X509 *signer)
{
	const ASN1_TYPE *t = signed_attr(si,
		NID_id_smime_aa_signingCertificateV2);
	const ASN1_TYPE *t1 = signed_attr(si,
		NID_id_smime_aa_signingCertificate);
	ESS_SIGNING_CERT_V2 *ssv2 = NULL;
	ESS_SIGNING_CERT *ss = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	const unsigned char *p;

	if (t != NULL && t->type == V_ASN1_SEQUENCE) {
		p = t->value.sequence->data;
		ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p,
			t->value.sequence->length);
	}
	if (t1 != NULL && t1->type == V_ASN1_SEQUENCE) {
		p = t1->value.sequence->data;
		ss = d2i_ESS_SIGNING_CERT(NULL, &p, t1->value.sequence->length);
	}
	if ((t != NULL && ssv2 == NULL) || (t1 != NULL && ss == NULL)) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"the signing-certificate attribute is malformed");
	} else if ((ss != NULL || ssv2 != NULL) && chain != NULL &&
		   sk_X509_push(chain, signer)) {
		if (OSSL_ESS_check_signing_certs(ss, ssv2, chain, 1) > 0)
			v->cades = ssv2 != NULL;
		else
			sig_fail(v, CUSTOS_SIGN_BAD_SIGNATURE,
				"the signed signing-certificate attribute "
				"names another certificate than the signer's");
	}
	ERR_clear_error();
	sk_X509_free(chain);
	ESS_SIGNING_CERT_V2_free(ssv2);
	ESS_SIGNING_CERT_free(ss);
}

static custos_status add_ts(custos_sign_verification *v,
		custos_timestamp **out, const char *kind, const char *path)
{
	*out = NULL;
	if (v->ts_count == MAX_TIMESTAMPS)
		return CUSTOS_OK;
	*out = custos__timestamp_new(kind, path);
	if (*out == NULL)
		return CUSTOS_ENOMEM;
	v->ts[v->ts_count++] = *out;
	return CUSTOS_OK;
}

/* Tokens over the signature value (CAdES-B-T); 1 and *when if one is good. */
static int check_signature_timestamps(custos_sign_verification *v,
		CMS_SignerInfo *si, X509_STORE *store, time_t *when)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	int good = 0;

	for (int i = CMS_unsigned_get_attr_by_NID(si,
			NID_id_smime_aa_timeStampToken, -1);
	     i >= 0; i = CMS_unsigned_get_attr_by_NID(si,
			NID_id_smime_aa_timeStampToken, i)) {
		X509_ATTRIBUTE *attr = CMS_unsigned_get_attr(si, i);
		const ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(attr, 0);
		custos_timestamp *ts;
		PKCS7 *token = NULL;
		const unsigned char *p;
		time_t t_gen;

		if (add_ts(v, &ts, "signature", v->sig_path) != CUSTOS_OK ||
		    ts == NULL)
			break;
		if (t != NULL && t->type == V_ASN1_SEQUENCE) {
			p = t->value.sequence->data;
			token = d2i_PKCS7(NULL, &p, t->value.sequence->length);
		}
		if (token == NULL) {
			custos__timestamp_fail(ts, CUSTOS_SIGN_TIMESTAMP_INVALID,
				"the signature time-stamp attribute is not a "
				"time-stamp token");
		} else {
			custos__timestamp_check_token(ts, token,
				ASN1_STRING_get0_data(sig),
				(size_t)ASN1_STRING_length(sig), NULL, store);
			PKCS7_free(token);
		}
		if (!good && custos__timestamp_gen_time(ts, &t_gen)) {
			*when = t_gen;
			good = 1;
		}
		ERR_clear_error();
	}
	return good;
}

static void check_chain(custos_sign_verification *v, X509 *signer,
		STACK_OF(X509) *untrusted, X509_STORE *store, int at_time,
		time_t when)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int e, depth;
	const char *which;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, signer, untrusted)
			!= 1 ||
	    X509_STORE_CTX_set_default(ctx, "smime_sign") != 1) {
		X509_STORE_CTX_free(ctx);
		sig_fail(v, CUSTOS_SIGN_UNTRUSTED,
			"cannot check the certificate chain");
		return;
	}
	if (at_time)
		X509_STORE_CTX_set_time(ctx, 0, when);
	else
		when = time(NULL);
	custos__time_rfc3339(v->checked_at, when);
	v->checked_at_source = at_time ? "timestamp" : "now";
	if (X509_verify_cert(ctx) == 1) {
		X509_STORE_CTX_free(ctx);
		ERR_clear_error();
		return;
	}
	e = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	which = depth == 0 ? "the signer's certificate"
			   : "a CA certificate in the signer's chain";
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		sig_fail(v, CUSTOS_SIGN_EXPIRED,
			"%s has expired (checked at %s, %s)", which,
			v->checked_at, at_time ? "the time stamp's time"
					       : "the current time");
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		sig_fail(v, CUSTOS_SIGN_EXPIRED,
			"%s is not yet valid (checked at %s)", which,
			v->checked_at);
		break;
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
		sig_fail(v, CUSTOS_SIGN_KEY_USAGE,
			"%s may not sign documents: %s", which,
			X509_verify_cert_error_string(e));
		break;
	default:
		sig_fail(v, CUSTOS_SIGN_UNTRUSTED,
			"the signer's certificate is not issued by a trusted "
			"CA: %s", X509_verify_cert_error_string(e));
		break;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}

static custos_status verify_signature(custos_sign_verification *v,
		const char *path, X509_STORE *store, custos_error *err)
{
	unsigned char *data = NULL;
	const unsigned char *p;
	size_t len;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	STACK_OF(X509) *certs = NULL;
	X509 *signer = NULL;
	X509_ALGOR *digalg = NULL;
	BIO *content = NULL, *cmsbio = NULL;
	custos_status st;
	char detail[256];
	time_t when = 0;
	int has_attrs, at_time, r;

	st = custos__read_file_max(v->sig_path, CUSTOS__PKI_FILE_MAX, &data,
		&len, "signature", err);
	if (st != CUSTOS_OK)
		return st;
	p = data;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s is not a CMS signature (truncated or garbage)",
			v->sig_path);
		goto done;
	}
	if (p != data + len) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s has %zu bytes of garbage after the signature",
			v->sig_path, (size_t)(data + len - p));
		goto done;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s is CMS but not a signature (SignedData)",
			v->sig_path);
		goto done;
	}
	if (CMS_is_detached(cms) != 1) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s carries its own content; a detached signature "
			"was expected", v->sig_path);
		goto done;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s has %d signers; custos checks exactly one",
			v->sig_path, sk_CMS_SignerInfo_num(sis));
		goto done;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	certs = CMS_get1_certs(cms);
	for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0) {
			signer = sk_X509_value(certs, i);
			break;
		}
	}
	if (signer == NULL) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s does not include the signer's certificate",
			v->sig_path);
		goto done;
	}
	if ((st = custos__cert_from_x509(&v->signer, signer, err)) !=
			CUSTOS_OK)
		goto done;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &digalg, NULL);
	if (digalg != NULL) {
		const EVP_MD *md = EVP_get_digestbyobj(digalg->algorithm);

		v->digest = md != NULL ? custos__md_name(md) : "unknown";
	}
	/* A digest OpenSSL cannot compute is the signature's fault, not
	 * ours: say so as a failed check (found by fuzz_cms). */
	if (digalg == NULL || EVP_get_digestbyobj(digalg->algorithm) == NULL) {
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s names a digest algorithm that cannot be computed",
			v->sig_path);
		goto done;
	}
	read_signing_time(v, si);
	CMS_SignerInfo_set1_signer_cert(si, signer);

	/* The signature over the signed attributes. */
	has_attrs = CMS_signed_get_attr_count(si) > 0;
	if (has_attrs && CMS_SignerInfo_verify(si) != 1) {
		openssl_detail(detail, sizeof(detail));
		sig_fail(v, CUSTOS_SIGN_BAD_SIGNATURE,
			"the signature value does not verify with the signer's "
			"key: %s", detail);
		goto done;
	}
	/* The file against the signed digest. */
	if ((st = open_content(&content, path, err)) != CUSTOS_OK)
		goto done;
	cmsbio = CMS_dataInit(cms, content);
	if (cmsbio == NULL) {
		openssl_detail(detail, sizeof(detail));
		sig_fail(v, CUSTOS_SIGN_MALFORMED,
			"%s cannot be checked: %s", v->sig_path, detail);
		goto done;
	}
	for (;;) {
		char buf[1 << 14];

		r = BIO_read(cmsbio, buf, sizeof(buf));
		if (r <= 0)
			break;
	}
	if (r < 0) {
		st = custos__error_errno(err, errno ? errno : EIO,
			"cannot read %s", path);
		goto done;
	}
	if (CMS_SignerInfo_verify_content(si, cmsbio) != 1) {
		ERR_clear_error();
		sig_fail(v, CUSTOS_SIGN_CONTENT_CHANGED, has_attrs
			? "%s has changed: its %s digest differs from the "
			  "signed one"
			: "%s or its signature has changed (%s)",
			path, v->digest != NULL ? v->digest : "");
		goto done;
	}
	check_ess(v, si, signer);
	if (!custos_cert_can_sign(v->signer))
		sig_fail(v, CUSTOS_SIGN_KEY_USAGE,
			"the signer's certificate may not sign: its key usage "
			"(%s) has neither digitalSignature nor nonRepudiation",
			custos_cert_key_usage(v->signer));
	at_time = check_signature_timestamps(v, si, store, &when);
	check_chain(v, signer, certs, store, at_time, when);
done:
	if (cmsbio != NULL) {
		while (cmsbio != NULL && cmsbio != content) {
			BIO *next = BIO_pop(cmsbio);

			BIO_free(cmsbio);
			cmsbio = next;
		}
	}
	BIO_free(content);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	free(data);
	ERR_clear_error();
	return st;
}

static custos_status verify_tsr(custos_sign_verification *v,
		const char *path, const char *tsr_path, X509_STORE *store,
		custos_error *err)
{
	unsigned char *data = NULL;
	const unsigned char *p;
	size_t len;
	custos_timestamp *ts;
	TS_RESP *resp = NULL;
	PKCS7 *token = NULL;
	custos_status st;

	if ((st = add_ts(v, &ts, "file", tsr_path)) != CUSTOS_OK)
		return custos__error_set(err, st, "out of memory");
	if (ts == NULL)
		return CUSTOS_OK;
	st = custos__read_file_max(tsr_path, CUSTOS__PKI_FILE_MAX, &data,
		&len, "time stamp", err);
	if (st != CUSTOS_OK)
		return st;
	p = data;
	resp = d2i_TS_RESP(NULL, &p, (long)len);
	if (resp != NULL && p == data + len) {
		long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
			TS_RESP_get_status_info(resp)));

		if (status != TS_STATUS_GRANTED &&
		    status != TS_STATUS_GRANTED_WITH_MODS)
			custos__timestamp_fail(ts, CUSTOS_SIGN_TIMESTAMP_INVALID,
				"%s is a TSA's refusal, not a time stamp",
				tsr_path);
		else
			token = TS_RESP_get_token(resp);
	} else {
		/* Not a TimeStampResp: maybe a bare token. */
		p = data;
		token = d2i_PKCS7(NULL, &p, (long)len);
		if (token != NULL && p != data + len) {
			PKCS7_free(token);
			token = NULL;
		}
		TS_RESP_free(resp);
		resp = NULL;
		if (token == NULL)
			custos__timestamp_fail(ts, CUSTOS_SIGN_MALFORMED,
				"%s is not an RFC 3161 time stamp (truncated "
				"or garbage)", tsr_path);
	}
	if (token != NULL)
		custos__timestamp_check_token(ts, token, NULL, 0, path, store);
	if (resp == NULL)
		PKCS7_free(token);
	TS_RESP_free(resp);
	free(data);
	ERR_clear_error();
	return CUSTOS_OK;
}

static void set_result(custos_sign_verification *v)
{
	const char *msg = NULL;

	v->result = CUSTOS_SIGN_OK;
	if (v->sig_path != NULL && v->sig_check != CUSTOS_SIGN_OK) {
		v->result = v->sig_check;
		msg = v->sig_message;
	}
	for (size_t i = 0; v->result == CUSTOS_SIGN_OK && i < v->ts_count;
			i++) {
		if (custos_timestamp_check(v->ts[i]) != CUSTOS_SIGN_OK) {
			v->result = custos_timestamp_check(v->ts[i]);
			msg = custos_timestamp_message(v->ts[i]);
		}
	}
	if (v->sig_path == NULL && v->ts_count == 0) {
		v->result = CUSTOS_SIGN_MISSING;
		msg = "no signature (.p7s) and no time stamp (.tsr) found";
	}
	v->message = strdup(msg != NULL ? msg : v->result == CUSTOS_SIGN_OK
		? "verified" : "failed");
}

/* The given path, or <path><suffix> when that exists; NULL otherwise. */
static custos_status pick(char **out, const char *given, const char *path,
		const char *suffix, custos_error *err)
{
	*out = NULL;
	if (given != NULL) {
		if (!custos__path_exists(given))
			return custos__error_set(err, CUSTOS_ENOTFOUND,
				"%s does not exist", given);
		*out = strdup(given);
	} else {
		*out = custos__aprintf("%s%s", path, suffix);
		if (*out != NULL && !custos__path_exists(*out)) {
			free(*out);
			*out = NULL;
			return CUSTOS_OK;
		}
	}
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

custos_status custos_sign_verify_file(custos_sign_verification **out,
		const char *path, const custos_sign_verify_options *opts,
		custos_error *err)
{
	custos_sign_verification *v;
	custos_sign_verify_options defaults;
	X509_STORE *store = NULL;
	char *tsr_path = NULL;
	struct stat sb;
	custos_status st;

	if (out == NULL || path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_sign_verify_file: NULL argument");
	*out = NULL;
	if (opts == NULL) {
		custos_sign_verify_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->version != CUSTOS_SIGN_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown verify options version %u", opts->version);
	if (stat(path, &sb) != 0)
		return custos__error_errno(err, errno, "cannot open %s", path);
	if ((st = custos__check_regular(path, "file", err)) != CUSTOS_OK)
		return st;
	v = calloc(1, sizeof(*v));
	if (v == NULL || (v->path = strdup(path)) == NULL) {
		free(v);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	if ((st = pick(&v->sig_path, opts->signature_path, path, ".p7s",
			err)) != CUSTOS_OK ||
	    (st = pick(&tsr_path, opts->timestamp_path, path, ".tsr", err)) !=
		    CUSTOS_OK ||
	    (st = custos__trust_store(&store, opts->trust, opts->trust_count,
		    err)) != CUSTOS_OK)
		goto fail;
	if (v->sig_path != NULL &&
	    (st = verify_signature(v, path, store, err)) != CUSTOS_OK)
		goto fail;
	if (tsr_path != NULL &&
	    (st = verify_tsr(v, path, tsr_path, store, err)) != CUSTOS_OK)
		goto fail;
	set_result(v);
	free(tsr_path);
	X509_STORE_free(store);
	*out = v;
	if (v->result == CUSTOS_SIGN_OK)
		return CUSTOS_OK;
	return custos__error_set(err, CUSTOS_EMISMATCH, "%s: %s", path,
		v->message != NULL ? v->message : "failed");
fail:
	free(tsr_path);
	X509_STORE_free(store);
	custos_sign_verification_free(v);
	return st;
}

custos_sign_check custos_sign_verification_result(
		const custos_sign_verification *v) { return v->result; }
const char *custos_sign_verification_message(
		const custos_sign_verification *v) { return v->message; }
const char *custos_sign_verification_path(
		const custos_sign_verification *v) { return v->path; }
const char *custos_sign_verification_signature_path(
		const custos_sign_verification *v) { return v->sig_path; }
custos_sign_check custos_sign_verification_signature_check(
		const custos_sign_verification *v) { return v->sig_check; }
const char *custos_sign_verification_signature_message(
		const custos_sign_verification *v)
{
	if (v->sig_path == NULL)
		return NULL;
	return v->sig_message != NULL ? v->sig_message : "verified";
}
const custos_cert *custos_sign_verification_signer(
		const custos_sign_verification *v) { return v->signer; }
const char *custos_sign_verification_signing_time(
		const custos_sign_verification *v)
{
	return v->signing_time[0] != '\0' ? v->signing_time : NULL;
}
const char *custos_sign_verification_digest(
		const custos_sign_verification *v) { return v->digest; }
int custos_sign_verification_cades(const custos_sign_verification *v)
{
	return v->cades;
}
size_t custos_sign_verification_timestamp_count(
		const custos_sign_verification *v) { return v->ts_count; }
const custos_timestamp *custos_sign_verification_timestamp(
		const custos_sign_verification *v, size_t index)
{
	return index < v->ts_count ? v->ts[index] : NULL;
}

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

custos_status custos_sign_verification_to_json(char **out,
		const custos_sign_verification *v, custos_error *err)
{
	json_t *root, *sig = NULL, *list;

	if (out == NULL || v == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_sign_verification_to_json: NULL argument");
	*out = NULL;
	root = json_object();
	list = json_array();
	if (root == NULL || list == NULL)
		goto nomem;
	json_object_set_new(root, "file", json_string(v->path));
	json_object_set_new(root, "verdict", json_string(
		v->result == CUSTOS_SIGN_OK ? "VERIFIED" : "FAILED"));
	json_object_set_new(root, "result", json_string(
		custos_sign_check_name(v->result)));
	json_object_set_new(root, "reason", str_or_null(v->message));
	if (v->sig_path != NULL) {
		sig = json_object();
		if (sig == NULL)
			goto nomem;
		json_object_set_new(sig, "path", json_string(v->sig_path));
		json_object_set_new(sig, "result", json_string(
			custos_sign_check_name(v->sig_check)));
		json_object_set_new(sig, "reason", json_string(
			custos_sign_verification_signature_message(v)));
		json_object_set_new(sig, "signer", v->signer != NULL
			? custos__cert_json(v->signer) : json_null());
		json_object_set_new(sig, "signing_time", str_or_null(
			custos_sign_verification_signing_time(v)));
		json_object_set_new(sig, "digest", str_or_null(v->digest));
		json_object_set_new(sig, "cades", json_boolean(v->cades));
		json_object_set_new(sig, "certificate_checked_at",
			str_or_null(v->checked_at[0] != '\0' ? v->checked_at
							     : NULL));
		json_object_set_new(sig, "certificate_checked_at_source",
			str_or_null(v->checked_at_source));
	}
	json_object_set_new(root, "signature", sig != NULL ? sig : json_null());
	for (size_t i = 0; i < v->ts_count; i++)
		json_array_append_new(list, custos__timestamp_json(v->ts[i]));
	json_object_set_new(root, "timestamps", list);
	*out = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(root);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
nomem:
	json_decref(root);
	json_decref(list);
	return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
}

void custos_sign_verification_free(custos_sign_verification *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->ts_count; i++)
		custos__timestamp_free(v->ts[i]);
	custos_cert_free(v->signer);
	free(v->path);
	free(v->message);
	free(v->sig_path);
	free(v->sig_message);
	free(v);
}
