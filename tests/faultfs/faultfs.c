/*
 * faultfs -- a tiny FUSE file system that serves one disk image with
 *            simulated bad sectors.
 *
 * Why it exists: custos-acquire must cope with media that have unreadable
 * sectors (retry, then isolate the bad sectors one by one with O_DIRECT,
 * zero-fill them in the image and list them in the report).  That code
 * path only runs against a real block device, and real failing disks are
 * not something a test suite can rely on.  faultfs exposes a single
 * read-only file, MOUNTPOINT/disk, with the contents and size of --image;
 * every read that touches one of the --bad sector ranges fails with EIO.
 * A loop device attached to MOUNTPOINT/disk then behaves like a disk with
 * bad sectors (see tests/cli/loop-fault.sh).
 *
 * Usage:
 *   faultfs --image FILE --bad START:COUNT[,START:COUNT...] [--sector N]
 *           [--slow-ms N] [--verbose] MOUNTPOINT [FUSE options, e.g. -f]
 *
 * --slow-ms N: every failing read sleeps N ms first, as a dying drive
 * does, so a test can tell a strategy that hammers a bad area from one
 * that skips it.  MOUNTPOINT/stats counts reads ("reads N\nfailed N\n");
 * tests compare the counts, never the time.
 *
 * START and COUNT are in units of --sector bytes (default 512).  The file is
 * opened with direct_io so that the page cache neither hides failures nor
 * widens a failing read to a whole page.
 *
 * This is test tooling only: it never writes to FILE.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#define FUSE_USE_VERSION 31

#include <fuse.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define DISK_NAME "disk"
#define DISK_PATH "/" DISK_NAME

struct bad_range {
	uint64_t first; /* first bad byte */
	uint64_t end;   /* one past the last bad byte */
};

static struct {
	int fd;
	uint64_t size;
	struct stat st;
	uint64_t sector;
	struct bad_range *bad;
	size_t nbad;
	bool verbose;
	unsigned int slow_ms;
	uint64_t reads, failed;  /* counted for MOUNTPOINT/stats */
} g = { .fd = -1, .sector = 512 };

#define STATS_NAME "stats"
#define STATS_PATH "/" STATS_NAME

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s --image FILE --bad START:COUNT[,START:COUNT...] "
		"[--sector N] [--slow-ms N] [--verbose] MOUNTPOINT "
		"[FUSE options]\n"
		"Serves FILE as MOUNTPOINT/" DISK_NAME "; reads touching a bad "
		"sector range fail with EIO.\n",
		prog);
}

/* Parses a whole string as an unsigned decimal number. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	char buf[32];
	char *end = NULL;
	unsigned long long v;

	if (len == 0 || len >= sizeof(buf))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false; /* also rejects signs and spaces */
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end != buf + len)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* Parses "S:C[,S:C...]" (sector units) into g.bad as byte ranges. */
static bool parse_bad(const char *spec)
{
	const char *p = spec;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		uint64_t start, count;
		struct bad_range *nb;

		if (!colon || !parse_u64(p, (size_t)(colon - p), &start) ||
		    !parse_u64(colon + 1, len - (size_t)(colon + 1 - p),
			       &count) || count == 0) {
			fprintf(stderr, "faultfs: bad range '%.*s' in --bad: "
				"expected START:COUNT with COUNT > 0\n",
				(int)len, p);
			return false;
		}
		if (start > UINT64_MAX / g.sector ||
		    count > UINT64_MAX / g.sector - start) {
			fprintf(stderr, "faultfs: range '%.*s' overflows\n",
				(int)len, p);
			return false;
		}
		nb = realloc(g.bad, (g.nbad + 1) * sizeof(*nb));
		if (!nb) {
			fprintf(stderr, "faultfs: out of memory\n");
			return false;
		}
		g.bad = nb;
		g.bad[g.nbad].first = start * g.sector;
		g.bad[g.nbad].end = (start + count) * g.sector;
		g.nbad++;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

static bool overlaps_bad(uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	for (size_t i = 0; i < g.nbad; i++)
		if (off < g.bad[i].end && g.bad[i].first < end)
			return true;
	return false;
}

static void *ffs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->use_ino = 1;
	return NULL;
}

static int ffs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = g.st.st_uid;
	st->st_gid = g.st.st_gid;
	st->st_atim = g.st.st_atim;
	st->st_mtim = g.st.st_mtim;
	st->st_ctim = g.st.st_ctim;
	if (strcmp(path, "/") == 0) {
		st->st_ino = 1;
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, DISK_PATH) == 0) {
		st->st_ino = 2;
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)g.size;
		st->st_blksize = (blksize_t)g.sector;
		st->st_blocks = (blkcnt_t)((g.size + 511) / 512);
		return 0;
	}
	if (strcmp(path, STATS_PATH) == 0) {
		st->st_ino = 3;
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = 4096; /* direct_io: reads see the real length */
		return 0;
	}
	return -ENOENT;
}

static int ffs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	filler(buf, DISK_NAME, NULL, 0, 0);
	filler(buf, STATS_NAME, NULL, 0, 0);
	return 0;
}

static int ffs_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, DISK_PATH) != 0 && strcmp(path, STATS_PATH) != 0)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	fi->direct_io = 1;  /* every read reaches us, at its own size */
	fi->keep_cache = 0;
	return 0;
}

static int ffs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t done = 0;

	(void)fi;
	if (strcmp(path, STATS_PATH) == 0) {
		char text[64];
		int n = snprintf(text, sizeof(text), "reads %llu\nfailed %llu\n",
			(unsigned long long)__atomic_load_n(&g.reads,
				__ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&g.failed,
				__ATOMIC_RELAXED));

		if (off < 0 || off >= n)
			return 0;
		if (size > (size_t)(n - off))
			size = (size_t)(n - off);
		memcpy(buf, text + off, size);
		return (int)size;
	}
	if (strcmp(path, DISK_PATH) != 0)
		return -ENOENT;
	if (off < 0)
		return -EINVAL;
	__atomic_add_fetch(&g.reads, 1, __ATOMIC_RELAXED);
	if ((uint64_t)off >= g.size)
		return 0;
	if (size > g.size - (uint64_t)off)
		size = (size_t)(g.size - (uint64_t)off);
	if (size > INT_MAX)
		size = INT_MAX; /* the return value is an int */
	if (overlaps_bad((uint64_t)off, size)) {
		__atomic_add_fetch(&g.failed, 1, __ATOMIC_RELAXED);
		if (g.slow_ms > 0)
			usleep(g.slow_ms * 1000u);
		if (g.verbose)
			fprintf(stderr, "faultfs: EIO offset=%lld size=%zu\n",
				(long long)off, size);
		return -EIO;
	}
	while (done < size) {
		ssize_t n = pread(g.fd, buf + done, size - done,
				  off + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break; /* image shrank under us */
		done += (size_t)n;
	}
	return (int)done;
}

static const struct fuse_operations ffs_ops = {
	.init = ffs_init,
	.getattr = ffs_getattr,
	.readdir = ffs_readdir,
	.open = ffs_open,
	.read = ffs_read,
};

/* Returns the value of option NAME at argv[*i] ("NAME V" or "NAME=V"),
 * advancing *i past it, or NULL if argv[*i] is not NAME. Sets *missing
 * when NAME is given without a value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
			     bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	*i += 1;
	return argv[*i];
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	const char *image = NULL, *bad = NULL, *sector = NULL, *slow = NULL;
	const char *prog = argc > 0 ? argv[0] : "faultfs";
	int ret;

	if (fuse_opt_add_arg(&args, prog) != 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;

		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout, prog);
			return 0;
		}
		if (strcmp(argv[i], "--verbose") == 0) {
			g.verbose = true;
			continue;
		}
		if ((v = opt_value(argc, argv, &i, "--image", &missing)))
			image = v;
		else if (!missing &&
			 (v = opt_value(argc, argv, &i, "--bad", &missing)))
			bad = v;
		else if (!missing &&
			 (v = opt_value(argc, argv, &i, "--sector", &missing)))
			sector = v;
		else if (!missing &&
			 (v = opt_value(argc, argv, &i, "--slow-ms", &missing)))
			slow = v;
		else if (!missing) {
			/* not ours: mount point or a FUSE option */
			if (fuse_opt_add_arg(&args, argv[i]) != 0)
				return 1;
			continue;
		}
		if (missing) {
			fprintf(stderr, "faultfs: %s needs a value\n", argv[i]);
			usage(stderr, prog);
			return 2;
		}
	}
	if (!image || !bad) {
		fprintf(stderr, "faultfs: --image and --bad are required\n");
		usage(stderr, prog);
		return 2;
	}
	if (sector && (!parse_u64(sector, strlen(sector), &g.sector) ||
		       g.sector < 512 || g.sector > 65536 ||
		       (g.sector & (g.sector - 1)) != 0)) {
		fprintf(stderr, "faultfs: --sector must be a power of two "
			"between 512 and 65536\n");
		return 2;
	}
	if (!parse_bad(bad))
		return 2;
	if (slow) {
		uint64_t ms;

		if (!parse_u64(slow, strlen(slow), &ms) || ms > 10000) {
			fprintf(stderr, "faultfs: --slow-ms must be 0 to 10000\n");
			return 2;
		}
		g.slow_ms = (unsigned int)ms;
	}

	/* Open before fuse_main: daemonizing changes directory to "/". */
	g.fd = open(image, O_RDONLY | O_CLOEXEC);
	if (g.fd < 0 || fstat(g.fd, &g.st) != 0) {
		fprintf(stderr, "faultfs: %s: %s\n", image, strerror(errno));
		return 1;
	}
	if (!S_ISREG(g.st.st_mode)) {
		fprintf(stderr, "faultfs: %s: not a regular file\n", image);
		return 1;
	}
	g.size = (uint64_t)g.st.st_size;

	if (fuse_opt_add_arg(&args, "-oro,fsname=faultfs,subtype=faultfs") != 0)
		return 1;
	ret = fuse_main(args.argc, args.argv, &ffs_ops, NULL);
	fuse_opt_free_args(&args);
	free(g.bad);
	close(g.fd);
	return ret;
}
