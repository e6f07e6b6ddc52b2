/*
 * Canonical JSON, the form every custody record is hashed and signed in
 * (custos-log(5)): sorted keys, no insignificant whitespace, ASCII only,
 * and no floats or nulls inside, so that two writers give the same bytes
 * for the same record.  The json helpers module of DESIGN.md.
 */
#include <stdio.h>

#include <jansson.h>

#include "json_private.h"

int custos__json_has_real(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_real(j))
		return 1;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if (custos__json_has_real(v))
				return 1;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (custos__json_has_real(v))
				return 1;
	}
	return 0;
}

/* Replace floats by their text, so a record holds none. */
void custos__json_reals_to_strings(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	char buf[64];

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (json_is_real(v)) {
				snprintf(buf, sizeof(buf), "%.17g",
					json_real_value(v));
				json_object_set_new(j, k, json_string(buf));
			} else {
				custos__json_reals_to_strings(v);
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_real(v)) {
				snprintf(buf, sizeof(buf), "%.17g",
					json_real_value(v));
				json_array_set_new(j, i, json_string(buf));
			} else {
				custos__json_reals_to_strings(v);
			}
		}
	}
}

/* Drop null members and elements: records hold no nulls. */
void custos__json_strip_nulls(json_t *j)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, k, v) {
			if (json_is_null(v))
				json_object_del(j, k);
			else
				custos__json_strip_nulls(v);
		}
	} else if (json_is_array(j)) {
		for (i = json_array_size(j); i > 0; i--) {
			v = json_array_get(j, i - 1);
			if (json_is_null(v))
				json_array_remove(j, i - 1);
			else
				custos__json_strip_nulls(v);
		}
	}
}

char *custos__json_canonical(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
		JSON_ENSURE_ASCII);
}
