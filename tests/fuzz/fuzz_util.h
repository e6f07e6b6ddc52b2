/*
 * What the bundle fuzz targets share: a UTF-8 check for the messages the
 * library gives (never cut inside a character, never raw invalid bytes),
 * and a private scratch folder per process.
 */
#ifndef CUSTOS_FUZZ_UTIL_H
#define CUSTOS_FUZZ_UTIL_H

#include <stdlib.h>
#include <string.h>

/* 1 if s is valid UTF-8 without C0 controls other than none at all. */
static inline int fuzz_text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n;
		unsigned int cp, min;
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 2; cp = *p & 0x1f; min = 0x80;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 3; cp = *p & 0x0f; min = 0x800;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 4; cp = *p & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n;
	}
	return 1;
}

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

#endif
