/*
 * Verifying a custody log (custos_custody_verify): each line parsed and
 * held to canonical form, the records checked in parallel threads
 * (signatures in custody_signatures.c), the hash chain and its order, the
 * log key and pinned CAs, transfers (every "received" answering a
 * "released"), orphaned signature files, and the verification object the
 * caller reads, with the parsed records for a caller that reads them next
 * (custos__custody_verify_keep).  Also the lighter check that checkpoints
 * and proofs start from (custos__custody_load_checked).
 */
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_private.h"
#include "custody_kept_private.h"
#include "custody_private.h"
#include "custos/note.h"
#include "error_private.h"
#include "json_private.h"
#include "note_private.h"

void custos_custody_verify_options_init(custos_custody_verify_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_CUSTODY_VERIFY_OPTIONS_VERSION;
}

void custos__rec_fail(custos__custody_rec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->problem != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&r->problem, fmt, ap) < 0)
		r->problem = NULL;
	va_end(ap);
}

static void copy_str(char *dst, size_t cap, json_t *s)
{
	const char *v = json_string_value(s);

	dst[0] = '\0';
	if (v != NULL && strlen(v) < cap)
		memcpy(dst, v, strlen(v) + 1);
}

/* Hash line i, check it is a canonical record and pull out its fields. */
static void parse_rec(custos__custody_loaded *L, uint64_t i)
{
	custos__custody_rec *r = &L->recs[i];
	json_error_t je;
	json_t *j, *seq, *ans;
	char *again;

	custos__custody_sha256_hex(r->hash, r->line, r->len);
	custos_merkle_leaf_hash(L->leaves[i], r->line, r->len);
	r->seq = -1;
	if (r->len > CUSTOS_CUSTODY_LINE_MAX) {
		custos__rec_fail(r, "line %" PRIu64 " is %zu bytes long; the "
			"most is %u", i, r->len, CUSTOS_CUSTODY_LINE_MAX);
		return;
	}
	j = json_loadb(r->line, r->len - 1, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		char why[sizeof(je.text) * 4];

		/* jansson's message may quote the line's bytes. */
		custos__safe_text(why, sizeof(why), j == NULL ? je.text
			: "another JSON value", strlen(j == NULL ? je.text
			: "another JSON value"));
		custos__rec_fail(r, "line %" PRIu64 " is not a JSON object "
			"(%s at column %d): the record was changed or "
			"damaged", i, why, j == NULL ? je.column : 0);
		json_decref(j);
		return;
	}
	again = custos__json_canonical(j);
	if (again == NULL || strlen(again) != r->len - 1 ||
	    memcmp(again, r->line, r->len - 1) != 0 || custos__json_has_real(j))
		custos__rec_fail(r, "line %" PRIu64 " is not in canonical form "
			"(sorted keys, no whitespace, no floats): it was "
			"edited", i);
	free(again);
	seq = json_object_get(j, "seq");
	if (json_is_integer(seq))
		r->seq = json_integer_value(seq);
	copy_str(r->prev, sizeof(r->prev), json_object_get(j, "prev"));
	copy_str(r->type, sizeof(r->type), json_object_get(j, "type"));
	copy_str(r->cert, sizeof(r->cert),
		json_object_get(json_object_get(j, "actor"), "cert_sha256"));
	copy_str(r->recorded_at, sizeof(r->recorded_at),
		json_object_get(j, "recorded_at"));
	if (json_integer_value(json_object_get(j, "v")) !=
			CUSTOS_CUSTODY_FORMAT)
		custos__rec_fail(r, "record %" PRIu64 " has format version "
			"other than %d", i, CUSTOS_CUSTODY_FORMAT);
	else if (r->seq < 0 || r->prev[0] == '\0' || r->type[0] == '\0' ||
		 r->cert[0] == '\0')
		custos__rec_fail(r, "record %" PRIu64 " lacks seq, prev, type "
			"or actor.cert_sha256", i);
	else if (!custos_custody_type_known(r->type))
		custos__rec_fail(r, "record %" PRIu64 " has an unknown type",
			i);
	{
		/* A cross-border receipt names the bundle it came in. */
		json_t *t = json_object_get(j, "transfer");
		const char *id = json_string_value(json_object_get(t,
			"bundle_id"));
		const char *h = json_string_value(json_object_get(t,
			"transfer_manifest_sha256"));
		size_t k = 0;

		while (h != NULL && k < 64 && ((h[k] >= '0' && h[k] <= '9') ||
		       (h[k] >= 'a' && h[k] <= 'f')))
			k++;
		r->has_transfer = id != NULL && *id != '\0' && h != NULL &&
			k == 64 && h[64] == '\0';
	}
	ans = json_object_get(j, "answers");
	if (ans != NULL) {
		json_t *as = json_object_get(ans, "seq");

		r->has_answers = 1;
		r->ans_seq = json_is_integer(as) ? json_integer_value(as) : -1;
		copy_str(r->ans_hash, sizeof(r->ans_hash),
			json_object_get(ans, "sha256"));
	}
	if (L->keep_json)
		r->json = j;
	else
		json_decref(j);
}

typedef struct worker {
	custos__custody_sig_ctx *c;
	unsigned index;
	pthread_t tid;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	custos__custody_loaded *L = w->c->L;

	for (uint64_t i = w->index; i < L->n; i += w->c->threads) {
		parse_rec(L, i);
		if (w->c->check_sigs && L->recs[i].problem == NULL)
			custos__custody_check_sig(w->c, i);
	}
	return NULL;
}

static void run_workers(custos__custody_sig_ctx *c)
{
	worker w[MAX_THREADS];
	int started[MAX_THREADS] = {0};

	memset(w, 0, sizeof(w));
	for (unsigned t = 0; t < c->threads; t++) {
		w[t].c = c;
		w[t].index = t;
	}
	for (unsigned t = 1; t < c->threads; t++)
		started[t] = pthread_create(&w[t].tid, NULL, work, &w[t]) == 0;
	work(&w[0]);
	/* A thread that could not start: its share runs here. */
	for (unsigned t = 1; t < c->threads; t++)
		if (!started[t])
			work(&w[t]);
	for (unsigned t = 1; t < c->threads; t++)
		if (started[t])
			pthread_join(w[t].tid, NULL);
}

void custos__vfail(custos_custody_verification *v, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	v->problem_total++;
	if (v->problem_count >= CUSTODY_MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		v->problems[v->problem_count++] = s;
}

static void vnote(custos_custody_verification *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vnote(custos_custody_verification *v, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (v->note_count >= CUSTODY_MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		v->notes[v->note_count++] = s;
}

custos_status custos__custody_read_vkey(char **vkey, const char *path,
		custos_error *err)
{
	size_t len = 0;
	custos_status st = custos__read_text(vkey, &len, path, 4096,
		"verifier key", err);

	if (st != CUSTOS_OK)
		return st;
	while (len > 0 && ((*vkey)[len - 1] == '\n' ||
			   (*vkey)[len - 1] == '\r' ||
			   (*vkey)[len - 1] == ' '))
		(*vkey)[--len] = '\0';
	/* One key, one line: a second line is never taken instead. */
	if (strlen(*vkey) != len || strpbrk(*vkey, "\r\n") != NULL) {
		free(*vkey);
		*vkey = NULL;
		return custos__error_set(err, CUSTOS_EFORMAT,
			"verifier key %s holds more than one line; give one "
			"key", path);
	}
	return CUSTOS_OK;
}

static custos_status genesis_info(json_t **out, const custos__custody_loaded *L,
		custos_error *err)
{
	json_error_t je;

	*out = NULL;
	if (L->n == 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"the custody log is empty");
	*out = json_loadb(L->recs[0].line, L->recs[0].len - 1,
		JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
	}
	return CUSTOS_OK;
}

static custos_status build_store(X509_STORE **store, const char *dir,
		json_t *genesis, const custos_custody_verify_options *o,
		custos_custody_verification *v, char **owned, size_t *owned_n,
		custos_error *err)
{
	const char *paths[64];
	size_t n = 0;
	json_t *e;
	size_t i;

	*owned_n = 0;
	if (o->trust_count > 0)
		return custos__trust_store(store, o->trust, o->trust_count,
			err);
	json_array_foreach(json_object_get(genesis, "trust"), i, e) {
		const char *file = json_string_value(json_object_get(e,
			"file"));
		const char *want = json_string_value(json_object_get(e,
			"sha256"));
		char hx[HEX_SHA256], *data = NULL, safe[160];
		size_t len = 0;

		if (n == 64 || file == NULL || want == NULL ||
		    strncmp(file, "keys/", 5) != 0 || strstr(file, "..") ||
		    strchr(file + 5, '/') != NULL)
			continue;
		custos__safe_text(safe, sizeof(safe), file, strlen(file));
		owned[n] = custos__custody_path(dir, file);
		if (owned[n] == NULL || custos__read_text(&data, &len,
				owned[n], CUSTOS__PKI_FILE_MAX, "CA", NULL)
				!= CUSTOS_OK) {
			custos__vfail(v, "the pinned CA certificate %s is "
				"missing or not a file", safe);
			free(owned[n]);
			continue;
		}
		custos__custody_sha256_hex(hx, data, len);
		free(data);
		if (strcmp(hx, want) != 0) {
			custos__vfail(v, "the CA certificate %s was replaced: "
				"its SHA-256 is not the one pinned in the "
				"genesis record", safe);
			free(owned[n]);
			continue;
		}
		paths[n] = owned[n];
		n++;
	}
	if (n == 0) {
		*store = NULL;
		custos__vfail(v, "no trusted CA: the genesis record pins none "
			"and no --trust was given; record signatures cannot be "
			"checked");
		return CUSTOS_OK;
	}
	*owned_n = n;
	return custos__trust_store(store, paths, n, err);
}

static void check_chain_order(custos_custody_verification *v,
		const custos__custody_loaded *L)
{
	char empty[HEX_SHA256];

	custos__custody_sha256_hex(empty, "", 0);
	for (uint64_t i = 0; i < L->n; i++) {
		const custos__custody_rec *r = &L->recs[i];

		if (r->seq < 0)
			continue; /* reported as unreadable */
		if ((uint64_t)r->seq != i) {
			if (i > 0 && (uint64_t)r->seq == i - 1 &&
			    r->len == L->recs[i - 1].len &&
			    memcmp(r->line, L->recs[i - 1].line, r->len) == 0)
				custos__vfail(v, "line %" PRIu64 " repeats "
					"record %" PRId64 ": a duplicated line",
					i, r->seq);
			else if ((uint64_t)r->seq > i) {
				uint64_t k;

				for (k = i + 1; k < L->n; k++)
					if (L->recs[k].seq == (int64_t)i)
						break;
				if (k < L->n)
					custos__vfail(v, "line %" PRIu64 " "
						"holds record %" PRId64 " and "
						"record %" PRIu64 " is at line "
						"%" PRIu64 ": the lines were "
						"reordered", i, r->seq, i, k);
				else if ((uint64_t)r->seq == i + 1)
					custos__vfail(v, "line %" PRIu64 " "
						"holds record %" PRId64 ": "
						"record %" PRIu64 " was "
						"deleted", i, r->seq, i);
				else
					custos__vfail(v, "line %" PRIu64 " "
						"holds record %" PRId64 ": "
						"records %" PRIu64 " to %"
						PRId64 " were deleted", i,
						r->seq, i, r->seq - 1);
			}
			else
				custos__vfail(v, "line %" PRIu64 " holds "
					"record %" PRId64 ": the lines were "
					"reordered or duplicated", i, r->seq);
			continue;
		}
		if (strcmp(r->prev, i == 0 ? empty : L->recs[i - 1].hash) != 0)
			custos__vfail(v, "record %" PRIu64 ": prev is not the "
				"SHA-256 of line %" PRIu64 " (that line was "
				"changed, or a line was removed or inserted "
				"before it)", i, i == 0 ? 0 : i - 1);
		if ((i == 0) != (strcmp(r->type, "genesis") == 0))
			custos__vfail(v, "record %" PRIu64 ": %s", i, i == 0
				? "the first record is not the genesis record"
				: "a genesis record after the first");
	}
}

static void check_transfers(custos_custody_verification *v,
		const custos__custody_loaded *L)
{
	for (uint64_t i = 0; i < L->n; i++) {
		const custos__custody_rec *r = &L->recs[i];
		const custos__custody_rec *a;

		if (strcmp(r->type, "received") != 0)
			continue;
		/* Released in another state's log: nothing here to match. */
		if (!r->has_answers && r->has_transfer)
			continue;
		if (!r->has_answers || r->ans_seq < 0 ||
		    (uint64_t)r->ans_seq >= i) {
			custos__vfail(v, "record %" PRIu64 " (received) "
				"answers no earlier released record", i);
			continue;
		}
		a = &L->recs[r->ans_seq];
		if (strcmp(a->type, "released") != 0)
			custos__vfail(v, "record %" PRIu64 " (received) "
				"answers record %" PRId64 ", which is %s, not "
				"a release: a receive with no matching release",
				i, r->ans_seq, custos_custody_type_known(
					a->type) ? a->type
					: "not a valid record");
		else if (strcmp(a->hash, r->ans_hash) != 0)
			custos__vfail(v, "record %" PRIu64 " (received) "
				"answers record %" PRId64 " but names another "
				"SHA-256 for it", i, r->ans_seq);
	}
}

static void orphan_notes(custos_custody_verification *v, const char *dir,
		uint64_t n)
{
	char *sdir = custos__custody_path(dir, "sig");
	DIR *d = sdir != NULL ? opendir(sdir) : NULL;
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end;
		unsigned long long k;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		k = strtoull(e->d_name, &end, 10);
		if (strcmp(end, ".p7s") == 0 && k >= n)
			vnote(v, "sig/%s belongs to no record (an interrupted "
				"append); the next append moves it to "
				"quarantine/", e->d_name);
	}
	if (d != NULL)
		closedir(d);
	free(sdir);
}

/* The verified records handed over (see custody_kept_private.h). */
static custos_status keep_records(custos__custody_kept **kept, size_t *count,
		custos__custody_loaded *L, custos_error *err)
{
	custos__custody_kept *k = calloc(L->n ? L->n : 1, sizeof(*k));

	if (k == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (uint64_t i = 0; i < L->n; i++) {
		k[i].json = L->recs[i].json;
		L->recs[i].json = NULL;
		memcpy(k[i].sha256, L->recs[i].hash, sizeof(k[i].sha256));
	}
	*kept = k;
	*count = L->n;
	return CUSTOS_OK;
}

static custos_status verify_dir(custos_custody_verification **out,
		const char *dir, const custos_custody_verify_options *opts,
		custos__custody_kept **kept, size_t *kept_count,
		custos_error *err);

custos_status custos_custody_verify(custos_custody_verification **out,
		const char *dir, const custos_custody_verify_options *opts,
		custos_error *err)
{
	return verify_dir(out, dir, opts, NULL, NULL, err);
}

custos_status custos__custody_verify_keep(custos_custody_verification **out,
		const char *dir, const custos_custody_verify_options *opts,
		custos__custody_kept **kept, size_t *count, custos_error *err)
{
	if (kept == NULL || count == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos__custody_verify_keep: NULL argument");
	*kept = NULL;
	*count = 0;
	return verify_dir(out, dir, opts, kept, count, err);
}

static custos_status verify_dir(custos_custody_verification **out,
		const char *dir, const custos_custody_verify_options *opts,
		custos__custody_kept **kept, size_t *kept_count,
		custos_error *err)
{
	custos_custody_verify_options defaults;
	custos_custody_verification *v;
	char *vkey = NULL, *vkey_path = NULL, *log_vkey = NULL;
	json_t *genesis = NULL;
	custos__custody_checkpoint *cps = NULL;
	size_t ncp = 0;
	custos__custody_loaded L;
	custos__custody_sig_ctx *c = NULL;
	custos_merkle_hash root;
	custos_status st;
	char *owned[64];
	size_t owned_n = 0;
	long cores;

	if (out == NULL || dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_verify: NULL argument");
	*out = NULL;
	if (opts == NULL) {
		custos_custody_verify_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->version != CUSTOS_CUSTODY_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown verify options version");
	if ((st = custos__custody_load_lines(&L, dir, err)) != CUSTOS_OK)
		return st;
	L.keep_json = kept != NULL;
	v = calloc(1, sizeof(*v));
	c = calloc(1, sizeof(*c));
	if (v == NULL || c == NULL ||
	    (v->problems = calloc(CUSTODY_MAX_PROBLEMS,
		    sizeof(char *))) == NULL ||
	    (v->notes = calloc(CUSTODY_MAX_PROBLEMS, sizeof(char *))) ==
		    NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((st = genesis_info(&genesis, &L, err)) != CUSTOS_OK)
		goto fail;
	/* The log key: the one the verifier trusts, else keys/log.vkey. */
	vkey_path = custos__custody_path(dir, "keys/log.vkey");
	if (vkey_path == NULL ||
	    (st = custos__custody_hostile(custos__custody_read_vkey(&log_vkey,
		    vkey_path, err), err)) != CUSTOS_OK)
		goto fail;
	if (opts->vkey_path != NULL) {
		if ((st = custos__custody_read_vkey(&vkey, opts->vkey_path,
				err)) != CUSTOS_OK)
			goto fail;
	} else if ((vkey = custos__strdup(log_vkey)) == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto fail;
	}
	{
		char name[CUSTOS_NOTE_NAME_MAX];
		custos_error e2;
		const char *gk = json_string_value(json_object_get(genesis,
			"log_key"));

		if (custos_note_vkey_parse(vkey, name, &e2) != CUSTOS_OK) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"the log key: %s", e2.message);
			goto fail;
		}
		if (gk == NULL || strcmp(gk, vkey) != 0)
			custos__vfail(v, "wrong log key: the genesis record "
				"names a different log key than %s",
				opts->vkey_path != NULL ? "the one you trust"
					: "keys/log.vkey");
		else if (strcmp(log_vkey, vkey) != 0)
			custos__vfail(v, "wrong log key: keys/log.vkey is not "
				"the log key of the genesis record");
	}
	if ((st = build_store(&c->store, dir, genesis, opts, v, owned,
			&owned_n, err)) != CUSTOS_OK)
		goto fail;
	/* Per record, in parallel: hash, parse, signature. */
	c->dir = dir;
	c->L = &L;
	c->check_sigs = c->store != NULL;
	if (c->store != NULL) {
		/* The trusted certificates are shared by the threads: fill
		 * their lazily cached extension data first. */
		STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(c->store);

		for (int k = 0; k < sk_X509_OBJECT_num(objs); k++) {
			X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(
				objs, k));

			if (x != NULL)
				(void)X509_check_purpose(x, -1, 0);
		}
	}
	pthread_mutex_init(&c->mu, NULL);
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	c->threads = opts->threads != 0 ? opts->threads
		: cores > 0 ? (unsigned)cores : 1;
	if (c->threads > MAX_THREADS)
		c->threads = MAX_THREADS;
	if ((uint64_t)c->threads > L.n)
		c->threads = L.n > 0 ? (unsigned)L.n : 1;
	run_workers(c);
	pthread_mutex_destroy(&c->mu);
	for (uint64_t i = 0; i < L.n; i++)
		if (L.recs[i].problem != NULL)
			custos__vfail(v, "%s", L.recs[i].problem);
	check_chain_order(v, &L);
	check_transfers(v, &L);
	ncp = custos__custody_load_checkpoints(&cps, dir, vkey,
		json_string_value(json_object_get(genesis, "origin")), opts, v);
	custos__custody_check_checkpoints(v, cps, ncp, &L);
	if (opts->trust_count > 0)
		custos__custody_check_checkpoint_tsrs(v, dir, cps, ncp,
				opts->trust, opts->trust_count);
	else
		custos__custody_check_checkpoint_tsrs(v, dir, cps, ncp,
			(const char *const *)owned, owned_n);
	v->checkpoints = ncp;
	if (L.torn > 0)
		custos__vfail(v, "torn last line: %" PRIu64 " bytes after the "
			"last LF (an interrupted append); custos-log recover "
			"moves it to quarantine/", L.torn);
	orphan_notes(v, dir, L.n);
	v->records = L.n;
	custos_merkle_root(root, L.leaves, L.n);
	v->root = custos__b64_encode(root, sizeof(root));
	st = v->problem_total == 0 ? CUSTOS_OK : CUSTOS_EMISMATCH;
	if (st != CUSTOS_OK)
		custos__error_set(err, st, "%s", v->problems[0] != NULL
			? v->problems[0] : "the custody log does not verify");
	else if (kept != NULL &&
		 (st = keep_records(kept, kept_count, &L, err)) != CUSTOS_OK)
		goto fail;
	*out = v;
	v = NULL;
fail:
	for (size_t i = 0; i < ncp; i++) {
		free(cps[i].path);
		free(cps[i].label);
	}
	free(cps);
	if (c != NULL) {
		for (size_t i = 0; i < c->cached; i++)
			free(c->cache[i].problem);
		for (size_t i = 0; i < c->set_count; i++) {
			custos__custody_cert_set_facts_free(c->sets[i].facts,
				sk_X509_num(c->sets[i].certs));
			sk_X509_pop_free(c->sets[i].certs, X509_free);
		}
		X509_STORE_free(c->store);
		free(c);
	}
	custos_custody_verification_free(v);
	for (size_t i = 0; i < owned_n; i++)
		free(owned[i]);
	json_decref(genesis);
	free(vkey);
	free(log_vkey);
	free(vkey_path);
	custos__custody_loaded_free(&L);
	return st;
}

uint64_t custos_custody_verification_records(
		const custos_custody_verification *v) { return v->records; }
const char *custos_custody_verification_root(
		const custos_custody_verification *v) { return v->root; }
size_t custos_custody_verification_checkpoints(
		const custos_custody_verification *v) { return v->checkpoints; }
size_t custos_custody_verification_problem_count(
		const custos_custody_verification *v)
{
	return v->problem_count;
}
const char *custos_custody_verification_problem(
		const custos_custody_verification *v, size_t i)
{
	return i < v->problem_count ? v->problems[i] : NULL;
}
size_t custos_custody_verification_note_count(
		const custos_custody_verification *v) { return v->note_count; }
const char *custos_custody_verification_note(
		const custos_custody_verification *v, size_t i)
{
	return i < v->note_count ? v->notes[i] : NULL;
}

void custos_custody_verification_free(custos_custody_verification *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v->problems != NULL && i < v->problem_count; i++)
		free(v->problems[i]);
	for (size_t i = 0; v->notes != NULL && i < v->note_count; i++)
		free(v->notes[i]);
	free(v->problems);
	free(v->notes);
	free(v->root);
	free(v);
}

/* ---- checkpoints and proofs ---- */

/* Load, parse and chain-check the log (no signatures); the first problem
 * refuses.  *genesis gets the genesis record. */
custos_status custos__custody_load_checked(custos__custody_loaded *L,
		json_t **genesis, const char *dir, custos_error *err)
{
	custos_custody_verification v;
	char *probs[CUSTODY_MAX_PROBLEMS], *notes[CUSTODY_MAX_PROBLEMS];
	custos__custody_sig_ctx *c;
	custos_status st;

	*genesis = NULL;
	if ((st = custos__custody_load_lines(L, dir, err)) != CUSTOS_OK)
		return st;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		custos__custody_loaded_free(L);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	c->dir = dir;
	c->L = L;
	c->threads = 1;
	run_workers(c);
	free(c);
	memset(&v, 0, sizeof(v));
	v.problems = probs;
	v.notes = notes;
	for (uint64_t i = 0; i < L->n; i++)
		if (L->recs[i].problem != NULL)
			custos__vfail(&v, "%s", L->recs[i].problem);
	check_chain_order(&v, L);
	if (L->torn > 0)
		custos__vfail(&v, "the log ends in a torn line (custos-log "
			"recover)");
	if (v.problem_total == 0 &&
	    (st = genesis_info(genesis, L, err)) != CUSTOS_OK) {
		custos__custody_loaded_free(L);
		return st;
	}
	if (v.problem_total > 0 || *genesis == NULL) {
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"the log does not verify: %s", v.problem_count > 0
			? probs[0] : "no genesis record");
		for (size_t i = 0; i < v.problem_count; i++)
			free(probs[i]);
		for (size_t i = 0; i < v.note_count; i++)
			free(notes[i]);
		json_decref(*genesis);
		*genesis = NULL;
		custos__custody_loaded_free(L);
		return st;
	}
	return CUSTOS_OK;
}
