/*
 * Fuzz target: block maps from untrusted bytes.  Invariants, beyond not
 * crashing: the outcome is a documented status; a map that opens is
 * exactly the size its header implies, with leaves for its media size and
 * marks inside it; every leaf reads; the root check gives OK or
 * EMISMATCH and the same answer twice; proofs built for a few leaves
 * verify against a root recomputed from the leaves when the map's root
 * holds.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "custos/custos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_blockmap *m = NULL;
	custos_status st, again;
	uint64_t leaves, media, marked = 0;
	uint32_t bs;

	if (size > (4u << 20))
		return 0;
	st = custos_blockmap_open_buffer(&m, data, size, NULL);
	if (st != CUSTOS_OK) {
		if ((st != CUSTOS_EFORMAT && st != CUSTOS_ENOMEM) || m != NULL)
			abort();
		return 0;
	}
	leaves = custos_blockmap_leaf_count(m);
	media = custos_blockmap_media_size(m);
	bs = custos_blockmap_block_size(m);
	if (bs < 512 || (bs & (bs - 1)) != 0 ||
	    leaves != (media + bs - 1) / bs || size < 128 + leaves * 32)
		abort();
	for (uint64_t i = 0; i < leaves; i++) {
		custos_merkle_hash h;

		if (custos_blockmap_leaf(m, i, h, NULL) != CUSTOS_OK)
			abort();
		marked += custos_blockmap_is_marked(m, i) != 0;
	}
	if (marked != custos_blockmap_marked_count(m))
		abort();
	st = custos_blockmap_check_root(m, NULL);
	again = custos_blockmap_check_root(m, NULL);
	if ((st != CUSTOS_OK && st != CUSTOS_EMISMATCH) || st != again)
		abort();
	if (st == CUSTOS_OK && leaves > 0) {
		/* An inclusion proof of the first and the last leaf holds. */
		custos_merkle_hash root, leaf, data_hash;
		custos_merkle_hash proof[CUSTOS_MERKLE_PROOF_MAX];
		size_t n = 0;
		uint64_t idx[2] = {0, leaves - 1};

		custos_blockmap_root(m, root);
		for (int k = 0; k < 2; k++) {
			custos_merkle_hash *all = NULL;

			if (leaves > 4096)
				break;
			all = calloc(leaves, sizeof(*all));
			if (all == NULL)
				abort();
			for (uint64_t i = 0; i < leaves; i++) {
				custos_blockmap_leaf(m, i, data_hash, NULL);
				custos_merkle_leaf_hash(all[i], data_hash, 32);
			}
			if (custos_merkle_inclusion_proof(proof, &n, all, leaves,
					idx[k], NULL) != CUSTOS_OK)
				abort();
			memcpy(leaf, all[idx[k]], sizeof(leaf));
			free(all);
			if (custos_merkle_verify_inclusion(idx[k], leaves, leaf,
					proof, n, root, NULL) != CUSTOS_OK)
				abort();
		}
	}
	custos_blockmap_free(m);
	return 0;
}
