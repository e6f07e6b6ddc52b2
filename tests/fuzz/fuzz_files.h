/*
 * A private temporary folder for one fuzz input: targets that verify files
 * by path write their inputs here, then remove exactly what they wrote.
 */
#ifndef CUSTOS_FUZZ_FILES_H
#define CUSTOS_FUZZ_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_MAX_FILES 8

typedef struct fuzz_dir {
	char root[64];
	char path[FUZZ_MAX_FILES][128];
	size_t count;
} fuzz_dir;

static inline int fuzz_dir_make(fuzz_dir *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->root, sizeof(d->root), "/tmp/custos-fuzz-XXXXXX");
	return mkdtemp(d->root) == NULL ? -1 : 0;
}

/* The path of name in the folder, into out. */
static inline const char *fuzz_dir_path(const fuzz_dir *d, const char *name,
		char out[128])
{
	snprintf(out, 128, "%s/%s", d->root, name);
	return out;
}

/* Write (or rewrite) name in the folder; aborts on failure. */
static inline void fuzz_dir_write(fuzz_dir *d, const char *name,
		const void *data, size_t size)
{
	char p[128];
	FILE *f;
	size_t i;

	snprintf(p, sizeof(p), "%s/%s", d->root, name);
	f = fopen(p, "wb");
	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0)
		abort();
	for (i = 0; i < d->count; i++)
		if (strcmp(d->path[i], p) == 0)
			return;
	if (d->count == FUZZ_MAX_FILES)
		abort();
	memcpy(d->path[d->count++], p, sizeof(p));
}

static inline void fuzz_dir_remove(fuzz_dir *d)
{
	for (size_t i = 0; i < d->count; i++)
		unlink(d->path[i]);
	rmdir(d->root);
}

#endif
