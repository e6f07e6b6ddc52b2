/*
 * Chunk compression for EWF: each chunk becomes one zlib stream (RFC 1950),
 * which is what EnCase and libewf store.  Backends, chosen at build time:
 * ISA-L igzip for "fast" (much faster than zlib level 1 at the same ratio),
 * libdeflate for "best" and for inflating, zlib otherwise.
 */
#ifndef CUSTOS_COMPRESS_PRIVATE_H
#define CUSTOS_COMPRESS_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "custos/acquire.h"
#include "custos/error.h"

typedef struct custos__deflater custos__deflater;
typedef struct custos__inflater custos__inflater;

custos_status custos__deflater_new(custos__deflater **out,
		custos_compression level, custos_error *err);
/*
 * Compress len bytes into dst.  Returns the stream size, or 0 when the
 * stream would not be smaller than dst_capacity (the caller then stores the
 * chunk raw).  Thread-compatible: one deflater per thread.
 */
size_t custos__deflater_compress(custos__deflater *d, const uint8_t *src,
		size_t len, uint8_t *dst, size_t dst_capacity);
void custos__deflater_free(custos__deflater *d);
/* "isa-l", "libdeflate" or "zlib", for reports. */
const char *custos__deflate_backend(custos_compression level);

custos_status custos__inflater_new(custos__inflater **out, custos_error *err);
/*
 * Inflate one zlib stream that must decode to exactly want bytes, checking
 * its Adler-32.  Returns CUSTOS_OK or CUSTOS_EMISMATCH (corrupt data).
 */
custos_status custos__inflater_inflate(custos__inflater *in,
		const uint8_t *src, size_t len, uint8_t *dst, size_t want);
void custos__inflater_free(custos__inflater *in);

/* zlib's Adler-32 (seed 1), as EWF stores beside raw chunks. */
uint32_t custos__adler32(const uint8_t *data, size_t len);

#endif
