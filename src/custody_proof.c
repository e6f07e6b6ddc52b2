/*
 * Proofs from a custody log: a C2SP tlog-proof that a record is in the log
 * (inclusion) and a consistency proof that a later checkpoint extends an
 * earlier one, each carrying the signed checkpoint notes, and checking
 * either with nothing but the log's verifier key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custody_private.h"
#include "custos/note.h"
#include "error_private.h"
#include "fileio_private.h"
#include "note_private.h"

static custos_status append_hashes(char **out, custos_merkle_hash *h,
		size_t n, custos_error *err)
{
	for (size_t i = 0; i < n; i++) {
		char *b = custos__b64_encode(h[i], CUSTOS_MERKLE_HASH_SIZE);
		char *s = b != NULL ? custos__aprintf("%s%s\n", *out, b) : NULL;

		free(b);
		free(*out);
		*out = s;
		if (s == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	return CUSTOS_OK;
}

/* The checkpoint to prove against: checkpoints/<size>.note, checked. */
static custos_status pick_checkpoint(char **note, const char *dir,
		const char *given, uint64_t want_above, uint64_t exact,
		const custos__custody_checkpoint *cps, size_t ncp,
		custos_error *err)
{
	const custos__custody_checkpoint *best = NULL;
	size_t len = 0;

	*note = NULL;
	if (given != NULL)
		return custos__read_text(note, &len, given, CUSTOS_NOTE_MAX,
			"checkpoint", err);
	for (size_t i = 0; i < ncp; i++) {
		if (exact != 0 ? cps[i].size != exact
			       : cps[i].size <= want_above)
			continue;
		if (best == NULL || cps[i].size < best->size)
			best = &cps[i];
	}
	(void)dir;
	if (best == NULL)
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			exact != 0 ? "no checkpoint for %" PRIu64 " records; "
			"make one with custos-log checkpoint"
			: "no checkpoint covers record %" PRIu64 " yet; make "
			"one with custos-log checkpoint",
			exact != 0 ? exact : want_above);
	return custos__read_text(note, &len, best->path, CUSTOS_NOTE_MAX,
		"checkpoint", err);
}

static custos_status note_tree(uint64_t *size, custos_merkle_hash root,
		const char *note, const char *vkey, custos_error *err)
{
	size_t tlen;
	char *origin = NULL;
	custos_status st;

	if ((st = custos__custody_note_verify(&tlen, note, strlen(note),
			vkey, err)) != CUSTOS_OK)
		return st;
	st = custos_note_checkpoint_parse(&origin, size, root, note, tlen,
		err);
	free(origin);
	return st;
}

static custos_status prove_setup(custos__custody_loaded *L, char **vkey,
		custos__custody_checkpoint **cps, size_t *ncp, const char *dir,
		custos_error *err)
{
	json_t *genesis = NULL;
	char *vpath;
	custos_status st;

	*vkey = NULL;
	*cps = NULL;
	*ncp = 0;
	if ((st = custos__custody_load_checked(L, &genesis, dir, err)) !=
			CUSTOS_OK)
		return st;
	vpath = custos__custody_path(dir, "keys/log.vkey");
	if (vpath == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if ((st = custos__custody_hostile(custos__custody_read_vkey(vkey,
			vpath, err), err)) == CUSTOS_OK)
		st = custos__custody_checkpoints_agree(cps, ncp, dir, *vkey,
			json_string_value(json_object_get(genesis, "origin")),
			L, err);
	free(vpath);
	json_decref(genesis);
	if (st != CUSTOS_OK) {
		custos__custody_checkpoints_free(*cps, *ncp);
		*cps = NULL;
		*ncp = 0;
		free(*vkey);
		*vkey = NULL;
		custos__custody_loaded_free(L);
	}
	return st;
}

custos_status custos_custody_prove_inclusion(char **proof, const char *dir,
		uint64_t seq, const char *checkpoint_path, custos_error *err)
{
	custos__custody_loaded L;
	custos__custody_checkpoint *cps;
	size_t ncp, count;
	char *vkey, *note = NULL, *extra = NULL;
	custos_merkle_hash path[CUSTOS_MERKLE_PROOF_MAX], root;
	uint64_t size;
	custos_status st;

	*proof = NULL;
	if ((st = prove_setup(&L, &vkey, &cps, &ncp, dir, err)) != CUSTOS_OK)
		return st;
	if (seq >= L.n) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"the log has no record %" PRIu64, seq);
		goto done;
	}
	if ((st = pick_checkpoint(&note, dir, checkpoint_path, seq, 0, cps,
			ncp, err)) != CUSTOS_OK ||
	    (st = note_tree(&size, root, note, vkey, err)) != CUSTOS_OK)
		goto done;
	if (size <= seq || size > L.n) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"the checkpoint (%" PRIu64 " records) does not cover "
			"record %" PRIu64 " of this log", size, seq);
		goto done;
	}
	if ((st = custos_merkle_inclusion_proof(path, &count, L.leaves, size,
			seq, err)) != CUSTOS_OK)
		goto done;
	{
		custos_merkle_hash check;

		custos_merkle_root(check, L.leaves, size);
		if (memcmp(check, root, sizeof(root)) != 0) {
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"the checkpoint does not match the log");
			goto done;
		}
	}
	extra = custos__b64_encode(L.recs[seq].line, L.recs[seq].len);
	*proof = extra != NULL ? custos__aprintf("c2sp.org/tlog-proof@v1\n"
		"extra %s\nindex %" PRIu64 "\n", extra, seq) : NULL;
	if (*proof == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = append_hashes(proof, path, count, err)) == CUSTOS_OK) {
		char *s = custos__aprintf("%s\n%s", *proof, note);

		free(*proof);
		*proof = s;
		if (s == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
done:
	if (st != CUSTOS_OK) {
		free(*proof);
		*proof = NULL;
	}
	free(extra);
	free(note);
	free(vkey);
	custos__custody_checkpoints_free(cps, ncp);
	custos__custody_loaded_free(&L);
	return st;
}

#define CONSISTENCY_HEADER "custos.consistency-proof@v1"

custos_status custos_custody_prove_consistency(char **proof,
		const char *dir, uint64_t from, uint64_t to, custos_error *err)
{
	custos__custody_loaded L;
	custos__custody_checkpoint *cps;
	size_t ncp, count;
	char *vkey, *old = NULL, *new = NULL, *old64 = NULL;
	custos_merkle_hash path[CUSTOS_MERKLE_PROOF_MAX];
	custos_status st;

	*proof = NULL;
	if (from == 0 || from > to)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a consistency proof needs 0 < FROM <= TO");
	if ((st = prove_setup(&L, &vkey, &cps, &ncp, dir, err)) != CUSTOS_OK)
		return st;
	if (to > L.n) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"the log has only %" PRIu64 " records", L.n);
		goto done;
	}
	if ((st = pick_checkpoint(&old, dir, NULL, 0, from, cps, ncp, err)) !=
			CUSTOS_OK ||
	    (st = pick_checkpoint(&new, dir, NULL, 0, to, cps, ncp, err)) !=
		    CUSTOS_OK ||
	    (st = custos_merkle_consistency_proof(path, &count, L.leaves, from,
		    to, err)) != CUSTOS_OK)
		goto done;
	old64 = custos__b64_encode(old, strlen(old));
	*proof = old64 != NULL
		? custos__aprintf(CONSISTENCY_HEADER "\nold %s\n", old64)
		: NULL;
	if (*proof == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = append_hashes(proof, path, count, err)) == CUSTOS_OK) {
		char *s = custos__aprintf("%s\n%s", *proof, new);

		free(*proof);
		*proof = s;
		if (s == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
done:
	if (st != CUSTOS_OK) {
		free(*proof);
		*proof = NULL;
	}
	free(old64);
	free(old);
	free(new);
	free(vkey);
	custos__custody_checkpoints_free(cps, ncp);
	custos__custody_loaded_free(&L);
	return st;
}

/* Next line of text at *p (without LF) into line/len; 0 at the end. */
static int next_line(const char **p, const char *end, const char **line,
		size_t *len)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		return 0;
	*line = *p;
	*len = (size_t)(nl - *p);
	*p = nl + 1;
	return 1;
}

custos_status custos_custody_check_proof(char **summary, const char *proof,
		size_t len, const char *vkey, custos_error *err)
{
	const char *p = proof, *end = proof + len, *line;
	size_t ll, count = 0;
	custos_merkle_hash hashes[CUSTOS_MERKLE_PROOF_MAX], root, root1;
	unsigned char *extra = NULL;
	char *note = NULL, *old = NULL, *origin = NULL;
	long extra_len = -1;
	uint64_t index = 0, size = 0, size1 = 0;
	int inclusion, have_index = 0;
	custos_status st;
	size_t tlen;

	if (summary != NULL)
		*summary = NULL;
	if (proof == NULL || vkey == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_check_proof: NULL argument");
	if (len > 4 * CUSTOS_NOTE_MAX + 4 * CUSTOS_CUSTODY_LINE_MAX ||
	    memchr(proof, '\0', len) != NULL || !next_line(&p, end, &line, &ll))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a proof (empty, too long or binary)");
	if (ll == 22 && memcmp(line, "c2sp.org/tlog-proof@v1", 22) == 0)
		inclusion = 1;
	else if (ll == strlen(CONSISTENCY_HEADER) &&
		 memcmp(line, CONSISTENCY_HEADER, ll) == 0)
		inclusion = 0;
	else
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a c2sp.org/tlog-proof@v1 or " CONSISTENCY_HEADER
			" proof");
	while (next_line(&p, end, &line, &ll) && ll > 0) {
		if (inclusion && ll > 6 && memcmp(line, "extra ", 6) == 0 &&
		    extra == NULL && !have_index) {
			extra = malloc(ll);
			if (extra == NULL)
				return custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
			extra_len = custos__b64_decode(extra, ll, line + 6,
				ll - 6);
			if (extra_len < 0) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad extra line");
				goto done;
			}
		} else if (inclusion && ll > 6 &&
			   memcmp(line, "index ", 6) == 0 && !have_index) {
			char buf[24], *e;

			if (ll - 6 >= sizeof(buf) || line[6] < '0' ||
			    line[6] > '9') {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad index");
				goto done;
			}
			memcpy(buf, line + 6, ll - 6);
			buf[ll - 6] = '\0';
			index = strtoull(buf, &e, 10);
			if (*e != '\0') {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad index");
				goto done;
			}
			have_index = 1;
		} else if (!inclusion && ll > 4 &&
			   memcmp(line, "old ", 4) == 0 && old == NULL) {
			long n;

			old = malloc(ll + 1);
			if (old == NULL) {
				st = custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
				goto done;
			}
			n = custos__b64_decode((unsigned char *)old, ll,
				line + 4, ll - 4);
			if (n < 0) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad old checkpoint");
				goto done;
			}
			old[n] = '\0';
		} else if (count < CUSTOS_MERKLE_PROOF_MAX &&
			   custos__b64_decode(hashes[count], 32, line, ll) ==
				   32 && (have_index || old != NULL)) {
			count++;
		} else {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"proof: unexpected line");
			goto done;
		}
	}
	if ((inclusion && !have_index) || (!inclusion && old == NULL)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"proof: no index or old checkpoint");
		goto done;
	}
	note = strndup(p, (size_t)(end - p));
	if (note == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = custos__custody_note_verify(&tlen, note, strlen(note),
			vkey, err)) != CUSTOS_OK ||
	    (st = custos_note_checkpoint_parse(&origin, &size, root, note,
		    tlen, err)) != CUSTOS_OK)
		goto done;
	if (inclusion) {
		custos_merkle_hash leaf;
		json_t *r;
		json_error_t je;

		if (extra == NULL || extra_len < 1 ||
		    extra[extra_len - 1] != '\n') {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"proof: no record line in the extra data");
			goto done;
		}
		r = json_loadb((const char *)extra, (size_t)extra_len - 1,
			JSON_REJECT_DUPLICATES, &je);
		if (json_integer_value(json_object_get(r, "seq")) !=
				(json_int_t)index || !json_is_object(r)) {
			json_decref(r);
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"proof: the record is not record %" PRIu64,
				index);
			goto done;
		}
		custos_merkle_leaf_hash(leaf, extra, (size_t)extra_len);
		st = custos_merkle_verify_inclusion(index, size, leaf, hashes,
			count, root, err);
		if (st == CUSTOS_EFORMAT)
			st = CUSTOS_EMISMATCH;
		if (st == CUSTOS_OK && summary != NULL) {
			char safe[256];
			const char *t = json_string_value(json_object_get(r,
				"type"));

			custos__safe_text(safe, sizeof(safe), origin,
					strlen(origin));
			*summary = custos__aprintf("record %" PRIu64 " (%s) is "
				"in log %s of %" PRIu64 " records, checkpoint "
				"signed by the log key", index,
				t != NULL && custos_custody_type_known(t)
					? t : "?", safe, size);
		}
		json_decref(r);
	} else {
		char *o2 = NULL;
		size_t tlen1;

		/* The older checkpoint must be the same log's. */
		if ((st = custos__custody_note_verify(&tlen1, old,
				strlen(old), vkey, err)) != CUSTOS_OK ||
		    (st = custos_note_checkpoint_parse(&o2, &size1, root1,
				old, tlen1, err)) != CUSTOS_OK)
			goto done;
		if (strcmp(o2, origin) != 0) {
			free(o2);
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"proof: the two checkpoints are of different "
				"logs");
			goto done;
		}
		free(o2);
		st = custos_merkle_verify_consistency(size1, size, root1, root,
			hashes, count, err);
		if (st == CUSTOS_EFORMAT)
			st = CUSTOS_EMISMATCH;
		if (st == CUSTOS_OK && summary != NULL)
			*summary = custos__aprintf("the log of %" PRIu64
				" records extends the log of %" PRIu64
				" records: both checkpoints signed by the log "
				"key", size, size1);
	}
done:
	free(extra);
	free(note);
	free(old);
	free(origin);
	return st;
}

custos_status custos_custody_check_proof_file(char **summary,
		const char *proof_path, const char *vkey_path,
		custos_error *err)
{
	char *proof = NULL, *vkey = NULL;
	size_t len = 0;
	custos_status st;

	if (summary != NULL)
		*summary = NULL;
	if (proof_path == NULL || vkey_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_check_proof_file: NULL argument");
	if ((st = custos__read_text(&proof, &len, proof_path,
			4 * CUSTOS_NOTE_MAX + 4 * CUSTOS_CUSTODY_LINE_MAX,
			"proof", err)) != CUSTOS_OK)
		return st;
	st = custos__custody_read_vkey(&vkey, vkey_path, err);
	if (st == CUSTOS_OK)
		st = custos_custody_check_proof(summary, proof, len, vkey,
			err);
	free(proof);
	free(vkey);
	return st;
}

custos_status custos_custody_proof_save(const char *path, const char *proof,
		custos_error *err)
{
	if (path == NULL || proof == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_proof_save: NULL argument");
	return custos__write_file_exclusive(path, proof, strlen(proof), 0644,
		err);
}
