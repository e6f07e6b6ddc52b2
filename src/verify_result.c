/*
 * The verification result: the list of checks with their outcomes, the
 * facts gathered about items, reports, logs, bundles and receipts, and the
 * verdict drawn from the checks.  A required check that failed makes the
 * verdict FAILED; one that was not made (and none failed) makes it
 * INCOMPLETE; only when every required check passed is it VERIFIED.  Also
 * the small time helpers the checks share (RFC 3339, durations).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_private.h"
#include "json_release_private.h"
#include "util_private.h"
#include "verify_private.h"

/* A hard maximum on the checks one run may make. */
#define MAX_CHECKS 100000

const char *custos_verify_verdict_name(custos_verify_verdict v)
{
	switch (v) {
	case CUSTOS_VERDICT_VERIFIED: return "VERIFIED";
	case CUSTOS_VERDICT_FAILED: return "FAILED";
	case CUSTOS_VERDICT_INCOMPLETE: return "INCOMPLETE";
	}
	return "FAILED";
}

const char *custos_verify_outcome_name(custos_verify_outcome o)
{
	switch (o) {
	case CUSTOS_CHECK_PASSED: return "passed";
	case CUSTOS_CHECK_FAILED: return "failed";
	case CUSTOS_CHECK_NOT_CHECKED: return "not-checked";
	}
	return "failed";
}

custos_status custos__verify_case_new(custos_verify_case **out)
{
	custos_verify_case *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return CUSTOS_ENOMEM;
	r->targets = json_array();
	r->items = json_object();
	r->reports = json_array();
	r->logs = json_array();
	r->bundles = json_array();
	r->receipts = json_array();
	if (r->targets == NULL || r->items == NULL || r->reports == NULL ||
	    r->logs == NULL || r->bundles == NULL || r->receipts == NULL) {
		custos_verify_case_free(r);
		return CUSTOS_ENOMEM;
	}
	r->verdict = CUSTOS_VERDICT_INCOMPLETE;
	*out = r;
	return CUSTOS_OK;
}

void custos__verify_add(custos_verify_case *r, const char *id,
		const char *subject, custos_verify_outcome outcome,
		int required, const char *expected, const char *observed,
		const char *fmt, ...)
{
	custos_verify_check *c;
	va_list ap;

	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		custos_verify_check *n;

		if (r->cap >= MAX_CHECKS ||
		    (n = realloc(r->checks, cap * sizeof(*n))) == NULL) {
			r->oom = 1;
			return;
		}
		r->checks = n;
		r->cap = cap;
	}
	c = &r->checks[r->count];
	memset(c, 0, sizeof(*c));
	c->id = strdup(id);
	c->subject = strdup(subject != NULL ? subject : "");
	c->outcome = outcome;
	c->required = required;
	c->expected = custos__strdup(expected);
	c->observed = custos__strdup(observed);
	va_start(ap, fmt);
	custos__verify_detail_keep(c, fmt, ap);
	if (vasprintf(&c->detail, fmt, ap) < 0)
		c->detail = NULL;
	va_end(ap);
	if (c->id == NULL || c->subject == NULL || c->detail == NULL ||
	    (expected != NULL && c->expected == NULL) ||
	    (observed != NULL && c->observed == NULL)) {
		free(c->id);
		free(c->subject);
		free(c->detail);
		free(c->expected);
		free(c->observed);
		custos__verify_detail_free(c);
		r->oom = 1;
		return;
	}
	r->count++;
}

json_t *custos__verify_item(custos_verify_case *r, const char *item)
{
	json_t *o = json_object_get(r->items, item);

	if (o != NULL)
		return o;
	o = json_object();
	if (o == NULL || json_object_set_new(r->items, item, o) != 0) {
		r->oom = 1;
		return NULL;
	}
	return o;
}

/* Checks are listed media first, then report, custody, bundle, receipt,
 * whatever order they were made in. */
static int group_rank(const char *id)
{
	static const char *const order[] = {"media.", "report.", "custody.",
		"bundle.", "receipt."};

	for (int i = 0; i < 5; i++)
		if (strncmp(id, order[i], strlen(order[i])) == 0)
			return i;
	return 5;
}

static void sort_checks(custos_verify_case *r)
{
	/* Stable, by group: a counting sort, as a case of 1,000 items has
	 * thousands of checks (an insertion sort was quadratic there). */
	size_t start[7] = {0};
	custos_verify_check *sorted;

	if (r->count < 2)
		return;
	sorted = malloc(r->count * sizeof(*sorted));
	if (sorted == NULL) {
		r->oom = 1;
		return;
	}
	for (size_t i = 0; i < r->count; i++)
		start[group_rank(r->checks[i].id) + 1]++;
	for (int g = 1; g < 7; g++)
		start[g] += start[g - 1];
	for (size_t i = 0; i < r->count; i++)
		sorted[start[group_rank(r->checks[i].id)]++] = r->checks[i];
	memcpy(r->checks, sorted, r->count * sizeof(*sorted));
	free(sorted);
}

size_t custos__verify_required(const custos_verify_case *r,
		const custos_verify_check **failed,
		const custos_verify_check **unchecked)
{
	size_t required = 0;

	*failed = *unchecked = NULL;
	for (size_t i = 0; i < r->count; i++) {
		const custos_verify_check *c = &r->checks[i];

		if (!c->required)
			continue;
		required++;
		if (c->outcome == CUSTOS_CHECK_FAILED && *failed == NULL)
			*failed = c;
		else if (c->outcome == CUSTOS_CHECK_NOT_CHECKED &&
			 *unchecked == NULL)
			*unchecked = c;
	}
	return required;
}

void custos__verify_decide(custos_verify_case *r)
{
	const custos_verify_check *failed = NULL, *unchecked = NULL;
	size_t required;

	sort_checks(r);
	required = custos__verify_required(r, &failed, &unchecked);
	free(r->reason);
	r->reason = NULL;
	if (failed != NULL) {
		r->verdict = CUSTOS_VERDICT_FAILED;
		r->reason = custos__aprintf("%s failed (%s): %s", failed->id,
			failed->subject, failed->detail);
	} else if (unchecked != NULL) {
		r->verdict = CUSTOS_VERDICT_INCOMPLETE;
		r->reason = custos__aprintf("%s not checked (%s): %s",
			unchecked->id, unchecked->subject, unchecked->detail);
	} else if (required == 0) {
		/* Nothing was checked at all: no verdict on nothing. */
		r->verdict = CUSTOS_VERDICT_INCOMPLETE;
		r->reason = custos__aprintf("nothing to verify was found");
	} else {
		r->verdict = CUSTOS_VERDICT_VERIFIED;
		r->reason = custos__aprintf("%zu required checks passed",
			required);
	}
	if (r->reason == NULL)
		r->oom = 1;
}

custos_verify_verdict custos_verify_case_verdict(
		const custos_verify_case *r)
{
	return r != NULL ? r->verdict : CUSTOS_VERDICT_FAILED;
}

const char *custos_verify_case_reason(const custos_verify_case *r)
{
	return r != NULL && r->reason != NULL ? r->reason : "";
}

size_t custos_verify_case_check_count(const custos_verify_case *r)
{
	return r != NULL ? r->count : 0;
}

const custos_verify_check *custos_verify_case_check(
		const custos_verify_case *r, size_t index)
{
	return r != NULL && index < r->count ? &r->checks[index] : NULL;
}

const custos_verify_check *custos_verify_case_find(
		const custos_verify_case *r, const char *id,
		const char *subject)
{
	for (size_t i = 0; r != NULL && id != NULL && i < r->count; i++)
		if (strcmp(r->checks[i].id, id) == 0 && (subject == NULL ||
		    strcmp(r->checks[i].subject, subject) == 0))
			return &r->checks[i];
	return NULL;
}

const char *custos_verify_check_id(const custos_verify_check *c)
{
	return c->id;
}

const char *custos_verify_check_subject(const custos_verify_check *c)
{
	return c->subject;
}

custos_verify_outcome custos_verify_check_outcome(
		const custos_verify_check *c)
{
	return c->outcome;
}

int custos_verify_check_required(const custos_verify_check *c)
{
	return c->required;
}

const char *custos_verify_check_detail(const custos_verify_check *c)
{
	return c->detail;
}

const char *custos_verify_check_expected(const custos_verify_check *c)
{
	return c->expected;
}

const char *custos_verify_check_observed(const custos_verify_check *c)
{
	return c->observed;
}

/* The items' facts (their histories hold most of a large case) freed on
 * two threads; items itself last. */
static void release_items(json_t *items)
{
	size_t n = json_object_size(items), k = 0;
	json_t **v = n > 0 ? malloc(n * sizeof(*v)) : NULL;
	const char *key;
	json_t *facts;

	if (v != NULL) {
		json_object_foreach(items, key, facts)
			if (k < n)
				v[k++] = json_incref(facts);
	}
	json_decref(items);
	if (v != NULL) {
		custos__json_release_all(v, k);
		free(v);
	}
}

void custos_verify_case_free(custos_verify_case *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++) {
		free(r->checks[i].id);
		free(r->checks[i].subject);
		free(r->checks[i].detail);
		free(r->checks[i].expected);
		free(r->checks[i].observed);
		custos__verify_detail_free(&r->checks[i]);
	}
	free(r->checks);
	json_decref(r->targets);
	release_items(r->items);
	json_decref(r->reports);
	json_decref(r->logs);
	json_decref(r->bundles);
	json_decref(r->receipts);
	json_decref(r->profile);
	free(r->reason);
	free(r);
}

/* ---- time ---- */

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

int custos__verify_parse_time(const char *text, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
	const char *p;
	time_t t;

	if (text == NULL || strlen(text) < 20 ||
	    !digits(text, 4, &y) || text[4] != '-' ||
	    !digits(text + 5, 2, &mo) || text[7] != '-' ||
	    !digits(text + 8, 2, &d) || (text[10] != 'T' && text[10] != 't') ||
	    !digits(text + 11, 2, &h) || text[13] != ':' ||
	    !digits(text + 14, 2, &mi) || text[16] != ':' ||
	    !digits(text + 17, 2, &s))
		return 0;
	p = text + 19;
	if (*p == '.') {          /* fractions are dropped */
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om))
			return 0;
		p += 6;
	} else {
		return 0;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || s > 60 || oh > 23 || om > 59)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	*out = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
	return 1;
}

void custos__verify_format_duration(char *out, size_t cap, int64_t seconds)
{
	static const struct { int64_t size; char unit; } parts[] = {
		{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t len = 0;

	out[0] = '\0';
	if (seconds <= 0) {
		snprintf(out, cap, "%llds", (long long)seconds);
		return;
	}
	for (int i = 0; i < 4; i++) {
		int64_t v = seconds / parts[i].size;

		seconds %= parts[i].size;
		if (v == 0 || len >= cap)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s%lld%c",
			len ? " " : "", (long long)v, parts[i].unit);
	}
}

custos_status custos_verify_parse_duration(int64_t *seconds,
		const char *text, custos_error *err)
{
	int64_t v = 0, unit = 1;
	const char *p = text;

	if (text == NULL || *text == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "empty duration");
	while (*p >= '0' && *p <= '9') {
		if (v > INT64_C(1000000000000))
			return custos__error_set(err, CUSTOS_EINVAL,
				"duration '%s' is too long", text);
		v = v * 10 + (*p++ - '0');
	}
	if (p == text)
		goto bad;
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	default: goto bad;
	}
	if (*p != '\0')
		goto bad;
	*seconds = v * unit;
	return CUSTOS_OK;
bad:
	return custos__error_set(err, CUSTOS_EINVAL,
		"bad duration '%s' (a number with s, m, h or d)", text);
}
