/*
 * Disclosure packages: part of a seized image, provably from it, and
 * nothing more.  From an image, its block map and its signed report,
 * custos_disclose_create copies only the blocks that hold the chosen byte
 * ranges or files (found by path or inode through The Sleuth Kit), each
 * with its RFC 6962 inclusion proof against the root the signed report
 * carries, plus the files' metadata and extents, the report and its
 * signature, and the custody record.  The package is a BagIt 1.0 bag
 * whose payload is flat, so custos-bundle can take its data/ files as
 * items.  custos_disclose_verify checks a package alone (format:
 * custos-disclose(1)).
 */
#ifndef CUSTOS_DISCLOSE_H
#define CUSTOS_DISCLOSE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "image.h"

#define CUSTOS_DISCLOSE_FORMAT 1
/* The most selections and covering blocks one package may hold. */
#define CUSTOS_DISCLOSE_MAX_ITEMS 4096
#define CUSTOS_DISCLOSE_MAX_BLOCKS (1u << 20)

typedef struct custos_disclose_range {
	uint64_t offset, length;
} custos_disclose_range;

typedef struct custos_disclose_options {
	int version;                       /* CUSTOS_DISCLOSE_OPTIONS_VERSION */
	const char *const *image_paths;    /* as for custos_image_open */
	size_t image_count;
	const char *blockmap_path;         /* required */
	const char *report_path;           /* required; <report>.p7s beside
					    * it goes in too */
	const char *custody_record_path;   /* the acquired record, or NULL */
	const custos_disclose_range *ranges;
	size_t range_count;
	const char *const *paths;          /* files by path, "/dir/name" */
	size_t path_count;
	const uint64_t *inodes;            /* files by inode */
	size_t inode_count;
	const char *output;                /* the package folder (new) */
} custos_disclose_options;
#define CUSTOS_DISCLOSE_OPTIONS_VERSION 1

CUSTOS_EXTERN void custos_disclose_options_init(custos_disclose_options *o);

typedef struct custos_disclose_summary {
	uint64_t blocks;          /* covering blocks in the package */
	uint64_t block_bytes;     /* their bytes */
	uint64_t requested_bytes; /* bytes asked for (files and ranges) */
	uint64_t files, ranges;
	size_t longest_proof;     /* hashes in the longest proof */
} custos_disclose_summary;

/*
 * Write the package folder output (it must not exist; it is made private
 * as output.part and renamed at the end).  The map must match the
 * report's root and every covering block must match the map: a package is
 * never made from a damaged image (CUSTOS_EMISMATCH).
 */
CUSTOS_EXTERN custos_status custos_disclose_create(
		const custos_disclose_options *o,
		custos_disclose_summary *summary, custos_error *err);

typedef struct custos_disclose_verify_options {
	int version;              /* CUSTOS_DISCLOSE_VERIFY_OPTIONS_VERSION */
	const char *const *trust; /* CA PEM files for the report's signer */
	size_t trust_count;
	int allow_unsigned;       /* accept a report without a signature */
} custos_disclose_verify_options;
#define CUSTOS_DISCLOSE_VERIFY_OPTIONS_VERSION 1

CUSTOS_EXTERN void custos_disclose_verify_options_init(
		custos_disclose_verify_options *o);

typedef struct custos_disclose_verify_result {
	int bag_checked;          /* the BagIt manifests were checked */
	int signature_ok;         /* the report's signature was good */
	int custody_record_ok;    /* -1 none, 0 does not name the report, 1 */
	char root[65];            /* the signed root the blocks prove to */
	uint64_t blocks_checked, files_checked, ranges_checked;
	char signer[256];
	/* On failure, the part that failed (the checks before it passed):
	 * "report", "signature", "custody", "blocks", "files", "extra",
	 * "bag"; "" on success. */
	char failed_part[16];
} custos_disclose_verify_result;

/*
 * Check a package folder (or the folder holding its disclosure.json, as
 * custos-bundle open leaves it): the bag's manifests; the report, its
 * signature and that it carries the root; every block against the root
 * through its proof; every file reassembled from its extents and hashed;
 * that nothing else is in it.  CUSTOS_EMISMATCH names the first failure
 * (the block and the files it holds), CUSTOS_EFORMAT a malformed package.
 */
CUSTOS_EXTERN custos_status custos_disclose_verify(const char *package,
		const custos_disclose_verify_options *o,
		custos_disclose_verify_result *result, custos_error *err);

/* The files (through The Sleuth Kit) whose content lies in media bytes
 * [offset, offset + length): fn gets each with the part it touches. */
typedef void (*custos_disclose_file_fn)(void *ctx, const char *path,
		uint64_t inode, uint64_t offset, uint64_t length);
CUSTOS_EXTERN custos_status custos_disclose_files_in_range(custos_image *img,
		uint64_t offset, uint64_t length, custos_disclose_file_fn fn,
		void *ctx, custos_error *err);

#endif
