/*
 * Fuzz target: a whole custody log folder from untrusted bytes, verified
 * with custos_custody_verify.
 *
 * Input: length-prefixed parts (4 bytes big-endian, then the bytes), in
 * this order: log.jsonl, a checkpoint note (written as
 * checkpoints/N.note, N its second line), keys/log.vkey, tree.state,
 * keys/ca-0.pem, then sig/00000000.p7s, sig/00000001.p7s, ...  Missing
 * parts are absent files.  Invariants, beyond not crashing or leaking:
 * - the status is one of the documented ones, with a verification object
 *   exactly when the log was checked (OK or EMISMATCH);
 * - an accepted log verifies again identically (records, head);
 * - its head is the RFC 6962 root recomputed here over its lines with
 *   src/merkle.c's public functions, and it counts every line;
 * - tree.state (a file the verifier must never trust) changes nothing;
 * - a byte flipped in an accepted line is never accepted with the same
 *   head.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer (README.md
 * here); replay.c runs the seed corpus in meson test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custos/custos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 64
#define MAX_LINES 4096

typedef struct part {
	const uint8_t *p;
	size_t len;
} part;

static char dir[64];
static char names[MAX_PARTS][64];
static size_t name_count;

static void put_file(const char *rel, const uint8_t *p, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (len > 0 && fwrite(p, 1, len, f) != len)
		abort();
	if (fclose(f) != 0)
		abort();
	if (name_count < MAX_PARTS)
		snprintf(names[name_count++], sizeof(names[0]), "%s", rel);
}

static void clean(void)
{
	static const char *const subdirs[] = {"sig", "checkpoints", "keys",
		"quarantine"};
	char path[256];

	for (size_t i = 0; i < name_count; i++) {
		snprintf(path, sizeof(path), "%s/%.63s", dir, names[i]);
		(void)unlink(path);
	}
	name_count = 0;
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		(void)rmdir(path);
	}
	(void)rmdir(dir);
}

static custos_status verify(custos_custody_verification **v)
{
	custos_custody_verify_options o;

	custos_custody_verify_options_init(&o);
	o.threads = 1;
	return custos_custody_verify(v, dir, &o, NULL);
}

/* The RFC 6962 head of the lines of log (each with its LF), base64. */
static int head_of(char out[64], const uint8_t *log, size_t len,
		uint64_t *lines)
{
	static custos_merkle_hash leaves[MAX_LINES];
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+/";
	custos_merkle_hash root;
	size_t off = 0, n = 0, o = 0;

	while (off < len) {
		const uint8_t *nl = memchr(log + off, '\n', len - off);

		if (nl == NULL || n == MAX_LINES)
			return 0;
		custos_merkle_leaf_hash(leaves[n++], log + off,
			(size_t)(nl - log - off) + 1);
		off = (size_t)(nl - log) + 1;
	}
	custos_merkle_root(root, leaves, n);
	for (size_t i = 0; i < 32; i += 3) {
		uint32_t w = (uint32_t)root[i] << 16 |
			(i + 1 < 32 ? (uint32_t)root[i + 1] << 8 : 0) |
			(i + 2 < 32 ? root[i + 2] : 0);

		out[o++] = b64[w >> 18 & 63];
		out[o++] = b64[w >> 12 & 63];
		out[o++] = i + 1 < 32 ? b64[w >> 6 & 63] : '=';
		out[o++] = i + 2 < 32 ? b64[w & 63] : '=';
	}
	out[o] = '\0';
	*lines = n;
	return 1;
}

static size_t split(const uint8_t *data, size_t size, part *parts)
{
	size_t n = 0, off = 0;

	while (n < MAX_PARTS && size - off >= 4) {
		size_t len = (size_t)data[off] << 24 |
			(size_t)data[off + 1] << 16 |
			(size_t)data[off + 2] << 8 | data[off + 3];

		off += 4;
		if (len > size - off)
			len = size - off;
		parts[n].p = data + off;
		parts[n].len = len;
		n++;
		off += len;
	}
	return n;
}

static void write_folder(const part *parts, size_t n, int with_state)
{
	char rel[80];

	for (size_t i = 0; i < n; i++) {
		if (i == 0) {
			put_file("log.jsonl", parts[i].p, parts[i].len);
		} else if (i == 1) {
			unsigned long long cp = 0;
			const uint8_t *nl = memchr(parts[i].p, '\n',
				parts[i].len);

			if (nl != NULL)
				cp = strtoull((const char *)nl + 1, NULL, 10);
			snprintf(rel, sizeof(rel), "checkpoints/%llu.note",
				cp % 100000);
			put_file(rel, parts[i].p, parts[i].len);
		} else if (i == 2) {
			put_file("keys/log.vkey", parts[i].p, parts[i].len);
		} else if (i == 3) {
			if (with_state)
				put_file("tree.state", parts[i].p,
					parts[i].len);
		} else if (i == 4) {
			put_file("keys/ca-0.pem", parts[i].p, parts[i].len);
		} else {
			snprintf(rel, sizeof(rel), "sig/%08zu.p7s", i - 5);
			put_file(rel, parts[i].p, parts[i].len);
		}
	}
}

static void make_dirs(void)
{
	static const char *const subdirs[] = {"sig", "checkpoints", "keys",
		"quarantine"};
	char path[256];

	snprintf(dir, sizeof(dir), "%s/fuzz-custody-XXXXXX",
		getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 30
			? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (mkdir(path, 0755) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	part parts[MAX_PARTS];
	custos_custody_verification *v = NULL, *v2 = NULL;
	custos_status st, st2;
	size_t n;
	char want[64];
	uint64_t lines = 0;

	if (size > (1u << 20))
		return 0;
	n = split(data, size, parts);
	if (n == 0)
		return 0;
	make_dirs();
	write_folder(parts, n, 1);
	st = verify(&v);
	if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH && st != CUSTOS_EFORMAT &&
	    st != CUSTOS_EINVAL && st != CUSTOS_ENOMEM && st != CUSTOS_EIO &&
	    st != CUSTOS_ENOTFOUND)
		abort();
	if ((v != NULL) != (st == CUSTOS_OK || st == CUSTOS_EMISMATCH))
		abort();
	if (st == CUSTOS_OK) {
		uint8_t *log;
		char path[256];
		FILE *f;

		/* Identically again. */
		st2 = verify(&v2);
		if (st2 != CUSTOS_OK ||
		    custos_custody_verification_records(v2) !=
			    custos_custody_verification_records(v) ||
		    strcmp(custos_custody_verification_root(v2),
			    custos_custody_verification_root(v)) != 0)
			abort();
		custos_custody_verification_free(v2);
		v2 = NULL;
		/* The head is the RFC 6962 root of the lines. */
		if (!head_of(want, parts[0].p, parts[0].len, &lines) ||
		    lines != custos_custody_verification_records(v) ||
		    strcmp(want, custos_custody_verification_root(v)) != 0)
			abort();
		/* tree.state changes nothing. */
		if (n > 3) {
			snprintf(path, sizeof(path), "%s/tree.state", dir);
			(void)unlink(path);
			st2 = verify(&v2);
			if (st2 != CUSTOS_OK || strcmp(want,
				    custos_custody_verification_root(v2)) != 0)
				abort();
			custos_custody_verification_free(v2);
			v2 = NULL;
			put_file("tree.state", parts[3].p, parts[3].len);
		}
		/* A flipped byte is never accepted with the same head. */
		if (parts[0].len > 1) {
			size_t at = (size_t)(data[size - 1] * 2654435761u) %
				(parts[0].len - 1);

			log = malloc(parts[0].len);
			if (log == NULL)
				abort();
			memcpy(log, parts[0].p, parts[0].len);
			log[at] ^= (uint8_t)(1u << (size % 8));
			snprintf(path, sizeof(path), "%s/log.jsonl", dir);
			f = fopen(path, "wb");
			if (f == NULL || fwrite(log, 1, parts[0].len, f) !=
					parts[0].len || fclose(f) != 0)
				abort();
			st2 = verify(&v2);
			if (st2 == CUSTOS_OK && strcmp(want,
				    custos_custody_verification_root(v2)) == 0)
				abort();
			custos_custody_verification_free(v2);
			free(log);
		}
	}
	custos_custody_verification_free(v);
	clean();
	return 0;
}
