/*
 * An LD_PRELOAD shim that makes one kind of file operation fail, or plants
 * a symlink at the worst moment, so the CLI tests can drive every step of
 * committing a bundle into failure.  CUSTOS_FAULT="OP:TEXT" picks the
 * operation and the path it applies to (any path containing TEXT):
 *   create  open/openat with O_CREAT fails with ENOSPC
 *   write   write() to a descriptor open on such a path fails with ENOSPC
 *   commit  renameat2/rename/link to a final name ending in TEXT (not
 *           inside a ".part-" staging folder) fails with EIO
 *   plant   after a file named TEXT is created, a symlink "data" pointing
 *           to CUSTOS_FAULT_TARGET appears beside it (an attacker racing
 *           `open`)
 * Test-only; never linked into anything shipped.
 */
/* Both open and open64 are defined here, so no redirection of one to the
 * other. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* dlsym's object pointer into a function pointer, as POSIX allows. */
static void next_symbol(void *fn, size_t size, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	memcpy(fn, &p, size);
}

/* commit: a rename to a final name only, not one inside a private
 * ".part-XXXXXX" staging folder. */
static int fault(const char *op, const char *path)
{
	const char *spec = getenv("CUSTOS_FAULT");
	size_t n;

	if (spec == NULL || path == NULL)
		return 0;
	n = strlen(op);
	if (strncmp(spec, op, n) != 0 || spec[n] != ':')
		return 0;
	if (strcmp(op, "commit") == 0) {
		size_t pl = strlen(path), tl = strlen(spec + n + 1);
		return strstr(path, ".part-") == NULL && pl >= tl &&
			strcmp(path + pl - tl, spec + n + 1) == 0;
	}
	return strstr(path, spec + n + 1) != NULL;
}

static int fd_matches(const char *op, int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (getenv("CUSTOS_FAULT") == NULL)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return fault(op, path);
}

/* After a file named TEXT is created in dirfd (or its folder), plant the
 * symlink "data" beside it. */
static void plant(int dirfd, const char *path)
{
	const char *spec = getenv("CUSTOS_FAULT"), *target, *slash;
	char dir[PATH_MAX];

	if (spec == NULL || strncmp(spec, "plant:", 6) != 0)
		return;
	slash = strrchr(path, '/');
	if (strcmp(slash ? slash + 1 : path, spec + 6) != 0)
		return;
	target = getenv("CUSTOS_FAULT_TARGET");
	if (target == NULL)
		return;
	if (slash == NULL) {
		symlinkat(target, dirfd, "data");
		return;
	}
	snprintf(dir, sizeof(dir), "%.*s/data", (int)(slash - path), path);
	symlinkat(target, dirfd, dir);
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	static int (*real)(int, const char *, int, ...);
	int fd;

	if (real == NULL)
		next_symbol(&real, sizeof(real), "openat");
	if ((flags & O_CREAT) && fault("create", path)) {
		errno = ENOSPC;
		return -1;
	}
	fd = real(dirfd, path, flags, mode);
	if (fd >= 0 && (flags & O_CREAT))
		plant(dirfd, path);
	return fd;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (real == NULL)
		next_symbol(&real, sizeof(real), "write");
	if (fd > 2 && fd_matches("write", fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, len);
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (real == NULL)
		next_symbol(&real, sizeof(real), "rename");
	if (fault("commit", to)) {
		errno = EIO;
		return -1;
	}
	return real(from, to);
}

int link(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (real == NULL)
		next_symbol(&real, sizeof(real), "link");
	if (fault("commit", to)) {
		errno = EIO;
		return -1;
	}
	return real(from, to);
}

int renameat2(int ofd, const char *from, int nfd, const char *to,
		unsigned int flags)
{
	if (fault("commit", to)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_renameat2, ofd, from, nfd, to, flags);
}

/* custos__commit_noreplace calls renameat2 through syscall(2). */
long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	if (real == NULL)
		next_symbol(&real, sizeof(real), "syscall");
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_renameat2 && fault("commit", (const char *)a[3])) {
		errno = EIO;
		return -1;
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
