/*
 * Making a custody export (metadata/custody.jsonl, custos-bundle(5)) from
 * a log folder.  The log is verified first; the export then proves against
 * the latest checkpoint, whose signature and tree head are checked again
 * over the lines read here (so an append racing with the export cannot
 * slip in unproven bytes).  It selects the genesis record, every record
 * naming one of the items and every record a selected received answers,
 * and writes for each its line, its signature file and its inclusion
 * proof.  The result is checked with custos_custody_export_verify, with
 * the CAs the genesis record pins, before it is handed out.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cert_private.h"
#include "custos/custody.h"
#include "custos/custody_export.h"
#include "custos/merkle.h"
#include "custos/note.h"
#include "error_private.h"
#include "fileio_private.h"
#include "note_private.h"
#include "util_private.h"

#define VKEY_MAX 4096
#define TRUST_MAX 64

typedef struct log_lines {
	unsigned char *buf;
	size_t len;
	const char **line;      /* each line's start */
	size_t *llen;           /* its length with the LF */
	custos_merkle_hash *leaves;
	uint64_t n;
} log_lines;

static void log_lines_free(log_lines *L)
{
	free(L->buf);
	free(L->line);
	free(L->llen);
	free(L->leaves);
	memset(L, 0, sizeof(*L));
}

static custos_status read_lines(log_lines *L, const char *dir,
		custos_error *err)
{
	char *path = custos__aprintf("%s/log.jsonl", dir);
	uint64_t max = CUSTOS_CUSTODY_LOG_MAX;
	size_t cap = 0, off = 0;
	custos_status st;

	memset(L, 0, sizeof(*L));
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__read_file_max(path, max < SIZE_MAX ? (size_t)max
		: SIZE_MAX, &L->buf, &L->len, "custody log", err);
	free(path);
	if (st != CUSTOS_OK)
		return st;
	for (size_t i = 0; i < L->len; i++)
		cap += L->buf[i] == '\n';
	L->line = calloc(cap + 1, sizeof(*L->line));
	L->llen = calloc(cap + 1, sizeof(*L->llen));
	L->leaves = calloc(cap + 1, sizeof(*L->leaves));
	if (L->line == NULL || L->llen == NULL || L->leaves == NULL) {
		log_lines_free(L);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	while (off < L->len) {
		unsigned char *nl = memchr(L->buf + off, '\n', L->len - off);

		if (nl == NULL)
			break; /* a torn line: never part of the log */
		L->line[L->n] = (const char *)L->buf + off;
		L->llen[L->n] = (size_t)(nl - L->buf) + 1 - off;
		custos_merkle_leaf_hash(L->leaves[L->n], L->line[L->n],
			L->llen[L->n]);
		L->n++;
		off = (size_t)(nl - L->buf) + 1;
	}
	return CUSTOS_OK;
}

static custos_status read_small(char **out, const char *dir,
		const char *name, size_t max, const char *what,
		custos_error *err)
{
	char *path = custos__aprintf("%s/%s", dir, name);
	unsigned char *data = NULL;
	size_t len = 0;
	custos_status st;

	*out = NULL;
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__read_file_max(path, max, &data, &len, what, err);
	free(path);
	if (st != CUSTOS_OK)
		return st;
	if (memchr(data, '\0', len) != NULL) {
		free(data);
		return custos__error_set(err, CUSTOS_EFORMAT,
			"the %s holds a NUL byte", what);
	}
	*out = (char *)data;
	return CUSTOS_OK;
}

/* The largest N with checkpoints/N.note, N at most the log's size. */
static uint64_t latest_checkpoint(const char *dir, uint64_t lines)
{
	char *cdir = custos__aprintf("%s/checkpoints", dir);
	DIR *d = cdir != NULL ? opendir(cdir) : NULL;
	struct dirent *e;
	uint64_t best = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		const char *s = e->d_name;
		size_t k = 0;
		uint64_t n = 0;

		while (s[k] >= '0' && s[k] <= '9' && k < 19)
			n = n * 10 + (uint64_t)(s[k++] - '0');
		if (k == 0 || s[0] == '0' || strcmp(s + k, ".note") != 0)
			continue;
		if (n <= lines && n > best)
			best = n;
	}
	if (d != NULL)
		closedir(d);
	free(cdir);
	return best;
}

/* The checkpoint note for size n: signed by vkey, for origin, and the
 * tree head of the first n lines as read here. */
static custos_status load_checkpoint(char **note, const char *dir,
		uint64_t n, const char *vkey, const char *origin,
		const log_lines *L, custos_error *err)
{
	char name[48], *corigin = NULL;
	custos_merkle_hash want, got;
	uint64_t size = 0;
	size_t tlen = 0;
	custos_status st;

	snprintf(name, sizeof(name), "checkpoints/%" PRIu64 ".note", n);
	if ((st = read_small(note, dir, name, CUSTOS_NOTE_MAX, "checkpoint",
			err)) != CUSTOS_OK)
		return st;
	if ((st = custos_note_verify(&tlen, *note, strlen(*note), vkey,
			err)) != CUSTOS_OK ||
	    (st = custos_note_checkpoint_parse(&corigin, &size, got, *note,
		    tlen, err)) != CUSTOS_OK)
		goto fail;
	custos_merkle_root(want, L->leaves, n);
	if (strcmp(corigin, origin) != 0 || size != n ||
	    memcmp(want, got, sizeof(want)) != 0) {
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"%s does not match the log (another origin, size or "
			"tree head)", name);
		goto fail;
	}
	free(corigin);
	return CUSTOS_OK;
fail:
	free(corigin);
	free(*note);
	*note = NULL;
	return st;
}

static int names_item(json_t *rec, const char *const *items, size_t count,
		size_t *which)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(rec, "items"), i, e) {
		const char *s = json_string_value(e);

		for (size_t k = 0; s != NULL && k < count; k++) {
			if (strcmp(s, items[k]) == 0) {
				*which = k;
				return 1;
			}
		}
	}
	return 0;
}

/* Mark the records to export among the first n: genesis, those naming an
 * item, those a marked received answers.  Records beyond n naming an
 * item mean the checkpoint is stale. */
static custos_status select_records(unsigned char *pick, const log_lines *L,
		uint64_t n, const char *const *items, size_t count,
		custos_error *err)
{
	unsigned char *seen = calloc(count, 1);
	custos_status st = CUSTOS_OK;

	if (seen == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	pick[0] = 1;
	for (uint64_t i = 0; i < L->n && st == CUSTOS_OK; i++) {
		json_t *r = json_loadb(L->line[i], L->llen[i] - 1, 0, NULL);
		json_t *ans = json_object_get(r, "answers");
		size_t which;

		if (r == NULL) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"record %" PRIu64 " cannot be read", i);
		} else if (names_item(r, items, count, &which)) {
			if (i >= n)
				st = custos__error_set(err, CUSTOS_ENOTFOUND,
					"record %" PRIu64 " names an exported "
					"item but the latest checkpoint "
					"covers only %" PRIu64 " records; run "
					"custos-log checkpoint first", i, n);
			pick[i] = 1;
			seen[which] = 1;
			if (json_is_integer(json_object_get(ans, "seq"))) {
				json_int_t a = json_integer_value(
					json_object_get(ans, "seq"));

				if (a >= 0 && (uint64_t)a < i)
					pick[a] = 1;
			}
		}
		json_decref(r);
	}
	for (size_t k = 0; k < count && st == CUSTOS_OK; k++) {
		if (!seen[k]) {
			char *msg = custos__aprintf("no record of the log "
				"names item %s", items[k]);

			st = custos__error_set(err, CUSTOS_ENOTFOUND, "%.300s",
				msg != NULL ? msg : "an item has no record");
			free(msg);
		}
	}
	free(seen);
	return st;
}

/* One export line for record i: its bytes, proof and signature. */
static custos_status record_entry(json_t **out, const char *dir,
		const log_lines *L, uint64_t n, uint64_t i, custos_error *err)
{
	custos_merkle_hash proof[CUSTOS_MERKLE_PROOF_MAX];
	char name[48], *path, *b64;
	unsigned char *sig = NULL;
	size_t count = 0, sig_len = 0;
	json_t *o, *pa;
	custos_status st;

	*out = NULL;
	if ((st = custos_merkle_inclusion_proof(proof, &count, L->leaves, n,
			i, err)) != CUSTOS_OK)
		return st;
	snprintf(name, sizeof(name), "sig/%08" PRIu64 ".p7s", i);
	if ((path = custos__aprintf("%s/%s", dir, name)) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__read_file_max(path, CUSTOS__PKI_FILE_MAX, &sig, &sig_len,
		"record signature", err);
	free(path);
	if (st != CUSTOS_OK)
		return st;
	b64 = custos__b64_encode(sig, sig_len);
	free(sig);
	o = json_object();
	pa = json_array();
	for (size_t k = 0; pa != NULL && k < count; k++) {
		char *h = custos__hex(proof[k], CUSTOS_MERKLE_HASH_SIZE);

		json_array_append_new(pa, json_string(h));
		free(h);
	}
	if (b64 == NULL || o == NULL || pa == NULL ||
	    json_array_size(pa) != count ||
	    json_object_set_new(o, "line", json_stringn(L->line[i],
		    L->llen[i] - 1)) != 0 ||
	    json_object_set_new(o, "proof", pa) != 0 ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)i)) != 0 ||
	    json_object_set_new(o, "sig", json_string(b64)) != 0) {
		free(b64);
		json_decref(o);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	free(b64);
	*out = o;
	return CUSTOS_OK;
}

/* Append j as one canonical line to *buf. */
static custos_status append_line(char **buf, size_t *len, json_t *j,
		custos_error *err)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
		JSON_ENSURE_ASCII);
	size_t sl = s != NULL ? strlen(s) : 0;
	char *nb;

	if (s == NULL || *len + sl + 2 > CUSTOS_CUSTODY_EXPORT_MAX) {
		free(s);
		return custos__error_set(err, s == NULL ? CUSTOS_ENOMEM
			: CUSTOS_ENOSPC, "the custody export would be larger "
			"than %zu bytes", CUSTOS_CUSTODY_EXPORT_MAX);
	}
	if ((nb = realloc(*buf, *len + sl + 2)) == NULL) {
		free(s);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	memcpy(nb + *len, s, sl);
	nb[*len + sl] = '\n';
	nb[*len + sl + 1] = '\0';
	*len += sl + 1;
	*buf = nb;
	free(s);
	return CUSTOS_OK;
}

static json_t *make_header(const char *origin, const char *vkey,
		const char *note, uint64_t n, const log_lines *L,
		const char *const *items, size_t count,
		const unsigned char *pick)
{
	custos_merkle_hash root;
	json_t *h = json_object(), *it = json_array(), *rs = json_array();
	char *hex;

	custos_merkle_root(root, L->leaves, n);
	hex = custos__hex(root, sizeof(root));
	for (size_t k = 0; it != NULL && k < count; k++)
		json_array_append_new(it, json_string(items[k]));
	for (uint64_t i = 0; rs != NULL && i < n; i++)
		if (pick[i])
			json_array_append_new(rs, json_integer((json_int_t)i));
	if (h == NULL || it == NULL || rs == NULL || hex == NULL ||
	    json_object_set_new(h, "checkpoint", json_string(note)) != 0 ||
	    json_object_set_new(h, "format",
		    json_string(CUSTOS_CUSTODY_EXPORT_FORMAT)) != 0 ||
	    json_object_set(h, "items", it) != 0 ||
	    json_object_set_new(h, "log_key", json_string(vkey)) != 0 ||
	    json_object_set_new(h, "origin", json_string(origin)) != 0 ||
	    json_object_set(h, "records", rs) != 0 ||
	    json_object_set_new(h, "root", json_string(hex)) != 0 ||
	    json_object_set_new(h, "size", json_integer((json_int_t)n)) != 0 ||
	    json_array_size(it) != count) {
		json_decref(h);
		h = NULL;
	}
	json_decref(it);
	json_decref(rs);
	free(hex);
	return h;
}

/* Check what was made as a receiver would, with the pinned CAs. */
static custos_status self_check(const char *buf, size_t len,
		const char *dir, json_t *genesis, const char *vkey,
		custos_error *err)
{
	custos_custody_export_verify_options o;
	custos_custody_export_verification *v = NULL;
	custos_error e3;
	char *paths[TRUST_MAX];
	size_t n = 0, i;
	custos_status st;
	json_t *e;

	json_array_foreach(json_object_get(genesis, "trust"), i, e) {
		const char *file = json_string_value(json_object_get(e,
			"file"));

		if (file != NULL && n < TRUST_MAX &&
		    (paths[n] = custos__aprintf("%s/%s", dir, file)) != NULL)
			n++;
	}
	custos_custody_export_verify_options_init(&o);
	o.trust = (const char *const *)paths;
	o.trust_count = n;
	o.vkey = vkey;
	st = n == 0 ? custos__error_set(err, CUSTOS_EINVAL,
		"the genesis record pins no CA: the export cannot be "
		"checked") : custos_custody_export_verify(&v, buf, len, &o, &e3);
	if (st == CUSTOS_OK && custos_custody_export_verification_status(v) !=
			CUSTOS_CUSTODY_EXPORT_VERIFIED)
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"the export made does not verify");
	else if (st != CUSTOS_OK && n > 0)
		st = custos__error_set(err, st == CUSTOS_EFORMAT
			? CUSTOS_EMISMATCH : st,
			"the export made does not verify: %.400s", e3.message);
	custos_custody_export_verification_free(v);
	for (i = 0; i < n; i++)
		free(paths[i]);
	return st;
}

static custos_status check_args(const char *const *items, size_t count,
		custos_error *err)
{
	if (count == 0 || count > CUSTOS_CUSTODY_EXPORT_ITEMS_MAX)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a custody export needs 1 to %u evidence item IDs",
			CUSTOS_CUSTODY_EXPORT_ITEMS_MAX);
	for (size_t k = 0; k < count; k++) {
		if (items[k] == NULL || items[k][0] == '\0')
			return custos__error_set(err, CUSTOS_EINVAL,
				"an evidence item ID is empty");
		for (size_t m = 0; m < k; m++)
			if (strcmp(items[k], items[m]) == 0)
				return custos__error_set(err, CUSTOS_EINVAL,
					"evidence item %.200s is given twice",
					items[k]);
	}
	return CUSTOS_OK;
}

custos_status custos_custody_export(char **jsonl, size_t *len,
		const char *log_dir, const char *const *items,
		size_t item_count, custos_error *err)
{
	custos_custody_verification *lv = NULL;
	custos_error e2;
	log_lines L;
	json_t *genesis = NULL, *h = NULL;
	unsigned char *pick = NULL;
	char *vkey = NULL, *note = NULL, *buf = NULL;
	const char *origin;
	size_t blen = 0;
	uint64_t n;
	custos_status st;

	if (jsonl == NULL || len == NULL || log_dir == NULL ||
	    (items == NULL && item_count > 0))
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_export: NULL argument");
	*jsonl = NULL;
	*len = 0;
	memset(&L, 0, sizeof(L));
	if ((st = check_args(items, item_count, err)) != CUSTOS_OK)
		return st;
	st = custos_custody_verify(&lv, log_dir, NULL, &e2);
	custos_custody_verification_free(lv);
	if (st == CUSTOS_EMISMATCH)
		return custos__error_set(err, st, "the custody log does not "
			"verify, nothing was exported: %.400s", e2.message);
	if (st != CUSTOS_OK)
		return custos__error_set(err, st, "%s", e2.message);
	if ((st = read_small(&vkey, log_dir, "keys/log.vkey", VKEY_MAX,
			"verifier key", err)) != CUSTOS_OK ||
	    (st = read_lines(&L, log_dir, err)) != CUSTOS_OK)
		goto done;
	vkey[strcspn(vkey, "\r\n ")] = '\0';
	genesis = L.n > 0 ? json_loadb(L.line[0], L.llen[0] - 1, 0, NULL)
		: NULL;
	origin = json_string_value(json_object_get(genesis, "origin"));
	if (origin == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the custody log has no genesis record with an origin");
		goto done;
	}
	if ((n = latest_checkpoint(log_dir, L.n)) == 0) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"the custody log has no checkpoint to prove against; "
			"run custos-log checkpoint first");
		goto done;
	}
	if ((st = load_checkpoint(&note, log_dir, n, vkey, origin, &L, err)) !=
			CUSTOS_OK)
		goto done;
	if ((pick = calloc(L.n, 1)) == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = select_records(pick, &L, n, items, item_count, err)) !=
			CUSTOS_OK)
		goto done;
	if ((h = make_header(origin, vkey, note, n, &L, items, item_count,
			pick)) == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = append_line(&buf, &blen, h, err)) != CUSTOS_OK)
		goto done;
	for (uint64_t i = 0; i < n && st == CUSTOS_OK; i++) {
		json_t *o = NULL;

		if (!pick[i])
			continue;
		if ((st = record_entry(&o, log_dir, &L, n, i, err)) ==
				CUSTOS_OK)
			st = append_line(&buf, &blen, o, err);
		json_decref(o);
	}
	if (st == CUSTOS_OK)
		st = self_check(buf, blen, log_dir, genesis, vkey, err);
	if (st == CUSTOS_OK) {
		*jsonl = buf;
		*len = blen;
		buf = NULL;
	}
done:
	free(buf);
	json_decref(h);
	json_decref(genesis);
	free(pick);
	free(note);
	free(vkey);
	log_lines_free(&L);
	return st;
}
