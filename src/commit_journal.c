/*
 * The commit journal (commit_journal_private.h): written before a commit's
 * first rename, read back by a resume that finds a commit cut short.  The
 * file is small JSON, parsed strictly: it lies in the run's private work
 * folder, but a resume still refuses one it did not write rather than move
 * files on its word.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit_journal_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#define JOURNAL_VERSION 1
#define JOURNAL_MAX (1024u * 1024)
#define STEPS_MAX 2048

static char *journal_path(const char *work_dir)
{
	return custos__aprintf("%s/%s", work_dir, CUSTOS__JOURNAL_NAME);
}

/* name is one plain file name: no slash, not "." or "..", not empty. */
static int plain_name(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL &&
		strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The folder part of path ("" for a bare name; "./" counts as ""). */
static size_t folder_len(const char *path, const char **dir)
{
	size_t n = (size_t)(custos__basename(path) - path);

	*dir = path;
	if (n == 2 && strncmp(path, "./", 2) == 0)
		n = 0;
	return n;
}

/* final is "<base>.<plain name>", in base's folder. */
static int final_of_base(const char *final, const char *base)
{
	const char *fb = custos__basename(final), *bb = custos__basename(base);
	const char *fd, *bd;
	size_t n = strlen(bb), fn = folder_len(final, &fd);

	return fn == folder_len(base, &bd) && strncmp(fd, bd, fn) == 0 &&
		strncmp(fb, bb, n) == 0 && fb[n] == '.' &&
		plain_name(fb + n + 1);
}

custos_status custos__journal_write(const char *work_dir, const char *base,
		const custos__journal_step *steps, size_t count,
		custos_error *err)
{
	json_t *root = json_object(), *list = json_array();
	char *text = NULL, *path = journal_path(work_dir);
	custos_status st = CUSTOS_OK;

	if (root == NULL || list == NULL || path == NULL ||
	    json_object_set_new(root, "custos_commit_journal",
		    json_integer(JOURNAL_VERSION)) != 0 ||
	    json_object_set(root, "steps", list) != 0)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; st == CUSTOS_OK && i < count; i++) {
		const char *name = custos__basename(steps[i].work);
		struct stat sb;

		if (!final_of_base(steps[i].final, base) || !plain_name(name))
			st = custos__error_set(err, CUSTOS_EINTERNAL,
				"commit step %s -> %s is outside the run",
				steps[i].work, steps[i].final);
		else if (lstat(steps[i].work, &sb) != 0)
			st = custos__error_errno(err, errno, "cannot commit %s",
				steps[i].work);
		else if (json_array_append_new(list, json_pack(
				"{s:s, s:s, s:I, s:I}", "work", name, "final",
				steps[i].final, "dev", (json_int_t)sb.st_dev,
				"ino", (json_int_t)sb.st_ino)) != 0)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	if (st == CUSTOS_OK) {
		text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
		if (text == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	if (st == CUSTOS_OK)
		st = custos__write_file_exclusive(path, text, strlen(text), 0600,
			err);
	free(text);
	free(path);
	json_decref(list);
	json_decref(root);
	return st;
}

void custos__journal_remove(const char *work_dir)
{
	char *path = journal_path(work_dir);

	if (path != NULL)
		(void)unlink(path);
	free(path);
}

/* One step back: final -> work, if final holds the recorded file. */
static custos_status undo_step(const char *work_dir, json_t *step,
		const char *base, custos_error *err)
{
	const char *name = NULL, *final = NULL;
	json_int_t dev = 0, ino = 0;
	json_error_t je;
	struct stat sb;
	char *work;
	custos_status st;

	if (json_unpack_ex(step, &je, JSON_STRICT, "{s:s, s:s, s:I, s:I}",
		    "work", &name, "final", &final, "dev", &dev, "ino",
		    &ino) != 0 || !plain_name(name) ||
	    !final_of_base(final, base))
		return custos__error_set(err, CUSTOS_EFORMAT, "%s/%s is not a "
			"commit journal of this run; not resuming", work_dir,
			CUSTOS__JOURNAL_NAME);
	work = custos__aprintf("%s/%s", work_dir, name);
	if (work == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (lstat(work, &sb) == 0) {
		/* Not renamed yet: it must be the file the journal saw. */
		st = S_ISREG(sb.st_mode) && (json_int_t)sb.st_dev == dev &&
			(json_int_t)sb.st_ino == ino ? CUSTOS_OK
			: custos__error_set(err, CUSTOS_EEXIST, "%s is not the "
				"file the interrupted commit left there; not "
				"resuming", work);
	} else if (lstat(final, &sb) != 0) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND, "the interrupted "
			"commit left %s neither in %s nor at %s; not resuming",
			name, work_dir, final);
	} else if (!S_ISREG(sb.st_mode) || (json_int_t)sb.st_dev != dev ||
		   (json_int_t)sb.st_ino != ino) {
		st = custos__error_set(err, CUSTOS_EEXIST, "%s is not the file "
			"the interrupted commit put there (it was replaced); "
			"it is left alone, and the run is not resumed", final);
	} else {
		st = custos__commit_noreplace(final, work, err);
	}
	free(work);
	return st;
}

custos_status custos__journal_undo(const char *work_dir, const char *base,
		int *found, custos_error *err)
{
	char *path = journal_path(work_dir);
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *root = NULL, *steps = NULL;
	json_int_t version = 0;
	json_error_t je;
	custos_status st;

	*found = 0;
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (!custos__path_exists(path)) {
		free(path);
		return CUSTOS_OK;
	}
	*found = 1;
	st = custos__read_file_max(path, JOURNAL_MAX, &data, &len,
		"commit journal", err);
	if (st == CUSTOS_OK) {
		root = json_loadb((const char *)data, len,
			JSON_REJECT_DUPLICATES, &je);
		if (root == NULL || json_unpack_ex(root, &je, JSON_STRICT,
			    "{s:I, s:o}", "custos_commit_journal", &version,
			    "steps", &steps) != 0 ||
		    version != JOURNAL_VERSION || !json_is_array(steps) ||
		    json_array_size(steps) > STEPS_MAX)
			st = custos__error_set(err, CUSTOS_EFORMAT, "%s is not "
				"a commit journal this version reads; not "
				"resuming", path);
	}
	for (size_t i = json_array_size(steps); st == CUSTOS_OK && i-- > 0;)
		st = undo_step(work_dir, json_array_get(steps, i), base, err);
	if (st == CUSTOS_OK && unlink(path) != 0)
		st = custos__error_errno(err, errno, "cannot remove %s", path);
	json_decref(root);
	free(data);
	free(path);
	return st;
}
