/* Versions of libcustos and of the libraries it is built on. */
#ifndef CUSTOS_VERSION_H
#define CUSTOS_VERSION_H

#include "common.h"

/* All return static strings; never NULL. */
CUSTOS_EXTERN const char *custos_version(void);
CUSTOS_EXTERN const char *custos_version_libewf(void);
CUSTOS_EXTERN const char *custos_version_openssl(void);
CUSTOS_EXTERN const char *custos_version_libarchive(void);
CUSTOS_EXTERN const char *custos_version_jansson(void);

#endif
