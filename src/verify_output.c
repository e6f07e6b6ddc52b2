/*
 * The verification result written out: as JSON in the stable schema of
 * custos-verify(1) (version "custos_verify": 1; fields are only ever
 * added), and as text for a person: the cases and items first, then every
 * check on its own line, then the verdict.  Everything in the text that
 * came from evidence is escaped: control characters and the Unicode
 * direction overrides that could make a line read other than it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custos/text.h"
#include "court_private.h"
#include "error_private.h"
#include "verify_private.h"

/* Fixed words, translated (custos/lang.h); NULL lang is English. */
#define T(s) custos_lang_text(lang, s)

#define SCHEMA_VERSION 1

custos_status custos_verify_case_to_json(char **out,
		const custos_verify_case *r, custos_error *err)
{
	json_t *root, *checks = json_array();
	size_t counts[3] = {0, 0, 0};

	*out = NULL;
	if (checks == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->count; i++) {
		const custos_verify_check *c = &r->checks[i];

		counts[c->outcome]++;
		json_array_append_new(checks, json_pack(
			"{s:s, s:s, s:s, s:b, s:s, s:o, s:o}",
			"id", c->id, "subject", c->subject,
			"result", custos_verify_outcome_name(c->outcome),
			"required", c->required, "detail", c->detail,
			"expected", c->expected ? json_string(c->expected)
						: json_null(),
			"observed", c->observed ? json_string(c->observed)
						: json_null()));
	}
	root = json_pack("{s:i, s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:O, "
		"s:o, s:{s:I, s:I, s:I}}",
		"custos_verify", SCHEMA_VERSION,
		"verdict", custos_verify_verdict_name(r->verdict),
		"reason", r->reason ? r->reason : "",
		"targets", r->targets, "items", r->items,
		"reports", r->reports, "logs", r->logs,
		"bundles", r->bundles, "receipts", r->receipts,
		"checks", checks,
		"summary", "passed", (json_int_t)counts[0],
		"failed", (json_int_t)counts[1],
		"not_checked", (json_int_t)counts[2]);
	if (root == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (r->profile != NULL)
		json_object_set(root, "profile", r->profile);
	*out = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII |
		JSON_PRESERVE_ORDER);
	json_decref(root);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

/* ---- text ---- */

typedef struct tbuf {
	char *data;
	size_t len, cap;
	int oom;
} tbuf;

static void put(tbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Our own text. */
static void putf(tbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(tbuf *b, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	put(b, s, (size_t)n);
	free(s);
}

/* Untrusted text: control bytes and direction overrides as \xNN / \u. */
/* Untrusted text through the one escape every tool uses: C0, C1 and
 * bidi controls and invalid UTF-8 (fuzz_report found C1 getting through a
 * hand-written copy). */
static void put_safe(tbuf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char *esc = malloc(CUSTOS_TEXT_ESCAPE_RATIO * n + 1);

	if (esc == NULL) {
		b->oom = 1;
		return;
	}
	custos_text_escape(esc, CUSTOS_TEXT_ESCAPE_RATIO * n + 1,
		s != NULL ? s : "", n);
	put(b, esc, strlen(esc));
	free(esc);
}

static void put_s(tbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static const char *fact(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void put_items(tbuf *b, const custos_verify_case *r,
		const custos_lang *lang)
{
	const char *item;
	json_t *facts;
	size_t i;
	json_t *rep;

	json_array_foreach(r->reports, i, rep) {
		json_t *signer = json_object_get(rep, "signer");

		put_s(b, T("report: "));
		put_safe(b, fact(rep, "path"));
		put(b, "\n", 1);
		if (fact(rep, "case") != NULL) {
			put_s(b, T("  case: "));
			put_safe(b, fact(rep, "case"));
			put(b, "\n", 1);
		}
		if (fact(rep, "item") != NULL) {
			put_s(b, T("  item: "));
			put_safe(b, fact(rep, "item"));
			put(b, "\n", 1);
		}
		if (signer != NULL) {
			put_s(b, T("  signed by: "));
			put_safe(b, fact(signer, "subject"));
			put(b, "\n", 1);
		}
	}
	json_object_foreach(r->items, item, facts) {
		json_t *holder = json_object_get(facts, "holder");

		put_s(b, T("item "));
		put_safe(b, item);
		if (fact(facts, "log") != NULL) {
			put_s(b, T(": custody in "));
			put_safe(b, fact(facts, "log"));
		}
		if (json_is_object(holder) && fact(holder, "name") != NULL) {
			put(b, ", ", 2);
			put_safe(b, fact(facts, "state"));
			put_s(b, T(" by "));
			put_safe(b, fact(holder, "name"));
		}
		put(b, "\n", 1);
	}
	json_array_foreach(r->bundles, i, rep) {
		put_s(b, T("bundle: "));
		put_safe(b, fact(rep, "bundle_id"));
		put(b, " (", 2);
		put_safe(b, fact(rep, "path"));
		put(b, ")\n", 2);
	}
}

custos_status custos_verify_case_to_text(char **out,
		const custos_verify_case *r, int quiet, custos_error *err)
{
	return custos_verify_case_to_text_lang(out, r, quiet, NULL, err);
}

custos_status custos_verify_case_to_text_lang(char **out,
		const custos_verify_case *r, int quiet, const custos_lang *lang,
		custos_error *err)
{
	tbuf b = {0};

	*out = NULL;
	if (!quiet) {
		put_items(&b, r, lang);
		for (size_t i = 0; i < r->count; i++) {
			const custos_verify_check *c = &r->checks[i];
			const char *word = custos__court_outcome(lang,
				c->outcome, c->required);

			char *local = custos__verify_detail_text(c, lang);

			putf(&b, "%-12s %-22s ", word, c->id);
			put_safe(&b, c->subject);
			put(&b, ": ", 2);
			put_safe(&b, local != NULL ? local : c->detail);
			free(local);
			if (c->outcome == CUSTOS_CHECK_FAILED &&
			    (c->expected != NULL || c->observed != NULL)) {
				put_s(&b, T(" (expected "));
				put_safe(&b, c->expected ? c->expected : "-");
				put_s(&b, T(", observed "));
				put_safe(&b, c->observed ? c->observed : "-");
				put(&b, ")", 1);
			}
			put(&b, "\n", 1);
		}
	}
	if (r->profile != NULL) {
		size_t i;
		json_t *q;

		if (!quiet) {
			put_s(&b, T("profile: "));
			put_safe(&b, fact(r->profile, "name"));
			put(&b, "\n", 1);
			json_array_foreach(json_object_get(r->profile,
					"requirements"), i, q) {
				const char *res = fact(q, "result");

				putf(&b, "%-14s %-22s ", strcmp(res, "met") == 0 ?
					T("met") : strcmp(res, "not-met") == 0 ?
					T("NOT MET") : T("not applicable"),
					fact(q, "id"));
				put_safe(&b, fact(q, "subject"));
				put(&b, ": ", 2);
				put_safe(&b, fact(q, "evidence"));
				put(&b, "\n", 1);
			}
		}
		put_s(&b, r->profile_met ? T("PROFILE MET: ")
					 : T("PROFILE NOT MET: "));
		put_safe(&b, fact(r->profile, "name"));
		put(&b, "\n", 1);
	}
	putf(&b, "%s: ", custos__court_verdict(lang, r->verdict));
	{
		char *reason = lang != NULL ? custos__verify_reason_text(r,
			lang) : NULL;

		put_safe(&b, reason != NULL ? reason : r->reason);
		free(reason);
	}
	put(&b, "\n", 1);
	if (b.oom) {
		free(b.data);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	*out = b.data;
	return CUSTOS_OK;
}
