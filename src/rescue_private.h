/*
 * Passes over bad areas, as GNU ddrescue makes them, so that a dying
 * drive gives up its good data first:
 *
 *   pass 1  copy forward; after a failed read, skip ahead (the skip
 *           doubles while reads keep failing) and leave the skipped area
 *           for later;
 *   pass 2  copy what pass 1 skipped, without skipping;
 *   pass 3  trim: read sector by sector in from both edges of each
 *           failed area, up to the first bad sector;
 *   pass 4  scrape the rest of each failed area, one step at a time,
 *           narrowed to single sectors;
 *   pass 5+ retry every bad sector once per pass.
 *
 * Every read outcome lands in the rescue map (mapfile_private.h); good
 * data is written to a file at its offset on the source.  Nothing that
 * can be read is lost: only sectors that failed every read stay bad.
 */
#ifndef CUSTOS_RESCUE_PRIVATE_H
#define CUSTOS_RESCUE_PRIVATE_H

#include <signal.h>
#include <stdint.h>

#include "custos/error.h"
#include "custos/source.h"
#include "mapfile_private.h"

#define CUSTOS__RESCUE_PASS_COPY 1
#define CUSTOS__RESCUE_PASS_COPY_ALL 2
#define CUSTOS__RESCUE_PASS_TRIM 3
#define CUSTOS__RESCUE_PASS_SCRAPE 4
#define CUSTOS__RESCUE_PASS_RETRY 5
#define CUSTOS__RESCUE_MAX_PASSES 16

typedef struct custos__rescue_config {
	custos_source *src;
	custos__map *map;
	int out_fd;                 /* good data goes here, at its offset */
	uint32_t sector;            /* the source's logical sector */
	uint32_t step;              /* bytes per scraping read (granularity) */
	uint32_t cluster;           /* bytes per copying read */
	unsigned int last_pass;     /* stop after this pass */
	double max_bad_area_time;   /* seconds for passes 2 on; 0: no limit */
	const volatile sig_atomic_t *cancel;
	/* After every failed read (the write-blocker check); may stop it. */
	custos_status (*after_error)(void *ctx, custos_error *err);
	/* Now and then, and after each pass: make the data written so far
	 * durable and save the map. */
	custos_status (*checkpoint)(void *ctx, const custos__map_cursor *cur,
		custos_error *err);
	void *ctx;
	double checkpoint_seconds;
} custos__rescue_config;

typedef struct custos__rescue_pass_stats {
	uint64_t reads, failed_reads, bytes_recovered;
	double seconds;
} custos__rescue_pass_stats;

typedef struct custos__rescue_stats {
	custos__rescue_pass_stats pass[CUSTOS__RESCUE_MAX_PASSES + 1];
	unsigned int last_pass_run;
	int time_limit_reached;
} custos__rescue_stats;

/*
 * Run the passes from where cur says the rescue stands (pass 1 at
 * cur->pos for a fresh rescue) up to cfg->last_pass.  Returns CUSTOS_OK
 * when the passes are done (the map may still hold bad or untried areas),
 * CUSTOS_ECANCELED when interrupted, or the error that stopped it; cur
 * and stats always say how far it got.
 */
custos_status custos__rescue_run(const custos__rescue_config *cfg,
		custos__map_cursor *cur, custos__rescue_stats *stats,
		custos_error *err);

#endif
