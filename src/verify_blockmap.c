/*
 * Block maps in custos-verify: when a report carries a block_map, the map
 * beside it (BASE.blockmap) is opened, its root compared with the signed
 * report's, and every block of the image hashed on all cores and compared
 * with the map in the same pass that recomputes the report's stream
 * hashes (custos_blockmap_verify_image).  Damage is reported as exact byte
 * ranges with the files they touch (custos_disclose_files_in_range).  A
 * missing map is a required check not made (INCOMPLETE, the media is then
 * read as before); a malformed map or one whose root differs from the
 * report is FAILED.  verify_media.c calls this and keeps its other checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "custos/blockmap.h"
#include "custos/disclose.h"
#include "error_private.h"
#include "util_private.h"
#include "verify_private.h"

/* How many damaged runs the check's detail spells out. */
#define DETAIL_RUNS 8

static int plain_name(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0
		&& strcmp(s, "..") != 0;
}

void custos__verify_blockmap_find(custos_verify_case *r,
		const verify_report *rep, const char *subject,
		verify_blockmap *bm)
{
	custos_error e;
	custos_status st;
	const custos_verify_check *sig;
	size_t n = strlen(rep->path), suffix = strlen(".report.json");
	struct stat sb;

	memset(bm, 0, sizeof(*bm));
	custos_error_clear(&e);
	st = custos_blockmap_claim_load(&bm->claim, rep->path, &e);
	if (st == CUSTOS_ENOTFOUND)
		return;
	bm->claimed = 1;
	if (st != CUSTOS_OK) {
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL,
			"the report's block_map cannot be read: %s", e.message);
		return;
	}
	sig = custos_verify_case_find(r, "report.signature", subject);
	bm->signed_ok = sig != NULL && custos_verify_check_outcome(sig) ==
		CUSTOS_CHECK_PASSED;
	if (bm->claim.file[0] != '\0' && plain_name(bm->claim.file))
		bm->path = custos__aprintf("%s/%s", rep->dir, bm->claim.file);
	else if (n > suffix)
		bm->path = custos__aprintf("%.*s.blockmap", (int)(n - suffix),
			rep->path);
	if (bm->path == NULL) {
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_FAILED, 1, bm->claim.file, NULL,
			"the report names a block map outside its folder");
		return;
	}
	/* Missing is not tampering: like a missing image, INCOMPLETE. */
	if (lstat(bm->path, &sb) != 0) {
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, bm->claim.root, NULL,
			"the signed report names a block map, but %s is "
			"missing", custos__basename(bm->path));
		return;
	}
	st = custos_blockmap_open(&bm->map, bm->path, &e);
	if (st != CUSTOS_OK)
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_FAILED, 1, bm->claim.root, NULL,
			"%s cannot be used: %s", custos__basename(bm->path),
			e.message);
}

void custos__verify_blockmap_free(verify_blockmap *bm)
{
	custos_blockmap_free(bm->map);
	free(bm->path);
	memset(bm, 0, sizeof(*bm));
}

typedef struct text_buf {
	char *s;
	size_t len, cap;
	size_t files;
} text_buf;

static void append(text_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(text_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->s == NULL || b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->cap - b->len ? (size_t)n
			: b->cap - b->len - 1;
}

static void file_hit(void *ctx, const char *path, uint64_t inode,
		uint64_t offset, uint64_t length)
{
	text_buf *b = ctx;

	(void)offset;
	(void)length;
	append(b, "%s %s (inode %llu)", b->files++ ? "," : " touches", path,
		(unsigned long long)inode);
}

static void blocks_check(custos_verify_case *r, const char *subject,
		custos_image *img, custos_blockmap *m,
		const custos_blockmap_verify_result *res)
{
	text_buf b = {malloc(4096), 0, 4096, 0};
	char obs[96] = "", want[96];

	snprintf(want, sizeof(want), "%llu blocks of %u bytes",
		(unsigned long long)custos_blockmap_leaf_count(m),
		custos_blockmap_block_size(m));
	if (res->bad_blocks == 0 && !res->truncated && !res->corrupt_chunk &&
	    res->blocks_unchecked == 0 && res->blocks_checked ==
	    custos_blockmap_leaf_count(m)) {
		snprintf(obs, sizeof(obs), "%llu blocks match",
			(unsigned long long)res->blocks_checked);
		custos__verify_add(r, "media.blockmap.blocks", subject,
			CUSTOS_CHECK_PASSED, 1, want, obs, "every block of the "
			"image matches the block map (SHA-256 per block, on "
			"every core)");
		free(b.s);
		return;
	}
	append(&b, "%llu of %llu blocks damaged:",
		(unsigned long long)res->bad_blocks,
		(unsigned long long)custos_blockmap_leaf_count(m));
	for (size_t i = 0; i < res->damage_count && i < DETAIL_RUNS; i++) {
		const custos_blockmap_damage *d = &res->damage[i];

		if (i == 0)
			snprintf(obs, sizeof(obs), "bytes %llu-%llu",
				(unsigned long long)d->offset,
				(unsigned long long)(d->offset + d->length - 1));
		append(&b, "%s bytes %llu-%llu (block %llu", i ? ";" : "",
			(unsigned long long)d->offset,
			(unsigned long long)(d->offset + d->length - 1),
			(unsigned long long)d->first_block);
		if (d->block_count > 1)
			append(&b, "-%llu", (unsigned long long)(
				d->first_block + d->block_count - 1));
		append(&b, ")");
		b.files = 0;
		(void)custos_disclose_files_in_range(img, d->offset,
			d->length, file_hit, &b, NULL);
	}
	if (res->damage_count > DETAIL_RUNS)
		append(&b, "; and %zu more runs",
			res->damage_count - DETAIL_RUNS);
	if (res->truncated)
		append(&b, "; the image ends before the map");
	if (res->corrupt_chunk)
		append(&b, "; an E01 chunk at media offset %llu fails its "
			"checksum and %llu blocks after it were not read",
			(unsigned long long)res->corrupt_offset,
			(unsigned long long)res->blocks_unchecked);
	custos__verify_add(r, "media.blockmap.blocks", subject,
		CUSTOS_CHECK_FAILED, 1, want, obs[0] ? obs : NULL, "%s",
		b.s != NULL ? b.s : "blocks differ from the block map");
	free(b.s);
}

static void root_check(custos_verify_case *r, const char *subject,
		const verify_blockmap *bm,
		const custos_blockmap_verify_result *res, const char *message)
{
	const char *have = custos_blockmap_root_hex(bm->map);

	if (!res->root_ok)
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_FAILED, 1, have, NULL, "the leaves of %s "
			"do not give the root in its header",
			custos__basename(bm->path));
	else if (res->claim_ok != 1)
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_FAILED, 1, bm->claim.root, have,
			"%s differs from the signed report: %s",
			custos__basename(bm->path), message);
	else if (!bm->signed_ok)
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, bm->claim.root, have,
			"the map matches the report, but the report's "
			"signature did not verify, so its root proves nothing");
	else
		custos__verify_add(r, "media.blockmap.root", subject,
			CUSTOS_CHECK_PASSED, 1, bm->claim.root, have,
			"the map's root, block size and leaf count are the "
			"signed report's");
}

int custos__verify_blockmap_proved(const custos_verify_case *r,
		const char *subject)
{
	const custos_verify_check *a = custos_verify_case_find(r,
		"media.blockmap.root", subject);
	const custos_verify_check *b = custos_verify_case_find(r,
		"media.blockmap.blocks", subject);

	return a != NULL && b != NULL &&
		custos_verify_check_outcome(a) == CUSTOS_CHECK_PASSED &&
		custos_verify_check_outcome(b) == CUSTOS_CHECK_PASSED;
}

custos_status custos__verify_blockmap_read(custos_verify_case *r,
		verify_blockmap *bm, const char *subject, custos_image *img,
		custos_digest_set digests, const custos_verify_options *opts,
		custos_image_hash_result *out, char *message,
		size_t message_cap)
{
	custos_blockmap_verify_options o;
	custos_blockmap_verify_result *res = calloc(1, sizeof(*res));
	custos_error e;
	custos_status st;
	int e01 = custos_image_get_format(img) == CUSTOS_FORMAT_E01;

	custos_error_clear(&e);
	if (res == NULL)
		return CUSTOS_ENOMEM;
	/* An E01's stored MD5/SHA-1 are checked in the same pass. */
	for (int k = 0; e01 && !opts->blockmap_only && k < 2; k++) {
		custos_digest_alg a = k ? CUSTOS_DIGEST_SHA1 : CUSTOS_DIGEST_MD5;

		if (custos_image_stored_digest(img, a) != NULL)
			digests |= CUSTOS_DIGEST_BIT(a);
	}
	if (opts->blockmap_only)
		digests = 0;
	custos_blockmap_verify_options_init(&o);
	o.digests = digests;
	o.workers = opts->workers;
	o.claim = &bm->claim;
	o.progress = opts->progress;
	o.progress_ctx = opts->progress_ctx;
	o.cancel = opts->cancel;
	st = custos_blockmap_verify_image(img, bm->map, &o, res, &e);
	snprintf(message, message_cap, "%s", e.message);
	memset(out, 0, sizeof(*out));
	out->stored_md5_match = out->stored_sha1_match = -1;
	out->bytes = res->bytes;
	out->corrupt = res->corrupt_chunk;
	out->corrupt_offset = res->corrupt_offset;
	if (st == CUSTOS_OK || st == CUSTOS_EMISMATCH) {
		bm->used = 1;
		memcpy(out->digest, res->digest, sizeof(out->digest));
		for (int k = 0; e01 && !res->corrupt_chunk && k < 2; k++) {
			custos_digest_alg a = k ? CUSTOS_DIGEST_SHA1
						: CUSTOS_DIGEST_MD5;
			const char *stored = custos_image_stored_digest(img, a);
			int *m = k ? &out->stored_sha1_match
				   : &out->stored_md5_match;

			if (stored != NULL && res->digest[a][0])
				*m = strcasecmp(stored, res->digest[a]) == 0;
			else if (stored != NULL && opts->blockmap_only)
				custos__verify_add(r, k ? "media.e01.stored.sha1"
					: "media.e01.stored.md5", subject,
					CUSTOS_CHECK_NOT_CHECKED, 0, stored,
					NULL, "not recomputed (--blockmap-only):"
					" the signed block map covers every "
					"byte");
		}
		root_check(r, subject, bm, res, message);
		blocks_check(r, subject, img, bm->map, res);
		if (res->marked_blocks > 0)
			custos__verify_add(r, "media.blockmap.marked", subject,
				CUSTOS_CHECK_PASSED, 0, NULL, NULL,
				"%llu blocks held unreadable sectors at "
				"acquisition (zero-filled, as hashed then)",
				(unsigned long long)res->marked_blocks);
		st = CUSTOS_OK;
	} else if (st != CUSTOS_ECANCELED) {
		custos__verify_add(r, "media.blockmap.blocks", subject,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "the image cannot "
			"be read against the block map: %s", message);
	}
	free(res);
	/* The stream-hash status the caller expects: EMISMATCH is a damaged
	 * image, anything else could not be read. */
	return st;
}
