/*
 * Untrusted text made safe for a terminal.  Names, messages and values read
 * from evidence, logs, certificates or bundles may hold bytes that drive a
 * terminal (C0 controls such as ESC, DEL, C1 controls such as CSI U+009B)
 * or reorder what is shown (bidirectional controls U+200E/F, U+202A-E,
 * U+2066-9), or may not be UTF-8 at all.  custos_text_escape() keeps every
 * other character, French, Arabic or CJK alike, and writes:
 *   \xNN    for a C0 control, DEL, and each byte that is not valid UTF-8
 *   \uXXXX  for a C1 or bidirectional control
 *   \\      for a backslash, so an escape in the input cannot pass for ours
 * Nothing is dropped, and the output is never cut inside a character or an
 * escape.
 */
#ifndef CUSTOS_TEXT_H
#define CUSTOS_TEXT_H

#include <stddef.h>

#include "common.h"

/* The longest output one input byte can give (a 3-byte bidi control
 * gives 6 bytes, 2 per input byte; an invalid byte 4). */
#define CUSTOS_TEXT_ESCAPE_RATIO 4

/*
 * Escape len bytes of src into dst (capacity cap, at least 1), always
 * NUL-terminated.  Returns the number of bytes of src written out; less
 * than len when dst was too small, and then dst ends on a whole character
 * or escape.  cap = CUSTOS_TEXT_ESCAPE_RATIO * len + 1 always suffices.
 */
CUSTOS_EXTERN size_t custos_text_escape(char *dst, size_t cap,
		const char *src, size_t len);

#endif
