/*
 * BagIt 1.0 (RFC 8493, and 0.97) validation over the members a verifier
 * collected (custos__bag, bag_private.h): bagit.txt, the payload manifests
 * (every file listed, every digest right, nothing outside data/), the tag
 * manifests, fetch.txt (a holey bag), bag-info.txt with its Payload-Oxum,
 * tag-file encodings other than UTF-8, and the signed tag manifest of a
 * custos bundle.  Members come from a tar (tarstream.c) or, here, from a
 * bag folder.  Nothing in this file writes a bag.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "custos/sign.h"
#include "bag_private.h"
#include "bundle_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

void custos__bag_free(custos__bag *b)
{
	for (size_t i = 0; i < b->count; i++) {
		free(b->files[i].path);
		free(b->files[i].content);
	}
	free(b->files);
	free(b->root);
	free(b->buf);
	free(b->buf2);
}

custos_status custos__bag_add(custos__bag *b, const char *rel,
		custos__read_fn rd, void *ctx)
{
	custos__bag_file *f;
	EVP_MD_CTX *md[ALGS] = {NULL, NULL, NULL, NULL, NULL, NULL};
	custos_status st = CUSTOS_OK;
	unsigned int algs;
	custos__hash_job job;

	memset(&job, 0, sizeof(job));

	if (b->count >= BAG_FILES_MAX)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bag: more than %d files", BAG_FILES_MAX);
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		custos__bag_file *n = realloc(b->files, cap * sizeof(*n));
		if (n == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
		b->files = n;
		b->cap = cap;
	}
	f = &b->files[b->count];
	memset(f, 0, sizeof(*f));
	f->path = custos__strdup(rel);
	if (f->path == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	b->count++;
	f->payload = strncmp(rel, "data/", 5) == 0;
	algs = f->payload ? b->payload_algs : ALL_ALGS;
	for (int i = 0; i < ALGS; i++)
		if (algs & (1u << i)) {
			md[i] = EVP_MD_CTX_new();
			if (md[i] == NULL ||
			    EVP_DigestInit_ex(md[i], custos__alg_md(i), NULL) != 1) {
				st = custos__error_set(b->err, CUSTOS_ENOMEM,
					"out of memory");
				goto out;
			}
		}
	memset(&job, 0, sizeof(job));
	job.md = md;
	job.mask = ALL_ALGS & ~(1u << ALG_SHA256);
	for (int cur = 0;; cur ^= 1) {
		size_t got = 0;
		unsigned char *buf = cur ? b->buf2 : b->buf;
		/* The next block is read (decrypted) while the thread hashes
		 * the previous one. */
		st = rd(ctx, buf, IO_BLOCK, &got, b->err);
		custos__hash_wait(&job);
		if (st != CUSTOS_OK)
			goto out;
		if (got == 0)
			break;
		job.buf = buf;
		job.len = got;
		custos__hash_start(&job);
		if (md[ALG_SHA256] != NULL)
			EVP_DigestUpdate(md[ALG_SHA256], buf, got);
		if (!f->payload) {
			unsigned char *c;
			if (got > TAG_FILE_MAX - f->content_len ||
			    got > TAG_TOTAL_MAX - b->tag_total) {
				st = custos__error_set(b->err, CUSTOS_EFORMAT,
					"tag file %s: too large", rel);
				goto out;
			}
			c = realloc(f->content, f->content_len + got + 1);
			if (c == NULL) {
				st = custos__error_set(b->err, CUSTOS_ENOMEM,
					"out of memory");
				goto out;
			}
			memcpy(c + f->content_len, buf, got);
			f->content = c;
			f->content_len += got;
			f->content[f->content_len] = '\0';
			b->tag_total += got;
		}
		f->size += got;
	}
	for (int i = 0; i < ALGS; i++)
		if (md[i] != NULL) {
			EVP_DigestFinal_ex(md[i], f->md[i], NULL);
			f->have |= 1u << i;
		}
out:
	custos__hash_wait(&job);
	for (int i = 0; i < ALGS; i++)
		EVP_MD_CTX_free(md[i]);
	return st;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const custos__bag_file *)a)->path,
		((const custos__bag_file *)b)->path);
}

custos__bag_file *custos__bag_find(custos__bag *b, const char *path)
{
	custos__bag_file key;

	key.path = (char *)path;
	return bsearch(&key, b->files, b->count, sizeof(custos__bag_file),
		file_cmp);
}

int custos__path_in_scope(const char *p)
{
	if (p[0] == '/' || p[0] == '~' || p[0] == '\0')
		return 0;
	for (const char *c = p; *c != '\0';) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 2 && c[0] == '.' && c[1] == '.') ||
		    (n == 1 && c[0] == '.'))
			return 0;
		c += n;
		if (*c == '/')
			c++;
	}
	return 1;
}

custos_status custos__each_line(custos__bag *b, char *text,
		custos__line_fn fn, void *ctx)
{
	size_t n = 0;

	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		custos_status st;
		size_t len;
		if (nl != NULL)
			*nl = '\0';
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		n++;
		st = fn(b, line, n, ctx);
		if (st != CUSTOS_OK)
			return st;
		line = nl ? nl + 1 : NULL;
	}
	return CUSTOS_OK;
}

/* Tag text converted to UTF-8 (a copy; caller frees). */
static char *tag_text(custos__bag *b, const custos__bag_file *f,
		const char *encoding)
{
	iconv_t cd;
	char *out, *in, *op;
	size_t inleft, outleft, cap;

	if (encoding == NULL || strcasecmp(encoding, "UTF-8") == 0 ||
	    strcasecmp(encoding, "UTF8") == 0) {
		out = malloc(f->content_len + 1);
		if (out != NULL) {
			memcpy(out, f->content ? (char *)f->content : "",
				f->content_len);
			out[f->content_len] = '\0';
		}
		return out;
	}
	cd = iconv_open("UTF-8", encoding);
	if (cd == (iconv_t)-1) {
		custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: unknown Tag-File-Character-Encoding");
		return NULL;
	}
	if (f->content_len > TAG_FILE_MAX) {
		iconv_close(cd);
		return NULL;
	}
	cap = f->content_len * 4 + 1;
	out = malloc(cap);
	if (out == NULL) {
		iconv_close(cd);
		return NULL;
	}
	in = (char *)f->content;
	inleft = f->content_len;
	op = out;
	outleft = cap - 1;
	if (in != NULL && iconv(cd, &in, &inleft, &op, &outleft) == (size_t)-1) {
		iconv_close(cd);
		free(out);
		custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: not valid %s text", f->path, encoding);
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	/* Drop a UTF-8 byte-order mark left by UTF-16 input. */
	if ((unsigned char)out[0] == 0xef && (unsigned char)out[1] == 0xbb &&
	    (unsigned char)out[2] == 0xbf)
		memmove(out, out + 3, strlen(out + 3) + 1);
	return out;
}

/* A tag file's lines, in UTF-8, one by one through fn. */
static custos_status each_tag_line(custos__bag *b, const custos__bag_file *f,
		const char *encoding, custos__line_fn fn, void *ctx)
{
	char *t = tag_text(b, f, encoding);
	custos_status st;

	if (t == NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: unreadable", f->path);
	st = custos__each_line(b, t, fn, ctx);
	free(t);
	return st;
}

typedef struct manifest_ctx {
	int alg;
	int tag;                    /* a tag manifest */
	const char *name;
	char **fetch;               /* paths in fetch.txt */
	size_t fetch_count;
} manifest_ctx;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* BagIt 1.0 names: %0D, %0A, %25 decode; nothing else does. */
static void percent_decode(char *s)
{
	char *o = s;

	for (char *p = s; *p != '\0';) {
		if (p[0] == '%' && p[1] != '\0' && p[2] != '\0') {
			int v = hexval((unsigned char)p[1]) * 16 +
				hexval((unsigned char)p[2]);
			if (hexval((unsigned char)p[1]) >= 0 &&
			    hexval((unsigned char)p[2]) >= 0 &&
			    (v == 0x0d || v == 0x0a || v == 0x25)) {
				*o++ = (char)v;
				p += 3;
				continue;
			}
		}
		*o++ = *p++;
	}
	*o = '\0';
}

static custos_status manifest_line(custos__bag *b, char *line, size_t n,
		void *vctx)
{
	manifest_ctx *m = vctx;
	size_t hl = 0, want = custos__alg_sizes[m->alg] * 2;
	char *path;
	unsigned char d[64];
	custos__bag_file *f;
	int in_fetch = 0;

	if (line[0] == '\0')
		return CUSTOS_OK;
	while (hexval((unsigned char)line[hl]) >= 0)
		hl++;
	if (hl != want || (line[hl] != ' ' && line[hl] != '\t'))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s line %zu: malformed (checksum, space, path)", m->name, n);
	path = line + hl;
	while (*path == ' ' || *path == '\t')
		path++;
	if (b->v10)
		percent_decode(path);
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	if (!custos__path_in_scope(path) ||
	    (!m->tag && strncmp(path, "data/", 5) != 0))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s line %zu: path outside the %s", m->name, n,
			m->tag ? "bag" : "payload (data/)");
	for (size_t i = 0; i < hl / 2; i++)
		d[i] = (unsigned char)(hexval((unsigned char)line[2 * i]) * 16 +
			hexval((unsigned char)line[2 * i + 1]));
	f = custos__bag_find(b, path);
	for (size_t i = 0; i < m->fetch_count; i++)
		if (strcmp(m->fetch[i], path) == 0)
			in_fetch = 1;
	if (f == NULL) {
		if (in_fetch)
			return CUSTOS_OK; /* a holey bag: fetched later */
		return custos__error_set(b->err, CUSTOS_EMISMATCH,
			"%s: lists %s, which is missing", m->name, path);
	}
	if (!m->tag && !f->payload)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: %s is not payload", m->name, path);
	/* Listed twice, even with the same digest: which line counts would
	 * depend on the reader.  One manifest per algorithm, so a bit per
	 * algorithm and kind tells. */
	if ((m->tag ? f->tag_listed : f->listed) & (1u << m->alg))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: %s listed twice", m->name, path);
	if (m->tag)
		f->tag_listed |= 1u << m->alg;
	else
		f->listed |= 1u << m->alg;
	if (!(f->have & (1u << m->alg)))
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: %s digest not computed for this bundle", m->name,
			custos__alg_names[m->alg]);
	if (memcmp(f->md[m->alg], d, custos__alg_sizes[m->alg]) != 0)
		return custos__error_set(b->err, CUSTOS_EMISMATCH,
			"%s: %s does not match (%s changed)", m->name, path,
			m->tag ? "tag file" : "payload");
	return CUSTOS_OK;
}

typedef struct fetch_ctx {
	char **paths;
	size_t count, cap;
} fetch_ctx;

static custos_status fetch_line(custos__bag *b, char *line, size_t n,
		void *vctx)
{
	fetch_ctx *fc = vctx;
	char *sp1, *sp2, *path;

	if (line[0] == '\0')
		return CUSTOS_OK;
	sp1 = strpbrk(line, " \t");
	sp2 = sp1 ? strpbrk(sp1 + 1, " \t") : NULL;
	if (sp2 == NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"fetch.txt line %zu: malformed", n);
	path = sp2 + 1;
	if (b->v10)
		percent_decode(path);
	if (!custos__path_in_scope(path) || strncmp(path, "data/", 5) != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"fetch.txt line %zu: path outside the payload", n);
	for (size_t i = 0; i < fc->count; i++)
		if (strcmp(fc->paths[i], path) == 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"fetch.txt line %zu: a path listed twice", n);
	if (fc->count == fc->cap) {
		size_t cap = fc->cap ? fc->cap * 2 : 16;
		char **p = realloc(fc->paths, cap * sizeof(*p));
		if (p == NULL || cap > BAG_FILES_MAX) {
			free(p == fc->paths ? NULL : p);
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		}
		fc->paths = p;
		fc->cap = cap;
	}
	fc->paths[fc->count] = custos__strdup(path);
	if (fc->paths[fc->count] == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	fc->count++;
	return CUSTOS_OK;
}

/*
 * bag-info.txt labels that describe one fact about the bag: a second line
 * with any of them is refused (compared without case), so no reader can
 * take the first value and another the last.  RFC 8493 (2.2.2) lets
 * reserved elements repeat; for these a repeat can only contradict (two
 * sizes, dates or counts for one bag).  Payload-Oxum (which verification
 * checks) and custos's own labels are unique in every bag; Bagging-Date,
 * Bag-Size, Bag-Group-Identifier and Bag-Count in BagIt 1.0 bags, while a
 * BagIt 0.97 bag may repeat them (the Library of Congress conformance
 * suite has such a valid bag; nothing is checked against them).
 * Source-Organization, Contact-*,
 * External-Identifier, External-Description, Internal-Sender-* and any
 * other label may repeat, as the RFC allows.
 */
static const char *const info_unique[] = {
	"Payload-Oxum", "Custos-Bundle-Id", "Custos-Bagging-Time",
	"Custos-Instrument", "Custos-Measure", "Custos-Requesting-Authority",
	"Custos-Requested-Authority", "Custos-Request-Reference",
	"Custos-Case-Reference",
	/* From here on: unique in BagIt 1.0 bags only (see above). */
	"Bagging-Date", "Bag-Size", "Bag-Group-Identifier", "Bag-Count",
};
#define INFO_UNIQUE (sizeof(info_unique) / sizeof(info_unique[0]))
#define INFO_UNIQUE_ALWAYS 9

typedef struct info_ctx {
	int have_oxum;
	unsigned long long oxum_bytes, oxum_files;
	unsigned int seen;          /* bit per info_unique label */
} info_ctx;

static custos_status info_line_parse(custos__bag *b, char *line,
		size_t n, void *vctx)
{
	info_ctx *ic = vctx;
	const char *colon;
	size_t ll;

	/* Continuation lines (RFC 8493: leading blanks) and blank lines
	 * carry no label. */
	if (line[0] == ' ' || line[0] == '\t' || line[0] == '\0')
		return CUSTOS_OK;
	colon = strchr(line, ':');
	if (colon == NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bag-info.txt line %zu: not 'Label: value'", n);
	ll = (size_t)(colon - line);
	while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t'))
		ll--;
	for (size_t i = 0; i < INFO_UNIQUE; i++) {
		if (strlen(info_unique[i]) != ll ||
		    strncasecmp(line, info_unique[i], ll) != 0 ||
		    (i >= INFO_UNIQUE_ALWAYS && !b->v10))
			continue;
		if (ic->seen & (1u << i))
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag-info.txt line %zu: %s repeated (it may "
				"appear once)", n, info_unique[i]);
		ic->seen |= 1u << i;
	}
	if (strncasecmp(line, "Payload-Oxum:", 13) == 0) {
		char *end;
		const char *v = line + 13;
		while (*v == ' ' || *v == '\t')
			v++;
		errno = 0;
		ic->oxum_bytes = strtoull(v, &end, 10);
		if (end == v || *end != '.' || errno != 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag-info.txt line %zu: malformed Payload-Oxum", n);
		v = end + 1;
		ic->oxum_files = strtoull(v, &end, 10);
		if (end == v || (*end != '\0' && *end != ' ') || errno != 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag-info.txt line %zu: malformed Payload-Oxum", n);
		ic->have_oxum = 1;
	} else if (strncmp(line, "Custos-Request-Reference:", 25) == 0) {
		custos__copy_value(b->request_reference, sizeof(b->request_reference),
			line + 25);
	} else if (strncmp(line, "Custos-Bundle-Id:", 17) == 0) {
		custos__copy_value(b->bundle_id_info, sizeof(b->bundle_id_info),
			line + 17);
	}
	return CUSTOS_OK;
}

static custos_status bagit_txt(custos__bag *b, char **encoding)
{
	custos__bag_file *f = custos__bag_find(b, "bagit.txt");
	const char *c;
	char ver[16];
	const char *l2;
	size_t vl = 0;

	*encoding = NULL;
	if (f == NULL)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"not a bag: bagit.txt is missing");
	c = f->content ? (const char *)f->content : "";
	if ((unsigned char)c[0] == 0xef || (unsigned char)c[0] == 0xfe ||
	    (unsigned char)c[0] == 0xff)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt starts with a byte-order mark");
	if (strncmp(c, "BagIt-Version: ", 15) != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: first line is not 'BagIt-Version: M.N'");
	c += 15;
	while ((c[vl] >= '0' && c[vl] <= '9') || c[vl] == '.') {
		if (vl + 1 >= sizeof(ver))
			break;
		ver[vl] = c[vl];
		vl++;
	}
	ver[vl] = '\0';
	l2 = c + vl;
	if (*l2 == '\r')
		l2++;
	if (*l2 != '\n')
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: malformed BagIt-Version line");
	l2++;
	if (strcmp(ver, "1.0") == 0)
		b->v10 = 1;
	else if (strcmp(ver, "0.97") != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: unsupported BagIt-Version (1.0 or 0.97)");
	if (strncmp(l2, "Tag-File-Character-Encoding: ", 29) != 0)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bagit.txt: no 'Tag-File-Character-Encoding: ' line");
	l2 += 29;
	{
		size_t n = strcspn(l2, "\r\n");
		const char *rest = l2 + n;
		if (n == 0 || n > 40)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bagit.txt: bad Tag-File-Character-Encoding");
		if (*rest == '\r')
			rest++;
		if (*rest == '\n')
			rest++;
		while (*rest == '\n' || *rest == '\r')
			rest++;
		if (*rest != '\0')
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"bagit.txt: unexpected extra lines");
		*encoding = malloc(n + 1);
		if (*encoding == NULL)
			return custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
		memcpy(*encoding, l2, n);
		(*encoding)[n] = '\0';
	}
	return CUSTOS_OK;
}

static int manifest_alg(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(path, prefix, pl) != 0 || strchr(path, '/') != NULL)
		return -2;
	for (int i = 0; i < ALGS; i++) {
		size_t al = strlen(custos__alg_names[i]);
		if (strncmp(path + pl, custos__alg_names[i], al) == 0 &&
		    strcmp(path + pl + al, ".txt") == 0)
			return i;
	}
	return -1;
}

custos_status custos__bag_check(custos__bag *b, int need_signature,
		const char *const *trust, size_t trust_count)
{
	char *encoding = NULL;
	fetch_ctx fc = {0};
	info_ctx ic = {0};
	custos_status st;
	unsigned int payload_manifests = 0;
	custos__bag_file *f;

	qsort(b->files, b->count, sizeof(custos__bag_file), file_cmp);
	for (size_t i = 1; i < b->count; i++)
		if (strcmp(b->files[i].path, b->files[i - 1].path) == 0)
			return custos__error_set(b->err, CUSTOS_EFORMAT,
				"duplicate member name in the bag");
	if ((st = bagit_txt(b, &encoding)) != CUSTOS_OK)
		goto out;
	if ((f = custos__bag_find(b, "fetch.txt")) != NULL &&
	    (st = each_tag_line(b, f, encoding, fetch_line, &fc)) != CUSTOS_OK)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < b->count; i++) {
			manifest_ctx m;
			int alg = manifest_alg(b->files[i].path,
				pass ? "tagmanifest-" : "manifest-");
			if (alg == -2)
				continue;
			if (alg == -1) {
				st = custos__error_set(b->err, CUSTOS_EFORMAT,
					"unsupported checksum algorithm in a "
					"manifest name");
				goto out;
			}
			memset(&m, 0, sizeof(m));
			m.alg = alg;
			m.tag = pass;
			m.name = b->files[i].path;
			m.fetch = fc.paths;
			m.fetch_count = fc.count;
			st = each_tag_line(b, &b->files[i], encoding,
				manifest_line, &m);
			if (st != CUSTOS_OK)
				goto out;
			if (!pass)
				payload_manifests |= 1u << alg;
		}
	}
	if (payload_manifests == 0) {
		st = custos__error_set(b->err, CUSTOS_EFORMAT,
			"no payload manifest (manifest-ALG.txt)");
		goto out;
	}
	b->payload_bytes = b->payload_files = 0;
	for (size_t i = 0; i < b->count; i++) {
		custos__bag_file *pf = &b->files[i];
		if (!pf->payload)
			continue;
		if ((pf->listed & payload_manifests) != payload_manifests) {
			for (int a = 0; a < ALGS; a++)
				if ((payload_manifests & (1u << a)) &&
				    !(pf->listed & (1u << a))) {
					st = custos__error_set(b->err,
						CUSTOS_EMISMATCH,
						"payload file not listed in "
						"manifest-%s.txt: %s", custos__alg_names[a],
						pf->path);
					goto out;
				}
		}
		b->payload_bytes += pf->size;
		b->payload_files++;
	}
	if ((f = custos__bag_find(b, "bag-info.txt")) != NULL) {
		st = each_tag_line(b, f, encoding, info_line_parse, &ic);
		if (st != CUSTOS_OK)
			goto out;
		if (ic.have_oxum && fc.count == 0 &&
		    (ic.oxum_bytes != b->payload_bytes ||
		     ic.oxum_files != b->payload_files)) {
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"Payload-Oxum %llu.%llu but the payload is %llu.%llu",
				ic.oxum_bytes, ic.oxum_files,
				(unsigned long long)b->payload_bytes,
				(unsigned long long)b->payload_files);
			goto out;
		}
	}
	f = custos__bag_find(b, "tagmanifest-sha512.txt");
	if (f != NULL && (f->have & (1u << ALG_SHA512)))
		custos__hex_into(b->tagmanifest_sha512, f->md[ALG_SHA512], 64);
	{
		custos__bag_file *sig = custos__bag_find(b,
			"signature/tagmanifest-sha512.txt.p7s");
		if (need_signature && (sig == NULL || f == NULL)) {
			st = custos__error_set(b->err, CUSTOS_EMISMATCH,
				"the tag manifest is not signed "
				"(signature/tagmanifest-sha512.txt.p7s missing)");
			goto out;
		}
		if (sig != NULL && f != NULL) {
			st = custos__verify_detached(f->content ? f->content :
				(unsigned char *)"", f->content_len,
				sig->content, sig->content_len, "tag manifest",
				trust, trust_count, b->err);
			if (st != CUSTOS_OK)
				goto out;
		}
	}
	st = CUSTOS_OK;
out:
	for (size_t i = 0; i < fc.count; i++)
		free(fc.paths[i]);
	free(fc.paths);
	free(encoding);
	return st;
}

/* ---- members from a folder ---- */

custos_status custos__bag_from_dir(custos__bag *b, const char *top,
		const char *rel, int depth)
{
	char *dirpath = rel[0] ? custos__aprintf("%s/%s", top, rel) :
		custos__strdup(top);
	DIR *d;
	struct dirent *e;
	custos_status st = CUSTOS_OK;

	if (dirpath == NULL)
		return custos__error_set(b->err, CUSTOS_ENOMEM, "out of memory");
	if (depth > 64) {
		free(dirpath);
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"bag folder nested too deep");
	}
	d = opendir(dirpath);
	if (d == NULL) {
		st = custos__error_errno(b->err, errno, "%s", dirpath);
		free(dirpath);
		return st;
	}
	while (st == CUSTOS_OK && (e = readdir(d)) != NULL) {
		char *r, *full;
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = rel[0] ? custos__aprintf("%s/%s", rel, e->d_name) :
			custos__strdup(e->d_name);
		full = r ? custos__aprintf("%s/%s", top, r) : NULL;
		if (full == NULL) {
			free(r);
			st = custos__error_set(b->err, CUSTOS_ENOMEM,
				"out of memory");
			break;
		}
		if (lstat(full, &sb) != 0) {
			st = custos__error_errno(b->err, errno, "%s", full);
		} else if (S_ISDIR(sb.st_mode)) {
			st = custos__bag_from_dir(b, top, r, depth + 1);
		} else if (S_ISREG(sb.st_mode)) {
			custos__fd_input fdd;
			struct stat now;
			fdd.path = full;
			st = custos__open_regular(&fdd.fd, full, "bag member",
				b->err);
			if (st == CUSTOS_EINVAL)
				st = CUSTOS_EFORMAT; /* became a FIFO... */
			if (st == CUSTOS_OK && (fstat(fdd.fd, &now) != 0 ||
			    now.st_ino != sb.st_ino || now.st_dev != sb.st_dev))
				st = custos__error_set(b->err, CUSTOS_EFORMAT,
					"bag folder changed while read (%s)",
					e->d_name);
			if (st == CUSTOS_OK)
				st = custos__bag_add(b, r, custos__fd_read, &fdd);
			if (fdd.fd >= 0)
				close(fdd.fd);
		} else {
			st = custos__error_set(b->err, CUSTOS_EFORMAT,
				"bag folder holds a link or special file");
		}
		free(r);
		free(full);
	}
	closedir(d);
	free(dirpath);
	return st;
}
