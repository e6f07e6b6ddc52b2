/*
 * Custody records: the event types and common fields of custos-log(5), the
 * acting person (their signing identity and the "actor" object), building
 * a record from an event (without seq and prev, which the append sets),
 * the "acquired" record made from a custos-acquire report, and the small
 * hash, time and text helpers the other custody files use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "custos/text.h"
#include "custody_private.h"
#include "custos/cert.h"
#include "error_private.h"
#include "json_private.h"

static const char *const event_types[] = {
	"genesis", "acquired", "sealed", "released", "received", "accessed",
	"exported", "verified", "returned", "destroyed", "key-rotation",
	"recovery",
};

static const char *const common_keys[] = {
	"v", "seq", "prev", "type", "case", "items", "recorded_at",
	"event_time", "actor", "location", "reason", "note",
};

void custos__custody_sha256(unsigned char out[32], const void *data, size_t len)
{
	unsigned int n = 32;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

void custos__custody_hex(char out[HEX_SHA256], const unsigned char in[32])
{
	static const char d[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[64] = '\0';
}

void custos__custody_sha256_hex(char out[HEX_SHA256], const void *data,
		size_t len)
{
	unsigned char md[32];

	custos__custody_sha256(md, data, len);
	custos__custody_hex(out, md);
}

/* Text safe to put in a message: control bytes and non-ASCII as \xNN,
 * at most max input bytes. */
void custos__safe_text(char *out, size_t cap, const char *in, size_t len)
{
	/* The one escape every tool uses (C0, C1, bidi, invalid UTF-8);
	 * French, Arabic and CJK names stay readable. */
	custos_text_escape(out, cap, in, len);
}

custos_status custos_custody_safe_text(char **out, const char *text,
		size_t len)
{
	/* Four bytes out for each byte in, at most, and the NUL. */
	size_t cap = len > (SIZE_MAX - 6) / 4 ? 0 : 4 * len + 6;

	*out = cap != 0 ? malloc(cap) : NULL;
	if (*out == NULL)
		return CUSTOS_ENOMEM;
	custos__safe_text(*out, cap, text != NULL ? text : "",
		text != NULL ? len : 0);
	return CUSTOS_OK;
}

int custos_custody_type_known(const char *type)
{
	if (type == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(event_types) / sizeof(*event_types); i++)
		if (strcmp(type, event_types[i]) == 0)
			return 1;
	return 0;
}

static int is_common_key(const char *k)
{
	for (size_t i = 0; i < sizeof(common_keys) / sizeof(*common_keys); i++)
		if (strcmp(k, common_keys[i]) == 0)
			return 1;
	return 0;
}

void custos_custody_actor_options_init(custos_custody_actor_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_CUSTODY_ACTOR_OPTIONS_VERSION;
}

void custos_custody_event_init(custos_custody_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->version = CUSTOS_CUSTODY_EVENT_VERSION;
}

/* ---- the actor ---- */

custos_status custos__custody_actor_load(custos__custody_actor *a,
		const custos_custody_actor_options *o, custos_error *err)
{
	custos_cert *cert = NULL;
	custos_status st;
	const char *name;

	memset(a, 0, sizeof(*a));
	if (o == NULL || o->version != CUSTOS_CUSTODY_ACTOR_OPTIONS_VERSION ||
	    o->key_path == NULL || o->cert_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a record needs the acting person's key and "
			"certificate");
	custos_sign_options_init(&a->sign);
	a->sign.key_path = o->key_path;
	a->sign.cert_path = o->cert_path;
	a->sign.chain_path = o->chain_path;
	a->sign.passphrase = o->passphrase;
	a->sign.passphrase_ctx = o->passphrase_ctx;
	if ((st = custos_cert_load(&cert, o->cert_path, err)) != CUSTOS_OK)
		return st;
	name = o->name != NULL ? o->name : custos_cert_common_name(cert);
	a->actor = json_object();
	if (a->actor == NULL) {
		custos_cert_free(cert);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	json_object_set_new(a->actor, "cert_sha256",
		json_string(custos_cert_fingerprint_sha256(cert)));
	json_object_set_new(a->actor, "name", json_string(name));
	if (o->id != NULL)
		json_object_set_new(a->actor, "id", json_string(o->id));
	if (o->organisation != NULL)
		json_object_set_new(a->actor, "organisation",
			json_string(o->organisation));
	if (o->role != NULL)
		json_object_set_new(a->actor, "role", json_string(o->role));
	custos_cert_free(cert);
	if (json_object_size(a->actor) < (size_t)(2 + (o->id != NULL) +
			(o->organisation != NULL) + (o->role != NULL))) {
		json_decref(a->actor);
		a->actor = NULL;
		return custos__error_set(err, CUSTOS_EINVAL,
			"the actor's name, id, organisation or role is not "
			"valid UTF-8");
	}
	return CUSTOS_OK;
}

void custos__custody_actor_free(custos__custody_actor *a)
{
	json_decref(a->actor);
	a->actor = NULL;
}

/* ---- building a record (without seq and prev) ---- */

static custos_status set_str(json_t *o, const char *key, const char *val,
		custos_error *err)
{
	json_t *s = json_string(val != NULL ? val : "");

	if (s == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the %s is not valid UTF-8 text", key);
	json_object_set_new(o, key, s);
	return CUSTOS_OK;
}

custos_status custos__custody_build_record(json_t **out,
		const custos_custody_event *ev, const custos__custody_actor *a,
		custos_error *err)
{
	char now[CUSTOS__RFC3339_MAX];
	json_t *r, *items, *extra = NULL;
	custos_status st = CUSTOS_OK;
	const char *k;
	json_t *v;

	*out = NULL;
	if (ev == NULL || ev->version != CUSTOS_CUSTODY_EVENT_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"bad custody event");
	if (!custos_custody_type_known(ev->type))
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown event type '%s'", ev->type != NULL ? ev->type
								    : "");
	custos__time_rfc3339(now, time(NULL));
	if (ev->event_time != NULL) {
		time_t t;

		if (!custos__custody_parse_time(ev->event_time, &t) ||
		    strlen(ev->event_time) != 20)
			return custos__error_set(err, CUSTOS_EINVAL,
				"the event time '%s' is not RFC 3339 UTC "
				"(2026-11-28T16:02:46Z)", ev->event_time);
	}
	r = json_object();
	items = json_array();
	if (r == NULL || items == NULL) {
		json_decref(r);
		json_decref(items);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < ev->item_count; i++) {
		json_t *s = json_string(ev->items[i]);

		if (s == NULL || ev->items[i][0] == '\0') {
			json_decref(s);
			st = custos__error_set(err, CUSTOS_EINVAL,
				"an item ID is empty or not UTF-8");
			goto fail;
		}
		json_array_append_new(items, s);
	}
	json_object_set_new(r, "v", json_integer(CUSTOS_CUSTODY_FORMAT));
	json_object_set_new(r, "type", json_string(ev->type));
	json_object_set_new(r, "items", items);
	items = NULL;
	json_object_set_new(r, "recorded_at", json_string(now));
	json_object_set(r, "actor", a->actor);
	if ((st = set_str(r, "case", ev->case_ref, err)) != CUSTOS_OK ||
	    (st = set_str(r, "event_time", ev->event_time != NULL
		    ? ev->event_time : now, err)) != CUSTOS_OK ||
	    (st = set_str(r, "location", ev->location, err)) != CUSTOS_OK ||
	    (st = set_str(r, "reason", ev->reason, err)) != CUSTOS_OK ||
	    (st = set_str(r, "note", ev->note, err)) != CUSTOS_OK)
		goto fail;
	if (ev->fields_json != NULL) {
		json_error_t je;

		extra = json_loads(ev->fields_json, JSON_REJECT_DUPLICATES,
			&je);
		if (extra == NULL || !json_is_object(extra)) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"the extra fields are not a JSON object: %s",
				extra == NULL ? je.text : "not an object");
			goto fail;
		}
		if (custos__json_has_real(extra)) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"the extra fields hold a number with a "
				"fraction or exponent; records hold no "
				"floats (write it as a string)");
			goto fail;
		}
		json_object_foreach(extra, k, v) {
			if (is_common_key(k)) {
				st = custos__error_set(err, CUSTOS_EINVAL,
					"the extra field '%s' would replace a "
					"common field", k);
				goto fail;
			}
			json_object_set(r, k, v);
		}
		json_decref(extra);
		extra = NULL;
	}
	/* A receipt that answers nothing would never verify: refuse it
	 * here rather than sign it. */
	if (strcmp(ev->type, "received") == 0 &&
	    !json_is_object(json_object_get(r, "answers")) &&
	    !json_is_object(json_object_get(r, "transfer"))) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"a received record answers a release (custos-log "
			"receive --answers) or names its transfer");
		goto fail;
	}
	*out = r;
	return CUSTOS_OK;
fail:
	json_decref(extra);
	json_decref(items);
	json_decref(r);
	return st;
}

int custos__custody_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se;
	char z;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se,
			&z) != 7 || z != 'Z')
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 1;
}

/* ---- acquired, from an acquisition report ---- */

static json_t *copy_field(json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	if (v == NULL)
		return NULL;
	v = json_deep_copy(v);
	if (v != NULL && json_is_real(v)) {
		json_t *arr = json_array();

		json_array_append_new(arr, v);
		custos__json_reals_to_strings(arr);
		v = json_incref(json_array_get(arr, 0));
		json_decref(arr);
	}
	custos__json_reals_to_strings(v);
	custos__json_strip_nulls(v);
	return v;
}

custos_status custos_custody_append_acquired(const char *log_dir,
		const char *report_json_path,
		const custos_custody_actor_options *signer, custos_error *err)
{
	char *data = NULL, *fields = NULL, hx[HEX_SHA256];
	const char *item, *case_ref;
	size_t len = 0;
	json_t *rep = NULL, *f = NULL, *c;
	json_error_t je;
	custos_custody_event ev;
	custos_status st;
	const char *keys[] = {"source", "hashes", "image", "tool", "errors",
		"result", "started_at", "finished_at", "host", "block_map"};

	if (log_dir == NULL || report_json_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_append_acquired: NULL argument");
	if ((st = custos__read_text(&data, &len, report_json_path, REPORT_MAX,
			"acquisition report", err)) != CUSTOS_OK)
		return st;
	custos__custody_sha256_hex(hx, data, len);
	rep = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(rep)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"%s is not a JSON report: %s", report_json_path,
			rep == NULL ? je.text : "not an object");
		goto done;
	}
	f = json_object();
	json_object_set_new(f, "report", json_pack("{s:s,s:s}", "file",
		custos__basename(report_json_path), "sha256", hx));
	json_object_set_new(f, "method", json_string("custos-acquire"));
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		json_t *v = copy_field(rep, keys[i]);

		if (json_is_null(v))
			json_decref(v);
		else if (v != NULL)
			json_object_set_new(f, strcmp(keys[i], "errors") == 0
				? "read_errors" : keys[i], v);
	}
	c = json_object_get(rep, "case");
	case_ref = json_string_value(json_object_get(c, "case_number"));
	item = json_string_value(json_object_get(c, "evidence_number"));
	if (json_is_string(json_object_get(c, "warrant")))
		json_object_set_new(f, "warrant", copy_field(c, "warrant"));
	fields = custos__json_canonical(f);
	if (fields == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	custos_custody_event_init(&ev);
	ev.type = "acquired";
	ev.case_ref = case_ref;
	ev.items = item != NULL && item[0] != '\0' ? &item : NULL;
	ev.item_count = ev.items != NULL ? 1 : 0;
	ev.note = json_string_value(json_object_get(c, "description"));
	ev.reason = "acquisition";
	ev.fields_json = fields;
	st = custos_custody_append(NULL, NULL, log_dir, &ev, signer, err);
done:
	json_decref(rep);
	json_decref(f);
	free(fields);
	free(data);
	return st;
}
