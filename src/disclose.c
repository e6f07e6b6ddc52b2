/*
 * Making a disclosure package: resolve the selections to extents (files
 * through The Sleuth Kit), take the blocks that cover them, check each
 * against the block map, prove each against the report's root, and write
 * a flat BagIt bag: data/disclosure.json, data/block-N.bin per block, the
 * reassembled content, the report, its signature and the custody record.
 * Everything is written in the private folder OUT.part, then renamed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "blockmap_private.h"
#include "custos/version.h"
#include "disclose_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#define REPORT_MAX (8u << 20)
#define IO_CHUNK (1u << 20)

void custos_disclose_options_init(custos_disclose_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_DISCLOSE_OPTIONS_VERSION;
}

/* One payload file, for the manifests. */
typedef struct payload {
	char *name;
	char sha256[65], sha512[129];
} payload;

typedef struct item {
	int is_file;
	char *request;
	custos__tsk_file f;          /* files; a range has one extent */
	char sha256[65];
	char *content;               /* payload name */
} item;

typedef struct job {
	const custos_disclose_options *o;
	custos_error *err;
	custos_image *img;
	custos_blockmap *map;
	custos_blockmap_claim claim;
	char *work;                  /* OUT.part */
	char *data;                  /* OUT.part/data */
	payload *files;
	size_t file_count;
	item *items;
	size_t item_count;
	uint64_t *blocks;
	size_t block_count;
	json_t *json_blocks;
} job;

static void hex(char *out, const unsigned char *in, size_t n)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Two digests at once: SHA-256 (and SHA-512 for the bag). */
typedef struct hasher {
	EVP_MD_CTX *a, *b;
} hasher;

static int hasher_init(hasher *h)
{
	h->a = EVP_MD_CTX_new();
	h->b = EVP_MD_CTX_new();
	return h->a != NULL && h->b != NULL &&
		EVP_DigestInit_ex2(h->a, EVP_sha256(), NULL) == 1 &&
		EVP_DigestInit_ex2(h->b, EVP_sha512(), NULL) == 1 ? 0 : -1;
}

static void hasher_update(hasher *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->a, p, n);
	EVP_DigestUpdate(h->b, p, n);
}

static void hasher_final(hasher *h, char s256[65], char s512[129])
{
	unsigned char md[64];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->a, md, &n);
	hex(s256, md, 32);
	EVP_DigestFinal_ex(h->b, md, &n);
	hex(s512, md, 64);
	EVP_MD_CTX_free(h->a);
	EVP_MD_CTX_free(h->b);
	h->a = h->b = NULL;
}

static custos_status add_payload(job *j, const char *name, const char *s256,
		const char *s512)
{
	payload *g = realloc(j->files, (j->file_count + 1) * sizeof(*g));

	if (g == NULL)
		return custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	j->files = g;
	g = &j->files[j->file_count];
	g->name = strdup(name);
	if (g->name == NULL)
		return custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	memcpy(g->sha256, s256, 65);
	memcpy(g->sha512, s512, 129);
	j->file_count++;
	return CUSTOS_OK;
}

/* A new file in the private folder: created exclusively, synced. */
static custos_status write_new(job *j, const char *dir, const char *name,
		const void *data, size_t len, int payload_file)
{
	char *path = custos__aprintf("%s/%s", dir, name);
	custos_status st;
	int fd = -1;

	if (path == NULL)
		return custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	st = custos__create_exclusive(&fd, path, 0600, j->err);
	if (st == CUSTOS_OK)
		st = custos__write_all(fd, data, len, path, j->err);
	if (st == CUSTOS_OK && fsync(fd) != 0)
		st = custos__error_errno(j->err, errno, "cannot sync %s", path);
	if (fd >= 0 && close(fd) != 0 && st == CUSTOS_OK)
		st = custos__error_errno(j->err, errno, "cannot close %s", path);
	free(path);
	if (st == CUSTOS_OK && payload_file) {
		hasher h;
		char s256[65], s512[129];

		if (hasher_init(&h) != 0)
			return custos__error_set(j->err, CUSTOS_ENOMEM,
				"out of memory");
		hasher_update(&h, data, len);
		hasher_final(&h, s256, s512);
		st = add_payload(j, name, s256, s512);
	}
	return st;
}

/* Copy an input file (report, signature, record) into data/. */
static custos_status copy_in(job *j, const char *path, char sha256[65])
{
	unsigned char *data = NULL;
	size_t len = 0;
	custos_status st = custos__read_file_max(path, REPORT_MAX, &data, &len,
		"input", j->err);

	if (st == CUSTOS_OK)
		st = write_new(j, j->data, custos__basename(path), data, len, 1);
	if (st == CUSTOS_OK && sha256 != NULL)
		memcpy(sha256, j->files[j->file_count - 1].sha256, 65);
	free(data);
	return st;
}

/* --- selections --- */

static custos_status add_item(job *j, item *it)
{
	item *g;

	if (j->item_count >= CUSTOS_DISCLOSE_MAX_ITEMS)
		return custos__error_set(j->err, CUSTOS_EINVAL,
			"more than %d selections", CUSTOS_DISCLOSE_MAX_ITEMS);
	g = realloc(j->items, (j->item_count + 1) * sizeof(*g));
	if (g == NULL)
		return custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	j->items = g;
	j->items[j->item_count++] = *it;
	return CUSTOS_OK;
}

static custos_status resolve(job *j)
{
	const custos_disclose_options *o = j->o;
	uint64_t media = custos_blockmap_media_size(j->map);
	custos__tsk *t = NULL;
	custos_status st = CUSTOS_OK;

	for (size_t i = 0; st == CUSTOS_OK && i < o->range_count; i++) {
		const custos_disclose_range *r = &o->ranges[i];
		item it;

		memset(&it, 0, sizeof(it));
		if (r->length == 0 || r->offset >= media ||
		    r->length > media - r->offset)
			return custos__error_set(j->err, CUSTOS_EINVAL,
				"bytes %llu+%llu lie outside the media (%llu "
				"bytes)", (unsigned long long)r->offset,
				(unsigned long long)r->length,
				(unsigned long long)media);
		it.request = custos__aprintf("bytes %llu+%llu",
			(unsigned long long)r->offset,
			(unsigned long long)r->length);
		it.f.extents = calloc(1, sizeof(custos__extent));
		if (it.request == NULL || it.f.extents == NULL) {
			free(it.request);
			free(it.f.extents);
			return custos__error_set(j->err, CUSTOS_ENOMEM,
				"out of memory");
		}
		it.f.extent_count = 1;
		it.f.extents[0].image_offset = r->offset;
		it.f.extents[0].length = r->length;
		it.f.size = r->length;
		st = add_item(j, &it);
	}
	if (st != CUSTOS_OK || o->path_count + o->inode_count == 0)
		return st;
	st = custos__tsk_open(&t, j->img, j->err);
	for (size_t i = 0; st == CUSTOS_OK &&
	     i < o->path_count + o->inode_count; i++) {
		item it;

		memset(&it, 0, sizeof(it));
		it.is_file = 1;
		if (i < o->path_count) {
			it.request = strdup(o->paths[i]);
			st = custos__tsk_file_by_path(t, o->paths[i], &it.f,
				j->err);
		} else {
			uint64_t ino = o->inodes[i - o->path_count];

			it.request = custos__aprintf("inode %llu",
				(unsigned long long)ino);
			st = custos__tsk_file_by_inode(t, ino, &it.f, j->err);
		}
		if (st == CUSTOS_OK && it.request == NULL)
			st = custos__error_set(j->err, CUSTOS_ENOMEM,
				"out of memory");
		for (size_t k = 0; st == CUSTOS_OK && k < it.f.extent_count;
		     k++) {
			const custos__extent *x = &it.f.extents[k];

			if (!x->sparse && (x->image_offset >= media ||
			    x->length > media - x->image_offset))
				st = custos__error_set(j->err, CUSTOS_EFORMAT,
					"%s: an extent lies outside the media",
					it.request);
		}
		if (st == CUSTOS_OK)
			st = add_item(j, &it);
		else {
			free(it.request);
			custos__tsk_file_clear(&it.f);
		}
	}
	custos__tsk_close(t);
	return st;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static custos_status covering_blocks(job *j)
{
	uint32_t bs = custos_blockmap_block_size(j->map);
	size_t cap = 0, n = 0;
	uint64_t *v = NULL;

	for (size_t i = 0; i < j->item_count; i++)
		for (size_t k = 0; k < j->items[i].f.extent_count; k++) {
			const custos__extent *x = &j->items[i].f.extents[k];

			if (x->sparse || x->length == 0)
				continue;
			for (uint64_t b = x->image_offset / bs;
			     b <= (x->image_offset + x->length - 1) / bs; b++) {
				if (n == cap) {
					uint64_t *g;

					if (cap >= CUSTOS_DISCLOSE_MAX_BLOCKS * 2u) {
						free(v);
						return custos__error_set(j->err,
							CUSTOS_EINVAL, "more than "
							"%u blocks", CUSTOS_DISCLOSE_MAX_BLOCKS);
					}
					cap = cap ? cap * 2 : 256;
					g = realloc(v, cap * sizeof(*g));
					if (g == NULL) {
						free(v);
						return custos__error_set(j->err,
							CUSTOS_ENOMEM, "out of memory");
					}
					v = g;
				}
				v[n++] = b;
				/* Neighbouring extents share blocks: drop
				 * repeats early to bound the list. */
				if (n > 1 && v[n - 2] == b)
					n--;
			}
		}
	if (n > 0)
		qsort(v, n, sizeof(*v), u64_cmp);
	j->block_count = 0;
	for (size_t i = 0; i < n; i++)
		if (j->block_count == 0 || v[j->block_count - 1] != v[i])
			v[j->block_count++] = v[i];
	if (j->block_count > CUSTOS_DISCLOSE_MAX_BLOCKS) {
		free(v);
		return custos__error_set(j->err, CUSTOS_EINVAL,
			"more than %u blocks", CUSTOS_DISCLOSE_MAX_BLOCKS);
	}
	j->blocks = v;
	return CUSTOS_OK;
}

/* --- writing --- */

static custos_status write_blocks(job *j, custos_disclose_summary *sum)
{
	uint32_t bs = custos_blockmap_block_size(j->map);
	uint64_t media = custos_blockmap_media_size(j->map);
	custos_merkle_hash (*proofs)[CUSTOS_MERKLE_PROOF_MAX];
	size_t *lengths;
	unsigned char *buf = malloc(bs);
	custos_status st;

	proofs = calloc(j->block_count ? j->block_count : 1, sizeof(*proofs));
	lengths = calloc(j->block_count ? j->block_count : 1, sizeof(*lengths));
	j->json_blocks = json_array();
	if (proofs == NULL || lengths == NULL || buf == NULL) {
		st = custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	st = custos__blockmap_proofs(j->map, j->blocks, j->block_count, proofs,
		lengths, j->err);
	for (size_t i = 0; st == CUSTOS_OK && i < j->block_count; i++) {
		uint64_t b = j->blocks[i], off = b * bs;
		size_t len = media - off < bs ? (size_t)(media - off) : bs;
		custos_merkle_hash want, got;
		char name[64], h[65];
		json_t *proof = json_array();

		st = custos_image_read(j->img, buf, len, off, j->err);
		if (st == CUSTOS_OK)
			st = custos_blockmap_leaf(j->map, b, want, j->err);
		if (st != CUSTOS_OK) {
			json_decref(proof);
			break;
		}
		EVP_Digest(buf, len, got, NULL, EVP_sha256(), NULL);
		if (memcmp(want, got, sizeof(got)) != 0) {
			json_decref(proof);
			st = custos__error_set(j->err, CUSTOS_EMISMATCH,
				"block %llu (bytes %llu-%llu) of the image "
				"differs from the block map: the image is "
				"damaged there; no package was made",
				(unsigned long long)b, (unsigned long long)off,
				(unsigned long long)(off + len - 1));
			break;
		}
		snprintf(name, sizeof(name), "block-%012llu.bin",
			(unsigned long long)b);
		st = write_new(j, j->data, name, buf, len, 1);
		hex(h, got, 32);
		for (size_t k = 0; k < lengths[i]; k++) {
			char ph[65];

			hex(ph, proofs[i][k], 32);
			json_array_append_new(proof, json_string(ph));
		}
		if (lengths[i] > sum->longest_proof)
			sum->longest_proof = lengths[i];
		json_array_append_new(j->json_blocks, json_pack(
			"{s:I, s:I, s:I, s:s, s:s, s:o}",
			"index", (json_int_t)b, "offset", (json_int_t)off,
			"length", (json_int_t)len, "sha256", h, "file", name,
			"proof", proof));
		sum->blocks++;
		sum->block_bytes += len;
	}
done:
	free(proofs);
	free(lengths);
	free(buf);
	return st;
}

/* A name safe in a bag manifest: letters, digits, . _ - only. */
static void safe_name(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < cap && n < 64; in++) {
		char c = *in;

		out[n++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-') ? c : '_';
	}
	out[n] = '\0';
}

/* Reassemble an item's content from the image into data/NAME. */
static custos_status write_content(job *j, item *it, size_t index)
{
	char base[80], name[128], s512[129], *path;
	unsigned char *buf = malloc(IO_CHUNK);
	custos_status st = CUSTOS_OK;
	hasher h;
	int fd = -1;

	safe_name(base, sizeof(base), it->is_file
		? custos__basename(it->f.path) : "range.bin");
	snprintf(name, sizeof(name), "content-%03zu-%s", index + 1, base);
	path = custos__aprintf("%s/%s", j->data, name);
	if (buf == NULL || path == NULL || hasher_init(&h) != 0) {
		free(buf);
		free(path);
		return custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	}
	st = custos__create_exclusive(&fd, path, 0600, j->err);
	for (size_t k = 0; st == CUSTOS_OK && k < it->f.extent_count; k++) {
		const custos__extent *x = &it->f.extents[k];

		for (uint64_t done = 0; st == CUSTOS_OK && done < x->length;) {
			size_t n = x->length - done < IO_CHUNK
				? (size_t)(x->length - done) : IO_CHUNK;

			if (x->sparse)
				memset(buf, 0, n);
			else
				st = custos_image_read(j->img, buf, n,
					x->image_offset + done, j->err);
			if (st == CUSTOS_OK)
				st = custos__write_all(fd, buf, n, path, j->err);
			hasher_update(&h, buf, n);
			done += n;
		}
	}
	if (st == CUSTOS_OK && fsync(fd) != 0)
		st = custos__error_errno(j->err, errno, "cannot sync %s", path);
	if (fd >= 0)
		close(fd);
	hasher_final(&h, it->sha256, s512);
	if (st == CUSTOS_OK)
		st = add_payload(j, name, it->sha256, s512);
	if (st == CUSTOS_OK && (it->content = strdup(name)) == NULL)
		st = custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	free(buf);
	free(path);
	return st;
}

static json_t *jtime(int64_t t)
{
	char s[CUSTOS__RFC3339_MAX];

	if (t == 0)
		return json_null();
	custos__time_rfc3339(s, (time_t)t);
	return json_string(s);
}

static json_t *item_json(const item *it)
{
	json_t *ext = json_array(), *o;

	for (size_t k = 0; k < it->f.extent_count; k++) {
		const custos__extent *x = &it->f.extents[k];

		json_array_append_new(ext, x->sparse
			? json_pack("{s:I, s:I, s:b}", "file_offset",
				(json_int_t)x->file_offset, "length",
				(json_int_t)x->length, "sparse", 1)
			: json_pack("{s:I, s:I, s:I}", "file_offset",
				(json_int_t)x->file_offset, "image_offset",
				(json_int_t)x->image_offset, "length",
				(json_int_t)x->length));
	}
	o = json_pack("{s:s, s:s, s:I, s:o, s:s, s:s}",
		"kind", it->is_file ? "file" : "range",
		"request", it->request,
		"size_bytes", (json_int_t)it->f.size,
		"extents", ext,
		"sha256", it->sha256,
		"content", it->content);
	if (it->is_file) {
		json_object_set_new(o, "path", json_string(it->f.path));
		json_object_set_new(o, "inode", json_integer(
			(json_int_t)it->f.inode));
		json_object_set_new(o, "type", json_string(it->f.type));
		json_object_set_new(o, "mode", json_integer(it->f.mode));
		json_object_set_new(o, "file_system", json_pack(
			"{s:s, s:I}", "type", it->f.fs_type ? it->f.fs_type
			: "unknown", "offset", (json_int_t)it->f.fs_offset));
		json_object_set_new(o, "times", json_pack(
			"{s:o, s:o, s:o, s:o}", "modified", jtime(it->f.mtime),
			"accessed", jtime(it->f.atime),
			"changed", jtime(it->f.ctime),
			"created", jtime(it->f.crtime)));
	}
	return o;
}

static custos_status write_description(job *j, const char *report_sha,
		const char *sig_name, const char *record_name,
		const char *record_sha)
{
	json_t *root, *items = json_array();
	char now[CUSTOS__RFC3339_MAX], *text;
	custos_status st;

	custos__time_rfc3339(now, time(NULL));
	for (size_t i = 0; i < j->item_count; i++)
		json_array_append_new(items, item_json(&j->items[i]));
	root = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:o}, s:o, "
		"s:{s:s, s:i, s:I, s:I, s:s}, s:o, s:o}",
		"custos_disclosure", CUSTOS_DISCLOSE_FORMAT,
		"created_at", now,
		"tool", custos_version(),
		"report", "file", custos__basename(j->o->report_path),
		  "sha256", report_sha,
		  "signature", sig_name ? json_string(sig_name) : json_null(),
		"custody_record", record_name ? json_pack("{s:s, s:s}", "file",
			record_name, "sha256", record_sha) : json_null(),
		"block_map", "algorithm", "sha256",
		  "block_size_bytes", (int)custos_blockmap_block_size(j->map),
		  "leaf_count", (json_int_t)custos_blockmap_leaf_count(j->map),
		  "media_size_bytes",
		  (json_int_t)custos_blockmap_media_size(j->map),
		  "root", custos_blockmap_root_hex(j->map),
		"blocks", j->json_blocks,
		"items", items);
	j->json_blocks = NULL;
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII)
		    : NULL;
	json_decref(root);
	if (text == NULL)
		return custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	st = write_new(j, j->data, "disclosure.json", text, strlen(text), 1);
	free(text);
	return st;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const payload *)a)->name, ((const payload *)b)->name);
}

/* bagit.txt, bag-info.txt, the manifests and the tag manifests. */
static custos_status write_bag(job *j, const custos_disclose_summary *sum)
{
	const char *tags[] = {"bagit.txt", "bag-info.txt",
			      "manifest-sha256.txt", "manifest-sha512.txt"};
	char *text[4] = {NULL};
	custos_status st = CUSTOS_OK;
	char date[16];
	time_t now = time(NULL);
	struct tm tm;
	size_t cap = 0;

	qsort(j->files, j->file_count, sizeof(*j->files), name_cmp);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	text[0] = strdup("BagIt-Version: 1.0\nTag-File-Character-Encoding: "
		"UTF-8\n");
	text[1] = custos__aprintf("Bagging-Date: %s\nBag-Software-Agent: "
		"custos-disclose %s\nPayload-Oxum: %llu.%zu\n"
		"Internal-Sender-Description: custos disclosure package: "
		"%llu blocks of the image, with proofs against the signed "
		"report's block map root %s\n", date, custos_version(),
		(unsigned long long)0, j->file_count,
		(unsigned long long)sum->blocks,
		custos_blockmap_root_hex(j->map));
	for (size_t i = 0; i < j->file_count; i++)
		cap += strlen(j->files[i].name) + 140;
	text[2] = malloc(cap + 1);
	text[3] = malloc(cap + 1);
	if (text[0] == NULL || text[1] == NULL || text[2] == NULL ||
	    text[3] == NULL)
		st = custos__error_set(j->err, CUSTOS_ENOMEM, "out of memory");
	if (st == CUSTOS_OK) {
		size_t a = 0, b = 0;
		uint64_t bytes = 0;

		text[2][0] = text[3][0] = '\0';
		for (size_t i = 0; i < j->file_count; i++) {
			char *p = custos__aprintf("%s/%s", j->data,
				j->files[i].name);
			struct stat sb;

			if (p != NULL && stat(p, &sb) == 0)
				bytes += (uint64_t)sb.st_size;
			free(p);
			a += (size_t)snprintf(text[2] + a, cap + 1 - a,
				"%s  data/%s\n", j->files[i].sha256,
				j->files[i].name);
			b += (size_t)snprintf(text[3] + b, cap + 1 - b,
				"%s  data/%s\n", j->files[i].sha512,
				j->files[i].name);
		}
		free(text[1]);
		text[1] = custos__aprintf("Bagging-Date: %s\n"
			"Bag-Software-Agent: custos-disclose %s\n"
			"Payload-Oxum: %llu.%zu\n"
			"Internal-Sender-Description: custos disclosure "
			"package: %llu blocks of the image, proven against "
			"the signed report's block map root %s\n", date,
			custos_version(), (unsigned long long)bytes,
			j->file_count, (unsigned long long)sum->blocks,
			custos_blockmap_root_hex(j->map));
		if (text[1] == NULL)
			st = custos__error_set(j->err, CUSTOS_ENOMEM,
				"out of memory");
	}
	for (size_t i = 0; st == CUSTOS_OK && i < 4; i++)
		st = write_new(j, j->work, tags[i], text[i], strlen(text[i]), 0);
	for (int alg = 0; st == CUSTOS_OK && alg < 2; alg++) {
		char tm_text[4 * 200], *p = tm_text;
		size_t left = sizeof(tm_text);

		for (size_t i = 0; i < 4; i++) {
			unsigned char md[64];
			char h[129];

			EVP_Digest(text[i], strlen(text[i]), md, NULL,
				alg ? EVP_sha512() : EVP_sha256(), NULL);
			hex(h, md, alg ? 64 : 32);
			size_t w = (size_t)snprintf(p, left, "%s  %s\n", h,
				tags[i]);
			p += w;
			left -= w;
		}
		st = write_new(j, j->work, alg ? "tagmanifest-sha512.txt"
			: "tagmanifest-sha256.txt", tm_text, strlen(tm_text), 0);
	}
	for (size_t i = 0; i < 4; i++)
		free(text[i]);
	return st;
}

custos_status custos_disclose_create(const custos_disclose_options *o,
		custos_disclose_summary *summary, custos_error *err)
{
	custos_disclose_summary local;
	unsigned char *report = NULL;
	size_t report_len = 0;
	char report_sha[65] = "", record_sha[65] = "", *sig = NULL;
	const char *sig_name = NULL, *record_name = NULL;
	custos_status st;
	job j;

	if (summary == NULL)
		summary = &local;
	memset(summary, 0, sizeof(*summary));
	if (o == NULL || o->version != CUSTOS_DISCLOSE_OPTIONS_VERSION ||
	    o->image_paths == NULL || o->image_count == 0 ||
	    o->blockmap_path == NULL || o->report_path == NULL ||
	    o->output == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"an image, its block map, its report and an output "
			"are needed");
	if (o->range_count + o->path_count + o->inode_count == 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"nothing chosen to disclose");
	memset(&j, 0, sizeof(j));
	j.o = o;
	j.err = err;
	st = custos__read_file_max(o->report_path, REPORT_MAX, &report,
		&report_len, "report", err);
	if (st == CUSTOS_OK)
		st = custos_blockmap_claim_parse(&j.claim, (const char *)report,
			report_len, err);
	free(report);
	if (st == CUSTOS_OK)
		st = custos_blockmap_open(&j.map, o->blockmap_path, err);
	if (st == CUSTOS_OK)
		st = custos_blockmap_check_claim(j.map, &j.claim, err);
	if (st == CUSTOS_OK)
		st = custos_image_open(&j.img, o->image_paths, o->image_count,
			err);
	if (st == CUSTOS_OK && custos_image_media_size(j.img) <
			custos_blockmap_media_size(j.map))
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"the image is shorter than its block map");
	if (st == CUSTOS_OK)
		st = resolve(&j);
	if (st == CUSTOS_OK)
		st = covering_blocks(&j);
	if (st == CUSTOS_OK) {
		j.work = custos__aprintf("%s.part", o->output);
		j.data = custos__aprintf("%s.part/data", o->output);
		if (j.work == NULL || j.data == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	if (st == CUSTOS_OK && custos__path_exists(o->output))
		st = custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; refusing to overwrite it",
			o->output);
	if (st == CUSTOS_OK)
		st = custos__mkdir_exclusive(j.work, 0700, err);
	if (st == CUSTOS_OK)
		st = custos__mkdir_exclusive(j.data, 0700, err);
	if (st == CUSTOS_OK)
		st = write_blocks(&j, summary);
	for (size_t i = 0; st == CUSTOS_OK && i < j.item_count; i++) {
		st = write_content(&j, &j.items[i], i);
		summary->requested_bytes += j.items[i].f.size;
		if (j.items[i].is_file)
			summary->files++;
		else
			summary->ranges++;
	}
	if (st == CUSTOS_OK)
		st = copy_in(&j, o->report_path, report_sha);
	if (st == CUSTOS_OK) {
		sig = custos__aprintf("%s.p7s", o->report_path);
		if (sig != NULL && custos__path_exists(sig)) {
			st = copy_in(&j, sig, NULL);
			sig_name = custos__basename(sig);
		}
	}
	if (st == CUSTOS_OK && o->custody_record_path != NULL) {
		st = copy_in(&j, o->custody_record_path, record_sha);
		record_name = custos__basename(o->custody_record_path);
	}
	if (st == CUSTOS_OK)
		st = write_description(&j, report_sha, sig_name, record_name,
			record_sha);
	if (st == CUSTOS_OK)
		st = write_bag(&j, summary);
	if (st == CUSTOS_OK)
		st = custos__commit_noreplace(j.work, o->output, err);
	if (st != CUSTOS_OK && j.work != NULL && custos__path_exists(j.work)) {
		/* Say where the partial package lies; it is ours to keep. */
		custos_error e = err ? *err : (custos_error){0};

		if (err != NULL)
			custos__error_set(err, st, "%s (the partial package "
				"stays in %s)", e.message, j.work);
	}
	json_decref(j.json_blocks);
	for (size_t i = 0; i < j.item_count; i++) {
		free(j.items[i].request);
		free(j.items[i].content);
		custos__tsk_file_clear(&j.items[i].f);
	}
	free(j.items);
	for (size_t i = 0; i < j.file_count; i++)
		free(j.files[i].name);
	free(j.files);
	free(j.blocks);
	free(j.work);
	free(j.data);
	free(sig);
	custos_image_free(j.img);
	custos_blockmap_free(j.map);
	return st;
}
