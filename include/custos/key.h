/*
 * Identities: a private key with a self-signed certificate or a certificate
 * signing request (CSR) for a lab CA.
 *
 * Keys are ECDSA P-256 (the default), P-384 or P-521, RSA-3072 (custos
 * signs with it using RSASSA-PSS) or Ed25519.  An ECDSA certificate is
 * self-signed with its curve's digest (SHA-256, SHA-384, SHA-512).
 * Ed25519 suits custody-log keys, but cannot make CMS signatures
 * (custos_sign_file refuses it; OpenSSL cannot check them).  The key is
 * written as PKCS#8 PEM with mode 0600, encrypted (AES-256-CBC, PBKDF2)
 * when a passphrase is given.  The subject holds name (CN), organisation
 * (O), unit (OU), country (C) and role (title), and the key usage is digitalSignature,nonRepudiation (critical).
 *
 * The library never prints or logs key material, and cleanses the buffers
 * that held it.  Passphrases are the caller's: custos reads none itself.
 */
#ifndef CUSTOS_KEY_H
#define CUSTOS_KEY_H

#include <stddef.h>

#include "common.h"
#include "error.h"

typedef enum custos_key_type {
	CUSTOS_KEY_ECDSA_P256 = 0,
	CUSTOS_KEY_RSA_3072 = 1,
	CUSTOS_KEY_ED25519 = 2,
	CUSTOS_KEY_ECDSA_P384 = 3,
	CUSTOS_KEY_ECDSA_P521 = 4,
} custos_key_type;

/* "ecdsa-p256", "rsa-3072", "ed25519", "ecdsa-p384", "ecdsa-p521"; NULL
 * for an unknown value. */
CUSTOS_EXTERN const char *custos_key_type_name(custos_key_type type);
/* Parse one of those names (also "ec", "p256", "p384", "p521", "rsa",
 * "rsa3072"). */
CUSTOS_EXTERN custos_status custos_key_type_parse(custos_key_type *out,
		const char *name, custos_error *err);

/*
 * Asks for the passphrase of an encrypted key, only when one is needed.
 * Writes it (not NUL-terminated) into buf and returns its length, or -1 to
 * give up.  custos cleanses buf afterwards.
 */
typedef int (*custos_passphrase_fn)(char *buf, size_t capacity, void *ctx);

#define CUSTOS_KEY_OPTIONS_VERSION 1
#define CUSTOS_KEY_DEFAULT_DAYS 730

typedef struct custos_key_options {
	unsigned int version;         /* CUSTOS_KEY_OPTIONS_VERSION */
	custos_key_type type;         /* default CUSTOS_KEY_ECDSA_P256 */
	const char *name;             /* CN, required */
	const char *organization;     /* O, optional */
	const char *unit;             /* OU, optional */
	const char *country;          /* C, two letters, optional */
	const char *role;             /* title, e.g. "Forensic Examiner" */
	int csr;                      /* 1: write a CSR, not a certificate */
	unsigned int days;            /* self-signed validity (default 730) */
	/* Encrypt the key with this passphrase (passphrase_len bytes);
	 * NULL writes it unencrypted.  The caller cleanses its copy. */
	const char *passphrase;
	size_t passphrase_len;
} custos_key_options;

CUSTOS_EXTERN void custos_key_options_init(custos_key_options *opts);

/*
 * Make a key and write it to key_path (mode 0600), and a self-signed
 * certificate or (opts->csr) a CSR to cert_path, both PEM.  Refuses
 * (CUSTOS_EEXIST) when either exists; on failure neither is left behind.
 */
CUSTOS_EXTERN custos_status custos_key_new(const char *key_path,
		const char *cert_path, const custos_key_options *opts,
		custos_error *err);

#endif
