/*
 * The block map file (custos-blockmap(5)): writing it during acquisition,
 * opening and checking one (every field of an untrusted map is checked
 * before use), the report's claim about it, and inclusion proofs built in
 * one streaming pass over its leaves.
 *
 * Layout, all integers little-endian: a 128-byte header, then one 32-byte
 * SHA-256 per block in block order, then the marked runs (first block,
 * block count; 8 + 8 bytes each), sorted and disjoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "blockmap_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#define HDR CUSTOS__BLOCKMAP_HEADER_SIZE
#define LEAF CUSTOS_MERKLE_HASH_SIZE
#define MARK_SIZE 16
#define WRITE_BUFFER (64 * 1024)
#define READ_LEAVES 4096

typedef struct mark {
	uint64_t first, count;
} mark;

struct custos_blockmap {
	int fd;                  /* -1 for a map in memory */
	unsigned char *data;     /* the map in memory */
	size_t data_len;
	uint32_t block_size, sector_size;
	uint64_t media_size, leaf_count, marked_blocks;
	mark *marks;
	size_t mark_count;
	custos_merkle_hash root;
	char root_hex[LEAF * 2 + 1];
};

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void to_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* --- writing --- */

struct custos__blockmap_writer {
	char *path;
	int fd;
	uint32_t block_size, sector_size;
	custos__blockhash *hasher;
	custos_merkle_state tree;
	unsigned char *buf;
	size_t used;
	uint64_t leaves;
	uint64_t marked;
	uint64_t file_size;
	custos_status failed;
	char root_hex[LEAF * 2 + 1];
	char sha256_hex[65];
};

static custos_status flush_leaves(custos__blockmap_writer *w,
		custos_error *err)
{
	custos_status st = custos__write_all(w->fd, w->buf, w->used, w->path,
		err);

	w->used = 0;
	return st;
}

static custos_status sink_write(void *ctx, uint64_t first,
		custos_merkle_hash *hashes, size_t count,
		custos_error *err)
{
	custos__blockmap_writer *w = ctx;
	custos_status st = CUSTOS_OK;

	(void)first;
	for (size_t i = 0; st == CUSTOS_OK && i < count; i++) {
		custos_merkle_hash leaf;

		if (w->used + LEAF > WRITE_BUFFER)
			st = flush_leaves(w, err);
		memcpy(w->buf + w->used, hashes[i], LEAF);
		w->used += LEAF;
		custos_merkle_leaf_hash(leaf, hashes[i], LEAF);
		if (st == CUSTOS_OK)
			st = custos_merkle_state_append(&w->tree, leaf, err);
		w->leaves++;
	}
	return st;
}

custos_status custos__blockmap_writer_open(custos__blockmap_writer **out,
		const char *path, uint32_t block_size, uint32_t sector_size,
		custos_error *err)
{
	custos__blockmap_writer *w;
	unsigned char zero[HDR] = {0};
	custos_status st;

	*out = NULL;
	if (!is_pow2(block_size) || block_size < CUSTOS_BLOCKMAP_MIN_BLOCK_SIZE
	    || block_size > CUSTOS_BLOCKMAP_MAX_BLOCK_SIZE ||
	    sector_size == 0 || block_size % sector_size != 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"block size %u: must be a power of two from 512 bytes "
			"to 16 MiB and a multiple of the sector size (%u)",
			block_size, sector_size);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	w->fd = -1;
	w->block_size = block_size;
	w->sector_size = sector_size;
	custos_merkle_state_init(&w->tree);
	w->path = strdup(path);
	w->buf = malloc(WRITE_BUFFER);
	if (w->path == NULL || w->buf == NULL) {
		custos__blockmap_writer_free(w);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	st = custos__create_exclusive(&w->fd, path, 0644, err);
	/* The header is written last; its room is kept now. */
	if (st == CUSTOS_OK)
		st = custos__write_all(w->fd, zero, sizeof(zero), path, err);
	if (st == CUSTOS_OK)
		st = custos__blockhash_new(&w->hasher, block_size, sink_write,
			w, err);
	if (st != CUSTOS_OK) {
		custos__blockmap_writer_free(w);
		return st;
	}
	*out = w;
	return CUSTOS_OK;
}

custos_status custos__blockmap_writer_attach(custos__blockmap_writer *w,
		custos__pipeline *p, unsigned int workers, custos_error *err)
{
	return custos__blockhash_attach(w->hasher, p, workers, err);
}

/* Unreadable sectors as runs of blocks, merged where they touch. */
static custos_status write_marks(custos__blockmap_writer *w,
		const custos_ranges *unreadable, uint64_t *runs,
		custos_error *err)
{
	size_t n = unreadable != NULL ? custos_ranges_count(unreadable) : 0;
	uint64_t cur_first = 0, cur_count = 0;
	unsigned char rec[MARK_SIZE];
	custos_status st = CUSTOS_OK;

	*runs = 0;
	w->marked = 0;
	for (size_t i = 0; st == CUSTOS_OK && i <= n; i++) {
		uint64_t first = 0, last = 0;

		if (i < n) {
			const custos_range *r = custos_ranges_get(unreadable, i);
			uint64_t b0 = r->first_sector * w->sector_size;
			uint64_t b1 = (r->first_sector + r->sector_count) *
				w->sector_size - 1;

			first = b0 / w->block_size;
			last = b1 / w->block_size;
			if (last >= w->leaves)
				last = w->leaves - 1;
			if (first > last)
				continue;
			if (cur_count > 0 && first <= cur_first + cur_count) {
				if (last + 1 > cur_first + cur_count)
					cur_count = last + 1 - cur_first;
				continue;
			}
		}
		if (cur_count > 0) {
			put64(rec, cur_first);
			put64(rec + 8, cur_count);
			if (w->used + MARK_SIZE > WRITE_BUFFER)
				st = flush_leaves(w, err);
			memcpy(w->buf + w->used, rec, MARK_SIZE);
			w->used += MARK_SIZE;
			w->marked += cur_count;
			(*runs)++;
		}
		cur_first = first;
		cur_count = i < n ? last - first + 1 : 0;
	}
	return st == CUSTOS_OK ? flush_leaves(w, err) : st;
}

static custos_status file_sha256(const char *path, char out[65],
		custos_error *err)
{
	int fd = -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(WRITE_BUFFER), digest[32];
	unsigned int dlen = 0;
	off_t off = 0;
	custos_status st = CUSTOS_OK;

	if (md == NULL || buf == NULL ||
	    EVP_DigestInit_ex2(md, EVP_sha256(), NULL) != 1)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (st == CUSTOS_OK)
		st = custos__open_regular(&fd, path, "block map", err);
	while (st == CUSTOS_OK) {
		ssize_t n = pread(fd, buf, WRITE_BUFFER, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			st = custos__error_errno(err, errno, "cannot read %s",
				path);
		if (n <= 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		off += n;
	}
	if (st == CUSTOS_OK && EVP_DigestFinal_ex(md, digest, &dlen) == 1)
		to_hex(out, digest, 32);
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	free(buf);
	return st;
}

custos_status custos__blockmap_writer_finish(custos__blockmap_writer *w,
		uint64_t media_size, const custos_ranges *unreadable,
		custos_error *err)
{
	unsigned char h[HDR] = {0};
	custos_merkle_hash root;
	uint64_t runs = 0;
	custos_status st;

	if (w->leaves != (media_size + w->block_size - 1) / w->block_size)
		return custos__error_set(err, CUSTOS_EINTERNAL,
			"the block map holds %llu blocks for %llu bytes",
			(unsigned long long)w->leaves,
			(unsigned long long)media_size);
	st = flush_leaves(w, err);
	if (st == CUSTOS_OK)
		st = write_marks(w, unreadable, &runs, err);
	if (st != CUSTOS_OK)
		return st;
	custos_merkle_state_root(&w->tree, root);
	to_hex(w->root_hex, root, LEAF);
	memcpy(h, CUSTOS__BLOCKMAP_MAGIC, 8);
	put32(h + 8, CUSTOS_BLOCKMAP_VERSION);
	put32(h + 12, HDR);
	put32(h + 16, CUSTOS__BLOCKMAP_ALG_SHA256);
	put32(h + 20, LEAF);
	put32(h + 24, w->block_size);
	put32(h + 28, w->sector_size);
	put64(h + 32, media_size);
	put64(h + 40, w->leaves);
	put64(h + 48, runs);
	put64(h + 56, w->marked);
	memcpy(h + 64, root, LEAF);
	if (pwrite(w->fd, h, HDR, 0) != HDR)
		return custos__error_errno(err, errno, "cannot write %s",
			w->path);
	if (fsync(w->fd) != 0)
		return custos__error_errno(err, errno, "cannot sync %s",
			w->path);
	w->file_size = HDR + w->leaves * LEAF + runs * MARK_SIZE;
	if (close(w->fd) != 0) {
		w->fd = -1;
		return custos__error_errno(err, errno, "cannot close %s",
			w->path);
	}
	w->fd = -1;
	return file_sha256(w->path, w->sha256_hex, err);
}

const char *custos__blockmap_writer_root_hex(const custos__blockmap_writer *w)
{
	return w->root_hex;
}

const char *custos__blockmap_writer_sha256(const custos__blockmap_writer *w)
{
	return w->sha256_hex;
}

uint64_t custos__blockmap_writer_leaves(const custos__blockmap_writer *w)
{
	return w->leaves;
}

uint64_t custos__blockmap_writer_marked(const custos__blockmap_writer *w)
{
	return w->marked;
}

uint64_t custos__blockmap_writer_file_size(const custos__blockmap_writer *w)
{
	return w->file_size;
}

void custos__blockmap_writer_free(custos__blockmap_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	custos__blockhash_free(w->hasher);
	free(w->buf);
	free(w->path);
	free(w);
}

/* --- reading an untrusted map --- */

/* Read len bytes at off of the map (file or memory). */
static custos_status map_read(custos_blockmap *m, void *buf, size_t len,
		uint64_t off, custos_error *err)
{
	size_t got = 0;

	if (m->fd < 0) {
		if (off > m->data_len || len > m->data_len - off)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"the block map is truncated");
		memcpy(buf, m->data + off, len);
		return CUSTOS_OK;
	}
	while (got < len) {
		ssize_t n = pread(m->fd, (char *)buf + got, len - got,
			(off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return custos__error_errno(err, errno,
				"cannot read the block map");
		if (n == 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"the block map is truncated");
		got += (size_t)n;
	}
	return CUSTOS_OK;
}

#define bad(...) custos__error_set(err, CUSTOS_EFORMAT, "block map: " \
	__VA_ARGS__)

static custos_status parse(custos_blockmap *m, uint64_t file_size,
		custos_error *err)
{
	unsigned char h[HDR], rec[MARK_SIZE];
	uint64_t runs, expect, leaves_end, sum = 0, end = 0;
	custos_status st;

	if (file_size < HDR)
		return bad("truncated: %llu bytes, not even the %d-byte "
			"header", (unsigned long long)file_size, HDR);
	if ((st = map_read(m, h, HDR, 0, err)) != CUSTOS_OK)
		return st;
	if (memcmp(h, CUSTOS__BLOCKMAP_MAGIC, 8) != 0)
		return bad("not a custos block map (bad magic)");
	if (get32(h + 8) != CUSTOS_BLOCKMAP_VERSION)
		return bad("version %u is not supported (only %d)",
			get32(h + 8), CUSTOS_BLOCKMAP_VERSION);
	if (get32(h + 12) != HDR)
		return bad("header size %u, expected %d", get32(h + 12), HDR);
	if (get32(h + 16) != CUSTOS__BLOCKMAP_ALG_SHA256 ||
	    get32(h + 20) != LEAF)
		return bad("unknown hash algorithm %u (size %u)",
			get32(h + 16), get32(h + 20));
	m->block_size = get32(h + 24);
	m->sector_size = get32(h + 28);
	m->media_size = get64(h + 32);
	m->leaf_count = get64(h + 40);
	runs = get64(h + 48);
	m->marked_blocks = get64(h + 56);
	memcpy(m->root, h + 64, LEAF);
	for (size_t i = 96; i < HDR; i++)
		if (h[i] != 0)
			return bad("reserved header bytes are not zero");
	if (!is_pow2(m->block_size) ||
	    m->block_size < CUSTOS_BLOCKMAP_MIN_BLOCK_SIZE ||
	    m->block_size > CUSTOS_BLOCKMAP_MAX_BLOCK_SIZE)
		return bad("bad block size %u", m->block_size);
	if (!is_pow2(m->sector_size) || m->sector_size < 512 ||
	    m->block_size % m->sector_size != 0)
		return bad("bad sector size %u", m->sector_size);
	if (m->media_size > UINT64_MAX / 2 ||
	    m->leaf_count != (m->media_size + m->block_size - 1) /
			     m->block_size)
		return bad("%llu leaves cannot describe %llu bytes in blocks "
			"of %u", (unsigned long long)m->leaf_count,
			(unsigned long long)m->media_size, m->block_size);
	if (runs > CUSTOS__BLOCKMAP_MARKS_MAX || runs > m->leaf_count)
		return bad("%llu marked runs: too many",
			(unsigned long long)runs);
	leaves_end = HDR + m->leaf_count * LEAF;
	expect = leaves_end + runs * MARK_SIZE;
	if (file_size != expect)
		return bad("%s: %llu bytes, the header implies %llu",
			file_size < expect ? "truncated" : "trailing bytes",
			(unsigned long long)file_size,
			(unsigned long long)expect);
	m->marks = calloc(runs == 0 ? 1 : runs, sizeof(*m->marks));
	if (m->marks == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (uint64_t i = 0; i < runs; i++) {
		mark *k = &m->marks[i];

		st = map_read(m, rec, MARK_SIZE, leaves_end + i * MARK_SIZE,
			err);
		if (st != CUSTOS_OK)
			return st;
		k->first = get64(rec);
		k->count = get64(rec + 8);
		if (k->count == 0 || k->first >= m->leaf_count ||
		    k->count > m->leaf_count - k->first)
			return bad("marked run %llu lies outside the map",
				(unsigned long long)i);
		if (i > 0 && k->first <= end)
			return bad("marked runs are not sorted and apart");
		end = k->first + k->count;
		sum += k->count;
		m->mark_count++;
	}
	if (sum != m->marked_blocks)
		return bad("%llu marked blocks in the header, %llu in the runs",
			(unsigned long long)m->marked_blocks,
			(unsigned long long)sum);
	to_hex(m->root_hex, m->root, LEAF);
	return CUSTOS_OK;
}

custos_status custos_blockmap_open(custos_blockmap **out, const char *path,
		custos_error *err)
{
	custos_blockmap *m;
	struct stat sb;
	custos_status st;

	if (out == NULL || path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "missing argument");
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__open_regular(&m->fd, path, "block map", err);
	if (st == CUSTOS_OK && fstat(m->fd, &sb) != 0)
		st = custos__error_errno(err, errno, "cannot stat %s", path);
	if (st == CUSTOS_OK)
		st = parse(m, (uint64_t)sb.st_size, err);
	if (st != CUSTOS_OK) {
		custos_error e;

		if (err != NULL && st == CUSTOS_EFORMAT) {
			e = *err;
			custos__error_set(err, st, "%s: %s", path, e.message);
		}
		custos_blockmap_free(m);
		return st;
	}
	*out = m;
	return CUSTOS_OK;
}

custos_status custos_blockmap_open_buffer(custos_blockmap **out,
		const void *data, size_t len, custos_error *err)
{
	custos_blockmap *m;
	custos_status st;

	if (out == NULL || (data == NULL && len > 0))
		return custos__error_set(err, CUSTOS_EINVAL, "missing argument");
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	m->fd = -1;
	m->data = malloc(len == 0 ? 1 : len);
	if (m->data == NULL) {
		free(m);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	if (len > 0)
		memcpy(m->data, data, len);
	m->data_len = len;
	st = parse(m, len, err);
	if (st != CUSTOS_OK) {
		custos_blockmap_free(m);
		return st;
	}
	*out = m;
	return CUSTOS_OK;
}

void custos_blockmap_free(custos_blockmap *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->data);
	free(m->marks);
	free(m);
}

uint32_t custos_blockmap_block_size(const custos_blockmap *m)
{
	return m->block_size;
}

uint64_t custos_blockmap_media_size(const custos_blockmap *m)
{
	return m->media_size;
}

uint64_t custos_blockmap_leaf_count(const custos_blockmap *m)
{
	return m->leaf_count;
}

void custos_blockmap_root(const custos_blockmap *m, custos_merkle_hash out)
{
	memcpy(out, m->root, LEAF);
}

const char *custos_blockmap_root_hex(const custos_blockmap *m)
{
	return m->root_hex;
}

uint64_t custos_blockmap_marked_count(const custos_blockmap *m)
{
	return m->marked_blocks;
}

int custos_blockmap_is_marked(const custos_blockmap *m, uint64_t block)
{
	size_t lo = 0, hi = m->mark_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const mark *k = &m->marks[mid];

		if (block < k->first)
			hi = mid;
		else if (block >= k->first + k->count)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* Leaves [first, first + count) into out. */
custos_status custos__blockmap_read_leaves(custos_blockmap *m,
		uint64_t first, size_t count, custos_merkle_hash *out, custos_error *err)
{
	if (first > m->leaf_count || count > m->leaf_count - first)
		return custos__error_set(err, CUSTOS_EINVAL,
			"block %llu is outside the map (%llu blocks)",
			(unsigned long long)(first + count),
			(unsigned long long)m->leaf_count);
	return map_read(m, out, count * LEAF, HDR + first * LEAF, err);
}

custos_status custos_blockmap_leaf(custos_blockmap *m, uint64_t index,
		custos_merkle_hash out, custos_error *err)
{
	return custos__blockmap_read_leaves(m, index, 1, (custos_merkle_hash *)out, err);
}

custos_status custos_blockmap_check_root(custos_blockmap *m,
		custos_error *err)
{
	custos_merkle_hash *buf = malloc(READ_LEAVES * sizeof(*buf));
	custos_merkle_state s;
	custos_merkle_hash root;
	custos_status st = CUSTOS_OK;

	if (buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	custos_merkle_state_init(&s);
	for (uint64_t i = 0; st == CUSTOS_OK && i < m->leaf_count;) {
		size_t n = m->leaf_count - i < READ_LEAVES
			? (size_t)(m->leaf_count - i) : READ_LEAVES;

		st = custos__blockmap_read_leaves(m, i, n, buf, err);
		for (size_t k = 0; st == CUSTOS_OK && k < n; k++) {
			custos_merkle_hash leaf;

			custos_merkle_leaf_hash(leaf, buf[k], LEAF);
			st = custos_merkle_state_append(&s, leaf, err);
		}
		i += n;
	}
	free(buf);
	if (st != CUSTOS_OK)
		return st;
	custos_merkle_state_root(&s, root);
	if (memcmp(root, m->root, LEAF) != 0)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"the block map's leaves do not give the root in its "
			"header: the map was altered");
	return CUSTOS_OK;
}

/* --- the report's claim --- */

static int hex_ok(const char *s, size_t len)
{
	if (s == NULL || strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

custos_status custos_blockmap_claim_parse(custos_blockmap_claim *out,
		const char *json, size_t len, custos_error *err)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	json_t *bm = json_object_get(root, "block_map");
	json_t *bs, *lc, *ms;
	const char *r, *file, *sha;
	custos_status st = CUSTOS_OK;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the report is not JSON: %s", root ? "not an object"
			: je.text);
		goto done;
	}
	if (bm == NULL || json_is_null(bm)) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"the report has no block_map");
		goto done;
	}
	bs = json_object_get(bm, "block_size_bytes");
	lc = json_object_get(bm, "leaf_count");
	ms = json_object_get(bm, "media_size_bytes");
	r = json_string_value(json_object_get(bm, "root"));
	file = json_string_value(json_object_get(bm, "file"));
	sha = json_string_value(json_object_get(bm, "sha256"));
	if (!json_is_integer(bs) || !json_is_integer(lc) ||
	    !json_is_integer(ms) || !hex_ok(r, 64) ||
	    json_integer_value(bs) <= 0 || json_integer_value(bs) >
	    (json_int_t)CUSTOS_BLOCKMAP_MAX_BLOCK_SIZE ||
	    json_integer_value(lc) < 0 || json_integer_value(ms) < 0 ||
	    (sha != NULL && !hex_ok(sha, 64)) ||
	    (file != NULL && strlen(file) >= sizeof(out->file))) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the report's block_map is malformed");
		goto done;
	}
	memcpy(out->root, r, 65);
	out->block_size = (uint32_t)json_integer_value(bs);
	out->leaf_count = (uint64_t)json_integer_value(lc);
	out->media_size = (uint64_t)json_integer_value(ms);
	if (file != NULL)
		memcpy(out->file, file, strlen(file) + 1);
	if (sha != NULL)
		memcpy(out->file_sha256, sha, 65);
done:
	json_decref(root);
	return st;
}

custos_status custos_blockmap_claim_load(custos_blockmap_claim *out,
		const char *path, custos_error *err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	custos_status st = custos__read_file_max(path, 8u << 20, &data, &len,
		"report", err);

	if (st == CUSTOS_OK)
		st = custos_blockmap_claim_parse(out, (const char *)data, len,
			err);
	free(data);
	return st;
}

custos_status custos_blockmap_check_claim(const custos_blockmap *m,
		const custos_blockmap_claim *c, custos_error *err)
{
	if (strcmp(m->root_hex, c->root) != 0)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"the block map's root %s differs from the signed "
			"report's %s", m->root_hex, c->root);
	if (m->block_size != c->block_size || m->leaf_count != c->leaf_count
	    || m->media_size != c->media_size)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"the block map (%u-byte blocks, %llu leaves, %llu "
			"bytes) differs from the report's (%u, %llu, %llu)",
			m->block_size, (unsigned long long)m->leaf_count,
			(unsigned long long)m->media_size, c->block_size,
			(unsigned long long)c->leaf_count,
			(unsigned long long)c->media_size);
	return CUSTOS_OK;
}

/* --- inclusion proofs, many at once --- */

/* A perfect subtree: 2^level leaves from start (a multiple of 2^level). */
typedef struct node {
	uint64_t start;
	uint32_t level;
	int have;
	custos_merkle_hash hash;
} node;

typedef struct wanted {
	node *v;
	size_t n, cap;
} wanted;

static uint64_t largest_pow2_below(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

static int add_node(wanted *w, uint64_t start, uint32_t level)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		node *g = realloc(w->v, cap * sizeof(*g));

		if (g == NULL)
			return -1;
		w->v = g;
		w->cap = cap;
	}
	memset(&w->v[w->n], 0, sizeof(node));
	w->v[w->n].start = start;
	w->v[w->n].level = level;
	w->n++;
	return 0;
}

/* The perfect subtrees whose fold gives MTH(leaves[a, a + size)). */
static int add_range(wanted *w, uint64_t a, uint64_t size)
{
	while (size > 0) {
		uint64_t k = is_pow2(size) ? size : largest_pow2_below(size);
		uint32_t level = 0;

		while ((1ull << level) < k)
			level++;
		if (add_node(w, a, level) != 0)
			return -1;
		a += k;
		size -= k;
	}
	return 0;
}

/* Visit the sibling ranges of leaf i, bottom first (RFC 6962 PATH). */
typedef int (*range_fn)(void *ctx, uint64_t a, uint64_t size);

static int path_ranges(uint64_t i, uint64_t lo, uint64_t n, range_fn fn,
		void *ctx)
{
	uint64_t k;

	if (n <= 1)
		return 0;
	k = largest_pow2_below(n);
	if (i < lo + k)
		return path_ranges(i, lo, k, fn, ctx) != 0 ? -1
			: fn(ctx, lo + k, n - k);
	return path_ranges(i, lo + k, n - k, fn, ctx) != 0 ? -1
		: fn(ctx, lo, k);
}

static int want_range(void *ctx, uint64_t a, uint64_t size)
{
	return add_range(ctx, a, size);
}

static int node_cmp(const void *x, const void *y)
{
	const node *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->level < b->level ? -1 : a->level > b->level;
}

static node *find_node(wanted *w, uint64_t start, uint32_t level)
{
	node key;

	key.start = start;
	key.level = level;
	return bsearch(&key, w->v, w->n, sizeof(node), node_cmp);
}

typedef struct proof_out {
	wanted *w;
	custos_merkle_hash *proof;
	size_t len;
	int missing;
} proof_out;

static int emit_range(void *ctx, uint64_t a, uint64_t size)
{
	proof_out *o = ctx;
	custos_merkle_hash acc;
	int first = 1;
	/* Fold the pieces from the right: the last piece is the deepest. */
	uint64_t starts[64];
	uint32_t levels[64];
	size_t pieces = 0;

	while (size > 0 && pieces < 64) {
		uint64_t k = is_pow2(size) ? size : largest_pow2_below(size);
		uint32_t level = 0;

		while ((1ull << level) < k)
			level++;
		starts[pieces] = a;
		levels[pieces++] = level;
		a += k;
		size -= k;
	}
	while (pieces-- > 0) {
		node *nd = find_node(o->w, starts[pieces], levels[pieces]);

		if (nd == NULL || !nd->have) {
			o->missing = 1;
			return -1;
		}
		if (first)
			memcpy(acc, nd->hash, LEAF);
		else
			custos_merkle_node_hash(acc, nd->hash, acc);
		first = 0;
	}
	if (o->len >= CUSTOS_MERKLE_PROOF_MAX)
		return -1;
	memcpy(o->proof[o->len++], acc, LEAF);
	return 0;
}

custos_status custos__blockmap_proofs(custos_blockmap *m,
		const uint64_t *indices, size_t count,
		custos_merkle_hash (*proofs)[CUSTOS_MERKLE_PROOF_MAX],
		size_t *lengths, custos_error *err)
{
	wanted w = {0};
	custos_merkle_hash *buf = NULL;
	/* The streaming tree: perfect subtrees, largest first. */
	node stack[65];
	size_t depth = 0, uniq = 0;
	custos_status st = CUSTOS_OK;

	for (size_t i = 0; i < count; i++)
		if (indices[i] >= m->leaf_count)
			return custos__error_set(err, CUSTOS_EINVAL,
				"block %llu is outside the map",
				(unsigned long long)indices[i]);
	for (size_t i = 0; i < count; i++)
		if (path_ranges(indices[i], 0, m->leaf_count, want_range,
				&w) != 0) {
			free(w.v);
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		}
	if (w.n > 0) {
		qsort(w.v, w.n, sizeof(node), node_cmp);
		for (size_t i = 0; i < w.n; i++)
			if (uniq == 0 || node_cmp(&w.v[i], &w.v[uniq - 1]) != 0)
				w.v[uniq++] = w.v[i];
		w.n = uniq;
	}
	buf = malloc(READ_LEAVES * sizeof(*buf));
	if (buf == NULL) {
		free(w.v);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (uint64_t i = 0; st == CUSTOS_OK && w.n > 0 &&
	     i < m->leaf_count;) {
		size_t n = m->leaf_count - i < READ_LEAVES
			? (size_t)(m->leaf_count - i) : READ_LEAVES;

		st = custos__blockmap_read_leaves(m, i, n, buf, err);
		for (size_t k = 0; st == CUSTOS_OK && k < n; k++) {
			node *top, *hit;

			top = &stack[depth++];
			top->start = i + k;
			top->level = 0;
			custos_merkle_leaf_hash(top->hash, buf[k], LEAF);
			for (;;) {
				hit = find_node(&w, top->start, top->level);
				if (hit != NULL) {
					memcpy(hit->hash, top->hash, LEAF);
					hit->have = 1;
				}
				if (depth < 2 || stack[depth - 2].level !=
						top->level)
					break;
				custos_merkle_node_hash(stack[depth - 2].hash,
					stack[depth - 2].hash, top->hash);
				stack[depth - 2].level++;
				depth--;
				top = &stack[depth - 1];
			}
		}
		i += n;
	}
	free(buf);
	for (size_t i = 0; st == CUSTOS_OK && i < count; i++) {
		proof_out o;

		o.w = &w;
		o.proof = proofs[i];
		o.len = 0;
		o.missing = 0;
		if (path_ranges(indices[i], 0, m->leaf_count, emit_range,
				&o) != 0)
			st = custos__error_set(err, CUSTOS_EINTERNAL,
				"cannot build the proof of block %llu",
				(unsigned long long)indices[i]);
		lengths[i] = o.len;
	}
	free(w.v);
	return st;
}
