/*
 * The encrypted side of a bundle (transfer.c): the age stream cut into
 * parts OUT.tar.age.NNN (each hashed while written), the cleartext signed
 * transfer manifest that lists them, and, for verification, that manifest
 * parsed, its parts checked against it and read back as one stream.
 */
#ifndef CUSTOS_TRANSFER_PRIVATE_H
#define CUSTOS_TRANSFER_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "custos/bundle.h"
#include "custos/sign.h"
#include "bag_private.h"
#include "bundle_private.h"

/* ---- writing ---- */

typedef struct custos__part_info {
	uint64_t size;
	char sha256[65];
} custos__part_info;

/* Start zeroed with fd -1; set final_base (OUT), stage (the private
 * folder the parts are made in), split (0: one part) and md. */
typedef struct custos__parts {
	const char *final_base;
	custos__staged *stage;
	uint64_t split;
	int fd;
	unsigned int count;
	uint64_t cur;
	EVP_MD_CTX *md;
	custos__part_info *list;
	size_t list_cap;
} custos__parts;

/* "base.tar.age.NNN" (caller frees), or NULL. */
char *custos__part_name(const char *base, unsigned int i);
custos_status custos__parts_open_next(custos__parts *p, custos_error *err);
/* Finish the current part: fsync, close, size and SHA-256. */
custos_status custos__parts_close(custos__parts *p, custos_error *err);
/* The age writer's sink: cuts the stream at split bytes. */
custos_status custos__parts_sink(void *ctx, const void *data, size_t len,
		custos_error *err);
void custos__parts_free(custos__parts *p);

/* What the transfer manifest names besides the parts. */
typedef struct custos__transfer_info {
	const char *bundle_id;
	const char *created;             /* RFC 3339 */
	const char *request_reference;   /* may be NULL */
	const char *case_reference;      /* may be NULL */
	const char *const *recipients;
	size_t recipient_count;
} custos__transfer_info;

/* Write OUT.transfer-manifest.txt and sign it (.p7s), both in the staging
 * folder, registered to be committed after the parts. */
custos_status custos__transfer_manifest_write(custos__staged *stage,
		const char *output, const custos__transfer_info *info,
		const custos__parts *p, const custos_sign_options *sign,
		custos_error *err);

/* ---- verifying ---- */

typedef struct custos__transfer_part {
	char *name;                 /* as the manifest gives it */
	char *path;
	uint64_t size;
	char sha256[65];
} custos__transfer_part;

typedef struct custos__transfer {
	char bundle_id[CUSTOS_BUNDLE_ID_MAX];
	unsigned long part_count;
	custos__transfer_part *parts;
	size_t n;
	unsigned int seen;          /* the header labels met so far */
	uint64_t total_size;
	char **recipients;          /* the Recipient lines, to refuse a repeat */
	size_t recipient_count;
	char *dir;                  /* the manifest's folder: parts are here */
} custos__transfer;

/*
 * Check the transfer manifest's signature (trust: CA files), then parse
 * it into t (zeroed first) and b->request_reference; sha256 receives the
 * manifest's SHA-256 in hex.  Free t with custos__transfer_free even on
 * failure.
 */
custos_status custos__transfer_open(custos__transfer *t, custos__bag *b,
		char sha256[65], const char *path, const char *const *trust,
		size_t trust_count);
/* The manifest's text (len bytes, NUL-terminated, changed in place) into
 * t (zeroed first): every line checked, a repeated header refused; parts
 * are looked for in dir.  Free t with custos__transfer_free. */
custos_status custos__transfer_parse(custos__transfer *t, custos__bag *b,
		char *text, size_t len, const char *dir);
/* Pass 1: each part's size and SHA-256, against the signed manifest. */
custos_status custos__transfer_check_parts(custos__bag *b,
		custos__transfer *t);
void custos__transfer_free(custos__transfer *t);

/* The parts, one after another, as an age source; start zeroed with fd
 * -1, free md after (each part is hashed again while read). */
typedef struct custos__parts_in {
	custos__transfer *t;
	size_t i;
	int fd;
	EVP_MD_CTX *md;
	uint64_t seen;
} custos__parts_in;

custos_status custos__parts_source(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err);

#endif
