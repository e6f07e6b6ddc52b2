/*
 * custos-hash: hash the media inside raw, split raw or E01 images, and
 * check an E01's own chunk checksums and stored hashes.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "progress.h"

#define TOOL "custos-hash"

enum { OPT_PROGRESS = 256, OPT_JSON, OPT_WORKERS, OPT_FORMAT, OPT_BLOCKMAP,
	OPT_REPORT, OPT_NO_BLOCKMAP };

static const cli_option options[] = {
	{{"hash", required_argument, NULL, 'H'}, "LIST",
	 "hashes: md5,sha1,sha256,sha512 (default md5,sha1,sha256)"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 "print the result as JSON"},
	{{"progress", optional_argument, NULL, OPT_PROGRESS}, "MODE",
	 "progress on stderr: auto, tty, json, none (default auto)"},
	{{"format", required_argument, NULL, OPT_FORMAT}, "KIND",
	 "auto (default), raw, or e01"},
	{{"workers", required_argument, NULL, OPT_WORKERS}, "N",
	 "E01 inflate threads (default: one per core)"},
	{{"blockmap", required_argument, NULL, OPT_BLOCKMAP}, "FILE",
	 "check every block against FILE (default: BASE.blockmap beside it)"},
	{{"report", required_argument, NULL, OPT_REPORT}, "FILE",
	 "the acquisition report whose root the map must carry "
	 "(default: BASE.report.json)"},
	{{"no-blockmap", no_argument, NULL, OPT_NO_BLOCKMAP}, NULL,
	 "ignore a block map: hash the whole stream only"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "no progress"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
	{{"version", no_argument, NULL, 'V'}, NULL, "show versions"},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static const char epilogue[] =
	"IMAGE is a raw image, the first file of a split raw image (X.001:\n"
	"the others are found), several raw files in order, or the first\n"
	"segment of an E01 (X.E01: the others are found).\n"
	"\n"
	"A damaged E01 is never hashed as raw media: a file whose EVF\n"
	"signature is broken or truncated, or with an EWF segment name (.E01,\n"
	".Ex01, .s01, .L01 ...) but no signature, is reported as damaged\n"
	"(exit 1) unless --format raw asks for its bytes as raw.\n"
	"\n"
	"With a block map (BASE.blockmap beside the image, or --blockmap),\n"
	"every block is hashed on all cores and compared with the map, the\n"
	"map's root with the report's (BASE.report.json, or --report), and\n"
	"damage is given as byte ranges and the files it touches; MD5, SHA-1\n"
	"... are computed in the same pass only when -H asks for them.\n"
	"\n"
	"Exit status: 0 read in full and every check passed; 1 a damaged or\n"
	"truncated E01, a corrupt chunk, a stored hash that differs, a damaged\n"
	"block or a map that differs from its report; 2 usage\n"
	"error; 3 failure (missing or unreadable file).\n";

static volatile sig_atomic_t cancel_requested;

static void on_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

/* Usage errors name the tool and point to --help. */
#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

static const char *match_word(int m, const char *stored)
{
	if (m == 1)
		return "matches";
	if (m == 0)
		return "DIFFERS";
	return stored == NULL ? "none stored" : "not checked: add -H sha1";
}

static void print_text(custos_image *img, custos_digest_set set,
		const custos_image_hash_result *res, custos_status st)
{
	int e01 = custos_image_get_format(img) == CUSTOS_FORMAT_E01;

	printf("format: %s\n", e01 ? "e01" : "raw");
	for (size_t i = 0; i < custos_image_file_count(img); i++) {
		printf("file: ");
		cli_fputs_safe(custos_image_file(img, i), stdout);
		printf("\n");
	}
	printf("size: %llu\n",
		(unsigned long long)custos_image_media_size(img));
	if (st == CUSTOS_OK || res->stored_md5_match == 0 ||
	    res->stored_sha1_match == 0)
		for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
			if ((set & CUSTOS_DIGEST_BIT(alg)) && res->digest[alg][0])
				printf("%s: %s\n", custos_digest_name(
					(custos_digest_alg)alg), res->digest[alg]);
	if (e01) {
		const char *md5 = custos_image_stored_digest(img,
			CUSTOS_DIGEST_MD5);
		const char *sha1 = custos_image_stored_digest(img,
			CUSTOS_DIGEST_SHA1);

		printf("chunks checked: %llu\n",
			(unsigned long long)res->chunks_checked);
		if (res->corrupt)
			printf("corrupt chunk: %llu at offset %llu\n",
				(unsigned long long)res->corrupt_chunk,
				(unsigned long long)res->corrupt_offset);
		if (st == CUSTOS_OK || res->stored_md5_match >= 0) {
			printf("stored md5: %s (%s)\n", md5 ? md5 : "-",
				match_word(res->stored_md5_match, md5));
			printf("stored sha1: %s (%s)\n", sha1 ? sha1 : "-",
				match_word(res->stored_sha1_match, sha1));
		}
	}
}

static void print_json(custos_image *img, custos_digest_set set,
		const custos_image_hash_result *res, custos_status st,
		const char *message)
{
	json_t *root = json_object(), *files = json_array(), *hashes = json_object();
	int e01 = custos_image_get_format(img) == CUSTOS_FORMAT_E01;
	char *text;

	for (size_t i = 0; i < custos_image_file_count(img); i++)
		json_array_append_new(files, json_string(custos_image_file(img, i)));
	if (st == CUSTOS_OK)
		for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
			if ((set & CUSTOS_DIGEST_BIT(alg)) && res->digest[alg][0])
				json_object_set_new(hashes, custos_digest_name(
					(custos_digest_alg)alg),
					json_string(res->digest[alg]));
	json_object_set_new(root, "format", json_string(e01 ? "e01" : "raw"));
	json_object_set_new(root, "files", files);
	json_object_set_new(root, "size_bytes", json_integer(
		(json_int_t)custos_image_media_size(img)));
	json_object_set_new(root, "bytes_read", json_integer(
		(json_int_t)res->bytes));
	json_object_set_new(root, "hashes", hashes);
	if (e01) {
		const char *md5 = custos_image_stored_digest(img, CUSTOS_DIGEST_MD5);
		const char *sha1 = custos_image_stored_digest(img,
			CUSTOS_DIGEST_SHA1);
		json_t *corrupt = res->corrupt ? json_pack("{s:I, s:I}",
			"chunk", (json_int_t)res->corrupt_chunk,
			"offset", (json_int_t)res->corrupt_offset) : json_null();

		json_object_set_new(root, "e01", json_pack(
			"{s:I, s:o, s:{s:o, s:o}, s:o, s:o}",
			"chunks_checked", (json_int_t)res->chunks_checked,
			"corrupt_chunk", corrupt,
			"stored_hashes",
			  "md5", md5 ? json_string(md5) : json_null(),
			  "sha1", sha1 ? json_string(sha1) : json_null(),
			"stored_md5_matches", res->stored_md5_match < 0
				? json_null() : json_boolean(res->stored_md5_match),
			"stored_sha1_matches", res->stored_sha1_match < 0
				? json_null() : json_boolean(res->stored_sha1_match)));
	}
	json_object_set_new(root, "result", json_string(st == CUSTOS_OK ? "ok"
		: st == CUSTOS_EMISMATCH ? "failed" : "error"));
	if (message != NULL)
		json_object_set_new(root, "message", json_string(message));
	text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* BASE of BASE.raw, BASE.E01, BASE.001 (caller frees), or NULL. */
static char *image_base(const char *path)
{
	static const char *const ext[] = {".raw", ".E01", ".e01", ".001",
					  ".dd", ".img"};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(ext) / sizeof(*ext); i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(path + n - e, ext[i]) == 0)
			return strndup(path, n - e);
	}
	return NULL;
}

static char *beside(const char *base, const char *suffix)
{
	size_t n = strlen(base) + strlen(suffix) + 1;
	char *p = base != NULL ? malloc(n) : NULL;

	if (p != NULL)
		snprintf(p, n, "%s%s", base, suffix);
	return p;
}

static int exists(const char *path)
{
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;

	if (f != NULL)
		fclose(f);
	return f != NULL;
}

typedef struct damage_print {
	int json;
	json_t *files;
} damage_print;

static void print_file_hit(void *ctx, const char *path, uint64_t inode,
		uint64_t offset, uint64_t length)
{
	damage_print *d = ctx;

	if (d->json) {
		json_array_append_new(d->files, json_pack("{s:s, s:I, s:I, s:I}",
			"path", path, "inode", (json_int_t)inode,
			"offset", (json_int_t)offset,
			"length", (json_int_t)length));
		return;
	}
	printf("  touches file: ");
	cli_fputs_safe(path, stdout);
	printf(" (inode %llu, image bytes %llu-%llu)\n",
		(unsigned long long)inode, (unsigned long long)offset,
		(unsigned long long)(offset + length - 1));
}

static int check_blocks(custos_image *img, const char *map_path,
		const char *report_path, custos_digest_set set, int json,
		unsigned int workers, progress_state *progress)
{
	custos_blockmap_verify_options o;
	custos_blockmap_verify_result *res = calloc(1, sizeof(*res));
	custos_blockmap_claim claim;
	custos_blockmap *map = NULL;
	custos_error err, cerr;
	custos_status st, cst = CUSTOS_ENOTFOUND;
	damage_print dp = {json, NULL};
	json_t *root = NULL, *damage = NULL;
	int rc;

	custos_error_clear(&err);
	custos_error_clear(&cerr);
	if (res == NULL) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	st = custos_blockmap_open(&map, map_path, &err);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		free(res);
		return st == CUSTOS_EFORMAT ? CLI_EXIT_NOT_CLEAN
					    : CLI_EXIT_FAILURE;
	}
	if (report_path != NULL)
		cst = custos_blockmap_claim_load(&claim, report_path, &cerr);
	custos_blockmap_verify_options_init(&o);
	o.digests = set;
	o.workers = workers;
	o.claim = cst == CUSTOS_OK ? &claim : NULL;
	o.progress = progress_show;
	o.progress_ctx = progress;
	o.cancel = &cancel_requested;
	st = custos_blockmap_verify_image(img, map, &o, res, &err);
	progress_end(progress);
	if (json) {
		root = json_object();
		damage = json_array();
	} else {
		printf("format: %s\n", custos_image_get_format(img) ==
			CUSTOS_FORMAT_E01 ? "e01" : "raw");
		printf("size: %llu\n",
			(unsigned long long)custos_image_media_size(img));
		printf("block map: ");
		cli_fputs_safe(map_path, stdout);
		printf(" (%llu blocks of %u bytes)\n",
			(unsigned long long)custos_blockmap_leaf_count(map),
			custos_blockmap_block_size(map));
		printf("blocks checked: %llu\n",
			(unsigned long long)res->blocks_checked);
		printf("damaged blocks: %llu\n",
			(unsigned long long)res->bad_blocks);
	}
	for (size_t i = 0; i < res->damage_count; i++) {
		const custos_blockmap_damage *d = &res->damage[i];

		if (json) {
			dp.files = json_array();
			json_array_append_new(damage, json_pack(
				"{s:I, s:I, s:I, s:I, s:o}",
				"first_block", (json_int_t)d->first_block,
				"block_count", (json_int_t)d->block_count,
				"offset", (json_int_t)d->offset,
				"length", (json_int_t)d->length,
				"files", dp.files));
		} else {
			printf("damaged: bytes %llu-%llu (block%s %llu",
				(unsigned long long)d->offset,
				(unsigned long long)(d->offset + d->length - 1),
				d->block_count > 1 ? "s" : "",
				(unsigned long long)d->first_block);
			if (d->block_count > 1)
				printf("-%llu", (unsigned long long)(
					d->first_block + d->block_count - 1));
			printf(")\n");
		}
		(void)custos_disclose_files_in_range(img, d->offset,
			d->length, print_file_hit, &dp, NULL);
	}
	if (json) {
		json_t *hashes = json_object();

		for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
			if (res->digest[alg][0])
				json_object_set_new(hashes, custos_digest_name(
					(custos_digest_alg)alg),
					json_string(res->digest[alg]));
		json_object_set_new(root, "format", json_string(
			custos_image_get_format(img) == CUSTOS_FORMAT_E01
			? "e01" : "raw"));
		json_object_set_new(root, "size_bytes", json_integer(
			(json_int_t)custos_image_media_size(img)));
		json_object_set_new(root, "block_map", json_pack(
			"{s:s, s:i, s:I, s:s, s:I, s:I, s:I, s:b, s:b, s:o, s:o}",
			"file", map_path,
			"block_size", (int)custos_blockmap_block_size(map),
			"leaf_count",
			(json_int_t)custos_blockmap_leaf_count(map),
			"root", custos_blockmap_root_hex(map),
			"blocks_checked", (json_int_t)res->blocks_checked,
			"damaged_blocks", (json_int_t)res->bad_blocks,
			"marked_blocks", (json_int_t)res->marked_blocks,
			"root_matches_leaves", res->root_ok,
			"truncated", res->truncated,
			"report_root_matches", res->claim_ok < 0 ? json_null()
				: json_boolean(res->claim_ok),
			"damage", damage));
		json_object_set_new(root, "hashes", hashes);
		json_object_set_new(root, "result", json_string(st == CUSTOS_OK
			? "ok" : st == CUSTOS_EMISMATCH ? "failed" : "error"));
		if (st != CUSTOS_OK)
			json_object_set_new(root, "message",
				json_string(err.message));
		{
			char *text = json_dumps(root, JSON_INDENT(2) |
				JSON_ENSURE_ASCII);

			if (text != NULL)
				printf("%s\n", text);
			free(text);
		}
		json_decref(root);
	} else {
		for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++)
			if (res->digest[alg][0])
				printf("%s: %s\n", custos_digest_name(
					(custos_digest_alg)alg), res->digest[alg]);
		if (res->marked_blocks > 0)
			printf("blocks with unreadable sectors (zero-filled at "
				"acquisition): %llu\n",
				(unsigned long long)res->marked_blocks);
		printf("block map root: %s (%s)\n",
			custos_blockmap_root_hex(map), !res->root_ok
			? "DIFFERS from its leaves" : res->claim_ok == 1
			? "matches the report" : res->claim_ok == 0
			? "DIFFERS from the report" : "no report to check");
	}
	if (cst != CUSTOS_OK && report_path != NULL)
		cli_error(TOOL, "report %s: %s", report_path, cerr.message);
	if (st != CUSTOS_OK)
		cli_error(TOOL, "%s", err.message);
	rc = st == CUSTOS_OK ? CLI_EXIT_OK : st == CUSTOS_EMISMATCH
		? CLI_EXIT_NOT_CLEAN : CLI_EXIT_FAILURE;
	/* A report given but unreadable, or without a map: not clean. */
	if (rc == CLI_EXIT_OK && report_path != NULL && cst != CUSTOS_OK)
		rc = CLI_EXIT_NOT_CLEAN;
	custos_blockmap_free(map);
	free(res);
	return rc;
}

int main(int argc, char **argv)
{
	custos_image_hash_options opts;
	custos_image_hash_result res;
	progress_state progress = {0};
	custos_image *img = NULL;
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[64];
	custos_image_kind kind = CUSTOS_IMAGE_AUTO;
	int json = 0, quiet = 0, progress_set = 0, c, rc, no_map = 0;
	int digests_set = 0;
	const char *map_opt = NULL, *report_opt = NULL;
	char *base = NULL, *map_path = NULL, *report_path = NULL;
	custos_status st;
	struct sigaction sa;

	custos_image_hash_options_init(&opts);
	custos_error_clear(&err);
	if (cli_getopt_tables(options, OPTION_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		unsigned long n;

		switch (c) {
		case 'H':
			if (custos_digest_parse_list(&opts.digests, optarg,
					&err) != CUSTOS_OK) {
				usage_error("%s", err.message);
				goto usage;
			}
			digests_set = 1;
			break;
		case OPT_BLOCKMAP: map_opt = optarg; break;
		case OPT_REPORT: report_opt = optarg; break;
		case OPT_NO_BLOCKMAP: no_map = 1; break;
		case OPT_JSON: json = 1; break;
		case OPT_PROGRESS:
			if (!progress_parse_mode(optarg, &progress.mode)) {
				usage_error("bad --progress mode '%s'", optarg);
				goto usage;
			}
			progress_set = 1;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "auto") == 0)
				kind = CUSTOS_IMAGE_AUTO;
			else if (strcmp(optarg, "raw") == 0)
				kind = CUSTOS_IMAGE_RAW;
			else if (strcmp(optarg, "e01") == 0)
				kind = CUSTOS_IMAGE_E01;
			else {
				usage_error("bad --format '%s' (auto, raw, e01)",
					optarg);
				goto usage;
			}
			break;
		case OPT_WORKERS:
			if (!cli_parse_uint(optarg, 8, &n) || n == 0) {
				usage_error("bad --workers '%s' (1 to 8)", optarg);
				goto usage;
			}
			opts.workers = (unsigned int)n;
			break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " [OPTIONS] IMAGE...",
				"Hash the media in a raw, split raw or E01 image, "
				"and check an E01's chunks and stored hashes.",
				options, OPTION_COUNT, epilogue);
			free(longopts);
			return CLI_EXIT_OK;
		case 'V':
			cli_print_version(TOOL);
			free(longopts);
			return CLI_EXIT_OK;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			goto usage;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			goto usage;
		}
	}
	free(longopts);
	if (optind >= argc) {
		usage_error("no IMAGE given");
		return CLI_EXIT_USAGE;
	}
	if (quiet)
		progress.mode = PROGRESS_NONE;
	else if (!progress_set)
		progress.mode = progress_auto();
	opts.progress = progress_show;
	opts.progress_ctx = &progress;
	opts.cancel = &cancel_requested;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	st = custos_image_open_as(&img, (const char *const *)argv + optind,
		(size_t)(argc - optind), kind, &err);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		/* A damaged E01 is evidence that fails its check. */
		if (st == CUSTOS_EMISMATCH || st == CUSTOS_EFORMAT)
			return CLI_EXIT_NOT_CLEAN;
		return st == CUSTOS_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	/* A block map beside the image (or given) is checked instead of
	 * one sequential stream. */
	base = image_base(argv[optind]);
	if (!no_map) {
		map_path = map_opt ? strdup(map_opt) : beside(base, ".blockmap");
		report_path = report_opt ? strdup(report_opt)
			: beside(base, ".report.json");
		if (map_opt == NULL && !exists(map_path)) {
			free(map_path);
			map_path = NULL;
		}
		if (report_opt == NULL && !exists(report_path)) {
			free(report_path);
			report_path = NULL;
		}
	}
	if (map_path != NULL) {
		rc = check_blocks(img, map_path, report_path,
			digests_set ? opts.digests : 0, json, opts.workers,
			&progress);
		custos_image_free(img);
		free(map_path);
		free(report_path);
		free(base);
		return rc;
	}
	free(report_path);
	free(base);
	st = custos_image_hash(img, &opts, &res, &err);
	progress_end(&progress);
	if (json)
		print_json(img, opts.digests, &res, st,
			st == CUSTOS_OK ? NULL : err.message);
	else
		print_text(img, opts.digests, &res, st);
	if (st != CUSTOS_OK)
		cli_error(TOOL, "%s", err.message);
	rc = st == CUSTOS_OK ? CLI_EXIT_OK : st == CUSTOS_EMISMATCH
		? CLI_EXIT_NOT_CLEAN : CLI_EXIT_FAILURE;
	custos_image_free(img);
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}
