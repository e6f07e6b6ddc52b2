/*
 * Checking a custody export (metadata/custody.jsonl) without the log it
 * came from.  The bytes are first read as a container: canonical JSON
 * lines, one header, then record lines in strictly rising seq, each with
 * exactly its keys; anything else is refused as a whole (CUSTOS_EFORMAT).
 * Then every claim is checked and each failure recorded: the checkpoint's
 * signed-note signature by the log key and its agreement with the header,
 * each record's inclusion proof against the checkpoint's tree head, the
 * record's own form, the genesis record naming the same origin and log
 * key, the prev chain between consecutive records, each record's CAdES
 * signature over its exact bytes by the certificate its actor names with a
 * chain to the trusted CAs at the record's time, the released record each
 * received answers, and the header's list of records against the lines.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cert_private.h"
#include "custos/custody.h"
#include "custos/custody_export.h"
#include "custos/merkle.h"
#include "custos/note.h"
#include "error_private.h"
#include "json_private.h"
#include "note_private.h"
#include "util_private.h"

#define HEX64 65
#define MAX_MESSAGES 1000

typedef struct xrec {
	uint64_t seq;
	char *line;                 /* the record's bytes with LF, NUL after */
	size_t len;
	unsigned char *sig;
	size_t sig_len;
	custos_merkle_hash proof[CUSTOS_MERKLE_PROOF_MAX];
	size_t proof_n;
	char hash[HEX64];           /* SHA-256 of line (with LF) */
	char prev[HEX64];
	char cert[HEX64];           /* actor.cert_sha256 */
	char *type, *case_ref, *actor, *signer, *event_time, *recorded_at;
	char **items;
	size_t item_n;
	int listed;
	int has_answers;
	int64_t ans_seq;
	char ans_hash[HEX64];
	char *problem;
} xrec;

typedef struct strlist {
	char **v;
	size_t n;
} strlist;

struct custos_custody_export_verification {
	custos_custody_export_status status;
	char *origin, *log_key, *note, *root_b64;
	custos_merkle_hash root;
	uint64_t size;
	strlist items;
	uint64_t *listed;
	size_t listed_n;
	xrec *recs;
	size_t rec_n;
	strlist problems, notes;
};

static const char empty_sha256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void custos_custody_export_verify_options_init(
		custos_custody_export_verify_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_CUSTODY_EXPORT_VERIFY_OPTIONS_VERSION;
}

const char *custos_custody_export_status_name(
		custos_custody_export_status status)
{
	switch (status) {
	case CUSTOS_CUSTODY_EXPORT_VERIFIED: return "verified";
	case CUSTOS_CUSTODY_EXPORT_FAILED: return "failed";
	case CUSTOS_CUSTODY_EXPORT_INCOMPLETE: return "incomplete";
	}
	return "unknown";
}

/* ---- small helpers ---- */

static int push(strlist *l, char *s)
{
	char **v;

	if (s == NULL || l->n >= MAX_MESSAGES) {
		free(s);
		return s == NULL ? -1 : 0;
	}
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL) {
		free(s);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

static void strlist_free(strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void add(strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add(strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	push(l, s);
}

static void rec_fail(xrec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rec_fail(xrec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->problem != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&r->problem, fmt, ap) < 0)
		r->problem = NULL;
	va_end(ap);
}

/* Untrusted text made safe for a message: control bytes, backslash and
 * non-ASCII as \xNN, cut at cap. */
static void safe_text(char *out, size_t cap, const char *in)
{
	size_t o = 0;

	for (size_t i = 0; in[i] != '\0' && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static void sha256_hex(char out[HEX64], const void *data, size_t len)
{
	static const char d[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 32;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[md[i] >> 4];
		out[2 * i + 1] = d[md[i] & 15];
	}
	out[64] = '\0';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase is not canonical */
}

/* 64 lowercase hex digits into 32 bytes. */
static int hex32_parse(unsigned char out[32], const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 32; i++) {
		int h = hex_val(s[2 * i]), l = hex_val(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return 0;
		out[i] = (unsigned char)(h << 4 | l);
	}
	return 1;
}

static int is_hex64(const char *s)
{
	unsigned char tmp[32];

	return hex32_parse(tmp, s);
}

/* Parse one line as a canonical JSON object (sorted keys, no whitespace,
 * ASCII, no floats, no repeated key), else NULL with *why set. */
static json_t *canonical_object(const char *line, size_t len,
		const char **why)
{
	json_error_t je;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	char *again;

	*why = NULL;
	if (!json_is_object(j)) {
		*why = j == NULL && strstr(je.text, "duplicate") != NULL
			? "a key is repeated" : "it is not a JSON object";
		json_decref(j);
		return NULL;
	}
	again = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
		JSON_ENSURE_ASCII);
	if (again == NULL || strlen(again) != len ||
	    memcmp(again, line, len) != 0 || custos__json_has_real(j)) {
		*why = "it is not canonical JSON (sorted keys, no whitespace, "
			"\\u escapes for non-ASCII, no floats)";
		json_decref(j);
		j = NULL;
	}
	free(again);
	return j;
}

/* 1 if o has exactly the keys in keys[] (sorted, n of them). */
static int exact_keys(json_t *o, const char *const *keys, size_t n)
{
	if (json_object_size(o) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (json_object_get(o, keys[i]) == NULL)
			return 0;
	return 1;
}

static char *str_dup(json_t *s)
{
	const char *v = json_string_value(s);

	return custos__strdup(v != NULL ? v : "");
}

/* A JSON integer in [0, 2^63). */
static int get_u64(json_t *j, uint64_t *out)
{
	json_int_t v;

	if (!json_is_integer(j) || (v = json_integer_value(j)) < 0)
		return 0;
	*out = (uint64_t)v;
	return 1;
}

static void xrec_free(xrec *r)
{
	free(r->line);
	free(r->sig);
	free(r->type);
	free(r->case_ref);
	free(r->actor);
	free(r->signer);
	free(r->event_time);
	free(r->recorded_at);
	for (size_t k = 0; k < r->item_n; k++)
		free(r->items[k]);
	free(r->items);
	free(r->problem);
}

void custos_custody_export_verification_free(
		custos_custody_export_verification *v)
{
	if (v == NULL)
		return;
	free(v->origin);
	free(v->log_key);
	free(v->note);
	free(v->root_b64);
	strlist_free(&v->items);
	free(v->listed);
	for (size_t i = 0; i < v->rec_n; i++)
		xrec_free(&v->recs[i]);
	free(v->recs);
	strlist_free(&v->problems);
	strlist_free(&v->notes);
	free(v);
}

/* ---- reading the container ---- */

static const char *const header_keys[] = {
	"checkpoint", "format", "items", "log_key", "origin", "records",
	"root", "size",
};
static const char *const record_keys[] = {"line", "proof", "seq", "sig"};

static custos_status parse_header(custos_custody_export_verification *v,
		json_t *h, custos_error *err)
{
	char name[CUSTOS_NOTE_NAME_MAX];
	custos_error e2;
	json_t *e, *items = json_object_get(h, "items");
	json_t *records = json_object_get(h, "records");
	size_t i;

	if (json_object_get(h, "format") == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a custody export: the first line is not its "
			"header");
	if (!json_is_string(json_object_get(h, "format")) ||
	    strcmp(json_string_value(json_object_get(h, "format")),
		    CUSTOS_CUSTODY_EXPORT_FORMAT) != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a custody export in format %s",
			CUSTOS_CUSTODY_EXPORT_FORMAT);
	if (!exact_keys(h, header_keys, sizeof(header_keys) /
			sizeof(*header_keys)))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: the header must have exactly the "
			"keys checkpoint, format, items, log_key, origin, "
			"records, root and size");
	if (!json_is_string(json_object_get(h, "origin")) ||
	    !json_is_string(json_object_get(h, "log_key")) ||
	    !json_is_string(json_object_get(h, "checkpoint")) ||
	    !get_u64(json_object_get(h, "size"), &v->size) || v->size == 0 ||
	    !hex32_parse(v->root,
		    json_string_value(json_object_get(h, "root"))) ||
	    !json_is_array(items) || !json_is_array(records))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: a header field has the wrong type "
			"(size a positive integer, root 64 lowercase hex "
			"digits, items and records arrays)");
	v->origin = str_dup(json_object_get(h, "origin"));
	v->log_key = str_dup(json_object_get(h, "log_key"));
	v->note = str_dup(json_object_get(h, "checkpoint"));
	v->root_b64 = custos__b64_encode(v->root, sizeof(v->root));
	if (v->origin == NULL || v->log_key == NULL || v->note == NULL ||
	    v->root_b64 == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (custos_note_vkey_parse(v->log_key, name, &e2) != CUSTOS_OK)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: the header's log_key: %s",
			e2.message);
	if (json_array_size(items) == 0 ||
	    json_array_size(items) > CUSTOS_CUSTODY_EXPORT_ITEMS_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: the header names no items, or more "
			"than %u", CUSTOS_CUSTODY_EXPORT_ITEMS_MAX);
	json_array_foreach(items, i, e) {
		const char *s = json_string_value(e);

		if (s == NULL || *s == '\0')
			return custos__error_set(err, CUSTOS_EFORMAT,
				"custody export: an item in the header is not "
				"a non-empty string");
		for (size_t k = 0; k < v->items.n; k++)
			if (strcmp(v->items.v[k], s) == 0)
				return custos__error_set(err, CUSTOS_EFORMAT,
					"custody export: an item is named "
					"twice in the header");
		if (push(&v->items, custos__strdup(s)) != 0)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	if (json_array_size(records) > CUSTOS_CUSTODY_EXPORT_RECORDS_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: more than %u records",
			CUSTOS_CUSTODY_EXPORT_RECORDS_MAX);
	v->listed = calloc(json_array_size(records) + 1, sizeof(uint64_t));
	if (v->listed == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	json_array_foreach(records, i, e) {
		uint64_t s;

		if (!get_u64(e, &s) || s >= v->size ||
		    (i > 0 && s <= v->listed[i - 1]))
			return custos__error_set(err, CUSTOS_EFORMAT,
				"custody export: the header's records must be "
				"rising record numbers below its size");
		v->listed[v->listed_n++] = s;
	}
	return CUSTOS_OK;
}

static custos_status parse_entry(xrec *r, json_t *o, size_t lineno,
		const uint64_t *last, custos_error *err)
{
	const char *line, *sig;
	size_t llen, slen, i;
	json_t *proof, *e;
	long n;

	if (json_object_get(o, "format") != NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu is a second header",
			lineno);
	if (!exact_keys(o, record_keys, sizeof(record_keys) /
			sizeof(*record_keys)))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu must have exactly the keys "
			"line, proof, seq and sig", lineno);
	if (!get_u64(json_object_get(o, "seq"), &r->seq))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu: seq is not a record "
			"number", lineno);
	if (last != NULL && r->seq <= *last)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu holds record %" PRIu64
			", after record %" PRIu64 ": records must be in "
			"rising order, each once", lineno, r->seq, *last);
	line = json_string_value(json_object_get(o, "line"));
	llen = json_string_length(json_object_get(o, "line"));
	if (line == NULL || llen == 0 || strlen(line) != llen ||
	    memchr(line, '\n', llen) != NULL ||
	    llen + 1 > CUSTOS_CUSTODY_LINE_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu: line is not one record "
			"line (non-empty, no LF or NUL, at most %u bytes)",
			lineno, CUSTOS_CUSTODY_LINE_MAX);
	if ((r->line = malloc(llen + 2)) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	memcpy(r->line, line, llen);
	r->line[llen] = '\n';
	r->line[llen + 1] = '\0';
	r->len = llen + 1;
	proof = json_object_get(o, "proof");
	if (!json_is_array(proof) ||
	    json_array_size(proof) > CUSTOS_MERKLE_PROOF_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu: proof is not a list of at "
			"most %d hashes", lineno, CUSTOS_MERKLE_PROOF_MAX);
	json_array_foreach(proof, i, e) {
		if (!hex32_parse(r->proof[i], json_string_value(e)))
			return custos__error_set(err, CUSTOS_EFORMAT,
				"custody export: line %zu: a proof hash is "
				"not 64 lowercase hex digits", lineno);
	}
	r->proof_n = json_array_size(proof);
	sig = json_string_value(json_object_get(o, "sig"));
	slen = json_string_length(json_object_get(o, "sig"));
	if (sig == NULL || slen == 0 || slen > (1u << 20) ||
	    (r->sig = malloc(slen / 4 * 3 + 3)) == NULL ||
	    (n = custos__b64_decode(r->sig, slen / 4 * 3 + 3, sig, slen)) <= 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: line %zu: sig is not base64 of at "
			"most 768 KiB", lineno);
	r->sig_len = (size_t)n;
	return CUSTOS_OK;
}

static custos_status parse_container(custos_custody_export_verification *v,
		const char *buf, size_t len, custos_error *err)
{
	size_t off = 0, lineno = 0, cap = 0;
	custos_status st = CUSTOS_OK;

	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a custody export: empty, a NUL byte, or no LF at "
			"the end");
	for (const char *q = buf; (q = memchr(q, '\n',
			(size_t)(buf + len - q))) != NULL; q++)
		cap++;
	if (cap - 1 > CUSTOS_CUSTODY_EXPORT_RECORDS_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: more than %u records",
			CUSTOS_CUSTODY_EXPORT_RECORDS_MAX);
	if ((v->recs = calloc(cap, sizeof(*v->recs))) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (off < len && st == CUSTOS_OK) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t ll = (size_t)(nl - buf - off);
		const char *why;
		json_t *o;

		lineno++;
		o = canonical_object(buf + off, ll, &why);
		if (o == NULL)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"custody export: line %zu: %s", lineno, why);
		if (lineno == 1) {
			st = parse_header(v, o, err);
		} else {
			st = parse_entry(&v->recs[v->rec_n], o, lineno,
				v->rec_n > 0 ? &v->recs[v->rec_n - 1].seq
					     : NULL, err);
			v->rec_n++;
		}
		json_decref(o);
		off = (size_t)(nl - buf) + 1;
	}
	return st;
}

/* ---- the checks ---- */

/* The record's own bytes: canonical, its fields. */
static void check_record_form(xrec *r)
{
	const char *why;
	json_t *j = canonical_object(r->line, r->len - 1, &why);
	json_t *items, *actor, *ans, *e;
	uint64_t seq;
	size_t i;

	if (j == NULL) {
		rec_fail(r, "record %" PRIu64 ": its line is not a record: "
			"%s", r->seq, why);
		r->type = custos__strdup("");
		return;
	}
	actor = json_object_get(j, "actor");
	items = json_object_get(j, "items");
	r->type = str_dup(json_object_get(j, "type"));
	r->case_ref = str_dup(json_object_get(j, "case"));
	r->actor = str_dup(json_object_get(actor, "name"));
	r->event_time = str_dup(json_object_get(j, "event_time"));
	r->recorded_at = str_dup(json_object_get(j, "recorded_at"));
	if (json_is_string(json_object_get(j, "prev")) &&
	    is_hex64(json_string_value(json_object_get(j, "prev"))))
		memcpy(r->prev, json_string_value(json_object_get(j, "prev")),
			HEX64);
	if (json_is_string(json_object_get(actor, "cert_sha256")) &&
	    is_hex64(json_string_value(json_object_get(actor,
		    "cert_sha256"))))
		memcpy(r->cert, json_string_value(json_object_get(actor,
			"cert_sha256")), HEX64);
	if (json_is_array(items) && json_array_size(items) <=
			CUSTOS_CUSTODY_EXPORT_ITEMS_MAX &&
	    (r->items = calloc(json_array_size(items) + 1,
		    sizeof(char *))) != NULL) {
		json_array_foreach(items, i, e)
			if (json_is_string(e))
				r->items[r->item_n++] = str_dup(e);
	}
	ans = json_object_get(j, "answers");
	if (ans != NULL) {
		uint64_t as;

		r->has_answers = 1;
		r->ans_seq = get_u64(json_object_get(ans, "seq"), &as) &&
			as < INT64_MAX ? (int64_t)as : -1;
		if (is_hex64(json_string_value(json_object_get(ans,
				"sha256"))))
			memcpy(r->ans_hash, json_string_value(
				json_object_get(ans, "sha256")), HEX64);
	}
	if (json_integer_value(json_object_get(j, "v")) !=
			CUSTOS_CUSTODY_FORMAT)
		rec_fail(r, "record %" PRIu64 ": its format version is not %d",
			r->seq, CUSTOS_CUSTODY_FORMAT);
	else if (!get_u64(json_object_get(j, "seq"), &seq) || seq != r->seq)
		rec_fail(r, "record %" PRIu64 ": the line says it is another "
			"record (its seq)", r->seq);
	else if (r->prev[0] == '\0' || r->cert[0] == '\0' ||
		 r->recorded_at[0] == '\0' || !json_is_array(items))
		rec_fail(r, "record %" PRIu64 ": it lacks prev, items, "
			"recorded_at or actor.cert_sha256", r->seq);
	else if (!custos_custody_type_known(r->type))
		rec_fail(r, "record %" PRIu64 ": unknown type", r->seq);
	json_decref(j);
}

static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se;
	char z, extra;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &d, &h, &mi, &se,
			&z, &extra) != 7 || z != 'Z')
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 1;
}

/* The record's signature: CMS over its bytes, by the certificate its
 * actor names, chaining to a trusted CA at the time it was recorded. */
static void check_signature(xrec *r, X509_STORE *store)
{
	const unsigned char *p = r->sig;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p,
		(long)r->sig_len);
	STACK_OF(X509) *signers = NULL, *certs = NULL;
	X509_STORE_CTX *ctx = NULL;
	BIO *content = NULL;
	X509 *signer;
	unsigned char md[32];
	unsigned int mdlen = 32;
	char *fp = NULL;
	time_t t;

	if (cms == NULL || p != r->sig + r->sig_len) {
		rec_fail(r, "record %" PRIu64 ": its sig is not a CMS "
			"signature", r->seq);
		goto done;
	}
	content = BIO_new_mem_buf(r->line, (int)r->len);
	if (content == NULL || CMS_verify(cms, NULL, NULL, content, NULL,
			CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		rec_fail(r, "record %" PRIu64 ": its signature does not match "
			"the record's bytes (the record was changed, or the "
			"signature belongs to another record)", r->seq);
		goto done;
	}
	signers = CMS_get0_signers(cms);
	signer = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
	if (signer == NULL ||
	    X509_digest(signer, EVP_sha256(), md, &mdlen) != 1 ||
	    (fp = custos__hex(md, 32)) == NULL) {
		rec_fail(r, "record %" PRIu64 ": its signature must have "
			"exactly one signer", r->seq);
		goto done;
	}
	free(r->signer);
	r->signer = custos__name_text(X509_get_subject_name(signer));
	if (strcmp(fp, r->cert) != 0) {
		rec_fail(r, "record %" PRIu64 ": signed by certificate "
			"%.16s..., not by its actor's certificate %.16s...",
			r->seq, fp, r->cert);
		goto done;
	}
	if (!parse_rfc3339(r->recorded_at, &t)) {
		rec_fail(r, "record %" PRIu64 ": recorded_at is not an RFC "
			"3339 UTC time", r->seq);
		goto done;
	}
	certs = CMS_get1_certs(cms);
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, signer, certs) != 1 ||
	    X509_STORE_CTX_set_default(ctx, "smime_sign") != 1) {
		rec_fail(r, "record %" PRIu64 ": cannot check its signer's "
			"certificate chain", r->seq);
		goto done;
	}
	/* The chain as it was when the record was written. */
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), t);
	if (X509_verify_cert(ctx) != 1)
		rec_fail(r, "record %" PRIu64 ": its signer's certificate "
			"has no chain to a trusted CA at %s: %s", r->seq,
			r->recorded_at, X509_verify_cert_error_string(
				X509_STORE_CTX_get_error(ctx)));
done:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_free(signers);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	free(fp);
	ERR_clear_error();
}

static const xrec *find_rec(const custos_custody_export_verification *v,
		uint64_t seq)
{
	size_t lo = 0, hi = v->rec_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->recs[mid].seq == seq)
			return &v->recs[mid];
		if (v->recs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The checkpoint: signed by the log key, and what the header says. */
static int check_checkpoint(custos_custody_export_verification *v,
		const char *vkey)
{
	custos_merkle_hash root;
	custos_error e2;
	char *origin = NULL;
	uint64_t size = 0;
	size_t tlen = 0;
	int ok = 0;

	if (custos_note_verify(&tlen, v->note, strlen(v->note), vkey, &e2) !=
			CUSTOS_OK)
		add(&v->problems, "the checkpoint is not signed by the log "
			"key (%s): a wrong log key or a forged checkpoint",
			e2.message);
	else if (custos_note_checkpoint_parse(&origin, &size, root, v->note,
			tlen, &e2) != CUSTOS_OK)
		add(&v->problems, "the checkpoint: %s", e2.message);
	else if (strcmp(origin, v->origin) != 0 || size != v->size ||
		 memcmp(root, v->root, sizeof(root)) != 0)
		add(&v->problems, "the header contradicts the signed "
			"checkpoint (its origin, size or root differ)");
	else
		ok = 1;
	free(origin);
	return ok;
}

static void check_genesis(custos_custody_export_verification *v,
		const xrec *r, const char *vkey)
{
	const char *why;
	json_t *j = canonical_object(r->line, r->len - 1, &why);
	const char *o = json_string_value(json_object_get(j, "origin"));
	const char *k = json_string_value(json_object_get(j, "log_key"));

	if (j == NULL)
		return; /* already a record problem */
	if (o == NULL || strcmp(o, v->origin) != 0)
		add(&v->problems, "the genesis record names another origin "
			"than the export's");
	if (k == NULL || strcmp(k, vkey) != 0 || strcmp(k, v->log_key) != 0)
		add(&v->problems, "the genesis record names another log key "
			"than the one that signed the checkpoint: a wrong log "
			"key");
	json_decref(j);
}

static void check_records(custos_custody_export_verification *v,
		X509_STORE *store)
{
	for (size_t i = 0; i < v->rec_n; i++) {
		xrec *r = &v->recs[i];
		custos_merkle_hash leaf;
		custos_error e2;
		custos_status st;

		sha256_hex(r->hash, r->line, r->len);
		custos_merkle_leaf_hash(leaf, r->line, r->len);
		st = custos_merkle_verify_inclusion(r->seq, v->size, leaf,
			r->proof, r->proof_n, v->root, &e2);
		if (st == CUSTOS_EMISMATCH)
			rec_fail(r, "record %" PRIu64 ": its inclusion proof "
				"does not lead to the checkpoint's tree head "
				"(the record or its proof was changed)",
				r->seq);
		else if (st != CUSTOS_OK)
			rec_fail(r, "record %" PRIu64 ": its proof is not one "
				"for a tree of %" PRIu64 " records: %s",
				r->seq, v->size, e2.message);
		check_record_form(r);
		if ((r->seq == 0) != (strcmp(r->type, "genesis") == 0))
			rec_fail(r, "record %" PRIu64 ": %s", r->seq,
				r->seq == 0 ? "record 0 is not a genesis "
				"record" : "a genesis record after record 0");
		if (r->seq == 0 && r->prev[0] != '\0' &&
		    strcmp(r->prev, empty_sha256) != 0)
			rec_fail(r, "record 0: prev is not the SHA-256 of "
				"nothing");
		if (i > 0 && v->recs[i - 1].seq + 1 == r->seq &&
		    r->prev[0] != '\0' &&
		    strcmp(r->prev, v->recs[i - 1].hash) != 0)
			rec_fail(r, "record %" PRIu64 ": prev is not the "
				"SHA-256 of record %" PRIu64, r->seq,
				r->seq - 1);
		if (store != NULL && r->problem == NULL)
			check_signature(r, store);
		r->listed = 0;
	}
}

static void check_links(custos_custody_export_verification *v,
		const char *vkey)
{
	const xrec *g = find_rec(v, 0);

	if (g == NULL)
		add(&v->problems, "the genesis record (0) is missing: the log's "
			"origin and key cannot be checked");
	else
		check_genesis(v, g, vkey);
	for (size_t i = 0; i < v->listed_n; i++) {
		xrec *r = (xrec *)find_rec(v, v->listed[i]);

		if (r == NULL)
			add(&v->problems, "record %" PRIu64 ", listed in the "
				"header, is missing: a record line was "
				"dropped", v->listed[i]);
		else
			r->listed = 1;
	}
	for (size_t i = 0; i < v->rec_n; i++) {
		xrec *r = &v->recs[i];
		const xrec *a;

		if (!r->listed)
			add(&v->notes, "record %" PRIu64 " is not listed in the "
				"header: it was added to the export after it "
				"was made", r->seq);
		if (strcmp(r->type, "received") != 0 || !r->has_answers)
			continue;
		if (r->ans_seq < 0 || (uint64_t)r->ans_seq >= r->seq) {
			rec_fail(r, "record %" PRIu64 " (received) answers no "
				"earlier record", r->seq);
			continue;
		}
		a = find_rec(v, (uint64_t)r->ans_seq);
		if (a == NULL)
			rec_fail(r, "record %" PRIu64 " (received) answers "
				"record %" PRId64 ", which the export leaves "
				"out", r->seq, r->ans_seq);
		else if (strcmp(a->type, "released") != 0 ||
			 strcmp(a->hash, r->ans_hash) != 0)
			rec_fail(r, "record %" PRIu64 " (received) names "
				"record %" PRId64 " but that is not the "
				"release it answers (another type or "
				"SHA-256)", r->seq, r->ans_seq);
	}
	for (size_t k = 0; k < v->items.n; k++) {
		int named = 0;

		for (size_t i = 0; i < v->rec_n && !named; i++)
			for (size_t m = 0; m < v->recs[i].item_n; m++)
				if (strcmp(v->recs[i].items[m],
					   v->items.v[k]) == 0)
					named = 1;
		if (!named) {
			char safe[200];

			safe_text(safe, sizeof(safe), v->items.v[k]);
			add(&v->problems, "no record in the export names item "
				"%s", safe);
		}
	}
}

custos_status custos_custody_export_verify(
		custos_custody_export_verification **out, const char *jsonl,
		size_t len, const custos_custody_export_verify_options *opts,
		custos_error *err)
{
	custos_custody_export_verify_options defaults;
	custos_custody_export_verification *v;
	X509_STORE *store = NULL;
	strlist rec_problems = {NULL, 0};
	const char *vkey;
	custos_status st;

	if (out == NULL || (jsonl == NULL && len > 0))
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_export_verify: NULL argument");
	*out = NULL;
	if (opts == NULL) {
		custos_custody_export_verify_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->version != CUSTOS_CUSTODY_EXPORT_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown export verify options version");
	if (len > CUSTOS_CUSTODY_EXPORT_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"custody export: larger than %zu bytes",
			CUSTOS_CUSTODY_EXPORT_MAX);
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if ((st = parse_container(v, jsonl != NULL ? jsonl : "", len, err)) !=
			CUSTOS_OK)
		goto fail;
	if (opts->trust_count > 0 &&
	    (st = custos__trust_store(&store, opts->trust, opts->trust_count,
		    err)) != CUSTOS_OK)
		goto fail;
	vkey = opts->vkey != NULL ? opts->vkey : v->log_key;
	if (strcmp(vkey, v->log_key) != 0)
		add(&v->problems, "the export's log key is not the one you "
			"trust");
	check_checkpoint(v, vkey);
	check_records(v, store);
	check_links(v, vkey);
	/* The records' problems first, in log order. */
	for (size_t i = 0; i < v->rec_n; i++)
		if (v->recs[i].problem != NULL)
			add(&rec_problems, "%s", v->recs[i].problem);
	for (size_t i = 0; i < v->problems.n; i++)
		push(&rec_problems, v->problems.v[i]);
	free(v->problems.v);
	v->problems = rec_problems;
	if (store == NULL)
		add(&v->notes, "no trusted CA was given: the records' "
			"signatures were not checked");
	if (v->problems.n > 0) {
		v->status = CUSTOS_CUSTODY_EXPORT_FAILED;
		st = custos__error_set(err, CUSTOS_EMISMATCH, "%s",
			v->problems.v[0]);
	} else {
		v->status = store != NULL ? CUSTOS_CUSTODY_EXPORT_VERIFIED
			: CUSTOS_CUSTODY_EXPORT_INCOMPLETE;
		st = CUSTOS_OK;
	}
	X509_STORE_free(store);
	*out = v;
	return st;
fail:
	X509_STORE_free(store);
	custos_custody_export_verification_free(v);
	return st;
}

/* ---- accessors ---- */

custos_custody_export_status custos_custody_export_verification_status(
		const custos_custody_export_verification *v)
{
	return v->status;
}

const char *custos_custody_export_verification_origin(
		const custos_custody_export_verification *v)
{
	return v->origin;
}

uint64_t custos_custody_export_verification_checkpoint_size(
		const custos_custody_export_verification *v)
{
	return v->size;
}

const char *custos_custody_export_verification_checkpoint_root(
		const custos_custody_export_verification *v)
{
	return v->root_b64;
}

const char *custos_custody_export_verification_checkpoint(
		const custos_custody_export_verification *v)
{
	return v->note;
}

const char *custos_custody_export_verification_log_key(
		const custos_custody_export_verification *v)
{
	return v->log_key;
}

size_t custos_custody_export_verification_item_count(
		const custos_custody_export_verification *v)
{
	return v->items.n;
}

const char *custos_custody_export_verification_item(
		const custos_custody_export_verification *v, size_t i)
{
	return i < v->items.n ? v->items.v[i] : NULL;
}

size_t custos_custody_export_verification_record_count(
		const custos_custody_export_verification *v)
{
	return v->rec_n;
}

static const xrec *rec_at(const custos_custody_export_verification *v,
		size_t i)
{
	return i < v->rec_n ? &v->recs[i] : NULL;
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

uint64_t custos_custody_export_verification_record_seq(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? rec_at(v, i)->seq : 0;
}

const char *custos_custody_export_verification_record_type(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? or_empty(rec_at(v, i)->type) : NULL;
}

const char *custos_custody_export_verification_record_line(
		const custos_custody_export_verification *v, size_t i,
		size_t *len)
{
	const xrec *r = rec_at(v, i);

	if (len != NULL)
		*len = r != NULL ? r->len : 0;
	return r != NULL ? r->line : NULL;
}

size_t custos_custody_export_verification_record_item_count(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? rec_at(v, i)->item_n : 0;
}

const char *custos_custody_export_verification_record_item(
		const custos_custody_export_verification *v, size_t i,
		size_t k)
{
	const xrec *r = rec_at(v, i);

	return r != NULL && k < r->item_n ? r->items[k] : NULL;
}

const char *custos_custody_export_verification_record_case(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? or_empty(rec_at(v, i)->case_ref) : NULL;
}

const char *custos_custody_export_verification_record_actor(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? or_empty(rec_at(v, i)->actor) : NULL;
}

const char *custos_custody_export_verification_record_signer(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? or_empty(rec_at(v, i)->signer) : NULL;
}

const char *custos_custody_export_verification_record_event_time(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? or_empty(rec_at(v, i)->event_time)
				    : NULL;
}

const char *custos_custody_export_verification_record_recorded_at(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? or_empty(rec_at(v, i)->recorded_at)
				    : NULL;
}

int custos_custody_export_verification_record_listed(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? rec_at(v, i)->listed : 0;
}

const char *custos_custody_export_verification_record_problem(
		const custos_custody_export_verification *v, size_t i)
{
	return rec_at(v, i) != NULL ? rec_at(v, i)->problem : NULL;
}

size_t custos_custody_export_verification_problem_count(
		const custos_custody_export_verification *v)
{
	return v->problems.n;
}

const char *custos_custody_export_verification_problem(
		const custos_custody_export_verification *v, size_t i)
{
	return i < v->problems.n ? v->problems.v[i] : NULL;
}

size_t custos_custody_export_verification_note_count(
		const custos_custody_export_verification *v)
{
	return v->notes.n;
}

const char *custos_custody_export_verification_note(
		const custos_custody_export_verification *v, size_t i)
{
	return i < v->notes.n ? v->notes.v[i] : NULL;
}
