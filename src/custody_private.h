/*
 * What the files of the custody log share (custody_*.c): the layout of the
 * log folder, the acting person, a log read into memory for checking
 * (custos__custody_loaded), the per-record signature check's context, the
 * checkpoints found in a log, and the verification being written.  No
 * other part of libcustos includes it.
 */
#ifndef CUSTOS_CUSTODY_PRIVATE_H
#define CUSTOS_CUSTODY_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "custos/custody.h"
#include "custos/merkle.h"
#include "custos/sign.h"
#include "util_private.h"

#define LOG_NAME "log.jsonl"
#define STATE_NAME "tree.state"
#define REPORT_MAX (16u << 20)
#define CUSTODY_MAX_PROBLEMS 200
#define MAX_CHECKPOINTS 4096
#define MAX_THREADS 16
#define HEX_SHA256 65
#define CHAIN_CACHE 256

/* ---- small helpers (custody_record.c, custody_store.c) ---- */

/* dir/name; caller frees.  NULL on ENOMEM. */
char *custos__custody_path(const char *dir, const char *name);
void custos__custody_sha256(unsigned char out[32], const void *data,
		size_t len);
/* Lowercase hex of 32 bytes. */
void custos__custody_hex(char out[HEX_SHA256], const unsigned char in[32]);
void custos__custody_sha256_hex(char out[HEX_SHA256], const void *data,
		size_t len);
/* Text safe to put in a message: control bytes and non-ASCII as \xNN. */
void custos__safe_text(char *out, size_t cap, const char *in,
		size_t len);
/* Read a whole file of at most max bytes, NUL-terminated. */
custos_status custos__read_text(char **out, size_t *len,
		const char *path, size_t max, const char *what,
		custos_error *err);
/* The same for a file inside the log folder: a FIFO, device or folder
 * there is a damaged log (CUSTOS_EFORMAT), not a usage error. */
custos_status custos__custody_read_own(char **out, size_t *len,
		const char *path, size_t max, const char *what,
		custos_error *err);
/* CUSTOS_EINVAL (not a regular file) as CUSTOS_EFORMAT; others as is. */
custos_status custos__custody_hostile(custos_status st, custos_error *err);
/* A folder custos writes into inside the log: made when absent, refused
 * when a symlink or not a folder. */
custos_status custos__custody_own_dir(const char *path, custos_error *err);
/* RFC 3339 UTC (2026-11-28T16:02:46Z) to time_t; 0 if it is not. */
int custos__custody_parse_time(const char *s, time_t *out);

/* ---- records (custody_record.c) ---- */

/* The person acting: how they sign and the record's "actor" object. */
typedef struct custos__custody_actor {
	custos_sign_options sign;
	json_t *actor;   /* {"cert_sha256", "name", ...} */
} custos__custody_actor;

custos_status custos__custody_actor_load(custos__custody_actor *a,
		const custos_custody_actor_options *o, custos_error *err);
void custos__custody_actor_free(custos__custody_actor *a);
/* A record of event ev by a, without seq and prev. */
custos_status custos__custody_build_record(json_t **out,
		const custos_custody_event *ev, const custos__custody_actor *a,
		custos_error *err);

/* ---- storage (custody_store.c) ---- */

/*
 * Append ev (NULL with recover_only) signed by actor under the exclusive
 * lock, after quarantining a torn last line; create makes log.jsonl (the
 * genesis record).  *recovered (may be NULL) says whether a torn line was
 * moved.
 */
custos_status custos__custody_append_event(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_actor_options *actor, int create,
		int recover_only, int *recovered, custos_error *err);

/* One line of the log as the checks see it. */
typedef struct custos__custody_rec {
	const char *line;
	size_t len;                 /* with the LF */
	char hash[HEX_SHA256];      /* SHA-256 of the line */
	int64_t seq;
	char prev[HEX_SHA256];
	char type[16];
	char cert[HEX_SHA256];
	int has_answers;
	int has_transfer;  /* received from another log, via a bundle */
	int64_t ans_seq;
	char ans_hash[HEX_SHA256];
	char recorded_at[CUSTOS__RFC3339_MAX];
	char *problem;              /* format or signature problem */
	json_t *json;               /* the parsed line, if keep_json */
} custos__custody_rec;

/* The whole log in memory, split into lines. */
typedef struct custos__custody_loaded {
	char *buf;
	size_t len;
	custos__custody_rec *recs;
	custos_merkle_hash *leaves;
	uint64_t n;
	uint64_t torn;              /* bytes after the last LF */
	int keep_json;              /* parsing keeps each record's JSON */
} custos__custody_loaded;

/* Read log.jsonl under a shared lock and split it (no parsing yet). */
custos_status custos__custody_load_lines(custos__custody_loaded *L,
		const char *dir, custos_error *err);
void custos__custody_loaded_free(custos__custody_loaded *L);

/* ---- record signatures (custody_signatures.c) ---- */

typedef struct custos__custody_chain_entry {
	char fp[HEX_SHA256];
	char *problem; /* NULL: trusted */
} custos__custody_chain_entry;

/* Certificates embedded in signatures, decoded once per distinct set:
 * decoding a certificate's public key costs more than checking a
 * signature, and a log has few signers. */
typedef struct custos__custody_cert_set {
	unsigned char hash[32];
	STACK_OF(X509) *certs;
	/* What the fast check needs of each (cms_fast.c); NULL: not
	 * available, every signature by the set goes to OpenSSL. */
	struct custos__cms_cert_facts *facts;
} custos__custody_cert_set;

/* Shared by the threads that check the records. */
typedef struct custos__custody_sig_ctx {
	custos__custody_cert_set sets[CHAIN_CACHE];
	size_t set_count;
	const char *dir;
	custos__custody_loaded *L;
	X509_STORE *store;
	pthread_mutex_t mu;
	custos__custody_chain_entry cache[CHAIN_CACHE];
	size_t cached;
	unsigned threads;
	unsigned index;
	int check_sigs;
} custos__custody_sig_ctx;

/* Release the facts of a cert set's n certificates. */
void custos__custody_cert_set_facts_free(struct custos__cms_cert_facts *f,
		int n);
/* Check record i's signature file; a problem goes to its rec. */
void custos__custody_check_sig(custos__custody_sig_ctx *c, uint64_t i);

/* ---- verification (custody_verify.c) ---- */

struct custos_custody_verification {
	uint64_t records;
	char *root;
	size_t checkpoints;
	char **problems;
	size_t problem_count;
	size_t problem_total;
	char **notes;
	size_t note_count;
};

/* The first problem of record r (later ones are dropped). */
void custos__rec_fail(custos__custody_rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void custos__vfail(custos_custody_verification *v, const char *fmt,
		...) __attribute__((format(printf, 2, 3)));
/* A verifier key file, without trailing whitespace. */
custos_status custos__custody_read_vkey(char **vkey, const char *path,
		custos_error *err);
/* Load, parse and chain-check the log (no signatures); the first problem
 * refuses.  *genesis gets the genesis record. */
custos_status custos__custody_load_checked(custos__custody_loaded *L,
		json_t **genesis, const char *dir, custos_error *err);

/* ---- checkpoints (custody_checkpoints.c) ---- */

typedef struct custos__custody_checkpoint {
	char *path;
	char *label;
	uint64_t size;
	custos_merkle_hash root;
	int matches;
} custos__custody_checkpoint;

/* custos_note_verify, and every signature line by the same key (name and
 * key ID) must verify as well. */
custos_status custos__custody_note_verify(size_t *tlen, const char *note,
		size_t len, const char *vkey, custos_error *err);
/* Load and check the signatures of all checkpoints. */
size_t custos__custody_load_checkpoints(custos__custody_checkpoint **out,
		const char *dir, const char *vkey, const char *origin,
		const custos_custody_verify_options *o,
		custos_custody_verification *v);
/* Each checkpoint against the log: truncation, mismatch, fork. */
void custos__custody_check_checkpoints(custos_custody_verification *v,
		custos__custody_checkpoint *cps, size_t n,
		const custos__custody_loaded *L);
/* checkpoints/N.tsr, when present: an RFC 3161 token over N.note. */
void custos__custody_check_checkpoint_tsrs(custos_custody_verification *v,
		const char *dir, const custos__custody_checkpoint *cps,
		size_t n, const char *const *trust, size_t trust_n);
/* Every checkpoint in the log must be signed and a prefix of it. */
custos_status custos__custody_checkpoints_agree(
		custos__custody_checkpoint **cps, size_t *n, const char *dir,
		const char *vkey, const char *origin,
		const custos__custody_loaded *L, custos_error *err);
void custos__custody_checkpoints_free(custos__custody_checkpoint *cps,
		size_t n);

/* ---- VERIFY.md, written into every log (custody_verify_md.c) ---- */

/* Its sections, in order, NULL-terminated. */
extern const char *const custos__custody_verify_md[];

#endif
