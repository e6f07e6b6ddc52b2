/*
 * The legal request (request.json, custos-bundle(5)) a bundle answers:
 * parsed with duplicate keys refused, and checked for the fields a
 * bundle needs (instrument.name, a known measure, both authorities with
 * an ISO 3166 country, references.request) before anything is written.
 */
#include <string.h>

#include <jansson.h>

#include "custos/bundle.h"
#include "bundle_private.h"
#include "error_private.h"

static const char *const measures[] = {
	"information-exchange", "transfer-of-proceedings", "letter-of-request",
	"extradition-support", "expedited-preservation",
	"spontaneous-information", "24-7-network",
};
const char *custos__request_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) && json_string_length(v) > 0 ?
		json_string_value(v) : NULL;
}

static custos_status check_authority(json_t *root, const char *key,
		custos_error *err)
{
	json_t *a = json_object_get(root, key);
	const char *cc;

	if (!json_is_object(a) || custos__request_str(a, "name") == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing %s.name", key);
	cc = custos__request_str(a, "country");
	if (cc == NULL || strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' ||
	    cc[1] < 'A' || cc[1] > 'Z')
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: %s.country must be an ISO 3166 alpha-2 code", key);
	return CUSTOS_OK;
}

custos_status custos__request_parse(json_t **out, const char *text,
		size_t len, custos_error *err)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *measure;
	int known = 0;
	custos_status st;

	*out = NULL;
	if (len > CUSTOS_BUNDLE_REQUEST_MAX)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: larger than %d bytes", CUSTOS_BUNDLE_REQUEST_MAX);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"request: not JSON (line %d: %s)", jerr.line, jerr.text);
	if (!json_is_object(root)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: not a JSON object");
		goto fail;
	}
	v = json_object_get(root, "instrument");
	if (!json_is_object(v) || custos__request_str(v, "name") == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing instrument.name");
		goto fail;
	}
	measure = custos__request_str(root, "measure");
	if (measure == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing measure");
		goto fail;
	}
	for (size_t i = 0; i < sizeof(measures) / sizeof(measures[0]); i++)
		if (strcmp(measure, measures[i]) == 0)
			known = 1;
	if (!known) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: unknown measure (see custos-bundle(5))");
		goto fail;
	}
	if ((st = check_authority(root, "requesting_authority", err)) != CUSTOS_OK ||
	    (st = check_authority(root, "requested_authority", err)) != CUSTOS_OK)
		goto fail;
	v = json_object_get(root, "references");
	if (!json_is_object(v) || custos__request_str(v, "request") == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request: missing references.request");
		goto fail;
	}
	*out = root;
	return CUSTOS_OK;
fail:
	json_decref(root);
	return st;
}

custos_status custos_bundle_request_check(const char *json, size_t len,
		custos_error *err)
{
	json_t *root = NULL;
	custos_status st;

	if (json == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "request: none");
	st = custos__request_parse(&root, json, len, err);
	json_decref(root);
	if (st != CUSTOS_OK)
		custos__error_tidy(err);
	return st;
}
