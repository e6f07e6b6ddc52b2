/*
 * custos-disclose: make a disclosure package (only the blocks that hold
 * the chosen files or byte ranges, each proven against the signed report's
 * block map root), or verify one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TOOL "custos-disclose"
#define MAX_LIST 1024

enum { OPT_MAP = 256, OPT_REPORT, OPT_RECORD, OPT_RANGE, OPT_PATH, OPT_INODE,
	OPT_TRUST, OPT_UNSIGNED };

static const cli_option options[] = {
	{{"output", required_argument, NULL, 'o'}, "DIR",
	 "create: the package folder to write (must not exist)"},
	{{"blockmap", required_argument, NULL, OPT_MAP}, "FILE",
	 "create: the image's block map (default BASE.blockmap)"},
	{{"report", required_argument, NULL, OPT_REPORT}, "FILE",
	 "create: the signed report (default BASE.report.json; its .p7s "
	 "goes in too)"},
	{{"custody-record", required_argument, NULL, OPT_RECORD}, "FILE",
	 "create: the 'acquired' custody record to include"},
	{{"range", required_argument, NULL, OPT_RANGE}, "OFF:LEN",
	 "create: disclose media bytes OFF..OFF+LEN-1 (repeatable)"},
	{{"path", required_argument, NULL, OPT_PATH}, "PATH",
	 "create: disclose the file at PATH, e.g. /README.txt (repeatable)"},
	{{"inode", required_argument, NULL, OPT_INODE}, "N",
	 "create: disclose the file with inode N (repeatable)"},
	{{"trust", required_argument, NULL, OPT_TRUST}, "PEM",
	 "verify: a CA the report's signer must chain to (repeatable)"},
	{{"allow-unsigned", no_argument, NULL, OPT_UNSIGNED}, NULL,
	 "verify: accept a report without a signature"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
	{{"version", no_argument, NULL, 'V'}, NULL, "show versions"},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static const char epilogue[] =
	"Commands:\n"
	"  create IMAGE...   write a package of the chosen files or ranges\n"
	"  verify PACKAGE    check a package alone\n"
	"\n"
	"Exit status: 0 written, or verified; 1 the package (or the image)\n"
	"failed a check: a changed block, a proof that does not lead to the\n"
	"signed root, a file that does not reassemble, something extra;\n"
	"2 usage error; 3 failure (I/O, missing file, existing output).\n";

#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

static int exit_for(custos_status st)
{
	if (st == CUSTOS_OK)
		return CLI_EXIT_OK;
	if (st == CUSTOS_EMISMATCH || st == CUSTOS_EFORMAT)
		return CLI_EXIT_NOT_CLEAN;
	return st == CUSTOS_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}

static char *image_base(const char *path)
{
	static const char *const ext[] = {".raw", ".E01", ".e01", ".001",
					  ".dd", ".img"};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(ext) / sizeof(*ext); i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(path + n - e, ext[i]) == 0) {
			char *b = malloc(n - e + 1);

			if (b != NULL) {
				memcpy(b, path, n - e);
				b[n - e] = '\0';
			}
			return b;
		}
	}
	return NULL;
}

static char *with_suffix(const char *base, const char *suffix)
{
	size_t n = base ? strlen(base) + strlen(suffix) + 1 : 0;
	char *p = n ? malloc(n) : NULL;

	if (p != NULL)
		snprintf(p, n, "%s%s", base, suffix);
	return p;
}

int main(int argc, char **argv)
{
	custos_disclose_range ranges[MAX_LIST];
	const char *paths[MAX_LIST], *trust[64];
	uint64_t inodes[MAX_LIST];
	size_t nranges = 0, npaths = 0, ninodes = 0, ntrust = 0;
	const char *output = NULL, *map = NULL, *report = NULL, *record = NULL;
	int allow_unsigned = 0, c, rc;
	struct option *longopts = NULL;
	char shortopts[64], *base = NULL, *map_d = NULL, *report_d = NULL;
	custos_error err;
	custos_status st;
	const char *cmd;

	custos_error_clear(&err);
	if (cli_getopt_tables(options, OPTION_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		uint64_t a, b;
		unsigned long n;
		char *colon;

		switch (c) {
		case 'o': output = optarg; break;
		case OPT_MAP: map = optarg; break;
		case OPT_REPORT: report = optarg; break;
		case OPT_RECORD: record = optarg; break;
		case OPT_RANGE:
			colon = strchr(optarg, ':');
			if (colon == NULL || nranges == MAX_LIST) {
				usage_error("bad --range '%s' (OFF:LEN)", optarg);
				goto usage;
			}
			*colon = '\0';
			if (!cli_parse_size(optarg, &a) ||
			    !cli_parse_size(colon + 1, &b) || b == 0) {
				usage_error("bad --range (OFF:LEN, LEN > 0)");
				goto usage;
			}
			ranges[nranges].offset = a;
			ranges[nranges++].length = b;
			break;
		case OPT_PATH:
			if (npaths == MAX_LIST || optarg[0] != '/') {
				usage_error("bad --path '%s' (absolute, in the "
					"image's file system)", optarg);
				goto usage;
			}
			paths[npaths++] = optarg;
			break;
		case OPT_INODE:
			if (ninodes == MAX_LIST ||
			    !cli_parse_uint(optarg, ~0ul, &n)) {
				usage_error("bad --inode '%s'", optarg);
				goto usage;
			}
			inodes[ninodes++] = n;
			break;
		case OPT_TRUST:
			if (ntrust == 64) {
				usage_error("more than 64 --trust");
				goto usage;
			}
			trust[ntrust++] = optarg;
			break;
		case OPT_UNSIGNED: allow_unsigned = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " create [OPTIONS] -o DIR "
				"IMAGE...\n       " TOOL " verify [--trust PEM] "
				"PACKAGE",
				"Disclose only the blocks that hold chosen files "
				"or byte ranges of an image, each proven against "
				"the signed report; or verify such a package.",
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
		usage_error("no command given (create or verify)");
		return CLI_EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "verify") == 0) {
		custos_disclose_verify_options vo;
		custos_disclose_verify_result res;

		if (optind + 1 != argc) {
			usage_error("verify takes one PACKAGE");
			return CLI_EXIT_USAGE;
		}
		custos_disclose_verify_options_init(&vo);
		vo.trust = trust;
		vo.trust_count = ntrust;
		vo.allow_unsigned = allow_unsigned;
		st = custos_disclose_verify(argv[optind], &vo, &res, &err);
		printf("package: ");
		cli_fputs_safe(argv[optind], stdout);
		printf("\nroot: %s\n", res.root[0] ? res.root : "-");
		printf("report signature: %s\n", res.signature_ok ? "good"
			: "not checked or bad");
		printf("custody record: %s\n", res.custody_record_ok < 0
			? "none" : res.custody_record_ok ? "names the report"
			: "DIFFERS");
		printf("blocks proven: %llu\n",
			(unsigned long long)res.blocks_checked);
		printf("files reassembled: %llu\n",
			(unsigned long long)res.files_checked);
		printf("ranges reassembled: %llu\n",
			(unsigned long long)res.ranges_checked);
		printf("bag manifests: %s\n", res.bag_checked ? "good"
			: "not checked");
		printf("result: %s\n", st == CUSTOS_OK ? "VERIFIED" : "FAILED");
		if (st != CUSTOS_OK)
			cli_error(TOOL, "%s", err.message);
		return exit_for(st);
	}
	if (strcmp(cmd, "create") != 0) {
		usage_error("unknown command '%s' (create or verify)", cmd);
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc || output == NULL) {
		usage_error("create needs -o DIR and an IMAGE");
		return CLI_EXIT_USAGE;
	}
	if (nranges + npaths + ninodes == 0) {
		usage_error("nothing chosen: give --path, --inode or --range");
		return CLI_EXIT_USAGE;
	}
	base = image_base(argv[optind]);
	if (map == NULL)
		map = map_d = with_suffix(base, ".blockmap");
	if (report == NULL)
		report = report_d = with_suffix(base, ".report.json");
	if (map == NULL || report == NULL) {
		usage_error("give --blockmap and --report (the image name "
			"does not end in .raw, .E01 or .001)");
		free(base);
		free(map_d);
		free(report_d);
		return CLI_EXIT_USAGE;
	}
	{
		custos_disclose_options o;
		custos_disclose_summary sum;

		custos_disclose_options_init(&o);
		o.image_paths = (const char *const *)argv + optind;
		o.image_count = (size_t)(argc - optind);
		o.blockmap_path = map;
		o.report_path = report;
		o.custody_record_path = record;
		o.ranges = ranges;
		o.range_count = nranges;
		o.paths = paths;
		o.path_count = npaths;
		o.inodes = inodes;
		o.inode_count = ninodes;
		o.output = output;
		st = custos_disclose_create(&o, &sum, &err);
		if (st == CUSTOS_OK) {
			printf("package: ");
			cli_fputs_safe(output, stdout);
			printf("\nfiles: %llu\nranges: %llu\n"
				"requested bytes: %llu\n"
				"blocks: %llu (%llu bytes)\n"
				"longest proof: %zu hashes\n",
				(unsigned long long)sum.files,
				(unsigned long long)sum.ranges,
				(unsigned long long)sum.requested_bytes,
				(unsigned long long)sum.blocks,
				(unsigned long long)sum.block_bytes,
				sum.longest_proof);
		} else {
			cli_error(TOOL, "%s", err.message);
		}
	}
	rc = exit_for(st);
	free(base);
	free(map_d);
	free(report_d);
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}
