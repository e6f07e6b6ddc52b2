/* Small helpers shared by library files: time, files, strings. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

void custos__time_rfc3339(char out[CUSTOS__RFC3339_MAX], time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, CUSTOS__RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, CUSTOS__RFC3339_MAX, "1970-01-01T00:00:00Z");
}

static int copy_zone(char *out, size_t capacity, const char *zone)
{
	size_t n = strlen(zone);

	while (n > 0 && (zone[n - 1] == '\n' || zone[n - 1] == ' '))
		n--;
	if (n == 0 || n >= capacity)
		return 0;
	memcpy(out, zone, n);
	out[n] = '\0';
	return 1;
}

void custos__timezone_name(char *out, size_t capacity)
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX];
	const char *marker;
	ssize_t n;
	FILE *f;

	if (tz != NULL && *tz == ':')
		tz++;
	if (tz != NULL && *tz != '\0' && tz[0] != '/' &&
	    copy_zone(out, capacity, tz))
		return;
	/* /etc/localtime is a symlink into the zoneinfo tree on Debian. */
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		marker = strstr(link, "zoneinfo/");
		if (marker != NULL && copy_zone(out, capacity, marker + 9))
			return;
	}
	f = fopen("/etc/timezone", "r");
	if (f != NULL) {
		char line[128];

		if (fgets(line, sizeof(line), f) != NULL &&
		    copy_zone(out, capacity, line)) {
			fclose(f);
			return;
		}
		fclose(f);
	}
	/* glibc's behaviour with no configuration is UTC. */
	copy_zone(out, capacity, "UTC");
}

double custos__monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned int custos__cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 8 ? 8 : (unsigned int)n;
}

char *custos__strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *custos__aprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

char *custos__dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

const char *custos__basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

custos_status custos__write_all(int fd, const void *data, size_t len,
		const char *what, custos_error *err)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return custos__error_errno(err, errno, "cannot write %s",
				what);
		}
		if (n == 0)
			return custos__error_set(err, CUSTOS_ENOSPC,
				"cannot write %s: no progress", what);
		p += n;
		len -= (size_t)n;
	}
	return CUSTOS_OK;
}

custos_status custos__fsync_parent(const char *path, custos_error *err)
{
	char *dir = custos__dirname(path);
	int fd;
	custos_status st = CUSTOS_OK;

	if (dir == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		st = custos__error_errno(err, errno, "cannot open folder %s", dir);
	} else {
		if (fsync(fd) != 0 && errno != EINVAL)
			st = custos__error_errno(err, errno, "cannot sync folder %s",
				dir);
		close(fd);
	}
	free(dir);
	return st;
}

custos_status custos__write_file_atomic(const char *path, const void *data,
		size_t len, custos_error *err)
{
	return custos__write_file_exclusive(path, data, len, 0644, err);
}

custos_status custos__write_file_atomic_mode(const char *path,
		const void *data, size_t len, unsigned int mode,
		custos_error *err)
{
	return custos__write_file_exclusive(path, data, len, mode, err);
}

int custos__path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
