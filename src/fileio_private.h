/*
 * Safe file primitives: the only way library code creates, commits or opens
 * a file it did not make itself.
 *
 * Evidence is never overwritten or followed.  Every output is created with
 * O_CREAT|O_EXCL|O_NOFOLLOW (so a planted file or symlink makes the call
 * fail instead of being written through), and it reaches its final name
 * with a rename that refuses to replace anything.  Inputs are opened with
 * O_NONBLOCK and checked with fstat before any read, so a FIFO, device or
 * socket where a file is expected is refused instead of hanging.
 */
#ifndef CUSTOS_FILEIO_PRIVATE_H
#define CUSTOS_FILEIO_PRIVATE_H

#include <stddef.h>

#include "custos/error.h"

/*
 * Create path for writing, exclusively: it must not exist, not even as a
 * dangling symlink.  *fd receives the descriptor (-1 on failure;
 * CUSTOS_EEXIST when something is already there).
 */
custos_status custos__create_exclusive(int *fd, const char *path,
		unsigned int mode, custos_error *err);

/*
 * Make a private temporary file in the folder of final_path, named
 * "<final_path>.XXXXXX.part", created exclusively.  *tmp_path receives the
 * name (caller frees) and *fd the descriptor.
 */
custos_status custos__create_temp_beside(int *fd, const char *final_path,
		unsigned int mode, char **tmp_path, custos_error *err);

/*
 * Give from the name to, failing with CUSTOS_EEXIST if to exists:
 * renameat2(RENAME_NOREPLACE), or link + unlink where the file system lacks
 * it.  Never replaces anything.  The folder is fsynced afterwards.
 */
custos_status custos__commit_noreplace(const char *from, const char *to,
		custos_error *err);

/*
 * Create the folder path with mode (0700 for a private work folder); it
 * must not exist, not even as a symlink (CUSTOS_EEXIST).  A folder made so
 * is a claim on a name: a second caller fails.
 */
custos_status custos__mkdir_exclusive(const char *path, unsigned int mode,
		custos_error *err);

/*
 * Write data to a private temporary file beside path, fsync it, then commit
 * it under path without replacing anything (CUSTOS_EEXIST if path exists).
 * On failure nothing is left under either name.
 */
custos_status custos__write_file_exclusive(const char *path,
		const void *data, size_t len, unsigned int mode,
		custos_error *err);

/*
 * Replace path with data atomically.  Only for files custos itself owns and
 * rewrites inside a private work folder (the resume state, the rescue
 * map); never for evidence, outputs or user files.
 * path itself must be a regular file or absent; a symlink is refused.
 */
custos_status custos__replace_own_file(const char *path, const void *data,
		size_t len, custos_error *err);

/*
 * Open an input that must be a regular file, read-only.  The open itself
 * uses O_NONBLOCK, so a FIFO cannot hang it; a FIFO, device, socket or
 * folder is then refused with a clear reason (CUSTOS_EINVAL).  what names
 * the file in the message ("signature", "log").  *fd receives the
 * descriptor, blocking again (-1 on failure).
 */
custos_status custos__open_regular(int *fd, const char *path,
		const char *what, custos_error *err);

/* The same for an input that may also be a block device (a source, an
 * image on a device).  FIFOs, sockets and character devices are refused. */
custos_status custos__open_regular_or_block(int *fd, const char *path,
		const char *what, custos_error *err);

/* 0 if path is absent or a regular file, else CUSTOS_EINVAL with a reason.
 * For inputs read by libraries that take a path (libewf, libarchive). */
custos_status custos__check_regular(const char *path, const char *what,
		custos_error *err);

/* Read a whole regular file of at most max bytes; caller frees *data,
 * which is NUL-terminated for convenience. */
custos_status custos__read_file_max(const char *path, size_t max,
		unsigned char **data, size_t *len, const char *what,
		custos_error *err);

#endif
