/*
 * Writing E01: chunks are compressed by worker consumers of the acquisition
 * pipeline and handed to libewf_handle_write_chunk in order by one writer
 * consumer.  Segments are written inside the work folder the caller made;
 * committing them is the caller's.  The writer also tells the caller when
 * a segment is complete and durable, and a resume goes on after the last
 * such segment with libewf's LIBEWF_OPEN_WRITE_RESUME.  See ewf_private.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libewf.h>

#include "compress_private.h"
#include "custos/version.h"
#include "error_private.h"
#include "ewf_private.h"
#include "util_private.h"

/* Start writeback every so many bytes, so the final fsync is short. */
#define WRITEBACK_INTERVAL (64u * 1024 * 1024)
#define MAX_WORKERS 8


typedef struct chunk_out {
	uint32_t size;      /* bytes stored */
	uint32_t data_size; /* bytes of media */
	uint32_t adler32;   /* for raw chunks */
	int compressed;
} chunk_out;

typedef struct slot_out {
	uint8_t *data;      /* compressed streams; chunk j at j * chunk_size */
	chunk_out *chunks;
	size_t chunk_count;
	uint64_t ready;     /* seq + 1 once compressed */
} slot_out;

typedef struct worker {
	custos__ewf_writer *w;
	unsigned int index;
	custos__deflater *deflater;
} worker;

typedef struct file_rec {
	custos_output_file pub;
	char *path, *name;
} file_rec;

struct custos__ewf_writer {
	libewf_handle_t *handle;
	char *output_base;      /* as given: final files are <base>.E01 ... */
	char *part_dir;         /* the caller's work folder */
	char *path_base;        /* <part_dir>/<basename of base>, for libewf */
	custos_compression compression;
	uint32_t bytes_per_sector, chunk_size;
	custos__pipeline *pipeline;
	size_t buffer_size, buffer_count, chunks_per_buffer;
	slot_out *slots;
	worker workers[MAX_WORKERS];
	unsigned int worker_count;
	uint8_t *tail;          /* the last chunk, padded to a whole sector */
	uint64_t padding;
	pthread_mutex_t mutex;
	pthread_cond_t compressed;
	uint64_t since_writeback;
	uint64_t bytes_written;  /* media bytes handed to libewf */
	int sync_fds[1000];
	size_t sync_count;
	/* complete segments, and the name whose creation completes the next */
	unsigned int segments_done;
	char *next_segment;
	custos_status (*segment_done)(void *, unsigned int, uint64_t,
		const uint8_t *, size_t, uint64_t, custos_error *);
	void *segment_ctx;
	/* a resume: media before skip_until is in the image; the first
	 * skip_seqs buffers lie wholly before it */
	uint64_t skip_until, skip_seqs;
	uint64_t stream_pos;    /* media offset of the buffer being written */
	int need_seek;          /* a read-back moved libewf's offset */
	char **segments;        /* from libewf_glob, inside part_dir */
	size_t segment_count;
	file_rec *files;
	size_t file_count;
	int open, committed;
};

static int set_header(libewf_handle_t *h, const char *id, const char *value,
		libewf_error_t **e)
{
	if (value == NULL || *value == '\0')
		return 1;
	return libewf_handle_set_utf8_header_value(h, (const uint8_t *)id,
		strlen(id), (const uint8_t *)value, strlen(value), e);
}

static custos_status configure(custos__ewf_writer *w,
		const custos__ewf_writer_config *cfg, custos_error *err)
{
	static const int8_t levels[] = {
		[CUSTOS_COMPRESSION_NONE] = LIBEWF_COMPRESSION_NONE,
		[CUSTOS_COMPRESSION_FAST] = LIBEWF_COMPRESSION_FAST,
		[CUSTOS_COMPRESSION_BEST] = LIBEWF_COMPRESSION_BEST,
	};
	const custos_case_info *c = cfg->case_info;
	libewf_handle_t *h = w->handle;
	libewf_error_t *e = NULL;
	char *names[1] = {w->path_base};

	/* set_format comes before the compression values and segment size. */
	if (libewf_handle_open(h, names, 1, LIBEWF_OPEN_WRITE, &e) != 1)
		return custos__ewf_error(err, &e, CUSTOS_EIO, "cannot create the E01");
	if (libewf_handle_set_format(h, LIBEWF_FORMAT_ENCASE6, &e) != 1 ||
	    libewf_handle_set_compression_values(h, levels[cfg->compression], 0,
			&e) != 1 ||
	    (cfg->segment_size != 0 && libewf_handle_set_maximum_segment_size(h,
			cfg->segment_size, &e) != 1) ||
	    libewf_handle_set_bytes_per_sector(h, cfg->bytes_per_sector,
			&e) != 1 ||
	    libewf_handle_set_sectors_per_chunk(h,
			CUSTOS__EWF_SECTORS_PER_CHUNK, &e) != 1 ||
	    (cfg->media_size != 0 && libewf_handle_set_media_size(h,
			cfg->media_size, &e) != 1) ||
	    libewf_handle_set_media_type(h, LIBEWF_MEDIA_TYPE_FIXED, &e) != 1 ||
	    libewf_handle_set_media_flags(h, cfg->physical_device
			? LIBEWF_MEDIA_FLAG_PHYSICAL : 0, &e) != 1)
		return custos__ewf_error(err, &e, CUSTOS_EINVAL,
			"cannot set the E01 media values");
	if (set_header(h, "case_number", c->case_number, &e) != 1 ||
	    set_header(h, "evidence_number", c->evidence_number, &e) != 1 ||
	    set_header(h, "examiner_name", c->examiner, &e) != 1 ||
	    set_header(h, "description", c->description, &e) != 1 ||
	    set_header(h, "notes", c->notes, &e) != 1 ||
	    set_header(h, "model", cfg->model, &e) != 1 ||
	    set_header(h, "serial_number", cfg->serial, &e) != 1 ||
	    set_header(h, "acquiry_operating_system", "Linux", &e) != 1 ||
	    set_header(h, "acquiry_software_version", custos_version(), &e) != 1)
		return custos__ewf_error(err, &e, CUSTOS_EINVAL,
			"cannot set the E01 header values");
	return CUSTOS_OK;
}

static custos_status make_paths(custos__ewf_writer *w, const char *base,
		const char *work_dir, custos_error *err)
{
	char *first = custos__aprintf("%s.E01", base);
	custos_status st = CUSTOS_OK;

	w->output_base = strdup(base);
	w->part_dir = strdup(work_dir);
	w->path_base = w->part_dir == NULL ? NULL
		: custos__aprintf("%s/%s", w->part_dir, custos__basename(base));
	if (first == NULL || w->output_base == NULL || w->path_base == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if (custos__path_exists(first))
		st = custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; refusing to overwrite it", first);
	free(first);
	return st;
}

static char *segment_path(const custos__ewf_writer *w, unsigned int n)
{
	return custos__ewf_segment_path(w->path_base, n);
}

/* The writer without its libewf file: settings, paths and workers. */
static custos_status writer_new(custos__ewf_writer **out,
		const custos__ewf_writer_config *cfg, custos_error *err)
{
	custos__ewf_writer *w;
	libewf_error_t *e = NULL;
	custos_status st;

	*out = NULL;
	if (cfg->bytes_per_sector == 0 || cfg->bytes_per_sector > 65536 ||
	    cfg->compression > CUSTOS_COMPRESSION_BEST)
		return custos__error_set(err, CUSTOS_EINVAL, "bad E01 settings");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	pthread_mutex_init(&w->mutex, NULL);
	pthread_cond_init(&w->compressed, NULL);
	w->compression = cfg->compression;
	w->bytes_per_sector = cfg->bytes_per_sector;
	w->chunk_size = cfg->bytes_per_sector * CUSTOS__EWF_SECTORS_PER_CHUNK;
	w->worker_count = cfg->workers == 0 ? 1 : cfg->workers;
	w->segment_done = cfg->segment_done;
	w->segment_ctx = cfg->segment_ctx;
	if (w->worker_count > MAX_WORKERS)
		w->worker_count = MAX_WORKERS;
	if (cfg->work_dir == NULL) {
		custos__ewf_writer_free(w);
		return custos__error_set(err, CUSTOS_EINVAL, "no work folder");
	}
	st = make_paths(w, cfg->output_base, cfg->work_dir, err);
	if (st != CUSTOS_OK) {
		custos__ewf_writer_free(w);
		return st;
	}
	w->tail = malloc(w->chunk_size);
	if (w->tail == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if (libewf_handle_initialize(&w->handle, &e) != 1)
		st = custos__ewf_error(err, &e, CUSTOS_EINTERNAL, "libewf");
	for (unsigned int i = 0; st == CUSTOS_OK && i < w->worker_count; i++) {
		w->workers[i].w = w;
		w->workers[i].index = i;
		if (cfg->compression != CUSTOS_COMPRESSION_NONE)
			st = custos__deflater_new(&w->workers[i].deflater,
				cfg->compression, err);
	}
	if (st != CUSTOS_OK) {
		custos__ewf_writer_free(w);
		return st;
	}
	*out = w;
	return CUSTOS_OK;
}

/* The next segment to watch for: its creation completes the one before. */
static custos_status watch_next(custos__ewf_writer *w, custos_error *err)
{
	free(w->next_segment);
	w->next_segment = w->segments_done + 2 > CUSTOS__EWF_MAX_SEGMENTS
		? NULL : segment_path(w, w->segments_done + 2);
	if (w->segments_done + 2 <= CUSTOS__EWF_MAX_SEGMENTS &&
	    w->next_segment == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

custos_status custos__ewf_writer_open(custos__ewf_writer **out,
		const custos__ewf_writer_config *cfg, custos_error *err)
{
	custos__ewf_writer *w;
	custos_status st = writer_new(&w, cfg, err);

	if (st != CUSTOS_OK)
		return st;
	w->open = 1;
	st = configure(w, cfg, err);
	if (st == CUSTOS_OK)
		st = watch_next(w, err);
	if (st != CUSTOS_OK) {
		custos__ewf_writer_free(w);
		return st;
	}
	*out = w;
	return CUSTOS_OK;
}

/* A header value of the kept segments equals what this run would write. */
static int header_is(libewf_handle_t *h, const char *id, const char *want)
{
	size_t size = 0;
	uint8_t *v;
	int rc, same;

	rc = libewf_handle_get_utf8_header_value_size(h, (const uint8_t *)id,
		strlen(id), &size, NULL);
	if (rc == 0 || (rc == 1 && size <= 1))
		return want == NULL || *want == '\0';
	if (rc != 1 || (v = malloc(size)) == NULL)
		return 0;
	rc = libewf_handle_get_utf8_header_value(h, (const uint8_t *)id,
		strlen(id), v, size, NULL);
	same = rc == 1 && want != NULL && strcmp((char *)v, want) == 0;
	free(v);
	return same;
}

/* What the kept segments say about the media and the case, checked
 * against this run: a resume goes on only in the same image. */
static custos_status check_kept(custos__ewf_writer *w,
		const custos__ewf_writer_config *cfg, custos_error *err)
{
	static const int8_t levels[] = {
		[CUSTOS_COMPRESSION_NONE] = LIBEWF_COMPRESSION_NONE,
		[CUSTOS_COMPRESSION_FAST] = LIBEWF_COMPRESSION_FAST,
		[CUSTOS_COMPRESSION_BEST] = LIBEWF_COMPRESSION_BEST,
	};
	const custos_case_info *c = cfg->case_info;
	libewf_handle_t *h = w->handle;
	size64_t media = 0;
	uint32_t bps = 0, spc = 0;
	int8_t level = -1;
	uint8_t flags = 0, format = 0;
	const char *ids[] = {"case_number", "evidence_number", "examiner_name",
		"description", "notes"};
	const char *want[] = {c->case_number, c->evidence_number, c->examiner,
		c->description, c->notes};

	if (libewf_handle_get_media_size(h, &media, NULL) != 1 ||
	    libewf_handle_get_bytes_per_sector(h, &bps, NULL) != 1 ||
	    libewf_handle_get_sectors_per_chunk(h, &spc, NULL) != 1 ||
	    libewf_handle_get_compression_values(h, &level, &flags,
		    NULL) != 1 ||
	    libewf_handle_get_format(h, &format, NULL) != 1 ||
	    media != cfg->media_size || bps != cfg->bytes_per_sector ||
	    spc != CUSTOS__EWF_SECTORS_PER_CHUNK ||
	    level != levels[cfg->compression] ||
	    format != LIBEWF_FORMAT_ENCASE6)
		return custos__error_set(err, CUSTOS_EFORMAT, "refusing to "
			"resume: the partial E01 in %s does not hold the media "
			"values of this run", w->part_dir);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!header_is(h, ids[i], want[i]))
			return custos__error_set(err, CUSTOS_EFORMAT,
				"refusing to resume: the %s in the partial E01 "
				"in %s differs from this run's", ids[i],
				w->part_dir);
	return CUSTOS_OK;
}

/* The kept segments: regular files, none missing. */
static custos_status kept_names(custos__ewf_writer *w, unsigned int n,
		char **names, custos_error *err)
{
	for (unsigned int i = 0; i < n; i++) {
		struct stat sb;

		names[i] = segment_path(w, i + 1);
		if (names[i] == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		if (lstat(names[i], &sb) != 0 || !S_ISREG(sb.st_mode))
			return custos__error_set(err, CUSTOS_EFORMAT,
				"refusing to resume: %s, a complete segment "
				"of the interrupted run, is missing or not a "
				"file", names[i]);
	}
	return CUSTOS_OK;
}

/* The earlier session's segments after the kept ones (its own files, in
 * its own work folder): written again. */
static custos_status remove_after(custos__ewf_writer *w, unsigned int kept,
		custos_error *err)
{
	for (unsigned int n = kept + 1; n <= CUSTOS__EWF_MAX_SEGMENTS; n++) {
		char *path = segment_path(w, n);
		struct stat sb;

		if (path == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		if (lstat(path, &sb) != 0) {
			free(path);
			continue;
		}
		if (!S_ISREG(sb.st_mode) || unlink(path) != 0) {
			custos_status st = custos__error_set(err,
				CUSTOS_EFORMAT, "refusing to resume: cannot "
				"remove %s, the interrupted run's partial "
				"segment", path);

			free(path);
			return st;
		}
		free(path);
	}
	return CUSTOS_OK;
}

custos_status custos__ewf_writer_reopen(custos__ewf_writer **out,
		const custos__ewf_writer_config *cfg, unsigned int segments,
		uint64_t bytes, custos_error *err)
{
	custos__ewf_writer *w;
	libewf_error_t *e = NULL;
	char **names = NULL;
	off64_t at = -1;
	custos_status st;

	if (segments >= CUSTOS__EWF_MAX_SEGMENTS ||
	    (segments == 0 && bytes != 0))
		return custos__error_set(err, CUSTOS_EFORMAT, "refusing to "
			"resume: the state names %u complete segments",
			segments);
	st = writer_new(&w, cfg, err);
	if (st != CUSTOS_OK)
		return st;
	if (segments == 0) {
		/* Nothing complete: the E01 is made again from the start. */
		st = remove_after(w, 0, err);
		if (st == CUSTOS_OK) {
			w->open = 1;
			st = configure(w, cfg, err);
		}
	} else {
		names = calloc(segments, sizeof(*names));
		st = names == NULL ? custos__error_set(err, CUSTOS_ENOMEM,
			"out of memory") : kept_names(w, segments, names, err);
		if (st == CUSTOS_OK &&
		    libewf_handle_open(w->handle, names, (int)segments,
			    LIBEWF_OPEN_WRITE_RESUME, &e) != 1)
			st = custos__ewf_error(err, &e, CUSTOS_EFORMAT,
				"refusing to resume: libewf cannot reopen the "
				"partial E01");
		if (st == CUSTOS_OK)
			w->open = 1;
		if (st == CUSTOS_OK)
			st = check_kept(w, cfg, err);
		if (st == CUSTOS_OK &&
		    libewf_handle_get_offset(w->handle, &at, &e) != 1)
			st = custos__ewf_error(err, &e, CUSTOS_EFORMAT,
				"libewf");
		/* libewf goes on after the last complete chunk table; that
		 * must be the end of the last kept segment. */
		if (st == CUSTOS_OK && (uint64_t)at != bytes)
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"refusing to resume: libewf would go on at "
				"media byte %lld, not at %llu where segment "
				"%u ended", (long long)at,
				(unsigned long long)bytes, segments);
		if (st == CUSTOS_OK)
			st = remove_after(w, segments, err);
	}
	for (unsigned int i = 0; names != NULL && i < segments; i++)
		free(names[i]);
	free(names);
	w->segments_done = segments;
	w->bytes_written = bytes;
	if (st == CUSTOS_OK)
		st = watch_next(w, err);
	if (st != CUSTOS_OK) {
		custos__ewf_writer_free(w);
		return st;
	}
	*out = w;
	return CUSTOS_OK;
}

custos_status custos__ewf_writer_read_back(custos__ewf_writer *w,
		uint8_t *buf, size_t len, uint64_t offset, custos_error *err)
{
	libewf_error_t *e = NULL;
	size_t got = 0;

	w->need_seek = 1;
	if (libewf_handle_seek_offset(w->handle, (off64_t)offset, SEEK_SET,
			&e) < 0)
		return custos__ewf_error(err, &e, CUSTOS_EFORMAT, "cannot read "
			"the partial E01 again");
	while (got < len) {
		ssize_t n = libewf_handle_read_buffer(w->handle, buf + got,
			len - got, &e);

		if (n <= 0)
			return custos__ewf_error(err, &e, CUSTOS_EFORMAT,
				"refusing to resume: cannot read the partial "
				"E01 again");
		got += (size_t)n;
	}
	return CUSTOS_OK;
}

void custos__ewf_writer_skip(custos__ewf_writer *w, uint64_t bytes,
		uint64_t seqs)
{
	w->skip_until = bytes;
	w->skip_seqs = seqs;
}

/* A compression worker: takes every worker_count-th buffer. */
static custos_status consume_compress(void *ctx, const uint8_t *data,
		size_t len, uint64_t seq, custos_error *err)
{
	worker *k = ctx;
	custos__ewf_writer *w = k->w;
	slot_out *slot = &w->slots[seq % w->buffer_count];
	size_t n = 0;

	(void)err;
	if (seq % w->worker_count != k->index)
		return CUSTOS_OK;
	if (seq < w->skip_seqs)
		len = 0; /* in the image already: nothing to compress */
	for (size_t off = 0; off < len; off += w->chunk_size, n++) {
		const uint8_t *src = data + off;
		size_t dlen = len - off < w->chunk_size ? len - off : w->chunk_size;
		chunk_out *c = &slot->chunks[n];
		size_t stored = 0;

		if (dlen % w->bytes_per_sector != 0) {
			/*
			 * The medium ends inside a sector; libewf would drop
			 * the tail, so end it on a whole sector of zeros.
			 */
			size_t pad = w->bytes_per_sector -
				dlen % w->bytes_per_sector;

			memcpy(w->tail, src, dlen);
			memset(w->tail + dlen, 0, pad);
			src = w->tail;
			dlen += pad;
			pthread_mutex_lock(&w->mutex);
			w->padding = pad;
			pthread_mutex_unlock(&w->mutex);
		}
		if (k->deflater != NULL)
			stored = custos__deflater_compress(k->deflater, src, dlen,
				slot->data + off, dlen);
		c->data_size = (uint32_t)dlen;
		c->compressed = stored > 0;
		c->size = stored > 0 ? (uint32_t)stored : (uint32_t)dlen;
		c->adler32 = stored > 0 ? 0 : custos__adler32(src, dlen);
	}
	pthread_mutex_lock(&w->mutex);
	slot->chunk_count = n;
	slot->ready = seq + 1;
	pthread_cond_broadcast(&w->compressed);
	pthread_mutex_unlock(&w->mutex);
	return CUSTOS_OK;
}

/* Start writeback of what libewf wrote so far, without waiting for it. */
static void kick_writeback(custos__ewf_writer *w)
{
	for (;;) {
		size_t i = w->sync_count;
		char *path;

		if (i >= sizeof(w->sync_fds) / sizeof(w->sync_fds[0]) - 1)
			break;
		path = segment_path(w, (unsigned int)i + 1);
		w->sync_fds[i] = path == NULL ? -1
			: open(path, O_RDONLY | O_CLOEXEC);
		free(path);
		if (w->sync_fds[i] < 0)
			break;
		w->sync_count++;
	}
	for (size_t i = 0; i < w->sync_count; i++)
		(void)sync_file_range(w->sync_fds[i], 0, 0,
			SYNC_FILE_RANGE_WRITE);
}

static custos_status wait_compressed(custos__ewf_writer *w, slot_out *slot,
		uint64_t seq, custos_error *err)
{
	custos_status st = CUSTOS_OK;

	pthread_mutex_lock(&w->mutex);
	while (st == CUSTOS_OK && slot->ready != seq + 1)
		st = custos__pipeline_timedwait(w->pipeline, &w->compressed,
			&w->mutex, err);
	pthread_mutex_unlock(&w->mutex);
	return st;
}

/* The last segment libewf has created so far (for messages), or "". */
static void current_segment(const custos__ewf_writer *w, char *out,
		size_t cap)
{
	out[0] = '\0';
	for (unsigned int i = 1; i <= CUSTOS__EWF_MAX_SEGMENTS; i++) {
		char *path = segment_path(w, i);
		int exists = path != NULL && custos__path_exists(path);

		if (exists)
			snprintf(out, cap, "%s", path);
		free(path);
		if (!exists)
			break;
	}
}

/*
 * libewf does not pass on the system's reason for a failed write (errno is
 * gone by the time it returns), so ask the file system: is it full, or
 * read-only, or is the segment at the file size limit?  0 if none holds.
 */
static int probe_cause(const custos__ewf_writer *w, const char *segment)
{
	struct statvfs fs;
	struct rlimit lim;
	struct stat sb;

	if (statvfs(w->part_dir, &fs) == 0) {
		if (fs.f_flag & ST_RDONLY)
			return EROFS;
		if ((uint64_t)fs.f_bavail * fs.f_frsize < 2u * w->chunk_size)
			return ENOSPC;
	}
	if (segment[0] != '\0' && stat(segment, &sb) == 0 &&
	    getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)sb.st_size + w->chunk_size > (uint64_t)lim.rlim_cur)
		return EFBIG;
	return 0;
}

/*
 * A libewf failure, named by what the system said first (errno, e.g. the
 * disk is full), the segment being written and how far the image got.
 */
static custos_status write_error(custos__ewf_writer *w, custos_error *err,
		libewf_error_t **e, int saved_errno, const char *what)
{
	char seg[4096], detail[CUSTOS_ERROR_MESSAGE_MAX];
	custos_error lib;
	custos_status st;

	current_segment(w, seg, sizeof(seg));
	if (saved_errno == 0)
		saved_errno = probe_cause(w, seg);
	st = saved_errno == ENOSPC || saved_errno == EFBIG ? CUSTOS_ENOSPC
		: CUSTOS_EIO;
	custos__ewf_error(&lib, e, st, "libewf");
	snprintf(detail, sizeof(detail), "%s", lib.message);
	if (saved_errno != 0)
		return custos__error_set(err, st, "%s %s at image byte %llu: "
			"%s (%s)", what, seg[0] ? seg : w->path_base,
			(unsigned long long)w->bytes_written,
			strerror(saved_errno), detail);
	return custos__error_set(err, st, "%s %s at image byte %llu (%s)",
		what, seg[0] ? seg : w->path_base,
		(unsigned long long)w->bytes_written, detail);
}

/*
 * The chunk just written made libewf open segment segments_done + 2: the
 * one before it is complete.  Make it durable, then tell the caller where
 * it ended (before the chunk at byte `at` of this buffer).
 */
static custos_status segment_complete(custos__ewf_writer *w,
		const uint8_t *data, size_t at, uint64_t seq, uint64_t bytes,
		custos_error *err)
{
	char *done = segment_path(w, w->segments_done + 1);
	custos_status st = CUSTOS_OK;
	int fd;

	if (done == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	fd = open(done, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fsync(fd) != 0)
		st = custos__error_errno(err, errno, "cannot sync %s", done);
	if (fd >= 0)
		close(fd);
	free(done);
	/* Its name too, and the new one's. */
	fd = st == CUSTOS_OK ? open(w->part_dir, O_RDONLY | O_DIRECTORY |
		O_CLOEXEC) : -1;
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	w->segments_done++;
	if (st == CUSTOS_OK && w->segment_done != NULL)
		st = w->segment_done(w->segment_ctx, w->segments_done, bytes,
			data, at, seq, err);
	if (st == CUSTOS_OK)
		st = watch_next(w, err);
	return st;
}

/* The writer: hands chunks to libewf in order, from one thread. */
static custos_status consume_write(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	custos__ewf_writer *w = ctx;
	slot_out *slot = &w->slots[seq % w->buffer_count];
	uint64_t pos = w->stream_pos;
	custos_status st;

	w->stream_pos += len;
	if (seq < w->skip_seqs)
		return CUSTOS_OK; /* a resume's rehash: in the image already */
	st = wait_compressed(w, slot, seq, err);
	if (st != CUSTOS_OK)
		return st;
	if (w->need_seek) {
		libewf_error_t *e = NULL;

		/* The rehash read the image; writing goes on at its end. */
		if (libewf_handle_seek_offset(w->handle,
				(off64_t)w->skip_until, SEEK_SET, &e) < 0)
			return custos__ewf_error(err, &e, CUSTOS_EIO,
				"cannot go on writing the E01");
		w->need_seek = 0;
	}
	for (size_t j = 0; j < slot->chunk_count; j++) {
		const chunk_out *c = &slot->chunks[j];
		size_t off = j * w->chunk_size;
		libewf_error_t *e = NULL;
		ssize_t n;

		if (pos + off < w->skip_until)
			continue; /* written by the interrupted session */
		errno = 0;
		if (c->compressed) {
			/* The stream carries its own Adler-32: no checksum. */
			n = libewf_handle_write_chunk(w->handle, slot->data + off,
				c->size, c->data_size, 1, NULL, 0, 0, &e);
		} else {
			const uint8_t *src = off + c->data_size > len
				? w->tail : data + off;
			uint8_t sum[4] = {
				(uint8_t)c->adler32, (uint8_t)(c->adler32 >> 8),
				(uint8_t)(c->adler32 >> 16),
				(uint8_t)(c->adler32 >> 24),
			};

			n = libewf_handle_write_chunk(w->handle, src, c->size,
				c->data_size, 0, sum, c->adler32, 1, &e);
		}
		if (n < 0)
			return write_error(w, err, &e, errno,
				"cannot write the E01 segment");
		/* libewf opens a segment when the first chunk goes in. */
		if (w->next_segment != NULL &&
		    custos__path_exists(w->next_segment)) {
			st = segment_complete(w, data, off, seq, pos + off,
				err);
			if (st != CUSTOS_OK)
				return st;
		}
		w->bytes_written += c->data_size;
	}
	w->since_writeback += len;
	if (w->since_writeback >= WRITEBACK_INTERVAL) {
		w->since_writeback = 0;
		kick_writeback(w);
	}
	return CUSTOS_OK;
}

custos_status custos__ewf_writer_attach(custos__ewf_writer *w,
		custos__pipeline *p, custos_error *err)
{
	custos_status st = CUSTOS_OK;

	w->pipeline = p;
	w->buffer_size = custos__pipeline_buffer_size(p);
	w->buffer_count = custos__pipeline_buffer_count(p);
	if (w->buffer_size % w->chunk_size != 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"buffer size is not a whole number of E01 chunks");
	w->chunks_per_buffer = w->buffer_size / w->chunk_size;
	w->slots = calloc(w->buffer_count, sizeof(*w->slots));
	if (w->slots == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->buffer_count; i++) {
		w->slots[i].chunks = calloc(w->chunks_per_buffer,
			sizeof(chunk_out));
		w->slots[i].data = w->compression == CUSTOS_COMPRESSION_NONE
			? NULL : malloc(w->buffer_size);
		if (w->slots[i].chunks == NULL ||
		    (w->compression != CUSTOS_COMPRESSION_NONE &&
		     w->slots[i].data == NULL))
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	for (unsigned int i = 0; st == CUSTOS_OK && i < w->worker_count; i++)
		st = custos__pipeline_add_consumer(p, consume_compress,
			&w->workers[i], err);
	if (st == CUSTOS_OK)
		st = custos__pipeline_add_consumer(p, consume_write, w, err);
	return st;
}

uint64_t custos__ewf_writer_bytes(const custos__ewf_writer *w)
{
	return w->bytes_written;
}

uint64_t custos__ewf_writer_padding(const custos__ewf_writer *w)
{
	return w->padding;
}

static int hex_to_bin(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (uint8_t)v;
	}
	return 1;
}

static custos_status list_files(custos__ewf_writer *w, custos_error *err)
{
	libewf_error_t *e = NULL;
	char *first = custos__aprintf("%s.E01", w->path_base);
	char **names = NULL;
	int count = 0;
	custos_status st = CUSTOS_OK;

	if (first == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (libewf_glob(first, strlen(first), LIBEWF_FORMAT_UNKNOWN, &names,
			&count, &e) != 1 || count <= 0) {
		free(first);
		return custos__ewf_error(err, &e, CUSTOS_EIO,
			"cannot list the E01 segments");
	}
	free(first);
	w->segments = calloc((size_t)count, sizeof(*w->segments));
	for (int i = 0; w->segments != NULL && i < count; i++) {
		w->segments[i] = strdup(names[i]);
		if (w->segments[i] == NULL)
			break;
		w->segment_count++;
	}
	if (w->segment_count != (size_t)count)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	libewf_glob_free(names, count, NULL);
	return st;
}

custos_status custos__ewf_writer_finish(custos__ewf_writer *w,
		const char *md5_hex, const char *sha1_hex,
		const custos_ranges *unreadable, custos_error *err)
{
	libewf_error_t *e = NULL;
	uint8_t md5[16], sha1[20];

	if (!w->open)
		return custos__error_set(err, CUSTOS_EINVAL, "E01 is closed");
	if (!hex_to_bin(md5_hex, md5, sizeof(md5)) ||
	    !hex_to_bin(sha1_hex, sha1, sizeof(sha1)) ||
	    strlen(md5_hex) != 32 || strlen(sha1_hex) != 40)
		return custos__error_set(err, CUSTOS_EINVAL, "bad hash for E01");
	/*
	 * Hashes and acquiry errors may be set after the last chunk.  As hash
	 * values: libewf_handle_set_md5_hash refuses ("cannot be changed")
	 * once a resume has reopened the segments, these are taken.
	 */
	if (libewf_handle_set_utf8_hash_value(w->handle, (const uint8_t *)"MD5",
		    3, (const uint8_t *)md5_hex, 32, &e) != 1 ||
	    libewf_handle_set_utf8_hash_value(w->handle,
		    (const uint8_t *)"SHA1", 4, (const uint8_t *)sha1_hex, 40,
		    &e) != 1)
		return custos__ewf_error(err, &e, CUSTOS_EINTERNAL,
			"cannot store the hashes in the E01");
	for (size_t i = 0; i < custos_ranges_count(unreadable); i++) {
		const custos_range *r = custos_ranges_get(unreadable, i);

		if (libewf_handle_append_acquiry_error(w->handle, r->first_sector,
				r->sector_count, &e) != 1)
			return custos__ewf_error(err, &e, CUSTOS_EINTERNAL,
				"cannot store the acquiry errors in the E01");
	}
	errno = 0;
	if (libewf_handle_write_finalize(w->handle, &e) < 0)
		return write_error(w, err, &e, errno, "cannot finish the E01 in");
	w->open = 0;
	errno = 0;
	if (libewf_handle_close(w->handle, &e) != 0)
		return write_error(w, err, &e, errno, "cannot close the E01 in");
	return list_files(w, err);
}

static custos_status sha256_file(const char *path, char *hex,
		custos_error *err)
{
	custos_digest *d = NULL;
	uint8_t *buf = malloc(1 << 20);
	custos_status st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || buf == NULL) {
		st = fd < 0 ? custos__error_errno(err, errno, "cannot open %s",
			path) : custos__error_set(err, CUSTOS_ENOMEM,
			"out of memory");
		goto done;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	st = custos_digest_new(&d, CUSTOS_DIGEST_SHA256, err);
	while (st == CUSTOS_OK) {
		ssize_t n = read(fd, buf, 1 << 20);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			st = custos__error_errno(err, errno, "cannot read %s",
				path);
		if (n <= 0)
			break;
		st = custos_digest_update(d, buf, (size_t)n, err);
	}
	if (st == CUSTOS_OK)
		st = custos_digest_final_hex(d, hex, CUSTOS_DIGEST_HEX_MAX, err);
done:
	if (fd >= 0)
		close(fd);
	custos_digest_free(d);
	free(buf);
	return st;
}

static custos_status fsync_path(const char *path, custos_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	custos_status st = CUSTOS_OK;

	if (fd < 0)
		return custos__error_errno(err, errno, "cannot open %s", path);
	if (fsync(fd) != 0)
		st = custos__error_errno(err, errno, "cannot sync %s", path);
	close(fd);
	return st;
}

custos_status custos__ewf_writer_seal(custos__ewf_writer *w,
		custos_error *err)
{
	custos_status st = CUSTOS_OK;

	if (w->open || w->segment_count == 0 || w->files != NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the E01 is not finished");
	w->files = calloc(w->segment_count, sizeof(*w->files));
	if (w->files == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->segment_count; i++) {
		file_rec *f = &w->files[i];

		f->path = strdup(w->segments[i]);
		f->name = strdup(custos__basename(w->segments[i]));
		if (f->path == NULL || f->name == NULL) {
			free(f->path);
			free(f->name);
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		}
		f->pub.path = f->path;
		f->pub.name = f->name;
		w->file_count++;
	}
	/* Durable first; then the SHA-256 of each file as it lies on disk. */
	for (size_t i = 0; st == CUSTOS_OK && i < w->file_count; i++)
		st = fsync_path(w->files[i].path, err);
	for (size_t i = 0; st == CUSTOS_OK && i < w->file_count; i++) {
		file_rec *f = &w->files[i];
		struct stat sb;

		if (lstat(f->path, &sb) != 0 || !S_ISREG(sb.st_mode))
			st = custos__error_set(err, CUSTOS_EIO,
				"%s is not the segment libewf wrote", f->path);
		else
			f->pub.size_bytes = (uint64_t)sb.st_size;
		if (st == CUSTOS_OK)
			st = sha256_file(f->path, f->pub.sha256, err);
	}
	if (st == CUSTOS_OK)
		w->committed = 1;
	return st;
}

/* What an interrupted run left in the work folder, for the report. */
static void list_partial(custos__ewf_writer *w)
{
	size_t n = 0;
	char *probe;

	/* How many there are, then their records. */
	while ((probe = segment_path(w, (unsigned int)n + 1)) != NULL &&
	       custos__path_exists(probe)) {
		free(probe);
		n++;
	}
	free(probe);
	w->files = calloc(n ? n : 1, sizeof(*w->files));
	for (size_t i = 0; w->files != NULL && i < n; i++) {
		file_rec *f = &w->files[w->file_count];
		struct stat sb;

		f->path = segment_path(w, (unsigned int)i + 1);
		if (f->path == NULL || lstat(f->path, &sb) != 0 ||
		    (f->name = strdup(custos__basename(f->path))) == NULL) {
			free(f->path);
			f->path = NULL;
			break;
		}
		f->pub.path = f->path;
		f->pub.name = f->name;
		f->pub.size_bytes = (uint64_t)sb.st_size;
		w->file_count++;
	}
}

size_t custos__ewf_writer_file_count(custos__ewf_writer *w)
{
	if (!w->committed && w->files == NULL)
		list_partial(w);
	return w->file_count;
}

const custos_output_file *custos__ewf_writer_file(custos__ewf_writer *w,
		size_t i)
{
	return i < custos__ewf_writer_file_count(w) ? &w->files[i].pub : NULL;
}

void custos__ewf_writer_free(custos__ewf_writer *w)
{
	if (w == NULL)
		return;
	if (w->handle != NULL) {
		if (w->open)
			libewf_handle_close(w->handle, NULL);
		libewf_handle_free(&w->handle, NULL);
	}
	for (unsigned int i = 0; i < w->worker_count; i++)
		custos__deflater_free(w->workers[i].deflater);
	if (w->slots != NULL)
		for (size_t i = 0; i < w->buffer_count; i++) {
			free(w->slots[i].data);
			free(w->slots[i].chunks);
		}
	free(w->slots);
	for (size_t i = 0; i < w->sync_count; i++)
		close(w->sync_fds[i]);
	for (size_t i = 0; i < w->segment_count; i++)
		free(w->segments[i]);
	free(w->segments);
	for (size_t i = 0; i < w->file_count; i++) {
		free(w->files[i].path);
		free(w->files[i].name);
	}
	free(w->files);
	free(w->tail);
	free(w->next_segment);
	free(w->path_base);
	free(w->output_base);
	free(w->part_dir);
	pthread_mutex_destroy(&w->mutex);
	pthread_cond_destroy(&w->compressed);
	free(w);
}

