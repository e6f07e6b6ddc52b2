/*
 * Evidence sources: block devices, regular files, stdin, or a caller's own
 * reader (used by tests to inject faults, and by image readers).
 *
 * A source is always opened read-only (O_RDONLY); custos never writes to
 * evidence.  Opening records what the system tells about the medium: size,
 * sector sizes, the kernel's read-only flag and the device identity.
 */
#ifndef CUSTOS_SOURCE_H
#define CUSTOS_SOURCE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "error.h"

typedef enum custos_source_kind {
	CUSTOS_SOURCE_FILE = 0,
	CUSTOS_SOURCE_BLOCK = 1,
	CUSTOS_SOURCE_STDIN = 2,
	CUSTOS_SOURCE_CUSTOM = 3,
} custos_source_kind;

/* Tri-state for facts the system may not tell. */
#define CUSTOS_UNKNOWN (-1)

/*
 * What is known about a source.  Strings are owned by the source and are
 * NULL when the system does not expose the value.
 */
typedef struct custos_source_info {
	custos_source_kind kind;
	const char *path;           /* as given; "-" for stdin */
	int size_known;             /* 0 for pipes and stdin */
	uint64_t size_bytes;
	uint32_t logical_sector_size;
	uint32_t physical_sector_size;
	int read_only;              /* 1, 0 or CUSTOS_UNKNOWN (BLKROGET) */
	const char *vendor;
	const char *model;
	const char *serial;
	const char *firmware;
	const char *backing_file;   /* loop devices */
	const char *identity_from;  /* where vendor/model/serial came from */
} custos_source_info;

typedef struct custos_source custos_source;

/*
 * A caller-supplied reader.  read_at returns the number of bytes read (0 at
 * the end), or a negative errno value.  close may be NULL.
 */
typedef struct custos_source_ops {
	int version; /* CUSTOS_SOURCE_OPS_VERSION */
	ssize_t (*read_at)(void *ctx, void *buf, size_t len, uint64_t offset);
	void (*close)(void *ctx);
} custos_source_ops;
#define CUSTOS_SOURCE_OPS_VERSION 1

/* Open a path read-only; "-" is stdin. */
CUSTOS_EXTERN custos_status custos_source_open(custos_source **out,
		const char *path, custos_error *err);

/* Wrap a caller's reader of known size. */
CUSTOS_EXTERN custos_status custos_source_open_ops(custos_source **out,
		const custos_source_ops *ops, void *ctx, const char *name,
		uint64_t size_bytes, uint32_t sector_size, custos_error *err);

/* Borrowed; valid until custos_source_free. */
CUSTOS_EXTERN const custos_source_info *custos_source_get_info(
		const custos_source *src);

/*
 * Read up to len bytes at offset.  *got is set to the bytes read; it is
 * shorter than len only at the end of the medium.  On failure *got still
 * tells how many bytes at the start of buf are good.  Sequential sources
 * (stdin) must be read in order.  If cancel is not NULL and becomes
 * non-zero, an interrupted read returns CUSTOS_ECANCELED.
 */
CUSTOS_EXTERN custos_status custos_source_read(custos_source *src, void *buf,
		size_t len, uint64_t offset, size_t *got,
		const volatile sig_atomic_t *cancel, custos_error *err);

/*
 * Read one small unit (a sector or a few) for bad-sector isolation, going
 * around the page cache (O_DIRECT) on block devices so that one bad sector
 * does not fail its neighbours.  On block devices len must be a multiple
 * of the logical sector size.  Returns CUSTOS_EIO when the unit cannot be read.
 */
CUSTOS_EXTERN custos_status custos_source_read_unit(custos_source *src,
		void *buf, size_t len, uint64_t offset, custos_error *err);

/* Whether read_unit and repeated reads at any offset are possible. */
CUSTOS_EXTERN int custos_source_is_seekable(const custos_source *src);

CUSTOS_EXTERN const char *custos_source_kind_name(custos_source_kind kind);

CUSTOS_EXTERN void custos_source_free(custos_source *src);

#endif
