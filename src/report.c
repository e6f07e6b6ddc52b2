/*
 * The acquisition report, as JSON (the record a program reads) and as text
 * (the same facts, laid out for a person and for printing), from the plain
 * description in report_private.h.  Nothing here knows how the facts were
 * gathered.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custos/report.h"
#include "custos/version.h"
#include "custos/text.h"
#include "error_private.h"
#include "report_private.h"
#include "util_private.h"

/*
 * A JSON string for text that may not be valid UTF-8 (device strings, paths,
 * arguments): bytes that jansson refuses are written as \xNN in the text.
 */
static json_t *jtext(const char *s)
{
	json_t *j;
	char *escaped;
	size_t n, o = 0;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	if (j != NULL)
		return j;
	n = strlen(s);
	escaped = malloc(4 * n + 1);
	if (escaped == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80)
			escaped[o++] = (char)c;
		else
			o += (size_t)snprintf(escaped + o, 5, "\\x%02x", c);
	}
	escaped[o] = '\0';
	j = json_string(escaped);
	free(escaped);
	return j;
}

static json_t *jsize(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static int given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static json_t *hashes_json(const char *const digest[CUSTOS_DIGEST_COUNT])
{
	json_t *o = json_object();

	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++) {
		if (!given(digest[alg]))
			continue;
		json_object_set_new(o, custos_digest_name((custos_digest_alg)alg),
			json_string(digest[alg]));
	}
	return o;
}

/* E01 only: what the image stores beyond the media bytes. */
static int is_e01(const custos__report *a)
{
	return strcmp(a->format, "e01") == 0;
}

static int is_aborted(const custos__report *a)
{
	return strcmp(a->result, "aborted") == 0;
}

static void add_e01_facts(json_t *root, const custos__report *a)
{
	json_t *image = json_object_get(root, "image");
	const char *stored[CUSTOS_DIGEST_COUNT] = {0};

	if (image == NULL || !is_e01(a))
		return;
	stored[CUSTOS_DIGEST_MD5] = a->stored_md5;
	stored[CUSTOS_DIGEST_SHA1] = a->stored_sha1;
	json_object_set_new(image, "ewf_format", json_string("encase6"));
	json_object_set_new(image, "chunk_size_bytes",
		json_integer((json_int_t)a->chunk_size));
	json_object_set_new(image, "padding_bytes",
		jsize(a->padding_bytes));
	/* The MD5 and SHA-1 inside the E01 cover the padded media. */
	json_object_set_new(image, "stored_hashes", hashes_json(stored));
}

static json_t *build_all(const custos__report *a);

/* Who signs this report (the signature itself is <report>.p7s). */
static void add_signature(json_t *root, const custos__report *a)
{
	if (!a->sign_requested)
		return;
	json_object_set_new(root, "signature", json_pack("{s:o, s:s, s:o, s:o, s:b}",
		"file", jtext(a->signature_name),
		"format", a->tsa_requested ? "CAdES-B-T" : "CAdES-B-B",
		"signer", jtext(a->signer_subject),
		"certificate_sha256", jtext(a->signer_fingerprint),
		"timestamp_requested", a->tsa_requested));
}

/* The block map: the signed report commits to its tree's root. */
static void add_block_map(json_t *root, const custos__report *a)
{
	if (a->blockmap_name == NULL)
		return;
	json_object_set_new(root, "block_map", json_pack(
		"{s:o, s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:o}",
		"file", jtext(a->blockmap_name),
		"size_bytes", jsize(a->blockmap_size),
		"sha256", jtext(a->blockmap_sha256),
		"algorithm", "sha256",
		"block_size_bytes", (int)a->block_size,
		"leaf_count", jsize(a->blockmap_leaves),
		"media_size_bytes", jsize(a->bytes_acquired),
		"root", jtext(a->blockmap_root),
		"marked_blocks", jsize(a->blockmap_marked)));
}

static json_t *build(const custos__report *a)
{
	json_t *root = build_all(a);

	if (root != NULL) {
		add_e01_facts(root, a);
		add_signature(root, a);
		add_block_map(root, a);
		if (a->recovery_json != NULL)
			json_object_set_new(root, "recovery",
				json_loads(a->recovery_json, 0, NULL));
	}
	return root;
}

static json_t *build_all(const custos__report *a)
{
	const custos_source_info *s = a->source;
	char started[CUSTOS__RFC3339_MAX], finished[CUSTOS__RFC3339_MAX];
	json_t *files = json_array(), *ranges = json_array(), *verify;
	size_t n = custos_ranges_count(a->unreadable);

	custos__time_rfc3339(started, a->started_at);
	custos__time_rfc3339(finished, a->finished_at);
	for (size_t i = 0; i < a->file_count; i++)
		json_array_append_new(files, json_pack("{s:o, s:o, s:o}",
			"name", jtext(a->files[i].name),
			"size_bytes", jsize(a->files[i].size_bytes),
			"sha256", given(a->files[i].sha256)
				? json_string(a->files[i].sha256) : json_null()));
	for (size_t i = 0; i < n; i++) {
		const custos_range *r = custos_ranges_get(a->unreadable, i);

		json_array_append_new(ranges, json_pack("{s:o, s:o}",
			"first_sector", jsize(r->first_sector),
			"sector_count", jsize(r->sector_count)));
	}
	verify = json_pack("{s:b, s:s, s:o, s:o}",
		"requested", a->verify_requested,
		"result", a->verify_result,
		"hashes", hashes_json(a->verify_hashes),
		"detail", jtext(a->verify_detail));

	return json_pack(
		"{s:i, s:{s:o, s:s, s:s, s:s, s:s}, "
		"s:{s:o, s:o, s:o, s:o, s:o}, "
		"s:{s:o, s:s, s:o, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, "
		"s:{s:s, s:s, s:o, s:o}, "
		"s:o, "
		"s:{s:o, s:o, s:o, s:i, s:i}, "
		"s:{s:o, s:o, s:i}, "
		"s:o, "
		"s:s, s:s, s:s, s:s, s:s, s:o}",
		"custos_report", CUSTOS_REPORT_FORMAT,
		"tool",
		  "name", jtext(a->tool_name),
		  "version", custos_version(),
		  "libewf", custos_version_libewf(),
		  "openssl", custos_version_openssl(),
		  "libarchive", custos_version_libarchive(),
		"case",
		  "case_number", jtext(a->case_number),
		  "evidence_number", jtext(a->evidence_number),
		  "examiner", jtext(a->examiner),
		  "description", jtext(a->description),
		  "notes", jtext(a->notes),
		"source",
		  "path", jtext(s->path),
		  "kind", custos_source_kind_name(s->kind),
		  "size_bytes", s->size_known ? jsize(s->size_bytes) : json_null(),
		  "sector_size", (int)s->logical_sector_size,
		  "logical_sector_size", (int)s->logical_sector_size,
		  "physical_sector_size", (int)s->physical_sector_size,
		  "read_only", s->read_only == CUSTOS_UNKNOWN ? json_null()
			: json_boolean(s->read_only),
		  "vendor", jtext(s->vendor),
		  "model", jtext(s->model),
		  "serial", jtext(s->serial),
		  "firmware", jtext(s->firmware),
		  "backing_file", jtext(s->backing_file),
		  "identity_from", jtext(s->identity_from),
		"image",
		  "format", a->format,
		  "compression", a->compression,
		  "split_size_bytes", a->split_size ? jsize(a->split_size)
			: json_null(),
		  "files", files,
		"hashes", hashes_json(a->hashes),
		"errors",
		  "unreadable_sectors", jsize(custos_ranges_total(a->unreadable)),
		  "unreadable_bytes", jsize(custos_ranges_total(a->unreadable) *
			s->logical_sector_size),
		  "ranges", ranges,
		  "retries", (int)a->retries,
		  "granularity_bytes", (int)a->granularity,
		"acquisition",
		  "bytes_acquired", jsize(a->bytes_acquired),
		  "bytes_expected", s->size_known ? jsize(s->size_bytes)
			: json_null(),
		  "duration_ms", (json_int_t)(a->duration_seconds * 1000.0),
		"verify", verify,
		"started_at", started,
		"finished_at", finished,
		"host", a->host,
		"timezone", a->timezone,
		"result", a->result,
		"aborted_reason", jtext(a->aborted_reason));
}

custos_status custos__report_json(char **out, const custos__report *a,
		custos_error *err)
{
	json_t *root;

	if (out == NULL || a == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "missing argument");
	root = build(a);
	if (root == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM,
			"cannot build the JSON report");
	*out = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(root);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	/* Text files end with a newline. */
	{
		size_t len = strlen(*out);
		char *grown = realloc(*out, len + 2);

		if (grown == NULL) {
			free(*out);
			*out = NULL;
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		}
		grown[len] = '\n';
		grown[len + 1] = '\0';
		*out = grown;
	}
	return CUSTOS_OK;
}

/* --- text --- */

typedef struct text {
	char *buf;
	size_t len, cap;
	int failed;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = t->cap * 2 + (size_t)n;
			char *grown = realloc(t->buf, cap);

			if (grown == NULL) {
				t->failed = 1;
				return;
			}
			t->buf = grown;
			t->cap = cap;
		}
	}
}

/* Printable copy of untrusted text for the text report: C0, C1 and bidi
 * controls and invalid UTF-8 escaped (custos_text_escape). */
static void add_safe(text *t, const char *s)
{
	char *safe;
	size_t n;

	if (s == NULL) {
		add(t, "(not given)");
		return;
	}
	n = strlen(s);
	safe = malloc(CUSTOS_TEXT_ESCAPE_RATIO * n + 1);
	if (safe == NULL) {
		add(t, "(out of memory)");
		return;
	}
	custos_text_escape(safe, CUSTOS_TEXT_ESCAPE_RATIO * n + 1, s, n);
	add(t, "%s", safe);
	free(safe);
}

static void field(text *t, const char *label, const char *value)
{
	add(t, "  %-22s ", label);
	add_safe(t, value);
	add(t, "\n");
}

static void human_size(char *out, size_t cap, uint64_t bytes)
{
	static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, cap, "%" PRIu64 " bytes", bytes);
	else
		snprintf(out, cap, "%" PRIu64 " bytes (%.1f %s)", bytes, v,
			units[u]);
}

static const char *yes_no_unknown(int v)
{
	return v == CUSTOS_UNKNOWN ? "unknown" : v ? "yes" : "no";
}

custos_status custos__report_text(char **out, const custos__report *a,
		custos_error *err)
{
	const custos_source_info *s = a->source;
	char started[CUSTOS__RFC3339_MAX], finished[CUSTOS__RFC3339_MAX];
	char size[64];
	size_t n = custos_ranges_count(a->unreadable);
	text t = {0};

	t.cap = 4096;
	t.buf = malloc(t.cap);
	if (t.buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	custos__time_rfc3339(started, a->started_at);
	custos__time_rfc3339(finished, a->finished_at);

	add(&t, "CUSTOS ACQUISITION REPORT\n");
	add(&t, "=========================\n\n");
	add(&t, "Result: %s\n", a->result);
	if (is_aborted(a)) {
		add(&t, "  The run did not finish; no image was committed.\n");
		field(&t, "Reason:", a->aborted_reason);
	}
	add(&t, "\nCase\n");
	field(&t, "Case number:", a->case_number);
	field(&t, "Evidence number:", a->evidence_number);
	field(&t, "Examiner:", a->examiner);
	field(&t, "Description:", a->description);
	field(&t, "Notes:", a->notes);

	add(&t, "\nSource\n");
	field(&t, "Path:", s->path);
	field(&t, "Kind:", custos_source_kind_name(s->kind));
	if (s->size_known) {
		human_size(size, sizeof(size), s->size_bytes);
		field(&t, "Size:", size);
	} else {
		field(&t, "Size:", "unknown (read to the end)");
	}
	add(&t, "  %-22s %u logical, %u physical\n", "Sector size (bytes):",
		s->logical_sector_size, s->physical_sector_size);
	field(&t, "Read-only (kernel):", yes_no_unknown(s->read_only));
	if (s->vendor) field(&t, "Vendor:", s->vendor);
	if (s->model) field(&t, "Model:", s->model);
	if (s->serial) field(&t, "Serial:", s->serial);
	if (s->firmware) field(&t, "Firmware:", s->firmware);
	if (s->backing_file) field(&t, "Loop backing file:", s->backing_file);
	if (s->identity_from) field(&t, "Identity read from:", s->identity_from);

	add(&t, "\nImage\n");
	if (is_e01(a)) {
		add(&t, "  %-22s E01 (EnCase 6), compression %s\n", "Format:",
			a->compression);
		if (a->padding_bytes > 0)
			add(&t, "  %-22s %" PRIu64 " zero bytes added to end on "
				"a whole sector;\n  %-22s the MD5 and SHA-1 stored "
				"in the E01 cover them\n", "Padding:",
				a->padding_bytes, "");
	} else {
		field(&t, "Format:", "raw (uncompressed)");
	}
	human_size(size, sizeof(size), a->bytes_acquired);
	field(&t, "Bytes acquired:", size);
	for (size_t i = 0; i < a->file_count; i++) {
		add(&t, "  File %-17zu ", i + 1);
		add_safe(&t, a->files[i].name);
		add(&t, "  %" PRIu64 " bytes\n", a->files[i].size_bytes);
		if (given(a->files[i].sha256))
			add(&t, "  %-22s %s\n", "  SHA-256:", a->files[i].sha256);
	}

	add(&t, "\nHashes of the acquired media\n");
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
		if (given(a->hashes[alg]))
			add(&t, "  %-22s %s\n",
				custos_digest_name((custos_digest_alg)alg),
				a->hashes[alg]);
	if (is_aborted(a))
		add(&t, "  (none: the run was aborted)\n");
	if (is_e01(a) && a->padding_bytes > 0 && !is_aborted(a) &&
	    given(a->stored_md5) && given(a->stored_sha1)) {
		add(&t, "\nHashes stored in the E01 (media with padding)\n");
		add(&t, "  %-22s %s\n", "md5", a->stored_md5);
		add(&t, "  %-22s %s\n", "sha1", a->stored_sha1);
	}
	if (a->blockmap_name != NULL) {
		add(&t, "\nBlock map (SHA-256 per block, RFC 6962 tree)\n");
		add(&t, "  %-22s %s\n", "File:", a->blockmap_name);
		add(&t, "  %-22s %u bytes\n", "Block size:", a->block_size);
		add(&t, "  %-22s %" PRIu64 " (%" PRIu64 " with unreadable "
			"sectors)\n", "Blocks:", a->blockmap_leaves,
			a->blockmap_marked);
		add(&t, "  %-22s %s\n", "Tree root:", a->blockmap_root);
	}

	add(&t, "\nUnreadable sectors: %" PRIu64 "\n",
		custos_ranges_total(a->unreadable));
	if (n > 0) {
		add(&t, "  They are zero-filled in the image and in the hashes.\n");
		add(&t, "  %-20s %s\n", "First sector", "Count");
		for (size_t i = 0; i < n; i++) {
			const custos_range *r = custos_ranges_get(a->unreadable, i);

			add(&t, "  %-20" PRIu64 " %" PRIu64 "\n", r->first_sector,
				r->sector_count);
		}
	}
	add(&t, "  %-22s %u\n", "Retries per read:", a->retries);

	add(&t, "\nVerification (image read back): %s\n", a->verify_result);
	if (a->verify_detail) field(&t, "Detail:", a->verify_detail);

	if (a->sign_requested) {
		add(&t, "\nSignature of %s\n", a->report_json_name);
		if (a->signed_ok) {
			field(&t, "Signed by:", a->signer_subject);
			field(&t, "Certificate SHA-256:", a->signer_fingerprint);
			field(&t, "Signature file:", a->signature_name);
			field(&t, "Form:", a->tsa_requested
				? "CAdES-B-T (with an RFC 3161 timestamp)"
				: "CAdES-B-B");
		} else {
			field(&t, "NOT SIGNED:", a->sign_error);
		}
	}

	if (a->recovery_text != NULL)
		add(&t, "\n%s", a->recovery_text);

	add(&t, "\nRun\n");
	field(&t, "Started (UTC):", started);
	field(&t, "Finished (UTC):", finished);
	add(&t, "  %-22s %.3f s\n", "Duration:", a->duration_seconds);
	field(&t, "Host:", a->host);
	field(&t, "Host time zone:", a->timezone);
	add(&t, "  %-22s ", "Tool:");
	add_safe(&t, a->tool_name);
	add(&t, " %s (libewf %s, OpenSSL %s, %s)\n", custos_version(),
		custos_version_libewf(), custos_version_openssl(),
		custos_version_libarchive());
	if (t.failed) {
		free(t.buf);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	*out = t.buf;
	return CUSTOS_OK;
}
