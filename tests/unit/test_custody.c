/*
 * Custody module: a log made and added to through the library, verified,
 * tampered with, proven, recovered.  The identities are self-signed keys
 * made here and trusted as their own CA.  (Every tamper case against the
 * TEST-ONLY PKI, and the reference verifier: tests/cli/log.sh.)
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "custos/custody.h"
#include "custos/key.h"
#include "custos/merkle.h"
#include "harness.h"

static const char *const trust[] = {"clerk.pem"};

static void make_log(custos_custody_actor_options *a)
{
	custos_key_options o;
	custos_custody_event ev;
	const char *item = "HD-01";
	custos_error err;

	custos_key_options_init(&o);
	o.name = "Test Clerk";
	CU_ASSERT_EQUAL_FATAL(custos_key_new("clerk.key", "clerk.pem", &o,
		NULL), CUSTOS_OK);
	custos_custody_actor_options_init(a);
	a->key_path = "clerk.key";
	a->cert_path = "clerk.pem";
	a->role = "Clerk";
	CU_ASSERT_EQUAL_FATAL(custos_custody_init("log", "test.example/unit",
		"secret/log.key", trust, 1, NULL, a, &err), CUSTOS_OK);
	custos_custody_event_init(&ev);
	ev.type = "sealed";
	ev.items = &item;
	ev.item_count = 1;
	ev.fields_json = "{\"seal_id\":\"S-1\"}";
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL_FATAL(custos_custody_append(NULL, NULL, "log",
			&ev, a, &err), CUSTOS_OK);
}

static custos_status verify(custos_custody_verification **v)
{
	custos_custody_verify_options o;

	custos_custody_verify_options_init(&o);
	return custos_custody_verify(v, "log", &o, NULL);
}

static void test_init_append_verify(void)
{
	custos_custody_actor_options a;
	custos_custody_verification *v = NULL;
	custos_custody_event ev;
	struct stat sb;
	uint64_t seq = 0;
	char *root = NULL;

	make_log(&a);
	CU_ASSERT(stat("secret/log.key", &sb) == 0 &&
		(sb.st_mode & 0777) == 0600);
	CU_ASSERT_EQUAL(verify(&v), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_verification_records(v), 6);
	CU_ASSERT_EQUAL(custos_custody_verification_problem_count(v), 0);
	custos_custody_verification_free(v);

	custos_custody_event_init(&ev);
	ev.type = "teleported";
	CU_ASSERT_EQUAL(custos_custody_append(NULL, NULL, "log", &ev, &a,
		NULL), CUSTOS_EINVAL);
	ev.type = "genesis";
	CU_ASSERT_EQUAL(custos_custody_append(NULL, NULL, "log", &ev, &a,
		NULL), CUSTOS_EINVAL);
	ev.type = "accessed";
	ev.fields_json = "{\"ratio\": 0.5}";
	CU_ASSERT_EQUAL(custos_custody_append(NULL, NULL, "log", &ev, &a,
		NULL), CUSTOS_EINVAL);
	ev.fields_json = NULL;
	CU_ASSERT_EQUAL(custos_custody_append(&seq, &root, "log", &ev, &a,
		NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(seq, 6);
	CU_ASSERT_PTR_NOT_NULL(root);
	CU_ASSERT_EQUAL(verify(&v), CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(custos_custody_verification_root(v), root);
	custos_custody_verification_free(v);
	free(root);
}

static void test_tamper(void)
{
	custos_custody_actor_options a;
	custos_custody_verification *v = NULL;
	unsigned char *log;
	size_t len;
	char *p;

	make_log(&a);
	log = harness_read_file("log/log.jsonl", &len);
	CU_ASSERT_FATAL(log != NULL);
	p = strstr((char *)log, "S-1");
	CU_ASSERT_FATAL(p != NULL);
	p[2] = '2';
	harness_write_file("log/log.jsonl", log, len);
	free(log);
	CU_ASSERT_EQUAL(verify(&v), CUSTOS_EMISMATCH);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT(custos_custody_verification_problem_count(v) >= 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(custos_custody_verification_problem(v,
		0), "record 1: signature"));
	custos_custody_verification_free(v);
}

static void test_proofs(void)
{
	custos_custody_actor_options a;
	char *proof = NULL, *summary = NULL, *vkey;
	unsigned char *vk;
	size_t len;

	make_log(&a);
	CU_ASSERT_EQUAL(custos_custody_prove_inclusion(&proof, "log", 3, NULL,
		NULL), CUSTOS_ENOTFOUND); /* only checkpoints/1.note so far */
	CU_ASSERT_EQUAL_FATAL(custos_custody_checkpoint(NULL, "log",
		"secret/log.key", NULL, NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL_FATAL(custos_custody_prove_inclusion(&proof, "log", 3,
		NULL, NULL), CUSTOS_OK);
	vk = harness_read_file("log/keys/log.vkey", &len);
	CU_ASSERT_FATAL(vk != NULL && len > 1);
	vk[len - 1] = '\0';
	vkey = (char *)vk;
	CU_ASSERT_EQUAL(custos_custody_check_proof(&summary, proof,
		strlen(proof), vkey, NULL), CUSTOS_OK);
	CU_ASSERT_PTR_NOT_NULL(summary != NULL ? strstr(summary, "record 3")
					       : NULL);
	free(summary);
	free(proof);
	CU_ASSERT_EQUAL_FATAL(custos_custody_prove_consistency(&proof, "log",
		1, 6, NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_check_proof(NULL, proof, strlen(proof),
		vkey, NULL), CUSTOS_OK);
	/* Another key refuses it. */
	vkey[5] = vkey[5] == 'a' ? 'b' : 'a';
	CU_ASSERT_NOT_EQUAL(custos_custody_check_proof(NULL, proof,
		strlen(proof), vkey, NULL), CUSTOS_OK);
	free(proof);
	free(vk);
}

static void test_torn_line(void)
{
	custos_custody_actor_options a;
	custos_custody_verification *v = NULL;
	int fd, recovered = 0;

	make_log(&a);
	fd = open("log/log.jsonl", O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "{\"torn", 6) == 6);
	close(fd);
	CU_ASSERT_EQUAL(verify(&v), CUSTOS_EMISMATCH);
	custos_custody_verification_free(v);
	CU_ASSERT_EQUAL(custos_custody_recover(&recovered, "log", &a, NULL),
		CUSTOS_OK);
	CU_ASSERT_EQUAL(recovered, 1);
	CU_ASSERT_EQUAL(verify(&v), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_verification_records(v), 7);
	custos_custody_verification_free(v);
	CU_ASSERT_EQUAL(custos_custody_recover(&recovered, "log", &a, NULL),
		CUSTOS_OK);
	CU_ASSERT_EQUAL(recovered, 0);
}

/* Untrusted text is escaped whole: nothing dropped, no byte cut, no raw
 * control, C1 or bidi control or invalid byte left; valid accented text is
 * kept as it is. */
static void test_safe_text(void)
{
	static const char in[] = "ok \xff\xc3\xa9\x1b[31m\\ \xc2\x9b."
		"\xe2\x80\xae";
	char *out = NULL;

	CU_ASSERT_EQUAL_FATAL(custos_custody_safe_text(&out, in,
		sizeof(in) - 1), CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(out, "ok \\xff\xc3\xa9\\x1b[31m\\\\ "
		"\\u009b.\\u202e");
	free(out);
	CU_ASSERT_EQUAL_FATAL(custos_custody_safe_text(&out, "", 0),
		CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
}

/* Extra fields: a key given twice, or contradicting itself across
 * sources, is refused; the last value never wins. */
static void test_fields_once(void)
{
	const char *twice[] = {"seal_id=S-1", "seal_id=S-2"};
	const char *once[] = {"seal_id=S-1", "note2=x"};
	char *out = NULL;

	CU_ASSERT_EQUAL(custos_custody_fields_build(&out, NULL, twice, 2,
		NULL), CUSTOS_EINVAL);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL_FATAL(custos_custody_fields_build(&out, NULL, once, 2,
		NULL), CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(out, "{\"note2\":\"x\",\"seal_id\":\"S-1\"}");
	free(out);
}

static const harness_test tests[] = {
	{"untrusted text is escaped whole", test_safe_text},
	{"extra fields are given once", test_fields_once},
	{"init, append, verify", test_init_append_verify},
	{"a changed byte is found", test_tamper},
	{"inclusion and consistency proofs", test_proofs},
	{"a torn line is quarantined and recorded", test_torn_line},
};

HARNESS_MAIN("custody", tests)
