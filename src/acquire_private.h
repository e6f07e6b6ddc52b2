/*
 * The acquisition record: what acquire.c asked for, what happened, and
 * where every file it made lies.  acquire.c fills it and describes it to
 * the report module as a plain custos__report (report_private.h).
 */
#ifndef CUSTOS_ACQUIRE_PRIVATE_H
#define CUSTOS_ACQUIRE_PRIVATE_H

#include <time.h>

#include "custos/acquire.h"
#include "custos/raw.h"
#include "util_private.h"

/* A file this run wrote: in the work folder until it is committed. */
typedef struct custos__file_record {
	char *name;               /* as the report gives it, relative to its folder */
	char *work_path;          /* <base>.part/<final name> */
	char *final_path;         /* beside <base> */
	int at_final;             /* committed (lies at final_path) */
	uint64_t size_bytes;
	char sha256[CUSTOS_DIGEST_HEX_MAX];
} custos__file_record;

struct custos_acquisition {
	/* what was asked */
	char *base;
	char *tool_name;
	custos_case_info case_info;  /* owned copies */
	custos_image_format format;
	custos_compression compression;
	custos_digest_set digests;
	uint64_t split_size;
	unsigned int retries;
	uint32_t granularity;
	int verify_requested;

	/* what the source is (owned copies of the strings) */
	custos_source_info source;

	/* what happened */
	custos_acquire_result result;
	char *abort_reason;
	uint64_t bytes;               /* bytes read, hashed and written */
	custos_ranges *unreadable;
	char digest[CUSTOS_DIGEST_COUNT][CUSTOS_DIGEST_HEX_MAX];
	/* E01: zero bytes added to end on a sector, and the hashes of the
	 * media as stored (equal to digest when there is no padding) */
	uint64_t padding_bytes;
	char stored_digest[CUSTOS_DIGEST_COUNT][CUSTOS_DIGEST_HEX_MAX];
	custos__file_record *files;
	size_t file_count;
	custos_verify_result verify;
	char *verify_detail;
	char verify_digest[CUSTOS_DIGEST_COUNT][CUSTOS_DIGEST_HEX_MAX];
	time_t started_at, finished_at;
	double duration_seconds;
	char host[256];
	char timezone[64];

	/* signature of the JSON report */
	int sign_requested, tsa_requested, signed_ok;
	char *signer_subject, *signer_fingerprint, *signature_path;
	char *sign_error;

	/* outputs: the work folder (this run's claim on <base>) and the
	 * report files; report_written once they are committed */
	char *work_dir;
	char *report_json_path, *report_txt_path, *sha256_path;
	char *report_json;
	int report_written;
	/* the block map: <base>.blockmap, NULL when none was asked for */
	uint32_t block_size;
	char *blockmap_path, *blockmap_work;
	int blockmap_at_final, blockmap_done;
	char blockmap_root[65], blockmap_sha256[65];
	uint64_t blockmap_leaves, blockmap_marked, blockmap_size;

	/* long runs: <base>.map, and the state the report describes
	 * (borrowed from the run, NULL after it) */
	char *map_path;
	int map_at_final;
	const struct custos__resume *resume;
};

#endif
