/*
 * Acquisition: source -> reader -> {digests, writer}, with bad-sector
 * isolation, an optional read-back verification, and the report files.
 *
 * One reader fills buffers from a bounded pool; each digest runs on its own
 * thread and the writer on another, all reading the same buffers.  Memory is
 * buffer_size * buffer_count whatever the size of the medium.
 */
#ifndef CUSTOS_ACQUIRE_H
#define CUSTOS_ACQUIRE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "digest.h"
#include "error.h"
#include "ranges.h"
#include "sign.h"
#include "source.h"

typedef enum custos_image_format {
	CUSTOS_FORMAT_RAW = 0,
	CUSTOS_FORMAT_E01 = 1,   /* EnCase 6 through libewf */
} custos_image_format;

/* E01 chunk compression. */
typedef enum custos_compression {
	CUSTOS_COMPRESSION_NONE = 0,
	CUSTOS_COMPRESSION_FAST = 1,
	CUSTOS_COMPRESSION_BEST = 2,
} custos_compression;

typedef enum custos_acquire_result {
	CUSTOS_RESULT_COMPLETE = 0,
	CUSTOS_RESULT_COMPLETE_WITH_ERRORS = 1,
	CUSTOS_RESULT_ABORTED = 2,
} custos_acquire_result;

typedef enum custos_verify_result {
	CUSTOS_VERIFY_NOT_RUN = 0,
	CUSTOS_VERIFY_MATCH = 1,
	CUSTOS_VERIFY_MISMATCH = 2,
	CUSTOS_VERIFY_FAILED = 3,   /* the image could not be read back */
	CUSTOS_VERIFY_INTERRUPTED = 4, /* stopped (cancel) before the end */
} custos_verify_result;

/* Case metadata; copied by custos_acquire_run.  NULL fields are omitted. */
typedef struct custos_case_info {
	const char *case_number;
	const char *evidence_number;
	const char *examiner;
	const char *description;
	const char *notes;
} custos_case_info;

typedef enum custos_progress_phase {
	CUSTOS_PHASE_ACQUIRE = 0,
	CUSTOS_PHASE_VERIFY = 1,
} custos_progress_phase;

typedef struct custos_progress {
	custos_progress_phase phase;
	uint64_t bytes_done;
	uint64_t bytes_total;      /* 0 when unknown */
	uint64_t unreadable_sectors;
	double elapsed_seconds;
	int final;                 /* last call for this phase */
} custos_progress;

typedef void (*custos_progress_fn)(const custos_progress *progress, void *ctx);

typedef struct custos_acquire_options {
	int version;                 /* CUSTOS_ACQUIRE_OPTIONS_VERSION */
	const char *output_base;     /* required: files are <base>.raw etc. */
	custos_image_format format;  /* default E01 */
	custos_compression compression; /* E01 only; default fast */
	unsigned int workers;        /* E01 compression threads; 0: one per core */
	custos_digest_set digests;   /* default md5, sha1, sha256 (E01 adds md5, sha1) */
	uint64_t split_size;         /* bytes per segment; 0: one file (raw), libewf's default (E01) */
	unsigned int retries;        /* re-reads of a failed block (default 2) */
	uint32_t granularity;        /* bytes per isolation step; 0 = sector */
	int require_readonly;        /* refuse a block device not read-only */
	int verify;                  /* read the image back and compare */
	size_t buffer_size;          /* 0: 1 MiB */
	size_t buffer_count;         /* 0: 16 */
	custos_case_info case_info;
	const char *tool_name;       /* for the report, e.g. "custos-acquire" */
	custos_progress_fn progress; /* may be NULL; called from the caller's thread */
	void *progress_ctx;
	const volatile sig_atomic_t *cancel; /* stop when it becomes non-zero */
	/*
	 * Sign <base>.report.json into <base>.report.json.p7s (CAdES-B-B, or
	 * B-T with a TSA URL); NULL: unsigned.  The key and certificate are
	 * tried before imaging starts, so a wrong key or passphrase costs
	 * nothing; the passphrase callback may then be asked twice.
	 */
	const custos_sign_options *sign;
	/*
	 * Block map (<base>.blockmap, custos-blockmap(5)): SHA-256 of every
	 * block of this many bytes, a power of two from 512 bytes to 16 MiB;
	 * 0: CUSTOS_BLOCKMAP_DEFAULT_BLOCK_SIZE (64 KiB); UINT32_MAX: none.
	 */
	uint32_t block_size;
	/*
	 * Long acquisitions.  resume: go on with the interrupted run that left
	 * <base>.part (same source and options, else CUSTOS_EINVAL with the
	 * reason).  passes: the last ddrescue-style pass over bad areas
	 * (1 copy, 2 copy what was skipped, 3 trim, 4 scrape, 5 on: retries;
	 * 0: 4 + retries).  max_bad_area_time: seconds for passes 2 on (0: no
	 * limit).  sync_interval: bytes between sync points, where the image
	 * is made durable and the state and <base>.map are saved (0: 64 MiB;
	 * raw only: an E01's sync points are where its segments end, and it
	 * resumes after the last complete one).
	 */
	int resume;
	unsigned int passes;
	double max_bad_area_time;
	uint64_t sync_interval;
} custos_acquire_options;
#define CUSTOS_ACQUIRE_OPTIONS_VERSION 1

typedef struct custos_acquisition custos_acquisition;

CUSTOS_EXTERN void custos_acquire_options_init(custos_acquire_options *opts);

/*
 * Run an acquisition and write the image and the report files
 * (<base>.report.json, <base>.report.txt and, unless aborted, <base>.sha256).
 *
 * Before the source is read, the run claims <base> by creating the private
 * folder <base>.part (mode 0700) and checks that no output name is taken;
 * a second run with the same base fails at once with CUSTOS_EEXIST and
 * touches nothing.  Everything is written inside <base>.part, created
 * exclusively, and committed at the end with renames that never replace:
 * the images, <base>.sha256, the JSON report, its signature, the text
 * report.  If any step of that fails, the steps already done are undone
 * and the run is reported as aborted; an aborted run's partial image stays
 * in <base>.part, named so by its report.
 *
 * Returns CUSTOS_OK when the run completed (possibly with unreadable
 * sectors: check custos_acquisition_result), CUSTOS_EMISMATCH when --verify
 * found a difference, CUSTOS_ECANCELED when the run or its verification
 * was interrupted, or the first error that stopped it.  When the run
 * started, *out is set even on failure, describing an aborted run; when it
 * could not start (bad options, outputs already exist, writable source with
 * require_readonly), *out is NULL and nothing was written.
 */
CUSTOS_EXTERN custos_status custos_acquire_run(custos_acquisition **out,
		custos_source *src, const custos_acquire_options *opts,
		custos_error *err);

CUSTOS_EXTERN custos_acquire_result custos_acquisition_result(
		const custos_acquisition *a);
CUSTOS_EXTERN const char *custos_acquire_result_name(custos_acquire_result r);
CUSTOS_EXTERN custos_verify_result custos_acquisition_verify_result(
		const custos_acquisition *a);
CUSTOS_EXTERN uint64_t custos_acquisition_bytes(const custos_acquisition *a);
/* Borrowed. */
CUSTOS_EXTERN const custos_ranges *custos_acquisition_unreadable(
		const custos_acquisition *a);
/* Lowercase hex, or NULL if that digest was not computed. */
CUSTOS_EXTERN const char *custos_acquisition_digest(
		const custos_acquisition *a, custos_digest_alg alg);
/* The report as JSON text; borrowed, NUL-terminated. */
CUSTOS_EXTERN const char *custos_acquisition_report_json(
		const custos_acquisition *a);
/* Path of the JSON report, or NULL if no report could be written (the
 * report's text is still custos_acquisition_report_json); borrowed. */
CUSTOS_EXTERN const char *custos_acquisition_report_path(
		const custos_acquisition *a);
CUSTOS_EXTERN void custos_acquisition_free(custos_acquisition *a);

#endif
