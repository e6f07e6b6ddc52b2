/* X.509 certificates: loading, and the facts a person checks in them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert_private.h"
#include "error_private.h"

struct custos_cert {
	X509 *x509;
	char *subject;
	char *issuer;
	char *common_name;
	char *serial;
	char *key_type;
	char *key_usage;
	char not_before[CUSTOS__RFC3339_MAX];
	char not_after[CUSTOS__RFC3339_MAX];
	char sha256[65];
};

char *custos__hex(const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out;

	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	out = malloc(2 * len + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return out;
}

char *custos__name_text(const X509_NAME *name)
{
	/* RFC 2253 escaping, but UTF-8 kept as is, in the certificate's order. */
	unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
		((ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
			ASN1_STRFLGS_UTF8_CONVERT);
	BIO *mem = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (mem == NULL)
		return NULL;
	if (X509_NAME_print_ex(mem, name, 0, flags) >= 0) {
		n = BIO_get_mem_data(mem, &data);
		if (n >= 0)
			out = strndup(data, (size_t)n);
	}
	BIO_free(mem);
	return out;
}

int custos__asn1_time_rfc3339(char out[CUSTOS__RFC3339_MAX],
		const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return strftime(out, CUSTOS__RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm)
		!= 0;
}

static char *key_type_text(X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[64];

	if (pk == NULL)
		return strdup("unknown");
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL)
				== 1) {
			int nid = OBJ_sn2nid(group);
			const char *nist = nid != NID_undef
				? EC_curve_nid2nist(nid) : NULL;

			return custos__aprintf("ECDSA %s",
				nist != NULL ? nist : group);
		}
		return strdup("ECDSA");
	case EVP_PKEY_RSA:
		return custos__aprintf("RSA-%d", EVP_PKEY_get_bits(pk));
	case EVP_PKEY_RSA_PSS:
		return custos__aprintf("RSA-PSS-%d", EVP_PKEY_get_bits(pk));
	case EVP_PKEY_ED25519:
		return strdup("Ed25519");
	case EVP_PKEY_ED448:
		return strdup("Ed448");
	default:
		return strdup(OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
	}
}

static char *key_usage_text(X509 *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{KU_DIGITAL_SIGNATURE, "digitalSignature"},
		{KU_NON_REPUDIATION, "nonRepudiation"},
		{KU_KEY_ENCIPHERMENT, "keyEncipherment"},
		{KU_DATA_ENCIPHERMENT, "dataEncipherment"},
		{KU_KEY_AGREEMENT, "keyAgreement"},
		{KU_KEY_CERT_SIGN, "keyCertSign"},
		{KU_CRL_SIGN, "cRLSign"},
		{KU_ENCIPHER_ONLY, "encipherOnly"},
		{KU_DECIPHER_ONLY, "decipherOnly"},
	};
	uint32_t ku = X509_get_key_usage(x);
	char text[256] = "";
	size_t used = 0;

	if (ku == UINT32_MAX)
		return strdup("");
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if ((ku & bits[i].bit) == 0)
			continue;
		int n = snprintf(text + used, sizeof(text) - used, "%s%s",
			used > 0 ? "," : "", bits[i].name);
		if (n < 0 || (size_t)n >= sizeof(text) - used)
			break;
		used += (size_t)n;
	}
	return strdup(text);
}

static char *common_name_text(X509 *x)
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *out;
	int n;

	if (i < 0)
		return strdup("");
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
		X509_NAME_get_entry(name, i)));
	if (n < 0)
		return strdup("");
	out = strndup((const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return out;
}

custos_status custos__cert_from_x509(custos_cert **out, X509 *x,
		custos_error *err)
{
	custos_cert *c;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *hex;
	BIGNUM *bn;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL || !X509_up_ref(x)) {
		free(c);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	c->x509 = x;
	c->subject = custos__name_text(X509_get_subject_name(x));
	c->issuer = custos__name_text(X509_get_issuer_name(x));
	c->common_name = common_name_text(x);
	c->key_type = key_type_text(x);
	c->key_usage = key_usage_text(x);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	if (bn != NULL) {
		char *h = BN_bn2hex(bn);

		if (h != NULL) {
			c->serial = strdup(h);
			for (char *p = c->serial; p != NULL && *p; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p - 'A' + 'a');
			OPENSSL_free(h);
		}
		BN_free(bn);
	}
	if (!custos__asn1_time_rfc3339(c->not_before, X509_get0_notBefore(x)))
		snprintf(c->not_before, sizeof(c->not_before), "unknown");
	if (!custos__asn1_time_rfc3339(c->not_after, X509_get0_notAfter(x)))
		snprintf(c->not_after, sizeof(c->not_after), "unknown");
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32 ||
	    (hex = custos__hex(md, mdlen)) == NULL) {
		custos_cert_free(c);
		return custos__error_openssl(err, "cannot hash certificate");
	}
	memcpy(c->sha256, hex, 65);
	free(hex);
	if (c->subject == NULL || c->issuer == NULL || c->common_name == NULL ||
	    c->key_type == NULL || c->key_usage == NULL || c->serial == NULL) {
		custos_cert_free(c);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	*out = c;
	return CUSTOS_OK;
}

custos_status custos__load_x509(X509 **out, const char *path,
		const char *what, custos_error *err)
{
	unsigned char *data;
	const unsigned char *p;
	size_t len;
	custos_status st;
	BIO *mem;
	X509 *x = NULL;

	*out = NULL;
	st = custos__read_file_max(path, CUSTOS__PKI_FILE_MAX, &data, &len,
		what, err);
	if (st != CUSTOS_OK)
		return st;
	mem = BIO_new_mem_buf(data, (int)len);
	if (mem != NULL)
		x = PEM_read_bio_X509(mem, NULL, NULL, NULL);
	BIO_free(mem);
	if (x == NULL) {
		p = data;
		x = d2i_X509(NULL, &p, (long)len);
	}
	free(data);
	ERR_clear_error();
	if (x == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s %s is not a PEM or DER certificate", what, path);
	*out = x;
	return CUSTOS_OK;
}

custos_status custos__load_x509_stack(STACK_OF(X509) **out,
		const char *path, const char *what, custos_error *err)
{
	unsigned char *data;
	size_t len;
	custos_status st;
	STACK_OF(X509) *certs;
	BIO *mem;
	X509 *x;

	*out = NULL;
	st = custos__read_file_max(path, CUSTOS__PKI_FILE_MAX, &data, &len,
		what, err);
	if (st != CUSTOS_OK)
		return st;
	certs = sk_X509_new_null();
	mem = BIO_new_mem_buf(data, (int)len);
	if (certs == NULL || mem == NULL) {
		sk_X509_free(certs);
		BIO_free(mem);
		free(data);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	while ((x = PEM_read_bio_X509(mem, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			break;
		}
	}
	BIO_free(mem);
	free(data);
	ERR_clear_error();
	if (sk_X509_num(certs) == 0) {
		sk_X509_free(certs);
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s %s holds no PEM certificate", what, path);
	}
	*out = certs;
	return CUSTOS_OK;
}

custos_status custos__trust_store(X509_STORE **out, const char *const *paths,
		size_t count, custos_error *err)
{
	X509_STORE *store = X509_STORE_new();

	*out = NULL;
	if (store == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (count == 0) {
		if (X509_STORE_set_default_paths(store) != 1) {
			X509_STORE_free(store);
			return custos__error_openssl(err,
				"cannot load the system trust store");
		}
		ERR_clear_error();
	}
	for (size_t i = 0; i < count; i++) {
		STACK_OF(X509) *certs;
		custos_status st = custos__load_x509_stack(&certs, paths[i],
			"trusted CA file", err);

		if (st != CUSTOS_OK) {
			X509_STORE_free(store);
			return st;
		}
		for (int j = 0; j < sk_X509_num(certs); j++)
			X509_STORE_add_cert(store, sk_X509_value(certs, j));
		sk_X509_pop_free(certs, X509_free);
		ERR_clear_error();
	}
	*out = store;
	return CUSTOS_OK;
}

custos_status custos_cert_load(custos_cert **out, const char *path,
		custos_error *err)
{
	X509 *x;
	custos_status st;

	if (out == NULL || path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_cert_load: NULL argument");
	*out = NULL;
	st = custos__load_x509(&x, path, "certificate", err);
	if (st != CUSTOS_OK)
		return st;
	st = custos__cert_from_x509(out, x, err);
	X509_free(x);
	return st;
}

X509 *custos__cert_x509(const custos_cert *c)
{
	return c->x509;
}

const char *custos_cert_subject(const custos_cert *c) { return c->subject; }
const char *custos_cert_issuer(const custos_cert *c) { return c->issuer; }
const char *custos_cert_common_name(const custos_cert *c) { return c->common_name; }
const char *custos_cert_serial(const custos_cert *c) { return c->serial; }
const char *custos_cert_not_before(const custos_cert *c) { return c->not_before; }
const char *custos_cert_not_after(const custos_cert *c) { return c->not_after; }
const char *custos_cert_fingerprint_sha256(const custos_cert *c) { return c->sha256; }
const char *custos_cert_key_type(const custos_cert *c) { return c->key_type; }
const char *custos_cert_key_usage(const custos_cert *c) { return c->key_usage; }

int custos_cert_can_sign(const custos_cert *c)
{
	uint32_t ku = X509_get_key_usage(c->x509);

	return ku == UINT32_MAX ||
		(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0;
}

int custos_cert_is_ca(const custos_cert *c)
{
	return X509_check_ca(c->x509) != 0;
}

json_t *custos__cert_json(const custos_cert *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		"subject", c->subject, "issuer", c->issuer,
		"common_name", c->common_name, "serial", c->serial,
		"not_before", c->not_before, "not_after", c->not_after,
		"sha256", c->sha256, "key", c->key_type,
		"key_usage", c->key_usage);
}

custos_status custos_cert_to_json(char **out, const custos_cert *c,
		custos_error *err)
{
	json_t *j;

	if (out == NULL || c == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_cert_to_json: NULL argument");
	j = custos__cert_json(c);
	*out = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII)
			 : NULL;
	json_decref(j);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

void custos_cert_free(custos_cert *c)
{
	if (c == NULL)
		return;
	X509_free(c->x509);
	free(c->subject);
	free(c->issuer);
	free(c->common_name);
	free(c->serial);
	free(c->key_type);
	free(c->key_usage);
	free(c);
}
