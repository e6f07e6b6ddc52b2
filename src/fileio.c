/*
 * Safe file primitives (see fileio_private.h): exclusive creation, commits
 * that never replace, and inputs that must be regular files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

custos_status custos__create_exclusive(int *fd, const char *path,
		unsigned int mode, custos_error *err)
{
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
		O_NOCTTY, (mode_t)mode);
	if (*fd >= 0)
		return CUSTOS_OK;
	if (errno == EEXIST)
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; nothing was overwritten", path);
	return custos__error_errno(err, errno, "cannot create %s", path);
}

custos_status custos__create_temp_beside(int *fd, const char *final_path,
		unsigned int mode, char **tmp_path, custos_error *err)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	int urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	custos_status st = CUSTOS_EEXIST;

	*tmp_path = NULL;
	*fd = -1;
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		unsigned char rnd[6];
		char suffix[7];
		char *tmp;

		if (urandom < 0 || read(urandom, rnd, sizeof(rnd)) !=
		    (ssize_t)sizeof(rnd)) {
			/* No urandom: pid and attempt still make a name, and
			 * O_EXCL keeps it safe either way. */
			uint32_t v = (uint32_t)getpid() * 2654435761u + attempt;

			for (int i = 0; i < 6; i++)
				rnd[i] = (unsigned char)(v >> (i * 5));
		}
		for (int i = 0; i < 6; i++)
			suffix[i] = digits[rnd[i] % (sizeof(digits) - 1)];
		suffix[6] = '\0';
		tmp = custos__aprintf("%s.%s.part", final_path, suffix);
		if (tmp == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
			break;
		}
		*fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC | O_NOCTTY, (mode_t)mode);
		if (*fd >= 0) {
			*tmp_path = tmp;
			st = CUSTOS_OK;
			break;
		}
		if (errno != EEXIST) {
			st = custos__error_errno(err, errno, "cannot create %s",
				tmp);
			free(tmp);
			break;
		}
		free(tmp);
	}
	if (urandom >= 0)
		close(urandom);
	if (st == CUSTOS_EEXIST)
		custos__error_set(err, st,
			"cannot find a free temporary name beside %s",
			final_path);
	return st;
}

custos_status custos__commit_noreplace(const char *from, const char *to,
		custos_error *err)
{
	int rc = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);

	if (rc != 0 && (errno == EINVAL || errno == ENOSYS ||
	    errno == EOPNOTSUPP)) {
		/* No renameat2 here: link() also refuses an existing name. */
		if (link(from, to) == 0) {
			if (unlink(from) != 0)
				return custos__error_errno(err, errno,
					"committed %s but cannot remove %s",
					to, from);
			rc = 0;
		} else {
			rc = -1;
		}
	}
	if (rc != 0) {
		if (errno == EEXIST)
			return custos__error_set(err, CUSTOS_EEXIST,
				"%s already exists; nothing was overwritten",
				to);
		return custos__error_errno(err, errno, "cannot rename %s to %s",
			from, to);
	}
	return custos__fsync_parent(to, err);
}

custos_status custos__mkdir_exclusive(const char *path, unsigned int mode,
		custos_error *err)
{
	if (mkdir(path, (mode_t)mode) == 0)
		return CUSTOS_OK;
	if (errno == EEXIST)
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; nothing was touched", path);
	return custos__error_errno(err, errno, "cannot create folder %s",
		path);
}

static custos_status write_sync_close(int fd, const char *path,
		const void *data, size_t len, custos_error *err)
{
	custos_status st = custos__write_all(fd, data, len, path, err);

	if (st == CUSTOS_OK && fsync(fd) != 0)
		st = custos__error_errno(err, errno, "cannot sync %s", path);
	if (close(fd) != 0 && st == CUSTOS_OK)
		st = custos__error_errno(err, errno, "cannot close %s", path);
	return st;
}

custos_status custos__write_file_exclusive(const char *path,
		const void *data, size_t len, unsigned int mode,
		custos_error *err)
{
	char *tmp;
	custos_status st;
	int fd;

	/* Refuse early, so a run never does its work for nothing. */
	if (custos__path_exists(path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; nothing was overwritten", path);
	if ((st = custos__create_temp_beside(&fd, path, mode, &tmp, err)) !=
	    CUSTOS_OK)
		return st;
	if (fchmod(fd, (mode_t)mode) != 0) { /* umask must not widen 0600 */
		st = custos__error_errno(err, errno, "cannot set the mode of %s",
			tmp);
		close(fd);
	} else {
		st = write_sync_close(fd, tmp, data, len, err);
	}
	if (st == CUSTOS_OK)
		st = custos__commit_noreplace(tmp, path, err);
	if (st != CUSTOS_OK && custos__path_exists(tmp))
		unlink(tmp); /* our own private temporary file */
	free(tmp);
	return st;
}

custos_status custos__replace_own_file(const char *path, const void *data,
		size_t len, custos_error *err)
{
	struct stat sb;
	char *tmp;
	custos_status st;
	int fd;

	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return custos__error_set(err, CUSTOS_EINVAL,
			"%s is not a regular file; not replacing it", path);
	if ((st = custos__create_temp_beside(&fd, path, 0644, &tmp, err)) !=
	    CUSTOS_OK)
		return st;
	st = write_sync_close(fd, tmp, data, len, err);
	/* The one deliberate replacing rename: its only callers are the
	 * resume state and the rescue map, inside the run's own 0700 work
	 * folder, which a run rewrites at every sync point.  Outputs never
	 * come here; they go through custos__commit_noreplace. */
	if (st == CUSTOS_OK && rename(tmp, path) != 0)
		st = custos__error_errno(err, errno, "cannot rename %s", tmp);
	if (st != CUSTOS_OK)
		unlink(tmp);
	else
		st = custos__fsync_parent(path, err);
	free(tmp);
	return st;
}

static const char *kind_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a folder";
	return "not a regular file";
}

static custos_status open_checked(int *fd, const char *path,
		const char *what, int allow_block, custos_error *err)
{
	struct stat sb;
	custos_status st;
	int flags;

	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0)
		return custos__error_errno(err, errno, "cannot open %s %s",
			what, path);
	if (fstat(*fd, &sb) != 0) {
		st = custos__error_errno(err, errno, "cannot stat %s %s", what,
			path);
	} else if (!S_ISREG(sb.st_mode) &&
		   !(allow_block && S_ISBLK(sb.st_mode))) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"%s %s is %s, not a file; refusing to read it", what,
			path, kind_name(sb.st_mode));
	} else if ((flags = fcntl(*fd, F_GETFL)) < 0 ||
		   fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		st = custos__error_errno(err, errno, "cannot use %s %s", what,
			path);
	} else {
		return CUSTOS_OK;
	}
	close(*fd);
	*fd = -1;
	return st;
}

custos_status custos__open_regular(int *fd, const char *path,
		const char *what, custos_error *err)
{
	return open_checked(fd, path, what, 0, err);
}

custos_status custos__open_regular_or_block(int *fd, const char *path,
		const char *what, custos_error *err)
{
	return open_checked(fd, path, what, 1, err);
}

custos_status custos__check_regular(const char *path, const char *what,
		custos_error *err)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return errno == ENOENT ? CUSTOS_OK :
			custos__error_errno(err, errno, "cannot stat %s %s",
				what, path);
	if (!S_ISREG(sb.st_mode))
		return custos__error_set(err, CUSTOS_EINVAL,
			"%s %s is %s, not a file; refusing to read it", what,
			path, kind_name(sb.st_mode));
	return CUSTOS_OK;
}

custos_status custos__read_file_max(const char *path, size_t max,
		unsigned char **data, size_t *len, const char *what,
		custos_error *err)
{
	struct stat sb;
	unsigned char *buf;
	size_t got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	custos_status st = custos__open_regular(&fd, path, what, err);

	if (st != CUSTOS_OK)
		return st;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return custos__error_errno(err, errno, "cannot stat %s %s",
			what, path);
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return custos__error_set(err, CUSTOS_ENOMEM,
			"%s %s is larger than %zu bytes", what, path, max);
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	/* Read at most st_size: a file that grows while read is cut at the
	 * size seen, never overflows the buffer. */
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = custos__error_errno(err, errno,
				"cannot read %s %s", what, path);
			free(buf);
			close(fd);
			return st;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return CUSTOS_OK;
}
