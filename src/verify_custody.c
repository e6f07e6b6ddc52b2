/*
 * Custody checks for custos-verify.  First each whole log is checked with
 * custos_custody_verify (hash chain, every signature, Merkle tree,
 * checkpoints and their timestamps).  Only a log it vouched for is then
 * read record by record (the records that check parsed, from the very
 * bytes it verified: custody_kept_private.h) to follow each item: the "acquired" record whose report hash is the report's;
 * continuity (every "received" answers a "released" of the same item that
 * is still open, a release comes from the holder, so there are never two
 * holders at once, and nothing follows "destroyed" or "returned"); the
 * longest time between two records of the item, judged against --max-gap;
 * and who holds the item now.  The facts a profile needs (warrant, legal
 * basis, each transfer's two signers, the longest gap) go on the item.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody_kept_private.h"
#include "verify_private.h"

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int names_item(json_t *rec, const char *item)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(rec, "items"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), item) == 0)
			return 1;
	return 0;
}

/*
 * Which records of a log name each item, in log order: built once per log
 * so that following 1,000 items through 100,000 records reads each record
 * once, not once per item.  A hash table (open addressing) of item names,
 * which point into the records' JSON.
 */
typedef struct item_records {
	const char *item;       /* NULL: a free slot */
	size_t *recs;
	size_t n, cap;
} item_records;

typedef struct log_index {
	item_records *slots;
	size_t cap;             /* a power of two, or 0 */
	size_t used;
	int oom;
} log_index;

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static item_records *index_slot(item_records *slots, size_t cap,
		const char *item)
{
	size_t i = name_hash(item) & (cap - 1);

	while (slots[i].item != NULL && strcmp(slots[i].item, item) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int index_grow(log_index *ix)
{
	size_t nc = ix->cap ? ix->cap * 2 : 64;
	item_records *ns = calloc(nc, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slots[i].item != NULL)
			*index_slot(ns, nc, ix->slots[i].item) = ix->slots[i];
	free(ix->slots);
	ix->slots = ns;
	ix->cap = nc;
	return 0;
}

static void index_add(log_index *ix, const char *item, size_t rec)
{
	item_records *s;

	if (ix->oom)
		return;
	if ((ix->used + 1) * 2 > ix->cap && index_grow(ix) != 0) {
		ix->oom = 1;
		return;
	}
	s = index_slot(ix->slots, ix->cap, item);
	if (s->item == NULL) {
		s->item = item;
		ix->used++;
	}
	if (s->n > 0 && s->recs[s->n - 1] == rec)
		return; /* the record names the item twice */
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		size_t *nr = realloc(s->recs, nc * sizeof(*nr));

		if (nr == NULL) {
			ix->oom = 1;
			return;
		}
		s->recs = nr;
		s->cap = nc;
	}
	s->recs[s->n++] = rec;
}

static void index_build(log_index *ix, const verify_log *lg)
{
	memset(ix, 0, sizeof(*ix));
	for (size_t k = 0; k < lg->record_count; k++) {
		size_t i;
		json_t *v;

		json_array_foreach(json_object_get(lg->records[k].json,
				"items"), i, v)
			if (json_is_string(v))
				index_add(ix, json_string_value(v), k);
	}
}

/* The records of lg that name item (none: n is 0). */
static const item_records *index_find(const log_index *ix, const char *item)
{
	static const item_records none;
	const item_records *s;

	if (ix->cap == 0)
		return &none;
	s = index_slot(ix->slots, ix->cap, item);
	return s->item != NULL ? s : &none;
}

static void index_free(log_index *ix)
{
	for (size_t i = 0; i < ix->cap; i++)
		free(ix->slots[i].recs);
	free(ix->slots);
	memset(ix, 0, sizeof(*ix));
}

/* The records the log's verification kept (their JSON now lg's). */
static void take_records(verify_log *lg, custos__custody_kept *kept,
		size_t count)
{
	lg->records = calloc(count ? count : 1, sizeof(*lg->records));
	for (size_t k = 0; k < count; k++) {
		verify_record *rec;

		if (lg->records == NULL) {
			json_decref(kept[k].json);
			continue;
		}
		rec = &lg->records[k];
		rec->json = kept[k].json;
		memcpy(rec->sha256, kept[k].sha256, sizeof(rec->sha256));
		rec->seq = k;
		if (!custos__verify_parse_time(jstr(rec->json, "event_time"),
				&rec->event_time))
			rec->event_time = INT64_MIN;
	}
	lg->record_count = lg->records != NULL ? count : 0;
	free(kept);
}

static void check_log(custos_verify_case *r, verify_log *lg,
		const custos_verify_options *opts)
{
	custos_custody_verify_options co;
	custos_custody_verification *v = NULL;
	custos__custody_kept *kept = NULL;
	size_t kept_count = 0;
	custos_error e;
	custos_status st;
	char obs[96];

	custos_error_clear(&e);
	custos_custody_verify_options_init(&co);
	co.trust = opts->trust;
	co.trust_count = opts->trust_count;
	st = custos__custody_verify_keep(&v, lg->dir, &co, &kept,
		&kept_count, &e);
	lg->facts = json_pack("{s:s}", "path", lg->dir);
	if (lg->facts == NULL || json_array_append_new(r->logs, lg->facts)) {
		r->oom = 1;
		lg->facts = NULL;
	}
	if (v == NULL) {
		lg->verified = -1;
		custos__verify_add(r, "custody.log", lg->dir,
			st == CUSTOS_EFORMAT ? CUSTOS_CHECK_FAILED
					     : CUSTOS_CHECK_NOT_CHECKED, 1,
			NULL, NULL, "the log cannot be checked: %s", e.message);
		return;
	}
	snprintf(obs, sizeof(obs), "%" PRIu64 " records, %zu checkpoints",
		custos_custody_verification_records(v),
		custos_custody_verification_checkpoints(v));
	if (lg->facts != NULL) {
		json_object_set_new(lg->facts, "records", json_integer(
			(json_int_t)custos_custody_verification_records(v)));
		json_object_set_new(lg->facts, "checkpoints", json_integer(
			(json_int_t)custos_custody_verification_checkpoints(v)));
		json_object_set_new(lg->facts, "tree_head", json_string(
			custos_custody_verification_root(v)));
	}
	if (st == CUSTOS_OK &&
	    custos_custody_verification_problem_count(v) == 0 &&
	    kept != NULL) {
		lg->verified = 1;
		take_records(lg, kept, kept_count);
		kept = NULL;
		if (lg->records == NULL)
			r->oom = 1;
		custos__verify_add(r, "custody.log", lg->dir,
			CUSTOS_CHECK_PASSED, 1, NULL, obs,
			"hash chain, every record's signature, the Merkle tree "
			"and the checkpoints verify");
		if (opts->trust_count == 0)
			custos__verify_add(r, "custody.trust", lg->dir,
				CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
				"the signers were checked only against the CAs "
				"the log pins itself; no trust anchor given "
				"(--trust CA.pem)");
	} else {
		size_t np = custos_custody_verification_problem_count(v);

		lg->verified = 0;
		custos__verify_add(r, "custody.log", lg->dir,
			CUSTOS_CHECK_FAILED, 1, NULL, obs,
			"%s%s", np ? custos_custody_verification_problem(v, 0)
				   : e.message,
			np > 1 ? " (and more problems)" : "");
	}
	for (size_t k = 0; k < kept_count && kept != NULL; k++)
		json_decref(kept[k].json);
	free(kept);
	custos_custody_verification_free(v);
}

/* The holder as a JSON object {name, cert_sha256}. */
static json_t *actor_of(json_t *rec)
{
	json_t *a = json_object_get(rec, "actor");

	return json_pack("{s:o, s:o, s:I, s:o}",
		"name", jstr(a, "name") ? json_string(jstr(a, "name"))
					: json_null(),
		"cert_sha256", jstr(a, "cert_sha256") ?
			json_string(jstr(a, "cert_sha256")) : json_null(),
		"seq", (json_int_t)json_integer_value(json_object_get(rec,
			"seq")),
		/* when the record says it happened (CASE/UCO export) */
		"event_time", jstr(rec, "event_time") ?
			json_string(jstr(rec, "event_time")) : json_null());
}

static int same_actor(json_t *a, json_t *b)
{
	const char *x = jstr(a, "cert_sha256"), *y = jstr(b, "cert_sha256");

	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* Follow one item through one vouched-for log.  (The details take record
 * numbers as %llu, not PRIu64: a catalogue keeps no msgid with <PRIu64>
 * where lang.c looks them up.) */
static void follow_item(custos_verify_case *r, const verify_log *lg,
		const item_records *named, const char *item,
		const verify_report *rep, const custos_verify_options *opts)
{
	json_t *facts = custos__verify_item(r, item);
	json_t *holder = NULL, *transfers = json_array(), *exports =
		json_array();
	const verify_record *pending = NULL, *acquired = NULL, *ended = NULL,
		*prev = NULL, *gap_a = NULL, *gap_b = NULL;
	const char *problem = NULL;
	char problem_buf[256], obs[96], gapbuf[64];
	int64_t max_gap = -1;
	size_t count = 0, acquired_other = 0;

	if (facts == NULL || transfers == NULL || exports == NULL) {
		json_decref(transfers);
		json_decref(exports);
		r->oom = 1;
		return;
	}
	json_object_set_new(facts, "log", json_string(lg->dir));
	for (size_t k = 0; k < named->n; k++) {
		size_t i = named->recs[k];
		const verify_record *rec = &lg->records[i];
		const char *type = jstr(rec->json, "type");

		if (type == NULL)
			continue;
		count++;
		custos__verify_history_add(facts, rec);
		if (prev != NULL && rec->event_time != INT64_MIN &&
		    prev->event_time != INT64_MIN &&
		    rec->event_time - prev->event_time > max_gap) {
			max_gap = rec->event_time - prev->event_time;
			gap_a = prev;
			gap_b = rec;
		}
		prev = rec;
		if (ended != NULL && problem == NULL) {
			snprintf(problem_buf, sizeof(problem_buf),
				"record %" PRIu64 " (%s) comes after record %"
				PRIu64 " (%s)", rec->seq, type, ended->seq,
				jstr(ended->json, "type"));
			problem = problem_buf;
		}
		if (strcmp(type, "acquired") == 0) {
			const char *h = jstr(json_object_get(rec->json,
				"report"), "sha256");

			if (rep != NULL && h != NULL &&
			    strcasecmp(h, rep->sha256) == 0 && acquired == NULL)
				acquired = rec;
			else
				acquired_other++;
			if (holder == NULL)
				holder = actor_of(rec->json);
		} else if (strcmp(type, "released") == 0) {
			json_t *by = json_object_get(rec->json, "actor");

			if (problem == NULL && pending != NULL) {
				snprintf(problem_buf, sizeof(problem_buf),
					"record %" PRIu64 " releases the item "
					"while the release in record %" PRIu64
					" is not yet received", rec->seq,
					pending->seq);
				problem = problem_buf;
			} else if (problem == NULL && holder != NULL &&
				   !same_actor(holder, by)) {
				snprintf(problem_buf, sizeof(problem_buf),
					"record %" PRIu64 " is a release by "
					"someone who does not hold the item "
					"(held since record %lld)", rec->seq,
					(long long)json_integer_value(
					json_object_get(holder, "seq")));
				problem = problem_buf;
			}
			pending = rec;
		} else if (strcmp(type, "received") == 0) {
			json_t *ans = json_object_get(rec->json, "answers");
			json_int_t aseq = json_integer_value(json_object_get(
				ans, "seq"));
			const verify_record *rel = NULL;

			if (json_is_integer(json_object_get(ans, "seq")) &&
			    aseq >= 0 && (size_t)aseq < i)
				rel = &lg->records[aseq];
			if (rel == NULL && json_object_get(rec->json,
					"transfer") != NULL) {
				/* Received from another state's log. */
			} else if (problem == NULL && (rel == NULL ||
				   !names_item(rel->json, item))) {
				snprintf(problem_buf, sizeof(problem_buf),
					"record %" PRIu64 " receives the item "
					"but answers no release of it",
					rec->seq);
				problem = problem_buf;
			} else if (problem == NULL && rel != pending) {
				snprintf(problem_buf, sizeof(problem_buf),
					"record %" PRIu64 " answers release %"
					PRIu64 ", which is not the open release "
					"of the item", rec->seq, rel->seq);
				problem = problem_buf;
			}
			if (rel != NULL)
				json_array_append_new(transfers, json_pack(
					"{s:I, s:o, s:o, s:I, s:o}",
					"released_seq", (json_int_t)rel->seq,
					"released_by", actor_of(rel->json),
					"to", jstr(rel->json, "to") ?
					json_string(jstr(rel->json, "to")) :
					json_null(),
					"received_seq", (json_int_t)rec->seq,
					"received_by", actor_of(rec->json)));
			pending = NULL;
			json_decref(holder);
			holder = actor_of(rec->json);
		} else if (strcmp(type, "exported") == 0) {
			json_array_append_new(exports, json_pack(
				"{s:I, s:o, s:o}", "seq", (json_int_t)rec->seq,
				"bundle_id", jstr(rec->json, "bundle_id") ?
				json_string(jstr(rec->json, "bundle_id")) :
				json_null(),
				"transfer_manifest_sha256",
				jstr(rec->json, "transfer_manifest_sha256") ?
				json_string(jstr(rec->json,
				"transfer_manifest_sha256")) : json_null()));
		} else if (strcmp(type, "destroyed") == 0 ||
			   strcmp(type, "returned") == 0) {
			if (ended == NULL)
				ended = rec;
		}
	}
	json_object_set_new(facts, "records", json_integer((json_int_t)count));
	json_object_set_new(facts, "transfers", transfers);
	json_object_set_new(facts, "exports", exports);

	/* custody.acquired */
	if (rep == NULL) {
		/* An item known only from a bundle: no report to match. */
	} else if (acquired != NULL) {
		json_t *a = acquired->json;

		snprintf(obs, sizeof(obs), "record %" PRIu64, acquired->seq);
		json_object_set_new(facts, "acquired", json_pack(
			"{s:I, s:o, s:o, s:o, s:o, s:o}",
			"seq", (json_int_t)acquired->seq,
			"event_time", json_object_get(a, "event_time") ?
				json_deep_copy(json_object_get(a,
				"event_time")) : json_null(),
			"actor", actor_of(a),
			"warrant", json_object_get(a, "warrant") ?
				json_deep_copy(json_object_get(a, "warrant"))
				: json_null(),
			"reason", json_object_get(a, "reason") ?
				json_deep_copy(json_object_get(a, "reason"))
				: json_null(),
			"source_read_only", json_object_get(json_object_get(a,
				"source"), "read_only") ? json_deep_copy(
				json_object_get(json_object_get(a, "source"),
				"read_only")) : json_null()));
		custos__verify_add(r, "custody.acquired", item,
			CUSTOS_CHECK_PASSED, 1, rep->sha256, obs,
			"the acquired record %llu in %s names the report's "
			"SHA-256", (unsigned long long)acquired->seq, lg->dir);
	} else {
		if (acquired_other)
			custos__verify_add(r, "custody.acquired", item,
				CUSTOS_CHECK_FAILED, 1, rep->sha256, NULL,
				"%s has no acquired record of the item naming "
				"the report's SHA-256 (an acquired record names "
				"another report)", lg->dir);
		else
			custos__verify_add(r, "custody.acquired", item,
				CUSTOS_CHECK_FAILED, 1, rep->sha256, NULL,
				"%s has no acquired record of the item naming "
				"the report's SHA-256", lg->dir);
	}

	/* custody.continuity */
	if (problem != NULL)
		custos__verify_add(r, "custody.continuity", item,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
			problem);
	else if (ended != NULL)
		custos__verify_add(r, "custody.continuity", item,
			CUSTOS_CHECK_PASSED, 1, NULL, NULL,
			"%zu records; every receipt answers an open release of "
			"the item, and releases come from its holder; nothing "
			"follows its end", count);
	else
		custos__verify_add(r, "custody.continuity", item,
			CUSTOS_CHECK_PASSED, 1, NULL, NULL,
			"%zu records; every receipt answers an open release of "
			"the item, and releases come from its holder", count);

	/* custody.gap */
	json_object_set_new(facts, "max_gap_seconds", max_gap >= 0 ?
		json_integer((json_int_t)max_gap) : json_null());
	custos__verify_format_duration(gapbuf, sizeof(gapbuf),
		max_gap >= 0 ? max_gap : 0);
	if (max_gap >= 0)
		snprintf(obs, sizeof(obs), "%s (records %" PRIu64 " to %"
			PRIu64 ")", gapbuf, gap_a->seq, gap_b->seq);
	else
		snprintf(obs, sizeof(obs), "no gap (one record)");
	if (opts->max_gap_seconds < 0) {
		custos__verify_add(r, "custody.gap", item,
			CUSTOS_CHECK_NOT_CHECKED, 0, NULL, obs,
			"no --max-gap given; the longest time between two "
			"records is reported only");
	} else {
		char want[64];

		custos__verify_format_duration(want, sizeof(want),
			opts->max_gap_seconds);
		if (max_gap > opts->max_gap_seconds)
			custos__verify_add(r, "custody.gap", item,
				CUSTOS_CHECK_FAILED, 1, want, obs,
				"%s passed between records %llu and %llu, more "
				"than --max-gap", gapbuf,
				(unsigned long long)gap_a->seq,
				(unsigned long long)gap_b->seq);
		else
			custos__verify_add(r, "custody.gap", item,
				CUSTOS_CHECK_PASSED, 1, want, obs,
				"no gap longer than --max-gap");
	}

	/* custody.holder */
	if (ended != NULL) {
		json_object_set_new(facts, "state", json_string(
			jstr(ended->json, "type")));
		snprintf(obs, sizeof(obs), "%s in record %" PRIu64,
			jstr(ended->json, "type"), ended->seq);
		custos__verify_add(r, "custody.holder", item,
			CUSTOS_CHECK_PASSED, 0, NULL, obs,
			"the item was %s (record %llu)",
			jstr(ended->json, "type"),
			(unsigned long long)ended->seq);
	} else if (pending != NULL) {
		json_object_set_new(facts, "state", json_string("in-transit"));
		snprintf(obs, sizeof(obs), "in transit since record %" PRIu64,
			pending->seq);
		custos__verify_add(r, "custody.holder", item,
			CUSTOS_CHECK_PASSED, 0, NULL, obs,
			"released in record %llu to %s, not yet received",
			(unsigned long long)pending->seq,
			jstr(pending->json, "to") ?
			jstr(pending->json, "to") : "(unnamed)");
	} else if (holder != NULL) {
		json_object_set_new(facts, "state", json_string("held"));
		custos__verify_add(r, "custody.holder", item,
			CUSTOS_CHECK_PASSED, 0, NULL, jstr(holder, "name"),
			"held by %s since record %lld", jstr(holder, "name") ?
			jstr(holder, "name") : "(unnamed)", (long long)
			json_integer_value(json_object_get(holder, "seq")));
	}
	json_object_set_new(facts, "holder", holder != NULL ? holder
							    : json_null());
}

/* The log that holds the item's history: the one whose acquired record
 * names the report, else the first that names the item at all (log_count:
 * none). */
static size_t log_for(const verify_found *vc, const log_index *ix,
		const char *item, const verify_report *rep)
{
	size_t any = vc->log_count;

	for (size_t i = 0; i < vc->log_count; i++) {
		const verify_log *lg = &vc->logs[i];
		const item_records *named = index_find(&ix[i], item);

		if (lg->verified != 1)
			continue;
		for (size_t k = 0; k < named->n; k++) {
			json_t *j = lg->records[named->recs[k]].json;
			const char *t = jstr(j, "type");

			if (any == vc->log_count)
				any = i;
			if (rep != NULL && t != NULL &&
			    strcmp(t, "acquired") == 0 &&
			    jstr(json_object_get(j, "report"), "sha256") &&
			    strcasecmp(jstr(json_object_get(j, "report"),
			    "sha256"), rep->sha256) == 0)
				return i;
		}
	}
	return any;
}

void custos__verify_custody(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts)
{
	int any_failed = 0;
	log_index *ix = calloc(vc->log_count ? vc->log_count : 1,
		sizeof(*ix));

	if (ix == NULL) {
		r->oom = 1;
		return;
	}

	for (size_t i = 0; i < vc->log_count; i++) {
		check_log(r, &vc->logs[i], opts);
		if (vc->logs[i].verified != 1) {
			any_failed = 1;
			continue;
		}
		index_build(&ix[i], &vc->logs[i]);
		if (ix[i].oom)
			r->oom = 1;
	}
	for (size_t i = 0; i < vc->report_count; i++) {
		const verify_report *rep = &vc->reports[i];
		size_t lg;

		if (rep->item == NULL)
			continue;
		lg = log_for(vc, ix, rep->item, rep);
		if (lg < vc->log_count)
			follow_item(r, &vc->logs[lg], index_find(&ix[lg],
				rep->item), rep->item, rep, opts);
		else if (vc->log_count == 0)
			custos__verify_add(r, "custody.acquired", rep->item,
				CUSTOS_CHECK_NOT_CHECKED, 1, rep->sha256, NULL,
				"no custody log was given or found beside the "
				"report (--log DIR)");
		else if (any_failed)
			custos__verify_add(r, "custody.acquired", rep->item,
				CUSTOS_CHECK_NOT_CHECKED, 1, rep->sha256, NULL,
				"a custody log did not verify, so its records "
				"are not read");
		else
			custos__verify_add(r, "custody.acquired", rep->item,
				CUSTOS_CHECK_FAILED, 1, rep->sha256, NULL,
				"no custody log names the item");
	}
	for (size_t i = 0; i < vc->log_count; i++)
		index_free(&ix[i]);
	free(ix);
}
