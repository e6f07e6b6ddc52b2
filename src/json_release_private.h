/*
 * Releasing many JSON values at once (json_release.c), for the frees at
 * the end of a large verification.
 */
#ifndef CUSTOS_JSON_RELEASE_PRIVATE_H
#define CUSTOS_JSON_RELEASE_PRIVATE_H

#include <stddef.h>

#include <jansson.h>

/* json_decref each of the n values (NULL ones too), on two threads when
 * there are many. */
void custos__json_release_all(json_t **v, size_t n);

#endif
