/*
 * Evidence bundles: BagIt 1.0 (RFC 8493) as a pax tar through libarchive,
 * signed, encrypted with age and split into parts; and the streaming
 * verifier for bundles and plain bags.
 *
 * Creation is one pass: payload members are hashed (SHA-256 and SHA-512)
 * while they are written; the tag files come last.  The chain is
 * libarchive -> age writer -> part writer (SHA-256 per part).
 *
 * Verification runs the chain backwards without extracting anything:
 * parts (sizes and SHA-256 checked against the signed transfer manifest
 * first) -> age reader -> libarchive reader -> bag checks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <iconv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "custos/age.h"
#include "custos/bundle.h"
#include "custos/sign.h"
#include "custos/version.h"
#include "error_private.h"
#include "util_private.h"

#define IO_BLOCK (1024 * 1024)
#define TAG_FILE_MAX (16 * 1024 * 1024)
#define TAG_TOTAL_MAX (64 * 1024 * 1024)
#define BAG_FILES_MAX 1000000
#define PATH_MAX_BAG 4096
#define PARTS_MAX 100000
#define MANIFEST_MAX (8 * 1024 * 1024)
#define P7S_MAX (1024 * 1024)

static const char *const measures[] = {
	"information-exchange", "transfer-of-proceedings", "letter-of-request",
	"extradition-support", "expedited-preservation",
	"spontaneous-information", "24-7-network",
};

#define ALGS 6
static const char *const alg_names[ALGS] = {"md5", "sha1", "sha256",
	"sha512", "sha224", "sha384"};
static const size_t alg_sizes[ALGS] = {16, 20, 32, 64, 28, 48};
#define ALL_ALGS 0x3fu
#define ALG_SHA256 2
#define ALG_SHA512 3

static const EVP_MD *alg_md(int i)
{
	switch (i) {
	case 0: return EVP_md5();
	case 1: return EVP_sha1();
	case 2: return EVP_sha256();
	case 4: return EVP_sha224();
	case 5: return EVP_sha384();
	default: return EVP_sha512();
	}
}

static void hex(char *out, const unsigned char *in, size_t n)
{
	static const char h[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[in[i] >> 4];
		out[2 * i + 1] = h[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ------------------------------------------------------------------ */
/* Growable text buffer with a hard maximum. */

typedef struct sbuf {
	char *data;
	size_t len, cap, max;
	int failed;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > b->max - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	sb_add(b, tmp, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* The legal request. */

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) && json_string_length(v) > 0 ?
		json_string_value(v) : NULL;
}

static custos_status check_authority(json_t *root, const char *key,
		custos_error *err)
{
	json_t *a = json_object_get(root, key);
	const char *cc;

	if (!json_is_object(a) || jstr(a, "name") == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing %s.name", key);
	cc = jstr(a, "country");
	if (cc == NULL || strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' ||
	    cc[1] < 'A' || cc[1] > 'Z')
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: %s.country must be an ISO 3166 alpha-2 code", key);
	return CUSTOS_OK;
}

static custos_status request_parse(json_t **out, const char *text, size_t len,
		custos_error *err)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *measure;
	int known = 0;
	custos_status st;

	*out = NULL;
	if (len > CUSTOS_BUNDLE_REQUEST_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: larger than %d bytes", CUSTOS_BUNDLE_REQUEST_MAX);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: not JSON (line %d: %s)", jerr.line, jerr.text);
	if (!json_is_object(root)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: not a JSON object");
		goto fail;
	}
	v = json_object_get(root, "instrument");
	if (!json_is_object(v) || jstr(v, "name") == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing instrument.name");
		goto fail;
	}
	measure = jstr(root, "measure");
	if (measure == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing measure");
		goto fail;
	}
	for (size_t i = 0; i < sizeof(measures) / sizeof(measures[0]); i++)
		if (strcmp(measure, measures[i]) == 0)
			known = 1;
	if (!known) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: unknown measure (see custos-bundle(5))");
		goto fail;
	}
	if ((st = check_authority(root, "requesting_authority", err)) != CUSTOS_OK ||
	    (st = check_authority(root, "requested_authority", err)) != CUSTOS_OK)
		goto fail;
	v = json_object_get(root, "references");
	if (!json_is_object(v) || jstr(v, "request") == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing references.request");
		goto fail;
	}
	*out = root;
	return CUSTOS_OK;
fail:
	json_decref(root);
	return st;
}

custos_status custos_bundle_request_check(const char *json, size_t len,
		custos_error *err)
{
	json_t *root = NULL;
	custos_status st;

	if (json == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "request: none");
	st = request_parse(&root, json, len, err);
	json_decref(root);
	return st;
}

/* Read a whole file of at most max bytes. */
static custos_status read_small(unsigned char **out, size_t *len,
		const char *path, size_t max, custos_error *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	*out = NULL;
	if (f == NULL)
		return custos__error_errno(err, errno, "%s", path);
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return custos__error_errno(err, EIO, "%s", path);
	}
	fclose(f);
	if (n > max) {
		free(buf);
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s: larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return CUSTOS_OK;
}

/* One line of bag-info.txt from untrusted text: control characters
 * become spaces, length is capped. */
static void info_line(sbuf *b, const char *label, const char *value)
{
	char clean[512];
	size_t n = 0;

	if (value == NULL)
		return;
	for (size_t i = 0; value[i] != '\0' && n + 1 < sizeof(clean); i++) {
		unsigned char c = (unsigned char)value[i];
		clean[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	clean[n] = '\0';
	sb_printf(b, "%s: %s\n", label, clean);
}

/* ------------------------------------------------------------------ */
/* Parts: the encrypted stream cut into OUT.tar.age.NNN. */

typedef struct part_info {
	uint64_t size;
	char sha256[65];
} part_info;

typedef struct parts {
	const char *base;
	uint64_t split;
	int fd;
	unsigned int count;
	uint64_t cur;
	EVP_MD_CTX *md;
	part_info *list;
	size_t list_cap;
} parts;

static char *part_name(const char *base, unsigned int i)
{
	return custos__aprintf("%s.tar.age.%03u", base, i);
}

static custos_status parts_close(parts *p, custos_error *err)
{
	unsigned char d[32];

	if (p->fd < 0)
		return CUSTOS_OK;
	if (fsync(p->fd) != 0 || close(p->fd) != 0) {
		p->fd = -1;
		return custos__error_errno(err, errno, "part %u", p->count - 1);
	}
	p->fd = -1;
	EVP_DigestFinal_ex(p->md, d, NULL);
	hex(p->list[p->count - 1].sha256, d, 32);
	p->list[p->count - 1].size = p->cur;
	return CUSTOS_OK;
}

static custos_status parts_open_next(parts *p, custos_error *err)
{
	char *name;

	if (p->count >= PARTS_MAX)
		return custos__error_set(err, CUSTOS_ENOSPC,
			"more than %d parts: use a larger --split", PARTS_MAX);
	if (p->count == p->list_cap) {
		size_t cap = p->list_cap ? p->list_cap * 2 : 16;
		part_info *l = realloc(p->list, cap * sizeof(*l));
		if (l == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		p->list = l;
		p->list_cap = cap;
	}
	name = part_name(p->base, p->count);
	if (name == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	p->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (p->fd < 0) {
		custos_status st = errno == EEXIST ?
			custos__error_set(err, CUSTOS_EEXIST,
				"%s exists; nothing is overwritten", name) :
			custos__error_errno(err, errno, "%s", name);
		free(name);
		return st;
	}
	free(name);
	p->count++;
	p->cur = 0;
	EVP_DigestInit_ex(p->md, EVP_sha256(), NULL);
	return CUSTOS_OK;
}

static custos_status parts_sink(void *ctx, const void *data, size_t len,
		custos_error *err)
{
	parts *p = ctx;
	const unsigned char *d = data;

	while (len > 0) {
		size_t n = len;
		custos_status st;

		if (p->fd < 0 || (p->split && p->cur == p->split)) {
			if ((st = parts_close(p, err)) != CUSTOS_OK ||
			    (st = parts_open_next(p, err)) != CUSTOS_OK)
				return st;
		}
		if (p->split && n > p->split - p->cur)
			n = (size_t)(p->split - p->cur);
		st = custos__write_all(p->fd, d, n, "part", err);
		if (st != CUSTOS_OK)
			return st;
		EVP_DigestUpdate(p->md, d, n);
		p->cur += n;
		d += n;
		len -= n;
	}
	return CUSTOS_OK;
}

/* ------------------------------------------------------------------ */
/* Hashing beside the main thread: SHA-512 (the slowest) and the other
 * algorithms run on a second thread while the main thread encrypts,
 * writes or decrypts.  Only reads of a buffer are shared. */

typedef struct hash_job {
	EVP_MD_CTX **md;            /* ALGS contexts, NULL where unused */
	unsigned int mask;          /* which of them this job updates */
	const unsigned char *buf;
	size_t len;
	pthread_t thread;
	int running;
} hash_job;

static void *hash_worker(void *arg)
{
	hash_job *j = arg;

	for (int i = 0; i < ALGS; i++)
		if ((j->mask & (1u << i)) && j->md[i] != NULL)
			EVP_DigestUpdate(j->md[i], j->buf, j->len);
	return NULL;
}

/* Start the job on a thread (or run it here if that fails). */
static void hash_start(hash_job *j)
{
	j->running = j->len >= 65536 &&
		pthread_create(&j->thread, NULL, hash_worker, j) == 0;
	if (!j->running)
		hash_worker(j);
}

static void hash_wait(hash_job *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = 0;
}

/* ------------------------------------------------------------------ */
/* Writing the bag. */

typedef struct writer {
	struct archive *a;
	custos_age_writer *age;
	custos_error *err;
	custos_status st;          /* the first failure inside a callback */
	time_t now;
	sbuf tagmanifest;          /* tagmanifest-sha512.txt, built as we go */
} writer;

static la_ssize_t archive_out(struct archive *a, void *ctx, const void *buf,
		size_t len)
{
	writer *w = ctx;

	(void)a;
	if (w->st != CUSTOS_OK)
		return -1;
	w->st = custos_age_writer_write(w->age, buf, len, w->err);
	return w->st == CUSTOS_OK ? (la_ssize_t)len : -1;
}

static custos_status archive_fail(writer *w, const char *what)
{
	if (w->st != CUSTOS_OK)
		return w->st;
	return custos__error_set(w->err, CUSTOS_EIO, "tar %s: %s", what,
		archive_error_string(w->a) ? archive_error_string(w->a) : "?");
}

static custos_status entry_header(writer *w, const char *name, uint64_t size,
		time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int rc;

	if (e == NULL)
		return custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	rc = archive_write_header(w->a, e);
	archive_entry_free(e);
	return rc == ARCHIVE_OK ? CUSTOS_OK : archive_fail(w, name);
}

/* A tag file from memory; its SHA-512 goes into the tag manifest. */
static custos_status add_tag(writer *w, const char *id, const char *rel,
		const void *data, size_t len, int in_tagmanifest)
{
	char *name = custos__aprintf("%s/%s", id, rel);
	custos_status st;

	if (name == NULL)
		return custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
	st = entry_header(w, name, len, w->now);
	free(name);
	if (st != CUSTOS_OK)
		return st;
	if (len > 0 && archive_write_data(w->a, data, len) != (la_ssize_t)len)
		return archive_fail(w, rel);
	if (in_tagmanifest) {
		unsigned char d[64];
		char h[129];
		EVP_Digest(data, len, d, NULL, EVP_sha512(), NULL);
		hex(h, d, 64);
		sb_printf(&w->tagmanifest, "%s  %s\n", h, rel);
	}
	return CUSTOS_OK;
}

/* A payload file, hashed while written. */
static custos_status add_payload(writer *w, const char *id, const char *path,
		const char *rel, char sha256[65], char sha512[129], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	EVP_MD_CTX *m256 = NULL, *m512 = NULL;
	unsigned char *buf = NULL, d[64];
	uint64_t done = 0;
	char *name = NULL;
	custos_status st = CUSTOS_OK;

	if (fd < 0)
		return custos__error_errno(w->err, errno, "%s", path);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return custos__error_set(w->err, CUSTOS_EINVAL,
			"%s: not a regular file", path);
	}
	name = custos__aprintf("%s/%s", id, rel);
	buf = malloc(IO_BLOCK);
	m256 = EVP_MD_CTX_new();
	m512 = EVP_MD_CTX_new();
	if (name == NULL || buf == NULL || m256 == NULL || m512 == NULL) {
		st = custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	EVP_DigestInit_ex(m256, EVP_sha256(), NULL);
	EVP_DigestInit_ex(m512, EVP_sha512(), NULL);
	st = entry_header(w, name, (uint64_t)sb.st_size, sb.st_mtime);
	while (st == CUSTOS_OK && done < (uint64_t)sb.st_size) {
		ssize_t n = read(fd, buf, IO_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st = n < 0 ? custos__error_errno(w->err, errno, "%s", path) :
				custos__error_set(w->err, CUSTOS_EIO,
					"%s: shrank while being read", path);
			break;
		}
		if ((uint64_t)n > (uint64_t)sb.st_size - done)
			n = (ssize_t)((uint64_t)sb.st_size - done);
		{
			EVP_MD_CTX *mds[ALGS] = {NULL, NULL, NULL, NULL, NULL,
				NULL};
			hash_job job;
			mds[ALG_SHA512] = m512;
			memset(&job, 0, sizeof(job));
			job.md = mds;
			job.mask = 1u << ALG_SHA512;
			job.buf = buf;
			job.len = (size_t)n;
			hash_start(&job);
			EVP_DigestUpdate(m256, buf, (size_t)n);
			if (archive_write_data(w->a, buf, (size_t)n) != n)
				st = archive_fail(w, rel);
			hash_wait(&job);
		}
		done += (uint64_t)n;
	}
	if (st == CUSTOS_OK) {
		EVP_DigestFinal_ex(m256, d, NULL);
		hex(sha256, d, 32);
		EVP_DigestFinal_ex(m512, d, NULL);
		hex(sha512, d, 64);
		*size = done;
	}
out:
	close(fd);
	free(name);
	free(buf);
	EVP_MD_CTX_free(m256);
	EVP_MD_CTX_free(m512);
	return st;
}

void custos_bundle_create_options_init(custos_bundle_create_options *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_BUNDLE_CREATE_OPTIONS_VERSION;
}

/* A payload name must be printable, without '/', CR, LF or '%'. */
static int payload_name_ok(const char *name)
{
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == '%' || *p == '/' ||
		    *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

/* One payload item for metadata/evidence.json, with the warrant (and
 * anything else) the request's "items" entry for the same file gives. */
static void evidence_item(json_t *list, json_t *req, const char *rel,
		uint64_t size, const char *s256, const char *s512)
{
	json_t *items = json_object_get(req, "items"), *it, *from = NULL;
	size_t i;

	if (list == NULL)
		return;
	json_array_foreach(items, i, it) {
		const char *f = jstr(it, "file");
		if (f != NULL && strcmp(f, rel + 5) == 0)
			from = it;
	}
	it = json_pack("{s:s, s:I, s:s, s:s}", "path", rel, "size",
		(json_int_t)size, "sha256", s256, "sha512", s512);
	if (it == NULL)
		return;
	if (json_is_object(from)) {
		const char *k;
		json_t *v;
		json_object_foreach(from, k, v)
			if (json_object_get(it, k) == NULL && strcmp(k, "file") != 0)
				json_object_set(it, k, v);
	}
	json_array_append_new(list, it);
}

static void make_bundle_id(char id[CUSTOS_BUNDLE_ID_MAX], time_t now)
{
	unsigned char r[4] = {0};
	char h[9];
	struct tm tm;

	RAND_bytes(r, sizeof(r));
	hex(h, r, 4);
	gmtime_r(&now, &tm);
	snprintf(id, CUSTOS_BUNDLE_ID_MAX, "bundle-");
	strftime(id + 7, CUSTOS_BUNDLE_ID_MAX - 7, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(id + strlen(id), CUSTOS_BUNDLE_ID_MAX - strlen(id), "-%s", h);
}

custos_status custos_bundle_create(char bundle_id[CUSTOS_BUNDLE_ID_MAX],
		const custos_bundle_create_options *o, custos_error *err)
{
	writer w;
	parts p;
	unsigned char *request = NULL, *p7s = NULL;
	size_t request_len = 0, p7s_len = 0;
	json_t *req = NULL;
	sbuf m256 = {0}, m512 = {0}, info = {0}, tm = {0};
	uint64_t oxum_bytes = 0;
	char id[CUSTOS_BUNDLE_ID_MAX], *tmpdir = NULL, *p7s_path = NULL;
	char *tm_path = NULL, rc[CUSTOS__RFC3339_MAX];
	custos_status st = CUSTOS_OK;
	struct tm now_tm;
	char date[16];
	json_t *evidence = json_array();
	char *evidence_text = NULL;

	memset(&w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	p.fd = -1;
	if (bundle_id == NULL || o == NULL || o->request_path == NULL ||
	    o->sign == NULL || o->output == NULL || o->recipient_count == 0 ||
	    (o->item_count > 0 && o->items == NULL))
		return custos__error_set(err, CUSTOS_EINVAL,
			"bundle: request, signer, recipients and output are required");
	/* The request, then the item names, before anything is written. */
	st = read_small(&request, &request_len, o->request_path,
		CUSTOS_BUNDLE_REQUEST_MAX, err);
	if (st != CUSTOS_OK)
		return st;
	st = request_parse(&req, (const char *)request, request_len, err);
	if (st != CUSTOS_OK)
		goto out;
	for (size_t i = 0; i < o->item_count; i++) {
		const char *b = custos__basename(o->items[i]);
		if (!payload_name_ok(b)) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"item %zu: unusable file name (CR, LF, %%, ...)", i + 1);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(b, custos__basename(o->items[j])) == 0) {
				st = custos__error_set(err, CUSTOS_EINVAL,
					"two items are named '%s'", b);
				goto out;
			}
	}
	for (size_t i = 0; i < o->recipient_count; i++)
		if ((st = custos_age_recipient_check(o->recipients[i], err)) !=
				CUSTOS_OK)
			goto out;
	w.now = time(NULL);
	w.err = err;
	make_bundle_id(id, w.now);
	m256.max = m512.max = info.max = MANIFEST_MAX;
	w.tagmanifest.max = MANIFEST_MAX;
	tm.max = MANIFEST_MAX;

	tmpdir = custos__aprintf("%s.tmp-XXXXXX", o->output);
	if (tmpdir == NULL || mkdtemp(tmpdir) == NULL) {
		st = tmpdir == NULL ?
			custos__error_set(err, CUSTOS_ENOMEM, "out of memory") :
			custos__error_errno(err, errno, "%s", tmpdir);
		free(tmpdir);
		tmpdir = NULL;
		goto out;
	}
	p.base = o->output;
	p.split = o->split_size;
	p.md = EVP_MD_CTX_new();
	if (p.md == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	st = parts_open_next(&p, err);
	if (st != CUSTOS_OK)
		goto out;
	st = custos_age_writer_new(&w.age, o->recipients, o->recipient_count,
		parts_sink, &p, err);
	if (st != CUSTOS_OK)
		goto out;
	w.a = archive_write_new();
	if (w.a == NULL ||
	    archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	    archive_write_open(w.a, &w, NULL, archive_out, NULL) != ARCHIVE_OK) {
		st = w.a ? archive_fail(&w, "open") :
			custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	{
		static const char bagit[] =
			"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
		st = add_tag(&w, id, "bagit.txt", bagit, strlen(bagit), 1);
		if (st != CUSTOS_OK)
			goto out;
	}
	/* Payload, hashed while written. */
	for (size_t i = 0; i < o->item_count; i++) {
		char s256[65], s512[129], *rel;
		uint64_t size = 0;

		rel = custos__aprintf("data/%s", custos__basename(o->items[i]));
		if (rel == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			goto out;
		}
		st = add_payload(&w, id, o->items[i], rel, s256, s512, &size);
		if (st == CUSTOS_OK) {
			sb_printf(&m256, "%s  %s\n", s256, rel);
			sb_printf(&m512, "%s  %s\n", s512, rel);
			oxum_bytes += size;
			evidence_item(evidence, req, rel, size, s256, s512);
		}
		free(rel);
		if (st != CUSTOS_OK)
			goto out;
	}
	/* Tag files last. */
	gmtime_r(&w.now, &now_tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &now_tm);
	custos__time_rfc3339(rc, w.now);
	{
		json_t *ins = json_object_get(req, "instrument");
		json_t *ra = json_object_get(req, "requesting_authority");
		json_t *rd = json_object_get(req, "requested_authority");
		json_t *refs = json_object_get(req, "references");
		char line[600];

		sb_printf(&info, "Bag-Software-Agent: custos-bundle %s\n",
			custos_version());
		sb_printf(&info, "Bagging-Date: %s\n", date);
		sb_printf(&info, "Payload-Oxum: %llu.%zu\n",
			(unsigned long long)oxum_bytes, o->item_count);
		info_line(&info, "External-Identifier", id);
		info_line(&info, "Source-Organization", jstr(rd, "name"));
		info_line(&info, "Custos-Bundle-Id", id);
		info_line(&info, "Custos-Bagging-Time", rc);
		snprintf(line, sizeof(line), "%s%s%s", jstr(ins, "name"),
			jstr(ins, "article") ? " art. " : "",
			jstr(ins, "article") ? jstr(ins, "article") : "");
		info_line(&info, "Custos-Instrument", line);
		info_line(&info, "Custos-Measure", jstr(req, "measure"));
		snprintf(line, sizeof(line), "%s (%s)", jstr(ra, "name"),
			jstr(ra, "country"));
		info_line(&info, "Custos-Requesting-Authority", line);
		snprintf(line, sizeof(line), "%s (%s)", jstr(rd, "name"),
			jstr(rd, "country"));
		info_line(&info, "Custos-Requested-Authority", line);
		info_line(&info, "Custos-Request-Reference", jstr(refs, "request"));
		info_line(&info, "Custos-Case-Reference", jstr(refs, "case"));
	}
	if (m256.failed || m512.failed || info.failed) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "manifests too large");
		goto out;
	}
	if ((st = add_tag(&w, id, "manifest-sha512.txt", m512.data ? m512.data :
			"", m512.len, 1)) != CUSTOS_OK ||
	    (st = add_tag(&w, id, "manifest-sha256.txt", m256.data ? m256.data :
			"", m256.len, 1)) != CUSTOS_OK ||
	    (st = add_tag(&w, id, "bag-info.txt", info.data, info.len, 1)) !=
			CUSTOS_OK ||
	    (st = add_tag(&w, id, "metadata/request.json", request, request_len,
			1)) != CUSTOS_OK)
		goto out;
	{
		json_t *ev = json_pack("{s:i, s:s, s:O}", "custos_evidence_version",
			1, "bundle_id", id, "items", evidence);
		evidence_text = ev ? json_dumps(ev, JSON_INDENT(2) |
			JSON_PRESERVE_ORDER) : NULL;
		json_decref(ev);
		if (evidence_text == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			goto out;
		}
		if ((st = add_tag(&w, id, "metadata/evidence.json", evidence_text,
				strlen(evidence_text), 1)) != CUSTOS_OK)
			goto out;
	}
	if (w.tagmanifest.failed) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "tag manifest too large");
		goto out;
	}
	if ((st = add_tag(&w, id, "tagmanifest-sha512.txt", w.tagmanifest.data,
			w.tagmanifest.len, 0)) != CUSTOS_OK)
		goto out;
	/* The sending authority signs the tag manifest (detached CAdES). */
	p7s_path = custos__aprintf("%s/tagmanifest-sha512.txt.p7s", tmpdir);
	if (p7s_path == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = custos_sign_buffer_to(w.tagmanifest.data, w.tagmanifest.len,
			p7s_path, o->sign, err)) != CUSTOS_OK ||
	    (st = read_small(&p7s, &p7s_len, p7s_path, P7S_MAX, err)) !=
			CUSTOS_OK ||
	    (st = add_tag(&w, id, "signature/tagmanifest-sha512.txt.p7s", p7s,
			p7s_len, 0)) != CUSTOS_OK)
		goto out;
	if (archive_write_close(w.a) != ARCHIVE_OK) {
		st = archive_fail(&w, "close");
		goto out;
	}
	if ((st = custos_age_writer_finish(w.age, err)) != CUSTOS_OK ||
	    (st = parts_close(&p, err)) != CUSTOS_OK)
		goto out;
	/* The cleartext transfer manifest, signed. */
	{
		json_t *refs = json_object_get(req, "references");
		uint64_t total = 0;

		sb_str(&tm, "Custos-Transfer-Manifest: 1\n");
		info_line(&tm, "Bundle-Id", id);
		info_line(&tm, "Created", rc);
		info_line(&tm, "Request-Reference", jstr(refs, "request"));
		info_line(&tm, "Case-Reference", jstr(refs, "case"));
		sb_str(&tm, "Encryption: age-encryption.org/v1 X25519\n");
		for (size_t i = 0; i < o->recipient_count; i++) {
			char fp[65];
			if ((st = custos_age_recipient_fingerprint(fp,
					o->recipients[i], err)) != CUSTOS_OK)
				goto out;
			sb_printf(&tm, "Recipient: %s sha256:%s\n",
				o->recipients[i], fp);
		}
		for (unsigned int i = 0; i < p.count; i++)
			total += p.list[i].size;
		sb_printf(&tm, "Part-Count: %u\nTotal-Size: %llu\n", p.count,
			(unsigned long long)total);
		for (unsigned int i = 0; i < p.count; i++) {
			char *name = part_name(custos__basename(o->output), i);
			if (name == NULL) {
				st = custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
				goto out;
			}
			sb_printf(&tm, "Part: %s %llu %s\n", name,
				(unsigned long long)p.list[i].size,
				p.list[i].sha256);
			free(name);
		}
		if (tm.failed) {
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"transfer manifest too large");
			goto out;
		}
		tm_path = custos__aprintf("%s.transfer-manifest.txt", o->output);
		if (tm_path == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			goto out;
		}
		if (custos__path_exists(tm_path)) {
			st = custos__error_set(err, CUSTOS_EEXIST,
				"%s exists; nothing is overwritten", tm_path);
			goto out;
		}
		if ((st = custos__write_file_atomic(tm_path, tm.data, tm.len,
				err)) != CUSTOS_OK ||
		    (st = custos_sign_file(tm_path, o->sign, err)) != CUSTOS_OK)
			goto out;
	}
	snprintf(bundle_id, CUSTOS_BUNDLE_ID_MAX, "%s", id);
out:
	if (w.a != NULL)
		archive_write_free(w.a);
	custos_age_writer_free(w.age);
	if (p.fd >= 0)
		close(p.fd);
	if (st != CUSTOS_OK) {
		/* No half-written bundle is left behind. */
		for (unsigned int i = 0; i < p.count; i++) {
			char *name = part_name(o->output, i);
			if (name != NULL)
				unlink(name);
			free(name);
		}
	}
	EVP_MD_CTX_free(p.md);
	free(p.list);
	if (p7s_path != NULL)
		unlink(p7s_path);
	if (tmpdir != NULL)
		rmdir(tmpdir);
	free(tmpdir);
	free(p7s_path);
	free(tm_path);
	free(p7s);
	free(request);
	free(m256.data);
	free(m512.data);
	free(info.data);
	free(tm.data);
	free(w.tagmanifest.data);
	free(evidence_text);
	json_decref(evidence);
	json_decref(req);
	return st;
}

/* ------------------------------------------------------------------ */
/* Verification: the bag checks, over members from a tar or a folder. */

typedef struct bag_file {
	char *path;                 /* relative to the bag folder */
	int payload;                /* under data/ */
	uint64_t size;
	unsigned int have;          /* digests computed: bit per alg */
	unsigned char md[ALGS][64];
	unsigned char *content;     /* tag files only */
	size_t content_len;
	unsigned int listed;        /* payload manifests listing it */
} bag_file;

typedef struct bag {
	custos_error *err;
	int from_tar;               /* strict member-name rules */
	unsigned int payload_algs;  /* digests computed for payload */
	char *root;                 /* the bag folder's name (tar) */
	bag_file *files;
	size_t count, cap;
	size_t tag_total;
	unsigned char *buf;
	unsigned char *buf2;        /* double buffering in bag_add */
	int v10;                    /* BagIt-Version 1.0 */
	const char *extract_dir;    /* open: write regular members here */
	/* results */
	uint64_t payload_bytes, payload_files;
	char tagmanifest_sha512[129];
	char request_reference[128];
	char bundle_id_info[CUSTOS_BUNDLE_ID_MAX];
} bag;

typedef custos_status (*read_fn)(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err);

static void bag_free(bag *b)
{
	for (size_t i = 0; i < b->count; i++) {
		free(b->files[i].path);
		free(b->files[i].content);
	}
	free(b->files);
	free(b->root);
	free(b->buf);
	free(b->buf2);
}

/* Consume one regular member: hash it, keep tag files in memory. */
static custos_status bag_add(bag *b, const char *rel, read_fn rd, void *ctx)
{
	bag_file *f;
	EVP_MD_CTX *md[ALGS] = {NULL, NULL, NULL, NULL, NULL, NULL};
	custos_status st = CUSTOS_OK;
	unsigned int algs;
	hash_job job;

	memset(&job, 0, sizeof(job));

	if (b->count >= BAG_FILES_MAX)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bag: more than %d files", BAG_FILES_MAX);
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		bag_file *n = realloc(b->files, cap * sizeof(*n));
		if (n == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
		b->files = n;
		b->cap = cap;
	}
	f = &b->files[b->count];
	memset(f, 0, sizeof(*f));
	f->path = custos__strdup(rel);
	if (f->path == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	b->count++;
	f->payload = strncmp(rel, "data/", 5) == 0;
	algs = f->payload ? b->payload_algs : ALL_ALGS;
	for (int i = 0; i < ALGS; i++)
		if (algs & (1u << i)) {
			md[i] = EVP_MD_CTX_new();
			if (md[i] == NULL ||
			    EVP_DigestInit_ex(md[i], alg_md(i), NULL) != 1) {
				st = custos__error_set(b->err, CUSTOS_ENOMEM,
					"out of memory");
				goto out;
			}
		}
	memset(&job, 0, sizeof(job));
	job.md = md;
	job.mask = ALL_ALGS & ~(1u << ALG_SHA256);
	for (int cur = 0;; cur ^= 1) {
		size_t got = 0;
		unsigned char *buf = cur ? b->buf2 : b->buf;
		/* The next block is read (decrypted) while the thread hashes
		 * the previous one. */
		st = rd(ctx, buf, IO_BLOCK, &got, b->err);
		hash_wait(&job);
		if (st != CUSTOS_OK)
			goto out;
		if (got == 0)
			break;
		job.buf = buf;
		job.len = got;
		hash_start(&job);
		if (md[ALG_SHA256] != NULL)
			EVP_DigestUpdate(md[ALG_SHA256], buf, got);
		if (!f->payload) {
			unsigned char *c;
			if (got > TAG_FILE_MAX - f->content_len ||
			    got > TAG_TOTAL_MAX - b->tag_total) {
				st = custos__error_set(b->err, CUSTOS_EFORMAT,
					"tag file %s: too large", rel);
				goto out;
			}
			c = realloc(f->content, f->content_len + got + 1);
			if (c == NULL) {
				st = custos__error_set(b->err, CUSTOS_ENOMEM,
					"out of memory");
				goto out;
			}
			memcpy(c + f->content_len, buf, got);
			f->content = c;
			f->content_len += got;
			f->content[f->content_len] = '\0';
			b->tag_total += got;
		}
		f->size += got;
	}
	for (int i = 0; i < ALGS; i++)
		if (md[i] != NULL) {
			EVP_DigestFinal_ex(md[i], f->md[i], NULL);
			f->have |= 1u << i;
		}
out:
	hash_wait(&job);
	for (int i = 0; i < ALGS; i++)
		EVP_MD_CTX_free(md[i]);
	return st;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const bag_file *)a)->path, ((const bag_file *)b)->path);
}

static bag_file *bag_find(bag *b, const char *path)
{
	bag_file key;

	key.path = (char *)path;
	return bsearch(&key, b->files, b->count, sizeof(bag_file), file_cmp);
}

/* A relative path that stays inside the bag: no "..", no absolute. */
static int path_in_scope(const char *p)
{
	if (p[0] == '/' || p[0] == '~' || p[0] == '\0')
		return 0;
	for (const char *c = p; *c != '\0';) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 2 && c[0] == '.' && c[1] == '.') ||
		    (n == 1 && c[0] == '.'))
			return 0;
		c += n;
		if (*c == '/')
			c++;
	}
	return 1;
}

/* Split text into lines in place (LF or CRLF); calls fn per line. */
typedef custos_status (*line_fn)(bag *b, char *line, size_t n, void *ctx);

static custos_status each_line(bag *b, char *text, line_fn fn, void *ctx)
{
	size_t n = 0;

	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		custos_status st;
		size_t len;
		if (nl != NULL)
			*nl = '\0';
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		n++;
		st = fn(b, line, n, ctx);
		if (st != CUSTOS_OK)
			return st;
		line = nl ? nl + 1 : NULL;
	}
	return CUSTOS_OK;
}

/* Tag text converted to UTF-8 (a copy; caller frees). */
static char *tag_text(bag *b, const bag_file *f, const char *encoding)
{
	iconv_t cd;
	char *out, *in, *op;
	size_t inleft, outleft, cap;

	if (encoding == NULL || strcasecmp(encoding, "UTF-8") == 0 ||
	    strcasecmp(encoding, "UTF8") == 0) {
		out = malloc(f->content_len + 1);
		if (out != NULL) {
			memcpy(out, f->content ? (char *)f->content : "",
				f->content_len);
			out[f->content_len] = '\0';
		}
		return out;
	}
	cd = iconv_open("UTF-8", encoding);
	if (cd == (iconv_t)-1) {
		custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: unknown Tag-File-Character-Encoding");
		return NULL;
	}
	if (f->content_len > TAG_FILE_MAX) {
		iconv_close(cd);
		return NULL;
	}
	cap = f->content_len * 4 + 1;
	out = malloc(cap);
	if (out == NULL) {
		iconv_close(cd);
		return NULL;
	}
	in = (char *)f->content;
	inleft = f->content_len;
	op = out;
	outleft = cap - 1;
	if (in != NULL && iconv(cd, &in, &inleft, &op, &outleft) == (size_t)-1) {
		iconv_close(cd);
		free(out);
		custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: not valid %s text", f->path, encoding);
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	/* Drop a UTF-8 byte-order mark left by UTF-16 input. */
	if ((unsigned char)out[0] == 0xef && (unsigned char)out[1] == 0xbb &&
	    (unsigned char)out[2] == 0xbf)
		memmove(out, out + 3, strlen(out + 3) + 1);
	return out;
}

typedef struct manifest_ctx {
	int alg;
	int tag;                    /* a tag manifest */
	const char *name;
	char **fetch;               /* paths in fetch.txt */
	size_t fetch_count;
} manifest_ctx;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* BagIt 1.0 names: %0D, %0A, %25 decode; nothing else does. */
static void percent_decode(char *s)
{
	char *o = s;

	for (char *p = s; *p != '\0';) {
		if (p[0] == '%' && p[1] != '\0' && p[2] != '\0') {
			int v = hexval((unsigned char)p[1]) * 16 +
				hexval((unsigned char)p[2]);
			if (hexval((unsigned char)p[1]) >= 0 &&
			    hexval((unsigned char)p[2]) >= 0 &&
			    (v == 0x0d || v == 0x0a || v == 0x25)) {
				*o++ = (char)v;
				p += 3;
				continue;
			}
		}
		*o++ = *p++;
	}
	*o = '\0';
}

static custos_status manifest_line(bag *b, char *line, size_t n, void *vctx)
{
	manifest_ctx *m = vctx;
	size_t hl = 0, want = alg_sizes[m->alg] * 2;
	char *path;
	unsigned char d[64];
	bag_file *f;
	int in_fetch = 0;

	if (line[0] == '\0')
		return CUSTOS_OK;
	while (hexval((unsigned char)line[hl]) >= 0)
		hl++;
	if (hl != want || (line[hl] != ' ' && line[hl] != '\t'))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s line %zu: malformed (checksum, space, path)", m->name, n);
	path = line + hl;
	while (*path == ' ' || *path == '\t')
		path++;
	if (b->v10)
		percent_decode(path);
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	if (!path_in_scope(path) || (!m->tag && strncmp(path, "data/", 5) != 0))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s line %zu: path outside the %s", m->name, n,
			m->tag ? "bag" : "payload (data/)");
	for (size_t i = 0; i < hl / 2; i++)
		d[i] = (unsigned char)(hexval((unsigned char)line[2 * i]) * 16 +
			hexval((unsigned char)line[2 * i + 1]));
	f = bag_find(b, path);
	for (size_t i = 0; i < m->fetch_count; i++)
		if (strcmp(m->fetch[i], path) == 0)
			in_fetch = 1;
	if (f == NULL) {
		if (in_fetch)
			return CUSTOS_OK; /* a holey bag: fetched later */
		return custos__error_set(b->err, CUSTOS_EMISMATCH,
			"%s: lists %s, which is missing", m->name, path);
	}
	if (!m->tag) {
		if (!f->payload)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"%s: %s is not payload", m->name, path);
		if (f->listed & (1u << m->alg)) {
			if (b->v10)
				return custos__error_set(b->err, CUSTOS_EFORMAT,
					"%s: %s listed twice", m->name, path);
		}
		f->listed |= 1u << m->alg;
	}
	if (!(f->have & (1u << m->alg)))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: %s digest not computed for this bundle", m->name,
			alg_names[m->alg]);
	if (memcmp(f->md[m->alg], d, alg_sizes[m->alg]) != 0)
		return custos__error_set(b->err, CUSTOS_EMISMATCH,
			"%s: %s does not match (%s changed)", m->name, path,
			m->tag ? "tag file" : "payload");
	return CUSTOS_OK;
}

typedef struct fetch_ctx {
	char **paths;
	size_t count, cap;
} fetch_ctx;

static custos_status fetch_line(bag *b, char *line, size_t n, void *vctx)
{
	fetch_ctx *fc = vctx;
	char *sp1, *sp2, *path;

	if (line[0] == '\0')
		return CUSTOS_OK;
	sp1 = strpbrk(line, " \t");
	sp2 = sp1 ? strpbrk(sp1 + 1, " \t") : NULL;
	if (sp2 == NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"fetch.txt line %zu: malformed", n);
	path = sp2 + 1;
	if (b->v10)
		percent_decode(path);
	if (!path_in_scope(path) || strncmp(path, "data/", 5) != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"fetch.txt line %zu: path outside the payload", n);
	if (fc->count == fc->cap) {
		size_t cap = fc->cap ? fc->cap * 2 : 16;
		char **p = realloc(fc->paths, cap * sizeof(*p));
		if (p == NULL || cap > BAG_FILES_MAX) {
			free(p == fc->paths ? NULL : p);
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		}
		fc->paths = p;
		fc->cap = cap;
	}
	fc->paths[fc->count] = custos__strdup(path);
	if (fc->paths[fc->count] == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	fc->count++;
	return CUSTOS_OK;
}

typedef struct info_ctx {
	int have_oxum;
	unsigned long long oxum_bytes, oxum_files;
} info_ctx;

static void copy_value(char *out, size_t cap, const char *v)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0' && n + 1 < cap; v++)
		out[n++] = (unsigned char)*v < 0x20 ? ' ' : *v;
	out[n] = '\0';
}

static custos_status info_line_parse(bag *b, char *line, size_t n, void *vctx)
{
	info_ctx *ic = vctx;

	if (strncmp(line, "Payload-Oxum:", 13) == 0) {
		char *end;
		const char *v = line + 13;
		while (*v == ' ' || *v == '\t')
			v++;
		errno = 0;
		ic->oxum_bytes = strtoull(v, &end, 10);
		if (end == v || *end != '.' || errno != 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag-info.txt line %zu: malformed Payload-Oxum", n);
		v = end + 1;
		ic->oxum_files = strtoull(v, &end, 10);
		if (end == v || (*end != '\0' && *end != ' ') || errno != 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag-info.txt line %zu: malformed Payload-Oxum", n);
		ic->have_oxum = 1;
	} else if (strncmp(line, "Custos-Request-Reference:", 25) == 0) {
		copy_value(b->request_reference, sizeof(b->request_reference),
			line + 25);
	} else if (strncmp(line, "Custos-Bundle-Id:", 17) == 0) {
		copy_value(b->bundle_id_info, sizeof(b->bundle_id_info),
			line + 17);
	}
	return CUSTOS_OK;
}

/* Check a detached signature over data held in memory. */
static custos_status check_signature(const void *data, size_t len,
		const void *p7s, size_t p7s_len, const char *what,
		const char *const *trust, size_t trust_count, custos_error *err)
{
	char dir[] = "/tmp/custos-verify-XXXXXX";
	char *content = NULL, *sig = NULL;
	custos_sign_verify_options vo;
	custos_sign_verification *v = NULL;
	custos_status st;

	if (mkdtemp(dir) == NULL)
		return custos__error_errno(err, errno, "temporary folder");
	content = custos__aprintf("%s/content", dir);
	sig = custos__aprintf("%s/content.p7s", dir);
	if (content == NULL || sig == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = custos__write_file_atomic(content, data, len, err)) !=
			CUSTOS_OK ||
	    (st = custos__write_file_atomic(sig, p7s, p7s_len, err)) != CUSTOS_OK)
		goto out;
	custos_sign_verify_options_init(&vo);
	vo.trust = trust;
	vo.trust_count = trust_count;
	vo.signature_path = sig;
	st = custos_sign_verify_file(&v, content, &vo, err);
	if (st == CUSTOS_EMISMATCH || (st == CUSTOS_OK && v != NULL &&
			custos_sign_verification_result(v) != CUSTOS_SIGN_OK))
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"%s signature: %s", what, v ?
			custos_sign_verification_message(v) : "failed");
out:
	custos_sign_verification_free(v);
	if (content != NULL)
		unlink(content);
	if (sig != NULL)
		unlink(sig);
	rmdir(dir);
	free(content);
	free(sig);
	return st;
}

static custos_status bagit_txt(bag *b, char **encoding)
{
	bag_file *f = bag_find(b, "bagit.txt");
	const char *c;
	char ver[16];
	const char *l2;
	size_t vl = 0;

	*encoding = NULL;
	if (f == NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"not a bag: bagit.txt is missing");
	c = f->content ? (const char *)f->content : "";
	if ((unsigned char)c[0] == 0xef || (unsigned char)c[0] == 0xfe ||
	    (unsigned char)c[0] == 0xff)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt starts with a byte-order mark");
	if (strncmp(c, "BagIt-Version: ", 15) != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: first line is not 'BagIt-Version: M.N'");
	c += 15;
	while ((c[vl] >= '0' && c[vl] <= '9') || c[vl] == '.') {
		if (vl + 1 >= sizeof(ver))
			break;
		ver[vl] = c[vl];
		vl++;
	}
	ver[vl] = '\0';
	l2 = c + vl;
	if (*l2 == '\r')
		l2++;
	if (*l2 != '\n')
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: malformed BagIt-Version line");
	l2++;
	if (strcmp(ver, "1.0") == 0)
		b->v10 = 1;
	else if (strcmp(ver, "0.97") != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: unsupported BagIt-Version (1.0 or 0.97)");
	if (strncmp(l2, "Tag-File-Character-Encoding: ", 29) != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: no 'Tag-File-Character-Encoding: ' line");
	l2 += 29;
	{
		size_t n = strcspn(l2, "\r\n");
		const char *rest = l2 + n;
		if (n == 0 || n > 40)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bagit.txt: bad Tag-File-Character-Encoding");
		if (*rest == '\r')
			rest++;
		if (*rest == '\n')
			rest++;
		while (*rest == '\n' || *rest == '\r')
			rest++;
		if (*rest != '\0')
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bagit.txt: unexpected extra lines");
		*encoding = malloc(n + 1);
		if (*encoding == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		memcpy(*encoding, l2, n);
		(*encoding)[n] = '\0';
	}
	return CUSTOS_OK;
}

static int manifest_alg(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(path, prefix, pl) != 0 || strchr(path, '/') != NULL)
		return -2;
	for (int i = 0; i < ALGS; i++) {
		size_t al = strlen(alg_names[i]);
		if (strncmp(path + pl, alg_names[i], al) == 0 &&
		    strcmp(path + pl + al, ".txt") == 0)
			return i;
	}
	return -1;
}

/* Every check over the collected members.  need_signature: a custos
 * bundle, whose tag manifest must carry a good signature. */
static custos_status bag_check(bag *b, int need_signature,
		const char *const *trust, size_t trust_count)
{
	char *encoding = NULL;
	fetch_ctx fc = {0};
	info_ctx ic = {0};
	custos_status st;
	unsigned int payload_manifests = 0;
	bag_file *f;

	qsort(b->files, b->count, sizeof(bag_file), file_cmp);
	for (size_t i = 1; i < b->count; i++)
		if (strcmp(b->files[i].path, b->files[i - 1].path) == 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"duplicate member name in the bag");
	if ((st = bagit_txt(b, &encoding)) != CUSTOS_OK)
		goto out;
	if ((f = bag_find(b, "fetch.txt")) != NULL) {
		char *t = tag_text(b, f, encoding);
		if (t == NULL) {
			st = custos__error_set(b->err, CUSTOS_EFORMAT,
				"fetch.txt: unreadable");
			goto out;
		}
		st = each_line(b, t, fetch_line, &fc);
		free(t);
		if (st != CUSTOS_OK)
			goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < b->count; i++) {
			manifest_ctx m;
			char *t;
			int alg = manifest_alg(b->files[i].path,
				pass ? "tagmanifest-" : "manifest-");
			if (alg == -2)
				continue;
			if (alg == -1) {
				st = custos__error_set(b->err, CUSTOS_EFORMAT,
					"unsupported checksum algorithm in a "
					"manifest name");
				goto out;
			}
			memset(&m, 0, sizeof(m));
			m.alg = alg;
			m.tag = pass;
			m.name = b->files[i].path;
			m.fetch = fc.paths;
			m.fetch_count = fc.count;
			t = tag_text(b, &b->files[i], encoding);
			if (t == NULL) {
				st = custos__error_set(b->err, CUSTOS_EFORMAT,
					"%s: unreadable", m.name);
				goto out;
			}
			st = each_line(b, t, manifest_line, &m);
			free(t);
			if (st != CUSTOS_OK)
				goto out;
			if (!pass)
				payload_manifests |= 1u << alg;
		}
	}
	if (payload_manifests == 0) {
		st = custos__error_set(b->err, CUSTOS_EFORMAT,
			"no payload manifest (manifest-ALG.txt)");
		goto out;
	}
	b->payload_bytes = b->payload_files = 0;
	for (size_t i = 0; i < b->count; i++) {
		bag_file *pf = &b->files[i];
		if (!pf->payload)
			continue;
		if ((pf->listed & payload_manifests) != payload_manifests) {
			for (int a = 0; a < ALGS; a++)
				if ((payload_manifests & (1u << a)) &&
				    !(pf->listed & (1u << a))) {
					st = custos__error_set(b->err,
						CUSTOS_EMISMATCH,
						"payload file not listed in "
						"manifest-%s.txt: %s", alg_names[a],
						pf->path);
					goto out;
				}
		}
		b->payload_bytes += pf->size;
		b->payload_files++;
	}
	if ((f = bag_find(b, "bag-info.txt")) != NULL) {
		char *t = tag_text(b, f, encoding);
		if (t == NULL) {
			st = custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag-info.txt: unreadable");
			goto out;
		}
		st = each_line(b, t, info_line_parse, &ic);
		free(t);
		if (st != CUSTOS_OK)
			goto out;
		if (ic.have_oxum && fc.count == 0 &&
		    (ic.oxum_bytes != b->payload_bytes ||
		     ic.oxum_files != b->payload_files)) {
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"Payload-Oxum %llu.%llu but the payload is %llu.%llu",
				ic.oxum_bytes, ic.oxum_files,
				(unsigned long long)b->payload_bytes,
				(unsigned long long)b->payload_files);
			goto out;
		}
	}
	f = bag_find(b, "tagmanifest-sha512.txt");
	if (f != NULL && (f->have & (1u << ALG_SHA512)))
		hex(b->tagmanifest_sha512, f->md[ALG_SHA512], 64);
	{
		bag_file *sig = bag_find(b,
			"signature/tagmanifest-sha512.txt.p7s");
		if (need_signature && (sig == NULL || f == NULL)) {
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"the tag manifest is not signed "
				"(signature/tagmanifest-sha512.txt.p7s missing)");
			goto out;
		}
		if (sig != NULL && f != NULL) {
			st = check_signature(f->content ? f->content :
				(unsigned char *)"", f->content_len,
				sig->content, sig->content_len, "tag manifest",
				trust, trust_count, b->err);
			if (st != CUSTOS_OK)
				goto out;
		}
	}
	st = CUSTOS_OK;
out:
	for (size_t i = 0; i < fc.count; i++)
		free(fc.paths[i]);
	free(fc.paths);
	free(encoding);
	return st;
}

/* ---- members from a tar ---- */

typedef struct tar_data {
	struct archive *a;
	const char *name;
	custos_status *src_st;      /* the decryption's failure, if any */
} tar_data;

static custos_status tar_read_data(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err)
{
	tar_data *t = ctx;
	la_ssize_t n = archive_read_data(t->a, buf, cap);

	if (n < 0 && t->src_st != NULL && *t->src_st != CUSTOS_OK)
		return *t->src_st; /* err already says why */
	if (n < 0)
		return custos__error_set(err, CUSTOS_EFORMAT, "tar member: %s",
			archive_error_string(t->a) ? archive_error_string(t->a) :
			"read error");
	*got = (size_t)n;
	return CUSTOS_OK;
}

/* open: a member is written while it is hashed. */
typedef struct tee_data {
	tar_data td;
	int fd;
} tee_data;

static custos_status tee_read(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	tee_data *t = ctx;
	custos_status st = tar_read_data(&t->td, buf, cap, got, err);

	if (st != CUSTOS_OK || *got == 0)
		return st;
	return custos__write_all(t->fd, buf, *got, "extracted file", err);
}

/* Create dir/rel's parent folders (rel is checked: no "..", no links are
 * ever created) and the file itself, which must not exist. */
static int extract_open(bag *b, const char *rel)
{
	char *full = custos__aprintf("%s/%s", b->extract_dir, rel);
	size_t base = strlen(b->extract_dir) + 1;
	int fd;

	if (full == NULL)
		return -1;
	for (char *p = full + base; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(full, 0755) != 0 && errno != EEXIST) {
			*p = '/';
			free(full);
			return -1;
		}
		*p = '/';
	}
	fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		0644);
	free(full);
	return fd;
}

/* Checks a tar member's name; sets *rel to the part after the bag
 * folder (NULL for the folder itself). */
static custos_status tar_name(bag *b, const char *name, const char **rel)
{
	const char *slash;

	*rel = NULL;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r' || c == '\n' || c == '%' || c < 0x20 || c == 0x7f)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: member name with CR, LF, %% or a "
				"control character");
	}
	if (name[0] == '/')
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"hostile tar: absolute member path");
	{
		char *tmp = custos__strdup(name);
		size_t l;
		int ok;
		if (tmp == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		l = strlen(tmp);
		if (l > 0 && tmp[l - 1] == '/')
			tmp[l - 1] = '\0';
		ok = path_in_scope(tmp);
		free(tmp);
		if (!ok)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: member path with '..', '.' or "
				"empty components");
	}
	if (strlen(name) >= PATH_MAX_BAG)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"tar member name too long");
	slash = strchr(name, '/');
	if (b->root == NULL) {
		size_t n = slash ? (size_t)(slash - name) : strlen(name);
		b->root = malloc(n + 1);
		if (b->root == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		memcpy(b->root, name, n);
		b->root[n] = '\0';
	}
	if (strncmp(name, b->root, strlen(b->root)) != 0 ||
	    (name[strlen(b->root)] != '/' && name[strlen(b->root)] != '\0'))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"tar member outside the bag folder");
	if (name[strlen(b->root)] == '/' && name[strlen(b->root) + 1] != '\0')
		*rel = name + strlen(b->root) + 1;
	return CUSTOS_OK;
}

static custos_status bag_from_archive(bag *b, struct archive *a,
		custos_status *src_st)
{
	struct archive_entry *e;
	custos_status st;

	for (;;) {
		int rc = archive_read_next_header(a, &e);
		const char *name, *rel;
		tar_data td;
		mode_t type;

		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			if (src_st != NULL && *src_st != CUSTOS_OK)
				return *src_st;
			return custos__error_set(b->err, CUSTOS_EFORMAT, "tar: %s",
				archive_error_string(a) ? archive_error_string(a) :
				"unreadable");
		}
		name = archive_entry_pathname(e);
		if (name == NULL)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: member without a usable name");
		if ((st = tar_name(b, name, &rel)) != CUSTOS_OK)
			return st;
		type = archive_entry_filetype(e);
		if (archive_entry_hardlink(e) != NULL || type == AE_IFLNK)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: link member refused");
		if (type == AE_IFDIR)
			continue;
		if (type != AE_IFREG)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: device, FIFO or other special member "
				"refused");
		if (rel == NULL)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"tar: a file where the bag folder should be");
		td.a = a;
		td.name = rel;
		td.src_st = src_st;
		if (b->extract_dir != NULL) {
			tee_data tee;
			tee.td = td;
			tee.fd = extract_open(b, rel);
			if (tee.fd < 0)
				return custos__error_errno(b->err, errno,
					"cannot extract a member");
			st = bag_add(b, rel, tee_read, &tee);
			if (close(tee.fd) != 0 && st == CUSTOS_OK)
				st = custos__error_errno(b->err, errno,
					"cannot extract a member");
		} else {
			st = bag_add(b, rel, tar_read_data, &td);
		}
		if (st != CUSTOS_OK) {
			if (src_st != NULL && *src_st != CUSTOS_OK)
				return *src_st;
			return st;
		}
	}
	return CUSTOS_OK;
}

/* ---- members from a folder ---- */

typedef struct fd_data {
	int fd;
	const char *path;
} fd_data;

static custos_status fd_read(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	fd_data *f = ctx;
	ssize_t n;

	do
		n = read(f->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return custos__error_errno(err, errno, "%s", f->path);
	*got = (size_t)n;
	return CUSTOS_OK;
}

static custos_status bag_from_dir(bag *b, const char *top, const char *rel,
		int depth)
{
	char *dirpath = rel[0] ? custos__aprintf("%s/%s", top, rel) :
		custos__strdup(top);
	DIR *d;
	struct dirent *e;
	custos_status st = CUSTOS_OK;

	if (dirpath == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	if (depth > 64) {
		free(dirpath);
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bag folder nested too deep");
	}
	d = opendir(dirpath);
	if (d == NULL) {
		st = custos__error_errno(b->err, errno, "%s", dirpath);
		free(dirpath);
		return st;
	}
	while (st == CUSTOS_OK && (e = readdir(d)) != NULL) {
		char *r, *full;
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = rel[0] ? custos__aprintf("%s/%s", rel, e->d_name) :
			custos__strdup(e->d_name);
		full = r ? custos__aprintf("%s/%s", top, r) : NULL;
		if (full == NULL) {
			free(r);
			st = custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
			break;
		}
		if (lstat(full, &sb) != 0) {
			st = custos__error_errno(b->err, errno, "%s", full);
		} else if (S_ISDIR(sb.st_mode)) {
			st = bag_from_dir(b, top, r, depth + 1);
		} else if (S_ISREG(sb.st_mode)) {
			fd_data fdd;
			fdd.fd = open(full, O_RDONLY | O_CLOEXEC);
			fdd.path = full;
			if (fdd.fd < 0) {
				st = custos__error_errno(b->err, errno, "%s", full);
			} else {
				st = bag_add(b, r, fd_read, &fdd);
				close(fdd.fd);
			}
		} else {
			st = custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag folder holds a link or special file");
		}
		free(r);
		free(full);
	}
	closedir(d);
	free(dirpath);
	return st;
}

/* ---- encrypted bundles: transfer manifest and parts ---- */

typedef struct tpart {
	char *path;
	uint64_t size;
	char sha256[65];
} tpart;

typedef struct transfer {
	char bundle_id[CUSTOS_BUNDLE_ID_MAX];
	unsigned long part_count;
	tpart *parts;
	size_t n;
	int header_ok;
	const char *dir;
} transfer;

static custos_status transfer_line(bag *b, char *line, size_t n, void *vctx)
{
	transfer *t = vctx;

	if (n == 1) {
		if (strcmp(line, "Custos-Transfer-Manifest: 1") != 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"not a custos transfer manifest (version 1)");
		t->header_ok = 1;
	} else if (strncmp(line, "Bundle-Id: ", 11) == 0) {
		copy_value(t->bundle_id, sizeof(t->bundle_id), line + 11);
	} else if (strncmp(line, "Request-Reference: ", 19) == 0) {
		copy_value(b->request_reference, sizeof(b->request_reference),
			line + 19);
	} else if (strncmp(line, "Part-Count: ", 12) == 0) {
		char *end;
		t->part_count = strtoul(line + 12, &end, 10);
		if (*end != '\0' || t->part_count == 0 ||
		    t->part_count > PARTS_MAX)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: bad Part-Count");
		t->parts = calloc(t->part_count, sizeof(*t->parts));
		if (t->parts == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
	} else if (strncmp(line, "Part: ", 6) == 0) {
		char name[256], sha[65];
		unsigned long long size;
		int used = 0;
		if (t->parts == NULL || t->n >= t->part_count)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: more parts than Part-Count");
		if (sscanf(line + 6, "%255s %llu %64s%n", name, &size, sha,
				&used) != 3 || line[6 + used] != '\0' ||
		    strlen(sha) != 64 || strchr(name, '/') != NULL ||
		    name[0] == '.')
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest line %zu: malformed Part", n);
		t->parts[t->n].path = custos__aprintf("%s/%s", t->dir, name);
		if (t->parts[t->n].path == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		t->parts[t->n].size = size;
		memcpy(t->parts[t->n].sha256, sha, 65);
		t->n++;
	}
	return CUSTOS_OK;
}

/* Pass 1: each part's size and SHA-256, against the signed manifest. */
static custos_status check_parts(bag *b, transfer *t)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	custos_status st = CUSTOS_OK;

	if (md == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n && st == CUSTOS_OK; i++) {
		fd_data f;
		uint64_t total = 0;
		unsigned char d[32];
		char h[65];

		f.path = t->parts[i].path;
		f.fd = open(f.path, O_RDONLY | O_CLOEXEC);
		if (f.fd < 0) {
			st = errno == ENOENT ?
				custos__error_set(b->err, CUSTOS_EMISMATCH,
					"part %s is missing",
					custos__basename(f.path)) :
				custos__error_errno(b->err, errno, "%s", f.path);
			break;
		}
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		for (;;) {
			size_t got = 0;
			st = fd_read(&f, b->buf, IO_BLOCK, &got, b->err);
			if (st != CUSTOS_OK || got == 0)
				break;
			EVP_DigestUpdate(md, b->buf, got);
			total += got;
		}
		close(f.fd);
		if (st != CUSTOS_OK)
			break;
		EVP_DigestFinal_ex(md, d, NULL);
		hex(h, d, 32);
		if (total != t->parts[i].size)
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"part %s: %llu bytes, the transfer manifest says "
				"%llu (truncated or extended)",
				custos__basename(f.path), (unsigned long long)total,
				(unsigned long long)t->parts[i].size);
		else if (strcmp(h, t->parts[i].sha256) != 0)
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"part %s: SHA-256 does not match the transfer "
				"manifest (part tampered)", custos__basename(f.path));
	}
	EVP_MD_CTX_free(md);
	return st;
}

/* The parts, one after another, as an age source. */
typedef struct parts_in {
	transfer *t;
	size_t i;
	int fd;
} parts_in;

static custos_status parts_source(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err)
{
	parts_in *p = ctx;

	*got = 0;
	while (p->i < p->t->n) {
		ssize_t n;
		if (p->fd < 0) {
			p->fd = open(p->t->parts[p->i].path, O_RDONLY | O_CLOEXEC);
			if (p->fd < 0)
				return custos__error_errno(err, errno, "%s",
					p->t->parts[p->i].path);
		}
		do
			n = read(p->fd, buf, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return custos__error_errno(err, errno, "%s",
				p->t->parts[p->i].path);
		if (n > 0) {
			*got = (size_t)n;
			return CUSTOS_OK;
		}
		close(p->fd);
		p->fd = -1;
		p->i++;
	}
	return CUSTOS_OK;
}

typedef struct age_in {
	custos_age_reader *r;
	unsigned char *buf;
	custos_status st;
	custos_error *err;
} age_in;

static la_ssize_t archive_in(struct archive *a, void *ctx, const void **buf)
{
	age_in *in = ctx;
	size_t got = 0;

	(void)a;
	*buf = in->buf;
	in->st = custos_age_reader_read(in->r, in->buf, IO_BLOCK, &got, in->err);
	if (in->st != CUSTOS_OK)
		return -1;
	return (la_ssize_t)got;
}

void custos_bundle_verify_options_init(custos_bundle_verify_options *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_BUNDLE_VERIFY_OPTIONS_VERSION;
}

static custos_status verify_encrypted(bag *b, custos_bundle_summary *sum,
		const char *path, const custos_bundle_verify_options *o)
{
	transfer t;
	unsigned char *text = NULL, d[32];
	size_t len = 0;
	char *dir = NULL;
	parts_in pin;
	age_in ain;
	struct archive *a = NULL;
	custos_status st;
	custos_sign_verify_options vo;
	custos_sign_verification *v = NULL;

	memset(&t, 0, sizeof(t));
	memset(&ain, 0, sizeof(ain));
	pin.fd = -1;
	if (o->identity_count == 0)
		return custos__error_set(b->err, CUSTOS_EINVAL,
			"an encrypted bundle needs an identity (-i)");
	custos_sign_verify_options_init(&vo);
	vo.trust = o->trust;
	vo.trust_count = o->trust_count;
	st = custos_sign_verify_file(&v, path, &vo, b->err);
	if (st == CUSTOS_OK && v != NULL &&
	    custos_sign_verification_signature_path(v) == NULL)
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"transfer manifest is not signed (.p7s missing)");
	else if (st == CUSTOS_EMISMATCH)
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"transfer manifest signature: %s",
			custos_sign_verification_message(v));
	custos_sign_verification_free(v);
	if (st != CUSTOS_OK)
		return st;
	if ((st = read_small(&text, &len, path, MANIFEST_MAX, b->err)) !=
			CUSTOS_OK)
		return st;
	EVP_Digest(text, len, d, NULL, EVP_sha256(), NULL);
	hex(sum->transfer_manifest_sha256, d, 32);
	dir = custos__dirname(path);
	if (dir == NULL) {
		st = custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	t.dir = dir;
	if ((st = each_line(b, (char *)text, transfer_line, &t)) != CUSTOS_OK)
		goto out;
	if (!t.header_ok || t.bundle_id[0] == '\0' || t.n != t.part_count ||
	    t.n == 0) {
		st = custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest: incomplete (id, parts)");
		goto out;
	}
	sum->encrypted = 1;
	sum->part_count = (unsigned int)t.n;
	snprintf(sum->bundle_id, sizeof(sum->bundle_id), "%s", t.bundle_id);
	if ((st = check_parts(b, &t)) != CUSTOS_OK)
		goto out;
	/* Pass 2: decrypt and read the tar, without extracting. */
	pin.t = &t;
	pin.i = 0;
	ain.err = b->err;
	ain.buf = malloc(IO_BLOCK);
	if (ain.buf == NULL) {
		st = custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	st = custos_age_reader_new(&ain.r, o->identities, o->identity_count,
		parts_source, &pin, b->err);
	if (st != CUSTOS_OK)
		goto out;
	a = archive_read_new();
	if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, &ain, NULL, archive_in, NULL) != ARCHIVE_OK) {
		st = ain.st != CUSTOS_OK ? ain.st :
			custos__error_set(b->err, CUSTOS_EFORMAT,
				"decrypted stream is not a tar");
		goto out;
	}
	b->from_tar = 1;
	b->payload_algs = (1u << ALG_SHA256) | (1u << ALG_SHA512);
	if ((st = bag_from_archive(b, a, &ain.st)) != CUSTOS_OK)
		goto out;
	/* Drain: only a complete age stream (final chunk) authenticates. */
	for (;;) {
		size_t got = 0;
		st = custos_age_reader_read(ain.r, ain.buf, IO_BLOCK, &got, b->err);
		if (st != CUSTOS_OK || got == 0)
			break;
	}
	if (st != CUSTOS_OK)
		goto out;
	if (b->root == NULL || strcmp(b->root, t.bundle_id) != 0) {
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"the bag folder is not the bundle id of the transfer "
			"manifest");
		goto out;
	}
	st = bag_check(b, 1, o->trust, o->trust_count);
out:
	if (a != NULL)
		archive_read_free(a);
	custos_age_reader_free(ain.r);
	free(ain.buf);
	if (pin.fd >= 0)
		close(pin.fd);
	for (size_t i = 0; i < t.n; i++)
		free(t.parts[i].path);
	free(t.parts);
	free(dir);
	free(text);
	return st;
}

static custos_status bundle_run(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		const char *extract_dir, custos_error *err)
{
	custos_bundle_summary local;
	custos_bundle_verify_options dflt;
	bag b;
	struct stat sb;
	custos_status st;

	if (summary == NULL)
		summary = &local;
	memset(summary, 0, sizeof(*summary));
	if (o == NULL) {
		custos_bundle_verify_options_init(&dflt);
		o = &dflt;
	}
	if (path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no bundle given");
	if (stat(path, &sb) != 0)
		return custos__error_errno(err, errno, "%s", path);
	memset(&b, 0, sizeof(b));
	b.err = err;
	b.extract_dir = extract_dir;
	if (extract_dir != NULL && S_ISDIR(sb.st_mode))
		return custos__error_set(err, CUSTOS_EINVAL,
			"%s is a folder already; nothing to open", path);
	b.buf = malloc(IO_BLOCK);
	b.buf2 = malloc(IO_BLOCK);
	if (b.buf == NULL || b.buf2 == NULL) {
		bag_free(&b);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	if (S_ISDIR(sb.st_mode)) {
		b.payload_algs = ALL_ALGS;
		st = bag_from_dir(&b, path, "", 0);
		if (st == CUSTOS_OK)
			st = bag_check(&b, 0, o->trust, o->trust_count);
		snprintf(summary->bundle_id, sizeof(summary->bundle_id), "%s",
			custos__basename(path));
	} else {
		char head[32] = {0};
		FILE *f = fopen(path, "rb");
		size_t n = f ? fread(head, 1, sizeof(head) - 1, f) : 0;
		if (f != NULL)
			fclose(f);
		if (n >= 27 && memcmp(head, "Custos-Transfer-Manifest: ", 26) == 0) {
			st = verify_encrypted(&b, summary, path, o);
		} else {
			struct archive *a = archive_read_new();
			b.from_tar = 1;
			b.payload_algs = ALL_ALGS;
			if (a == NULL || archive_read_support_format_tar(a) !=
					ARCHIVE_OK ||
			    archive_read_open_filename(a, path, IO_BLOCK) !=
					ARCHIVE_OK) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"%s: not a tar, bag folder or transfer "
					"manifest", path);
			} else {
				st = bag_from_archive(&b, a, NULL);
				if (st == CUSTOS_OK)
					st = bag_check(&b, 0, o->trust,
						o->trust_count);
			}
			if (a != NULL)
				archive_read_free(a);
		}
		if (b.root != NULL && !summary->encrypted)
			snprintf(summary->bundle_id, sizeof(summary->bundle_id),
				"%s", b.root);
	}
	summary->payload_bytes = b.payload_bytes;
	summary->payload_files = b.payload_files;
	memcpy(summary->tagmanifest_sha512, b.tagmanifest_sha512,
		sizeof(summary->tagmanifest_sha512));
	memcpy(summary->request_reference, b.request_reference,
		sizeof(summary->request_reference));
	summary->tagmanifest_signed = st == CUSTOS_OK &&
		bag_find(&b, "signature/tagmanifest-sha512.txt.p7s") != NULL;
	bag_free(&b);
	return st;
}

custos_status custos_bundle_verify(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		custos_error *err)
{
	return bundle_run(summary, path, o, NULL, err);
}

custos_status custos_bundle_open(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		const char *dest, custos_error *err)
{
	custos_status st;
	char *bad;

	if (dest == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no folder to open into");
	if (custos__path_exists(dest))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s exists; open extracts into a new folder", dest);
	/* Pass 1: verify everything without writing a byte. */
	st = bundle_run(summary, path, o, NULL, err);
	if (st != CUSTOS_OK)
		return st;
	if (mkdir(dest, 0700) != 0)
		return custos__error_errno(err, errno, "%s", dest);
	/* Pass 2: extract, checking everything again (the parts could have
	 * changed in between). */
	st = bundle_run(summary, path, o, dest, err);
	if (st == CUSTOS_OK)
		return CUSTOS_OK;
	bad = custos__aprintf("%s.UNVERIFIED", dest);
	if (bad != NULL && rename(dest, bad) == 0) {
		char why[CUSTOS_ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
		custos__error_set(err, st, "failed during extraction (%s); "
			"the files were moved to %s and must not be relied on",
			why, bad);
	}
	free(bad);
	return st;
}
