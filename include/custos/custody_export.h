/*
 * Custody records carried out of the log: metadata/custody.jsonl of a
 * bundle (custos-bundle(5), section CUSTODY).
 *
 * An export holds, for the evidence items it names, the genesis record,
 * every record whose "items" names one of them and every record a
 * received record among them answers: each record line as stored, its
 * detached CAdES signature, and its RFC 6962 inclusion proof against one
 * signed checkpoint of the sender's log, which the export carries too.
 * A receiver checks all of it with nothing but the file, the CA
 * certificates it trusts and, optionally, the log's verifier key it got
 * elsewhere: the checkpoint's signature, every proof, the hash chain where
 * records are consecutive, every signature and its chain.  Which records
 * were selected is stated by the header, which only the signature of the
 * bundle around the file vouches for.
 */
#ifndef CUSTOS_CUSTODY_EXPORT_H
#define CUSTOS_CUSTODY_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

/* The "format" of the header line. */
#define CUSTOS_CUSTODY_EXPORT_FORMAT "custos.custody-export@v1"
/* The largest export read or made: 256 MiB. */
#define CUSTOS_CUSTODY_EXPORT_MAX ((size_t)256 << 20)
/* The most records and items in one export. */
#define CUSTOS_CUSTODY_EXPORT_RECORDS_MAX 100000u
#define CUSTOS_CUSTODY_EXPORT_ITEMS_MAX 1024u

/*
 * The export of the log at log_dir for item_count evidence item IDs, into
 * *jsonl (NUL-terminated, *len bytes without the NUL; caller frees).
 * The log must verify first (custos_custody_verify with the CAs its
 * genesis pins; CUSTOS_EMISMATCH otherwise).  The export proves against
 * the latest checkpoint (checkpoints/N.note, largest N): CUSTOS_ENOTFOUND
 * when a record naming one of the items lies beyond it, or when there is
 * none ("run custos-log checkpoint"), and when no record names an item.
 * The result is checked with custos_custody_export_verify before it is
 * returned.
 */
CUSTOS_EXTERN custos_status custos_custody_export(char **jsonl, size_t *len,
		const char *log_dir, const char *const *items,
		size_t item_count, custos_error *err);

#define CUSTOS_CUSTODY_EXPORT_VERIFY_OPTIONS_VERSION 1

typedef struct custos_custody_export_verify_options {
	unsigned int version; /* CUSTOS_CUSTODY_EXPORT_VERIFY_OPTIONS_VERSION */
	/* PEM files of the CA certificates trusted for the records'
	 * signers.  None: the signatures cannot be checked, and the result
	 * is at best CUSTOS_CUSTODY_EXPORT_INCOMPLETE. */
	const char *const *trust;
	size_t trust_count;
	/* The log's verifier key as text ("name+keyid+base64"), as the
	 * verifier got it from elsewhere; NULL: the header's, which must
	 * still be the one the signed genesis record names. */
	const char *vkey;
} custos_custody_export_verify_options;

CUSTOS_EXTERN void custos_custody_export_verify_options_init(
		custos_custody_export_verify_options *opts);

/* The verdict; the values never change. */
typedef enum custos_custody_export_status {
	CUSTOS_CUSTODY_EXPORT_VERIFIED = 0,   /* every check passed */
	CUSTOS_CUSTODY_EXPORT_FAILED = 1,     /* a check failed */
	CUSTOS_CUSTODY_EXPORT_INCOMPLETE = 2, /* nothing failed; signatures
						 not checked (no trust) */
} custos_custody_export_status;

/* "verified", "failed", "incomplete". */
CUSTOS_EXTERN const char *custos_custody_export_status_name(
		custos_custody_export_status status);

typedef struct custos_custody_export_verification
	custos_custody_export_verification;

/*
 * Check an export (len bytes).  CUSTOS_OK when nothing failed (the status
 * is VERIFIED, or INCOMPLETE without trust anchors: look at it);
 * CUSTOS_EMISMATCH when a check failed (*out lists the problems);
 * CUSTOS_EFORMAT when the bytes are not a well-formed export (not
 * canonical JSON lines, a repeated key, a second header, records out of
 * order...; *out is NULL); other codes when the check could not run.
 */
CUSTOS_EXTERN custos_status custos_custody_export_verify(
		custos_custody_export_verification **out, const char *jsonl,
		size_t len, const custos_custody_export_verify_options *opts,
		custos_error *err);

CUSTOS_EXTERN custos_custody_export_status
custos_custody_export_verification_status(
		const custos_custody_export_verification *v);

/* The checkpoint proven against: origin, tree size, tree head (base64 as
 * in the note), the whole note, and the log key that signed it. */
CUSTOS_EXTERN const char *custos_custody_export_verification_origin(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN uint64_t custos_custody_export_verification_checkpoint_size(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN const char *custos_custody_export_verification_checkpoint_root(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN const char *custos_custody_export_verification_checkpoint(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN const char *custos_custody_export_verification_log_key(
		const custos_custody_export_verification *v);

/* The evidence item IDs the header says the export is for. */
CUSTOS_EXTERN size_t custos_custody_export_verification_item_count(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN const char *custos_custody_export_verification_item(
		const custos_custody_export_verification *v, size_t i);

/* The records, in log order.  Strings are as in the record (untrusted
 * text: escape it before printing); "" when the record lacks the field. */
CUSTOS_EXTERN size_t custos_custody_export_verification_record_count(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN uint64_t custos_custody_export_verification_record_seq(
		const custos_custody_export_verification *v, size_t i);
CUSTOS_EXTERN const char *custos_custody_export_verification_record_type(
		const custos_custody_export_verification *v, size_t i);
/* The record line's exact bytes with its LF, *len of them. */
CUSTOS_EXTERN const char *custos_custody_export_verification_record_line(
		const custos_custody_export_verification *v, size_t i,
		size_t *len);
CUSTOS_EXTERN size_t custos_custody_export_verification_record_item_count(
		const custos_custody_export_verification *v, size_t i);
CUSTOS_EXTERN const char *custos_custody_export_verification_record_item(
		const custos_custody_export_verification *v, size_t i,
		size_t k);
CUSTOS_EXTERN const char *custos_custody_export_verification_record_case(
		const custos_custody_export_verification *v, size_t i);
/* actor.name, and the subject of the certificate that signed. */
CUSTOS_EXTERN const char *custos_custody_export_verification_record_actor(
		const custos_custody_export_verification *v, size_t i);
CUSTOS_EXTERN const char *custos_custody_export_verification_record_signer(
		const custos_custody_export_verification *v, size_t i);
CUSTOS_EXTERN const char *
custos_custody_export_verification_record_event_time(
		const custos_custody_export_verification *v, size_t i);
CUSTOS_EXTERN const char *
custos_custody_export_verification_record_recorded_at(
		const custos_custody_export_verification *v, size_t i);
/* 1 if the header lists the record (else it was added to the file). */
CUSTOS_EXTERN int custos_custody_export_verification_record_listed(
		const custos_custody_export_verification *v, size_t i);
/* The record's first problem (a sentence), or NULL when it checked. */
CUSTOS_EXTERN const char *custos_custody_export_verification_record_problem(
		const custos_custody_export_verification *v, size_t i);

/* Every problem, records' and the export's (a dropped record, a bad
 * checkpoint), as sentences with untrusted text escaped. */
CUSTOS_EXTERN size_t custos_custody_export_verification_problem_count(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN const char *custos_custody_export_verification_problem(
		const custos_custody_export_verification *v, size_t i);
/* Remarks that are not failures (a record not listed in the header,
 * signatures not checked). */
CUSTOS_EXTERN size_t custos_custody_export_verification_note_count(
		const custos_custody_export_verification *v);
CUSTOS_EXTERN const char *custos_custody_export_verification_note(
		const custos_custody_export_verification *v, size_t i);

/* Accepts NULL. */
CUSTOS_EXTERN void custos_custody_export_verification_free(
		custos_custody_export_verification *v);

#endif
