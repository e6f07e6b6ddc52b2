/*
 * Files inside an image, through The Sleuth Kit: TSK reads the media
 * through custos_image_read (so raw and E01 alike), finds the file
 * systems (at byte 0 or in the partitions), and gives each file's
 * metadata and, from an address-only file walk, the extents of its
 * content in media bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <tsk/libtsk.h>

#include "disclose_private.h"
#include "error_private.h"
#include "util_private.h"

#define MAX_FS 16
#define MAX_EXTENTS (1u << 22)

/* TSK's image: ours, read through custos_image_read. */
typedef struct ext_img {
	TSK_IMG_INFO info;       /* first: TSK casts to it */
	custos_image *img;
} ext_img;

struct custos__tsk {
	ext_img *ext;
	TSK_IMG_INFO *img;
	TSK_VS_INFO *vs;
	TSK_FS_INFO *fs[MAX_FS];
	size_t fs_count;
};

static ssize_t ext_read(TSK_IMG_INFO *info, TSK_OFF_T off, char *buf,
		size_t len)
{
	ext_img *e = (ext_img *)info;
	uint64_t size = custos_image_media_size(e->img);

	if (off < 0 || (uint64_t)off >= size)
		return 0;
	if (len > size - (uint64_t)off)
		len = (size_t)(size - (uint64_t)off);
	if (custos_image_read(e->img, buf, len, (uint64_t)off, NULL) !=
			CUSTOS_OK)
		return -1;
	return (ssize_t)len;
}

static void ext_close(TSK_IMG_INFO *info)
{
	free(info);
}

static void ext_stat(TSK_IMG_INFO *info, FILE *f)
{
	(void)info;
	fprintf(f, "custos image\n");
}

static custos_status tsk_failed(custos_error *err, custos_status st,
		const char *what)
{
	const char *why = tsk_error_get();

	custos__error_set(err, st, "%s: %s", what, why ? why : "unknown");
	tsk_error_reset();
	return st;
}

static TSK_WALK_RET_ENUM part_cb(TSK_VS_INFO *vs, const TSK_VS_PART_INFO *p,
		void *ctx)
{
	custos__tsk *t = ctx;
	TSK_FS_INFO *fs;

	if (t->fs_count == MAX_FS)
		return TSK_WALK_STOP;
	fs = tsk_fs_open_img(t->img, (TSK_OFF_T)(p->start * vs->block_size +
		(uint64_t)vs->offset), TSK_FS_TYPE_DETECT);
	if (fs != NULL)
		t->fs[t->fs_count++] = fs;
	tsk_error_reset();
	return TSK_WALK_CONT;
}

custos_status custos__tsk_open(custos__tsk **out, custos_image *img,
		custos_error *err)
{
	custos__tsk *t = calloc(1, sizeof(*t));
	ext_img *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (t == NULL || e == NULL) {
		free(t);
		free(e);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	e->img = img;
	t->img = tsk_img_open_external(e, (TSK_OFF_T)custos_image_media_size(
		img), 512, ext_read, ext_close, ext_stat);
	if (t->img == NULL) {
		free(e);
		free(t);
		return tsk_failed(err, CUSTOS_EINTERNAL, "The Sleuth Kit");
	}
	t->fs[0] = tsk_fs_open_img(t->img, 0, TSK_FS_TYPE_DETECT);
	if (t->fs[0] != NULL) {
		t->fs_count = 1;
	} else {
		tsk_error_reset();
		t->vs = tsk_vs_open(t->img, 0, TSK_VS_TYPE_DETECT);
		if (t->vs != NULL)
			tsk_vs_part_walk(t->vs, 0, t->vs->part_count - 1,
				TSK_VS_PART_FLAG_ALLOC, part_cb, t);
		tsk_error_reset();
	}
	if (t->fs_count == 0) {
		custos__tsk_close(t);
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			"no file system The Sleuth Kit knows was found");
	}
	*out = t;
	return CUSTOS_OK;
}

void custos__tsk_close(custos__tsk *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->fs_count; i++)
		tsk_fs_close(t->fs[i]);
	if (t->vs != NULL)
		tsk_vs_close(t->vs);
	if (t->img != NULL)
		tsk_img_close(t->img);
	free(t);
}

void custos__tsk_file_clear(custos__tsk_file *f)
{
	if (f == NULL)
		return;
	free(f->path);
	free(f->extents);
	memset(f, 0, sizeof(*f));
}

typedef struct walk_ctx {
	custos__tsk_file *f;
	TSK_FS_INFO *fs;
	int failed, resident;
} walk_ctx;

static TSK_WALK_RET_ENUM extent_cb(TSK_FS_FILE *file, TSK_OFF_T off,
		TSK_DADDR_T addr, char *buf, size_t len,
		TSK_FS_BLOCK_FLAG_ENUM flags, void *ptr)
{
	walk_ctx *w = ptr;
	custos__tsk_file *f = w->f;
	int sparse = (flags & TSK_FS_BLOCK_FLAG_SPARSE) != 0;
	uint64_t at = w->fs->offset + (uint64_t)addr * w->fs->block_size;
	custos__extent *last = f->extent_count > 0
		? &f->extents[f->extent_count - 1] : NULL;

	(void)file;
	(void)buf;
	if (len == 0)
		return TSK_WALK_CONT;
	if (flags & TSK_FS_BLOCK_FLAG_RES) {
		w->resident = 1;
		return TSK_WALK_STOP;
	}
	if (last != NULL && last->sparse == sparse &&
	    last->file_offset + last->length == (uint64_t)off &&
	    (sparse || last->image_offset + last->length == at)) {
		last->length += len;
		return TSK_WALK_CONT;
	}
	if (f->extent_count % 64 == 0) {
		custos__extent *g;

		if (f->extent_count >= MAX_EXTENTS) {
			w->failed = 1;
			return TSK_WALK_ERROR;
		}
		g = realloc(f->extents, (f->extent_count + 64) * sizeof(*g));
		if (g == NULL) {
			w->failed = 1;
			return TSK_WALK_ERROR;
		}
		f->extents = g;
	}
	last = &f->extents[f->extent_count++];
	last->file_offset = (uint64_t)off;
	last->image_offset = sparse ? 0 : at;
	last->length = len;
	last->sparse = sparse;
	return TSK_WALK_CONT;
}

static const char *type_name(TSK_FS_META_TYPE_ENUM t)
{
	switch (t) {
	case TSK_FS_META_TYPE_REG: return "regular";
	case TSK_FS_META_TYPE_DIR: return "directory";
	case TSK_FS_META_TYPE_LNK: return "symlink";
	default: return "other";
	}
}

/* Fill f from an open TSK file: metadata and extents. */
static custos_status describe(TSK_FS_INFO *fs, TSK_FS_FILE *file,
		const char *path, custos__tsk_file *f, custos_error *err)
{
	walk_ctx w = {f, fs, 0, 0};
	TSK_FS_META *m = file->meta;

	memset(f, 0, sizeof(*f));
	if (m == NULL)
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			"%s has no metadata", path);
	f->path = strdup(path);
	if (f->path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	f->inode = (uint64_t)m->addr;
	f->size = m->size < 0 ? 0 : (uint64_t)m->size;
	f->fs_offset = (uint64_t)fs->offset;
	f->fs_type = tsk_fs_type_toname(fs->ftype);
	f->type = type_name(m->type);
	f->mode = (unsigned int)m->mode;
	f->mtime = (int64_t)m->mtime;
	f->atime = (int64_t)m->atime;
	f->ctime = (int64_t)m->ctime;
	f->crtime = (int64_t)m->crtime;
	if (f->size > 0 && tsk_fs_file_walk(file, TSK_FS_FILE_WALK_FLAG_AONLY,
			extent_cb, &w) != 0 && !w.resident) {
		tsk_error_reset();
		custos__tsk_file_clear(f);
		return custos__error_set(err, w.failed ? CUSTOS_ENOMEM
			: CUSTOS_EFORMAT, "cannot read the extents of %s", path);
	}
	if (w.resident) {
		custos__tsk_file_clear(f);
		return custos__error_set(err, CUSTOS_EINVAL, "%s is stored "
			"inside its metadata record (resident), not in blocks: "
			"disclose that record as a byte range instead", path);
	}
	return CUSTOS_OK;
}

custos_status custos__tsk_file_by_path(custos__tsk *t, const char *path,
		custos__tsk_file *out, custos_error *err)
{
	for (size_t i = 0; i < t->fs_count; i++) {
		TSK_FS_FILE *file = tsk_fs_file_open(t->fs[i], NULL, path);
		custos_status st;

		if (file == NULL) {
			tsk_error_reset();
			continue;
		}
		st = describe(t->fs[i], file, path, out, err);
		tsk_fs_file_close(file);
		return st;
	}
	return custos__error_set(err, CUSTOS_ENOTFOUND,
		"%s: no such file in the image", path);
}

custos_status custos__tsk_file_by_inode(custos__tsk *t, uint64_t inode,
		custos__tsk_file *out, custos_error *err)
{
	TSK_FS_FILE *file;
	char name[32];
	custos_status st;

	if (inode < t->fs[0]->first_inum || inode > t->fs[0]->last_inum)
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			"inode %llu is outside the file system",
			(unsigned long long)inode);
	file = tsk_fs_file_open_meta(t->fs[0], NULL, (TSK_INUM_T)inode);
	if (file == NULL || file->meta == NULL ||
	    !(file->meta->flags & TSK_FS_META_FLAG_ALLOC)) {
		tsk_fs_file_close(file);
		tsk_error_reset();
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			"inode %llu: no allocated file", (unsigned long long)inode);
	}
	snprintf(name, sizeof(name), "inode %llu", (unsigned long long)inode);
	st = describe(t->fs[0], file, name, out, err);
	tsk_fs_file_close(file);
	return st;
}

typedef struct dir_ctx {
	custos__tsk_file_fn fn;
	void *ctx;
	TSK_FS_INFO *fs;
} dir_ctx;

static TSK_WALK_RET_ENUM dir_cb(TSK_FS_FILE *file, const char *parent,
		void *ptr)
{
	dir_ctx *d = ptr;
	custos__tsk_file f;
	char *path;

	if (file->name == NULL || file->meta == NULL ||
	    strcmp(file->name->name, ".") == 0 ||
	    strcmp(file->name->name, "..") == 0 ||
	    file->meta->type == TSK_FS_META_TYPE_VIRT ||
	    file->meta->type == TSK_FS_META_TYPE_VIRT_DIR)
		return TSK_WALK_CONT;
	path = custos__aprintf("/%s%s", parent, file->name->name);
	if (path == NULL)
		return TSK_WALK_ERROR;
	if (describe(d->fs, file, path, &f, NULL) == CUSTOS_OK) {
		d->fn(d->ctx, &f);
		custos__tsk_file_clear(&f);
	}
	free(path);
	return TSK_WALK_CONT;
}

custos_status custos__tsk_walk(custos__tsk *t, custos__tsk_file_fn fn,
		void *ctx, custos_error *err)
{
	for (size_t i = 0; i < t->fs_count; i++) {
		dir_ctx d = {fn, ctx, t->fs[i]};

		if (tsk_fs_dir_walk(t->fs[i], t->fs[i]->root_inum,
				TSK_FS_DIR_WALK_FLAG_RECURSE |
				TSK_FS_DIR_WALK_FLAG_ALLOC, dir_cb, &d) != 0)
			return tsk_failed(err, CUSTOS_EFORMAT,
				"cannot walk the file system");
	}
	return CUSTOS_OK;
}

/* --- public: which files a byte range touches --- */

typedef struct hit_ctx {
	uint64_t offset, length;
	custos_disclose_file_fn fn;
	void *ctx;
} hit_ctx;

static void hit_cb(void *ptr, const custos__tsk_file *f)
{
	hit_ctx *h = ptr;
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = 0; i < f->extent_count; i++) {
		const custos__extent *x = &f->extents[i];
		uint64_t a, b;

		if (x->sparse)
			continue;
		a = x->image_offset > h->offset ? x->image_offset : h->offset;
		b = x->image_offset + x->length < h->offset + h->length
			? x->image_offset + x->length : h->offset + h->length;
		if (a < b) {
			lo = a < lo ? a : lo;
			hi = b > hi ? b : hi;
		}
	}
	if (lo < hi)
		h->fn(h->ctx, f->path, f->inode, lo, hi - lo);
}

custos_status custos_disclose_files_in_range(custos_image *img,
		uint64_t offset, uint64_t length, custos_disclose_file_fn fn,
		void *ctx, custos_error *err)
{
	custos__tsk *t = NULL;
	hit_ctx h = {offset, length, fn, ctx};
	custos_status st;

	if (img == NULL || fn == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "bad arguments");
	st = custos__tsk_open(&t, img, err);
	if (st == CUSTOS_OK)
		st = custos__tsk_walk(t, hit_cb, &h, err);
	custos__tsk_close(t);
	return st;
}
