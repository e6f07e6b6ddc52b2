/*
 * Small helpers the bundle files share (declared in bundle_private.h):
 * hex output, the growable text buffer with a hard maximum that builds
 * manifests and tag files, "Label: value" lines cleaned of control
 * characters (written and parsed), reading a small file whole, and a
 * descriptor read as a stream.  Nothing here knows about bags or age.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle_private.h"
#include "error_private.h"

void custos__hex_into(char *out, const unsigned char *in, size_t n)
{
	static const char h[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[in[i] >> 4];
		out[2 * i + 1] = h[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void custos__sb_add(custos__sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > b->max - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void custos__sb_str(custos__sbuf *b, const char *s)
{
	custos__sb_add(b, s, strlen(s));
}

void custos__sb_printf(custos__sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	custos__sb_add(b, tmp, (size_t)n);
}

custos_status custos__read_small(unsigned char **out, size_t *len,
		const char *path, size_t max, custos_error *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	*out = NULL;
	if (f == NULL)
		return custos__error_errno(err, errno, "%s", path);
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return custos__error_errno(err, EIO, "%s", path);
	}
	fclose(f);
	if (n > max) {
		free(buf);
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s: larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return CUSTOS_OK;
}

void custos__sb_tag_line(custos__sbuf *b, const char *label,
		const char *value)
{
	char clean[512];
	size_t n = 0;

	if (value == NULL)
		return;
	for (size_t i = 0; value[i] != '\0' && n + 1 < sizeof(clean); i++) {
		unsigned char c = (unsigned char)value[i];
		clean[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	clean[n] = '\0';
	custos__sb_printf(b, "%s: %s\n", label, clean);
}

void custos__copy_value(char *out, size_t cap, const char *v)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0' && n + 1 < cap; v++)
		out[n++] = (unsigned char)*v < 0x20 ? ' ' : *v;
	out[n] = '\0';
}

custos_status custos__fd_read(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	custos__fd_input *f = ctx;
	ssize_t n;

	do
		n = read(f->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return custos__error_errno(err, errno, "%s", f->path);
	*got = (size_t)n;
	return CUSTOS_OK;
}
