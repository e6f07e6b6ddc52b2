/*
 * Passphrases for private keys, read from a file, a file descriptor or the
 * terminal (/dev/tty, echo off) -- never from the command line.  Buffers
 * that held one are cleansed with OPENSSL_cleanse.
 */
#ifndef CUSTOS_TOOLS_PASSPHRASE_H
#define CUSTOS_TOOLS_PASSPHRASE_H

#include <stddef.h>

#define PASSPHRASE_MAX 1024

typedef struct passphrase_source {
	const char *tool;    /* for error messages */
	const char *file;    /* --passphrase-file, or NULL */
	int fd;              /* --passphrase-fd, or -1 */
	const char *prompt;  /* for the terminal */
	int confirm;         /* on a terminal, ask twice (a new key) */
} passphrase_source;

void passphrase_source_init(passphrase_source *src, const char *tool);

/*
 * Read one passphrase (the first line; a trailing CR/LF is dropped) into
 * buf.  Returns its length, or -1 after printing why on stderr.
 */
int passphrase_read(const passphrase_source *src, char *buf, size_t cap);

/* A custos_passphrase_fn over a passphrase_source (ctx). */
int passphrase_callback(char *buf, size_t cap, void *ctx);

/* Parse "--passphrase-fd N"; 0 on a bad value. */
int passphrase_parse_fd(const char *text, int *fd);

#endif
