/*
 * Reading evidence images as one media stream: a raw image, a split raw
 * image (.001, .002 ...) or an E01 (with its segments, from any tool that
 * writes EnCase formats).  custos_image_hash reads the whole medium once,
 * hashing on parallel threads; for an E01 it also checks every chunk's
 * checksum and the hashes stored inside the image.
 */
#ifndef CUSTOS_IMAGE_H
#define CUSTOS_IMAGE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "acquire.h"
#include "common.h"
#include "digest.h"
#include "error.h"

typedef struct custos_image custos_image;

/* How to read an image's files. */
typedef enum custos_image_kind {
	CUSTOS_IMAGE_AUTO = 0, /* E01 when intact, raw only when unambiguous */
	CUSTOS_IMAGE_RAW = 1,  /* the files' bytes, whatever they hold */
	CUSTOS_IMAGE_E01 = 2,  /* an intact E01, else CUSTOS_EMISMATCH */
} custos_image_kind;

/*
 * Open an image.  A first file with the EWF signature is an E01, whose
 * other segments are found with it; one path ending in .001 finds .002,
 * .003 ...; several paths are read one after another as raw.
 *
 * A damaged E01 is never read as raw media: with CUSTOS_IMAGE_AUTO, a file
 * whose first bytes are close to an EWF-family signature (broken, or
 * truncated inside it), or that bears an EWF segment name (.E01, .Ex01,
 * .s01, .L01, .Lx01, any number) without the signature, is refused with
 * CUSTOS_EMISMATCH; CUSTOS_IMAGE_RAW reads it as raw.  A truncated or
 * damaged E01 with an intact signature is CUSTOS_EMISMATCH or
 * CUSTOS_EFORMAT.  Inputs must be regular files (CUSTOS_EINVAL for a
 * FIFO or device, before anything is read).
 */
CUSTOS_EXTERN custos_status custos_image_open_as(custos_image **out,
		const char *const *paths, size_t count, custos_image_kind kind,
		custos_error *err);
/* custos_image_open_as with CUSTOS_IMAGE_AUTO. */
CUSTOS_EXTERN custos_status custos_image_open(custos_image **out,
		const char *const *paths, size_t count, custos_error *err);
CUSTOS_EXTERN custos_image_format custos_image_get_format(
		const custos_image *img);
CUSTOS_EXTERN uint64_t custos_image_media_size(const custos_image *img);
CUSTOS_EXTERN size_t custos_image_file_count(const custos_image *img);
/* Borrowed. */
CUSTOS_EXTERN const char *custos_image_file(const custos_image *img,
		size_t index);
/* E01 only: the MD5 or SHA-1 stored in the image (hex), else NULL. */
CUSTOS_EXTERN const char *custos_image_stored_digest(const custos_image *img,
		custos_digest_alg alg);
/* E01 only: a header value such as "case_number", else NULL.  Borrowed
 * until the next call; the text is as stored (untrusted). */
CUSTOS_EXTERN const char *custos_image_header(custos_image *img,
		const char *identifier);

typedef struct custos_image_hash_options {
	int version;                 /* CUSTOS_IMAGE_HASH_OPTIONS_VERSION */
	custos_digest_set digests;   /* 0: md5, sha1, sha256 */
	unsigned int workers;        /* inflate threads; 0: one per core */
	custos_progress_fn progress; /* phase CUSTOS_PHASE_VERIFY */
	void *progress_ctx;
	const volatile sig_atomic_t *cancel;
} custos_image_hash_options;
#define CUSTOS_IMAGE_HASH_OPTIONS_VERSION 1

typedef struct custos_image_hash_result {
	uint64_t bytes;              /* media bytes read */
	char digest[CUSTOS_DIGEST_COUNT][CUSTOS_DIGEST_HEX_MAX]; /* "" if not computed */
	uint64_t chunks_checked;     /* E01 */
	int corrupt;                 /* E01: a chunk failed its check */
	uint64_t corrupt_chunk;      /* its index */
	uint64_t corrupt_offset;     /* its media offset in bytes */
	/* E01: 1 match, 0 differ, -1 nothing stored (or SHA-1 not asked for) */
	int stored_md5_match;
	int stored_sha1_match;
} custos_image_hash_result;

CUSTOS_EXTERN void custos_image_hash_options_init(
		custos_image_hash_options *opts);

/*
 * Read and hash the whole medium.  Returns CUSTOS_OK when it was read in
 * full and every check passed; CUSTOS_EMISMATCH when a chunk is corrupt
 * (reading stops there and err names the chunk and its offset) or a stored
 * hash differs; another code when the image cannot be read.  For an E01,
 * MD5 is always computed so the stored MD5 is checked; the stored SHA-1 is
 * checked when SHA-1 is among the digests (stored_sha1_match is -1 when
 * it was not checked).
 */
CUSTOS_EXTERN custos_status custos_image_hash(custos_image *img,
		const custos_image_hash_options *opts,
		custos_image_hash_result *result, custos_error *err);

/*
 * Random access: len media bytes at offset (an E01 through libewf, which
 * checks the chunks it reads).  One caller at a time per image.
 */
CUSTOS_EXTERN custos_status custos_image_read(custos_image *img, void *buf,
		size_t len, uint64_t offset, custos_error *err);

CUSTOS_EXTERN void custos_image_free(custos_image *img);

#endif
