/*
 * The facts a court report shows beyond those the checks need: what an
 * item is (description, source identity, media hashes, image files, who
 * acquired it and when, from its report), every custody record that names
 * the item (who, when, what kind, to whom, seals, storage, export), and
 * what a foreign receipt says (officer, authority, storage, when).  They
 * are copied from evidence the checks have read, after the checks, into
 * the result's facts (and so also into the JSON); nothing here judges.
 */
#include <string.h>

#include "verify_private.h"

/* Copy the listed members of from that are present into to. */
static void copy_keys(json_t *to, json_t *from, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++) {
		json_t *v = json_object_get(from, keys[i]);

		if (v != NULL && !json_is_null(v))
			json_object_set_new(to, keys[i], json_deep_copy(v));
	}
}

/* The same, sharing the values (a reference each) instead of copying:
 * for the custody records, which nothing changes once parsed, and which
 * 100,000 of would take a second to copy and another to free. */
static void share_keys(json_t *to, json_t *from, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++) {
		json_t *v = json_object_get(from, keys[i]);

		if (v != NULL && !json_is_null(v))
			json_object_set(to, keys[i], v);
	}
}

void custos__verify_report_court_facts(json_t *facts, json_t *report)
{
	static const char *const case_keys[] = {"examiner", "description",
		"notes", NULL};
	static const char *const source_keys[] = {"path", "kind",
		"size_bytes", "vendor", "model", "serial", "firmware",
		"read_only", NULL};
	static const char *const report_keys[] = {"started_at",
		"finished_at", "host", "timezone", NULL};
	json_t *image = json_object_get(report, "image");
	json_t *o;

	if (facts == NULL || !json_is_object(report))
		return;
	copy_keys(facts, json_object_get(report, "case"), case_keys);
	copy_keys(facts, report, report_keys);
	if ((o = json_object()) != NULL) {
		copy_keys(o, json_object_get(report, "source"), source_keys);
		json_object_set_new(facts, "source", o);
	}
	if (json_is_object(json_object_get(report, "hashes")))
		json_object_set_new(facts, "hashes", json_deep_copy(
			json_object_get(report, "hashes")));
	if (json_is_object(image)) {
		json_object_set_new(facts, "image_format", json_deep_copy(
			json_object_get(image, "format")));
		if (json_is_array(json_object_get(image, "files")))
			json_object_set_new(facts, "image_files",
				json_deep_copy(json_object_get(image,
				"files")));
	}
}

void custos__verify_history_add(json_t *item_facts,
		const verify_record *rec)
{
	static const char *const keys[] = {"type", "event_time",
		"recorded_at", "actor", "to", "purpose", "carrier",
		"seal_state", "seal_id", "storage_location", "location",
		"reason", "note", "bundle_id", "transfer_manifest_sha256",
		"answers", "transfer", "discrepancies", NULL};
	json_t *history = json_object_get(item_facts, "history"), *e;

	if (item_facts == NULL || rec == NULL || rec->json == NULL)
		return;
	if (history == NULL) {
		history = json_array();
		if (history == NULL || json_object_set_new(item_facts,
				"history", history) != 0)
			return;
	}
	if ((e = json_object()) == NULL)
		return;
	json_object_set_new(e, "seq", json_integer((json_int_t)rec->seq));
	share_keys(e, rec->json, keys);
	json_object_set_new(e, "line_sha256", json_string(rec->sha256));
	json_array_append_new(history, e);
}

void custos__verify_receipt_court_facts(json_t *facts, json_t *receipt)
{
	static const char *const keys[] = {"request_reference",
		"received_at", "verified_at", "receiving_officer",
		"receiving_authority", "storage_location", "result",
		"transfer_manifest_sha256", NULL};

	if (facts != NULL && json_is_object(receipt))
		copy_keys(facts, receipt, keys);
}
