/*
 * Evidence images as one media stream: raw, split raw, or E01.  Hashing
 * runs every digest on its own thread from one bounded buffer pool; E01
 * chunks are checked and inflated in parallel by the ewf module.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custos/image.h"
#include "custos/raw.h"
#include "error_private.h"
#include "ewf_private.h"
#include "fileio_private.h"
#include "image_private.h"
#include "pipeline_private.h"
#include "util_private.h"

#define BUFFER_SIZE (1024 * 1024)
#define BUFFER_COUNT 16
#define MAX_RAW_SEGMENTS 999

struct custos_image {
	custos_image_format format;
	char **paths;           /* raw files, in order */
	size_t path_count;
	custos__ewf_reader *ewf;
	uint64_t media_size;
	custos_source *random_src; /* raw: opened by custos_image_read */
};

/* What the first bytes of a file say about it. */
typedef enum first_bytes {
	BYTES_OTHER,    /* nothing like EWF */
	BYTES_EWF,      /* the EWF (E01) signature, intact */
	BYTES_EWF_LIKE, /* close to an EWF-family signature: damaged */
} first_bytes;

/*
 * EWF-family files start with an 8-byte signature: "EVF\t\r\n\xff\0"
 * (E01, s01), "LVF\t\r\n\xff\0" (L01), "EVF2\r\n\x81\0" (Ex01),
 * "LEF2\r\n\x81\0" (Lx01).  Only the first is read here; the others,
 * and any signature with up to 3 bytes changed, are "EWF-like": most
 * likely a damaged segment, which must never pass for raw media.
 */
static first_bytes classify(const char *path)
{
	static const unsigned char sigs[4][8] = {
		{'E', 'V', 'F', 0x09, 0x0d, 0x0a, 0xff, 0x00},
		{'L', 'V', 'F', 0x09, 0x0d, 0x0a, 0xff, 0x00},
		{'E', 'V', 'F', '2', 0x0d, 0x0a, 0x81, 0x00},
		{'L', 'E', 'F', '2', 0x0d, 0x0a, 0x81, 0x00},
	};
	unsigned char buf[8];
	ssize_t n;
	int fd;

	if (custos__open_regular(&fd, path, "image", NULL) != CUSTOS_OK)
		return BYTES_OTHER;
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n == (ssize_t)sizeof(buf) && memcmp(buf, sigs[0], 8) == 0)
		return BYTES_EWF;
	for (size_t k = 0; n > 0 && k < 4; k++) {
		size_t same = 0;

		for (size_t i = 0; i < (size_t)n; i++)
			same += buf[i] == sigs[k][i];
		/* A short file counts when all it has is a signature's
		 * start; a full one with up to 3 bytes changed. */
		if ((size_t)n < 8 ? same == (size_t)n && n >= 3 : same >= 5)
			return BYTES_EWF_LIKE;
	}
	return BYTES_OTHER;
}

/* A name EWF tools give segments: .E01-.E99, .Ex01, .s01, .L01, .Lx01
 * (any case). */
static int has_ewf_name(const char *path)
{
	const char *base = custos__basename(path);
	const char *dot = strrchr(base, '.');
	const char *d;

	if (dot == NULL)
		return 0;
	d = dot + 1;
	if (strchr("EeSsLl", d[0]) == NULL || d[0] == '\0')
		return 0;
	d++;
	if ((dot[1] == 'E' || dot[1] == 'e' || dot[1] == 'L' ||
	     dot[1] == 'l') && (*d == 'x' || *d == 'X'))
		d++;
	return d[0] >= '0' && d[0] <= '9' && d[1] >= '0' && d[1] <= '9' &&
		d[2] == '\0';
}

/* In auto mode a path must be unambiguous: not damaged EWF, not an EWF
 * name on other bytes. */
static custos_status refuse_ambiguous(const char *path, first_bytes b,
		custos_error *err)
{
	if (b == BYTES_EWF_LIKE)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"%s is a damaged EWF segment: its EVF signature is "
			"broken or truncated (give --format raw to hash its "
			"bytes as raw media)", path);
	if (has_ewf_name(path))
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"%s is named as an EWF segment but has no EWF "
			"signature: damaged or misnamed (give --format raw to "
			"hash its bytes as raw media)", path);
	return CUSTOS_OK;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static custos_status add_path(custos_image *img, const char *path,
		custos_error *err)
{
	char **grown;

	if (img->path_count >= MAX_RAW_SEGMENTS)
		return custos__error_set(err, CUSTOS_EINVAL,
			"more than %d image files", MAX_RAW_SEGMENTS);
	grown = realloc(img->paths, (img->path_count + 1) * sizeof(*grown));
	if (grown == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	img->paths = grown;
	img->paths[img->path_count] = strdup(path);
	if (img->paths[img->path_count] == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	img->path_count++;
	return CUSTOS_OK;
}

/* X.001 alone: take X.002, X.003 ... while they exist. */
static custos_status add_split_segments(custos_image *img, const char *first,
		custos_error *err)
{
	size_t stem = strlen(first) - 3;
	custos_status st = add_path(img, first, err);

	for (int i = 2; st == CUSTOS_OK && i <= MAX_RAW_SEGMENTS; i++) {
		char *next = custos__aprintf("%.*s%03d", (int)stem, first, i);

		if (next == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		if (!custos__path_exists(next)) {
			free(next);
			break;
		}
		st = add_path(img, next, err);
		free(next);
	}
	return st;
}

custos_status custos_image_open(custos_image **out, const char *const *paths,
		size_t count, custos_error *err)
{
	return custos_image_open_as(out, paths, count, CUSTOS_IMAGE_AUTO, err);
}

custos_status custos_image_open_as(custos_image **out,
		const char *const *paths, size_t count, custos_image_kind kind,
		custos_error *err)
{
	custos_image *img;
	custos_status st = CUSTOS_OK;
	first_bytes first = BYTES_OTHER;

	if (out == NULL || paths == NULL || count == 0)
		return custos__error_set(err, CUSTOS_EINVAL, "no image given");
	*out = NULL;
	if (kind != CUSTOS_IMAGE_AUTO && kind != CUSTOS_IMAGE_RAW &&
	    kind != CUSTOS_IMAGE_E01)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown image kind %d", (int)kind);
	for (size_t i = 0; i < count; i++) {
		struct stat sb;

		custos_status regular;

		if (stat(paths[i], &sb) != 0)
			return custos__error_errno(err, errno, "cannot open %s",
				paths[i]);
		/* A FIFO would hang the read, a character device never
		 * ends: refused before anything is read. */
		if ((regular = custos__check_regular(paths[i], "image", err))
				!= CUSTOS_OK)
			return regular;
	}
	if (kind != CUSTOS_IMAGE_RAW) {
		first = classify(paths[0]);
		if (kind == CUSTOS_IMAGE_E01 && first != BYTES_EWF)
			return custos__error_set(err, CUSTOS_EMISMATCH,
				"%s is not an intact E01: its EVF signature is "
				"%s", paths[0], first == BYTES_EWF_LIKE
				? "broken or truncated" : "missing");
		for (size_t i = 0; kind == CUSTOS_IMAGE_AUTO && i < count;
				i++) {
			first_bytes b = i == 0 ? first : classify(paths[i]);

			if (b == BYTES_EWF && i == 0)
				break;
			if ((st = refuse_ambiguous(paths[i], b, err)) !=
					CUSTOS_OK)
				return st;
		}
	}
	img = calloc(1, sizeof(*img));
	if (img == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (first == BYTES_EWF) {
		img->format = CUSTOS_FORMAT_E01;
		if (count > 1)
			st = custos__error_set(err, CUSTOS_EINVAL,
				"give only the first E01 segment; the others "
				"are found with it");
		else
			st = custos__ewf_reader_open(&img->ewf, paths[0], err);
		if (st == CUSTOS_OK)
			img->media_size = custos__ewf_reader_media_size(img->ewf);
	} else {
		img->format = CUSTOS_FORMAT_RAW;
		if (count == 1 && ends_with(paths[0], ".001"))
			st = add_split_segments(img, paths[0], err);
		else
			for (size_t i = 0; st == CUSTOS_OK && i < count; i++)
				st = add_path(img, paths[i], err);
		for (size_t i = 0; st == CUSTOS_OK && i < img->path_count; i++) {
			struct stat sb;

			if (stat(img->paths[i], &sb) == 0)
				img->media_size += (uint64_t)sb.st_size;
		}
	}
	if (st != CUSTOS_OK) {
		custos_image_free(img);
		return st;
	}
	*out = img;
	return CUSTOS_OK;
}

custos_image_format custos_image_get_format(const custos_image *img)
{
	return img->format;
}

uint64_t custos_image_media_size(const custos_image *img)
{
	return img->media_size;
}

size_t custos_image_file_count(const custos_image *img)
{
	return img->ewf != NULL ? custos__ewf_reader_file_count(img->ewf)
				: img->path_count;
}

const char *custos_image_file(const custos_image *img, size_t index)
{
	if (img->ewf != NULL)
		return custos__ewf_reader_file(img->ewf, index);
	return index < img->path_count ? img->paths[index] : NULL;
}

const char *custos_image_stored_digest(const custos_image *img,
		custos_digest_alg alg)
{
	if (img->ewf == NULL)
		return NULL;
	if (alg == CUSTOS_DIGEST_MD5)
		return custos__ewf_reader_stored_md5(img->ewf);
	if (alg == CUSTOS_DIGEST_SHA1)
		return custos__ewf_reader_stored_sha1(img->ewf);
	return NULL;
}

const char *custos_image_header(custos_image *img, const char *identifier)
{
	if (img->ewf == NULL || identifier == NULL)
		return NULL;
	return custos__ewf_reader_header(img->ewf, identifier);
}

void custos_image_hash_options_init(custos_image_hash_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_IMAGE_HASH_OPTIONS_VERSION;
	opts->digests = CUSTOS_DIGEST_SET_DEFAULT;
}

typedef struct hash_run {
	const custos_image_hash_options *opts;
	custos_image *img;
	double t0, last;
} hash_run;

static void report_progress(hash_run *h, uint64_t done, int final)
{
	custos_progress p;
	double now = custos__monotonic_seconds();

	if (h->opts->progress == NULL || (!final && now - h->last < 0.25))
		return;
	h->last = now;
	memset(&p, 0, sizeof(p));
	p.phase = CUSTOS_PHASE_VERIFY;
	p.bytes_done = done;
	p.bytes_total = h->img->media_size;
	p.elapsed_seconds = now - h->t0;
	p.final = final;
	h->opts->progress(&p, h->opts->progress_ctx);
}

static void feed_progress(void *ctx, uint64_t bytes)
{
	report_progress(ctx, bytes, 0);
}

static custos_status consume_digest(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	(void)seq;
	return custos_digest_update(ctx, data, len, err);
}

/* Raw files: read them in order into the pipeline. */
static custos_status feed_raw(hash_run *h, custos__pipeline *p,
		uint64_t *bytes, custos_error *err)
{
	custos_source *src = NULL;
	custos_status st = custos_raw_open_source(&src,
		(const char *const *)h->img->paths, h->img->path_count, err);

	while (st == CUSTOS_OK) {
		uint64_t seq;
		uint8_t *buf = custos__pipeline_claim(p, &seq);
		size_t got = 0;

		if (buf == NULL)
			break;
		st = custos_source_read(src, buf, BUFFER_SIZE, *bytes, &got,
			h->opts->cancel, err);
		if (st != CUSTOS_OK || got == 0)
			break;
		custos__pipeline_publish(p, seq, got);
		*bytes += got;
		report_progress(h, *bytes, 0);
	}
	custos_source_free(src);
	return st;
}

static int stored_match(const char *stored, const char *computed)
{
	if (stored == NULL)
		return -1;
	return strcmp(stored, computed) == 0;
}

custos_status custos_image_hash(custos_image *img,
		const custos_image_hash_options *opts,
		custos_image_hash_result *res, custos_error *err)
{
	custos_digest *d[CUSTOS_DIGEST_COUNT] = {0};
	custos_digest_set set;
	custos__pipeline *p = NULL;
	hash_run h;
	size_t bufsize = BUFFER_SIZE;
	custos_status st = CUSTOS_OK, fin;
	custos_error fin_err;

	if (img == NULL || opts == NULL || res == NULL ||
	    opts->version != CUSTOS_IMAGE_HASH_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL, "bad arguments");
	memset(res, 0, sizeof(*res));
	res->stored_md5_match = res->stored_sha1_match = -1;
	set = opts->digests ? opts->digests : CUSTOS_DIGEST_SET_DEFAULT;
	if (img->ewf != NULL) {
		uint32_t chunk = custos__ewf_reader_chunk_size(img->ewf);

		/* The stored MD5 is always checked; SHA-1 when asked for. */
		set |= CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_MD5);
		/* Buffers hold whole chunks. */
		bufsize = chunk >= BUFFER_SIZE ? chunk
			: BUFFER_SIZE / chunk * chunk;
	}
	h.opts = opts;
	h.img = img;
	h.t0 = custos__monotonic_seconds();
	h.last = 0;
	st = custos__pipeline_new(&p, bufsize, BUFFER_COUNT, err);
	for (int alg = 0; st == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++) {
		if (!(set & CUSTOS_DIGEST_BIT(alg)))
			continue;
		st = custos_digest_new(&d[alg], (custos_digest_alg)alg, err);
		if (st == CUSTOS_OK)
			st = custos__pipeline_add_consumer(p, consume_digest,
				d[alg], err);
	}
	if (st == CUSTOS_OK)
		st = custos__pipeline_start(p, err);
	if (st == CUSTOS_OK && img->ewf != NULL) {
		custos__ewf_feed_result fr;

		st = custos__ewf_reader_feed(img->ewf, p, opts->workers
			? opts->workers : custos__cpu_count(), opts->cancel, feed_progress,
			&h, &fr, err);
		res->chunks_checked = fr.chunks_checked;
		res->corrupt = fr.corrupt;
		res->corrupt_chunk = fr.corrupt_chunk;
		res->corrupt_offset = fr.corrupt_offset;
	} else if (st == CUSTOS_OK) {
		uint64_t bytes = 0;

		st = feed_raw(&h, p, &bytes, err);
	}
	if (p != NULL) {
		custos_error_clear(&fin_err);
		fin = custos__pipeline_finish(p, st != CUSTOS_OK, &fin_err);
		if (st == CUSTOS_OK && fin != CUSTOS_OK) {
			st = fin;
			if (err != NULL)
				*err = fin_err;
		}
		res->bytes = custos__pipeline_bytes_done(p);
	}
	report_progress(&h, res->bytes, 1);
	if (st == CUSTOS_OK && res->bytes != img->media_size)
		st = custos__error_set(err, CUSTOS_EIO,
			"read %llu bytes of a %llu-byte medium",
			(unsigned long long)res->bytes,
			(unsigned long long)img->media_size);
	for (int alg = 0; st == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++)
		if (d[alg] != NULL)
			st = custos_digest_final_hex(d[alg], res->digest[alg],
				sizeof(res->digest[alg]), err);
	if (st == CUSTOS_OK && img->ewf != NULL) {
		res->stored_md5_match = stored_match(
			custos__ewf_reader_stored_md5(img->ewf),
			res->digest[CUSTOS_DIGEST_MD5]);
		if (set & CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA1))
			res->stored_sha1_match = stored_match(
				custos__ewf_reader_stored_sha1(img->ewf),
				res->digest[CUSTOS_DIGEST_SHA1]);
		if (res->stored_md5_match == 0 || res->stored_sha1_match == 0)
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"the %s stored in the E01 differs from the media",
				res->stored_md5_match == 0 ? "MD5" : "SHA-1");
	}
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
		custos_digest_free(d[alg]);
	custos__pipeline_free(p);
	return st;
}

void custos_image_free(custos_image *img)
{
	if (img == NULL)
		return;
	for (size_t i = 0; i < img->path_count; i++)
		free(img->paths[i]);
	free(img->paths);
	custos__ewf_reader_free(img->ewf);
	custos_source_free(img->random_src);
	free(img);
}

/* --- random access and feeding, for the block map (blockmap_verify.c,
 * disclose.c) --- */

custos_status custos_image_read(custos_image *img, void *buf, size_t len,
		uint64_t offset, custos_error *err)
{
	size_t got = 0;
	custos_status st;

	if (img == NULL || (buf == NULL && len > 0))
		return custos__error_set(err, CUSTOS_EINVAL, "bad arguments");
	if (offset > img->media_size || len > img->media_size - offset)
		return custos__error_set(err, CUSTOS_EINVAL,
			"bytes %llu+%zu lie beyond the media (%llu bytes)",
			(unsigned long long)offset, len,
			(unsigned long long)img->media_size);
	if (img->ewf != NULL)
		return custos__ewf_reader_read_at(img->ewf, buf, len, offset,
			err);
	if (img->random_src == NULL) {
		st = custos_raw_open_source(&img->random_src,
			(const char *const *)img->paths, img->path_count, err);
		if (st != CUSTOS_OK)
			return st;
	}
	st = custos_source_read(img->random_src, buf, len, offset, &got, NULL,
		err);
	if (st == CUSTOS_OK && got != len)
		st = custos__error_set(err, CUSTOS_EIO,
			"the image ended at byte %llu",
			(unsigned long long)(offset + got));
	return st;
}

uint32_t custos__image_chunk_size(const custos_image *img)
{
	return img->ewf != NULL ? custos__ewf_reader_chunk_size(img->ewf) : 0;
}

custos_status custos__image_feed(custos_image *img, custos__pipeline *p,
		unsigned int workers, const volatile sig_atomic_t *cancel,
		void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		int *corrupt, uint64_t *corrupt_offset, custos_error *err)
{
	custos_source *src = NULL;
	size_t bufsize = custos__pipeline_buffer_size(p);
	uint64_t bytes = 0;
	custos_status st;

	*corrupt = 0;
	*corrupt_offset = 0;
	if (img->ewf != NULL) {
		custos__ewf_feed_result fr;

		memset(&fr, 0, sizeof(fr));
		st = custos__ewf_reader_feed(img->ewf, p, workers ? workers
			: custos__cpu_count(), cancel, progress, progress_ctx,
			&fr, err);
		*corrupt = fr.corrupt;
		*corrupt_offset = fr.corrupt_offset;
		return st;
	}
	st = custos_raw_open_source(&src, (const char *const *)img->paths,
		img->path_count, err);
	while (st == CUSTOS_OK) {
		uint64_t seq;
		uint8_t *buf = custos__pipeline_claim(p, &seq);
		size_t got = 0;

		if (buf == NULL)
			break;
		st = custos_source_read(src, buf, bufsize, bytes, &got, cancel,
			err);
		if (st != CUSTOS_OK || got == 0)
			break;
		custos__pipeline_publish(p, seq, got);
		bytes += got;
		if (progress != NULL)
			progress(progress_ctx, bytes);
	}
	custos_source_free(src);
	return st;
}
