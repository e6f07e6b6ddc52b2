/*
 * The custody log's CMS fast path (src/cms_fast.c, compiled in: its
 * symbols are private to libcustos) against the signatures custos writes
 * with the TEST-ONLY identities of samples/pki: an ECDSA signer, the RSA
 * signer (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt), a signer with
 * its chain.  The fast path takes exactly those; a flipped byte is
 * refused; an RSA-PSS signature with another salt length is left to
 * OpenSSL, and the whole log verification (which then runs CMS_verify)
 * still judges it, right or wrong.
 */
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cms_fast_private.h"
#include "custos/custody.h"
#include "custos/sign.h"
#include "harness.h"

#define PKI CUSTOS_SOURCE_ROOT "/samples/pki/"

static const char *const trust[] = {PKI "ca.pem"};

/* 1 if x is the certificate samples/pki/<name>.pem. */
static int is_cert(X509 *x, const char *name)
{
	char path[256];
	FILE *f;
	X509 *want;
	int same;

	snprintf(path, sizeof(path), PKI "%s.pem", name);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	want = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_FATAL(want != NULL);
	same = X509_cmp(x, want) == 0;
	X509_free(want);
	return same;
}

/* 0 when the fast path names the certificate of samples/pki/<signer>.pem
 * as the signer of der over line, -1 when it leaves it to OpenSSL, -3 when
 * it names another one; -2 when der is not shaped to be split. */
static int fast_signer(const unsigned char *der, size_t len,
		const unsigned char *line, size_t line_len, const char *name)
{
	custos__cms_signer_parts sd;
	unsigned char *bare = NULL;
	const unsigned char *cs = NULL, *p;
	long bare_len = 0, cs_len = 0;
	STACK_OF(X509) *certs = sk_X509_new_null();
	custos__cms_cert_facts facts[4];
	const custos__cms_cert_facts *signer;
	int n = 0, made = 0, who = -1;

	memset(&sd, 0, sizeof(sd));
	if (!custos__cms_split_certs(der, (long)len, &bare, &bare_len, &cs,
			&cs_len, &sd)) {
		sk_X509_free(certs);
		return -2;
	}
	for (p = cs; p < cs + cs_len && n < 4; n++) {
		X509 *x = d2i_X509(NULL, &p, (long)(cs + cs_len - p));

		CU_ASSERT_FATAL(x != NULL && sk_X509_push(certs, x));
	}
	for (; made < n; made++)
		CU_ASSERT_FATAL(custos__cms_cert_facts_init(&facts[made],
			sk_X509_value(certs, made), certs));
	signer = custos__cms_fast_verify(&sd, facts, (size_t)n,
		(const char *)line, line_len);
	if (signer != NULL)
		who = is_cert(signer->cert, name) ? 0 : -3;
	for (int k = 0; k < made; k++)
		custos__cms_cert_facts_free(&facts[k]);
	sk_X509_pop_free(certs, X509_free);
	free(bare);
	ERR_clear_error();
	return who;
}

static void actor(custos_custody_actor_options *a, const char *name)
{
	static char key[4][256], cert[4][256], chain[256];
	static int next;
	int k = next++ % 4;

	custos_custody_actor_options_init(a);
	snprintf(key[k], sizeof(key[k]), PKI "%s.key", name);
	snprintf(cert[k], sizeof(cert[k]), PKI "%s.pem", name);
	a->key_path = key[k];
	a->cert_path = cert[k];
	if (strcmp(name, "analyst") == 0) {
		snprintf(chain, sizeof(chain), PKI "analyst-chain.pem");
		a->chain_path = chain;
	}
}

/* A log: genesis by the examiner (ECDSA), record 1 by the prosecutor
 * (RSA-PSS), record 2 by the analyst (ECDSA, with its chain). */
static void make_log(const char *dir)
{
	custos_custody_actor_options ex, pr, an;
	custos_custody_event ev;
	const char *item = "HD-01";
	char key[64];

	actor(&ex, "examiner");
	actor(&pr, "prosecutor");
	actor(&an, "analyst");
	snprintf(key, sizeof(key), "%s.key", dir);
	CU_ASSERT_EQUAL_FATAL(custos_custody_init(dir, "test.example/fast",
		key, trust, 1, NULL, &ex, NULL), CUSTOS_OK);
	custos_custody_event_init(&ev);
	ev.type = "sealed";
	ev.items = &item;
	ev.item_count = 1;
	CU_ASSERT_EQUAL_FATAL(custos_custody_append(NULL, NULL, dir, &ev,
		&pr, NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL_FATAL(custos_custody_append(NULL, NULL, dir, &ev,
		&an, NULL), CUSTOS_OK);
}

static custos_status verify_log(const char *dir)
{
	custos_custody_verify_options o;
	custos_custody_verification *v = NULL;
	custos_status st;

	custos_custody_verify_options_init(&o);
	o.trust = trust;
	o.trust_count = 1;
	st = custos_custody_verify(&v, dir, &o, NULL);
	custos_custody_verification_free(v);
	return st;
}

/* Line seq of the log (with its LF); caller frees. */
static unsigned char *log_line(const char *dir, int seq, size_t *len)
{
	size_t all = 0;
	char path[64];
	unsigned char *log, *p, *nl, *out;

	snprintf(path, sizeof(path), "%s/log.jsonl", dir);
	log = harness_read_file(path, &all);
	CU_ASSERT_FATAL(log != NULL);
	p = log;
	for (int k = 0; k < seq; k++) {
		p = memchr(p, '\n', all - (size_t)(p - log));
		CU_ASSERT_FATAL(p != NULL);
		p++;
	}
	nl = memchr(p, '\n', all - (size_t)(p - log));
	CU_ASSERT_FATAL(nl != NULL);
	*len = (size_t)(nl - p) + 1;
	out = malloc(*len);
	CU_ASSERT_FATAL(out != NULL);
	memcpy(out, p, *len);
	free(log);
	return out;
}

static unsigned char *sig_of(const char *dir, int seq, size_t *len)
{
	char path[64];
	unsigned char *der;

	snprintf(path, sizeof(path), "%s/sig/%08d.p7s", dir, seq);
	der = harness_read_file(path, len);
	CU_ASSERT_FATAL(der != NULL);
	return der;
}

static const char *const signers[] = {"examiner", "prosecutor",
	"analyst"};

/* The three signers' signatures, as custos writes them, go the fast way,
 * each naming its own certificate (the analyst's set also holds the lab
 * CA). */
static void test_custos_shapes(void)
{
	unsigned char *line, *der;
	size_t ll, dl;

	make_log("log");
	CU_ASSERT_EQUAL(verify_log("log"), CUSTOS_OK);
	for (int seq = 0; seq < 3; seq++) {
		line = log_line("log", seq, &ll);
		der = sig_of("log", seq, &dl);
		CU_ASSERT_EQUAL(fast_signer(der, dl, line, ll, signers[seq]),
			0);
		/* another line's bytes: refused */
		line[1] ^= 1;
		CU_ASSERT_EQUAL(fast_signer(der, dl, line, ll, signers[seq]),
			-1);
		free(line);
		free(der);
	}
}

/* A flipped byte of the RSA-PSS (or ECDSA) signature value: the fast
 * path refuses it, and so does the log's verification. */
static void test_flipped_signature(void)
{
	static const char *const dirs[] = {"", "log1", "log2"};

	for (int seq = 1; seq <= 2; seq++) {
		unsigned char *line, *der;
		size_t ll, dl;
		char path[64];

		make_log(dirs[seq]);
		line = log_line(dirs[seq], seq, &ll);
		der = sig_of(dirs[seq], seq, &dl);
		CU_ASSERT_EQUAL(fast_signer(der, dl, line, ll, signers[seq]),
			0);
		/* No unsigned attributes: the value is the last bytes. */
		der[dl - 5] ^= 0x40;
		CU_ASSERT_EQUAL(fast_signer(der, dl, line, ll, signers[seq]),
			-1);
		snprintf(path, sizeof(path), "%s/sig/%08d.p7s", dirs[seq],
			seq);
		harness_write_file(path, der, dl);
		CU_ASSERT_EQUAL(verify_log(dirs[seq]), CUSTOS_EMISMATCH);
		free(line);
		free(der);
	}
}

/*
 * Record 1's line signed again by the prosecutor with RSA-PSS and a
 * 20-byte salt, as `openssl cms -sign -keyopt rsa_padding_mode:pss
 * -keyopt rsa_pss_saltlen:20` would; der_out gets the DER.
 */
static void sign_salt20(unsigned char **der_out, int *len,
		const unsigned char *line, size_t ll)
{
	FILE *f;
	X509 *cert;
	EVP_PKEY *key;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	EVP_PKEY_CTX *pctx;
	BIO *in = BIO_new_mem_buf(line, (int)ll);

	f = fopen(PKI "prosecutor.pem", "r");
	CU_ASSERT_FATAL(f != NULL);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(PKI "prosecutor.key", "r");
	CU_ASSERT_FATAL(f != NULL);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_FATAL(cert != NULL && key != NULL && in != NULL);
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_DETACHED |
		CMS_BINARY);
	CU_ASSERT_FATAL(cms != NULL);
	si = CMS_add1_signer(cms, cert, key, EVP_sha256(), CMS_BINARY |
		CMS_CADES | CMS_NOSMIMECAP | CMS_KEY_PARAM);
	CU_ASSERT_FATAL(si != NULL);
	pctx = CMS_SignerInfo_get0_pkey_ctx(si);
	CU_ASSERT_FATAL(pctx != NULL);
	CU_ASSERT_FATAL(EVP_PKEY_CTX_set_rsa_padding(pctx,
		RSA_PKCS1_PSS_PADDING) == 1);
	CU_ASSERT_FATAL(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20) == 1);
	CU_ASSERT_FATAL(CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY)
		== 1);
	*der_out = NULL;
	*len = i2d_CMS_ContentInfo(cms, der_out);
	CU_ASSERT_FATAL(*len > 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	EVP_PKEY_free(key);
	X509_free(cert);
}

/* Another salt length is a valid signature OpenSSL accepts but not the
 * shape the fast path knows: it goes the slow way, and is judged there
 * (accepted as it is, refused with a flipped byte). */
static void test_other_salt_length(void)
{
	unsigned char *line, *der;
	size_t ll;
	int dl;

	make_log("log");
	line = log_line("log", 1, &ll);
	sign_salt20(&der, &dl, line, ll);
	CU_ASSERT_EQUAL(fast_signer(der, (size_t)dl, line, ll,
		"prosecutor"), -1);
	harness_write_file("log/sig/00000001.p7s", der, (size_t)dl);
	CU_ASSERT_EQUAL(verify_log("log"), CUSTOS_OK);
	der[dl - 5] ^= 0x40;
	harness_write_file("log/sig/00000001.p7s", der, (size_t)dl);
	CU_ASSERT_EQUAL(verify_log("log"), CUSTOS_EMISMATCH);
	OPENSSL_free(der);
	free(line);
}

/* The RSA-PSS AlgorithmIdentifier over an ECDSA signer (the analyst's
 * signature re-encoded with it) is not taken: the key must be RSA. */
static void test_pss_needs_rsa_key(void)
{
	static const unsigned char pss[] = {0x30, 0x41, 0x06, 0x09, 0x2a,
		0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,
		0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30,
		0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
		0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02,
		0x01, 0x20};
	unsigned char *line, *der, *out = NULL;
	const unsigned char *p;
	size_t ll, dl;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	X509_ALGOR *sig_alg, *want;
	int len;

	make_log("log");
	line = log_line("log", 2, &ll);
	der = sig_of("log", 2, &dl);
	CU_ASSERT_EQUAL(fast_signer(der, dl, line, ll, "analyst"), 0);
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)dl);
	CU_ASSERT_FATAL(cms != NULL);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	CU_ASSERT_FATAL(si != NULL);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig_alg);
	p = pss;
	want = d2i_X509_ALGOR(NULL, &p, sizeof(pss));
	CU_ASSERT_FATAL(want != NULL && X509_ALGOR_copy(sig_alg, want) == 1);
	len = i2d_CMS_ContentInfo(cms, &out);
	CU_ASSERT_FATAL(len > 0);
	/* the identifier is there, byte for byte */
	CU_ASSERT_PTR_NOT_NULL(memmem(out, (size_t)len, pss, sizeof(pss)));
	CU_ASSERT_EQUAL(fast_signer(out, (size_t)len, line, ll, "analyst"),
		-1);
	/* (OpenSSL 3.0's CMS_verify does not read the signature algorithm
	 * of an EC signer, and accepts it as it is; only a wrong value is
	 * refused both ways.) */
	out[len - 5] ^= 0x40;
	CU_ASSERT_EQUAL(fast_signer(out, (size_t)len, line, ll, "analyst"),
		-1);
	harness_write_file("log/sig/00000002.p7s", out, (size_t)len);
	CU_ASSERT_EQUAL(verify_log("log"), CUSTOS_EMISMATCH);
	OPENSSL_free(out);
	X509_ALGOR_free(want);
	CMS_ContentInfo_free(cms);
	free(der);
	free(line);
}

static const harness_test tests[] = {
	{"custos's ECDSA, RSA-PSS and chain signatures go the fast way",
		test_custos_shapes},
	{"a flipped signature byte is refused", test_flipped_signature},
	{"RSA-PSS with another salt length is left to OpenSSL",
		test_other_salt_length},
	{"the RSA-PSS identifier needs an RSA key", test_pss_needs_rsa_key},
};

HARNESS_MAIN("cms_fast", tests)
