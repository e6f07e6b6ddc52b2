/*
 * What lets an acquisition resume: the state file in <base>.part (what
 * was asked, which source, how far the image is durable, the sessions),
 * the checks a resume must pass, and the "recovery" part of the report.
 *
 * A run keeps <base>.part/custos-state.json up to date at every sync
 * point.  A resume re-enters <base>.part only if that file says this tool
 * made it for the same source and the same options, and only while no
 * other run holds the folder's lock.
 */
#ifndef CUSTOS_RESUME_PRIVATE_H
#define CUSTOS_RESUME_PRIVATE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "custos/acquire.h"
#include "mapfile_private.h"
#include "rescue_private.h"

#define CUSTOS__STATE_NAME "custos-state.json"
#define CUSTOS__RESCUE_DATA_NAME "rescued.data"
#define CUSTOS__CHECKPOINT_RING 64
#define CUSTOS__MAX_SESSIONS 256

typedef struct custos__session {
	time_t start, stop;
	uint64_t bytes_from, bytes_to;
	char reason[512];
	char host[256];
} custos__session;

typedef struct custos__resume {
	char *state_path, *map_path, *map_name, *tool;
	int lock_fd;
	/* what must be the same on a resume */
	char *options_key;          /* the options that shape the output */
	char *source_key;           /* size, identity, first and last MiB */
	/* the image: bytes durable in it, with the hash of that prefix */
	uint64_t durable;
	int check_alg;              /* digest used for the prefix check */
	char durable_hex[CUSTOS_DIGEST_HEX_MAX];
	/* E01: the complete segments that hold the durable prefix (an E01's
	 * durable point is where a segment ended; 0 for raw) */
	unsigned int segments;
	/* stream phase: where reading the source in order stopped for a
	 * rescue (UINT64_MAX: never) */
	uint64_t rescue_from;
	custos__map *map;
	custos__map_cursor cursor;
	custos__rescue_stats stats;
	/* sessions, the last one this run's */
	custos__session sessions[CUSTOS__MAX_SESSIONS];
	size_t session_count;
	int resumed;
	double rehash_seconds;
	uint64_t rehash_bytes;
	/* kernel read-only flag: at the start, after the first read error
	 * (-2: no read error), at the end; CUSTOS_UNKNOWN when not asked */
	int ro_start, ro_after_error, ro_end;
	char *ro_change;            /* what changed, when it did */
	/* checkpoints: the digest and the writer meet here */
	pthread_mutex_t mutex;
	struct {
		uint64_t bytes;
		char hex[CUSTOS_DIGEST_HEX_MAX];
		int hashed, durable;
	} ring[CUSTOS__CHECKPOINT_RING];
	uint64_t interval;          /* bytes between checkpoints */
	uint64_t session_base;      /* media offset where this session began */
	int map_busy;               /* the passes are changing the map */
	custos_status save_status;  /* first failure to save, if any */
	custos_error save_err;
} custos__resume;

typedef struct custos__resume_config {
	const char *work_dir, *base, *tool;
	const custos_acquire_options *opts;
	custos_source *src;
	const custos_source_info *info;
	custos_digest_set digests;
	uint64_t interval;
	int resume;                 /* re-enter an existing <base>.part */
} custos__resume_config;

/*
 * Lock the work folder and start the state: fresh (the folder was just
 * made), or loaded from an earlier session and checked against this run
 * (CUSTOS_EINVAL with the reason when it is not the same acquisition).
 * The caller then truncates the image to rs->durable and rehashes it.
 */
custos_status custos__resume_open(custos__resume **out,
		const custos__resume_config *cfg, custos_error *err);
void custos__resume_free(custos__resume *rs);

/* Write the state and map (fsynced); the image data must be durable. */
custos_status custos__resume_save(custos__resume *rs, custos_error *err);

/*
 * The two halves of a checkpoint at media offset bytes: the check digest
 * of the prefix (digest thread), and "the image holds it durably" (writer
 * thread, after fsync).  Whichever comes second saves the state.
 */
void custos__resume_hashed(custos__resume *rs, uint64_t bytes,
		const char *hex);
void custos__resume_durable(custos__resume *rs, uint64_t bytes);

/*
 * E01: segments 1..segments are complete and durable and hold the media
 * [0, bytes), whose check digest is hex (writer thread); saves the state.
 */
void custos__resume_segment(custos__resume *rs, unsigned int segments,
		uint64_t bytes, const char *hex);
/* A resume that starts again from byte 0 (nothing usable was kept). */
void custos__resume_rewind(custos__resume *rs);
/* This session ends: why, and how far it got; saves the state. */
custos_status custos__resume_stop(custos__resume *rs, const char *reason,
		uint64_t bytes, custos_error *err);

/* The report's "recovery" object as JSON text, and its lines for the
 * text report; caller frees. */
char *custos__resume_report_json(const custos__resume *rs);
char *custos__resume_report_text(const custos__resume *rs);

#endif
