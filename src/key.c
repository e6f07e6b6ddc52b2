/* Identities: a key with a self-signed certificate or a CSR. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "custos/key.h"
#include "error_private.h"
#include "util_private.h"

static const char *const type_names[] = {
	[CUSTOS_KEY_ECDSA_P256] = "ecdsa-p256",
	[CUSTOS_KEY_RSA_3072] = "rsa-3072",
	[CUSTOS_KEY_ED25519] = "ed25519",
	[CUSTOS_KEY_ECDSA_P384] = "ecdsa-p384",
	[CUSTOS_KEY_ECDSA_P521] = "ecdsa-p521",
};

const char *custos_key_type_name(custos_key_type type)
{
	if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
		return NULL;
	return type_names[type];
}

custos_status custos_key_type_parse(custos_key_type *out, const char *name,
		custos_error *err)
{
	static const struct {
		const char *name;
		custos_key_type type;
	} aliases[] = {
		{"ecdsa-p256", CUSTOS_KEY_ECDSA_P256}, {"ec", CUSTOS_KEY_ECDSA_P256},
		{"ecdsa", CUSTOS_KEY_ECDSA_P256}, {"p256", CUSTOS_KEY_ECDSA_P256},
		{"p-256", CUSTOS_KEY_ECDSA_P256}, {"rsa-3072", CUSTOS_KEY_RSA_3072},
		{"rsa", CUSTOS_KEY_RSA_3072}, {"rsa3072", CUSTOS_KEY_RSA_3072},
		{"ed25519", CUSTOS_KEY_ED25519},
		{"ecdsa-p384", CUSTOS_KEY_ECDSA_P384}, {"p384", CUSTOS_KEY_ECDSA_P384},
		{"p-384", CUSTOS_KEY_ECDSA_P384},
		{"ecdsa-p521", CUSTOS_KEY_ECDSA_P521}, {"p521", CUSTOS_KEY_ECDSA_P521},
		{"p-521", CUSTOS_KEY_ECDSA_P521},
	};

	for (size_t i = 0; name != NULL && i < sizeof(aliases) /
			sizeof(aliases[0]); i++) {
		if (strcasecmp(name, aliases[i].name) == 0) {
			*out = aliases[i].type;
			return CUSTOS_OK;
		}
	}
	return custos__error_set(err, CUSTOS_EINVAL,
		"unknown key type '%s' (ecdsa-p256, ecdsa-p384, ecdsa-p521, "
		"rsa-3072, ed25519)",
		name != NULL ? name : "");
}

void custos_key_options_init(custos_key_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_KEY_OPTIONS_VERSION;
	opts->type = CUSTOS_KEY_ECDSA_P256;
	opts->days = CUSTOS_KEY_DEFAULT_DAYS;
}

/* The digest pkey signs with: its curve's own for ECDSA (RFC 5480),
 * SHA-256 for RSA, none for Ed25519 (PureEdDSA hashes internally). */
static const EVP_MD *own_digest(EVP_PKEY *pkey)
{
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519)
		return NULL;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		int bits = EVP_PKEY_get_bits(pkey);

		if (bits > 384)
			return EVP_sha512();
		if (bits > 256)
			return EVP_sha384();
	}
	return EVP_sha256();
}

/* Start a signature with pkey: RSA-PSS for RSA, pure Ed25519. */
static custos_status sign_init(EVP_MD_CTX *mdctx, EVP_PKEY *pkey,
		custos_error *err)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = own_digest(pkey);

	if (EVP_DigestSignInit(mdctx, &pctx, md, NULL, pkey) != 1)
		return custos__error_openssl(err, "cannot start signing");
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
		     != 1))
		return custos__error_openssl(err, "cannot select RSA-PSS");
	return CUSTOS_OK;
}

static EVP_PKEY *generate(custos_key_type type)
{
	switch (type) {
	case CUSTOS_KEY_ECDSA_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case CUSTOS_KEY_RSA_3072:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	case CUSTOS_KEY_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	case CUSTOS_KEY_ECDSA_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case CUSTOS_KEY_ECDSA_P521:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	}
	return NULL;
}

static int add_entry(X509_NAME *name, const char *field, const char *value)
{
	if (value == NULL || *value == '\0')
		return 1;
	return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
		(const unsigned char *)value, -1, -1, 0);
}

static custos_status check_text(const char *what, const char *value,
		custos_error *err)
{
	if (value == NULL)
		return CUSTOS_OK;
	if (strlen(value) > 64)
		return custos__error_set(err, CUSTOS_EINVAL,
			"%s is longer than 64 characters", what);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return custos__error_set(err, CUSTOS_EINVAL,
				"%s holds a control character", what);
	return CUSTOS_OK;
}

static custos_status build_name(X509_NAME **out, const custos_key_options *o,
		custos_error *err)
{
	X509_NAME *name;
	custos_status st;

	*out = NULL;
	if (o->name == NULL || *o->name == '\0')
		return custos__error_set(err, CUSTOS_EINVAL,
			"a name (the certificate's CN) is required");
	if ((st = check_text("the name", o->name, err)) != CUSTOS_OK ||
	    (st = check_text("the organisation", o->organization, err)) !=
		    CUSTOS_OK ||
	    (st = check_text("the unit", o->unit, err)) != CUSTOS_OK ||
	    (st = check_text("the role", o->role, err)) != CUSTOS_OK)
		return st;
	if (o->country != NULL && *o->country != '\0' &&
	    (strlen(o->country) != 2 ||
	     !isupper((unsigned char)o->country[0]) ||
	     !isupper((unsigned char)o->country[1])))
		return custos__error_set(err, CUSTOS_EINVAL,
			"country must be two capital letters (ISO 3166), "
			"not '%s'", o->country);
	name = X509_NAME_new();
	if (name == NULL ||
	    !add_entry(name, "C", o->country) ||
	    !add_entry(name, "O", o->organization) ||
	    !add_entry(name, "OU", o->unit) ||
	    !add_entry(name, "CN", o->name) ||
	    !add_entry(name, "title", o->role)) {
		X509_NAME_free(name);
		return custos__error_openssl(err, "cannot build the subject");
	}
	*out = name;
	return CUSTOS_OK;
}

static X509_EXTENSION *make_ext(X509V3_CTX *ctx, int nid, const char *value)
{
	return X509V3_EXT_conf_nid(NULL, ctx, nid, value);
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = make_ext(ctx, nid, value);
	int ok = ext != NULL && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok;
}

static custos_status make_cert(char **pem, size_t *pem_len, EVP_PKEY *pkey,
		X509_NAME *name, unsigned int days, custos_error *err)
{
	X509 *x = X509_new();
	EVP_MD_CTX *mdctx = EVP_MD_CTX_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	X509V3_CTX ctx;
	BIO *mem = NULL;
	custos_status st = CUSTOS_OK;
	char *data;
	long n;

	if (x == NULL || mdctx == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		st = custos__error_openssl(err, "no random serial number");
		goto done;
	}
	serial[0] &= 0x7f; /* positive */
	serial[0] |= 0x40; /* and always 16 bytes long */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ==
		    NULL ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, pkey)) {
		st = custos__error_openssl(err, "cannot build the certificate");
		goto done;
	}
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage,
		    "critical,digitalSignature,nonRepudiation") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash")) {
		st = custos__error_openssl(err, "cannot add extensions");
		goto done;
	}
	if ((st = sign_init(mdctx, pkey, err)) != CUSTOS_OK)
		goto done;
	if (X509_sign_ctx(x, mdctx) <= 0) {
		st = custos__error_openssl(err, "cannot sign the certificate");
		goto done;
	}
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL || PEM_write_bio_X509(mem, x) != 1) {
		st = custos__error_openssl(err, "cannot encode the certificate");
		goto done;
	}
	n = BIO_get_mem_data(mem, &data);
	*pem = malloc((size_t)n);
	if (*pem == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(*pem, data, (size_t)n);
	*pem_len = (size_t)n;
done:
	BIO_free(mem);
	BN_free(bn);
	EVP_MD_CTX_free(mdctx);
	X509_free(x);
	return st;
}

static custos_status make_csr(char **pem, size_t *pem_len, EVP_PKEY *pkey,
		X509_NAME *name, custos_error *err)
{
	X509_REQ *req = X509_REQ_new();
	EVP_MD_CTX *mdctx = EVP_MD_CTX_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *e1 = NULL, *e2 = NULL;
	BIO *mem = NULL;
	custos_status st = CUSTOS_OK;
	char *data;
	long n;

	if (req == NULL || mdctx == NULL || exts == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	e1 = make_ext(NULL, NID_basic_constraints, "critical,CA:FALSE");
	e2 = make_ext(NULL, NID_key_usage,
		"critical,digitalSignature,nonRepudiation");
	if (e1 == NULL || e2 == NULL || !sk_X509_EXTENSION_push(exts, e1) ||
	    !sk_X509_EXTENSION_push(exts, e2) ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pkey) ||
	    !X509_REQ_add_extensions(req, exts)) {
		st = custos__error_openssl(err, "cannot build the CSR");
		goto done;
	}
	if ((st = sign_init(mdctx, pkey, err)) != CUSTOS_OK)
		goto done;
	if (X509_REQ_sign_ctx(req, mdctx) <= 0) {
		st = custos__error_openssl(err, "cannot sign the CSR");
		goto done;
	}
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL || PEM_write_bio_X509_REQ(mem, req) != 1) {
		st = custos__error_openssl(err, "cannot encode the CSR");
		goto done;
	}
	n = BIO_get_mem_data(mem, &data);
	*pem = malloc((size_t)n);
	if (*pem == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(*pem, data, (size_t)n);
	*pem_len = (size_t)n;
done:
	BIO_free(mem);
	sk_X509_EXTENSION_free(exts);
	X509_EXTENSION_free(e1);
	X509_EXTENSION_free(e2);
	EVP_MD_CTX_free(mdctx);
	X509_REQ_free(req);
	return st;
}

/* Write the key as PKCS#8 PEM through secure memory, mode 0600. */
static custos_status write_key(const char *path, EVP_PKEY *pkey,
		const custos_key_options *o, custos_error *err)
{
	BIO *mem = BIO_new(BIO_s_secmem());
	custos_status st;
	char *data;
	long n;
	int ok;

	if (mem == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (o->passphrase != NULL)
		ok = PEM_write_bio_PKCS8PrivateKey(mem, pkey,
			EVP_aes_256_cbc(), o->passphrase,
			(int)o->passphrase_len, NULL, NULL);
	else
		ok = PEM_write_bio_PKCS8PrivateKey(mem, pkey, NULL, NULL, 0,
			NULL, NULL);
	if (ok != 1) {
		BIO_free(mem);
		return custos__error_openssl(err, "cannot encode the key");
	}
	n = BIO_get_mem_data(mem, &data);
	st = custos__write_file_atomic_mode(path, data, (size_t)n, 0600, err);
	OPENSSL_cleanse(data, (size_t)n);
	BIO_free(mem); /* secure memory is cleared again on free */
	return st;
}

custos_status custos_key_new(const char *key_path, const char *cert_path,
		const custos_key_options *opts, custos_error *err)
{
	EVP_PKEY *pkey = NULL;
	X509_NAME *name = NULL;
	char *pem = NULL;
	size_t pem_len = 0;
	custos_status st;

	if (key_path == NULL || cert_path == NULL || opts == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_key_new: NULL argument");
	if (opts->version != CUSTOS_KEY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_key_new: unknown options version %u",
			opts->version);
	if (custos_key_type_name(opts->type) == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "unknown key type");
	if (!opts->csr && (opts->days == 0 || opts->days > 36525))
		return custos__error_set(err, CUSTOS_EINVAL,
			"validity must be 1 to 36525 days, not %u", opts->days);
	if (opts->passphrase != NULL &&
	    (opts->passphrase_len == 0 || opts->passphrase_len > 1024))
		return custos__error_set(err, CUSTOS_EINVAL,
			"the passphrase must be 1 to 1024 bytes");
	if (strcmp(key_path, cert_path) == 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the key and the %s must be different files",
			opts->csr ? "CSR" : "certificate");
	if (custos__path_exists(key_path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; not overwritten", key_path);
	if (custos__path_exists(cert_path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; not overwritten", cert_path);
	st = build_name(&name, opts, err);
	if (st != CUSTOS_OK)
		return st;
	pkey = generate(opts->type);
	if (pkey == NULL) {
		X509_NAME_free(name);
		return custos__error_openssl(err, "cannot generate the key");
	}
	if (opts->csr)
		st = make_csr(&pem, &pem_len, pkey, name, err);
	else
		st = make_cert(&pem, &pem_len, pkey, name, opts->days, err);
	if (st == CUSTOS_OK)
		st = write_key(key_path, pkey, opts, err);
	if (st == CUSTOS_OK) {
		st = custos__write_file_atomic(cert_path, pem, pem_len, err);
		if (st != CUSTOS_OK)
			unlink(key_path); /* no key without its certificate */
	}
	free(pem);
	X509_NAME_free(name);
	EVP_PKEY_free(pkey);
	return st;
}
