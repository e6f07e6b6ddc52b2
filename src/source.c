/*
 * Evidence sources.  Everything is opened O_RDONLY; custos never writes to a
 * source.  Block devices are described from ioctls and sysfs, so the report
 * can say exactly what was imaged.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/hdreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "custos/source.h"
#include "custos/text.h"
#include "error_private.h"
#include "source_private.h"
#include "util_private.h"

/* Device identity strings longer than this are cut (they never are). */
#define IDENTITY_MAX 128

struct custos_source {
	custos_source_info info;
	int fd;             /* -1 for custom sources */
	int direct_fd;      /* O_DIRECT descriptor for read_unit, opened lazily */
	int direct_failed;  /* O_DIRECT is not possible here */
	uint64_t position;  /* next offset for sequential sources */
	void *bounce;       /* aligned buffer for O_DIRECT */
	size_t bounce_size;
	const custos_source_ops *ops;
	void *ops_ctx;
	/* owned copies of the strings in info */
	char *path, *vendor, *model, *serial, *firmware, *backing, *from;
};

const char *custos_source_kind_name(custos_source_kind kind)
{
	switch (kind) {
	case CUSTOS_SOURCE_FILE: return "file";
	case CUSTOS_SOURCE_BLOCK: return "block";
	case CUSTOS_SOURCE_STDIN: return "stdin";
	case CUSTOS_SOURCE_CUSTOM: return "custom";
	}
	return "unknown";
}

/*
 * Keep identity strings printable: trim padding, and replace anything that
 * is not printable ASCII, since firmware strings are untrusted bytes.
 */
static char *clean_identity(const char *raw, size_t len)
{
	char *out;
	size_t start = 0, end = len, n;

	while (start < end && (raw[start] == ' ' || raw[start] == '\0' ||
	       raw[start] == '\n' || raw[start] == '\t'))
		start++;
	while (end > start && (raw[end - 1] == ' ' || raw[end - 1] == '\0' ||
	       raw[end - 1] == '\n' || raw[end - 1] == '\t'))
		end--;
	if (end == start)
		return NULL;
	n = end - start;
	if (n > IDENTITY_MAX)
		n = IDENTITY_MAX;
	/* Escaped, not replaced: a serial number with odd bytes must stay
	 * recognisable byte for byte. */
	out = malloc(CUSTOS_TEXT_ESCAPE_RATIO * n + 1);
	if (out == NULL)
		return NULL;
	custos_text_escape(out, CUSTOS_TEXT_ESCAPE_RATIO * n + 1, raw + start, n);
	return out;
}

/* Read a small sysfs attribute; NULL when absent or empty. */
static char *sysfs_read(const char *dir, const char *attr)
{
	char path[512], buf[IDENTITY_MAX * 2];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return NULL;
	return clean_identity(buf, (size_t)n);
}

/* SCSI VPD page 0x80 (unit serial number), as the kernel exposes it. */
static char *sysfs_vpd_serial(const char *devdir)
{
	unsigned char buf[4 + 255];
	char path[512];
	ssize_t n;
	size_t len;
	int fd;

	if (snprintf(path, sizeof(path), "%s/vpd_pg80", devdir) >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 4 || buf[1] != 0x80)
		return NULL;
	len = ((size_t)buf[2] << 8) | buf[3];
	if (len > (size_t)n - 4)
		len = (size_t)n - 4;
	return clean_identity((const char *)buf + 4, len);
}

/*
 * A loop device's backing file: a path, kept byte for byte (only the
 * newline goes), since it may be long and need not be ASCII.
 */
static char *sysfs_read_path(const char *dir, const char *attr)
{
	char path[512], *buf;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(PATH_MAX + 1);
	n = buf == NULL ? -1 : read(fd, buf, PATH_MAX);
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return buf;
}

static void set_if_empty(char **slot, char *value)
{
	if (*slot == NULL)
		*slot = value;
	else
		free(value);
}

/* ATA IDENTIFY through the legacy ioctl; libata answers it for SATA disks. */
static void identity_from_hdio(custos_source *s)
{
	unsigned char id[512];

	if (ioctl(s->fd, HDIO_GET_IDENTITY, id) != 0)
		return;
	/* Words 10-19 serial, 23-26 firmware, 27-46 model (already in order). */
	set_if_empty(&s->serial, clean_identity((const char *)id + 20, 20));
	set_if_empty(&s->firmware, clean_identity((const char *)id + 46, 8));
	set_if_empty(&s->model, clean_identity((const char *)id + 54, 40));
	if (s->from == NULL && s->model != NULL)
		s->from = strdup("HDIO_GET_IDENTITY");
}

static void identity_from_sysfs(custos_source *s, dev_t rdev)
{
	char dir[256], devdir[300], real[4096];
	struct stat st;

	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(rdev),
		minor(rdev));
	/* A partition's identity is its disk's. */
	snprintf(devdir, sizeof(devdir), "%s/partition", dir);
	if (stat(devdir, &st) == 0) {
		snprintf(devdir, sizeof(devdir), "%s/..", dir);
		if (realpath(devdir, real) != NULL && strlen(real) < sizeof(dir))
			snprintf(dir, sizeof(dir), "%s", real);
	}
	s->backing = sysfs_read_path(dir, "loop/backing_file");
	snprintf(devdir, sizeof(devdir), "%s/device", dir);
	s->vendor = sysfs_read(devdir, "vendor");
	s->model = sysfs_read(devdir, "model");
	s->serial = sysfs_read(devdir, "serial");            /* NVMe, virtio */
	set_if_empty(&s->serial, sysfs_vpd_serial(devdir));  /* SCSI/SATA */
	s->firmware = sysfs_read(devdir, "firmware_rev");    /* NVMe */
	set_if_empty(&s->firmware, sysfs_read(devdir, "rev")); /* SCSI */
	if (s->serial == NULL)
		s->serial = sysfs_read(dir, "serial");
	if (s->vendor != NULL || s->model != NULL || s->serial != NULL)
		s->from = strdup("sysfs");
}

static custos_status describe_block(custos_source *s, const struct stat *st,
		custos_error *err)
{
	uint64_t size = 0;
	int logical = 512;
	unsigned int physical = 512;
	int ro = 0;

	if (ioctl(s->fd, BLKGETSIZE64, &size) != 0)
		return custos__error_errno(err, errno, "%s: cannot get size",
			s->path);
	if (ioctl(s->fd, BLKSSZGET, &logical) != 0 || logical <= 0)
		logical = 512;
	if (ioctl(s->fd, BLKPBSZGET, &physical) != 0 || physical == 0)
		physical = (unsigned int)logical;
	s->info.size_known = 1;
	s->info.size_bytes = size;
	s->info.logical_sector_size = (uint32_t)logical;
	s->info.physical_sector_size = physical;
	s->info.read_only = ioctl(s->fd, BLKROGET, &ro) == 0 ? (ro != 0)
							     : CUSTOS_UNKNOWN;
	identity_from_sysfs(s, st->st_rdev);
	identity_from_hdio(s);
	return CUSTOS_OK;
}

static void publish_strings(custos_source *s)
{
	s->info.path = s->path;
	s->info.vendor = s->vendor;
	s->info.model = s->model;
	s->info.serial = s->serial;
	s->info.firmware = s->firmware;
	s->info.backing_file = s->backing;
	s->info.identity_from = s->from;
}

static custos_source *source_alloc(const char *name)
{
	custos_source *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fd = -1;
	s->direct_fd = -1;
	s->path = strdup(name);
	if (s->path == NULL) {
		free(s);
		return NULL;
	}
	s->info.read_only = CUSTOS_UNKNOWN;
	s->info.logical_sector_size = 512;
	s->info.physical_sector_size = 512;
	return s;
}

custos_status custos_source_open(custos_source **out, const char *path,
		custos_error *err)
{
	custos_source *s;
	struct stat st;
	custos_status rc = CUSTOS_OK;

	if (out == NULL || path == NULL || *path == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "no source given");
	*out = NULL;
	s = source_alloc(path);
	if (s == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (strcmp(path, "-") == 0) {
		s->fd = STDIN_FILENO;
		s->info.kind = CUSTOS_SOURCE_STDIN;
	} else {
		/* O_RDONLY only: evidence is never opened for writing. */
		s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (s->fd < 0) {
			rc = custos__error_errno(err, errno, "cannot open %s", path);
			goto fail;
		}
	}
	if (fstat(s->fd, &st) != 0) {
		rc = custos__error_errno(err, errno, "cannot stat %s", path);
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		s->info.kind = CUSTOS_SOURCE_BLOCK;
		rc = describe_block(s, &st, err);
		if (rc != CUSTOS_OK)
			goto fail;
	} else if (S_ISREG(st.st_mode)) {
		struct statvfs vfs;

		if (s->info.kind != CUSTOS_SOURCE_STDIN)
			s->info.kind = CUSTOS_SOURCE_FILE;
		s->info.size_known = 1;
		s->info.size_bytes = (uint64_t)st.st_size;
		/* For a file, "read-only" means its file system is mounted so. */
		if (fstatvfs(s->fd, &vfs) == 0)
			s->info.read_only = (vfs.f_flag & ST_RDONLY) != 0;
	} else if (S_ISDIR(st.st_mode)) {
		rc = custos__error_set(err, CUSTOS_EINVAL,
			"%s is a folder, not a device or image", path);
		goto fail;
	} else {
		/* A pipe or character device: read in order, size unknown. */
		s->info.kind = CUSTOS_SOURCE_STDIN;
	}
	if (s->info.kind != CUSTOS_SOURCE_STDIN)
		(void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	publish_strings(s);
	*out = s;
	return CUSTOS_OK;
fail:
	custos_source_free(s);
	return rc;
}

custos_status custos_source_open_ops(custos_source **out,
		const custos_source_ops *ops, void *ctx, const char *name,
		uint64_t size_bytes, uint32_t sector_size, custos_error *err)
{
	custos_source *s;

	if (out == NULL || ops == NULL || ops->read_at == NULL ||
	    ops->version != CUSTOS_SOURCE_OPS_VERSION || sector_size == 0)
		return custos__error_set(err, CUSTOS_EINVAL, "bad source ops");
	*out = NULL;
	s = source_alloc(name != NULL ? name : "custom");
	if (s == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	s->ops = ops;
	s->ops_ctx = ctx;
	s->info.kind = CUSTOS_SOURCE_CUSTOM;
	s->info.size_known = 1;
	s->info.size_bytes = size_bytes;
	s->info.logical_sector_size = sector_size;
	s->info.physical_sector_size = sector_size;
	publish_strings(s);
	*out = s;
	return CUSTOS_OK;
}

const custos_source_info *custos_source_get_info(const custos_source *src)
{
	return src == NULL ? NULL : &src->info;
}

int custos_source_is_seekable(const custos_source *src)
{
	return src != NULL && src->info.kind != CUSTOS_SOURCE_STDIN;
}

/* One read attempt: bytes read, 0 at the end, or -errno. */
static ssize_t read_once(custos_source *s, void *buf, size_t len,
		uint64_t offset)
{
	ssize_t n;

	if (s->ops != NULL)
		return s->ops->read_at(s->ops_ctx, buf, len, offset);
	if (s->info.kind == CUSTOS_SOURCE_STDIN)
		n = read(s->fd, buf, len);
	else
		n = pread(s->fd, buf, len, (off_t)offset);
	return n < 0 ? -errno : n;
}

custos_status custos_source_read(custos_source *src, void *buf, size_t len,
		uint64_t offset, size_t *got, const volatile sig_atomic_t *cancel,
		custos_error *err)
{
	unsigned char *p = buf;
	size_t done = 0;

	if (got != NULL)
		*got = 0;
	if (src == NULL || (buf == NULL && len > 0) || got == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "bad read arguments");
	if (src->info.kind == CUSTOS_SOURCE_STDIN && offset != src->position)
		return custos__error_set(err, CUSTOS_EUNSUPPORTED,
			"%s can only be read in order", src->path);
	while (done < len) {
		ssize_t n = read_once(src, p + done, len - done, offset + done);

		if (n == -EINTR) {
			if (cancel != NULL && *cancel)
				return custos__error_set(err, CUSTOS_ECANCELED,
					"interrupted");
			continue;
		}
		if (n < 0) {
			*got = done;
			if (src->info.kind == CUSTOS_SOURCE_STDIN)
				src->position += done;
			return custos__error_errno(err, (int)-n,
				"read error on %s at byte %llu", src->path,
				(unsigned long long)(offset + done));
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	if (src->info.kind == CUSTOS_SOURCE_STDIN)
		src->position += done;
	return CUSTOS_OK;
}

static int open_direct(custos_source *s)
{
	if (s->direct_fd >= 0)
		return 1;
	if (s->direct_failed || s->info.kind != CUSTOS_SOURCE_BLOCK)
		return 0;
	s->direct_fd = open(s->path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (s->direct_fd < 0) {
		s->direct_failed = 1;
		return 0;
	}
	return 1;
}

custos_status custos_source_read_unit(custos_source *src, void *buf,
		size_t len, uint64_t offset, custos_error *err)
{
	ssize_t n;

	if (src == NULL || buf == NULL || len == 0)
		return custos__error_set(err, CUSTOS_EINVAL, "bad unit read");
	if (!custos_source_is_seekable(src))
		return custos__error_set(err, CUSTOS_EUNSUPPORTED,
			"%s cannot be re-read", src->path);
	if (open_direct(src)) {
		if (len % src->info.logical_sector_size != 0)
			return custos__error_set(err, CUSTOS_EINVAL,
				"unit is not a whole number of sectors");
		if (src->bounce_size < len) {
			free(src->bounce);
			src->bounce = NULL;
			src->bounce_size = 0;
			if (posix_memalign(&src->bounce, 4096, len) != 0)
				return custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
			src->bounce_size = len;
		}
		do
			n = pread(src->direct_fd, src->bounce, len, (off_t)offset);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;
		else if ((size_t)n == len)
			memcpy(buf, src->bounce, len);
	} else {
		do
			n = read_once(src, buf, len, offset);
		while (n == -EINTR);
	}
	if (n < 0)
		return custos__error_errno(err, (int)-n,
			"read error on %s at byte %llu", src->path,
			(unsigned long long)offset);
	if ((size_t)n != len)
		return custos__error_set(err, CUSTOS_EIO,
			"short read on %s at byte %llu", src->path,
			(unsigned long long)offset);
	return CUSTOS_OK;
}

void custos_source_free(custos_source *src)
{
	if (src == NULL)
		return;
	if (src->ops != NULL && src->ops->close != NULL)
		src->ops->close(src->ops_ctx);
	if (src->fd >= 0 && src->fd != STDIN_FILENO)
		close(src->fd);
	if (src->direct_fd >= 0)
		close(src->direct_fd);
	free(src->bounce);
	free(src->path);
	free(src->vendor);
	free(src->model);
	free(src->serial);
	free(src->firmware);
	free(src->backing);
	free(src->from);
	free(src);
}

int custos__source_read_only_now(custos_source *src)
{
	int ro = 0;

	if (src == NULL)
		return CUSTOS_UNKNOWN;
	if (src->info.kind != CUSTOS_SOURCE_BLOCK)
		return src->info.read_only; /* a file system's flag, as opened */
	return ioctl(src->fd, BLKROGET, &ro) == 0 ? (ro != 0) : CUSTOS_UNKNOWN;
}
