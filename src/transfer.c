/*
 * The encrypted side of a bundle.  Writing: the age stream is cut into
 * parts OUT.tar.age.000, .001, ... (made in the staging folder, fsynced,
 * each hashed with SHA-256 while written), then the cleartext transfer
 * manifest lists them with the bundle id, the request references and the
 * recipients' fingerprints, and is signed.  Verifying: the manifest is
 * read once and its signature checked over those bytes, then its lines
 * are parsed strictly (each header once, no part or recipient twice),
 * every part's size and SHA-256 are checked against it, and only then are
 * the parts read back, and hashed again, as one stream for decryption.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "custos/age.h"
#include "custos/sign.h"
#include "transfer_private.h"
#include "bundle_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

/* ------------------------------------------------------------------ */
/* Writing: parts, the encrypted stream cut into OUT.tar.age.NNN. */

char *custos__part_name(const char *base, unsigned int i)
{
	return custos__aprintf("%s.tar.age.%03u", base, i);
}

custos_status custos__parts_close(custos__parts *p, custos_error *err)
{
	unsigned char d[32];

	if (p->fd < 0)
		return CUSTOS_OK;
	if (fsync(p->fd) != 0 || close(p->fd) != 0) {
		int e = errno;
		char *name = custos__part_name(p->final_base, p->count - 1);
		p->fd = -1;
		custos__error_errno(err, e, "writing part %s",
			name ? name : "?");
		free(name);
		return custos__status_from_errno(e);
	}
	p->fd = -1;
	EVP_DigestFinal_ex(p->md, d, NULL);
	custos__hex_into(p->list[p->count - 1].sha256, d, 32);
	p->list[p->count - 1].size = p->cur;
	return CUSTOS_OK;
}

custos_status custos__parts_open_next(custos__parts *p, custos_error *err)
{
	char *final, *tmp;
	custos_status st;

	if (p->count >= PARTS_MAX)
		return custos__error_set(err, CUSTOS_ENOSPC,
			"more than %d parts: use a larger --split", PARTS_MAX);
	if (p->count == p->list_cap) {
		size_t cap = p->list_cap ? p->list_cap * 2 : 16;
		custos__part_info *l = realloc(p->list, cap * sizeof(*l));
		if (l == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		p->list = l;
		p->list_cap = cap;
	}
	final = custos__part_name(p->final_base, p->count);
	tmp = custos__part_name(custos__basename(p->final_base), p->count);
	if (final == NULL || tmp == NULL) {
		free(final);
		free(tmp);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	/* Made in the private folder, committed with the rest at the end. */
	{
		const char *path = custos__staged_add(p->stage, tmp, final,
			"part", err);
		st = path == NULL ? CUSTOS_ENOMEM :
			custos__create_exclusive(&p->fd, path, 0644, err);
	}
	if (st != CUSTOS_OK && st != CUSTOS_ENOMEM) {
		char why[CUSTOS_ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
		custos__error_set(err, st, "writing part %s: %s", final, why);
	}
	free(final);
	free(tmp);
	if (st != CUSTOS_OK)
		return st;
	p->count++;
	p->cur = 0;
	EVP_DigestInit_ex(p->md, EVP_sha256(), NULL);
	return CUSTOS_OK;
}

custos_status custos__parts_sink(void *ctx, const void *data, size_t len,
		custos_error *err)
{
	custos__parts *p = ctx;
	const unsigned char *d = data;

	while (len > 0) {
		size_t n = len;
		custos_status st;

		if (p->fd < 0 || (p->split && p->cur == p->split)) {
			if ((st = custos__parts_close(p, err)) != CUSTOS_OK ||
			    (st = custos__parts_open_next(p, err)) != CUSTOS_OK)
				return st;
		}
		if (p->split && n > p->split - p->cur)
			n = (size_t)(p->split - p->cur);
		st = custos__write_all(p->fd, d, n, "part", err);
		if (st != CUSTOS_OK) {
			char why[CUSTOS_ERROR_MESSAGE_MAX];
			char *name = custos__part_name(p->final_base,
				p->count - 1);
			snprintf(why, sizeof(why), "%s",
				err != NULL ? err->message : "?");
			custos__error_set(err, st, "writing part %s: %s",
				name ? name : "?", why);
			free(name);
			return st;
		}
		EVP_DigestUpdate(p->md, d, n);
		p->cur += n;
		d += n;
		len -= n;
	}
	return CUSTOS_OK;
}

void custos__parts_free(custos__parts *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	EVP_MD_CTX_free(p->md);
	p->md = NULL;
	free(p->list);
	p->list = NULL;
}

/*
 * Register output+suffix in the staging folder; with data, write it there
 * (exclusively, fsynced).  *path receives the staged name (borrowed).  The
 * signature is registered first but written by custos_sign_file, so it is
 * committed before the manifest: a manifest under its final name always
 * has its signature beside it.
 */
static custos_status staged_write(custos__staged *stage, const char *output,
		const char *suffix, const void *data, size_t len,
		const char *step, const char **path, custos_error *err)
{
	char *final = custos__aprintf("%s%s", output, suffix);
	char *name = custos__aprintf("%s%s", custos__basename(output), suffix);
	const char *tmp = NULL;
	custos_status st = CUSTOS_OK;
	int fd = -1;

	if (final == NULL || name == NULL ||
	    (tmp = custos__staged_add(stage, name, final, step, err)) == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (st == CUSTOS_OK && data != NULL) {
		st = custos__create_exclusive(&fd, tmp, 0644, err);
		if (st == CUSTOS_OK)
			st = custos__write_all(fd, data, len, step, err);
		if (st == CUSTOS_OK && fsync(fd) != 0)
			st = custos__error_errno(err, errno, "fsync");
		if (fd >= 0 && close(fd) != 0 && st == CUSTOS_OK)
			st = custos__error_errno(err, errno, "close");
		if (st != CUSTOS_OK) {
			char why[CUSTOS_ERROR_MESSAGE_MAX];
			snprintf(why, sizeof(why), "%s",
				err != NULL ? err->message : "?");
			custos__error_set(err, st, "writing %s %s: %s", step,
				final, why);
		}
	}
	if (path != NULL)
		*path = tmp;
	free(final);
	free(name);
	return st;
}

custos_status custos__transfer_manifest_write(custos__staged *stage,
		const char *output, const custos__transfer_info *info,
		const custos__parts *p, const custos_sign_options *sign,
		custos_error *err)
{
	custos__sbuf tm = {0};
	const char *tm_path = NULL;
	uint64_t total = 0;
	custos_status st = CUSTOS_OK;

	tm.max = MANIFEST_MAX;
	custos__sb_str(&tm, "Custos-Transfer-Manifest: 1\n");
	custos__sb_tag_line(&tm, "Bundle-Id", info->bundle_id);
	custos__sb_tag_line(&tm, "Created", info->created);
	custos__sb_tag_line(&tm, "Request-Reference", info->request_reference);
	custos__sb_tag_line(&tm, "Case-Reference", info->case_reference);
	custos__sb_str(&tm, "Encryption: age-encryption.org/v1 X25519\n");
	for (size_t i = 0; i < info->recipient_count; i++) {
		char fp[65];
		if ((st = custos_age_recipient_fingerprint(fp,
				info->recipients[i], err)) != CUSTOS_OK)
			goto out;
		custos__sb_printf(&tm, "Recipient: %s sha256:%s\n",
			info->recipients[i], fp);
	}
	for (unsigned int i = 0; i < p->count; i++)
		total += p->list[i].size;
	custos__sb_printf(&tm, "Part-Count: %u\nTotal-Size: %llu\n", p->count,
		(unsigned long long)total);
	for (unsigned int i = 0; i < p->count; i++) {
		char *name = custos__part_name(custos__basename(output), i);
		if (name == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
			goto out;
		}
		custos__sb_printf(&tm, "Part: %s %llu %s\n", name,
			(unsigned long long)p->list[i].size,
			p->list[i].sha256);
		free(name);
	}
	if (tm.failed) {
		st = custos__error_set(err, CUSTOS_ENOMEM,
			"transfer manifest too large");
		goto out;
	}
	/* Written and signed in the private folder; committed, after the
	 * parts, with the rest. */
	if ((st = staged_write(stage, output, ".transfer-manifest.txt.p7s",
			NULL, 0, "signature of the transfer manifest", NULL,
			err)) != CUSTOS_OK ||
	    (st = staged_write(stage, output, ".transfer-manifest.txt",
			tm.data, tm.len, "transfer manifest", &tm_path, err)) !=
			CUSTOS_OK)
		goto out;
	if ((st = custos_sign_file(tm_path, sign, err)) != CUSTOS_OK) {
		char why[CUSTOS_ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
		custos__error_set(err, st, "signature of the transfer manifest "
			"%s.transfer-manifest.txt.p7s: %s", output, why);
	}
out:
	free(tm.data);
	return st;
}

/* ------------------------------------------------------------------ */
/* Verifying: the transfer manifest and the parts it lists. */

/*
 * The labels of a version 1 manifest.  Each header may appear once: a
 * second one, even with the same value, is refused, so the first and the
 * last value can never disagree about what was signed.  Recipient and
 * Part repeat, but never with the same value.
 */
static const char *const header_labels[] = {
	"Custos-Transfer-Manifest", "Bundle-Id", "Created",
	"Request-Reference", "Case-Reference", "Encryption", "Part-Count",
	"Total-Size",
};
#define H_VERSION 0
#define H_BUNDLE_ID 1
#define H_PART_COUNT 6
#define H_TOTAL_SIZE 7
#define HEADERS (sizeof(header_labels) / sizeof(header_labels[0]))

/* All digits, no sign or blank, at most 20 of them; 0 if not. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' ||
		    v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 1;
}

static int lower_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* A part's file name: no folder, not hidden, no control character. */
static int part_name_ok(const char *name, size_t n)
{
	if (n == 0 || n > 255 || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f ||
		    name[i] == '/')
			return 0;
	return 1;
}

/* "Part: NAME SIZE SHA256", NAME possibly with spaces: parsed from the
 * right. */
static custos_status part_line(custos__bag *b, custos__transfer *t,
		const char *v, size_t n)
{
	const char *sp2 = strrchr(v, ' '), *sp1 = NULL;
	custos__transfer_part *tp;
	char size[24];

	if (t->parts == NULL || t->n >= t->part_count)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest line %zu: more parts than Part-Count "
			"(or Part before Part-Count)", n);
	if (sp2 != NULL)
		for (const char *c = sp2 - 1; c >= v; c--)
			if (*c == ' ') {
				sp1 = c;
				break;
			}
	if (sp1 == NULL || (size_t)(sp2 - sp1 - 1) >= sizeof(size) ||
	    !lower_hex64(sp2 + 1) || !part_name_ok(v, (size_t)(sp1 - v)))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest line %zu: malformed Part", n);
	memcpy(size, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	size[sp2 - sp1 - 1] = '\0';
	tp = &t->parts[t->n];
	if (!parse_u64(size, &tp->size))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest line %zu: malformed Part size", n);
	tp->name = malloc((size_t)(sp1 - v) + 1);
	if (tp->name == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	memcpy(tp->name, v, (size_t)(sp1 - v));
	tp->name[sp1 - v] = '\0';
	tp->path = custos__aprintf("%s/%s", t->dir, tp->name);
	if (tp->path == NULL) {
		free(tp->name);
		tp->name = NULL;
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	}
	memcpy(tp->sha256, sp2 + 1, 65);
	t->n++;
	return CUSTOS_OK;
}

static custos_status recipient_line(custos__bag *b, custos__transfer *t,
		const char *line, size_t n)
{
	char **l;

	for (size_t i = 0; i < t->recipient_count; i++)
		if (strcmp(t->recipients[i], line) == 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest line %zu: the same Recipient "
				"twice", n);
	if (t->recipient_count >= 1024)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest: too many recipients");
	l = realloc(t->recipients, (t->recipient_count + 1) * sizeof(*l));
	if (l == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	t->recipients = l;
	l[t->recipient_count] = custos__strdup(line);
	if (l[t->recipient_count] == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	t->recipient_count++;
	return CUSTOS_OK;
}

static custos_status transfer_line(custos__bag *b, char *line, size_t n,
		void *vctx)
{
	custos__transfer *t = vctx;
	const char *colon = strstr(line, ": "), *v;
	size_t ll, h;

	if (n == 1 && strcmp(line, "Custos-Transfer-Manifest: 1") != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"not a custos transfer manifest (version 1)");
	if (colon == NULL || colon == line)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest line %zu: not 'Label: value'", n);
	ll = (size_t)(colon - line);
	v = colon + 2;
	if (ll == 4 && strncmp(line, "Part", 4) == 0)
		return part_line(b, t, v, n);
	if (ll == 9 && strncmp(line, "Recipient", 9) == 0)
		return recipient_line(b, t, line, n);
	for (h = 0; h < HEADERS; h++)
		if (strlen(header_labels[h]) == ll &&
		    strncmp(line, header_labels[h], ll) == 0)
			break;
	if (h == HEADERS)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest line %zu: unknown label", n);
	if (t->seen & (1u << h))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest line %zu: repeated %s (each header "
			"appears once)", n, header_labels[h]);
	t->seen |= 1u << h;
	if (h == H_BUNDLE_ID) {
		custos__copy_value(t->bundle_id, sizeof(t->bundle_id), v);
	} else if (h == 3) {
		custos__copy_value(b->request_reference,
			sizeof(b->request_reference), v);
	} else if (h == H_PART_COUNT) {
		uint64_t c;
		if (!parse_u64(v, &c) || c == 0 || c > PARTS_MAX)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: bad Part-Count");
		t->part_count = (unsigned long)c;
		t->parts = calloc(t->part_count, sizeof(*t->parts));
		if (t->parts == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
	} else if (h == H_TOTAL_SIZE) {
		if (!parse_u64(v, &t->total_size))
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: bad Total-Size");
	}
	return CUSTOS_OK;
}

static int part_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* After every line: complete, one name per part, sizes adding up. */
static custos_status transfer_complete(custos__bag *b, custos__transfer *t)
{
	uint64_t total = 0;
	char **names;
	custos_status st = CUSTOS_OK;

	if (!(t->seen & (1u << H_VERSION)) || t->bundle_id[0] == '\0' ||
	    t->n != t->part_count || t->n == 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest: incomplete (id, parts)");
	for (size_t i = 0; i < t->n; i++) {
		if (t->parts[i].size > UINT64_MAX - total)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: part sizes overflow");
		total += t->parts[i].size;
	}
	if ((t->seen & (1u << H_TOTAL_SIZE)) && total != t->total_size)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest: Total-Size %llu but the parts add up "
			"to %llu", (unsigned long long)t->total_size,
			(unsigned long long)total);
	names = malloc(t->n * sizeof(*names));
	if (names == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n; i++)
		names[i] = t->parts[i].name;
	qsort(names, t->n, sizeof(*names), part_name_cmp);
	for (size_t i = 1; i < t->n && st == CUSTOS_OK; i++)
		if (strcmp(names[i], names[i - 1]) == 0)
			st = custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: a part is listed twice");
	free(names);
	return st;
}

custos_status custos__transfer_parse(custos__transfer *t, custos__bag *b,
		char *text, size_t len, const char *dir)
{
	custos_status st;

	memset(t, 0, sizeof(*t));
	if (memchr(text, '\0', len) != NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest: holds a NUL byte");
	t->dir = custos__strdup(dir);
	if (t->dir == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	if ((st = custos__each_line(b, text, transfer_line, t)) != CUSTOS_OK)
		return st;
	return transfer_complete(b, t);
}

/* A file the bundle names (a part, a signature) that is not a regular
 * file makes the bundle hostile, not the command wrong. */
static custos_status bundle_member_status(custos_status st)
{
	return st == CUSTOS_EINVAL ? CUSTOS_EFORMAT : st;
}

custos_status custos__transfer_open(custos__transfer *t, custos__bag *b,
		char sha256[65], const char *path, const char *const *trust,
		size_t trust_count)
{
	unsigned char *text = NULL, *p7s = NULL, d[32];
	size_t len = 0, p7s_len = 0;
	char *p7s_path = NULL;
	custos_status st;

	memset(t, 0, sizeof(*t));
	/* Read once; the signature is checked over these very bytes, and
	 * the same bytes are parsed (nothing can change in between). */
	if ((st = custos__read_file_max(path, MANIFEST_MAX, &text, &len,
			"transfer manifest", b->err)) != CUSTOS_OK)
		return st;
	p7s_path = custos__aprintf("%s.p7s", path);
	if (p7s_path == NULL) {
		st = custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	st = custos__read_file_max(p7s_path, P7S_MAX, &p7s, &p7s_len,
		"signature", b->err);
	if (st == CUSTOS_ENOTFOUND) {
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"transfer manifest is not signed (.p7s missing)");
		goto out;
	}
	if (st != CUSTOS_OK) {
		st = bundle_member_status(st);
		goto out;
	}
	if ((st = custos__verify_detached(text, len, p7s, p7s_len,
			"transfer manifest", trust, trust_count, b->err)) !=
			CUSTOS_OK)
		goto out;
	EVP_Digest(text, len, d, NULL, EVP_sha256(), NULL);
	custos__hex_into(sha256, d, 32);
	{
		char *dir = custos__dirname(path);
		st = dir == NULL ?
			custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory") :
			custos__transfer_parse(t, b, (char *)text, len, dir);
		free(dir);
	}
out:
	free(p7s_path);
	free(p7s);
	free(text);
	return st;
}

void custos__transfer_free(custos__transfer *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->parts[i].path);
		free(t->parts[i].name);
	}
	for (size_t i = 0; i < t->recipient_count; i++)
		free(t->recipients[i]);
	free(t->recipients);
	free(t->parts);
	free(t->dir);
	t->recipients = NULL;
	t->recipient_count = 0;
	t->parts = NULL;
	t->dir = NULL;
	t->n = 0;
}

/* Pass 1: each part's size and SHA-256, against the signed manifest. */
custos_status custos__transfer_check_parts(custos__bag *b,
		custos__transfer *t)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	custos_status st = CUSTOS_OK;

	if (md == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n && st == CUSTOS_OK; i++) {
		custos__fd_input f;
		uint64_t total = 0;
		unsigned char d[32];
		char h[65];

		f.path = t->parts[i].path;
		st = custos__open_regular(&f.fd, f.path, "part", b->err);
		if (st == CUSTOS_ENOTFOUND) {
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"part %s is missing", t->parts[i].name);
			break;
		}
		if (st != CUSTOS_OK) {
			st = bundle_member_status(st);
			break;
		}
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		for (;;) {
			size_t got = 0;
			st = custos__fd_read(&f, b->buf, IO_BLOCK, &got, b->err);
			if (st != CUSTOS_OK || got == 0)
				break;
			EVP_DigestUpdate(md, b->buf, got);
			total += got;
		}
		close(f.fd);
		if (st != CUSTOS_OK)
			break;
		EVP_DigestFinal_ex(md, d, NULL);
		custos__hex_into(h, d, 32);
		if (total != t->parts[i].size)
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"part %s: %llu bytes, the transfer manifest says "
				"%llu (truncated or extended)",
				custos__basename(f.path), (unsigned long long)total,
				(unsigned long long)t->parts[i].size);
		else if (strcmp(h, t->parts[i].sha256) != 0)
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"part %s: SHA-256 does not match the transfer "
				"manifest (part tampered)", custos__basename(f.path));
	}
	EVP_MD_CTX_free(md);
	return st;
}

custos_status custos__parts_source(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err)
{
	custos__parts_in *p = ctx;

	*got = 0;
	while (p->i < p->t->n) {
		const custos__transfer_part *tp = &p->t->parts[p->i];
		ssize_t n;
		if (p->fd < 0) {
			custos_status st = custos__open_regular(&p->fd,
				tp->path, "part", err);
			if (st != CUSTOS_OK)
				return bundle_member_status(st);
			if (p->md == NULL && (p->md = EVP_MD_CTX_new()) == NULL)
				return custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
			EVP_DigestInit_ex(p->md, EVP_sha256(), NULL);
			p->seen = 0;
		}
		do
			n = read(p->fd, buf, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return custos__error_errno(err, errno, "%s", tp->path);
		if (n > 0) {
			/* Hashed again as decrypted: a part swapped after
			 * the first pass is caught, not trusted. */
			EVP_DigestUpdate(p->md, buf, (size_t)n);
			p->seen += (uint64_t)n;
			*got = (size_t)n;
			return CUSTOS_OK;
		}
		close(p->fd);
		p->fd = -1;
		{
			unsigned char d[32];
			char h[65];
			EVP_DigestFinal_ex(p->md, d, NULL);
			custos__hex_into(h, d, 32);
			if (p->seen != tp->size || strcmp(h, tp->sha256) != 0)
				return custos__error_set(err, CUSTOS_EMISMATCH,
					"part %s changed while it was being read",
					tp->name);
		}
		p->i++;
	}
	return CUSTOS_OK;
}
