/*
 * Reading E01: one thread reads stored chunks with libewf_handle_read_chunk,
 * workers check and inflate them straight into the hashing pipeline's
 * buffers.  See ewf_private.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libewf.h>

#include "compress_private.h"
#include "custos/version.h"
#include "error_private.h"
#include "ewf_private.h"
#include "fileio_private.h"
#include "util_private.h"

#define MAX_WORKERS 8


/* A compressed chunk is never kept when larger than its data, but zlib's
 * worst case for other tools' files is a few bytes over. */
#define STORED_SLACK 64
#define MAX_CHUNK_SIZE (16u * 1024 * 1024)

struct custos__ewf_reader {
	libewf_handle_t *handle;
	char **segments;
	int segment_count;
	uint64_t media_size;
	uint32_t chunk_size;
	uint64_t largest_segment;
	char md5[33], sha1[41];
	int has_md5, has_sha1;
	char header[1024];
};

static void bin_to_hex(const uint8_t *bin, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * n] = '\0';
}

/*
 * Walk a segment file's chain of section descriptors (76 bytes each: type,
 * next offset, size, padding, Adler-32).  libewf opens a segment that lost
 * its tail without complaint, so a truncated image would otherwise read as
 * complete; here the chain must be intact and end in "next" (or "done" in
 * the last segment) on the file's last byte.
 */
static custos_status check_section_chain(const char *path, int last,
		custos_error *err)
{
	uint8_t d[76];
	uint64_t off = 13, size;
	struct stat sb;
	custos_status st;
	int fd;

	if ((st = custos__open_regular(&fd, path, "E01 segment", err)) !=
			CUSTOS_OK)
		return st;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return custos__error_errno(err, errno, "cannot stat %s", path);
	}
	size = (uint64_t)sb.st_size;
	for (uint64_t steps = 0; ; steps++) {
		uint64_t next = 0;
		uint32_t sum;
		char type[17];

		if (off > size || size - off < sizeof(d) ||
		    steps > size / sizeof(d) ||
		    pread(fd, d, sizeof(d), (off_t)off) != (ssize_t)sizeof(d)) {
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"%s is truncated or damaged: its sections end "
				"at byte %llu of %llu", path,
				(unsigned long long)off, (unsigned long long)size);
			break;
		}
		sum = (uint32_t)d[72] | (uint32_t)d[73] << 8 |
		      (uint32_t)d[74] << 16 | (uint32_t)d[75] << 24;
		if (custos__adler32(d, 72) != sum) {
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"%s is damaged: bad section header at byte %llu",
				path, (unsigned long long)off);
			break;
		}
		memcpy(type, d, 16);
		type[16] = '\0';
		for (int i = 7; i >= 0; i--)
			next = next << 8 | d[16 + i];
		if (strcmp(type, "done") == 0 || strcmp(type, "next") == 0) {
			if (strcmp(type, last ? "done" : "next") != 0 ||
			    off + sizeof(d) != size)
				st = custos__error_set(err, CUSTOS_EMISMATCH,
					"%s does not end as an E01 segment should "
					"(\"%s\" section at byte %llu of %llu)",
					path, type, (unsigned long long)off,
					(unsigned long long)size);
			break;
		}
		if (next <= off) {
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"%s is damaged: a section points backwards at "
				"byte %llu", path, (unsigned long long)off);
			break;
		}
		off = next;
	}
	close(fd);
	return st;
}

custos_status custos__ewf_reader_open(custos__ewf_reader **out,
		const char *first_segment, custos_error *err)
{
	custos__ewf_reader *r;
	libewf_error_t *e = NULL;
	size32_t chunk = 0;
	size64_t size = 0;
	uint8_t hash[20];
	size_t len = strlen(first_segment);
	custos_status st = CUSTOS_OK;

	*out = NULL;
	/* libewf_glob reads before the name if it is shorter than ".E01". */
	if (len < 5)
		return custos__error_set(err, CUSTOS_EINVAL,
			"%s: not an E01 segment name", first_segment);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (libewf_glob(first_segment, len, LIBEWF_FORMAT_UNKNOWN, &r->segments,
			&r->segment_count, &e) != 1 || r->segment_count <= 0) {
		custos__ewf_reader_free(r);
		return custos__ewf_error(err, &e, CUSTOS_ENOTFOUND,
			"cannot find the E01 segments");
	}
	for (int i = 0; i < r->segment_count; i++) {
		struct stat sb;

		if (stat(r->segments[i], &sb) != 0) {
			st = custos__error_errno(err, errno, "cannot open %s",
				r->segments[i]);
			custos__ewf_reader_free(r);
			return st;
		}
		if ((uint64_t)sb.st_size > r->largest_segment)
			r->largest_segment = (uint64_t)sb.st_size;
		st = check_section_chain(r->segments[i],
			i == r->segment_count - 1, err);
		if (st != CUSTOS_OK) {
			custos__ewf_reader_free(r);
			return st;
		}
	}
	if (libewf_handle_initialize(&r->handle, &e) != 1 ||
	    libewf_handle_open(r->handle, r->segments, r->segment_count,
			LIBEWF_OPEN_READ, &e) != 1) {
		custos__ewf_reader_free(r);
		return custos__ewf_error(err, &e, CUSTOS_EFORMAT, "cannot open the E01");
	}
	if (libewf_handle_get_media_size(r->handle, &size, &e) != 1 ||
	    libewf_handle_get_chunk_size(r->handle, &chunk, &e) != 1) {
		custos__ewf_reader_free(r);
		return custos__ewf_error(err, &e, CUSTOS_EFORMAT,
			"cannot read the E01 media values");
	}
	if (chunk == 0 || chunk > MAX_CHUNK_SIZE) {
		custos__ewf_reader_free(r);
		return custos__error_set(err, CUSTOS_EFORMAT,
			"E01 chunk size %u is not plausible", (unsigned)chunk);
	}
	if (size == 0) {
		custos__ewf_reader_free(r);
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"%s holds no media (damaged or not an E01)",
			first_segment);
	}
	r->media_size = size;
	r->chunk_size = chunk;
	if (libewf_handle_get_md5_hash(r->handle, hash, 16, NULL) == 1) {
		bin_to_hex(hash, 16, r->md5);
		r->has_md5 = 1;
	}
	if (libewf_handle_get_sha1_hash(r->handle, hash, 20, NULL) == 1) {
		bin_to_hex(hash, 20, r->sha1);
		r->has_sha1 = 1;
	}
	*out = r;
	return CUSTOS_OK;
}

uint64_t custos__ewf_reader_media_size(const custos__ewf_reader *r)
{
	return r->media_size;
}

uint32_t custos__ewf_reader_chunk_size(const custos__ewf_reader *r)
{
	return r->chunk_size;
}

size_t custos__ewf_reader_file_count(const custos__ewf_reader *r)
{
	return (size_t)r->segment_count;
}

const char *custos__ewf_reader_file(const custos__ewf_reader *r, size_t i)
{
	return i < (size_t)r->segment_count ? r->segments[i] : NULL;
}

const char *custos__ewf_reader_stored_md5(const custos__ewf_reader *r)
{
	return r->has_md5 ? r->md5 : NULL;
}

const char *custos__ewf_reader_stored_sha1(const custos__ewf_reader *r)
{
	return r->has_sha1 ? r->sha1 : NULL;
}

const char *custos__ewf_reader_header(custos__ewf_reader *r, const char *id)
{
	if (libewf_handle_get_utf8_header_value(r->handle, (const uint8_t *)id,
			strlen(id), (uint8_t *)r->header, sizeof(r->header),
			NULL) != 1)
		return NULL;
	r->header[sizeof(r->header) - 1] = '\0';
	return r->header;
}

/* One stored chunk, as read from the file, waiting for its check. */
typedef struct stored_chunk {
	size_t offset;       /* in the batch's staging data */
	uint32_t size;       /* stored bytes */
	uint32_t data_size;  /* media bytes it must give */
	uint32_t checksum;   /* raw chunks */
	int compressed;
} stored_chunk;

typedef struct batch {
	uint64_t seq;
	uint64_t first_chunk;
	uint8_t *dst;        /* the pipeline buffer */
	size_t len;          /* media bytes */
	size_t count;
	stored_chunk *chunks;
	uint8_t *data;       /* staging for stored bytes */
} batch;

typedef struct feed {
	custos__ewf_reader *r;
	custos__pipeline *p;
	batch *batches;
	size_t batch_count, chunks_per_batch;
	/* queue of batches for the workers */
	uint64_t *queue;
	size_t q_head, q_len;
	int done, stop;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	custos__ewf_feed_result *result;
	char corrupt_why[640];
} feed;

static void mark_corrupt(feed *f, uint64_t chunk, const char *why)
{
	pthread_mutex_lock(&f->mutex);
	if (!f->result->corrupt || chunk < f->result->corrupt_chunk) {
		f->result->corrupt = 1;
		f->result->corrupt_chunk = chunk;
		f->result->corrupt_offset = chunk * (uint64_t)f->r->chunk_size;
		snprintf(f->corrupt_why, sizeof(f->corrupt_why), "%s", why);
	}
	f->stop = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mutex);
	/* Nothing after this chunk may be hashed; free a waiting reader. */
	custos__pipeline_stop(f->p);
}

static void *inflate_main(void *arg)
{
	feed *f = arg;
	custos__inflater *in = NULL;

	if (custos__inflater_new(&in, NULL) != CUSTOS_OK) {
		mark_corrupt(f, 0, "out of memory");
		return NULL;
	}
	for (;;) {
		batch *b;
		uint64_t seq;
		int bad = 0;

		pthread_mutex_lock(&f->mutex);
		while (f->q_len == 0 && !f->done && !f->stop)
			pthread_cond_wait(&f->cond, &f->mutex);
		if (f->q_len == 0 || f->stop) {
			pthread_mutex_unlock(&f->mutex);
			break;
		}
		seq = f->queue[f->q_head];
		f->q_head = (f->q_head + 1) % f->batch_count;
		f->q_len--;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->mutex);

		b = &f->batches[seq % f->batch_count];
		for (size_t j = 0; j < b->count && !bad; j++) {
			const stored_chunk *c = &b->chunks[j];
			uint8_t *dst = b->dst + j * f->r->chunk_size;
			const uint8_t *src = b->data + c->offset;

			if (c->compressed) {
				if (custos__inflater_inflate(in, src, c->size, dst,
						c->data_size) != CUSTOS_OK) {
					mark_corrupt(f, b->first_chunk + j,
						"its zlib stream is damaged");
					bad = 1;
				}
			} else if (custos__adler32(src, c->data_size) !=
				   c->checksum) {
				mark_corrupt(f, b->first_chunk + j,
					"its Adler-32 checksum does not match");
				bad = 1;
			} else {
				memcpy(dst, src, c->data_size);
			}
		}
		if (bad)
			break;
		pthread_mutex_lock(&f->mutex);
		f->result->chunks_checked += b->count;
		pthread_mutex_unlock(&f->mutex);
		custos__pipeline_publish(f->p, seq, b->len);
	}
	custos__inflater_free(in);
	return NULL;
}

/* Read one batch of stored chunks; returns 0 when a chunk is unusable. */
static int read_batch(feed *f, batch *b, uint64_t *offset, uint64_t *chunk,
		uint8_t *scratch, size_t scratch_size)
{
	custos__ewf_reader *r = f->r;
	size_t pos = 0;

	b->count = 0;
	b->len = 0;
	b->first_chunk = *chunk;
	while (b->count < f->chunks_per_batch && *offset < r->media_size) {
		stored_chunk *c = &b->chunks[b->count];
		uint32_t want = r->media_size - *offset < r->chunk_size
			? (uint32_t)(r->media_size - *offset) : r->chunk_size;
		libewf_error_t *e = NULL;
		uint8_t sum[4] = {0};
		uint32_t checksum = 0;
		int8_t compressed = 0, has_checksum = 0;
		ssize_t n;

		/*
		 * libewf copies a compressed chunk's stored size, taken from
		 * the file, without checking our buffer: the scratch buffer
		 * is as large as the largest segment file, which bounds it.
		 */
		n = libewf_handle_read_chunk(r->handle, scratch, scratch_size,
			&compressed, sum, &checksum, &has_checksum, &e);
		if (n <= 0 || (size_t)n > scratch_size) {
			custos_error le;
			char why[sizeof(le.message) + 32];

			custos__ewf_error(&le, &e, CUSTOS_EMISMATCH, "libewf");
			snprintf(why, sizeof(why), "it cannot be read (%s)",
				le.message);
			mark_corrupt(f, *chunk, why);
			return 0;
		}
		if (compressed) {
			if ((size_t)n > r->chunk_size + STORED_SLACK) {
				mark_corrupt(f, *chunk,
					"its stored size is impossible");
				return 0;
			}
			c->size = (uint32_t)n;
		} else {
			if ((size_t)n != (size_t)want + 4) {
				mark_corrupt(f, *chunk,
					"its stored size does not match");
				return 0;
			}
			c->size = want;
			c->checksum = has_checksum ? checksum
				: (uint32_t)scratch[want] |
				  (uint32_t)scratch[want + 1] << 8 |
				  (uint32_t)scratch[want + 2] << 16 |
				  (uint32_t)scratch[want + 3] << 24;
		}
		c->compressed = compressed != 0;
		c->data_size = want;
		c->offset = pos;
		memcpy(b->data + pos, scratch, c->size);
		/* A hostile size may have touched many pages: give them back. */
		if ((size_t)n > (4u << 20))
			(void)madvise(scratch, scratch_size, MADV_DONTNEED);
		pos += c->size;
		b->len += want;
		b->count++;
		*offset += want;
		(*chunk)++;
	}
	return 1;
}

custos_status custos__ewf_reader_feed(custos__ewf_reader *r,
		custos__pipeline *p, unsigned int workers,
		const volatile sig_atomic_t *cancel,
		void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		custos__ewf_feed_result *result, custos_error *err)
{
	feed f;
	pthread_t threads[MAX_WORKERS];
	unsigned int started = 0;
	size_t bufsize = custos__pipeline_buffer_size(p);
	size_t scratch_size;
	uint8_t *scratch = MAP_FAILED;
	uint64_t offset = 0, chunk = 0;
	custos_status st = CUSTOS_OK;
	sigset_t all, old;

	memset(&f, 0, sizeof(f));
	memset(result, 0, sizeof(*result));
	/* read_chunk walks from the current offset: start at the first. */
	{
		libewf_error_t *e = NULL;

		if (libewf_handle_seek_offset(r->handle, 0, SEEK_SET, &e) != 0)
			return custos__ewf_error(err, &e, CUSTOS_EIO,
				"cannot rewind the E01");
	}
	f.r = r;
	f.p = p;
	f.result = result;
	f.batch_count = custos__pipeline_buffer_count(p);
	if (bufsize % r->chunk_size != 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"buffer size is not a whole number of chunks");
	f.chunks_per_batch = bufsize / r->chunk_size;
	pthread_mutex_init(&f.mutex, NULL);
	pthread_cond_init(&f.cond, NULL);
	f.batches = calloc(f.batch_count, sizeof(*f.batches));
	f.queue = calloc(f.batch_count, sizeof(*f.queue));
	if (f.batches == NULL || f.queue == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; st == CUSTOS_OK && i < f.batch_count; i++) {
		f.batches[i].chunks = calloc(f.chunks_per_batch,
			sizeof(stored_chunk));
		f.batches[i].data = malloc(f.chunks_per_batch *
			((size_t)r->chunk_size + STORED_SLACK));
		if (f.batches[i].chunks == NULL || f.batches[i].data == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	/* Address space only: pages are used as libewf writes into them. */
	scratch_size = (size_t)r->largest_segment + r->chunk_size + 16;
	if (st == CUSTOS_OK) {
		scratch = mmap(NULL, scratch_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (scratch == MAP_FAILED)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"cannot reserve a read buffer");
	}
	if (workers == 0)
		workers = 1;
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; st == CUSTOS_OK && started < workers; started++)
		if (pthread_create(&threads[started], NULL, inflate_main, &f) != 0)
			st = custos__error_set(err, CUSTOS_EINTERNAL,
				"cannot start a thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	while (st == CUSTOS_OK && offset < r->media_size) {
		uint64_t seq;
		uint8_t *dst;
		batch *b;

		if (cancel != NULL && *cancel) {
			st = custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted");
			break;
		}
		pthread_mutex_lock(&f.mutex);
		if (f.stop) {
			pthread_mutex_unlock(&f.mutex);
			break;
		}
		pthread_mutex_unlock(&f.mutex);
		dst = custos__pipeline_claim(p, &seq);
		if (dst == NULL)
			break; /* a consumer failed */
		b = &f.batches[seq % f.batch_count];
		b->seq = seq;
		b->dst = dst;
		if (!read_batch(&f, b, &offset, &chunk, scratch, scratch_size))
			break;
		pthread_mutex_lock(&f.mutex);
		f.queue[(f.q_head + f.q_len) % f.batch_count] = seq;
		f.q_len++;
		pthread_cond_broadcast(&f.cond);
		pthread_mutex_unlock(&f.mutex);
		if (progress != NULL)
			progress(progress_ctx, offset);
	}
	pthread_mutex_lock(&f.mutex);
	f.done = 1;
	if (st != CUSTOS_OK)
		f.stop = 1;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.mutex);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (st == CUSTOS_OK && result->corrupt)
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"chunk %llu at offset %llu is corrupt: %s",
			(unsigned long long)result->corrupt_chunk,
			(unsigned long long)result->corrupt_offset,
			f.corrupt_why);
	if (scratch != MAP_FAILED)
		munmap(scratch, scratch_size);
	for (size_t i = 0; f.batches != NULL && i < f.batch_count; i++) {
		free(f.batches[i].chunks);
		free(f.batches[i].data);
	}
	free(f.batches);
	free(f.queue);
	pthread_mutex_destroy(&f.mutex);
	pthread_cond_destroy(&f.cond);
	return st;
}

void custos__ewf_reader_free(custos__ewf_reader *r)
{
	if (r == NULL)
		return;
	if (r->handle != NULL) {
		libewf_handle_close(r->handle, NULL);
		libewf_handle_free(&r->handle, NULL);
	}
	if (r->segments != NULL)
		libewf_glob_free(r->segments, r->segment_count, NULL);
	free(r);
}

custos_status custos__ewf_reader_read_at(custos__ewf_reader *r, void *buf,
		size_t len, uint64_t offset, custos_error *err)
{
	libewf_error_t *e = NULL;
	ssize_t n;

	if (offset > r->media_size || len > r->media_size - offset)
		return custos__error_set(err, CUSTOS_EINVAL,
			"bytes %llu+%zu lie beyond the media (%llu bytes)",
			(unsigned long long)offset, len,
			(unsigned long long)r->media_size);
	n = libewf_handle_read_random(r->handle, buf, len, (off64_t)offset,
		&e);
	if (n < 0)
		return custos__ewf_error(err, &e, CUSTOS_EMISMATCH,
			"cannot read the E01");
	if ((size_t)n != len)
		return custos__error_set(err, CUSTOS_EIO,
			"short read in the E01 at byte %llu",
			(unsigned long long)offset);
	return CUSTOS_OK;
}
