/*
 * A bag as a pax tar, through libarchive (tarstream.c): the writer that
 * streams tag files and payload (hashed while written) into any sink, and
 * the readers that collect a tar's members into a custos__bag under the
 * member-name policy (no absolute paths, '..', links, devices, duplicates,
 * CR, LF or '%'), optionally extracting them while they are hashed.
 */
#ifndef CUSTOS_TARSTREAM_PRIVATE_H
#define CUSTOS_TARSTREAM_PRIVATE_H

#include <stdint.h>
#include <time.h>

#include "custos/error.h"
#include "bag_private.h"
#include "bundle_private.h"

/* Where the tar bytes go (for a bundle: the age writer). */
typedef custos_status (*custos__write_fn)(void *ctx, const void *data,
		size_t len, custos_error *err);

struct archive;

typedef struct custos__tar_writer {
	struct archive *a;
	custos__write_fn sink;
	void *sink_ctx;
	custos_error *err;
	custos_status st;          /* the first failure inside a callback */
	time_t now;                /* the tag files' mtime */
	custos__sbuf tagmanifest;  /* tagmanifest-sha512.txt, built as we go */
} custos__tar_writer;

/* Set err, now and tagmanifest.max first; then open the pax archive. */
custos_status custos__tar_writer_open(custos__tar_writer *w,
		custos__write_fn sink, void *sink_ctx);
/* A tag file id/rel from memory; its SHA-512 goes into the tag manifest
 * when in_tagmanifest. */
custos_status custos__tar_add_tag(custos__tar_writer *w, const char *id,
		const char *rel, const void *data, size_t len, int in_tagmanifest);
/* The regular file path as id/rel, hashed (SHA-256, SHA-512) while
 * written. */
custos_status custos__tar_add_payload(custos__tar_writer *w, const char *id,
		const char *path, const char *rel, char sha256[65],
		char sha512[129], uint64_t *size);
/* Write the end of the archive. */
custos_status custos__tar_writer_close(custos__tar_writer *w);
/* Accepts a writer never opened; frees the tag manifest too. */
void custos__tar_writer_free(custos__tar_writer *w);

/*
 * Collect the members of the tar open on fd (or of the tar stream rd
 * returns) into b, writing each into the folder open on b->extract_fd as
 * well when b->extracting.  When the input is no tar at all, *not_tar is set and CUSTOS_EFORMAT
 * returned with err left for the caller to fill; a failure of rd is
 * returned as rd reported it.
 */
custos_status custos__tar_read_fd(custos__bag *b, int fd, int *not_tar);
custos_status custos__tar_read_stream(custos__bag *b, custos__read_fn rd,
		void *ctx, int *not_tar);

#endif
