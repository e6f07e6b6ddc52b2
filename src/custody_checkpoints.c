/*
 * Checkpoints of a custody log: finding and checking checkpoints/N.note
 * (and notes given by the verifier) against the log key and the log
 * (truncation, mismatch, fork), their RFC 3161 time stamps, and signing a
 * new checkpoint for the whole log (custos_custody_checkpoint).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custody_private.h"
#include "custos/note.h"
#include "custos/timestamp.h"
#include "error_private.h"
#include "note_private.h"

/* checkpoints/N.tsr, when present: an RFC 3161 token over N.note. */
void custos__custody_check_checkpoint_tsrs(custos_custody_verification *v,
		const char *dir, const custos__custody_checkpoint *cps,
		size_t n, const char *const *trust, size_t trust_n)
{
	for (size_t i = 0; i < n; i++) {
		custos_sign_verify_options so;
		custos_sign_verification *sv = NULL;
		char rel[48], *tsr;
		custos_status st;
		custos_error e2;

		if (strncmp(cps[i].label, "checkpoints/", 12) != 0)
			continue;
		snprintf(rel, sizeof(rel), "checkpoints/%" PRIu64 ".tsr",
			cps[i].size);
		tsr = custos__custody_path(dir, rel);
		if (tsr == NULL || !custos__path_exists(tsr)) {
			free(tsr);
			continue;
		}
		custos_sign_verify_options_init(&so);
		so.trust = trust;
		so.trust_count = trust_n;
		so.timestamp_path = tsr;
		st = custos_sign_verify_file(&sv, cps[i].path, &so, &e2);
		if (st != CUSTOS_OK) {
			char safe[256];

			custos__safe_text(safe, sizeof(safe), e2.message,
				strlen(e2.message));
			custos__vfail(v, "%s: its time stamp does not verify: "
				"%s", rel, safe);
		}
		custos_sign_verification_free(sv);
		free(tsr);
	}
}

/*
 * custos_note_verify, and then every other signature line by the same key
 * (name and key ID) must verify too: C2SP signed-note rejects a note with
 * any failing signature by a known key.  Each such line is checked alone,
 * as a note with only that line.
 */
custos_status custos__custody_note_verify(size_t *tlen, const char *note,
		size_t len, const char *vkey, custos_error *err)
{
	static const char dash[] = "\xe2\x80\x94 ";
	const char *plus = strchr(vkey, '+'), *idhex;
	char name[CUSTOS_NOTE_NAME_MAX], *one = NULL;
	custos_status st;
	size_t nlen, p;

	if ((st = custos_note_verify(tlen, note, len, vkey, err)) != CUSTOS_OK)
		return st;
	if (custos_note_vkey_parse(vkey, name, NULL) != CUSTOS_OK ||
	    plus == NULL || strlen(plus) < 10)
		return custos__error_set(err, CUSTOS_EFORMAT, "bad log key");
	idhex = plus + 1;
	nlen = strlen(name);
	one = malloc(len + 1);
	if (one == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	memcpy(one, note, *tlen + 1);
	for (p = *tlen + 1; p < len && st == CUSTOS_OK;) {
		const char *line = note + p, *b;
		const char *end = memchr(line, '\n', len - p);
		unsigned char blob[4 + 64 + 8];
		char hx[9];
		size_t ll = end != NULL ? (size_t)(end - line) : len - p;
		size_t t2;
		long n;

		p += ll + 1;
		if (ll < sizeof(dash) - 1 + nlen + 1 ||
		    memcmp(line, dash, sizeof(dash) - 1) != 0)
			continue;
		b = line + sizeof(dash) - 1;
		if (memcmp(b, name, nlen) != 0 || b[nlen] != ' ')
			continue;
		b += nlen + 1;
		n = custos__b64_decode(blob, sizeof(blob), b,
			(size_t)(line + ll - b));
		if (n < 4)
			continue;
		snprintf(hx, sizeof(hx), "%02x%02x%02x%02x", blob[0], blob[1],
			blob[2], blob[3]);
		if (strncmp(hx, idhex, 8) != 0)
			continue; /* another key of the same name */
		memcpy(one + *tlen + 1, line, ll);
		one[*tlen + 1 + ll] = '\n';
		if (custos_note_verify(&t2, one, *tlen + ll + 2, vkey, NULL) !=
				CUSTOS_OK)
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"a signature line by the log key does not "
				"verify (a failing signature by a known key "
				"rejects the note)");
	}
	free(one);
	return st;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Load and check the signatures of all checkpoints. */
size_t custos__custody_load_checkpoints(custos__custody_checkpoint **out,
		const char *dir, const char *vkey, const char *origin,
		const custos_custody_verify_options *o,
		custos_custody_verification *v)
{
	custos__custody_checkpoint *cps = calloc(MAX_CHECKPOINTS, sizeof(*cps));
	char *cdir = custos__custody_path(dir, "checkpoints");
	DIR *d = cdir != NULL ? opendir(cdir) : NULL;
	struct dirent *e;
	size_t n = 0, paths = 0;
	char **list = calloc(MAX_CHECKPOINTS, sizeof(char *));
	char **labels = calloc(MAX_CHECKPOINTS, sizeof(char *));

	*out = cps;
	if (cps == NULL || list == NULL || labels == NULL) {
		free(list);
		free(labels);
		free(cdir);
		if (d != NULL)
			closedir(d);
		return 0;
	}
	while (d != NULL && (e = readdir(d)) != NULL &&
	       paths < MAX_CHECKPOINTS) {
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 5, ".note") != 0)
			continue;
		list[paths] = custos__custody_path(cdir, e->d_name);
		labels[paths] = custos__aprintf("checkpoints/%s", e->d_name);
		paths++;
	}
	if (d != NULL)
		closedir(d);
	for (size_t k = 0; k < o->checkpoint_count &&
	     paths < MAX_CHECKPOINTS; k++) {
		list[paths] = custos__strdup(o->checkpoints[k]);
		labels[paths] = custos__aprintf("checkpoint %s",
			o->checkpoints[k]);
		paths++;
	}
	for (size_t k = 0; k < paths; k++) {
		char *note = NULL, *corigin = NULL, safe[160], why[256];
		size_t len = 0, tlen = 0;
		custos_error e2;
		custos__custody_checkpoint *cp = &cps[n];

		if (list[k] == NULL || labels[k] == NULL)
			continue;
		custos__safe_text(safe, sizeof(safe), labels[k],
				strlen(labels[k]));
		if (custos__read_text(&note, &len, list[k], CUSTOS_NOTE_MAX,
				"checkpoint", &e2) != CUSTOS_OK) {
			custos__safe_text(why, sizeof(why), e2.message,
				strlen(e2.message));
			custos__vfail(v, "%s cannot be read: %s", safe, why);
			continue;
		}
		if (custos__custody_note_verify(&tlen, note, len, vkey, &e2)
				!= CUSTOS_OK) {
			custos__safe_text(why, sizeof(why), e2.message,
				strlen(e2.message));
			custos__vfail(v, "%s is not signed by the log key "
				"(%s): a wrong log key or a forged checkpoint",
				safe, why);
			free(note);
			continue;
		}
		if (custos_note_checkpoint_parse(&corigin, &cp->size,
				cp->root, note, tlen, &e2) != CUSTOS_OK) {
			custos__safe_text(why, sizeof(why), e2.message,
				strlen(e2.message));
			custos__vfail(v, "%s: %s", safe, why);
			free(note);
			continue;
		}
		if (origin == NULL || strcmp(corigin, origin) != 0) {
			custos__vfail(v, "%s is for another log (its origin is "
				"not the genesis origin)", safe);
		} else {
			const char *base = custos__basename(list[k]);
			char want[40];

			snprintf(want, sizeof(want), "%" PRIu64 ".note",
				cp->size);
			if (strncmp(labels[k], "checkpoints/", 12) == 0 &&
			    strcmp(base, want) != 0)
				custos__vfail(v, "%s holds a checkpoint for %"
					PRIu64 " records; its name says "
					"otherwise", safe, cp->size);
			cp->label = custos__strdup(safe);
			cp->path = list[k];
			list[k] = NULL;
			n++;
		}
		free(corigin);
		free(note);
	}
	for (size_t k = 0; k < paths; k++) {
		free(list[k]);
		free(labels[k]);
	}
	free(list);
	free(labels);
	free(cdir);
	return n;
}

void custos__custody_check_checkpoints(custos_custody_verification *v,
		custos__custody_checkpoint *cps, size_t n,
		const custos__custody_loaded *L)
{
	uint64_t *sizes = calloc(n + 1, sizeof(uint64_t));
	custos_merkle_hash *roots = calloc(n + 1, sizeof(*roots));
	custos_merkle_state s;
	size_t m = 0, k = 0;

	if (sizes == NULL || roots == NULL) {
		custos__vfail(v, "out of memory checking checkpoints");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (cps[i].size <= L->n)
			sizes[m++] = cps[i].size;
	qsort(sizes, m, sizeof(uint64_t), cmp_u64);
	custos_merkle_state_init(&s);
	for (uint64_t i = 0; i <= L->n && k < m; i++) {
		while (k < m && sizes[k] == i) {
			custos_merkle_state_root(&s, roots[k]);
			k++;
		}
		if (i < L->n)
			(void)custos_merkle_state_append(&s, L->leaves[i],
				NULL);
	}
	for (size_t i = 0; i < n; i++) {
		custos__custody_checkpoint *cp = &cps[i];

		if (cp->size > L->n) {
			custos__vfail(v, "truncated: %s, signed by the log "
				"key, covers %" PRIu64 " records but the log "
				"has only %" PRIu64, cp->label, cp->size, L->n);
			continue;
		}
		for (size_t j = 0; j < m; j++)
			if (sizes[j] == cp->size)
				cp->matches = memcmp(roots[j], cp->root,
					sizeof(cp->root)) == 0;
	}
	/* Two signed checkpoints that disagree are a fork. */
	for (size_t i = 0; i < n; i++) {
		custos__custody_checkpoint *a = &cps[i];
		const custos__custody_checkpoint *good = NULL;

		if (a->size > L->n || a->matches)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (j == i || cps[j].size > L->n)
				continue;
			if (cps[j].size == a->size && memcmp(cps[j].root,
				    a->root, sizeof(a->root)) != 0) {
				good = &cps[j];
				break;
			}
			if (cps[j].matches && cps[j].size >= a->size)
				good = &cps[j];
		}
		if (good != NULL)
			custos__vfail(v, "fork: %s and %s are both signed by "
				"the log key but do not describe the same "
				"history (the first %" PRIu64 " records "
				"differ)", a->label, good->label, a->size);
		else
			custos__vfail(v, "%s does not match the log: the tree "
				"head of the first %" PRIu64 " records "
				"differs, so records up to it were changed, "
				"removed or reordered", a->label, a->size);
	}
done:
	free(sizes);
	free(roots);
}

/* Every checkpoint in the log must be signed and a prefix of it. */
custos_status custos__custody_checkpoints_agree(
		custos__custody_checkpoint **cps, size_t *n, const char *dir,
		const char *vkey, const char *origin,
		const custos__custody_loaded *L, custos_error *err)
{
	custos_custody_verification v;
	char *probs[CUSTODY_MAX_PROBLEMS], *notes[CUSTODY_MAX_PROBLEMS];
	custos_custody_verify_options o;
	custos_status st = CUSTOS_OK;

	custos_custody_verify_options_init(&o);
	memset(&v, 0, sizeof(v));
	v.problems = probs;
	v.notes = notes;
	*n = custos__custody_load_checkpoints(cps, dir, vkey, origin, &o, &v);
	custos__custody_check_checkpoints(&v, *cps, *n, L);
	if (v.problem_total > 0)
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"the log does not verify: %s", v.problem_count > 0
			? probs[0] : "bad checkpoint");
	for (size_t i = 0; i < v.problem_count; i++)
		free(probs[i]);
	for (size_t i = 0; i < v.note_count; i++)
		free(notes[i]);
	return st;
}

void custos__custody_checkpoints_free(custos__custody_checkpoint *cps, size_t n)
{
	for (size_t i = 0; cps != NULL && i < n; i++) {
		free(cps[i].path);
		free(cps[i].label);
	}
	free(cps);
}

custos_status custos_custody_checkpoint(char **note_path, const char *dir,
		const char *log_key_path, const char *tsa_url,
		custos_error *err)
{
	custos__custody_loaded L;
	json_t *genesis = NULL;
	custos__custody_checkpoint *cps = NULL;
	size_t ncp = 0;
	char *vkey = NULL, *mine = NULL, *vpath = NULL, *text = NULL;
	char *note = NULL, *path = NULL, rel[48];
	const char *origin;
	custos_merkle_hash root;
	custos_status st;

	if (note_path != NULL)
		*note_path = NULL;
	if (dir == NULL || log_key_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a checkpoint needs the log folder and the log key");
	if ((st = custos__custody_load_checked(&L, &genesis, dir, err)) !=
			CUSTOS_OK)
		return st;
	origin = json_string_value(json_object_get(genesis, "origin"));
	vpath = custos__custody_path(dir, "keys/log.vkey");
	if (origin == NULL || vpath == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the genesis record has no origin");
		goto done;
	}
	if ((st = custos__custody_hostile(custos__custody_read_vkey(&vkey,
		    vpath, err), err)) != CUSTOS_OK ||
	    (st = custos_note_vkey_of(&mine, origin, log_key_path, err)) !=
		    CUSTOS_OK)
		goto done;
	if (strcmp(mine, vkey) != 0 ||
	    strcmp(vkey, json_string_value(json_object_get(genesis,
		    "log_key")) != NULL ? json_string_value(
		    json_object_get(genesis, "log_key")) : "") != 0) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"%s is not this log's key (keys/log.vkey and the "
			"genesis record name another)", log_key_path);
		goto done;
	}
	if ((st = custos__custody_checkpoints_agree(&cps, &ncp, dir, vkey,
			origin, &L, err)) != CUSTOS_OK)
		goto done;
	custos_merkle_root(root, L.leaves, L.n);
	snprintf(rel, sizeof(rel), "checkpoints/%" PRIu64 ".note", L.n);
	path = custos__custody_path(dir, rel);
	{
		char *cdir = custos__custody_path(dir, "checkpoints");

		st = cdir != NULL ? custos__custody_own_dir(cdir, err)
			: custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		free(cdir);
		if (st != CUSTOS_OK)
			goto done;
	}
	if (path == NULL ||
	    (st = custos_note_checkpoint_text(&text, origin, L.n, root, err)) !=
		    CUSTOS_OK)
		goto done;
	if (custos__path_exists(path)) {
		/* It agrees with the log (checked above): nothing to do. */
		st = CUSTOS_OK;
	} else if ((st = custos_note_sign(&note, text, strlen(text), origin,
			log_key_path, err)) != CUSTOS_OK ||
		   (st = custos__write_file_atomic(path, note, strlen(note),
			   err)) != CUSTOS_OK) {
		goto done;
	}
	if (tsa_url != NULL) {
		custos_tsa_options to;
		char *tsr = custos__aprintf("%s/checkpoints/%" PRIu64 ".tsr",
			dir, L.n);

		custos_tsa_options_init(&to);
		to.url = tsa_url;
		if (tsr == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		else if (!custos__path_exists(tsr))
			st = custos_timestamp_file_to(path, tsr, &to, err);
		free(tsr);
	}
	if (st == CUSTOS_OK && note_path != NULL) {
		*note_path = path;
		path = NULL;
	}
done:
	custos__custody_checkpoints_free(cps, ncp);
	json_decref(genesis);
	custos__custody_loaded_free(&L);
	free(vkey);
	free(mine);
	free(vpath);
	free(text);
	free(note);
	free(path);
	return st;
}
