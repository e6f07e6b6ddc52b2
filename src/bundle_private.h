/*
 * What the evidence bundle files (bundle.c, bag.c, bag_digest.c,
 * tarstream.c, transfer.c, request.c, receipt.c) share at the bottom:
 * their size limits, hex output, a growable text buffer with a hard
 * maximum, reading a small file whole, reading a descriptor as a stream,
 * cleaning untrusted values for "Label: value" lines, and the legal
 * request.  The helpers live in bundle_util.c, the request in request.c.
 */
#ifndef CUSTOS_BUNDLE_PRIVATE_H
#define CUSTOS_BUNDLE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <locale.h>
#include <sys/types.h>

#include <jansson.h>

#include "custos/error.h"

/* One read or write of a stream. */
#define IO_BLOCK (1024 * 1024)
#define PARTS_MAX 100000
/* Each manifest, bag-info.txt and the transfer manifest. */
#define MANIFEST_MAX (8 * 1024 * 1024)
#define P7S_MAX (1024 * 1024)

/* out receives 2 * n hex digits and a NUL. */
void custos__hex_into(char *out, const unsigned char *in, size_t n);

/* Growable text buffer with a hard maximum: set max, start zeroed.  A
 * failed append (too long, no memory) sets failed and keeps what was
 * there; the caller checks failed once at the end and frees data. */
typedef struct custos__sbuf {
	char *data;
	size_t len, cap, max;
	int failed;
} custos__sbuf;

void custos__sb_add(custos__sbuf *b, const char *s, size_t n);
void custos__sb_str(custos__sbuf *b, const char *s);
void custos__sb_printf(custos__sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "label: value\n" from untrusted text: control characters become
 * spaces, length is capped.  Nothing when value is NULL. */
void custos__sb_tag_line(custos__sbuf *b, const char *label,
		const char *value);

/* The value of a parsed "Label: value" line into out: leading blanks
 * dropped, then custos__clean_text. */
void custos__copy_value(char *out, size_t cap, const char *v);

/* Untrusted text into out (cap bytes, NUL-terminated), safe to store and
 * print: valid UTF-8 is copied, a control character or a byte that is not
 * valid UTF-8 becomes the four characters \xNN (nothing is dropped
 * silently), and the text is cut only between characters.  Returns the
 * length.  Printing it still goes through the tools' escaping. */
size_t custos__clean_text(char *out, size_t cap, const char *v);
/* The library's one pass over a message before a public bundle function
 * returns it: untrusted text (names from a tar, a manifest) may have put
 * controls or invalid UTF-8 in it, or the formatter cut it inside a
 * character; it is cleaned as custos__clean_text does.  The tools then
 * print it through their own escaping. */
void custos__error_tidy(custos_error *err);
/* 1 if the len bytes at s are valid UTF-8 without NUL. */
int custos__utf8_valid(const char *s, size_t len);

/*
 * Tar member names are UTF-8 (pax), and libarchive converts them through
 * the locale's character set: under LANG=C a name in French, Arabic or
 * CJK could not be written or read.  So this thread uses a UTF-8 LC_CTYPE
 * while a bundle command runs (uselocale: the program's own locale is
 * left alone).  Give what it returns and *old to _leave.
 */
locale_t custos__utf8_locale_enter(locale_t *old);
void custos__utf8_locale_leave(locale_t l, locale_t old);

/* Check the detached signature p7s over data held in memory (what names
 * it in messages: "tag manifest"), via a private temporary folder. */
custos_status custos__verify_detached(const void *data, size_t len,
		const void *p7s, size_t p7s_len, const char *what,
		const char *const *trust, size_t trust_count, custos_error *err);

/*
 * Staging: every file a command writes is made in a private folder
 * "<output>.part-XXXXXX" (mkdtemp, beside the output), then committed to
 * its final name with a rename that never replaces.  If one commit fails,
 * the names this run already committed are taken back (only while they
 * still hold this run's file), so nothing is left under a final name that
 * the rest does not vouch for.
 */
typedef struct custos__staged_file {
	char *tmp, *final;
	const char *step;          /* "part", "transfer manifest", ... */
	int committed;
	dev_t dev;
	ino_t ino;
} custos__staged_file;

typedef struct custos__staged {
	char *dir;
	custos__staged_file *files;
	size_t count, cap;
} custos__staged;

custos_status custos__staged_open(custos__staged *s, const char *output,
		custos_error *err);
/* Register name (in the folder) for final; returns the staged path
 * (borrowed) or NULL. */
char *custos__staged_add(custos__staged *s, const char *name,
		const char *final, const char *step, custos_error *err);
/* Commit in the order added; all or nothing. */
custos_status custos__staged_commit(custos__staged *s, custos_error *err);
/* Remove what is left in the folder (this run's files only) and it. */
void custos__staged_discard(custos__staged *s);
void custos__staged_free(custos__staged *s);

/* An open descriptor read as a stream (a custos__read_fn). */
typedef struct custos__fd_input {
	int fd;
	const char *path;           /* for messages */
} custos__fd_input;

custos_status custos__fd_read(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err);

/* request.c: the legal request (custos-bundle(5)), checked; *out is the
 * parsed JSON (caller decrefs). */
custos_status custos__request_parse(json_t **out, const char *text,
		size_t len, custos_error *err);
/* A non-empty string member of obj, or NULL. */
const char *custos__request_str(json_t *obj, const char *key);

#endif
