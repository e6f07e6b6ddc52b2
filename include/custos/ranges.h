/*
 * A sorted list of sector ranges, used for unreadable sectors.  Adjacent
 * ranges are merged as they are added, so the list stays exact and short.
 */
#ifndef CUSTOS_RANGES_H
#define CUSTOS_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

typedef struct custos_range {
	uint64_t first_sector;
	uint64_t sector_count;
} custos_range;

/* A hard maximum, so hostile media cannot exhaust memory (16 B each). */
#define CUSTOS_RANGES_MAX (4u * 1024u * 1024u)

typedef struct custos_ranges custos_ranges;

CUSTOS_EXTERN custos_status custos_ranges_new(custos_ranges **out,
		custos_error *err);
/* Ranges must be added in increasing order of first_sector. */
CUSTOS_EXTERN custos_status custos_ranges_add(custos_ranges *r,
		uint64_t first_sector, uint64_t sector_count, custos_error *err);
CUSTOS_EXTERN size_t custos_ranges_count(const custos_ranges *r);
/* Borrowed; NULL when empty. */
CUSTOS_EXTERN const custos_range *custos_ranges_get(const custos_ranges *r,
		size_t index);
CUSTOS_EXTERN uint64_t custos_ranges_total(const custos_ranges *r);
CUSTOS_EXTERN void custos_ranges_free(custos_ranges *r);

#endif
