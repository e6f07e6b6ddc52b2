/*
 * Resume state (resume_private.h): the state file in <base>.part, the
 * sameness checks a resume must pass, the meeting point of the two halves
 * of a checkpoint, and the report's "recovery" object.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_private.h"
#include "fileio_private.h"
#include "resume_private.h"
#include "util_private.h"

#define STATE_VERSION 1
#define STATE_MAX (4u * 1024 * 1024)
#define MAP_MAX (512u * 1024 * 1024)
#define FINGERPRINT_BYTES (1024u * 1024)

static const char *pass_names[] = {
	"", "copy", "copy-skipped", "trim", "scrape", "retry",
};

static const char *pass_name(unsigned int p)
{
	return p < 5 ? pass_names[p] : pass_names[5];
}

/* SHA-256 of len bytes at offset, or "unreadable". */
static void fingerprint(custos_source *src, uint64_t offset, size_t len,
		char out[CUSTOS_DIGEST_HEX_MAX])
{
	uint8_t *buf = malloc(len ? len : 1);
	custos_digest *d = NULL;
	size_t got = 0;

	snprintf(out, CUSTOS_DIGEST_HEX_MAX, "unreadable");
	if (buf != NULL &&
	    custos_source_read(src, buf, len, offset, &got, NULL, NULL) ==
	    CUSTOS_OK && got == len &&
	    custos_digest_new(&d, CUSTOS_DIGEST_SHA256, NULL) == CUSTOS_OK &&
	    custos_digest_update(d, buf, len, NULL) == CUSTOS_OK)
		(void)custos_digest_final_hex(d, out, CUSTOS_DIGEST_HEX_MAX,
			NULL);
	custos_digest_free(d);
	free(buf);
}

static char *source_key(const custos__resume_config *c)
{
	const custos_source_info *i = c->info;
	uint64_t n = i->size_bytes < FINGERPRINT_BYTES ? i->size_bytes
						       : FINGERPRINT_BYTES;
	char first[CUSTOS_DIGEST_HEX_MAX], last[CUSTOS_DIGEST_HEX_MAX];
	json_t *j;
	char *s;

	fingerprint(c->src, 0, (size_t)n, first);
	fingerprint(c->src, i->size_bytes - n, (size_t)n, last);
	j = json_pack("{s:I, s:i, s:s?, s:s?, s:s?, s:s, s:s}",
		"size_bytes", (json_int_t)i->size_bytes,
		"sector_size", (int)i->logical_sector_size,
		"vendor", i->vendor, "model", i->model, "serial", i->serial,
		"first_mib_sha256", first, "last_mib_sha256", last);
	s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* SHA-256 of the case fields, byte for byte (they need not be UTF-8). */
static void case_digest(const custos_case_info *k, char *hex)
{
	const char *f[] = {k->case_number, k->evidence_number, k->examiner,
			   k->description, k->notes};
	custos_digest *d = NULL;

	snprintf(hex, CUSTOS_DIGEST_HEX_MAX, "none");
	if (custos_digest_new(&d, CUSTOS_DIGEST_SHA256, NULL) != CUSTOS_OK)
		return;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char len[32];

		/* Length first, so that fields cannot run into each other. */
		snprintf(len, sizeof(len), "%zd:", f[i] ? (ssize_t)strlen(f[i])
							: (ssize_t)-1);
		(void)custos_digest_update(d, len, strlen(len), NULL);
		if (f[i] != NULL)
			(void)custos_digest_update(d, f[i], strlen(f[i]), NULL);
	}
	(void)custos_digest_final_hex(d, hex, CUSTOS_DIGEST_HEX_MAX, NULL);
	custos_digest_free(d);
}

/* The options that shape the output; the rest may change on a resume. */
static char *options_key(const custos__resume_config *c)
{
	const custos_acquire_options *o = c->opts;
	char cases[CUSTOS_DIGEST_HEX_MAX];
	json_t *j;
	char *s;

	case_digest(&o->case_info, cases);
	j = json_pack("{s:i, s:i, s:I, s:i, s:i, s:I, s:s}",
		"format", (int)o->format,
		"compression", o->format == CUSTOS_FORMAT_E01
			? (int)o->compression : 0,
		"split_size", (json_int_t)o->split_size,
		"digests", (int)c->digests,
		"granularity", (int)o->granularity,
		"buffer_size", (json_int_t)o->buffer_size,
		"case_sha256", cases);
	s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

static json_t *sessions_json(const custos__resume *rs)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < rs->session_count; i++) {
		const custos__session *s = &rs->sessions[i];
		char start[CUSTOS__RFC3339_MAX], stop[CUSTOS__RFC3339_MAX];

		custos__time_rfc3339(start, s->start);
		custos__time_rfc3339(stop, s->stop);
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, "
			"s:s, s:s}", "started_at", start, "stopped_at", stop,
			"bytes_from", (json_int_t)s->bytes_from,
			"bytes_to", (json_int_t)s->bytes_to,
			"bytes", (json_int_t)(s->bytes_to > s->bytes_from
				? s->bytes_to - s->bytes_from : 0),
			"stop_reason", s->reason, "host", s->host));
	}
	return a;
}

static custos_status write_state(custos__resume *rs, custos_error *err)
{
	json_t *j, *ss = json_array();
	char *text, *map = NULL;
	custos_status st;

	for (size_t i = 0; ss != NULL && i < rs->session_count; i++) {
		const custos__session *s = &rs->sessions[i];

		json_array_append_new(ss, json_pack("{s:I, s:I, s:I, s:I, s:s, "
			"s:s}", "start", (json_int_t)s->start,
			"stop", (json_int_t)s->stop,
			"bytes_from", (json_int_t)s->bytes_from,
			"bytes_to", (json_int_t)s->bytes_to,
			"reason", s->reason, "host", s->host));
	}
	j = json_pack("{s:i, s:s, s:s, s:s, s:I, s:i, s:i, s:s, s:I, s:o}",
		"custos_resume_state", STATE_VERSION, "tool", rs->tool,
		"options", rs->options_key, "source", rs->source_key,
		"durable_bytes", (json_int_t)rs->durable,
		"durable_segments", (int)rs->segments,
		"check_digest", rs->check_alg, "durable_digest", rs->durable_hex,
		"rescue_from", (json_int_t)(rs->rescue_from == UINT64_MAX ? -1
			: (json_int_t)rs->rescue_from),
		"sessions", ss);
	text = j ? json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
	json_decref(j);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	/* The map first: the state never names a rescue the map lacks. */
	st = custos__map_format(rs->map, &rs->cursor, rs->tool, &map, err);
	if (st == CUSTOS_OK)
		st = custos__replace_own_file(rs->map_path, map, strlen(map),
			err);
	if (st == CUSTOS_OK)
		st = custos__replace_own_file(rs->state_path, text,
			strlen(text), err);
	free(map);
	free(text);
	return st;
}

/* The map of a stream that has reached offset bytes without an error. */
static custos_status stream_map(custos__resume *rs, custos_error *err)
{
	if (rs->rescue_from != UINT64_MAX || rs->durable == 0)
		return CUSTOS_OK;
	rs->cursor.pos = rs->durable;
	return custos__map_set(rs->map, 0, rs->durable, CUSTOS__MAP_FINISHED,
		err);
}

custos_status custos__resume_save(custos__resume *rs, custos_error *err)
{
	custos__session *s = &rs->sessions[rs->session_count - 1];
	custos_status st;

	s->stop = time(NULL);
	if (s->bytes_to < rs->durable)
		s->bytes_to = rs->durable;
	/* Every save brings a stream's map up to the durable point first: a
	 * save from a stop or a session start must never name more durable
	 * bytes than the map it writes (a resume would refuse it). */
	if ((st = stream_map(rs, err)) != CUSTOS_OK)
		return st;
	return write_state(rs, err);
}

static custos_status checkpoint_locked(custos__resume *rs, size_t k)
{
	custos_error e;
	custos_status st;

	if (!rs->ring[k].hashed || !rs->ring[k].durable ||
	    rs->ring[k].bytes <= rs->durable)
		return CUSTOS_OK;
	rs->durable = rs->ring[k].bytes;
	memcpy(rs->durable_hex, rs->ring[k].hex, sizeof(rs->durable_hex));
	if (rs->map_busy)
		return CUSTOS_OK; /* the passes save it at their next point */
	custos_error_clear(&e);
	st = stream_map(rs, &e);
	if (st == CUSTOS_OK)
		st = custos__resume_save(rs, &e);
	if (st != CUSTOS_OK && rs->save_status == CUSTOS_OK) {
		rs->save_status = st;
		rs->save_err = e;
	}
	return st;
}

static size_t slot_of(const custos__resume *rs, uint64_t bytes)
{
	return (size_t)(((bytes - rs->session_base) / rs->interval) %
		CUSTOS__CHECKPOINT_RING);
}

void custos__resume_hashed(custos__resume *rs, uint64_t bytes,
		const char *hex)
{
	size_t k = slot_of(rs, bytes);

	pthread_mutex_lock(&rs->mutex);
	if (rs->ring[k].bytes != bytes) {
		rs->ring[k].bytes = bytes;
		rs->ring[k].durable = 0;
	}
	snprintf(rs->ring[k].hex, sizeof(rs->ring[k].hex), "%s", hex);
	rs->ring[k].hashed = 1;
	(void)checkpoint_locked(rs, k);
	pthread_mutex_unlock(&rs->mutex);
}

void custos__resume_durable(custos__resume *rs, uint64_t bytes)
{
	size_t k = slot_of(rs, bytes);

	pthread_mutex_lock(&rs->mutex);
	if (rs->ring[k].bytes != bytes) {
		rs->ring[k].bytes = bytes;
		rs->ring[k].hashed = 0;
	}
	rs->ring[k].durable = 1;
	(void)checkpoint_locked(rs, k);
	pthread_mutex_unlock(&rs->mutex);
}

void custos__resume_segment(custos__resume *rs, unsigned int segments,
		uint64_t bytes, const char *hex)
{
	custos_error e;
	custos_status st = CUSTOS_OK;

	pthread_mutex_lock(&rs->mutex);
	if (bytes > rs->durable) {
		rs->durable = bytes;
		rs->segments = segments;
		snprintf(rs->durable_hex, sizeof(rs->durable_hex), "%s", hex);
		custos_error_clear(&e);
		/* While the passes run they save it at their next point. */
		if (!rs->map_busy)
			st = custos__resume_save(rs, &e);
		if (st != CUSTOS_OK && rs->save_status == CUSTOS_OK) {
			rs->save_status = st;
			rs->save_err = e;
		}
	}
	pthread_mutex_unlock(&rs->mutex);
}

void custos__resume_rewind(custos__resume *rs)
{
	custos__session *s = &rs->sessions[rs->session_count - 1];

	rs->durable = 0;
	rs->segments = 0;
	rs->durable_hex[0] = '\0';
	rs->session_base = 0;
	s->bytes_from = s->bytes_to = 0;
}

custos_status custos__resume_stop(custos__resume *rs, const char *reason,
		uint64_t bytes, custos_error *err)
{
	custos__session *s = &rs->sessions[rs->session_count - 1];

	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (bytes > s->bytes_to)
		s->bytes_to = bytes;
	return custos__resume_save(rs, err);
}

/* --- loading and checking an earlier session's state --- */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static custos_status load_state(custos__resume *rs,
		const custos__resume_config *c, custos_error *err)
{
	unsigned char *data = NULL, *map = NULL;
	size_t len = 0, maplen = 0;
	json_t *j, *ss;
	custos_status st;
	json_int_t from;
	custos_error e;

	st = custos__read_file_max(rs->state_path, STATE_MAX, &data, &len,
		"resume state", &e);
	if (st != CUSTOS_OK)
		return custos__error_set(err, CUSTOS_EFORMAT, "%s holds no "
			"resume state of this tool (%s); not resuming",
			c->work_dir, e.message);
	j = json_loadb((const char *)data, len, 0, NULL);
	free(data);
	if (!json_is_object(j) || json_integer_value(json_object_get(j,
			"custos_resume_state")) != STATE_VERSION) {
		json_decref(j);
		return custos__error_set(err, CUSTOS_EFORMAT, "%s/%s is not a "
			"custos resume state; not resuming", c->work_dir,
			CUSTOS__STATE_NAME);
	}
	if (strcmp(jstr(j, "options"), rs->options_key) != 0)
		st = custos__error_set(err, CUSTOS_EFORMAT, "refusing to resume: "
			"the options differ from the interrupted run's (format, "
			"compression, split, hashes, granularity, buffer size or "
			"case details); run it again with the same options");
	else if (strcmp(jstr(j, "source"), rs->source_key) != 0)
		st = custos__error_set(err, CUSTOS_EFORMAT, "refusing to resume: "
			"%s is not the source of the interrupted run (its size, "
			"identity or first and last MiB differ)", c->info->path);
	if (st == CUSTOS_OK) {
		rs->durable = (uint64_t)json_integer_value(json_object_get(j,
			"durable_bytes"));
		rs->check_alg = (int)json_integer_value(json_object_get(j,
			"check_digest"));
		snprintf(rs->durable_hex, sizeof(rs->durable_hex), "%s",
			jstr(j, "durable_digest"));
		rs->segments = (unsigned int)json_integer_value(
			json_object_get(j, "durable_segments"));
		from = json_integer_value(json_object_get(j, "rescue_from"));
		rs->rescue_from = from < 0 ? UINT64_MAX : (uint64_t)from;
		ss = json_object_get(j, "sessions");
		for (size_t i = 0; i < json_array_size(ss) &&
		     rs->session_count < CUSTOS__MAX_SESSIONS - 1; i++) {
			json_t *o = json_array_get(ss, i);
			custos__session *s = &rs->sessions[rs->session_count++];

			s->start = (time_t)json_integer_value(json_object_get(o,
				"start"));
			s->stop = (time_t)json_integer_value(json_object_get(o,
				"stop"));
			s->bytes_from = (uint64_t)json_integer_value(
				json_object_get(o, "bytes_from"));
			s->bytes_to = (uint64_t)json_integer_value(
				json_object_get(o, "bytes_to"));
			snprintf(s->reason, sizeof(s->reason), "%s",
				jstr(o, "reason"));
			snprintf(s->host, sizeof(s->host), "%s", jstr(o, "host"));
		}
		if (rs->session_count > 0 && strcmp(rs->sessions[
				rs->session_count - 1].reason, "running") == 0)
			snprintf(rs->sessions[rs->session_count - 1].reason,
				sizeof(rs->sessions[0].reason), "ended without "
				"a clean stop (killed, crashed or power lost); "
				"durable up to byte %" PRIu64, rs->durable);
	}
	json_decref(j);
	if (st != CUSTOS_OK)
		return st;
	if (custos__path_exists(rs->map_path)) {
		custos__map *m = NULL;

		st = custos__read_file_max(rs->map_path, MAP_MAX, &map, &maplen,
			"mapfile", err);
		if (st == CUSTOS_OK)
			st = custos__map_parse((const char *)map, maplen,
				c->info->size_bytes, &m, &rs->cursor, err);
		free(map);
		if (st != CUSTOS_OK)
			return custos__error_set(err, CUSTOS_EFORMAT, "refusing "
				"to resume: %s: %s", rs->map_path,
				err ? err->message : "damaged");
		custos__map_free(rs->map);
		rs->map = m;
	}
	if (rs->rescue_from == UINT64_MAX &&
	    custos__map_bytes(rs->map, "+") < rs->durable)
		return custos__error_set(err, CUSTOS_EFORMAT, "refusing to "
			"resume: the mapfile and the state disagree");
	return CUSTOS_OK;
}

static custos_status lock_folder(custos__resume *rs, const char *dir,
		custos_error *err)
{
	struct stat sb;

	rs->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (rs->lock_fd < 0)
		return custos__error_errno(err, errno, "cannot open %s", dir);
	if (fstat(rs->lock_fd, &sb) != 0 || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0)
		return custos__error_set(err, CUSTOS_EFORMAT, "%s is not a "
			"private work folder of this user; not resuming", dir);
	if (flock(rs->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return custos__error_set(err, CUSTOS_EEXIST, "%s is in use by "
			"another run", dir);
	return CUSTOS_OK;
}

custos_status custos__resume_open(custos__resume **out,
		const custos__resume_config *c, custos_error *err)
{
	custos__resume *rs = calloc(1, sizeof(*rs));
	custos__session *s;
	custos_status st;

	*out = NULL;
	if (rs == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	pthread_mutex_init(&rs->mutex, NULL);
	rs->lock_fd = -1;
	rs->rescue_from = UINT64_MAX;
	rs->interval = c->interval;
	rs->ro_start = rs->ro_after_error = rs->ro_end = -2;
	rs->map_name = custos__aprintf("%s.map", custos__basename(c->base));
	rs->state_path = custos__aprintf("%s/%s", c->work_dir,
		CUSTOS__STATE_NAME);
	rs->map_path = rs->map_name ? custos__aprintf("%s/%s", c->work_dir,
		rs->map_name) : NULL;
	rs->tool = custos__strdup(c->tool ? c->tool : "custos");
	rs->options_key = options_key(c);
	rs->source_key = source_key(c);
	/* The prefix check uses the strongest digest the run computes. */
	rs->check_alg = -1;
	for (int alg = CUSTOS_DIGEST_COUNT - 1; alg >= 0; alg--)
		if (rs->check_alg < 0 && (c->digests & CUSTOS_DIGEST_BIT(alg)))
			rs->check_alg = alg;
	if (rs->state_path == NULL || rs->map_path == NULL ||
	    rs->tool == NULL || rs->options_key == NULL ||
	    rs->source_key == NULL) {
		custos__resume_free(rs);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	st = custos__map_new(&rs->map, c->info->size_bytes, err);
	if (st == CUSTOS_OK)
		st = lock_folder(rs, c->work_dir, err);
	if (st == CUSTOS_OK && c->resume)
		st = load_state(rs, c, err);
	if (st != CUSTOS_OK) {
		custos__resume_free(rs);
		return st;
	}
	rs->resumed = c->resume;
	rs->session_base = rs->durable;
	rs->cursor.pass = rs->cursor.pass ? rs->cursor.pass : 1;
	if (!c->resume)
		rs->cursor.status = CUSTOS__MAP_NON_TRIED;
	s = &rs->sessions[rs->session_count++];
	s->start = s->stop = time(NULL);
	s->bytes_from = s->bytes_to = rs->durable;
	snprintf(s->reason, sizeof(s->reason), "running");
	if (gethostname(s->host, sizeof(s->host) - 1) != 0)
		snprintf(s->host, sizeof(s->host), "unknown");
	*out = rs;
	return CUSTOS_OK;
}

void custos__resume_free(custos__resume *rs)
{
	if (rs == NULL)
		return;
	if (rs->lock_fd >= 0)
		close(rs->lock_fd);
	custos__map_free(rs->map);
	pthread_mutex_destroy(&rs->mutex);
	free(rs->state_path);
	free(rs->map_path);
	free(rs->map_name);
	free(rs->tool);
	free(rs->options_key);
	free(rs->source_key);
	free(rs->ro_change);
	free(rs);
}

/* --- the report --- */

static json_t *ro_json(int v)
{
	if (v == -2)
		return json_null();
	return v == CUSTOS_UNKNOWN ? json_string("unknown") : json_boolean(v);
}

char *custos__resume_report_json(const custos__resume *rs)
{
	json_t *passes = json_array(), *j;
	char *s;

	for (unsigned int p = 1; passes != NULL && p <= rs->stats.last_pass_run
	     && p <= CUSTOS__RESCUE_MAX_PASSES; p++) {
		const custos__rescue_pass_stats *ps = &rs->stats.pass[p];

		json_array_append_new(passes, json_pack("{s:i, s:s, s:I, s:I, "
			"s:I, s:I}", "pass", (int)p, "name", pass_name(p),
			"reads", (json_int_t)ps->reads,
			"failed_reads", (json_int_t)ps->failed_reads,
			"bytes_recovered", (json_int_t)ps->bytes_recovered,
			"ms", (json_int_t)(ps->seconds * 1000.0)));
	}
	j = json_pack("{s:b, s:o, s:I, s:I, s:s, s:o, s:b, s:o?, s:{s:o, s:o, "
		"s:o, s:s?}}",
		"resumed", rs->resumed, "sessions", sessions_json(rs),
		"rehashed_bytes", (json_int_t)rs->rehash_bytes,
		"rehash_ms", (json_int_t)(rs->rehash_seconds * 1000.0),
		"mapfile", rs->map_name, "passes", passes,
		"bad_area_time_limit_reached", rs->stats.time_limit_reached,
		"rescue_from_byte", rs->rescue_from == UINT64_MAX ? NULL
			: json_integer((json_int_t)rs->rescue_from),
		"read_only_checks", "at_start", ro_json(rs->ro_start),
		"after_read_error", ro_json(rs->ro_after_error),
		"at_end", ro_json(rs->ro_end), "change", rs->ro_change);
	s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

char *custos__resume_report_text(const custos__resume *rs)
{
	size_t cap = 1024 + rs->session_count * 800 + 16 * 160, used = 0;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	t[0] = '\0';
#define ADD(...) (used += (size_t)snprintf(t + used, cap - used, __VA_ARGS__))
	ADD("Sessions\n");
	for (size_t i = 0; i < rs->session_count; i++) {
		const custos__session *s = &rs->sessions[i];
		char a[CUSTOS__RFC3339_MAX], b[CUSTOS__RFC3339_MAX];

		custos__time_rfc3339(a, s->start);
		custos__time_rfc3339(b, s->stop);
		ADD("  %zu. %s to %s on %s: bytes %" PRIu64 " to %" PRIu64
			"; %s\n", i + 1, a, b, s->host, s->bytes_from,
			s->bytes_to, s->reason);
	}
	if (rs->resumed)
		ADD("  Rehashed %" PRIu64 " bytes of the image in %.2f s\n",
			rs->rehash_bytes, rs->rehash_seconds);
	ADD("  Mapfile:               %s\n", rs->map_name);
	for (unsigned int p = 1; p <= rs->stats.last_pass_run &&
	     p <= CUSTOS__RESCUE_MAX_PASSES; p++)
		ADD("  Pass %u (%s): %" PRIu64 " reads, %" PRIu64 " failed, %"
			PRIu64 " bytes recovered\n", p, pass_name(p),
			rs->stats.pass[p].reads,
			rs->stats.pass[p].failed_reads,
			rs->stats.pass[p].bytes_recovered);
	ADD("  Kernel read-only flag: start %s, after a read error %s, "
		"end %s\n", rs->ro_start == -2 ? "-" : rs->ro_start == 1
		? "yes" : rs->ro_start == 0 ? "no" : "unknown",
		rs->ro_after_error == -2 ? "-" : rs->ro_after_error == 1
		? "yes" : rs->ro_after_error == 0 ? "no" : "unknown",
		rs->ro_end == -2 ? "-" : rs->ro_end == 1 ? "yes"
		: rs->ro_end == 0 ? "no" : "unknown");
#undef ADD
	return t;
}
