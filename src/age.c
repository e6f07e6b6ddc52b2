/*
 * age v1 (C2SP age) with X25519 recipients, on OpenSSL primitives.
 *
 * Written from the specification: the header is a version line, recipient
 * stanzas ("-> type args" plus a base64 body wrapped at 64 columns) and a
 * MAC line ("--- " + HMAC-SHA-256 under HKDF(file key, "header")); then a
 * 16-byte nonce and the STREAM payload: ChaCha20-Poly1305 over 64 KiB
 * chunks, nonce = 11-byte big-endian counter || last-chunk flag, under
 * HKDF(file key, salt nonce, "payload").  bech32 and the framing are done
 * here by hand; every primitive comes from OpenSSL.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "custos/age.h"
#include "error_private.h"
#include "fileio_private.h"

#define CHUNK CUSTOS_AGE_CHUNK_SIZE
#define TAG 16
#define FILE_KEY 16
#define NONCE 16
#define HEADER_MAX (64 * 1024)
#define STANZAS_MAX 256
#define IDENTITY_FILE_MAX (64 * 1024)

static const char version_line[] = "age-encryption.org/v1";
static const char x25519_info[] = "age-encryption.org/v1/X25519";

/* ------------------------------------------------------------------ */
/* bech32 (BIP 173), as age uses it: no length limit of 90 enforced on
 * decode beyond our buffers, no mixed case. */

static const char b32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t b32_polymod(const unsigned char *v, size_t n)
{
	static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
		0x3d4233dd, 0x2a1462b3};
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t top = chk >> 25;
		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (int j = 0; j < 5; j++)
			if ((top >> j) & 1)
				chk ^= gen[j];
	}
	return chk;
}

/* values = hrp-expand || data (5-bit) || checksum; all within 256. */
static size_t b32_expand(unsigned char *v, const char *hrp, size_t hlen)
{
	size_t n = 0;

	for (size_t i = 0; i < hlen; i++)
		v[n++] = (unsigned char)tolower((unsigned char)hrp[i]) >> 5;
	v[n++] = 0;
	for (size_t i = 0; i < hlen; i++)
		v[n++] = (unsigned char)tolower((unsigned char)hrp[i]) & 31;
	return n;
}

/* Encode 32 bytes under hrp; upper = 1 for the identity form. */
static int b32_encode(char *out, size_t cap, const char *hrp,
		const unsigned char key[32], int upper)
{
	unsigned char data[64], v[256];
	size_t dn = 0, hlen = strlen(hrp), n;
	uint32_t acc = 0, chk;
	int bits = 0;

	for (size_t i = 0; i < 32; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			data[dn++] = (acc >> bits) & 31;
		}
	}
	if (bits > 0)
		data[dn++] = (acc << (5 - bits)) & 31;
	if (hlen + 1 + dn + 6 + 1 > cap || 2 * hlen + 1 + dn + 6 > sizeof(v))
		return -1;
	n = b32_expand(v, hrp, hlen);
	memcpy(v + n, data, dn);
	n += dn;
	memset(v + n, 0, 6);
	chk = b32_polymod(v, n + 6) ^ 1;
	n = 0;
	for (size_t i = 0; i < hlen; i++)
		out[n++] = upper ? (char)toupper((unsigned char)hrp[i]) : hrp[i];
	out[n++] = '1';
	for (size_t i = 0; i < dn; i++)
		out[n++] = b32_charset[data[i]];
	for (int i = 0; i < 6; i++)
		out[n++] = b32_charset[(chk >> (5 * (5 - i))) & 31];
	out[n] = '\0';
	if (upper)
		for (size_t i = 0; i < n; i++)
			out[i] = (char)toupper((unsigned char)out[i]);
	OPENSSL_cleanse(data, sizeof(data));
	OPENSSL_cleanse(v, sizeof(v));
	return 0;
}

/* Decode s, which must carry hrp (case-insensitively) and 32 bytes. */
static int b32_decode(unsigned char key[32], const char *s, const char *hrp)
{
	unsigned char v[256], data[128];
	size_t len = strlen(s), hlen = strlen(hrp), dn, n;
	int lower = 0, upper = 0, ok = -1;
	uint32_t acc = 0;
	int bits = 0;
	size_t kn = 0;

	if (len < hlen + 8 || len > 120 || s[hlen] != '1')
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126)
			return -1;
		if (islower(c))
			lower = 1;
		if (isupper(c))
			upper = 1;
	}
	if (lower && upper)
		return -1;
	for (size_t i = 0; i < hlen; i++)
		if (tolower((unsigned char)s[i]) != tolower((unsigned char)hrp[i]))
			return -1;
	dn = len - hlen - 1;
	for (size_t i = 0; i < dn; i++) {
		const char *p = strchr(b32_charset,
			tolower((unsigned char)s[hlen + 1 + i]));
		if (p == NULL || *p == '\0')
			goto out;
		data[i] = (unsigned char)(p - b32_charset);
	}
	n = b32_expand(v, hrp, hlen);
	memcpy(v + n, data, dn);
	if (b32_polymod(v, n + dn) != 1)
		goto out;
	dn -= 6;
	for (size_t i = 0; i < dn; i++) {
		acc = (acc << 5) | data[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (kn >= 32)
				goto out;
			key[kn++] = (unsigned char)(acc >> bits);
		}
	}
	if (kn != 32 || bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		goto out;
	ok = 0;
out:
	OPENSSL_cleanse(data, sizeof(data));
	OPENSSL_cleanse(v, sizeof(v));
	return ok;
}

/* ------------------------------------------------------------------ */
/* Canonical unpadded standard base64. */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(char *out, const unsigned char *in, size_t len)
{
	size_t n = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) |
			in[i + 2];
		out[n++] = b64_alpha[(v >> 18) & 63];
		out[n++] = b64_alpha[(v >> 12) & 63];
		out[n++] = b64_alpha[(v >> 6) & 63];
		out[n++] = b64_alpha[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[n++] = b64_alpha[(v >> 18) & 63];
		out[n++] = b64_alpha[(v >> 12) & 63];
	} else if (len - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[n++] = b64_alpha[(v >> 18) & 63];
		out[n++] = b64_alpha[(v >> 12) & 63];
		out[n++] = b64_alpha[(v >> 6) & 63];
	}
	out[n] = '\0';
	return n;
}

static int b64_value(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_alpha, c);
	return p == NULL ? -1 : (int)(p - b64_alpha);
}

/* Decode len characters into out (capacity cap); -1 when not canonical. */
static int b64_decode(unsigned char *out, size_t cap, size_t *outlen,
		const char *in, size_t len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Primitives. */

static int hkdf(unsigned char *out, size_t outlen, const unsigned char *ikm,
		size_t ikmlen, const unsigned char *salt, size_t saltlen,
		const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5], *p = params;
	unsigned char empty = 0;
	int ok;

	if (kdf == NULL)
		return -1;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return -1;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
		(void *)ikm, ikmlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		saltlen ? (void *)salt : (void *)&empty, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		(void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
	EVP_KDF_CTX_free(kctx);
	return ok ? 0 : -1;
}

/* ChaCha20-Poly1305 seal/open; ctx may be reused.  out gets len (+TAG). */
static int aead(EVP_CIPHER_CTX *ctx, int enc, const unsigned char key[32],
		const unsigned char nonce[12], const unsigned char *in, size_t len,
		unsigned char *out)
{
	int n = 0, fin = 0;

	if (len > INT32_MAX)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL,
			enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return -1;
	if (enc) {
		if ((len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1) ||
		    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG,
				out + len) != 1)
			return -1;
		return 0;
	}
	if (len < TAG)
		return -1;
	len -= TAG;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG,
			(void *)(in + len)) != 1)
		return -1;
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		return -1;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1)
		return -1;
	return 0;
}

static EVP_PKEY *x25519_private(const unsigned char sk[32])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
}

/* shared = X25519(sk, pk); -1 on failure, 1 for an all-zero result. */
static int x25519(unsigned char shared[32], EVP_PKEY *sk,
		const unsigned char pk[32])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL,
		pk, 32);
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	unsigned char zero = 0;
	int rc = -1;

	if (peer == NULL)
		return -1;
	ctx = EVP_PKEY_CTX_new(sk, NULL);
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1) {
		rc = -1;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, shared, &len) != 1 || len != 32) {
		/* OpenSSL refuses an all-zero (low-order) result itself. */
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < 32; i++)
		zero |= shared[i];
	rc = zero == 0 ? 1 : 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return rc;
}

static int x25519_public(unsigned char pk[32], EVP_PKEY *sk)
{
	size_t len = 32;

	return EVP_PKEY_get_raw_public_key(sk, pk, &len) == 1 && len == 32 ?
		0 : -1;
}

static void stream_nonce(unsigned char nonce[12], uint64_t counter, int last)
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Keys. */

static int parse_identity(unsigned char sk[32], const char *identity)
{
	if (strncmp(identity, "AGE-SECRET-KEY-1", 16) != 0)
		return -1;
	return b32_decode(sk, identity, "AGE-SECRET-KEY-");
}

static int parse_recipient(unsigned char pk[32], const char *recipient)
{
	if (strncmp(recipient, "age1", 4) != 0)
		return -1;
	return b32_decode(pk, recipient, "age");
}

custos_status custos_age_keygen(char identity[CUSTOS_AGE_IDENTITY_MAX],
		char recipient[CUSTOS_AGE_RECIPIENT_MAX], custos_error *err)
{
	unsigned char sk[32], pk[32];
	EVP_PKEY *key = NULL;
	custos_status st = CUSTOS_OK;

	if (identity == NULL || recipient == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "age keygen: no output");
	if (RAND_bytes(sk, sizeof(sk)) != 1)
		return custos__error_openssl(err, "age keygen: random");
	key = x25519_private(sk);
	if (key == NULL || x25519_public(pk, key) != 0) {
		st = custos__error_openssl(err, "age keygen: X25519");
		goto out;
	}
	if (b32_encode(identity, CUSTOS_AGE_IDENTITY_MAX, "AGE-SECRET-KEY-", sk,
			1) != 0 ||
	    b32_encode(recipient, CUSTOS_AGE_RECIPIENT_MAX, "age", pk, 0) != 0)
		st = custos__error_set(err, CUSTOS_EINTERNAL, "age keygen: bech32");
out:
	EVP_PKEY_free(key);
	OPENSSL_cleanse(sk, sizeof(sk));
	return st;
}

custos_status custos_age_identity_to_recipient(
		char recipient[CUSTOS_AGE_RECIPIENT_MAX], const char *identity,
		custos_error *err)
{
	unsigned char sk[32], pk[32];
	EVP_PKEY *key;
	custos_status st = CUSTOS_OK;

	if (recipient == NULL || identity == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "age: no identity");
	if (parse_identity(sk, identity) != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not an age X25519 identity (AGE-SECRET-KEY-1...)");
	key = x25519_private(sk);
	OPENSSL_cleanse(sk, sizeof(sk));
	if (key == NULL || x25519_public(pk, key) != 0)
		st = custos__error_openssl(err, "age: X25519 identity");
	else if (b32_encode(recipient, CUSTOS_AGE_RECIPIENT_MAX, "age", pk, 0))
		st = custos__error_set(err, CUSTOS_EINTERNAL, "age: bech32");
	EVP_PKEY_free(key);
	return st;
}

custos_status custos_age_recipient_check(const char *recipient,
		custos_error *err)
{
	unsigned char pk[32];

	if (recipient == NULL || parse_recipient(pk, recipient) != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not an age X25519 recipient (age1...)");
	return CUSTOS_OK;
}

custos_status custos_age_recipient_fingerprint(char out[65],
		const char *recipient, custos_error *err)
{
	unsigned char pk[32], md[32];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";

	if (out == NULL || recipient == NULL || parse_recipient(pk, recipient))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not an age X25519 recipient (age1...)");
	if (EVP_Digest(pk, sizeof(pk), md, &mdlen, EVP_sha256(), NULL) != 1)
		return custos__error_openssl(err, "age: SHA-256");
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return CUSTOS_OK;
}

/* Identities kept from one file; age-keygen writes one, people append. */
#define IDENTITY_FILE_COUNT_MAX 1024

void custos_age_identities_free(char **ids, size_t count)
{
	if (ids == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		if (ids[i] != NULL)
			OPENSSL_cleanse(ids[i], strlen(ids[i]));
		free(ids[i]);
	}
	free(ids);
}

/*
 * Every identity of an age identity file, parsed as age does: "#" lines
 * and empty lines are skipped, a CR before the LF is dropped, and any
 * other line must be an identity, or the whole file is refused.
 */
custos_status custos_age_identity_file_read_all(char ***out, size_t *count,
		const char *path, custos_error *err)
{
	unsigned char *buf = NULL;
	size_t n = 0, lineno = 0;
	char **ids = NULL;
	size_t nids = 0;
	custos_status st;
	char *line, *next;

	if (out == NULL || count == NULL || path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: no identity file");
	*out = NULL;
	*count = 0;
	/* A regular file only: a FIFO would hang the read. */
	st = custos__read_file_max(path, IDENTITY_FILE_MAX, &buf, &n,
		"age identity file", err);
	if (st != CUSTOS_OK)
		return st;
	if (memchr(buf, '\0', n) != NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"%s: not an age identity file (a NUL byte)", path);
		goto out;
	}
	for (line = (char *)buf; line != NULL && *line != '\0'; line = next) {
		unsigned char sk[32];
		char **grown;
		size_t len;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (len >= CUSTOS_AGE_IDENTITY_MAX || parse_identity(sk, line)) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"%s: line %zu is not an age X25519 identity%s",
				path, lineno, strncmp(line, "AGE-PLUGIN-", 11)
				== 0 ? " (plugin identities are not supported)"
				: "");
			goto out;
		}
		OPENSSL_cleanse(sk, sizeof(sk));
		if (nids == IDENTITY_FILE_COUNT_MAX) {
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"%s: more than %d identities", path,
				IDENTITY_FILE_COUNT_MAX);
			goto out;
		}
		grown = realloc(ids, (nids + 1) * sizeof(*ids));
		if (grown == NULL || (grown[nids] = strdup(line)) == NULL) {
			if (grown != NULL)
				ids = grown;
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
			goto out;
		}
		ids = grown;
		nids++;
	}
	if (nids == 0)
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"%s: no identity in file", path);
out:
	OPENSSL_cleanse(buf, n);
	free(buf);
	if (st != CUSTOS_OK) {
		custos_age_identities_free(ids, nids);
		return st;
	}
	*out = ids;
	*count = nids;
	return CUSTOS_OK;
}

custos_status custos_age_identity_file_read(
		char identity[CUSTOS_AGE_IDENTITY_MAX], const char *path,
		custos_error *err)
{
	char **ids = NULL;
	size_t count = 0;
	custos_status st;

	if (identity == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: no identity file");
	st = custos_age_identity_file_read_all(&ids, &count, path, err);
	if (st != CUSTOS_OK)
		return st;
	memcpy(identity, ids[0], strlen(ids[0]) + 1);
	custos_age_identities_free(ids, count);
	return CUSTOS_OK;
}

/* ------------------------------------------------------------------ */
/* Writer. */

struct custos_age_writer {
	custos_age_sink sink;
	void *sink_ctx;
	EVP_CIPHER_CTX *cipher;
	unsigned char key[32];
	uint64_t counter;
	size_t len;
	int finished;
	int failed;
	unsigned char buf[CHUNK];
	unsigned char out[CHUNK + TAG];
};

void custos_age_writer_free(custos_age_writer *w)
{
	if (w == NULL)
		return;
	EVP_CIPHER_CTX_free(w->cipher);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

/* Append s to the header buffer. */
static int hdr_put(char *hdr, size_t *len, const char *s, size_t n)
{
	if (n > HEADER_MAX - *len)
		return -1;
	memcpy(hdr + *len, s, n);
	*len += n;
	return 0;
}

custos_status custos_age_writer_new(custos_age_writer **out,
		const char *const *recipients, size_t count, custos_age_sink sink,
		void *sink_ctx, custos_error *err)
{
	custos_age_writer *w = NULL;
	unsigned char file_key[FILE_KEY], mac_key[32], mac[32], nonce[NONCE];
	unsigned char zero_nonce[12] = {0};
	char *hdr = NULL, line[128];
	size_t hlen = 0;
	unsigned int maclen = 0;
	custos_status st = CUSTOS_OK;

	if (out == NULL || sink == NULL || recipients == NULL || count == 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: no recipients or no output");
	if (count > STANZAS_MAX)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: more than %d recipients", STANZAS_MAX);
	*out = NULL;
	w = calloc(1, sizeof(*w));
	hdr = malloc(HEADER_MAX);
	if (w == NULL || hdr == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto fail;
	}
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->cipher = EVP_CIPHER_CTX_new();
	if (w->cipher == NULL || RAND_bytes(file_key, sizeof(file_key)) != 1 ||
	    RAND_bytes(nonce, sizeof(nonce)) != 1) {
		st = custos__error_openssl(err, "age: setup");
		goto fail;
	}
	hdr_put(hdr, &hlen, version_line, strlen(version_line));
	hdr_put(hdr, &hlen, "\n", 1);
	for (size_t i = 0; i < count; i++) {
		unsigned char pk[32], esk[32], share[32], shared[32], salt[64];
		unsigned char wrap_key[32], body[FILE_KEY + TAG];
		EVP_PKEY *eph;
		char b1[64], b2[64];
		int rc;

		if (recipients[i] == NULL || parse_recipient(pk, recipients[i])) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"recipient %zu: not an age X25519 recipient (age1...)",
				i + 1);
			goto fail;
		}
		if (RAND_bytes(esk, sizeof(esk)) != 1) {
			st = custos__error_openssl(err, "age: random");
			goto fail;
		}
		eph = x25519_private(esk);
		OPENSSL_cleanse(esk, sizeof(esk));
		if (eph == NULL || x25519_public(share, eph) != 0) {
			EVP_PKEY_free(eph);
			st = custos__error_openssl(err, "age: X25519");
			goto fail;
		}
		rc = x25519(shared, eph, pk);
		EVP_PKEY_free(eph);
		if (rc != 0) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"recipient %zu: low-order X25519 key", i + 1);
			goto fail;
		}
		memcpy(salt, share, 32);
		memcpy(salt + 32, pk, 32);
		rc = hkdf(wrap_key, 32, shared, 32, salt, 64, x25519_info) ||
			aead(w->cipher, 1, wrap_key, zero_nonce, file_key,
				FILE_KEY, body);
		OPENSSL_cleanse(shared, sizeof(shared));
		OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
		if (rc) {
			st = custos__error_openssl(err, "age: wrap file key");
			goto fail;
		}
		b64_encode(b1, share, 32);
		b64_encode(b2, body, sizeof(body));
		rc = snprintf(line, sizeof(line), "-> X25519 %s\n%s\n", b1, b2);
		if (rc < 0 || (size_t)rc >= sizeof(line) ||
		    hdr_put(hdr, &hlen, line, (size_t)rc)) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "age: header too long");
			goto fail;
		}
	}
	if (hdr_put(hdr, &hlen, "---", 3) ||
	    hkdf(mac_key, 32, file_key, FILE_KEY, NULL, 0, "header") ||
	    HMAC(EVP_sha256(), mac_key, 32, (unsigned char *)hdr, hlen, mac,
			&maclen) == NULL || maclen != 32) {
		st = custos__error_openssl(err, "age: header MAC");
		goto fail;
	}
	{
		char b[64];
		b64_encode(b, mac, 32);
		hdr_put(hdr, &hlen, " ", 1);
		if (hdr_put(hdr, &hlen, b, strlen(b)) || hdr_put(hdr, &hlen, "\n", 1)) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "age: header too long");
			goto fail;
		}
	}
	if (hkdf(w->key, 32, file_key, FILE_KEY, nonce, NONCE, "payload")) {
		st = custos__error_openssl(err, "age: payload key");
		goto fail;
	}
	st = sink(sink_ctx, hdr, hlen, err);
	if (st == CUSTOS_OK)
		st = sink(sink_ctx, nonce, NONCE, err);
	if (st != CUSTOS_OK)
		goto fail;
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	free(hdr);
	*out = w;
	return CUSTOS_OK;
fail:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	free(hdr);
	custos_age_writer_free(w);
	return st;
}

static custos_status writer_flush(custos_age_writer *w, int last,
		custos_error *err)
{
	unsigned char nonce[12];
	custos_status st;

	if (w->counter >= (UINT64_C(1) << 63)) {
		w->failed = 1;
		return custos__error_set(err, CUSTOS_ENOSPC, "age: stream too long");
	}
	stream_nonce(nonce, w->counter, last);
	if (aead(w->cipher, 1, w->key, nonce, w->buf, w->len, w->out) != 0) {
		w->failed = 1;
		return custos__error_openssl(err, "age: encrypt chunk");
	}
	st = w->sink(w->sink_ctx, w->out, w->len + TAG, err);
	if (st != CUSTOS_OK) {
		w->failed = 1;
		return st;
	}
	w->counter++;
	w->len = 0;
	return CUSTOS_OK;
}

custos_status custos_age_writer_write(custos_age_writer *w, const void *data,
		size_t len, custos_error *err)
{
	const unsigned char *p = data;

	if (w == NULL || (data == NULL && len > 0))
		return custos__error_set(err, CUSTOS_EINVAL, "age: bad write");
	if (w->finished || w->failed)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: write after finish or failure");
	while (len > 0) {
		size_t n;

		/* A full buffer is flushed only once more data follows: the
		 * final chunk may be full. */
		if (w->len == CHUNK) {
			custos_status st = writer_flush(w, 0, err);
			if (st != CUSTOS_OK)
				return st;
		}
		n = CHUNK - w->len;
		if (n > len)
			n = len;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
	}
	return CUSTOS_OK;
}

custos_status custos_age_writer_finish(custos_age_writer *w,
		custos_error *err)
{
	custos_status st;

	if (w == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "age: no writer");
	if (w->finished || w->failed)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: finish after finish or failure");
	st = writer_flush(w, 1, err);
	if (st == CUSTOS_OK)
		w->finished = 1;
	OPENSSL_cleanse(w->buf, sizeof(w->buf));
	return st;
}

/* ------------------------------------------------------------------ */
/* Reader. */

#define IN_CAP (CHUNK + TAG + 1)

struct custos_age_reader {
	custos_age_source source;
	void *source_ctx;
	EVP_CIPHER_CTX *cipher;
	unsigned char key[32];
	uint64_t counter;
	int eof;
	int done;
	int failed;
	size_t in_pos, in_len;
	size_t out_pos, out_len;
	unsigned char in[IN_CAP];
	unsigned char out[CHUNK];
};

void custos_age_reader_free(custos_age_reader *r)
{
	if (r == NULL)
		return;
	EVP_CIPHER_CTX_free(r->cipher);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

/* Fill the input buffer to capacity or end of input. */
static custos_status reader_fill(custos_age_reader *r, custos_error *err)
{
	if (r->in_pos > 0) {
		memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
		r->in_len -= r->in_pos;
		r->in_pos = 0;
	}
	while (!r->eof && r->in_len < IN_CAP) {
		size_t got = 0;
		custos_status st = r->source(r->source_ctx, r->in + r->in_len,
			IN_CAP - r->in_len, &got, err);
		if (st != CUSTOS_OK)
			return st;
		if (got == 0)
			r->eof = 1;
		if (got > IN_CAP - r->in_len)
			return custos__error_set(err, CUSTOS_EINTERNAL,
				"age: source overran its buffer");
		r->in_len += got;
	}
	return CUSTOS_OK;
}

/* Next header byte; -1 at end of input. */
static int reader_byte(custos_age_reader *r, custos_status *st,
		custos_error *err)
{
	if (r->in_pos == r->in_len) {
		*st = reader_fill(r, err);
		if (*st != CUSTOS_OK || r->in_pos == r->in_len)
			return -1;
	}
	return r->in[r->in_pos++];
}

typedef struct stanza {
	unsigned char share[32];
	unsigned char body[FILE_KEY + TAG];
} stanza;

/* Read one LF-terminated line into hdr; its start in *start, its length
 * (without LF) in *len. */
static custos_status read_line(custos_age_reader *r, char *hdr, size_t *hlen,
		size_t *start, size_t *len, custos_error *err)
{
	custos_status st = CUSTOS_OK;

	*start = *hlen;
	for (;;) {
		int c = reader_byte(r, &st, err);
		if (c < 0) {
			if (st != CUSTOS_OK)
				return st;
			return custos__error_set(err, CUSTOS_EFORMAT,
				"age header: truncated (no end of line)");
		}
		if (*hlen >= HEADER_MAX)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"age header: longer than %d bytes", HEADER_MAX);
		hdr[(*hlen)++] = (char)c;
		if (c == '\n')
			break;
	}
	*len = *hlen - *start - 1;
	return CUSTOS_OK;
}

static custos_status parse_header(custos_age_reader *r, char *hdr,
		size_t *mac_off, unsigned char mac[32], stanza *xs, size_t *nxs,
		custos_error *err)
{
	size_t hlen = 0, start, len, n;
	custos_status st;

	*nxs = 0;
	st = read_line(r, hdr, &hlen, &start, &len, err);
	if (st != CUSTOS_OK)
		return st;
	if (len != strlen(version_line) ||
	    memcmp(hdr + start, version_line, len) != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"age header: not age v1 (unknown version line)");
	for (size_t stanzas = 0;; stanzas++) {
		char *line, *args[8];
		size_t nargs = 0, bodylen = 0;
		unsigned char body[FILE_KEY + TAG + 1];
		int overlong = 0;

		st = read_line(r, hdr, &hlen, &start, &len, err);
		if (st != CUSTOS_OK)
			return st;
		line = hdr + start;
		if (len >= 3 && memcmp(line, "---", 3) == 0) {
			*mac_off = start + 3;
			if (len != 4 + 43 || line[3] != ' ' ||
			    b64_decode(mac, 32, &n, line + 4, 43) != 0 || n != 32)
				return custos__error_set(err, CUSTOS_EFORMAT,
					"age header: malformed MAC line");
			return CUSTOS_OK;
		}
		if (stanzas >= STANZAS_MAX)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"age header: more than %d stanzas", STANZAS_MAX);
		if (len < 3 || memcmp(line, "-> ", 3) != 0)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"age header: line is neither a stanza nor the MAC");
		/* Arguments: non-empty runs of VCHAR separated by one space. */
		for (size_t i = 3; i <= len;) {
			size_t j = i;
			while (j < len && line[j] != ' ') {
				unsigned char c = (unsigned char)line[j];
				if (c < 0x21 || c > 0x7e)
					return custos__error_set(err, CUSTOS_EFORMAT,
						"age header: invalid character in stanza");
				j++;
			}
			if (j == i)
				return custos__error_set(err, CUSTOS_EFORMAT,
					"age header: empty stanza argument");
			if (nargs < sizeof(args) / sizeof(args[0]))
				args[nargs] = line + i;
			nargs++;
			line[j] = '\0'; /* hdr keeps the bytes for the MAC: restore */
			i = j + 1;
		}
		/* Body lines: full lines of 64 columns, then a shorter one. */
		for (;;) {
			size_t bstart, blen;
			unsigned char chunk[48];

			st = read_line(r, hdr, &hlen, &bstart, &blen, err);
			if (st != CUSTOS_OK)
				goto restore_fail;
			if (blen > 64 || b64_decode(chunk, sizeof(chunk), &n,
					hdr + bstart, blen) != 0) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"age header: malformed stanza body");
				goto restore_fail;
			}
			if (bodylen + n > sizeof(body))
				overlong = 1;
			else
				memcpy(body + bodylen, chunk, n);
			bodylen += n;
			if (blen < 64)
				break;
		}
		if (nargs >= 1 && strcmp(args[0], "X25519") == 0) {
			unsigned char share[32];
			if (nargs != 2 || strlen(args[1]) != 43 ||
			    b64_decode(share, 32, &n, args[1], 43) != 0 || n != 32) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"age header: malformed X25519 stanza share");
				goto restore_fail;
			}
			if (overlong || bodylen != FILE_KEY + TAG) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"age header: X25519 stanza body is not 32 bytes");
				goto restore_fail;
			}
			memcpy(xs[*nxs].share, share, 32);
			memcpy(xs[*nxs].body, body, FILE_KEY + TAG);
			(*nxs)++;
		}
		/* Put back the spaces replaced by NULs. */
		for (size_t i = start + 3; i < start + len; i++)
			if (hdr[i] == '\0')
				hdr[i] = ' ';
		hdr[start + len] = '\n';
		continue;
restore_fail:
		return st;
	}
}

custos_status custos_age_reader_new(custos_age_reader **out,
		const char *const *identities, size_t count,
		custos_age_source source, void *source_ctx, custos_error *err)
{
	custos_age_reader *r = NULL;
	char *hdr = NULL;
	stanza *xs = NULL;
	size_t nxs = 0, mac_off = 0;
	unsigned char mac[32], want[32], mac_key[32], file_key[FILE_KEY + TAG];
	unsigned char nonce[NONCE], zero_nonce[12] = {0};
	unsigned int maclen = 0;
	int found = 0;
	custos_status st = CUSTOS_OK;

	if (out == NULL || source == NULL || identities == NULL || count == 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: no identities or no input");
	*out = NULL;
	r = calloc(1, sizeof(*r));
	hdr = malloc(HEADER_MAX);
	xs = calloc(STANZAS_MAX, sizeof(*xs));
	if (r == NULL || hdr == NULL || xs == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	r->source = source;
	r->source_ctx = source_ctx;
	r->cipher = EVP_CIPHER_CTX_new();
	if (r->cipher == NULL) {
		st = custos__error_openssl(err, "age: cipher");
		goto out;
	}
	st = parse_header(r, hdr, &mac_off, mac, xs, &nxs, err);
	if (st != CUSTOS_OK)
		goto out;
	for (size_t i = 0; i < count && !found; i++) {
		unsigned char sk[32], pk[32];
		EVP_PKEY *key;

		if (identities[i] == NULL || parse_identity(sk, identities[i])) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"identity %zu: not an age X25519 identity", i + 1);
			goto out;
		}
		key = x25519_private(sk);
		OPENSSL_cleanse(sk, sizeof(sk));
		if (key == NULL || x25519_public(pk, key) != 0) {
			EVP_PKEY_free(key);
			st = custos__error_openssl(err, "age: X25519 identity");
			goto out;
		}
		for (size_t j = 0; j < nxs && !found; j++) {
			unsigned char shared[32], salt[64], wrap_key[32];
			int rc = x25519(shared, key, xs[j].share);

			if (rc != 0) {
				EVP_PKEY_free(key);
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"age header: X25519 share of low order");
				goto out;
			}
			memcpy(salt, xs[j].share, 32);
			memcpy(salt + 32, pk, 32);
			rc = hkdf(wrap_key, 32, shared, 32, salt, 64, x25519_info);
			OPENSSL_cleanse(shared, sizeof(shared));
			if (rc == 0 && aead(r->cipher, 0, wrap_key, zero_nonce,
					xs[j].body, FILE_KEY + TAG, file_key) == 0)
				found = 1;
			OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
		}
		EVP_PKEY_free(key);
	}
	if (!found) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"age: no identity matches any recipient (wrong key)");
		goto out;
	}
	if (hkdf(mac_key, 32, file_key, FILE_KEY, NULL, 0, "header") ||
	    HMAC(EVP_sha256(), mac_key, 32, (unsigned char *)hdr, mac_off, want,
			&maclen) == NULL || maclen != 32) {
		st = custos__error_openssl(err, "age: header MAC");
		goto out;
	}
	if (CRYPTO_memcmp(want, mac, 32) != 0) {
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"age: header MAC mismatch (header tampered)");
		goto out;
	}
	for (size_t i = 0; i < NONCE; i++) {
		int c = reader_byte(r, &st, err);
		if (c < 0) {
			if (st == CUSTOS_OK)
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"age: truncated before the payload nonce ended");
			goto out;
		}
		nonce[i] = (unsigned char)c;
	}
	if (hkdf(r->key, 32, file_key, FILE_KEY, nonce, NONCE, "payload")) {
		st = custos__error_openssl(err, "age: payload key");
		goto out;
	}
	*out = r;
	r = NULL;
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	free(hdr);
	free(xs);
	custos_age_reader_free(r);
	return st;
}

/* Decrypt the next chunk into r->out. */
static custos_status reader_chunk(custos_age_reader *r, custos_error *err)
{
	unsigned char nonce[12];
	size_t avail, clen;
	int last;
	custos_status st = reader_fill(r, err);

	if (st != CUSTOS_OK)
		return st;
	avail = r->in_len - r->in_pos;
	if (avail == 0 && r->counter == 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"age payload: no chunks (truncated stream)");
	if (avail < TAG)
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"age payload: chunk %llu truncated (%zu bytes)",
			(unsigned long long)r->counter, avail);
	last = avail <= CHUNK + TAG;
	clen = last ? avail : CHUNK + TAG;
	stream_nonce(nonce, r->counter, last);
	if (aead(r->cipher, 0, r->key, nonce, r->in + r->in_pos, clen,
			r->out) != 0) {
		/* Name the failure: a missing final chunk, trailing data, or a
		 * chunk that does not authenticate. */
		stream_nonce(nonce, r->counter, !last);
		if (clen == CHUNK + TAG && aead(r->cipher, 0, r->key, nonce,
				r->in + r->in_pos, clen, r->out) == 0) {
			OPENSSL_cleanse(r->out, sizeof(r->out));
			return custos__error_set(err, CUSTOS_EMISMATCH, last ?
				"age payload: truncated stream (final chunk missing "
				"after chunk %llu)" :
				"age payload: data after the final chunk %llu",
				(unsigned long long)r->counter);
		}
		return custos__error_set(err, CUSTOS_EMISMATCH,
			"age payload: chunk %llu fails authentication (tampered "
			"or truncated)", (unsigned long long)r->counter);
	}
	if (last && clen == TAG && r->counter > 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"age payload: empty final chunk after chunk %llu",
			(unsigned long long)r->counter);
	r->in_pos += clen;
	r->out_pos = 0;
	r->out_len = clen - TAG;
	r->counter++;
	if (last)
		r->done = 1;
	return CUSTOS_OK;
}

custos_status custos_age_reader_read(custos_age_reader *r, void *buf,
		size_t cap, size_t *got, custos_error *err)
{
	custos_status st;

	if (r == NULL || got == NULL || (buf == NULL && cap > 0))
		return custos__error_set(err, CUSTOS_EINVAL, "age: bad read");
	*got = 0;
	if (r->failed)
		return custos__error_set(err, CUSTOS_EINVAL,
			"age: read after a failure");
	while (r->out_pos == r->out_len) {
		if (r->done)
			return CUSTOS_OK;
		st = reader_chunk(r, err);
		if (st != CUSTOS_OK) {
			r->failed = 1;
			return st;
		}
	}
	if (cap > r->out_len - r->out_pos)
		cap = r->out_len - r->out_pos;
	memcpy(buf, r->out + r->out_pos, cap);
	r->out_pos += cap;
	*got = cap;
	return CUSTOS_OK;
}
