/*
 * The tamper-evident custody log (custos-log(1), custos-log(5)).
 *
 * A log is a folder:
 *   log.jsonl            one canonical JSON record per LF-terminated line
 *   sig/NNNNNNNN.p7s     detached CAdES by the acting person over line N
 *                        (its exact bytes, with the LF)
 *   checkpoints/N.note   C2SP tlog-checkpoint, a signed note by the log key
 *   keys/log.vkey        the log's verifier key (keys/log.pub.pem as PEM)
 *   keys/ca-K.pem        trusted CA certificates, pinned in the genesis record
 *   quarantine/          torn lines and orphaned signatures, never deleted
 *   tree.state           compact Merkle tree state (a cache)
 *   VERIFY.md            how to check all this with coreutils and openssl
 *
 * Records are hashed as stored: "prev" is the SHA-256 of the previous line,
 * the Merkle tree (RFC 6962) has one leaf per line.  The private log key
 * never lives inside the folder.
 */
#ifndef CUSTOS_CUSTODY_H
#define CUSTOS_CUSTODY_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "key.h"

/* The record format version ("v"). */
#define CUSTOS_CUSTODY_FORMAT 1
/* The longest record line, with its LF. */
#define CUSTOS_CUSTODY_LINE_MAX (64u << 10)
/* The largest log.jsonl read into memory: 4 GiB. */
#define CUSTOS_CUSTODY_LOG_MAX ((uint64_t)4 << 30)

#define CUSTOS_CUSTODY_ACTOR_OPTIONS_VERSION 1

/* The person acting: their CAdES signing identity and how they are named. */
typedef struct custos_custody_actor_options {
	unsigned int version;     /* CUSTOS_CUSTODY_ACTOR_OPTIONS_VERSION */
	const char *key_path;     /* PEM private key (ECDSA or RSA), required */
	const char *cert_path;    /* their certificate, required */
	const char *chain_path;   /* intermediates to include, optional */
	custos_passphrase_fn passphrase;
	void *passphrase_ctx;
	const char *name;         /* default: the certificate's CN */
	const char *id;           /* staff or badge number, optional */
	const char *organisation; /* optional */
	const char *role;         /* optional */
} custos_custody_actor_options;

CUSTOS_EXTERN void custos_custody_actor_options_init(
		custos_custody_actor_options *opts);

#define CUSTOS_CUSTODY_EVENT_VERSION 1

/* One event.  Strings are UTF-8; NULL leaves a field out (or empty). */
typedef struct custos_custody_event {
	unsigned int version;     /* CUSTOS_CUSTODY_EVENT_VERSION */
	const char *type;         /* "acquired", "released", ... required */
	const char *case_ref;     /* the case reference */
	const char *const *items; /* evidence item IDs */
	size_t item_count;
	const char *event_time;   /* RFC 3339 as the person states; default now */
	const char *location;
	const char *reason;
	const char *note;
	/* The type's extra fields as a JSON object ({"to": ..., ...}); they
	 * may not replace the common fields.  No floats. */
	const char *fields_json;
} custos_custody_event;

CUSTOS_EXTERN void custos_custody_event_init(custos_custody_event *ev);

/* 1 if type is one of the event types of custos-log(5). */
CUSTOS_EXTERN int custos_custody_type_known(const char *type);

/*
 * The default place of the private log key for origin: under
 * $XDG_CONFIG_HOME (or ~/.config) /custos/log-keys/.  Caller frees.
 */
CUSTOS_EXTERN custos_status custos_custody_default_key_path(char **out,
		const char *origin, custos_error *err);

/*
 * Make a log in dir (which must not exist, or be empty): an Ed25519 log key
 * written to log_key_path (mode 0600, outside dir), keys/, the genesis
 * record (seq 0, signed by actor, with the origin, the vkey and the pinned
 * CA certificates copied into keys/), VERIFY.md and checkpoints/1.note.
 * genesis may be NULL or give a case, items, a note.
 */
CUSTOS_EXTERN custos_status custos_custody_init(const char *dir,
		const char *origin, const char *log_key_path,
		const char *const *trust, size_t trust_count,
		const custos_custody_event *genesis,
		const custos_custody_actor_options *actor, custos_error *err);

/*
 * Append one record signed by actor: exclusive flock on log.jsonl, the
 * signature to sig/N.p7s (synced), then the line with one write() and
 * fdatasync.  A torn last line is first moved to quarantine/ and a
 * "recovery" record appended.  *seq (may be NULL) gets the new record's
 * number, *root_b64 (may be NULL; caller frees) the new tree head.
 */
CUSTOS_EXTERN custos_status custos_custody_append(uint64_t *seq,
		char **root_b64, const char *dir, const custos_custody_event *ev,
		const custos_custody_actor_options *actor, custos_error *err);

/*
 * For custos-acquire --log: append an "acquired" record for the report at
 * report_json_path (its SHA-256, case, evidence number as the item, source
 * identity, media hashes, image files, tool, result), signed by signer.
 */
CUSTOS_EXTERN custos_status custos_custody_append_acquired(
		const char *log_dir, const char *report_json_path,
		const custos_custody_actor_options *signer, custos_error *err);

/*
 * The extra fields of a record as JSON text (caller frees *out): the JSON
 * object in fields_file (may be NULL; at most 1 MiB), then each
 * "KEY=VALUE" of text_fields as a text field, replacing a key of the file.
 * For custos_custody_event.fields_json.
 */
CUSTOS_EXTERN custos_status custos_custody_fields_build(char **out,
		const char *fields_file, const char *const *text_fields,
		size_t text_field_count, custos_error *err);

#define CUSTOS_CUSTODY_RELEASE_VERSION 1

/* A hand-over ("released"), its own fields (custos-log(5)). */
typedef struct custos_custody_release {
	unsigned int version;     /* CUSTOS_CUSTODY_RELEASE_VERSION */
	const char *to;           /* to whom, required */
	const char *purpose;      /* optional */
	const char *carrier;      /* who carries it, optional */
	const char *seal_state;   /* the seal and its state, optional */
	const char *const *hashes; /* "ALG:HEX" of the item, optional */
	size_t hash_count;
} custos_custody_release;

CUSTOS_EXTERN void custos_custody_release_init(custos_custody_release *r);

/*
 * Append a "released" record: ev's common fields and extra fields (its
 * type is ignored) with rel's fields on top.  As custos_custody_append.
 */
CUSTOS_EXTERN custos_status custos_custody_append_released(uint64_t *seq,
		char **root_b64, const char *dir, const custos_custody_event *ev,
		const custos_custody_release *rel,
		const custos_custody_actor_options *actor, custos_error *err);

#define CUSTOS_CUSTODY_RECEIPT_VERSION 1

/* A taking-over ("received") of what a "released" record handed over. */
typedef struct custos_custody_receipt {
	unsigned int version;     /* CUSTOS_CUSTODY_RECEIPT_VERSION */
	uint64_t answers;         /* the released record's seq */
	const char *seal_state;   /* optional */
	const char *storage_location; /* where it is stored now, optional */
	const char *const *discrepancies; /* what differs from the release */
	size_t discrepancy_count;
	const char *const *hashes; /* "ALG:HEX" of the item, optional */
	size_t hash_count;
} custos_custody_receipt;

CUSTOS_EXTERN void custos_custody_receipt_init(custos_custody_receipt *r);

/*
 * Append a "received" record answering the released record rc->answers
 * ("answers": its seq and the SHA-256 of its line); ev's items and case
 * default to the release's.  CUSTOS_EINVAL when that record is not a
 * release.  As custos_custody_append otherwise.
 */
CUSTOS_EXTERN custos_status custos_custody_append_received(uint64_t *seq,
		char **root_b64, const char *dir, const custos_custody_event *ev,
		const custos_custody_receipt *rc,
		const custos_custody_actor_options *actor, custos_error *err);

/* The origin named in the log's genesis record (caller frees). */
CUSTOS_EXTERN custos_status custos_custody_origin(char **origin,
		const char *dir, custos_error *err);

/*
 * If the last line is torn (no LF), move it to quarantine/ and append a
 * "recovery" record signed by actor.  *recovered (may be NULL) is 1 then.
 */
CUSTOS_EXTERN custos_status custos_custody_recover(int *recovered,
		const char *dir, const custos_custody_actor_options *actor,
		custos_error *err);

/*
 * Sign checkpoints/N.note for the whole log with the Ed25519 key at
 * log_key_path, after checking the hash chain and that the latest existing
 * checkpoint is a prefix of the log.  With tsa_url, checkpoints/N.tsr too.
 * *note_path (may be NULL; caller frees) gets its path.
 */
CUSTOS_EXTERN custos_status custos_custody_checkpoint(char **note_path,
		const char *dir, const char *log_key_path, const char *tsa_url,
		custos_error *err);

#define CUSTOS_CUSTODY_VERIFY_OPTIONS_VERSION 1

typedef struct custos_custody_verify_options {
	unsigned int version;     /* CUSTOS_CUSTODY_VERIFY_OPTIONS_VERSION */
	/* Trusted CA files; none: keys/ca-*.pem as pinned in genesis. */
	const char *const *trust;
	size_t trust_count;
	/* More checkpoints to hold the log to (notes kept elsewhere). */
	const char *const *checkpoints;
	size_t checkpoint_count;
	/* A file holding the vkey the verifier trusts; NULL: keys/log.vkey. */
	const char *vkey_path;
	unsigned int threads;     /* 0: one per core */
} custos_custody_verify_options;

CUSTOS_EXTERN void custos_custody_verify_options_init(
		custos_custody_verify_options *opts);

typedef struct custos_custody_verification custos_custody_verification;

/*
 * Check the whole log: every line canonical with seq and prev in order,
 * every signature over its line's bytes by the certificate named in
 * "actor" with a chain to a trusted CA, every checkpoint signed by the log
 * key and matching the log (no truncation, no fork) and its time stamp
 * (checkpoints/N.tsr) when there is one, every "received" answering a
 * "released".  CUSTOS_OK when clean, CUSTOS_EMISMATCH when a
 * problem was found (*out lists them), other codes when the check could
 * not run (*out NULL).
 */
CUSTOS_EXTERN custos_status custos_custody_verify(
		custos_custody_verification **out, const char *dir,
		const custos_custody_verify_options *opts, custos_error *err);

CUSTOS_EXTERN uint64_t custos_custody_verification_records(
		const custos_custody_verification *v);
/* The tree head of the whole log, base64. */
CUSTOS_EXTERN const char *custos_custody_verification_root(
		const custos_custody_verification *v);
CUSTOS_EXTERN size_t custos_custody_verification_checkpoints(
		const custos_custody_verification *v);
CUSTOS_EXTERN size_t custos_custody_verification_problem_count(
		const custos_custody_verification *v);
/* The i-th problem, a full sentence (untrusted text escaped). */
CUSTOS_EXTERN const char *custos_custody_verification_problem(
		const custos_custody_verification *v, size_t i);
/* Notes that are not failures (an orphaned signature file, ...). */
CUSTOS_EXTERN size_t custos_custody_verification_note_count(
		const custos_custody_verification *v);
CUSTOS_EXTERN const char *custos_custody_verification_note(
		const custos_custody_verification *v, size_t i);
CUSTOS_EXTERN void custos_custody_verification_free(
		custos_custody_verification *v);

/*
 * A C2SP tlog-proof for record seq against checkpoints/N.note (the
 * smallest checkpoint covering seq, or checkpoint_path).  Its "extra" line
 * holds the record line, base64.  Caller frees *proof.
 */
CUSTOS_EXTERN custos_status custos_custody_prove_inclusion(char **proof,
		const char *dir, uint64_t seq, const char *checkpoint_path,
		custos_error *err);

/*
 * A consistency proof between the checkpoints of sizes from and to
 * (checkpoints/FROM.note and TO.note):
 *   "custos.consistency-proof@v1", the older note in base64, the path,
 *   a blank line and the newer note (see custos-log(5)).
 */
CUSTOS_EXTERN custos_status custos_custody_prove_consistency(char **proof,
		const char *dir, uint64_t from, uint64_t to, custos_error *err);

/*
 * Check a proof made by either function above with nothing but the log's
 * verifier key: the checkpoint note(s) inside must be signed by vkey, and
 * the audit or consistency path must lead to their tree heads (for an
 * inclusion proof, from the leaf hash of the record line carried in the
 * "extra" line, whose seq must be the index).  *summary (may be NULL;
 * caller frees) says what was proven.  CUSTOS_EMISMATCH when the proof
 * does not hold, CUSTOS_EFORMAT when it is not a proof.
 */
CUSTOS_EXTERN custos_status custos_custody_check_proof(char **summary,
		const char *proof, size_t len, const char *vkey,
		custos_error *err);

/*
 * The same for a proof and a verifier key in files: both must be regular
 * files (a FIFO or device is refused before any read, CUSTOS_EINVAL), and
 * the key file must hold exactly one key line (CUSTOS_EFORMAT).
 */
CUSTOS_EXTERN custos_status custos_custody_check_proof_file(char **summary,
		const char *proof_path, const char *vkey_path,
		custos_error *err);

/*
 * Save a proof under path, created exclusively: CUSTOS_EEXIST when
 * anything (a file, a symlink) is there already; nothing is followed,
 * replaced or left half-written.
 */
CUSTOS_EXTERN custos_status custos_custody_proof_save(const char *path,
		const char *proof, custos_error *err);

/*
 * The bytes of dir/log.jsonl, read under a shared lock (no append is seen
 * half-written); it must be a regular file.  *buf (caller frees) is
 * NUL-terminated.  For tools that list the records.
 */
CUSTOS_EXTERN custos_status custos_custody_read_log(char **buf,
		size_t *len, const char *dir, custos_error *err);

/*
 * Untrusted text (a record's field, a line that is not a record) made
 * safe to print: control bytes, bytes outside ASCII and backslashes
 * become \xNN, whole, so a character is never cut and nothing is dropped.
 * *out (caller frees) is NULL only when out of memory.
 */
CUSTOS_EXTERN custos_status custos_custody_safe_text(char **out,
		const char *text, size_t len);

#endif
