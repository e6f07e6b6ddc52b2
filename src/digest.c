/* Message digests through OpenSSL EVP. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "custos/digest.h"
#include "error_private.h"

struct custos_digest {
	custos_digest_alg alg;
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

static const struct {
	const char *name;
	size_t size;
} digest_table[CUSTOS_DIGEST_COUNT] = {
	[CUSTOS_DIGEST_MD5] = {"md5", 16},
	[CUSTOS_DIGEST_SHA1] = {"sha1", 20},
	[CUSTOS_DIGEST_SHA256] = {"sha256", 32},
	[CUSTOS_DIGEST_SHA512] = {"sha512", 64},
};

static int alg_valid(custos_digest_alg alg)
{
	return (int)alg >= 0 && (int)alg < CUSTOS_DIGEST_COUNT;
}

const char *custos_digest_name(custos_digest_alg alg)
{
	return alg_valid(alg) ? digest_table[alg].name : NULL;
}

size_t custos_digest_size(custos_digest_alg alg)
{
	return alg_valid(alg) ? digest_table[alg].size : 0;
}

static const EVP_MD *evp_of(custos_digest_alg alg)
{
	switch (alg) {
	case CUSTOS_DIGEST_MD5: return EVP_md5();
	case CUSTOS_DIGEST_SHA1: return EVP_sha1();
	case CUSTOS_DIGEST_SHA256: return EVP_sha256();
	case CUSTOS_DIGEST_SHA512: return EVP_sha512();
	}
	return NULL;
}

static int name_matches(const char *want, const char *s, size_t len)
{
	/* Accept "sha-256" as well as "sha256". */
	size_t i = 0, j = 0;

	while (j < len) {
		if (s[j] == '-') {
			j++;
			continue;
		}
		if (want[i] == '\0' ||
		    tolower((unsigned char)s[j]) != (unsigned char)want[i])
			return 0;
		i++;
		j++;
	}
	return want[i] == '\0';
}

static custos_status parse_span(custos_digest_alg *out, const char *s,
		size_t len, custos_error *err)
{
	for (int a = 0; a < CUSTOS_DIGEST_COUNT; a++) {
		if (name_matches(digest_table[a].name, s, len)) {
			*out = (custos_digest_alg)a;
			return CUSTOS_OK;
		}
	}
	return custos__error_set(err, CUSTOS_EINVAL,
		"unknown hash '%.*s' (use md5, sha1, sha256, sha512)",
		(int)(len > 32 ? 32 : len), s);
}

custos_status custos_digest_parse(custos_digest_alg *out, const char *name,
		custos_error *err)
{
	if (out == NULL || name == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no hash name");
	return parse_span(out, name, strlen(name), err);
}

custos_status custos_digest_parse_list(custos_digest_set *out,
		const char *list, custos_error *err)
{
	custos_digest_set set = 0;
	const char *p = list;

	if (out == NULL || list == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no hash list");
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);
		custos_digest_alg alg;
		custos_status st;

		if (len == 0)
			return custos__error_set(err, CUSTOS_EINVAL,
				"empty name in hash list '%s'", list);
		st = parse_span(&alg, p, len, err);
		if (st != CUSTOS_OK)
			return st;
		set |= CUSTOS_DIGEST_BIT(alg);
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = set;
	return CUSTOS_OK;
}

custos_status custos_digest_new(custos_digest **out, custos_digest_alg alg,
		custos_error *err)
{
	custos_digest *d;
	custos_status st;

	if (out == NULL || !alg_valid(alg))
		return custos__error_set(err, CUSTOS_EINVAL, "bad digest algorithm");
	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	d->alg = alg;
	d->md = evp_of(alg);
	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL) {
		free(d);
		return custos__error_openssl(err, "EVP_MD_CTX_new");
	}
	st = custos_digest_reset(d, err);
	if (st != CUSTOS_OK) {
		custos_digest_free(d);
		return st;
	}
	*out = d;
	return CUSTOS_OK;
}

custos_status custos_digest_reset(custos_digest *d, custos_error *err)
{
	if (d == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no digest");
	if (EVP_DigestInit_ex(d->ctx, d->md, NULL) != 1)
		return custos__error_openssl(err, "EVP_DigestInit_ex");
	return CUSTOS_OK;
}

custos_status custos_digest_update(custos_digest *d, const void *data,
		size_t len, custos_error *err)
{
	if (d == NULL || (data == NULL && len > 0))
		return custos__error_set(err, CUSTOS_EINVAL, "bad digest input");
	if (len > 0 && EVP_DigestUpdate(d->ctx, data, len) != 1)
		return custos__error_openssl(err, "EVP_DigestUpdate");
	return CUSTOS_OK;
}

static void to_hex(char *hex, const unsigned char *bin, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 0x0f];
	}
	hex[2 * len] = '\0';
}

custos_status custos_digest_final_hex(custos_digest *d, char *hex,
		size_t hex_capacity, custos_error *err)
{
	unsigned char bin[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (d == NULL || hex == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "bad digest output");
	if (hex_capacity < 2 * custos_digest_size(d->alg) + 1)
		return custos__error_set(err, CUSTOS_EINVAL,
			"digest output buffer too small");
	if (EVP_DigestFinal_ex(d->ctx, bin, &len) != 1)
		return custos__error_openssl(err, "EVP_DigestFinal_ex");
	to_hex(hex, bin, len);
	OPENSSL_cleanse(bin, sizeof(bin));
	return CUSTOS_OK;
}

custos_status custos_digest_dup(custos_digest **out, const custos_digest *d,
		custos_error *err)
{
	custos_status st;

	if (out == NULL || d == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no digest");
	st = custos_digest_new(out, d->alg, err);
	if (st == CUSTOS_OK && EVP_MD_CTX_copy_ex((*out)->ctx, d->ctx) != 1) {
		custos_digest_free(*out);
		*out = NULL;
		return custos__error_openssl(err, "EVP_MD_CTX_copy_ex");
	}
	return st;
}

custos_digest_alg custos_digest_alg_of(const custos_digest *d)
{
	return d->alg;
}

void custos_digest_free(custos_digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

custos_status custos_digest_buffer_hex(custos_digest_alg alg, const void *data,
		size_t len, char *hex, size_t hex_capacity, custos_error *err)
{
	custos_digest *d;
	custos_status st = custos_digest_new(&d, alg, err);

	if (st != CUSTOS_OK)
		return st;
	st = custos_digest_update(d, data, len, err);
	if (st == CUSTOS_OK)
		st = custos_digest_final_hex(d, hex, hex_capacity, err);
	custos_digest_free(d);
	return st;
}
