/*
 * The court report as one HTML5 document, from a verification result:
 * the header (case, court or authority, date of the verification, the
 * verdict shown large and why), an index of the items, each item (what it
 * is, its source, media hashes, image files, custody timeline and
 * records), every check, the signers, time stamps and tree heads, the
 * cross-border transfer, and an appendix of the commands that repeat the
 * checks with this case's own file names and values.  All CSS is inline,
 * with a print stylesheet for A4; there is no script and nothing is
 * loaded from anywhere (a Content-Security-Policy says so too).  Text from
 * evidence goes through custos__court_text; values that read left to
 * right (hashes, paths, times) are isolated so that an Arabic page keeps
 * their order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "court_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"
#include "verify_private.h"

#define T(s) custos_lang_text(lang, s)
#define N_(s) (s)

typedef struct doc {
	court_buf b;
	const custos_lang *lang;
	const custos_verify_case *r;
	const custos_court_options *opts;
	int compact;          /* a large case: see COMPACT_RECORDS */
} doc;

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void put(doc *d, const char *s) { custos__court_put(&d->b, s); }
static void esc(doc *d, const char *s) { custos__court_text(&d->b, s, 0); }

/* Untrusted text, isolated so its direction cannot leak. */
static void bdi(doc *d, const char *s)
{
	put(d, "<bdi>");
	esc(d, s ? s : "");
	put(d, "</bdi>");
}

/* A check's detail: in the report's language when the catalogue has its
 * template, else the English, marked as such. */
static void detail(doc *d, const custos_verify_check *c)
{
	char *local = custos__verify_detail_text(c, d->lang);

	if (local != NULL) {
		put(d, "<span class=\"detail\">");
		bdi(d, local);
	} else {
		put(d, "<span class=\"detail\" lang=\"en\">");
		bdi(d, c->detail);
	}
	put(d, "</span>");
	free(local);
}

/* A value that reads left to right (hash, path, id, number). */
static void ltr(doc *d, const char *s)
{
	put(d, "<span dir=\"ltr\" class=\"h\">");
	esc(d, s ? s : "");
	put(d, "</span>");
}

static void fill(doc *d, const char *msgid, const char *a1, const char *a2,
		const char *a3)
{
	custos__court_fill(&d->b, d->lang, msgid, 1, a1, a2, a3, NULL);
}

static void th(doc *d, const char *label)
{
	put(d, "<th>");
	esc(d, custos_lang_text(d->lang, label));
	put(d, "</th>");
}

/* A time from evidence: as the language writes it, and as RFC 3339. */
static void when(doc *d, const char *rfc3339)
{
	int64_t t;
	char local[160], iso[CUSTOS__RFC3339_MAX];

	if (rfc3339 == NULL) {
		put(d, "\xe2\x80\x94");
		return;
	}
	if (!custos__verify_parse_time(rfc3339, &t)) {
		ltr(d, rfc3339);
		return;
	}
	custos_lang_format_time(d->lang, t, local, sizeof(local));
	custos__time_rfc3339(iso, (time_t)t);
	esc(d, local);
	put(d, " <span class=\"iso\">(");
	ltr(d, iso);
	put(d, ")</span>");
}

static void row_kv(doc *d, const char *label, const char *value, int is_ltr)
{
	if (value == NULL || value[0] == '\0')
		return;
	put(d, "<tr>");
	th(d, label);
	put(d, "<td>");
	if (is_ltr)
		ltr(d, value);
	else
		bdi(d, value);
	put(d, "</td></tr>\n");
}

/* ---- the style ---- */

static const char style[] =
	"*{box-sizing:border-box}"
	"html{font-family:'DejaVu Sans','Noto Sans','Noto Naskh Arabic',"
	"'Noto Sans Arabic',Arial,sans-serif;font-size:10.5pt;color:#111;"
	"line-height:1.35}"
	"body{margin:0 auto;max-width:190mm;padding:8mm}"
	"h1{font-size:20pt;margin:0 0 2mm}"
	"h2{font-size:14pt;border-bottom:1.5pt solid #333;margin:8mm 0 3mm;"
	"break-after:avoid}"
	"h3{font-size:12pt;margin:6mm 0 2mm;break-after:avoid}"
	"p.kicker{font-size:10pt;text-transform:uppercase;letter-spacing:.08em;"
	"color:#444;margin:0}"
	"table{border-collapse:collapse;width:100%;margin:2mm 0 4mm}"
	"th,td{border:.5pt solid #999;padding:1.2mm 1.8mm;text-align:start;"
	"vertical-align:top}"
	"thead th{background:#eee}"
	"table.kv th{width:32%;background:#f6f6f6;font-weight:600}"
	"tr{break-inside:avoid}"
	"thead{display:table-header-group}"
	".h{font-family:'DejaVu Sans Mono',monospace;font-size:8.5pt;"
	"word-break:break-all;unicode-bidi:isolate}"
	".iso{color:#555;font-size:9pt}"
	".verdict{border:3pt solid;border-radius:3mm;padding:4mm 6mm;margin:5mm 0;"
	"break-inside:avoid}"
	".verdict .word{font-size:34pt;font-weight:700;letter-spacing:.04em}"
	".verdict .machine{font-size:11pt;color:#333;margin-inline-start:4mm}"
	".v-VERIFIED{border-color:#1a7f37;background:#eef8f0}"
	".v-VERIFIED .word{color:#1a7f37}"
	".v-FAILED{border-color:#c62828;background:#fdeeee}"
	".v-FAILED .word{color:#c62828}"
	".v-INCOMPLETE{border-color:#b26a00;background:#fff6e6}"
	".v-INCOMPLETE .word{color:#b26a00}"
	".r-passed{color:#1a7f37;font-weight:600}"
	".r-failed{color:#c62828;font-weight:700}"
	".r-not-checked{color:#b26a00;font-weight:600}"
	".detail{font-size:9pt;color:#333}"
	"figure.timeline{margin:0}"
	"table.compact{font-size:8pt;margin:1mm 0 3mm}"
	"table.compact td,table.compact th{padding:.3mm 1.2mm}"
	"svg.timeline{display:block;width:100%;height:auto;margin:2mm 0;"
	"break-inside:avoid}"
	"svg.timeline text{font-family:'DejaVu Sans','Noto Sans',sans-serif}"
	"svg .t{font-size:12px;fill:#222}"
	"svg .s{font-size:11px;fill:#666}"
	"svg .h{font-size:13px;font-weight:700;fill:#111}"
	"svg .l{font-size:12px;fill:#222}"
	"svg .d{font-size:11px;fill:#555}"
	"svg .lane{stroke:#999;stroke-width:2}"
	"svg .m{stroke:#fff;stroke-width:2;fill:#57606a}"
	"svg .acquired{fill:#1f6feb}svg .sealed{fill:#8250df}"
	"svg .transfer{fill:#1a7f37}svg .released{fill:#b26a00}"
	"svg .exported{fill:#bf8700}svg .abroad{fill:#0a7ea4}"
	"svg .now{fill:#111}"
	"pre{background:#f6f6f6;border:.5pt solid #ccc;padding:2mm 3mm;"
	"white-space:pre-wrap;word-break:break-all;font-size:8.5pt;"
	"font-family:'DejaVu Sans Mono',monospace;break-inside:avoid;"
	"text-align:left}"
	"nav ol{columns:2;font-size:9.5pt}"
	"a{color:inherit}"
	".legend{font-size:9pt;color:#444}"
	"@media print{body{padding:0;max-width:none}"
	"section.item{break-before:page}"
	"a{text-decoration:none}}";

/* The page header and footer: the case and "page N of M". */
static void page_style(doc *d, const char *case_ref)
{
	const custos_lang *lang = d->lang;
	const char *tmpl = T("Page {1} of {2}");
	const char *p1 = strstr(tmpl, "{1}"), *p2 = strstr(tmpl, "{2}");
	int rtl = custos_lang_rtl(d->lang);
	court_buf seg = {0};

	put(d, "@page{size:A4;margin:18mm 15mm 16mm 15mm;");
	put(d, rtl ? "@top-right{content:\"" : "@top-left{content:\"");
	custos__court_css_string(&d->b, T("Custody report"));
	put(d, " \\2014  ");
	custos__court_css_string(&d->b, case_ref);
	put(d, "\";font-size:8.5pt;color:#444}");
	put(d, rtl ? "@top-left{content:\"" : "@top-right{content:\"");
	custos__court_css_string(&d->b, custos__court_verdict(d->lang,
		d->r->verdict));
	put(d, "\";font-size:8.5pt;font-weight:700}");
	put(d, "@bottom-center{content:\"");
	if (p1 != NULL && p2 != NULL && p1 < p2) {
		custos__court_putn(&seg, tmpl, (size_t)(p1 - tmpl));
		custos__court_css_string(&d->b, seg.data);
		put(d, "\" counter(page) \"");
		free(seg.data);
		memset(&seg, 0, sizeof(seg));
		custos__court_putn(&seg, p1 + 3, (size_t)(p2 - p1 - 3));
		custos__court_css_string(&d->b, seg.data);
		put(d, "\" counter(pages) \"");
		custos__court_css_string(&d->b, p2 + 3);
		free(seg.data);
	} else {
		put(d, "\" counter(page) \" / \" counter(pages) \"");
	}
	put(d, "\";font-size:8.5pt;color:#444}}");
}

/* ---- header ---- */

/* The case numbers the evidence names, "A, B". */
static char *case_refs(const custos_verify_case *r)
{
	json_t *seen = json_array();
	court_buf b = {0};
	size_t i, k;
	json_t *x, *v;

	json_array_foreach(r->reports, i, x)
		if (jstr(x, "case") != NULL)
			json_array_append_new(seen, json_string(jstr(x, "case")));
	json_array_foreach(r->bundles, i, x) {
		const char *c = jstr(json_object_get(json_object_get(x,
			"request"), "references"), "case");

		if (c != NULL)
			json_array_append_new(seen, json_string(c));
	}
	json_array_foreach(seen, i, x) {
		int dup = 0;

		json_array_foreach(seen, k, v) {
			if (k >= i)
				break;
			if (json_equal(v, x))
				dup = 1;
		}
		if (dup)
			continue;
		if (b.len > 0)
			custos__court_put(&b, ", ");
		custos__court_put(&b, json_string_value(x));
	}
	json_decref(seen);
	if (b.oom) {
		free(b.data);
		return NULL;
	}
	return b.data != NULL ? b.data : strdup("");
}

static void authority(doc *d, json_t *a, const char *label)
{
	if (!json_is_object(a) || jstr(a, "name") == NULL)
		return;
	put(d, "<tr>");
	th(d, label);
	put(d, "<td>");
	bdi(d, jstr(a, "name"));
	if (jstr(a, "country") != NULL) {
		put(d, " (");
		ltr(d, jstr(a, "country"));
		put(d, ")");
	}
	put(d, "</td></tr>\n");
}

static void header(doc *d, const char *cases)
{
	const custos_lang *lang = d->lang;
	const custos_verify_case *r = d->r;
	size_t counts[3] = {0, 0, 0}, required = 0, shown = 0, i;
	char now_iso[CUSTOS__RFC3339_MAX], n1[32], n2[32], n3[32];
	const char *verdict = custos_verify_verdict_name(r->verdict);
	int any_authority = 0;
	json_t *bd;

	put(d, "<header>\n<p class=\"kicker\">");
	esc(d, T("Chain-of-custody verification report"));
	put(d, "</p>\n<h1>");
	fill(d, "Case {1}", cases[0] ? cases : T("(no case number)"), NULL,
		NULL);
	put(d, "</h1>\n<table class=\"kv\">\n");
	json_array_foreach(r->bundles, i, bd) {
		json_t *req = json_object_get(bd, "request");

		if (!json_is_object(req))
			continue;
		authority(d, json_object_get(req, "issuing_authority"),
			"Court or issuing authority");
		authority(d, json_object_get(req, "requesting_authority"),
			"Requesting authority");
		authority(d, json_object_get(req, "requested_authority"),
			"Requested authority");
		row_kv(d, "Request reference", jstr(json_object_get(req,
			"references"), "request"), 1);
		any_authority = 1;
	}
	if (!any_authority) {
		put(d, "<tr>");
		th(d, "Court or authority");
		put(d, "<td>");
		esc(d, T("not named in the evidence"));
		put(d, "</td></tr>\n");
	}
	put(d, "<tr>");
	th(d, "Date of the verification");
	put(d, "<td>");
	custos__time_rfc3339(now_iso, (time_t)d->opts->verified_at);
	when(d, now_iso);
	put(d, "</td></tr>\n<tr>");
	th(d, "Verified with");
	put(d, "<td>");
	{
		char tool[64];

		snprintf(tool, sizeof(tool), "custos-verify %s",
			custos_version());
		ltr(d, tool);
	}
	put(d, "</td></tr>\n</table>\n");

	for (i = 0; i < r->count; i++) {
		counts[r->checks[i].outcome]++;
		required += r->checks[i].required != 0;
	}
	custos__court_putf(&d->b, "<div class=\"verdict v-%s\">"
		"<span class=\"word\">", verdict);
	esc(d, custos__court_verdict(lang, r->verdict));
	put(d, "</span>");
	if (strcmp(custos_lang_code(lang), "en") != 0) {
		put(d, "<span class=\"machine\" dir=\"ltr\">(");
		esc(d, verdict);
		put(d, ")</span>");
	}
	put(d, "\n<p>");
	snprintf(n1, sizeof(n1), "%zu", counts[0]);
	snprintf(n2, sizeof(n2), "%zu", counts[1]);
	snprintf(n3, sizeof(n3), "%zu", counts[2]);
	if (r->verdict == CUSTOS_VERDICT_VERIFIED) {
		snprintf(n1, sizeof(n1), "%zu", required);
		fill(d, "All {1} required checks passed.", n1, NULL, NULL);
	} else if (required == 0) {
		esc(d, T("Nothing to verify was found."));
	}
	put(d, "</p>\n");
	/* Each failure (or, when none, what could not be checked). */
	for (i = 0; i < r->count && shown < 20; i++) {
		const custos_verify_check *c = &r->checks[i];
		int failed = c->outcome == CUSTOS_CHECK_FAILED;

		if (!c->required || c->outcome == CUSTOS_CHECK_PASSED ||
		    (r->verdict == CUSTOS_VERDICT_FAILED && !failed))
			continue;
		put(d, "<p class=\"why\"><strong>");
		if (failed)
			fill(d, "Failed: {1} ({2})", custos__court_check_title(
				lang, c->id), c->subject, NULL);
		else
			fill(d, "Not checked: {1} ({2})",
				custos__court_check_title(lang, c->id),
				c->subject, NULL);
		put(d, "</strong><br>");
		detail(d, c);
		put(d, "</p>\n");
		shown++;
	}
	snprintf(n1, sizeof(n1), "%zu", counts[0]);
	put(d, "<p class=\"detail\">");
	fill(d, "{1} checks passed, {2} failed, {3} not checked.", n1, n2,
		n3);
	put(d, "</p></div>\n</header>\n");
}

/* ---- items ---- */

static json_t *report_of(const custos_verify_case *r, const char *item)
{
	size_t i;
	json_t *rep;

	json_array_foreach(r->reports, i, rep)
		if (jstr(rep, "item") && strcmp(jstr(rep, "item"), item) == 0)
			return rep;
	return NULL;
}

static const char *holder_name(json_t *facts)
{
	return jstr(json_object_get(facts, "holder"), "name");
}

static void item_index(doc *d)
{
	const custos_lang *lang = d->lang;
	const char *item;
	json_t *facts;
	size_t n = 0;

	put(d, "<section id=\"index\"><h2>");
	esc(d, T("Items"));
	put(d, "</h2>\n<table><thead><tr>");
	th(d, "No.");
	th(d, "Item");
	th(d, "Description");
	th(d, "Held now by");
	th(d, "Custody records");
	put(d, "</tr></thead><tbody>\n");
	json_object_foreach(d->r->items, item, facts) {
		json_t *rep = report_of(d->r, item);
		const char *state = jstr(facts, "state");

		n++;
		custos__court_putf(&d->b, "<tr><td>%zu</td><td>"
			"<a href=\"#item-%zu\">", n, n);
		bdi(d, item);
		put(d, "</a></td><td>");
		bdi(d, jstr(rep, "description") ? jstr(rep, "description") :
			"");
		put(d, "</td><td>");
		if (state != NULL && strcmp(state, "held") == 0)
			bdi(d, holder_name(facts));
		else if (state != NULL && strcmp(state, "in-transit") == 0)
			esc(d, T("In transit"));
		else if (state != NULL)
			esc(d, custos__court_record_type(lang, state));
		custos__court_putf(&d->b, "</td><td>%lld</td></tr>\n",
			(long long)json_integer_value(json_object_get(facts,
			"records")));
	}
	put(d, "</tbody></table></section>\n");
}

static void source_identity(doc *d, json_t *src)
{
	court_buf s = {0};
	static const char *const keys[] = {"vendor", "model", "serial",
		"firmware"};
	static const char *const labels[] = {N_("vendor"), N_("model"),
		N_("serial"), N_("firmware")};
	char size[48];

	for (int i = 0; i < 4; i++) {
		if (jstr(src, keys[i]) == NULL)
			continue;
		if (s.len)
			custos__court_put(&s, ", ");
		custos__court_put(&s, custos_lang_text(d->lang, labels[i]));
		custos__court_put(&s, " ");
		custos__court_put(&s, jstr(src, keys[i]));
	}
	row_kv(d, "Source", s.data, 0);
	free(s.data);
	row_kv(d, "Source path", jstr(src, "path"), 1);
	row_kv(d, "Source kind", jstr(src, "kind"), 1);
	if (json_is_integer(json_object_get(src, "size_bytes"))) {
		snprintf(size, sizeof(size), "%lld", (long long)
			json_integer_value(json_object_get(src, "size_bytes")));
		row_kv(d, "Size in bytes", size, 1);
	}
	if (json_is_boolean(json_object_get(src, "read_only")))
		row_kv(d, "Read through a write blocker",
			json_is_true(json_object_get(src, "read_only")) ?
			custos_lang_text(d->lang, "yes") :
			custos_lang_text(d->lang, "no"), 0);
}

/* A custody record's row up to its signer cell: number, stated time,
 * event (and to whom, for a hand-over). */
static void record_row_start(doc *d, json_t *e)
{
	const custos_lang *lang = d->lang;

	custos__court_putf(&d->b, "<tr><td>%lld</td><td>",
		(long long)json_integer_value(json_object_get(e, "seq")));
	ltr(d, jstr(e, "event_time"));
	put(d, "</td><td>");
	esc(d, custos__court_record_type(lang, jstr(e, "type")));
	if (jstr(e, "to") != NULL) {
		put(d, " \xe2\x86\x92 ");
		bdi(d, jstr(e, "to"));
	}
	put(d, "</td><td>");
}

static void records_table(doc *d, json_t *facts)
{
	const custos_lang *lang = d->lang;
	json_t *history = json_object_get(facts, "history"), *e;
	size_t i;

	if (json_array_size(history) == 0)
		return;
	put(d, "<h4>");
	esc(d, T("Custody records"));
	put(d, "</h4>\n<table class=\"records\"><thead><tr>");
	th(d, "No.");
	th(d, "Time stated");
	th(d, "Event");
	th(d, "Signed by");
	th(d, "Record SHA-256");
	put(d, "</tr></thead><tbody>\n");
	json_array_foreach(history, i, e) {
		json_t *actor = json_object_get(e, "actor");

		record_row_start(d, e);
		bdi(d, jstr(actor, "name"));
		put(d, "<br>");
		ltr(d, jstr(actor, "cert_sha256"));
		put(d, "</td><td>");
		ltr(d, jstr(e, "line_sha256"));
		put(d, "</td></tr>\n");
	}
	put(d, "</tbody></table>\n");
}

/*
 * Above this many custody records in all, the report is compact: a
 * Chromium of 2026 does not print the drawn timelines and full tables of
 * 100,000 records (76 MB of HTML) at all (killed after 6.5 minutes at
 * 16.7 GB).  Each item's timeline is then one table, one short row per
 * record; the records' hashes and certificates stay in --json and the
 * log itself.
 */
#define COMPACT_RECORDS 5000

static size_t all_records(const custos_verify_case *r)
{
	const char *item;
	json_t *facts;
	size_t n = 0;

	json_object_foreach(r->items, item, facts)
		n += json_array_size(json_object_get(facts, "history"));
	return n;
}

/* Said once, above the first compact timeline. */
static void compact_note(doc *d, const char *count)
{
	put(d, "<p class=\"legend\">");
	fill(d, "This case holds {1} custody records, too many to draw: "
		"each item's timeline is this table, one row per record in "
		"the order of the log, each signed by the person named. Each "
		"record's SHA-256 and its signer's certificate are in the JSON "
		"output (--json) and in the custody log itself.", count, NULL,
		NULL);
	put(d, "</p>\n");
}

/* The compact timeline of an item: one row per record, in log order. */
static void compact_timeline(doc *d, json_t *facts)
{
	const custos_lang *lang = d->lang;
	json_t *history = json_object_get(facts, "history"), *e;
	size_t i;

	if (json_array_size(history) == 0) {
		put(d, "<p class=\"none\">");
		esc(d, T("No custody record names this item."));
		put(d, "</p>\n");
		return;
	}
	put(d, "<table class=\"records compact timeline\"><thead><tr>");
	th(d, "No.");
	th(d, "Time stated");
	th(d, "Event");
	th(d, "Signed by");
	put(d, "</tr></thead><tbody>\n");
	json_array_foreach(history, i, e) {
		record_row_start(d, e);
		bdi(d, jstr(json_object_get(e, "actor"), "name"));
		put(d, "</td></tr>\n");
	}
	put(d, "</tbody></table>\n");
}

static void items(doc *d)
{
	const custos_lang *lang = d->lang;
	const char *item;
	json_t *facts;
	size_t n = 0, total = all_records(d->r);
	int compact = d->compact;
	char count[32];

	snprintf(count, sizeof(count), "%zu", total);

	json_object_foreach(d->r->items, item, facts) {
		json_t *rep = report_of(d->r, item), *files, *f;
		json_t *acq = json_object_get(facts, "acquired");
		const char *alg;
		json_t *v;
		size_t i;

		n++;
		custos__court_putf(&d->b, "<section class=\"item\" "
			"id=\"item-%zu\"><h2>", n);
		fill(d, "Item {1}", item, NULL, NULL);
		put(d, "</h2>\n<table class=\"kv\">\n");
		row_kv(d, "Description", jstr(rep, "description"), 0);
		row_kv(d, "Notes", jstr(rep, "notes"), 0);
		row_kv(d, "Case", jstr(rep, "case"), 1);
		row_kv(d, "Examiner", jstr(rep, "examiner"), 0);
		if (jstr(rep, "started_at") != NULL) {
			put(d, "<tr>");
			th(d, "Acquired");
			put(d, "<td>");
			when(d, jstr(rep, "started_at"));
			put(d, "</td></tr>\n");
		}
		source_identity(d, json_object_get(rep, "source"));
		row_kv(d, "Acquisition result", jstr(rep, "result"), 1);
		row_kv(d, "Acquisition report", jstr(rep, "path"), 1);
		row_kv(d, "SHA-256 of the report", jstr(rep, "sha256"), 1);
		row_kv(d, "Custody log", jstr(facts, "log"), 1);
		if (json_is_object(acq) && jstr(acq, "reason") != NULL)
			row_kv(d, "Reason stated", jstr(acq, "reason"), 0);
		put(d, "</table>\n");
		if (json_object_size(json_object_get(rep, "hashes")) > 0) {
			put(d, "<h4>");
			esc(d, T("Media hashes"));
			put(d, "</h4>\n<table><thead><tr>");
			th(d, "Algorithm");
			th(d, "Value");
			put(d, "</tr></thead><tbody>\n");
			json_object_foreach(json_object_get(rep, "hashes"),
					alg, v) {
				put(d, "<tr><td>");
				ltr(d, alg);
				put(d, "</td><td>");
				ltr(d, json_string_value(v));
				put(d, "</td></tr>\n");
			}
			put(d, "</tbody></table>\n");
		}
		files = json_object_get(rep, "image_files");
		if (json_array_size(files) > 0) {
			put(d, "<h4>");
			esc(d, T("Image files"));
			put(d, "</h4>\n<table><thead><tr>");
			th(d, "File");
			th(d, "Size in bytes");
			th(d, "SHA-256");
			put(d, "</tr></thead><tbody>\n");
			json_array_foreach(files, i, f) {
				put(d, "<tr><td>");
				ltr(d, jstr(f, "name"));
				custos__court_putf(&d->b, "</td><td>%lld"
					"</td><td>", (long long)
					json_integer_value(json_object_get(f,
					"size_bytes")));
				ltr(d, jstr(f, "sha256"));
				put(d, "</td></tr>\n");
			}
			put(d, "</tbody></table>\n");
		}
		put(d, "<h4>");
		esc(d, T("Custody timeline"));
		put(d, "</h4>\n");
		if (compact) {
			if (n == 1)
				compact_note(d, count);
			compact_timeline(d, facts);
			put(d, "</section>\n");
			continue;
		}
		/* One timeline, drawn in parts that each fit a page. */
		put(d, "<figure class=\"timeline\">\n");
		custos__court_timeline(&d->b, lang, item, facts,
			d->r->receipts);
		put(d, "</figure>\n<p class=\"legend\">");
		esc(d, T("\xe2\x9c\x8d marks a record signed with the named "
			"person's certificate (CAdES); the certificates are "
			"listed under Signers. Times are those the signers "
			"stated."));
		put(d, "</p>\n");
		records_table(d, facts);
		put(d, "</section>\n");
	}
}

/* ---- checks ---- */

/* What a compact report lists per kind instead of one by one: a pass,
 * and what was not checked but is not required either. */
static int summarised(const custos_verify_check *c)
{
	return c->outcome == CUSTOS_CHECK_PASSED ||
		(c->outcome == CUSTOS_CHECK_NOT_CHECKED && !c->required);
}

static int same_kind(const custos_verify_check *a,
		const custos_verify_check *b)
{
	return a->outcome == b->outcome && a->required == b->required &&
		strcmp(a->id, b->id) == 0;
}

/* A check's row up to its subject cell: the outcome (and "for
 * information" when it is not required), then the check's title and id. */
static void check_row_start(doc *d, const custos_verify_check *c)
{
	const custos_lang *lang = d->lang;

	custos__court_putf(&d->b, "<tr><td class=\"r-%s\">",
		custos_verify_outcome_name(c->outcome));
	esc(d, custos__court_outcome(lang, c->outcome, c->required));
	if (!c->required) {
		put(d, "<br><span class=\"detail\">");
		esc(d, T("(for information)"));
		put(d, "</span>");
	}
	put(d, "</td><td>");
	esc(d, custos__court_check_title(lang, c->id));
	put(d, "<br>");
	ltr(d, c->id);
	put(d, "</td><td>");
}

/* In a compact report, one row per kind of summarised check: how many
 * subjects it had, in the order the kinds first come. */
static void passed_by_kind(doc *d)
{
	const custos_lang *lang = d->lang;
	const custos_verify_case *r = d->r;

	for (size_t i = 0; i < r->count; i++) {
		const custos_verify_check *c = &r->checks[i];
		size_t n = 0, k;
		char count[32];

		if (!summarised(c))
			continue;
		for (k = 0; k < i; k++)
			if (same_kind(&r->checks[k], c))
				break;
		if (k < i)
			continue; /* its kind was counted already */
		for (k = i; k < r->count; k++)
			if (same_kind(&r->checks[k], c))
				n++;
		snprintf(count, sizeof(count), "%zu", n);
		check_row_start(d, c);
		fill(d, "{1} subjects", count, NULL, NULL);
		put(d, "</td><td><span class=\"detail\">");
		if (c->outcome == CUSTOS_CHECK_PASSED)
			esc(d, T("Passed for each of them. This case is large: "
				"each one is listed with what was seen in the "
				"JSON output (--json) and the text output."));
		else
			esc(d, T("Not checked for any of them, and not "
				"required. This case is large: each one is "
				"listed with what was seen in the JSON output "
				"(--json) and the text output."));
		put(d, "</span></td></tr>\n");
	}
}

static void checks(doc *d)
{
	const custos_lang *lang = d->lang;

	put(d, "<section id=\"checks\"><h2>");
	esc(d, T("Every check and its result"));
	put(d, "</h2>\n<table><thead><tr>");
	th(d, "Result");
	th(d, "Check");
	th(d, "Subject");
	th(d, "What was seen");
	put(d, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < d->r->count; i++) {
		const custos_verify_check *c = &d->r->checks[i];

		/* A large case lists what passed per kind of check (below);
		 * every other outcome is listed one by one. */
		if (d->compact && summarised(c))
			continue;
		check_row_start(d, c);
		ltr(d, c->subject);
		put(d, "</td><td>");
		detail(d, c);
		if (c->expected != NULL) {
			put(d, "<br>");
			esc(d, T("Expected:"));
			put(d, " ");
			ltr(d, c->expected);
		}
		if (c->observed != NULL) {
			put(d, "<br>");
			esc(d, T("Observed:"));
			put(d, " ");
			ltr(d, c->observed);
		}
		put(d, "</td></tr>\n");
	}
	if (d->compact)
		passed_by_kind(d);
	put(d, "</tbody></table></section>\n");
}

/* ---- signers, time stamps, tree heads ---- */

/* The value of one attribute ("O", "OU") in a subject "C=AT, O=x, ..". */
static char *subject_part(const char *subject, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = subject; p != NULL && *p != '\0';) {
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			const char *v = p + k + 1, *end = strstr(v, ", ");

			return end ? strndup(v, (size_t)(end - v)) : strdup(v);
		}
		p = strstr(p, ", ");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

static void note_signer(json_t *all, json_t *cert, const char *name,
		const char *what)
{
	const char *sha = jstr(cert, "sha256") ? jstr(cert, "sha256")
					       : jstr(cert, "cert_sha256");
	json_t *s, *list;

	if (sha == NULL)
		return;
	s = json_object_get(all, sha);
	if (s == NULL) {
		s = json_object();
		if (s == NULL || json_object_set_new(all, sha, s) != 0)
			return;
	}
	if (jstr(s, "name") == NULL && name != NULL)
		json_object_set_new(s, "name", json_string(name));
	if (jstr(cert, "subject") != NULL && jstr(s, "subject") == NULL) {
		char *o = subject_part(jstr(cert, "subject"), "O");
		char *ou = subject_part(jstr(cert, "subject"), "OU");
		char *org = ou && o ? custos__aprintf("%s, %s", ou, o) :
			custos__strdup(ou ? ou : o);

		json_object_set_new(s, "subject", json_string(jstr(cert,
			"subject")));
		if (org != NULL)
			json_object_set_new(s, "organisation", json_string(org));
		free(o);
		free(ou);
		free(org);
		if (jstr(cert, "role"))
			json_object_set_new(s, "role", json_string(jstr(cert,
				"role")));
		if (jstr(cert, "issuer"))
			json_object_set_new(s, "issuer", json_string(jstr(cert,
				"issuer")));
	}
	if (jstr(cert, "organisation") && jstr(s, "organisation") == NULL)
		json_object_set_new(s, "organisation", json_string(jstr(cert,
			"organisation")));
	if (jstr(cert, "role") && jstr(s, "role") == NULL)
		json_object_set_new(s, "role", json_string(jstr(cert, "role")));
	list = json_object_get(s, "signed");
	if (list == NULL) {
		list = json_object();
		json_object_set_new(s, "signed", list);
	}
	json_object_set_new(list, what, json_integer(json_integer_value(
		json_object_get(list, what)) + 1));
}

static void signers(doc *d)
{
	const custos_lang *lang = d->lang;
	const custos_verify_case *r = d->r;
	json_t *all = json_object(), *x, *e, *s;
	const char *item, *sha;
	size_t i, k;
	int any_ts = 0;

	if (all == NULL) {
		d->b.oom = 1;
		return;
	}
	json_array_foreach(r->reports, i, x)
		note_signer(all, json_object_get(x, "signer"), jstr(
			json_object_get(x, "signer"), "common_name"),
			"acquisition report");
	json_array_foreach(r->bundles, i, x)
		note_signer(all, json_object_get(x, "sender"), jstr(
			json_object_get(x, "sender"), "common_name"),
			"transfer manifest");
	json_array_foreach(r->receipts, i, x)
		note_signer(all, json_object_get(x, "signer"), jstr(
			json_object_get(x, "signer"), "common_name"),
			"receipt");
	json_object_foreach(r->items, item, x)
		json_array_foreach(json_object_get(x, "history"), k, e)
			note_signer(all, json_object_get(e, "actor"), jstr(
				json_object_get(e, "actor"), "name"),
				"custody record");

	put(d, "<section id=\"signers\"><h2>");
	esc(d, T("Signers, time stamps and tree heads"));
	put(d, "</h2>\n<h3>");
	esc(d, T("Signers"));
	put(d, "</h3>\n<table><thead><tr>");
	th(d, "Name");
	th(d, "Role");
	th(d, "Organisation");
	th(d, "Certificate SHA-256");
	th(d, "Signed");
	put(d, "</tr></thead><tbody>\n");
	json_object_foreach(all, sha, s) {
		const char *what;
		json_t *n;
		int first = 1;

		put(d, "<tr><td>");
		bdi(d, jstr(s, "name"));
		put(d, "</td><td>");
		bdi(d, jstr(s, "role"));
		put(d, "</td><td>");
		bdi(d, jstr(s, "organisation"));
		put(d, "</td><td>");
		ltr(d, sha);
		if (jstr(s, "issuer") != NULL) {
			put(d, "<br><span class=\"detail\">");
			esc(d, T("Issued by:"));
			put(d, " ");
			bdi(d, jstr(s, "issuer"));
			put(d, "</span>");
		}
		put(d, "</td><td>");
		json_object_foreach(json_object_get(s, "signed"), what, n) {
			char count[24];

			if (!first)
				put(d, "<br>");
			first = 0;
			snprintf(count, sizeof(count), "%lld",
				(long long)json_integer_value(n));
			/* The four kinds of signed document, translated. */
			if (strcmp(what, "acquisition report") == 0)
				fill(d, "{1} acquisition report(s)", count,
					NULL, NULL);
			else if (strcmp(what, "transfer manifest") == 0)
				fill(d, "{1} transfer manifest(s)", count,
					NULL, NULL);
			else if (strcmp(what, "receipt") == 0)
				fill(d, "{1} receipt(s)", count, NULL, NULL);
			else
				fill(d, "{1} custody record(s)", count, NULL,
					NULL);
		}
		put(d, "</td></tr>\n");
	}
	put(d, "</tbody></table>\n");
	json_decref(all);

	put(d, "<h3>");
	esc(d, T("Time stamps"));
	put(d, "</h3>\n");
	json_array_foreach(r->reports, i, x) {
		json_t *ts = json_object_get(x, "timestamp");

		if (!json_is_object(ts))
			continue;
		if (!any_ts) {
			put(d, "<table><thead><tr>");
			th(d, "Signed file");
			th(d, "Time stamp authority");
			th(d, "Time");
			th(d, "Result");
			put(d, "</tr></thead><tbody>\n");
		}
		any_ts = 1;
		put(d, "<tr><td>");
		ltr(d, jstr(x, "path"));
		put(d, "</td><td>");
		bdi(d, jstr(ts, "tsa"));
		put(d, "</td><td>");
		when(d, jstr(ts, "time"));
		put(d, "</td><td>");
		ltr(d, jstr(ts, "result"));
		put(d, "</td></tr>\n");
	}
	if (any_ts)
		put(d, "</tbody></table>\n");
	else {
		put(d, "<p>");
		esc(d, T("No signature in this case carries an RFC 3161 time "
			"stamp: the times shown are those the signers stated."));
		put(d, "</p>\n");
	}

	put(d, "<h3>");
	esc(d, T("Custody logs and their tree heads"));
	put(d, "</h3>\n<table><thead><tr>");
	th(d, "Custody log");
	th(d, "Records");
	th(d, "Signed checkpoints");
	th(d, "Tree head (RFC 6962, base64)");
	put(d, "</tr></thead><tbody>\n");
	json_array_foreach(r->logs, i, x) {
		put(d, "<tr><td>");
		ltr(d, jstr(x, "path"));
		custos__court_putf(&d->b, "</td><td>%lld</td><td>%lld</td><td>",
			(long long)json_integer_value(json_object_get(x,
			"records")), (long long)json_integer_value(
			json_object_get(x, "checkpoints")));
		ltr(d, jstr(x, "tree_head"));
		put(d, "</td></tr>\n");
	}
	put(d, "</tbody></table></section>\n");
}

/* ---- the transfer across the border ---- */

static void border(doc *d)
{
	const custos_lang *lang = d->lang;
	size_t i;
	json_t *x;
	char n[32];

	if (json_array_size(d->r->bundles) == 0 &&
	    json_array_size(d->r->receipts) == 0)
		return;
	put(d, "<section id=\"border\"><h2>");
	esc(d, T("Transfer across the border"));
	put(d, "</h2>\n");
	json_array_foreach(d->r->bundles, i, x) {
		json_t *req = json_object_get(x, "request");
		json_t *inst = json_object_get(req, "instrument");

		put(d, "<h3>");
		fill(d, "Bundle {1}", jstr(x, "bundle_id"), NULL, NULL);
		put(d, "</h3>\n<table class=\"kv\">\n");
		row_kv(d, "Transfer manifest", jstr(x, "path"), 1);
		row_kv(d, "SHA-256 of the transfer manifest",
			jstr(x, "transfer_manifest_sha256"), 1);
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(
			json_object_get(x, "parts")));
		row_kv(d, "Encrypted parts", n, 1);
		row_kv(d, "Sent by", jstr(json_object_get(x, "sender"),
			"common_name"), 0);
		row_kv(d, "Legal instrument", jstr(inst, "name"), 0);
		row_kv(d, "Article", jstr(inst, "article"), 1);
		row_kv(d, "Offence", jstr(json_object_get(req, "offence"),
			"description"), 0);
		put(d, "</table>\n");
	}
	json_array_foreach(d->r->receipts, i, x) {
		put(d, "<h3>");
		esc(d, T("Foreign receipt"));
		put(d, "</h3>\n<table class=\"kv\">\n");
		row_kv(d, "Receipt", jstr(x, "path"), 1);
		row_kv(d, "SHA-256 of the receipt", jstr(x, "sha256"), 1);
		row_kv(d, "Receiving officer", jstr(x, "receiving_officer"), 0);
		row_kv(d, "Receiving authority", jstr(x, "receiving_authority"),
			0);
		row_kv(d, "Signed by", jstr(json_object_get(x, "signer"),
			"common_name"), 0);
		row_kv(d, "Storage", jstr(x, "storage_location"), 0);
		if (jstr(x, "received_at") != NULL) {
			put(d, "<tr>");
			th(d, "Received");
			put(d, "<td>");
			when(d, jstr(x, "received_at"));
			put(d, "</td></tr>\n");
		}
		put(d, "</table>\n");
	}
	put(d, "</section>\n");
}

/* ---- appendix ---- */

/* A shell word for a path from evidence, then escaped for HTML. */
static void sh(doc *d, const char *s)
{
	const char *p;
	court_buf q = {0};

	if (s == NULL)
		s = "";
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._/-+=:@,%", *p)))
			break;
	if (*p == '\0' && *s != '\0' && *s != '-') {
		esc(d, s);
		return;
	}
	custos__court_put(&q, "'");
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			custos__court_put(&q, "'\\''");
		else
			custos__court_putn(&q, p, 1);
	}
	custos__court_put(&q, "'");
	esc(d, q.data);
	free(q.data);
}

static void step(doc *d, const char *text)
{
	put(d, "<p>");
	esc(d, text);
	put(d, "</p>\n<pre dir=\"ltr\">");
}

static void appendix(doc *d)
{
	const custos_lang *lang = d->lang;
	const custos_verify_case *r = d->r;
	const char *ca = d->opts->trust_count > 0 ? d->opts->trust[0]
						  : "CA.pem";
	size_t i, k;
	json_t *x, *f;

	put(d, "<section id=\"appendix\"><h2>");
	esc(d, T("Appendix: how to check this yourself"));
	put(d, "</h2>\n<p>");
	esc(d, T("Every check above can be repeated with standard tools "
		"(coreutils and OpenSSL), without custos. Run the commands "
		"from the folder the verification was run in. The trust "
		"anchor is the CA certificate you were given by another "
		"channel:"));
	put(d, " ");
	ltr(d, ca);
	put(d, "</p>\n");

	json_array_foreach(r->reports, i, x) {
		char *dir;
		const char *base;
		json_t *hashes;

		if (d->compact && i == 1) {
			/* The same steps for every item: shown once. */
			put(d, "<p>");
			esc(d, T("This case is large: the three steps are "
				"shown for the first item only. They are the "
				"same for every item, with its own files and "
				"the values shown in its section."));
			put(d, "</p>\n");
			break;
		}
		dir = custos__dirname(jstr(x, "path") ? jstr(x, "path")
						     : ".");
		base = custos__basename(jstr(x, "path") ? jstr(x, "path")
							 : "");
		hashes = json_object_get(x, "hashes");

		put(d, "<h3>");
		fill(d, "Item {1}", jstr(x, "item"), NULL, NULL);
		put(d, "</h3>\n");
		step(d, T("1. The image files: each SHA-256 printed must equal "
			"the one shown here."));
		put(d, "cd ");
		sh(d, dir ? dir : ".");
		put(d, "\n");
		json_array_foreach(json_object_get(x, "image_files"), k, f) {
			put(d, "sha256sum ");
			sh(d, jstr(f, "name"));
			put(d, "\n# ");
			esc(d, jstr(f, "sha256"));
			put(d, "\n");
		}
		put(d, "</pre>\n");
		if (jstr(hashes, "sha256") != NULL) {
			step(d, T("2. The media inside the image (E01 needs "
				"ewfverify from libewf; a raw image is the "
				"media itself):"));
			put(d, "ewfverify -d sha256 ");
			json_array_foreach(json_object_get(x, "image_files"),
					k, f) {
				if (k == 0)
					sh(d, jstr(f, "name"));
			}
			put(d, "\n# MD5 ");
			esc(d, jstr(hashes, "md5") ? jstr(hashes, "md5") : "-");
			put(d, "\n# SHA-256 ");
			esc(d, jstr(hashes, "sha256"));
			put(d, "\n</pre>\n");
		}
		step(d, T("3. The acquisition report and its signature: "
			"openssl must print \"Verification successful\", and "
			"the SHA-256 must be the one the custody log's "
			"acquired record names."));
		put(d, "openssl cms -verify -binary -inform DER -in ");
		sh(d, base);
		put(d, ".p7s -content ");
		sh(d, base);
		put(d, " \\\n    -CAfile ");
		sh(d, ca);
		put(d, " -purpose any -out /dev/null\nsha256sum ");
		sh(d, base);
		put(d, "\n# ");
		esc(d, jstr(x, "sha256"));
		put(d, "\n</pre>\n");
		free(dir);
	}
	json_array_foreach(r->logs, i, x) {
		put(d, "<h3>");
		fill(d, "Custody log {1}", jstr(x, "path"), NULL, NULL);
		put(d, "</h3>\n");
		step(d, T("4. Follow the steps in the log's VERIFY.md (hash "
			"chain, record signatures, Merkle tree, checkpoints); "
			"custos ships them as a shell script. The tree head of "
			"all the records must be:"));
		put(d, "cat ");
		sh(d, jstr(x, "path"));
		put(d, "/VERIFY.md\nsh verify-log.sh ");
		sh(d, jstr(x, "path"));
		custos__court_putf(&d->b, "\n# %lld records, tree head ",
			(long long)json_integer_value(json_object_get(x,
			"records")));
		esc(d, jstr(x, "tree_head"));
		put(d, "\n</pre>\n");
		step(d, T("5. A checkpoint with an RFC 3161 time stamp "
			"(checkpoints/N.tsr beside checkpoints/N.note) is "
			"checked against the time stamp authority's CA:"));
		put(d, "for t in ");
		sh(d, jstr(x, "path"));
		put(d, "/checkpoints/*.tsr; do [ -e \"$t\" ] &amp;&amp; "
			"openssl ts -verify \\\n    -data \"${t%.tsr}.note\" "
			"-in \"$t\" -CAfile TSA-CA.pem; done\n</pre>\n");
	}
	json_array_foreach(r->reports, i, x) {
		json_t *ts = json_object_get(x, "timestamp");

		if (!json_is_object(ts))
			continue;
		step(d, T("The report's signature carries a time stamp; "
			"openssl shows it (the time and the authority must be "
			"those shown above):"));
		put(d, "openssl cms -cmsout -print -inform DER -in ");
		sh(d, jstr(x, "path"));
		put(d, ".p7s | grep -A3 -i timeStampToken\n</pre>\n");
	}
	json_array_foreach(r->bundles, i, x) {
		const char *path = jstr(x, "path");

		put(d, "<h3>");
		fill(d, "Bundle {1}", jstr(x, "bundle_id"), NULL, NULL);
		put(d, "</h3>\n");
		step(d, T("6. The signed transfer manifest, then each "
			"encrypted part against the SHA-256 the manifest "
			"lists:"));
		put(d, "openssl cms -verify -binary -inform DER -in ");
		sh(d, path);
		put(d, ".p7s -content ");
		sh(d, path);
		put(d, " \\\n    -CAfile ");
		sh(d, ca);
		put(d, " -purpose any -out /dev/null\nsha256sum ");
		sh(d, path);
		put(d, "\n# ");
		esc(d, jstr(x, "transfer_manifest_sha256"));
		put(d, "\n</pre>\n");
	}
	json_array_foreach(r->receipts, i, x) {
		step(d, T("7. The foreign receipt and its signature:"));
		put(d, "openssl cms -verify -binary -inform DER -in ");
		sh(d, jstr(x, "path"));
		put(d, ".p7s -content ");
		sh(d, jstr(x, "path"));
		put(d, " \\\n    -CAfile ");
		sh(d, ca);
		put(d, " -purpose any -out /dev/null\nsha256sum ");
		sh(d, jstr(x, "path"));
		put(d, "\n# ");
		esc(d, jstr(x, "sha256"));
		put(d, "\n</pre>\n");
	}
	put(d, "<p>");
	esc(d, T("Or run everything at once with custos:"));
	put(d, "</p>\n<pre dir=\"ltr\">custos-verify --trust ");
	sh(d, ca);
	json_array_foreach(r->targets, i, x) {
		put(d, " ");
		sh(d, jstr(x, "path"));
	}
	put(d, "\n</pre>\n</section>\n");
}

void custos_court_options_init(custos_court_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_COURT_OPTIONS_VERSION;
}

custos_status custos_court_html(char **out, size_t *len,
		const custos_verify_case *r, const custos_court_options *opts,
		custos_error *err)
{
	custos_court_options dflt;
	const custos_lang *lang;
	doc d;
	char *cases;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (r == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no result");
	if (opts == NULL) {
		custos_court_options_init(&dflt);
		opts = &dflt;
	}
	if (opts->version != CUSTOS_COURT_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown custos_court_options version %u",
			opts->version);
	if (opts->verified_at == 0) {
		dflt = *opts;
		dflt.verified_at = (int64_t)time(NULL);
		opts = &dflt;
	}
	memset(&d, 0, sizeof(d));
	d.lang = lang = opts->lang;
	d.r = r;
	d.compact = all_records(r) > COMPACT_RECORDS;
	d.opts = opts;
	if ((cases = case_refs(r)) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	custos__court_putf(&d.b, "<!DOCTYPE html>\n<html lang=\"%s\" "
		"dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
		custos_lang_code(lang), custos_lang_rtl(lang) ? "rtl" : "ltr");
	put(&d, "<meta http-equiv=\"Content-Security-Policy\" "
		"content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		"<meta name=\"generator\" content=\"custos-verify\">\n<title>");
	fill(&d, "Custody report, case {1}", cases, NULL, NULL);
	put(&d, "</title>\n<style>");
	put(&d, style);
	page_style(&d, cases);
	put(&d, "</style>\n</head>\n<body>\n");
	header(&d, cases);
	item_index(&d);
	items(&d);
	checks(&d);
	signers(&d);
	border(&d);
	appendix(&d);
	put(&d, "</body>\n</html>\n");
	free(cases);
	if (d.b.oom) {
		free(d.b.data);
		return custos__error_set(err, CUSTOS_ENOMEM,
			"out of memory (or the report passed %zu bytes)",
			(size_t)CUSTOS__COURT_MAX);
	}
	*out = d.b.data;
	if (len != NULL)
		*len = d.b.len;
	return CUSTOS_OK;
}

custos_status custos_court_write_html(const char *path, const char *html,
		size_t len, custos_error *err)
{
	if (path == NULL || html == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no output");
	return custos__write_file_exclusive(path, html, len, 0644, err);
}
