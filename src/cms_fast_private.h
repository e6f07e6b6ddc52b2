/*
 * The fast path of CMS signature checking: a hand-written DER walk over a
 * detached CAdES SignedData that checks the common case (one ECDSA /
 * SHA-256 or RSA-PSS / SHA-256 signer, as custos signs) without decoding
 * the whole structure.  It only ever says "verified" or "not shown here";
 * the caller then asks OpenSSL.
 */
#ifndef CUSTOS_CMS_FAST_PRIVATE_H
#define CUSTOS_CMS_FAST_PRIVATE_H

#include <stddef.h>

#include <openssl/x509.h>

/* Where the parts the fast check reads lie in the signature's DER. */
typedef struct custos__cms_signer_parts {
	const unsigned char *eci;   /* encapContentInfo element */
	long eci_total;
	const unsigned char *sis;   /* signerInfos SET element */
	long sis_total;
	/* For the shape check: the ContentInfo's contentType OID, the
	 * SignedData's version and digestAlgorithms, and how many elements
	 * it has. */
	const unsigned char *ctype;
	long ctype_total;
	const unsigned char *version;
	long version_total;
	const unsigned char *dalgs;
	long dalgs_total;
	int elements;
} custos__cms_signer_parts;

/*
 * Split a DER ContentInfo { signedData, [0] SignedData } into the same DER
 * without the SignedData's certificates (*out, caller frees) and those
 * certificates' bytes (*cs, inside der).  0 when it is not shaped so.
 */
int custos__cms_split_certs(const unsigned char *der, long len,
		unsigned char **out, long *out_len, const unsigned char **cs,
		long *cs_len, custos__cms_signer_parts *parts);

/*
 * What the fast check needs of one certificate of an embedded set,
 * computed once per set (not once per signature): the issuerAndSerialNumber
 * and the signingCertificateV2 attribute custos writes for it, as DER, and
 * its SHA-256.
 */
typedef struct custos__cms_cert_facts {
	X509 *cert;                 /* borrowed from the set */
	unsigned char *sid;         /* issuerAndSerialNumber */
	long sid_len;
	unsigned char *ess;         /* the signingCertificateV2 attribute */
	long ess_len;
	unsigned char sha256[32];   /* of the certificate's DER */
	/* No other certificate of the set has its issuer and serial (as
	 * OpenSSL compares them), so OpenSSL picks this one as the signer
	 * too. */
	int unique;
} custos__cms_cert_facts;

/* The facts of cert, a member of set; 0 on failure (then the set is not
 * used by the fast check).  custos__cms_cert_facts_free releases them. */
int custos__cms_cert_facts_init(custos__cms_cert_facts *f, X509 *cert,
		const STACK_OF(X509) *set);
void custos__cms_cert_facts_free(custos__cms_cert_facts *f);

/*
 * The signer among the n certificates whose facts are given, if the
 * signature whose parts are sd is its valid CAdES signature over line in
 * exactly the shape custos writes: ECDSA with SHA-256, or RSASSA-PSS with
 * SHA-256, MGF1-SHA-256 and a 32-byte salt.  Anything else, even valid,
 * is left to OpenSSL: NULL means "not shown here".
 */
const custos__cms_cert_facts *custos__cms_fast_verify(
		const custos__cms_signer_parts *sd,
		const custos__cms_cert_facts *facts, size_t n,
		const char *line, size_t line_len);

#endif
