/*
 * custos-acquire: image a block device, file or stdin into a raw image,
 * with its hashes and an acquisition report.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "passphrase.h"
#include "progress.h"

#define TOOL "custos-acquire"

enum {
	OPT_SPLIT = 256, OPT_CASE, OPT_EVIDENCE, OPT_EXAMINER, OPT_DESCRIPTION,
	OPT_NOTES, OPT_RETRIES, OPT_GRANULARITY, OPT_REQUIRE_RO, OPT_VERIFY,
	OPT_PROGRESS, OPT_JSON, OPT_WORKERS, OPT_SIGN_KEY, OPT_SIGN_CERT,
	OPT_SIGN_CHAIN, OPT_TSA, OPT_PASS_FILE, OPT_PASS_FD, OPT_LOG,
	OPT_CASE_UCO,
	OPT_BLOCK_SIZE,
	OPT_RESUME, OPT_PASSES, OPT_MAX_BAD_TIME, OPT_SYNC,
};

static const cli_option options[] = {
	{{"output", required_argument, NULL, 'o'}, "BASE",
	 "write BASE.E01 (or BASE.raw), BASE.report.json/.txt, BASE.sha256"},
	{{"format", required_argument, NULL, 'f'}, "FORMAT",
	 "image format: e01 (default) or raw"},
	{{"compression", required_argument, NULL, 'c'}, "LEVEL",
	 "E01 compression: none, fast (default), best"},
	{{"workers", required_argument, NULL, OPT_WORKERS}, "N",
	 "E01 compression threads (default: one per core)"},
	{{"hash", required_argument, NULL, 'H'}, "LIST",
	 "hashes: md5,sha1,sha256,sha512 (default md5,sha1,sha256)"},
	{{"split", required_argument, NULL, OPT_SPLIT}, "SIZE",
	 "segment size (K, M, G, T suffixes): BASE.E01, .E02... or BASE.001..."},
	{{"case", required_argument, NULL, OPT_CASE}, "TEXT", "case number"},
	{{"evidence", required_argument, NULL, OPT_EVIDENCE}, "TEXT",
	 "evidence number"},
	{{"examiner", required_argument, NULL, OPT_EXAMINER}, "TEXT",
	 "examiner name"},
	{{"description", required_argument, NULL, OPT_DESCRIPTION}, "TEXT",
	 "description of the evidence"},
	{{"notes", required_argument, NULL, OPT_NOTES}, "TEXT", "notes"},
	{{"retries", required_argument, NULL, OPT_RETRIES}, "N",
	 "retry passes over the bad sectors after scraping (default 2)"},
	{{"granularity", required_argument, NULL, OPT_GRANULARITY}, "SIZE",
	 "step of the scraping pass (default: one sector)"},
	{{"block-size", required_argument, NULL, OPT_BLOCK_SIZE}, "SIZE",
	 "block map (BASE.blockmap) block size, a power of two from 512 to "
	 "16M (default 64K), or none"},
	{{"resume", no_argument, NULL, OPT_RESUME}, NULL,
	 "go on with the interrupted run that left BASE.part (same command)"},
	{{"passes", required_argument, NULL, OPT_PASSES}, "N",
	 "last pass over bad areas: 1 copy, 2 skipped, 3 trim, 4 scrape, 5+ retry"},
	{{"max-bad-area-time", required_argument, NULL, OPT_MAX_BAD_TIME},
	 "SECONDS", "time for the passes after the first (default: no limit)"},
	{{"sync-interval", required_argument, NULL, OPT_SYNC}, "SIZE",
	 "sync the image, BASE.map and the resume state this often (64M)"},
	{{"require-readonly", no_argument, NULL, OPT_REQUIRE_RO}, NULL,
	 "refuse a block device the kernel does not see as read-only"},
	{{"verify", no_argument, NULL, OPT_VERIFY}, NULL,
	 "read the written image back and compare its hashes"},
	{{"sign-key", required_argument, NULL, OPT_SIGN_KEY}, "KEY",
	 "sign the JSON report with this key (PEM) ..."},
	{{"sign-cert", required_argument, NULL, OPT_SIGN_CERT}, "CERT",
	 "... and this certificate: BASE.report.json.p7s (CAdES)"},
	{{"sign-chain", required_argument, NULL, OPT_SIGN_CHAIN}, "PEM",
	 "intermediate certificates to put in the signature"},
	{{"tsa", required_argument, NULL, OPT_TSA}, "URL",
	 "add an RFC 3161 timestamp from this TSA (CAdES-B-T)"},
	{{"log", required_argument, NULL, OPT_LOG}, "DIR",
	 "append a signed \"acquired\" record to the custody log DIR"},
	{{"case-uco", required_argument, NULL, OPT_CASE_UCO}, "OUT.jsonld",
	 "also export the acquisition as CASE/UCO 1.4 JSON-LD (new file)"},
	{{"passphrase-file", required_argument, NULL, OPT_PASS_FILE}, "FILE",
	 "read the signing key's passphrase from FILE's first line"},
	{{"passphrase-fd", required_argument, NULL, OPT_PASS_FD}, "N",
	 "read the signing key's passphrase from descriptor N"},
	{{"progress", optional_argument, NULL, OPT_PROGRESS}, "MODE",
	 "progress on stderr: auto, tty, json, none (default auto)"},
	{{"quiet", no_argument, NULL, 'q'}, NULL,
	 "no progress and no summary"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 "print the JSON report on stdout"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
	{{"version", no_argument, NULL, 'V'}, NULL, "show versions"},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static const char epilogue[] =
	"SOURCE is a block device, an image file, or - for stdin.\n"
	"\n"
	"Exit status: 0 complete; 1 complete but some sectors were unreadable\n"
	"(zero-filled), or --verify found a difference; 2 usage error;\n"
	"3 failure (I/O, missing source, existing output, interrupted).\n";

static volatile sig_atomic_t cancel_requested;

/*
 * The key is used twice (a trial before imaging, then the report), but a
 * passphrase from a descriptor or the terminal can be read only once: keep
 * it, and cleanse it on the way out.
 */
static struct {
	passphrase_source source;
	char text[PASSPHRASE_MAX];
	int len;            /* -1 until read */
} pass = {.len = -1};

static int cached_passphrase(char *buf, size_t cap, void *ctx)
{
	(void)ctx;
	if (pass.len < 0)
		pass.len = passphrase_read(&pass.source, pass.text,
			sizeof(pass.text));
	if (pass.len < 0 || (size_t)pass.len >= cap)
		return -1;
	memcpy(buf, pass.text, (size_t)pass.len);
	buf[pass.len] = '\0';
	return pass.len;
}

static void forget_passphrase(void)
{
	OPENSSL_cleanse(pass.text, sizeof(pass.text));
}

static void on_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read returns EINTR and the run stops. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A file size limit must become a write error we can report. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

/* Usage errors name the tool and point to --help. */
#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

/* Check the custody log before imaging, so a typo costs nothing. */
static int log_writable(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/log.jsonl", dir);
	if (access(path, W_OK) != 0) {
		cli_error(TOOL, "%s is not a custody log I can append to (%s); "
			"make one with custos-log init", dir, strerror(errno));
		return 0;
	}
	return 1;
}

/* The "acquired" record, signed by the same person as the report. */
static int append_to_log(const char *dir, const char *report,
		const custos_sign_options *sign, int quiet)
{
	custos_custody_actor_options actor;
	custos_error err;

	custos_custody_actor_options_init(&actor);
	actor.key_path = sign->key_path;
	actor.cert_path = sign->cert_path;
	actor.chain_path = sign->chain_path;
	actor.passphrase = sign->passphrase;
	actor.passphrase_ctx = sign->passphrase_ctx;
	custos_error_clear(&err);
	if (custos_custody_append_acquired(dir, report, &actor, &err) !=
	    CUSTOS_OK) {
		cli_error(TOOL, "the acquisition is complete, but it could not "
			"be recorded in the custody log: %s", err.message);
		return -1;
	}
	if (!quiet) {
		printf("custody log: ");
		cli_fputs_safe(dir, stdout);
		printf(" (\"acquired\" record appended)\n");
	}
	return 0;
}

static void print_summary(const custos_acquisition *a, const char *base)
{
	const custos_ranges *bad = custos_acquisition_unreadable(a);

	printf("result: %s\n", custos_acquire_result_name(
		custos_acquisition_result(a)));
	printf("bytes: %llu\n", (unsigned long long)custos_acquisition_bytes(a));
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++) {
		const char *hex = custos_acquisition_digest(a,
			(custos_digest_alg)alg);

		if (hex != NULL)
			printf("%s: %s\n",
				custos_digest_name((custos_digest_alg)alg), hex);
	}
	printf("unreadable sectors: %llu\n",
		(unsigned long long)custos_ranges_total(bad));
	switch (custos_acquisition_verify_result(a)) {
	case CUSTOS_VERIFY_MATCH: printf("verify: match\n"); break;
	case CUSTOS_VERIFY_MISMATCH: printf("verify: MISMATCH\n"); break;
	case CUSTOS_VERIFY_FAILED: printf("verify: failed\n"); break;
	case CUSTOS_VERIFY_INTERRUPTED: printf("verify: interrupted\n"); break;
	case CUSTOS_VERIFY_NOT_RUN: break;
	}
	if (custos_acquisition_report_path(a) != NULL) {
		printf("report: ");
		cli_fputs_safe(base, stdout);
		printf(".report.json\n");
	}
}

int main(int argc, char **argv)
{
	custos_acquire_options opts;
	custos_sign_options sign;
	progress_state progress = {0};
	custos_acquisition *acq = NULL;
	custos_source *src = NULL;
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[64];
	const char *log_dir = NULL, *case_uco = NULL;
	int quiet = 0, json = 0, progress_set = 0, c, rc;
	custos_status st;

	custos_acquire_options_init(&opts);
	opts.tool_name = TOOL;
	custos_sign_options_init(&sign);
	passphrase_source_init(&pass.source, TOOL);
	atexit(forget_passphrase);
	custos_error_clear(&err);
	if (cli_getopt_tables(options, OPTION_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		unsigned long n;
		uint64_t size;

		switch (c) {
		case 'o': opts.output_base = optarg; break;
		case 'f':
			if (strcasecmp(optarg, "raw") == 0) {
				opts.format = CUSTOS_FORMAT_RAW;
			} else if (strcasecmp(optarg, "e01") == 0 ||
				   strcasecmp(optarg, "ewf") == 0) {
				opts.format = CUSTOS_FORMAT_E01;
			} else {
				usage_error("unknown format '%s' (e01, raw)",
					optarg);
				goto usage;
			}
			break;
		case 'c':
			if (strcmp(optarg, "none") == 0) {
				opts.compression = CUSTOS_COMPRESSION_NONE;
			} else if (strcmp(optarg, "fast") == 0) {
				opts.compression = CUSTOS_COMPRESSION_FAST;
			} else if (strcmp(optarg, "best") == 0) {
				opts.compression = CUSTOS_COMPRESSION_BEST;
			} else {
				usage_error("unknown compression '%s' (none, "
					"fast, best)", optarg);
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
		case 'H':
			if (custos_digest_parse_list(&opts.digests, optarg,
					&err) != CUSTOS_OK) {
				usage_error("%s", err.message);
				goto usage;
			}
			break;
		case OPT_SPLIT:
			if (!cli_parse_size(optarg, &size)) {
				usage_error("bad --split size '%s' (e.g. 2G)",
					optarg);
				goto usage;
			}
			opts.split_size = size;
			break;
		case OPT_CASE: opts.case_info.case_number = optarg; break;
		case OPT_EVIDENCE: opts.case_info.evidence_number = optarg; break;
		case OPT_EXAMINER: opts.case_info.examiner = optarg; break;
		case OPT_DESCRIPTION: opts.case_info.description = optarg; break;
		case OPT_NOTES: opts.case_info.notes = optarg; break;
		case OPT_RETRIES:
			if (!cli_parse_uint(optarg, 100, &n)) {
				usage_error("bad --retries '%s' (0 to 100)", optarg);
				goto usage;
			}
			opts.retries = (unsigned int)n;
			break;
		case OPT_GRANULARITY:
			if (!cli_parse_size(optarg, &size) || size > (1u << 20)) {
				usage_error("bad --granularity '%s' (a multiple "
					"of the sector size, at most 1M)", optarg);
				goto usage;
			}
			opts.granularity = (uint32_t)size;
			break;
		case OPT_BLOCK_SIZE:
			if (strcmp(optarg, "none") == 0) {
				opts.block_size = CUSTOS_BLOCKMAP_NONE;
				break;
			}
			if (!cli_parse_size(optarg, &size) || size < 512 ||
			    size > (16u << 20) || (size & (size - 1)) != 0) {
				usage_error("bad --block-size '%s' (a power of "
					"two from 512 to 16M, or none)", optarg);
				goto usage;
			}
			opts.block_size = (uint32_t)size;
			break;
		case OPT_REQUIRE_RO: opts.require_readonly = 1; break;
		case OPT_RESUME: opts.resume = 1; break;
		case OPT_PASSES:
			if (!cli_parse_uint(optarg, 16, &n) || n == 0) {
				usage_error("bad --passes '%s' (1 to 16)", optarg);
				goto usage;
			}
			opts.passes = (unsigned int)n;
			break;
		case OPT_MAX_BAD_TIME:
			if (!cli_parse_uint(optarg, 100u * 24 * 3600, &n) ||
			    n == 0) {
				usage_error("bad --max-bad-area-time '%s' "
					"(seconds, at least 1)", optarg);
				goto usage;
			}
			opts.max_bad_area_time = (double)n;
			break;
		case OPT_SYNC:
			if (!cli_parse_size(optarg, &size) || size == 0 ||
			    size % (1u << 20) != 0) {
				usage_error("bad --sync-interval '%s' (a whole "
					"number of MiB, e.g. 64M)", optarg);
				goto usage;
			}
			opts.sync_interval = size;
			break;
		case OPT_SIGN_KEY: sign.key_path = optarg; break;
		case OPT_SIGN_CERT: sign.cert_path = optarg; break;
		case OPT_SIGN_CHAIN: sign.chain_path = optarg; break;
		case OPT_TSA: sign.tsa_url = optarg; break;
		case OPT_LOG: log_dir = optarg; break;
		case OPT_CASE_UCO: case_uco = optarg; break;
		case OPT_PASS_FILE: pass.source.file = optarg; break;
		case OPT_PASS_FD:
			if (!passphrase_parse_fd(optarg, &pass.source.fd)) {
				usage_error("bad --passphrase-fd '%s'", optarg);
				goto usage;
			}
			break;
		case OPT_VERIFY: opts.verify = 1; break;
		case OPT_PROGRESS:
			if (!progress_parse_mode(optarg, &progress.mode)) {
				usage_error("bad --progress mode '%s' (auto, tty, "
					"json, none)", optarg);
				goto usage;
			}
			progress_set = 1;
			break;
		case 'q': quiet = 1; break;
		case OPT_JSON: json = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " [OPTIONS] -o BASE SOURCE",
				"Image a device, file or stdin into an E01 or raw "
				"image, with hashes and a report.", options,
				OPTION_COUNT, epilogue);
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
	longopts = NULL;
	if (optind != argc - 1) {
		usage_error("%s", optind >= argc ? "no SOURCE given"
						 : "more than one SOURCE given");
		goto usage;
	}
	if (opts.output_base == NULL) {
		usage_error("%s", "no output given (-o BASE)");
		goto usage;
	}
	if ((sign.key_path == NULL) != (sign.cert_path == NULL)) {
		usage_error("%s", "--sign-key and --sign-cert go together");
		goto usage;
	}
	if (sign.key_path == NULL && (sign.tsa_url != NULL ||
			sign.chain_path != NULL)) {
		usage_error("%s", "--tsa and --sign-chain need --sign-key and "
			"--sign-cert");
		goto usage;
	}
	if (log_dir != NULL && sign.key_path == NULL) {
		usage_error("%s", "--log needs --sign-key and --sign-cert: every "
			"custody record is signed by the person acting");
		goto usage;
	}
	if (log_dir != NULL && !log_writable(log_dir))
		return CLI_EXIT_FAILURE;
	if (pass.source.file != NULL && pass.source.fd >= 0) {
		usage_error("%s", "give either --passphrase-file or "
			"--passphrase-fd");
		goto usage;
	}
	if (sign.key_path != NULL) {
		sign.passphrase = cached_passphrase;
		opts.sign = &sign;
	}
	if (quiet)
		progress.mode = PROGRESS_NONE;
	else if (!progress_set)
		progress.mode = progress_auto();
	opts.progress = progress_show;
	opts.progress_ctx = &progress;
	opts.cancel = &cancel_requested;
	install_signals();

	st = custos_source_open(&src, argv[optind], &err);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return CLI_EXIT_FAILURE;
	}
	st = custos_acquire_run(&acq, src, &opts, &err);
	progress_end(&progress);
	if (acq != NULL && json)
		fputs(custos_acquisition_report_json(acq), stdout);
	else if (acq != NULL && !quiet)
		print_summary(acq, opts.output_base);

	if (acq != NULL && custos_acquisition_report_path(acq) == NULL &&
	    custos_acquisition_report_json(acq) != NULL) {
		/* No report could be written: its result goes here instead. */
		fputs(custos_acquisition_report_json(acq), stderr);
	}
	if (st != CUSTOS_OK && st != CUSTOS_EMISMATCH) {
		const char *see = "";

		if (acq != NULL && custos_acquisition_report_path(acq) != NULL)
			see = custos_acquisition_result(acq) ==
				CUSTOS_RESULT_ABORTED
				? " (acquisition aborted; see the report)"
				: " (see the report)";
		else if (acq != NULL)
			see = " (acquisition aborted; no report was written, "
			      "its content is above)";
		cli_error(TOOL, "%s%s", err.message, see);
		rc = st == CUSTOS_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	} else if (st == CUSTOS_EMISMATCH) {
		cli_error(TOOL, "%s", err.message);
		rc = CLI_EXIT_NOT_CLEAN;
	} else if (custos_acquisition_result(acq) ==
		   CUSTOS_RESULT_COMPLETE_WITH_ERRORS) {
		cli_error(TOOL, "%llu sectors could not be read and are "
			"zero-filled; see the report",
			(unsigned long long)custos_ranges_total(
				custos_acquisition_unreadable(acq)));
		rc = CLI_EXIT_NOT_CLEAN;
	} else {
		rc = CLI_EXIT_OK;
	}
	if (log_dir != NULL && acq != NULL &&
	    (rc == CLI_EXIT_OK || rc == CLI_EXIT_NOT_CLEAN) &&
	    append_to_log(log_dir, custos_acquisition_report_path(acq), &sign,
			quiet || json) != 0)
		rc = CLI_EXIT_FAILURE;
	/* From the committed report, so the export says what it says. */
	if (case_uco != NULL && acq != NULL &&
	    (rc == CLI_EXIT_OK || rc == CLI_EXIT_NOT_CLEAN) &&
	    custos_case_uco_write_report(case_uco,
			custos_acquisition_report_path(acq), &err) != CUSTOS_OK) {
		cli_error(TOOL, "--case-uco: %s", err.message);
		rc = CLI_EXIT_FAILURE;
	}
	custos_acquisition_free(acq);
	custos_source_free(src);
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}
