/*
 * custos-key: make an examiner's or authority's key with a self-signed
 * certificate or a CSR, and show what a certificate says.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "passphrase.h"

#define TOOL "custos-key"

static const char exit_text[] =
	"Exit status: 0 done; 2 usage error; 3 failure (I/O, an output that\n"
	"exists, an unreadable certificate).\n";

/* Usage errors name the tool and point to --help. */
#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

static void print_main_help(void)
{
	printf("Usage: %s COMMAND [OPTIONS]\n"
		"Make and show identities (a key with its certificate) for "
		"signing evidence.\n\n"
		"Commands:\n"
		"  new    make a key and a self-signed certificate or a CSR\n"
		"  show   print a certificate's subject, issuer, validity and "
		"SHA-256 fingerprint\n\n"
		"'%s COMMAND --help' lists a command's options.\n\n%s",
		TOOL, TOOL, exit_text);
}

/* ---- new ---- */

enum {
	OPT_CSR = 256, OPT_ORG, OPT_UNIT, OPT_COUNTRY, OPT_ROLE, OPT_DAYS,
	OPT_ENCRYPT, OPT_PASS_FILE, OPT_PASS_FD,
};

static const cli_option new_options[] = {
	{{"key", required_argument, NULL, 'k'}, "FILE",
	 "write the private key to FILE (PEM, mode 0600)"},
	{{"out", required_argument, NULL, 'o'}, "FILE",
	 "write the certificate (or the CSR) to FILE (PEM)"},
	{{"type", required_argument, NULL, 't'}, "TYPE",
	 "ecdsa-p256 (default), ecdsa-p384, ecdsa-p521, rsa-3072 (PSS),\n"
	 "                               ed25519 (not for CMS)"},
	{{"csr", no_argument, NULL, OPT_CSR}, NULL,
	 "write a CSR for a CA instead of a self-signed certificate"},
	{{"name", required_argument, NULL, 'n'}, "TEXT",
	 "the person's or authority's name (CN), required"},
	{{"org", required_argument, NULL, OPT_ORG}, "TEXT", "organisation (O)"},
	{{"unit", required_argument, NULL, OPT_UNIT}, "TEXT",
	 "organisational unit (OU)"},
	{{"country", required_argument, NULL, OPT_COUNTRY}, "CC",
	 "two-letter country code (C)"},
	{{"role", required_argument, NULL, OPT_ROLE}, "TEXT",
	 "role, e.g. \"Forensic Examiner\" (title)"},
	{{"days", required_argument, NULL, OPT_DAYS}, "N",
	 "validity of the self-signed certificate (default 730)"},
	{{"encrypt", no_argument, NULL, OPT_ENCRYPT}, NULL,
	 "protect the key with a passphrase asked on the terminal"},
	{{"passphrase-file", required_argument, NULL, OPT_PASS_FILE}, "FILE",
	 "protect the key with the passphrase in FILE's first line"},
	{{"passphrase-fd", required_argument, NULL, OPT_PASS_FD}, "N",
	 "protect the key with the passphrase read from descriptor N"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define NEW_COUNT (sizeof(new_options) / sizeof(new_options[0]))

static const char new_epilogue[] =
	"The key usage is digitalSignature,nonRepudiation.  The key is never\n"
	"printed; passphrases are never taken from the command line.\n\n";

static int cmd_new(int argc, char **argv)
{
	custos_key_options o;
	passphrase_source pass;
	custos_error err;
	struct option *longopts = NULL;
	char shortopts[64];
	char secret[PASSPHRASE_MAX];
	const char *key = NULL, *out = NULL;
	int encrypt = 0, c, n, rc = CLI_EXIT_OK;
	unsigned long days;
	custos_status st;

	custos_key_options_init(&o);
	passphrase_source_init(&pass, TOOL);
	pass.prompt = "Passphrase for the new key: ";
	pass.confirm = 1;
	custos_error_clear(&err);
	if (cli_getopt_tables(new_options, NEW_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'o': out = optarg; break;
		case 't':
			if (custos_key_type_parse(&o.type, optarg, &err) !=
					CUSTOS_OK) {
				usage_error("%s", err.message);
				goto usage;
			}
			break;
		case OPT_CSR: o.csr = 1; break;
		case 'n': o.name = optarg; break;
		case OPT_ORG: o.organization = optarg; break;
		case OPT_UNIT: o.unit = optarg; break;
		case OPT_COUNTRY: o.country = optarg; break;
		case OPT_ROLE: o.role = optarg; break;
		case OPT_DAYS:
			if (!cli_parse_uint(optarg, 36525, &days) || days == 0) {
				usage_error("bad --days '%s' (1 to 36525)",
					optarg);
				goto usage;
			}
			o.days = (unsigned int)days;
			break;
		case OPT_ENCRYPT: encrypt = 1; break;
		case OPT_PASS_FILE: pass.file = optarg; encrypt = 1; break;
		case OPT_PASS_FD:
			if (!passphrase_parse_fd(optarg, &pass.fd)) {
				usage_error("bad --passphrase-fd '%s'", optarg);
				goto usage;
			}
			encrypt = 1;
			break;
		case 'h':
			cli_print_help(stdout, TOOL " new [OPTIONS] --name NAME "
				"-k KEY -o CERT",
				"Make a key with a self-signed certificate or a "
				"CSR.", new_options, NEW_COUNT, new_epilogue);
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
	longopts = NULL;
	if (optind != argc) {
		usage_error("unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (key == NULL || out == NULL) {
		usage_error("%s", key == NULL ? "no key file given (-k FILE)"
					      : "no output given (-o FILE)");
		return CLI_EXIT_USAGE;
	}
	if (o.name == NULL) {
		usage_error("no name given (--name NAME)");
		return CLI_EXIT_USAGE;
	}
	if (pass.file != NULL && pass.fd >= 0) {
		usage_error("give either --passphrase-file or --passphrase-fd");
		return CLI_EXIT_USAGE;
	}
	if (encrypt) {
		n = passphrase_read(&pass, secret, sizeof(secret));
		if (n < 0)
			return CLI_EXIT_FAILURE;
		o.passphrase = secret;
		o.passphrase_len = (size_t)n;
	}
	st = custos_key_new(key, out, &o, &err);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return cli_exit_status(st);
	}
	printf("key: ");
	cli_fputs_safe(key, stdout);
	printf(" (%s, mode 0600, %s)\n", custos_key_type_name(o.type),
		encrypt ? "encrypted" : "NOT encrypted");
	if (o.csr) {
		printf("csr: ");
		cli_fputs_safe(out, stdout);
		printf("\n");
	} else {
		custos_cert *cert = NULL;

		printf("certificate: ");
		cli_fputs_safe(out, stdout);
		printf("\n");
		if (custos_cert_load(&cert, out, &err) == CUSTOS_OK) {
			printf("sha256: %s\n",
				custos_cert_fingerprint_sha256(cert));
			custos_cert_free(cert);
		}
	}
	return rc;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}

/* ---- show ---- */

enum { OPT_JSON = 300 };

static const cli_option show_options[] = {
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 "print each certificate as a JSON object"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define SHOW_COUNT (sizeof(show_options) / sizeof(show_options[0]))

static void field(const char *name, const char *value)
{
	printf("%-12s ", name);
	cli_fputs_safe(value, stdout);
	printf("\n");
}

static int cmd_show(int argc, char **argv)
{
	struct option *longopts = NULL;
	char shortopts[16];
	custos_error err;
	int json = 0, c, rc = CLI_EXIT_OK;

	custos_error_clear(&err);
	if (cli_getopt_tables(show_options, SHOW_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " show [--json] CERT...",
				"Print a certificate's subject, issuer, validity "
				"and SHA-256 fingerprint.", show_options,
				SHOW_COUNT, NULL);
			printf("\n%s", exit_text);
			free(longopts);
			return CLI_EXIT_OK;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			free(longopts);
			return CLI_EXIT_USAGE;
		}
	}
	free(longopts);
	if (optind >= argc) {
		usage_error("no certificate given");
		return CLI_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		custos_cert *cert = NULL;
		custos_status st = custos_cert_load(&cert, argv[i], &err);
		char *text = NULL;

		if (st != CUSTOS_OK) {
			cli_error(TOOL, "%s", err.message);
			/* A FIFO or device given as CERT is a usage error. */
			if (rc != CLI_EXIT_FAILURE)
				rc = st == CUSTOS_EINVAL ? CLI_EXIT_USAGE
							 : CLI_EXIT_FAILURE;
			continue;
		}
		if (json) {
			if (custos_cert_to_json(&text, cert, &err) != CUSTOS_OK) {
				cli_error(TOOL, "%s", err.message);
				rc = CLI_EXIT_FAILURE;
			} else {
				printf("%s\n", text);
			}
			free(text);
		} else {
			if (i > optind)
				printf("\n");
			field("file:", argv[i]);
			field("subject:", custos_cert_subject(cert));
			field("issuer:", custos_cert_issuer(cert));
			field("serial:", custos_cert_serial(cert));
			field("not before:", custos_cert_not_before(cert));
			field("not after:", custos_cert_not_after(cert));
			field("key:", custos_cert_key_type(cert));
			field("key usage:", custos_cert_key_usage(cert)[0]
				? custos_cert_key_usage(cert) : "(any)");
			field("CA:", custos_cert_is_ca(cert) ? "yes" : "no");
			field("sha256:", custos_cert_fingerprint_sha256(cert));
		}
		custos_cert_free(cert);
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const cli_command commands[] = {
		{"new", cmd_new},
		{"show", cmd_show},
	};

	return cli_dispatch(TOOL, argc, argv, commands,
		sizeof(commands) / sizeof(commands[0]), print_main_help);
}
