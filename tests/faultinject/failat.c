/*
 * failat: an LD_PRELOAD shim that makes one file-system step of a process
 * fail, so a test can walk through every step a tool takes to commit its
 * outputs and check what each failure leaves behind.
 *
 * Counted steps: open with O_CREAT ("creat"), mkdir, rename/renameat/
 * renameat2 ("rename"), link/linkat ("link"), unlink/unlinkat ("unlink"),
 * rmdir, fsync/fdatasync ("fsync"), and, when FAILAT_OPS names it, write()
 * to a file this process created ("write") or an open without O_CREAT
 * ("read-open").
 *
 *   FAILAT_AT=N       fail the Nth counted step (1-based); 0 or unset: none
 *   FAILAT_OPS=LIST   comma-separated steps to count (default: all but
 *                     write and read-open)
 *   FAILAT_MATCH=S    count only steps whose path contains S
 *   FAILAT_ERRNO=E    errno to fail with (a number; default EIO)
 *   FAILAT_ALL=1      fail every counted step from the Nth on
 *   FAILAT_SIGINT=1   raise SIGINT at the Nth step instead of failing it
 *   FAILAT_LOG=FILE   append "N op path" for every counted step, and
 *                     "FAIL N op path" for the one that fails
 */
#undef _FILE_OFFSET_BITS /* the shim defines open and open64 both */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;
static char *fd_paths[MAX_FDS];
static char fd_created[MAX_FDS];

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int counts(const char *op)
{
	const char *ops = env("FAILAT_OPS");
	size_t n = strlen(op);

	if (ops == NULL)
		return strcmp(op, "write") != 0 && strcmp(op, "read-open") != 0;
	for (const char *p = ops; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, op, n) == 0)
			return 1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

static void log_line(const char *what, unsigned long n, const char *op,
		const char *path)
{
	const char *file = env("FAILAT_LOG");
	int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
	ssize_t (*real_write)(int, const void *, size_t) =
		dlsym(RTLD_NEXT, "write");
	char line[4400];
	int fd, len;

	if (file == NULL)
		return;
	len = snprintf(line, sizeof(line), "%s%lu %s %s\n", what, n, op,
		path ? path : "?");
	if (len < 0)
		return;
	fd = real_open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)real_write(fd, line, (size_t)len);
	close(fd);
}

/* 1 when this step must fail (errno is then set). */
static int step(const char *op, const char *path)
{
	const char *at = env("FAILAT_AT"), *match = env("FAILAT_MATCH");
	const char *e = env("FAILAT_ERRNO");
	unsigned long n, want = at ? strtoul(at, NULL, 10) : 0;
	int fire;

	if (!counts(op) || (match != NULL &&
	    (path == NULL || strstr(path, match) == NULL)))
		return 0;
	pthread_mutex_lock(&lock);
	n = ++counter;
	pthread_mutex_unlock(&lock);
	fire = want != 0 && (n == want || (n > want && env("FAILAT_ALL")));
	log_line(fire ? "FAIL " : "", n, op, path);
	if (!fire)
		return 0;
	if (env("FAILAT_SIGINT") != NULL) {
		raise(SIGINT);
		return 0;
	}
	errno = e ? (int)strtol(e, NULL, 10) : EIO;
	return 1;
}

static void remember(int fd, const char *path, int created)
{
	if (fd < 0 || fd >= MAX_FDS)
		return;
	pthread_mutex_lock(&lock);
	free(fd_paths[fd]);
	fd_paths[fd] = path ? strdup(path) : NULL;
	fd_created[fd] = (char)created;
	pthread_mutex_unlock(&lock);
}

static char *fd_path(int fd, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
	pthread_mutex_lock(&lock);
	if (fd_paths[fd] != NULL)
		snprintf(buf, cap, "%s", fd_paths[fd]);
	pthread_mutex_unlock(&lock);
	return buf[0] ? buf : NULL;
}

static int do_open(const char *sym, int dirfd, const char *path, int flags,
		mode_t mode)
{
	int fd;

	if (step(flags & O_CREAT ? "creat" : "read-open", path))
		return -1;
	if (dirfd == -1) {
		int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, sym);

		fd = real(path, flags, mode);
	} else {
		int (*real)(int, const char *, int, ...) = dlsym(RTLD_NEXT, sym);

		fd = real(dirfd, path, flags, mode);
	}
	if (fd >= 0)
		remember(fd, path, (flags & O_CREAT) != 0);
	return fd;
}

#define MODE_ARG(flags, mode) do { \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = (mode_t)va_arg(ap, int); \
		va_end(ap); \
	} \
} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open("open", -1, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open("open64", -1, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open("openat64", dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return do_open("open", -1, path, flags, 0);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return do_open("open64", -1, path, flags, 0);
}

#define PASS(ret, sym, proto, ...) do { \
	ret (*real) proto = dlsym(RTLD_NEXT, sym); \
	return real(__VA_ARGS__); \
} while (0)

int mkdir(const char *path, mode_t mode)
{
	if (step("mkdir", path))
		return -1;
	PASS(int, "mkdir", (const char *, mode_t), path, mode);
}

int rename(const char *from, const char *to)
{
	if (step("rename", to))
		return -1;
	PASS(int, "rename", (const char *, const char *), from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	if (step("rename", to))
		return -1;
	PASS(int, "renameat", (int, const char *, int, const char *), fd1,
		from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to,
		unsigned int flags)
{
	if (step("rename", to))
		return -1;
	PASS(int, "renameat2", (int, const char *, int, const char *,
		unsigned int), fd1, from, fd2, to, flags);
}

int link(const char *from, const char *to)
{
	if (step("link", to))
		return -1;
	PASS(int, "link", (const char *, const char *), from, to);
}

int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	if (step("link", to))
		return -1;
	PASS(int, "linkat", (int, const char *, int, const char *, int), fd1,
		from, fd2, to, flags);
}

int unlink(const char *path)
{
	if (step("unlink", path))
		return -1;
	PASS(int, "unlink", (const char *), path);
}

int unlinkat(int fd, const char *path, int flags)
{
	if (step(flags & AT_REMOVEDIR ? "rmdir" : "unlink", path))
		return -1;
	PASS(int, "unlinkat", (int, const char *, int), fd, path, flags);
}

int rmdir(const char *path)
{
	if (step("rmdir", path))
		return -1;
	PASS(int, "rmdir", (const char *), path);
}

int fsync(int fd)
{
	char buf[4096];

	if (step("fsync", fd_path(fd, buf, sizeof(buf))))
		return -1;
	PASS(int, "fsync", (int), fd);
}

int fdatasync(int fd)
{
	char buf[4096];

	if (step("fsync", fd_path(fd, buf, sizeof(buf))))
		return -1;
	PASS(int, "fdatasync", (int), fd);
}

ssize_t write(int fd, const void *data, size_t len)
{
	char buf[4096];
	const char *path = fd_path(fd, buf, sizeof(buf));

	if (path != NULL && fd >= 0 && fd < MAX_FDS && fd_created[fd] &&
	    step("write", path))
		return -1;
	PASS(ssize_t, "write", (int, const void *, size_t), fd, data, len);
}

int close(int fd)
{
	remember(fd, NULL, 0);
	PASS(int, "close", (int), fd);
}
