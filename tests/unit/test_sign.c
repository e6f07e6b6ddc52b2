/* Sign module: CAdES sign/verify round trips, each failed check, the TSA
 * client's errors without a TSA.  (Time stamps with a TSA: tests/cli/sign.sh.) */
#include <string.h>

#include "custos/key.h"
#include "custos/sign.h"
#include "custos/timestamp.h"
#include "harness.h"

static const char content[] = "{\"custos_report\": 1, \"note\": \"TEST ONLY\"}\n";

static void identity(const char *name, custos_key_type type,
		const char *passphrase)
{
	custos_key_options o;
	char key[64], pem[64];

	custos_key_options_init(&o);
	o.type = type;
	o.name = name;
	o.passphrase = passphrase;
	o.passphrase_len = passphrase != NULL ? strlen(passphrase) : 0;
	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(pem, sizeof(pem), "%s.pem", name);
	CU_ASSERT_EQUAL_FATAL(custos_key_new(key, pem, &o, NULL), CUSTOS_OK);
}

static custos_status sign_as(const char *name, const char *file)
{
	custos_sign_options o;
	char key[64], pem[64];
	custos_error err;
	custos_status st;

	custos_sign_options_init(&o);
	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(pem, sizeof(pem), "%s.pem", name);
	o.key_path = key;
	o.cert_path = pem;
	st = custos_sign_file(file, &o, &err);
	if (st != CUSTOS_OK)
		fprintf(stderr, "sign: %s\n", err.message);
	return st;
}

static custos_status verify_with(custos_sign_verification **v,
		const char *file, const char *trust)
{
	custos_sign_verify_options o;

	custos_sign_verify_options_init(&o);
	o.trust = &trust;
	o.trust_count = 1;
	return custos_sign_verify_file(v, file, &o, NULL);
}

static void test_round_trip(void)
{
	static const custos_key_type types[] = {CUSTOS_KEY_ECDSA_P256,
		CUSTOS_KEY_RSA_3072};

	for (size_t i = 0; i < 2; i++) {
		custos_sign_verification *v = NULL;
		char name[16], pem[32];
		char *json = NULL;

		snprintf(name, sizeof(name), "id%zu", i);
		snprintf(pem, sizeof(pem), "%s.pem", name);
		identity(name, types[i], NULL);
		harness_write_file("r.json", content, strlen(content));
		unlink("r.json.p7s");
		CU_ASSERT_EQUAL_FATAL(sign_as(name, "r.json"), CUSTOS_OK);
		CU_ASSERT_EQUAL(verify_with(&v, "r.json", pem), CUSTOS_OK);
		CU_ASSERT_FATAL(v != NULL);
		CU_ASSERT_EQUAL(custos_sign_verification_result(v),
			CUSTOS_SIGN_OK);
		CU_ASSERT_STRING_EQUAL(custos_cert_common_name(
			custos_sign_verification_signer(v)), name);
		CU_ASSERT_PTR_NOT_NULL(custos_sign_verification_signing_time(v));
		CU_ASSERT_STRING_EQUAL(custos_sign_verification_digest(v),
			"sha256");
		CU_ASSERT(custos_sign_verification_cades(v));
		CU_ASSERT_EQUAL(custos_sign_verification_timestamp_count(v), 0);
		CU_ASSERT_EQUAL(custos_sign_verification_to_json(&json, v,
			NULL), CUSTOS_OK);
		CU_ASSERT(json != NULL && strstr(json, "\"VERIFIED\"") != NULL);
		free(json);
		custos_sign_verification_free(v);
	}
}

static void expect_failure(const char *file, const char *trust,
		custos_sign_check want)
{
	custos_sign_verification *v = NULL;

	CU_ASSERT_EQUAL(verify_with(&v, file, trust), CUSTOS_EMISMATCH);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(custos_sign_verification_result(v), want);
	if (custos_sign_verification_result(v) != want)
		fprintf(stderr, "got %s: %s\n", custos_sign_check_name(
			custos_sign_verification_result(v)),
			custos_sign_verification_message(v));
	custos_sign_verification_free(v);
}

static void test_failed_checks(void)
{
	unsigned char *sig;
	size_t len = 0;

	identity("alice", CUSTOS_KEY_ECDSA_P256, NULL);
	identity("mallory", CUSTOS_KEY_ECDSA_P256, NULL);
	harness_write_file("a.json", content, strlen(content));
	CU_ASSERT_EQUAL_FATAL(sign_as("alice", "a.json"), CUSTOS_OK);
	sig = harness_read_file("a.json.p7s", &len);
	CU_ASSERT_FATAL(sig != NULL && len > 100);

	/* A changed file. */
	harness_write_file("b.json", content, strlen(content) - 2);
	harness_write_file("b.json.p7s", sig, len);
	expect_failure("b.json", "alice.pem", CUSTOS_SIGN_CONTENT_CHANGED);
	/* Another signer's CA. */
	expect_failure("a.json", "mallory.pem", CUSTOS_SIGN_UNTRUSTED);
	/* Truncated, garbage, trailing bytes. */
	harness_write_file("c.json", content, strlen(content));
	harness_write_file("c.json.p7s", sig, len / 2);
	expect_failure("c.json", "alice.pem", CUSTOS_SIGN_MALFORMED);
	harness_write_file("c.json.p7s", "garbage garbage garbage", 23);
	expect_failure("c.json", "alice.pem", CUSTOS_SIGN_MALFORMED);
	harness_write_file("c.json.p7s", "", 0);
	expect_failure("c.json", "alice.pem", CUSTOS_SIGN_MALFORMED);
	{
		unsigned char *longer = malloc(len + 1);

		CU_ASSERT_FATAL(longer != NULL);
		memcpy(longer, sig, len);
		longer[len] = 0;
		harness_write_file("c.json.p7s", longer, len + 1);
		expect_failure("c.json", "alice.pem", CUSTOS_SIGN_MALFORMED);
		free(longer);
	}
	/* One flipped bit in the signature value (its last bytes). */
	sig[len - 3] ^= 0x01;
	harness_write_file("c.json.p7s", sig, len);
	{
		custos_sign_verification *v = NULL;

		CU_ASSERT_EQUAL(verify_with(&v, "c.json", "alice.pem"),
			CUSTOS_EMISMATCH);
		CU_ASSERT(v != NULL && custos_sign_verification_result(v) !=
			CUSTOS_SIGN_OK);
		custos_sign_verification_free(v);
	}
	/* Nothing to verify. */
	harness_write_file("d.json", content, strlen(content));
	expect_failure("d.json", "alice.pem", CUSTOS_SIGN_MISSING);
	free(sig);
}

static void test_operational_errors(void)
{
	custos_sign_verification *v = (custos_sign_verification *)&v;
	custos_sign_options o;
	custos_error err;

	CU_ASSERT_EQUAL(verify_with(&v, "missing.json", "x.pem"),
		CUSTOS_ENOTFOUND);
	CU_ASSERT_PTR_NULL(v);
	identity("bob", CUSTOS_KEY_ECDSA_P256, NULL);
	identity("eve", CUSTOS_KEY_ED25519, NULL);
	harness_write_file("e.json", content, strlen(content));
	/* A key that is not the certificate's. */
	custos_sign_options_init(&o);
	o.key_path = "eve.key";
	o.cert_path = "bob.pem";
	CU_ASSERT_EQUAL(custos_sign_file("e.json", &o, &err), CUSTOS_EINVAL);
	/* Ed25519 cannot make a CMS signature OpenSSL checks. */
	o.cert_path = "eve.pem";
	CU_ASSERT_EQUAL(custos_sign_file("e.json", &o, &err), CUSTOS_EINVAL);
	CU_ASSERT(strstr(err.message, "Ed25519") != NULL);
	CU_ASSERT_EQUAL(access("e.json.p7s", F_OK), -1);
	/* Never overwrite. */
	CU_ASSERT_EQUAL(sign_as("bob", "e.json"), CUSTOS_OK);
	CU_ASSERT_EQUAL(sign_as("bob", "e.json"), CUSTOS_EEXIST);
	/* Missing key or certificate. */
	o.key_path = NULL;
	CU_ASSERT_EQUAL(custos_sign_file("e.json", &o, NULL), CUSTOS_EINVAL);
	o.version = 7;
	o.key_path = "bob.key";
	CU_ASSERT_EQUAL(custos_sign_file("e.json", &o, NULL), CUSTOS_EINVAL);
	custos_sign_verification_free(NULL);
}

typedef struct pass_ctx {
	const char *give;
	int calls;
} pass_ctx;

static int give_pass(char *buf, size_t cap, void *ctx)
{
	pass_ctx *p = ctx;
	size_t n = strlen(p->give);

	p->calls++;
	if (n > cap)
		return -1;
	memcpy(buf, p->give, n);
	return (int)n;
}

static void test_encrypted_key(void)
{
	custos_sign_options o;
	pass_ctx pc = {"TEST-pass", 0};
	custos_error err;

	identity("carol", CUSTOS_KEY_ECDSA_P256, "TEST-pass");
	harness_write_file("f.json", content, strlen(content));
	custos_sign_options_init(&o);
	o.key_path = "carol.key";
	o.cert_path = "carol.pem";
	CU_ASSERT_EQUAL(custos_sign_file("f.json", &o, &err), CUSTOS_EINVAL);
	CU_ASSERT(strstr(err.message, "encrypted") != NULL);
	pc.give = "wrong";
	o.passphrase = give_pass;
	o.passphrase_ctx = &pc;
	CU_ASSERT_EQUAL(custos_sign_file("f.json", &o, &err), CUSTOS_EACCES);
	pc.give = "TEST-pass";
	pc.calls = 0;
	CU_ASSERT_EQUAL(custos_sign_file("f.json", &o, &err), CUSTOS_OK);
	CU_ASSERT_EQUAL(pc.calls, 1);
	/* An unencrypted key never asks. */
	identity("dave", CUSTOS_KEY_ECDSA_P256, NULL);
	harness_write_file("g.json", content, strlen(content));
	o.key_path = "dave.key";
	o.cert_path = "dave.pem";
	pc.calls = 0;
	CU_ASSERT_EQUAL(custos_sign_file("g.json", &o, &err), CUSTOS_OK);
	CU_ASSERT_EQUAL(pc.calls, 0);
}

static void test_tsa_errors(void)
{
	custos_tsa_options t;
	custos_sign_options o;
	custos_error err;

	harness_write_file("h.json", content, strlen(content));
	custos_tsa_options_init(&t);
	t.url = "ftp://127.0.0.1/tsa";
	CU_ASSERT_EQUAL(custos_timestamp_file("h.json", &t, &err),
		CUSTOS_EINVAL);
	t.url = "http://127.0.0.1:1/tsa"; /* nothing listens on port 1 */
	t.timeout = 5;
	CU_ASSERT_EQUAL(custos_timestamp_file("h.json", &t, &err), CUSTOS_EIO);
	CU_ASSERT(strstr(err.message, "cannot reach the TSA") != NULL);
	CU_ASSERT_EQUAL(access("h.json.tsr", F_OK), -1);
	identity("erin", CUSTOS_KEY_ECDSA_P256, NULL);
	custos_sign_options_init(&o);
	o.key_path = "erin.key";
	o.cert_path = "erin.pem";
	o.tsa_url = t.url;
	o.tsa_timeout = 5;
	CU_ASSERT_EQUAL(custos_sign_file("h.json", &o, &err), CUSTOS_EIO);
	CU_ASSERT_EQUAL(access("h.json.p7s", F_OK), -1);
}

/* Sign name's file with an explicit digest choice (AUTO: the key's own). */
static custos_status sign_digest(const char *name, const char *file,
		custos_sign_digest digest, custos_error *err)
{
	custos_sign_options o;
	char key[64], pem[64];

	custos_sign_options_init(&o);
	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(pem, sizeof(pem), "%s.pem", name);
	o.key_path = key;
	o.cert_path = pem;
	o.digest = digest;
	return custos_sign_file(file, &o, err);
}

static void expect_digest(const char *file, const char *trust,
		const char *want)
{
	custos_sign_verification *v = NULL;

	CU_ASSERT_EQUAL(verify_with(&v, file, trust), CUSTOS_OK);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_STRING_EQUAL(custos_sign_verification_digest(v), want);
	custos_sign_verification_free(v);
}

/* RFC 5753 pairs each curve with its digest; RSA-PSS takes any SHA-2. */
static void test_digest_per_key(void)
{
	static const struct {
		custos_key_type type;
		const char *name, *own, *other;
		custos_sign_digest own_d, other_d;
	} keys[] = {
		{CUSTOS_KEY_ECDSA_P256, "p256", "sha256", "sha384",
		 CUSTOS_SIGN_DIGEST_SHA256, CUSTOS_SIGN_DIGEST_SHA384},
		{CUSTOS_KEY_ECDSA_P384, "p384", "sha384", "sha256",
		 CUSTOS_SIGN_DIGEST_SHA384, CUSTOS_SIGN_DIGEST_SHA256},
		{CUSTOS_KEY_ECDSA_P521, "p521", "sha512", "sha384",
		 CUSTOS_SIGN_DIGEST_SHA512, CUSTOS_SIGN_DIGEST_SHA384},
	};
	custos_error err;

	harness_write_file("dg.json", content, strlen(content));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char pem[32];

		snprintf(pem, sizeof(pem), "%s.pem", keys[i].name);
		identity(keys[i].name, keys[i].type, NULL);
		unlink("dg.json.p7s");
		/* By default, the curve's own digest. */
		CU_ASSERT_EQUAL_FATAL(sign_digest(keys[i].name, "dg.json",
			CUSTOS_SIGN_DIGEST_AUTO, &err), CUSTOS_OK);
		expect_digest("dg.json", pem, keys[i].own);
		/* Asked for explicitly: the same. */
		unlink("dg.json.p7s");
		CU_ASSERT_EQUAL(sign_digest(keys[i].name, "dg.json",
			keys[i].own_d, &err), CUSTOS_OK);
		expect_digest("dg.json", pem, keys[i].own);
		/* Another digest contradicts the curve: refused, no file. */
		unlink("dg.json.p7s");
		CU_ASSERT_EQUAL(sign_digest(keys[i].name, "dg.json",
			keys[i].other_d, &err), CUSTOS_EINVAL);
		CU_ASSERT(strstr(err.message, keys[i].own) != NULL);
		CU_ASSERT_EQUAL(access("dg.json.p7s", F_OK), -1);
	}
	/* RSA-PSS: SHA-256 by default, SHA-384 and SHA-512 on request. */
	identity("rsa", CUSTOS_KEY_RSA_3072, NULL);
	unlink("dg.json.p7s");
	CU_ASSERT_EQUAL(sign_digest("rsa", "dg.json", CUSTOS_SIGN_DIGEST_AUTO,
		&err), CUSTOS_OK);
	expect_digest("dg.json", "rsa.pem", "sha256");
	unlink("dg.json.p7s");
	CU_ASSERT_EQUAL(sign_digest("rsa", "dg.json",
		CUSTOS_SIGN_DIGEST_SHA384, &err), CUSTOS_OK);
	expect_digest("dg.json", "rsa.pem", "sha384");
	unlink("dg.json.p7s");
	CU_ASSERT_EQUAL(sign_digest("rsa", "dg.json",
		CUSTOS_SIGN_DIGEST_SHA512, &err), CUSTOS_OK);
	expect_digest("dg.json", "rsa.pem", "sha512");
	/* A value that is no digest (an old custos_digest_alg) is refused. */
	unlink("dg.json.p7s");
	CU_ASSERT_EQUAL(sign_digest("rsa", "dg.json", (custos_sign_digest)2,
		&err), CUSTOS_EINVAL);
	/* Names both ways. */
	CU_ASSERT_STRING_EQUAL(custos_sign_digest_name(
		CUSTOS_SIGN_DIGEST_SHA384), "sha384");
	CU_ASSERT_PTR_NULL(custos_sign_digest_name((custos_sign_digest)7));
	{
		custos_sign_digest d = CUSTOS_SIGN_DIGEST_AUTO;

		CU_ASSERT_EQUAL(custos_sign_digest_parse(&d, "sha512", NULL),
			CUSTOS_OK);
		CU_ASSERT_EQUAL(d, CUSTOS_SIGN_DIGEST_SHA512);
		CU_ASSERT_EQUAL(custos_sign_digest_parse(&d, "sha1", NULL),
			CUSTOS_EINVAL);
		CU_ASSERT_EQUAL(custos_sign_digest_parse(&d, "auto", NULL),
			CUSTOS_OK);
		CU_ASSERT_EQUAL(d, CUSTOS_SIGN_DIGEST_AUTO);
	}
}

static void test_check_names(void)
{
	CU_ASSERT_STRING_EQUAL(custos_sign_check_name(CUSTOS_SIGN_OK), "ok");
	CU_ASSERT_STRING_EQUAL(custos_sign_check_name(
		CUSTOS_SIGN_CONTENT_CHANGED), "content-changed");
	CU_ASSERT_STRING_EQUAL(custos_sign_check_name(
		CUSTOS_SIGN_TIMESTAMP_MISMATCH), "timestamp-mismatch");
	CU_ASSERT_STRING_EQUAL(custos_sign_check_name((custos_sign_check)99),
		"unknown");
}

static const harness_test tests[] = {
	{"sign and verify (ECDSA, RSA-PSS)", test_round_trip},
	{"each failed check", test_failed_checks},
	{"operational errors", test_operational_errors},
	{"encrypted key and passphrase callback", test_encrypted_key},
	{"TSA client errors without a TSA", test_tsa_errors},
	{"each curve with its own digest (RFC 5753)", test_digest_per_key},
	{"check names", test_check_names},
};

HARNESS_MAIN("sign", tests)
