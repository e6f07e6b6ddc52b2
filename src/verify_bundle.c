/*
 * Bundle and receipt checks for custos-verify.  A bundle is judged layer
 * by layer: the transfer manifest's signature and the parts it lists
 * (sizes, SHA-256); age decryption to the end of an authenticated stream;
 * then custos_bundle_verify for BagIt (every payload hash, Payload-Oxum,
 * hostile names) and the tag manifest's signature; and the legal request
 * in metadata/request.json; and, from the payload manifest, which of the
 * case's reports and image files the bag carries; and the custody records
 * in metadata/custody.jsonl, checked against their checkpoint without the
 * sender's log.  To read these without extracting anything, the bag is
 * streamed once more here, in memory, through the public age API and
 * libarchive.  A receipt
 * must be signed (a chain to a trust anchor), by someone other than the
 * sender, in the name of the authority that asked, and answer this bundle:
 * its bundle id and the SHA-256 of its transfer manifest.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "custos/custody_export.h"
#include "cert_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"
#include "verify_private.h"

#define MANIFEST_MAX (1u << 20)
#define PARTS_MAX 100000
#define MEMBER_MAX (16u << 20)
#define IO_BLOCK (1u << 16)

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- the transfer manifest ---- */

typedef struct part {
	char *path;
	unsigned long long size;
	char sha256[65];
} part;

typedef struct manifest {
	char bundle_id[CUSTOS_BUNDLE_ID_MAX];
	part *parts;
	size_t count;
} manifest;

static void manifest_free(manifest *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->parts[i].path);
	free(m->parts);
	memset(m, 0, sizeof(*m));
}

/* Parse; *why says what is wrong when it returns 0. */
static int manifest_parse(manifest *m, char *text, const char *dir,
		const char **why)
{
	char *line = text, *next;
	int first = 1;

	memset(m, 0, sizeof(*m));
	for (; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (first) {
			first = 0;
			if (strcmp(line, "Custos-Transfer-Manifest: 1") != 0) {
				*why = "not a custos transfer manifest "
					"(version 1)";
				return 0;
			}
		} else if (strncmp(line, "Bundle-Id: ", 11) == 0) {
			snprintf(m->bundle_id, sizeof(m->bundle_id), "%s",
				line + 11);
		} else if (strncmp(line, "Part: ", 6) == 0) {
			char name[256], sha[65];
			unsigned long long size;
			int used = 0;
			part *np;

			if (m->count >= PARTS_MAX ||
			    sscanf(line + 6, "%255s %llu %64s%n", name, &size,
				   sha, &used) != 3 || line[6 + used] != '\0' ||
			    strlen(sha) != 64 || strchr(name, '/') != NULL ||
			    name[0] == '.') {
				*why = "a Part line is malformed";
				return 0;
			}
			np = realloc(m->parts, (m->count + 1) * sizeof(*np));
			if (np == NULL) {
				*why = "out of memory";
				return 0;
			}
			m->parts = np;
			np[m->count].path = custos__aprintf("%s/%s", dir, name);
			np[m->count].size = size;
			memcpy(np[m->count].sha256, sha, 65);
			if (np[m->count++].path == NULL) {
				*why = "out of memory";
				return 0;
			}
		}
	}
	if (m->bundle_id[0] == '\0' || m->count == 0) {
		*why = "the manifest names no bundle id or no parts";
		return 0;
	}
	return 1;
}

/* Each part's size and SHA-256; 0 and *why on the first that differs. */
static int parts_check(const manifest *m, char *why, size_t cap)
{
	unsigned char *buf = malloc(IO_BLOCK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = buf != NULL && md != NULL;

	if (!ok)
		snprintf(why, cap, "out of memory");
	for (size_t i = 0; ok && i < m->count; i++) {
		const part *p = &m->parts[i];
		unsigned long long total = 0;
		unsigned char d[32];
		char *h;
		int fd;

		if (custos__open_regular(&fd, p->path, "bundle part", NULL) !=
				CUSTOS_OK) {
			snprintf(why, cap, "part %s is missing or not a file",
				custos__basename(p->path));
			ok = 0;
			break;
		}
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		for (;;) {
			ssize_t n = read(fd, buf, IO_BLOCK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n < 0) {
					snprintf(why, cap, "part %s: %s",
						custos__basename(p->path),
						strerror(errno));
					ok = 0;
				}
				break;
			}
			EVP_DigestUpdate(md, buf, (size_t)n);
			total += (unsigned long long)n;
		}
		close(fd);
		if (!ok)
			break;
		EVP_DigestFinal_ex(md, d, NULL);
		h = custos__hex(d, sizeof(d));
		if (total != p->size) {
			snprintf(why, cap, "part %s has %llu bytes, the manifest "
				"says %llu", custos__basename(p->path), total,
				p->size);
			ok = 0;
		} else if (h == NULL || strcmp(h, p->sha256) != 0) {
			snprintf(why, cap, "part %s: its SHA-256 differs from "
				"the manifest's", custos__basename(p->path));
			ok = 0;
		}
		free(h);
	}
	EVP_MD_CTX_free(md);
	free(buf);
	return ok;
}

/* ---- reading the bag's metadata in memory ---- */

typedef struct parts_src {
	const manifest *m;
	size_t i;
	int fd;
} parts_src;

static custos_status parts_read(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err)
{
	parts_src *p = ctx;

	*got = 0;
	while (p->i < p->m->count) {
		ssize_t n;

		if (p->fd < 0) {
			custos_status st = custos__open_regular(&p->fd,
				p->m->parts[p->i].path, "bundle part", err);

			if (st != CUSTOS_OK)
				return st;
		}
		do
			n = read(p->fd, buf, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return custos__error_errno(err, errno, "%s",
				p->m->parts[p->i].path);
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

typedef struct age_src {
	custos_age_reader *r;
	unsigned char buf[IO_BLOCK];
	custos_status st;
	custos_error *err;
} age_src;

static la_ssize_t archive_from_age(struct archive *a, void *ctx,
		const void **buf)
{
	age_src *s = ctx;
	size_t got = 0;

	(void)a;
	*buf = s->buf;
	s->st = custos_age_reader_read(s->r, s->buf, sizeof(s->buf), &got,
		s->err);
	return s->st != CUSTOS_OK ? -1 : (la_ssize_t)got;
}

typedef struct members {
	char *request;
	size_t request_len;
	char *evidence;
	size_t evidence_len;
	char *manifest;       /* manifest-sha256.txt */
	size_t manifest_len;
	char *custody;        /* metadata/custody.jsonl */
	size_t custody_len;
	int custody_unread;   /* present, but too large or unreadable */
} members;

static void members_free(members *m)
{
	free(m->request);
	free(m->evidence);
	free(m->manifest);
	free(m->custody);
	memset(m, 0, sizeof(*m));
}

/* The tag member rel ("metadata/request.json") wanted, or NULL. */
static char **wanted(members *m, const char *rel, size_t **len)
{
	if (strcmp(rel, "metadata/request.json") == 0) {
		*len = &m->request_len;
		return &m->request;
	}
	if (strcmp(rel, "metadata/evidence.json") == 0) {
		*len = &m->evidence_len;
		return &m->evidence;
	}
	if (strcmp(rel, "manifest-sha256.txt") == 0) {
		*len = &m->manifest_len;
		return &m->manifest;
	}
	if (strcmp(rel, "metadata/custody.jsonl") == 0) {
		*len = &m->custody_len;
		return &m->custody;
	}
	return NULL;
}

/* Read the tar through; keep the wanted members (first copy only). */
static custos_status read_tar(struct archive *a, members *m, char *why,
		size_t cap)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		const char *slash = name != NULL ? strchr(name, '/') : NULL;
		size_t *len = NULL;
		char **dst = slash != NULL ? wanted(m, slash + 1, &len) : NULL;
		la_int64_t size = archive_entry_size(e);

		if (dst != NULL && *dst == NULL &&
		    archive_entry_filetype(e) == AE_IFREG && size >= 0 &&
		    size <= (la_int64_t)MEMBER_MAX) {
			*dst = malloc((size_t)size + 1);
			if (*dst == NULL) {
				snprintf(why, cap, "out of memory");
				return CUSTOS_ENOMEM;
			}
			if (archive_read_data(a, *dst, (size_t)size) != size) {
				snprintf(why, cap, "%s: %s", slash + 1,
					archive_error_string(a) ?
					archive_error_string(a) : "short read");
				return CUSTOS_EFORMAT;
			}
			(*dst)[size] = '\0';
			*len = (size_t)size;
		} else {
			/* A custody file too large or not a file is there,
			 * unread: it must not pass for an absent one. */
			if (dst == &m->custody && *dst == NULL)
				m->custody_unread = 1;
			if (archive_read_data_skip(a) != ARCHIVE_OK) {
				snprintf(why, cap, "%s",
					archive_error_string(a) ?
					archive_error_string(a) :
					"bad tar member");
				return CUSTOS_EFORMAT;
			}
		}
	}
	if (r != ARCHIVE_EOF) {
		snprintf(why, cap, "%s", archive_error_string(a) ?
			archive_error_string(a) : "not a tar");
		return CUSTOS_EFORMAT;
	}
	return CUSTOS_OK;
}

/* Decrypt the parts to the end (only a complete stream authenticates)
 * and keep the bag's metadata. */
static int decrypt_bag(const manifest *mf, members *m,
		const custos_verify_options *opts, char *why, size_t cap)
{
	parts_src ps = {mf, 0, -1};
	age_src *as = calloc(1, sizeof(*as));
	struct archive *a = NULL;
	custos_error e;
	custos_status st;
	int ok = 0;

	custos_error_clear(&e);
	if (as == NULL) {
		snprintf(why, cap, "out of memory");
		return 0;
	}
	as->err = &e;
	st = custos_age_reader_new(&as->r, opts->identities,
		opts->identity_count, parts_read, &ps, &e);
	if (st != CUSTOS_OK) {
		snprintf(why, cap, "%s", e.message);
		goto out;
	}
	a = archive_read_new();
	if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, as, NULL, archive_from_age, NULL) !=
			ARCHIVE_OK) {
		snprintf(why, cap, "%s", as->st != CUSTOS_OK ? e.message :
			"the decrypted stream is not a tar");
		goto out;
	}
	if (read_tar(a, m, why, cap) != CUSTOS_OK) {
		if (as->st != CUSTOS_OK)
			snprintf(why, cap, "%s", e.message);
		goto out;
	}
	for (;;) {
		size_t got = 0;

		st = custos_age_reader_read(as->r, as->buf, sizeof(as->buf),
			&got, &e);
		if (st != CUSTOS_OK) {
			snprintf(why, cap, "%s", e.message);
			goto out;
		}
		if (got == 0)
			break;
	}
	ok = 1;
out:
	if (a != NULL)
		archive_read_free(a);
	if (ps.fd >= 0)
		close(ps.fd);
	custos_age_reader_free(as->r);
	free(as);
	return ok;
}

static int read_plain_bag(const char *path, int is_dir, members *m,
		char *why, size_t cap)
{
	struct archive *a;
	int ok;

	if (is_dir) {
		const char *rel[4] = {"metadata/request.json",
				      "metadata/evidence.json",
				      "manifest-sha256.txt",
				      "metadata/custody.jsonl"};

		for (int i = 0; i < 4; i++) {
			char *p = custos__aprintf("%s/%s", path, rel[i]);
			unsigned char *data = NULL;
			size_t len = 0, *lp;
			char **dst = wanted(m, rel[i], &lp);

			if (p != NULL && custos__read_file_max(p, MEMBER_MAX,
					&data, &len, "bag member", NULL) ==
					CUSTOS_OK) {
				*dst = (char *)data;
				*lp = len;
			} else if (p != NULL && dst == &m->custody &&
				   custos__path_exists(p)) {
				m->custody_unread = 1;
			}
			free(p);
		}
		return 1;
	}
	if (custos__check_regular(path, "bag", NULL) != CUSTOS_OK) {
		snprintf(why, cap, "not a regular file");
		return 0;
	}
	a = archive_read_new();
	ok = a != NULL && archive_read_support_format_tar(a) == ARCHIVE_OK &&
		archive_read_open_filename(a, path, IO_BLOCK) == ARCHIVE_OK &&
		read_tar(a, m, why, cap) == CUSTOS_OK;
	if (a != NULL)
		archive_read_free(a);
	return ok;
}

/* ---- the checks ---- */

static void request_check(custos_verify_case *r, verify_bundle *vb,
		const members *m)
{
	custos_error e;
	json_t *req;

	custos_error_clear(&e);
	if (m->request == NULL) {
		custos__verify_add(r, "bundle.request", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, "metadata/request.json",
			NULL, "the bag holds no legal request");
		return;
	}
	if (custos_bundle_request_check(m->request, m->request_len, &e) !=
			CUSTOS_OK) {
		custos__verify_add(r, "bundle.request", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, "custos-bundle(5)", NULL,
			"metadata/request.json: %s", e.message);
		return;
	}
	req = json_loadb(m->request, m->request_len, JSON_REJECT_DUPLICATES,
		NULL);
	vb->request = req;
	json_object_set(vb->facts, "request", req ? req : json_null());
	custos__verify_add(r, "bundle.request", vb->bundle_id,
		CUSTOS_CHECK_PASSED, 1, NULL, jstr(json_object_get(req,
		"references"), "request"), "%s art. %s, %s",
		jstr(json_object_get(req, "instrument"), "name") ?
		jstr(json_object_get(req, "instrument"), "name") : "?",
		jstr(json_object_get(req, "instrument"), "article") ?
		jstr(json_object_get(req, "instrument"), "article") : "?",
		jstr(req, "measure") ? jstr(req, "measure") : "?");
	if (m->evidence != NULL)
		vb->evidence = json_loadb(m->evidence, m->evidence_len,
			JSON_REJECT_DUPLICATES, NULL);
}

/* metadata/custody.jsonl: every proof, the checkpoint and every record's
 * signature, without the sender's log.  Bags made without a custody log
 * have none: informational, since only the sender knows whether it should
 * be there. */
static void custody_check(custos_verify_case *r, verify_bundle *vb,
		const members *m, const custos_verify_options *opts)
{
	custos_custody_export_verify_options eo;
	custos_custody_export_verification *v = NULL;
	custos_error e;
	custos_status st;

	if (m->custody == NULL && m->custody_unread) {
		/* There, but not read: never pass it off as absent. */
		custos__verify_add(r, "bundle.custody", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, "custos-bundle(5)", NULL,
			"metadata/custody.jsonl is there but could not be read "
			"(larger than %u MiB, or not a regular file)",
			MEMBER_MAX >> 20);
		return;
	}
	if (m->custody == NULL) {
		custos__verify_add(r, "bundle.custody", vb->bundle_id,
			CUSTOS_CHECK_NOT_CHECKED, 0, NULL, NULL,
			"the bag carries no metadata/custody.jsonl "
			"(made without --log)");
		return;
	}
	custos_error_clear(&e);
	custos_custody_export_verify_options_init(&eo);
	eo.trust = opts->trust;
	eo.trust_count = opts->trust_count;
	st = custos_custody_export_verify(&v, m->custody, m->custody_len, &eo,
		&e);
	if (st == CUSTOS_ENOMEM) {
		r->oom = 1;
	} else if (v == NULL) {
		custos__verify_add(r, "bundle.custody", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, "custos-bundle(5)", NULL,
			"metadata/custody.jsonl: %s", e.message);
	} else {
		size_t n = custos_custody_export_verification_record_count(v);
		uint64_t size =
			custos_custody_export_verification_checkpoint_size(v);
		char seen[96];
		custos_custody_export_status es =
			custos_custody_export_verification_status(v);

		snprintf(seen, sizeof(seen), "%zu records, checkpoint of %"
			PRIu64, n, size);
		if (st != CUSTOS_OK || es == CUSTOS_CUSTODY_EXPORT_FAILED)
			custos__verify_add(r, "bundle.custody", vb->bundle_id,
				CUSTOS_CHECK_FAILED, 1, NULL, seen,
				"metadata/custody.jsonl: %s",
				custos_custody_export_verification_problem_count(
				v) > 0 ? custos_custody_export_verification_problem(
				v, 0) : e.message);
		else if (es == CUSTOS_CUSTODY_EXPORT_INCOMPLETE)
			custos__verify_add(r, "bundle.custody", vb->bundle_id,
				CUSTOS_CHECK_NOT_CHECKED, 1, NULL, seen,
				"proofs and checkpoint verify; the records' "
				"signatures were not checked without a trust "
				"anchor (--trust CA.pem)");
		else
			custos__verify_add(r, "bundle.custody", vb->bundle_id,
				CUSTOS_CHECK_PASSED, 1, NULL, seen,
				"every record's inclusion proof, signature "
				"and chain, against the signed checkpoint "
				"of %s", custos_custody_export_verification_origin(
				v));
	}
	custos_custody_export_verification_free(v);
}

/* The transfer manifest's signature and parts; 1 when both are good. */
static int transfer_check(custos_verify_case *r, verify_bundle *vb,
		manifest *mf, const custos_verify_options *opts)
{
	custos_sign_verify_options so;
	custos_sign_verification *v = NULL;
	custos_error e;
	unsigned char *text = NULL, d[32];
	size_t len = 0;
	const char *why = NULL;
	char whybuf[256], *dir, *h;
	custos_sign_check sc;
	int ok = 0;

	custos_error_clear(&e);
	if (custos__read_file_max(vb->path, MANIFEST_MAX, &text, &len,
			"transfer manifest", &e) != CUSTOS_OK) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->path,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
			e.message);
		return 0;
	}
	EVP_Digest(text, len, d, NULL, EVP_sha256(), NULL);
	h = custos__hex(d, sizeof(d));
	snprintf(vb->transfer_manifest_sha256, 65, "%s", h ? h : "");
	free(h);
	dir = custos__dirname(vb->path);
	if (dir == NULL || !manifest_parse(mf, (char *)text, dir, &why)) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->path,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
			why ? why : "out of memory");
		goto out;
	}
	snprintf(vb->bundle_id, sizeof(vb->bundle_id), "%s", mf->bundle_id);
	json_object_set_new(vb->facts, "bundle_id", json_string(mf->bundle_id));
	json_object_set_new(vb->facts, "transfer_manifest_sha256",
		json_string(vb->transfer_manifest_sha256));
	json_object_set_new(vb->facts, "parts", json_integer(
		(json_int_t)mf->count));
	custos_sign_verify_options_init(&so);
	so.trust = opts->trust;
	so.trust_count = opts->trust_count;
	if (custos_sign_verify_file(&v, vb->path, &so, &e) != CUSTOS_OK &&
	    v == NULL) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
			e.message);
		goto out;
	}
	sc = custos_sign_verification_signature_check(v);
	if (custos_sign_verification_signer(v) != NULL) {
		const custos_cert *c = custos_sign_verification_signer(v);

		json_object_set_new(vb->facts, "sender",
			custos__verify_signer_json(c));
		vb->sender_cert_sha256 = strdup(
			custos_cert_fingerprint_sha256(c));
		vb->sender_subject = strdup(custos_cert_subject(c));
	}
	if (custos_sign_verification_signature_path(v) == NULL) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, "a signature", "none",
			"the transfer manifest is not signed (no .p7s)");
	} else if (sc == CUSTOS_SIGN_MALFORMED ||
		   sc == CUSTOS_SIGN_CONTENT_CHANGED ||
		   sc == CUSTOS_SIGN_BAD_SIGNATURE ||
		   sc == CUSTOS_SIGN_MISSING ||
		   (opts->trust_count > 0 && sc != CUSTOS_SIGN_OK)) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, "a valid signature",
			custos_sign_check_name(sc), "signature: %s",
			custos_sign_verification_signature_message(v));
	} else if (!parts_check(mf, whybuf, sizeof(whybuf))) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->bundle_id,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s", whybuf);
	} else if (opts->trust_count == 0) {
		custos__verify_add(r, "bundle.transfer-manifest", vb->bundle_id,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL,
			vb->transfer_manifest_sha256, "the signature and %zu "
			"parts verify, but no trust anchor was given "
			"(--trust CA.pem)", mf->count);
		ok = 1;
	} else {
		custos__verify_add(r, "bundle.transfer-manifest", vb->bundle_id,
			CUSTOS_CHECK_PASSED, 1, NULL,
			vb->transfer_manifest_sha256, "signed by %s; %zu "
			"parts, each with the listed size and SHA-256",
			vb->sender_subject ? vb->sender_subject : "?",
			mf->count);
		ok = 1;
	}
out:
	custos_sign_verification_free(v);
	free(dir);
	free(text);
	return ok;
}

/* BagIt and the tag manifest's signature, through custos_bundle_verify. */
static void bag_checks(custos_verify_case *r, verify_bundle *vb,
		const custos_verify_options *opts)
{
	custos_bundle_verify_options bo;
	custos_bundle_summary sum;
	custos_error e;
	custos_status st;
	const char *subject = vb->bundle_id[0] ? vb->bundle_id : vb->path;

	custos_error_clear(&e);
	custos_bundle_verify_options_init(&bo);
	bo.identities = opts->identities;
	bo.identity_count = opts->identity_count;
	bo.trust = opts->trust;
	bo.trust_count = opts->trust_count;
	st = custos_bundle_verify(&sum, vb->path, &bo, &e);
	if (vb->bundle_id[0] == '\0') {
		snprintf(vb->bundle_id, sizeof(vb->bundle_id), "%s",
			sum.bundle_id);
		json_object_set_new(vb->facts, "bundle_id",
			json_string(sum.bundle_id));
		subject = vb->bundle_id[0] ? vb->bundle_id : vb->path;
	}
	json_object_set_new(vb->facts, "payload_files",
		json_integer((json_int_t)sum.payload_files));
	json_object_set_new(vb->facts, "payload_bytes",
		json_integer((json_int_t)sum.payload_bytes));
	if (st == CUSTOS_OK) {
		char obs[64];

		snprintf(obs, sizeof(obs), "%llu files, %llu bytes",
			(unsigned long long)sum.payload_files,
			(unsigned long long)sum.payload_bytes);
		vb->verified = 1;
		custos__verify_add(r, "bundle.bagit", subject,
			CUSTOS_CHECK_PASSED, 1, NULL, obs, "every payload "
			"hash and the Payload-Oxum match; no hostile member");
		if (sum.tagmanifest_signed)
			custos__verify_add(r, "bundle.tag-signature", subject,
				CUSTOS_CHECK_PASSED, 1, NULL,
				sum.tagmanifest_sha512, "the tag manifest's "
				"CAdES signature verifies");
		else
			custos__verify_add(r, "bundle.tag-signature", subject,
				CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
				"the bag's tag manifest is not signed");
	} else if (opts->trust_count == 0) {
		custos__verify_add(r, "bundle.bagit", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
			"not checked without a trust anchor (--trust CA.pem): "
			"%s", e.message);
	} else if (strstr(e.message, "tag manifest") != NULL) {
		custos__verify_add(r, "bundle.bagit", subject,
			CUSTOS_CHECK_PASSED, 1, NULL, NULL, "every payload "
			"hash and the Payload-Oxum match");
		custos__verify_add(r, "bundle.tag-signature", subject,
			CUSTOS_CHECK_FAILED, 1, "a valid signature", NULL,
			"%s", e.message);
	} else {
		custos__verify_add(r, "bundle.bagit", subject,
			st == CUSTOS_EINVAL ? CUSTOS_CHECK_NOT_CHECKED :
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
			e.message);
	}
}

/* 1 if the payload manifest lists sha for a file under data/ named name. */
static int manifest_has(const char *text, const char *sha, const char *name)
{
	const char *line = text;
	size_t nl = strlen(name);

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *path = line + 66;

		if (len > 66 + 5 && strncasecmp(line, sha, 64) == 0 &&
		    line[64] == ' ' && line[65] == ' ' &&
		    strncmp(path, "data/", 5) == 0) {
			const char *base = memrchr(path, '/', len - 66);
			size_t bl = len - (size_t)(base + 1 - line);

			if (bl == nl && memcmp(base + 1, name, nl) == 0)
				return 1;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* Which reports, and which of their image files, the bag carries: read
 * from its payload manifest (checked by bundle.bagit), so nothing is
 * hashed twice. */
static void contents_check(custos_verify_case *r, const verify_found *vc,
		verify_bundle *vb, const members *m)
{
	json_t *carried = json_array();

	if (m->manifest == NULL || vb->verified != 1 || carried == NULL) {
		json_decref(carried);
		return;
	}
	for (size_t i = 0; i < vc->report_count; i++) {
		const verify_report *rep = &vc->reports[i];
		json_t *files = json_object_get(json_object_get(rep->json,
			"image"), "files");
		size_t k, n = 0, total = json_array_size(files);
		json_t *f;
		char obs[96];

		if (rep->item == NULL || !manifest_has(m->manifest, rep->sha256,
				custos__basename(rep->path)))
			continue;
		json_array_foreach(files, k, f) {
			const char *sha = json_string_value(json_object_get(f,
				"sha256"));
			const char *name = json_string_value(json_object_get(f,
				"name"));

			if (sha != NULL && name != NULL && strlen(sha) == 64 &&
			    manifest_has(m->manifest, sha,
					custos__basename(name)))
				n++;
		}
		json_array_append_new(carried, json_pack("{s:s, s:I, s:I}",
			"item", rep->item, "image_files", (json_int_t)n,
			"image_files_in_report", (json_int_t)total));
		snprintf(obs, sizeof(obs), "the report and %zu of %zu image "
			"files", n, total);
		custos__verify_add(r, "bundle.contents", rep->item,
			CUSTOS_CHECK_PASSED, 0, NULL, obs, "bundle %s carries "
			"this very report%s", vb->bundle_id, n == total ?
			" and every image file it names, by SHA-256" :
			"; not every image file it names");
	}
	json_object_set_new(vb->facts, "carries", carried);
}

static void check_bundle(custos_verify_case *r, verify_found *vc,
		verify_bundle *vb, const custos_verify_options *opts)
{
	struct stat sb;
	manifest mf;
	members m;
	char why[CUSTOS_ERROR_MESSAGE_MAX];
	int is_dir = stat(vb->path, &sb) == 0 && S_ISDIR(sb.st_mode);
	int is_manifest = !is_dir && strstr(vb->path, ".tar") == NULL;

	memset(&mf, 0, sizeof(mf));
	memset(&m, 0, sizeof(m));
	vb->facts = json_pack("{s:s, s:s}", "path", vb->path, "form",
		is_dir ? "bag-folder" : is_manifest ? "transfer-manifest" :
		"bag-tar");
	if (vb->facts == NULL || json_array_append_new(r->bundles,
			vb->facts) != 0) {
		r->oom = 1;
		return;
	}
	if (is_manifest) {
		int sent_ok = transfer_check(r, vb, &mf, opts);

		if (!sent_ok) {
			custos__verify_add(r, "bundle.decrypt", vb->bundle_id,
				CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
				"the transfer manifest or its parts did not "
				"verify");
			goto out;
		}
		if (opts->identity_count == 0) {
			custos__verify_add(r, "bundle.decrypt", vb->bundle_id,
				CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
				"no age identity given (-i IDENTITY), so the "
				"bag inside was not checked");
			goto out;
		}
		if (!decrypt_bag(&mf, &m, opts, why, sizeof(why))) {
			custos__verify_add(r, "bundle.decrypt", vb->bundle_id,
				CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
				why);
			goto out;
		}
		custos__verify_add(r, "bundle.decrypt", vb->bundle_id,
			CUSTOS_CHECK_PASSED, 1, NULL, NULL, "age decryption, "
			"authenticated to the end of the stream");
	} else if (!read_plain_bag(vb->path, is_dir, &m, why, sizeof(why))) {
		custos__verify_add(r, "bundle.bagit", vb->path,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s", why);
		goto out;
	}
	bag_checks(r, vb, opts);
	request_check(r, vb, &m);
	custody_check(r, vb, &m, opts);
	contents_check(r, vc, vb, &m);
out:
	manifest_free(&mf);
	members_free(&m);
}

void custos__verify_bundles(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts)
{
	for (size_t i = 0; i < vc->bundle_count; i++)
		check_bundle(r, vc, &vc->bundles[i], opts);
}

/* ---- receipts ---- */

static const verify_bundle *bundle_named(const verify_found *vc,
		const char *id)
{
	for (size_t i = 0; id != NULL && i < vc->bundle_count; i++)
		if (strcmp(vc->bundles[i].bundle_id, id) == 0)
			return &vc->bundles[i];
	return NULL;
}

/* A received record in a log that names this receipt's SHA-256. */
static const verify_log *logged_in(const verify_found *vc, const char *sha,
		uint64_t *seq)
{
	for (size_t i = 0; i < vc->log_count; i++)
		for (size_t k = 0; k < vc->logs[i].record_count; k++) {
			const char *h = jstr(vc->logs[i].records[k].json,
				"receipt_sha256");

			if (h != NULL && strcasecmp(h, sha) == 0) {
				*seq = vc->logs[i].records[k].seq;
				return &vc->logs[i];
			}
		}
	return NULL;
}

static void check_receipt(custos_verify_case *r, verify_found *vc,
		verify_receipt *rc, const custos_verify_options *opts)
{
	custos_sign_verify_options so;
	custos_sign_verification *v = NULL;
	custos_error e;
	json_t *j = NULL;
	char sha[65], why[200];
	const char *bid;
	const verify_bundle *vb;
	const custos_cert *signer = NULL;
	const verify_log *lg;
	uint64_t seq = 0;
	custos_sign_check sc;

	custos_error_clear(&e);
	rc->facts = json_pack("{s:s}", "path", rc->path);
	if (rc->facts == NULL || json_array_append_new(r->receipts,
			rc->facts) != 0) {
		r->oom = 1;
		return;
	}
	if (custos__verify_read_json(&j, sha, why, sizeof(why), rc->path,
			&e) != CUSTOS_OK || j == NULL ||
	    json_integer_value(json_object_get(j,
			"custos_receipt_version")) != 1) {
		custos__verify_add(r, "receipt.format", rc->path,
			CUSTOS_CHECK_FAILED, 1, "a custos receipt",
			NULL, "%s", j == NULL ? (e.message[0] ? e.message : why)
			: "not a custos receipt (version 1)");
		json_decref(j);
		return;
	}
	json_object_set_new(rc->facts, "sha256", json_string(sha));
	bid = jstr(j, "bundle_id");
	json_object_set_new(rc->facts, "bundle_id", bid ? json_string(bid)
							: json_null());
	custos__verify_receipt_court_facts(rc->facts, j);
	/* receipt.signature */
	custos_sign_verify_options_init(&so);
	so.trust = opts->trust;
	so.trust_count = opts->trust_count;
	if (custos_sign_verify_file(&v, rc->path, &so, &e) != CUSTOS_OK &&
	    v == NULL) {
		custos__verify_add(r, "receipt.signature", rc->path,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s",
			e.message);
		goto answers;
	}
	sc = custos_sign_verification_signature_check(v);
	signer = custos_sign_verification_signer(v);
	if (signer != NULL)
		json_object_set_new(rc->facts, "signer",
			custos__verify_signer_json(signer));
	if (custos_sign_verification_signature_path(v) == NULL)
		custos__verify_add(r, "receipt.signature", rc->path,
			CUSTOS_CHECK_FAILED, 1, "a signature", "none",
			"the receipt is not signed (no .p7s)");
	else if (sc == CUSTOS_SIGN_OK && opts->trust_count > 0)
		custos__verify_add(r, "receipt.signature", rc->path,
			CUSTOS_CHECK_PASSED, 1, NULL, signer ?
			custos_cert_fingerprint_sha256(signer) : NULL,
			"signed by %s, chained to a trust anchor", signer ?
			custos_cert_subject(signer) : "?");
	else if (opts->trust_count == 0 && (sc == CUSTOS_SIGN_OK ||
		 sc == CUSTOS_SIGN_UNTRUSTED || sc == CUSTOS_SIGN_EXPIRED))
		custos__verify_add(r, "receipt.signature", rc->path,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
			"no trust anchor given (--trust CA.pem)");
	else
		custos__verify_add(r, "receipt.signature", rc->path,
			CUSTOS_CHECK_FAILED, 1, "a valid signature",
			custos_sign_check_name(sc), "%s",
			custos_sign_verification_signature_message(v));
answers:
	vb = bundle_named(vc, bid);
	if (vb == NULL) {
		custos__verify_add(r, "receipt.answers", rc->path,
			vc->bundle_count ? CUSTOS_CHECK_FAILED :
			CUSTOS_CHECK_NOT_CHECKED, 1, bid,
			vc->bundle_count ? vc->bundles[0].bundle_id : NULL,
			vc->bundle_count ? "the receipt is for another bundle "
			"than the one given" : "the bundle it answers was not "
			"given or found beside the receipt");
	} else if (vb->transfer_manifest_sha256[0] != '\0' &&
		   (jstr(j, "transfer_manifest_sha256") == NULL ||
		    strcasecmp(jstr(j, "transfer_manifest_sha256"),
			vb->transfer_manifest_sha256) != 0)) {
		custos__verify_add(r, "receipt.answers", rc->path,
			CUSTOS_CHECK_FAILED, 1,
			vb->transfer_manifest_sha256,
			jstr(j, "transfer_manifest_sha256"),
			"the receipt names another transfer manifest for "
			"bundle %s", bid);
	} else {
		custos__verify_add(r, "receipt.answers", rc->path,
			CUSTOS_CHECK_PASSED, 1, vb->transfer_manifest_sha256,
			jstr(j, "transfer_manifest_sha256"), "answers bundle %s "
			"and its transfer manifest", bid);
	}
	/* receipt.authority: not the sender, and the authority that asked. */
	if (vb != NULL && signer != NULL) {
		const char *asked = jstr(json_object_get(vb->request,
			"requesting_authority"), "name");
		const char *says = jstr(j, "receiving_authority");

		if (vb->sender_cert_sha256 != NULL && strcmp(
				vb->sender_cert_sha256,
				custos_cert_fingerprint_sha256(signer)) == 0)
			custos__verify_add(r, "receipt.authority", rc->path,
				CUSTOS_CHECK_FAILED, 1, NULL,
				custos_cert_subject(signer), "the receipt is "
				"signed by the sender of the bundle");
		else if (asked != NULL && (says == NULL ||
			 strcmp(asked, says) != 0))
			custos__verify_add(r, "receipt.authority", rc->path,
				CUSTOS_CHECK_FAILED, 1, asked, says,
				"the receipt is issued in another authority's "
				"name than the one that made the request");
		else
			custos__verify_add(r, "receipt.authority", rc->path,
				CUSTOS_CHECK_PASSED, 1, asked, says,
				"issued by %s for the requesting authority, "
				"not by the sender", custos_cert_subject(signer));
	}
	lg = logged_in(vc, sha, &seq);
	if (lg != NULL) {
		char obs[64];

		snprintf(obs, sizeof(obs), "record %llu",
			(unsigned long long)seq);
		custos__verify_add(r, "receipt.logged", rc->path,
			CUSTOS_CHECK_PASSED, 0, sha, obs, "a received record "
			"in %s names the receipt's SHA-256", lg->dir);
	}
	custos_sign_verification_free(v);
	json_decref(j);
}

void custos__verify_receipts(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts)
{
	for (size_t i = 0; i < vc->receipt_count; i++)
		check_receipt(r, vc, &vc->receipts[i], opts);
}
