/*
 * Raw images: a single file (<base>.raw) or split into numbered segments
 * (<base>.001, <base>.002, ...).
 *
 * The writer never leaves a partial file under a final name: each file is
 * written as "<name>.part", and only custos_raw_writer_commit fsyncs and
 * renames them.  The reader presents a set of raw files as one source.
 */
#ifndef CUSTOS_RAW_H
#define CUSTOS_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "digest.h"
#include "error.h"
#include "source.h"

/* One file written to disk. */
typedef struct custos_output_file {
	const char *path;       /* final path, as derived from the base */
	const char *name;       /* final name relative to the base's folder */
	uint64_t size_bytes;
	char sha256[CUSTOS_DIGEST_HEX_MAX]; /* "" until known */
} custos_output_file;

typedef struct custos_raw_writer custos_raw_writer;

/*
 * split_size 0 writes one file.  When hash_files is set, the writer computes
 * the SHA-256 of every file it writes.  Fails with CUSTOS_EEXIST if the first
 * final file name is already taken.
 */
CUSTOS_EXTERN custos_status custos_raw_writer_open(custos_raw_writer **out,
		const char *base, uint64_t split_size, int hash_files,
		custos_error *err);
CUSTOS_EXTERN custos_status custos_raw_writer_write(custos_raw_writer *w,
		const void *buf, size_t len, custos_error *err);
/* fsync every file, rename it to its final name, fsync the folder. */
CUSTOS_EXTERN custos_status custos_raw_writer_commit(custos_raw_writer *w,
		custos_error *err);
CUSTOS_EXTERN size_t custos_raw_writer_file_count(const custos_raw_writer *w);
/* Borrowed; the path is the ".part" name until commit succeeds. */
CUSTOS_EXTERN const custos_output_file *custos_raw_writer_file(
		const custos_raw_writer *w, size_t index);
CUSTOS_EXTERN uint64_t custos_raw_writer_bytes(const custos_raw_writer *w);
/* Closes; committed files stay, uncommitted ".part" files stay as they are. */
CUSTOS_EXTERN void custos_raw_writer_free(custos_raw_writer *w);

/* Present files (one raw image, or its segments in order) as one source. */
CUSTOS_EXTERN custos_status custos_raw_open_source(custos_source **out,
		const char *const *paths, size_t count, custos_error *err);

#endif
