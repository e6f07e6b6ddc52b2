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

/* Read a whole file of at most max bytes (NUL-terminated; caller frees). */
custos_status custos__read_small(unsigned char **out, size_t *len,
		const char *path, size_t max, custos_error *err);

/* The value of a parsed "Label: value" line into out: leading blanks
 * dropped, control characters become spaces, cut to cap. */
void custos__copy_value(char *out, size_t cap, const char *v);

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
