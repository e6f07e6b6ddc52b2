/*
 * Checking an image against its block map: one pass over the medium, the
 * blocks hashed on every core (an E01's chunks inflated on every core
 * first), each hash compared with the map's leaf, the map's leaves folded
 * into its root on the way, and damage reported as exact byte ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "blockmap_private.h"
#include "custos/digest.h"
#include "error_private.h"
#include "image_private.h"
#include "util_private.h"

#define BUFFER_SIZE (1024 * 1024)
#define BUFFER_COUNT 16
#define READ_LEAVES 4096

typedef struct check {
	custos_blockmap *map;
	custos_blockmap_verify_result *res;
	custos_merkle_hash *leaves;   /* a window of the map's leaves */
	uint64_t window_first;
	size_t window_count;
	custos_merkle_state tree;     /* over the map's leaves */
	uint64_t folded;              /* leaves folded into tree */
	const custos_blockmap_verify_options *opts;
	double t0, last;
	uint64_t total;
} check;

void custos_blockmap_verify_options_init(custos_blockmap_verify_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_BLOCKMAP_VERIFY_OPTIONS_VERSION;
}

static void add_damage(check *c, uint64_t block)
{
	custos_blockmap_verify_result *r = c->res;
	uint64_t bs = custos_blockmap_block_size(c->map);
	uint64_t media = custos_blockmap_media_size(c->map);
	uint64_t end = (block + 1) * bs > media ? media : (block + 1) * bs;
	custos_blockmap_damage *d = r->damage_count > 0
		? &r->damage[r->damage_count - 1] : NULL;

	r->bad_blocks++;
	if (d != NULL && d->first_block + d->block_count == block) {
		d->block_count++;
		d->length = end - d->offset;
		return;
	}
	if (r->damage_count == CUSTOS_BLOCKMAP_DAMAGE_MAX)
		return;
	d = &r->damage[r->damage_count++];
	d->first_block = block;
	d->block_count = 1;
	d->offset = block * bs;
	d->length = end - d->offset;
}

/* The map's leaf for block i (windows move forward only). */
static custos_status map_leaf(check *c, uint64_t i, custos_merkle_hash out,
		custos_error *err)
{
	if (i < c->window_first || i >= c->window_first + c->window_count) {
		uint64_t left = custos_blockmap_leaf_count(c->map) - i;
		size_t n = left < READ_LEAVES ? (size_t)left : READ_LEAVES;
		custos_status st = custos__blockmap_read_leaves(c->map, i, n,
			c->leaves, err);

		if (st != CUSTOS_OK)
			return st;
		c->window_first = i;
		c->window_count = n;
	}
	memcpy(out, c->leaves[i - c->window_first], CUSTOS_MERKLE_HASH_SIZE);
	return CUSTOS_OK;
}

static custos_status fold(check *c, const custos_merkle_hash leaf_data,
		custos_error *err)
{
	custos_merkle_hash leaf;

	custos_merkle_leaf_hash(leaf, leaf_data, CUSTOS_MERKLE_HASH_SIZE);
	c->folded++;
	return custos_merkle_state_append(&c->tree, leaf, err);
}

static custos_status sink_compare(void *ctx, uint64_t first,
		custos_merkle_hash *hashes, size_t count,
		custos_error *err)
{
	check *c = ctx;
	uint64_t leaves = custos_blockmap_leaf_count(c->map);
	custos_status st = CUSTOS_OK;

	for (size_t k = 0; st == CUSTOS_OK && k < count; k++) {
		custos_merkle_hash want;
		uint64_t i = first + k;

		if (i >= leaves) /* the image is longer than the map */
			break;
		st = map_leaf(c, i, want, err);
		if (st == CUSTOS_OK)
			st = fold(c, want, err);
		c->res->blocks_checked++;
		if (st == CUSTOS_OK && memcmp(want, hashes[k],
				CUSTOS_MERKLE_HASH_SIZE) != 0)
			add_damage(c, i);
	}
	return st;
}

static custos_status consume_digest(void *ctx, const uint8_t *data,
		size_t len, uint64_t seq, custos_error *err)
{
	(void)seq;
	return custos_digest_update(ctx, data, len, err);
}

static void feed_progress(void *ctx, uint64_t bytes)
{
	check *c = ctx;
	custos_progress p;
	double now = custos__monotonic_seconds();

	if (c->opts->progress == NULL || now - c->last < 0.25)
		return;
	c->last = now;
	memset(&p, 0, sizeof(p));
	p.phase = CUSTOS_PHASE_VERIFY;
	p.bytes_done = bytes;
	p.bytes_total = c->total;
	p.elapsed_seconds = now - c->t0;
	c->opts->progress(&p, c->opts->progress_ctx);
}

/* Buffers hold whole blocks and whole E01 chunks. */
static custos_status buffer_size(custos_image *img, uint32_t bs,
		size_t *out, custos_error *err)
{
	uint32_t chunk = custos__image_chunk_size(img);
	size_t size = bs > BUFFER_SIZE ? bs : BUFFER_SIZE;

	if (chunk != 0) {
		size_t step = chunk > bs ? chunk : bs;

		while (size % chunk != 0 || size % bs != 0) {
			size += step - size % step;
			if (size > 64u * 1024 * 1024)
				return custos__error_set(err, CUSTOS_EINVAL,
					"E01 chunks of %u bytes do not fit "
					"blocks of %u", chunk, bs);
		}
	}
	*out = size;
	return CUSTOS_OK;
}

custos_status custos_blockmap_verify_image(custos_image *img,
		custos_blockmap *m, const custos_blockmap_verify_options *opts,
		custos_blockmap_verify_result *res, custos_error *err)
{
	custos_digest *d[CUSTOS_DIGEST_COUNT] = {0};
	custos__pipeline *p = NULL;
	custos__blockhash *h = NULL;
	struct { int corrupt; uint64_t corrupt_offset; } fr = {0, 0};
	custos_merkle_hash root, header_root;
	custos_error first;
	check c;
	uint64_t media, img_size, leaves;
	unsigned int workers;
	size_t bufsize = 0;
	custos_status st, fin;

	if (img == NULL || m == NULL || opts == NULL || res == NULL ||
	    opts->version != CUSTOS_BLOCKMAP_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL, "bad arguments");
	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	custos_error_clear(&first);
	res->claim_ok = -1;
	res->marked_blocks = custos_blockmap_marked_count(m);
	media = custos_blockmap_media_size(m);
	leaves = custos_blockmap_leaf_count(m);
	img_size = custos_image_media_size(img);
	c.map = m;
	c.res = res;
	c.opts = opts;
	c.t0 = custos__monotonic_seconds();
	c.total = img_size;
	custos_merkle_state_init(&c.tree);
	workers = opts->workers ? opts->workers : custos__cpu_count();
	c.leaves = malloc(READ_LEAVES * sizeof(*c.leaves));
	if (c.leaves == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = buffer_size(img, custos_blockmap_block_size(m), &bufsize, err);
	if (st == CUSTOS_OK)
		st = custos__pipeline_new(&p, bufsize, BUFFER_COUNT, err);
	if (st == CUSTOS_OK)
		st = custos__blockhash_new(&h, custos_blockmap_block_size(m),
			sink_compare, &c, err);
	if (st == CUSTOS_OK) {
		custos__blockhash_set_limit(h, media);
		st = custos__blockhash_attach(h, p, workers, err);
	}
	for (int alg = 0; st == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++) {
		if (!(opts->digests & CUSTOS_DIGEST_BIT(alg)))
			continue;
		st = custos_digest_new(&d[alg], (custos_digest_alg)alg, err);
		if (st == CUSTOS_OK)
			st = custos__pipeline_add_consumer(p, consume_digest,
				d[alg], err);
	}
	if (st == CUSTOS_OK)
		st = custos__pipeline_start(p, err);
	if (st == CUSTOS_OK) {
		st = custos__image_feed(img, p, workers, opts->cancel,
			feed_progress, &c, &fr.corrupt, &fr.corrupt_offset, err);
		res->corrupt_chunk = fr.corrupt;
		res->corrupt_offset = fr.corrupt_offset;
		if (st == CUSTOS_EMISMATCH && fr.corrupt) {
			/* Read up to the chunk; say where it lies. */
			if (err != NULL)
				first = *err;
			st = CUSTOS_OK;
		}
	}
	if (p != NULL) {
		custos_error fin_err;

		custos_error_clear(&fin_err);
		fin = custos__pipeline_finish(p, st != CUSTOS_OK, &fin_err);
		if (st == CUSTOS_OK && fin != CUSTOS_OK) {
			st = fin;
			if (err != NULL)
				*err = fin_err;
		}
		res->bytes = custos__pipeline_bytes_done(p);
	}
	if (st != CUSTOS_OK)
		goto done;
	if (opts->cancel != NULL && *opts->cancel) {
		st = custos__error_set(err, CUSTOS_ECANCELED, "interrupted");
		goto done;
	}
	/* Blocks the image did not reach are damage too; their leaves
	 * still make up the root. */
	if (fr.corrupt && fr.corrupt_offset / custos_blockmap_block_size(m)
			< leaves)
		add_damage(&c, fr.corrupt_offset /
			custos_blockmap_block_size(m));
	for (uint64_t i = c.folded; st == CUSTOS_OK && i < leaves; i++) {
		custos_merkle_hash want;

		st = map_leaf(&c, i, want, err);
		if (st == CUSTOS_OK)
			st = fold(&c, want, err);
		/* After a corrupt E01 chunk nothing more was read. */
		if (fr.corrupt) {
			res->blocks_unchecked++;
			continue;
		}
		res->truncated = 1;
		add_damage(&c, i);
	}
	if (fr.corrupt && res->blocks_unchecked > 0)
		res->blocks_unchecked--; /* the corrupt one is damage */
	if (st != CUSTOS_OK)
		goto done;
	custos_merkle_state_root(&c.tree, root);
	custos_blockmap_root(m, header_root);
	res->root_ok = memcmp(root, header_root, sizeof(root)) == 0;
	if (opts->claim != NULL) {
		custos_error e;

		res->claim_ok = custos_blockmap_check_claim(m, opts->claim, &e)
			== CUSTOS_OK;
		if (!res->claim_ok && first.status == CUSTOS_OK)
			first = e;
	}
	for (int alg = 0; st == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++)
		if (d[alg] != NULL)
			st = custos_digest_final_hex(d[alg], res->digest[alg],
				sizeof(res->digest[alg]), err);
	if (st != CUSTOS_OK)
		goto done;
	/* An E01 may end with padding to a whole sector, nothing more. */
	if (img_size < media ||
	    (custos__image_chunk_size(img) == 0 ? img_size != media
	     : img_size - media >= 65536)) {
		res->truncated |= img_size < media;
		if (first.status == CUSTOS_OK)
			custos__error_set(&first, CUSTOS_EMISMATCH,
				"the image holds %llu bytes, the block map %llu",
				(unsigned long long)img_size,
				(unsigned long long)media);
	}
	if (!res->root_ok)
		custos__error_set(&first, CUSTOS_EMISMATCH,
			"the block map's leaves do not give the root in its "
			"header: the map was altered");
	else if (res->bad_blocks > 0)
		custos__error_set(&first, CUSTOS_EMISMATCH,
			"%llu damaged block%s; the first at bytes %llu-%llu "
			"(block %llu)", (unsigned long long)res->bad_blocks,
			res->bad_blocks == 1 ? "" : "s",
			(unsigned long long)res->damage[0].offset,
			(unsigned long long)(res->damage[0].offset +
				res->damage[0].length - 1),
			(unsigned long long)res->damage[0].first_block);
	if (first.status != CUSTOS_OK) {
		st = CUSTOS_EMISMATCH;
		if (err != NULL)
			*err = first;
	}
done:
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
		custos_digest_free(d[alg]);
	custos__pipeline_free(p);
	custos__blockhash_free(h);
	free(c.leaves);
	return st;
}
