/*
 * age v1 file encryption (C2SP age, https://age-encryption.org/v1) with
 * X25519 recipients, on OpenSSL primitives.
 *
 * Keys use age's own text forms, so the `age` and `age-keygen` tools can use
 * them: recipients are bech32 "age1..." strings and identities are
 * "AGE-SECRET-KEY-1..." strings (identity files may hold comments).
 *
 * Encryption and decryption stream the payload in 64 KiB chunks in constant
 * memory.  The writer pushes ciphertext into a sink callback; the reader
 * pulls ciphertext from a source callback.  Both fit libarchive's
 * archive_write_open / archive_read_open callbacks.
 *
 * Decryption outcomes: custos_age_reader_new returns CUSTOS_EFORMAT for a
 * malformed header, CUSTOS_ENOTFOUND when no identity matches a recipient
 * stanza, and CUSTOS_EMISMATCH when the header MAC fails.
 * custos_age_reader_read returns CUSTOS_EMISMATCH (tampered or truncated
 * payload) or CUSTOS_EFORMAT (malformed payload), never silent short data.
 */
#ifndef CUSTOS_AGE_H
#define CUSTOS_AGE_H

#include <stddef.h>

#include "common.h"
#include "error.h"

/* Capacities, with the terminating NUL, of the text forms. */
#define CUSTOS_AGE_RECIPIENT_MAX 96
#define CUSTOS_AGE_IDENTITY_MAX 96
/* Plaintext bytes per STREAM chunk. */
#define CUSTOS_AGE_CHUNK_SIZE 65536

/* Receives len bytes of ciphertext; returns CUSTOS_OK or a failure. */
typedef custos_status (*custos_age_sink)(void *ctx, const void *data,
		size_t len, custos_error *err);
/* Fills up to cap bytes of ciphertext, *got = 0 at end of input. */
typedef custos_status (*custos_age_source)(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err);

typedef struct custos_age_writer custos_age_writer;
typedef struct custos_age_reader custos_age_reader;

/* Make a new X25519 identity and its recipient.  The caller should wipe
 * identity (OPENSSL_cleanse) when done. */
CUSTOS_EXTERN custos_status custos_age_keygen(
		char identity[CUSTOS_AGE_IDENTITY_MAX],
		char recipient[CUSTOS_AGE_RECIPIENT_MAX], custos_error *err);

/* The recipient ("age1...") of an identity ("AGE-SECRET-KEY-1..."). */
CUSTOS_EXTERN custos_status custos_age_identity_to_recipient(
		char recipient[CUSTOS_AGE_RECIPIENT_MAX], const char *identity,
		custos_error *err);

/* Check a recipient string; CUSTOS_EFORMAT when it is not a valid
 * "age1..." X25519 recipient. */
CUSTOS_EXTERN custos_status custos_age_recipient_check(const char *recipient,
		custos_error *err);

/* Hex SHA-256 of the recipient's 32-byte X25519 public key (65 bytes with
 * NUL), to name the key in cleartext manifests. */
CUSTOS_EXTERN custos_status custos_age_recipient_fingerprint(char out[65],
		const char *recipient, custos_error *err);

/*
 * Read every identity of an age identity file, as `age -d -i` does: "#"
 * comments and blank lines are skipped, every other line must be an
 * AGE-SECRET-KEY-1... identity (else CUSTOS_EFORMAT naming the line).
 * Pass them all to custos_age_reader_new: any one that matches a
 * recipient stanza decrypts.  The file must be a regular file
 * (CUSTOS_EINVAL for a FIFO or device).  *out holds *count strings; free
 * it with custos_age_identities_free, which wipes them.
 */
CUSTOS_EXTERN custos_status custos_age_identity_file_read_all(char ***out,
		size_t *count, const char *path, custos_error *err);
/* Accepts NULL. */
CUSTOS_EXTERN void custos_age_identities_free(char **ids, size_t count);

/* Only the first identity of such a file (the file is checked whole).
 * A file may hold several: prefer custos_age_identity_file_read_all. */
CUSTOS_EXTERN custos_status custos_age_identity_file_read(
		char identity[CUSTOS_AGE_IDENTITY_MAX], const char *path,
		custos_error *err);
/* Make a new X25519 identity and write it to the new file path (mode
 * 0600, never over an existing file) as age-keygen does: a comment line
 * with the public key, then the AGE-SECRET-KEY-1... line.  recipient
 * receives the age1... public key. */
CUSTOS_EXTERN custos_status custos_age_identity_file_write(
		char recipient[CUSTOS_AGE_RECIPIENT_MAX], const char *path,
		custos_error *err);

/* Start an encryption to count recipients; the header is written to the
 * sink at once. */
CUSTOS_EXTERN custos_status custos_age_writer_new(custos_age_writer **out,
		const char *const *recipients, size_t count, custos_age_sink sink,
		void *sink_ctx, custos_error *err);
CUSTOS_EXTERN custos_status custos_age_writer_write(custos_age_writer *w,
		const void *data, size_t len, custos_error *err);
/* Write the final chunk.  Without it the output is a truncated stream that
 * every age implementation refuses. */
CUSTOS_EXTERN custos_status custos_age_writer_finish(custos_age_writer *w,
		custos_error *err);
/* Accepts NULL; wipes the keys. */
CUSTOS_EXTERN void custos_age_writer_free(custos_age_writer *w);

/* Read and check the header and the payload nonce with the given
 * identities. */
CUSTOS_EXTERN custos_status custos_age_reader_new(custos_age_reader **out,
		const char *const *identities, size_t count,
		custos_age_source source, void *source_ctx, custos_error *err);
/* Up to cap bytes of authenticated plaintext; *got = 0 only at the end of
 * a complete, authenticated stream. */
CUSTOS_EXTERN custos_status custos_age_reader_read(custos_age_reader *r,
		void *buf, size_t cap, size_t *got, custos_error *err);
/* Accepts NULL; wipes the keys. */
CUSTOS_EXTERN void custos_age_reader_free(custos_age_reader *r);

#endif
