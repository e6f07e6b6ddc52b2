/*
 * A custody report a court can read: the result of custos_verify_run as
 * one self-contained HTML5 document (inline CSS and SVG, no script, no
 * external resource), in the court's language (custos/lang.h), with a
 * print stylesheet for A4; and as PDF through a headless Chromium.
 *
 * The document holds a header (case, court or authority, date of the
 * verification, the verdict shown large), an index of the items, each
 * item (description, source identity, media hashes, image files, its
 * custody timeline drawn as SVG and every custody record), every check
 * with its result, the signers, time stamps and tree heads, and an
 * appendix telling a reader how to repeat the checks with sha256sum and
 * openssl.  Every piece of text taken from evidence is escaped: markup is
 * inert, and control and bidirectional-override characters are shown as
 * [U+XXXX] instead of acting.
 */
#ifndef CUSTOS_COURT_H
#define CUSTOS_COURT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "lang.h"
#include "verify.h"

#define CUSTOS_COURT_OPTIONS_VERSION 1

typedef struct custos_court_options {
	unsigned int version;          /* CUSTOS_COURT_OPTIONS_VERSION */
	const custos_lang *lang;       /* NULL: English */
	/* When the verification ran, seconds since the epoch (UTC);
	 * 0: now. */
	int64_t verified_at;
	/* The trust anchors the verification used (for the appendix). */
	const char *const *trust;
	size_t trust_count;
} custos_court_options;

CUSTOS_EXTERN void custos_court_options_init(custos_court_options *opts);

/*
 * The report as HTML5 (UTF-8, NUL-terminated; *len its length without the
 * NUL).  Caller frees *out.
 */
CUSTOS_EXTERN custos_status custos_court_html(char **out, size_t *len,
		const custos_verify_case *r, const custos_court_options *opts,
		custos_error *err);

/* Write the HTML to path, which must not exist (CUSTOS_EEXIST). */
CUSTOS_EXTERN custos_status custos_court_write_html(const char *path,
		const char *html, size_t len, custos_error *err);

/*
 * Render the HTML to a PDF at path (which must not exist) with a headless
 * Chromium: chromium names the program, or NULL to look for chromium,
 * chromium-browser, chromium-headless-shell and google-chrome in PATH.
 * The page is rendered in a private folder beside path with networking
 * disabled, then committed under path.  CUSTOS_ENOTFOUND when no Chromium
 * is installed; CUSTOS_EIO when it fails or takes longer than two
 * minutes.
 */
CUSTOS_EXTERN custos_status custos_court_write_pdf(const char *path,
		const char *html, size_t len, const char *chromium,
		custos_error *err);

#endif
