/* Certificate helpers shared by cert.c, key.c, sign.c and timestamp.c. */
#ifndef CUSTOS_CERT_PRIVATE_H
#define CUSTOS_CERT_PRIVATE_H

#include <jansson.h>
#include <openssl/x509.h>

#include "custos/cert.h"
#include "fileio_private.h"
#include "util_private.h"

/* The largest certificate, chain, signature or token file read: 16 MiB. */
#define CUSTOS__PKI_FILE_MAX (16u << 20)

/* Wrap x (its reference count is raised). */
custos_status custos__cert_from_x509(custos_cert **out, X509 *x,
		custos_error *err);
/* The OpenSSL certificate inside (borrowed). */
X509 *custos__cert_x509(const custos_cert *c);
/* The certificate as a JSON object (new reference), or NULL. */
json_t *custos__cert_json(const custos_cert *c);

/* "C=AT, O=..., CN=..." with control characters escaped; caller frees. */
char *custos__name_text(const X509_NAME *name);
/* An ASN.1 time as RFC 3339 UTC; 0 on failure. */
int custos__asn1_time_rfc3339(char out[CUSTOS__RFC3339_MAX],
		const ASN1_TIME *t);
/* Lowercase hex of len bytes; caller frees. */
char *custos__hex(const unsigned char *data, size_t len);

/* Load the first certificate of a PEM or DER file. */
custos_status custos__load_x509(X509 **out, const char *path,
		const char *what, custos_error *err);
/* Load every certificate of a PEM file (at least one). */
custos_status custos__load_x509_stack(STACK_OF(X509) **out,
		const char *path, const char *what, custos_error *err);
/* A store of the given CA files, or of the system's defaults when none. */
custos_status custos__trust_store(X509_STORE **out, const char *const *paths,
		size_t count, custos_error *err);

#endif
