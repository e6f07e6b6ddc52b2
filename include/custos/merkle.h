/*
 * RFC 6962 / RFC 9162 Merkle trees over SHA-256, as used by Certificate
 * Transparency and the C2SP transparency-log specifications.
 *
 *   leaf hash = SHA-256(0x00 || data)
 *   node hash = SHA-256(0x01 || left || right)
 *   the root of the empty tree is SHA-256("")
 *
 * A custos_merkle_state is the compact form of a tree: one hash per set bit
 * of its size (the perfect subtrees it is made of), at most 64 hashes.  An
 * append costs O(log n) and so does the root; nothing else is kept.
 */
#ifndef CUSTOS_MERKLE_H
#define CUSTOS_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

#define CUSTOS_MERKLE_HASH_SIZE 32
/* The longest inclusion or consistency proof for a 64-bit tree size. */
#define CUSTOS_MERKLE_PROOF_MAX 66

typedef unsigned char custos_merkle_hash[CUSTOS_MERKLE_HASH_SIZE];

typedef struct custos_merkle_state {
	uint64_t size;
	/* subtree[k] is the root of the perfect subtree of 2^k leaves when
	 * bit k of size is set; unused entries are zero. */
	custos_merkle_hash subtree[64];
} custos_merkle_state;

/* SHA-256(0x00 || data). */
CUSTOS_EXTERN void custos_merkle_leaf_hash(custos_merkle_hash out,
		const void *data, size_t len);
/* SHA-256(0x01 || left || right). */
CUSTOS_EXTERN void custos_merkle_node_hash(custos_merkle_hash out,
		const custos_merkle_hash left, const custos_merkle_hash right);

CUSTOS_EXTERN void custos_merkle_state_init(custos_merkle_state *s);
/* Add one leaf (its leaf hash).  CUSTOS_ENOMEM at 2^64 - 1 leaves. */
CUSTOS_EXTERN custos_status custos_merkle_state_append(custos_merkle_state *s,
		const custos_merkle_hash leaf, custos_error *err);
/* The tree head of the state. */
CUSTOS_EXTERN void custos_merkle_state_root(const custos_merkle_state *s,
		custos_merkle_hash out);

/* The tree head over n leaf hashes (not modified; the same for the
 * proof functions below). */
CUSTOS_EXTERN void custos_merkle_root(custos_merkle_hash out,
		custos_merkle_hash *leaves, uint64_t n);

/*
 * The inclusion proof (audit path) of leaf index in the tree of the first
 * size leaves: at most CUSTOS_MERKLE_PROOF_MAX hashes into proof, their
 * number in *count.  O(size) hashing: it needs every leaf hash.
 */
CUSTOS_EXTERN custos_status custos_merkle_inclusion_proof(
		custos_merkle_hash *proof, size_t *count,
		custos_merkle_hash *leaves, uint64_t size, uint64_t index,
		custos_error *err);
/* The consistency proof between the trees of size1 and size2 leaves. */
CUSTOS_EXTERN custos_status custos_merkle_consistency_proof(
		custos_merkle_hash *proof, size_t *count,
		custos_merkle_hash *leaves, uint64_t size1, uint64_t size2,
		custos_error *err);

/*
 * Check an inclusion proof (RFC 9162 section 2.1.3.2).  CUSTOS_OK when
 * leaf is at index in the tree of size with this root; CUSTOS_EMISMATCH
 * when the proof does not lead to root; CUSTOS_EFORMAT when it cannot be
 * a proof for these sizes (wrong length, index out of range).
 */
CUSTOS_EXTERN custos_status custos_merkle_verify_inclusion(uint64_t index,
		uint64_t size, const custos_merkle_hash leaf,
		custos_merkle_hash *proof, size_t count,
		const custos_merkle_hash root, custos_error *err);

/* Check a consistency proof (RFC 9162 section 2.1.4.2); as above. */
CUSTOS_EXTERN custos_status custos_merkle_verify_consistency(uint64_t size1,
		uint64_t size2, const custos_merkle_hash root1,
		const custos_merkle_hash root2, custos_merkle_hash *proof,
		size_t count, custos_error *err);

#endif
