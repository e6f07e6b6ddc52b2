/*
 * Evidence bundles for cross-border transmission: a BagIt 1.0 bag
 * (RFC 8493) written as a pax tar through libarchive in one streaming pass,
 * its tag manifest signed (detached CAdES), encrypted with age to X25519
 * recipients and cut into parts, listed in a signed cleartext transfer
 * manifest.  Verification streams through parts, decryption and tar
 * without extracting, and also validates plain BagIt bags (folder or tar).
 *
 * Files written by custos_bundle_create for -o OUT:
 *   OUT.tar.age.000, .001, ...        the encrypted tar, in parts
 *   OUT.transfer-manifest.txt         parts, sizes, SHA-256, bundle id,
 *   OUT.transfer-manifest.txt.p7s     request references, recipients
 * See custos-bundle(1) and, for request.json, custos-bundle(5).
 */
#ifndef CUSTOS_BUNDLE_H
#define CUSTOS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "sign.h"

#define CUSTOS_BUNDLE_ID_MAX 96
/* request.json is read into memory up to this size. */
#define CUSTOS_BUNDLE_REQUEST_MAX (1024 * 1024)

/* Check a legal request (custos-bundle(5)) in memory: JSON with the
 * required fields instrument.name, measure (one of the listed values),
 * requesting_authority and requested_authority (name, 2-letter country)
 * and references.request.  CUSTOS_EFORMAT names the first problem. */
CUSTOS_EXTERN custos_status custos_bundle_request_check(const char *json,
		size_t len, custos_error *err);

/* 2 added custody_log and custody_items. */
#define CUSTOS_BUNDLE_CREATE_OPTIONS_VERSION 2

typedef struct custos_bundle_create_options {
	unsigned int version;            /* CUSTOS_BUNDLE_CREATE_OPTIONS_VERSION */
	const char *request_path;        /* request.json, required */
	const char *const *items;        /* regular files, stored under data/ */
	size_t item_count;
	const custos_sign_options *sign; /* the sending authority, required */
	const char *const *recipients;   /* age1... X25519 recipients */
	size_t recipient_count;
	uint64_t split_size;             /* bytes per part; 0: one part */
	const char *output;              /* OUT prefix, required */
	/* The custody log whose records for custody_items become
	 * metadata/custody.jsonl (custos_custody_export, made before
	 * anything is written: no covering checkpoint, no bundle); NULL:
	 * the bag has none. */
	const char *custody_log;
	const char *const *custody_items; /* evidence item IDs */
	size_t custody_item_count;
} custos_bundle_create_options;

CUSTOS_EXTERN void custos_bundle_create_options_init(
		custos_bundle_create_options *opts);

/* Write the bundle; the new bundle id goes to bundle_id.  Nothing is
 * overwritten (CUSTOS_EEXIST). */
CUSTOS_EXTERN custos_status custos_bundle_create(
		char bundle_id[CUSTOS_BUNDLE_ID_MAX],
		const custos_bundle_create_options *opts, custos_error *err);

#define CUSTOS_BUNDLE_VERIFY_OPTIONS_VERSION 1

typedef struct custos_bundle_verify_options {
	unsigned int version;            /* CUSTOS_BUNDLE_VERIFY_OPTIONS_VERSION */
	const char *const *identities;   /* AGE-SECRET-KEY-1... (encrypted) */
	size_t identity_count;
	const char *const *trust;        /* CA PEM files for the signatures */
	size_t trust_count;
} custos_bundle_verify_options;

CUSTOS_EXTERN void custos_bundle_verify_options_init(
		custos_bundle_verify_options *opts);

/* What a successful (or failed) verification saw. */
typedef struct custos_bundle_summary {
	char bundle_id[CUSTOS_BUNDLE_ID_MAX]; /* the bag's folder name */
	int encrypted;                   /* a transfer manifest was checked */
	unsigned int part_count;
	uint64_t payload_bytes;
	uint64_t payload_files;
	int tagmanifest_signed;          /* signature checked and good */
	char tagmanifest_sha512[129];    /* hex, "" when absent */
	char transfer_manifest_sha256[65]; /* hex, "" for plain bags */
	char request_reference[128];     /* from bag-info.txt, may be "" */
} custos_bundle_summary;

/*
 * Verify path: a transfer manifest (an encrypted bundle: needs identities
 * and trust), a bag folder, or a bag as a tar file.  CUSTOS_OK when every
 * check passed; CUSTOS_EMISMATCH or CUSTOS_EFORMAT with the reason in err
 * when one failed; other codes when the check could not run.  summary may
 * be NULL.
 */
CUSTOS_EXTERN custos_status custos_bundle_verify(
		custos_bundle_summary *summary, const char *path,
		const custos_bundle_verify_options *opts, custos_error *err);

/*
 * Verify path as custos_bundle_verify does, then, only if every check
 * passed, extract the bag into the new folder dest (dest/bagit.txt,
 * dest/data/...), checking everything again while writing.  Links,
 * devices and unsafe names are never written.  If the second pass fails,
 * dest is renamed to dest.UNVERIFIED.
 */
CUSTOS_EXTERN custos_status custos_bundle_open(
		custos_bundle_summary *summary, const char *path,
		const custos_bundle_verify_options *opts, const char *dest,
		custos_error *err);

/*
 * Append the sender's 'exported' record to the custody log in log_dir,
 * signed with sign's key and certificate: the evidence item IDs (items;
 * a path is cut to its file name; at most 64), the bundle id and the
 * SHA-256 of output's transfer manifest (OUT.transfer-manifest.txt).
 */
CUSTOS_EXTERN custos_status custos_bundle_log_exported(const char *log_dir,
		const char *bundle_id, const char *output,
		const char *const *items, size_t item_count,
		const custos_sign_options *sign, custos_error *err);

#define CUSTOS_BUNDLE_RECEIPT_OPTIONS_VERSION 1

/* What a receipt records about one verification (custos_bundle_verify). */
typedef struct custos_bundle_receipt_options {
	unsigned int version;            /* CUSTOS_BUNDLE_RECEIPT_OPTIONS_VERSION */
	const char *bundle;              /* the path verified, required */
	const custos_bundle_summary *summary; /* what it saw, required */
	const char *discrepancy;         /* why it failed; NULL: it passed */
	const char *received_at;         /* RFC 3339; NULL: now */
	const char *officer;             /* the receiving officer, required */
	const char *authority;           /* the receiving authority, required */
	const char *storage;             /* where the evidence is, required */
	const custos_sign_options *sign; /* the officer's key, required */
	const char *log;                 /* custody log folder, or NULL */
	const char *output;              /* RECEIPT.json, required */
} custos_bundle_receipt_options;

CUSTOS_EXTERN void custos_bundle_receipt_options_init(
		custos_bundle_receipt_options *opts);

/*
 * Write the receipt (JSON) to the new file output, sign it (output.p7s)
 * and, with log, append to that custody log a 'received' record naming
 * the bundle and its transfer manifest's SHA-256 (a plain bag: a
 * 'verified' record naming the bag).  A receipt is written for a bundle
 * that failed too, listing the discrepancy.  sha256 (may be NULL)
 * receives the receipt's SHA-256 in hex.
 */
CUSTOS_EXTERN custos_status custos_bundle_receipt_write(char sha256[65],
		const custos_bundle_receipt_options *opts, custos_error *err);

/*
 * Check the len bytes of a receipt (JSON, custos-bundle(5)) before
 * relying on it: one JSON object with no key repeated at any depth,
 * custos_receipt_version 1, the text fields present, "result" either
 * "verified" with no discrepancy or "not verified" with at least one.
 * CUSTOS_EFORMAT with the reason otherwise.  Its signature is checked
 * separately (custos_sign_verify_file on the receipt and its .p7s).
 */
CUSTOS_EXTERN custos_status custos_bundle_receipt_check(const char *json,
		size_t len, custos_error *err);

#endif
