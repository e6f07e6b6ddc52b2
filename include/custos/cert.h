/*
 * X.509 certificates: load one and read what a person checks in it (subject,
 * issuer, validity, SHA-256 fingerprint, key, key usage).
 *
 * A custos_cert is immutable once loaded.  Every string it returns is
 * borrowed from it and lives until custos_cert_free().  Names are printed in
 * the certificate's own order as "C=AT, O=..., CN=..." with control
 * characters escaped; times are RFC 3339 UTC; hashes are lowercase hex.
 */
#ifndef CUSTOS_CERT_H
#define CUSTOS_CERT_H

#include "common.h"
#include "error.h"

typedef struct custos_cert custos_cert;

/* Load the first certificate of a PEM or DER file. */
CUSTOS_EXTERN custos_status custos_cert_load(custos_cert **out,
		const char *path, custos_error *err);

CUSTOS_EXTERN const char *custos_cert_subject(const custos_cert *c);
CUSTOS_EXTERN const char *custos_cert_issuer(const custos_cert *c);
/* The subject's commonName, or "" when it has none. */
CUSTOS_EXTERN const char *custos_cert_common_name(const custos_cert *c);
CUSTOS_EXTERN const char *custos_cert_serial(const custos_cert *c);
CUSTOS_EXTERN const char *custos_cert_not_before(const custos_cert *c);
CUSTOS_EXTERN const char *custos_cert_not_after(const custos_cert *c);
/* SHA-256 of the DER certificate, 64 lowercase hex digits. */
CUSTOS_EXTERN const char *custos_cert_fingerprint_sha256(const custos_cert *c);
/* "ECDSA P-256", "RSA-3072", "Ed25519", ... */
CUSTOS_EXTERN const char *custos_cert_key_type(const custos_cert *c);
/* "digitalSignature,nonRepudiation", or "" without a keyUsage extension. */
CUSTOS_EXTERN const char *custos_cert_key_usage(const custos_cert *c);
/* 1 if the key usage allows signing (digitalSignature or nonRepudiation,
 * or no keyUsage extension at all), else 0. */
CUSTOS_EXTERN int custos_cert_can_sign(const custos_cert *c);
/* 1 if the certificate is a CA (basicConstraints CA:TRUE). */
CUSTOS_EXTERN int custos_cert_is_ca(const custos_cert *c);

/* The fields above as one JSON object; caller frees *out with free(). */
CUSTOS_EXTERN custos_status custos_cert_to_json(char **out,
		const custos_cert *c, custos_error *err);

/* Accepts NULL. */
CUSTOS_EXTERN void custos_cert_free(custos_cert *c);

#endif
