/* Small helpers shared by library files: time, files, strings. */
#ifndef CUSTOS_UTIL_PRIVATE_H
#define CUSTOS_UTIL_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "custos/error.h"

#define CUSTOS__RFC3339_MAX 32

/* "2026-11-28T16:02:46Z" */
void custos__time_rfc3339(char out[CUSTOS__RFC3339_MAX], time_t t);
/* The host's IANA time zone name ("Europe/Vienna"), or "UTC". */
void custos__timezone_name(char *out, size_t capacity);
/* Seconds since an arbitrary point, from CLOCK_MONOTONIC. */
double custos__monotonic_seconds(void);

/* Cores online, 1 to 8: the number of worker threads to start. */
unsigned int custos__cpu_count(void);

/* strdup that accepts NULL; returns NULL only then or on ENOMEM. */
char *custos__strdup(const char *s);
/* Allocate printf-formatted text, or NULL. */
char *custos__aprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The folder part of a path ("." when there is none); caller frees. */
char *custos__dirname(const char *path);
/* The last component of a path (borrowed from path). */
const char *custos__basename(const char *path);

/* Write data to a private temporary file beside path, fsync, and commit it
 * under path without replacing anything (see fileio_private.h). */
custos_status custos__write_file_atomic(const char *path, const void *data,
		size_t len, custos_error *err);
/* The same, with the file created with the given mode (0600 for keys). */
custos_status custos__write_file_atomic_mode(const char *path,
		const void *data, size_t len, unsigned int mode,
		custos_error *err);
/* fsync the folder holding path, so a rename in it is durable. */
custos_status custos__fsync_parent(const char *path, custos_error *err);
/* write() all of len bytes, retrying on EINTR and short writes. */
custos_status custos__write_all(int fd, const void *data, size_t len,
		const char *what, custos_error *err);
/* 1 if something exists at path (without following a final symlink). */
int custos__path_exists(const char *path);

#endif
