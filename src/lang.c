/*
 * GNU gettext catalogues read directly: a .mo file (the binary form msgfmt
 * makes of po/LANG.po) is read whole, every string table entry is checked
 * to lie inside the file and end in NUL, and lookups are a binary search
 * over the sorted original strings.  No setlocale, no bindtextdomain: the
 * language is the one the caller names, independent of the environment,
 * and two threads may use two languages at once.  Also how a language
 * writes a date: its month names and a pattern, both from the catalogue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "custos/lang.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#ifndef CUSTOS_LOCALEDIR
#define CUSTOS_LOCALEDIR "/usr/local/share/locale"
#endif

#define MO_MAX ((size_t)8 << 20)
#define MO_MAGIC 0x950412deu
#define MO_MAGIC_SWAPPED 0xde120495u
#define CODE_MAX 16
/* Marks a string for xgettext where it is not translated yet. */
#define N_(s) (s)

struct custos_lang {
	char code[CODE_MAX];
	unsigned char *data;     /* the .mo file, NULL for English */
	size_t size;
	uint32_t count;
	uint32_t originals;      /* offset of the originals table */
	uint32_t translations;   /* offset of the translations table */
	int swapped;
	int rtl;
};

const char *custos_lang_default_dir(void)
{
	return CUSTOS_LOCALEDIR;
}

static uint32_t word(const custos_lang *l, size_t off)
{
	const unsigned char *p = l->data + off;

	if (l->swapped)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			(uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
		(uint32_t)p[1] << 8 | p[0];
}

/* "en", "fr", "pt_BR": nothing that could walk out of localedir. */
static int code_ok(const char *code)
{
	size_t n = 0;

	while (code[n] >= 'a' && code[n] <= 'z')
		n++;
	if (n < 2 || n > 3)
		return 0;
	if (code[n] == '\0')
		return 1;
	return code[n] == '_' && code[n + 1] >= 'A' && code[n + 1] <= 'Z' &&
		code[n + 2] >= 'A' && code[n + 2] <= 'Z' && code[n + 3] == '\0';
}

/* Entry i of the table at table: its string, or NULL when it does not lie
 * in the file. */
static const char *entry(const custos_lang *l, uint32_t table, uint32_t i)
{
	size_t at = (size_t)table + (size_t)i * 8;
	uint32_t len, off;

	if (at + 8 > l->size)
		return NULL;
	len = word(l, at);
	off = word(l, at + 4);
	if ((size_t)off + len >= l->size || l->data[(size_t)off + len] != '\0')
		return NULL;
	return (const char *)l->data + off;
}

static custos_status parse_mo(custos_lang *l, const char *path,
		custos_error *err)
{
	uint32_t magic;

	if (l->size < 28)
		goto bad;
	magic = (uint32_t)l->data[0] | (uint32_t)l->data[1] << 8 |
		(uint32_t)l->data[2] << 16 | (uint32_t)l->data[3] << 24;
	if (magic == MO_MAGIC_SWAPPED)
		l->swapped = 1;
	else if (magic != MO_MAGIC)
		goto bad;
	if ((word(l, 4) >> 16) > 1)
		goto bad;
	l->count = word(l, 8);
	l->originals = word(l, 12);
	l->translations = word(l, 16);
	if (l->count > l->size / 16)
		goto bad;
	for (uint32_t i = 0; i < l->count; i++) {
		const char *a = entry(l, l->originals, i);

		if (a == NULL || entry(l, l->translations, i) == NULL)
			goto bad;
		/* The search below needs the originals sorted. */
		if (i > 0 && strcmp(entry(l, l->originals, i - 1), a) >= 0)
			goto bad;
	}
	return CUSTOS_OK;
bad:
	return custos__error_set(err, CUSTOS_EFORMAT,
		"%s is not a GNU gettext catalogue", path);
}

custos_status custos_lang_open(custos_lang **out, const char *code,
		const char *localedir, custos_error *err)
{
	custos_lang *l;
	custos_status st;
	char *path;

	*out = NULL;
	if (code == NULL || !code_ok(code))
		return custos__error_set(err, CUSTOS_EINVAL,
			"bad language '%s' (a code such as en, fr, ar)",
			code ? code : "");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	snprintf(l->code, sizeof(l->code), "%s", code);
	if (strcmp(code, "en") == 0) {
		*out = l;
		return CUSTOS_OK;
	}
	path = custos__aprintf("%s/%s/LC_MESSAGES/custos.mo",
		localedir ? localedir : CUSTOS_LOCALEDIR, code);
	if (path == NULL) {
		free(l);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	if (!custos__path_exists(path)) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"no catalogue for language '%s' (%s)", code, path);
		goto fail;
	}
	st = custos__read_file_max(path, MO_MAX, &l->data, &l->size,
		"catalogue", err);
	if (st == CUSTOS_OK)
		st = parse_mo(l, path, err);
	if (st != CUSTOS_OK)
		goto fail;
	/* TRANSLATORS: "rtl" if the language is written right to left,
	 * else "ltr". */
	l->rtl = strcmp(custos_lang_text(l, "ltr"), "rtl") == 0;
	free(path);
	*out = l;
	return CUSTOS_OK;
fail:
	free(path);
	custos_lang_free(l);
	return st;
}

const char *custos_lang_code(const custos_lang *lang)
{
	return lang != NULL ? lang->code : "en";
}

int custos_lang_rtl(const custos_lang *lang)
{
	return lang != NULL && lang->rtl;
}

const char *custos_lang_text(const custos_lang *lang, const char *msgid)
{
	uint32_t lo = 0, hi;

	if (lang == NULL || lang->data == NULL || msgid == NULL ||
	    msgid[0] == '\0')
		return msgid;
	hi = lang->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(msgid, entry(lang, lang->originals, mid));

		if (c == 0) {
			const char *t = entry(lang, lang->translations, mid);

			/* An untranslated entry stays English. */
			return t[0] != '\0' ? t : msgid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return msgid;
}

void custos_lang_format_time(const custos_lang *lang, int64_t seconds,
		char *out, size_t cap)
{
	static const char *const months[12] = {
		N_("January"), N_("February"), N_("March"), N_("April"),
		N_("May"), N_("June"), N_("July"), N_("August"),
		N_("September"), N_("October"), N_("November"),
		N_("December")};
	/* TRANSLATORS: how a date is written: {day} {month} {year} {time}
	 * are replaced; keep them. */
	const char *pattern = custos_lang_text(lang,
		"{day} {month} {year}, {time} UTC");
	time_t t = (time_t)seconds;
	struct tm tm;
	size_t len = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL)
		return;
	for (const char *p = pattern; *p != '\0' && len + 1 < cap;) {
		char part[64];
		size_t n;

		if (strncmp(p, "{day}", 5) == 0) {
			snprintf(part, sizeof(part), "%d", tm.tm_mday);
			p += 5;
		} else if (strncmp(p, "{month}", 7) == 0) {
			snprintf(part, sizeof(part), "%s",
				custos_lang_text(lang, months[tm.tm_mon]));
			p += 7;
		} else if (strncmp(p, "{year}", 6) == 0) {
			snprintf(part, sizeof(part), "%d", tm.tm_year + 1900);
			p += 6;
		} else if (strncmp(p, "{time}", 6) == 0) {
			snprintf(part, sizeof(part), "%02d:%02d:%02d",
				tm.tm_hour, tm.tm_min, tm.tm_sec);
			p += 6;
		} else {
			part[0] = *p++;
			part[1] = '\0';
		}
		n = strlen(part);
		if (len + n >= cap)
			break;
		memcpy(out + len, part, n + 1);
		len += n;
	}
}

void custos_lang_free(custos_lang *lang)
{
	if (lang == NULL)
		return;
	free(lang->data);
	free(lang);
}
