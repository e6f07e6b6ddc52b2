/* A sorted, merged list of sector ranges with a hard size limit. */
#include <stdlib.h>

#include "custos/ranges.h"
#include "error_private.h"

struct custos_ranges {
	custos_range *items;
	size_t count;
	size_t capacity;
	uint64_t total;
};

custos_status custos_ranges_new(custos_ranges **out, custos_error *err)
{
	if (out == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no output");
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

custos_status custos_ranges_add(custos_ranges *r, uint64_t first_sector,
		uint64_t sector_count, custos_error *err)
{
	custos_range *last;

	if (r == NULL || sector_count == 0 ||
	    first_sector > UINT64_MAX - sector_count)
		return custos__error_set(err, CUSTOS_EINVAL, "bad sector range");
	last = r->count > 0 ? &r->items[r->count - 1] : NULL;
	if (last != NULL && first_sector < last->first_sector + last->sector_count)
		return custos__error_set(err, CUSTOS_EINVAL,
			"sector ranges must be added in order");
	if (last != NULL && first_sector == last->first_sector + last->sector_count) {
		last->sector_count += sector_count;
		r->total += sector_count;
		return CUSTOS_OK;
	}
	if (r->count == r->capacity) {
		size_t cap = r->capacity == 0 ? 16 : r->capacity * 2;
		custos_range *grown;

		if (r->count >= CUSTOS_RANGES_MAX)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"more than %u separate bad ranges",
				CUSTOS_RANGES_MAX);
		if (cap > CUSTOS_RANGES_MAX)
			cap = CUSTOS_RANGES_MAX;
		grown = realloc(r->items, cap * sizeof(*grown));
		if (grown == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		r->items = grown;
		r->capacity = cap;
	}
	r->items[r->count].first_sector = first_sector;
	r->items[r->count].sector_count = sector_count;
	r->count++;
	r->total += sector_count;
	return CUSTOS_OK;
}

size_t custos_ranges_count(const custos_ranges *r)
{
	return r == NULL ? 0 : r->count;
}

const custos_range *custos_ranges_get(const custos_ranges *r, size_t index)
{
	if (r == NULL || index >= r->count)
		return NULL;
	return &r->items[index];
}

uint64_t custos_ranges_total(const custos_ranges *r)
{
	return r == NULL ? 0 : r->total;
}

void custos_ranges_free(custos_ranges *r)
{
	if (r == NULL)
		return;
	free(r->items);
	free(r);
}
