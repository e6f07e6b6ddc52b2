/*
 * The language of what custos writes for people: a GNU gettext catalogue
 * (a .mo file built from po/LANG.po) loaded for one language, and looked
 * up without touching the process locale.  custos-verify's text output and
 * the court report (custos/court.h) take one.
 *
 * The catalogue is read directly from LOCALEDIR/LANG/LC_MESSAGES/custos.mo
 * rather than through gettext(3), so the language is exactly the one asked
 * for, whatever LANG, LC_ALL or LANGUAGE say, and also when no locale is
 * installed at all.  English is the source language and needs no file.
 * Adding a language is adding po/LANG.po: its "ltr" entry says which way
 * the script runs ("rtl" for Arabic), its month names and date pattern say
 * how a date is written.
 */
#ifndef CUSTOS_LANG_H
#define CUSTOS_LANG_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

typedef struct custos_lang custos_lang;

/*
 * Load the catalogue for code ("en", "fr", "ar", "pt_BR": two or three
 * lowercase letters, optionally _ and a region) from localedir, or from
 * the folder custos was installed with when localedir is NULL.  "en" needs
 * no file.  CUSTOS_EINVAL for a malformed code, CUSTOS_ENOTFOUND when no
 * catalogue exists for it, CUSTOS_EFORMAT for a file that is not a
 * catalogue.
 */
CUSTOS_EXTERN custos_status custos_lang_open(custos_lang **out,
		const char *code, const char *localedir, custos_error *err);

/* The folder catalogues are looked for in when none is given. */
CUSTOS_EXTERN const char *custos_lang_default_dir(void);

/* "en", "fr", ... (borrowed).  A NULL lang is English. */
CUSTOS_EXTERN const char *custos_lang_code(const custos_lang *lang);

/* 1 if the language is written right to left. */
CUSTOS_EXTERN int custos_lang_rtl(const custos_lang *lang);

/* The translation of msgid, or msgid itself (borrowed). */
CUSTOS_EXTERN const char *custos_lang_text(const custos_lang *lang,
		const char *msgid);

/*
 * A time as the language writes it ("1 décembre 2026, 21:54:53 UTC"),
 * into out (at least 128 bytes recommended).  seconds since the epoch, UTC.
 */
CUSTOS_EXTERN void custos_lang_format_time(const custos_lang *lang,
		int64_t seconds, char *out, size_t cap);

/* Accepts NULL. */
CUSTOS_EXTERN void custos_lang_free(custos_lang *lang);

#endif
