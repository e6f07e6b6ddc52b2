/*
 * custos-verify: one verdict over a case (acquisition reports, images,
 * custody logs, bundles, receipts, or a folder holding them).  Parses the
 * options, calls custos_verify_run, prints the result as text or JSON.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "progress.h"

#define TOOL "custos-verify"
#define MAX_LIST 64

enum {
	OPT_TRUST = 256, OPT_LOG, OPT_MAX_GAP, OPT_JSON, OPT_PROGRESS,
	OPT_WORKERS, OPT_PROFILE, OPT_HTML, OPT_PDF, OPT_LANG, OPT_CASE_UCO,
	OPT_BLOCKMAP_ONLY,
};

static const cli_option options[] = {
	{{"trust", required_argument, NULL, OPT_TRUST}, "CA.pem",
	 N_("trusted CA certificates for every signature (repeatable)")},
	{{"identity", required_argument, NULL, 'i'}, "FILE",
	 N_("age identity file to decrypt bundles with (repeatable)")},
	{{"log", required_argument, NULL, OPT_LOG}, "DIR",
	 N_("a custody log to use besides those found (repeatable)")},
	{{"max-gap", required_argument, NULL, OPT_MAX_GAP}, "DURATION",
	 N_("longest allowed time between two custody records of an item "
	 "(90, 45s, 30m, 12h, 7d)")},
	{{"profile", required_argument, NULL, OPT_PROFILE}, "FILE",
	 N_("judge the case against an admissibility profile "
	 "(custos-profile(5))")},
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 N_("print the result as JSON (schema in custos-verify(1))")},
	{{"progress", optional_argument, NULL, OPT_PROGRESS}, "MODE",
	 N_("progress on stderr while media is hashed: auto, tty, json, "
	 "none")},
	{{"workers", required_argument, NULL, OPT_WORKERS}, "N",
	 N_("E01 inflate threads (default: one per core)")},
	{{"html", required_argument, NULL, OPT_HTML}, "OUT.html",
	 N_("also write the report for a court as one HTML file")},
	{{"pdf", required_argument, NULL, OPT_PDF}, "OUT.pdf",
	 N_("also print that report to PDF (needs a headless Chromium)")},
	{{"lang", required_argument, NULL, OPT_LANG}, "LANG",
	 N_("language of the text and the report: en (default), fr, ar")},
	{{"case-uco", required_argument, NULL, OPT_CASE_UCO}, "OUT.jsonld",
	 N_("also export the case as CASE/UCO 1.4 JSON-LD (new file)")},
	{{"blockmap-only", no_argument, NULL, OPT_BLOCKMAP_ONLY}, NULL,
	 N_("with a signed block map, check its blocks only (no MD5, SHA-1 "
	 "or SHA-256 of the whole media)")},
	{{"quiet", no_argument, NULL, 'q'}, NULL,
	 N_("only the verdict line, no progress")},
	{{"help", no_argument, NULL, 'h'}, NULL, N_("show this help")},
	{{"version", no_argument, NULL, 'V'}, NULL, N_("show versions")},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static const char epilogue[] = N_(
	"TARGET is an acquisition report (BASE.report.json), an image (E01,\n"
	"raw, split raw), a custody log folder, a bundle (transfer manifest,\n"
	"bag folder or bag tar), a receipt, a disclosure package\n"
	"(custos-disclose), or a case folder holding these.\n"
	"What belongs together is found: a report's image files, .p7s and\n"
	".sha256, the custody log beside it, the bundle a receipt names.\n"
	"\n"
	"Verdict: VERIFIED (every required check passed), FAILED (a check\n"
	"failed) or INCOMPLETE (nothing failed, but a required check could\n"
	"not be made: a missing image, no --trust, no custody log).\n"
	"\n"
	"With a block map (the report's block_map, BASE.blockmap beside it),\n"
	"every block is checked on all cores against the signed root and\n"
	"damage is named as byte ranges and files; the report's hashes are\n"
	"recomputed in the same pass unless --blockmap-only.\n"
	"\n"
	"With --profile, each requirement of the receiving court is met, not\n"
	"met or not applicable, with the evidence.\n"
	"\n"
	"--html and --pdf never replace a file.  Catalogues are read from\n"
	"$CUSTOS_LOCALEDIR, else the installed locale folder; --pdf runs\n"
	"$CUSTOS_CHROMIUM, else chromium from PATH, with no network.\n"
	"\n"
	"Exit status: 0 VERIFIED (and, with --profile, the profile met); 1\n"
	"FAILED, INCOMPLETE or a profile not met; 2 usage error (also a bad\n"
	"profile, a target that is a FIFO, device or unknown file, an unknown\n"
	"language); 3 failure (a missing target, I/O, interrupted, an\n"
	"existing --html or --pdf file, no catalogue, no Chromium).\n");

static volatile sig_atomic_t cancel_requested;

/* Something (a file, a link, even a dangling one) is at path. */
static int output_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static void on_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

/* The language --help is asked in: the --lang given anywhere on the
 * line (--lang LANG or --lang=LANG), if its catalogue opens; else NULL,
 * English. */
static custos_lang *help_lang(int argc, char **argv)
{
	custos_lang *l = NULL;
	const char *code = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--lang=", 7) == 0)
			code = argv[i] + 7;
		else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
			code = argv[++i];
	}
	if (code != NULL && custos_lang_open(&l, code,
			getenv("CUSTOS_LOCALEDIR"), NULL) != CUSTOS_OK)
		l = NULL;
	return l;
}

/* Write the court report (HTML, PDF or both); 0 or an exit status. */
static int write_court_report(const custos_verify_case *res,
		const custos_lang *lang, const char *html_path,
		const char *pdf_path, const char *const *trust, size_t ntrust)
{
	custos_court_options co;
	custos_error err;
	char *html = NULL;
	size_t len = 0;
	int rc = 0;

	custos_error_clear(&err);
	custos_court_options_init(&co);
	co.lang = lang;
	co.trust = trust;
	co.trust_count = ntrust;
	if (custos_court_html(&html, &len, res, &co, &err) != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return CLI_EXIT_FAILURE;
	}
	if (html_path != NULL &&
	    custos_court_write_html(html_path, html, len, &err) != CUSTOS_OK) {
		cli_error(TOOL, "--html: %s", err.message);
		rc = CLI_EXIT_FAILURE;
	}
	if (rc == 0 && pdf_path != NULL &&
	    custos_court_write_pdf(pdf_path, html, len,
			getenv("CUSTOS_CHROMIUM"), &err) != CUSTOS_OK) {
		cli_error(TOOL, "--pdf: %s", err.message);
		rc = CLI_EXIT_FAILURE;
	}
	free(html);
	return rc;
}

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
	const char *html_path = NULL, *pdf_path = NULL, *lang_code = NULL;
	custos_lang *lang = NULL;
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
		case OPT_PROFILE: opts.profile_path = optarg; break;
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
		case OPT_HTML: html_path = optarg; break;
		case OPT_PDF: pdf_path = optarg; break;
		case OPT_LANG: lang_code = optarg; break;
		case OPT_CASE_UCO: case_uco = optarg; break;
		case OPT_BLOCKMAP_ONLY: opts.blockmap_only = 1; break;
		case 'q': quiet = 1; break;
		case 'h': {
			custos_lang *hl = help_lang(argc, argv);

			cli_print_help_lang(stdout, hl,
				TOOL " [OPTIONS] TARGET...",
				N_("Verify a case and give one verdict: "
				"VERIFIED, FAILED or INCOMPLETE."), options,
				OPTION_COUNT, epilogue);
			custos_lang_free(hl);
			rc = CLI_EXIT_OK;
			goto out;
		}
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
	if (lang_code != NULL && custos_lang_open(&lang, lang_code,
			getenv("CUSTOS_LOCALEDIR"), &err) != CUSTOS_OK) {
		cli_error(TOOL, "--lang: %s", err.message);
		rc = err.status == CUSTOS_EINVAL ? CLI_EXIT_USAGE
						 : CLI_EXIT_FAILURE;
		goto out;
	}
	/* Refuse an existing output before the (long) verification. */
	if ((html_path && output_exists(html_path)) ||
	    (pdf_path && output_exists(pdf_path))) {
		cli_error(TOOL, "%s already exists; nothing is overwritten",
			html_path && output_exists(html_path) ?
			html_path : pdf_path);
		rc = CLI_EXIT_FAILURE;
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
		  : custos_verify_case_to_text_lang(&text, res, quiet, lang,
			&err);
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
	rc = custos_verify_case_verdict(res) == CUSTOS_VERDICT_VERIFIED &&
		custos_verify_case_profile_met(res) != 0 ? CLI_EXIT_OK
		: CLI_EXIT_NOT_CLEAN;
	if (html_path != NULL || pdf_path != NULL) {
		int wrc = write_court_report(res, lang, html_path, pdf_path,
			trust, ntrust);

		if (wrc != 0)
			rc = wrc;
	}
out:
	custos_lang_free(lang);
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(text);
	/* The case's result is freed by the system at exit (cli.h). */
	if (CLI_FREE_AT_EXIT)
		custos_verify_case_free(res);
	free(longopts);
	return rc;
}
