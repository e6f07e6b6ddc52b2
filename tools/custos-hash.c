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

enum { OPT_PROGRESS = 256, OPT_JSON, OPT_WORKERS, OPT_FORMAT };

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
	"Exit status: 0 read in full and every check passed; 1 a damaged or\n"
	"truncated E01, a corrupt chunk, or a stored hash that differs; 2 usage\n"
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
	int json = 0, quiet = 0, progress_set = 0, c, rc;
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
			break;
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
