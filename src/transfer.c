/*
 * The encrypted side of a bundle.  Writing: the age stream is cut into
 * parts OUT.tar.age.000, .001, ... (fsynced, each hashed with SHA-256
 * while written), then the cleartext transfer manifest lists them with
 * the bundle id, the request references and the recipients' fingerprints,
 * and is signed.  Verifying: the manifest's signature comes first, then
 * its lines are parsed, every part's size and SHA-256 are checked against
 * it, and only then are the parts read back as one stream for decryption.
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
		p->fd = -1;
		return custos__error_errno(err, errno, "part %u", p->count - 1);
	}
	p->fd = -1;
	EVP_DigestFinal_ex(p->md, d, NULL);
	custos__hex_into(p->list[p->count - 1].sha256, d, 32);
	p->list[p->count - 1].size = p->cur;
	return CUSTOS_OK;
}

custos_status custos__parts_open_next(custos__parts *p, custos_error *err)
{
	char *name;

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
	name = custos__part_name(p->base, p->count);
	if (name == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	p->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (p->fd < 0) {
		custos_status st = errno == EEXIST ?
			custos__error_set(err, CUSTOS_EEXIST,
				"%s exists; nothing is overwritten", name) :
			custos__error_errno(err, errno, "%s", name);
		free(name);
		return st;
	}
	free(name);
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
		if (st != CUSTOS_OK)
			return st;
		EVP_DigestUpdate(p->md, d, n);
		p->cur += n;
		d += n;
		len -= n;
	}
	return CUSTOS_OK;
}

void custos__parts_remove(custos__parts *p)
{
	for (unsigned int i = 0; i < p->count; i++) {
		char *name = custos__part_name(p->base, i);
		if (name != NULL)
			unlink(name);
		free(name);
	}
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

custos_status custos__transfer_manifest_write(const char *output,
		const custos__transfer_info *info, const custos__parts *p,
		const custos_sign_options *sign, custos_error *err)
{
	custos__sbuf tm = {0};
	char *tm_path = NULL;
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
	tm_path = custos__aprintf("%s.transfer-manifest.txt", output);
	if (tm_path == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if (custos__path_exists(tm_path)) {
		st = custos__error_set(err, CUSTOS_EEXIST,
			"%s exists; nothing is overwritten", tm_path);
		goto out;
	}
	if ((st = custos__write_file_atomic(tm_path, tm.data, tm.len,
			err)) != CUSTOS_OK)
		goto out;
	st = custos_sign_file(tm_path, sign, err);
out:
	free(tm_path);
	free(tm.data);
	return st;
}

/* ------------------------------------------------------------------ */
/* Verifying: the transfer manifest and the parts it lists. */

static custos_status transfer_line(custos__bag *b, char *line, size_t n,
		void *vctx)
{
	custos__transfer *t = vctx;

	if (n == 1) {
		if (strcmp(line, "Custos-Transfer-Manifest: 1") != 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"not a custos transfer manifest (version 1)");
		t->header_ok = 1;
	} else if (strncmp(line, "Bundle-Id: ", 11) == 0) {
		custos__copy_value(t->bundle_id, sizeof(t->bundle_id), line + 11);
	} else if (strncmp(line, "Request-Reference: ", 19) == 0) {
		custos__copy_value(b->request_reference, sizeof(b->request_reference),
			line + 19);
	} else if (strncmp(line, "Part-Count: ", 12) == 0) {
		char *end;
		t->part_count = strtoul(line + 12, &end, 10);
		if (*end != '\0' || t->part_count == 0 ||
		    t->part_count > PARTS_MAX)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: bad Part-Count");
		t->parts = calloc(t->part_count, sizeof(*t->parts));
		if (t->parts == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
	} else if (strncmp(line, "Part: ", 6) == 0) {
		char name[256], sha[65];
		unsigned long long size;
		int used = 0;
		if (t->parts == NULL || t->n >= t->part_count)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest: more parts than Part-Count");
		if (sscanf(line + 6, "%255s %llu %64s%n", name, &size, sha,
				&used) != 3 || line[6 + used] != '\0' ||
		    strlen(sha) != 64 || strchr(name, '/') != NULL ||
		    name[0] == '.')
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"transfer manifest line %zu: malformed Part", n);
		t->parts[t->n].path = custos__aprintf("%s/%s", t->dir, name);
		if (t->parts[t->n].path == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		t->parts[t->n].size = size;
		memcpy(t->parts[t->n].sha256, sha, 65);
		t->n++;
	}
	return CUSTOS_OK;
}

custos_status custos__transfer_open(custos__transfer *t, custos__bag *b,
		char sha256[65], const char *path, const char *const *trust,
		size_t trust_count)
{
	unsigned char *text = NULL, d[32];
	size_t len = 0;
	custos_status st;
	custos_sign_verify_options vo;
	custos_sign_verification *v = NULL;

	memset(t, 0, sizeof(*t));
	custos_sign_verify_options_init(&vo);
	vo.trust = trust;
	vo.trust_count = trust_count;
	st = custos_sign_verify_file(&v, path, &vo, b->err);
	if (st == CUSTOS_OK && v != NULL &&
	    custos_sign_verification_signature_path(v) == NULL)
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"transfer manifest is not signed (.p7s missing)");
	else if (st == CUSTOS_EMISMATCH)
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"transfer manifest signature: %s",
			custos_sign_verification_message(v));
	custos_sign_verification_free(v);
	if (st != CUSTOS_OK)
		return st;
	if ((st = custos__read_small(&text, &len, path, MANIFEST_MAX,
			b->err)) != CUSTOS_OK)
		return st;
	EVP_Digest(text, len, d, NULL, EVP_sha256(), NULL);
	custos__hex_into(sha256, d, 32);
	t->dir = custos__dirname(path);
	if (t->dir == NULL) {
		st = custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = custos__each_line(b, (char *)text, transfer_line, t)) !=
			CUSTOS_OK)
		goto out;
	if (!t->header_ok || t->bundle_id[0] == '\0' ||
	    t->n != t->part_count || t->n == 0)
		st = custos__error_set(b->err, CUSTOS_EFORMAT,
			"transfer manifest: incomplete (id, parts)");
out:
	free(text);
	return st;
}

void custos__transfer_free(custos__transfer *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->parts[i].path);
	free(t->parts);
	free(t->dir);
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
		f.fd = open(f.path, O_RDONLY | O_CLOEXEC);
		if (f.fd < 0) {
			st = errno == ENOENT ?
				custos__error_set(b->err, CUSTOS_EMISMATCH,
					"part %s is missing",
					custos__basename(f.path)) :
				custos__error_errno(b->err, errno, "%s", f.path);
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
		ssize_t n;
		if (p->fd < 0) {
			p->fd = open(p->t->parts[p->i].path, O_RDONLY | O_CLOEXEC);
			if (p->fd < 0)
				return custos__error_errno(err, errno, "%s",
					p->t->parts[p->i].path);
		}
		do
			n = read(p->fd, buf, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return custos__error_errno(err, errno, "%s",
				p->t->parts[p->i].path);
		if (n > 0) {
			*got = (size_t)n;
			return CUSTOS_OK;
		}
		close(p->fd);
		p->fd = -1;
		p->i++;
	}
	return CUSTOS_OK;
}
