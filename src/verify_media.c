/*
 * Media checks for custos-verify: each report's image is read once with
 * the parallel reader (custos_image_hash: every E01 chunk checksum and the
 * MD5/SHA-1 stored in the E01) and its media hashes compared with the
 * report; meanwhile another thread takes the SHA-256 of each image file as
 * stored, compared with the report and with BASE.sha256.  An image that no
 * report names is read too, but its hashes have nothing to be compared
 * with, so that check is not made.  A missing image file is a required
 * check that could not be made (INCOMPLETE), never a pass.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cert_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"
#include "verify_private.h"

#define MAX_FILES 4096
#define IO_BLOCK (1u << 20)
#define SHA256_FILE_MAX (1u << 20)

typedef struct file_job {
	char **paths;
	size_t count;
	char (*sha256)[65];      /* "" when it could not be read */
	char (*why)[160];
	const volatile sig_atomic_t *cancel;
} file_job;

static void hash_one(file_job *j, size_t i, unsigned char *buf)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	int fd;
	char *h;

	j->sha256[i][0] = '\0';
	if (md == NULL || custos__open_regular_or_block(&fd, j->paths[i],
			"image file", NULL) != CUSTOS_OK) {
		snprintf(j->why[i], sizeof(j->why[i]), "cannot open it");
		EVP_MD_CTX_free(md);
		return;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t n = read(fd, buf, IO_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(j->why[i], sizeof(j->why[i]),
				"read error: %s", strerror(errno));
			close(fd);
			EVP_MD_CTX_free(md);
			return;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		if (j->cancel != NULL && *j->cancel)
			break;
	}
	close(fd);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	if ((h = custos__hex(d, sizeof(d))) != NULL)
		snprintf(j->sha256[i], 65, "%s", h);
	free(h);
}

static void *hash_files(void *arg)
{
	file_job *j = arg;
	unsigned char *buf = malloc(IO_BLOCK);

	for (size_t i = 0; i < j->count; i++) {
		if (buf == NULL)
			snprintf(j->why[i], sizeof(j->why[i]), "out of memory");
		else
			hash_one(j, i, buf);
	}
	free(buf);
	return NULL;
}

/* A name in image.files must stay in the report's folder. */
static int safe_name(const char *name)
{
	const char *p = name;

	if (name[0] == '\0' || name[0] == '/' || strchr(name, '\n') != NULL)
		return 0;
	while (*p != '\0') {
		const char *e = strchr(p, '/');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* BASE.sha256 beside BASE.report.json ("hex  name" lines), or NULL;
 * *name gets its file name.  Caller frees both. */
static char *sha256_listing(const verify_report *rep, char **name)
{
	size_t n = strlen(rep->path), suffix = strlen(".report.json");
	unsigned char *data = NULL;
	size_t len;
	char *p;

	*name = NULL;
	if (n <= suffix)
		return NULL;
	p = custos__aprintf("%.*s.sha256", (int)(n - suffix), rep->path);
	if (p == NULL)
		return NULL;
	if (custos__read_file_max(p, SHA256_FILE_MAX, &data, &len,
			"SHA-256 list", NULL) != CUSTOS_OK) {
		free(p);
		return NULL;
	}
	*name = strdup(custos__basename(p));
	free(p);
	if (*name == NULL) {
		free(data);
		return NULL;
	}
	return (char *)data;
}

static int ends_with_001(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcmp(path + n - 4, ".001") == 0;
}

/* The hash that a sha256sum listing gives for name, or NULL. */
static int listed_hash(const char *text, const char *name, char out[65])
{
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t nl = strlen(name);

		if (len > 66 && (line[64] == ' ') &&
		    (line[65] == ' ' || line[65] == '*') &&
		    len - 66 == nl && memcmp(line + 66, name, nl) == 0) {
			memcpy(out, line, 64);
			out[64] = '\0';
			return 1;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

static void not_checked_media(custos_verify_case *r, const char *subject,
		json_t *hashes, const char *why)
{
	const char *alg;
	json_t *v;

	json_object_foreach(hashes, alg, v) {
		char id[64];

		snprintf(id, sizeof(id), "media.hash.%s", alg);
		custos__verify_add(r, id, subject, CUSTOS_CHECK_NOT_CHECKED,
			1, json_string_value(v), NULL, "%s", why);
	}
	if (json_object_size(hashes) == 0)
		custos__verify_add(r, "media.hash", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL, "%s", why);
}

static void e01_checks(custos_verify_case *r, const char *subject,
		custos_image *img, const custos_image_hash_result *res,
		custos_status st, const char *message)
{
	char obs[64];

	if (custos_image_get_format(img) != CUSTOS_FORMAT_E01)
		return;
	snprintf(obs, sizeof(obs), "%llu chunks",
		(unsigned long long)res->chunks_checked);
	/* Read against a block map: the chunks are checked, not counted. */
	if (res->chunks_checked == 0 && res->bytes > 0)
		snprintf(obs, sizeof(obs), "%llu bytes",
			(unsigned long long)res->bytes);
	if (res->corrupt)
		custos__verify_add(r, "media.e01.chunks", subject,
			CUSTOS_CHECK_FAILED, 1, NULL, obs,
			"chunk %llu (media offset %llu) fails its checksum",
			(unsigned long long)res->corrupt_chunk,
			(unsigned long long)res->corrupt_offset);
	else if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH)
		custos__verify_add(r, "media.e01.chunks", subject,
			CUSTOS_CHECK_FAILED, 1, NULL, obs,
			"the image cannot be read to the end: %s", message);
	else
		custos__verify_add(r, "media.e01.chunks", subject,
			CUSTOS_CHECK_PASSED, 1, NULL, obs,
			"every chunk's checksum matches");
	for (int k = 0; k < 2; k++) {
		custos_digest_alg alg = k ? CUSTOS_DIGEST_SHA1
					  : CUSTOS_DIGEST_MD5;
		int m = k ? res->stored_sha1_match : res->stored_md5_match;
		const char *stored = custos_image_stored_digest(img, alg);
		const char *got = res->digest[alg];
		char id[48];

		snprintf(id, sizeof(id), "media.e01.stored.%s",
			custos_digest_name(alg));
		if (res->corrupt)
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_NOT_CHECKED, 1, stored, NULL,
				"reading stopped at the corrupt chunk");
		else if (m == 1)
			custos__verify_add(r, id, subject, CUSTOS_CHECK_PASSED,
				1, stored, got, "the %s stored in the E01 "
				"matches the media", custos_digest_name(alg));
		else if (m == 0)
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_FAILED, 1, stored, got,
				"the %s stored in the E01 differs from the "
				"media's", custos_digest_name(alg));
		else if (stored == NULL)
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_NOT_CHECKED, 0, NULL, got,
				"the E01 stores no %s", custos_digest_name(alg));
	}
}

/* Open and hash one image; the caller adds the checks. */
static custos_status read_image(custos_image **img,
		custos_image_hash_result *res, custos_status *hash_st,
		char *message, size_t message_cap, const char *const *paths,
		size_t count, custos_digest_set digests,
		const custos_verify_options *opts, custos_verify_case *r,
		verify_blockmap *bm, const char *subject)
{
	custos_image_hash_options ho;
	custos_error e;
	custos_status st;

	custos_error_clear(&e);
	memset(res, 0, sizeof(*res));
	res->stored_md5_match = res->stored_sha1_match = -1;
	st = custos_image_open(img, paths, count, &e);
	if (st != CUSTOS_OK) {
		snprintf(message, message_cap, "%s", e.message);
		return st;
	}
	if (bm != NULL && bm->map != NULL) {
		*hash_st = custos__verify_blockmap_read(r, bm, subject, *img,
			digests, opts, res, message, message_cap);
		return CUSTOS_OK;
	}
	custos_image_hash_options_init(&ho);
	ho.digests = digests;
	ho.workers = opts->workers;
	ho.progress = opts->progress;
	ho.progress_ctx = opts->progress_ctx;
	ho.cancel = opts->cancel;
	*hash_st = custos_image_hash(*img, &ho, res, &e);
	snprintf(message, message_cap, "%s", e.message);
	return CUSTOS_OK;
}

static custos_status check_report_media(custos_verify_case *r,
		verify_report *rep, const custos_verify_options *opts,
		custos_error *err)
{
	json_t *image = json_object_get(rep->json, "image");
	json_t *files = json_object_get(image, "files");
	json_t *hashes = json_object_get(rep->json, "hashes");
	const char *format = json_string_value(json_object_get(image,
		"format"));
	json_int_t padding = json_integer_value(json_object_get(image,
		"padding_bytes"));
	const char *subject = rep->item != NULL ? rep->item : rep->path;
	custos_digest_set digests = 0;
	size_t nfiles = json_array_size(files), missing = 0;
	file_job job;
	pthread_t tid;
	int started = 0;
	custos_image *img = NULL;
	custos_image_hash_result res;
	custos_status st = CUSTOS_OK, hash_st = CUSTOS_OK;
	char message[CUSTOS_ERROR_MESSAGE_MAX] = "";
	const char *alg;
	json_t *v;
	verify_blockmap bm;

	memset(&bm, 0, sizeof(bm));
	if (!json_is_object(hashes) || nfiles == 0 || nfiles > MAX_FILES) {
		custos__verify_add(r, "media.hash", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
			"the report names no image files or no hashes");
		return CUSTOS_OK;
	}
	json_object_foreach(hashes, alg, v) {
		custos_digest_alg a;

		if (custos_digest_parse(&a, alg, NULL) == CUSTOS_OK)
			digests |= CUSTOS_DIGEST_BIT(a);
	}
	memset(&job, 0, sizeof(job));
	job.paths = calloc(nfiles, sizeof(*job.paths));
	job.sha256 = calloc(nfiles, sizeof(*job.sha256));
	job.why = calloc(nfiles, sizeof(*job.why));
	job.count = nfiles;
	job.cancel = opts->cancel;
	if (job.paths == NULL || job.sha256 == NULL || job.why == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		const char *name = json_string_value(json_object_get(
			json_array_get(files, i), "name"));
		struct stat sb;

		if (name == NULL || !safe_name(name)) {
			custos__verify_add(r, "media.files.sha256", subject,
				CUSTOS_CHECK_FAILED, 1, NULL, name,
				"the report names an image file outside its "
				"folder (or none)");
			goto out;
		}
		job.paths[i] = custos__aprintf("%s/%s", rep->dir, name);
		if (job.paths[i] == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
			goto out;
		}
		if (stat(job.paths[i], &sb) != 0)
			missing++;
	}
	if (missing > 0) {
		for (size_t i = 0; i < nfiles; i++)
			if (access(job.paths[i], F_OK) != 0)
				custos__verify_add(r, "media.files.sha256",
					job.paths[i], CUSTOS_CHECK_NOT_CHECKED,
					1, json_string_value(json_object_get(
					json_array_get(files, i), "sha256")),
					NULL, "the image file is missing");
		not_checked_media(r, subject, hashes,
			"the image is missing (or one of its files)");
		goto out;
	}
	/* A block map the report carries: checked in the media pass. */
	custos__verify_blockmap_find(r, rep, subject, &bm);
	/* The files' SHA-256 on another thread while the media is read. */
	started = pthread_create(&tid, NULL, hash_files, &job) == 0;
	if (!started)
		hash_files(&job);
	{
		int e01 = format != NULL && strcmp(format, "e01") == 0;
		size_t n = e01 || ends_with_001(job.paths[0]) ? 1 : nfiles;

		st = read_image(&img, &res, &hash_st, message,
			sizeof(message), (const char *const *)job.paths, n,
			digests, opts, r, &bm, subject);
	}
	if (started)
		pthread_join(tid, NULL);
	if (opts->cancel != NULL && *opts->cancel) {
		st = custos__error_set(err, CUSTOS_ECANCELED, "interrupted");
		goto out;
	}
	if (st != CUSTOS_OK) {
		/* A damaged first segment is evidence that fails. */
		custos__verify_add(r, "media.image", subject,
			CUSTOS_CHECK_FAILED, 1, format, NULL,
			"the image cannot be opened: %s", message);
		st = CUSTOS_OK;
		goto files;
	}
	json_object_set_new(rep->facts, "media_size_bytes", json_integer(
		(json_int_t)custos_image_media_size(img)));
	e01_checks(r, subject, img, &res, hash_st, message);
	if (custos_image_file_count(img) != nfiles)
		custos__verify_add(r, "media.files.set", subject,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL,
			"the image has %zu files, the report lists %zu",
			custos_image_file_count(img), nfiles);
	json_object_foreach(hashes, alg, v) {
		custos_digest_alg a;
		char id[64];
		const char *want = json_string_value(v);
		const char *got;

		snprintf(id, sizeof(id), "media.hash.%s", alg);
		if (custos_digest_parse(&a, alg, NULL) != CUSTOS_OK ||
		    want == NULL) {
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_NOT_CHECKED, 1, want, NULL,
				"the report names a hash custos cannot compute");
			continue;
		}
		got = res.digest[a];
		if (bm.used && opts->blockmap_only && !got[0] &&
		    custos__verify_blockmap_proved(r, subject)) {
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_NOT_CHECKED, 0, want, NULL,
				"not recomputed (--blockmap-only): every block "
				"matches the map whose root the signed report "
				"carries");
			continue;
		}
		if (res.corrupt || (hash_st != CUSTOS_OK &&
				hash_st != CUSTOS_EMISMATCH) || !got[0])
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_NOT_CHECKED, 1, want, NULL,
				"the media could not be read in full: %s",
				message);
		else if (padding > 0)
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_NOT_CHECKED, 1, want, got,
				"the E01 pads the media by %lld bytes, so its "
				"hash is not the source's", (long long)padding);
		else if (strcasecmp(want, got) == 0)
			custos__verify_add(r, id, subject, CUSTOS_CHECK_PASSED,
				1, want, got, "recomputed from the image: "
				"matches the report");
		else
			custos__verify_add(r, id, subject,
				CUSTOS_CHECK_FAILED, 1, want, got,
				"recomputed from the image: differs from the "
				"report");
	}
files:
	{
		char *listing_name = NULL;
		char *listing = sha256_listing(rep, &listing_name);

		for (size_t i = 0; i < nfiles; i++) {
			json_t *f = json_array_get(files, i);
			const char *name = json_string_value(json_object_get(f,
				"name"));
			const char *want = json_string_value(json_object_get(f,
				"sha256"));
			char listed[65];
			int in_list = listing != NULL &&
				listed_hash(listing, name, listed);

			if (!job.sha256[i][0])
				custos__verify_add(r, "media.files.sha256",
					name, CUSTOS_CHECK_NOT_CHECKED, 1, want,
					NULL, "%s", job.why[i]);
			else if (want == NULL || strcasecmp(want,
					job.sha256[i]) != 0)
				custos__verify_add(r, "media.files.sha256",
					name, CUSTOS_CHECK_FAILED, 1, want,
					job.sha256[i], "the file's SHA-256 differs "
					"from the report's");
			else if (listing != NULL && (!in_list ||
				 strcasecmp(listed, job.sha256[i]) != 0))
				custos__verify_add(r, "media.files.sha256",
					name, CUSTOS_CHECK_FAILED, 1,
					in_list ? listed : want, job.sha256[i],
					"%s %s", listing_name, in_list ?
					"gives another SHA-256" :
					"does not list this file");
			else
				custos__verify_add(r, "media.files.sha256",
					name, CUSTOS_CHECK_PASSED, 1, want,
					job.sha256[i], "matches the report%s%s",
					listing ? " and " : "",
					listing ? listing_name : "");
		}
		free(listing);
		free(listing_name);
	}
out:
	custos__verify_blockmap_free(&bm);
	custos_image_free(img);
	for (size_t i = 0; job.paths != NULL && i < nfiles; i++)
		free(job.paths[i]);
	free(job.paths);
	free(job.sha256);
	free(job.why);
	return st;
}

static custos_status check_lone_image(custos_verify_case *r,
		const verify_image *im, const custos_verify_options *opts)
{
	custos_image *img = NULL;
	custos_image_hash_result res;
	custos_status st, hash_st = CUSTOS_OK;
	char message[CUSTOS_ERROR_MESSAGE_MAX] = "";
	const char *paths[1] = {im->path};

	st = read_image(&img, &res, &hash_st, message, sizeof(message),
		paths, 1, CUSTOS_DIGEST_SET_DEFAULT, opts, NULL, NULL, NULL);
	if (opts->cancel != NULL && *opts->cancel) {
		custos_image_free(img);
		return CUSTOS_ECANCELED;
	}
	if (st != CUSTOS_OK) {
		custos__verify_add(r, "media.image", im->path,
			CUSTOS_CHECK_FAILED, 1, NULL, NULL,
			"the image cannot be opened: %s", message);
		return CUSTOS_OK;
	}
	e01_checks(r, im->path, img, &res, hash_st, message);
	custos__verify_add(r, "media.hash", im->path,
		CUSTOS_CHECK_NOT_CHECKED, 1, NULL, res.digest[CUSTOS_DIGEST_SHA256],
		"no acquisition report names this image, so its hashes "
		"have nothing to be compared with");
	custos_image_free(img);
	return CUSTOS_OK;
}

custos_status custos__verify_media(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts, custos_error *err)
{
	custos_status st = CUSTOS_OK;

	for (size_t i = 0; i < vc->report_count && st == CUSTOS_OK; i++)
		if (vc->reports[i].json != NULL)
			st = check_report_media(r, &vc->reports[i], opts, err);
	for (size_t i = 0; i < vc->image_count && st == CUSTOS_OK; i++)
		if (!vc->images[i].claimed)
			st = check_lone_image(r, &vc->images[i], opts);
	if (st == CUSTOS_ECANCELED)
		custos__error_set(err, st, "interrupted");
	return st;
}
