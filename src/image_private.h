/*
 * Image reading for other library files: the media stream fed into a
 * pipeline (for the block map check) and the E01 chunk size that its
 * buffers must hold whole.
 */
#ifndef CUSTOS_IMAGE_PRIVATE_H
#define CUSTOS_IMAGE_PRIVATE_H

#include "custos/image.h"
#include "pipeline_private.h"

/* 0 for raw images. */
uint32_t custos__image_chunk_size(const custos_image *img);

/*
 * Publish the whole medium into p, which the caller started (E01: chunks
 * checked and inflated on workers threads).  CUSTOS_EMISMATCH at a
 * corrupt E01 chunk: *corrupt is set and *corrupt_offset says where.
 */
custos_status custos__image_feed(custos_image *img, custos__pipeline *p,
		unsigned int workers, const volatile sig_atomic_t *cancel,
		void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		int *corrupt, uint64_t *corrupt_offset, custos_error *err);

#endif
