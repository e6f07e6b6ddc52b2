/*
 * The ddrescue-style passes over bad areas (rescue_private.h): which
 * reads to make in which order, and what each outcome does to the map.
 * The reading itself is custos_source_read_unit (O_DIRECT on a block
 * device, so one bad sector does not fail a whole page of neighbours).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_private.h"
#include "rescue_private.h"
#include "util_private.h"

/* As ddrescue: skip 64 KiB after the first error, doubling up to a
 * hundredth of the medium, but at least 1 MiB and at most 1 GiB (so that
 * a small medium is crossed in few reads too). */
#define SKIP_MIN (64u * 1024)
#define SKIP_FLOOR (1024u * 1024)
#define SKIP_MAX (1024ull * 1024 * 1024)

typedef struct rescue {
	const custos__rescue_config *cfg;
	custos__map_cursor *cur;
	custos__rescue_stats *stats;
	uint8_t *buf;
	double bad_started, last_checkpoint;
	custos_status stop;     /* why try_read said -1 */
	custos_error *err;
} rescue;

static int canceled(const rescue *r)
{
	return r->cfg->cancel != NULL && *r->cfg->cancel;
}

static custos_status checkpoint(rescue *r, int force)
{
	double now = custos__monotonic_seconds();

	if (!force && now - r->last_checkpoint < r->cfg->checkpoint_seconds)
		return CUSTOS_OK;
	r->last_checkpoint = now;
	return r->cfg->checkpoint(r->cfg->ctx, r->cur, r->err);
}

/* After pass 1 the time in bad areas counts against the budget. */
static int out_of_time(rescue *r)
{
	if (r->cfg->max_bad_area_time <= 0 || r->cur->pass < 2)
		return 0;
	if (custos__monotonic_seconds() - r->bad_started <
	    r->cfg->max_bad_area_time)
		return 0;
	r->stats->time_limit_reached = 1;
	return 1;
}

static custos_status write_out(rescue *r, uint64_t pos, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = pwrite(r->cfg->out_fd, r->buf + done, n - done,
			(off_t)(pos + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return custos__error_errno(r->err, errno,
				"cannot write the rescued data at byte %llu",
				(unsigned long long)(pos + done));
		done += (size_t)w;
	}
	return CUSTOS_OK;
}

/*
 * Read [pos, pos + n) once.  1: read (and written out, and marked
 * finished), 0: failed (the map is the caller's), -1: stop (err is set).
 */
static int try_read(rescue *r, uint64_t pos, size_t n)
{
	custos__rescue_pass_stats *ps = &r->stats->pass[r->cur->pass];
	custos_status st;

	if (canceled(r)) {
		r->stop = custos__error_set(r->err, CUSTOS_ECANCELED,
			"interrupted at byte %llu in pass %u",
			(unsigned long long)pos, r->cur->pass);
		return -1;
	}
	ps->reads++;
	st = custos_source_read_unit(r->cfg->src, r->buf, n, pos, NULL);
	if (st == CUSTOS_OK) {
		if ((r->stop = write_out(r, pos, n)) != CUSTOS_OK ||
		    (r->stop = custos__map_set(r->cfg->map, pos, n,
			    CUSTOS__MAP_FINISHED, r->err)) != CUSTOS_OK)
			return -1;
		ps->bytes_recovered += n;
		return 1;
	}
	if (st == CUSTOS_ENOMEM || st == CUSTOS_EINVAL ||
	    st == CUSTOS_EUNSUPPORTED) {
		r->stop = custos__error_set(r->err, st,
			"cannot re-read %s at byte %llu",
			custos_source_get_info(r->cfg->src)->path,
			(unsigned long long)pos);
		return -1;
	}
	ps->failed_reads++;
	if (r->cfg->after_error != NULL &&
	    (r->stop = r->cfg->after_error(r->cfg->ctx, r->err)) != CUSTOS_OK)
		return -1;
	return 0;
}

static custos_status mark(rescue *r, uint64_t pos, uint64_t n, char status)
{
	return custos__map_set(r->cfg->map, pos, n, status, r->err);
}

#define STOP(x) do { if ((x) < 0) return r->stop; } while (0)

/* Passes 1 and 2: copy the non-tried areas in clusters. */
static custos_status copy_pass(rescue *r, int skipping)
{
	uint64_t size = custos__map_size(r->cfg->map);
	uint64_t skip = 0, max_skip = size / 100;
	custos__map_block b;

	if (max_skip > SKIP_MAX)
		max_skip = SKIP_MAX;
	if (max_skip < SKIP_FLOOR)
		max_skip = SKIP_FLOOR;
	while (custos__map_next(r->cfg->map, r->cur->pos, "?", &b)) {
		size_t n = b.size < r->cfg->cluster ? (size_t)b.size
						    : r->cfg->cluster;
		int got;
		custos_status st;

		if (!skipping && out_of_time(r))
			return CUSTOS_OK;
		/* Reads start on a cluster boundary where they can, as
		 * ddrescue's do, so that they stay aligned after a skip. */
		if (b.pos % r->cfg->cluster != 0 &&
		    r->cfg->cluster - b.pos % r->cfg->cluster < n)
			n = r->cfg->cluster - b.pos % r->cfg->cluster;
		r->cur->pos = b.pos;
		got = try_read(r, b.pos, n);
		STOP(got);
		if (got) {
			skip = 0;
			r->cur->pos = b.pos + n;
		} else {
			if ((st = mark(r, b.pos, n, CUSTOS__MAP_NON_TRIMMED)) !=
			    CUSTOS_OK)
				return st;
			r->cur->pos = b.pos + n;
			if (skipping) {
				skip = skip == 0 ? SKIP_MIN : skip * 2;
				if (skip > max_skip)
					skip = max_skip;
				skip -= skip % r->cfg->sector;
				r->cur->pos += skip;
			}
		}
		if ((st = checkpoint(r, 0)) != CUSTOS_OK)
			return st;
	}
	return CUSTOS_OK;
}

/* Pass 3: trim each failed area from its edges to the first bad sector. */
static custos_status trim_pass(rescue *r)
{
	uint32_t s = r->cfg->sector;
	custos__map_block b;
	custos_status st;

	while (custos__map_next(r->cfg->map, 0, "*", &b)) {
		uint64_t lo = b.pos, hi = b.pos + b.size;
		int got = 1;

		r->cur->pos = lo;
		while (lo < hi && got == 1 && !out_of_time(r)) {
			size_t n = hi - lo < s ? (size_t)(hi - lo) : s;

			got = try_read(r, lo, n);
			STOP(got);
			if (got == 0 && (st = mark(r, lo, n, CUSTOS__MAP_BAD)) !=
			    CUSTOS_OK)
				return st;
			lo += n;
		}
		got = 1;
		while (lo < hi && got == 1 && !out_of_time(r)) {
			uint64_t at = (hi - 1) - (hi - 1) % s;
			size_t n = (size_t)(hi - at);

			if (at < lo)
				at = lo;
			got = try_read(r, at, n);
			STOP(got);
			if (got == 0 && (st = mark(r, at, n, CUSTOS__MAP_BAD)) !=
			    CUSTOS_OK)
				return st;
			hi = at;
		}
		if (lo < hi && (st = mark(r, lo, hi - lo,
				CUSTOS__MAP_NON_SCRAPED)) != CUSTOS_OK)
			return st;
		if ((st = checkpoint(r, 0)) != CUSTOS_OK)
			return st;
		if (out_of_time(r))
			return CUSTOS_OK;
	}
	return CUSTOS_OK;
}

/* Pass 4 (statuses "/") and retries (statuses "-"): step by step, a
 * failed step narrowed to single sectors. */
static custos_status sweep_pass(rescue *r, const char *statuses, size_t step)
{
	uint32_t s = r->cfg->sector;
	custos__map_block b;
	uint64_t pos = 0;
	custos_status st;

	while (custos__map_next(r->cfg->map, pos, statuses, &b)) {
		uint64_t end = b.pos + b.size;

		for (pos = b.pos; pos < end;) {
			size_t n = end - pos < step ? (size_t)(end - pos) : step;
			int got;

			if (out_of_time(r))
				return CUSTOS_OK;
			r->cur->pos = pos;
			got = try_read(r, pos, n);
			STOP(got);
			for (size_t o = 0; got == 0 && o < n; o += s) {
				size_t m = n - o < s ? n - o : s;
				int one = n <= s ? 0 : try_read(r, pos + o, m);

				STOP(one);
				if (one == 0 && (st = mark(r, pos + o, m,
						CUSTOS__MAP_BAD)) != CUSTOS_OK)
					return st;
			}
			pos += n;
			if ((st = checkpoint(r, 0)) != CUSTOS_OK)
				return st;
		}
	}
	return CUSTOS_OK;
}

custos_status custos__rescue_run(const custos__rescue_config *cfg,
		custos__map_cursor *cur, custos__rescue_stats *stats,
		custos_error *err)
{
	rescue r = {.cfg = cfg, .cur = cur, .stats = stats, .err = err};
	size_t bufsize = cfg->cluster > cfg->step ? cfg->cluster : cfg->step;
	custos_status st = CUSTOS_OK;

	if (cfg->last_pass < 1 || cfg->last_pass > CUSTOS__RESCUE_MAX_PASSES ||
	    cfg->cluster == 0 || cfg->cluster % cfg->sector != 0 ||
	    cfg->step == 0 || cfg->step % cfg->sector != 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"bad rescue settings");
	if (posix_memalign((void **)&r.buf, 4096, bufsize) != 0)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	r.bad_started = r.last_checkpoint = custos__monotonic_seconds();
	if (cur->pass < 1)
		cur->pass = 1;
	for (; st == CUSTOS_OK && cur->pass <= cfg->last_pass; cur->pass++) {
		double t0 = custos__monotonic_seconds();
		unsigned int p = cur->pass;

		if (p == CUSTOS__RESCUE_PASS_COPY + 1)
			r.bad_started = t0;
		cur->status = p <= 2 ? '?' : p == 3 ? '*' : p == 4 ? '/' : '-';
		stats->last_pass_run = p;
		if (p <= CUSTOS__RESCUE_PASS_COPY_ALL)
			st = copy_pass(&r, p == CUSTOS__RESCUE_PASS_COPY);
		else if (p == CUSTOS__RESCUE_PASS_TRIM)
			st = trim_pass(&r);
		else if (p == CUSTOS__RESCUE_PASS_SCRAPE)
			st = sweep_pass(&r, "/", cfg->step);
		else
			st = sweep_pass(&r, "-", cfg->sector);
		stats->pass[p].seconds += custos__monotonic_seconds() - t0;
		if (st == CUSTOS_OK)
			cur->pos = 0;
		if (st == CUSTOS_OK && custos__map_bytes(cfg->map, "?*/-") == 0)
			cur->pass = cfg->last_pass; /* nothing left to try */
		if (st == CUSTOS_OK && cur->pass < cfg->last_pass &&
		    !stats->time_limit_reached) {
			cur->pass++;
			st = checkpoint(&r, 1);
			cur->pass--;
		}
		if (stats->time_limit_reached)
			break;
	}
	if (st == CUSTOS_OK) {
		cur->pass = cfg->last_pass;
		cur->status = '+';
		cur->pos = 0;
	}
	free(r.buf);
	return st;
}
