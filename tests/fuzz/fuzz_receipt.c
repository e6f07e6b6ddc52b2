/*
 * Fuzz target: a receipt (JSON) through custos_bundle_receipt_check.
 * Invariants: the outcome is OK or EFORMAT, the same twice, with a
 * message in valid UTF-8 on failure; whatever is accepted is, read again
 * here with jansson, an object with no key repeated at any depth,
 * custos_receipt_version 1, and a result that agrees with its
 * discrepancies ("verified" with none, "not verified" with some).
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "custos/bundle.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_error err;
	custos_status st;
	json_t *root;
	const char *result;
	size_t nd;

	memset(&err, 0, sizeof(err));
	st = custos_bundle_receipt_check((const char *)data, size, &err);
	FUZZ_CHECK(st == CUSTOS_OK || st == CUSTOS_EFORMAT);
	FUZZ_CHECK(custos_bundle_receipt_check((const char *)data, size,
		&err) == st);
	if (st != CUSTOS_OK) {
		FUZZ_CHECK(fuzz_text_ok(err.message));
		return 0;
	}
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
		NULL);
	FUZZ_CHECK(json_is_object(root));
	FUZZ_CHECK(json_integer_value(json_object_get(root,
		"custos_receipt_version")) == 1);
	result = json_string_value(json_object_get(root, "result"));
	nd = json_array_size(json_object_get(root, "discrepancies"));
	FUZZ_CHECK(result != NULL);
	FUZZ_CHECK((strcmp(result, "verified") == 0 && nd == 0) ||
		(strcmp(result, "not verified") == 0 && nd > 0));
	json_decref(root);
	return 0;
}
