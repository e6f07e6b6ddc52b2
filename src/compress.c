/* Chunk compression for EWF; see compress_private.h. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef CUSTOS_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef CUSTOS_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "compress_private.h"
#include "error_private.h"

enum backend { BACKEND_ZLIB, BACKEND_ISAL, BACKEND_LIBDEFLATE };

struct custos__deflater {
	enum backend backend;
	int zlevel;
	z_stream z;          /* reused with deflateReset: no per-chunk malloc */
	int z_ready;
#ifdef CUSTOS_HAVE_ISAL
	struct isal_zstream isal;
	uint8_t *isal_level_buf;
#endif
#ifdef CUSTOS_HAVE_LIBDEFLATE
	struct libdeflate_compressor *ld;
#endif
};

static enum backend backend_for(custos_compression level)
{
#ifdef CUSTOS_HAVE_ISAL
	if (level == CUSTOS_COMPRESSION_FAST)
		return BACKEND_ISAL;
#endif
#ifdef CUSTOS_HAVE_LIBDEFLATE
	if (level == CUSTOS_COMPRESSION_BEST)
		return BACKEND_LIBDEFLATE;
#endif
	(void)level;
	return BACKEND_ZLIB;
}

const char *custos__deflate_backend(custos_compression level)
{
	if (level == CUSTOS_COMPRESSION_NONE)
		return "none";
	switch (backend_for(level)) {
	case BACKEND_ISAL: return "isa-l";
	case BACKEND_LIBDEFLATE: return "libdeflate";
	case BACKEND_ZLIB: break;
	}
	return "zlib";
}

custos_status custos__deflater_new(custos__deflater **out,
		custos_compression level, custos_error *err)
{
	custos__deflater *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	d->backend = backend_for(level);
	d->zlevel = level == CUSTOS_COMPRESSION_BEST ? 9 : 1;
	switch (d->backend) {
	case BACKEND_ISAL:
#ifdef CUSTOS_HAVE_ISAL
		d->isal_level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
		if (d->isal_level_buf == NULL)
			goto nomem;
#endif
		break;
	case BACKEND_LIBDEFLATE:
#ifdef CUSTOS_HAVE_LIBDEFLATE
		d->ld = libdeflate_alloc_compressor(9);
		if (d->ld == NULL)
			goto nomem;
#endif
		break;
	case BACKEND_ZLIB:
		if (deflateInit(&d->z, d->zlevel) != Z_OK)
			goto nomem;
		d->z_ready = 1;
		break;
	}
	*out = d;
	return CUSTOS_OK;
nomem:
	custos__deflater_free(d);
	return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
}

static size_t zlib_compress(custos__deflater *d, const uint8_t *src,
		size_t len, uint8_t *dst, size_t cap)
{
	int rc;

	if (deflateReset(&d->z) != Z_OK)
		return 0;
	d->z.next_in = (Bytef *)src;
	d->z.avail_in = (uInt)len;
	d->z.next_out = dst;
	d->z.avail_out = (uInt)cap;
	rc = deflate(&d->z, Z_FINISH);
	return rc == Z_STREAM_END ? cap - d->z.avail_out : 0;
}

size_t custos__deflater_compress(custos__deflater *d, const uint8_t *src,
		size_t len, uint8_t *dst, size_t dst_capacity)
{
	size_t n = 0;

	if (len > UINT32_MAX || dst_capacity > UINT32_MAX)
		return 0;
	switch (d->backend) {
	case BACKEND_ISAL:
#ifdef CUSTOS_HAVE_ISAL
		isal_deflate_stateless_init(&d->isal);
		d->isal.level = 1;
		d->isal.level_buf = d->isal_level_buf;
		d->isal.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
		d->isal.gzip_flag = IGZIP_ZLIB;
		d->isal.end_of_stream = 1;
		d->isal.flush = NO_FLUSH;
		d->isal.next_in = (uint8_t *)src;
		d->isal.avail_in = (uint32_t)len;
		d->isal.next_out = dst;
		d->isal.avail_out = (uint32_t)dst_capacity;
		if (isal_deflate_stateless(&d->isal) == COMP_OK)
			n = dst_capacity - d->isal.avail_out;
#endif
		break;
	case BACKEND_LIBDEFLATE:
#ifdef CUSTOS_HAVE_LIBDEFLATE
		n = libdeflate_zlib_compress(d->ld, src, len, dst, dst_capacity);
#endif
		break;
	case BACKEND_ZLIB:
		n = zlib_compress(d, src, len, dst, dst_capacity);
		break;
	}
	/* Keep it only when it saves space. */
	return n > 0 && n < dst_capacity ? n : 0;
}

void custos__deflater_free(custos__deflater *d)
{
	if (d == NULL)
		return;
	if (d->z_ready)
		deflateEnd(&d->z);
#ifdef CUSTOS_HAVE_ISAL
	free(d->isal_level_buf);
#endif
#ifdef CUSTOS_HAVE_LIBDEFLATE
	if (d->ld != NULL)
		libdeflate_free_compressor(d->ld);
#endif
	free(d);
}

struct custos__inflater {
#ifdef CUSTOS_HAVE_LIBDEFLATE
	struct libdeflate_decompressor *ld;
#else
	z_stream z;
#endif
};

custos_status custos__inflater_new(custos__inflater **out, custos_error *err)
{
	custos__inflater *in = calloc(1, sizeof(*in));

	*out = NULL;
	if (in == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
#ifdef CUSTOS_HAVE_LIBDEFLATE
	in->ld = libdeflate_alloc_decompressor();
	if (in->ld == NULL) {
		free(in);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
#else
	if (inflateInit(&in->z) != Z_OK) {
		free(in);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
#endif
	*out = in;
	return CUSTOS_OK;
}

custos_status custos__inflater_inflate(custos__inflater *in,
		const uint8_t *src, size_t len, uint8_t *dst, size_t want)
{
#ifdef CUSTOS_HAVE_LIBDEFLATE
	size_t got = 0, used = 0;

	/*
	 * libdeflate checks the zlib header and the Adler-32 trailer; the
	 * stream must also fill the chunk exactly and end where the stored
	 * chunk ends (stray bytes after it are damage too).
	 */
	if (libdeflate_zlib_decompress_ex(in->ld, src, len, dst, want, &used,
			&got) != LIBDEFLATE_SUCCESS || got != want || used != len)
		return CUSTOS_EMISMATCH;
	return CUSTOS_OK;
#else
	int rc;

	if (len > UINT32_MAX || want > UINT32_MAX ||
	    inflateReset(&in->z) != Z_OK)
		return CUSTOS_EMISMATCH;
	in->z.next_in = (Bytef *)src;
	in->z.avail_in = (uInt)len;
	in->z.next_out = dst;
	in->z.avail_out = (uInt)want;
	rc = inflate(&in->z, Z_FINISH);
	/* Z_STREAM_END only after the Adler-32 trailer matched. */
	if (rc != Z_STREAM_END || in->z.avail_out != 0 || in->z.avail_in != 0)
		return CUSTOS_EMISMATCH;
	return CUSTOS_OK;
#endif
}

void custos__inflater_free(custos__inflater *in)
{
	if (in == NULL)
		return;
#ifdef CUSTOS_HAVE_LIBDEFLATE
	if (in->ld != NULL)
		libdeflate_free_decompressor(in->ld);
#else
	inflateEnd(&in->z);
#endif
	free(in);
}

uint32_t custos__adler32(const uint8_t *data, size_t len)
{
#ifdef CUSTOS_HAVE_LIBDEFLATE
	/* Vectorised: several times zlib's speed on raw chunks. */
	return libdeflate_adler32(1, data, len);
#else
	uLong a = adler32(0L, Z_NULL, 0);

	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		a = adler32(a, data, n);
		data += n;
		len -= n;
	}
	return (uint32_t)a;
#endif
}
