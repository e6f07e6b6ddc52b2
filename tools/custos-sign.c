/*
 * custos-sign: sign a file (detached CMS CAdES, <file>.p7s), time-stamp it
 * (RFC 3161, <file>.tsr), and verify both.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "passphrase.h"

#define TOOL "custos-sign"
#define MAX_TRUST 16

static const char exit_text[] =
	"Exit status: 0 done (verify: every check passed); 1 a check failed:\n"
	"changed file, bad or malformed signature, untrusted or expired\n"
	"certificate, key usage, time stamp over other data; 2 usage error,\n"
	"or a key or certificate that cannot sign; 3 failure (I/O, a missing\n"
	"file, an existing output, TSA unreachable or refusing).\n";

/* Usage errors name the tool and point to --help. */
#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

static void print_main_help(void)
{
	printf("Usage: %s COMMAND [OPTIONS] FILE...\n"
		"Sign files, time-stamp them, and verify signatures and time "
		"stamps.\n\n"
		"Commands:\n"
		"  sign       write FILE.p7s: detached CMS, CAdES-B-B "
		"(CAdES-B-T with --tsa)\n"
		"  verify     check FILE.p7s and FILE.tsr against FILE\n"
		"  timestamp  write FILE.tsr: an RFC 3161 time stamp from a TSA\n\n"
		"'%s COMMAND --help' lists a command's options.\n\n%s",
		TOOL, TOOL, exit_text);
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

enum {
	OPT_CHAIN = 256, OPT_TSA, OPT_TSA_TIMEOUT, OPT_DIGEST, OPT_PASS_FILE,
	OPT_PASS_FD, OPT_TRUST, OPT_SIGNATURE, OPT_TIMESTAMP, OPT_JSON,
};

/* ---- sign ---- */

static const cli_option sign_options[] = {
	{{"key", required_argument, NULL, 'k'}, "FILE",
	 "the signer's private key (PEM), required"},
	{{"cert", required_argument, NULL, 'c'}, "FILE",
	 "the signer's certificate (PEM or DER), required"},
	{{"chain", required_argument, NULL, OPT_CHAIN}, "PEM",
	 "intermediate CA certificates to include"},
	{{"tsa", required_argument, NULL, OPT_TSA}, "URL",
	 "add an RFC 3161 time stamp from URL (CAdES-B-T)"},
	{{"tsa-timeout", required_argument, NULL, OPT_TSA_TIMEOUT}, "SECONDS",
	 "give up on the TSA after SECONDS (default 30)"},
	{{"digest", required_argument, NULL, OPT_DIGEST}, "ALG",
	 "sha256, sha384, sha512 (default: the key's own)"},
	{{"passphrase-file", required_argument, NULL, OPT_PASS_FILE}, "FILE",
	 "read the key's passphrase from FILE's first line"},
	{{"passphrase-fd", required_argument, NULL, OPT_PASS_FD}, "N",
	 "read the key's passphrase from descriptor N"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define SIGN_COUNT (sizeof(sign_options) / sizeof(sign_options[0]))

static int parse_timeout(const char *text, unsigned int *out)
{
	unsigned long n;

	if (!cli_parse_uint(text, 3600, &n) || n == 0)
		return 0;
	*out = (unsigned int)n;
	return 1;
}

static int parse_digest(const char *text, custos_digest_alg *out)
{
	if (strcmp(text, "sha256") == 0)
		*out = CUSTOS_DIGEST_SHA256;
	else if (strcmp(text, "sha512") == 0)
		*out = CUSTOS_DIGEST_SHA512;
	else
		return 0;
	return 1;
}

static int cmd_sign(int argc, char **argv)
{
	custos_sign_options o;
	passphrase_source pass;
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[64];
	int quiet = 0, c, rc = CLI_EXIT_OK;

	custos_sign_options_init(&o);
	passphrase_source_init(&pass, TOOL);
	custos_error_clear(&err);
	if (cli_getopt_tables(sign_options, SIGN_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.key_path = optarg; break;
		case 'c': o.cert_path = optarg; break;
		case OPT_CHAIN: o.chain_path = optarg; break;
		case OPT_TSA: o.tsa_url = optarg; break;
		case OPT_TSA_TIMEOUT:
			if (!parse_timeout(optarg, &o.tsa_timeout)) {
				usage_error("bad --tsa-timeout '%s' (1 to 3600)",
					optarg);
				goto usage;
			}
			break;
		case OPT_DIGEST:
			if (strcmp(optarg, "auto") == 0 ||
			    custos_sign_digest_parse(&o.digest, optarg, NULL)
				    != CUSTOS_OK) {
				usage_error("bad --digest '%s' (sha256, sha384, "
					"sha512)", optarg);
				goto usage;
			}
			break;
		case OPT_PASS_FILE: pass.file = optarg; break;
		case OPT_PASS_FD:
			if (!passphrase_parse_fd(optarg, &pass.fd)) {
				usage_error("bad --passphrase-fd '%s'", optarg);
				goto usage;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " sign [OPTIONS] -k KEY -c "
				"CERT FILE...",
				"Write FILE.p7s, a detached CMS signature "
				"(CAdES-B-B; CAdES-B-T with --tsa).",
				sign_options, SIGN_COUNT,
				"An ECDSA key signs with its curve's digest "
				"(RFC 5753): P-256 sha256,\nP-384 sha384, P-521 "
				"sha512; --digest naming another is refused.  "
				"RSA keys\n(RSASSA-PSS) take any of the three, "
				"sha256 by default.\n\n"
				"An encrypted key's passphrase is asked on the "
				"terminal unless a\npassphrase file or "
				"descriptor is given.\n\n");
			printf("%s", exit_text);
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
	if (o.key_path == NULL || o.cert_path == NULL) {
		usage_error("%s", o.key_path == NULL ? "no key given (-k KEY)"
			: "no certificate given (-c CERT)");
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc) {
		usage_error("no FILE to sign");
		return CLI_EXIT_USAGE;
	}
	if (pass.file != NULL && pass.fd >= 0) {
		usage_error("give either --passphrase-file or --passphrase-fd");
		return CLI_EXIT_USAGE;
	}
	pass.prompt = "Passphrase for the signing key: ";
	o.passphrase = passphrase_callback;
	o.passphrase_ctx = &pass;
	for (int i = optind; i < argc; i++) {
		custos_status st = custos_sign_file(argv[i], &o, &err);

		if (st != CUSTOS_OK) {
			cli_error(TOOL, "%s", err.message);
			rc = worst(rc, st == CUSTOS_EINVAL ? CLI_EXIT_USAGE
							   : CLI_EXIT_FAILURE);
			if (st == CUSTOS_EINVAL)
				break; /* the same key fails every file */
			continue;
		}
		if (!quiet) {
			printf("signed: ");
			cli_fputs_safe(argv[i], stdout);
			printf(".p7s%s\n", o.tsa_url != NULL
				? " (CAdES-B-T, time-stamped)" : " (CAdES-B-B)");
		}
	}
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}

/* ---- timestamp ---- */

static const cli_option ts_options[] = {
	{{"tsa", required_argument, NULL, OPT_TSA}, "URL",
	 "the time-stamping authority, required"},
	{{"tsa-timeout", required_argument, NULL, OPT_TSA_TIMEOUT}, "SECONDS",
	 "give up on the TSA after SECONDS (default 30)"},
	{{"digest", required_argument, NULL, OPT_DIGEST}, "ALG",
	 "sha256 (default) or sha512"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define TS_COUNT (sizeof(ts_options) / sizeof(ts_options[0]))

static int cmd_timestamp(int argc, char **argv)
{
	custos_tsa_options o;
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[16];
	int quiet = 0, c, rc = CLI_EXIT_OK;

	custos_tsa_options_init(&o);
	custos_error_clear(&err);
	if (cli_getopt_tables(ts_options, TS_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TSA: o.url = optarg; break;
		case OPT_TSA_TIMEOUT:
			if (!parse_timeout(optarg, &o.timeout)) {
				usage_error("bad --tsa-timeout '%s' (1 to 3600)",
					optarg);
				goto usage;
			}
			break;
		case OPT_DIGEST:
			if (!parse_digest(optarg, &o.digest)) {
				usage_error("bad --digest '%s' (sha256, sha512)",
					optarg);
				goto usage;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " timestamp --tsa URL "
				"FILE...",
				"Write FILE.tsr, an RFC 3161 time stamp over "
				"FILE.", ts_options, TS_COUNT, "\n");
			printf("%s", exit_text);
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
	if (o.url == NULL) {
		usage_error("no TSA given (--tsa URL)");
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc) {
		usage_error("no FILE to time-stamp");
		return CLI_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		custos_status st = custos_timestamp_file(argv[i], &o, &err);

		if (st != CUSTOS_OK) {
			cli_error(TOOL, "%s", err.message);
			rc = worst(rc, st == CUSTOS_EINVAL ? CLI_EXIT_USAGE
							   : CLI_EXIT_FAILURE);
			if (st == CUSTOS_EINVAL)
				break;
			continue;
		}
		if (!quiet) {
			printf("time-stamped: ");
			cli_fputs_safe(argv[i], stdout);
			printf(".tsr\n");
		}
	}
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}

/* ---- verify ---- */

static const cli_option verify_options[] = {
	{{"trust", required_argument, NULL, OPT_TRUST}, "PEM",
	 "trusted CA certificates (repeatable); default: the system's"},
	{{"signature", required_argument, NULL, OPT_SIGNATURE}, "P7S",
	 "the signature (default FILE.p7s, checked when present)"},
	{{"timestamp", required_argument, NULL, OPT_TIMESTAMP}, "TSR",
	 "the time stamp (default FILE.tsr, checked when present)"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 "print the result as JSON (one object per FILE)"},
	{{"quiet", no_argument, NULL, 'q'}, NULL,
	 "print nothing; only the exit status tells"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define VERIFY_COUNT (sizeof(verify_options) / sizeof(verify_options[0]))

static void line(const char *name, const char *value)
{
	printf("%-12s ", name);
	cli_fputs_safe(value != NULL ? value : "-", stdout);
	printf("\n");
}

static void print_text(const custos_sign_verification *v)
{
	const custos_cert *signer = custos_sign_verification_signer(v);
	const char *sig = custos_sign_verification_signature_path(v);
	char buf[256];

	line("file:", custos_sign_verification_path(v));
	if (sig != NULL) {
		snprintf(buf, sizeof(buf), "%s",
			custos_sign_check_name(
				custos_sign_verification_signature_check(v)));
		printf("%-12s ", "signature:");
		cli_fputs_safe(sig, stdout);
		printf(": %s\n", buf);
		if (signer != NULL) {
			line("  signer:", custos_cert_subject(signer));
			line("  issuer:", custos_cert_issuer(signer));
			line("  sha256:", custos_cert_fingerprint_sha256(signer));
			line("  valid to:", custos_cert_not_after(signer));
		}
		line("  signed at:", custos_sign_verification_signing_time(v));
		snprintf(buf, sizeof(buf), "%s%s",
			custos_sign_verification_digest(v) != NULL
				? custos_sign_verification_digest(v) : "-",
			custos_sign_verification_cades(v)
				? ", CAdES (signing-certificate-v2)" : "");
		line("  digest:", buf);
		if (custos_sign_verification_signature_check(v) !=
				CUSTOS_SIGN_OK)
			line("  reason:",
				custos_sign_verification_signature_message(v));
	}
	for (size_t i = 0; i < custos_sign_verification_timestamp_count(v);
			i++) {
		const custos_timestamp *ts =
			custos_sign_verification_timestamp(v, i);

		printf("%-12s ", "timestamp:");
		if (strcmp(custos_timestamp_kind(ts), "signature") == 0)
			printf("over the signature");
		else
			cli_fputs_safe(custos_timestamp_path(ts), stdout);
		printf(": %s\n", custos_sign_check_name(
			custos_timestamp_check(ts)));
		line("  time:", custos_timestamp_time(ts));
		line("  authority:", custos_timestamp_tsa_name(ts));
		if (custos_timestamp_tsa_cert(ts) != NULL)
			line("  tsa cert:", custos_cert_subject(
				custos_timestamp_tsa_cert(ts)));
		if (custos_timestamp_check(ts) != CUSTOS_SIGN_OK)
			line("  reason:", custos_timestamp_message(ts));
	}
	if (custos_sign_verification_result(v) == CUSTOS_SIGN_OK) {
		printf("verdict:     VERIFIED\n");
	} else {
		printf("verdict:     FAILED (%s): ", custos_sign_check_name(
			custos_sign_verification_result(v)));
		cli_fputs_safe(custos_sign_verification_message(v), stdout);
		printf("\n");
	}
}

static int cmd_verify(int argc, char **argv)
{
	custos_sign_verify_options o;
	const char *trust[MAX_TRUST];
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[16];
	int json = 0, quiet = 0, c, rc = CLI_EXIT_OK;

	custos_sign_verify_options_init(&o);
	custos_error_clear(&err);
	if (cli_getopt_tables(verify_options, VERIFY_COUNT, &longopts,
			shortopts, sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TRUST:
			if (o.trust_count == MAX_TRUST) {
				usage_error("at most %d --trust files",
					MAX_TRUST);
				goto usage;
			}
			trust[o.trust_count++] = optarg;
			break;
		case OPT_SIGNATURE: o.signature_path = optarg; break;
		case OPT_TIMESTAMP: o.timestamp_path = optarg; break;
		case OPT_JSON: json = 1; break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " verify [OPTIONS] FILE...",
				"Check FILE.p7s (signature, certificate chain, "
				"key usage, its time stamp)\nand FILE.tsr "
				"against FILE.", verify_options, VERIFY_COUNT,
				"The certificate chain is checked at the time "
				"of a valid time stamp over\nthe signature, "
				"else now.  Revocation is not checked.\n\n");
			printf("%s", exit_text);
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
	o.trust = trust;
	if (optind >= argc) {
		usage_error("no FILE to verify");
		return CLI_EXIT_USAGE;
	}
	if ((o.signature_path != NULL || o.timestamp_path != NULL) &&
	    argc - optind > 1) {
		usage_error("--signature and --timestamp take one FILE");
		return CLI_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		custos_sign_verification *v = NULL;
		custos_status st = custos_sign_verify_file(&v, argv[i], &o,
			&err);
		char *text = NULL;

		if (v == NULL) {
			cli_error(TOOL, "%s", err.message);
			rc = worst(rc, st == CUSTOS_EINVAL ? CLI_EXIT_USAGE
							   : CLI_EXIT_FAILURE);
			continue;
		}
		if (json && !quiet) {
			if (custos_sign_verification_to_json(&text, v, &err) ==
					CUSTOS_OK)
				printf("%s\n", text);
			free(text);
		} else if (!quiet) {
			if (i > optind)
				printf("\n");
			print_text(v);
		}
		if (st != CUSTOS_OK) {
			cli_error(TOOL, "%s: FAILED (%s): %s", argv[i],
				custos_sign_check_name(
					custos_sign_verification_result(v)),
				custos_sign_verification_message(v));
			rc = worst(rc, CLI_EXIT_NOT_CLEAN);
		}
		custos_sign_verification_free(v);
	}
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const cli_command commands[] = {
		{"sign", cmd_sign},
		{"verify", cmd_verify},
		{"timestamp", cmd_timestamp},
	};

	signal(SIGPIPE, SIG_IGN);
	return cli_dispatch(TOOL, argc, argv, commands,
		sizeof(commands) / sizeof(commands[0]), print_main_help);
}
