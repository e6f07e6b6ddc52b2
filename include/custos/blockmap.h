/*
 * Block maps: the SHA-256 of every fixed-size block of a medium, with an
 * RFC 6962 Merkle tree over them, written as <base>.blockmap at
 * acquisition (format: custos-blockmap(5)).  The signed report carries the
 * tree's root, so any block can later be proven to belong to the seized
 * medium, and a whole image can be checked block by block on every core
 * instead of as one sequential stream.
 *
 * A leaf of the tree is the 32-byte SHA-256 of one block (the last block
 * may be short): leaf hash = SHA-256(0x00 || SHA-256(block)).
 */
#ifndef CUSTOS_BLOCKMAP_H
#define CUSTOS_BLOCKMAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "acquire.h"
#include "common.h"
#include "digest.h"
#include "error.h"
#include "image.h"
#include "merkle.h"

#define CUSTOS_BLOCKMAP_VERSION 1
/* 64 KiB: see custos-blockmap(5) for the measurements behind it. */
#define CUSTOS_BLOCKMAP_DEFAULT_BLOCK_SIZE (64u * 1024)
#define CUSTOS_BLOCKMAP_MIN_BLOCK_SIZE 512u
#define CUSTOS_BLOCKMAP_MAX_BLOCK_SIZE (16u * 1024 * 1024)
/* custos_acquire_options.block_size: make no block map. */
#define CUSTOS_BLOCKMAP_NONE UINT32_MAX

typedef struct custos_blockmap custos_blockmap;

/*
 * Open and check a block map file: its header, sizes and mark list must
 * be consistent (CUSTOS_EFORMAT names the first problem: a truncated or
 * hostile map is refused before anything else reads it).  The leaves are
 * read on demand; the root over them is checked by
 * custos_blockmap_check_root or during custos_blockmap_verify_image.
 */
CUSTOS_EXTERN custos_status custos_blockmap_open(custos_blockmap **out,
		const char *path, custos_error *err);
/* The same over a map held in memory (copied).  For fuzzing and tests. */
CUSTOS_EXTERN custos_status custos_blockmap_open_buffer(
		custos_blockmap **out, const void *data, size_t len,
		custos_error *err);
CUSTOS_EXTERN void custos_blockmap_free(custos_blockmap *m);

CUSTOS_EXTERN uint32_t custos_blockmap_block_size(const custos_blockmap *m);
CUSTOS_EXTERN uint64_t custos_blockmap_media_size(const custos_blockmap *m);
CUSTOS_EXTERN uint64_t custos_blockmap_leaf_count(const custos_blockmap *m);
/* The root written in the map's header (raw bytes and hex). */
CUSTOS_EXTERN void custos_blockmap_root(const custos_blockmap *m,
		custos_merkle_hash out);
CUSTOS_EXTERN const char *custos_blockmap_root_hex(const custos_blockmap *m);
/* Blocks marked as holding unreadable (zero-filled) sectors. */
CUSTOS_EXTERN uint64_t custos_blockmap_marked_count(const custos_blockmap *m);
CUSTOS_EXTERN int custos_blockmap_is_marked(const custos_blockmap *m,
		uint64_t block);
/* SHA-256 of block index (the leaf data). */
CUSTOS_EXTERN custos_status custos_blockmap_leaf(custos_blockmap *m,
		uint64_t index, custos_merkle_hash out, custos_error *err);
/* Recompute the root over every leaf: CUSTOS_EMISMATCH when it is not
 * the one in the header.  O(leaves) time, O(log leaves) memory. */
CUSTOS_EXTERN custos_status custos_blockmap_check_root(custos_blockmap *m,
		custos_error *err);

/* What an acquisition report says of its block map ("block_map"). */
typedef struct custos_blockmap_claim {
	char root[CUSTOS_MERKLE_HASH_SIZE * 2 + 1];
	uint32_t block_size;
	uint64_t leaf_count;
	uint64_t media_size;
	char file[256];                  /* the map's name */
	char file_sha256[65];            /* "" when not given */
} custos_blockmap_claim;

/* Read the block_map of a report (JSON text).  CUSTOS_ENOTFOUND when the
 * report has none, CUSTOS_EFORMAT when it is malformed. */
CUSTOS_EXTERN custos_status custos_blockmap_claim_parse(
		custos_blockmap_claim *out, const char *json, size_t len,
		custos_error *err);
/* The same from the report file at path (a regular file, 8 MiB at most). */
CUSTOS_EXTERN custos_status custos_blockmap_claim_load(
		custos_blockmap_claim *out, const char *path, custos_error *err);
/* Compare a map with a report's claim: root, block size, leaf count and
 * media size.  CUSTOS_EMISMATCH names what differs. */
CUSTOS_EXTERN custos_status custos_blockmap_check_claim(
		const custos_blockmap *m, const custos_blockmap_claim *claim,
		custos_error *err);

/* A damaged run of blocks: bytes [offset, offset + length). */
typedef struct custos_blockmap_damage {
	uint64_t first_block, block_count;
	uint64_t offset, length;
} custos_blockmap_damage;
#define CUSTOS_BLOCKMAP_DAMAGE_MAX 1024

typedef struct custos_blockmap_verify_options {
	int version;                 /* CUSTOS_BLOCKMAP_VERIFY_OPTIONS_VERSION */
	custos_digest_set digests;   /* 0: none; else also hashed in the pass */
	unsigned int workers;        /* hash (and inflate) threads; 0: cores */
	const custos_blockmap_claim *claim; /* the signed report's, or NULL */
	custos_progress_fn progress; /* phase CUSTOS_PHASE_VERIFY */
	void *progress_ctx;
	const volatile sig_atomic_t *cancel;
} custos_blockmap_verify_options;
#define CUSTOS_BLOCKMAP_VERIFY_OPTIONS_VERSION 1

typedef struct custos_blockmap_verify_result {
	uint64_t bytes;              /* media bytes read */
	uint64_t blocks_checked;     /* blocks hashed and compared */
	uint64_t bad_blocks;         /* blocks whose hash differs */
	uint64_t blocks_unchecked;   /* after a corrupt E01 chunk */
	/* the damaged runs, first CUSTOS_BLOCKMAP_DAMAGE_MAX of them */
	custos_blockmap_damage damage[CUSTOS_BLOCKMAP_DAMAGE_MAX];
	size_t damage_count;
	int truncated;               /* the image ended before the map */
	int root_ok;                 /* the leaves give the header's root */
	int claim_ok;                /* -1 no claim given, 0 differs, 1 same */
	uint64_t marked_blocks;      /* unreadable at acquisition */
	char digest[CUSTOS_DIGEST_COUNT][CUSTOS_DIGEST_HEX_MAX];
	/* E01: a chunk failed its own check (reading stopped there) */
	int corrupt_chunk;
	uint64_t corrupt_offset;
} custos_blockmap_verify_result;

CUSTOS_EXTERN void custos_blockmap_verify_options_init(
		custos_blockmap_verify_options *opts);

/*
 * Check every block of img against the map, in parallel, in one pass
 * (plus opts->digests when asked).  Returns CUSTOS_OK when every block
 * matches, the map's leaves give its root and the claim (if any) agrees;
 * CUSTOS_EMISMATCH when anything differs (result says what, err gives the
 * first damaged byte range); another code when the image cannot be read.
 * result is heap-sized: allocate it, it is large.
 */
CUSTOS_EXTERN custos_status custos_blockmap_verify_image(custos_image *img,
		custos_blockmap *m, const custos_blockmap_verify_options *opts,
		custos_blockmap_verify_result *result, custos_error *err);

#endif
