/*
 * Verifying a disclosure package alone: the report (and its signature)
 * carries the root; every block is proven against that root; every file
 * or range is reassembled from its extents out of the proven blocks and
 * hashed; the payload holds nothing but what disclosure.json accounts
 * for, and no block that no request needs; the bag's manifests hold.
 */
#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "custos/blockmap.h"
#include "custos/bundle.h"
#include "custos/disclose.h"
#include "custos/sign.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

#define DESCRIPTION_MAX (256u << 20)
#define REPORT_MAX (8u << 20)

void custos_disclose_verify_options_init(custos_disclose_verify_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_DISCLOSE_VERIFY_OPTIONS_VERSION;
}

typedef struct block {
	uint64_t index, offset, length;
	const char *file;
	int used;
} block;

typedef struct vctx {
	const char *dir;            /* the payload folder */
	custos_error *err;
	json_t *items;
	block *blocks;
	size_t block_count;
	uint32_t bs;
} vctx;

#define fail(...) custos__error_set(v->err, CUSTOS_EMISMATCH, __VA_ARGS__)
#define malformed(...) custos__error_set(v->err, CUSTOS_EFORMAT, \
	"disclosure.json: " __VA_ARGS__)

static void hex(char *out, const unsigned char *in, size_t n)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(unsigned char *out, const char *s, size_t n)
{
	if (s == NULL || strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f'
			? c - 'a' + 10 : -1;

		if (d < 0)
			return -1;
		out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] << 4 | d : d);
	}
	return 0;
}

/* A payload name: one plain component, nothing hidden. */
static int plain_name(const char *s)
{
	return s != NULL && s[0] != '\0' && s[0] != '.' &&
		strchr(s, '/') == NULL && strlen(s) < 256;
}

static int get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* The requests that use block b, for messages. */
static void users(vctx *v, uint64_t off, uint64_t len, char *out,
		size_t cap)
{
	size_t n = 0;
	size_t count = json_array_size(v->items);

	out[0] = '\0';
	for (size_t i = 0; i < count && n + 1 < cap; i++) {
		json_t *it = json_array_get(v->items, i);
		json_t *ext = json_object_get(it, "extents");
		const char *what = json_string_value(json_object_get(it,
			"path"));
		int hit = 0;

		if (what == NULL)
			what = json_string_value(json_object_get(it, "request"));
		for (size_t k = 0; k < json_array_size(ext) && !hit; k++) {
			json_t *x = json_array_get(ext, k);
			uint64_t a, l;

			if (get_u64(x, "image_offset", &a) == 0 &&
			    get_u64(x, "length", &l) == 0 &&
			    a < off + len && off < a + l)
				hit = 1;
		}
		if (hit)
			n += (size_t)snprintf(out + n, cap - n, "%s%s",
				n ? ", " : "; it holds part of ",
				what ? what : "?");
	}
}

static custos_status sha256_file(vctx *v, const char *name, size_t max,
		unsigned char **data, size_t *len, char hex_out[65])
{
	char *path = custos__aprintf("%s/%s", v->dir, name);
	unsigned char md[32];
	custos_status st;

	if (path == NULL)
		return custos__error_set(v->err, CUSTOS_ENOMEM, "out of memory");
	st = custos__read_file_max(path, max, data, len, "package file",
		v->err);
	free(path);
	if (st == CUSTOS_ENOTFOUND || st == CUSTOS_EIO)
		return fail("%s is missing from the package", name);
	if (st != CUSTOS_OK)
		return st;
	EVP_Digest(*data, *len, md, NULL, EVP_sha256(), NULL);
	hex(hex_out, md, 32);
	return CUSTOS_OK;
}

static custos_status check_blocks(vctx *v, json_t *blocks,
		const custos_blockmap_claim *c, custos_disclose_verify_result *r)
{
	custos_merkle_hash root;
	size_t n = json_array_size(blocks);

	if (!json_is_array(blocks) || n > CUSTOS_DISCLOSE_MAX_BLOCKS)
		return malformed("no list of blocks");
	if (unhex(root, c->root, 32) != 0)
		return malformed("bad root");
	v->blocks = calloc(n ? n : 1, sizeof(*v->blocks));
	if (v->blocks == NULL)
		return custos__error_set(v->err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *b = json_array_get(blocks, i);
		json_t *proof = json_object_get(b, "proof");
		block *k = &v->blocks[i];
		custos_merkle_hash hproof[CUSTOS_MERKLE_PROOF_MAX], leaf, md;
		unsigned char *data = NULL;
		size_t len = 0, plen = json_array_size(proof);
		char got[65], expect_name[64], who[512];
		const char *want;
		uint64_t expect_len;
		custos_status st;

		k->file = json_string_value(json_object_get(b, "file"));
		want = json_string_value(json_object_get(b, "sha256"));
		if (get_u64(b, "index", &k->index) != 0 ||
		    get_u64(b, "offset", &k->offset) != 0 ||
		    get_u64(b, "length", &k->length) != 0 ||
		    !plain_name(k->file) || want == NULL ||
		    !json_is_array(proof) || plen > CUSTOS_MERKLE_PROOF_MAX)
			return malformed("block entry %zu is malformed", i);
		if (i > 0 && k->index <= v->blocks[i - 1].index)
			return malformed("blocks are not in increasing order");
		snprintf(expect_name, sizeof(expect_name), "block-%012llu.bin",
			(unsigned long long)k->index);
		if (k->index >= c->leaf_count)
			return fail("block %llu lies beyond the %llu blocks of "
				"the signed map", (unsigned long long)k->index,
				(unsigned long long)c->leaf_count);
		expect_len = c->media_size - k->index * c->block_size;
		if (expect_len > c->block_size)
			expect_len = c->block_size;
		if (k->offset != k->index * c->block_size ||
		    k->length != expect_len || strcmp(k->file, expect_name))
			return fail("block %llu: offset, length or name do not "
				"fit %u-byte blocks", (unsigned long long)
				k->index, c->block_size);
		users(v, k->offset, k->length, who, sizeof(who));
		st = sha256_file(v, k->file, c->block_size, &data, &len, got);
		free(data);
		if (st != CUSTOS_OK)
			return st;
		if (len != k->length)
			return fail("block %llu (bytes %llu-%llu): %zu bytes "
				"instead of %llu%s", (unsigned long long)k->index,
				(unsigned long long)k->offset,
				(unsigned long long)(k->offset + k->length - 1),
				len, (unsigned long long)k->length, who);
		for (size_t p = 0; p < plen; p++)
			if (unhex(hproof[p], json_string_value(
					json_array_get(proof, p)), 32) != 0)
				return malformed("block %llu: bad proof hash",
					(unsigned long long)k->index);
		if (strcmp(got, want) != 0)
			return fail("block %llu (bytes %llu-%llu) was changed: "
				"its SHA-256 is %s, the package says %s%s",
				(unsigned long long)k->index,
				(unsigned long long)k->offset,
				(unsigned long long)(k->offset + k->length - 1),
				got, want, who);
		unhex(md, got, 32);
		custos_merkle_leaf_hash(leaf, md, 32);
		if (custos_merkle_verify_inclusion(k->index, c->leaf_count,
				leaf, hproof, plen, root, NULL) != CUSTOS_OK)
			return fail("block %llu (bytes %llu-%llu) is not proven "
				"to belong to the seized image: its proof does "
				"not lead to the signed root %s%s",
				(unsigned long long)k->index,
				(unsigned long long)k->offset,
				(unsigned long long)(k->offset + k->length - 1),
				c->root, who);
		r->blocks_checked++;
	}
	v->block_count = n;
	return CUSTOS_OK;
}

static block *find_block(vctx *v, uint64_t index)
{
	size_t lo = 0, hi = v->block_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->blocks[mid].index == index)
			return &v->blocks[mid];
		if (v->blocks[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Read media bytes [off, off + len) from the proven blocks. */
static custos_status read_proven(vctx *v, unsigned char *buf, uint64_t off,
		size_t len, const char *what)
{
	while (len > 0) {
		block *b = find_block(v, off / v->bs);
		uint64_t in = off - (off / v->bs) * v->bs;
		size_t n;
		char *path;
		FILE *f;

		if (b == NULL)
			return fail("%s: byte %llu lies in block %llu, which "
				"is not in the package", what,
				(unsigned long long)off,
				(unsigned long long)(off / v->bs));
		b->used = 1;
		n = b->length - in < len ? (size_t)(b->length - in) : len;
		path = custos__aprintf("%s/%s", v->dir, b->file);
		f = path ? fopen(path, "rb") : NULL;
		free(path);
		if (f == NULL || fseeko(f, (off_t)in, SEEK_SET) != 0 ||
		    fread(buf, 1, n, f) != n) {
			if (f != NULL)
				fclose(f);
			return fail("%s: cannot read block %llu", what,
				(unsigned long long)b->index);
		}
		fclose(f);
		buf += n;
		off += n;
		len -= n;
	}
	return CUSTOS_OK;
}

static custos_status check_item(vctx *v, json_t *it, size_t i,
		const custos_blockmap_claim *c, const char **content,
		custos_disclose_verify_result *r)
{
	json_t *ext = json_object_get(it, "extents");
	const char *want = json_string_value(json_object_get(it, "sha256"));
	const char *what = json_string_value(json_object_get(it, "path"));
	const char *kind = json_string_value(json_object_get(it, "kind"));
	unsigned char *buf = malloc(1u << 20), md[32];
	uint64_t size = 0, at = 0;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	custos_status st = CUSTOS_OK;
	char got[65];
	char label[300];

	*content = json_string_value(json_object_get(it, "content"));
	if (what == NULL)
		what = json_string_value(json_object_get(it, "request"));
	snprintf(label, sizeof(label), "%s", what ? what : "?");
	if (buf == NULL || h == NULL) {
		free(buf);
		EVP_MD_CTX_free(h);
		return custos__error_set(v->err, CUSTOS_ENOMEM, "out of memory");
	}
	EVP_DigestInit_ex2(h, EVP_sha256(), NULL);
	if (kind == NULL || (strcmp(kind, "file") && strcmp(kind, "range")) ||
	    get_u64(it, "size_bytes", &size) != 0 || want == NULL ||
	    !json_is_array(ext) || (*content != NULL &&
	    !plain_name(*content)))
		st = malformed("item %zu is malformed", i);
	for (size_t k = 0; st == CUSTOS_OK && k < json_array_size(ext); k++) {
		json_t *x = json_array_get(ext, k);
		uint64_t fo, io = 0, len;
		int sparse = json_is_true(json_object_get(x, "sparse"));

		if (get_u64(x, "file_offset", &fo) != 0 ||
		    get_u64(x, "length", &len) != 0 ||
		    (!sparse && get_u64(x, "image_offset", &io) != 0)) {
			st = malformed("%s: extent %zu is malformed", label, k);
			break;
		}
		if (fo != at || len > size - at ||
		    (!sparse && (io > c->media_size ||
				 len > c->media_size - io))) {
			st = fail("%s: extent %zu does not continue the file "
				"or lies outside the media", label, k);
			break;
		}
		for (uint64_t done = 0; st == CUSTOS_OK && done < len;) {
			size_t n = len - done < (1u << 20)
				? (size_t)(len - done) : (1u << 20);

			if (sparse)
				memset(buf, 0, n);
			else
				st = read_proven(v, buf, io + done, n, label);
			EVP_DigestUpdate(h, buf, n);
			done += n;
		}
		at += len;
	}
	if (st == CUSTOS_OK && at != size)
		st = fail("%s: its extents hold %llu bytes, its size is %llu",
			label, (unsigned long long)at, (unsigned long long)size);
	if (st == CUSTOS_OK) {
		EVP_DigestFinal_ex(h, md, NULL);
		hex(got, md, 32);
		if (strcmp(got, want) != 0)
			st = fail("%s: reassembled from its extents it hashes "
				"to %s, not %s", label, got, want);
	}
	if (st == CUSTOS_OK && *content != NULL) {
		unsigned char *data = NULL;
		size_t len = 0;
		char chash[65];

		st = sha256_file(v, *content, SIZE_MAX / 2, &data, &len, chash);
		free(data);
		if (st == CUSTOS_OK && strcmp(chash, got) != 0)
			st = fail("%s: %s differs from the file reassembled "
				"from the proven blocks", label, *content);
	}
	if (st == CUSTOS_OK)
		r->files_checked += strcmp(kind, "file") == 0;
	if (st == CUSTOS_OK)
		r->ranges_checked += strcmp(kind, "range") == 0;
	free(buf);
	EVP_MD_CTX_free(h);
	return st;
}

/* The custody record must name this report and carry the same root. */
static int record_names(json_t *rec, const char *report_sha,
		const char *root)
{
	json_t *f = json_object_get(rec, "fields");
	json_t *rep, *bm;

	if (f == NULL)
		f = rec;
	rep = json_object_get(f, "report");
	bm = json_object_get(f, "block_map");
	return json_is_string(json_object_get(rep, "sha256")) &&
		strcmp(json_string_value(json_object_get(rep, "sha256")),
		       report_sha) == 0 &&
		json_is_string(json_object_get(bm, "root")) &&
		strcmp(json_string_value(json_object_get(bm, "root")), root)
			== 0;
}

/* Nothing in the payload but what the description accounts for. */
static custos_status check_only(vctx *v, const char *const *known,
		size_t nknown)
{
	DIR *d = opendir(v->dir);
	struct dirent *e;
	custos_status st = CUSTOS_OK;

	if (d == NULL)
		return custos__error_errno(v->err, errno, "%s", v->dir);
	while (st == CUSTOS_OK && (e = readdir(d)) != NULL) {
		int ok = strcmp(e->d_name, ".") == 0 ||
			strcmp(e->d_name, "..") == 0;
		uint64_t idx;
		char tail;

		for (size_t i = 0; !ok && i < nknown; i++)
			ok = known[i] != NULL && strcmp(known[i], e->d_name) == 0;
		if (!ok && sscanf(e->d_name, "block-%12" SCNu64 ".bi%c", &idx,
				&tail) == 2 && find_block(v, idx) != NULL &&
		    strcmp(find_block(v, idx)->file, e->d_name) == 0)
			ok = 1;
		if (!ok)
			st = fail("%s is in the package but disclosure.json does "
				"not account for it", e->d_name);
	}
	closedir(d);
	for (size_t i = 0; st == CUSTOS_OK && i < v->block_count; i++)
		if (!v->blocks[i].used)
			st = fail("block %llu (bytes %llu-%llu) is in the package "
				"but no requested file or range needs it",
				(unsigned long long)v->blocks[i].index,
				(unsigned long long)v->blocks[i].offset,
				(unsigned long long)(v->blocks[i].offset +
					v->blocks[i].length - 1));
	return st;
}

custos_status custos_disclose_verify(const char *package,
		const custos_disclose_verify_options *o,
		custos_disclose_verify_result *r, custos_error *err)
{
	custos_disclose_verify_options dflt;
	custos_disclose_verify_result local;
	custos_blockmap_claim claim;
	unsigned char *desc = NULL, *report = NULL, *rec = NULL;
	size_t desc_len = 0, report_len = 0, rec_len = 0;
	json_t *root = NULL, *jr, *jbm, *jrec, *records = NULL;
	const char *report_name, *report_want, *sig_name = NULL;
	const char *rec_name = NULL, **known = NULL;
	char report_sha[65], rec_sha[65], *dir = NULL, *bagit = NULL;
	size_t nknown = 0;
	int is_bag;
	json_error_t je;
	custos_status st = CUSTOS_OK;
	const char *part = "report";
	vctx vv, *v = &vv;

	if (o == NULL) {
		custos_disclose_verify_options_init(&dflt);
		o = &dflt;
	}
	if (r == NULL)
		r = &local;
	memset(r, 0, sizeof(*r));
	r->custody_record_ok = -1;
	memset(v, 0, sizeof(*v));
	v->err = err;
	if (package == NULL || o->version != CUSTOS_DISCLOSE_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL, "bad arguments");
	bagit = custos__aprintf("%s/bagit.txt", package);
	is_bag = bagit != NULL && custos__path_exists(bagit);
	free(bagit);
	dir = is_bag ? custos__aprintf("%s/data", package) : strdup(package);
	if (dir == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	v->dir = dir;
	st = sha256_file(v, "disclosure.json", DESCRIPTION_MAX, &desc,
		&desc_len, rec_sha);
	if (st == CUSTOS_EMISMATCH)
		st = custos__error_set(err, CUSTOS_EFORMAT, "%s holds no "
			"disclosure.json: not a disclosure package", package);
	if (st != CUSTOS_OK)
		goto done;
	root = json_loadb((const char *)desc, desc_len,
		JSON_REJECT_DUPLICATES, &je);
	jr = json_object_get(root, "report");
	jbm = json_object_get(root, "block_map");
	jrec = json_object_get(root, "custody_record");
	v->items = json_object_get(root, "items");
	report_name = json_string_value(json_object_get(jr, "file"));
	report_want = json_string_value(json_object_get(jr, "sha256"));
	if (json_is_string(json_object_get(jr, "signature")))
		sig_name = json_string_value(json_object_get(jr, "signature"));
	if (json_is_object(jrec))
		rec_name = json_string_value(json_object_get(jrec, "file"));
	if (!json_is_object(root) || json_integer_value(json_object_get(root,
			"custos_disclosure")) != CUSTOS_DISCLOSE_FORMAT ||
	    !plain_name(report_name) || report_want == NULL ||
	    (sig_name != NULL && !plain_name(sig_name)) ||
	    (jrec != NULL && !json_is_null(jrec) && !plain_name(rec_name)) ||
	    !json_is_object(jbm) || !json_is_array(v->items) ||
	    json_array_size(v->items) > CUSTOS_DISCLOSE_MAX_ITEMS) {
		st = custos__error_set(err, CUSTOS_EFORMAT, "disclosure.json "
			"is malformed or of an unknown version");
		goto done;
	}
	/* The report: its bytes, its signature, its root. */
	st = sha256_file(v, report_name, REPORT_MAX, &report, &report_len,
		report_sha);
	if (st == CUSTOS_OK && strcmp(report_sha, report_want) != 0)
		st = fail("%s differs from the report the package names",
			report_name);
	if (st == CUSTOS_OK)
		st = custos_blockmap_claim_parse(&claim, (const char *)report,
			report_len, err);
	if (st == CUSTOS_ENOTFOUND)
		st = fail("the report carries no block map root");
	if (st != CUSTOS_OK)
		goto done;
	memcpy(r->root, claim.root, sizeof(r->root));
	{
		const char *pr = json_string_value(json_object_get(jbm, "root"));
		uint64_t bs = 0, lc = 0, ms = 0;

		if (pr == NULL || get_u64(jbm, "block_size_bytes", &bs) != 0 ||
		    get_u64(jbm, "leaf_count", &lc) != 0 ||
		    get_u64(jbm, "media_size_bytes", &ms) != 0) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"disclosure.json: block_map is malformed");
			goto done;
		}
		if (strcmp(pr, claim.root) != 0 || bs != claim.block_size ||
		    lc != claim.leaf_count || ms != claim.media_size) {
			st = fail("the package's block map root %s differs from "
				"the signed report's %s", pr, claim.root);
			goto done;
		}
	}
	part = "signature";
	if (sig_name != NULL) {
		custos_sign_verify_options so;
		custos_sign_verification *sv = NULL;
		char *rp = custos__aprintf("%s/%s", dir, report_name);
		char *sp = custos__aprintf("%s/%s", dir, sig_name);

		custos_sign_verify_options_init(&so);
		so.trust = o->trust;
		so.trust_count = o->trust_count;
		so.signature_path = sp;
		st = rp && sp ? custos_sign_verify_file(&sv, rp, &so, err)
			: CUSTOS_ENOMEM;
		if (st == CUSTOS_EMISMATCH && sv != NULL)
			st = fail("the report's signature does not hold: %s",
				custos_sign_verification_message(sv));
		r->signature_ok = st == CUSTOS_OK;
		custos_sign_verification_free(sv);
		free(rp);
		free(sp);
		if (st != CUSTOS_OK)
			goto done;
	} else if (!o->allow_unsigned) {
		st = fail("the report is not signed: the root is not proven");
		goto done;
	}
	part = "custody";
	if (rec_name != NULL) {
		const char *want = json_string_value(json_object_get(jrec,
			"sha256"));

		st = sha256_file(v, rec_name, REPORT_MAX, &rec, &rec_len,
			rec_sha);
		if (st == CUSTOS_OK && (want == NULL || strcmp(want, rec_sha)))
			st = fail("%s differs from the record the package "
				"names", rec_name);
		if (st != CUSTOS_OK)
			goto done;
		records = json_loadb((const char *)rec, rec_len, 0, &je);
		r->custody_record_ok = record_names(records, report_sha,
			claim.root);
		if (!r->custody_record_ok) {
			st = fail("the custody record %s does not name this "
				"report and its root", rec_name);
			goto done;
		}
	}
	v->bs = claim.block_size;
	part = "blocks";
	st = check_blocks(v, json_object_get(root, "blocks"), &claim, r);
	known = calloc(json_array_size(v->items) + 4, sizeof(*known));
	if (st == CUSTOS_OK && known == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	if (known != NULL) {
		known[nknown++] = "disclosure.json";
		known[nknown++] = report_name;
		known[nknown++] = sig_name;
		known[nknown++] = rec_name;
	}
	if (st == CUSTOS_OK)
		part = "files";
	for (size_t i = 0; st == CUSTOS_OK && i < json_array_size(v->items);
	     i++)
		st = check_item(v, json_array_get(v->items, i), i, &claim,
			&known[nknown++], r);
	if (st == CUSTOS_OK) {
		part = "extra";
		st = check_only(v, known, nknown);
	}
	if (st == CUSTOS_OK && is_bag) {
		part = "bag";
		st = custos_bundle_verify(NULL, package, NULL, err);
		r->bag_checked = st == CUSTOS_OK;
	}
done:
	if (st != CUSTOS_OK)
		snprintf(r->failed_part, sizeof(r->failed_part), "%s", part);
	json_decref(root);
	json_decref(records);
	free(known);
	free(v->blocks);
	free(desc);
	free(report);
	free(rec);
	free(dir);
	return st;
}
