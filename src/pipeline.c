/*
 * The fan-out pipeline; see pipeline_private.h for the model.  When a
 * consumer fails, the others stop, and the failure reported is the first
 * one in time (a full disk, not the "stopped" of the stages after it).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_private.h"
#include "pipeline_private.h"

typedef struct consumer {
	custos__pipeline *pipeline;
	custos__consume_fn fn;
	void *ctx;
	uint64_t consumed;  /* buffers finished, guarded by the mutex */
	pthread_t thread;
	int started;
	custos_error error; /* written only by this consumer's thread */
} consumer;

struct custos__pipeline {
	size_t buffer_size, buffer_count;
	uint8_t **buffers;
	size_t *lengths;
	uint64_t *ready;    /* per slot: seq + 1 once published */
	uint64_t claimed;   /* buffers handed to the producer */
	uint64_t produced;  /* buffers published, in sequence */
	uint64_t bytes_in_done; /* bytes in buffers all consumers finished */
	int ended, aborted, failed;
	int first_failure;  /* index of the consumer that failed first, or -1 */
	consumer consumers[CUSTOS__PIPELINE_MAX_CONSUMERS];
	size_t consumer_count;
	pthread_mutex_t mutex;
	pthread_cond_t have_data;  /* producer -> consumers */
	pthread_cond_t have_space; /* consumers -> producer */
};

custos_status custos__pipeline_new(custos__pipeline **out, size_t buffer_size,
		size_t buffer_count, custos_error *err)
{
	custos__pipeline *p;

	*out = NULL;
	if (buffer_size == 0 || buffer_count < 2 || buffer_count > 1024)
		return custos__error_set(err, CUSTOS_EINVAL, "bad buffer pool");
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	p->buffer_size = buffer_size;
	p->buffer_count = buffer_count;
	p->first_failure = -1;
	p->buffers = calloc(buffer_count, sizeof(*p->buffers));
	p->lengths = calloc(buffer_count, sizeof(*p->lengths));
	p->ready = calloc(buffer_count, sizeof(*p->ready));
	if (p->buffers == NULL || p->lengths == NULL || p->ready == NULL)
		goto nomem;
	for (size_t i = 0; i < buffer_count; i++) {
		/* Page-aligned, so the same buffers suit O_DIRECT reads. */
		void *b = NULL;

		if (posix_memalign(&b, 4096, buffer_size) != 0)
			goto nomem;
		p->buffers[i] = b;
	}
	pthread_mutex_init(&p->mutex, NULL);
	pthread_cond_init(&p->have_data, NULL);
	pthread_cond_init(&p->have_space, NULL);
	*out = p;
	return CUSTOS_OK;
nomem:
	if (p->buffers != NULL)
		for (size_t i = 0; i < buffer_count; i++)
			free(p->buffers[i]);
	free(p->buffers);
	free(p->lengths);
	free(p->ready);
	free(p);
	return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
}

custos_status custos__pipeline_add_consumer(custos__pipeline *p,
		custos__consume_fn fn, void *ctx, custos_error *err)
{
	consumer *c;

	if (p->consumer_count == CUSTOS__PIPELINE_MAX_CONSUMERS)
		return custos__error_set(err, CUSTOS_EINVAL, "too many consumers");
	c = &p->consumers[p->consumer_count++];
	c->pipeline = p;
	c->fn = fn;
	c->ctx = ctx;
	return CUSTOS_OK;
}

static uint64_t slowest_consumed(const custos__pipeline *p)
{
	uint64_t min = p->produced;

	for (size_t i = 0; i < p->consumer_count; i++)
		if (p->consumers[i].consumed < min)
			min = p->consumers[i].consumed;
	return min;
}

static void *consumer_main(void *arg)
{
	consumer *c = arg;
	custos__pipeline *p = c->pipeline;

	for (;;) {
		size_t slot, len;
		custos_status st;

		pthread_mutex_lock(&p->mutex);
		while (c->consumed == p->produced && !p->ended && !p->failed &&
		       !p->aborted)
			pthread_cond_wait(&p->have_data, &p->mutex);
		if (p->failed || p->aborted ||
		    (c->consumed == p->produced && p->ended)) {
			pthread_mutex_unlock(&p->mutex);
			break;
		}
		slot = (size_t)(c->consumed % p->buffer_count);
		len = p->lengths[slot];
		pthread_mutex_unlock(&p->mutex);

		st = c->fn(c->ctx, p->buffers[slot], len, c->consumed, &c->error);

		pthread_mutex_lock(&p->mutex);
		if (st != CUSTOS_OK) {
			if (c->error.status == CUSTOS_OK)
				c->error.status = st;
			/* The first failure is the cause; later ones follow. */
			if (!p->failed)
				p->first_failure = (int)(c - p->consumers);
			p->failed = 1;
			pthread_cond_broadcast(&p->have_data);
		} else {
			uint64_t before = slowest_consumed(p);

			c->consumed++;
			if (slowest_consumed(p) != before)
				p->bytes_in_done += p->lengths[before %
							       p->buffer_count];
		}
		pthread_cond_broadcast(&p->have_space);
		pthread_mutex_unlock(&p->mutex);
		if (st != CUSTOS_OK)
			break;
	}
	return NULL;
}

custos_status custos__pipeline_start(custos__pipeline *p, custos_error *err)
{
	sigset_t all, old;
	custos_status st = CUSTOS_OK;

	/* Signals go to the producer (the caller), which handles cancel. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < p->consumer_count; i++) {
		consumer *c = &p->consumers[i];

		if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
			st = custos__error_set(err, CUSTOS_EINTERNAL,
				"cannot start a worker thread");
			pthread_mutex_lock(&p->mutex);
			p->aborted = 1;
			pthread_cond_broadcast(&p->have_data);
			pthread_mutex_unlock(&p->mutex);
			break;
		}
		c->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return st;
}

uint8_t *custos__pipeline_claim(custos__pipeline *p, uint64_t *seq)
{
	uint8_t *buf = NULL;

	pthread_mutex_lock(&p->mutex);
	while (!p->failed && !p->aborted &&
	       p->claimed - slowest_consumed(p) >= p->buffer_count)
		pthread_cond_wait(&p->have_space, &p->mutex);
	if (!p->failed && !p->aborted) {
		*seq = p->claimed++;
		buf = p->buffers[*seq % p->buffer_count];
	}
	pthread_mutex_unlock(&p->mutex);
	return buf;
}

void custos__pipeline_publish(custos__pipeline *p, uint64_t seq, size_t len)
{
	size_t slot = (size_t)(seq % p->buffer_count);

	pthread_mutex_lock(&p->mutex);
	p->lengths[slot] = len;
	p->ready[slot] = seq + 1;
	/* Consumers only ever see an unbroken sequence. */
	while (p->produced < p->claimed &&
	       p->ready[p->produced % p->buffer_count] == p->produced + 1)
		p->produced++;
	pthread_cond_broadcast(&p->have_data);
	pthread_mutex_unlock(&p->mutex);
}

size_t custos__pipeline_buffer_size(const custos__pipeline *p)
{
	return p->buffer_size;
}

size_t custos__pipeline_buffer_count(const custos__pipeline *p)
{
	return p->buffer_count;
}

void custos__pipeline_stop(custos__pipeline *p)
{
	pthread_mutex_lock(&p->mutex);
	p->aborted = 1;
	pthread_cond_broadcast(&p->have_data);
	pthread_cond_broadcast(&p->have_space);
	pthread_mutex_unlock(&p->mutex);
}

int custos__pipeline_failed(custos__pipeline *p)
{
	int failed;

	pthread_mutex_lock(&p->mutex);
	failed = p->failed;
	pthread_mutex_unlock(&p->mutex);
	return failed;
}

custos_status custos__pipeline_timedwait(custos__pipeline *p,
		pthread_cond_t *cond, pthread_mutex_t *mutex, custos_error *err)
{
	struct timespec until;

	if (custos__pipeline_failed(p))
		return custos__error_set(err, CUSTOS_ECANCELED,
			"stopped: another stage failed");
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 100 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	(void)pthread_cond_timedwait(cond, mutex, &until);
	return CUSTOS_OK;
}

uint64_t custos__pipeline_bytes_done(custos__pipeline *p)
{
	uint64_t done;

	pthread_mutex_lock(&p->mutex);
	done = p->bytes_in_done;
	pthread_mutex_unlock(&p->mutex);
	return done;
}

custos_status custos__pipeline_finish(custos__pipeline *p, int abort,
		custos_error *err)
{
	custos_status st = CUSTOS_OK;

	pthread_mutex_lock(&p->mutex);
	p->ended = 1;
	if (abort)
		p->aborted = 1;
	pthread_cond_broadcast(&p->have_data);
	pthread_mutex_unlock(&p->mutex);
	for (size_t i = 0; i < p->consumer_count; i++) {
		consumer *c = &p->consumers[i];

		if (c->started)
			pthread_join(c->thread, NULL);
		c->started = 0;
	}
	if (p->first_failure >= 0) {
		consumer *c = &p->consumers[p->first_failure];

		st = c->error.status;
		if (err != NULL)
			*err = c->error;
	}
	return st;
}

void custos__pipeline_free(custos__pipeline *p)
{
	if (p == NULL)
		return;
	(void)custos__pipeline_finish(p, 1, NULL);
	for (size_t i = 0; i < p->buffer_count; i++)
		free(p->buffers[i]);
	free(p->buffers);
	free(p->lengths);
	free(p->ready);
	pthread_mutex_destroy(&p->mutex);
	pthread_cond_destroy(&p->have_data);
	pthread_cond_destroy(&p->have_space);
	free(p);
}

