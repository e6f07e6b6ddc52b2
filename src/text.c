/*
 * UTF-8 decoding and the one escaping of untrusted text for terminals
 * (text.h): what counts as a control, a space, or not UTF-8 at all.  The
 * tools' safe printing, certificate names and note key names all rest on
 * it, so they agree on what is shown and what is refused.
 */
#include <stdio.h>
#include <string.h>

#include "text_private.h"

size_t custos__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	size_t n;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0; /* a continuation byte, C0/C1 lead, or F5-FF */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int custos__unicode_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
		cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
		cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
		cp == 0x3000;
}

int custos__unicode_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		cp == 0x200e || cp == 0x200f ||
		(cp >= 0x202a && cp <= 0x202e) ||
		(cp >= 0x2066 && cp <= 0x2069);
}

size_t custos_text_escape(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t in = 0, out = 0;

	if (dst == NULL || cap == 0)
		return 0;
	while (src != NULL && in < len) {
		char unit[16];
		size_t ulen, n;
		uint32_t cp = 0;

		n = custos__utf8_decode(s + in, len - in, &cp);
		if (n == 0) {
			snprintf(unit, sizeof(unit), "\\x%02x", s[in]);
			ulen = 4;
			n = 1;
		} else if (cp < 0x20 || cp == 0x7f) {
			snprintf(unit, sizeof(unit), "\\x%02x", (unsigned)cp);
			ulen = 4;
		} else if (custos__unicode_is_control(cp)) {
			snprintf(unit, sizeof(unit), "\\u%04x", (unsigned)cp);
			ulen = 6;
		} else if (cp == '\\') {
			memcpy(unit, "\\\\", 2);
			ulen = 2;
		} else {
			memcpy(unit, s + in, n);
			ulen = n;
		}
		if (ulen >= cap - out)
			break; /* never half a character or an escape */
		memcpy(dst + out, unit, ulen);
		out += ulen;
		in += n;
	}
	dst[out] = '\0';
	return in;
}
