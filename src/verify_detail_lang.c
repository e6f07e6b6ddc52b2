/*
 * A check's detail in another language.  A detail is written once, in
 * English, when the check is made (custos__verify_add), long before the
 * language of the text or the report is known.  So its template (the
 * printf format, a literal that the catalogues translate) is kept with
 * each of its arguments as printed; a translation is the catalogue's
 * template with those arguments put back in, by position ("%2$s" too), so
 * a language may order them its own way.  A template with a conversion
 * this does not know, or no translation, keeps the English.  Also the
 * verdict's reason, made the same way from the deciding check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "custos/lang.h"
#include "util_private.h"
#include "verify_private.h"

#define SPEC_MAX 32
/* Marks a string for xgettext. */
#define N_(s) (s)

/* One conversion at *p (after the '%'): its spec without any "n$" (spec,
 * for snprintf), its position (0 if none), its conversion letter and
 * length modifier; where it ends.  0 when it is not a known one. */
static int parse_spec(const char *p, const char **end, char spec[SPEC_MAX],
		int *pos, char *conv, char length[3])
{
	const char *q = p, *digits;
	size_t n = 0;

	*pos = 0;
	digits = q;
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q == '$' && q > digits) {
		/* A catalogue's position: at most two digits are sensible. */
		if (q - digits > 2)
			return 0;
		*pos = (int)strtol(digits, NULL, 10);
		p = q + 1;
	}
	q = p;
	spec[n++] = '%';
	while (*q != '\0' && strchr("-+ #0", *q) != NULL && n < SPEC_MAX - 8)
		spec[n++] = *q++;
	while (*q >= '0' && *q <= '9' && n < SPEC_MAX - 8)
		spec[n++] = *q++;
	if (*q == '.') {
		spec[n++] = *q++;
		while (*q >= '0' && *q <= '9' && n < SPEC_MAX - 6)
			spec[n++] = *q++;
	}
	length[0] = length[1] = length[2] = '\0';
	if ((q[0] == 'l' && q[1] == 'l') || (q[0] == 'h' && q[1] == 'h')) {
		length[0] = q[0];
		length[1] = q[1];
		spec[n++] = *q++;
		spec[n++] = *q++;
	} else if (*q != '\0' && strchr("hlzjt", *q) != NULL) {
		length[0] = *q;
		spec[n++] = *q++;
	}
	if (*q == '\0' || strchr("sdiuxXc", *q) == NULL)
		return 0; /* '*', floats, %n, %p...: not kept */
	*conv = *q;
	spec[n++] = *q++;
	spec[n] = '\0';
	*end = q;
	return 1;
}

/* One argument, printed as spec prints it.  spec is one conversion cut
 * from a template the compiler checked against these very arguments
 * (custos__verify_add is declared printf-like), and read with its type. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static char *print_arg(const char *spec, char conv, const char *length,
		va_list *ap)
{
	char *s = NULL;
	int ok;

	if (conv == 's')
		ok = asprintf(&s, spec, va_arg(*ap, const char *));
	else if (conv == 'c')
		ok = asprintf(&s, spec, va_arg(*ap, int));
	else if (conv == 'd' || conv == 'i') {
		if (strcmp(length, "ll") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, long long));
		else if (strcmp(length, "l") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, long));
		else if (strcmp(length, "z") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, ssize_t));
		else if (strcmp(length, "j") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, intmax_t));
		else if (strcmp(length, "t") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, ptrdiff_t));
		else
			ok = asprintf(&s, spec, va_arg(*ap, int));
	} else {
		if (strcmp(length, "ll") == 0)
			ok = asprintf(&s, spec,
				va_arg(*ap, unsigned long long));
		else if (strcmp(length, "l") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, unsigned long));
		else if (strcmp(length, "z") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, size_t));
		else if (strcmp(length, "j") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, uintmax_t));
		else if (strcmp(length, "t") == 0)
			ok = asprintf(&s, spec, va_arg(*ap, ptrdiff_t));
		else
			ok = asprintf(&s, spec, va_arg(*ap, unsigned int));
	}
	return ok < 0 ? NULL : s;
}
#pragma GCC diagnostic pop

void custos__verify_detail_keep(custos_verify_check *c, const char *fmt,
		va_list ap)
{
	va_list aq;
	char **args = NULL;
	size_t n = 0;
	int ok = 1;

	va_copy(aq, ap);
	for (const char *p = fmt; ok && *p != '\0'; p++) {
		char spec[SPEC_MAX], conv, length[3], **na;
		const char *end;
		int pos;

		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (!parse_spec(p + 1, &end, spec, &pos, &conv, length) ||
		    pos != 0 || (na = realloc(args, (n + 1) *
			    sizeof(*na))) == NULL) {
			ok = 0;
			break;
		}
		args = na;
		if ((args[n] = print_arg(spec, conv, length, &aq)) == NULL) {
			ok = 0;
			break;
		}
		n++;
		p = end - 1;
	}
	va_end(aq);
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			free(args[i]);
		free(args);
		return; /* the English only */
	}
	c->fmt = fmt;
	c->args = args;
	c->nargs = n;
}

void custos__verify_detail_free(custos_verify_check *c)
{
	for (size_t i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->args);
	c->args = NULL;
	c->nargs = 0;
	c->fmt = NULL;
}

/* The template tr with args put back: each conversion stands for the
 * next argument, or the one its "n$" names.  NULL when tr names one that
 * is not there. */
static char *fill(const char *tr, char *const *args, size_t nargs)
{
	size_t cap = strlen(tr) + 1, len = 0, next = 0;
	char *out;

	for (size_t i = 0; i < nargs; i++)
		cap += strlen(args[i]);
	if ((out = malloc(cap * 2)) == NULL)
		return NULL;
	cap *= 2;
	for (const char *p = tr; *p != '\0'; p++) {
		char spec[SPEC_MAX], conv, length[3];
		const char *end, *a;
		int pos;
		size_t k, al;

		if (*p != '%' || p[1] == '%') {
			if (*p == '%')
				p++;
			if (len + 1 >= cap)
				goto bad;
			out[len++] = *p;
			continue;
		}
		if (!parse_spec(p + 1, &end, spec, &pos, &conv, length))
			goto bad;
		k = pos > 0 ? (size_t)pos - 1 : next++;
		if (k >= nargs)
			goto bad;
		a = args[k];
		al = strlen(a);
		if (len + al >= cap)
			goto bad;
		memcpy(out + len, a, al);
		len += al;
		p = end - 1;
	}
	out[len] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

char *custos__verify_detail_text(const custos_verify_check *c,
		const custos_lang *lang)
{
	const char *tr;

	if (lang == NULL || c->fmt == NULL)
		return NULL;
	tr = custos_lang_text(lang, c->fmt);
	if (tr == c->fmt || strcmp(tr, c->fmt) == 0)
		return NULL;
	return fill(tr, c->args, c->nargs);
}

/* The detail in lang, else the English (*owned is what to free). */
static const char *detail_or_english(const custos_verify_check *c,
		const custos_lang *lang, char **owned)
{
	*owned = custos__verify_detail_text(c, lang);
	return *owned != NULL ? *owned : c->detail;
}

char *custos__verify_reason_text(const custos_verify_case *r,
		const custos_lang *lang)
{
	const custos_verify_check *failed = NULL, *unchecked = NULL;
	size_t required;
	char *owned = NULL, *out = NULL;
	const char *d;

	/* As custos__verify_decide chose, over the sorted checks. */
	required = custos__verify_required(r, &failed, &unchecked);
	/* The catalogue's templates are filled, never given to printf. */
	if (failed != NULL || unchecked != NULL) {
		const custos_verify_check *c = failed ? failed : unchecked;
		const char *tmpl = failed ? N_("%s failed (%s): %s")
					  : N_("%s not checked (%s): %s");
		char *args[3];

		d = detail_or_english(c, lang, &owned);
		args[0] = c->id;
		args[1] = c->subject;
		args[2] = (char *)d;
		out = fill(custos_lang_text(lang, tmpl), args, 3);
		if (out == NULL)
			out = fill(tmpl, args, 3);
	} else if (required == 0) {
		out = custos__strdup(custos_lang_text(lang,
			"nothing to verify was found"));
	} else {
		char count[32], *args[1] = {count};

		snprintf(count, sizeof(count), "%zu", required);
		out = fill(custos_lang_text(lang,
			"%zu required checks passed"), args, 1);
		if (out == NULL)
			out = fill("%zu required checks passed", args, 1);
	}
	free(owned);
	return out;
}
