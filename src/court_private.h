/*
 * What the court_*.c files share: the growing output buffer with its hard
 * maximum, the escaping of untrusted text for HTML (court_escape.c), the
 * fixed words of the report (court_words.c: check titles, record types,
 * verdicts) and the SVG custody timeline (court_timeline_svg.c).
 * court_html.c writes the document; court_pdf.c prints it with Chromium.
 */
#ifndef CUSTOS_COURT_PRIVATE_H
#define CUSTOS_COURT_PRIVATE_H

#include <stddef.h>

#include <jansson.h>

#include "custos/court.h"
#include "custos/lang.h"

/* No report grows past this. */
#define CUSTOS__COURT_MAX ((size_t)1 << 30)

typedef struct court_buf {
	char *data;
	size_t len, cap;
	int oom;                       /* an allocation or the maximum failed */
} court_buf;

/* Our own bytes, as they are. */
void custos__court_put(court_buf *b, const char *s);
void custos__court_putn(court_buf *b, const char *s, size_t n);
void custos__court_putf(court_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Text for HTML (element content or a quoted attribute): & < > " ' as
 * references; invalid UTF-8 as U+FFFD; control characters, the
 * bidirectional marks, embeddings, overrides and isolates, and
 * noncharacters as a visible "[U+XXXX]" that does nothing.  max: at most
 * that many characters, then "..." (0: no limit).
 */
void custos__court_text(court_buf *b, const char *s, size_t max);

/* The same for a CSS string inside "...": everything but letters, digits
 * and spaces as a CSS escape. */
void custos__court_css_string(court_buf *b, const char *s);

/*
 * A translated template with {1} .. {4} replaced by args (each escaped
 * with custos__court_text, wrapped in <bdi> when wrap is set); the
 * template itself is escaped too.
 */
void custos__court_fill(court_buf *b, const custos_lang *lang,
		const char *msgid, int wrap, const char *a1, const char *a2,
		const char *a3, const char *a4);

/* court_words.c: the fixed words, translated. */
const char *custos__court_check_title(const custos_lang *lang,
		const char *id);
const char *custos__court_record_type(const custos_lang *lang,
		const char *type);
const char *custos__court_verdict(const custos_lang *lang,
		custos_verify_verdict v);
const char *custos__court_outcome(const custos_lang *lang,
		custos_verify_outcome o, int required);

/* court_timeline_svg.c: an item's custody as SVG (one or more <svg>
 * blocks of at most a page each), from its facts and the receipts. */
void custos__court_timeline(court_buf *b, const custos_lang *lang,
		const char *item, json_t *item_facts, json_t *receipts);

#endif
