/*
 * Canonical JSON (custos-log(5)): sorted keys, no insignificant
 * whitespace, ASCII only, no floats, no nulls.  A custody record is hashed
 * and signed as this text, so every writer and checker of records goes
 * through these helpers.
 */
#ifndef CUSTOS_JSON_PRIVATE_H
#define CUSTOS_JSON_PRIVATE_H

#include <jansson.h>

/* The canonical text of j; caller frees.  NULL on ENOMEM or bad UTF-8. */
char *custos__json_canonical(const json_t *j);
/* 1 if j or anything inside it is a float. */
int custos__json_has_real(const json_t *j);
/* Replace the floats inside j by their text, so a record holds none. */
void custos__json_reals_to_strings(json_t *j);
/* Drop the null members and elements inside j. */
void custos__json_strip_nulls(json_t *j);

#endif
