/*
 * Storage of the custody log: reading log.jsonl (whole, under a shared
 * lock, or just its tail), appending a signed record (exclusive flock, the
 * signature first, one write(), fdatasync), moving a torn last line or an
 * orphaned signature to quarantine/ and recording the recovery, and the
 * compact Merkle tree state kept beside the log as a cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "custody_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "json_private.h"
#include "note_private.h"

char *custos__custody_path(const char *dir, const char *name)
{
	return custos__aprintf("%s/%s", dir, name);
}

/* Read a whole file of at most max bytes, NUL-terminated. */
custos_status custos__read_text(char **out, size_t *len, const char *path,
		size_t max, const char *what, custos_error *err)
{
	unsigned char *data;
	size_t n;
	custos_status st;
	char *s;

	*out = NULL;
	st = custos__read_file_max(path, max, &data, &n, what, err);
	if (st != CUSTOS_OK)
		return st;
	s = malloc(n + 1);
	if (s == NULL) {
		free(data);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	memcpy(s, data, n);
	s[n] = '\0';
	free(data);
	*out = s;
	if (len != NULL)
		*len = n;
	return CUSTOS_OK;
}

/* A log folder that holds a FIFO, device or folder where custos keeps a
 * file is damaged, not a usage error: EINVAL from the file checks becomes
 * EFORMAT, so that the tools exit 3 rather than 2. */
custos_status custos__custody_hostile(custos_status st, custos_error *err)
{
	if (st == CUSTOS_EINVAL) {
		if (err != NULL)
			err->status = CUSTOS_EFORMAT;
		return CUSTOS_EFORMAT;
	}
	return st;
}

custos_status custos__custody_read_own(char **out, size_t *len,
		const char *path, size_t max, const char *what,
		custos_error *err)
{
	return custos__custody_hostile(custos__read_text(out, len, path, max,
		what, err), err);
}

/* A folder of the log custos writes into: made if absent, and refused
 * when it is a symlink or anything but a folder (lstat: never followed). */
custos_status custos__custody_own_dir(const char *path, custos_error *err)
{
	struct stat sb;

	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return custos__error_errno(err, errno, "cannot make %s", path);
	if (lstat(path, &sb) != 0)
		return custos__error_errno(err, errno, "cannot stat %s", path);
	if (!S_ISDIR(sb.st_mode))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"%s is %s, not a folder; custos writes only into its "
			"own folders", path, S_ISLNK(sb.st_mode) ? "a symlink"
			: "a file");
	return CUSTOS_OK;
}

/* ---- reading the log ---- */

/* The whole log, read under a shared lock so that no append is seen
 * half-written. */
static custos_status read_log_locked(char **buf, size_t *len,
		const char *dir, int lock, custos_error *err)
{
	char *path = custos__custody_path(dir, LOG_NAME);
	custos_status st = CUSTOS_OK;
	struct stat sb;
	size_t got = 0;
	int fd;

	*buf = NULL;
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	/* A FIFO or device in place of the log is refused before any read
	 * (it would hang or never end). */
	if ((st = custos__open_regular(&fd, path, "custody log", err)) !=
			CUSTOS_OK) {
		free(path);
		return custos__custody_hostile(st, err);
	}
	while (lock && flock(fd, LOCK_SH) != 0 && errno == EINTR)
		;
	if (fstat(fd, &sb) != 0) {
		st = custos__error_errno(err, errno, "cannot stat %s", path);
		goto done;
	}
	if ((uint64_t)sb.st_size > CUSTOS_CUSTODY_LOG_MAX) {
		st = custos__error_set(err, CUSTOS_ENOMEM,
			"%s is larger than the %" PRIu64 " bytes custos reads",
			path, CUSTOS_CUSTODY_LOG_MAX);
		goto done;
	}
	*buf = malloc((size_t)sb.st_size + 1);
	if (*buf == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			st = custos__error_errno(err, r < 0 ? errno : EIO,
				"cannot read %s", path);
			goto done;
		}
		got += (size_t)r;
	}
	(*buf)[got] = '\0';
	*len = got;
done:
	if (st != CUSTOS_OK) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	free(path);
	return st;
}

static custos_status read_log(char **buf, size_t *len, const char *dir,
		custos_error *err)
{
	return read_log_locked(buf, len, dir, 1, err);
}

/*
 * The tree of the first size bytes of the log open on fd, computed from
 * the log itself.  Appends hold the exclusive lock already.  There is no
 * cache: a tree state kept beside the log could only be checked against
 * the log by hashing every line again, which is what this does.
 */
static custos_status tree_of_fd(int fd, uint64_t size,
		custos_merkle_state *s, custos_error *err)
{
	char *buf;
	size_t off = 0, got = 0;

	custos_merkle_state_init(s);
	if (size > CUSTOS_CUSTODY_LOG_MAX)
		return custos__error_set(err, CUSTOS_ENOMEM,
			"the log is larger than the %" PRIu64 " bytes custos "
			"reads", CUSTOS_CUSTODY_LOG_MAX);
	if ((buf = malloc((size_t)size + 1)) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (got < size) {
		ssize_t r = pread(fd, buf + got, (size_t)size - got,
			(off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return custos__error_errno(err, r < 0 ? errno : EIO,
				"cannot read the log");
		}
		got += (size_t)r;
	}
	while (off < got) {
		char *nl = memchr(buf + off, '\n', got - off);
		custos_merkle_hash leaf;

		if (nl == NULL)
			break;
		custos_merkle_leaf_hash(leaf, buf + off,
			(size_t)(nl - buf - off) + 1);
		(void)custos_merkle_state_append(s, leaf, NULL);
		off = (size_t)(nl - buf) + 1;
	}
	free(buf);
	return CUSTOS_OK;
}

/* ---- appending ---- */

typedef struct tail {
	uint64_t size;       /* bytes of whole lines */
	uint64_t next_seq;
	char prev[HEX_SHA256];
	uint64_t torn_off;   /* where a torn last line starts */
	uint64_t torn_len;   /* 0: none */
} tail;

static custos_status read_tail(int fd, tail *t, custos_error *err)
{
	struct stat sb;
	size_t want, got = 0;
	char *buf, *end, *start;
	uint64_t base;
	custos_status st = CUSTOS_OK;

	memset(t, 0, sizeof(*t));
	if (fstat(fd, &sb) != 0)
		return custos__error_errno(err, errno, "cannot stat the log");
	if (sb.st_size == 0) {
		custos__custody_sha256_hex(t->prev, "", 0);
		return CUSTOS_OK;
	}
	want = (uint64_t)sb.st_size < 2 * (uint64_t)CUSTOS_CUSTODY_LINE_MAX + 2
		? (size_t)sb.st_size : 2 * CUSTOS_CUSTODY_LINE_MAX + 2;
	base = (uint64_t)sb.st_size - want;
	buf = malloc(want);
	if (buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got,
			(off_t)(base + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			st = custos__error_errno(err, r < 0 ? errno : EIO,
				"cannot read the log");
			goto done;
		}
		got += (size_t)r;
	}
	end = buf + want;
	if (end[-1] != '\n') {
		char *lf = NULL;

		for (char *p = end - 1; p >= buf; p--)
			if (*p == '\n') {
				lf = p;
				break;
			}
		if (lf == NULL && base != 0) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"the log ends in more than %u bytes without "
				"LF; it is damaged", CUSTOS_CUSTODY_LINE_MAX);
			goto done;
		}
		t->torn_off = lf == NULL ? 0 : base + (uint64_t)(lf + 1 - buf);
		t->torn_len = (uint64_t)sb.st_size - t->torn_off;
		end = lf == NULL ? buf : lf + 1;
	}
	t->size = base + (uint64_t)(end - buf);
	if (t->size == 0) {
		custos__custody_sha256_hex(t->prev, "", 0);
		goto done;
	}
	/* The last whole line: from the LF before it. */
	start = end - 1;
	while (start > buf && start[-1] != '\n')
		start--;
	if (start == buf && base != 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the last record is longer than %u bytes",
			CUSTOS_CUSTODY_LINE_MAX);
		goto done;
	}
	custos__custody_sha256_hex(t->prev, start, (size_t)(end - start));
	{
		json_error_t je;
		json_t *r = json_loadb(start, (size_t)(end - start - 1),
			JSON_REJECT_DUPLICATES, &je);
		json_t *seq = json_object_get(r, "seq");

		if (!json_is_integer(seq) || json_integer_value(seq) < 0) {
			json_decref(r);
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"the last record of the log is damaged (no "
				"single seq); run custos-log verify");
			goto done;
		}
		t->next_seq = (uint64_t)json_integer_value(seq) + 1;
		json_decref(r);
	}
done:
	free(buf);
	return st;
}

static char *sig_name(uint64_t seq)
{
	return custos__aprintf("sig/%08" PRIu64 ".p7s", seq);
}

static custos_status quarantine_file(char **qname, const char *dir,
		const char *what, uint64_t n, const void *data, size_t len,
		const char *move_from, custos_error *err)
{
	char *rel = custos__aprintf("quarantine/%s-%" PRIu64 "-%lld-%ld%s",
		what, n, (long long)time(NULL), (long)getpid(),
		move_from != NULL ? ".p7s" : ".bin");
	char *qdir = custos__custody_path(dir, "quarantine");
	char *path = rel != NULL ? custos__custody_path(dir, rel) : NULL;
	custos_status st;

	*qname = NULL;
	if (rel == NULL || qdir == NULL || path == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = custos__custody_own_dir(qdir, err)) != CUSTOS_OK)
		goto done;
	if (move_from != NULL) {
		/* Moves the file or link itself; never replaces. */
		st = custos__commit_noreplace(move_from, path, err);
	} else {
		st = custos__write_file_atomic(path, data, len, err);
	}
	if (st == CUSTOS_OK) {
		*qname = rel;
		rel = NULL;
	}
done:
	free(rel);
	free(qdir);
	free(path);
	return st;
}

/* Append record r (seq and prev set here) under the lock held on fd. */
static custos_status append_locked(int fd, const char *dir, json_t *r,
		custos__custody_actor *a, tail *t, custos_error *err)
{
	char *text = NULL, *line = NULL, *rel = NULL, *sigpath = NULL;
	size_t len = 0;
	ssize_t w;
	custos_status st;

	json_object_set_new(r, "seq", json_integer((json_int_t)t->next_seq));
	json_object_set_new(r, "prev", json_string(t->prev));
	text = custos__json_canonical(r);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	len = strlen(text) + 1;
	if (len > CUSTOS_CUSTODY_LINE_MAX) {
		free(text);
		return custos__error_set(err, CUSTOS_EINVAL,
			"the record is %zu bytes; the most is %u", len,
			CUSTOS_CUSTODY_LINE_MAX);
	}
	line = malloc(len);
	rel = sig_name(t->next_seq);
	sigpath = rel != NULL ? custos__custody_path(dir, rel) : NULL;
	if (line == NULL || sigpath == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(line, text, len - 1);
	line[len - 1] = '\n';
	{
		/* Never written through a planted symlink to elsewhere. */
		char *sdir = custos__custody_path(dir, "sig");

		st = sdir != NULL ? custos__custody_own_dir(sdir, err)
			: custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		free(sdir);
		if (st != CUSTOS_OK)
			goto done;
	}
	if (custos__path_exists(sigpath)) {
		/* Left by an append that died before its line was written. */
		char *q = NULL;

		st = quarantine_file(&q, dir, "orphan-sig", t->next_seq, NULL,
			0, sigpath, err);
		free(q);
		if (st != CUSTOS_OK)
			goto done;
	}
	if ((st = custos_sign_buffer_to(line, len, sigpath, &a->sign, err)) !=
			CUSTOS_OK)
		goto done;
	w = write(fd, line, len);
	if (w < 0 || (size_t)w != len) {
		int e = w < 0 ? errno : ENOSPC;

		if (w > 0 && ftruncate(fd, (off_t)t->size) != 0)
			e = errno;
		(void)unlink(sigpath);
		st = custos__error_errno(err, e, "cannot append to the log");
		goto done;
	}
	if (fdatasync(fd) != 0) {
		st = custos__error_errno(err, errno, "cannot sync the log");
		goto done;
	}
	t->size += len;
	t->next_seq++;
	custos__custody_sha256_hex(t->prev, line, len);
	st = CUSTOS_OK;
done:
	free(text);
	free(line);
	free(rel);
	free(sigpath);
	return st;
}

/* Quarantine a torn last line and append the recovery record. */
static custos_status recover_locked(int fd, const char *dir,
		custos__custody_actor *a, tail *t, custos_error *err)
{
	unsigned char *buf;
	char hx[HEX_SHA256], *q = NULL, *fields = NULL;
	custos_custody_event ev;
	json_t *r = NULL, *obj;
	custos_status st;
	size_t got = 0;

	if (t->torn_len == 0)
		return CUSTOS_OK;
	if (t->torn_len > CUSTOS_CUSTODY_LINE_MAX + 1)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"the log ends in %" PRIu64 " bytes without LF; it is "
			"damaged", t->torn_len);
	buf = malloc((size_t)t->torn_len);
	if (buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (got < t->torn_len) {
		ssize_t n = pread(fd, buf + got, (size_t)t->torn_len - got,
			(off_t)(t->torn_off + got));

		if (n <= 0) {
			free(buf);
			return custos__error_errno(err, n < 0 ? errno : EIO,
				"cannot read the torn line");
		}
		got += (size_t)n;
	}
	custos__custody_sha256_hex(hx, buf, got);
	st = quarantine_file(&q, dir, "torn-line", t->torn_off, buf, got,
		NULL, err);
	free(buf);
	if (st != CUSTOS_OK)
		return st;
	if (ftruncate(fd, (off_t)t->torn_off) != 0 || fsync(fd) != 0) {
		free(q);
		return custos__error_errno(err, errno,
			"cannot cut the torn line from the log");
	}
	obj = json_pack("{s:{s:s,s:I,s:I,s:s}}", "quarantined", "file", q,
		"offset", (json_int_t)t->torn_off, "bytes", (json_int_t)got,
		"sha256", hx);
	fields = obj != NULL ? custos__json_canonical(obj) : NULL;
	json_decref(obj);
	custos_custody_event_init(&ev);
	ev.type = "recovery";
	ev.reason = "an interrupted append left a torn last line; it was "
		"moved to quarantine";
	ev.fields_json = fields;
	t->torn_len = 0;
	if (fields == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if ((st = custos__custody_build_record(&r, &ev, a, err)) ==
			CUSTOS_OK)
		st = append_locked(fd, dir, r, a, t, err);
	json_decref(r);
	free(fields);
	free(q);
	return st;
}

static custos_status open_locked(int *out, const char *dir, int create,
		custos_error *err)
{
	char *path = custos__custody_path(dir, LOG_NAME);
	int fd;

	*out = -1;
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	/* Written only as a regular file in the log folder itself: never
	 * through a symlink, never a FIFO (O_NONBLOCK, then fstat). */
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
		O_NONBLOCK | O_NOCTTY | (create ? O_CREAT | O_EXCL : 0), 0644);
	if (fd < 0) {
		custos_status st = errno == ELOOP
			? custos__error_set(err, CUSTOS_EFORMAT,
				"the custody log %s is a symlink; custos "
				"writes only to its own files", path)
			: custos__error_errno(err, errno,
				"cannot open the custody log %s", path);
		free(path);
		return st;
	}
	{
		struct stat sb;
		int fl;

		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (fl = fcntl(fd, F_GETFL)) < 0 ||
		    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
			custos_status st = custos__error_set(err,
				CUSTOS_EFORMAT, "the custody log %s is not "
				"a regular file; refusing to use it", path);

			close(fd);
			free(path);
			return st;
		}
	}
	free(path);
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			custos_status st = custos__error_errno(err, errno,
				"cannot lock the custody log");
			close(fd);
			return st;
		}
	}
	*out = fd;
	return CUSTOS_OK;
}

custos_status custos__custody_append_event(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_actor_options *actor, int create,
		int recover_only, int *recovered, custos_error *err)
{
	custos__custody_actor a;
	custos_merkle_state ms;
	custos_merkle_hash root;
	json_t *r = NULL;
	tail t;
	int fd = -1;
	custos_status st;

	if (root_b64 != NULL)
		*root_b64 = NULL;
	if (dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no log folder");
	if ((st = custos__custody_actor_load(&a, actor, err)) != CUSTOS_OK)
		return st;
	if (!recover_only && (st = custos__custody_build_record(&r, ev, &a,
			err)) != CUSTOS_OK)
		goto done;
	if ((st = open_locked(&fd, dir, create, err)) != CUSTOS_OK ||
	    (st = read_tail(fd, &t, err)) != CUSTOS_OK)
		goto done;
	if (!create && t.size == 0 && t.torn_len == 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"%s/%s is empty: not a custody log (custos-log init)",
			dir, LOG_NAME);
		goto done;
	}
	if (r != NULL && t.next_seq == 0 &&
	    strcmp(json_string_value(json_object_get(r, "type")),
		    "genesis") != 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the log has no genesis record");
		goto done;
	}
	if (r != NULL && t.next_seq != 0 &&
	    strcmp(json_string_value(json_object_get(r, "type")),
		    "genesis") == 0) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"a log has one genesis record, its first");
		goto done;
	}
	if (recovered != NULL)
		*recovered = t.torn_len != 0;
	if ((st = recover_locked(fd, dir, &a, &t, err)) != CUSTOS_OK)
		goto done;
	if (r != NULL && (st = append_locked(fd, dir, r, &a, &t, err)) !=
			CUSTOS_OK)
		goto done;
	if (seq != NULL)
		*seq = t.next_seq - 1;
	if (root_b64 != NULL) {
		if ((st = tree_of_fd(fd, t.size, &ms, err)) != CUSTOS_OK)
			goto done;
		custos_merkle_state_root(&ms, root);
		*root_b64 = custos__b64_encode(root, sizeof(root));
	}
done:
	if (fd >= 0)
		close(fd); /* drops the lock */
	json_decref(r);
	custos__custody_actor_free(&a);
	return st;
}

custos_status custos_custody_append(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_actor_options *actor, custos_error *err)
{
	return custos__custody_append_event(seq, root_b64, dir, ev, actor, 0,
		0, NULL, err);
}

custos_status custos_custody_recover(int *recovered, const char *dir,
		const custos_custody_actor_options *actor, custos_error *err)
{
	int rec = 0;
	custos_status st = custos__custody_append_event(NULL, NULL, dir, NULL,
		actor, 0, 1, &rec, err);

	if (recovered != NULL)
		*recovered = rec;
	return st;
}

void custos__custody_loaded_free(custos__custody_loaded *L)
{
	for (uint64_t i = 0; L->recs != NULL && i < L->n; i++) {
		free(L->recs[i].problem);
		json_decref(L->recs[i].json);
	}
	free(L->recs);
	free(L->leaves);
	free(L->buf);
	memset(L, 0, sizeof(*L));
}

custos_status custos__custody_load_lines(custos__custody_loaded *L,
		const char *dir, custos_error *err)
{
	size_t off = 0, cap;
	custos_status st;

	memset(L, 0, sizeof(*L));
	if ((st = read_log(&L->buf, &L->len, dir, err)) != CUSTOS_OK)
		return st;
	cap = 1;
	for (const char *q = L->buf, *e = L->buf + L->len;
	     (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
		cap++;
	L->recs = calloc(cap, sizeof(*L->recs));
	L->leaves = calloc(cap, sizeof(*L->leaves));
	if (L->recs == NULL || L->leaves == NULL) {
		custos__custody_loaded_free(L);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	while (off < L->len) {
		char *nl = memchr(L->buf + off, '\n', L->len - off);

		if (nl == NULL) {
			L->torn = L->len - off;
			break;
		}
		L->recs[L->n].line = L->buf + off;
		L->recs[L->n].len = (size_t)(nl - L->buf - off) + 1;
		L->n++;
		off = (size_t)(nl - L->buf) + 1;
	}
	return CUSTOS_OK;
}

custos_status custos_custody_read_log(char **buf, size_t *len,
		const char *dir, custos_error *err)
{
	if (buf == NULL || len == NULL || dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_read_log: NULL argument");
	return read_log(buf, len, dir, err);
}
