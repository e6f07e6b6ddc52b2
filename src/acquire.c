/*
 * Acquisition: read the source once, fan every buffer out to the digests and
 * the image writer, isolate bad sectors, then commit the image and write the
 * report.  An interrupted or failed run still writes a report that says
 * "aborted" and how far it got; image files then keep their ".part" names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acquire_private.h"
#include "custos/cert.h"
#include "custos/image.h"
#include "custos/report.h"
#include "error_private.h"
#include "ewf_private.h"
#include "pipeline_private.h"

#define DEFAULT_BUFFER_SIZE (1024 * 1024)
#define DEFAULT_BUFFER_COUNT 16
#define PROGRESS_INTERVAL 0.25

void custos_acquire_options_init(custos_acquire_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_ACQUIRE_OPTIONS_VERSION;
	opts->format = CUSTOS_FORMAT_E01;
	opts->compression = CUSTOS_COMPRESSION_FAST;
	opts->digests = CUSTOS_DIGEST_SET_DEFAULT;
	opts->retries = 2;
	opts->tool_name = "libcustos";
}

/* State of one run, alive only inside custos_acquire_run. */
typedef struct run {
	custos_acquisition *a;
	const custos_acquire_options *opts;
	custos_source *src;
	custos__pipeline *pipeline;
	custos_digest *digests[CUSTOS_DIGEST_COUNT];
	custos_raw_writer *writer;       /* raw output */
	custos__ewf_writer *ewf;         /* or E01 output */
	uint32_t sector;
	double t0, last_progress;
	uint8_t *unit;    /* scratch for bad-sector isolation */
} run;

static int canceled(const run *r)
{
	return r->opts->cancel != NULL && *r->opts->cancel;
}

static void report_progress(run *r, custos_progress_phase phase,
		uint64_t done, uint64_t total, int final)
{
	custos_progress p;
	double now = custos__monotonic_seconds();

	if (r->opts->progress == NULL)
		return;
	if (!final && now - r->last_progress < PROGRESS_INTERVAL)
		return;
	r->last_progress = now;
	p.phase = phase;
	p.bytes_done = done;
	p.bytes_total = total;
	p.unreadable_sectors = custos_ranges_total(r->a->unreadable);
	p.elapsed_seconds = now - r->t0;
	p.final = final;
	r->opts->progress(&p, r->opts->progress_ctx);
}

/* --- consumers --- */

static custos_status consume_digest(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	(void)seq;
	return custos_digest_update(ctx, data, len, err);
}

static custos_status consume_writer(void *ctx, const uint8_t *data, size_t len,
		uint64_t seq, custos_error *err)
{
	(void)seq;
	return custos_raw_writer_write(ctx, data, len, err);
}

/* --- reading with bad-sector isolation --- */

/* Read one unit, trying 1 + retries times. */
static custos_status read_unit_retrying(run *r, uint8_t *buf, size_t len,
		uint64_t offset)
{
	custos_status st = CUSTOS_EIO;

	for (unsigned int i = 0; i <= r->opts->retries && !canceled(r); i++) {
		st = custos_source_read_unit(r->src, buf, len, offset, NULL);
		if (st == CUSTOS_OK || st == CUSTOS_EINVAL ||
		    st == CUSTOS_ENOMEM)
			break;
	}
	return st;
}

static custos_status mark_unreadable(run *r, uint8_t *buf, size_t len,
		uint64_t offset, custos_error *err)
{
	uint64_t first = offset / r->sector;
	uint64_t count = (len + r->sector - 1) / r->sector;

	memset(buf, 0, len);
	return custos_ranges_add(r->a->unreadable, first, count, err);
}

/*
 * After a block failed even with retries: walk it in granularity steps, and
 * narrow each failing step down to single sectors, so that only sectors that
 * truly cannot be read are lost (and zero-filled).
 */
static custos_status isolate(run *r, uint8_t *buf, size_t len,
		uint64_t offset, custos_error *err)
{
	size_t step = r->a->granularity;
	size_t pos = 0;
	custos_status st;

	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step;

		if (canceled(r))
			return custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted");
		st = read_unit_retrying(r, r->unit, n, offset + pos);
		if (st == CUSTOS_OK) {
			memcpy(buf + pos, r->unit, n);
		} else if (n <= r->sector) {
			st = mark_unreadable(r, buf + pos, n, offset + pos, err);
			if (st != CUSTOS_OK)
				return st;
		} else {
			for (size_t s = 0; s < n; s += r->sector) {
				size_t m = n - s < r->sector ? n - s : r->sector;

				if (read_unit_retrying(r, r->unit, m,
						offset + pos + s) == CUSTOS_OK) {
					memcpy(buf + pos + s, r->unit, m);
					continue;
				}
				st = mark_unreadable(r, buf + pos + s, m,
					offset + pos + s, err);
				if (st != CUSTOS_OK)
					return st;
			}
		}
		pos += n;
	}
	return CUSTOS_OK;
}

/* Fill buf with len bytes at offset; *got is short only at the end. */
static custos_status read_block(run *r, uint8_t *buf, size_t len,
		uint64_t offset, size_t *got, custos_error *err)
{
	custos_error e;
	size_t pos = 0, n = 0;
	custos_status st;

	st = custos_source_read(r->src, buf, len, offset, &n, r->opts->cancel, &e);
	if (st == CUSTOS_OK) {
		*got = n;
		return CUSTOS_OK;
	}
	if (st != CUSTOS_EIO || !custos_source_is_seekable(r->src)) {
		if (err != NULL)
			*err = e;
		return st;
	}
	pos = n;
	for (unsigned int i = 0; i < r->opts->retries && !canceled(r); i++) {
		st = custos_source_read(r->src, buf + pos, len - pos,
			offset + pos, &n, r->opts->cancel, NULL);
		pos += n;
		if (st == CUSTOS_OK) {
			*got = pos;
			return CUSTOS_OK;
		}
		if (st != CUSTOS_EIO)
			break;
	}
	if (canceled(r))
		return custos__error_set(err, CUSTOS_ECANCELED, "interrupted");
	pos -= pos % r->sector;
	/* Never isolate past the end of a medium of known size. */
	if (r->a->source.size_known && offset + len > r->a->source.size_bytes)
		len = (size_t)(r->a->source.size_bytes - offset);
	st = isolate(r, buf + pos, len - pos, offset + pos, err);
	*got = st == CUSTOS_OK ? len : 0;
	return st;
}

/* The read loop, on the caller's thread.  Returns why it stopped early. */
static custos_status produce(run *r, custos_error *err)
{
	const custos_source_info *info = &r->a->source;
	size_t bufsize = custos__pipeline_buffer_size(r->pipeline);
	uint64_t offset = 0;
	custos_status st = CUSTOS_OK;

	for (;;) {
		size_t want = bufsize, got = 0;
		uint64_t seq;
		uint8_t *buf;

		if (info->size_known && offset >= info->size_bytes)
			break;
		if (canceled(r))
			return custos__error_set(err, CUSTOS_ECANCELED,
				"interrupted at byte %llu",
				(unsigned long long)offset);
		if (info->size_known && info->size_bytes - offset < want)
			want = (size_t)(info->size_bytes - offset);
		buf = custos__pipeline_claim(r->pipeline, &seq);
		if (buf == NULL)
			return CUSTOS_OK; /* a consumer failed; finish() says why */
		st = read_block(r, buf, want, offset, &got, err);
		if (st != CUSTOS_OK)
			return st;
		if (got > 0)
			custos__pipeline_publish(r->pipeline, seq, got);
		offset += got;
		report_progress(r, CUSTOS_PHASE_ACQUIRE, offset,
			info->size_known ? info->size_bytes : 0, 0);
		if (got < want) {
			if (info->size_known)
				return custos__error_set(err, CUSTOS_EIO,
					"%s ended at byte %llu, before its size "
					"of %llu bytes", info->path,
					(unsigned long long)offset,
					(unsigned long long)info->size_bytes);
			break;
		}
	}
	return CUSTOS_OK;
}

/* --- record keeping --- */

static custos_status copy_source_info(custos_acquisition *a,
		const custos_source_info *in)
{
	a->source = *in;
	a->source.path = custos__strdup(in->path);
	a->source.vendor = custos__strdup(in->vendor);
	a->source.model = custos__strdup(in->model);
	a->source.serial = custos__strdup(in->serial);
	a->source.firmware = custos__strdup(in->firmware);
	a->source.backing_file = custos__strdup(in->backing_file);
	a->source.identity_from = custos__strdup(in->identity_from);
	return a->source.path == NULL ? CUSTOS_ENOMEM : CUSTOS_OK;
}

static custos_status copy_case(custos_acquisition *a,
		const custos_case_info *in)
{
	a->case_info.case_number = custos__strdup(in->case_number);
	a->case_info.evidence_number = custos__strdup(in->evidence_number);
	a->case_info.examiner = custos__strdup(in->examiner);
	a->case_info.description = custos__strdup(in->description);
	a->case_info.notes = custos__strdup(in->notes);
	return CUSTOS_OK;
}

static size_t output_file_count(run *r)
{
	return r->ewf != NULL ? custos__ewf_writer_file_count(r->ewf)
			      : custos_raw_writer_file_count(r->writer);
}

static const custos_output_file *output_file(run *r, size_t i)
{
	return r->ewf != NULL ? custos__ewf_writer_file(r->ewf, i)
			      : custos_raw_writer_file(r->writer, i);
}

static custos_status record_files(run *r, int committed, custos_error *err)
{
	custos_acquisition *a = r->a;
	size_t n = output_file_count(r);

	a->files = calloc(n == 0 ? 1 : n, sizeof(*a->files));
	if (a->files == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const custos_output_file *f = output_file(r, i);
		custos__file_record *rec = &a->files[i];

		/* Raw files in progress keep their name with ".part" added. */
		rec->name = committed || r->ewf != NULL ? strdup(f->name)
			: custos__aprintf("%s.part", f->name);
		if (rec->name == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		a->file_count++;
		rec->size_bytes = f->size_bytes;
		if (!committed)
			continue;
		if (f->sha256[0] != '\0')
			memcpy(rec->sha256, f->sha256, sizeof(rec->sha256));
		else /* one raw file: its bytes are the media bytes */
			memcpy(rec->sha256, a->digest[CUSTOS_DIGEST_SHA256],
				sizeof(rec->sha256));
	}
	return CUSTOS_OK;
}

static custos_status check_outputs_free(custos_acquisition *a,
		custos_error *err)
{
	const char *paths[] = {a->report_json_path, a->report_txt_path,
			       a->sha256_path, a->signature_path};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (paths[i] != NULL && custos__path_exists(paths[i]))
			return custos__error_set(err, CUSTOS_EEXIST,
				"%s already exists; refusing to overwrite it",
				paths[i]);
	return CUSTOS_OK;
}

static custos_status write_sha256_file(const custos_acquisition *a,
		custos_error *err)
{
	size_t cap = a->file_count * (CUSTOS_DIGEST_HEX_MAX + 8) + 1, used = 0;
	char *text;
	custos_status st;

	for (size_t i = 0; i < a->file_count; i++)
		cap += strlen(a->files[i].name);
	text = malloc(cap);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	text[0] = '\0';
	for (size_t i = 0; i < a->file_count; i++)
		used += (size_t)snprintf(text + used, cap - used, "%s  %s\n",
			a->files[i].sha256, a->files[i].name);
	st = custos__write_file_atomic(a->sha256_path, text, used, err);
	free(text);
	return st;
}

static custos_status write_reports(custos_acquisition *a,
		const custos_sign_options *sign, custos_error *err)
{
	char *text = NULL;
	custos_status st, sign_st = CUSTOS_OK;
	custos_error sign_err;

	st = custos_report_to_json(&a->report_json, a, err);
	if (st == CUSTOS_OK && a->result != CUSTOS_RESULT_ABORTED)
		st = write_sha256_file(a, err);
	if (st == CUSTOS_OK)
		st = custos__write_file_atomic(a->report_json_path,
			a->report_json, strlen(a->report_json), err);
	/* The signature covers the JSON report's exact bytes. */
	if (st == CUSTOS_OK && sign != NULL) {
		sign_st = custos_sign_file_to(a->report_json_path,
			a->signature_path, sign, &sign_err);
		a->signed_ok = sign_st == CUSTOS_OK;
		if (!a->signed_ok)
			a->sign_error = custos__strdup(sign_err.message);
	}
	/* The text says who signed, or that signing failed. */
	if (st == CUSTOS_OK)
		st = custos_report_to_text(&text, a, err);
	if (st == CUSTOS_OK)
		st = custos__write_file_atomic(a->report_txt_path, text,
			strlen(text), err);
	free(text);
	if (st == CUSTOS_OK && sign_st != CUSTOS_OK) {
		st = sign_st;
		if (err != NULL)
			*err = sign_err;
	}
	return st;
}

/*
 * Before imaging: the certificate may sign, and the key (with its
 * passphrase) matches it, by signing a scrap file once.
 */
static custos_status check_signing(custos_acquisition *a,
		const custos_sign_options *sign, custos_error *err)
{
	custos_sign_options trial = *sign;
	custos_cert *cert = NULL;
	char *scrap = custos__aprintf("%s.sign-check", a->base);
	char *scrap_sig = scrap ? custos__aprintf("%s.p7s", scrap) : NULL;
	custos_status st;

	if (scrap_sig == NULL) {
		free(scrap);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	st = custos_cert_load(&cert, sign->cert_path, err);
	if (st == CUSTOS_OK && !custos_cert_can_sign(cert))
		st = custos__error_set(err, CUSTOS_EINVAL,
			"%s may not sign (key usage)", sign->cert_path);
	if (st == CUSTOS_OK) {
		a->signer_subject = custos__strdup(custos_cert_subject(cert));
		a->signer_fingerprint = custos__strdup(
			custos_cert_fingerprint_sha256(cert));
		trial.tsa_url = NULL; /* the TSA is asked only for the report */
		st = custos__write_file_atomic(scrap, "custos signing check\n",
			21, err);
	}
	if (st == CUSTOS_OK)
		st = custos_sign_file_to(scrap, scrap_sig, &trial, err);
	unlink(scrap_sig);
	unlink(scrap);
	custos_cert_free(cert);
	free(scrap_sig);
	free(scrap);
	return st;
}

/* --- verification --- */

static void verify_progress(const custos_progress *p, void *ctx)
{
	run *r = ctx;

	if (r->opts->progress != NULL)
		r->opts->progress(p, r->opts->progress_ctx);
}

/*
 * Read the image back from disk as any reader would (for an E01, through
 * libewf, checking every chunk) and compare its hashes with those taken
 * while acquiring.
 */
static custos_status verify_image(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	const char **paths = calloc(a->file_count, sizeof(*paths));
	char **owned = calloc(a->file_count, sizeof(*owned));
	char *dir = custos__dirname(a->base);
	custos_image_hash_options ho;
	custos_image_hash_result res;
	custos_image *img = NULL;
	custos_status st = CUSTOS_OK;
	int mismatch = 0;
	size_t n = a->format == CUSTOS_FORMAT_E01 ? 1 : a->file_count;

	if (paths == NULL || dir == NULL || owned == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; st == CUSTOS_OK && i < n; i++) {
		owned[i] = custos__aprintf("%s/%s", dir, a->files[i].name);
		if (owned[i] == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		paths[i] = owned[i];
	}
	if (st == CUSTOS_OK)
		st = custos_image_open(&img, paths, n, err);
	custos_image_hash_options_init(&ho);
	ho.digests = a->digests;
	ho.workers = r->opts->workers;
	ho.progress = verify_progress;
	ho.progress_ctx = r;
	ho.cancel = r->opts->cancel;
	if (st == CUSTOS_OK)
		st = custos_image_hash(img, &ho, &res, err);
	if (st == CUSTOS_EMISMATCH) {
		mismatch = 1;
		st = CUSTOS_OK;
	}
	for (int alg = 0; st == CUSTOS_OK && !mismatch &&
	     alg < CUSTOS_DIGEST_COUNT; alg++) {
		/* An E01 holds the media padded to a whole sector. */
		const char *want = a->format == CUSTOS_FORMAT_E01
			? a->stored_digest[alg] : a->digest[alg];

		if (!(a->digests & CUSTOS_DIGEST_BIT(alg)))
			continue;
		memcpy(a->verify_digest[alg], res.digest[alg],
			sizeof(a->verify_digest[alg]));
		if (strcmp(res.digest[alg], want) != 0)
			mismatch = 1;
	}
	if (st != CUSTOS_OK) {
		a->verify = CUSTOS_VERIFY_FAILED;
		a->verify_detail = custos__aprintf("%s",
			err != NULL ? err->message : custos_strerror(st));
	} else if (mismatch) {
		a->verify = CUSTOS_VERIFY_MISMATCH;
		a->verify_detail = custos__aprintf("%s", err != NULL &&
			err->message[0] ? err->message
			: "the hashes read back differ from the acquisition");
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"verification failed: the image read back differs");
	} else {
		a->verify = CUSTOS_VERIFY_MATCH;
	}
	custos_image_free(img);
	if (owned != NULL)
		for (size_t i = 0; i < n; i++)
			free(owned[i]);
	free(owned);
	free(paths);
	free(dir);
	return st;
}

/* --- the run --- */

static custos_status validate(const custos_acquire_options *o,
		const custos_source_info *info, custos_error *err)
{
	if (o->version != CUSTOS_ACQUIRE_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"options version %d not supported", o->version);
	if (o->output_base == NULL || *o->output_base == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "no output name");
	if (o->format != CUSTOS_FORMAT_RAW && o->format != CUSTOS_FORMAT_E01)
		return custos__error_set(err, CUSTOS_EINVAL, "unknown format");
	if (o->compression > CUSTOS_COMPRESSION_BEST)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown compression");
	if (o->digests == 0 || o->digests >= (1u << CUSTOS_DIGEST_COUNT))
		return custos__error_set(err, CUSTOS_EINVAL, "no valid hash chosen");
	if (o->retries > 100)
		return custos__error_set(err, CUSTOS_EINVAL,
			"at most 100 retries");
	if (o->granularity != 0 &&
	    (o->granularity % info->logical_sector_size != 0 ||
	     o->granularity > DEFAULT_BUFFER_SIZE))
		return custos__error_set(err, CUSTOS_EINVAL,
			"granularity must be a multiple of the sector size "
			"(%u) and at most 1 MiB", info->logical_sector_size);
	if (o->buffer_size != 0 &&
	    (o->buffer_size % info->logical_sector_size != 0 ||
	     o->buffer_size > 64u * 1024 * 1024))
		return custos__error_set(err, CUSTOS_EINVAL,
			"buffer size must be a multiple of the sector size, "
			"at most 64 MiB");
	if (o->split_size != 0 && o->split_size < info->logical_sector_size)
		return custos__error_set(err, CUSTOS_EINVAL,
			"split size must be at least one sector");
	if (o->require_readonly && info->kind == CUSTOS_SOURCE_BLOCK &&
	    info->read_only != 1)
		return custos__error_set(err, CUSTOS_EWRITABLE,
			"%s is not read-only in the kernel; refusing to image it "
			"(use a write-blocker, or `blockdev --setro %s`)",
			info->path, info->path);
	return CUSTOS_OK;
}

static custos_status open_e01(run *r, custos_error *err)
{
	const custos_acquire_options *o = r->opts;
	const custos_source_info *info = &r->a->source;
	uint32_t bps = info->logical_sector_size;
	custos__ewf_writer_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.output_base = o->output_base;
	cfg.compression = o->compression;
	cfg.segment_size = o->split_size;
	cfg.bytes_per_sector = bps;
	/* A medium that ends inside a sector is padded to a whole one. */
	cfg.media_size = info->size_known
		? (info->size_bytes + bps - 1) / bps * bps : 0;
	cfg.physical_device = info->kind == CUSTOS_SOURCE_BLOCK;
	cfg.case_info = &o->case_info;
	cfg.model = info->model;
	cfg.serial = info->serial;
	cfg.workers = o->workers ? o->workers : custos__cpu_count();
	return custos__ewf_writer_open(&r->ewf, &cfg, err);
}

static custos_status setup(run *r, custos_error *err)
{
	const custos_acquire_options *o = r->opts;
	custos_acquisition *a = r->a;
	size_t bufsize = o->buffer_size ? o->buffer_size : DEFAULT_BUFFER_SIZE;
	size_t count = o->buffer_count ? o->buffer_count : DEFAULT_BUFFER_COUNT;
	int e01 = o->format == CUSTOS_FORMAT_E01;
	int need_file_hash;
	custos_status st;

	/* One file holds exactly the media bytes: reuse the media SHA-256. */
	need_file_hash = o->split_size != 0 ||
		!(o->digests & CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA256));
	st = check_outputs_free(a, err);
	if (st == CUSTOS_OK && o->sign != NULL)
		st = check_signing(a, o->sign, err);
	if (st == CUSTOS_OK && e01)
		st = open_e01(r, err);
	else if (st == CUSTOS_OK)
		st = custos_raw_writer_open(&r->writer, o->output_base,
			o->split_size, need_file_hash, err);
	if (st == CUSTOS_OK && posix_memalign((void **)&r->unit, 4096,
			a->granularity) != 0)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (st == CUSTOS_OK)
		st = custos__pipeline_new(&r->pipeline, bufsize, count, err);
	for (int alg = 0; st == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++) {
		if (!(a->digests & CUSTOS_DIGEST_BIT(alg)))
			continue;
		st = custos_digest_new(&r->digests[alg], (custos_digest_alg)alg,
			err);
		if (st == CUSTOS_OK)
			st = custos__pipeline_add_consumer(r->pipeline,
				consume_digest, r->digests[alg], err);
	}
	if (st == CUSTOS_OK && e01)
		st = custos__ewf_writer_attach(r->ewf, r->pipeline, err);
	else if (st == CUSTOS_OK)
		st = custos__pipeline_add_consumer(r->pipeline, consume_writer,
			r->writer, err);
	return st;
}

/*
 * The E01 holds the media padded to a whole sector: hash the padding on
 * copies of the digests (before they are finished), so that both values
 * can be reported.
 */
static custos_status pad_digests(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	uint64_t pad = custos__ewf_writer_padding(r->ewf);
	static const uint8_t zeros[65536];
	custos_status st = CUSTOS_OK;

	a->padding_bytes = pad;
	for (int alg = 0; pad > 0 && alg < CUSTOS_DIGEST_COUNT; alg++) {
		custos_digest *copy = NULL;

		if (r->digests[alg] == NULL)
			continue;
		st = custos_digest_dup(&copy, r->digests[alg], err);
		if (st == CUSTOS_OK)
			st = custos_digest_update(copy, zeros, (size_t)pad, err);
		if (st == CUSTOS_OK)
			st = custos_digest_final_hex(copy, a->stored_digest[alg],
				sizeof(a->stored_digest[alg]), err);
		custos_digest_free(copy);
		if (st != CUSTOS_OK)
			return st;
	}
	return CUSTOS_OK;
}

static custos_status finish_e01(run *r, custos_error *err)
{
	custos_acquisition *a = r->a;
	custos_status st;

	if (a->padding_bytes == 0)
		memcpy(a->stored_digest, a->digest, sizeof(a->stored_digest));
	st = custos__ewf_writer_finish(r->ewf,
		a->stored_digest[CUSTOS_DIGEST_MD5],
		a->stored_digest[CUSTOS_DIGEST_SHA1], a->unreadable, err);
	if (st == CUSTOS_OK)
		st = custos__ewf_writer_commit(r->ewf, err);
	return st;
}

static custos_acquisition *acquisition_new(const custos_acquire_options *o,
		const custos_source_info *info)
{
	custos_acquisition *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->base = strdup(o->output_base);
	a->tool_name = custos__strdup(o->tool_name ? o->tool_name : "libcustos");
	a->format = o->format;
	a->compression = o->compression;
	a->digests = o->digests;
	/* EnCase 6 stores MD5 and SHA-1, so an E01 always gets both. */
	if (o->format == CUSTOS_FORMAT_E01)
		a->digests |= CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_MD5) |
			CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA1);
	a->split_size = o->split_size;
	a->retries = o->retries;
	a->granularity = o->granularity ? o->granularity
					: info->logical_sector_size;
	a->verify_requested = o->verify;
	a->report_json_path = custos__aprintf("%s.report.json", o->output_base);
	a->report_txt_path = custos__aprintf("%s.report.txt", o->output_base);
	a->sha256_path = custos__aprintf("%s.sha256", o->output_base);
	if (o->sign != NULL) {
		a->sign_requested = 1;
		a->tsa_requested = o->sign->tsa_url != NULL;
		a->signature_path = custos__aprintf("%s.report.json.p7s",
			o->output_base);
		if (a->signature_path == NULL) {
			custos_acquisition_free(a);
			return NULL;
		}
	}
	if (a->base == NULL || a->tool_name == NULL ||
	    a->report_json_path == NULL || a->report_txt_path == NULL ||
	    a->sha256_path == NULL || copy_source_info(a, info) != CUSTOS_OK ||
	    copy_case(a, &o->case_info) != CUSTOS_OK ||
	    custos_ranges_new(&a->unreadable, NULL) != CUSTOS_OK) {
		custos_acquisition_free(a);
		return NULL;
	}
	if (gethostname(a->host, sizeof(a->host) - 1) != 0)
		snprintf(a->host, sizeof(a->host), "unknown");
	custos__timezone_name(a->timezone, sizeof(a->timezone));
	return a;
}

custos_status custos_acquire_run(custos_acquisition **out, custos_source *src,
		const custos_acquire_options *opts, custos_error *err)
{
	run r;
	custos_status st, stop;
	custos_error stop_err;
	const custos_source_info *info;

	if (out == NULL || src == NULL || opts == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "missing argument");
	*out = NULL;
	info = custos_source_get_info(src);
	st = validate(opts, info, err);
	if (st != CUSTOS_OK)
		return st;
	memset(&r, 0, sizeof(r));
	r.opts = opts;
	r.src = src;
	r.sector = info->logical_sector_size;
	r.a = acquisition_new(opts, info);
	if (r.a == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = setup(&r, err);
	if (st != CUSTOS_OK)
		goto cleanup; /* nothing was written: no report */

	r.a->started_at = time(NULL);
	r.t0 = custos__monotonic_seconds();
	custos_error_clear(&stop_err);
	stop = custos__pipeline_start(r.pipeline, &stop_err);
	if (stop == CUSTOS_OK)
		stop = produce(&r, &stop_err);
	/*
	 * Even when the reader stopped early, let the consumers drain what was
	 * already read (at most the buffer pool), so the partial image and the
	 * byte count in the report agree.
	 */
	st = custos__pipeline_finish(r.pipeline, 0,
		stop == CUSTOS_OK ? &stop_err : NULL);
	if (stop == CUSTOS_OK)
		stop = st;
	r.a->bytes = custos__pipeline_bytes_done(r.pipeline);
	report_progress(&r, CUSTOS_PHASE_ACQUIRE, r.a->bytes,
		info->size_known ? info->size_bytes : 0, 1);
	if (stop == CUSTOS_OK && r.ewf != NULL)
		stop = pad_digests(&r, &stop_err);
	for (int alg = 0; stop == CUSTOS_OK && alg < CUSTOS_DIGEST_COUNT; alg++)
		if (r.digests[alg] != NULL)
			stop = custos_digest_final_hex(r.digests[alg],
				r.a->digest[alg], sizeof(r.a->digest[alg]),
				&stop_err);
	if (stop == CUSTOS_OK && r.ewf != NULL)
		stop = finish_e01(&r, &stop_err);
	else if (stop == CUSTOS_OK)
		stop = custos_raw_writer_commit(r.writer, &stop_err);

	if (stop != CUSTOS_OK) {
		r.a->result = CUSTOS_RESULT_ABORTED;
		r.a->abort_reason = strdup(stop_err.message[0] ? stop_err.message
						: custos_strerror(stop));
		for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
			r.a->digest[alg][0] = '\0';
	} else {
		r.a->result = custos_ranges_count(r.a->unreadable) > 0
			? CUSTOS_RESULT_COMPLETE_WITH_ERRORS
			: CUSTOS_RESULT_COMPLETE;
	}
	st = record_files(&r, stop == CUSTOS_OK, err);
	r.a->finished_at = time(NULL);
	r.a->duration_seconds = custos__monotonic_seconds() - r.t0;
	if (st == CUSTOS_OK && stop == CUSTOS_OK && opts->verify)
		stop = verify_image(&r, &stop_err);
	if (st == CUSTOS_OK)
		st = write_reports(r.a, opts->sign, err);
	if (st == CUSTOS_OK && stop != CUSTOS_OK) {
		st = stop;
		if (err != NULL)
			*err = stop_err;
	}
	*out = r.a;
	r.a = NULL;
cleanup:
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
		custos_digest_free(r.digests[alg]);
	custos__pipeline_free(r.pipeline);
	custos_raw_writer_free(r.writer);
	custos__ewf_writer_free(r.ewf);
	free(r.unit);
	custos_acquisition_free(r.a);
	return st;
}

/* --- accessors --- */

custos_acquire_result custos_acquisition_result(const custos_acquisition *a)
{
	return a->result;
}

const char *custos_acquire_result_name(custos_acquire_result r)
{
	switch (r) {
	case CUSTOS_RESULT_COMPLETE: return "complete";
	case CUSTOS_RESULT_COMPLETE_WITH_ERRORS: return "complete-with-errors";
	case CUSTOS_RESULT_ABORTED: return "aborted";
	}
	return "unknown";
}

custos_verify_result custos_acquisition_verify_result(
		const custos_acquisition *a)
{
	return a->verify;
}

uint64_t custos_acquisition_bytes(const custos_acquisition *a)
{
	return a->bytes;
}

const custos_ranges *custos_acquisition_unreadable(const custos_acquisition *a)
{
	return a->unreadable;
}

const char *custos_acquisition_digest(const custos_acquisition *a,
		custos_digest_alg alg)
{
	if ((int)alg < 0 || (int)alg >= CUSTOS_DIGEST_COUNT ||
	    a->digest[alg][0] == '\0')
		return NULL;
	return a->digest[alg];
}

const char *custos_acquisition_report_json(const custos_acquisition *a)
{
	return a->report_json;
}

const char *custos_acquisition_report_path(const custos_acquisition *a)
{
	return a->report_json_path;
}

void custos_acquisition_free(custos_acquisition *a)
{
	if (a == NULL)
		return;
	free(a->base);
	free(a->tool_name);
	free((char *)a->case_info.case_number);
	free((char *)a->case_info.evidence_number);
	free((char *)a->case_info.examiner);
	free((char *)a->case_info.description);
	free((char *)a->case_info.notes);
	free((char *)a->source.path);
	free((char *)a->source.vendor);
	free((char *)a->source.model);
	free((char *)a->source.serial);
	free((char *)a->source.firmware);
	free((char *)a->source.backing_file);
	free((char *)a->source.identity_from);
	free(a->abort_reason);
	custos_ranges_free(a->unreadable);
	for (size_t i = 0; i < a->file_count; i++)
		free(a->files[i].name);
	free(a->files);
	free(a->verify_detail);
	free(a->signer_subject);
	free(a->signer_fingerprint);
	free(a->signature_path);
	free(a->sign_error);
	free(a->report_json_path);
	free(a->report_txt_path);
	free(a->sha256_path);
	free(a->report_json);
	free(a);
}
