/*
 * Small helpers the bundle files share (declared in bundle_private.h):
 * hex output, the growable text buffer with a hard maximum that builds
 * manifests and tag files, "Label: value" lines cleaned of control
 * characters (written and parsed) without ever cutting a UTF-8
 * character or passing invalid UTF-8 on, a descriptor read as a stream, a
 * detached signature checked over bytes in memory, and the staging folder
 * through which every file a bundle command writes reaches its final name
 * (all or nothing, never over anything).  Nothing here knows about bags
 * or age.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <locale.h>
#include <sys/stat.h>

#include "custos/sign.h"
#include "bundle_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

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

/* Length of the valid UTF-8 character at s (1 to 4), or 0 if the bytes
 * there are not one (overlong, surrogate, above U+10FFFF, cut short). */
static size_t utf8_char(const unsigned char *s)
{
	unsigned int c = s[0];
	size_t n;
	unsigned int cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int custos__utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = p[i] == '\0' ? 0 : utf8_char(p + i);
		if (n == 0 || n > len - i)
			return 0;
		i += n;
	}
	return 1;
}

size_t custos__clean_text(char *out, size_t cap, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = 0;

	if (cap == 0)
		return 0;
	while (*p != '\0') {
		size_t cl = utf8_char(p);
		if (cl == 0 || *p < 0x20 || *p == 0x7f) {
			/* Invalid UTF-8 or a control: kept visible as \xNN,
			 * never dropped and never passed raw. */
			if (n + 4 >= cap)
				break;
			snprintf(out + n, cap - n, "\\x%02x", *p);
			n += 4;
			p++;
			continue;
		}
		if (n + cl >= cap)
			break; /* never cut inside a character */
		memcpy(out + n, p, cl);
		n += cl;
		p += cl;
	}
	out[n] = '\0';
	return n;
}

void custos__sb_tag_line(custos__sbuf *b, const char *label,
		const char *value)
{
	char clean[512];

	if (value == NULL)
		return;
	custos__clean_text(clean, sizeof(clean), value);
	custos__sb_printf(b, "%s: %s\n", label, clean);
}

void custos__copy_value(char *out, size_t cap, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	custos__clean_text(out, cap, v);
}

custos_status custos__verify_detached(const void *data, size_t len,
		const void *p7s, size_t p7s_len, const char *what,
		const char *const *trust, size_t trust_count, custos_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char *dir, *content = NULL, *sig = NULL;
	custos_sign_verify_options vo;
	custos_sign_verification *v = NULL;
	custos_status st;

	/* A private folder of our own: nothing in it is anyone else's. */
	dir = custos__aprintf("%s/custos-verify-XXXXXX",
		tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (dir == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (mkdtemp(dir) == NULL) {
		st = custos__error_errno(err, errno, "temporary folder %s", dir);
		free(dir);
		return st;
	}
	content = custos__aprintf("%s/content", dir);
	sig = custos__aprintf("%s/content.p7s", dir);
	if (content == NULL || sig == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = custos__write_file_exclusive(content, data, len, 0600,
			err)) != CUSTOS_OK ||
	    (st = custos__write_file_exclusive(sig, p7s, p7s_len, 0600,
			err)) != CUSTOS_OK)
		goto out;
	custos_sign_verify_options_init(&vo);
	vo.trust = trust;
	vo.trust_count = trust_count;
	vo.signature_path = sig;
	st = custos_sign_verify_file(&v, content, &vo, err);
	if (st == CUSTOS_EMISMATCH || (st == CUSTOS_OK && v != NULL &&
			custos_sign_verification_result(v) != CUSTOS_SIGN_OK))
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"%s signature: %s", what, v ?
			custos_sign_verification_message(v) : "failed");
out:
	custos_sign_verification_free(v);
	if (content != NULL)
		unlink(content); /* ours, in our private folder */
	if (sig != NULL)
		unlink(sig);
	rmdir(dir);
	free(dir);
	free(content);
	free(sig);
	return st;
}

void custos__staged_free(custos__staged *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->files[i].tmp);
		free(s->files[i].final);
	}
	free(s->files);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}

custos_status custos__staged_open(custos__staged *s, const char *output,
		custos_error *err)
{
	memset(s, 0, sizeof(*s));
	s->dir = custos__aprintf("%s.part-XXXXXX", output);
	if (s->dir == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (mkdtemp(s->dir) == NULL) {
		custos_status st = custos__error_errno(err, errno,
			"cannot make the private folder %s", s->dir);
		free(s->dir);
		s->dir = NULL;
		return st;
	}
	return CUSTOS_OK;
}

char *custos__staged_add(custos__staged *s, const char *name,
		const char *final, const char *step, custos_error *err)
{
	custos__staged_file *f;

	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		custos__staged_file *l = realloc(s->files, cap * sizeof(*l));
		if (l == NULL) {
			custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			return NULL;
		}
		s->files = l;
		s->cap = cap;
	}
	f = &s->files[s->count];
	memset(f, 0, sizeof(*f));
	f->tmp = custos__aprintf("%s/%s", s->dir, name);
	f->final = custos__strdup(final);
	f->step = step;
	if (f->tmp == NULL || f->final == NULL) {
		free(f->tmp);
		free(f->final);
		custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		return NULL;
	}
	s->count++;
	return f->tmp;
}

/* Take back what this run committed: only a name that still holds the
 * very file we put there is removed. */
static void staged_rollback(custos__staged *s)
{
	for (size_t i = 0; i < s->count; i++) {
		custos__staged_file *f = &s->files[i];
		struct stat sb;

		if (!f->committed)
			continue;
		if (lstat(f->final, &sb) == 0 && sb.st_dev == f->dev &&
		    sb.st_ino == f->ino)
			unlink(f->final);
		f->committed = 0;
	}
}

custos_status custos__staged_commit(custos__staged *s, custos_error *err)
{
	for (size_t i = 0; i < s->count; i++) {
		custos__staged_file *f = &s->files[i];
		struct stat sb;
		custos_status st;

		if (lstat(f->tmp, &sb) != 0) {
			st = custos__error_errno(err, errno,
				"committing %s %s: its staged copy is gone",
				f->step, f->final);
			staged_rollback(s);
			return st;
		}
		st = custos__commit_noreplace(f->tmp, f->final, err);
		if (st == CUSTOS_OK) {
			f->committed = 1;
			f->dev = sb.st_dev;
			f->ino = sb.st_ino;
			continue;
		}
		{
			char why[CUSTOS_ERROR_MESSAGE_MAX];
			snprintf(why, sizeof(why), "%s",
				err != NULL ? err->message : "?");
			custos__error_set(err, st, "committing %s %s failed (%s); "
				"nothing of this run is left under a final name",
				f->step, f->final, why);
		}
		staged_rollback(s);
		return st;
	}
	return CUSTOS_OK;
}

void custos__staged_discard(custos__staged *s)
{
	if (s->dir == NULL)
		return;
	/* Only the names this run made, in its own private folder. */
	for (size_t i = 0; i < s->count; i++)
		if (!s->files[i].committed)
			unlink(s->files[i].tmp);
	rmdir(s->dir);
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

locale_t custos__utf8_locale_enter(locale_t *old)
{
	static const char *const names[] = {"C.UTF-8", "C.utf8",
		"en_US.UTF-8"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		locale_t l = newlocale(LC_CTYPE_MASK, names[i], (locale_t)0);
		if (l != (locale_t)0) {
			*old = uselocale(l);
			return l;
		}
	}
	*old = (locale_t)0;
	return (locale_t)0;
}

void custos__utf8_locale_leave(locale_t l, locale_t old)
{
	if (l == (locale_t)0)
		return;
	uselocale(old);
	freelocale(l);
}

void custos__error_tidy(custos_error *err)
{
	char tidy[CUSTOS_ERROR_MESSAGE_MAX];
	size_t n;

	if (err == NULL)
		return;
	n = strnlen(err->message, sizeof(err->message));
	if (n == sizeof(err->message)) {
		err->message[--n] = '\0';
	}
	/* A message cut by the formatter may end inside a character: the
	 * cut is moved back to the character's start. */
	if (n + 1 == sizeof(err->message)) {
		size_t i = n;
		while (i > 0 && ((unsigned char)err->message[i - 1] & 0xc0) ==
				0x80 && n - i < 3)
			i--;
		if (i > 0 && (unsigned char)err->message[i - 1] >= 0xc0 &&
		    utf8_char((const unsigned char *)err->message + i - 1) == 0)
			err->message[i - 1] = '\0';
	}
	custos__clean_text(tidy, sizeof(tidy), err->message);
	memcpy(err->message, tidy, sizeof(tidy));
}
