/*
 * Admissibility profiles (custos-profile(5)): a JSON document stating what
 * a receiving court requires, read strictly (an unknown key or a bad value
 * is refused, naming the key), then judged against the facts a
 * verification gathered: hash algorithms, the report signer's CA and role,
 * a trusted timestamp, a read-only source, a warrant or legal basis in the
 * acquired record, two different people on each side of every transfer,
 * the longest custody gap, the request fields and the conditions on use.
 * Each requirement is met, not met or not applicable, with the evidence
 * (the value seen, the record number).  The profile never changes the
 * integrity verdict; it is a second answer beside it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"
#include "verify_private.h"

#define PROFILE_MAX (1u << 20)
#define LIST_MAX 64

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A list of non-empty strings, or EINVAL naming key. */
static custos_status string_list(json_t *v, const char *key,
		custos_error *err)
{
	size_t i;
	json_t *s;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > LIST_MAX)
		return custos__error_set(err, CUSTOS_EINVAL,
			"profile: \"%s\" must be a list of 1 to %d strings", key,
			LIST_MAX);
	json_array_foreach(v, i, s)
		if (!json_is_string(s) || json_string_length(s) == 0)
			return custos__error_set(err, CUSTOS_EINVAL,
				"profile: \"%s\" must hold non-empty strings",
				key);
	return CUSTOS_OK;
}

static custos_status check_profile(json_t *p, custos_error *err)
{
	static const char *const known[] = {"custos_profile", "name",
		"description", "hash_algorithms", "signer", "trusted_timestamp",
		"source_read_only", "legal_basis", "two_person_rule",
		"max_custody_gap", "request_fields", "conditions_on_use"};
	const char *key;
	json_t *v;
	custos_status st;

	json_object_foreach(p, key, v) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(*known); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(*known))
			return custos__error_set(err, CUSTOS_EINVAL,
				"profile: unknown key \"%s\"", key);
	}
	if (json_integer_value(json_object_get(p, "custos_profile")) != 1 ||
	    !json_is_integer(json_object_get(p, "custos_profile")))
		return custos__error_set(err, CUSTOS_EINVAL,
			"profile: \"custos_profile\" must be 1");
	if (!json_is_string(json_object_get(p, "name")))
		return custos__error_set(err, CUSTOS_EINVAL,
			"profile: \"name\" must be a string");
	if ((v = json_object_get(p, "description")) && !json_is_string(v))
		return custos__error_set(err, CUSTOS_EINVAL,
			"profile: \"description\" must be a string");
	if ((v = json_object_get(p, "hash_algorithms")) != NULL) {
		size_t i;
		json_t *s;

		if ((st = string_list(v, "hash_algorithms", err)) != CUSTOS_OK)
			return st;
		json_array_foreach(v, i, s) {
			custos_digest_alg a;

			if (custos_digest_parse(&a, json_string_value(s),
					NULL) != CUSTOS_OK)
				return custos__error_set(err, CUSTOS_EINVAL,
					"profile: \"hash_algorithms\": unknown "
					"algorithm");
		}
	}
	if ((v = json_object_get(p, "signer")) != NULL) {
		json_t *x;

		if (!json_is_object(v) || json_object_size(v) == 0)
			return custos__error_set(err, CUSTOS_EINVAL,
				"profile: \"signer\" must be an object with "
				"\"issuers\" and/or \"roles\"");
		json_object_foreach(v, key, x) {
			if (strcmp(key, "issuers") != 0 &&
			    strcmp(key, "roles") != 0)
				return custos__error_set(err, CUSTOS_EINVAL,
					"profile: unknown key \"signer.%s\"",
					key);
			if ((st = string_list(x, strcmp(key, "issuers") == 0 ?
					"signer.issuers" : "signer.roles", err))
					!= CUSTOS_OK)
				return st;
		}
	}
	{
		static const char *const flags[] = {"trusted_timestamp",
			"source_read_only", "legal_basis", "two_person_rule"};

		for (size_t i = 0; i < 4; i++)
			if ((v = json_object_get(p, flags[i])) != NULL &&
			    !json_is_boolean(v))
				return custos__error_set(err, CUSTOS_EINVAL,
					"profile: \"%s\" must be true or false",
					flags[i]);
	}
	if ((v = json_object_get(p, "max_custody_gap")) != NULL) {
		int64_t s;

		if (!json_is_string(v) || custos_verify_parse_duration(&s,
				json_string_value(v), NULL) != CUSTOS_OK)
			return custos__error_set(err, CUSTOS_EINVAL,
				"profile: \"max_custody_gap\" must be a duration "
				"such as \"72h\" or \"30d\"");
	}
	if ((v = json_object_get(p, "request_fields")) != NULL &&
	    (st = string_list(v, "request_fields", err)) != CUSTOS_OK)
		return st;
	if ((v = json_object_get(p, "conditions_on_use")) != NULL &&
	    (st = string_list(v, "conditions_on_use", err)) != CUSTOS_OK)
		return st;
	return CUSTOS_OK;
}

custos_status custos__verify_profile_load(json_t **out, const char *path,
		custos_error *err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	json_error_t je;
	custos_status st;
	json_t *p;

	*out = NULL;
	st = custos__read_file_max(path, PROFILE_MAX, &data, &len, "profile",
		err);
	if (st != CUSTOS_OK)
		return st == CUSTOS_ENOTFOUND ? st : custos__error_set(err,
			CUSTOS_EINVAL, "profile %s: %s", path, err->message);
	p = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
	free(data);
	if (p == NULL || !json_is_object(p)) {
		json_decref(p);
		return custos__error_set(err, CUSTOS_EINVAL,
			"profile %s: not a JSON object (%s)", path,
			p == NULL ? je.text : "another JSON value");
	}
	if ((st = check_profile(p, err)) != CUSTOS_OK) {
		json_decref(p);
		return st;
	}
	*out = p;
	return CUSTOS_OK;
}

/* ---- judging ---- */

typedef enum { MET, NOT_MET, NOT_APPLICABLE } req_result;

static void req(json_t *list, int *all_met, const char *id,
		const char *subject, req_result res, json_t *expected,
		const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void req(json_t *list, int *all_met, const char *id,
		const char *subject, req_result res, json_t *expected,
		const char *fmt, ...)
{
	char *evidence = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&evidence, fmt, ap) < 0)
		evidence = NULL;
	va_end(ap);
	if (res == NOT_MET)
		*all_met = 0;
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:s}",
		"id", id, "subject", subject ? subject : "",
		"result", res == MET ? "met" : res == NOT_MET ? "not-met" :
			"not-applicable",
		"expected", expected ? expected : json_null(),
		"evidence", evidence ? evidence : ""));
	free(evidence);
}

static int in_list(json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (s != NULL && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* A dotted path ("instrument.article") in an object, or NULL. */
static json_t *dotted(json_t *o, const char *path)
{
	char buf[256];
	char *p = buf, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	while (o != NULL && (dot = strchr(p, '.')) != NULL) {
		*dot = '\0';
		o = json_object_get(o, p);
		p = dot + 1;
	}
	return o != NULL ? json_object_get(o, p) : NULL;
}

static int present(json_t *v)
{
	return v != NULL && !json_is_null(v) && !(json_is_string(v) &&
		json_string_length(v) == 0) && !(json_is_object(v) &&
		json_object_size(v) == 0) && !(json_is_array(v) &&
		json_array_size(v) == 0) && !json_is_false(v);
}

static void judge_reports(json_t *p, const custos_verify_case *r,
		json_t *out, int *ok)
{
	json_t *algs = json_object_get(p, "hash_algorithms");
	json_t *signer = json_object_get(p, "signer");
	size_t i;
	json_t *rep;

	if (json_array_size(r->reports) == 0) {
		if (algs)
			req(out, ok, "hash_algorithms", NULL, NOT_APPLICABLE,
				json_incref(algs), "no acquisition report");
		return;
	}
	json_array_foreach(r->reports, i, rep) {
		const char *item = jstr(rep, "item") ? jstr(rep, "item") :
			jstr(rep, "path");
		json_t *s = json_object_get(rep, "signer");
		json_t *ts = json_object_get(rep, "timestamp");
		json_t *ro = json_object_get(rep, "source_read_only");

		if (algs != NULL) {
			size_t k;
			json_t *a;
			const char *missing = NULL;

			json_array_foreach(algs, k, a)
				if (!in_list(json_object_get(rep,
						"hash_algorithms"),
						json_string_value(a)) &&
				    missing == NULL)
					missing = json_string_value(a);
			char *seen = json_dumps(json_object_get(rep,
				"hash_algorithms"), JSON_COMPACT);
			req(out, ok, "hash_algorithms", item, missing ? NOT_MET
				: MET, json_incref(algs), "the report has %s%s%s",
				seen ? seen : "[]", missing ? "; missing " : "",
				missing ? missing : "");
			free(seen);
		}
		if (signer != NULL) {
			json_t *iss = json_object_get(signer, "issuers");
			json_t *roles = json_object_get(signer, "roles");

			if (s == NULL)
				req(out, ok, "signer", item, NOT_MET,
					json_incref(signer), "the report is not "
					"signed (or its signature is broken)");
			else if (iss != NULL && !in_list(iss, jstr(s, "issuer")))
				req(out, ok, "signer", item, NOT_MET,
					json_incref(signer), "issued by %s, not "
					"a listed CA", jstr(s, "issuer"));
			else if (roles != NULL && !in_list(roles,
					jstr(s, "role")))
				req(out, ok, "signer", item, NOT_MET,
					json_incref(signer), "the signer's role "
					"is %s, not a listed one", jstr(s, "role")
					? jstr(s, "role") : "not stated");
			else
				req(out, ok, "signer", item, MET,
					json_incref(signer), "%s, role %s, "
					"issued by %s", jstr(s, "subject"),
					jstr(s, "role") ? jstr(s, "role") : "-",
					jstr(s, "issuer"));
		}
		if (json_is_true(json_object_get(p, "trusted_timestamp"))) {
			if (json_is_object(ts) && jstr(ts, "result") &&
			    strcmp(jstr(ts, "result"), "ok") == 0)
				req(out, ok, "trusted_timestamp", item, MET,
					json_true(), "time stamped at %s by %s",
					jstr(ts, "time"), jstr(ts, "tsa") ?
					jstr(ts, "tsa") : "?");
			else
				req(out, ok, "trusted_timestamp", item,
					NOT_MET, json_true(), "%s",
					json_is_object(ts) ? "the timestamp does "
					"not verify" : "the signature carries no "
					"timestamp (CAdES-B-B)");
		}
		if (json_is_true(json_object_get(p, "source_read_only")))
			req(out, ok, "source_read_only", item,
				json_is_true(ro) ? MET : NOT_MET, json_true(),
				"the report says source.read_only is %s "
				"(source kind %s)", json_is_true(ro) ? "true" :
				json_is_false(ro) ? "false" : "absent",
				jstr(rep, "source_kind") ? jstr(rep,
				"source_kind") : "?");
	}
}

static void judge_items(json_t *p, const custos_verify_case *r,
		json_t *out, int *ok)
{
	int legal = json_is_true(json_object_get(p, "legal_basis"));
	int two = json_is_true(json_object_get(p, "two_person_rule"));
	const char *gap_text = jstr(p, "max_custody_gap");
	int64_t max_gap = -1;
	const char *item;
	json_t *f;

	if (gap_text != NULL)
		custos_verify_parse_duration(&max_gap, gap_text, NULL);
	json_object_foreach(r->items, item, f) {
		json_t *acq = json_object_get(f, "acquired");
		json_t *tr = json_object_get(f, "transfers");
		json_t *gap = json_object_get(f, "max_gap_seconds");

		if (legal) {
			json_t *w = json_object_get(acq, "warrant");
			json_t *lb = json_object_get(acq, "legal_basis");

			if (acq == NULL)
				req(out, ok, "legal_basis", item, NOT_MET,
					json_true(), "no acquired record of the "
					"item was found");
			else if (present(w) || present(lb))
				req(out, ok, "legal_basis", item, MET,
					json_true(), "record %lld names %s %s",
					(long long)json_integer_value(
					json_object_get(acq, "seq")),
					present(w) ? "warrant" : "legal basis",
					json_is_string(present(w) ? w : lb) ?
					json_string_value(present(w) ? w : lb) :
					"(structured)");
			else
				req(out, ok, "legal_basis", item, NOT_MET,
					json_true(), "acquired record %lld names "
					"no warrant or legal basis",
					(long long)json_integer_value(
					json_object_get(acq, "seq")));
		}
		if (two) {
			size_t k;
			json_t *t;
			json_t *bad = NULL;

			json_array_foreach(tr, k, t) {
				const char *a = jstr(json_object_get(t,
					"released_by"), "cert_sha256");
				const char *b = jstr(json_object_get(t,
					"received_by"), "cert_sha256");

				if (a == NULL || b == NULL || strcmp(a, b) == 0) {
					bad = t;
					break;
				}
			}
			if (json_array_size(tr) == 0)
				req(out, ok, "two_person_rule", item,
					NOT_APPLICABLE, json_true(),
					"the item was never handed over");
			else if (bad != NULL)
				req(out, ok, "two_person_rule", item, NOT_MET,
					json_true(), "records %lld and %lld are "
					"signed by the same person (%s)",
					(long long)json_integer_value(
					json_object_get(bad, "released_seq")),
					(long long)json_integer_value(
					json_object_get(bad, "received_seq")),
					jstr(json_object_get(bad, "released_by"),
					"name") ? jstr(json_object_get(bad,
					"released_by"), "name") : "?");
			else
				req(out, ok, "two_person_rule", item, MET,
					json_true(), "%zu transfers, each released "
					"and received by different people",
					json_array_size(tr));
		}
		if (max_gap >= 0) {
			char seen[64];

			custos__verify_format_duration(seen, sizeof(seen),
				json_integer_value(gap));
			if (!json_is_integer(gap))
				req(out, ok, "max_custody_gap", item,
					acq == NULL ? NOT_MET : NOT_APPLICABLE,
					json_string(gap_text), "%s",
					acq == NULL ? "no custody history" :
					"a single record");
			else
				req(out, ok, "max_custody_gap", item,
					json_integer_value(gap) <= max_gap ? MET
					: NOT_MET, json_string(gap_text),
					"the longest gap is %s", seen);
		}
	}
}

static void judge_bundles(json_t *p, const custos_verify_case *r,
		json_t *out, int *ok)
{
	json_t *fields = json_object_get(p, "request_fields");
	json_t *conds = json_object_get(p, "conditions_on_use");
	int two = json_is_true(json_object_get(p, "two_person_rule"));
	size_t i;
	json_t *b;

	if (json_array_size(r->bundles) == 0) {
		if (fields)
			req(out, ok, "request_fields", NULL, NOT_APPLICABLE,
				json_incref(fields), "no bundle, so no request");
		if (conds)
			req(out, ok, "conditions_on_use", NULL, NOT_APPLICABLE,
				json_incref(conds), "no bundle, so no request");
		return;
	}
	json_array_foreach(r->bundles, i, b) {
		const char *id = jstr(b, "bundle_id");
		json_t *rq = json_object_get(b, "request");
		json_t *list[2] = {fields, conds};
		const char *names[2] = {"request_fields", "conditions_on_use"};

		for (int k = 0; k < 2; k++) {
			const char *missing = NULL;
			size_t n;
			json_t *f;

			if (list[k] == NULL)
				continue;
			if (!json_is_object(rq)) {
				req(out, ok, names[k], id, NOT_MET,
					json_incref(list[k]), "the request could "
					"not be read from the bundle");
				continue;
			}
			json_array_foreach(list[k], n, f) {
				json_t *v = k == 0 ? dotted(rq,
					json_string_value(f)) : json_object_get(
					json_object_get(rq, "conditions"),
					json_string_value(f));

				if (!present(v) && missing == NULL)
					missing = json_string_value(f);
			}
			req(out, ok, names[k], id, missing ? NOT_MET : MET,
				json_incref(list[k]), missing ? "the request "
				"lacks %s%s" : "the request gives all %s%s",
				missing ? (k ? "the condition " : "") : "",
				missing ? missing : (k ? "conditions" :
				"fields"));
		}
		if (two) {
			const char *sender = jstr(json_object_get(b, "sender"),
				"sha256");
			size_t n;
			json_t *rc;

			json_array_foreach(r->receipts, n, rc) {
				const char *by = jstr(json_object_get(rc,
					"signer"), "sha256");

				if (jstr(rc, "bundle_id") == NULL || id == NULL ||
				    strcmp(jstr(rc, "bundle_id"), id) != 0)
					continue;
				req(out, ok, "two_person_rule", id, sender &&
					by && strcmp(sender, by) != 0 ? MET :
					NOT_MET, json_true(), "sent by %s, "
					"receipted by %s", jstr(json_object_get(b,
					"sender"), "subject") ? jstr(
					json_object_get(b, "sender"), "subject")
					: "?", jstr(json_object_get(rc, "signer"),
					"subject") ? jstr(json_object_get(rc,
					"signer"), "subject") : "?");
			}
		}
	}
}

void custos__verify_profile_judge(custos_verify_case *r, json_t *profile,
		const char *path)
{
	json_t *list = json_array();
	int ok = 1;

	if (list == NULL) {
		r->oom = 1;
		return;
	}
	judge_reports(profile, r, list, &ok);
	judge_items(profile, r, list, &ok);
	judge_bundles(profile, r, list, &ok);
	r->profile = json_pack("{s:s, s:s, s:o, s:o, s:b}",
		"file", path, "name", jstr(profile, "name"),
		"description", jstr(profile, "description") ?
			json_string(jstr(profile, "description")) : json_null(),
		"requirements", list, "met", ok);
	r->profile_met = ok;
	if (r->profile == NULL)
		r->oom = 1;
}

int custos_verify_case_profile_met(const custos_verify_case *r)
{
	return r == NULL || r->profile == NULL ? -1 : r->profile_met;
}
