/*
 * Disclosure internals: the file systems of an image as The Sleuth Kit
 * reads them (disclose_tsk.c), each file with its metadata and its
 * extents in media bytes, for disclose.c and for naming the files that
 * damaged blocks touch.
 */
#ifndef CUSTOS_DISCLOSE_PRIVATE_H
#define CUSTOS_DISCLOSE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "custos/disclose.h"

/* A run of a file's content: file bytes [file_offset, +length) lie at
 * media bytes [image_offset, +length), or are a hole (zeros). */
typedef struct custos__extent {
	uint64_t file_offset, image_offset, length;
	int sparse;
} custos__extent;

typedef struct custos__tsk_file {
	char *path;              /* "/dir/name" */
	uint64_t inode;
	uint64_t size;
	uint64_t fs_offset;      /* the file system's first media byte */
	const char *fs_type;     /* "ext2", "ntfs", ... (static) */
	const char *type;        /* "regular", "directory", ... (static) */
	unsigned int mode;
	int64_t mtime, atime, ctime, crtime; /* seconds, 0: not known */
	custos__extent *extents;
	size_t extent_count;
} custos__tsk_file;

typedef struct custos__tsk custos__tsk;

/* Find the file systems on img: at byte 0, or in its partitions.
 * CUSTOS_ENOTFOUND when there is none TSK knows. */
custos_status custos__tsk_open(custos__tsk **out, custos_image *img,
		custos_error *err);
void custos__tsk_close(custos__tsk *t);
/* One file by path (in the first file system that has it) or inode (in
 * the first file system), with its extents; clear out afterwards. */
custos_status custos__tsk_file_by_path(custos__tsk *t, const char *path,
		custos__tsk_file *out, custos_error *err);
custos_status custos__tsk_file_by_inode(custos__tsk *t, uint64_t inode,
		custos__tsk_file *out, custos_error *err);
void custos__tsk_file_clear(custos__tsk_file *f);
/* Every allocated file with content, in every file system. */
typedef void (*custos__tsk_file_fn)(void *ctx, const custos__tsk_file *f);
custos_status custos__tsk_walk(custos__tsk *t, custos__tsk_file_fn fn,
		void *ctx, custos_error *err);

#endif
