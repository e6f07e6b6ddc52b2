/* C2SP signed notes (Ed25519) and tlog-checkpoint bodies. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cert_private.h"
#include "custos/note.h"
#include "error_private.h"
#include "note_private.h"
#include "text_private.h"
#include "util_private.h"

#define ALG_ED25519 0x01
#define KEY_FILE_MAX (64u << 10)
/* At least the 16 C2SP asks verifiers to accept. */
#define NOTE_SIGNATURES_MAX 64

static const char dash[] = "\xe2\x80\x94 "; /* U+2014 EM DASH, space */

char *custos__b64_encode(const void *data, size_t len)
{
	char *out;

	if (len > (SIZE_MAX / 4) * 3 - 3 || len > INT32_MAX)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int b64_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '+' || c == '/';
}

long custos__b64_decode(unsigned char *out, size_t cap, const char *in,
		size_t inlen)
{
	unsigned char *tmp;
	size_t pad = 0, n;
	int r;

	if (inlen == 0 || inlen % 4 != 0 || inlen > (1u << 20))
		return -1;
	if (in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < inlen - pad; i++)
		if (!b64_char((unsigned char)in[i]))
			return -1;
	n = inlen / 4 * 3 - pad;
	if (n > cap)
		return -1;
	tmp = malloc(inlen / 4 * 3 + 1);
	if (tmp == NULL)
		return -1;
	r = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
	if (r < 0 || (size_t)r != inlen / 4 * 3) {
		free(tmp);
		return -1;
	}
	memcpy(out, tmp, n);
	free(tmp);
	return (long)n;
}

/*
 * C2SP signed-note: a key name is non-empty and holds neither Unicode
 * spaces nor '+'.  custos also refuses what is not UTF-8 and the controls
 * a terminal would act on, so a name prints as it reads.
 */
static int name_ok_n(const char *name, size_t n)
{
	const unsigned char *s = (const unsigned char *)name;

	if (n == 0 || n >= CUSTOS_NOTE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = custos__utf8_decode(s + i, n - i, &cp);

		if (k == 0 || cp == '+' || custos__unicode_is_space(cp) ||
		    custos__unicode_is_control(cp))
			return 0;
		i += k;
	}
	return 1;
}

static int name_ok(const char *name)
{
	return name_ok_n(name, strlen(name));
}

/* C2SP: a note is valid UTF-8 without ASCII controls other than LF. */
static int utf8_no_controls(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = custos__utf8_decode(s + i, len - i, &cp);

		if (k == 0 || (cp < 0x20 && cp != '\n'))
			return 0;
		i += k;
	}
	return 1;
}

static void key_id(unsigned char id[4], const char *name,
		const unsigned char pub[32])
{
	unsigned char md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char sep[2] = {'\n', ALG_ED25519};

	memset(md, 0, sizeof(md));
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, name, strlen(name)) == 1 &&
	    EVP_DigestUpdate(c, sep, 2) == 1 &&
	    EVP_DigestUpdate(c, pub, 32) == 1)
		EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	memcpy(id, md, 4);
}

static custos_status make_vkey(char **vkey, const char *name,
		EVP_PKEY *pkey, custos_error *err)
{
	unsigned char raw[33], id[4];
	size_t len = 32;
	char *b64;

	*vkey = NULL;
	raw[0] = ALG_ED25519;
	if (EVP_PKEY_get_raw_public_key(pkey, raw + 1, &len) != 1 ||
	    len != 32)
		return custos__error_openssl(err,
			"cannot read the Ed25519 public key");
	key_id(id, name, raw + 1);
	b64 = custos__b64_encode(raw, sizeof(raw));
	if (b64 != NULL)
		*vkey = custos__aprintf("%s+%02x%02x%02x%02x+%s", name, id[0],
			id[1], id[2], id[3], b64);
	free(b64);
	if (*vkey == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

static custos_status pub_pem_of(char **pem, EVP_PKEY *pkey,
		custos_error *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	*pem = NULL;
	if (b == NULL || PEM_write_bio_PUBKEY(b, pkey) != 1) {
		BIO_free(b);
		return custos__error_openssl(err, "cannot write the public key");
	}
	n = BIO_get_mem_data(b, &p);
	*pem = malloc((size_t)n + 1);
	if (*pem != NULL) {
		memcpy(*pem, p, (size_t)n);
		(*pem)[n] = '\0';
	}
	BIO_free(b);
	if (*pem == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

custos_status custos_note_keygen(char **vkey, char **pub_pem,
		const char *name, const char *key_path, custos_error *err)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIO *b = NULL;
	char *data;
	long n;
	custos_status st;

	if (vkey == NULL || name == NULL || key_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_note_keygen: NULL argument");
	*vkey = NULL;
	if (pub_pem != NULL)
		*pub_pem = NULL;
	if (!name_ok(name))
		return custos__error_set(err, CUSTOS_EINVAL,
			"bad key name '%s': it must be 1 to %d printable "
			"characters without spaces or '+'", name,
			CUSTOS_NOTE_NAME_MAX - 1);
	if (custos__path_exists(key_path))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; not overwritten", key_path);
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1) {
		st = custos__error_openssl(err, "cannot make an Ed25519 key");
		goto done;
	}
	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0,
			NULL, NULL) != 1) {
		st = custos__error_openssl(err, "cannot encode the key");
		goto done;
	}
	n = BIO_get_mem_data(b, &data);
	st = make_vkey(vkey, name, pkey, err);
	if (st == CUSTOS_OK && pub_pem != NULL)
		st = pub_pem_of(pub_pem, pkey, err);
	if (st == CUSTOS_OK)
		st = custos__write_file_atomic_mode(key_path, data, (size_t)n,
			0600, err);
	if (n > 0)
		OPENSSL_cleanse(data, (size_t)n);
done:
	if (st != CUSTOS_OK) {
		free(*vkey);
		*vkey = NULL;
		if (pub_pem != NULL) {
			free(*pub_pem);
			*pub_pem = NULL;
		}
	}
	BIO_free(b);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return st;
}

static custos_status load_ed25519(EVP_PKEY **out, const char *key_path,
		custos_error *err)
{
	unsigned char *data;
	size_t len;
	custos_status st;
	BIO *b;

	*out = NULL;
	st = custos__read_file_max(key_path, KEY_FILE_MAX, &data, &len,
		"log key", err);
	if (st != CUSTOS_OK)
		return st;
	b = BIO_new_mem_buf(data, (int)len);
	if (b != NULL)
		*out = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	OPENSSL_cleanse(data, len);
	free(data);
	ERR_clear_error();
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s is not an unencrypted PEM private key", key_path);
	if (EVP_PKEY_get_base_id(*out) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s is not an Ed25519 key", key_path);
	}
	return CUSTOS_OK;
}

custos_status custos_note_vkey_of(char **vkey, const char *name,
		const char *key_path, custos_error *err)
{
	EVP_PKEY *pkey;
	custos_status st;

	if (vkey == NULL || name == NULL || key_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_note_vkey_of: NULL argument");
	*vkey = NULL;
	if (!name_ok(name))
		return custos__error_set(err, CUSTOS_EINVAL, "bad key name");
	if ((st = load_ed25519(&pkey, key_path, err)) != CUSTOS_OK)
		return st;
	st = make_vkey(vkey, name, pkey, err);
	EVP_PKEY_free(pkey);
	return st;
}

/* Split a vkey into name, key id and public key. */
static custos_status vkey_split(const char *vkey,
		char name[CUSTOS_NOTE_NAME_MAX], unsigned char id[4],
		unsigned char pub[32], custos_error *err)
{
	const char *p1, *p2;
	unsigned char raw[64], want[4];
	long n;

	if (vkey == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no log key");
	p1 = strchr(vkey, '+');
	p2 = p1 != NULL ? strchr(p1 + 1, '+') : NULL;
	if (p1 == NULL || p2 == NULL || p2 - p1 != 9 ||
	    (size_t)(p1 - vkey) >= CUSTOS_NOTE_NAME_MAX || p1 == vkey)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a verifier key (name+id+key)");
	memcpy(name, vkey, (size_t)(p1 - vkey));
	name[p1 - vkey] = '\0';
	for (int i = 0; i < 4; i++) {
		unsigned int b;
		char hx[3] = {p1[1 + 2 * i], p1[2 + 2 * i], '\0'};

		if (!((hx[0] >= '0' && hx[0] <= '9') ||
		      (hx[0] >= 'a' && hx[0] <= 'f')) ||
		    !((hx[1] >= '0' && hx[1] <= '9') ||
		      (hx[1] >= 'a' && hx[1] <= 'f')) ||
		    sscanf(hx, "%2x", &b) != 1)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"verifier key: bad key id");
		id[i] = (unsigned char)b;
	}
	n = custos__b64_decode(raw, sizeof(raw), p2 + 1, strlen(p2 + 1));
	if (n != 33 || raw[0] != ALG_ED25519 || !name_ok(name))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"verifier key: not an Ed25519 key");
	memcpy(pub, raw + 1, 32);
	key_id(want, name, pub);
	if (memcmp(want, id, 4) != 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"verifier key: the key id does not match the key");
	return CUSTOS_OK;
}

custos_status custos_note_vkey_parse(const char *vkey,
		char name[CUSTOS_NOTE_NAME_MAX], custos_error *err)
{
	unsigned char id[4], pub[32];

	return vkey_split(vkey, name, id, pub, err);
}

custos_status custos_note_vkey_pem(char **pem, const char *vkey,
		custos_error *err)
{
	char name[CUSTOS_NOTE_NAME_MAX];
	unsigned char id[4], pub[32];
	EVP_PKEY *pkey;
	custos_status st;

	*pem = NULL;
	if ((st = vkey_split(vkey, name, id, pub, err)) != CUSTOS_OK)
		return st;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	if (pkey == NULL)
		return custos__error_openssl(err, "bad Ed25519 public key");
	st = pub_pem_of(pem, pkey, err);
	EVP_PKEY_free(pkey);
	return st;
}

static int text_ok(const char *text, size_t len)
{
	if (len == 0 || text[len - 1] != '\n' || !utf8_no_controls(text, len))
		return 0;
	for (size_t i = 0; i + 1 < len; i++)
		if (text[i] == '\n' && text[i + 1] == '\n')
			return 0;
	return text[0] != '\n';
}

custos_status custos_note_sign(char **note, const char *text, size_t len,
		const char *name, const char *key_path, custos_error *err)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char blob[4 + 64], pub[32];
	size_t siglen = 64, publen = 32;
	char *b64 = NULL;
	custos_status st;

	if (note == NULL || text == NULL || name == NULL || key_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_note_sign: NULL argument");
	*note = NULL;
	if (!text_ok(text, len) || len > CUSTOS_NOTE_MAX / 2 || !name_ok(name))
		return custos__error_set(err, CUSTOS_EINVAL,
			"a note text must be non-empty lines, each ending in "
			"LF, and the key name printable without spaces");
	if ((st = load_ed25519(&pkey, key_path, err)) != CUSTOS_OK)
		return st;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &publen) != 1) {
		st = custos__error_openssl(err, "cannot read the public key");
		goto done;
	}
	key_id(blob, name, pub);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(md, blob + 4, &siglen,
		    (const unsigned char *)text, len) != 1 || siglen != 64) {
		st = custos__error_openssl(err, "cannot sign the note");
		goto done;
	}
	b64 = custos__b64_encode(blob, sizeof(blob));
	if (b64 != NULL)
		*note = custos__aprintf("%.*s\n%s%s %s\n", (int)len, text, dash,
			name, b64);
	if (*note == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
done:
	free(b64);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return st;
}

custos_status custos_note_verify(size_t *text_len, const char *note,
		size_t len, const char *vkey, custos_error *err)
{
	char name[CUSTOS_NOTE_NAME_MAX];
	unsigned char id[4], pub[32];
	size_t tlen = 0, nlen, p;
	EVP_PKEY *pkey = NULL;
	custos_status st;
	int found_line = 0, good = 0;

	if (text_len == NULL || note == NULL || vkey == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_note_verify: NULL argument");
	if ((st = vkey_split(vkey, name, id, pub, err)) != CUSTOS_OK)
		return st;
	if (len > CUSTOS_NOTE_MAX || len < 2 || note[len - 1] != '\n' ||
	    memchr(note, '\0', len) != NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a signed note (too long, empty, or no final LF)");
	/* The text ends at the last blank line. */
	for (size_t i = len - 1; i > 0; i--) {
		if (note[i] == '\n' && note[i - 1] == '\n') {
			tlen = i;
			break;
		}
	}
	if (tlen == 0 || !text_ok(note, tlen))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a signed note (no text, or no blank line before "
			"the signatures)");
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	if (pkey == NULL)
		return custos__error_openssl(err, "bad Ed25519 public key");
	nlen = strlen(name);
	if (!utf8_no_controls(note, len)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"signed note: not UTF-8, or a control character");
		goto done;
	}
	for (p = tlen + 1; p < len;) {
		const char *line = note + p;
		const char *end = memchr(line, '\n', len - p);
		size_t ll = (size_t)(end - line);
		unsigned char blob[4 + 64 + 8];
		const char *b, *sp;
		long n;
		int ours, verified;

		p += ll + 1;
		if (ll < sizeof(dash) - 1 ||
		    memcmp(line, dash, sizeof(dash) - 1) != 0) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"signed note: a signature line does not start "
				"with an em dash");
			goto done;
		}
		if (++found_line > NOTE_SIGNATURES_MAX) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"signed note: more than %d signatures",
				NOTE_SIGNATURES_MAX);
			goto done;
		}
		/* The same line twice is a repeated (or replayed) line. */
		for (size_t q = tlen + 1; q < (size_t)(line - note);) {
			const char *prev_end = memchr(note + q, '\n', len - q);
			size_t pl = (size_t)(prev_end - (note + q));

			if (pl == ll && memcmp(note + q, line, ll) == 0) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"signed note: a signature line appears "
					"more than once");
				goto done;
			}
			q += pl + 1;
		}
		b = line + sizeof(dash) - 1;
		sp = memchr(b, ' ', (size_t)(end - b));
		if (sp == NULL || !name_ok_n(b, (size_t)(sp - b)) ||
		    (n = custos__b64_decode(blob, sizeof(blob), sp + 1,
			    (size_t)(end - sp - 1))) < 5) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"signed note: a signature line is not \"— "
				"<key name> <base64 signature>\"");
			goto done;
		}
		/* C2SP: a key is its name and its id; others are ignored. */
		ours = (size_t)(sp - b) == nlen && memcmp(b, name, nlen) == 0 &&
			memcmp(blob, id, 4) == 0;
		if (!ours)
			continue;
		{
			EVP_MD_CTX *md = EVP_MD_CTX_new();

			verified = n == 68 && md != NULL &&
				EVP_DigestVerifyInit(md, NULL, NULL, NULL,
					pkey) == 1 &&
				EVP_DigestVerify(md, blob + 4, 64,
					(const unsigned char *)note, tlen) == 1;
			EVP_MD_CTX_free(md);
		}
		if (verified && good) {
			/* Two different lines, both good: contradictory. */
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"signed note: two signatures by the log key %s",
				name);
			goto done;
		}
		good |= verified;
		if (!verified) {
			/* Any failing signature by a known key rejects the
			 * whole note, even beside a good one. */
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"a signature by the log key %s does not verify",
				name);
			goto done;
		}
	}
	if (!found_line)
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"signed note: no signature lines");
	else if (!good)
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"no valid signature by the log key %s", vkey);
	else
		*text_len = tlen;
done:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return st;
}

custos_status custos_note_checkpoint_text(char **text, const char *origin,
		uint64_t size, const custos_merkle_hash root, custos_error *err)
{
	char *b64;

	*text = NULL;
	if (origin == NULL || origin[0] == '\0' || strchr(origin, '\n'))
		return custos__error_set(err, CUSTOS_EINVAL, "bad origin");
	b64 = custos__b64_encode(root, CUSTOS_MERKLE_HASH_SIZE);
	if (b64 != NULL)
		*text = custos__aprintf("%s\n%" PRIu64 "\n%s\n", origin, size,
			b64);
	free(b64);
	if (*text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

custos_status custos_note_checkpoint_parse(char **origin, uint64_t *size,
		custos_merkle_hash root, const char *text, size_t len,
		custos_error *err)
{
	const char *l1, *l2, *l3, *end = text + len;
	uint64_t n = 0;

	*origin = NULL;
	l1 = memchr(text, '\n', len);
	l2 = l1 != NULL ? memchr(l1 + 1, '\n', (size_t)(end - l1 - 1)) : NULL;
	l3 = l2 != NULL ? memchr(l2 + 1, '\n', (size_t)(end - l2 - 1)) : NULL;
	if (l3 == NULL || l1 == text)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"checkpoint: fewer than three lines");
	if (l2 - l1 - 1 < 1 || l2 - l1 - 1 > 20 ||
	    (l1[1] == '0' && l2 - l1 - 1 > 1))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"checkpoint: bad tree size");
	for (const char *p = l1 + 1; p < l2; p++) {
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
			return custos__error_set(err, CUSTOS_EFORMAT,
				"checkpoint: bad tree size");
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (custos__b64_decode(root, CUSTOS_MERKLE_HASH_SIZE, l2 + 1,
			(size_t)(l3 - l2 - 1)) != CUSTOS_MERKLE_HASH_SIZE)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"checkpoint: the root is not base64 of 32 bytes");
	*origin = strndup(text, (size_t)(l1 - text));
	if (*origin == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	*size = n;
	return CUSTOS_OK;
}
