/* RFC 6962 / 9162 Merkle trees: hashing, compact state, proofs. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "custos/merkle.h"
#include "error_private.h"

void custos_merkle_leaf_hash(custos_merkle_hash out, const void *data,
		size_t len)
{
	static const unsigned char zero = 0x00;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	/* Only allocation can fail here; then the hash is all zeros, which
	 * no check accepts. */
	memset(out, 0, CUSTOS_MERKLE_HASH_SIZE);
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, &zero, 1) == 1 &&
	    EVP_DigestUpdate(c, data, len) == 1)
		EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

void custos_merkle_node_hash(custos_merkle_hash out,
		const custos_merkle_hash left, const custos_merkle_hash right)
{
	unsigned char buf[1 + 2 * CUSTOS_MERKLE_HASH_SIZE];

	buf[0] = 0x01;
	memcpy(buf + 1, left, CUSTOS_MERKLE_HASH_SIZE);
	memcpy(buf + 1 + CUSTOS_MERKLE_HASH_SIZE, right,
		CUSTOS_MERKLE_HASH_SIZE);
	SHA256(buf, sizeof(buf), out);
}

void custos_merkle_state_init(custos_merkle_state *s)
{
	memset(s, 0, sizeof(*s));
}

custos_status custos_merkle_state_append(custos_merkle_state *s,
		const custos_merkle_hash leaf, custos_error *err)
{
	custos_merkle_hash h;
	unsigned k = 0;

	if (s->size == UINT64_MAX)
		return custos__error_set(err, CUSTOS_ENOMEM,
			"the Merkle tree is full");
	memcpy(h, leaf, sizeof(h));
	/* Carry: merge with each perfect subtree of the same height. */
	while (s->size & ((uint64_t)1 << k)) {
		custos_merkle_node_hash(h, s->subtree[k], h);
		memset(s->subtree[k], 0, sizeof(s->subtree[k]));
		k++;
	}
	memcpy(s->subtree[k], h, sizeof(h));
	s->size++;
	return CUSTOS_OK;
}

void custos_merkle_state_root(const custos_merkle_state *s,
		custos_merkle_hash out)
{
	custos_merkle_hash r;
	int have = 0;

	if (s->size == 0) {
		SHA256((const unsigned char *)"", 0, out);
		return;
	}
	/* From the smallest subtree (rightmost) to the largest (leftmost). */
	for (unsigned k = 0; k < 64; k++) {
		if (!(s->size & ((uint64_t)1 << k)))
			continue;
		if (!have) {
			memcpy(r, s->subtree[k], sizeof(r));
			have = 1;
		} else {
			custos_merkle_node_hash(r, s->subtree[k], r);
		}
	}
	memcpy(out, r, sizeof(r));
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

void custos_merkle_root(custos_merkle_hash out,
		custos_merkle_hash *leaves, uint64_t n)
{
	custos_merkle_state s;

	custos_merkle_state_init(&s);
	for (uint64_t i = 0; i < n; i++)
		(void)custos_merkle_state_append(&s, leaves[i], NULL);
	custos_merkle_state_root(&s, out);
}

static custos_status push(custos_merkle_hash *proof, size_t *count,
		custos_merkle_hash *leaves, uint64_t n, custos_error *err)
{
	if (*count >= CUSTOS_MERKLE_PROOF_MAX)
		return custos__error_set(err, CUSTOS_EINTERNAL,
			"Merkle proof too long");
	custos_merkle_root(proof[*count], leaves, n);
	(*count)++;
	return CUSTOS_OK;
}

/* RFC 9162 2.1.3.1 PATH(m, D[n]); hashes are appended after the
 * recursion, so the deepest sibling comes first. */
static custos_status path(custos_merkle_hash *proof, size_t *count,
		custos_merkle_hash *d, uint64_t n, uint64_t m,
		custos_error *err)
{
	uint64_t k;
	custos_status st;

	if (n <= 1)
		return CUSTOS_OK;
	k = split_point(n);
	if (m < k) {
		if ((st = path(proof, count, d, k, m, err)) != CUSTOS_OK)
			return st;
		return push(proof, count, d + k, n - k, err);
	}
	if ((st = path(proof, count, d + k, n - k, m - k, err)) != CUSTOS_OK)
		return st;
	return push(proof, count, d, k, err);
}

custos_status custos_merkle_inclusion_proof(custos_merkle_hash *proof,
		size_t *count, custos_merkle_hash *leaves, uint64_t size,
		uint64_t index, custos_error *err)
{
	*count = 0;
	if (index >= size)
		return custos__error_set(err, CUSTOS_EINVAL,
			"leaf %llu is not in a tree of %llu leaves",
			(unsigned long long)index, (unsigned long long)size);
	return path(proof, count, leaves, size, index, err);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b). */
static custos_status subproof(custos_merkle_hash *proof, size_t *count,
		custos_merkle_hash *d, uint64_t n, uint64_t m, int b,
		custos_error *err)
{
	uint64_t k;
	custos_status st;

	if (m == n)
		return b ? CUSTOS_OK : push(proof, count, d, n, err);
	k = split_point(n);
	if (m <= k) {
		if ((st = subproof(proof, count, d, k, m, b, err)) != CUSTOS_OK)
			return st;
		return push(proof, count, d + k, n - k, err);
	}
	if ((st = subproof(proof, count, d + k, n - k, m - k, 0, err)) !=
			CUSTOS_OK)
		return st;
	return push(proof, count, d, k, err);
}

custos_status custos_merkle_consistency_proof(custos_merkle_hash *proof,
		size_t *count, custos_merkle_hash *leaves, uint64_t size1,
		uint64_t size2, custos_error *err)
{
	*count = 0;
	if (size1 > size2)
		return custos__error_set(err, CUSTOS_EINVAL,
			"size %llu is larger than size %llu",
			(unsigned long long)size1, (unsigned long long)size2);
	if (size1 == 0 || size1 == size2)
		return CUSTOS_OK;
	return subproof(proof, count, leaves, size2, size1, 1, err);
}

custos_status custos_merkle_verify_inclusion(uint64_t index, uint64_t size,
		const custos_merkle_hash leaf, custos_merkle_hash *proof,
		size_t count, const custos_merkle_hash root, custos_error *err)
{
	uint64_t fn, sn;
	custos_merkle_hash r;

	if (index >= size)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"inclusion proof: index %llu is not below size %llu",
			(unsigned long long)index, (unsigned long long)size);
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, sizeof(r));
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"inclusion proof: %zu hashes, too long",
				count);
		if ((fn & 1) || fn == sn) {
			custos_merkle_node_hash(r, proof[i], r);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			custos_merkle_node_hash(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"inclusion proof: %zu hashes, too short", count);
	if (memcmp(r, root, sizeof(r)) != 0)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"inclusion proof does not lead to the tree head");
	return CUSTOS_OK;
}

custos_status custos_merkle_verify_consistency(uint64_t size1,
		uint64_t size2, const custos_merkle_hash root1,
		const custos_merkle_hash root2, custos_merkle_hash *proof,
		size_t count, custos_error *err)
{
	uint64_t fn, sn;
	custos_merkle_hash fr, sr;
	size_t i = 0;

	if (size1 > size2)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"consistency proof: size %llu is larger than %llu",
			(unsigned long long)size1, (unsigned long long)size2);
	if (size1 == size2) {
		if (count != 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"consistency proof between equal sizes must "
				"be empty");
		if (memcmp(root1, root2, CUSTOS_MERKLE_HASH_SIZE) != 0)
			return custos__error_set(err, CUSTOS_EMISMATCH,
				"two tree heads of size %llu differ",
				(unsigned long long)size1);
		if (size1 == 0) {
			custos_merkle_hash empty;

			SHA256((const unsigned char *)"", 0, empty);
			if (memcmp(root1, empty, sizeof(empty)) != 0)
				return custos__error_set(err, CUSTOS_EMISMATCH,
					"the empty tree has another head");
		}
		return CUSTOS_OK;
	}
	if (size1 == 0) {
		if (count != 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"consistency proof from the empty tree must "
				"be empty");
		return CUSTOS_OK;
	}
	if (count == 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"consistency proof is empty");
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* When size1 is a power of two, its root is the first hash. */
	if (fn == 0) {
		memcpy(fr, root1, sizeof(fr));
	} else {
		memcpy(fr, proof[0], sizeof(fr));
		i = 1;
	}
	memcpy(sr, fr, sizeof(sr));
	for (; i < count; i++) {
		if (sn == 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"consistency proof: %zu hashes, too long",
				count);
		if ((fn & 1) || fn == sn) {
			custos_merkle_node_hash(fr, proof[i], fr);
			custos_merkle_node_hash(sr, proof[i], sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			custos_merkle_node_hash(sr, sr, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"consistency proof: %zu hashes, too short", count);
	if (memcmp(fr, root1, sizeof(fr)) != 0 ||
	    memcmp(sr, root2, sizeof(sr)) != 0)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"consistency proof does not lead to both tree heads");
	return CUSTOS_OK;
}
