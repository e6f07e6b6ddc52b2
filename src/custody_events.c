/*
 * Events assembled from what a person gives: the extra fields of a record
 * (a JSON file and KEY=VALUE text fields), a release ("released": to whom,
 * purpose, carrier, seal, hashes) and a receipt ("received": the released
 * record it answers, by number and SHA-256, with the released items and
 * case as defaults), and the origin named in a log's genesis record.  So
 * that a program records custody the way custos-log does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custody_private.h"
#include "error_private.h"
#include "fileio_private.h"

#define FIELDS_MAX (1u << 20)

custos_status custos_custody_fields_build(char **out, const char *fields_file,
		const char *const *text_fields, size_t text_field_count,
		custos_error *err)
{
	json_t *f = NULL;

	*out = NULL;
	if (fields_file != NULL) {
		json_error_t je;
		char *buf = NULL;
		size_t n = 0;
		/* A regular file only: a FIFO would hang the read. */
		custos_status st = custos__read_text(&buf, &n, fields_file,
			FIELDS_MAX, "fields file", err);

		if (st != CUSTOS_OK)
			return st == CUSTOS_ENOMEM && buf == NULL &&
				custos__path_exists(fields_file)
				? custos__error_set(err, CUSTOS_EINVAL,
					"%s is larger than 1 MiB", fields_file)
				: st;
		/* A repeated key is refused: the last value never wins. */
		f = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
		free(buf);
		if (!json_is_object(f)) {
			json_decref(f);
			return custos__error_set(err, CUSTOS_EINVAL,
				"%s is not a JSON object: %s", fields_file,
				f == NULL ? je.text : "");
		}
	} else {
		f = json_object();
	}
	for (size_t i = 0; i < text_field_count; i++) {
		const char *eq = strchr(text_fields[i], '=');
		char *k;

		if (eq == NULL || eq == text_fields[i]) {
			json_decref(f);
			return custos__error_set(err, CUSTOS_EINVAL,
				"a text field is not KEY=VALUE");
		}
		k = strndup(text_fields[i], (size_t)(eq - text_fields[i]));
		if (k != NULL && json_object_get(f, k) != NULL) {
			custos_status st = custos__error_set(err,
				CUSTOS_EINVAL, "the field %.64s is given twice "
				"(--field, --fields); give it once", k);

			free(k);
			json_decref(f);
			return st;
		}
		if (k != NULL)
			json_object_set_new(f, k, json_string(eq + 1));
		free(k);
	}
	*out = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(f);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the extra fields are not valid UTF-8");
	return CUSTOS_OK;
}

void custos_custody_release_init(custos_custody_release *r)
{
	memset(r, 0, sizeof(*r));
	r->version = CUSTOS_CUSTODY_RELEASE_VERSION;
}

void custos_custody_receipt_init(custos_custody_receipt *r)
{
	memset(r, 0, sizeof(*r));
	r->version = CUSTOS_CUSTODY_RECEIPT_VERSION;
}

/* {"ALG": "HEX", ...} from "ALG:HEX" texts. */
static json_t *hashes_json(const char *const *hashes, size_t n)
{
	json_t *h = json_object();

	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(hashes[i], ':');
		char *alg = colon != NULL ? strndup(hashes[i],
			(size_t)(colon - hashes[i])) : NULL;

		if (alg != NULL)
			json_object_set_new(h, alg, json_string(colon + 1));
		free(alg);
	}
	return h;
}

/* Append ev as type with the event's own fields beside its extra fields;
 * an extra field that says otherwise than an own one is refused (neither
 * silently wins). */
static custos_status append_with(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const char *type, json_t *own,
		const custos_custody_actor_options *actor, custos_error *err)
{
	custos_custody_event e = *ev;
	json_t *f;
	char *text;
	custos_status st;

	if (ev->fields_json != NULL) {
		json_error_t je;

		f = json_loads(ev->fields_json, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(f)) {
			json_decref(f);
			return custos__error_set(err, CUSTOS_EINVAL,
				"the extra fields are not a JSON object: %s",
				f == NULL ? je.text : "not an object");
		}
	} else {
		f = json_object();
	}
	{
		const char *k;
		json_t *val, *was;

		json_object_foreach(own, k, val) {
			was = json_object_get(f, k);
			if (was != NULL && !json_equal(was, val)) {
				json_decref(f);
				return custos__error_set(err, CUSTOS_EINVAL,
					"the extra field %.64s contradicts "
					"the %s record's own; give it once", k,
					type);
			}
		}
	}
	json_object_update(f, own);
	text = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(f);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the extra fields are not valid UTF-8");
	e.type = type;
	e.fields_json = text;
	st = custos_custody_append(seq, root_b64, dir, &e, actor, err);
	free(text);
	return st;
}

custos_status custos_custody_append_released(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_release *rel,
		const custos_custody_actor_options *actor, custos_error *err)
{
	json_t *own;
	custos_status st;

	if (ev == NULL || rel == NULL ||
	    rel->version != CUSTOS_CUSTODY_RELEASE_VERSION || rel->to == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a release needs whom it goes to");
	own = json_object();
	json_object_set_new(own, "to", json_string(rel->to));
	if (rel->purpose != NULL)
		json_object_set_new(own, "purpose", json_string(rel->purpose));
	if (rel->carrier != NULL)
		json_object_set_new(own, "carrier", json_string(rel->carrier));
	if (rel->seal_state != NULL)
		json_object_set_new(own, "seal_state",
			json_string(rel->seal_state));
	if (rel->hash_count > 0)
		json_object_set_new(own, "hashes", hashes_json(rel->hashes,
			rel->hash_count));
	st = append_with(seq, root_b64, dir, ev, "released", own, actor, err);
	json_decref(own);
	return st;
}

/* Line seq of the log (with its LF), or NULL. */
static const custos__custody_rec *find_rec(const custos__custody_loaded *L,
		uint64_t seq)
{
	return seq < L->n ? &L->recs[seq] : NULL;
}

custos_status custos_custody_append_received(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_receipt *rc,
		const custos_custody_actor_options *actor, custos_error *err)
{
	custos__custody_loaded L;
	const custos__custody_rec *line;
	custos_custody_event e;
	char hex[HEX_SHA256];
	const char **items = NULL;
	json_t *own, *rel, *disc;
	json_error_t je;
	const char *type;
	custos_status st;

	if (ev == NULL || rc == NULL ||
	    rc->version != CUSTOS_CUSTODY_RECEIPT_VERSION || dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a receipt needs the released record it answers");
	if (custos__custody_load_lines(&L, dir, NULL) != CUSTOS_OK)
		return custos__error_errno(err, errno,
			"cannot read the log in %s", dir);
	line = find_rec(&L, rc->answers);
	rel = line != NULL ? json_loadb(line->line, line->len - 1,
		JSON_REJECT_DUPLICATES, &je) : NULL;
	type = json_string_value(json_object_get(rel, "type"));
	if (type == NULL || strcmp(type, "released") != 0) {
		json_decref(rel);
		custos__custody_loaded_free(&L);
		return custos__error_set(err, CUSTOS_EINVAL,
			"record %" PRIu64 " is not a released record",
			rc->answers);
	}
	custos__custody_sha256_hex(hex, line->line, line->len);
	custos__custody_loaded_free(&L);
	e = *ev;
	/* Default to the released items and case. */
	if (e.item_count == 0) {
		json_t *it, *list = json_object_get(rel, "items");
		size_t i;

		items = calloc(json_array_size(list) + 1, sizeof(*items));
		json_array_foreach(list, i, it)
			if (items != NULL && json_string_value(it) != NULL)
				items[e.item_count++] = json_string_value(it);
		e.items = items;
	}
	if (e.case_ref == NULL)
		e.case_ref = json_string_value(json_object_get(rel, "case"));
	own = json_object();
	json_object_set_new(own, "answers", json_pack("{s:I,s:s}", "seq",
		(json_int_t)rc->answers, "sha256", hex));
	if (rc->seal_state != NULL)
		json_object_set_new(own, "seal_state",
			json_string(rc->seal_state));
	if (rc->storage_location != NULL)
		json_object_set_new(own, "storage_location",
			json_string(rc->storage_location));
	disc = json_array();
	for (size_t i = 0; i < rc->discrepancy_count; i++)
		json_array_append_new(disc, json_string(rc->discrepancies[i]));
	json_object_set_new(own, "discrepancies", disc);
	if (rc->hash_count > 0)
		json_object_set_new(own, "hashes", hashes_json(rc->hashes,
			rc->hash_count));
	st = append_with(seq, root_b64, dir, &e, "received", own, actor, err);
	json_decref(own);
	json_decref(rel); /* after the append: e borrows its strings */
	free(items);
	return st;
}

custos_status custos_custody_origin(char **origin, const char *dir,
		custos_error *err)
{
	custos__custody_loaded L;
	json_t *g;
	json_error_t je;
	custos_status st;

	*origin = NULL;
	if (dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no log folder");
	if ((st = custos__custody_load_lines(&L, dir, err)) != CUSTOS_OK)
		return st;
	g = L.n > 0 ? json_loadb(L.recs[0].line, L.recs[0].len - 1,
		JSON_REJECT_DUPLICATES, &je) : NULL;
	if (json_string_value(json_object_get(g, "origin")) != NULL)
		*origin = custos__strdup(json_string_value(json_object_get(g,
			"origin")));
	json_decref(g);
	custos__custody_loaded_free(&L);
	if (*origin == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"cannot read the genesis record of %s", dir);
	return CUSTOS_OK;
}
