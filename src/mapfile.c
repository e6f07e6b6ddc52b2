/*
 * The rescue map and its GNU ddrescue mapfile text (mapfile_private.h).
 * The map is a sorted list of contiguous blocks covering the source; a
 * change splits the blocks it cuts and merges equal neighbours, so the
 * list stays as short as the pattern of errors allows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_private.h"
#include "mapfile_private.h"
#include "util_private.h"

/* So that a hostile mapfile cannot exhaust memory. */
#define MAP_MAX_BLOCKS (4u * 1024u * 1024u)

struct custos__map {
	custos__map_block *b;
	size_t count, capacity;
	uint64_t size;
};

custos_status custos__map_new(custos__map **out, uint64_t size,
		custos_error *err)
{
	custos__map *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->b = malloc(16 * sizeof(*m->b))) == NULL) {
		free(m);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	m->capacity = 16;
	m->size = size;
	if (size > 0) {
		m->b[0].pos = 0;
		m->b[0].size = size;
		m->b[0].status = CUSTOS__MAP_NON_TRIED;
		m->count = 1;
	}
	*out = m;
	return CUSTOS_OK;
}

void custos__map_free(custos__map *m)
{
	if (m == NULL)
		return;
	free(m->b);
	free(m);
}

uint64_t custos__map_size(const custos__map *m)
{
	return m->size;
}

static custos_status reserve(custos__map *m, size_t extra, custos_error *err)
{
	size_t cap = m->capacity;
	custos__map_block *grown;

	if (m->count + extra <= cap)
		return CUSTOS_OK;
	if (m->count + extra > MAP_MAX_BLOCKS)
		return custos__error_set(err, CUSTOS_ENOMEM,
			"more than %u separate areas in the rescue map",
			MAP_MAX_BLOCKS);
	while (cap < m->count + extra)
		cap *= 2;
	grown = realloc(m->b, cap * sizeof(*grown));
	if (grown == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	m->b = grown;
	m->capacity = cap;
	return CUSTOS_OK;
}

/* Index of the block holding pos (pos < size). */
static size_t find(const custos__map *m, uint64_t pos)
{
	size_t lo = 0, hi = m->count;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->b[mid].pos <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Make a block boundary at pos (0 < pos < size). */
static custos_status split_at(custos__map *m, uint64_t pos, custos_error *err)
{
	size_t i;
	custos__map_block *b;
	custos_status st;

	if (pos == 0 || pos >= m->size)
		return CUSTOS_OK;
	i = find(m, pos);
	if (m->b[i].pos == pos)
		return CUSTOS_OK;
	if ((st = reserve(m, 1, err)) != CUSTOS_OK)
		return st;
	memmove(&m->b[i + 2], &m->b[i + 1],
		(m->count - i - 1) * sizeof(*m->b));
	b = &m->b[i];
	m->b[i + 1].pos = pos;
	m->b[i + 1].size = b->pos + b->size - pos;
	m->b[i + 1].status = b->status;
	b->size = pos - b->pos;
	m->count++;
	return CUSTOS_OK;
}

custos_status custos__map_set(custos__map *m, uint64_t pos, uint64_t size,
		char status, custos_error *err)
{
	size_t first, last, keep, lo, hi;
	custos_status st;

	if (size == 0)
		return CUSTOS_OK;
	if (pos >= m->size || size > m->size - pos)
		return custos__error_set(err, CUSTOS_EINVAL,
			"area outside the rescue map");
	if ((st = split_at(m, pos, err)) != CUSTOS_OK ||
	    (st = split_at(m, pos + size, err)) != CUSTOS_OK)
		return st;
	first = find(m, pos);
	last = find(m, pos + size - 1);
	/* One block for the range, merged with equal neighbours; the
	 * blocks in [lo, hi) go. */
	m->b[first].size = size;
	m->b[first].status = status;
	keep = first;
	lo = first + 1;
	hi = last + 1;
	if (first > 0 && m->b[first - 1].status == status) {
		m->b[first - 1].size += size;
		keep = first - 1;
		lo = first;
	}
	if (hi < m->count && m->b[hi].status == status) {
		m->b[keep].size += m->b[hi].size;
		hi++;
	}
	memmove(&m->b[lo], &m->b[hi], (m->count - hi) * sizeof(*m->b));
	m->count -= hi - lo;
	return CUSTOS_OK;
}

char custos__map_status_at(const custos__map *m, uint64_t pos)
{
	if (pos >= m->size || m->count == 0)
		return '\0';
	return m->b[find(m, pos)].status;
}

int custos__map_next(const custos__map *m, uint64_t from,
		const char *statuses, custos__map_block *out)
{
	for (size_t i = from < m->size ? find(m, from) : m->count;
	     i < m->count; i++) {
		if (strchr(statuses, m->b[i].status) == NULL)
			continue;
		*out = m->b[i];
		if (out->pos < from) {
			out->size -= from - out->pos;
			out->pos = from;
		}
		return 1;
	}
	return 0;
}

int custos__map_prev(const custos__map *m, uint64_t end,
		const char *statuses, custos__map_block *out)
{
	size_t i;

	if (m->count == 0 || end == 0)
		return 0;
	i = find(m, (end > m->size ? m->size : end) - 1) + 1;
	while (i-- > 0) {
		if (strchr(statuses, m->b[i].status) == NULL)
			continue;
		*out = m->b[i];
		if (out->pos + out->size > end)
			out->size = end - out->pos;
		return 1;
	}
	return 0;
}

uint64_t custos__map_bytes(const custos__map *m, const char *statuses)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m->count; i++)
		if (strchr(statuses, m->b[i].status) != NULL)
			n += m->b[i].size;
	return n;
}

custos_status custos__map_format(const custos__map *m,
		const custos__map_cursor *cur, const char *tool, char **out,
		custos_error *err)
{
	size_t cap = 256 + m->count * 48, used;
	char *text = malloc(cap);

	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	used = (size_t)snprintf(text, cap,
		"# Mapfile. Created by %s (GNU ddrescue mapfile format)\n"
		"# current_pos  current_status  current_pass\n"
		"0x%08" PRIX64 "     %c               %u\n"
		"#      pos        size  status\n",
		tool, cur->pos, cur->status, cur->pass ? cur->pass : 1);
	for (size_t i = 0; i < m->count; i++)
		used += (size_t)snprintf(text + used, cap - used,
			"0x%08" PRIX64 "  0x%08" PRIX64 "  %c\n",
			m->b[i].pos, m->b[i].size, m->b[i].status);
	*out = text;
	return CUSTOS_OK;
}

static int valid_status(char c)
{
	return c != '\0' && strchr("?*/-+", c) != NULL;
}

/* One number as ddrescue writes it: 0x hex or decimal. */
static int parse_number(const char **p, uint64_t *v)
{
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p < '0' || **p > '9')
		return 0;
	*v = strtoull(*p, &end, 0);
	if (end == *p)
		return 0;
	*p = end;
	return 1;
}

custos_status custos__map_parse(const char *text, size_t len,
		uint64_t size, custos__map **out, custos__map_cursor *cur,
		custos_error *err)
{
	custos__map *m = NULL;
	const char *p = text, *end = text + len;
	int have_cursor = 0;
	unsigned int line = 0;
	uint64_t next = 0;
	custos_status st;

	if ((st = custos__map_new(&m, size, err)) != CUSTOS_OK)
		return st;
	m->count = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[256];
		const char *q = buf;
		uint64_t a, b = 0;

		line++;
		if (n >= sizeof(buf) || memchr(p, '\0', n) != NULL)
			goto bad;
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (nl != NULL);
		if (buf[0] == '#' || buf[strspn(buf, " \t\r")] == '\0')
			continue;
		if (!parse_number(&q, &a))
			goto bad;
		if (!have_cursor) {
			while (*q == ' ' || *q == '\t')
				q++;
			if (!(valid_status(*q) || *q == 'F' || *q == 'G'))
				goto bad;
			cur->pos = a;
			cur->status = *q++;
			cur->pass = 1;
			if (parse_number(&q, &b))
				cur->pass = (unsigned int)b;
			have_cursor = 1;
			continue;
		}
		if (!parse_number(&q, &b))
			goto bad;
		while (*q == ' ' || *q == '\t')
			q++;
		if (!valid_status(*q) || a != next || b == 0 ||
		    b > size - a || (q[1] != '\0' && q[1] != '\r' &&
		    q[1] != ' '))
			goto bad;
		if ((st = reserve(m, 1, err)) != CUSTOS_OK) {
			custos__map_free(m);
			return st;
		}
		m->b[m->count].pos = a;
		m->b[m->count].size = b;
		m->b[m->count].status = *q;
		m->count++;
		next = a + b;
	}
	if (!have_cursor || next != size) {
		custos__map_free(m);
		return custos__error_set(err, CUSTOS_EINVAL,
			"the mapfile does not cover the %" PRIu64 " bytes of "
			"the source", size);
	}
	*out = m;
	return CUSTOS_OK;
bad:
	custos__map_free(m);
	return custos__error_set(err, CUSTOS_EINVAL,
		"the mapfile is damaged at line %u", line);
}

custos_status custos__map_unfinished_ranges(const custos__map *m,
		uint32_t sector, custos_ranges *out, custos_error *err)
{
	for (size_t i = 0; i < m->count; i++) {
		const custos__map_block *b = &m->b[i];
		uint64_t first, last;
		custos_status st;

		if (b->status == CUSTOS__MAP_FINISHED)
			continue;
		first = b->pos / sector;
		last = (b->pos + b->size + sector - 1) / sector;
		st = custos_ranges_add(out, first, last - first, err);
		if (st != CUSTOS_OK)
			return st;
	}
	return CUSTOS_OK;
}
