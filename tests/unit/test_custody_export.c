/*
 * Custody exports (metadata/custody.jsonl): a log made through the library
 * with the TEST-ONLY identities of samples/pki, checkpointed, exported for
 * one item and checked without the log; then every tamper case, each of
 * which must fail: a changed record, a dropped record, swapped
 * signatures, proofs for another tree, a checkpoint by another key, a
 * repeated header or key, a forged inserted record, the wrong CA.
 */
#include <string.h>

#include <openssl/evp.h>

#include "custos/custody.h"
#include "custos/custody_export.h"
#include "custos/note.h"
#include "harness.h"

#define PKI CUSTOS_SOURCE_ROOT "/samples/pki/"
#define CORPUS CUSTOS_SOURCE_ROOT \
	"/tests/fuzz/corpus/custody-export/hd-01.jsonl"

static const char *const ca[] = {PKI "ca.pem"};
static const char *const other_ca[] = {PKI "other-ca.pem"};
static const char *const hd01[] = {"HD-01"};
static const char *const hd02[] = {"HD-02"};

static void actor(custos_custody_actor_options *a, const char *who,
		const char *role)
{
	static char key[512], cert[512];

	custos_custody_actor_options_init(a);
	snprintf(key, sizeof(key), PKI "%s.key", who);
	snprintf(cert, sizeof(cert), PKI "%s.pem", who);
	a->key_path = strdup(key);
	a->cert_path = strdup(cert);
	a->role = role;
}

static void append(const char *type, const char *item, const char *fields,
		const custos_custody_actor_options *a)
{
	custos_custody_event ev;
	custos_error err;

	custos_custody_event_init(&ev);
	ev.type = type;
	ev.items = &item;
	ev.item_count = 1;
	ev.case_ref = "DEMO-2026-001";
	ev.fields_json = fields;
	CU_ASSERT_EQUAL_FATAL(custos_custody_append(NULL, NULL, "log", &ev, a,
		&err), CUSTOS_OK);
}

/* The SHA-256 (hex) of line seq of the log, with its LF. */
static void line_hash(char out[65], uint64_t seq)
{
	size_t len;
	unsigned char *log = harness_read_file("log/log.jsonl", &len), md[32];
	unsigned int mdlen = 32;
	char *p = (char *)log, *nl;

	CU_ASSERT_FATAL(log != NULL);
	for (uint64_t i = 0; i < seq; i++)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	EVP_Digest(p, (size_t)(nl - p) + 1, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(log);
}

/*
 * 0 genesis, 1 sealed HD-01, 2 sealed HD-02, 3 released HD-01 (examiner),
 * 4 received HD-01 answering 3 (prosecutor), 5 accessed HD-02,
 * 6 accessed HD-01; checkpoint of 7.
 */
static void make_log(void)
{
	custos_custody_actor_options ex, pr;
	custos_error err;
	char fields[256], h[65];

	actor(&ex, "examiner", "Forensic Examiner");
	actor(&pr, "prosecutor", "Public Prosecutor");
	CU_ASSERT_EQUAL_FATAL(custos_custody_init("log", "test.example/export",
		"secret/log.key", ca, 1, NULL, &ex, &err), CUSTOS_OK);
	append("sealed", "HD-01", "{\"seal_id\":\"S-1\"}", &ex);
	append("sealed", "HD-02", "{\"seal_id\":\"S-2\"}", &ex);
	append("released", "HD-01", "{\"to\":\"Test Prosecutor\","
		"\"purpose\":\"trial\"}", &ex);
	line_hash(h, 3);
	snprintf(fields, sizeof(fields), "{\"answers\":{\"seq\":3,"
		"\"sha256\":\"%s\"},\"seal_state\":\"intact\"}", h);
	append("received", "HD-01", fields, &pr);
	append("accessed", "HD-02", NULL, &ex);
	append("accessed", "HD-01", "{\"purpose\":\"review\"}", &pr);
	CU_ASSERT_EQUAL_FATAL(custos_custody_checkpoint(NULL, "log",
		"secret/log.key", NULL, &err), CUSTOS_OK);
	free((char *)ex.key_path);
	free((char *)ex.cert_path);
	free((char *)pr.key_path);
	free((char *)pr.cert_path);
}

static char *export_of(const char *const *items, size_t *len)
{
	char *out = NULL;
	custos_error err;

	CU_ASSERT_EQUAL_FATAL(custos_custody_export(&out, len, "log", items,
		1, &err), CUSTOS_OK);
	return out;
}

static custos_status check(custos_custody_export_verification **v,
		const char *buf, const char *const *trust, const char *vkey)
{
	custos_custody_export_verify_options o;

	custos_custody_export_verify_options_init(&o);
	o.trust = trust;
	o.trust_count = trust != NULL ? 1 : 0;
	o.vkey = vkey;
	*v = NULL;
	return custos_custody_export_verify(v, buf, strlen(buf), &o, NULL);
}

/* Expect the bytes to fail with st and a problem containing want. */
static void expect_fail(const char *buf, custos_status want_st,
		const char *want)
{
	custos_custody_export_verification *v = NULL;
	custos_custody_export_verify_options o;
	custos_error err;
	custos_status st;
	int found = 0;

	custos_custody_export_verify_options_init(&o);
	o.trust = ca;
	o.trust_count = 1;
	st = custos_custody_export_verify(&v, buf, strlen(buf), &o, &err);
	CU_ASSERT_EQUAL(st, want_st);
	if (st != want_st)
		fprintf(stderr, "\n  got %d (%s), wanted %d [%s]\n", st,
			err.message, want_st, want);
	if (st == CUSTOS_EMISMATCH) {
		CU_ASSERT_FATAL(v != NULL);
		CU_ASSERT_EQUAL(custos_custody_export_verification_status(v),
			CUSTOS_CUSTODY_EXPORT_FAILED);
		for (size_t i = 0; i <
		     custos_custody_export_verification_problem_count(v); i++)
			if (strstr(custos_custody_export_verification_problem(
					v, i), want) != NULL)
				found = 1;
	} else {
		CU_ASSERT_PTR_NULL(v);
		found = strstr(err.message, want) != NULL;
	}
	if (!found)
		fprintf(stderr, "\n  no problem says \"%s\" (first: %s)\n", want,
			err.message);
	CU_ASSERT(found);
	custos_custody_export_verification_free(v);
}

/* The start of line k (0: the header) of buf. */
static char *line_at(char *buf, int k)
{
	for (int i = 0; i < k && buf != NULL; i++) {
		buf = strchr(buf, '\n');
		buf = buf != NULL ? buf + 1 : NULL;
	}
	CU_ASSERT_FATAL(buf != NULL && *buf != '\0');
	return buf;
}

static size_t line_len(const char *l)
{
	return strcspn(l, "\n") + 1;
}

/* buf with line k removed (new string). */
static char *without_line(const char *buf, int k)
{
	char *c = strdup(buf), *l = line_at(c, k);

	memmove(l, l + line_len(l), strlen(l + line_len(l)) + 1);
	return c;
}

/* buf with text inserted before line k, or at the end after its last
 * line (new string). */
static char *with_line(const char *buf, int k, const char *text, size_t n)
{
	size_t len = strlen(buf), at = 0;
	char *c = malloc(len + n + 1);

	for (int i = 0; i < k; i++)
		at += strcspn(buf + at, "\n") + 1;
	CU_ASSERT_FATAL(c != NULL && at <= len);
	memcpy(c, buf, at);
	memcpy(c + at, text, n);
	memcpy(c + at + n, buf + at, len - at + 1);
	return c;
}

/* The value of "key":"..." in a line, as [*start, *end). */
static void str_value(char *line, const char *key, char **start, char **end)
{
	char pat[32];

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	*start = strstr(line, pat);
	CU_ASSERT_FATAL(*start != NULL);
	*start += strlen(pat);
	*end = strchr(*start, '"');
	while (*end != NULL && (*end)[-1] == '\\')
		*end = strchr(*end + 1, '"');
	CU_ASSERT_FATAL(*end != NULL);
}

/* A new string: buf with [start, end) replaced by n bytes of repl. */
static char *splice(const char *buf, const char *start, const char *end,
		const char *repl, size_t n)
{
	size_t head = (size_t)(start - buf), tail = strlen(end);
	char *c = malloc(head + n + tail + 1);

	CU_ASSERT_FATAL(c != NULL);
	memcpy(c, buf, head);
	memcpy(c + head, repl, n);
	memcpy(c + head + n, end, tail + 1);
	return c;
}

static char *vkey_text(void)
{
	size_t len;
	char *vk = (char *)harness_read_file("log/keys/log.vkey", &len);

	CU_ASSERT_FATAL(vk != NULL);
	vk[strcspn(vk, "\n")] = '\0';
	return vk;
}

static void test_export_verify(void)
{
	custos_custody_export_verification *v = NULL;
	static const uint64_t want[] = {0, 1, 3, 4, 6};
	static const char *const types[] = {"genesis", "sealed", "released",
		"received", "accessed"};
	size_t len, llen;
	char *buf, *vk;

	make_log();
	buf = export_of(hd01, &len);
	CU_ASSERT_EQUAL(strlen(buf), len);
	harness_write_file("hd-01.jsonl", buf, len);
	vk = vkey_text();
	CU_ASSERT_EQUAL_FATAL(check(&v, buf, ca, vk), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_export_verification_status(v),
		CUSTOS_CUSTODY_EXPORT_VERIFIED);
	CU_ASSERT_EQUAL(custos_custody_export_verification_checkpoint_size(v),
		7);
	CU_ASSERT_STRING_EQUAL(custos_custody_export_verification_origin(v),
		"test.example/export");
	CU_ASSERT_STRING_EQUAL(custos_custody_export_verification_log_key(v),
		vk);
	CU_ASSERT_EQUAL_FATAL(
		custos_custody_export_verification_record_count(v), 5);
	for (size_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(custos_custody_export_verification_record_seq(
			v, i), want[i]);
		CU_ASSERT_STRING_EQUAL(
			custos_custody_export_verification_record_type(v, i),
			types[i]);
		CU_ASSERT_PTR_NULL(
			custos_custody_export_verification_record_problem(v,
				i));
		CU_ASSERT(custos_custody_export_verification_record_listed(v,
			i));
	}
	CU_ASSERT_STRING_EQUAL(
		custos_custody_export_verification_record_item(v, 1, 0),
		"HD-01");
	CU_ASSERT_STRING_EQUAL(
		custos_custody_export_verification_record_actor(v, 3),
		"Test Prosecutor");
	CU_ASSERT_PTR_NOT_NULL(strstr(
		custos_custody_export_verification_record_signer(v, 3),
		"CN=Test Prosecutor"));
	CU_ASSERT(custos_custody_export_verification_record_line(v, 2,
		&llen)[llen - 1] == '\n');
	CU_ASSERT_EQUAL(custos_custody_export_verification_problem_count(v),
		0);
	custos_custody_export_verification_free(v);

	/* The same again; without trust it is incomplete, not verified. */
	CU_ASSERT_EQUAL(check(&v, buf, ca, NULL), CUSTOS_OK);
	custos_custody_export_verification_free(v);
	CU_ASSERT_EQUAL(check(&v, buf, NULL, NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_export_verification_status(v),
		CUSTOS_CUSTODY_EXPORT_INCOMPLETE);
	custos_custody_export_verification_free(v);
	free(vk);
	free(buf);
}

static void test_export_refusals(void)
{
	custos_custody_actor_options ex;
	static const char *const none[] = {"XX-99"};
	static const char *const twice[] = {"HD-01", "HD-01"};
	char *out = NULL;
	size_t len;
	custos_error err;
	unsigned char *log;

	make_log();
	CU_ASSERT_EQUAL(custos_custody_export(&out, &len, "log", none, 1,
		&err), CUSTOS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "XX-99"));
	CU_ASSERT_EQUAL(custos_custody_export(&out, &len, "log", twice, 2,
		&err), CUSTOS_EINVAL);
	CU_ASSERT_EQUAL(custos_custody_export(&out, &len, "log", hd01, 0,
		&err), CUSTOS_EINVAL);
	/* A record beyond the latest checkpoint names the item. */
	actor(&ex, "examiner", "Forensic Examiner");
	append("accessed", "HD-01", NULL, &ex);
	free((char *)ex.key_path);
	free((char *)ex.cert_path);
	CU_ASSERT_EQUAL(custos_custody_export(&out, &len, "log", hd01, 1,
		&err), CUSTOS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "custos-log checkpoint"));
	/* ...but HD-02's history is all inside it. */
	CU_ASSERT_EQUAL(custos_custody_export(&out, &len, "log", hd02, 1,
		&err), CUSTOS_OK);
	free(out);
	out = NULL;
	/* A log that does not verify exports nothing. */
	log = harness_read_file("log/log.jsonl", &len);
	CU_ASSERT_FATAL(log != NULL);
	*(strstr((char *)log, "S-2") + 2) = '3';
	harness_write_file("log/log.jsonl", log, len);
	free(log);
	CU_ASSERT_EQUAL(custos_custody_export(&out, &len, "log", hd02, 1,
		&err), CUSTOS_EMISMATCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "does not verify"));
	CU_ASSERT_PTR_NULL(out);
}

static void test_changed_record(void)
{
	size_t len;
	char *buf, *l;

	make_log();
	buf = export_of(hd01, &len);
	l = line_at(buf, 2); /* record 1, sealed S-1 */
	l = strstr(l, "S-1");
	CU_ASSERT_FATAL(l != NULL && l < line_at(buf, 3));
	l[2] = '9';
	expect_fail(buf, CUSTOS_EMISMATCH, "inclusion proof does not lead");
	free(buf);
}

static void test_dropped_record(void)
{
	size_t len;
	char *buf, *c, *h, *s;

	make_log();
	buf = export_of(hd01, &len);
	c = without_line(buf, 2); /* record 1 */
	expect_fail(c, CUSTOS_EMISMATCH, "record 1, listed in the header, "
		"is missing");
	free(c);
	/* Dropped from the header too: the received still needs record 3. */
	c = without_line(buf, 3);
	h = strstr(c, "\"records\":[0,1,3,4,6]");
	CU_ASSERT_FATAL(h != NULL);
	s = strstr(h, "3,");
	memmove(s, s + 2, strlen(s + 2) + 1);
	expect_fail(c, CUSTOS_EMISMATCH, "which the export leaves out");
	free(c);
	free(buf);
}

static void test_swapped_signatures(void)
{
	size_t len;
	char *buf, *a0, *a1, *b0, *b1, *c;

	make_log();
	buf = export_of(hd01, &len);
	str_value(line_at(buf, 2), "sig", &a0, &a1); /* record 1 */
	str_value(line_at(buf, 5), "sig", &b0, &b1); /* record 6 */
	/* Rebuild with the two signatures exchanged. */
	c = malloc(len + 1);
	{
		size_t o = 0;

#define PUT(p, n) (memcpy(c + o, (p), (size_t)(n)), o += (size_t)(n))
		PUT(buf, a0 - buf);
		PUT(b0, b1 - b0);
		PUT(a1, b0 - a1);
		PUT(a0, a1 - a0);
		PUT(b1, buf + len - b1);
#undef PUT
		c[o] = '\0';
	}
	expect_fail(c, CUSTOS_EMISMATCH, "signature does not match");
	free(c);
	free(buf);
}

static void test_other_tree(void)
{
	custos_custody_actor_options ex;
	size_t len, len2;
	char *old, *now, *c, *h;
	custos_error err;

	make_log();
	old = export_of(hd01, &len);
	actor(&ex, "examiner", "Forensic Examiner");
	append("accessed", "HD-01", NULL, &ex);
	free((char *)ex.key_path);
	free((char *)ex.cert_path);
	CU_ASSERT_EQUAL_FATAL(custos_custody_checkpoint(NULL, "log",
		"secret/log.key", NULL, &err), CUSTOS_OK);
	now = export_of(hd01, &len2);
	/* Record 1 with its proof for 8 records, in the export for 7. */
	c = without_line(old, 2);
	h = with_line(c, 2, line_at(now, 2), line_len(line_at(now, 2)));
	expect_fail(h, CUSTOS_EMISMATCH, "record 1: its inclusion proof");
	free(c);
	free(h);
	/* The newer header over the older records and proofs. */
	c = without_line(old, 0);
	h = with_line(c, 0, now, line_len(now));
	expect_fail(h, CUSTOS_EMISMATCH, "record 7, listed in the header");
	expect_fail(h, CUSTOS_EMISMATCH, "record 0: its inclusion proof does "
		"not lead");
	free(c);
	free(h);
	/* The header claims the newer size and root, the note says 7. */
	c = strdup(old);
	h = strstr(c, "\"size\":7}");
	CU_ASSERT_FATAL(h != NULL);
	h[7] = '8';
	expect_fail(c, CUSTOS_EMISMATCH, "the header contradicts the signed "
		"checkpoint");
	free(c);
	free(old);
	free(now);
}

static void test_other_key(void)
{
	custos_custody_export_verification *v = NULL;
	char *vkey = NULL, *note = NULL, *text = NULL, *buf, *c, *s, *e;
	char *esc, *real;
	size_t len, n = 0;
	custos_error err;

	make_log();
	buf = export_of(hd01, &len);
	CU_ASSERT_EQUAL_FATAL(custos_note_keygen(&vkey, NULL,
		"test.example/export", "other.key", &err), CUSTOS_OK);
	/* The same checkpoint text, signed by another key. */
	{
		custos_custody_export_verification *ok = NULL;
		const char *t;

		CU_ASSERT_EQUAL_FATAL(check(&ok, buf, ca, NULL), CUSTOS_OK);
		t = custos_custody_export_verification_checkpoint(ok);
		text = strndup(t, (size_t)(strstr(t, "\n\n") - t) + 1);
		custos_custody_export_verification_free(ok);
	}
	CU_ASSERT_EQUAL_FATAL(custos_note_sign(&note, text, strlen(text),
		"test.example/export", "other.key", &err), CUSTOS_OK);
	/* As JSON: the note has an em dash (\u2014) and LFs (\n). */
	esc = malloc(strlen(note) * 6 + 1);
	for (const unsigned char *p = (const unsigned char *)note; *p; p++) {
		if (*p == '\n') {
			memcpy(esc + n, "\\n", 2);
			n += 2;
		} else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0x94) {
			memcpy(esc + n, "\\u2014", 6);
			n += 6;
			p += 2;
		} else {
			esc[n++] = (char)*p;
		}
	}
	esc[n] = '\0';
	str_value(buf, "checkpoint", &s, &e);
	c = splice(buf, s, e, esc, n);
	expect_fail(c, CUSTOS_EMISMATCH, "the checkpoint is not signed by "
		"the log key");
	/* ...and the header naming that key: the genesis record disagrees. */
	{
		char *k0, *k1, *d;

		str_value(c, "log_key", &k0, &k1);
		d = splice(c, k0, k1, vkey, strlen(vkey));
		expect_fail(d, CUSTOS_EMISMATCH, "the genesis record names "
			"another log key");
		/* The verifier trusting the real key says so as well. */
		real = vkey_text();
		CU_ASSERT_EQUAL(check(&v, d, ca, real), CUSTOS_EMISMATCH);
		CU_ASSERT(custos_custody_export_verification_problem_count(v)
			>= 2);
		custos_custody_export_verification_free(v);
		free(real);
		free(d);
	}
	free(c);
	free(esc);
	free(note);
	free(text);
	free(vkey);
	free(buf);
}

static void test_repeats(void)
{
	size_t len;
	char *buf, *c, *l, *d;

	make_log();
	buf = export_of(hd01, &len);
	c = with_line(buf, 1, buf, line_len(buf));
	expect_fail(c, CUSTOS_EFORMAT, "line 2 is a second header");
	free(c);
	c = with_line(buf, 6, buf, line_len(buf));
	expect_fail(c, CUSTOS_EFORMAT, "line 7 is a second header");
	free(c);
	/* A record line twice. */
	c = with_line(buf, 2, line_at(buf, 2), line_len(line_at(buf, 2)));
	expect_fail(c, CUSTOS_EFORMAT, "rising order, each once");
	free(c);
	/* A repeated key in a record line and in the header. */
	c = strdup(buf);
	l = strstr(line_at(c, 2), "\"seq\":1,");
	CU_ASSERT_FATAL(l != NULL);
	d = splice(c, l, l + 8, "\"seq\":1,\"seq\":1,", 16);
	expect_fail(d, CUSTOS_EFORMAT, "a key is repeated");
	free(d);
	d = splice(buf, buf, buf + 1, "{\"checkpoint\":\"x\",", 18);
	expect_fail(d, CUSTOS_EFORMAT, "a key is repeated");
	free(d);
	/* Whitespace: not canonical. */
	d = splice(buf, buf, buf + 1, "{ ", 2);
	expect_fail(d, CUSTOS_EFORMAT, "not canonical");
	free(d);
	free(c);
	free(buf);
}

static void test_inserted_record(void)
{
	custos_custody_export_verification *v = NULL;
	size_t len, len2;
	char *buf, *other, *c, *r2, *p;
	int noted = 0;

	make_log();
	buf = export_of(hd01, &len);
	other = export_of(hd02, &len2);
	/* HD-02's record 2, genuine, between records 1 and 3. */
	r2 = line_at(other, 2);
	CU_ASSERT_FATAL(strncmp(strstr(r2, "\"seq\":"), "\"seq\":2,", 8) == 0);
	c = with_line(buf, 3, r2, line_len(r2));
	CU_ASSERT_EQUAL(check(&v, c, ca, NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_export_verification_status(v),
		CUSTOS_CUSTODY_EXPORT_VERIFIED);
	CU_ASSERT_EQUAL(custos_custody_export_verification_record_count(v), 6);
	CU_ASSERT(!custos_custody_export_verification_record_listed(v, 2));
	for (size_t i = 0; i < custos_custody_export_verification_note_count(v);
	     i++)
		if (strstr(custos_custody_export_verification_note(v, i),
				"record 2 is not listed"))
			noted = 1;
	CU_ASSERT(noted);
	custos_custody_export_verification_free(v);
	/* The same record forged: another item named, proof and sig kept. */
	p = strstr(line_at(c, 3), "HD-02");
	CU_ASSERT_FATAL(p != NULL);
	p[4] = '7';
	expect_fail(c, CUSTOS_EMISMATCH, "record 2: its inclusion proof");
	free(c);
	free(other);
	free(buf);
}

static void test_wrong_trust(void)
{
	custos_custody_export_verification *v = NULL;
	size_t len;
	char *buf;

	make_log();
	buf = export_of(hd01, &len);
	CU_ASSERT_EQUAL(check(&v, buf, other_ca, NULL), CUSTOS_EMISMATCH);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(custos_custody_export_verification_status(v),
		CUSTOS_CUSTODY_EXPORT_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		custos_custody_export_verification_problem(v, 0),
		"no chain to a trusted CA"));
	custos_custody_export_verification_free(v);
	free(buf);
}

/* The fuzz seed is a real export signed by samples/pki, so the fuzz
 * target's invariants about accepted inputs are exercised.
 * CUSTOS_WRITE_CORPUS=path writes a fresh one there. */
static void test_fuzz_seed(void)
{
	custos_custody_export_verification *v = NULL;
	const char *out = getenv("CUSTOS_WRITE_CORPUS");
	unsigned char *seed;
	size_t len;

	if (out != NULL) {
		char *buf;

		make_log();
		buf = export_of(hd01, &len);
		harness_write_file(out, buf, len);
		free(buf);
	}
	seed = harness_read_file(CORPUS, &len);
	CU_ASSERT_FATAL(seed != NULL);
	CU_ASSERT_EQUAL(check(&v, (char *)seed, ca, NULL), CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_custody_export_verification_status(v),
		CUSTOS_CUSTODY_EXPORT_VERIFIED);
	custos_custody_export_verification_free(v);
	free(seed);
}

static const harness_test tests[] = {
	{"export and verify", test_export_verify},
	{"export refusals", test_export_refusals},
	{"a changed record line fails", test_changed_record},
	{"a dropped record fails", test_dropped_record},
	{"swapped signatures fail", test_swapped_signatures},
	{"proofs for another tree fail", test_other_tree},
	{"a checkpoint by another key fails", test_other_key},
	{"repeated headers and keys are refused", test_repeats},
	{"an inserted record: genuine passes, forged fails",
	 test_inserted_record},
	{"the wrong trust anchor fails", test_wrong_trust},
	{"the fuzz seed verifies", test_fuzz_seed},
};

HARNESS_MAIN("custody_export", tests)
