/*
 * What the verify_*.c files share: the result being built (checks and
 * facts), and the case found among the targets (reports with their images,
 * logs, bundles, receipts).  verify.c runs the workflow; each other file
 * owns one concern: verify_result.c the model and the verdict,
 * verify_output.c JSON and text, verify_discover.c what the targets are,
 * verify_media.c images, verify_report.c reports and their signatures,
 * verify_custody.c custody logs and each item's history, verify_bundle.c
 * bundles and receipts.
 */
#ifndef CUSTOS_VERIFY_PRIVATE_H
#define CUSTOS_VERIFY_PRIVATE_H

#include <stdarg.h>
#include <stdint.h>

#include <jansson.h>

#include "custos/custos.h"
#include "custos/lang.h"
#include "custos/verify.h"

/* Hard limits: targets of each kind (a case of 1,000 items is 2,000 reports
 * and images and its log), and the size of files read whole. */
#define CUSTOS__VERIFY_MAX_TARGETS 16384
#define CUSTOS__VERIFY_JSON_MAX (16u << 20)

struct custos_verify_check {
	char *id;
	char *subject;
	custos_verify_outcome outcome;
	int required;
	char *detail;
	char *expected;
	char *observed;
	/* The detail's template and its arguments as printed, for another
	 * language (verify_detail_lang.c); fmt NULL: English only. */
	const char *fmt;
	char **args;
	size_t nargs;
};

struct custos_verify_case {
	custos_verify_check *checks;
	size_t count, cap;
	json_t *targets;      /* [{"path", "kind"}] */
	json_t *items;        /* {"HD-01": {facts}} in the order found */
	json_t *reports;      /* [{facts about each report}] */
	json_t *logs;         /* [{facts about each log}] */
	json_t *bundles;      /* [{facts about each bundle}] */
	json_t *receipts;     /* [{facts about each receipt}] */
	json_t *profile;      /* the judged profile, or NULL */
	int profile_met;
	custos_verify_verdict verdict;
	char *reason;
	int oom;              /* an allocation failed while building */
};

/* ---- the case found among the targets ---- */

typedef struct verify_report {
	char *path;           /* BASE.report.json */
	char *dir;            /* its folder */
	json_t *json;         /* NULL when it did not parse */
	char sha256[65];      /* of its bytes, "" when unreadable */
	const char *item;     /* evidence number (borrowed from json) */
	const char *case_ref; /* case number (borrowed from json) */
	int image_ok;         /* media checks found nothing wrong */
	json_t *facts;        /* borrowed: its entry in result->reports */
} verify_report;

typedef struct verify_image {
	char *path;
	int claimed;          /* named by a report */
} verify_image;

/* One record of a log, parsed after custos_custody_verify vouched. */
typedef struct verify_record {
	uint64_t seq;
	json_t *json;
	char sha256[65];      /* of the line with its LF */
	int64_t event_time;   /* seconds, or INT64_MIN when unparsable */
} verify_record;

typedef struct verify_log {
	char *dir;
	int verified;         /* 1 clean, 0 problems, -1 could not run */
	verify_record *records;
	size_t record_count;
	json_t *facts;
} verify_log;

typedef struct verify_bundle {
	char *path;           /* transfer manifest, bag folder or bag tar */
	int verified;         /* 1 every layer checked and good */
	char bundle_id[CUSTOS_BUNDLE_ID_MAX];
	char transfer_manifest_sha256[65];
	json_t *request;      /* metadata/request.json, or NULL */
	json_t *evidence;     /* metadata/evidence.json, or NULL */
	char *sender_cert_sha256; /* transfer manifest or tag manifest signer */
	char *sender_subject;
	json_t *facts;
} verify_bundle;

typedef struct verify_receipt {
	char *path;
	json_t *facts;
} verify_receipt;

typedef struct verify_found {
	verify_report *reports;
	size_t report_count;
	verify_image *images;
	size_t image_count;
	verify_log *logs;
	size_t log_count;
	verify_bundle *bundles;
	size_t bundle_count;
	verify_receipt *receipts;
	size_t receipt_count;
	char **disclosures;   /* disclosure package folders */
	size_t disclosure_count;
} verify_found;

/* verify_result.c */
custos_status custos__verify_case_new(custos_verify_case **out);
/* Add a check; detail is printf-formatted.  expected/observed may be NULL.
 * Out of memory is remembered on r (r->oom). */
/* verify_detail_lang.c: keep c's detail template fmt and its arguments
 * (from ap, which is not used up); free them; the detail in lang (caller
 * frees) or NULL when only the English is there; the verdict's reason in
 * lang (caller frees; NULL on ENOMEM). */
void custos__verify_detail_keep(custos_verify_check *c, const char *fmt,
		va_list ap);
void custos__verify_detail_free(custos_verify_check *c);
char *custos__verify_detail_text(const custos_verify_check *c,
		const custos_lang *lang);
char *custos__verify_reason_text(const custos_verify_case *r,
		const custos_lang *lang);

void custos__verify_add(custos_verify_case *r, const char *id,
		const char *subject, custos_verify_outcome outcome,
		int required, const char *expected, const char *observed,
		const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* The facts object of an item (made on first use), or NULL (no memory). */
json_t *custos__verify_item(custos_verify_case *r, const char *item);
void custos__verify_decide(custos_verify_case *r);
/* The number of required checks, the first that failed and the first
 * not checked (NULL when none), in the checks' order. */
size_t custos__verify_required(const custos_verify_case *r,
		const custos_verify_check **failed,
		const custos_verify_check **unchecked);

/* verify_discover.c */
custos_status custos__verify_discover(verify_found *vc,
		custos_verify_case *r, const char *const *targets,
		size_t count, const char *const *logs, size_t log_count,
		custos_error *err);
void custos__verify_case_free(verify_found *vc);
/* Read a JSON file (at most CUSTOS__VERIFY_JSON_MAX, duplicate keys
 * refused) and its SHA-256; *json is NULL and why says why when it is not
 * JSON.  Returns an error only when the file cannot be read. */
custos_status custos__verify_read_json(json_t **json, char sha256[65],
		char *why, size_t why_cap, const char *path, custos_error *err);

/* verify_media.c */
custos_status custos__verify_media(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts, custos_error *err);

/* verify_blockmap.c: the block map a report carries. */
typedef struct verify_blockmap {
	int claimed;          /* the report has a block_map section */
	int signed_ok;        /* its report.signature passed */
	int used;             /* the media was read against the map */
	custos_blockmap_claim claim;
	custos_blockmap *map; /* NULL: none, missing or refused (a check
			       * says which) */
	char *path;
} verify_blockmap;

/* Load the report's claim and open the map beside it; adds a
 * media.blockmap.root check when it is malformed or missing. */
void custos__verify_blockmap_find(custos_verify_case *r,
		const verify_report *rep, const char *subject,
		verify_blockmap *bm);
void custos__verify_blockmap_free(verify_blockmap *bm);
/* Read img against bm->map (and digests, unless opts->blockmap_only) and
 * add the media.blockmap.* checks; out gets what custos_image_hash would
 * give.  Returns the read's status (CUSTOS_OK: read in full). */
custos_status custos__verify_blockmap_read(custos_verify_case *r,
		verify_blockmap *bm, const char *subject, custos_image *img,
		custos_digest_set digests, const custos_verify_options *opts,
		custos_image_hash_result *out, char *message,
		size_t message_cap);
/* 1 when media.blockmap.root and .blocks both passed for subject. */
int custos__verify_blockmap_proved(const custos_verify_case *r,
		const char *subject);

/* verify_disclose.c: disclosure packages (custos_disclose_verify). */
void custos__verify_disclosures(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts);

/* verify_report.c */
void custos__verify_reports(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts);
/* The role a certificate names (its title attribute), or NULL; caller
 * frees.  Shared with the bundle and receipt checks. */
char *custos__verify_cert_role(const custos_cert *c);
/* Facts about a signer: subject, common name, role, issuer, SHA-256. */
json_t *custos__verify_signer_json(const custos_cert *c);

/* verify_custody.c */
void custos__verify_custody(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts);

/* verify_bundle.c */
void custos__verify_bundles(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts);
void custos__verify_receipts(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts);

/* verify_profile.c */
custos_status custos__verify_profile_load(json_t **out, const char *path,
		custos_error *err);
void custos__verify_profile_judge(custos_verify_case *r, json_t *profile,
		const char *path);

/* Parse RFC 3339 "2026-11-28T16:02:46Z" (or with an offset) to seconds;
 * 0 on failure. */
int custos__verify_parse_time(const char *text, int64_t *out);
/* "3d 4h 5m 6s" */
void custos__verify_format_duration(char *out, size_t cap, int64_t seconds);

/* verify_court_facts.c: what a court report shows beyond the checks. */
void custos__verify_report_court_facts(json_t *facts, json_t *report);
void custos__verify_history_add(json_t *item_facts,
		const verify_record *rec);
void custos__verify_receipt_court_facts(json_t *facts, json_t *receipt);

#endif
