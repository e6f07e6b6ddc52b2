/*
 * custos-verify: one verdict over a case (acquisition reports, images,
 * custody logs, bundles, receipts, or a folder holding them).  Parses the
 * options, calls custos_verify_run, prints the result as text or JSON.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "progress.h"

#define TOOL "custos-verify"
#define MAX_LIST 64

enum {
	OPT_TRUST = 256, OPT_LOG, OPT_MAX_GAP, OPT_JSON, OPT_PROGRESS,
	OPT_WORKERS, OPT_CASE_UCO,
};

static const cli_option options[] = {
	{{"trust", required_argument, NULL, OPT_TRUST}, "CA.pem",
	 "trusted CA certificates for every signature (repeatable)"},
	{{"identity", required_argument, NULL, 'i'}, "FILE",
	 "age identity file to decrypt bundles with (repeatable)"},
	{{"log", required_argument, NULL, OPT_LOG}, "DIR",
	 "a custody log to use besides those found (repeatable)"},
	{{"max-gap", required_argument, NULL, OPT_MAX_GAP}, "DURATION",
	 "longest allowed time between two custody records of an item "
	 "(90, 45s, 30m, 12h, 7d)"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 "print the result as JSON (schema in custos-verify(1))"},
	{{"progress", optional_argument, NULL, OPT_PROGRESS}, "MODE",
	 "progress on stderr while media is hashed: auto, tty, json, none"},
	{{"workers", required_argument, NULL, OPT_WORKERS}, "N",
	 "E01 inflate threads (default: one per core)"},
	{{"case-uco", required_argument, NULL, OPT_CASE_UCO}, "OUT.jsonld",
	 "also export the case as CASE/UCO 1.4 JSON-LD (new file)"},
	{{"quiet", no_argument, NULL, 'q'}, NULL,
	 "only the verdict line, no progress"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
	{{"version", no_argument, NULL, 'V'}, NULL, "show versions"},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static const char epilogue[] =
	"TARGET is an acquisition report (BASE.report.json), an image (E01,\n"
	"raw, split raw), a custody log folder, a bundle (transfer manifest,\n"
	"bag folder or bag tar), a receipt, or a case folder holding these.\n"
	"What belongs together is found: a report's image files, .p7s and\n"
	".sha256, the custody log beside it, the bundle a receipt names.\n"
	"\n"
	"Verdict: VERIFIED (every required check passed), FAILED (a check\n"
	"failed) or INCOMPLETE (nothing failed, but a required check could\n"
	"not be made: a missing image, no --trust, no custody log).\n"
	"\n"
	"Exit status: 0 VERIFIED; 1 FAILED or INCOMPLETE; 2 usage error (also\n"
	"a target that is a FIFO, device or unknown file); 3 failure (a\n"
	"missing target, I/O, interrupted).\n";

static volatile sig_atomic_t cancel_requested;

static void on_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

static int add_to(const char **list, size_t *n, const char *value,
		const char *what)
{
	if (*n == MAX_LIST) {
		usage_error("more than %d %s", MAX_LIST, what);
		return -1;
	}
	list[(*n)++] = value;
	return 0;
}

int main(int argc, char **argv)
{
	static char idbuf[MAX_LIST][CUSTOS_AGE_IDENTITY_MAX];
	const char *trust[MAX_LIST], *ids[MAX_LIST], *logs[MAX_LIST];
	size_t ntrust = 0, nids = 0, nlogs = 0;
	custos_verify_options opts;
	custos_verify_case *res = NULL;
	progress_state progress = {0};
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[64], *text = NULL;
	const char *case_uco = NULL;
	int json = 0, quiet = 0, progress_set = 0, c, rc = CLI_EXIT_USAGE;
	struct sigaction sa;
	custos_status st;

	custos_verify_options_init(&opts);
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
		case OPT_TRUST:
			if (add_to(trust, &ntrust, optarg, "--trust") != 0)
				goto out;
			break;
		case 'i':
			if (nids == MAX_LIST) {
				usage_error("more than %d identities", MAX_LIST);
				goto out;
			}
			if (custos_age_identity_file_read(idbuf[nids], optarg,
					&err) != CUSTOS_OK) {
				cli_error(TOOL, "%s", err.message);
				rc = err.status == CUSTOS_EFORMAT ||
					err.status == CUSTOS_EINVAL ?
					CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
				goto out;
			}
			ids[nids] = idbuf[nids];
			nids++;
			break;
		case OPT_LOG:
			if (add_to(logs, &nlogs, optarg, "--log") != 0)
				goto out;
			break;
		case OPT_MAX_GAP:
			if (custos_verify_parse_duration(&opts.max_gap_seconds,
					optarg, &err) != CUSTOS_OK) {
				usage_error("--max-gap: %s", err.message);
				goto out;
			}
			break;
		case OPT_JSON: json = 1; break;
		case OPT_PROGRESS:
			if (!progress_parse_mode(optarg, &progress.mode)) {
				usage_error("bad --progress mode '%s'", optarg);
				goto out;
			}
			progress_set = 1;
			break;
		case OPT_WORKERS:
			if (!cli_parse_uint(optarg, 8, &n) || n == 0) {
				usage_error("bad --workers '%s' (1 to 8)", optarg);
				goto out;
			}
			opts.workers = (unsigned int)n;
			break;
		case OPT_CASE_UCO: case_uco = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " [OPTIONS] TARGET...",
				"Verify a case and give one verdict: VERIFIED, "
				"FAILED or INCOMPLETE.", options, OPTION_COUNT,
				epilogue);
			rc = CLI_EXIT_OK;
			goto out;
		case 'V':
			cli_print_version(TOOL);
			rc = CLI_EXIT_OK;
			goto out;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		usage_error("no TARGET given");
		goto out;
	}
	if (quiet)
		progress.mode = PROGRESS_NONE;
	else if (!progress_set)
		progress.mode = progress_auto();
	opts.trust = trust;
	opts.trust_count = ntrust;
	opts.identities = ids;
	opts.identity_count = nids;
	opts.logs = logs;
	opts.log_count = nlogs;
	opts.progress = progress_show;
	opts.progress_ctx = &progress;
	opts.cancel = &cancel_requested;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	st = custos_verify_run(&res, (const char *const *)argv + optind,
		(size_t)(argc - optind), &opts, &err);
	progress_end(&progress);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		rc = st == CUSTOS_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
		goto out;
	}
	if (case_uco != NULL &&
	    custos_case_uco_write_verify(case_uco, res, &err) != CUSTOS_OK) {
		cli_error(TOOL, "--case-uco: %s", err.message);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	st = json ? custos_verify_case_to_json(&text, res, &err)
		  : custos_verify_case_to_text(&text, res, quiet, &err);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	fputs(text, stdout);
	if (json)
		fputc('\n', stdout);
	if (fflush(stdout) != 0) {
		cli_error(TOOL, "cannot write the result");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = custos_verify_case_verdict(res) == CUSTOS_VERDICT_VERIFIED ?
		CLI_EXIT_OK : CLI_EXIT_NOT_CLEAN;
out:
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(text);
	custos_verify_case_free(res);
	free(longopts);
	return rc;
}
