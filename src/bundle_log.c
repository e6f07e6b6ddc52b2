/*
 * The custody records a bundle's journey leaves in a custody log
 * (custos-log(5)): the sender's 'exported' record (the evidence item IDs,
 * the bundle id and the signed transfer manifest's SHA-256), and the
 * receiver's 'received' record (the receipt's SHA-256, the result, where
 * the evidence is kept, and the bundle and transfer manifest it came in,
 * in place of a release in the receiver's own log), or 'verified' for a
 * plain bag, which came with no transfer manifest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custos/bundle.h"
#include "custos/custody.h"
#include "custos/digest.h"
#include "bundle_log_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

/* The transfer manifest is small: only one this size is hashed. */
#define MANIFEST_HASH_MAX 65535

/* Append ev to the log in dir, signed as sign says; a failure's message
 * starts with "custody log: ". */
static custos_status append(const char *dir, const custos_custody_event *ev,
		const custos_sign_options *sign, custos_error *err)
{
	custos_custody_actor_options a;
	custos_status st;

	custos_custody_actor_options_init(&a);
	a.key_path = sign->key_path;
	a.cert_path = sign->cert_path;
	a.passphrase = sign->passphrase;
	a.passphrase_ctx = sign->passphrase_ctx;
	st = custos_custody_append(NULL, NULL, dir, ev, &a, err);
	if (st != CUSTOS_OK) {
		char why[CUSTOS_ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
		custos__error_set(err, st, "custody log: %s", why);
	}
	return st;
}

/* SHA-256 of a small file (the transfer manifest), or "" on failure; a
 * FIFO or device there is refused, not waited on. */
static void small_file_sha256(const char *path,
		char hex[CUSTOS_DIGEST_HEX_MAX])
{
	unsigned char *buf = NULL;
	size_t n = 0;

	hex[0] = '\0';
	if (custos__read_file_max(path, MANIFEST_HASH_MAX, &buf, &n,
			"transfer manifest", NULL) == CUSTOS_OK)
		(void)custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, buf, n, hex,
			CUSTOS_DIGEST_HEX_MAX, NULL);
	free(buf);
}

custos_status custos_bundle_log_exported(const char *log_dir,
		const char *bundle_id, const char *output,
		const char *const *items, size_t item_count,
		const custos_sign_options *sign, custos_error *err)
{
	custos_custody_event ev;
	const char *names[64];
	char manifest_sha[CUSTOS_DIGEST_HEX_MAX];
	char *path, *fields;
	custos_status st;
	json_t *f;

	if (log_dir == NULL || bundle_id == NULL || output == NULL ||
	    sign == NULL || (item_count > 0 && items == NULL))
		return custos__error_set(err, CUSTOS_EINVAL,
			"exported record: log, bundle id, output and signer "
			"are required");
	if (item_count > 64)
		item_count = 64;
	for (size_t i = 0; i < item_count; i++)
		names[i] = custos__basename(items[i]);
	path = custos__aprintf("%s.transfer-manifest.txt", output);
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	small_file_sha256(path, manifest_sha);
	free(path);
	f = json_pack("{s:s}", "bundle_id", bundle_id);
	if (f != NULL && manifest_sha[0] != '\0')
		json_object_set_new(f, "transfer_manifest_sha256",
			json_string(manifest_sha));
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	custos_custody_event_init(&ev);
	ev.type = "exported";
	ev.items = names;
	ev.item_count = item_count;
	ev.fields_json = fields;
	st = append(log_dir, &ev, sign, err);
	free(fields);
	return st;
}

custos_status custos__bundle_log_received(const char *log_dir,
		const custos_bundle_summary *sum, const char *receipt_sha256,
		int clean, const char *storage, const custos_sign_options *sign,
		custos_error *err)
{
	custos_custody_event ev;
	/*
	 * A "received" record: the matching release is in the sender's log,
	 * so it names the bundle and its signed transfer manifest instead.
	 */
	int bundle = sum->transfer_manifest_sha256[0] != '\0';
	json_t *f = json_pack("{s:s, s:s, s:s}", "receipt_sha256",
		receipt_sha256, "result", clean ? "verified" : "not verified",
		"storage_location", storage);
	const char *item = sum->bundle_id;
	char *fields;
	custos_status st;

	/* A plain bag came with no transfer manifest: only "verified". */
	if (f != NULL && bundle)
		json_object_set_new(f, "transfer", json_pack("{s:s, s:s}",
			"bundle_id", sum->bundle_id, "transfer_manifest_sha256",
			sum->transfer_manifest_sha256));
	else if (f != NULL)
		json_object_set_new(f, "bundle_id", json_string(sum->bundle_id));
	fields = f ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	custos_custody_event_init(&ev);
	ev.type = bundle ? "received" : "verified";
	ev.items = &item;
	ev.item_count = 1;
	ev.location = storage;
	ev.fields_json = fields;
	st = append(log_dir, &ev, sign, err);
	free(fields);
	return st;
}
