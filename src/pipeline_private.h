/*
 * The fan-out pipeline: one producer fills buffers from a bounded ring, and
 * every consumer (one digest each, the writer) sees every buffer, in order,
 * on its own thread.  A slot is reused only when all consumers are done
 * with it, so memory is buffer_size * buffer_count whatever the stream size.
 */
#ifndef CUSTOS_PIPELINE_PRIVATE_H
#define CUSTOS_PIPELINE_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "custos/error.h"

#define CUSTOS__PIPELINE_MAX_CONSUMERS 16

typedef struct custos__pipeline custos__pipeline;

/*
 * Called on the consumer's thread for every buffer, in order; seq counts
 * buffers from 0.  Returns CUSTOS_OK or fills err.
 */
typedef custos_status (*custos__consume_fn)(void *ctx, const uint8_t *data,
		size_t len, uint64_t seq, custos_error *err);

custos_status custos__pipeline_new(custos__pipeline **out, size_t buffer_size,
		size_t buffer_count, custos_error *err);
/* Register before start. */
custos_status custos__pipeline_add_consumer(custos__pipeline *p,
		custos__consume_fn fn, void *ctx, custos_error *err);
/* Starts one thread per consumer, with signals blocked in them. */
custos_status custos__pipeline_start(custos__pipeline *p, custos_error *err);

/*
 * Producer side: claim the next free buffer (waits while the ring is full)
 * and learn its sequence number, fill it, then publish how many bytes it
 * holds.  Several buffers may be claimed before they are published, and
 * published from any thread in any order; consumers see them in sequence.
 * claim returns NULL when a consumer failed; custos__pipeline_finish then
 * reports why.
 */
uint8_t *custos__pipeline_claim(custos__pipeline *p, uint64_t *seq);
void custos__pipeline_publish(custos__pipeline *p, uint64_t seq, size_t len);
size_t custos__pipeline_buffer_size(const custos__pipeline *p);
size_t custos__pipeline_buffer_count(const custos__pipeline *p);
/* Producer side: stop early; consumers and claim() stop waiting. */
void custos__pipeline_stop(custos__pipeline *p);
/* Whether a consumer failed (other consumers waiting on it should stop). */
int custos__pipeline_failed(custos__pipeline *p);
/*
 * For a consumer waiting on another one's condition variable (mutex held):
 * wait on cond for at most 100 ms, then let the caller test its condition
 * again.  CUSTOS_ECANCELED, with err set, once a stage of p has failed, so
 * that nobody waits for a buffer that will never come.
 */
custos_status custos__pipeline_timedwait(custos__pipeline *p,
		pthread_cond_t *cond, pthread_mutex_t *mutex, custos_error *err);
/* Bytes every consumer has finished with. */
uint64_t custos__pipeline_bytes_done(custos__pipeline *p);

/*
 * Signal the end of the stream (or, with abort set, stop early), wait for
 * all consumers, and return the consumer error that happened first in
 * time, if any.
 */
custos_status custos__pipeline_finish(custos__pipeline *p, int abort,
		custos_error *err);
void custos__pipeline_free(custos__pipeline *p);

#endif
