/*
 * age module: every applicable C2SP CCTV vector in
 * ../shared/testdata/age-vectors decrypts or fails exactly as its "expect:"
 * line says; round trips across chunk boundaries; wrong key, truncation and
 * bit flips each fail with their own status.  (Interoperability with the
 * age CLI: tests/cli/bundle.sh.)
 */
#include <dirent.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "custos/age.h"
#include "harness.h"

#define VECTORS CUSTOS_TESTDATA "/age-vectors/testdata"

typedef struct membuf {
	unsigned char *data;
	size_t len, cap, pos;
	size_t max_read; /* 0: any */
} membuf;

static custos_status mem_sink(void *ctx, const void *data, size_t len,
		custos_error *err)
{
	membuf *m = ctx;

	(void)err;
	if (m->len + len > m->cap) {
		size_t cap = (m->len + len) * 2;
		unsigned char *p = realloc(m->data, cap);
		if (p == NULL)
			return CUSTOS_ENOMEM;
		m->data = p;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return CUSTOS_OK;
}

static custos_status mem_source(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	membuf *m = ctx;
	size_t n = m->len - m->pos;

	(void)err;
	if (n > cap)
		n = cap;
	if (m->max_read && n > m->max_read)
		n = m->max_read;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	*got = n;
	return CUSTOS_OK;
}

/* Decrypt m; returns the category the vectors use. */
static const char *decrypt(membuf *m, const char *const *ids, size_t nids,
		unsigned char sha[32], size_t *outlen, custos_error *err)
{
	custos_age_reader *r = NULL;
	custos_status st;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[10000];
	const char *res = "success";

	*outlen = 0;
	m->pos = 0;
	st = custos_age_reader_new(&r, ids, nids, mem_source, m, err);
	if (st == CUSTOS_EFORMAT)
		res = "header failure";
	else if (st == CUSTOS_EMISMATCH)
		res = "HMAC failure";
	else if (st == CUSTOS_ENOTFOUND)
		res = "no match";
	else if (st != CUSTOS_OK)
		res = "error";
	if (st != CUSTOS_OK)
		goto out;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		size_t got = 0;
		st = custos_age_reader_read(r, buf, sizeof(buf), &got, err);
		if (st != CUSTOS_OK) {
			res = "payload failure";
			goto out;
		}
		if (got == 0)
			break;
		*outlen += got;
		EVP_DigestUpdate(md, buf, got);
	}
	EVP_DigestFinal_ex(md, sha, NULL);
out:
	EVP_MD_CTX_free(md);
	custos_age_reader_free(r);
	return res;
}

static int hex_to_bin(unsigned char *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void test_vectors(void)
{
	DIR *d = opendir(VECTORS);
	struct dirent *e;
	int passed = 0, failed_ok = 0, skipped = 0, wrong = 0;

	CU_ASSERT_FATAL(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char path[1024], *ids[8], expect[64] = "", payload[65] = "";
		unsigned char *data, sha[32], want[32];
		size_t len = 0, nids = 0, pos = 0, outlen;
		int skip = 0, compressed = 0;
		unsigned char *plain = NULL;
		const char *got;
		membuf m = {0};
		custos_error err;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "LICENSE") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", VECTORS, e->d_name);
		data = harness_read_file(path, &len);
		CU_ASSERT_FATAL(data != NULL);
		/* "key: value" lines up to a blank line, then the file. */
		while (pos < len && data[pos] != '\n') {
			char *line = (char *)data + pos, *nl = memchr(line, '\n',
				len - pos);
			CU_ASSERT_FATAL(nl != NULL);
			*nl = '\0';
			if (strncmp(line, "expect: ", 8) == 0)
				snprintf(expect, sizeof(expect), "%s", line + 8);
			else if (strncmp(line, "payload: ", 9) == 0)
				snprintf(payload, sizeof(payload), "%s", line + 9);
			else if (strncmp(line, "identity: ", 10) == 0 && nids < 8)
				ids[nids++] = line + 10;
			else if (strcmp(line, "compressed: zlib") == 0)
				compressed = 1;
			else if (strncmp(line, "armored: ", 9) == 0 ||
				 strncmp(line, "passphrase: ", 12) == 0)
				skip = 1;
			pos = (size_t)(nl - (char *)data) + 1;
		}
		pos++;
		for (size_t i = 0; i < nids; i++)
			if (strncmp(ids[i], "AGE-SECRET-KEY-1", 16) != 0)
				skip = 1; /* post-quantum / other identity types */
		if (nids == 0) {
			/* A header failure comes before any key is tried. */
			static char spare[CUSTOS_AGE_IDENTITY_MAX];
			char r[CUSTOS_AGE_RECIPIENT_MAX];
			CU_ASSERT_FATAL(custos_age_keygen(spare, r, NULL) ==
				CUSTOS_OK);
			ids[nids++] = spare;
		}
		if (skip || strncmp(e->d_name, "hybrid", 6) == 0 ||
		    strncmp(e->d_name, "scrypt", 6) == 0 ||
		    strncmp(e->d_name, "armor", 5) == 0) {
			skipped++;
			free(data);
			continue;
		}
		m.data = data + pos;
		m.len = len - pos;
		if (compressed) {
			uLongf plen = 32u << 20;
			plain = malloc(plen);
			CU_ASSERT_FATAL(plain != NULL);
			CU_ASSERT_FATAL(uncompress(plain, &plen, m.data,
				(uLong)m.len) == Z_OK);
			m.data = plain;
			m.len = plen;
		}
		m.max_read = 4097; /* odd reads exercise the buffering */
		got = decrypt(&m, (const char *const *)ids, nids, sha, &outlen,
			&err);
		if (strcmp(got, expect) != 0) {
			fprintf(stderr, "vector %s: expected %s, got %s (%s)\n",
				e->d_name, expect, got, err.message);
			wrong++;
		} else if (strcmp(expect, "success") == 0) {
			if (strlen(payload) != 64 || hex_to_bin(want, payload, 32) ||
			    memcmp(want, sha, 32) != 0) {
				fprintf(stderr, "vector %s: payload differs\n",
					e->d_name);
				wrong++;
			} else {
				passed++;
			}
		} else {
			failed_ok++;
		}
		free(plain);
		free(data);
	}
	closedir(d);
	printf("\nage vectors: %d passed, %d failed as expected, %d skipped "
		"(armor, scrypt, post-quantum), %d wrong\n", passed, failed_ok,
		skipped, wrong);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(passed >= 14);
	CU_ASSERT(failed_ok >= 53);
}

static void encrypt(membuf *out, const char *const *rcpts, size_t n,
		const unsigned char *data, size_t len, size_t step)
{
	custos_age_writer *w = NULL;
	custos_error err;

	memset(out, 0, sizeof(*out));
	CU_ASSERT_EQUAL_FATAL(custos_age_writer_new(&w, rcpts, n, mem_sink, out,
		&err), CUSTOS_OK);
	for (size_t i = 0; i < len; i += step)
		CU_ASSERT_EQUAL_FATAL(custos_age_writer_write(w, data + i,
			len - i < step ? len - i : step, &err), CUSTOS_OK);
	CU_ASSERT_EQUAL_FATAL(custos_age_writer_finish(w, &err), CUSTOS_OK);
	custos_age_writer_free(w);
}

static void test_roundtrip(void)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 131072,
		200000};
	char id[CUSTOS_AGE_IDENTITY_MAX], rcpt[CUSTOS_AGE_RECIPIENT_MAX];
	char id2[CUSTOS_AGE_IDENTITY_MAX], rcpt2[CUSTOS_AGE_RECIPIENT_MAX];
	char back[CUSTOS_AGE_RECIPIENT_MAX];
	unsigned char *data = malloc(200000), sha[32], want[32];
	custos_error err;

	CU_ASSERT_FATAL(data != NULL);
	for (size_t i = 0; i < 200000; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 9));
	CU_ASSERT_EQUAL_FATAL(custos_age_keygen(id, rcpt, &err), CUSTOS_OK);
	CU_ASSERT_EQUAL_FATAL(custos_age_keygen(id2, rcpt2, &err), CUSTOS_OK);
	CU_ASSERT(strncmp(id, "AGE-SECRET-KEY-1", 16) == 0);
	CU_ASSERT(strncmp(rcpt, "age1", 4) == 0);
	CU_ASSERT_EQUAL(custos_age_identity_to_recipient(back, id, &err),
		CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(back, rcpt);
	CU_ASSERT_EQUAL(custos_age_recipient_check(rcpt, &err), CUSTOS_OK);
	rcpt[10] = rcpt[10] == 'q' ? 'p' : 'q';
	CU_ASSERT_EQUAL(custos_age_recipient_check(rcpt, &err), CUSTOS_EFORMAT);
	CU_ASSERT_EQUAL(custos_age_identity_to_recipient(back, id, &err),
		CUSTOS_OK);
	memcpy(rcpt, back, sizeof(back));
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		const char *rc[2] = {rcpt2, rcpt};
		const char *ids[1] = {id};
		membuf m;
		size_t outlen;
		EVP_Digest(data, sizes[k], want, NULL, EVP_sha256(), NULL);
		encrypt(&m, rc, 2, data, sizes[k], 1000 + k * 333);
		CU_ASSERT_STRING_EQUAL(decrypt(&m, ids, 1, sha, &outlen, &err),
			"success");
		CU_ASSERT_EQUAL(outlen, sizes[k]);
		CU_ASSERT(memcmp(sha, want, 32) == 0);
		free(m.data);
	}
	OPENSSL_cleanse(id, sizeof(id));
	OPENSSL_cleanse(id2, sizeof(id2));
	free(data);
}

static void test_negative(void)
{
	char id[CUSTOS_AGE_IDENTITY_MAX], rcpt[CUSTOS_AGE_RECIPIENT_MAX];
	char id2[CUSTOS_AGE_IDENTITY_MAX], rcpt2[CUSTOS_AGE_RECIPIENT_MAX];
	unsigned char *data = calloc(1, 150000), sha[32];
	const char *rc[1] = {rcpt};
	const char *ids[1] = {id}, *wrong_ids[1] = {id2};
	membuf m;
	size_t outlen, full;
	custos_error err;

	CU_ASSERT_FATAL(data != NULL);
	CU_ASSERT_EQUAL_FATAL(custos_age_keygen(id, rcpt, &err), CUSTOS_OK);
	CU_ASSERT_EQUAL_FATAL(custos_age_keygen(id2, rcpt2, &err), CUSTOS_OK);
	encrypt(&m, rc, 1, data, 150000, 65536);
	full = m.len;
	/* Wrong key. */
	CU_ASSERT_STRING_EQUAL(decrypt(&m, wrong_ids, 1, sha, &outlen, &err),
		"no match");
	CU_ASSERT(strstr(err.message, "wrong key") != NULL);
	/* Truncated at a chunk boundary: the final chunk is missing. */
	m.len = full - (150000 - 131072 + 16);
	CU_ASSERT_STRING_EQUAL(decrypt(&m, ids, 1, sha, &outlen, &err),
		"payload failure");
	CU_ASSERT(strstr(err.message, "final chunk missing") != NULL);
	/* Truncated inside a chunk. */
	m.len = full - 100;
	CU_ASSERT_STRING_EQUAL(decrypt(&m, ids, 1, sha, &outlen, &err),
		"payload failure");
	CU_ASSERT(strstr(err.message, "fails authentication") != NULL);
	m.len = full;
	/* A flipped byte in the payload, then in the header. */
	m.data[full - 70000] ^= 1;
	CU_ASSERT_STRING_EQUAL(decrypt(&m, ids, 1, sha, &outlen, &err),
		"payload failure");
	CU_ASSERT(strstr(err.message, "chunk 1 fails authentication") != NULL);
	m.data[full - 70000] ^= 1;
	m.data[strlen("age-encryption.org/v1\n-> X25519 ")] ^= 1;
	CU_ASSERT_STRING_NOT_EQUAL(decrypt(&m, ids, 1, sha, &outlen, &err),
		"success");
	m.data[strlen("age-encryption.org/v1\n-> X25519 ")] ^= 1;
	CU_ASSERT_STRING_EQUAL(decrypt(&m, ids, 1, sha, &outlen, &err),
		"success");
	free(m.data);
	free(data);
}

static void test_identity_file(void)
{
	char id[CUSTOS_AGE_IDENTITY_MAX], rcpt[CUSTOS_AGE_RECIPIENT_MAX];
	char back[CUSTOS_AGE_IDENTITY_MAX], text[256];
	custos_error err;

	CU_ASSERT_EQUAL_FATAL(custos_age_keygen(id, rcpt, &err), CUSTOS_OK);
	snprintf(text, sizeof(text), "# created: now\n# public key: %s\n%s\n",
		rcpt, id);
	harness_write_file("key.txt", text, strlen(text));
	CU_ASSERT_EQUAL(custos_age_identity_file_read(back, "key.txt", &err),
		CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(back, id);
	harness_write_file("bad.txt", "# nothing\nAGE-SECRET-KEY-1QQQ\n", 30);
	CU_ASSERT_EQUAL(custos_age_identity_file_read(back, "bad.txt", &err),
		CUSTOS_EFORMAT);
	CU_ASSERT_EQUAL(custos_age_identity_file_read(back, "none.txt", &err),
		CUSTOS_ENOTFOUND);
}

/* Run a shell command; 1 if it exited 0. */
static int sh(const char *cmd)
{
	return system(cmd) == 0;
}

/* Load a whole file into a membuf. */
static void load(membuf *m, const char *path)
{
	size_t len = 0;

	memset(m, 0, sizeof(*m));
	m->data = harness_read_file(path, &len);
	m->len = m->cap = len;
}

/*
 * A file with several identities, comments and blank lines, as age-keygen
 * writes them: every identity counts, as with `age -d -i`, so a file
 * encrypted by the real age to any one of them decrypts.
 */
static void test_identity_file_several(void)
{
	char **ids = NULL;
	size_t count = 0, outlen = 0;
	unsigned char sha[32], want[32];
	custos_error err;
	membuf m;

	if (!sh("command -v age >/dev/null && command -v age-keygen "
			">/dev/null")) {
		fprintf(stderr, "no age/age-keygen: skipped\n");
		return;
	}
	CU_ASSERT_FATAL(sh("age-keygen -o k1.txt 2>/dev/null && "
		"age-keygen -o k2.txt 2>/dev/null && age-keygen -o k3.txt "
		"2>/dev/null && { cat k1.txt; echo; echo '# the second one'; "
		"cat k2.txt; printf '\\n\\n'; cat k3.txt; } > all.txt && "
		"printf 'TEST ONLY plaintext\\n' > plain.txt && "
		"age -r $(age-keygen -y k2.txt) -o to2.age plain.txt && "
		"age -r $(age-keygen -y k3.txt) -o to3.age plain.txt && "
		"age -d -i all.txt to2.age | cmp - plain.txt && "
		"age -d -i all.txt to3.age | cmp - plain.txt"));
	CU_ASSERT_EQUAL_FATAL(custos_age_identity_file_read_all(&ids, &count,
		"all.txt", &err), CUSTOS_OK);
	CU_ASSERT_EQUAL(count, 3);
	EVP_Digest("TEST ONLY plaintext\n", 20, want, NULL, EVP_sha256(),
		NULL);
	/* age itself decrypts with the file; so must custos. */
	load(&m, "to2.age");
	CU_ASSERT_STRING_EQUAL(decrypt(&m, (const char *const *)ids, count,
		sha, &outlen, &err), "success");
	CU_ASSERT(outlen == 20 && memcmp(sha, want, 32) == 0);
	free(m.data);
	load(&m, "to3.age");
	CU_ASSERT_STRING_EQUAL(decrypt(&m, (const char *const *)ids, count,
		sha, &outlen, &err), "success");
	free(m.data);
	custos_age_identities_free(ids, count);
	/* A file without a matching identity fails as age does. */
	CU_ASSERT_FATAL(sh("{ echo '# only one'; cat k1.txt; } > one.txt && "
		"! age -d -i one.txt to2.age >/dev/null 2>&1"));
	CU_ASSERT_EQUAL_FATAL(custos_age_identity_file_read_all(&ids, &count,
		"one.txt", &err), CUSTOS_OK);
	load(&m, "to2.age");
	CU_ASSERT_STRING_EQUAL(decrypt(&m, (const char *const *)ids, count,
		sha, &outlen, &err), "no match");
	free(m.data);
	custos_age_identities_free(ids, count);
	/* A malformed line anywhere makes the file malformed (age agrees). */
	CU_ASSERT_FATAL(sh("{ cat k1.txt; echo 'AGE-SECRET-KEY-1QQQ'; } > "
		"bad.txt && ! age -d -i bad.txt to2.age >/dev/null 2>&1"));
	CU_ASSERT_EQUAL(custos_age_identity_file_read_all(&ids, &count,
		"bad.txt", &err), CUSTOS_EFORMAT);
	CU_ASSERT(strstr(err.message, "line 4") != NULL);
	CU_ASSERT_PTR_NULL(ids);
	/* Comments only: no identity. */
	harness_write_file("empty.txt", "# none\n\n", 9);
	CU_ASSERT_EQUAL(custos_age_identity_file_read_all(&ids, &count,
		"empty.txt", &err), CUSTOS_EFORMAT);
	/* A FIFO is refused at once, not waited on. */
	CU_ASSERT_FATAL(sh("mkfifo fifo.txt"));
	CU_ASSERT_EQUAL(custos_age_identity_file_read_all(&ids, &count,
		"fifo.txt", &err), CUSTOS_EINVAL);
	CU_ASSERT(strstr(err.message, "FIFO") != NULL);
	{
		char one[CUSTOS_AGE_IDENTITY_MAX];

		CU_ASSERT_EQUAL(custos_age_identity_file_read(one, "fifo.txt",
			&err), CUSTOS_EINVAL);
	}
	custos_age_identities_free(NULL, 0);
}

static const harness_test tests[] = {
	{"vectors", test_vectors},
	{"roundtrip", test_roundtrip},
	{"negative", test_negative},
	{"identity_file", test_identity_file},
	{"identity file with several identities, against age",
	 test_identity_file_several},
};

HARNESS_MAIN("age", tests)
