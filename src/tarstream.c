/*
 * A bag as a pax tar, over libarchive.  Writing streams the tag files
 * from memory and the payload from its files (hashed while written, the
 * SHA-512 on a second thread) into a sink, in one pass.  Reading collects
 * a tar's members into a custos__bag without extracting them, or, for
 * open, writing each regular member into a new folder while it is hashed.
 * The member-name policy lives here: no absolute paths, '..', '.' or empty
 * components, no links, devices or FIFOs, no CR, LF, '%' or control
 * characters, nothing outside the one bag folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "tarstream_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

/* ------------------------------------------------------------------ */
/* Writing the bag. */

static la_ssize_t archive_out(struct archive *a, void *ctx, const void *buf,
		size_t len)
{
	custos__tar_writer *w = ctx;

	(void)a;
	if (w->st != CUSTOS_OK)
		return -1;
	w->st = w->sink(w->sink_ctx, buf, len, w->err);
	return w->st == CUSTOS_OK ? (la_ssize_t)len : -1;
}

static custos_status archive_fail(custos__tar_writer *w, const char *what)
{
	if (w->st != CUSTOS_OK)
		return w->st;
	return custos__error_set(w->err, CUSTOS_EIO, "tar %s: %s", what,
		archive_error_string(w->a) ? archive_error_string(w->a) : "?");
}

custos_status custos__tar_writer_open(custos__tar_writer *w,
		custos__write_fn sink, void *sink_ctx)
{
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->a = archive_write_new();
	if (w->a == NULL ||
	    archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, archive_out, NULL) != ARCHIVE_OK)
		return w->a ? archive_fail(w, "open") :
			custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

static custos_status entry_header(custos__tar_writer *w, const char *name,
		uint64_t size, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int rc;

	if (e == NULL)
		return custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
	/* The name is UTF-8 already (checked at create): stored as such
	 * whatever the locale, so a C locale cannot garble or refuse it. */
	archive_entry_set_pathname_utf8(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	rc = archive_write_header(w->a, e);
	archive_entry_free(e);
	return rc == ARCHIVE_OK ? CUSTOS_OK : archive_fail(w, name);
}

custos_status custos__tar_add_tag(custos__tar_writer *w, const char *id,
		const char *rel, const void *data, size_t len, int in_tagmanifest)
{
	char *name = custos__aprintf("%s/%s", id, rel);
	custos_status st;

	if (name == NULL)
		return custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
	st = entry_header(w, name, len, w->now);
	free(name);
	if (st != CUSTOS_OK)
		return st;
	if (len > 0 && archive_write_data(w->a, data, len) != (la_ssize_t)len)
		return archive_fail(w, rel);
	if (in_tagmanifest) {
		unsigned char d[64];
		char h[129];
		EVP_Digest(data, len, d, NULL, EVP_sha512(), NULL);
		custos__hex_into(h, d, 64);
		custos__sb_printf(&w->tagmanifest, "%s  %s\n", h, rel);
	}
	return CUSTOS_OK;
}

custos_status custos__tar_add_payload(custos__tar_writer *w, const char *id,
		const char *path, const char *rel, char sha256[65],
		char sha512[129], uint64_t *size)
{
	struct stat sb;
	EVP_MD_CTX *m256 = NULL, *m512 = NULL;
	unsigned char *buf = NULL, d[64];
	uint64_t done = 0;
	char *name = NULL;
	int fd;
	custos_status st = custos__open_regular(&fd, path, "item", w->err);

	if (st != CUSTOS_OK)
		return st;
	if (fstat(fd, &sb) != 0) {
		st = custos__error_errno(w->err, errno, "%s", path);
		close(fd);
		return st;
	}
	name = custos__aprintf("%s/%s", id, rel);
	buf = malloc(IO_BLOCK);
	m256 = EVP_MD_CTX_new();
	m512 = EVP_MD_CTX_new();
	if (name == NULL || buf == NULL || m256 == NULL || m512 == NULL) {
		st = custos__error_set(w->err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	EVP_DigestInit_ex(m256, EVP_sha256(), NULL);
	EVP_DigestInit_ex(m512, EVP_sha512(), NULL);
	st = entry_header(w, name, (uint64_t)sb.st_size, sb.st_mtime);
	while (st == CUSTOS_OK && done < (uint64_t)sb.st_size) {
		ssize_t n = read(fd, buf, IO_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st = n < 0 ? custos__error_errno(w->err, errno, "%s", path) :
				custos__error_set(w->err, CUSTOS_EIO,
					"%s: shrank while being read", path);
			break;
		}
		if ((uint64_t)n > (uint64_t)sb.st_size - done)
			n = (ssize_t)((uint64_t)sb.st_size - done);
		{
			EVP_MD_CTX *mds[ALGS] = {NULL, NULL, NULL, NULL, NULL,
				NULL};
			custos__hash_job job;
			mds[ALG_SHA512] = m512;
			memset(&job, 0, sizeof(job));
			job.md = mds;
			job.mask = 1u << ALG_SHA512;
			job.buf = buf;
			job.len = (size_t)n;
			custos__hash_start(&job);
			EVP_DigestUpdate(m256, buf, (size_t)n);
			if (archive_write_data(w->a, buf, (size_t)n) != n)
				st = archive_fail(w, rel);
			custos__hash_wait(&job);
		}
		done += (uint64_t)n;
	}
	if (st == CUSTOS_OK) {
		EVP_DigestFinal_ex(m256, d, NULL);
		custos__hex_into(sha256, d, 32);
		EVP_DigestFinal_ex(m512, d, NULL);
		custos__hex_into(sha512, d, 64);
		*size = done;
	}
out:
	close(fd);
	free(name);
	free(buf);
	EVP_MD_CTX_free(m256);
	EVP_MD_CTX_free(m512);
	return st;
}

custos_status custos__tar_writer_close(custos__tar_writer *w)
{
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return archive_fail(w, "close");
	return CUSTOS_OK;
}

void custos__tar_writer_free(custos__tar_writer *w)
{
	if (w->a != NULL)
		archive_write_free(w->a);
	w->a = NULL;
	free(w->tagmanifest.data);
	w->tagmanifest.data = NULL;
}

/* ------------------------------------------------------------------ */
/* Reading a bag's members. */

typedef struct tar_data {
	struct archive *a;
	const char *name;
	custos_status *src_st;      /* the decryption's failure, if any */
} tar_data;

static custos_status tar_read_data(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err)
{
	tar_data *t = ctx;
	la_ssize_t n = archive_read_data(t->a, buf, cap);

	if (n < 0 && t->src_st != NULL && *t->src_st != CUSTOS_OK)
		return *t->src_st; /* err already says why */
	if (n < 0)
		return custos__error_set(err, CUSTOS_EFORMAT, "tar member: %s",
			archive_error_string(t->a) ? archive_error_string(t->a) :
			"read error");
	*got = (size_t)n;
	return CUSTOS_OK;
}

/* open: a member is written while it is hashed. */
typedef struct tee_data {
	tar_data td;
	int fd;
} tee_data;

static custos_status tee_read(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	tee_data *t = ctx;
	custos_status st = tar_read_data(&t->td, buf, cap, got, err);

	if (st != CUSTOS_OK || *got == 0)
		return st;
	return custos__write_all(t->fd, buf, *got, "extracted file", err);
}

/*
 * Create rel's parent folders and the file itself under the destination
 * folder's descriptor, one component at a time: mkdirat, then openat with
 * O_NOFOLLOW|O_DIRECTORY, so a symlink planted in the destination while
 * open runs is never followed, and the file is created O_EXCL|O_NOFOLLOW.
 * Nothing can be written outside the destination.  -1 with errno set.
 */
static int extract_open(custos__bag *b, const char *rel)
{
	char *path = custos__strdup(rel), *comp, *slash;
	int cur = b->extract_fd, fd = -1, e = 0;

	if (path == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (comp = path; (slash = strchr(comp, '/')) != NULL;
			comp = slash + 1) {
		int next;
		*slash = '\0';
		if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST) {
			e = errno;
			break;
		}
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
		e = errno;
		if (cur != b->extract_fd)
			close(cur);
		cur = next;
		if (cur < 0)
			break;
	}
	if (cur >= 0 && slash == NULL) {
		fd = openat(cur, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC | O_NOCTTY, 0644);
		e = errno;
	}
	if (cur >= 0 && cur != b->extract_fd)
		close(cur);
	free(path);
	if (fd < 0)
		errno = e == ELOOP || e == ENOTDIR ? ELOOP : e;
	return fd;
}

/* Checks a tar member's name; sets *rel to the part after the bag
 * folder (NULL for the folder itself). */
static custos_status tar_name(custos__bag *b, const char *name,
		const char **rel)
{
	const char *slash;

	*rel = NULL;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r' || c == '\n' || c == '%' || c < 0x20 || c == 0x7f)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: member name with CR, LF, %% or a "
				"control character");
	}
	if (name[0] == '/')
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"hostile tar: absolute member path");
	{
		char *tmp = custos__strdup(name);
		size_t l;
		int ok;
		if (tmp == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		l = strlen(tmp);
		if (l > 0 && tmp[l - 1] == '/')
			tmp[l - 1] = '\0';
		ok = custos__path_in_scope(tmp);
		free(tmp);
		if (!ok)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: member path with '..', '.' or "
				"empty components");
	}
	if (strlen(name) >= PATH_MAX_BAG)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"tar member name too long");
	slash = strchr(name, '/');
	if (b->root == NULL) {
		size_t n = slash ? (size_t)(slash - name) : strlen(name);
		b->root = malloc(n + 1);
		if (b->root == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		memcpy(b->root, name, n);
		b->root[n] = '\0';
	}
	if (strncmp(name, b->root, strlen(b->root)) != 0 ||
	    (name[strlen(b->root)] != '/' && name[strlen(b->root)] != '\0'))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"tar member outside the bag folder");
	if (name[strlen(b->root)] == '/' && name[strlen(b->root) + 1] != '\0')
		*rel = name + strlen(b->root) + 1;
	return CUSTOS_OK;
}

static custos_status bag_from_archive(custos__bag *b, struct archive *a,
		custos_status *src_st)
{
	struct archive_entry *e;
	custos_status st;

	for (;;) {
		int rc = archive_read_next_header(a, &e);
		const char *name, *rel;
		tar_data td;
		mode_t type;

		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			if (src_st != NULL && *src_st != CUSTOS_OK)
				return *src_st;
			return custos__error_set(b->err, CUSTOS_EFORMAT, "tar: %s",
				archive_error_string(a) ? archive_error_string(a) :
				"unreadable");
		}
		/* pax names are UTF-8; read them as such whatever the
		 * locale (the plain form may not convert in a C locale). */
		name = archive_entry_pathname_utf8(e);
		if (name == NULL)
			name = archive_entry_pathname(e);
		if (name == NULL)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: member without a usable name");
		if ((st = tar_name(b, name, &rel)) != CUSTOS_OK)
			return st;
		type = archive_entry_filetype(e);
		if (archive_entry_hardlink(e) != NULL || type == AE_IFLNK)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: link member refused");
		if (type == AE_IFDIR)
			continue;
		if (type != AE_IFREG)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"hostile tar: device, FIFO or other special member "
				"refused");
		if (rel == NULL)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"tar: a file where the bag folder should be");
		td.a = a;
		td.name = rel;
		td.src_st = src_st;
		if (b->extracting) {
			tee_data tee;
			tee.td = td;
			tee.fd = extract_open(b, rel);
			if (tee.fd < 0 && errno == ELOOP)
				return custos__error_set(b->err, CUSTOS_EIO,
					"cannot extract %s: a symbolic link or a "
					"file is in the way in %s (planted while "
					"open ran?); nothing was followed", rel,
					b->extract_dir);
			if (tee.fd < 0)
				return custos__error_errno(b->err, errno,
					"cannot extract %s into %s", rel,
					b->extract_dir);
			st = custos__bag_add(b, rel, tee_read, &tee);
			if (close(tee.fd) != 0 && st == CUSTOS_OK)
				st = custos__error_errno(b->err, errno,
					"cannot extract a member");
		} else {
			st = custos__bag_add(b, rel, tar_read_data, &td);
		}
		if (st != CUSTOS_OK) {
			if (src_st != NULL && *src_st != CUSTOS_OK)
				return *src_st;
			return st;
		}
	}
	return CUSTOS_OK;
}

custos_status custos__tar_read_fd(custos__bag *b, int fd, int *not_tar)
{
	struct archive *a = archive_read_new();
	custos_status st;

	*not_tar = 0;
	if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, IO_BLOCK) != ARCHIVE_OK) {
		*not_tar = 1;
		st = CUSTOS_EFORMAT;
	} else {
		st = bag_from_archive(b, a, NULL);
	}
	if (a != NULL)
		archive_read_free(a);
	return st;
}

/* A custos__read_fn as libarchive's read callback. */
typedef struct stream_in {
	custos__read_fn rd;
	void *ctx;
	unsigned char *buf;
	custos_status st;
	custos_error *err;
} stream_in;

static la_ssize_t archive_in(struct archive *a, void *ctx, const void **buf)
{
	stream_in *in = ctx;
	size_t got = 0;

	(void)a;
	*buf = in->buf;
	in->st = in->rd(in->ctx, in->buf, IO_BLOCK, &got, in->err);
	if (in->st != CUSTOS_OK)
		return -1;
	return (la_ssize_t)got;
}

custos_status custos__tar_read_stream(custos__bag *b, custos__read_fn rd,
		void *ctx, int *not_tar)
{
	stream_in in;
	struct archive *a = NULL;
	custos_status st;

	*not_tar = 0;
	memset(&in, 0, sizeof(in));
	in.rd = rd;
	in.ctx = ctx;
	in.err = b->err;
	in.buf = malloc(IO_BLOCK);
	if (in.buf == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	a = archive_read_new();
	if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, &in, NULL, archive_in, NULL) != ARCHIVE_OK) {
		st = in.st;
		if (st == CUSTOS_OK) {
			*not_tar = 1;
			st = CUSTOS_EFORMAT;
		}
	} else {
		st = bag_from_archive(b, a, &in.st);
	}
	if (a != NULL)
		archive_read_free(a);
	free(in.buf);
	return st;
}
