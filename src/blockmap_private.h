/*
 * Block maps inside the library: the parallel block hasher that rides on
 * a pipeline (blockmap_hash.c), the writer that acquisition uses and the
 * streaming tree helpers that disclosure uses (blockmap.c).
 */
#ifndef CUSTOS_BLOCKMAP_PRIVATE_H
#define CUSTOS_BLOCKMAP_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "custos/blockmap.h"
#include "custos/ranges.h"
#include "pipeline_private.h"

#define CUSTOS__BLOCKMAP_MAGIC "CUSTOSBM"
#define CUSTOS__BLOCKMAP_HEADER_SIZE 128
#define CUSTOS__BLOCKMAP_ALG_SHA256 1
/* Marked runs kept in memory at most (each run is 16 bytes on disk). */
#define CUSTOS__BLOCKMAP_MARKS_MAX (1u << 20)

/* --- blockmap_hash.c: SHA-256 of every block, on several consumers --- */

typedef struct custos__blockhash custos__blockhash;

/*
 * Receives the block hashes in block order (never concurrently): count
 * hashes for blocks first, first + 1, ...  Runs on a consumer thread.
 */
typedef custos_status (*custos__leaf_sink)(void *ctx, uint64_t first,
		custos_merkle_hash *hashes, size_t count,
		custos_error *err);

custos_status custos__blockhash_new(custos__blockhash **out,
		uint32_t block_size, custos__leaf_sink sink, void *sink_ctx,
		custos_error *err);
/*
 * Register workers consumers on p (before it starts): worker k hashes the
 * blocks of buffers k, k + workers, ...  The pipeline's buffer size must
 * be a multiple of the block size; only the last buffer may be short.
 */
custos_status custos__blockhash_attach(custos__blockhash *h,
		custos__pipeline *p, unsigned int workers, custos_error *err);
/* Hash only the first bytes of the stream (before attach). */
void custos__blockhash_set_limit(custos__blockhash *h, uint64_t bytes);
/* Blocks handed to the sink so far. */
uint64_t custos__blockhash_blocks(custos__blockhash *h);
void custos__blockhash_free(custos__blockhash *h);

/* --- blockmap.c: writing a map during acquisition --- */

typedef struct custos__blockmap_writer custos__blockmap_writer;

/* Create path exclusively (inside the acquisition's private folder). */
custos_status custos__blockmap_writer_open(custos__blockmap_writer **out,
		const char *path, uint32_t block_size, uint32_t sector_size,
		custos_error *err);
custos_status custos__blockmap_writer_attach(custos__blockmap_writer *w,
		custos__pipeline *p, unsigned int workers, custos_error *err);
/*
 * After the pipeline finished: mark the blocks holding unreadable
 * sectors, write the header, fsync and close.  media_size must be the
 * bytes the hasher saw.
 */
custos_status custos__blockmap_writer_finish(custos__blockmap_writer *w,
		uint64_t media_size, const custos_ranges *unreadable,
		custos_error *err);
/* After finish: facts for the report (borrowed). */
const char *custos__blockmap_writer_root_hex(const custos__blockmap_writer *w);
const char *custos__blockmap_writer_sha256(const custos__blockmap_writer *w);
uint64_t custos__blockmap_writer_leaves(const custos__blockmap_writer *w);
uint64_t custos__blockmap_writer_marked(const custos__blockmap_writer *w);
uint64_t custos__blockmap_writer_file_size(const custos__blockmap_writer *w);
void custos__blockmap_writer_free(custos__blockmap_writer *w);

/* --- blockmap.c: the tree, for proofs --- */

/* Leaves [first, first + count) of the map into out. */
custos_status custos__blockmap_read_leaves(custos_blockmap *m,
		uint64_t first, size_t count, custos_merkle_hash *out,
		custos_error *err);

/*
 * Inclusion proofs for several leaves at once, in one streaming pass
 * over the map's leaves: memory O(count * log n), time O(n).  indices
 * sorted, unique; proofs[i] gets CUSTOS_MERKLE_PROOF_MAX hashes of which
 * lengths[i] are used.
 */
custos_status custos__blockmap_proofs(custos_blockmap *m,
		const uint64_t *indices, size_t count,
		custos_merkle_hash (*proofs)[CUSTOS_MERKLE_PROOF_MAX],
		size_t *lengths, custos_error *err);

#endif
