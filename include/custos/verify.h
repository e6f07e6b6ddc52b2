/*
 * Verification of a case: one verdict over acquisition reports, images,
 * custody logs, bundles and receipts (custos-verify(1)).
 *
 * custos_verify_run() finds what the targets are and what belongs together
 * (a report's image files, .p7s and .sha256, the log record naming the
 * report's hash; a bundle's parts and receipt), runs every check it can,
 * and gives a result: a list of checks, each passed, failed or not checked
 * (with why), with a stable id, a subject, a detail and the expected and
 * observed values; the facts an admissibility profile needs (signers,
 * roles, timestamps, read-only sources, warrants, transfers, gaps, request
 * fields); and one verdict:
 *
 *   VERIFIED    every required check passed
 *   FAILED      a check failed
 *   INCOMPLETE  nothing failed, but a required check could not be made
 *               (a missing image, no trust anchor, no custody log ...)
 *
 * A result is never VERIFIED when a required check was not made.  Every
 * string a result returns is borrowed from it and is untrusted text (read
 * from evidence): escape it before printing it to a terminal.
 */
#ifndef CUSTOS_VERIFY_H
#define CUSTOS_VERIFY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "acquire.h"
#include "common.h"
#include "error.h"

/* Values never change. */
typedef enum custos_verify_verdict {
	CUSTOS_VERDICT_VERIFIED = 0,
	CUSTOS_VERDICT_FAILED = 1,
	CUSTOS_VERDICT_INCOMPLETE = 2,
} custos_verify_verdict;

typedef enum custos_verify_outcome {
	CUSTOS_CHECK_PASSED = 0,
	CUSTOS_CHECK_FAILED = 1,
	CUSTOS_CHECK_NOT_CHECKED = 2,
} custos_verify_outcome;

/* "VERIFIED", "FAILED", "INCOMPLETE". */
CUSTOS_EXTERN const char *custos_verify_verdict_name(custos_verify_verdict v);
/* "passed", "failed", "not-checked". */
CUSTOS_EXTERN const char *custos_verify_outcome_name(custos_verify_outcome o);

#define CUSTOS_VERIFY_OPTIONS_VERSION 1
/* No --max-gap: gaps are measured and reported, not judged. */
#define CUSTOS_VERIFY_NO_MAX_GAP INT64_C(-1)

typedef struct custos_verify_options {
	unsigned int version;          /* CUSTOS_VERIFY_OPTIONS_VERSION */
	/* Trusted CA certificates (PEM files) for every signature.  With
	 * none, chains are not checked and the verdict is INCOMPLETE. */
	const char *const *trust;
	size_t trust_count;
	/* age identities ("AGE-SECRET-KEY-1...") for encrypted bundles. */
	const char *const *identities;
	size_t identity_count;
	/* Custody logs to use besides those found among the targets. */
	const char *const *logs;
	size_t log_count;
	/* Longest allowed time between two custody records of an item, in
	 * seconds; CUSTOS_VERIFY_NO_MAX_GAP: not judged. */
	int64_t max_gap_seconds;
	custos_progress_fn progress;   /* while media is hashed */
	void *progress_ctx;
	const volatile sig_atomic_t *cancel;
	unsigned int workers;          /* E01 inflate threads; 0: one per core */
	/* An admissibility profile (custos-profile(5)) to judge the case
	 * against, or NULL.  A bad profile fails the run with CUSTOS_EINVAL
	 * naming the key, before anything is read. */
	const char *profile_path;
	/* With a block map the signed report's root proves (custos-verify(1)
	 * "Block maps"): check only the blocks, and leave the report's
	 * stream hashes (MD5, SHA-1, SHA-256) unrecomputed, reported as
	 * not checked and not required.  0: recompute them in the same
	 * pass. */
	int blockmap_only;
} custos_verify_options;

CUSTOS_EXTERN void custos_verify_options_init(custos_verify_options *opts);

/*
 * Parse a duration: "90" (seconds), "45s", "30m", "12h", "7d".  Returns
 * CUSTOS_EINVAL for anything else.
 */
CUSTOS_EXTERN custos_status custos_verify_parse_duration(int64_t *seconds,
		const char *text, custos_error *err);

typedef struct custos_verify_case custos_verify_case;
typedef struct custos_verify_check custos_verify_check;

/*
 * Verify the targets: acquisition reports (BASE.report.json), images
 * (E01, raw, split raw), custody log folders, bundles (transfer manifest,
 * bag folder, bag tar), receipts, or case folders holding any of these.
 *
 * Returns CUSTOS_OK when the verification ran (the verdict is in *out,
 * which the caller frees), else: CUSTOS_EINVAL for a target that is not
 * one of the above (a FIFO, a device, an unknown file), CUSTOS_ENOTFOUND
 * for a missing target, CUSTOS_ECANCELED, CUSTOS_ENOMEM, CUSTOS_EIO.
 * Broken evidence (a garbage report, a tampered log) is not an error: it
 * is a failed check.
 */
CUSTOS_EXTERN custos_status custos_verify_run(custos_verify_case **out,
		const char *const *targets, size_t count,
		const custos_verify_options *opts, custos_error *err);

CUSTOS_EXTERN custos_verify_verdict custos_verify_case_verdict(
		const custos_verify_case *r);
/* One sentence saying why (the first failed or unchecked required check). */
CUSTOS_EXTERN const char *custos_verify_case_reason(
		const custos_verify_case *r);

CUSTOS_EXTERN size_t custos_verify_case_check_count(
		const custos_verify_case *r);
/* Borrowed; NULL past the end. */
CUSTOS_EXTERN const custos_verify_check *custos_verify_case_check(
		const custos_verify_case *r, size_t index);
/* The first check with this id (and subject, unless NULL), or NULL. */
CUSTOS_EXTERN const custos_verify_check *custos_verify_case_find(
		const custos_verify_case *r, const char *id,
		const char *subject);

/* "media.hash.sha256", "report.signature", ... (custos-verify(1)). */
CUSTOS_EXTERN const char *custos_verify_check_id(const custos_verify_check *c);
/* What was checked: a file name, an item id, a log folder. */
CUSTOS_EXTERN const char *custos_verify_check_subject(
		const custos_verify_check *c);
CUSTOS_EXTERN custos_verify_outcome custos_verify_check_outcome(
		const custos_verify_check *c);
/* 1 if the verdict needs this check to pass; 0 for a check that only
 * informs (a timestamp the signature does not carry, a gap without
 * --max-gap). */
CUSTOS_EXTERN int custos_verify_check_required(const custos_verify_check *c);
/* One sentence: what was seen, or why it was not checked. */
CUSTOS_EXTERN const char *custos_verify_check_detail(
		const custos_verify_check *c);
/* The value expected and the one observed, or NULL. */
CUSTOS_EXTERN const char *custos_verify_check_expected(
		const custos_verify_check *c);
CUSTOS_EXTERN const char *custos_verify_check_observed(
		const custos_verify_check *c);

/*
 * The whole result as JSON (the schema of custos-verify(1) --json):
 * targets, cases, items with their facts, checks, verdict.  Caller frees.
 */
CUSTOS_EXTERN custos_status custos_verify_case_to_json(char **out,
		const custos_verify_case *r, custos_error *err);

/*
 * The result for a person: the case and items, then each check, then the
 * verdict; control characters in untrusted text are escaped.  quiet: the
 * verdict line only.  Caller frees.
 */
CUSTOS_EXTERN custos_status custos_verify_case_to_text(char **out,
		const custos_verify_case *r, int quiet, custos_error *err);

/*
 * With a profile: 1 if every requirement is met or not applicable, 0 if one
 * is not met; -1 without a profile.  The requirements, each with its
 * evidence, are in the JSON ("profile") and the text.  The profile never
 * changes the verdict.
 */
CUSTOS_EXTERN int custos_verify_case_profile_met(const custos_verify_case *r);

/* Accepts NULL. */
CUSTOS_EXTERN void custos_verify_case_free(custos_verify_case *r);

/* ---- in the reader's language (issue 12, custos/lang.h) ---- */

typedef struct custos_lang custos_lang;

/* custos_verify_case_to_text with its fixed words in lang (NULL:
 * English).  Check details stay as the checks wrote them. */
CUSTOS_EXTERN custos_status custos_verify_case_to_text_lang(char **out,
		const custos_verify_case *r, int quiet, const custos_lang *lang,
		custos_error *err);

#endif
