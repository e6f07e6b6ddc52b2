/*
 * Fuzz target: the legal request (request.json) through
 * custos_bundle_request_check.  Invariants: the outcome is OK or EFORMAT;
 * a failure has a message in valid UTF-8; whatever is accepted is, by an
 * independent reading with jansson, one JSON object without a repeated
 * key at any depth, with instrument.name, a measure, both authorities
 * with a two-letter upper-case country and references.request; the same
 * input gives the same outcome twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custos/bundle.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) && json_string_length(v) > 0;
}

static int country_ok(json_t *a)
{
	const char *c = json_string_value(json_object_get(a, "country"));
	return c != NULL && strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' &&
		c[1] >= 'A' && c[1] <= 'Z';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_error err;
	custos_status st;
	json_t *root;

	memset(&err, 0, sizeof(err));
	st = custos_bundle_request_check((const char *)data, size, &err);
	FUZZ_CHECK(st == CUSTOS_OK || st == CUSTOS_EFORMAT);
	FUZZ_CHECK(custos_bundle_request_check((const char *)data, size,
		&err) == st);
	if (st != CUSTOS_OK) {
		FUZZ_CHECK(fuzz_text_ok(err.message));
		return 0;
	}
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
		NULL);
	FUZZ_CHECK(json_is_object(root));
	FUZZ_CHECK(has_str(json_object_get(root, "instrument"), "name"));
	FUZZ_CHECK(has_str(root, "measure"));
	FUZZ_CHECK(has_str(json_object_get(root, "requesting_authority"),
		"name"));
	FUZZ_CHECK(country_ok(json_object_get(root, "requesting_authority")));
	FUZZ_CHECK(country_ok(json_object_get(root, "requested_authority")));
	FUZZ_CHECK(has_str(json_object_get(root, "references"), "request"));
	json_decref(root);
	return 0;
}
