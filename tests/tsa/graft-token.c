/*
 * A forger's tool for the negative tests (TEST ONLY): move the signature
 * time stamp (id-aa-signatureTimeStampToken) of one detached CMS signature
 * into another, so that the target carries a genuine token over some other
 * signature value.
 *
 * Usage: graft-token FROM.p7s TO.p7s OUT.p7s
 */
#include <stdio.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

static CMS_ContentInfo *read_cms(const char *path)
{
	BIO *in = BIO_new_file(path, "rb");
	CMS_ContentInfo *cms = in != NULL ? d2i_CMS_bio(in, NULL) : NULL;

	BIO_free(in);
	return cms;
}

static CMS_SignerInfo *first_signer(CMS_ContentInfo *cms)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);

	return sk_CMS_SignerInfo_num(sis) > 0 ? sk_CMS_SignerInfo_value(sis, 0)
					      : NULL;
}

int main(int argc, char **argv)
{
	CMS_ContentInfo *from, *to;
	CMS_SignerInfo *sfrom, *sto;
	X509_ATTRIBUTE *attr;
	BIO *out;
	int i;

	if (argc != 4) {
		fprintf(stderr, "usage: graft-token FROM.p7s TO.p7s OUT.p7s\n");
		return 2;
	}
	from = read_cms(argv[1]);
	to = read_cms(argv[2]);
	if (from == NULL || to == NULL) {
		fprintf(stderr, "graft-token: cannot read the signatures\n");
		return 1;
	}
	sfrom = first_signer(from);
	sto = first_signer(to);
	i = sfrom != NULL ? CMS_unsigned_get_attr_by_NID(sfrom,
		NID_id_smime_aa_timeStampToken, -1) : -1;
	if (i < 0 || sto == NULL) {
		fprintf(stderr, "graft-token: %s has no time stamp\n", argv[1]);
		return 1;
	}
	attr = CMS_unsigned_get_attr(sfrom, i);
	while ((i = CMS_unsigned_get_attr_by_NID(sto,
			NID_id_smime_aa_timeStampToken, -1)) >= 0)
		X509_ATTRIBUTE_free(CMS_unsigned_delete_attr(sto, i));
	out = BIO_new_file(argv[3], "wb");
	if (!CMS_unsigned_add1_attr(sto, attr) || out == NULL ||
	    i2d_CMS_bio(out, to) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	BIO_free(out);
	CMS_ContentInfo_free(from);
	CMS_ContentInfo_free(to);
	return 0;
}
