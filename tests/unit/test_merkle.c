/*
 * RFC 6962 Merkle trees: the known-answer roots, proofs made here checked
 * both ways, and every inclusion and consistency vector of
 * ../shared/testdata/merkle-vectors passing or failing as labelled.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "custos/merkle.h"
#include "harness.h"

static const char *const leaves_hex[] = {"", "00", "10", "2021", "3031",
	"40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

static size_t unhex(unsigned char *out, const char *hex)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (unsigned char)b;
	}
	return n;
}

static void to_hex(char *out, const custos_merkle_hash h)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void test_known_answers(void)
{
	custos_merkle_hash leaves[8], root;
	custos_merkle_state s;
	char hex[65];

	custos_merkle_state_init(&s);
	for (int i = 0; i < 8; i++) {
		unsigned char buf[32];
		size_t n = unhex(buf, leaves_hex[i]);

		custos_merkle_leaf_hash(leaves[i], buf, n);
		CU_ASSERT(custos_merkle_state_append(&s, leaves[i], NULL) ==
			CUSTOS_OK);
		if (i == 2) {
			custos_merkle_state_root(&s, root);
			to_hex(hex, root);
			CU_ASSERT_STRING_EQUAL(hex, "aeb6bcfe274b70a14fb067a5e5578264"
				"db0fa9b51af5e0ba159158f329e06e77");
		}
	}
	custos_merkle_state_root(&s, root);
	to_hex(hex, root);
	CU_ASSERT_STRING_EQUAL(hex, "5dc9da79a70659a9ad559cb701ded9a2"
		"ab9d823aad2f4960cfe370eff4604328");
	custos_merkle_root(root, leaves, 8);
	to_hex(hex, root);
	CU_ASSERT_STRING_EQUAL(hex, "5dc9da79a70659a9ad559cb701ded9a2"
		"ab9d823aad2f4960cfe370eff4604328");
	/* The empty tree. */
	custos_merkle_root(root, leaves, 0);
	to_hex(hex, root);
	CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb924"
		"27ae41e4649b934ca495991b7852b855");
}

/* Proofs made by custos verify, and fail once a hash is flipped. */
static void test_round_trip(void)
{
	enum { N = 33 };
	custos_merkle_hash leaves[N], roots[N + 1];
	custos_merkle_hash proof[CUSTOS_MERKLE_PROOF_MAX];
	size_t count;

	for (int i = 0; i < N; i++) {
		unsigned char b = (unsigned char)i;

		custos_merkle_leaf_hash(leaves[i], &b, 1);
	}
	for (uint64_t n = 0; n <= N; n++)
		custos_merkle_root(roots[n], leaves, n);
	for (uint64_t n = 1; n <= N; n++) {
		for (uint64_t i = 0; i < n; i++) {
			CU_ASSERT_FATAL(custos_merkle_inclusion_proof(proof,
				&count, leaves, n, i, NULL) == CUSTOS_OK);
			CU_ASSERT(custos_merkle_verify_inclusion(i, n,
				leaves[i], proof, count, roots[n], NULL) ==
				CUSTOS_OK);
			CU_ASSERT(custos_merkle_verify_inclusion(i, n,
				leaves[(i + 1) % N], proof, count, roots[n],
				NULL) != CUSTOS_OK);
			if (count > 0) {
				proof[count - 1][0] ^= 1;
				CU_ASSERT(custos_merkle_verify_inclusion(i, n,
					leaves[i], proof, count, roots[n],
					NULL) != CUSTOS_OK);
			}
		}
		for (uint64_t m = 1; m <= n; m++) {
			CU_ASSERT_FATAL(custos_merkle_consistency_proof(proof,
				&count, leaves, m, n, NULL) == CUSTOS_OK);
			CU_ASSERT(custos_merkle_verify_consistency(m, n,
				roots[m], roots[n], proof, count, NULL) ==
				CUSTOS_OK);
			if (m < n) {
				CU_ASSERT(custos_merkle_verify_consistency(m, n,
					roots[m - 1], roots[n], proof, count,
					NULL) != CUSTOS_OK);
			}
		}
	}
}

/* ---- the shared vectors ---- */

static int vectors_seen, vectors_wrong;

static int b64(custos_merkle_hash out, json_t *s)
{
	const char *t = json_string_value(s);
	unsigned char buf[128];
	size_t len;
	int n, pad = 0;

	if (t == NULL || (len = strlen(t)) == 0 || len % 4 != 0 ||
	    len > 128)
		return 0;
	n = EVP_DecodeBlock(buf, (const unsigned char *)t, (int)len);
	if (t[len - 1] == '=')
		pad = t[len - 2] == '=' ? 2 : 1;
	if (n < 0 || n - pad != 32)
		return 0;
	memcpy(out, buf, 32);
	return 1;
}

/* 1 when the vector is accepted by custos. */
static int run_vector(json_t *v, int inclusion)
{
	custos_merkle_hash proof[CUSTOS_MERKLE_PROOF_MAX], a, b, leaf;
	json_t *p = json_object_get(v, "proof"), *h;
	size_t count = 0, i;

	json_array_foreach(p, i, h) {
		if (count == CUSTOS_MERKLE_PROOF_MAX || !b64(proof[count], h))
			return 0;
		count++;
	}
	if (inclusion) {
		if (!b64(a, json_object_get(v, "root")) ||
		    !b64(leaf, json_object_get(v, "leafHash")))
			return 0;
		return custos_merkle_verify_inclusion(
			(uint64_t)json_integer_value(json_object_get(v,
				"leafIdx")),
			(uint64_t)json_integer_value(json_object_get(v,
				"treeSize")),
			leaf, proof, count, a, NULL) == CUSTOS_OK;
	}
	if (!b64(a, json_object_get(v, "root1")) ||
	    !b64(b, json_object_get(v, "root2"))) {
		/* Roots that are not hashes can only be equal roots of
		 * equal sizes, with nothing to prove. */
		const char *r1 = json_string_value(json_object_get(v, "root1"));
		const char *r2 = json_string_value(json_object_get(v, "root2"));

		return r1 != NULL && r2 != NULL && strcmp(r1, r2) == 0 &&
			json_integer_value(json_object_get(v, "size1")) > 0 &&
			count == 0 && json_integer_value(json_object_get(v,
				"size1")) == json_integer_value(
				json_object_get(v, "size2"));
	}
	if (json_integer_value(json_object_get(v, "size1")) < 0 ||
	    json_integer_value(json_object_get(v, "size2")) < 0)
		return 0;
	return custos_merkle_verify_consistency(
		(uint64_t)json_integer_value(json_object_get(v, "size1")),
		(uint64_t)json_integer_value(json_object_get(v, "size2")),
		a, b, proof, count, NULL) == CUSTOS_OK;
}

static int visit(const char *path, const struct stat *sb, int flag,
		struct FTW *ftw)
{
	json_error_t je;
	json_t *v;
	int inclusion, ok, want_err;

	(void)sb;
	(void)ftw;
	if (flag != FTW_F || strstr(path, ".json") == NULL)
		return 0;
	if (strstr(path, "/subtree") != NULL)
		return 0; /* subtree proofs are another algorithm */
	inclusion = strstr(path, "/inclusion/") != NULL;
	if (!inclusion && strstr(path, "/consistency/") == NULL)
		return 0;
	v = json_load_file(path, 0, &je);
	if (v == NULL) {
		/* An index beyond 2^63 is out of jansson's range: custos
		 * (64-bit sizes) could not be handed it; the vector must be
		 * one that wants an error. */
		size_t len;
		unsigned char *text = harness_read_file(path, &len);

		vectors_seen++;
		if (text == NULL || strstr((char *)text, "\"wantErr\": true")
				== NULL) {
			printf("cannot read %s\n", path);
			vectors_wrong++;
		}
		free(text);
		return 0;
	}
	want_err = json_is_true(json_object_get(v, "wantErr"));
	ok = run_vector(v, inclusion);
	vectors_seen++;
	if (ok == want_err) {
		printf("vector %s: custos %s, wanted %s\n", path,
			ok ? "accepts" : "rejects", want_err ? "error" : "ok");
		vectors_wrong++;
	}
	json_decref(v);
	return 0;
}

static void test_vectors(void)
{
	vectors_seen = vectors_wrong = 0;
	CU_ASSERT_FATAL(nftw(CUSTOS_TESTDATA "/merkle-vectors/testdata",
		visit, 16, FTW_PHYS) == 0);
	printf("\n%d vectors, %d wrong\n", vectors_seen, vectors_wrong);
	CU_ASSERT(vectors_seen >= 190);
	CU_ASSERT(vectors_wrong == 0);
}

static const harness_test tests[] = {
	{"known-answer roots (RFC 6962)", test_known_answers},
	{"proofs made and checked for every size to 33", test_round_trip},
	{"merkle-vectors: inclusion and consistency", test_vectors},
};

HARNESS_MAIN("merkle", tests)
