/*
 * The block hasher: SHA-256 of every fixed-size block of a stream, on
 * several pipeline consumers at once, delivered in block order.
 *
 * Worker k takes the buffers whose sequence number is k modulo the worker
 * count and hashes their blocks into a result slot of its own; whoever
 * completes the oldest pending buffer hands every completed buffer, in
 * order, to the sink.  A slot is reused only when the pipeline reuses its
 * buffer, which happens after every consumer finished with it, so a
 * buffer's hashes are always delivered before its slot is needed again.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "blockmap_private.h"
#include "error_private.h"

#define MAX_WORKERS 8

typedef struct slot {
	uint64_t ready;             /* seq + 1 once its hashes are in */
	uint64_t first;             /* first block index */
	size_t count;
	custos_merkle_hash *hashes; /* blocks_per_buffer */
} slot;

typedef struct worker {
	custos__blockhash *h;
	unsigned int index;
	uint64_t offset;            /* stream bytes before the next buffer */
	EVP_MD_CTX *md;
} worker;

struct custos__blockhash {
	uint32_t block_size;
	custos__leaf_sink sink;
	void *sink_ctx;
	size_t buffer_size, blocks_per_buffer, slot_count;
	slot *slots;
	worker workers[MAX_WORKERS];
	unsigned int worker_count;
	EVP_MD *sha256;
	pthread_mutex_t lock;
	uint64_t next;              /* next buffer to deliver */
	uint64_t delivered;         /* blocks given to the sink */
	uint64_t limit;             /* bytes past it are not hashed */
};

custos_status custos__blockhash_new(custos__blockhash **out,
		uint32_t block_size, custos__leaf_sink sink, void *sink_ctx,
		custos_error *err)
{
	custos__blockhash *h;

	*out = NULL;
	if (block_size == 0 || sink == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "bad block size");
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	h->block_size = block_size;
	h->sink = sink;
	h->sink_ctx = sink_ctx;
	h->limit = UINT64_MAX;
	h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	pthread_mutex_init(&h->lock, NULL);
	if (h->sha256 == NULL) {
		custos__blockhash_free(h);
		return custos__error_set(err, CUSTOS_EINTERNAL,
			"SHA-256 is not available");
	}
	*out = h;
	return CUSTOS_OK;
}

/* Deliver every completed buffer, oldest first.  Called with the lock. */
static custos_status deliver(custos__blockhash *h, custos_error *err)
{
	for (;;) {
		slot *s = &h->slots[h->next % h->slot_count];
		custos_status st;

		if (s->ready != h->next + 1)
			return CUSTOS_OK;
		if (s->count > 0 && s->first != h->delivered)
			return custos__error_set(err, CUSTOS_EINTERNAL,
				"block hashes out of order (%llu, expected "
				"%llu)", (unsigned long long)s->first,
				(unsigned long long)h->delivered);
		st = h->sink(h->sink_ctx, s->first, s->hashes, s->count, err);
		if (st != CUSTOS_OK)
			return st;
		h->delivered += s->count;
		h->next++;
	}
}

static custos_status consume(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	worker *w = ctx;
	custos__blockhash *h = w->h;
	uint64_t offset = w->offset;
	slot *s;
	custos_status st;

	w->offset += len;
	if (offset % h->block_size != 0)
		return custos__error_set(err, CUSTOS_EINTERNAL,
			"a short buffer before the end of the stream "
			"(offset %llu)", (unsigned long long)offset);
	if (seq % h->worker_count != w->index)
		return CUSTOS_OK;
	s = &h->slots[seq % h->slot_count];
	s->first = offset / h->block_size;
	s->count = 0;
	/* An E01's sector padding lies past the media: not a block. */
	len = offset >= h->limit ? 0 : h->limit - offset < len
		? (size_t)(h->limit - offset) : len;
	for (size_t pos = 0; pos < len; pos += h->block_size) {
		size_t n = len - pos < h->block_size ? len - pos
						     : h->block_size;
		unsigned int mdlen = 0;

		if (EVP_DigestInit_ex2(w->md, h->sha256, NULL) != 1 ||
		    EVP_DigestUpdate(w->md, data + pos, n) != 1 ||
		    EVP_DigestFinal_ex(w->md, s->hashes[s->count], &mdlen) != 1)
			return custos__error_set(err, CUSTOS_EINTERNAL,
				"SHA-256 failed");
		s->count++;
	}
	pthread_mutex_lock(&h->lock);
	s->ready = seq + 1;
	st = deliver(h, err);
	pthread_mutex_unlock(&h->lock);
	return st;
}

custos_status custos__blockhash_attach(custos__blockhash *h,
		custos__pipeline *p, unsigned int workers, custos_error *err)
{
	custos_status st = CUSTOS_OK;

	h->buffer_size = custos__pipeline_buffer_size(p);
	h->slot_count = custos__pipeline_buffer_count(p);
	if (h->buffer_size % h->block_size != 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the buffer size (%zu) is not a multiple of the block "
			"size (%u)", h->buffer_size, h->block_size);
	h->blocks_per_buffer = h->buffer_size / h->block_size;
	h->worker_count = workers == 0 ? 1 : workers > MAX_WORKERS
		? MAX_WORKERS : workers;
	h->slots = calloc(h->slot_count, sizeof(*h->slots));
	if (h->slots == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < h->slot_count; i++) {
		h->slots[i].hashes = calloc(h->blocks_per_buffer,
			sizeof(custos_merkle_hash));
		if (h->slots[i].hashes == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	for (unsigned int i = 0; st == CUSTOS_OK && i < h->worker_count; i++) {
		worker *w = &h->workers[i];

		w->h = h;
		w->index = i;
		w->md = EVP_MD_CTX_new();
		if (w->md == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		st = custos__pipeline_add_consumer(p, consume, w, err);
	}
	return st;
}

void custos__blockhash_set_limit(custos__blockhash *h, uint64_t bytes)
{
	h->limit = bytes;
}

uint64_t custos__blockhash_blocks(custos__blockhash *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->lock);
	n = h->delivered;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void custos__blockhash_free(custos__blockhash *h)
{
	if (h == NULL)
		return;
	for (unsigned int i = 0; i < MAX_WORKERS; i++)
		EVP_MD_CTX_free(h->workers[i].md);
	if (h->slots != NULL)
		for (size_t i = 0; i < h->slot_count; i++)
			free(h->slots[i].hashes);
	free(h->slots);
	EVP_MD_free(h->sha256);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
