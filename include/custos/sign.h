/*
 * Detached CMS signatures in CAdES form, and their verification.
 *
 * custos_sign_file() writes <file>.p7s beside a file: a DER CMS SignedData
 * without the content (CMS_DETACHED|CMS_BINARY|CMS_CADES), with the signing
 * time and the ESS signing-certificate-v2 attribute signed: CAdES-B-B.
 * With a TSA URL, an RFC 3161 token over the signature value is added as
 * the unsigned attribute id-aa-signatureTimeStampToken: CAdES-B-T.
 *
 * Anyone can check the result without custos:
 *   openssl cms -verify -binary -inform DER -in F.p7s -content F -CAfile CA.pem
 *
 * custos_sign_verify_file() checks <file>.p7s and, when present, <file>.tsr
 * (see timestamp.h), and says which check failed.
 */
#ifndef CUSTOS_SIGN_H
#define CUSTOS_SIGN_H

#include <stddef.h>

#include "cert.h"
#include "common.h"
#include "digest.h"
#include "error.h"
#include "key.h"
#include "timestamp.h"

/*
 * The message digest of a signature.  ECDSA keys sign with their curve's
 * own digest, as RFC 5753 (and RFC 5480) pair them: P-256 with SHA-256,
 * P-384 with SHA-384, P-521 with SHA-512; asking for another one is
 * refused, since a verifier following those pairings would reject the
 * signature.  RSA-PSS keys take any of the three (SHA-256 by default; the
 * MGF1 digest and the salt length follow it).  The values never change
 * and differ from custos_digest_alg's, so one cannot pass for the other.
 */
typedef enum custos_sign_digest {
	CUSTOS_SIGN_DIGEST_AUTO = 0,     /* the key's own (see above) */
	CUSTOS_SIGN_DIGEST_SHA256 = 256,
	CUSTOS_SIGN_DIGEST_SHA384 = 384,
	CUSTOS_SIGN_DIGEST_SHA512 = 512,
} custos_sign_digest;

/* "auto", "sha256", "sha384", "sha512"; NULL for an unknown value. */
CUSTOS_EXTERN const char *custos_sign_digest_name(custos_sign_digest d);
/* Parse one of those names (CUSTOS_EINVAL otherwise). */
CUSTOS_EXTERN custos_status custos_sign_digest_parse(custos_sign_digest *out,
		const char *name, custos_error *err);

#define CUSTOS_SIGN_OPTIONS_VERSION 2

typedef struct custos_sign_options {
	unsigned int version;      /* CUSTOS_SIGN_OPTIONS_VERSION */
	const char *key_path;      /* PEM private key, required */
	const char *cert_path;     /* the signer's certificate (PEM/DER), required */
	const char *chain_path;    /* PEM intermediates to include, optional */
	/* Called when the key is encrypted; NULL: an encrypted key fails. */
	custos_passphrase_fn passphrase;
	void *passphrase_ctx;
	/* Message digest: CUSTOS_SIGN_DIGEST_AUTO (default), the key's own;
	 * an ECDSA key refuses any other than its curve's. */
	custos_sign_digest digest;
	const char *tsa_url;       /* http(s) RFC 3161 TSA: CAdES-B-T; NULL: B-B */
	unsigned int tsa_timeout;  /* seconds (default 30) */
} custos_sign_options;

CUSTOS_EXTERN void custos_sign_options_init(custos_sign_options *opts);

/*
 * Sign the file at path and write <path>.p7s (write to .part, fsync,
 * rename).  Refuses (CUSTOS_EEXIST) when <path>.p7s exists.  The
 * certificate must match the key, be valid now and allow signing, else
 * CUSTOS_EINVAL, as is a digest that contradicts the key (see
 * custos_sign_digest).  The key is ECDSA (P-256, P-384 or P-521) or RSA
 * (signing with RSASSA-PSS);
 * Ed25519 is refused (CUSTOS_EINVAL), because OpenSSL's CMS can neither
 * make nor check EdDSA signatures.  A TSA failure is CUSTOS_EIO (unreachable, refused,
 * timed out) or CUSTOS_EFORMAT (a bad answer); nothing is written then.
 */
CUSTOS_EXTERN custos_status custos_sign_file(const char *path,
		const custos_sign_options *opts, custos_error *err);

/* The same, writing the signature to p7s_path. */
CUSTOS_EXTERN custos_status custos_sign_file_to(const char *path,
		const char *p7s_path, const custos_sign_options *opts,
		custos_error *err);

/* The same over len bytes in memory (a custody-log line), writing the
 * detached signature to p7s_path. */
CUSTOS_EXTERN custos_status custos_sign_buffer_to(const void *data,
		size_t len, const char *p7s_path,
		const custos_sign_options *opts, custos_error *err);

#define CUSTOS_SIGN_VERIFY_OPTIONS_VERSION 1

typedef struct custos_sign_verify_options {
	unsigned int version;      /* CUSTOS_SIGN_VERIFY_OPTIONS_VERSION */
	/* PEM files of trusted CA certificates (signers' and TSAs'); with
	 * none, the system's default trust store is used. */
	const char *const *trust;
	size_t trust_count;
	/* NULL: <path>.p7s and <path>.tsr, each checked when present. */
	const char *signature_path;
	const char *timestamp_path;
} custos_sign_verify_options;

CUSTOS_EXTERN void custos_sign_verify_options_init(
		custos_sign_verify_options *opts);

typedef struct custos_sign_verification custos_sign_verification;

/*
 * Check the signature and timestamps of the file at path.  Returns
 * CUSTOS_OK when every check passed, CUSTOS_EMISMATCH when one failed
 * (*out then says which and why), or another code when the check could
 * not run (the file is missing: CUSTOS_ENOTFOUND; *out is then NULL).
 *
 * The signer's chain is checked at the time of a valid signature time
 * stamp if there is one (so a B-T signature stays valid after the
 * certificate expires), else now.  Revocation is not checked.
 */
CUSTOS_EXTERN custos_status custos_sign_verify_file(
		custos_sign_verification **out, const char *path,
		const custos_sign_verify_options *opts, custos_error *err);

/* The first failed check, or CUSTOS_SIGN_OK; and its explanation. */
CUSTOS_EXTERN custos_sign_check custos_sign_verification_result(
		const custos_sign_verification *v);
CUSTOS_EXTERN const char *custos_sign_verification_message(
		const custos_sign_verification *v);
/* The path of the file checked. */
CUSTOS_EXTERN const char *custos_sign_verification_path(
		const custos_sign_verification *v);

/* About the .p7s: NULL path when there was none. */
CUSTOS_EXTERN const char *custos_sign_verification_signature_path(
		const custos_sign_verification *v);
CUSTOS_EXTERN custos_sign_check custos_sign_verification_signature_check(
		const custos_sign_verification *v);
CUSTOS_EXTERN const char *custos_sign_verification_signature_message(
		const custos_sign_verification *v);
/* The signer's certificate (borrowed), or NULL. */
CUSTOS_EXTERN const custos_cert *custos_sign_verification_signer(
		const custos_sign_verification *v);
/* The signed signing time (RFC 3339; the signer's own clock), or NULL. */
CUSTOS_EXTERN const char *custos_sign_verification_signing_time(
		const custos_sign_verification *v);
/* "sha256", "sha384", "sha512", ... or NULL. */
CUSTOS_EXTERN const char *custos_sign_verification_digest(
		const custos_sign_verification *v);
/* 1 if a signing-certificate-v2 attribute names the signer (CAdES). */
CUSTOS_EXTERN int custos_sign_verification_cades(
		const custos_sign_verification *v);

/* The time stamps found: over the signature value, and the .tsr. */
CUSTOS_EXTERN size_t custos_sign_verification_timestamp_count(
		const custos_sign_verification *v);
CUSTOS_EXTERN const custos_timestamp *custos_sign_verification_timestamp(
		const custos_sign_verification *v, size_t index);

/* Everything above as JSON (see custos-sign(1)); caller frees *out. */
CUSTOS_EXTERN custos_status custos_sign_verification_to_json(char **out,
		const custos_sign_verification *v, custos_error *err);

/* Accepts NULL. */
CUSTOS_EXTERN void custos_sign_verification_free(custos_sign_verification *v);

#endif
