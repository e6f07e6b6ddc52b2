/*
 * An item's custody timeline drawn as inline SVG: one row per event, in
 * the order of the log, with the time on one side of a lane and what
 * happened on the other.  A release and the receipt that answers it are
 * one row, a transfer: the giver and the taker, each marked as having
 * signed their record.  Seals, accesses and the rest are rows of their
 * own; an export across the border is followed by the foreign receipt of
 * that bundle when the case holds one; the last row says who holds the
 * item now.  The rows are cut into blocks that each fit an A4 page, and
 * every block is 700 units wide, scaled to the page.  For a language
 * written right to left the drawing is mirrored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "court_private.h"
#include "verify_private.h"

#define WIDTH 700
#define ROW 56
#define ROWS_PER_BLOCK 14
#define NAME_MAX_CHARS 44
#define SIGNED "\xe2\x9c\x8d" /* U+270D, the signed mark */

typedef struct row {
	const char *kind;      /* CSS class of the marker */
	const char *time;      /* RFC 3339, untrusted */
	char seq[48];
	court_buf title, line2, line3;
} row;

typedef struct rows {
	row *v;
	size_t n, cap;
	int oom;
} rows;

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static row *add_row(rows *rs, const char *kind, const char *time)
{
	row *r;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		row *v = realloc(rs->v, cap * sizeof(*v));

		if (v == NULL) {
			rs->oom = 1;
			return NULL;
		}
		rs->v = v;
		rs->cap = cap;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->time = time;
	return r;
}

/* "Label: name [signed mark]" */
static void who(court_buf *b, const custos_lang *lang, const char *label,
		json_t *actor, int signed_mark)
{
	const char *name = jstr(actor, "name");

	custos__court_text(b, custos_lang_text(lang, label), 0);
	custos__court_put(b, " ");
	custos__court_text(b, name ? name : "?", NAME_MAX_CHARS);
	if (jstr(actor, "organisation") != NULL) {
		custos__court_put(b, ", ");
		custos__court_text(b, jstr(actor, "organisation"), 30);
	}
	if (signed_mark)
		custos__court_put(b, " " SIGNED);
}

static void labelled(court_buf *b, const custos_lang *lang,
		const char *label, const char *value, size_t max)
{
	if (b->len > 0)
		custos__court_put(b, "; ");
	custos__court_text(b, custos_lang_text(lang, label), 0);
	custos__court_put(b, " ");
	custos__court_text(b, value, max);
}

/* What is said about seals, storage and place, on line 3. */
static void circumstances(court_buf *b, const custos_lang *lang, json_t *e)
{
	if (jstr(e, "seal_id"))
		labelled(b, lang, "Seal:", jstr(e, "seal_id"), 30);
	if (jstr(e, "seal_state") && jstr(e, "seal_state")[0])
		labelled(b, lang, "Seal:", jstr(e, "seal_state"), 30);
	if (jstr(e, "storage_location") && jstr(e, "storage_location")[0])
		labelled(b, lang, "Storage:", jstr(e, "storage_location"), 30);
	if (jstr(e, "location") && jstr(e, "location")[0] &&
	    !jstr(e, "storage_location"))
		labelled(b, lang, "Place:", jstr(e, "location"), 30);
	if (jstr(e, "purpose") && jstr(e, "purpose")[0])
		labelled(b, lang, "Purpose:", jstr(e, "purpose"), 30);
}

static json_t *receipt_for(json_t *receipts, const char *bundle_id)
{
	size_t i;
	json_t *rc;

	json_array_foreach(receipts, i, rc)
		if (bundle_id != NULL && jstr(rc, "bundle_id") != NULL &&
		    strcmp(jstr(rc, "bundle_id"), bundle_id) == 0)
			return rc;
	return NULL;
}

static void build_rows(rows *rs, const custos_lang *lang, json_t *facts,
		json_t *receipts)
{
	json_t *history = json_object_get(facts, "history"), *e;
	size_t n = json_array_size(history), i;
	unsigned char *used = calloc(n ? n : 1, 1);

	if (used == NULL) {
		rs->oom = 1;
		return;
	}
	json_array_foreach(history, i, e) {
		const char *type = jstr(e, "type");
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));
		row *r;

		if (used[i] || type == NULL)
			continue;
		if (strcmp(type, "released") == 0) {
			json_t *rec = NULL;

			/* The receipt that answers it, if any. */
			for (size_t k = i + 1; k < n; k++) {
				json_t *x = json_array_get(history, k);

				if (!used[k] && jstr(x, "type") &&
				    strcmp(jstr(x, "type"), "received") == 0 &&
				    json_integer_value(json_object_get(
				    json_object_get(x, "answers"), "seq")) ==
				    seq) {
					rec = x;
					used[k] = 1;
					break;
				}
			}
			r = add_row(rs, rec ? "transfer" : "released",
				jstr(rec ? rec : e, "event_time"));
			if (r == NULL)
				break;
			if (rec != NULL) {
				snprintf(r->seq, sizeof(r->seq), "#%lld \xe2\x86\x92 #%lld",
					(long long)seq, (long long)
					json_integer_value(json_object_get(rec,
					"seq")));
				custos__court_text(&r->title, custos_lang_text(
					lang, "Transfer"), 0);
				who(&r->line2, lang, "From:",
					json_object_get(e, "actor"), 1);
				who(&r->line3, lang, "To:",
					json_object_get(rec, "actor"), 1);
				circumstances(&r->line3, lang, rec);
			} else {
				snprintf(r->seq, sizeof(r->seq), "#%lld",
					(long long)seq);
				custos__court_text(&r->title, custos_lang_text(
					lang, "Released, not yet received"), 0);
				who(&r->line2, lang, "From:",
					json_object_get(e, "actor"), 1);
				labelled(&r->line3, lang, "To:", jstr(e, "to") ?
					jstr(e, "to") : "?", NAME_MAX_CHARS);
				circumstances(&r->line3, lang, e);
			}
			continue;
		}
		r = add_row(rs, type, jstr(e, "event_time"));
		if (r == NULL)
			break;
		snprintf(r->seq, sizeof(r->seq), "#%lld", (long long)seq);
		custos__court_text(&r->title, custos__court_record_type(lang,
			type), 0);
		who(&r->line2, lang, "By:", json_object_get(e, "actor"), 1);
		circumstances(&r->line3, lang, e);
		if (strcmp(type, "exported") == 0) {
			json_t *rc = receipt_for(receipts, jstr(e, "bundle_id"));

			labelled(&r->line3, lang, "Bundle:",
				jstr(e, "bundle_id") ? jstr(e, "bundle_id") : "?",
				60);
			if (rc == NULL)
				continue;
			r = add_row(rs, "abroad", jstr(rc, "received_at"));
			if (r == NULL)
				break;
			snprintf(r->seq, sizeof(r->seq), "%s", "");
			custos__court_text(&r->title, custos_lang_text(lang,
				"Received abroad (signed receipt)"), 0);
			custos__court_text(&r->line2, custos_lang_text(lang,
				"By:"), 0);
			custos__court_put(&r->line2, " ");
			custos__court_text(&r->line2, jstr(rc,
				"receiving_officer") ? jstr(rc,
				"receiving_officer") : "?", NAME_MAX_CHARS);
			custos__court_put(&r->line2, ", ");
			custos__court_text(&r->line2, jstr(rc,
				"receiving_authority") ? jstr(rc,
				"receiving_authority") : "?", NAME_MAX_CHARS);
			if (json_object_get(rc, "signer") != NULL)
				custos__court_put(&r->line2, " " SIGNED);
			if (jstr(rc, "storage_location"))
				labelled(&r->line3, lang, "Storage:",
					jstr(rc, "storage_location"), 40);
		}
	}
	free(used);
	/* Who has it now. */
	if (jstr(facts, "state") != NULL) {
		const char *state = jstr(facts, "state");
		json_t *holder = json_object_get(facts, "holder");
		row *r = add_row(rs, "now", NULL);

		if (r == NULL)
			return;
		custos__court_text(&r->title, custos_lang_text(lang, "Now"), 0);
		if (strcmp(state, "held") == 0)
			who(&r->line2, lang, "Held by:", holder, 0);
		else if (strcmp(state, "in-transit") == 0)
			custos__court_text(&r->line2, custos_lang_text(lang,
				"In transit"), 0);
		else
			custos__court_text(&r->line2,
				custos__court_record_type(lang, state), 0);
	}
}

/* A text element at x (mirrored for right to left). */
static void text_at(court_buf *b, int rtl, int x, int y, const char *cls,
		int ltr_content, const char *escaped)
{
	int xx = rtl ? WIDTH - x : x;

	if (rtl && ltr_content)
		custos__court_putf(b, "<text x=\"%d\" y=\"%d\" class=\"%s\" "
			"direction=\"ltr\" text-anchor=\"end\">", xx, y, cls);
	else
		custos__court_putf(b, "<text x=\"%d\" y=\"%d\" class=\"%s\"%s>",
			xx, y, cls, rtl ? " direction=\"rtl\"" : "");
	custos__court_put(b, escaped);
	custos__court_put(b, "</text>");
}

static void draw_block(court_buf *b, const custos_lang *lang, row *v,
		size_t n, const char *item)
{
	int rtl = custos_lang_rtl(lang), height = (int)n * ROW + 8;
	int lane = rtl ? WIDTH - 150 : 150;

	custos__court_putf(b, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/"
		"2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		"role=\"img\"><title>", WIDTH, height, WIDTH, height);
	custos__court_fill(b, lang, "Custody timeline of item {1}", 0, item,
		NULL, NULL, NULL);
	custos__court_putf(b, "</title><line x1=\"%d\" y1=\"8\" x2=\"%d\" "
		"y2=\"%d\" class=\"lane\"/>", lane, lane, height - 8);
	for (size_t i = 0; i < n; i++) {
		row *r = &v[i];
		int y = (int)i * ROW;
		court_buf t = {0};

		if (r->time != NULL) {
			char date[16], clock[24];

			/* RFC 3339: the date, then the time of day. */
			snprintf(date, sizeof(date), "%.10s", r->time);
			snprintf(clock, sizeof(clock), "%s", strlen(r->time) >
				11 ? r->time + 11 : "");
			custos__court_text(&t, date, 10);
			text_at(b, rtl, 8, y + 20, "t", 1, t.data ? t.data : "");
			free(t.data);
			memset(&t, 0, sizeof(t));
			custos__court_text(&t, clock, 14);
			text_at(b, rtl, 8, y + 36, "t", 1, t.data ? t.data : "");
			free(t.data);
			memset(&t, 0, sizeof(t));
		}
		if (r->seq[0] != '\0') {
			custos__court_text(&t, r->seq, 0);
			text_at(b, rtl, 8, y + 51, "s", 1, t.data ? t.data : "");
			free(t.data);
		}
		custos__court_putf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"7\" "
			"class=\"m %s\"/>", lane, y + 20, r->kind);
		text_at(b, rtl, 170, y + 20, "h", 0,
			r->title.data ? r->title.data : "");
		if (r->line2.data != NULL)
			text_at(b, rtl, 170, y + 36, "l", 0, r->line2.data);
		if (r->line3.data != NULL)
			text_at(b, rtl, 170, y + 51, "d", 0, r->line3.data);
	}
	custos__court_put(b, "</svg>\n");
}

void custos__court_timeline(court_buf *b, const custos_lang *lang,
		const char *item, json_t *item_facts, json_t *receipts)
{
	rows rs = {0};

	build_rows(&rs, lang, item_facts, receipts);
	if (rs.oom)
		b->oom = 1;
	if (rs.n == 0) {
		custos__court_put(b, "<p class=\"none\">");
		custos__court_text(b, custos_lang_text(lang,
			"No custody record names this item."), 0);
		custos__court_put(b, "</p>\n");
	}
	for (size_t i = 0; i < rs.n; i += ROWS_PER_BLOCK)
		draw_block(b, lang, rs.v + i, rs.n - i < ROWS_PER_BLOCK ?
			rs.n - i : ROWS_PER_BLOCK, item ? item : "");
	for (size_t i = 0; i < rs.n; i++) {
		free(rs.v[i].title.data);
		free(rs.v[i].line2.data);
		free(rs.v[i].line3.data);
		if (rs.v[i].title.oom || rs.v[i].line2.oom || rs.v[i].line3.oom)
			b->oom = 1;
	}
	free(rs.v);
}
