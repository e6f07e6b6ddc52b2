/*
 * Raw images: one file or numbered segments.  Files are created exclusively
 * and never through a symlink, as "<name>.part" beside the final name or
 * inside a work folder, and reach their final names only after fsync, with
 * a rename that never replaces anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custos/raw.h"
#include "error_private.h"
#include "fileio_private.h"
#include "raw_private.h"
#include "util_private.h"

/* Segment numbers have three digits, like dc3dd and FTK: .001 to .999. */
#define RAW_MAX_SEGMENTS 999
/* Alignment that O_DIRECT needs on every file system we meet. */
#define DIRECT_ALIGN 4096

typedef struct raw_file {
	custos_output_file pub;
	char *final_path;
	char *work_path;        /* where it is written until committed */
} raw_file;

struct custos_raw_writer {
	char *base;
	char *work_dir;         /* NULL: "<final>.part" beside the final name */
	uint64_t split_size;
	int hash_files;
	raw_file *files;
	size_t file_count, file_capacity;
	int fd;                 /* open file, or -1 */
	int direct;             /* fd has O_DIRECT set */
	uint64_t in_file;       /* bytes in the open file */
	uint64_t total;
	custos_digest *sha256;  /* of the open file, when hash_files */
	int closed, committed;
};

static char *final_name(const custos_raw_writer *w, size_t index)
{
	if (w->split_size == 0)
		return custos__aprintf("%s.raw", w->base);
	return custos__aprintf("%s.%03zu", w->base, index + 1);
}

static custos_status writer_open(custos_raw_writer **out, const char *base,
		const char *work_dir, uint64_t split_size, int hash_files,
		custos_error *err)
{
	custos_raw_writer *w;
	char *first;
	custos_status st = CUSTOS_OK;

	if (out == NULL || base == NULL || *base == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "no output name");
	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->base = strdup(base)) == NULL ||
	    (work_dir != NULL && (w->work_dir = strdup(work_dir)) == NULL)) {
		if (w != NULL)
			free(w->base);
		free(w);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	w->split_size = split_size;
	w->hash_files = hash_files;
	w->fd = -1;
	first = final_name(w, 0);
	if (first == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if (custos__path_exists(first))
		st = custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; refusing to overwrite it", first);
	free(first);
	if (st == CUSTOS_OK && hash_files)
		st = custos_digest_new(&w->sha256, CUSTOS_DIGEST_SHA256, err);
	if (st != CUSTOS_OK) {
		custos_raw_writer_free(w);
		return st;
	}
	*out = w;
	return CUSTOS_OK;
}

custos_status custos_raw_writer_open(custos_raw_writer **out, const char *base,
		uint64_t split_size, int hash_files, custos_error *err)
{
	return writer_open(out, base, NULL, split_size, hash_files, err);
}

custos_status custos__raw_writer_open_in(custos_raw_writer **out,
		const char *base, const char *work_dir, uint64_t split_size,
		int hash_files, custos_error *err)
{
	if (work_dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no work folder");
	return writer_open(out, base, work_dir, split_size, hash_files, err);
}

static custos_status close_current(custos_raw_writer *w, custos_error *err)
{
	raw_file *f = &w->files[w->file_count - 1];
	custos_status st = CUSTOS_OK;

	if (w->fd < 0)
		return CUSTOS_OK;
	f->pub.size_bytes = w->in_file;
	if (fsync(w->fd) != 0)
		st = custos__error_errno(err, errno, "cannot sync %s",
			f->work_path);
	if (close(w->fd) != 0 && st == CUSTOS_OK)
		st = custos__error_errno(err, errno, "cannot close %s",
			f->work_path);
	w->fd = -1;
	if (st == CUSTOS_OK && w->sha256 != NULL) {
		st = custos_digest_final_hex(w->sha256, f->pub.sha256,
			sizeof(f->pub.sha256), err);
		if (st == CUSTOS_OK)
			st = custos_digest_reset(w->sha256, err);
	}
	return st;
}

static custos_status open_next(custos_raw_writer *w, custos_error *err)
{
	raw_file *f;
	custos_status st;
	int flags;

	if (w->split_size != 0 && w->file_count >= RAW_MAX_SEGMENTS)
		return custos__error_set(err, CUSTOS_ENOSPC,
			"more than %d segments; use a larger --split",
			RAW_MAX_SEGMENTS);
	if (w->file_count == w->file_capacity) {
		size_t cap = w->file_capacity == 0 ? 4 : w->file_capacity * 2;
		raw_file *grown = realloc(w->files, cap * sizeof(*grown));

		if (grown == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		w->files = grown;
		w->file_capacity = cap;
	}
	f = &w->files[w->file_count];
	memset(f, 0, sizeof(*f));
	f->final_path = final_name(w, w->file_count);
	f->work_path = f->final_path == NULL ? NULL : w->work_dir != NULL
		? custos__aprintf("%s/%s", w->work_dir,
			custos__basename(f->final_path))
		: custos__aprintf("%s.part", f->final_path);
	if (f->work_path == NULL) {
		free(f->final_path);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	f->pub.path = f->final_path;
	f->pub.name = custos__basename(f->final_path);
	w->file_count++;
	if (custos__path_exists(f->final_path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; refusing to overwrite it",
			f->final_path);
	/* Never a stale or planted file, never through a symlink. */
	st = custos__create_exclusive(&w->fd, f->work_path, 0644, err);
	if (st != CUSTOS_OK)
		return st;
	/*
	 * O_DIRECT: the image goes to disk without a second copy in the page
	 * cache, so the final fsync is short and a --verify read-back comes
	 * from the disk rather than from memory.  Not every file system has it.
	 */
	flags = fcntl(w->fd, F_GETFL);
	w->direct = flags >= 0 && fcntl(w->fd, F_SETFL, flags | O_DIRECT) == 0;
	w->in_file = 0;
	return CUSTOS_OK;
}

/* O_DIRECT needs aligned memory, length and offset; drop it otherwise. */
static void direct_if_aligned(custos_raw_writer *w, const void *p, size_t n)
{
	int flags;

	if (!w->direct)
		return;
	if (((uintptr_t)p | n | w->in_file) % DIRECT_ALIGN == 0)
		return;
	flags = fcntl(w->fd, F_GETFL);
	if (flags >= 0 && fcntl(w->fd, F_SETFL, flags & ~O_DIRECT) == 0)
		w->direct = 0;
}

/* Write to the open file; a failure names the file and the image byte. */
static custos_status write_at(custos_raw_writer *w, const void *p, size_t n,
		custos_error *err)
{
	char what[4200];

	snprintf(what, sizeof(what), "%s at image byte %llu",
		w->files[w->file_count - 1].work_path,
		(unsigned long long)w->total);
	return custos__write_all(w->fd, p, n, what, err);
}

custos_status custos_raw_writer_write(custos_raw_writer *w, const void *buf,
		size_t len, custos_error *err)
{
	const unsigned char *p = buf;
	custos_status st;

	if (w == NULL || w->closed)
		return custos__error_set(err, CUSTOS_EINVAL, "writer is closed");
	if (w->file_count == 0) {
		st = open_next(w, err);
		if (st != CUSTOS_OK)
			return st;
	}
	while (len > 0) {
		size_t n = len;

		if (w->split_size != 0) {
			if (w->in_file == w->split_size) {
				st = close_current(w, err);
				if (st == CUSTOS_OK)
					st = open_next(w, err);
				if (st != CUSTOS_OK)
					return st;
			}
			if (n > w->split_size - w->in_file)
				n = (size_t)(w->split_size - w->in_file);
		}
		direct_if_aligned(w, p, n);
		st = write_at(w, p, n, err);
		if (st == CUSTOS_OK && w->sha256 != NULL)
			st = custos_digest_update(w->sha256, p, n, err);
		if (st != CUSTOS_OK)
			return st;
		w->in_file += n;
		w->total += n;
		w->files[w->file_count - 1].pub.size_bytes = w->in_file;
		p += n;
		len -= n;
	}
	return CUSTOS_OK;
}

custos_status custos__raw_writer_close(custos_raw_writer *w,
		custos_error *err)
{
	custos_status st;

	if (w == NULL || w->closed)
		return custos__error_set(err, CUSTOS_EINVAL, "writer is closed");
	if (w->file_count == 0) {
		/* An empty medium still gets its (empty) image file. */
		st = open_next(w, err);
		if (st != CUSTOS_OK)
			return st;
	}
	st = close_current(w, err);
	if (st == CUSTOS_OK)
		w->closed = 1;
	return st;
}

custos_status custos_raw_writer_commit(custos_raw_writer *w, custos_error *err)
{
	custos_status st;
	size_t done = 0;

	if (w == NULL || w->committed || w->work_dir != NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"writer cannot commit");
	st = custos__raw_writer_close(w, err);
	for (; st == CUSTOS_OK && done < w->file_count; done++)
		st = custos__commit_noreplace(w->files[done].work_path,
			w->files[done].final_path, err);
	if (st != CUSTOS_OK) {
		/* Give back the names already taken: all or nothing. */
		while (done-- > 0)
			if (!custos__path_exists(w->files[done].work_path))
				(void)custos__commit_noreplace(
					w->files[done].final_path,
					w->files[done].work_path, NULL);
		return st;
	}
	w->committed = 1;
	return CUSTOS_OK;
}

const char *custos__raw_writer_work_path(const custos_raw_writer *w,
		size_t index)
{
	if (w == NULL || index >= w->file_count)
		return NULL;
	return w->files[index].work_path;
}

size_t custos_raw_writer_file_count(const custos_raw_writer *w)
{
	return w == NULL ? 0 : w->file_count;
}

const custos_output_file *custos_raw_writer_file(const custos_raw_writer *w,
		size_t index)
{
	if (w == NULL || index >= w->file_count)
		return NULL;
	return &w->files[index].pub;
}

uint64_t custos_raw_writer_bytes(const custos_raw_writer *w)
{
	return w == NULL ? 0 : w->total;
}

void custos_raw_writer_free(custos_raw_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		/* Not committed: leave the data under its .part name. */
		if (w->file_count > 0)
			w->files[w->file_count - 1].pub.size_bytes = w->in_file;
		close(w->fd);
	}
	for (size_t i = 0; i < w->file_count; i++) {
		free(w->files[i].final_path);
		free(w->files[i].work_path);
	}
	free(w->files);
	custos_digest_free(w->sha256);
	free(w->work_dir);
	free(w->base);
	free(w);
}

/* --- reading a set of raw files as one source --- */

typedef struct raw_reader {
	int *fds;
	uint64_t *starts;  /* offset of each file in the stream; one extra: total */
	size_t count;
} raw_reader;

static ssize_t raw_read_at(void *ctx, void *buf, size_t len, uint64_t offset)
{
	raw_reader *r = ctx;
	size_t i = 0;
	ssize_t n;

	if (offset >= r->starts[r->count])
		return 0;
	while (i + 1 < r->count && offset >= r->starts[i + 1])
		i++;
	if (len > r->starts[i + 1] - offset)
		len = (size_t)(r->starts[i + 1] - offset);
	n = pread(r->fds[i], buf, len, (off_t)(offset - r->starts[i]));
	return n < 0 ? -errno : n;
}

static void raw_close(void *ctx)
{
	raw_reader *r = ctx;

	for (size_t i = 0; i < r->count; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	free(r->fds);
	free(r->starts);
	free(r);
}

static const custos_source_ops raw_ops = {
	.version = CUSTOS_SOURCE_OPS_VERSION,
	.read_at = raw_read_at,
	.close = raw_close,
};

custos_status custos_raw_open_source(custos_source **out,
		const char *const *paths, size_t count, custos_error *err)
{
	raw_reader *r;
	custos_status st;

	if (out == NULL || paths == NULL || count == 0)
		return custos__error_set(err, CUSTOS_EINVAL, "no image files");
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	r->fds = malloc(count * sizeof(*r->fds));
	r->starts = calloc(count + 1, sizeof(*r->starts));
	if (r->fds == NULL || r->starts == NULL) {
		free(r->fds);
		free(r->starts);
		free(r);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < count; i++)
		r->fds[i] = -1;
	r->count = count;
	for (size_t i = 0; i < count; i++) {
		struct stat sb;

		/* Refuses a FIFO before it can hang the open. */
		st = custos__open_regular(&r->fds[i], paths[i], "image", err);
		if (st == CUSTOS_OK && fstat(r->fds[i], &sb) != 0)
			st = custos__error_errno(err, errno, "cannot stat %s",
				paths[i]);
		if (st != CUSTOS_OK) {
			raw_close(r);
			return st;
		}
		(void)posix_fadvise(r->fds[i], 0, 0, POSIX_FADV_SEQUENTIAL);
		r->starts[i + 1] = r->starts[i] + (uint64_t)sb.st_size;
	}
	st = custos_source_open_ops(out, &raw_ops, r, paths[0],
		r->starts[count], 512, err);
	if (st != CUSTOS_OK)
		raw_close(r);
	return st;
}

custos_status custos__raw_writer_sync(custos_raw_writer *w, custos_error *err)
{
	if (w == NULL || w->fd < 0)
		return CUSTOS_OK;
	if (fsync(w->fd) != 0)
		return custos__error_errno(err, errno, "cannot sync %s",
			w->files[w->file_count - 1].work_path);
	return CUSTOS_OK;
}

/* Hash the first n bytes of an open file into w->sha256. */
static custos_status hash_prefix(custos_raw_writer *w, int fd, uint64_t n,
		const char *path, custos_error *err)
{
	uint8_t *buf = malloc(1 << 20);
	uint64_t pos = 0;
	custos_status st = CUSTOS_OK;

	if (buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (st == CUSTOS_OK && pos < n) {
		size_t want = n - pos < (1 << 20) ? (size_t)(n - pos) : 1 << 20;
		ssize_t got = pread(fd, buf, want, (off_t)pos);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			st = custos__error_errno(err, got < 0 ? errno : EIO,
				"cannot read %s again", path);
		else
			st = custos_digest_update(w->sha256, buf, (size_t)got,
				err);
		pos += got > 0 ? (uint64_t)got : 0;
	}
	free(buf);
	return st;
}

custos_status custos__raw_writer_reopen_in(custos_raw_writer **out,
		const char *base, const char *work_dir, uint64_t split_size,
		int hash_files, uint64_t durable, custos_error *err)
{
	custos_raw_writer *w;
	custos_status st;
	size_t keep;

	st = custos__raw_writer_open_in(&w, base, work_dir, split_size,
		hash_files, err);
	if (st != CUSTOS_OK)
		return st;
	/* Files wholly or partly inside the durable bytes: at least one. */
	keep = split_size == 0 ? 1 : (size_t)(durable / split_size) +
		(durable % split_size != 0 || durable == 0);
	if (split_size != 0 && durable % split_size == 0 && durable > 0)
		keep = (size_t)(durable / split_size);
	for (size_t i = 0; st == CUSTOS_OK && i < keep; i++) {
		uint64_t want = split_size == 0 ? durable
			: i + 1 < keep || durable % split_size == 0
			? (durable == 0 ? 0 : split_size) : durable % split_size;
		raw_file *f;
		struct stat sb;
		int fd;

		st = open_next(w, err);
		f = w->file_count ? &w->files[w->file_count - 1] : NULL;
		if (st == CUSTOS_EEXIST && f != NULL && w->fd < 0 &&
		    !custos__path_exists(f->final_path)) {
			custos_error_clear(err);
			st = CUSTOS_OK;
			fd = open(f->work_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"%s is missing or not a file: the partial "
					"image changed", f->work_path);
			else if ((uint64_t)sb.st_size < want)
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"%s holds %llu bytes, fewer than the %llu "
					"the interrupted run made durable: the "
					"partial image changed", f->work_path,
					(unsigned long long)sb.st_size,
					(unsigned long long)want);
			else if (ftruncate(fd, (off_t)want) != 0 ||
				 lseek(fd, (off_t)want, SEEK_SET) < 0)
				st = custos__error_errno(err, errno,
					"cannot cut %s back to %llu bytes",
					f->work_path, (unsigned long long)want);
			if (st == CUSTOS_OK && w->sha256 != NULL)
				st = hash_prefix(w, fd, want, f->work_path, err);
			w->fd = fd;
			w->in_file = want;
			w->total += want;
			f->pub.size_bytes = want;
		} else if (st == CUSTOS_OK && want > 0) {
			st = custos__error_set(err, CUSTOS_EFORMAT, "%s is "
				"missing: the partial image changed",
				w->files[w->file_count - 1].work_path);
		}
		if (st == CUSTOS_OK && i + 1 < keep)
			st = close_current(w, err);
	}
	/* What an interrupted run wrote past the durable bytes goes. */
	for (size_t i = keep; st == CUSTOS_OK && split_size != 0 &&
	     i < RAW_MAX_SEGMENTS; i++) {
		char *name = final_name(w, i);
		char *path = name ? custos__aprintf("%s/%s", work_dir,
			custos__basename(name)) : NULL;
		struct stat sb;
		int gone = path == NULL || lstat(path, &sb) != 0;

		if (!gone && S_ISREG(sb.st_mode))
			(void)unlink(path);
		free(path);
		free(name);
		if (gone)
			break;
	}
	if (st == CUSTOS_OK && w->fd >= 0) {
		int flags = fcntl(w->fd, F_GETFL);

		w->direct = flags >= 0 &&
			fcntl(w->fd, F_SETFL, flags | O_DIRECT) == 0;
	}
	if (st != CUSTOS_OK) {
		custos_raw_writer_free(w);
		return st;
	}
	*out = w;
	return CUSTOS_OK;
}
