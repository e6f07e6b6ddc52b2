/*
 * custos error model.
 *
 * Every function that can fail returns a custos_status: CUSTOS_OK (0) or a
 * negative code.  The values are part of the ABI and are never renumbered.
 * A human-readable message with the detail (a path, an offset, the text of
 * an OpenSSL error) is written into a caller-owned custos_error, which may be
 * NULL when the caller does not want it.
 */
#ifndef CUSTOS_ERROR_H
#define CUSTOS_ERROR_H

#include "common.h"

typedef enum custos_status {
	CUSTOS_OK = 0,
	CUSTOS_EINVAL = -1,      /* bad argument from the caller */
	CUSTOS_ENOMEM = -2,      /* out of memory, or a hard limit was hit */
	CUSTOS_EIO = -3,         /* an I/O error on a source or an output */
	CUSTOS_ENOTFOUND = -4,   /* a file or device does not exist */
	CUSTOS_EFORMAT = -5,     /* untrusted input was rejected */
	CUSTOS_EMISMATCH = -6,   /* a check failed: the evidence is not clean */
	CUSTOS_EEXIST = -7,      /* an output already exists; nothing is overwritten */
	CUSTOS_EACCES = -8,      /* permission denied */
	CUSTOS_EWRITABLE = -9,   /* a source is writable but read-only was required */
	CUSTOS_ECANCELED = -10,  /* the caller asked to stop */
	CUSTOS_ENOSPC = -11,     /* no space left, or a file size limit was hit */
	CUSTOS_EUNSUPPORTED = -12, /* not supported on this system or source */
	CUSTOS_EINTERNAL = -13,  /* a library we depend on failed unexpectedly */
} custos_status;

#define CUSTOS_ERROR_MESSAGE_MAX 512

typedef struct custos_error {
	custos_status status;
	char message[CUSTOS_ERROR_MESSAGE_MAX];
} custos_error;

/* Static text for a status code; never NULL. */
CUSTOS_EXTERN const char *custos_strerror(custos_status status);

/* Reset an error to CUSTOS_OK with an empty message.  Accepts NULL. */
CUSTOS_EXTERN void custos_error_clear(custos_error *err);

#endif
