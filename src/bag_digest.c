/*
 * The checksum algorithms a bag's manifests may name (BagIt 1.0: md5,
 * sha1, sha224, sha256, sha384, sha512), by index, and hashing beside the
 * main thread: the slower digests of a block run on a second thread while
 * the main thread reads, decrypts or writes the next one.
 */
#include <pthread.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "bag_private.h"

const char *const custos__alg_names[ALGS] = {"md5", "sha1", "sha256",
	"sha512", "sha224", "sha384"};
const size_t custos__alg_sizes[ALGS] = {16, 20, 32, 64, 28, 48};

const EVP_MD *custos__alg_md(int i)
{
	switch (i) {
	case 0: return EVP_md5();
	case 1: return EVP_sha1();
	case 2: return EVP_sha256();
	case 4: return EVP_sha224();
	case 5: return EVP_sha384();
	default: return EVP_sha512();
	}
}

static void *hash_worker(void *arg)
{
	custos__hash_job *j = arg;

	for (int i = 0; i < ALGS; i++)
		if ((j->mask & (1u << i)) && j->md[i] != NULL)
			EVP_DigestUpdate(j->md[i], j->buf, j->len);
	return NULL;
}

void custos__hash_start(custos__hash_job *j)
{
	j->running = j->len >= 65536 &&
		pthread_create(&j->thread, NULL, hash_worker, j) == 0;
	if (!j->running)
		hash_worker(j);
}

void custos__hash_wait(custos__hash_job *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = 0;
}
