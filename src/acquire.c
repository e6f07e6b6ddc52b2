/*
 * Acquisition: claim the output name, read the source once, fan every
 * buffer out to the digests and the image writer, isolate bad sectors,
 * then write the report and commit everything.
 *
 * All the work happens in the private folder <base>.part, made with an
 * exclusive mkdir before the source is read: it is this run's claim on the
 * name, so a second run with the same base refuses at once.  Files in it
 * are created exclusively, never through a symlink; at the end they are
 * renamed beside <base> with renames that never replace, and if one step
 * fails the steps before it are undone.  An interrupted or failed run
 * writes a report that says "aborted", why (the first failure) and how far
 * it got; its partial image stays in <base>.part.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acquire_private.h"
#include "blockmap_private.h"
#include "commit_journal_private.h"
#include "custos/cert.h"
#include "custos/image.h"
#include "error_private.h"
#include "ewf_private.h"
#include "fileio_private.h"
#include "mapfile_private.h"
#include "pipeline_private.h"
#include "raw_private.h"
#include "report_private.h"
#include "rescue_private.h"
#include "resume_private.h"
#include "source_private.h"

#define DEFAULT_BUFFER_SIZE (1024 * 1024)
#define DEFAULT_BUFFER_COUNT 16
#define PROGRESS_INTERVAL 0.25
/* Space kept free in the work folder for the report of a run that fills
 * the disk; given back just before the report is written. */
#define REPORT_RESERVE (1024 * 1024)
#define RESERVE_NAME ".report-reserve"
#define SCRATCH_NAME "sign-check"
#define MAX_OWNED 16
/* Sync points: the image made durable, the state and map saved. */
#define DEFAULT_SYNC_INTERVAL (64u * 1024 * 1024)
/* Copying reads of the rescue passes, as ddrescue's. */
#define RESCUE_CLUSTER (64u * 1024)

void custos_acquire_options_init(custos_acquire_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_ACQUIRE_OPTIONS_VERSION;
	opts->format = CUSTOS_FORMAT_E01;
	opts->compression = CUSTOS_COMPRESSION_FAST;
	opts->digests = CUSTOS_DIGEST_SET_DEFAULT;
	opts->retries = 2;
	opts->tool_name = "libcustos";
	opts->sync_interval = DEFAULT_SYNC_INTERVAL;
}

/* State of one run, alive only inside custos_acquire_run. */
typedef struct run {
	custos_acquisition *a;
	const custos_acquire_options *opts;
	custos_source *src;
	custos__pipeline *pipeline;
	custos_digest *digests[CUSTOS_DIGEST_COUNT];
	custos_raw_writer *writer;       /* raw output */
	custos__ewf_writer *ewf;         /* or E01 output */
	custos__blockmap_writer *blockmap; /* <base>.blockmap, if asked */
	uint32_t sector;
	double t0, last_progress;
	int claimed;      /* we made a->work_dir */
	/* names this run created in the work folder besides the images */
	char *owned[MAX_OWNED];
	size_t owned_count;
	/* long runs: state, map and passes (resume.c, rescue.c); NULL for
	 * a stream, which can neither be re-read nor resumed */
	custos__resume *rs;
	uint64_t start;          /* media offset this session reads from */
	uint64_t replay_seqs;    /* first buffers: the image replayed, hashed
				  * but not written again */
	uint64_t check_bytes, write_bytes;  /* media bytes each has seen */
	int replay_checked;
	uint64_t verify_at;      /* where the replay must match the state */
	int needs_rescue;        /* read_block met a bad area */
	uint8_t *held;           /* a buffer claimed but not yet filled */
	uint64_t held_seq;
	size_t held_fill;        /* bytes of it already filled */
	/* E01: the check digest at the start of each buffer in flight, so
	 * that the writer can take the prefix hash where a segment ended */
	custos_digest **snaps;
	uint64_t *snap_seq;      /* seq + 1 of the snapshot in each slot */
	size_t snap_count;
	pthread_mutex_t snap_mutex;
	pthread_cond_t snap_cond;
	int side_fd;             /* rescued data, by offset (-1: none) */
} run;

static char *work_path(const custos_acquisition *a, const char *name);
static void own(run *r, const char *name);

static int canceled(const run *r)
{
	return r->opts->cancel != NULL && *r->opts->cancel;
}

static void report_progress(run *r, custos_progress_phase phase,
		uint64_t done, uint64_t total, int final)
{
	custos_progress p;
	double now = custos__monotonic_seconds();

	if (r->opts->progress == NULL)
		return;
	if (!final && now - r->last_progress < PROGRESS_INTERVAL)
		return;
	r->last_progress = now;
	p.phase = phase;
	p.bytes_done = done;
	p.bytes_total = total;
	p.unreadable_sectors = custos_ranges_total(r->a->unreadable);
	p.elapsed_seconds = now - r->t0;
	p.final = final;
	r->opts->progress(&p, r->opts->progress_ctx);
}

/* --- consumers --- */

static custos_status consume_digest(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	(void)seq;
	return custos_digest_update(ctx, data, len, err);
}

/* 1 when the media offset bytes (after len more) crossed a sync point. */
static int crossed(const run *r, uint64_t bytes, size_t len)
{
	uint64_t interval = r->rs->interval;

	return bytes > r->start && (bytes - r->start) / interval >
		(bytes - len > r->start ? (bytes - len - r->start) / interval
					: 0);
}

static custos_status consume_writer(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	run *r = ctx;
	custos_status st;

	if (seq < r->replay_seqs)
		return CUSTOS_OK; /* already in the image */
	st = custos_raw_writer_write(r->writer, data, len, err);
	r->write_bytes += len;
	if (st == CUSTOS_OK && r->rs != NULL && crossed(r, r->write_bytes, len)) {
		st = custos__raw_writer_sync(r->writer, err);
		if (st == CUSTOS_OK)
			custos__resume_durable(r->rs, r->write_bytes);
	}
	return st;
}

static custos_status prefix_hex(custos_digest *d, char *hex, custos_error *err)
{
	custos_digest *copy = NULL;
	custos_status st = custos_digest_dup(&copy, d, err);

	if (st == CUSTOS_OK)
		st = custos_digest_final_hex(copy, hex, CUSTOS_DIGEST_HEX_MAX,
			err);
	custos_digest_free(copy);
	return st;
}

/*
 * The strongest digest also makes the hash half of each sync point, and on
 * a resume proves that the image replayed from disk is what the earlier
 * session hashed.
 */
static custos_status consume_check(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	run *r = ctx;
	custos__resume *rs = r->rs;
	char hex[CUSTOS_DIGEST_HEX_MAX];
	custos_status st;

	custos_digest *d = r->digests[rs->check_alg];
	size_t first = len;

	if (r->snaps != NULL) {
		custos_digest *snap = NULL;
		size_t k = seq % r->snap_count;

		st = custos_digest_dup(&snap, d, err);
		if (st != CUSTOS_OK)
			return st;
		pthread_mutex_lock(&r->snap_mutex);
		custos_digest_free(r->snaps[k]);
		r->snaps[k] = snap;
		r->snap_seq[k] = seq + 1;
		pthread_cond_broadcast(&r->snap_cond);
		pthread_mutex_unlock(&r->snap_mutex);
	}
	/* An E01 resume's check point may lie inside a buffer. */
	if (r->verify_at > r->check_bytes &&
	    r->verify_at < r->check_bytes + len)
		first = (size_t)(r->verify_at - r->check_bytes);
	st = custos_digest_update(d, data, first, err);
	if (st != CUSTOS_OK)
		return st;
	r->check_bytes += first;
	if (r->verify_at > 0 && r->check_bytes == r->verify_at) {
		st = prefix_hex(r->digests[rs->check_alg], hex, err);
		if (st == CUSTOS_OK && strcmp(hex, rs->durable_hex) != 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"refusing to resume: the partial image in %s "
				"changed since the interrupted session (the %s "
				"of its first %llu bytes differs)",
				r->a->work_dir, custos_digest_name(
					(custos_digest_alg)rs->check_alg),
				(unsigned long long)r->verify_at);
		if (st != CUSTOS_OK)
			return st;
	}
	if (first < len) {
		st = custos_digest_update(d, data + first, len - first, err);
		if (st != CUSTOS_OK)
			return st;
		r->check_bytes += len - first;
	}
	if (!r->replay_checked && r->check_bytes >= r->start) {
		r->replay_checked = 1;
		rs->rehash_bytes = r->start;
		rs->rehash_seconds = custos__monotonic_seconds() - r->t0;
	}
	/* An E01's sync points are where its segments end (segment_done). */
	if (r->ewf == NULL && crossed(r, r->check_bytes, len)) {
		st = prefix_hex(r->digests[rs->check_alg], hex, err);
		if (st != CUSTOS_OK)
			return st;
		custos__resume_hashed(rs, r->check_bytes, hex);
	}
	return CUSTOS_OK;
}

/*
 * The E01 writer's word that segments 1..segments are complete and
 * durable up to media byte bytes, at byte `at` of buffer seq: the check
 * digest of that prefix is the buffer's snapshot plus its first `at`
 * bytes.  The check consumer may still be behind; it cannot be a whole
 * pool ahead, since this buffer is not released yet.
 */
static custos_status segment_done(void *ctx, unsigned int segments,
		uint64_t bytes, const uint8_t *data, size_t at, uint64_t seq,
		custos_error *err)
{
	run *r = ctx;
	size_t k = seq % r->snap_count;
	custos_digest *d = NULL;
	char hex[CUSTOS_DIGEST_HEX_MAX];
	custos_status st = CUSTOS_OK;

	pthread_mutex_lock(&r->snap_mutex);
	while (st == CUSTOS_OK && r->snap_seq[k] != seq + 1)
		st = custos__pipeline_timedwait(r->pipeline, &r->snap_cond,
			&r->snap_mutex, err);
	if (st == CUSTOS_OK)
		st = custos_digest_dup(&d, r->snaps[k], err);
	pthread_mutex_unlock(&r->snap_mutex);
	if (st == CUSTOS_OK && at > 0)
		st = custos_digest_update(d, data, at, err);
	if (st == CUSTOS_OK)
		st = custos_digest_final_hex(d, hex, sizeof(hex), err);
	custos_digest_free(d);
	if (st == CUSTOS_OK)
		custos__resume_segment(r->rs, segments, bytes, hex);
	return st;
}

/* --- reading: in order while it goes well, passes over bad areas --- */

/* Fill buf with len bytes at offset; *got is short only at the end. */
static custos_status read_block(run *r, uint8_t *buf, size_t len,
		uint64_t offset, size_t *got, custos_error *err)
{
	custos_error e;
	size_t pos = 0, n = 0, unit;
	custos_status st;

	st = custos_source_read(r->src, buf, len, offset, &n, r->opts->cancel, &e);
	if (st == CUSTOS_OK) {
		*got = n;
		return CUSTOS_OK;
	}
	if (st != CUSTOS_EIO || !custos_source_is_seekable(r->src) ||
	    r->rs == NULL) {
		if (err != NULL)
			*err = e;
		return st;
	}
	/*
	 * A bad area: keep the good bytes before it (to a whole E01 chunk, so
	 * the image goes on in whole chunks), and leave the rest to the
	 * passes, which read the good data behind it first.
	 */
	unit = r->sector * CUSTOS__EWF_SECTORS_PER_CHUNK;
	/* ... and to a whole block of the block map, whose hashers take
	 * every buffer as starting on a block (both are powers of two). */
	if (r->a->blockmap_path != NULL && r->a->block_size > unit)
		unit = r->a->block_size;
	pos = n - n % unit;
	r->needs_rescue = 1;
	*got = pos;
	return CUSTOS_OK;
}

/*
 * A resume: the image bytes already written go through the digests again,
 * read back from the image in the work folder (OpenSSL cannot save a
 * digest's state); the writer skips them.
 */
static custos_status replay(run *r, custos_error *err)
{
	size_t bufsize = custos__pipeline_buffer_size(r->pipeline);
	uint64_t offset = 0;
	size_t file = 0;
	int fd = -1;
	uint64_t in_file = 0, file_size = 0;
	custos_status st = CUSTOS_OK;

	while (st == CUSTOS_OK && offset < r->start) {
		size_t want = r->start - offset < bufsize
			? (size_t)(r->start - offset) : bufsize, got = 0;
		uint64_t seq;
		uint8_t *buf = custos__pipeline_claim(r->pipeline, &seq);

		if (buf == NULL)
			return CUSTOS_OK; /* a consumer failed; finish() says why */
		while (st == CUSTOS_OK && got < want) {
			ssize_t n;

			if (fd < 0 || in_file == file_size) {
				const char *path = custos__raw_writer_work_path(
					r->writer, file++);

				if (fd >= 0)
					close(fd);
				fd = path ? open(path, O_RDONLY | O_NOFOLLOW |
					O_CLOEXEC) : -1;
				if (fd < 0) {
					st = custos__error_set(err, CUSTOS_EINVAL,
						"cannot read the partial image "
						"again at byte %llu",
						(unsigned long long)(offset + got));
					break;
				}
				file_size = r->opts->split_size ?
					r->opts->split_size : r->start;
				in_file = 0;
				(void)posix_fadvise(fd, 0, 0,
					POSIX_FADV_SEQUENTIAL);
			}
			n = pread(fd, buf + got, (size_t)(want - got <
				file_size - in_file ? want - got
				: file_size - in_file), (off_t)in_file);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				st = custos__error_errno(err, n < 0 ? errno : EIO,
					"cannot read the partial image again "
					"at byte %llu",
					(unsigned long long)(offset + got));
			else {
				got += (size_t)n;
				in_file += (uint64_t)n;
			}
		}
		if (st != CUSTOS_OK)
			break;
		custos__pipeline_publish(r->pipeline, seq, got);
		offset += got;
		if (canceled(r))
			st = custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted while rehashing, at byte %llu",
				(unsigned long long)offset);
	}
	if (fd >= 0)
		close(fd);
	return st;
}

/*
 * An E01 resume: the media the kept segments hold, read back through
 * libewf, in the buffers an uninterrupted run would have had.  When the
 * last kept segment ended inside a buffer, that buffer is held for the
 * source's bytes after it, so that the block hashers still see whole
 * blocks; the writer skips what the image holds already.
 */
static custos_status replay_e01(run *r, custos_error *err)
{
	size_t bufsize = custos__pipeline_buffer_size(r->pipeline);
	uint64_t offset = 0;
	custos_status st = CUSTOS_OK;

	while (st == CUSTOS_OK && offset < r->start) {
		size_t want = r->start - offset < bufsize
			? (size_t)(r->start - offset) : bufsize;
		uint64_t seq;
		uint8_t *buf = custos__pipeline_claim(r->pipeline, &seq);

		if (buf == NULL)
			return CUSTOS_OK; /* a consumer failed */
		st = custos__ewf_writer_read_back(r->ewf, buf, want, offset,
			err);
		if (st != CUSTOS_OK)
			break;
		offset += want;
		if (want < bufsize) {
			r->held = buf;
			r->held_seq = seq;
			r->held_fill = want;
			break;
		}
		custos__pipeline_publish(r->pipeline, seq, want);
		if (canceled(r))
			st = custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted while rehashing, at byte %llu",
				(unsigned long long)offset);
	}
	return st;
}

/* The kernel's read-only flag again; a change aborts with
 * require_readonly.  when: "after a read error", "at the end". */
static custos_status check_read_only(run *r, int *slot, const char *when,
		custos_error *err)
{
	custos__resume *rs = r->rs;
	int now = custos__source_read_only_now(r->src);

	if (rs == NULL || (slot == &rs->ro_after_error && *slot != -2))
		return CUSTOS_OK;
	*slot = now;
	if (now == rs->ro_start || rs->ro_start == CUSTOS_UNKNOWN)
		return CUSTOS_OK;
	free(rs->ro_change);
	rs->ro_change = custos__aprintf("the kernel read-only flag of %s "
		"changed from %s to %s %s", r->a->source.path,
		rs->ro_start == 1 ? "on" : "off", now == 1 ? "on" : now == 0
		? "off" : "unknown", when);
	if (r->opts->require_readonly)
		return custos__error_set(err, CUSTOS_EWRITABLE, "%s; stopping "
			"(--require-readonly)", rs->ro_change ? rs->ro_change
			: "the read-only flag changed");
	return CUSTOS_OK;
}

static custos_status rescue_after_error(void *ctx, custos_error *err)
{
	run *r = ctx;

	return check_read_only(r, &r->rs->ro_after_error, "after a read error",
		err);
}

/* A sync point of the passes: rescued data durable, then map and state. */
static custos_status rescue_checkpoint(void *ctx,
		const custos__map_cursor *cur, custos_error *err)
{
	run *r = ctx;
	custos__resume *rs = r->rs;
	custos_status st = CUSTOS_OK;

	if (fsync(r->side_fd) != 0)
		st = custos__error_errno(err, errno, "cannot sync %s/%s",
			r->a->work_dir, CUSTOS__RESCUE_DATA_NAME);
	pthread_mutex_lock(&rs->mutex);
	rs->cursor = *cur;
	if (st == CUSTOS_OK)
		st = custos__resume_save(rs, err);
	pthread_mutex_unlock(&rs->mutex);
	return st;
}

static custos_status open_side_file(run *r, custos_error *err)
{
	char *path = work_path(r->a, CUSTOS__RESCUE_DATA_NAME);
	custos_status st = CUSTOS_OK;

	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (r->opts->resume && custos__path_exists(path)) {
		struct stat sb;

		r->side_fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (r->side_fd < 0 || fstat(r->side_fd, &sb) != 0 ||
		    !S_ISREG(sb.st_mode))
			st = custos__error_set(err, CUSTOS_EFORMAT, "%s is not "
				"the rescued data of the interrupted run", path);
	} else {
		/* Made exclusively, then opened for reading too (drain). */
		st = custos__create_exclusive(&r->side_fd, path, 0600, err);
		if (st == CUSTOS_OK) {
			close(r->side_fd);
			r->side_fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (r->side_fd < 0)
				st = custos__error_errno(err, errno,
					"cannot open %s", path);
		}
	}
	if (st == CUSTOS_OK)
		own(r, CUSTOS__RESCUE_DATA_NAME);
	free(path);
	return st;
}

/*
 * The passes over the bad areas from offset on; the pipeline waits
 * meanwhile.  Reads that worked land in the side file, by offset.
 */
static custos_status rescue(run *r, uint64_t offset, custos_error *err)
{
	custos__resume *rs = r->rs;
	custos__rescue_config cfg;
	custos_status st;
	unsigned int last = r->opts->passes ? r->opts->passes
		: CUSTOS__RESCUE_PASS_SCRAPE + r->opts->retries;

	if (last > CUSTOS__RESCUE_MAX_PASSES)
		last = CUSTOS__RESCUE_MAX_PASSES;
	if (r->side_fd < 0 && (st = open_side_file(r, err)) != CUSTOS_OK)
		return st;
	pthread_mutex_lock(&rs->mutex);
	if (rs->rescue_from == UINT64_MAX || offset < rs->rescue_from) {
		uint64_t end = rs->rescue_from == UINT64_MAX
			? custos__map_size(rs->map) : rs->rescue_from;

		/* What streamed from here on is read again, into the side file. */
		st = custos__map_set(rs->map, offset, end - offset,
			CUSTOS__MAP_NON_TRIED, err);
		rs->rescue_from = offset;
		rs->cursor.pos = offset;
		rs->cursor.pass = 1;
		rs->cursor.status = CUSTOS__MAP_NON_TRIED;
	} else {
		st = CUSTOS_OK;
	}
	rs->map_busy = 1;
	pthread_mutex_unlock(&rs->mutex);
	if (st == CUSTOS_OK)
		st = check_read_only(r, &rs->ro_after_error,
			"after a read error", err);
	memset(&cfg, 0, sizeof(cfg));
	cfg.src = r->src;
	cfg.map = rs->map;
	cfg.out_fd = r->side_fd;
	cfg.sector = r->sector;
	cfg.step = r->a->granularity;
	cfg.cluster = RESCUE_CLUSTER > r->sector ? RESCUE_CLUSTER : r->sector;
	cfg.last_pass = last;
	cfg.max_bad_area_time = r->opts->max_bad_area_time;
	cfg.cancel = r->opts->cancel;
	cfg.after_error = rescue_after_error;
	cfg.checkpoint = rescue_checkpoint;
	cfg.ctx = r;
	cfg.checkpoint_seconds = 2.0;
	if (st == CUSTOS_OK && rs->cursor.status != CUSTOS__MAP_FINISHED)
		st = custos__rescue_run(&cfg, &rs->cursor, &rs->stats, err);
	if (st == CUSTOS_OK || st == CUSTOS_ECANCELED) {
		custos_error e;
		custos_status cs = rescue_checkpoint(r, &rs->cursor, &e);

		if (st == CUSTOS_OK && cs != CUSTOS_OK) {
			st = cs;
			if (err != NULL)
				*err = e;
		}
	}
	pthread_mutex_lock(&rs->mutex);
	rs->map_busy = 0;
	pthread_mutex_unlock(&rs->mutex);
	return st;
}

/* After the passes: the media from offset on, in order, from the side
 * file, with what is still unreadable zero-filled. */
static custos_status drain(run *r, uint64_t offset, custos_error *err)
{
	const custos_source_info *info = &r->a->source;
	size_t bufsize = custos__pipeline_buffer_size(r->pipeline);

	while (offset < info->size_bytes) {
		size_t want, fill = 0;
		uint64_t seq;
		uint8_t *buf;

		if (canceled(r))
			return custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted at byte %llu",
				(unsigned long long)offset);
		if (r->held != NULL) {
			buf = r->held;
			seq = r->held_seq;
			fill = r->held_fill;
			r->held = NULL;
		} else {
			buf = custos__pipeline_claim(r->pipeline, &seq);
		}
		if (buf == NULL)
			return CUSTOS_OK;
		want = info->size_bytes - offset < bufsize - fill
			? (size_t)(info->size_bytes - offset) : bufsize - fill;
		buf += fill;
		for (size_t pos = 0; pos < want;) {
			custos__map_block b;
			size_t n;

			if (!custos__map_next(r->rs->map, offset + pos, "?*/-+",
					&b))
				return custos__error_set(err, CUSTOS_EINTERNAL,
					"the rescue map ends early");
			n = b.size < want - pos ? (size_t)b.size : want - pos;
			if (b.status != CUSTOS__MAP_FINISHED) {
				memset(buf + pos, 0, n);
			} else {
				size_t done = 0;

				while (done < n) {
					ssize_t got = pread(r->side_fd,
						buf + pos + done, n - done,
						(off_t)(offset + pos + done));

					if (got < 0 && errno == EINTR)
						continue;
					if (got <= 0)
						return custos__error_errno(err,
							got < 0 ? errno : EIO,
							"cannot read the rescued "
							"data at byte %llu",
							(unsigned long long)
							(offset + pos + done));
					done += (size_t)got;
				}
			}
			pos += n;
		}
		custos__pipeline_publish(r->pipeline, seq, fill + want);
		offset += want;
		report_progress(r, CUSTOS_PHASE_ACQUIRE, offset,
			info->size_bytes, 0);
	}
	if (r->held != NULL) {
		custos__pipeline_publish(r->pipeline, r->held_seq,
			r->held_fill);
		r->held = NULL;
	}
	return CUSTOS_OK;
}

/* The read loop, on the caller's thread.  Returns why it stopped early. */
static custos_status produce(run *r, custos_error *err)
{
	const custos_source_info *info = &r->a->source;
	size_t bufsize = custos__pipeline_buffer_size(r->pipeline);
	uint64_t offset = r->start;
	custos_status st = CUSTOS_OK;

	if (r->start > 0 && (st = r->ewf != NULL ? replay_e01(r, err)
			: replay(r, err)) != CUSTOS_OK)
		return st;
	/* A resume past the point where the passes took over goes on
	 * with them. */
	if (r->rs != NULL && r->rs->rescue_from != UINT64_MAX &&
	    offset >= r->rs->rescue_from)
		r->needs_rescue = 1;
	while (!r->needs_rescue) {
		size_t want = bufsize, got = 0, fill = 0;
		uint64_t seq;
		uint8_t *buf;

		if (info->size_known && offset >= info->size_bytes)
			break;
		/* Streamed up to where an earlier session's passes began. */
		if (r->rs != NULL && offset == r->rs->rescue_from) {
			r->needs_rescue = 1;
			break;
		}
		if (canceled(r))
			return custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted at byte %llu",
				(unsigned long long)offset);
		/* An E01 resume's rehash left the buffer its segment ended
		 * in: the source fills the rest. */
		if (r->held != NULL)
			fill = r->held_fill;
		want -= fill;
		if (info->size_known && info->size_bytes - offset < want)
			want = (size_t)(info->size_bytes - offset);
		if (r->rs != NULL && r->rs->rescue_from != UINT64_MAX &&
		    r->rs->rescue_from - offset < want)
			want = (size_t)(r->rs->rescue_from - offset);
		if (r->held != NULL) {
			buf = r->held;
			seq = r->held_seq;
			r->held = NULL;
		} else {
			buf = custos__pipeline_claim(r->pipeline, &seq);
		}
		if (buf == NULL)
			return CUSTOS_OK; /* a consumer failed; finish() says why */
		st = read_block(r, buf + fill, want, offset, &got, err);
		if (st != CUSTOS_OK)
			return st;
		if ((got == 0 || fill > 0) && r->needs_rescue) {
			r->held = buf;  /* the drain fills it */
			r->held_seq = seq;
			r->held_fill = fill + got;
			offset += got;
			break;
		}
		if (fill + got > 0)
			custos__pipeline_publish(r->pipeline, seq, fill + got);
		offset += got;
		report_progress(r, CUSTOS_PHASE_ACQUIRE, offset,
			info->size_known ? info->size_bytes : 0, 0);
		if (got < want && !r->needs_rescue) {
			if (info->size_known)
				return custos__error_set(err, CUSTOS_EIO,
					"%s ended at byte %llu, before its size "
					"of %llu bytes", info->path,
					(unsigned long long)offset,
					(unsigned long long)info->size_bytes);
			break;
		}
	}
	if (!r->needs_rescue) {
		if (r->held != NULL) /* the source ended with the image */
			custos__pipeline_publish(r->pipeline, r->held_seq,
				r->held_fill);
		r->held = NULL;
		return CUSTOS_OK;
	}
	st = rescue(r, offset, err);
	if (st == CUSTOS_OK)
		st = drain(r, offset, err);
	return st;
}

/* --- record keeping --- */

static custos_status copy_source_info(custos_acquisition *a,
		const custos_source_info *in)
{
	a->source = *in;
	a->source.path = custos__strdup(in->path);
	a->source.vendor = custos__strdup(in->vendor);
	a->source.model = custos__strdup(in->model);
	a->source.serial = custos__strdup(in->serial);
	a->source.firmware = custos__strdup(in->firmware);
	a->source.backing_file = custos__strdup(in->backing_file);
	a->source.identity_from = custos__strdup(in->identity_from);
	return a->source.path == NULL ? CUSTOS_ENOMEM : CUSTOS_OK;
}

static custos_status copy_case(custos_acquisition *a,
		const custos_case_info *in)
{
	a->case_info.case_number = custos__strdup(in->case_number);
	a->case_info.evidence_number = custos__strdup(in->evidence_number);
	a->case_info.examiner = custos__strdup(in->examiner);
	a->case_info.description = custos__strdup(in->description);
	a->case_info.notes = custos__strdup(in->notes);
	return CUSTOS_OK;
}

static size_t output_file_count(run *r)
{
	return r->ewf != NULL ? custos__ewf_writer_file_count(r->ewf)
			      : custos_raw_writer_file_count(r->writer);
}

/* path: where the file lies now (in the work folder); name: final name. */
static void output_file(run *r, size_t i, const char **path,
		const char **name, uint64_t *size, const char **sha256)
{
	const custos_output_file *f = r->ewf != NULL
		? custos__ewf_writer_file(r->ewf, i)
		: custos_raw_writer_file(r->writer, i);

	*path = r->ewf != NULL ? f->path
			       : custos__raw_writer_work_path(r->writer, i);
	*name = f->name;
	*size = f->size_bytes;
	*sha256 = f->sha256;
}

/* The name the report gives a file: its final name, or where it lies in
 * the work folder (relative to the report's folder). */
static custos_status name_file(custos_acquisition *a, custos__file_record *f,
		int final, custos_error *err)
{
	free(f->name);
	f->name = final || f->at_final ? strdup(custos__basename(f->final_path))
		: custos__aprintf("%s/%s", custos__basename(a->work_dir),
			custos__basename(f->work_path));
	return f->name == NULL ? custos__error_set(err, CUSTOS_ENOMEM,
		"out of memory") : CUSTOS_OK;
}

static custos_status record_files(run *r, int complete, custos_error *err)
{
	custos_acquisition *a = r->a;
	size_t n = r->ewf != NULL || r->writer != NULL ? output_file_count(r)
						       : 0;
	char *dir = custos__dirname(a->base);

	a->files = calloc(n == 0 ? 1 : n, sizeof(*a->files));
	if (a->files == NULL || dir == NULL) {
		free(dir);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		custos__file_record *rec = &a->files[a->file_count];
		const char *path, *name, *sha256;
		uint64_t size;

		output_file(r, i, &path, &name, &size, &sha256);
		rec->work_path = strdup(path);
		rec->final_path = custos__aprintf("%s/%s", dir, name);
		if (rec->work_path == NULL || rec->final_path == NULL) {
			free(rec->work_path);
			free(rec->final_path);
			free(dir);
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		}
		a->file_count++;
		rec->size_bytes = size;
		if (name_file(a, rec, 0, err) != CUSTOS_OK) {
			free(dir);
			return CUSTOS_ENOMEM;
		}
		if (!complete)
			continue;
		if (sha256[0] != '\0')
			memcpy(rec->sha256, sha256, sizeof(rec->sha256));
		else /* one raw file: its bytes are the media bytes */
			memcpy(rec->sha256, a->digest[CUSTOS_DIGEST_SHA256],
				sizeof(rec->sha256));
	}
	free(dir);
	return CUSTOS_OK;
}

/* --- the work folder: this run's claim on <base> --- */

static char *work_path(const custos_acquisition *a, const char *name)
{
	return custos__aprintf("%s/%s", a->work_dir, name);
}

static void own(run *r, const char *name)
{
	for (size_t i = 0; i < r->owned_count; i++)
		if (strcmp(r->owned[i], name) == 0)
			return;
	if (r->owned_count < MAX_OWNED &&
	    (r->owned[r->owned_count] = strdup(name)) != NULL)
		r->owned_count++;
}

/* A name this run created has left the work folder (committed). */
static void disown(run *r, const char *name)
{
	for (size_t i = 0; i < r->owned_count; i++)
		if (strcmp(r->owned[i], name) == 0) {
			free(r->owned[i]);
			r->owned[i] = r->owned[--r->owned_count];
			return;
		}
}

/* Remove a file this run created in the work folder (and nothing else). */
static void remove_own(run *r, const char *name)
{
	char *path;
	int mine = 0;

	for (size_t i = 0; i < r->owned_count; i++)
		mine |= strcmp(r->owned[i], name) == 0;
	if (!mine)
		return;
	path = work_path(r->a, name);
	/* A name owned before its file was made may not exist yet. */
	if (path != NULL && (unlink(path) == 0 || errno == ENOENT))
		disown(r, name);
	free(path);
}

/* Every name this run could commit, for the early check. */
static custos_status check_name_free(const char *path, custos_error *err)
{
	if (path != NULL && custos__path_exists(path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; refusing to overwrite it", path);
	return CUSTOS_OK;
}

static custos_status check_outputs_free(custos_acquisition *a,
		custos_error *err)
{
	const char *reports[] = {a->report_json_path, a->report_txt_path,
				 a->sha256_path, a->signature_path,
				 a->blockmap_path, a->map_path};
	custos_status st = CUSTOS_OK;

	for (size_t i = 0; st == CUSTOS_OK &&
	     i < sizeof(reports) / sizeof(reports[0]); i++)
		st = check_name_free(reports[i], err);
	/* Image names: every segment a run could make, so that a taken
	 * name costs nothing instead of failing the commit at the end.  Of
	 * a medium of known size an E01 makes at most one segment per
	 * segment size (less the sections' overhead, 1/64 is ample) and
	 * one more, not libewf's 14,971 names. */
	int last = CUSTOS__EWF_MAX_SEGMENTS;

	if (a->format == CUSTOS_FORMAT_E01 && a->source.size_known) {
		uint64_t seg = a->split_size ? a->split_size
			: (uint64_t)LIBEWF_DEFAULT_SEGMENT_FILE_SIZE;
		uint64_t n = a->source.size_bytes / (seg - seg / 64) + 2;

		if (n < (uint64_t)last)
			last = (int)n;
	}
	for (int i = 1; st == CUSTOS_OK && i <= last; i++) {
		char *p;

		if (a->format == CUSTOS_FORMAT_E01)
			p = custos__ewf_segment_path(a->base, (unsigned int)i);
		else if (a->split_size == 0)
			p = i > 1 ? NULL : custos__aprintf("%s.raw", a->base);
		else
			p = i > 999 ? NULL : custos__aprintf("%s.%03d", a->base,
				i);
		if (p == NULL)
			break;
		st = check_name_free(p, err);
		free(p);
	}
	return st;
}

/*
 * A resume: the work folder must be there, a real folder; resume.c then
 * checks it is this tool's for this acquisition and locks it.  Nothing of
 * it is removed if the resume is refused.
 */
/*
 * A session killed while committing left a journal: take its renames back,
 * so the files are all in the work folder again and the resume finishes
 * the run (rehashing the whole image).  Without a state beside it, the
 * commit had completed and only the clean-up was cut short.
 */
static custos_status take_back_commit(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	char *journal = work_path(a, CUSTOS__JOURNAL_NAME);
	char *state = work_path(a, CUSTOS__STATE_NAME);
	int found = 0, done;
	custos_status st = CUSTOS_OK;

	if (journal == NULL || state == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	} else if (custos__path_exists(journal)) {
		done = !custos__path_exists(state);
		if (done) {
			custos__journal_remove(a->work_dir);
			(void)rmdir(a->work_dir); /* ours, and empty now */
			st = custos__error_set(err, CUSTOS_EEXIST, "the "
				"interrupted run had committed %s (see %s); "
				"nothing to resume", a->base,
				a->report_json_path);
		} else {
			st = custos__journal_undo(a->work_dir, a->base, &found,
				err);
		}
	}
	free(journal);
	free(state);
	return st;
}

static custos_status claim_again(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	struct stat sb;

	if (!custos_source_is_seekable(r->src) || !a->source.size_known)
		return custos__error_set(err, CUSTOS_EFORMAT, "a stream cannot "
			"be resumed: %s cannot be read again",
			a->source.path);
	if (lstat(a->work_dir, &sb) != 0)
		return custos__error_errno(err, errno, "nothing to resume: %s",
			a->work_dir);
	if (!S_ISDIR(sb.st_mode))
		return custos__error_set(err, CUSTOS_EFORMAT, "%s is not a work "
			"folder of this tool; not resuming", a->work_dir);
	return take_back_commit(r, err);
}

/*
 * An earlier session's aborted report stands beside <base>: keep it, as
 * <base>.session-N.report.json (and .txt), so the names are free for the
 * report of the whole acquisition.
 */
static custos_status set_aside_reports(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	const char *paths[2] = {a->report_json_path, a->report_txt_path};
	const char *ext[2] = {"json", "txt"};
	size_t n = r->rs->session_count - 1;
	custos_status st = CUSTOS_OK;

	for (int i = 0; st == CUSTOS_OK && i < 2; i++) {
		char *to;

		if (!custos__path_exists(paths[i]))
			continue;
		to = custos__aprintf("%s.session-%zu.report.%s", a->base, n,
			ext[i]);
		if (to == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		st = custos__commit_noreplace(paths[i], to, err);
		free(to);
	}
	return st;
}

/* Leftovers of a session that stopped in the middle of saving its state
 * (the temporaries custos__replace_own_file makes beside the state and
 * map, or the commit journal's) or of committing (the staged report
 * files, made again). */
static void remove_stale_temps(run *r)
{
	DIR *dir = opendir(r->a->work_dir);
	struct dirent *d;

	const char *staged[4] = {custos__basename(r->a->sha256_path),
		custos__basename(r->a->report_json_path),
		custos__basename(r->a->report_txt_path),
		r->a->signature_path ? custos__basename(r->a->signature_path)
				     : NULL};

	while (dir != NULL && (d = readdir(dir)) != NULL) {
		size_t n = strlen(d->d_name);
		int ours = 0;
		char *path;

		/* Staged for a commit the earlier session did not finish. */
		for (int i = 0; i < 4; i++)
			ours |= staged[i] != NULL &&
				strcmp(d->d_name, staged[i]) == 0;
		ours = ours || ((strncmp(d->d_name, CUSTOS__STATE_NAME ".",
			strlen(CUSTOS__STATE_NAME) + 1) == 0 ||
			strncmp(d->d_name, CUSTOS__JOURNAL_NAME ".",
				strlen(CUSTOS__JOURNAL_NAME) + 1) == 0 ||
			strncmp(d->d_name, r->rs->map_name,
				strlen(r->rs->map_name)) == 0) &&
			n > 5 && strcmp(d->d_name + n - 5, ".part") == 0);
		path = ours ? work_path(r->a, d->d_name) : NULL;

		if (path != NULL)
			(void)unlink(path);
		free(path);
	}
	if (dir != NULL)
		closedir(dir);
}

/* The state of a long run: fresh, or an earlier session's, checked. */
static custos_status open_state(run *r, custos_error *err)
{
	const custos_acquire_options *o = r->opts;
	custos__resume_config c;
	custos_status st;
	int fd;

	if (!custos_source_is_seekable(r->src) || !r->a->source.size_known)
		return CUSTOS_OK;
	memset(&c, 0, sizeof(c));
	c.work_dir = r->a->work_dir;
	c.base = r->a->base;
	c.tool = r->a->tool_name;
	c.opts = o;
	c.src = r->src;
	c.info = &r->a->source;
	c.digests = r->a->digests;
	c.interval = o->sync_interval ? o->sync_interval
				      : DEFAULT_SYNC_INTERVAL;
	c.resume = o->resume;
	st = custos__resume_open(&r->rs, &c, err);
	if (st != CUSTOS_OK)
		return st;
	r->rs->ro_start = r->a->source.read_only;
	r->start = r->rs->durable;
	r->verify_at = r->start;
	r->a->resume = r->rs;
	own(r, CUSTOS__STATE_NAME);
	own(r, r->rs->map_name);
	if (o->resume) {
		remove_stale_temps(r);
		st = set_aside_reports(r, err);
		if (st == CUSTOS_OK)
			st = check_outputs_free(r->a, err);
		/* The room for the report, kept by the earlier session. */
		fd = -1;
		if (st == CUSTOS_OK) {
			char *reserve = work_path(r->a, RESERVE_NAME);

			if (reserve != NULL && custos__path_exists(reserve))
				own(r, RESERVE_NAME);
			else if (reserve != NULL &&
				 custos__create_exclusive(&fd, reserve, 0600,
					 NULL) == CUSTOS_OK) {
				own(r, RESERVE_NAME);
				(void)posix_fallocate(fd, 0, REPORT_RESERVE);
				close(fd);
			}
			free(reserve);
		}
	} else {
		st = custos__resume_save(r->rs, err);
	}
	return st;
}

/*
 * Claim <base>: make the private work folder (exclusive, so a second run
 * fails here), check the output names, and set aside room for the report.
 */
static custos_status claim(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_status st;
	char *reserve;
	int fd, rc;

	if (r->opts->resume)
		return claim_again(r, err);
	st = custos__mkdir_exclusive(a->work_dir, 0700, err);
	if (st == CUSTOS_EEXIST)
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists: another run is writing to %s, or "
			"an interrupted run left it (its report says which); "
			"nothing was touched", a->work_dir, a->base);
	if (st != CUSTOS_OK)
		return st;
	r->claimed = 1;
	st = check_outputs_free(a, err);
	if (st != CUSTOS_OK)
		return st;
	reserve = work_path(a, RESERVE_NAME);
	if (reserve == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__create_exclusive(&fd, reserve, 0600, err);
	if (st == CUSTOS_OK) {
		own(r, RESERVE_NAME);
		rc = posix_fallocate(fd, 0, REPORT_RESERVE);
		if (rc == ENOSPC)
			st = custos__error_errno(err, rc, "not even the report "
				"(%d bytes) fits in %s", REPORT_RESERVE,
				a->work_dir);
		/* Elsewhere the reserve is a kindness, not a must. */
		close(fd);
	}
	free(reserve);
	return st;
}

/* Undo a claim that led nowhere: nothing of this run remains. */
static void release_claim(run *r)
{
	while (r->owned_count > 0) {
		char *last = strdup(r->owned[r->owned_count - 1]);

		remove_own(r, last);
		if (last == NULL || (r->owned_count > 0 &&
		    strcmp(r->owned[r->owned_count - 1], last) == 0))
			disown(r, r->owned[r->owned_count - 1]); /* cannot */
		free(last);
	}
	if (r->claimed)
		(void)rmdir(r->a->work_dir); /* ours, and empty */
	r->claimed = 0;
}

/*
 * Before committing: the work folder holds only what this run wrote.  A
 * file that appeared in it (by another process) is never committed.
 */
static custos_status check_work_dir(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_status st = CUSTOS_OK;
	struct dirent *d;
	DIR *dir = opendir(a->work_dir);

	if (dir == NULL)
		return custos__error_errno(err, errno, "cannot read %s",
			a->work_dir);
	while (st == CUSTOS_OK && (d = readdir(dir)) != NULL) {
		int known = strcmp(d->d_name, ".") == 0 ||
			strcmp(d->d_name, "..") == 0;

		for (size_t i = 0; !known && i < r->owned_count; i++)
			known = strcmp(d->d_name, r->owned[i]) == 0;
		for (size_t i = 0; !known && i < output_file_count(r); i++) {
			const char *path, *name, *sha;
			uint64_t size;

			output_file(r, i, &path, &name, &size, &sha);
			known = strcmp(d->d_name, custos__basename(path)) == 0;
		}
		if (!known)
			st = custos__error_set(err, CUSTOS_EEXIST,
				"%s/%s appeared in the work folder during the "
				"run; this run did not write it, so nothing "
				"was committed", a->work_dir, d->d_name);
	}
	closedir(dir);
	return st;
}

/* --- the report: describe the acquisition, stage it, commit all --- */

static const char *verify_name(custos_verify_result v)
{
	switch (v) {
	case CUSTOS_VERIFY_NOT_RUN: return "not-run";
	case CUSTOS_VERIFY_MATCH: return "match";
	case CUSTOS_VERIFY_MISMATCH: return "mismatch";
	case CUSTOS_VERIFY_FAILED: return "failed";
	case CUSTOS_VERIFY_INTERRUPTED: return "interrupted";
	}
	return "unknown";
}

static const char *compression_name(const custos_acquisition *a)
{
	if (a->format != CUSTOS_FORMAT_E01)
		return "none";
	switch (a->compression) {
	case CUSTOS_COMPRESSION_NONE: return "none";
	case CUSTOS_COMPRESSION_FAST: return "fast";
	case CUSTOS_COMPRESSION_BEST: return "best";
	}
	return "unknown";
}

/* The plain description the report module lays out. */
static custos_status describe(const custos_acquisition *a, custos__report *d,
		custos__report_file **files, custos_error *err)
{
	int e01 = a->format == CUSTOS_FORMAT_E01;

	memset(d, 0, sizeof(*d));
	*files = calloc(a->file_count + 1, sizeof(**files));
	if (*files == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < a->file_count; i++) {
		(*files)[i].name = a->files[i].name;
		(*files)[i].size_bytes = a->files[i].size_bytes;
		(*files)[i].sha256 = a->files[i].sha256;
	}
	d->tool_name = a->tool_name;
	d->case_number = a->case_info.case_number;
	d->evidence_number = a->case_info.evidence_number;
	d->examiner = a->case_info.examiner;
	d->description = a->case_info.description;
	d->notes = a->case_info.notes;
	d->source = &a->source;
	d->format = e01 ? "e01" : "raw";
	d->compression = compression_name(a);
	d->split_size = a->split_size;
	d->files = *files;
	d->file_count = a->file_count;
	d->chunk_size = a->source.logical_sector_size *
		CUSTOS__EWF_SECTORS_PER_CHUNK;
	d->padding_bytes = a->padding_bytes;
	d->stored_md5 = a->stored_digest[CUSTOS_DIGEST_MD5];
	d->stored_sha1 = a->stored_digest[CUSTOS_DIGEST_SHA1];
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++) {
		int on = (a->digests & CUSTOS_DIGEST_BIT(alg)) != 0;

		d->hashes[alg] = on ? a->digest[alg] : NULL;
		d->verify_hashes[alg] = on ? a->verify_digest[alg] : NULL;
	}
	d->unreadable = a->unreadable;
	d->retries = a->retries;
	d->granularity = a->granularity;
	d->bytes_acquired = a->bytes;
	d->duration_seconds = a->duration_seconds;
	d->verify_requested = a->verify_requested;
	d->verify_result = verify_name(a->verify);
	d->verify_detail = a->verify_detail;
	d->started_at = a->started_at;
	d->finished_at = a->finished_at;
	d->host = a->host;
	d->timezone = a->timezone;
	d->result = custos_acquire_result_name(a->result);
	d->aborted_reason = a->abort_reason;
	d->sign_requested = a->sign_requested;
	d->tsa_requested = a->tsa_requested;
	d->signed_ok = a->signed_ok;
	d->report_json_name = custos__basename(a->report_json_path);
	d->signature_name = a->signature_path
		? custos__basename(a->signature_path) : NULL;
	d->signer_subject = a->signer_subject;
	d->signer_fingerprint = a->signer_fingerprint;
	d->sign_error = a->sign_error;
	if (a->blockmap_done) {
		d->blockmap_name = custos__basename(a->blockmap_path);
		d->blockmap_root = a->blockmap_root;
		d->blockmap_sha256 = a->blockmap_sha256;
		d->block_size = a->block_size;
		d->blockmap_leaves = a->blockmap_leaves;
		d->blockmap_marked = a->blockmap_marked;
		d->blockmap_size = a->blockmap_size;
	}
	return CUSTOS_OK;
}

static custos_status report_json(custos_acquisition *a, custos_error *err)
{
	custos__report d;
	custos__report_file *files;
	custos_status st = describe(a, &d, &files, err);

	char *recovery = a->resume ? custos__resume_report_json(a->resume)
				   : NULL;

	free(a->report_json);
	a->report_json = NULL;
	d.recovery_json = recovery;
	if (st == CUSTOS_OK)
		st = custos__report_json(&a->report_json, &d, err);
	free(recovery);
	free(files);
	return st;
}

static custos_status report_text(custos_acquisition *a, char **out,
		custos_error *err)
{
	custos__report d;
	custos__report_file *files;
	custos_status st = describe(a, &d, &files, err);
	char *recovery = a->resume ? custos__resume_report_text(a->resume)
				   : NULL;

	d.recovery_text = recovery;
	if (st == CUSTOS_OK)
		st = custos__report_text(out, &d, err);
	free(recovery);
	free(files);
	return st;
}

/* Write a new file in the work folder (exclusively), fsync and close. */
static custos_status stage(run *r, const char *final_path, const void *data,
		size_t len, custos_error *err)
{
	const char *name = custos__basename(final_path);
	char *path = work_path(r->a, name);
	custos_status st;
	int fd;

	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__create_exclusive(&fd, path, 0644, err);
	if (st == CUSTOS_OK) {
		own(r, name);
		st = custos__write_all(fd, data, len, path, err);
		if (st == CUSTOS_OK && fsync(fd) != 0)
			st = custos__error_errno(err, errno, "cannot sync %s",
				path);
		if (close(fd) != 0 && st == CUSTOS_OK)
			st = custos__error_errno(err, errno, "cannot close %s",
				path);
	}
	free(path);
	return st;
}

static custos_status sha256_text(const custos_acquisition *a, char **out,
		size_t *len, custos_error *err)
{
	size_t cap = a->file_count * (CUSTOS_DIGEST_HEX_MAX + 8) + 1, used = 0;
	char *text;

	for (size_t i = 0; i < a->file_count; i++)
		cap += strlen(a->files[i].name);
	text = malloc(cap);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	text[0] = '\0';
	for (size_t i = 0; i < a->file_count; i++)
		used += (size_t)snprintf(text + used, cap - used, "%s  %s\n",
			a->files[i].sha256, a->files[i].name);
	*out = text;
	*len = used;
	return CUSTOS_OK;
}

/* One rename of the commit: from the work folder to beside <base>. */
typedef struct step {
	char *work, *final;
	int *at_final;      /* set while the file lies at final */
} step;

static custos_status commit_step(step *s, custos_error *err)
{
	custos_error e;
	custos_status st = custos__commit_noreplace(s->work, s->final, &e);

	/* The rename may have happened even if the fsync after it failed. */
	*s->at_final = !custos__path_exists(s->work) &&
		custos__path_exists(s->final);
	if (st != CUSTOS_OK)
		return custos__error_set(err, st, "cannot commit %s as %s: %s",
			s->work, s->final, e.message);
	return CUSTOS_OK;
}

/* Undo the renames done so far, last first: all or nothing. */
static void undo_steps(step *steps, size_t n)
{
	while (n-- > 0)
		if (*steps[n].at_final && custos__commit_noreplace(
				steps[n].final, steps[n].work, NULL) ==
				CUSTOS_OK)
			*steps[n].at_final = 0;
}

/*
 * Write the report files into the work folder and commit them (and, for
 * a run that did not abort, the images and <base>.sha256 before them).
 * On failure every rename is undone and the staged report files removed.
 */
static custos_status stage_and_commit(run *r, const custos_sign_options *sign,
		custos_status *sign_st, custos_error *sign_err,
		custos_error *err)
{
	custos_acquisition *a = r->a;
	int images = a->result != CUSTOS_RESULT_ABORTED;
	const char *reports[4] = {NULL};
	int committed[4] = {0};
	step steps[1000 + 6];
	size_t n = 0, nsteps = 0, done = 0;
	char *text = NULL, *json_work = NULL, *sig_work = NULL;
	size_t len = 0;
	custos_status st = CUSTOS_OK;

	a->signed_ok = 0;
	free(a->sign_error);
	a->sign_error = NULL;
	*sign_st = CUSTOS_OK;
	/* The report names the files where they lie once it is committed. */
	for (size_t i = 0; st == CUSTOS_OK && i < a->file_count; i++)
		st = name_file(a, &a->files[i], images, err);
	if (st == CUSTOS_OK)
		st = report_json(a, err);
	if (st == CUSTOS_OK && images) {
		st = sha256_text(a, &text, &len, err);
		if (st == CUSTOS_OK)
			st = stage(r, a->sha256_path, text, len, err);
		free(text);
		text = NULL;
		reports[n++] = a->sha256_path;
	}
	if (st == CUSTOS_OK) {
		st = stage(r, a->report_json_path, a->report_json,
			strlen(a->report_json), err);
		reports[n++] = a->report_json_path;
	}
	/* The signature covers the JSON report's exact bytes. */
	if (st == CUSTOS_OK && sign != NULL) {
		json_work = work_path(a, custos__basename(a->report_json_path));
		sig_work = work_path(a, custos__basename(a->signature_path));
		if (json_work == NULL || sig_work == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		else
			*sign_st = custos_sign_file_to(json_work, sig_work,
				sign, sign_err);
		if (st == CUSTOS_OK && custos__path_exists(sig_work))
			own(r, custos__basename(a->signature_path));
		a->signed_ok = st == CUSTOS_OK && *sign_st == CUSTOS_OK;
		if (st == CUSTOS_OK && !a->signed_ok)
			a->sign_error = custos__strdup(sign_err->message);
		if (a->signed_ok)
			reports[n++] = a->signature_path;
	}
	/* The text says who signed, or that signing failed. */
	if (st == CUSTOS_OK)
		st = report_text(a, &text, err);
	if (st == CUSTOS_OK) {
		st = stage(r, a->report_txt_path, text, strlen(text), err);
		reports[n++] = a->report_txt_path;
	}
	free(text);
	free(json_work);
	free(sig_work);

	/* The plan: images, checksums, JSON report, signature, text. */
	for (size_t i = 0; st == CUSTOS_OK && images && i < a->file_count;
	     i++) {
		steps[nsteps].work = a->files[i].work_path;
		steps[nsteps].final = a->files[i].final_path;
		steps[nsteps].at_final = &a->files[i].at_final;
		nsteps++;
	}
	/* The block map goes with the images (it stays with an aborted
	 * run's partial image). */
	if (st == CUSTOS_OK && images && a->blockmap_done) {
		steps[nsteps].work = a->blockmap_work;
		steps[nsteps].final = a->blockmap_path;
		steps[nsteps].at_final = &a->blockmap_at_final;
		nsteps++;
	}
	/* <base>.map, as the last sync point left it. */
	if (st == CUSTOS_OK && images && r->rs != NULL) {
		steps[nsteps].work = r->rs->map_path;
		steps[nsteps].final = a->map_path;
		steps[nsteps].at_final = &a->map_at_final;
		nsteps++;
	}
	for (size_t i = 0; st == CUSTOS_OK && i < n; i++) {
		steps[nsteps].work = work_path(a, custos__basename(reports[i]));
		steps[nsteps].final = (char *)reports[i];
		steps[nsteps].at_final = &committed[i];
		if (steps[nsteps].work == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		nsteps++;
	}
	/* A resumable run's commit can be taken back by a resume if it is
	 * cut short: the renames are written down before the first. */
	if (st == CUSTOS_OK && images && r->rs != NULL) {
		custos__journal_step js[sizeof(steps) / sizeof(steps[0])];

		for (size_t i = 0; i < nsteps; i++) {
			js[i].work = steps[i].work;
			js[i].final = steps[i].final;
		}
		st = custos__journal_write(a->work_dir, a->base, js, nsteps,
			err);
		if (st == CUSTOS_OK)
			own(r, CUSTOS__JOURNAL_NAME);
	}
	for (; st == CUSTOS_OK && done < nsteps; done++)
		st = commit_step(&steps[done], err);
	if (st != CUSTOS_OK) {
		undo_steps(steps, done);
		remove_own(r, CUSTOS__JOURNAL_NAME);
		/* Staged report files go: an aborted report replaces them. */
		for (size_t i = 0; i < n; i++)
			if (!committed[i])
				remove_own(r, custos__basename(reports[i]));
		if (a->signature_path != NULL && !a->signed_ok)
			remove_own(r, custos__basename(a->signature_path));
	} else {
		for (size_t i = 0; i < n; i++)
			disown(r, custos__basename(reports[i]));
		if (a->blockmap_at_final)
			disown(r, custos__basename(a->blockmap_path));
	}
	for (size_t i = images ? a->file_count +
	     (a->blockmap_done ? 1 : 0) + (r->rs != NULL) : 0;
	     i < nsteps; i++)
		free(steps[i].work);
	return st;
}

/* Stop counting a run as done: it is aborted, for this reason. */
static void mark_aborted(custos_acquisition *a, custos_status st,
		const custos_error *e)
{
	a->result = CUSTOS_RESULT_ABORTED;
	free(a->abort_reason);
	a->abort_reason = strdup(e->message[0] ? e->message
					       : custos_strerror(st));
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
		a->digest[alg][0] = '\0';
	for (size_t i = 0; i < a->file_count; i++)
		a->files[i].sha256[0] = '\0';
}

/*
 * Write the report and commit.  If the commit fails, the run becomes
 * aborted (*stop and *stop_err say why) and an aborted report is written
 * instead; if even that fails, no report exists and err says why.
 */
static custos_status publish(run *r, const custos_sign_options *sign,
		custos_status *stop, custos_error *stop_err, custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_status st, sign_st;
	custos_error sign_err, e;

	/* Give back the room kept for the report. */
	remove_own(r, RESERVE_NAME);
	custos_error_clear(&sign_err);
	custos_error_clear(&e);
	st = stage_and_commit(r, sign, &sign_st, &sign_err, &e);
	if (st == CUSTOS_OK && a->result != CUSTOS_RESULT_ABORTED &&
	    r->rs != NULL) {
		/* Done: what only a resume needs goes. */
		disown(r, r->rs->map_name);
		remove_own(r, CUSTOS__RESCUE_DATA_NAME);
		remove_own(r, CUSTOS__STATE_NAME);
		/* Last: while it exists, a resume can take the commit back. */
		remove_own(r, CUSTOS__JOURNAL_NAME);
	}
	if (st != CUSTOS_OK && a->result != CUSTOS_RESULT_ABORTED) {
		/* A failed commit is the run's first failure. */
		*stop = st;
		*stop_err = e;
		mark_aborted(a, st, &e);
		custos_error_clear(&e);
		st = stage_and_commit(r, sign, &sign_st, &sign_err, &e);
	}
	(void)rmdir(a->work_dir); /* ours; empty once all is committed */
	if (st != CUSTOS_OK) {
		a->report_written = 0;
		if (a->report_json == NULL)
			(void)report_json(a, NULL);
		return custos__error_set(err, st, "%s", e.message);
	}
	a->report_written = 1;
	if (sign_st != CUSTOS_OK) {
		if (err != NULL)
			*err = sign_err;
		return sign_st;
	}
	return CUSTOS_OK;
}

/*
 * Before imaging: the certificate may sign, and the key (with its
 * passphrase) matches it, by signing a scrap file once.  The scrap and
 * its signature are made in the private work folder, and only they are
 * removed afterwards.
 */
static custos_status check_signing(run *r, const custos_sign_options *sign,
		custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_sign_options trial = *sign;
	custos_cert *cert = NULL;
	char *scrap = work_path(a, SCRATCH_NAME);
	char *scrap_sig = scrap ? custos__aprintf("%s.p7s", scrap) : NULL;
	custos_status st;

	if (scrap_sig == NULL) {
		free(scrap);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	st = custos_cert_load(&cert, sign->cert_path, err);
	if (st == CUSTOS_OK && !custos_cert_can_sign(cert))
		st = custos__error_set(err, CUSTOS_EINVAL,
			"%s may not sign (key usage)", sign->cert_path);
	if (st == CUSTOS_OK) {
		a->signer_subject = custos__strdup(custos_cert_subject(cert));
		a->signer_fingerprint = custos__strdup(
			custos_cert_fingerprint_sha256(cert));
		trial.tsa_url = NULL; /* the TSA is asked only for the report */
		st = stage(r, scrap, "custos signing check\n", 21, err);
	}
	if (st == CUSTOS_OK) {
		st = custos_sign_file_to(scrap, scrap_sig, &trial, err);
		if (custos__path_exists(scrap_sig))
			own(r, SCRATCH_NAME ".p7s");
	}
	remove_own(r, SCRATCH_NAME ".p7s");
	remove_own(r, SCRATCH_NAME);
	custos_cert_free(cert);
	free(scrap_sig);
	free(scrap);
	return st;
}

/* --- verification --- */

static void verify_progress(const custos_progress *p, void *ctx)
{
	run *r = ctx;

	if (r->opts->progress != NULL)
		r->opts->progress(p, r->opts->progress_ctx);
}

/*
 * Read the image back from disk as any reader would (for an E01, through
 * libewf, checking every chunk) and compare its hashes with those taken
 * while acquiring.  Reads the files where they lie, in the work folder.
 */
static custos_status verify_image(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	size_t n = a->format == CUSTOS_FORMAT_E01 ? 1 : a->file_count;
	const char **paths = calloc(n + 1, sizeof(*paths));
	custos_image_hash_options ho;
	custos_image_hash_result res;
	custos_image *img = NULL;
	custos_status st = CUSTOS_OK;
	int mismatch = 0;

	if (paths == NULL || a->file_count == 0) {
		free(paths);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		paths[i] = a->files[i].work_path;
	st = custos_image_open(&img, paths, n, err);
	custos_image_hash_options_init(&ho);
	ho.digests = a->digests;
	ho.workers = r->opts->workers;
	ho.progress = verify_progress;
	ho.progress_ctx = r;
	ho.cancel = r->opts->cancel;
	if (st == CUSTOS_OK)
		st = custos_image_hash(img, &ho, &res, err);
	if (st == CUSTOS_OK && canceled(r))
		st = CUSTOS_ECANCELED;
	if (st == CUSTOS_EMISMATCH) {
		mismatch = 1;
		st = CUSTOS_OK;
	}
	for (int alg = 0; st == CUSTOS_OK && !mismatch &&
	     alg < CUSTOS_DIGEST_COUNT; alg++) {
		/* An E01 holds the media padded to a whole sector. */
		const char *want = a->format == CUSTOS_FORMAT_E01
			? a->stored_digest[alg] : a->digest[alg];

		if (!(a->digests & CUSTOS_DIGEST_BIT(alg)))
			continue;
		memcpy(a->verify_digest[alg], res.digest[alg],
			sizeof(a->verify_digest[alg]));
		if (strcmp(res.digest[alg], want) != 0)
			mismatch = 1;
	}
	if (st == CUSTOS_ECANCELED || (st != CUSTOS_OK && canceled(r))) {
		/* Stopped by the user: nothing is known about the image. */
		a->verify = CUSTOS_VERIFY_INTERRUPTED;
		for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
			a->verify_digest[alg][0] = '\0';
		a->verify_detail = custos__strdup("interrupted before the "
			"whole image was read back");
		st = custos__error_set(err, CUSTOS_ECANCELED,
			"the verification was interrupted: the image is "
			"complete, but it was not read back to the end");
	} else if (st != CUSTOS_OK) {
		a->verify = CUSTOS_VERIFY_FAILED;
		a->verify_detail = custos__aprintf("%s",
			err != NULL ? err->message : custos_strerror(st));
	} else if (mismatch) {
		a->verify = CUSTOS_VERIFY_MISMATCH;
		a->verify_detail = custos__aprintf("%s", err != NULL &&
			err->message[0] ? err->message
			: "the hashes read back differ from the acquisition");
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"verification failed: the image read back differs");
	} else {
		a->verify = CUSTOS_VERIFY_MATCH;
	}
	custos_image_free(img);
	free(paths);
	return st;
}

/* --- the run --- */

/*
 * After the last read: a run that never met a bad area has finished every
 * byte; the unreadable sectors are the map's unfinished ones, wherever in
 * the sessions they were met.
 */
static void settle_map(run *r, custos_status stop, custos_error *err)
{
	custos__resume *rs = r->rs;
	custos_ranges *bad = NULL;
	custos_status st;

	if (stop != CUSTOS_OK)
		return;
	pthread_mutex_lock(&rs->mutex);
	if (rs->rescue_from == UINT64_MAX) {
		/* An E01's durable point stays where a segment ended: a
		 * resume can only go on there. */
		if (r->ewf == NULL)
			rs->durable = r->a->bytes;
		(void)custos__map_set(rs->map, 0, custos__map_size(rs->map),
			CUSTOS__MAP_FINISHED, NULL);
	}
	rs->cursor.pos = 0;
	rs->cursor.status = CUSTOS__MAP_FINISHED;
	pthread_mutex_unlock(&rs->mutex);
	st = custos_ranges_new(&bad, err);
	if (st == CUSTOS_OK)
		st = custos__map_unfinished_ranges(rs->map, r->sector, bad, err);
	if (st == CUSTOS_OK) {
		custos_ranges_free(r->a->unreadable);
		r->a->unreadable = bad;
	} else {
		custos_ranges_free(bad);
	}
}

static custos_status validate(const custos_acquire_options *o,
		const custos_source_info *info, custos_error *err)
{
	if (o->version != CUSTOS_ACQUIRE_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"options version %d not supported", o->version);
	if (o->output_base == NULL || *o->output_base == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "no output name");
	if (o->format != CUSTOS_FORMAT_RAW && o->format != CUSTOS_FORMAT_E01)
		return custos__error_set(err, CUSTOS_EINVAL, "unknown format");
	if (o->compression > CUSTOS_COMPRESSION_BEST)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown compression");
	if (o->digests == 0 || o->digests >= (1u << CUSTOS_DIGEST_COUNT))
		return custos__error_set(err, CUSTOS_EINVAL, "no valid hash chosen");
	if (o->retries > 100)
		return custos__error_set(err, CUSTOS_EINVAL,
			"at most 100 retries");
	if (o->granularity != 0 &&
	    (o->granularity % info->logical_sector_size != 0 ||
	     o->granularity > DEFAULT_BUFFER_SIZE))
		return custos__error_set(err, CUSTOS_EINVAL,
			"granularity must be a multiple of the sector size "
			"(%u) and at most 1 MiB", info->logical_sector_size);
	if (o->buffer_size != 0 &&
	    (o->buffer_size % info->logical_sector_size != 0 ||
	     o->buffer_size > 64u * 1024 * 1024))
		return custos__error_set(err, CUSTOS_EINVAL,
			"buffer size must be a multiple of the sector size, "
			"at most 64 MiB");
	if (o->block_size != 0 && o->block_size != CUSTOS_BLOCKMAP_NONE &&
	    ((o->block_size & (o->block_size - 1)) != 0 ||
	     o->block_size < CUSTOS_BLOCKMAP_MIN_BLOCK_SIZE ||
	     o->block_size > CUSTOS_BLOCKMAP_MAX_BLOCK_SIZE ||
	     o->block_size % info->logical_sector_size != 0 ||
	     (o->buffer_size != 0 && o->buffer_size % o->block_size != 0)))
		return custos__error_set(err, CUSTOS_EINVAL,
			"block size must be a power of two from 512 bytes to "
			"16 MiB, a multiple of the sector size (%u) and divide "
			"the buffer size", info->logical_sector_size);
	if (o->split_size != 0 && o->split_size < info->logical_sector_size)
		return custos__error_set(err, CUSTOS_EINVAL,
			"split size must be at least one sector");
	if (o->require_readonly && info->kind == CUSTOS_SOURCE_BLOCK &&
	    info->read_only != 1)
		return custos__error_set(err, CUSTOS_EWRITABLE,
			"%s is not read-only in the kernel; refusing to image it "
			"(use a write-blocker, or `blockdev --setro %s`)",
			info->path, info->path);
	return CUSTOS_OK;
}

static custos_status open_e01(run *r, custos_error *err)
{
	const custos_acquire_options *o = r->opts;
	const custos_source_info *info = &r->a->source;
	uint32_t bps = info->logical_sector_size;
	custos__ewf_writer_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.output_base = o->output_base;
	cfg.work_dir = r->a->work_dir;
	cfg.compression = o->compression;
	cfg.segment_size = o->split_size;
	cfg.bytes_per_sector = bps;
	/* A medium that ends inside a sector is padded to a whole one. */
	cfg.media_size = info->size_known
		? (info->size_bytes + bps - 1) / bps * bps : 0;
	cfg.physical_device = info->kind == CUSTOS_SOURCE_BLOCK;
	cfg.case_info = &o->case_info;
	cfg.model = info->model;
	cfg.serial = info->serial;
	cfg.workers = o->workers ? o->workers : custos__cpu_count();
	if (r->rs != NULL) {
		cfg.segment_done = segment_done;
		cfg.segment_ctx = r;
	}
	if (o->resume) {
		unsigned int kept = r->rs->segments;

		/*
		 * libewf takes the segment size of a resume from the first
		 * segment, but only when two or more are kept; with one it
		 * falls back to its default.  Rather than segments larger
		 * than asked, such an E01 is made again from the start.
		 */
		if (kept == 1 && o->split_size != 0 &&
		    o->split_size != LIBEWF_DEFAULT_SEGMENT_FILE_SIZE)
			kept = 0;
		if (kept == 0) {
			custos__resume_rewind(r->rs);
			r->start = r->verify_at = 0;
		}
		return custos__ewf_writer_reopen(&r->ewf, &cfg, kept, r->start,
			err);
	}
	return custos__ewf_writer_open(&r->ewf, &cfg, err);
}

static custos_status setup(run *r, custos_error *err)
{
	const custos_acquire_options *o = r->opts;
	custos_acquisition *a = r->a;
	size_t bufsize = o->buffer_size ? o->buffer_size : DEFAULT_BUFFER_SIZE;
	size_t count = o->buffer_count ? o->buffer_count : DEFAULT_BUFFER_COUNT;

	/* Buffers hold whole blocks of the block map. */
	if (a->blockmap_path != NULL && o->buffer_size == 0 &&
	    a->block_size > bufsize)
		bufsize = a->block_size;
	int e01 = o->format == CUSTOS_FORMAT_E01;
	int need_file_hash;
	custos_status st = CUSTOS_OK;

	/* One file holds exactly the media bytes: reuse the media SHA-256. */
	need_file_hash = o->split_size != 0 ||
		!(o->digests & CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA256));
	if (o->sign != NULL)
		st = check_signing(r, o->sign, err);
	if (st == CUSTOS_OK && e01)
		st = open_e01(r, err);
	else if (st == CUSTOS_OK && o->resume)
		st = custos__raw_writer_reopen_in(&r->writer, o->output_base,
			a->work_dir, o->split_size, need_file_hash, r->start,
			err);
	else if (st == CUSTOS_OK)
		st = custos__raw_writer_open_in(&r->writer, o->output_base,
			a->work_dir, o->split_size, need_file_hash, err);
	if (st == CUSTOS_OK)
		st = custos__pipeline_new(&r->pipeline, bufsize, count, err);
	/* A resume replays the image written so far: hashed, not written;
	 * a buffer ends where the state's prefix hash was taken. */
	r->replay_seqs = r->verify_at > 0 && r->verify_at < r->start
		? (r->verify_at + bufsize - 1) / bufsize +
		  (r->start - r->verify_at + bufsize - 1) / bufsize
		: (r->start + bufsize - 1) / bufsize;
	for (int alg = 0; st == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++) {
		int check = r->rs != NULL && alg == r->rs->check_alg;

		if (!(a->digests & CUSTOS_DIGEST_BIT(alg)))
			continue;
		st = custos_digest_new(&r->digests[alg], (custos_digest_alg)alg,
			err);
		if (st == CUSTOS_OK)
			st = custos__pipeline_add_consumer(r->pipeline,
				check ? consume_check : consume_digest,
				check ? (void *)r : r->digests[alg], err);
	}
	if (st == CUSTOS_OK && a->blockmap_path != NULL) {
		/* A resume replays the whole prefix through the pipeline, so
		 * the map is made again from the start; the old one is ours,
		 * in our own work folder. */
		if (o->resume)
			(void)unlink(a->blockmap_work);
		st = custos__blockmap_writer_open(&r->blockmap,
			a->blockmap_work, a->block_size,
			a->source.logical_sector_size, err);
		if (st == CUSTOS_OK)
			own(r, custos__basename(a->blockmap_work));
		if (st == CUSTOS_OK)
			st = custos__blockmap_writer_attach(r->blockmap,
				r->pipeline, o->workers ? o->workers
				: custos__cpu_count(), err);
	}
	if (st == CUSTOS_OK && e01 && r->rs != NULL) {
		r->snap_count = custos__pipeline_buffer_count(r->pipeline);
		r->snaps = calloc(r->snap_count, sizeof(*r->snaps));
		r->snap_seq = calloc(r->snap_count, sizeof(*r->snap_seq));
		if (r->snaps == NULL || r->snap_seq == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		custos__ewf_writer_skip(r->ewf, r->start, r->start / bufsize);
	}
	if (st == CUSTOS_OK && e01) {
		st = custos__ewf_writer_attach(r->ewf, r->pipeline, err);
	} else if (st == CUSTOS_OK) {
		st = custos__pipeline_add_consumer(r->pipeline, consume_writer,
			r, err);
	}
	return st;
}

/*
 * The E01 holds the media padded to a whole sector: hash the padding on
 * copies of the digests (before they are finished), so that both values
 * can be reported.
 */
static custos_status pad_digests(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	uint64_t pad = custos__ewf_writer_padding(r->ewf);
	static const uint8_t zeros[65536];
	custos_status st = CUSTOS_OK;

	a->padding_bytes = pad;
	for (int alg = 0; pad > 0 && alg < CUSTOS_DIGEST_COUNT; alg++) {
		custos_digest *copy = NULL;

		if (r->digests[alg] == NULL)
			continue;
		st = custos_digest_dup(&copy, r->digests[alg], err);
		if (st == CUSTOS_OK)
			st = custos_digest_update(copy, zeros, (size_t)pad, err);
		if (st == CUSTOS_OK)
			st = custos_digest_final_hex(copy, a->stored_digest[alg],
				sizeof(a->stored_digest[alg]), err);
		custos_digest_free(copy);
		if (st != CUSTOS_OK)
			return st;
	}
	return CUSTOS_OK;
}

/* Write the block map's marks and header (its file stays in the work
 * folder until the commit). */
static custos_status finish_blockmap(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_status st = custos__blockmap_writer_finish(r->blockmap,
		a->bytes, a->unreadable, err);

	if (st != CUSTOS_OK)
		return st;
	snprintf(a->blockmap_root, sizeof(a->blockmap_root), "%s",
		custos__blockmap_writer_root_hex(r->blockmap));
	snprintf(a->blockmap_sha256, sizeof(a->blockmap_sha256), "%s",
		custos__blockmap_writer_sha256(r->blockmap));
	a->blockmap_leaves = custos__blockmap_writer_leaves(r->blockmap);
	a->blockmap_marked = custos__blockmap_writer_marked(r->blockmap);
	a->blockmap_size = custos__blockmap_writer_file_size(r->blockmap);
	a->blockmap_done = 1;
	return CUSTOS_OK;
}

/* Close the image files in the work folder (nothing is renamed yet). */
static custos_status close_image(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_status st;

	if (r->ewf == NULL)
		return custos__raw_writer_close(r->writer, err);
	if (a->padding_bytes == 0)
		memcpy(a->stored_digest, a->digest, sizeof(a->stored_digest));
	st = custos__ewf_writer_finish(r->ewf,
		a->stored_digest[CUSTOS_DIGEST_MD5],
		a->stored_digest[CUSTOS_DIGEST_SHA1], a->unreadable, err);
	if (st == CUSTOS_OK)
		st = custos__ewf_writer_seal(r->ewf, err);
	return st;
}

static custos_acquisition *acquisition_new(const custos_acquire_options *o,
		const custos_source_info *info)
{
	custos_acquisition *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->base = strdup(o->output_base);
	a->tool_name = custos__strdup(o->tool_name ? o->tool_name : "libcustos");
	a->format = o->format;
	a->compression = o->compression;
	a->digests = o->digests;
	/* EnCase 6 stores MD5 and SHA-1, so an E01 always gets both. */
	if (o->format == CUSTOS_FORMAT_E01)
		a->digests |= CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_MD5) |
			CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA1);
	a->split_size = o->split_size;
	a->retries = o->retries;
	a->granularity = o->granularity ? o->granularity
					: info->logical_sector_size;
	a->verify_requested = o->verify;
	a->work_dir = custos__aprintf("%s.part", o->output_base);
	a->report_json_path = custos__aprintf("%s.report.json", o->output_base);
	a->report_txt_path = custos__aprintf("%s.report.txt", o->output_base);
	a->sha256_path = custos__aprintf("%s.sha256", o->output_base);
	if (o->block_size != CUSTOS_BLOCKMAP_NONE) {
		a->block_size = o->block_size ? o->block_size
			: CUSTOS_BLOCKMAP_DEFAULT_BLOCK_SIZE;
		a->blockmap_path = custos__aprintf("%s.blockmap",
			o->output_base);
		a->blockmap_work = custos__aprintf("%s/%s.blockmap",
			a->work_dir, custos__basename(o->output_base));
		if (a->blockmap_path == NULL || a->blockmap_work == NULL) {
			custos_acquisition_free(a);
			return NULL;
		}
	}
	a->map_path = custos__aprintf("%s.map", o->output_base);
	if (o->sign != NULL) {
		a->sign_requested = 1;
		a->tsa_requested = o->sign->tsa_url != NULL;
		a->signature_path = custos__aprintf("%s.report.json.p7s",
			o->output_base);
		if (a->signature_path == NULL) {
			custos_acquisition_free(a);
			return NULL;
		}
	}
	if (a->base == NULL || a->tool_name == NULL || a->work_dir == NULL ||
	    a->report_json_path == NULL || a->report_txt_path == NULL ||
	    a->sha256_path == NULL || copy_source_info(a, info) != CUSTOS_OK ||
	    copy_case(a, &o->case_info) != CUSTOS_OK ||
	    custos_ranges_new(&a->unreadable, NULL) != CUSTOS_OK) {
		custos_acquisition_free(a);
		return NULL;
	}
	if (gethostname(a->host, sizeof(a->host) - 1) != 0)
		snprintf(a->host, sizeof(a->host), "unknown");
	custos__timezone_name(a->timezone, sizeof(a->timezone));
	return a;
}

custos_status custos_acquire_run(custos_acquisition **out, custos_source *src,
		const custos_acquire_options *opts, custos_error *err)
{
	run r;
	custos_status st, stop, vst = CUSTOS_OK;
	custos_error stop_err, verify_err;
	const custos_source_info *info;

	if (out == NULL || src == NULL || opts == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "missing argument");
	*out = NULL;
	info = custos_source_get_info(src);
	st = validate(opts, info, err);
	if (st != CUSTOS_OK)
		return st;
	memset(&r, 0, sizeof(r));
	r.side_fd = -1;
	r.opts = opts;
	r.src = src;
	r.sector = info->logical_sector_size;
	r.a = acquisition_new(opts, info);
	if (r.a == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	pthread_mutex_init(&r.snap_mutex, NULL);
	pthread_cond_init(&r.snap_cond, NULL);
	/* Claim the name before anything else: the source is not read yet. */
	st = claim(&r, err);
	if (st == CUSTOS_OK)
		st = open_state(&r, err);
	if (st == CUSTOS_OK)
		st = setup(&r, err);
	if (st != CUSTOS_OK) {
		custos__ewf_writer_free(r.ewf);
		r.ewf = NULL;
		custos_raw_writer_free(r.writer);
		r.writer = NULL;
		if (r.opts->resume) {
			/* Refused: the work folder stays as it was. */
			for (size_t i = 0; i < r.owned_count; i++)
				free(r.owned[i]);
			r.owned_count = 0;
		}
		release_claim(&r);
		goto cleanup; /* nothing of this run remains: no report */
	}

	r.a->started_at = time(NULL);
	r.t0 = custos__monotonic_seconds();
	custos_error_clear(&stop_err);
	custos_error_clear(&verify_err);
	stop = custos__pipeline_start(r.pipeline, &stop_err);
	if (stop == CUSTOS_OK)
		stop = produce(&r, &stop_err);
	/*
	 * Even when the reader stopped early, let the consumers drain what was
	 * already read (at most the buffer pool), so the partial image and the
	 * byte count in the report agree.  A consumer's failure (a full disk)
	 * comes before the reader's "interrupted" or "stopped".
	 */
	{
		custos_error cons_err;

		custos_error_clear(&cons_err);
		st = custos__pipeline_finish(r.pipeline, 0, &cons_err);
		if (st != CUSTOS_OK && (stop == CUSTOS_OK ||
		    stop == CUSTOS_ECANCELED)) {
			stop = st;
			stop_err = cons_err;
		}
	}
	r.a->bytes = custos__pipeline_bytes_done(r.pipeline);
	if (r.rs != NULL)
		settle_map(&r, stop, &stop_err);
	report_progress(&r, CUSTOS_PHASE_ACQUIRE, r.a->bytes,
		info->size_known ? info->size_bytes : 0, 1);
	if (stop == CUSTOS_OK && r.ewf != NULL)
		stop = pad_digests(&r, &stop_err);
	for (int alg = 0; stop == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++)
		if (r.digests[alg] != NULL)
			stop = custos_digest_final_hex(r.digests[alg],
				r.a->digest[alg], sizeof(r.a->digest[alg]),
				&stop_err);
	if (stop == CUSTOS_OK && r.blockmap != NULL)
		stop = finish_blockmap(&r, &stop_err);
	if (stop == CUSTOS_OK)
		stop = close_image(&r, &stop_err);
	if (stop == CUSTOS_OK && r.rs != NULL)
		stop = check_read_only(&r, &r.rs->ro_end, "at the end",
			&stop_err);
	/* A raw image is durable whole now: the state says so, with its
	 * hash, so a resume after a commit cut short can check it. */
	if (stop == CUSTOS_OK && r.rs != NULL && r.ewf == NULL &&
	    r.rs->durable == r.a->bytes)
		snprintf(r.rs->durable_hex, sizeof(r.rs->durable_hex), "%s",
			r.a->digest[r.rs->check_alg]);
	if (stop == CUSTOS_OK && r.rs != NULL)
		stop = custos__resume_stop(r.rs, "complete", r.a->bytes,
			&stop_err);
	if (stop == CUSTOS_OK)
		stop = check_work_dir(&r, &stop_err);

	st = record_files(&r, stop == CUSTOS_OK, err);
	if (stop != CUSTOS_OK) {
		/* How far it got: what reached the image, even if a hash
		 * thread was behind when the writer failed. */
		uint64_t in_image = r.ewf != NULL
			? custos__ewf_writer_bytes(r.ewf)
			: custos_raw_writer_bytes(r.writer);

		if (in_image > r.a->bytes)
			r.a->bytes = in_image;
		mark_aborted(r.a, stop, &stop_err);
		if (r.rs != NULL) {
			if (r.rs->ro_end == -2)
				r.rs->ro_end = custos__source_read_only_now(
					r.src);
			(void)custos__resume_stop(r.rs, r.a->abort_reason ?
				r.a->abort_reason : "aborted", r.rs->durable,
				NULL);
		}
	} else {
		r.a->result = custos_ranges_count(r.a->unreadable) > 0
			? CUSTOS_RESULT_COMPLETE_WITH_ERRORS
			: CUSTOS_RESULT_COMPLETE;
	}
	if (st == CUSTOS_OK && stop == CUSTOS_OK && opts->verify)
		vst = verify_image(&r, &verify_err);
	r.a->finished_at = time(NULL);
	r.a->duration_seconds = custos__monotonic_seconds() - r.t0;
	if (st == CUSTOS_OK) {
		custos_error pub_err;

		custos_error_clear(&pub_err);
		st = publish(&r, opts->sign, &stop, &stop_err, &pub_err);
		if (st != CUSTOS_OK && !r.a->report_written) {
			/* The first failure first; then that no report exists. */
			if (stop != CUSTOS_OK) {
				custos__error_set(err, stop, "%s; and no report "
					"could be written: %s", stop_err.message,
					pub_err.message);
				st = stop;
			} else {
				custos__error_set(err, st, "no report could be "
					"written: %s", pub_err.message);
			}
			stop = CUSTOS_OK;
		} else if (st != CUSTOS_OK && err != NULL) {
			*err = pub_err;
		}
	}
	if (st == CUSTOS_OK && stop != CUSTOS_OK) {
		st = stop;
		if (err != NULL)
			*err = stop_err;
	}
	if (st == CUSTOS_OK && vst != CUSTOS_OK) {
		st = vst;
		if (err != NULL)
			*err = verify_err;
	}
	*out = r.a;
	r.a = NULL;
cleanup:
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
		custos_digest_free(r.digests[alg]);
	custos__pipeline_free(r.pipeline);
	custos_raw_writer_free(r.writer);
	custos__ewf_writer_free(r.ewf);
	custos__blockmap_writer_free(r.blockmap);
	for (size_t i = 0; i < r.owned_count; i++)
		free(r.owned[i]);
	if (r.side_fd >= 0)
		close(r.side_fd);
	for (size_t i = 0; r.snaps != NULL && i < r.snap_count; i++)
		custos_digest_free(r.snaps[i]);
	free(r.snaps);
	free(r.snap_seq);
	pthread_mutex_destroy(&r.snap_mutex);
	pthread_cond_destroy(&r.snap_cond);
	if (*out != NULL)
		(*out)->resume = NULL;
	custos__resume_free(r.rs);
	custos_acquisition_free(r.a);
	return st;
}

/* --- accessors --- */

custos_acquire_result custos_acquisition_result(const custos_acquisition *a)
{
	return a->result;
}

const char *custos_acquire_result_name(custos_acquire_result r)
{
	switch (r) {
	case CUSTOS_RESULT_COMPLETE: return "complete";
	case CUSTOS_RESULT_COMPLETE_WITH_ERRORS: return "complete-with-errors";
	case CUSTOS_RESULT_ABORTED: return "aborted";
	}
	return "unknown";
}

custos_verify_result custos_acquisition_verify_result(
		const custos_acquisition *a)
{
	return a->verify;
}

uint64_t custos_acquisition_bytes(const custos_acquisition *a)
{
	return a->bytes;
}

const custos_ranges *custos_acquisition_unreadable(const custos_acquisition *a)
{
	return a->unreadable;
}

const char *custos_acquisition_digest(const custos_acquisition *a,
		custos_digest_alg alg)
{
	if ((int)alg < 0 || (int)alg >= CUSTOS_DIGEST_COUNT ||
	    a->digest[alg][0] == '\0')
		return NULL;
	return a->digest[alg];
}

const char *custos_acquisition_report_json(const custos_acquisition *a)
{
	return a->report_json;
}

const char *custos_acquisition_report_path(const custos_acquisition *a)
{
	return a->report_written ? a->report_json_path : NULL;
}

void custos_acquisition_free(custos_acquisition *a)
{
	if (a == NULL)
		return;
	free(a->base);
	free(a->tool_name);
	free((char *)a->case_info.case_number);
	free((char *)a->case_info.evidence_number);
	free((char *)a->case_info.examiner);
	free((char *)a->case_info.description);
	free((char *)a->case_info.notes);
	free((char *)a->source.path);
	free((char *)a->source.vendor);
	free((char *)a->source.model);
	free((char *)a->source.serial);
	free((char *)a->source.firmware);
	free((char *)a->source.backing_file);
	free((char *)a->source.identity_from);
	free(a->abort_reason);
	custos_ranges_free(a->unreadable);
	for (size_t i = 0; i < a->file_count; i++) {
		free(a->files[i].name);
		free(a->files[i].work_path);
		free(a->files[i].final_path);
	}
	free(a->files);
	free(a->verify_detail);
	free(a->signer_subject);
	free(a->signer_fingerprint);
	free(a->signature_path);
	free(a->sign_error);
	free(a->work_dir);
	free(a->report_json_path);
	free(a->report_txt_path);
	free(a->sha256_path);
	free(a->map_path);
	free(a->report_json);
	free(a->blockmap_path);
	free(a->blockmap_work);
	free(a);
}
