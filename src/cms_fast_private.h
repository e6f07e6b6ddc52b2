/*
 * The fast path of CMS signature checking: a hand-written DER walk over a
 * detached CAdES SignedData that checks the common case (one ECDSA P-256 /
 * SHA-256 signer) without decoding the whole structure.  It only ever says
 * "verified" or "not shown here"; the caller then asks OpenSSL.
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

/* 1 if the signature whose parts are sd is cert's valid ECDSA P-256 /
 * SHA-256 CAdES signature over line, in exactly the shape custos writes
 * (anything else, even valid, is left to OpenSSL); 0: not shown here. */
int custos__cms_fast_verify(const custos__cms_signer_parts *sd, X509 *cert,
		const char *line, size_t line_len);

#endif
