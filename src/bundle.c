/*
 * The bundle workflows, tying the formats together.  create: check the
 * request and the item names before anything is written, then stream
 * libarchive -> age writer -> parts in one pass (payload hashed while
 * written, tag files last), sign the tag manifest, and write the signed
 * transfer manifest, all inside a private staging folder whose files are
 * committed at the end, all or nothing, never over anything.  With a
 * custody log, the items' records are exported first (before anything is
 * written) and carried as metadata/custody.jsonl.  verify: a
 * transfer manifest (signature, parts, then decryption and the tar, never
 * extracted), a bag folder or a bag as a tar, then every bag check.
 * open: verify, then the same again while extracting into a new folder
 * through its descriptor.  Each runs with a UTF-8 LC_CTYPE for libarchive
 * and tidies its error message before returning it.
 * The formats live in bag.c, tarstream.c, transfer.c and request.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "custos/age.h"
#include "custos/bundle.h"
#include "custos/custody_export.h"
#include "custos/sign.h"
#include "custos/version.h"
#include "bag_private.h"
#include "bundle_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "tarstream_private.h"
#include "transfer_private.h"
#include "util_private.h"

/* ------------------------------------------------------------------ */
/* Creating a bundle. */

void custos_bundle_create_options_init(custos_bundle_create_options *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_BUNDLE_CREATE_OPTIONS_VERSION;
}

/* A payload name must be UTF-8 (the tag files are), printable, without
 * '/', '%' (BagIt would have to encode it) or a backslash (sha256sum -c
 * would read it as an escape). */
static int payload_name_ok(const char *name)
{
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == '%' || *p == '/' ||
		    *p == 0x7f || *p == '\\')
			return 0;
	return custos__utf8_valid(name, strlen(name));
}

/* The output prefix makes the part names in the transfer manifest: the
 * same rules as a payload name.  Then none of the final names may exist
 * yet, so a second run with the same -o stops here, before any work (the
 * commit at the end refuses to replace anything in any case). */
static custos_status output_names_free(const char *output, custos_error *err)
{
	static const char *const suffixes[] = {".tar.age.000",
		".transfer-manifest.txt", ".transfer-manifest.txt.p7s"};

	if (!payload_name_ok(custos__basename(output)))
		return custos__error_set(err, CUSTOS_EINVAL,
			"-o: unusable name (CR, LF, %%, backslash, a control "
			"character, or not UTF-8)");
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *n = custos__aprintf("%s%s", output, suffixes[i]);
		int exists = n == NULL || custos__path_exists(n);
		custos_status st = n == NULL ?
			custos__error_set(err, CUSTOS_ENOMEM, "out of memory") :
			custos__error_set(err, CUSTOS_EEXIST,
				"%s exists; nothing is overwritten", n);
		free(n);
		if (exists)
			return st;
	}
	return CUSTOS_OK;
}

/* One payload item for metadata/evidence.json, with the warrant (and
 * anything else) the request's "items" entry for the same file gives. */
static void evidence_item(json_t *list, json_t *req, const char *rel,
		uint64_t size, const char *s256, const char *s512)
{
	json_t *items = json_object_get(req, "items"), *it, *from = NULL;
	size_t i;

	if (list == NULL)
		return;
	json_array_foreach(items, i, it) {
		const char *f = custos__request_str(it, "file");
		if (f != NULL && strcmp(f, rel + 5) == 0)
			from = it;
	}
	it = json_pack("{s:s, s:I, s:s, s:s}", "path", rel, "size",
		(json_int_t)size, "sha256", s256, "sha512", s512);
	if (it == NULL)
		return;
	if (json_is_object(from)) {
		const char *k;
		json_t *v;
		json_object_foreach(from, k, v)
			if (json_object_get(it, k) == NULL && strcmp(k, "file") != 0)
				json_object_set(it, k, v);
	}
	json_array_append_new(list, it);
}

static void make_bundle_id(char id[CUSTOS_BUNDLE_ID_MAX], time_t now)
{
	unsigned char r[4] = {0};
	char h[9];
	struct tm tm;

	RAND_bytes(r, sizeof(r));
	custos__hex_into(h, r, 4);
	gmtime_r(&now, &tm);
	snprintf(id, CUSTOS_BUNDLE_ID_MAX, "bundle-");
	strftime(id + 7, CUSTOS_BUNDLE_ID_MAX - 7, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(id + strlen(id), CUSTOS_BUNDLE_ID_MAX - strlen(id), "-%s", h);
}

/* The tar writer's sink: the age writer. */
static custos_status age_sink(void *ctx, const void *data, size_t len,
		custos_error *err)
{
	return custos_age_writer_write(ctx, data, len, err);
}

/* bag-info.txt: the BagIt fields, then what the request says. */
static void bag_info(custos__sbuf *info, json_t *req, const char *id,
		const char *date, const char *rc, uint64_t oxum_bytes,
		size_t item_count)
{
	json_t *ins = json_object_get(req, "instrument");
	json_t *ra = json_object_get(req, "requesting_authority");
	json_t *rd = json_object_get(req, "requested_authority");
	json_t *refs = json_object_get(req, "references");
	const char *article = custos__request_str(ins, "article");
	char line[600];

	custos__sb_printf(info, "Bag-Software-Agent: custos-bundle %s\n",
		custos_version());
	custos__sb_printf(info, "Bagging-Date: %s\n", date);
	custos__sb_printf(info, "Payload-Oxum: %llu.%zu\n",
		(unsigned long long)oxum_bytes, item_count);
	custos__sb_tag_line(info, "External-Identifier", id);
	custos__sb_tag_line(info, "Source-Organization",
		custos__request_str(rd, "name"));
	custos__sb_tag_line(info, "Custos-Bundle-Id", id);
	custos__sb_tag_line(info, "Custos-Bagging-Time", rc);
	snprintf(line, sizeof(line), "%s%s%s", custos__request_str(ins, "name"),
		article ? " art. " : "", article ? article : "");
	custos__sb_tag_line(info, "Custos-Instrument", line);
	custos__sb_tag_line(info, "Custos-Measure",
		custos__request_str(req, "measure"));
	snprintf(line, sizeof(line), "%s (%s)",
		custos__request_str(ra, "name"),
		custos__request_str(ra, "country"));
	custos__sb_tag_line(info, "Custos-Requesting-Authority", line);
	snprintf(line, sizeof(line), "%s (%s)",
		custos__request_str(rd, "name"),
		custos__request_str(rd, "country"));
	custos__sb_tag_line(info, "Custos-Requested-Authority", line);
	custos__sb_tag_line(info, "Custos-Request-Reference",
		custos__request_str(refs, "request"));
	custos__sb_tag_line(info, "Custos-Case-Reference",
		custos__request_str(refs, "case"));
}

static custos_status bundle_create(char bundle_id[CUSTOS_BUNDLE_ID_MAX],
		const custos_bundle_create_options *o, custos_error *err)
{
	custos__tar_writer w;
	custos__parts p;
	unsigned char *request = NULL, *p7s = NULL;
	size_t request_len = 0, p7s_len = 0;
	json_t *req = NULL;
	custos__sbuf m256 = {0}, m512 = {0}, info = {0};
	custos_age_writer *age = NULL;
	custos__transfer_info tinfo;
	json_t *refs;
	uint64_t oxum_bytes = 0;
	char id[CUSTOS_BUNDLE_ID_MAX], *p7s_path = NULL;
	custos__staged stage;
	char rc[CUSTOS__RFC3339_MAX];
	custos_status st = CUSTOS_OK;
	struct tm now_tm;
	char date[16];
	json_t *evidence = NULL;
	char *evidence_text = NULL, *custody = NULL;
	size_t custody_len = 0;

	memset(&w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	memset(&stage, 0, sizeof(stage));
	p.fd = -1;
	if (bundle_id == NULL || o == NULL || o->request_path == NULL ||
	    o->sign == NULL || o->output == NULL || o->recipient_count == 0 ||
	    (o->item_count > 0 && o->items == NULL))
		return custos__error_set(err, CUSTOS_EINVAL,
			"bundle: request, signer, recipients and output are required");
	if (o->version >= 2 && o->custody_log != NULL &&
	    (o->custody_item_count == 0 || o->custody_items == NULL))
		return custos__error_set(err, CUSTOS_EINVAL,
			"bundle: a custody log needs the evidence item IDs");
	/* The output names, the request, then the items, before anything
	 * is written. */
	if ((st = output_names_free(o->output, err)) != CUSTOS_OK)
		return st;
	st = custos__read_file_max(o->request_path, CUSTOS_BUNDLE_REQUEST_MAX,
		&request, &request_len, "request", err);
	if (st == CUSTOS_ENOMEM && request == NULL)
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"request %s: larger than %d bytes", o->request_path,
			CUSTOS_BUNDLE_REQUEST_MAX);
	if (st != CUSTOS_OK)
		return st;
	st = custos__request_parse(&req, (const char *)request, request_len, err);
	if (st != CUSTOS_OK)
		goto out;
	for (size_t i = 0; i < o->item_count; i++) {
		const char *b = custos__basename(o->items[i]);
		if (!payload_name_ok(b)) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"item %zu: unusable file name (CR, LF, %%, "
				"backslash, a control character, or not UTF-8)",
				i + 1);
			goto out;
		}
		/* A FIFO, device or socket is refused before anything is
		 * written (and again when the item is opened). */
		if ((st = custos__check_regular(o->items[i], "item", err)) !=
				CUSTOS_OK)
			goto out;
		if (!custos__path_exists(o->items[i])) {
			st = custos__error_set(err, CUSTOS_ENOTFOUND,
				"item %zu: no such file", i + 1);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(b, custos__basename(o->items[j])) == 0) {
				st = custos__error_set(err, CUSTOS_EINVAL,
					"two items are named '%s'", b);
				goto out;
			}
	}
	for (size_t i = 0; i < o->recipient_count; i++)
		if ((st = custos_age_recipient_check(o->recipients[i], err)) !=
				CUSTOS_OK)
			goto out;
	/* The custody export too: a bag that should carry the history but
	 * cannot (no checkpoint covers the items yet) is not made. */
	if (o->version >= 2 && o->custody_log != NULL &&
	    (st = custos_custody_export(&custody, &custody_len,
			o->custody_log, o->custody_items,
			o->custody_item_count, err)) != CUSTOS_OK) {
		char why[CUSTOS_ERROR_MESSAGE_MAX];

		/* A malformed log is a log that does not verify, not a bad
		 * request (which EFORMAT means to the caller). */
		snprintf(why, sizeof(why), "%s", err ? err->message : "");
		st = custos__error_set(err, st == CUSTOS_EFORMAT ?
			CUSTOS_EMISMATCH : st, "custody export, no bundle "
			"written: %.400s", why);
		goto out;
	}
	evidence = json_array();
	w.now = time(NULL);
	w.err = err;
	make_bundle_id(id, w.now);
	m256.max = m512.max = info.max = MANIFEST_MAX;
	w.tagmanifest.max = MANIFEST_MAX;

	/* Everything is made in a private folder beside the output and
	 * reaches its final name only at the end, all or nothing. */
	if ((st = custos__staged_open(&stage, o->output, err)) != CUSTOS_OK)
		goto out;
	p.final_base = o->output;
	p.stage = &stage;
	p.split = o->split_size;
	p.md = EVP_MD_CTX_new();
	if (p.md == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	st = custos__parts_open_next(&p, err);
	if (st != CUSTOS_OK)
		goto out;
	st = custos_age_writer_new(&age, o->recipients, o->recipient_count,
		custos__parts_sink, &p, err);
	if (st != CUSTOS_OK ||
	    (st = custos__tar_writer_open(&w, age_sink, age)) != CUSTOS_OK)
		goto out;
	{
		static const char bagit[] =
			"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
		st = custos__tar_add_tag(&w, id, "bagit.txt", bagit, strlen(bagit), 1);
		if (st != CUSTOS_OK)
			goto out;
	}
	/* Payload, hashed while written. */
	for (size_t i = 0; i < o->item_count; i++) {
		char s256[65], s512[129], *rel;
		uint64_t size = 0;

		rel = custos__aprintf("data/%s", custos__basename(o->items[i]));
		if (rel == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			goto out;
		}
		st = custos__tar_add_payload(&w, id, o->items[i], rel, s256, s512,
			&size);
		if (st == CUSTOS_OK) {
			custos__sb_printf(&m256, "%s  %s\n", s256, rel);
			custos__sb_printf(&m512, "%s  %s\n", s512, rel);
			oxum_bytes += size;
			evidence_item(evidence, req, rel, size, s256, s512);
		}
		free(rel);
		if (st != CUSTOS_OK)
			goto out;
	}
	/* Tag files last. */
	refs = json_object_get(req, "references");
	gmtime_r(&w.now, &now_tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &now_tm);
	custos__time_rfc3339(rc, w.now);
	bag_info(&info, req, id, date, rc, oxum_bytes, o->item_count);
	if (m256.failed || m512.failed || info.failed) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "manifests too large");
		goto out;
	}
	if ((st = custos__tar_add_tag(&w, id, "manifest-sha512.txt",
			m512.data ? m512.data : "", m512.len, 1)) != CUSTOS_OK ||
	    (st = custos__tar_add_tag(&w, id, "manifest-sha256.txt",
			m256.data ? m256.data : "", m256.len, 1)) != CUSTOS_OK ||
	    (st = custos__tar_add_tag(&w, id, "bag-info.txt", info.data,
			info.len, 1)) != CUSTOS_OK ||
	    (st = custos__tar_add_tag(&w, id, "metadata/request.json", request,
			request_len, 1)) != CUSTOS_OK ||
	    (custody != NULL && (st = custos__tar_add_tag(&w, id,
			"metadata/custody.jsonl", custody, custody_len, 1)) !=
			CUSTOS_OK))
		goto out;
	{
		json_t *ev = json_pack("{s:i, s:s, s:O}", "custos_evidence_version",
			1, "bundle_id", id, "items", evidence);
		evidence_text = ev ? json_dumps(ev, JSON_INDENT(2) |
			JSON_PRESERVE_ORDER) : NULL;
		json_decref(ev);
		if (evidence_text == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
			goto out;
		}
		if ((st = custos__tar_add_tag(&w, id, "metadata/evidence.json",
				evidence_text, strlen(evidence_text), 1)) !=
				CUSTOS_OK)
			goto out;
	}
	if (w.tagmanifest.failed) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "tag manifest too large");
		goto out;
	}
	if ((st = custos__tar_add_tag(&w, id, "tagmanifest-sha512.txt",
			w.tagmanifest.data, w.tagmanifest.len, 0)) != CUSTOS_OK)
		goto out;
	/* The sending authority signs the tag manifest (detached CAdES). */
	p7s_path = custos__aprintf("%s/tagmanifest-sha512.txt.p7s", stage.dir);
	if (p7s_path == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if ((st = custos_sign_buffer_to(w.tagmanifest.data, w.tagmanifest.len,
			p7s_path, o->sign, err)) != CUSTOS_OK ||
	    (st = custos__read_file_max(p7s_path, P7S_MAX, &p7s, &p7s_len,
			"signature", err)) !=
			CUSTOS_OK ||
	    (st = custos__tar_add_tag(&w, id,
			"signature/tagmanifest-sha512.txt.p7s", p7s, p7s_len,
			0)) != CUSTOS_OK)
		goto out;
	if ((st = custos__tar_writer_close(&w)) != CUSTOS_OK ||
	    (st = custos_age_writer_finish(age, err)) != CUSTOS_OK ||
	    (st = custos__parts_close(&p, err)) != CUSTOS_OK)
		goto out;
	/* The cleartext transfer manifest, signed. */
	tinfo.bundle_id = id;
	tinfo.created = rc;
	tinfo.request_reference = custos__request_str(refs, "request");
	tinfo.case_reference = custos__request_str(refs, "case");
	tinfo.recipients = o->recipients;
	tinfo.recipient_count = o->recipient_count;
	if ((st = custos__transfer_manifest_write(&stage, o->output, &tinfo,
			&p, o->sign, err)) != CUSTOS_OK)
		goto out;
	/* Parts, the signature, then the manifest: all or nothing. */
	if ((st = custos__staged_commit(&stage, err)) != CUSTOS_OK)
		goto out;
	snprintf(bundle_id, CUSTOS_BUNDLE_ID_MAX, "%s", id);
out:
	custos__tar_writer_free(&w);
	custos_age_writer_free(age);
	custos__parts_free(&p);
	if (p7s_path != NULL)
		unlink(p7s_path); /* scratch, in the private folder */
	custos__staged_discard(&stage);
	custos__staged_free(&stage);
	free(p7s_path);
	free(p7s);
	free(request);
	free(m256.data);
	free(m512.data);
	free(info.data);
	free(evidence_text);
	free(custody);
	json_decref(evidence);
	json_decref(req);
	return st;
}

custos_status custos_bundle_create(char bundle_id[CUSTOS_BUNDLE_ID_MAX],
		const custos_bundle_create_options *o, custos_error *err)
{
	locale_t old, l = custos__utf8_locale_enter(&old);
	custos_status st = bundle_create(bundle_id, o, err);

	custos__utf8_locale_leave(l, old);
	if (st != CUSTOS_OK)
		custos__error_tidy(err);
	return st;
}

/* ------------------------------------------------------------------ */
/* Verifying and opening. */

void custos_bundle_verify_options_init(custos_bundle_verify_options *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_BUNDLE_VERIFY_OPTIONS_VERSION;
}

/* The age reader as a custos__read_fn. */
static custos_status age_read(void *ctx, void *buf, size_t cap, size_t *got,
		custos_error *err)
{
	return custos_age_reader_read(ctx, buf, cap, got, err);
}

static custos_status verify_encrypted(custos__bag *b,
		custos_bundle_summary *sum, const char *path,
		const custos_bundle_verify_options *o)
{
	custos__transfer t;
	custos__parts_in pin;
	custos_age_reader *r = NULL;
	custos_status st;
	int not_tar = 0;

	memset(&t, 0, sizeof(t));
	memset(&pin, 0, sizeof(pin));
	pin.fd = -1;
	if (o->identity_count == 0)
		return custos__error_set(b->err, CUSTOS_EINVAL,
			"an encrypted bundle needs an identity (-i)");
	st = custos__transfer_open(&t, b, sum->transfer_manifest_sha256, path,
		o->trust, o->trust_count);
	if (st != CUSTOS_OK)
		goto out;
	sum->encrypted = 1;
	sum->part_count = (unsigned int)t.n;
	snprintf(sum->bundle_id, sizeof(sum->bundle_id), "%s", t.bundle_id);
	if ((st = custos__transfer_check_parts(b, &t)) != CUSTOS_OK)
		goto out;
	/* Pass 2: decrypt and read the tar, without extracting. */
	pin.t = &t;
	pin.i = 0;
	st = custos_age_reader_new(&r, o->identities, o->identity_count,
		custos__parts_source, &pin, b->err);
	if (st != CUSTOS_OK)
		goto out;
	b->from_tar = 1;
	b->payload_algs = (1u << ALG_SHA256) | (1u << ALG_SHA512);
	st = custos__tar_read_stream(b, age_read, r, &not_tar);
	if (not_tar)
		st = custos__error_set(b->err, CUSTOS_EFORMAT,
			"decrypted stream is not a tar");
	if (st != CUSTOS_OK)
		goto out;
	/* Drain: only a complete age stream (final chunk) authenticates. */
	for (;;) {
		size_t got = 0;
		st = custos_age_reader_read(r, b->buf, IO_BLOCK, &got, b->err);
		if (st != CUSTOS_OK || got == 0)
			break;
	}
	if (st != CUSTOS_OK)
		goto out;
	if (b->root == NULL || strcmp(b->root, t.bundle_id) != 0) {
		st = custos__error_set(b->err, CUSTOS_EMISMATCH,
			"the bag folder is not the bundle id of the transfer "
			"manifest");
		goto out;
	}
	st = custos__bag_check(b, 1, o->trust, o->trust_count);
out:
	custos_age_reader_free(r);
	if (pin.fd >= 0)
		close(pin.fd);
	EVP_MD_CTX_free(pin.md);
	custos__transfer_free(&t);
	return st;
}

/* A plain bag as a tar, or a transfer manifest, open on fd. */
static custos_status verify_file(custos__bag *b, custos_bundle_summary *sum,
		const char *path, int fd, const custos_bundle_verify_options *o)
{
	char head[32] = {0};
	ssize_t n;
	int not_tar = 0;
	custos_status st;

	do
		n = pread(fd, head, sizeof(head) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return custos__error_errno(b->err, errno, "%s", path);
	if (n >= 27 && memcmp(head, "Custos-Transfer-Manifest: ", 26) == 0)
		return verify_encrypted(b, sum, path, o);
	b->from_tar = 1;
	b->payload_algs = ALL_ALGS;
	st = custos__tar_read_fd(b, fd, &not_tar);
	if (not_tar)
		return custos__error_set(b->err, CUSTOS_EFORMAT,
			"%s: not a tar, bag folder or transfer manifest", path);
	if (st == CUSTOS_OK)
		st = custos__bag_check(b, 0, o->trust, o->trust_count);
	return st;
}

static custos_status bundle_run(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		const char *extract_dir, int extract_fd, custos_error *err)
{
	custos_bundle_summary local;
	custos_bundle_verify_options dflt;
	custos__bag b;
	struct stat sb;
	custos_status st;
	int fd = -1;

	if (summary == NULL)
		summary = &local;
	memset(summary, 0, sizeof(*summary));
	if (o == NULL) {
		custos_bundle_verify_options_init(&dflt);
		o = &dflt;
	}
	if (path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no bundle given");
	if (stat(path, &sb) != 0)
		return custos__error_errno(err, errno, "%s", path);
	if (extract_dir != NULL && S_ISDIR(sb.st_mode))
		return custos__error_set(err, CUSTOS_EINVAL,
			"%s is a folder already; nothing to open", path);
	/* A FIFO, device or socket is refused before any read. */
	if (!S_ISDIR(sb.st_mode) &&
	    (st = custos__open_regular(&fd, path, "bundle", err)) != CUSTOS_OK)
		return st;
	memset(&b, 0, sizeof(b));
	b.err = err;
	b.extracting = extract_dir != NULL;
	b.extract_fd = extract_fd;
	b.extract_dir = extract_dir;
	b.buf = malloc(IO_BLOCK);
	b.buf2 = malloc(IO_BLOCK);
	if (b.buf == NULL || b.buf2 == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	} else if (S_ISDIR(sb.st_mode)) {
		b.payload_algs = ALL_ALGS;
		st = custos__bag_from_dir(&b, path, "", 0);
		if (st == CUSTOS_OK)
			st = custos__bag_check(&b, 0, o->trust, o->trust_count);
		custos__clean_text(summary->bundle_id, sizeof(summary->bundle_id),
			custos__basename(path));
	} else {
		st = verify_file(&b, summary, path, fd, o);
		if (b.root != NULL && !summary->encrypted)
			custos__clean_text(summary->bundle_id,
				sizeof(summary->bundle_id), b.root);
	}
	if (fd >= 0)
		close(fd);
	summary->payload_bytes = b.payload_bytes;
	summary->payload_files = b.payload_files;
	memcpy(summary->tagmanifest_sha512, b.tagmanifest_sha512,
		sizeof(summary->tagmanifest_sha512));
	memcpy(summary->request_reference, b.request_reference,
		sizeof(summary->request_reference));
	summary->tagmanifest_signed = st == CUSTOS_OK &&
		custos__bag_find(&b, "signature/tagmanifest-sha512.txt.p7s") != NULL;
	custos__bag_free(&b);
	return st;
}

custos_status custos_bundle_verify(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		custos_error *err)
{
	locale_t old, l = custos__utf8_locale_enter(&old);
	custos_status st = bundle_run(summary, path, o, NULL, -1, err);

	custos__utf8_locale_leave(l, old);
	if (st != CUSTOS_OK)
		custos__error_tidy(err);
	return st;
}

static custos_status bundle_open(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		const char *dest, custos_error *err)
{
	custos_status st;
	int fd;

	if (dest == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no folder to open into");
	if (custos__path_exists(dest))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s exists; open extracts into a new folder", dest);
	/* Pass 1: verify everything without writing a byte. */
	st = bundle_run(summary, path, o, NULL, -1, err);
	if (st != CUSTOS_OK)
		return st;
	/* mkdir refuses anything already there, a symlink included; the
	 * folder is then only ever used through its descriptor. */
	if (mkdir(dest, 0700) != 0)
		return errno == EEXIST ?
			custos__error_set(err, CUSTOS_EEXIST,
				"%s exists; open extracts into a new folder", dest) :
			custos__error_errno(err, errno, "%s", dest);
	fd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return custos__error_errno(err, errno,
			"%s: the new folder was replaced", dest);
	/* Pass 2: extract, checking everything again (the parts could have
	 * changed in between). */
	st = bundle_run(summary, path, o, dest, fd, err);
	close(fd);
	if (st == CUSTOS_OK)
		return CUSTOS_OK;
	{
		char why[CUSTOS_ERROR_MESSAGE_MAX];
		char *bad = custos__aprintf("%s.UNVERIFIED", dest);
		custos_error ignored;

		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "?");
		/* Moved aside, never over anything already there. */
		if (bad != NULL && custos__commit_noreplace(dest, bad,
				&ignored) == CUSTOS_OK)
			custos__error_set(err, st, "failed during extraction "
				"(%s); the files were moved to %s and must not be "
				"relied on", why, bad);
		else
			custos__error_set(err, st, "failed during extraction "
				"(%s); the files in %s must not be relied on", why,
				dest);
		free(bad);
	}
	return st;
}

custos_status custos_bundle_open(custos_bundle_summary *summary,
		const char *path, const custos_bundle_verify_options *o,
		const char *dest, custos_error *err)
{
	locale_t old, l = custos__utf8_locale_enter(&old);
	custos_status st = bundle_open(summary, path, o, dest, err);

	custos__utf8_locale_leave(l, old);
	if (st != CUSTOS_OK)
		custos__error_tidy(err);
	return st;
}
