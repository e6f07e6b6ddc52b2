/* Key and cert modules: new identities, CSRs, passphrases, inspection. */
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "custos/cert.h"
#include "custos/key.h"
#include "harness.h"

static void new_identity(custos_key_type type, const char *key,
		const char *cert)
{
	custos_key_options o;
	custos_error err;

	custos_key_options_init(&o);
	o.type = type;
	o.name = "Test Examiner";
	o.organization = "custos TEST ONLY";
	o.unit = "Forensics";
	o.country = "AT";
	o.role = "Forensic Examiner";
	CU_ASSERT_EQUAL_FATAL(custos_key_new(key, cert, &o, &err), CUSTOS_OK);
}

static void test_types(void)
{
	static const struct {
		custos_key_type type;
		const char *text;
	} cases[] = {
		{CUSTOS_KEY_ECDSA_P256, "ECDSA P-256"},
		{CUSTOS_KEY_RSA_3072, "RSA-3072"},
		{CUSTOS_KEY_ED25519, "Ed25519"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char key[32], pem[32];
		custos_cert *c = NULL;
		struct stat sb;

		snprintf(key, sizeof(key), "k%zu.key", i);
		snprintf(pem, sizeof(pem), "k%zu.pem", i);
		new_identity(cases[i].type, key, pem);
		CU_ASSERT_EQUAL(stat(key, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
		CU_ASSERT_EQUAL_FATAL(custos_cert_load(&c, pem, NULL), CUSTOS_OK);
		CU_ASSERT_STRING_EQUAL(custos_cert_key_type(c), cases[i].text);
		CU_ASSERT_STRING_EQUAL(custos_cert_key_usage(c),
			"digitalSignature,nonRepudiation");
		CU_ASSERT_STRING_EQUAL(custos_cert_common_name(c),
			"Test Examiner");
		CU_ASSERT_STRING_EQUAL(custos_cert_subject(c),
			"C=AT, O=custos TEST ONLY, OU=Forensics, "
			"CN=Test Examiner, title=Forensic Examiner");
		CU_ASSERT_STRING_EQUAL(custos_cert_subject(c),
			custos_cert_issuer(c));
		CU_ASSERT(custos_cert_can_sign(c));
		CU_ASSERT(!custos_cert_is_ca(c));
		CU_ASSERT_EQUAL(strlen(custos_cert_fingerprint_sha256(c)), 64);
		CU_ASSERT_EQUAL(strlen(custos_cert_not_after(c)), 20);
		custos_cert_free(c);
	}
}

/* The fingerprint is SHA-256 over the DER certificate. */
static void test_fingerprint(void)
{
	unsigned char md[32];
	unsigned int n = 0;
	char hex[65];
	custos_cert *c = NULL;
	char *json = NULL;
	FILE *f;
	X509 *x;

	new_identity(CUSTOS_KEY_ECDSA_P256, "a.key", "a.pem");
	f = fopen("a.pem", "r");
	CU_ASSERT_FATAL(f != NULL);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_FATAL(x != NULL);
	CU_ASSERT_FATAL(X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32);
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
	CU_ASSERT_EQUAL_FATAL(custos_cert_load(&c, "a.pem", NULL), CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(custos_cert_fingerprint_sha256(c), hex);
	CU_ASSERT_EQUAL(custos_cert_to_json(&json, c, NULL), CUSTOS_OK);
	CU_ASSERT(json != NULL && strstr(json, hex) != NULL);
	free(json);
	custos_cert_free(c);
	custos_cert_free(NULL);
}

static void test_csr(void)
{
	custos_key_options o;
	custos_cert *c = NULL;
	unsigned char *text;
	size_t len;

	custos_key_options_init(&o);
	o.name = "Lab Analyst";
	o.csr = 1;
	CU_ASSERT_EQUAL_FATAL(custos_key_new("c.key", "c.csr", &o, NULL),
		CUSTOS_OK);
	text = harness_read_file("c.csr", &len);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT(strstr((char *)text, "BEGIN CERTIFICATE REQUEST") != NULL);
	free(text);
	/* A CSR is not a certificate. */
	CU_ASSERT_EQUAL(custos_cert_load(&c, "c.csr", NULL), CUSTOS_EFORMAT);
	CU_ASSERT_PTR_NULL(c);
}

static void test_passphrase(void)
{
	custos_key_options o;
	unsigned char *text;
	EVP_PKEY *pk;
	size_t len;
	FILE *f;

	custos_key_options_init(&o);
	o.name = "Enc";
	o.passphrase = "s3cret-TEST";
	o.passphrase_len = strlen(o.passphrase);
	CU_ASSERT_EQUAL_FATAL(custos_key_new("e.key", "e.pem", &o, NULL),
		CUSTOS_OK);
	text = harness_read_file("e.key", &len);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT(strstr((char *)text, "BEGIN ENCRYPTED PRIVATE KEY") != NULL);
	CU_ASSERT(strstr((char *)text, "s3cret") == NULL);
	free(text);
	f = fopen("e.key", "r");
	CU_ASSERT_FATAL(f != NULL);
	pk = PEM_read_PrivateKey(f, NULL, NULL, (void *)"s3cret-TEST");
	CU_ASSERT(pk != NULL);
	EVP_PKEY_free(pk);
	rewind(f);
	pk = PEM_read_PrivateKey(f, NULL, NULL, (void *)"wrong");
	CU_ASSERT(pk == NULL);
	fclose(f);
}

static void test_refusals(void)
{
	custos_key_options o;
	custos_error err;
	unsigned char *text;
	size_t len;

	harness_write_file("taken.pem", "keep", 4);
	custos_key_options_init(&o);
	o.name = "X";
	CU_ASSERT_EQUAL(custos_key_new("x.key", "taken.pem", &o, &err),
		CUSTOS_EEXIST);
	CU_ASSERT(strstr(err.message, "taken.pem") != NULL);
	CU_ASSERT_EQUAL(access("x.key", F_OK), -1);
	text = harness_read_file("taken.pem", &len);
	CU_ASSERT(text != NULL && len == 4 && memcmp(text, "keep", 4) == 0);
	free(text);
	CU_ASSERT_EQUAL(custos_key_new("x.key", "x.key", &o, NULL),
		CUSTOS_EINVAL);
	o.name = NULL;
	CU_ASSERT_EQUAL(custos_key_new("x.key", "x.pem", &o, NULL),
		CUSTOS_EINVAL);
	o.name = "Bad\nName";
	CU_ASSERT_EQUAL(custos_key_new("x.key", "x.pem", &o, NULL),
		CUSTOS_EINVAL);
	o.name = "X";
	o.country = "aut";
	CU_ASSERT_EQUAL(custos_key_new("x.key", "x.pem", &o, NULL),
		CUSTOS_EINVAL);
	o.country = NULL;
	o.days = 0;
	CU_ASSERT_EQUAL(custos_key_new("x.key", "x.pem", &o, NULL),
		CUSTOS_EINVAL);
	o.days = 10;
	o.version = 99;
	CU_ASSERT_EQUAL(custos_key_new("x.key", "x.pem", &o, NULL),
		CUSTOS_EINVAL);
	CU_ASSERT_EQUAL(access("x.key", F_OK), -1);
	CU_ASSERT_EQUAL(access("x.pem", F_OK), -1);
}

static void test_type_names(void)
{
	custos_key_type t;

	CU_ASSERT_EQUAL(custos_key_type_parse(&t, "rsa", NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(t, CUSTOS_KEY_RSA_3072);
	CU_ASSERT_EQUAL(custos_key_type_parse(&t, "Ed25519", NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(t, CUSTOS_KEY_ED25519);
	CU_ASSERT_EQUAL(custos_key_type_parse(&t, "p256", NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(t, CUSTOS_KEY_ECDSA_P256);
	CU_ASSERT_EQUAL(custos_key_type_parse(&t, "dsa", NULL), CUSTOS_EINVAL);
	CU_ASSERT_STRING_EQUAL(custos_key_type_name(CUSTOS_KEY_RSA_3072),
		"rsa-3072");
	CU_ASSERT_PTR_NULL(custos_key_type_name((custos_key_type)42));
}

static void test_cert_load_errors(void)
{
	custos_cert *c = NULL;

	CU_ASSERT_EQUAL(custos_cert_load(&c, "missing.pem", NULL),
		CUSTOS_ENOTFOUND);
	harness_write_file("junk.pem", "not a certificate", 17);
	CU_ASSERT_EQUAL(custos_cert_load(&c, "junk.pem", NULL), CUSTOS_EFORMAT);
	CU_ASSERT_PTR_NULL(c);
}

static const harness_test tests[] = {
	{"key types and certificate fields", test_types},
	{"fingerprint is SHA-256 of the DER", test_fingerprint},
	{"CSR", test_csr},
	{"encrypted key", test_passphrase},
	{"refusals write nothing", test_refusals},
	{"type names", test_type_names},
	{"certificate load errors", test_cert_load_errors},
};

HARNESS_MAIN("key", tests)
