/*
 * EWF (E01) images through libewf.
 *
 * Writing: chunks are compressed in parallel by worker consumers of the
 * acquisition pipeline, and one writer consumer hands them to
 * libewf_handle_write_chunk in order (libewf's own compression and
 * prepare_write_chunk are single-threaded and not thread-safe).
 *
 * Reading: one thread reads stored chunks with libewf_handle_read_chunk,
 * workers check and inflate them in parallel, straight into the hashing
 * pipeline's buffers.
 */
#ifndef CUSTOS_EWF_PRIVATE_H
#define CUSTOS_EWF_PRIVATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <libewf.h>

#include "custos/acquire.h"
#include "custos/ranges.h"
#include "custos/raw.h"
#include "pipeline_private.h"

/* Turn a libewf error (freed here) into a custos_error: "what: detail". */
custos_status custos__ewf_error(custos_error *err, libewf_error_t **e,
		custos_status status, const char *what);

/* EnCase's usual chunk: 64 sectors. */
#define CUSTOS__EWF_SECTORS_PER_CHUNK 64

/* Segment files libewf can name: .E01 to .E99, then .EAA to .ZZZ. */
#define CUSTOS__EWF_MAX_SEGMENTS (99 + 22 * 26 * 26)

/*
 * The name of segment n (1-based) of the E01 at base, as libewf names it:
 * <base>.E01 ... <base>.E99, <base>.EAA ... <base>.EZZ, <base>.FAA ...
 * NULL past CUSTOS__EWF_MAX_SEGMENTS or out of memory.  Caller frees.
 */
char *custos__ewf_segment_path(const char *base, unsigned int n);

typedef struct custos__ewf_writer custos__ewf_writer;

typedef struct custos__ewf_writer_config {
	const char *output_base;    /* final files: <base>.E01, .E02 ... */
	const char *work_dir;       /* segments are written here, made private
				     * and exclusive by the caller */
	custos_compression compression;
	uint64_t segment_size;      /* 0: libewf's default */
	uint32_t bytes_per_sector;
	uint64_t media_size;        /* 0 when unknown (stdin) */
	int physical_device;
	const custos_case_info *case_info;
	const char *model, *serial;
	unsigned int workers;
	/*
	 * Called by the writer thread when segments 1..segments are complete
	 * (closed by libewf and fsynced) and hold the media [0, bytes).  The
	 * boundary lies at byte `at` of the buffer seq being written, data.
	 * A failure stops the run.
	 */
	custos_status (*segment_done)(void *ctx, unsigned int segments,
		uint64_t bytes, const uint8_t *data, size_t at, uint64_t seq,
		custos_error *err);
	void *segment_ctx;
} custos__ewf_writer_config;

custos_status custos__ewf_writer_open(custos__ewf_writer **out,
		const custos__ewf_writer_config *cfg, custos_error *err);
/*
 * A resume: keep segments 1..segments of the work folder (complete, and
 * holding the media [0, bytes)), remove the later ones (the earlier
 * session's partial segment) and let libewf go on after them
 * (LIBEWF_OPEN_WRITE_RESUME).  Refused (CUSTOS_EFORMAT, nothing removed)
 * when libewf would resume elsewhere or the kept segments do not hold
 * the media values and case details of cfg.  segments 0: start again.
 */
custos_status custos__ewf_writer_reopen(custos__ewf_writer **out,
		const custos__ewf_writer_config *cfg, unsigned int segments,
		uint64_t bytes, custos_error *err);
/* The media [offset, offset + len) as the kept segments hold it (the
 * rehash of a resume); from the reading thread, before any write. */
custos_status custos__ewf_writer_read_back(custos__ewf_writer *w,
		uint8_t *buf, size_t len, uint64_t offset, custos_error *err);
/*
 * A resume: the media before byte `bytes` is in the image already; the
 * first `seqs` buffers lie wholly before it (they are not compressed).
 */
void custos__ewf_writer_skip(custos__ewf_writer *w, uint64_t bytes,
		uint64_t seqs);
/* Register the compression workers and the writer on the pipeline. */
custos_status custos__ewf_writer_attach(custos__ewf_writer *w,
		custos__pipeline *p, custos_error *err);
/* Media bytes libewf has accepted so far (how far a failed run got). */
uint64_t custos__ewf_writer_bytes(const custos__ewf_writer *w);
/* Zero bytes the writer added to end on a whole sector. */
uint64_t custos__ewf_writer_padding(const custos__ewf_writer *w);
/*
 * After the last chunk: store MD5 and SHA-1 (hex, of the media as stored,
 * padding included) and the unreadable ranges, then finalize and close.
 */
custos_status custos__ewf_writer_finish(custos__ewf_writer *w,
		const char *md5_hex, const char *sha1_hex,
		const custos_ranges *unreadable, custos_error *err);
/*
 * After finish: fsync every segment in the work folder and compute its
 * size and SHA-256.  The caller commits them (renames them beside <base>).
 */
custos_status custos__ewf_writer_seal(custos__ewf_writer *w,
		custos_error *err);
/*
 * The segment files, in order: after seal, with size and SHA-256;
 * otherwise whatever partial segments exist.  path is where the file lies
 * in the work folder, name its final name (beside <base>).  Borrowed.
 */
size_t custos__ewf_writer_file_count(custos__ewf_writer *w);
const custos_output_file *custos__ewf_writer_file(custos__ewf_writer *w,
		size_t i);
void custos__ewf_writer_free(custos__ewf_writer *w);

#endif

/* --- reading --- */

typedef struct custos__ewf_reader custos__ewf_reader;

/* Open an E01 from its first segment; the others are found with it. */
custos_status custos__ewf_reader_open(custos__ewf_reader **out,
		const char *first_segment, custos_error *err);
uint64_t custos__ewf_reader_media_size(const custos__ewf_reader *r);
uint32_t custos__ewf_reader_chunk_size(const custos__ewf_reader *r);
size_t custos__ewf_reader_file_count(const custos__ewf_reader *r);
const char *custos__ewf_reader_file(const custos__ewf_reader *r, size_t i);
/* Stored MD5 / SHA-1 as hex, or NULL when the image holds none. */
const char *custos__ewf_reader_stored_md5(const custos__ewf_reader *r);
const char *custos__ewf_reader_stored_sha1(const custos__ewf_reader *r);
/* A header value, or NULL; borrowed until the next call. */
const char *custos__ewf_reader_header(custos__ewf_reader *r, const char *id);

typedef struct custos__ewf_feed_result {
	uint64_t chunks_checked;
	int corrupt;
	uint64_t corrupt_chunk, corrupt_offset;
} custos__ewf_feed_result;

/*
 * Read every chunk in order and publish the media into the pipeline, its
 * buffer size a multiple of the chunk size.  Workers check each chunk (the
 * zlib stream's Adler-32, or the stored Adler-32 of a raw chunk) and
 * inflate it straight into the pipeline's buffer.  Stops at the first
 * corrupt chunk with CUSTOS_EMISMATCH.
 */
custos_status custos__ewf_reader_feed(custos__ewf_reader *r,
		custos__pipeline *p, unsigned int workers,
		const volatile sig_atomic_t *cancel,
		void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		custos__ewf_feed_result *result, custos_error *err);
/* Random access (one caller at a time): len media bytes at offset. */
custos_status custos__ewf_reader_read_at(custos__ewf_reader *r, void *buf,
		size_t len, uint64_t offset, custos_error *err);
void custos__ewf_reader_free(custos__ewf_reader *r);
