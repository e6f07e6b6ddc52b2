/*
 * What the acquisition report says, as a plain description: the workflow
 * (acquire.c) fills one in, the report module turns it into JSON and text.
 * The report knows nothing of how an acquisition runs; it only lays out
 * these facts (see custos-report(5) for the fields).
 */
#ifndef CUSTOS_REPORT_PRIVATE_H
#define CUSTOS_REPORT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "custos/digest.h"
#include "custos/error.h"
#include "custos/ranges.h"
#include "custos/source.h"

typedef struct custos__report_file {
	const char *name;          /* relative to the report's folder */
	uint64_t size_bytes;
	const char *sha256;        /* NULL: not known (aborted run) */
} custos__report_file;

typedef struct custos__report {
	const char *tool_name;
	const char *case_number, *evidence_number, *examiner, *description,
		*notes;                 /* NULL: not given */
	const custos_source_info *source;

	const char *format;         /* "raw" or "e01" */
	const char *compression;    /* "none", "fast" or "best" */
	uint64_t split_size;        /* 0: not split */
	const custos__report_file *files;
	size_t file_count;
	/* E01 only: chunk size, padding, and the MD5/SHA-1 stored inside */
	uint32_t chunk_size;
	uint64_t padding_bytes;
	const char *stored_md5, *stored_sha1;

	/* hex per custos_digest_alg; NULL or "" when not computed */
	const char *hashes[CUSTOS_DIGEST_COUNT];
	const custos_ranges *unreadable;
	unsigned int retries;
	uint32_t granularity;
	uint64_t bytes_acquired;
	double duration_seconds;

	int verify_requested;
	const char *verify_result;  /* "not-run", "match", ... */
	const char *verify_hashes[CUSTOS_DIGEST_COUNT];
	const char *verify_detail;

	time_t started_at, finished_at;
	const char *host, *timezone;
	const char *result;         /* "complete", "complete-with-errors", "aborted" */
	const char *aborted_reason;

	/* the signature of the JSON report, when one was asked for */
	int sign_requested, tsa_requested, signed_ok;
	const char *report_json_name, *signature_name;
	const char *signer_subject, *signer_fingerprint, *sign_error;

	/* the block map (custos-blockmap(5)); blockmap_name NULL: none */
	const char *blockmap_name, *blockmap_root, *blockmap_sha256;
	uint32_t block_size;
	uint64_t blockmap_leaves, blockmap_marked, blockmap_size;
	/* long runs: sessions, passes, mapfile, read-only checks, as a JSON
	 * object put under "recovery", and its lines for the text report;
	 * NULL: none (a stream) */
	const char *recovery_json;
	const char *recovery_text;
} custos__report;

/* Caller frees *out with free(); the text ends with a newline. */
custos_status custos__report_json(char **out, const custos__report *r,
		custos_error *err);
custos_status custos__report_text(char **out, const custos__report *r,
		custos_error *err);

#endif
