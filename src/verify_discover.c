/*
 * Target discovery for custos-verify: what each path is (an acquisition
 * report, an image, a custody log folder, a bundle as a transfer manifest,
 * bag folder or bag tar, a receipt, or a case folder holding these), and
 * what belongs together: a report's image files (named in the report,
 * relative to its folder), custody logs beside a report, the bundle a
 * receipt names.  Paths are compared by their real path so that nothing is
 * checked twice.  Nothing here judges the evidence: a report that does not
 * parse is kept, and verify_report.c fails it.  A FIFO, socket or
 * character device is refused before it is opened, so it cannot hang us.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cert_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "json_release_private.h"
#include "util_private.h"
#include "verify_private.h"

/* How deep a case folder is searched. */
#define MAX_DEPTH 3
/* Entries of one folder; more is refused, never silently cut short (a
 * case of 1,000 items holds 5,000 files in one folder). */
#define MAX_ENTRIES 65536

typedef enum target_kind {
	KIND_UNKNOWN = 0,
	KIND_REPORT,
	KIND_IMAGE,
	KIND_LOG,
	KIND_BUNDLE,
	KIND_RECEIPT,
	KIND_CASE,
	KIND_DISCLOSURE,
} target_kind;

static const char *kind_name(target_kind k)
{
	switch (k) {
	case KIND_REPORT: return "report";
	case KIND_IMAGE: return "image";
	case KIND_LOG: return "custody-log";
	case KIND_BUNDLE: return "bundle";
	case KIND_RECEIPT: return "receipt";
	case KIND_CASE: return "case-folder";
	case KIND_DISCLOSURE: return "disclosure-package";
	default: return "unknown";
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int is_dir_with(const char *dir, const char *name)
{
	char *p = custos__aprintf("%s/%s", dir, name);
	struct stat sb;
	int ok = p != NULL && lstat(p, &sb) == 0 && S_ISREG(sb.st_mode);

	free(p);
	return ok;
}

custos_status custos__verify_read_json(json_t **json, char sha256[65],
		char *why, size_t why_cap, const char *path, custos_error *err)
{
	unsigned char *data = NULL, d[32];
	size_t len = 0;
	json_error_t je;
	custos_status st;
	char *h;

	*json = NULL;
	sha256[0] = '\0';
	snprintf(why, why_cap, "not read");
	st = custos__read_file_max(path, CUSTOS__VERIFY_JSON_MAX, &data, &len,
		"JSON file", err);
	if (st != CUSTOS_OK)
		return st;
	EVP_Digest(data, len, d, NULL, EVP_sha256(), NULL);
	h = custos__hex(d, sizeof(d));
	if (h == NULL) {
		free(data);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	snprintf(sha256, 65, "%s", h);
	free(h);
	*json = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
	if (*json == NULL)
		snprintf(why, why_cap, "not valid JSON: %s (line %d)", je.text,
			je.line);
	else if (!json_is_object(*json)) {
		json_decref(*json);
		*json = NULL;
		snprintf(why, why_cap, "not a JSON object");
	}
	free(data);
	return CUSTOS_OK;
}

/* Sniff a file's first bytes. */
static target_kind sniff_file(const char *path)
{
	static const unsigned char evf[8] = {'E', 'V', 'F', 0x09, 0x0d, 0x0a,
		0xff, 0x00};
	unsigned char head[64];
	ssize_t n;
	int fd;

	if (custos__open_regular_or_block(&fd, path, "target", NULL) !=
			CUSTOS_OK)
		return KIND_UNKNOWN;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n >= 26 && memcmp(head, "Custos-Transfer-Manifest: ", 26) == 0)
		return KIND_BUNDLE;
	if (n >= 8 && memcmp(head, evf, 8) == 0)
		return KIND_IMAGE;
	return KIND_UNKNOWN;
}

/* What a regular file is, from its name, then its content. */
static target_kind file_kind(const char *path, int explicit_target)
{
	const char *base = custos__basename(path);
	target_kind k;

	if (ends_with(base, ".report.json"))
		return KIND_REPORT;
	if (ends_with(base, ".receipt.json"))
		return KIND_RECEIPT;
	if (ends_with(base, ".transfer-manifest.txt"))
		return KIND_BUNDLE;
	if (ends_with(base, ".tar"))
		return KIND_BUNDLE;
	if (ends_with(base, ".E01"))
		return KIND_IMAGE;
	if (strstr(base, ".tar.age.") != NULL)
		return KIND_UNKNOWN; /* a bundle part: its manifest is the target */
	if (!explicit_target) {
		/* In a case folder only first segments are images. */
		if (ends_with(base, ".001") || ends_with(base, ".raw") ||
		    ends_with(base, ".dd"))
			return KIND_IMAGE;
		return KIND_UNKNOWN;
	}
	if ((k = sniff_file(path)) != KIND_UNKNOWN)
		return k;
	if (ends_with(base, ".json")) {
		char sha[65], why[160];
		json_t *j = NULL;

		if (custos__verify_read_json(&j, sha, why, sizeof(why), path,
				NULL) == CUSTOS_OK && j != NULL) {
			k = json_object_get(j, "custos_report") ? KIND_REPORT :
			    json_object_get(j, "custos_receipt_version") ?
				KIND_RECEIPT : KIND_UNKNOWN;
			json_decref(j);
			return k;
		}
		return KIND_REPORT; /* a report that verify_report.c fails */
	}
	/* Any other file is a raw image, as custos-hash reads it. */
	return KIND_IMAGE;
}

/* ---- the case being collected ---- */

typedef struct seen {
	char **paths;
	size_t count;
} seen;

/* 1 if path (by real path) was added before; else remember it. */
static int already(seen *s, const char *path, int *oom)
{
	char *real = realpath(path, NULL);
	char **n;

	if (real == NULL)
		real = strdup(path);
	if (real == NULL) {
		*oom = 1;
		return 1;
	}
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->paths[i], real) == 0) {
			free(real);
			return 1;
		}
	n = realloc(s->paths, (s->count + 1) * sizeof(*n));
	if (n == NULL) {
		free(real);
		*oom = 1;
		return 1;
	}
	s->paths = n;
	s->paths[s->count++] = real;
	return 0;
}

static void seen_free(seen *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->paths[i]);
	free(s->paths);
}

typedef struct collector {
	verify_found *vc;
	custos_verify_case *r;
	seen seen;
	int oom;
	custos_error *err;
} collector;

#define GROW(arr, count)                                                 \
	do {                                                             \
		void *n_ = realloc((arr), ((count) + 1) * sizeof(*(arr)));   \
		if (n_ == NULL)                                          \
			return custos__error_set(c->err, CUSTOS_ENOMEM,  \
				"out of memory");                        \
		(arr) = n_;                                              \
		memset(&(arr)[count], 0, sizeof(*(arr)));                \
	} while (0)

static custos_status add(collector *c, target_kind kind, const char *path)
{
	verify_found *vc = c->vc;
	char *p;
	size_t n;

	if (already(&c->seen, path, &c->oom))
		return c->oom ? custos__error_set(c->err, CUSTOS_ENOMEM,
			"out of memory") : CUSTOS_OK;
	if (vc->report_count + vc->image_count + vc->log_count +
	    vc->bundle_count + vc->receipt_count + vc->disclosure_count >=
	    CUSTOS__VERIFY_MAX_TARGETS)
		return custos__error_set(c->err, CUSTOS_ENOMEM,
			"more than %d things to verify",
			CUSTOS__VERIFY_MAX_TARGETS);
	if ((p = strdup(path)) == NULL)
		return custos__error_set(c->err, CUSTOS_ENOMEM, "out of memory");
	/* "out/" and "out" name the same folder: no "out//x" later. */
	for (n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
		p[n - 1] = '\0';
	switch (kind) {
	case KIND_REPORT:
		GROW(vc->reports, vc->report_count);
		vc->reports[vc->report_count++].path = p;
		break;
	case KIND_IMAGE:
		GROW(vc->images, vc->image_count);
		vc->images[vc->image_count++].path = p;
		break;
	case KIND_LOG:
		GROW(vc->logs, vc->log_count);
		vc->logs[vc->log_count].dir = p;
		vc->logs[vc->log_count++].verified = -1;
		break;
	case KIND_BUNDLE:
		GROW(vc->bundles, vc->bundle_count);
		vc->bundles[vc->bundle_count++].path = p;
		break;
	case KIND_RECEIPT:
		GROW(vc->receipts, vc->receipt_count);
		vc->receipts[vc->receipt_count++].path = p;
		break;
	case KIND_DISCLOSURE:
		GROW(vc->disclosures, vc->disclosure_count);
		vc->disclosures[vc->disclosure_count++] = p;
		break;
	default:
		free(p);
		return CUSTOS_OK;
	}
	if (json_array_append_new(c->r->targets, json_pack("{s:s, s:s}",
			"path", p, "kind", kind_name(kind))) != 0)
		c->oom = 1;
	return CUSTOS_OK;
}

static target_kind dir_kind(const char *path)
{
	if (is_dir_with(path, "log.jsonl"))
		return KIND_LOG;
	/* A custos-disclose package: a bag whose payload describes itself
	 * in disclosure.json (or that payload, as custos-bundle open
	 * leaves it). */
	if (is_dir_with(path, "disclosure.json"))
		return KIND_DISCLOSURE;
	if (is_dir_with(path, "bagit.txt")) {
		char *data = custos__aprintf("%s/data", path);
		int disclosure = data != NULL &&
			is_dir_with(data, "disclosure.json");

		free(data);
		if (disclosure)
			return KIND_DISCLOSURE;
	}
	if (is_dir_with(path, "bagit.txt"))
		return KIND_BUNDLE;
	return KIND_CASE;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything a case folder holds, in name order; symlinks are skipped. */
static custos_status scan(collector *c, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	custos_status st = CUSTOS_OK;

	if (d == NULL)
		return custos__error_errno(c->err, errno, "%s", dir);
	while ((e = readdir(d)) != NULL) {
		char **nn;

		if (e->d_name[0] == '.')
			continue;
		if (n == MAX_ENTRIES) {
			st = custos__error_set(c->err, CUSTOS_EINVAL,
				"%s holds more than %d entries; verify its "
				"parts one by one", dir, MAX_ENTRIES);
			break;
		}
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (nn == NULL || (nn[n] = strdup(e->d_name)) == NULL) {
			names = nn != NULL ? nn : names;
			st = custos__error_set(c->err, CUSTOS_ENOMEM,
				"out of memory");
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (st == CUSTOS_OK)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && st == CUSTOS_OK; i++) {
		char *p = custos__aprintf("%s/%s", dir, names[i]);
		struct stat sb;

		if (p == NULL) {
			st = custos__error_set(c->err, CUSTOS_ENOMEM,
				"out of memory");
			break;
		}
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			target_kind k = dir_kind(p);

			if (k != KIND_CASE)
				st = add(c, k, p);
			else if (depth < MAX_DEPTH)
				st = scan(c, p, depth + 1);
		} else if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
			st = add(c, file_kind(p, 0), p);
		}
		free(p);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return st;
}

static custos_status add_target(collector *c, const char *target)
{
	struct stat sb;
	char path[PATH_MAX];
	size_t n = strlen(target);

	while (n > 1 && target[n - 1] == '/')
		n--;
	if (n >= sizeof(path))
		return custos__error_set(c->err, CUSTOS_EINVAL,
			"path too long: %s", target);
	memcpy(path, target, n);
	path[n] = '\0';

	if (stat(path, &sb) != 0)
		return custos__error_errno(c->err, errno, "%s", path);
	if (S_ISDIR(sb.st_mode)) {
		target_kind k = dir_kind(path);

		return k == KIND_CASE ? scan(c, path, 1) : add(c, k, path);
	}
	if (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode) ||
	    S_ISCHR(sb.st_mode))
		return custos__error_set(c->err, CUSTOS_EINVAL,
			"%s is a %s, not a file or folder to verify", path,
			S_ISFIFO(sb.st_mode) ? "FIFO" : S_ISSOCK(sb.st_mode) ?
			"socket" : "character device");
	if (S_ISBLK(sb.st_mode))
		return add(c, KIND_IMAGE, path);
	if (!S_ISREG(sb.st_mode))
		return custos__error_set(c->err, CUSTOS_EINVAL,
			"%s is not a file or folder to verify", path);
	return add(c, file_kind(path, 1), path);
}

/* Custody logs in the folder of a report (its immediate subfolders). */
static custos_status logs_beside(collector *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	custos_status st = CUSTOS_OK;
	size_t n = 0;

	if (d == NULL)
		return CUSTOS_OK;
	while (st == CUSTOS_OK && (e = readdir(d)) != NULL) {
		char *p;
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		if (n++ == MAX_ENTRIES) {
			st = custos__error_set(c->err, CUSTOS_EINVAL,
				"%s holds more than %d entries; verify its "
				"parts one by one", dir, MAX_ENTRIES);
			break;
		}
		if ((p = custos__aprintf("%s/%s", dir, e->d_name)) == NULL) {
			st = custos__error_set(c->err, CUSTOS_ENOMEM,
				"out of memory");
			break;
		}
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    is_dir_with(p, "log.jsonl"))
			st = add(c, KIND_LOG, p);
		free(p);
	}
	closedir(d);
	return st;
}

/* The real path of a report's image file, or NULL. */
static char *report_file(const verify_report *rep, const char *name)
{
	char *p = custos__aprintf("%s/%s", rep->dir, name);
	char *real = p != NULL ? realpath(p, NULL) : NULL;

	free(p);
	return real;
}

/* Mark images that a report names, so they are not checked alone. */
static void claim_images(verify_found *vc)
{
	/* Each image's real path once: not once per report's file (1,000
	 * reports by 1,000 images is a million realpath calls). */
	char **real_images = calloc(vc->image_count ? vc->image_count : 1,
		sizeof(*real_images));

	for (size_t j = 0; real_images != NULL && j < vc->image_count; j++)
		real_images[j] = realpath(vc->images[j].path, NULL);
	for (size_t i = 0; i < vc->report_count; i++) {
		json_t *files = json_object_get(json_object_get(
			vc->reports[i].json, "image"), "files");
		size_t k;
		json_t *f;

		json_array_foreach(files, k, f) {
			const char *name = json_string_value(
				json_object_get(f, "name"));
			char *real = name ? report_file(&vc->reports[i], name)
					  : NULL;

			for (size_t j = 0; real != NULL &&
			     j < vc->image_count; j++) {
				char *ri = real_images != NULL ?
					real_images[j] :
					realpath(vc->images[j].path, NULL);

				if (ri != NULL && strcmp(ri, real) == 0)
					vc->images[j].claimed = 1;
				if (real_images == NULL)
					free(ri);
			}
			free(real);
		}
	}
	for (size_t j = 0; real_images != NULL && j < vc->image_count; j++)
		free(real_images[j]);
	free(real_images);
}

/* Read each report (a report that does not parse keeps json NULL). */
static custos_status load_reports(collector *c)
{
	verify_found *vc = c->vc;

	for (size_t i = 0; i < vc->report_count; i++) {
		verify_report *rep = &vc->reports[i];
		char why[200];
		custos_status st;
		json_t *facts;

		rep->dir = custos__dirname(rep->path);
		facts = json_pack("{s:s}", "path", rep->path);
		if (rep->dir == NULL || facts == NULL ||
		    json_array_append_new(c->r->reports, facts) != 0)
			return custos__error_set(c->err, CUSTOS_ENOMEM,
				"out of memory");
		rep->facts = facts;
		st = custos__verify_read_json(&rep->json, rep->sha256, why,
			sizeof(why), rep->path, c->err);
		if (st == CUSTOS_ENOMEM)
			return st;
		if (st != CUSTOS_OK) {
			json_object_set_new(facts, "error",
				json_string(c->err->message));
			custos_error_clear(c->err);
		} else if (rep->json == NULL) {
			json_object_set_new(facts, "error", json_string(why));
		} else {
			json_t *cs = json_object_get(rep->json, "case");

			rep->item = json_string_value(json_object_get(cs,
				"evidence_number"));
			rep->case_ref = json_string_value(json_object_get(cs,
				"case_number"));
		}
		json_object_set_new(facts, "sha256", rep->sha256[0] ?
			json_string(rep->sha256) : json_null());
	}
	return CUSTOS_OK;
}

/* The bundle a receipt names ("bundle": {"file": ...}), looked for by its
 * base name in the receipt's folder. */
static custos_status bundles_of_receipts(collector *c)
{
	verify_found *vc = c->vc;
	size_t n = vc->receipt_count;
	custos_status st = CUSTOS_OK;

	for (size_t i = 0; i < n && st == CUSTOS_OK; i++) {
		char sha[65], why[160];
		json_t *j = NULL;
		const char *file;
		char *dir, *p;
		struct stat sb;

		if (custos__verify_read_json(&j, sha, why, sizeof(why),
				vc->receipts[i].path, NULL) != CUSTOS_OK ||
		    j == NULL)
			continue;
		file = json_string_value(json_object_get(json_object_get(j,
			"bundle"), "file"));
		dir = custos__dirname(vc->receipts[i].path);
		p = file != NULL && dir != NULL ? custos__aprintf("%s/%s", dir,
			custos__basename(file)) : NULL;
		if (p != NULL && lstat(p, &sb) == 0 && (S_ISREG(sb.st_mode) ||
				S_ISDIR(sb.st_mode)))
			st = add(c, KIND_BUNDLE, p);
		free(p);
		free(dir);
		json_decref(j);
	}
	return st;
}

custos_status custos__verify_discover(verify_found *vc,
		custos_verify_case *r, const char *const *targets,
		size_t count, const char *const *logs, size_t log_count,
		custos_error *err)
{
	collector c;
	custos_status st = CUSTOS_OK;
	size_t given_reports;

	memset(&c, 0, sizeof(c));
	c.vc = vc;
	c.r = r;
	c.err = err;
	for (size_t i = 0; i < log_count && st == CUSTOS_OK; i++) {
		struct stat sb;

		if (stat(logs[i], &sb) != 0)
			st = custos__error_errno(err, errno, "%s", logs[i]);
		else if (!S_ISDIR(sb.st_mode) || !is_dir_with(logs[i],
				"log.jsonl"))
			st = custos__error_set(err, CUSTOS_EINVAL,
				"%s is not a custody log folder (no log.jsonl)",
				logs[i]);
		else
			st = add(&c, KIND_LOG, logs[i]);
	}
	for (size_t i = 0; i < count && st == CUSTOS_OK; i++)
		st = add_target(&c, targets[i]);
	if (st == CUSTOS_OK)
		st = load_reports(&c);
	/* A report given alone: look for its log beside it. */
	given_reports = vc->report_count;
	for (size_t i = 0; i < given_reports && st == CUSTOS_OK; i++)
		if (vc->log_count == 0)
			st = logs_beside(&c, vc->reports[i].dir);
	if (st == CUSTOS_OK)
		st = bundles_of_receipts(&c);
	if (st == CUSTOS_OK)
		claim_images(vc);
	if (st == CUSTOS_OK && c.oom)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	seen_free(&c.seen);
	return st;
}

/* A log's records, freed on two threads (100,000 of them in a large
 * case). */
static void release_records(verify_log *lg)
{
	json_t **v = lg->record_count > 0 ?
		malloc(lg->record_count * sizeof(*v)) : NULL;

	for (size_t k = 0; v != NULL && k < lg->record_count; k++)
		v[k] = lg->records[k].json;
	if (v != NULL)
		custos__json_release_all(v, lg->record_count);
	else
		for (size_t k = 0; k < lg->record_count; k++)
			json_decref(lg->records[k].json);
	free(v);
	free(lg->records);
}

void custos__verify_case_free(verify_found *vc)
{
	for (size_t i = 0; i < vc->report_count; i++) {
		free(vc->reports[i].path);
		free(vc->reports[i].dir);
		json_decref(vc->reports[i].json);
	}
	free(vc->reports);
	for (size_t i = 0; i < vc->image_count; i++)
		free(vc->images[i].path);
	free(vc->images);
	for (size_t i = 0; i < vc->log_count; i++) {
		free(vc->logs[i].dir);
		release_records(&vc->logs[i]);
	}
	free(vc->logs);
	for (size_t i = 0; i < vc->bundle_count; i++) {
		free(vc->bundles[i].path);
		json_decref(vc->bundles[i].request);
		json_decref(vc->bundles[i].evidence);
		free(vc->bundles[i].sender_cert_sha256);
		free(vc->bundles[i].sender_subject);
	}
	free(vc->bundles);
	for (size_t i = 0; i < vc->receipt_count; i++)
		free(vc->receipts[i].path);
	free(vc->receipts);
	for (size_t i = 0; i < vc->disclosure_count; i++)
		free(vc->disclosures[i]);
	free(vc->disclosures);
	memset(vc, 0, sizeof(*vc));
}
