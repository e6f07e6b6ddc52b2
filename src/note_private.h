/* Base64 helpers shared by note.c and custody.c. */
#ifndef CUSTOS_NOTE_PRIVATE_H
#define CUSTOS_NOTE_PRIVATE_H

#include <stddef.h>

/* Standard base64 with padding; caller frees.  NULL on ENOMEM. */
char *custos__b64_encode(const void *data, size_t len);
/* Decode strict standard base64 (padded, no whitespace) of inlen chars
 * into out (capacity cap).  Returns the decoded length, or -1. */
long custos__b64_decode(unsigned char *out, size_t cap, const char *in,
		size_t inlen);

#endif
