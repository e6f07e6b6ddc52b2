/*
 * The rescue map: which bytes of the source are copied, which failed and
 * which are still to be tried, in GNU ddrescue's terms and mapfile format
 * (so ddrescue, ddrescuelog and custos --resume all read the same file).
 *
 * Statuses: '?' non-tried, '*' failed in the copy pass (non-trimmed),
 * '/' trimmed but not scraped, '-' bad sector(s), '+' finished.
 */
#ifndef CUSTOS_MAPFILE_PRIVATE_H
#define CUSTOS_MAPFILE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "custos/error.h"
#include "custos/ranges.h"

#define CUSTOS__MAP_NON_TRIED '?'
#define CUSTOS__MAP_NON_TRIMMED '*'
#define CUSTOS__MAP_NON_SCRAPED '/'
#define CUSTOS__MAP_BAD '-'
#define CUSTOS__MAP_FINISHED '+'

typedef struct custos__map_block {
	uint64_t pos, size;
	char status;
} custos__map_block;

typedef struct custos__map custos__map;

/* A map of size bytes, all non-tried. */
custos_status custos__map_new(custos__map **out, uint64_t size,
		custos_error *err);
void custos__map_free(custos__map *m);
uint64_t custos__map_size(const custos__map *m);

/* Give [pos, pos + size) one status (neighbours of equal status merge). */
custos_status custos__map_set(custos__map *m, uint64_t pos, uint64_t size,
		char status, custos_error *err);
/* Status of the byte at pos. */
char custos__map_status_at(const custos__map *m, uint64_t pos);
/*
 * The first block at or after from whose status is in statuses; 0 when
 * there is none.  A block that starts before from is cut at from.
 */
int custos__map_next(const custos__map *m, uint64_t from,
		const char *statuses, custos__map_block *out);
/* The last such block that ends at or before end (for backward sweeps). */
int custos__map_prev(const custos__map *m, uint64_t end,
		const char *statuses, custos__map_block *out);
/* Bytes with a status in statuses. */
uint64_t custos__map_bytes(const custos__map *m, const char *statuses);

/* Where the rescue stands, as the mapfile's status line says. */
typedef struct custos__map_cursor {
	uint64_t pos;
	char status;    /* '?' copying, '*' trimming, '/' scraping,
			 * '-' retrying, '+' finished */
	unsigned int pass;
} custos__map_cursor;

/* The mapfile text (ddrescue 1.20+ layout); caller frees. */
custos_status custos__map_format(const custos__map *m,
		const custos__map_cursor *cur, const char *tool, char **out,
		custos_error *err);
/*
 * Parse a mapfile.  Blocks must cover [0, size) without gaps or overlap;
 * anything else is refused with the line that is wrong.
 */
custos_status custos__map_parse(const char *text, size_t len,
		uint64_t size, custos__map **out, custos__map_cursor *cur,
		custos_error *err);

/* Every byte not finished, as sector ranges (the zero-filled sectors). */
custos_status custos__map_unfinished_ranges(const custos__map *m,
		uint32_t sector, custos_ranges *out, custos_error *err);

#endif
