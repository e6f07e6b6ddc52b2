/*
 * The receiving authority's receipt for a bundle: a JSON record of what
 * one verification saw (the bundle id, request reference, both manifests'
 * digests, parts, payload, the checks made, the result and any
 * discrepancy), who received it, when and where it is stored.  It is
 * written to a new file, signed (detached CAdES, .p7s) and, on request,
 * named in a custody record (bundle_log.c).  See custos-bundle(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "custos/bundle.h"
#include "custos/sign.h"
#include "bundle_log_private.h"
#include "bundle_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#define RECEIPT_MAX (1024 * 1024)

void custos_bundle_receipt_options_init(custos_bundle_receipt_options *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_BUNDLE_RECEIPT_OPTIONS_VERSION;
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The receipt's text, ending in a newline (caller frees), or NULL. */
static custos_status receipt_check(const char *json, size_t len,
		custos_error *err);

static char *receipt_text(const custos_bundle_receipt_options *o,
		const char *received_at, const char *verified_at)
{
	const custos_bundle_summary *sum = o->summary;
	int clean = o->discrepancy == NULL;
	json_t *disc = json_array(), *j;
	char *text, *withnl = NULL;

	if (!clean)
		json_array_append_new(disc, json_string(o->discrepancy));
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:i, "
		"s:I, s:I, s:[s,s,s,s,s,s,s], s:s, s:o, s:s, s:s, s:s, s:s, s:s}",
		"custos_receipt_version", 1,
		"bundle_id", sum->bundle_id,
		"request_reference", sum->request_reference,
		"transfer_manifest_sha256", sum->transfer_manifest_sha256,
		"tag_manifest_sha512", sum->tagmanifest_sha512,
		"hash_algorithms", "SHA-256 (parts, payload), SHA-512 (payload, "
		"tag files)",
		"bundle", "file", o->bundle, "encrypted",
		sum->encrypted ? "age-encryption.org/v1 X25519" : "no",
		"parts", (int)sum->part_count,
		"payload_files", (json_int_t)sum->payload_files,
		"payload_bytes", (json_int_t)sum->payload_bytes,
		"checked", "transfer manifest signature", "part sizes and SHA-256",
		"age decryption, authenticated to the end",
		"tag manifest signature (CAdES)",
		"payload SHA-256 and SHA-512 against both manifests",
		"Payload-Oxum", "member names and types (no links, devices, "
		"absolute paths, '..', duplicates)",
		"result", clean ? "verified" : "not verified",
		"discrepancies", disc,
		"received_at", received_at,
		"verified_at", verified_at,
		"receiving_officer", o->officer,
		"receiving_authority", o->authority,
		"storage_location", o->storage);
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (text != NULL)
		withnl = custos__aprintf("%s\n", text);
	free(text);
	return withnl;
}

/* Prefix err's message with what failed, naming the file. */
static custos_status step_failed(custos_error *err, custos_status st,
		const char *step, const char *file, const char *suffix)
{
	char why[CUSTOS_ERROR_MESSAGE_MAX];

	snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
	return custos__error_set(err, st, "%s %s%s: %s", step, file, suffix,
		why);
}

/*
 * The receipt and its signature are made in a private folder beside
 * output, then both committed (never over anything): a receipt under its
 * final name always has its signature beside it.
 */
static custos_status write_signed(const char *output, const char *text,
		size_t len, const custos_sign_options *sign, custos_error *err)
{
	custos__staged stage;
	char *p7s_final = custos__aprintf("%s.p7s", output);
	char *p7s_name = custos__aprintf("%s.p7s", custos__basename(output));
	const char *tmp = NULL;
	custos_status st;
	int fd = -1;

	memset(&stage, 0, sizeof(stage));
	if (p7s_final == NULL || p7s_name == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	/* Refuse early; the commit refuses in any case. */
	if (custos__path_exists(output) || custos__path_exists(p7s_final)) {
		st = custos__error_set(err, CUSTOS_EEXIST,
			"%s exists; nothing is overwritten",
			custos__path_exists(output) ? output : p7s_final);
		goto out;
	}
	if ((st = custos__staged_open(&stage, output, err)) != CUSTOS_OK)
		goto out;
	if (custos__staged_add(&stage, p7s_name, p7s_final,
			"signature of the receipt", err) == NULL ||
	    (tmp = custos__staged_add(&stage, custos__basename(output), output,
			"receipt", err)) == NULL) {
		st = CUSTOS_ENOMEM;
		goto out;
	}
	st = custos__create_exclusive(&fd, tmp, 0644, err);
	if (st == CUSTOS_OK)
		st = custos__write_all(fd, text, len, output, err);
	if (st == CUSTOS_OK && fsync(fd) != 0)
		st = custos__error_errno(err, errno, "fsync");
	if (fd >= 0 && close(fd) != 0 && st == CUSTOS_OK)
		st = custos__error_errno(err, errno, "close");
	if (st != CUSTOS_OK) {
		step_failed(err, st, "writing the receipt", output, "");
		goto out;
	}
	if ((st = custos_sign_file(tmp, sign, err)) != CUSTOS_OK) {
		step_failed(err, st, "signature of the receipt", output, ".p7s");
		goto out;
	}
	st = custos__staged_commit(&stage, err);
out:
	custos__staged_discard(&stage);
	custos__staged_free(&stage);
	free(p7s_final);
	free(p7s_name);
	return st;
}

custos_status custos_bundle_receipt_write(char sha256[65],
		const custos_bundle_receipt_options *o, custos_error *err)
{
	char received_at[32], verified_at[32], sha[65];
	unsigned char d[32];
	char *text;
	size_t len;
	custos_status st;

	if (o == NULL || o->bundle == NULL || o->summary == NULL ||
	    o->officer == NULL || o->authority == NULL || o->storage == NULL ||
	    o->sign == NULL || o->output == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "receipt: the "
			"bundle, its summary, officer, authority, storage, signer "
			"and output are required");
	now_rfc3339(received_at);
	now_rfc3339(verified_at);
	text = receipt_text(o, o->received_at ? o->received_at : received_at,
		verified_at);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM,
			"cannot build the receipt");
	len = strlen(text);
	/* What is signed must read back as a receipt. */
	if ((st = receipt_check(text, len, err)) != CUSTOS_OK) {
		free(text);
		return st;
	}
	EVP_Digest(text, len, d, NULL, EVP_sha256(), NULL);
	custos__hex_into(sha, d, 32);
	st = write_signed(o->output, text, len, o->sign, err);
	free(text);
	if (st != CUSTOS_OK)
		return st;
	if (o->log != NULL &&
	    (st = custos__bundle_log_received(o->log, o->summary, sha,
			o->discrepancy == NULL, o->storage, o->sign, err)) !=
			CUSTOS_OK)
		return st;
	if (sha256 != NULL)
		memcpy(sha256, sha, sizeof(sha));
	return CUSTOS_OK;
}

static custos_status receipt_check(const char *json, size_t len,
		custos_error *err)
{
	static const char *const text_fields[] = {"bundle_id",
		"request_reference", "transfer_manifest_sha256",
		"tag_manifest_sha512", "received_at", "verified_at",
		"receiving_officer", "receiving_authority", "storage_location",
		"result"};
	json_error_t jerr;
	json_t *root, *disc, *v;
	const char *result;
	custos_status st = CUSTOS_OK;
	size_t i;

	if (json == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "receipt: none");
	if (len > RECEIPT_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"receipt: larger than %d bytes", RECEIPT_MAX);
	/* A repeated key is refused: the last value must never win. */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"receipt: not JSON (line %d: %s)", jerr.line, jerr.text);
	v = json_object_get(root, "custos_receipt_version");
	if (!json_is_object(root) || !json_is_integer(v) ||
	    json_integer_value(v) != 1) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"receipt: not a custos receipt (version 1)");
		goto out;
	}
	for (i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++)
		if (!json_is_string(json_object_get(root, text_fields[i]))) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"receipt: %s missing or not text", text_fields[i]);
			goto out;
		}
	disc = json_object_get(root, "discrepancies");
	if (!json_is_array(disc)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"receipt: discrepancies missing or not a list");
		goto out;
	}
	json_array_foreach(disc, i, v)
		if (!json_is_string(v)) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"receipt: a discrepancy is not text");
			goto out;
		}
	result = json_string_value(json_object_get(root, "result"));
	if (strcmp(result, "verified") == 0 ? json_array_size(disc) != 0 :
	    strcmp(result, "not verified") != 0 || json_array_size(disc) == 0)
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"receipt: result and discrepancies contradict each other");
out:
	json_decref(root);
	return st;
}

custos_status custos_bundle_receipt_check(const char *json, size_t len,
		custos_error *err)
{
	custos_status st = receipt_check(json, len, err);

	if (st != CUSTOS_OK)
		custos__error_tidy(err);
	return st;
}
