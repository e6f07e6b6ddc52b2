/*
 * The court report's output buffer and how untrusted text enters it.
 * Every string read from evidence (a case description, an examiner's
 * name, a path) passes through custos__court_text: it is decoded as UTF-8
 * (invalid bytes become U+FFFD), markup characters become references, and
 * every character that could act instead of show (C0 and C1 controls, the
 * bidi marks, embeddings, overrides and isolates, the Arabic letter mark,
 * the BOM and noncharacters) is written as a visible [U+XXXX].  So a
 * hostile <script> or a U+202E override comes out as plain text, and the
 * document stays valid HTML.  Templates with {N} placeholders are filled
 * here too, without printf, so a catalogue cannot inject a conversion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "court_private.h"

static int grow(court_buf *b, size_t n)
{
	size_t cap;
	char *d;

	if (b->oom)
		return 0;
	if (n > CUSTOS__COURT_MAX - b->len - 1) {
		b->oom = 1;
		return 0;
	}
	if (b->len + n + 1 <= b->cap)
		return 1;
	cap = b->cap ? b->cap : 65536;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((d = realloc(b->data, cap)) == NULL) {
		b->oom = 1;
		return 0;
	}
	b->data = d;
	b->cap = cap;
	return 1;
}

void custos__court_putn(court_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void custos__court_put(court_buf *b, const char *s)
{
	custos__court_putn(b, s, strlen(s));
}

void custos__court_putf(court_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		custos__court_putn(b, small, (size_t)n);
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Decode one UTF-8 character; *n its length.  Invalid: U+FFFD, 1 byte. */
static unsigned long decode(const unsigned char *p, size_t *n)
{
	unsigned long c;
	size_t len, i;

	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		*n = 1;
		return 0xfffd;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*n = 1;
			return 0xfffd;
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
		*n = 1;
		return 0xfffd;
	}
	*n = len;
	return c;
}

/* A character that acts (or makes HTML invalid) instead of showing. */
static int acts(unsigned long c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x61c ||
		c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
		(c >= 0x2066 && c <= 0x2069) || c == 0xfeff ||
		(c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

void custos__court_text(court_buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t chars = 0;

	while (*p != '\0') {
		size_t n;
		unsigned long c = decode(p, &n);

		if (max != 0 && chars == max) {
			custos__court_put(b, "\xe2\x80\xa6"); /* ... */
			return;
		}
		chars++;
		if (c == '&')
			custos__court_put(b, "&amp;");
		else if (c == '<')
			custos__court_put(b, "&lt;");
		else if (c == '>')
			custos__court_put(b, "&gt;");
		else if (c == '"')
			custos__court_put(b, "&quot;");
		else if (c == '\'')
			custos__court_put(b, "&#39;");
		else if (acts(c))
			custos__court_putf(b, "[U+%04lX]", c);
		else if (c == 0xfffd)
			custos__court_put(b, "\xef\xbf\xbd");
		else
			custos__court_putn(b, (const char *)p, n);
		p += n;
	}
}

void custos__court_css_string(court_buf *b, const char *s)
{
	court_buf t = {0};
	const unsigned char *p;

	/* First the visible form (no controls, no markup), then CSS. */
	custos__court_text(&t, s, 80);
	if (t.oom) {
		b->oom = 1;
		free(t.data);
		return;
	}
	for (p = (const unsigned char *)(t.data ? t.data : ""); *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == ' ' || *p >= 0x80)
			custos__court_putn(b, (const char *)p, 1);
		else
			custos__court_putf(b, "\\%x ", *p);
	}
	free(t.data);
}

void custos__court_fill(court_buf *b, const custos_lang *lang,
		const char *msgid, int wrap, const char *a1, const char *a2,
		const char *a3, const char *a4)
{
	const char *args[4] = {a1, a2, a3, a4};
	const char *p = custos_lang_text(lang, msgid), *start = p;

	while (*p != '\0') {
		if (p[0] == '{' && p[1] >= '1' && p[1] <= '4' && p[2] == '}') {
			const char *a = args[p[1] - '1'];
			court_buf seg = {0};

			custos__court_putn(&seg, start, (size_t)(p - start));
			custos__court_text(b, seg.data, 0);
			free(seg.data);
			if (wrap)
				custos__court_put(b, "<bdi>");
			custos__court_text(b, a ? a : "", 0);
			if (wrap)
				custos__court_put(b, "</bdi>");
			p += 3;
			start = p;
		} else {
			p++;
		}
	}
	custos__court_text(b, start, 0);
}
