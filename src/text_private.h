/* UTF-8 primitives shared by text.c, note.c and cert.c. */
#ifndef CUSTOS_TEXT_PRIVATE_H
#define CUSTOS_TEXT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "custos/text.h"

/* Decode one UTF-8 character at s (len bytes available): its length (1
 * to 4) and *cp, or 0 when the bytes are not well-formed UTF-8 (overlong,
 * a surrogate, above U+10FFFF, cut short). */
size_t custos__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* 1 for a Unicode White_Space character (U+0009-000D, U+0020, U+0085,
 * U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000). */
int custos__unicode_is_space(uint32_t cp);
/* 1 for a character that must not reach a terminal raw: C0, DEL, C1,
 * and the bidirectional controls. */
int custos__unicode_is_control(uint32_t cp);

#endif
