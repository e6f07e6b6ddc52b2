/*
 * C2SP signed notes with Ed25519 keys, and C2SP tlog-checkpoint bodies.
 *
 * A signed note is a text (UTF-8, every line ending in LF), a blank line,
 * and signature lines "— <key name> <base64(key id || signature)>".  The
 * key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public
 * key), and the signature is Ed25519 over the text's exact bytes, so
 *   openssl pkeyutl -verify -pubin -inkey log.pub.pem -rawin -in text \
 *       -sigfile sig.bin
 * checks it.  A verifier key ("vkey") is "<name>+<key id hex>+<base64(0x01
 * || public key)>".
 *
 * A checkpoint is the text "<origin>\n<tree size>\n<base64 root>\n".
 */
#ifndef CUSTOS_NOTE_H
#define CUSTOS_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "merkle.h"

/* The largest note read or made, and the longest key name. */
#define CUSTOS_NOTE_MAX (64u << 10)
#define CUSTOS_NOTE_NAME_MAX 256

/*
 * Make an Ed25519 key and write it to key_path (PKCS#8 PEM, mode 0600;
 * CUSTOS_EEXIST if it exists).  *vkey gets the verifier key and, when
 * pub_pem is not NULL, *pub_pem the public key as PEM.  Caller frees both.
 */
CUSTOS_EXTERN custos_status custos_note_keygen(char **vkey, char **pub_pem,
		const char *name, const char *key_path, custos_error *err);

/* The verifier key of the private key at key_path, under name. */
CUSTOS_EXTERN custos_status custos_note_vkey_of(char **vkey,
		const char *name, const char *key_path, custos_error *err);

/* The public key of a vkey as PEM (for openssl pkeyutl). */
CUSTOS_EXTERN custos_status custos_note_vkey_pem(char **pem,
		const char *vkey, custos_error *err);

/* Check that a vkey is well formed; its name is copied into name. */
CUSTOS_EXTERN custos_status custos_note_vkey_parse(const char *vkey,
		char name[CUSTOS_NOTE_NAME_MAX], custos_error *err);

/*
 * Sign text (len bytes, non-empty, ending in LF, no blank line) with the
 * Ed25519 key at key_path under name: *note is text, a blank line and the
 * signature line, NUL-terminated.  Caller frees.
 */
CUSTOS_EXTERN custos_status custos_note_sign(char **note, const char *text,
		size_t len, const char *name, const char *key_path,
		custos_error *err);

/*
 * Check that the note carries a valid signature by vkey.  CUSTOS_OK and
 * *text_len (the length of the signed text at the start of note) when it
 * does; CUSTOS_EMISMATCH when no line verifies under this key (a wrong key
 * or a forged note), or when ANY line by this key (its name and key id)
 * fails, even beside a good one; CUSTOS_EFORMAT when it is not a signed
 * note: not UTF-8, a control character, a malformed signature line, the
 * same line twice, two different good lines by this key, or more than 64
 * signatures.  Lines by other keys are ignored (C2SP).  Key names, here
 * and when a key is made, must be UTF-8 without Unicode spaces, '+' or
 * controls (else CUSTOS_EINVAL from custos_note_keygen and _sign).
 */
CUSTOS_EXTERN custos_status custos_note_verify(size_t *text_len,
		const char *note, size_t len, const char *vkey,
		custos_error *err);

/* "<origin>\n<size>\n<base64 root>\n"; caller frees. */
CUSTOS_EXTERN custos_status custos_note_checkpoint_text(char **text,
		const char *origin, uint64_t size, const custos_merkle_hash root,
		custos_error *err);

/* Parse a checkpoint text (the first three lines; further lines are
 * extension lines and ignored).  *origin is allocated; caller frees. */
CUSTOS_EXTERN custos_status custos_note_checkpoint_parse(char **origin,
		uint64_t *size, custos_merkle_hash root, const char *text,
		size_t len, custos_error *err);

#endif
