/*
 * custos-bundle: evidence bundles for cross-border transmission.
 *   create   a signed BagIt bag, as a pax tar, encrypted with age, in parts
 *   verify   check a bundle (or a plain bag, folder or tar) without
 *            extracting it
 *   open     extract a bundle into a new folder, only after it verified
 *   receipt  verify and write a signed receipt (and a custody record)
 *   keygen   make an age X25519 identity file (AGE-SECRET-KEY-1...)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "passphrase.h"

#define TOOL "custos-bundle"
#define MAX_LIST 16

static const char exit_text[] =
	"Exit status: 0 done (verify: every check passed); 1 the bundle is not\n"
	"clean (a hash, size, signature or decryption check failed, a hostile\n"
	"or invalid bag); 2 usage error, or a request lacking a required field;\n"
	"3 failure (I/O, a missing file, an existing output).\n";

#define usage_error(...) cli_usage_error(TOOL, __VA_ARGS__)

enum {
	OPT_REQUEST = 256, OPT_SPLIT, OPT_PASS_FILE, OPT_PASS_FD, OPT_TRUST,
	OPT_LOG, OPT_OFFICER, OPT_AUTHORITY, OPT_STORAGE, OPT_RECEIVED_AT,
	OPT_ITEM,
};

static void print_main_help(void)
{
	printf("Usage: %s COMMAND [OPTIONS] ...\n"
		"Evidence bundles for cross-border transmission: BagIt 1.0 bags,\n"
		"signed, encrypted with age (X25519) and split into parts.\n\n"
		"Commands:\n"
		"  create   write OUT.tar.age.NNN and a signed "
		"OUT.transfer-manifest.txt\n"
		"  verify   check a bundle, or a plain bag (folder or tar), "
		"without extracting\n"
		"  open     verify, then extract the bag into a new folder\n"
		"  receipt  verify and write a signed receipt\n"
		"  keygen   write a new age identity file and print its "
		"recipient\n\n"
		"'%s COMMAND --help' lists a command's options.\n\n%s",
		TOOL, TOOL, exit_text);
}

/* Read every identity of an age identity file into the next free slots,
 * as `age -d -i FILE` does: any of them may match a recipient stanza. */
static int load_identities(const char *path,
		char idbuf[][CUSTOS_AGE_IDENTITY_MAX], const char **ids,
		size_t *nids)
{
	custos_error err;
	char **found = NULL;
	size_t count = 0;
	int rc = 0;

	if (custos_age_identity_file_read_all(&found, &count, path, &err) !=
	    CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return -1;
	}
	for (size_t k = 0; k < count && rc == 0; k++) {
		if (*nids == MAX_LIST || strlen(found[k]) >=
		    CUSTOS_AGE_IDENTITY_MAX) {
			usage_error("more than %d identities", MAX_LIST);
			rc = -1;
			break;
		}
		memcpy(idbuf[*nids], found[k], strlen(found[k]) + 1);
		ids[*nids] = idbuf[*nids];
		(*nids)++;
	}
	custos_age_identities_free(found, count);
	return rc;
}

/* ---- create ---- */

static const cli_option create_options[] = {
	{{"request", required_argument, NULL, OPT_REQUEST}, "FILE",
	 "the legal request, JSON (custos-bundle(5)), required"},
	{{"sign-key", required_argument, NULL, 'k'}, "FILE",
	 "the sending authority's private key (PEM), required"},
	{{"sign-cert", required_argument, NULL, 'c'}, "FILE",
	 "the sending authority's certificate, required"},
	{{"recipient", required_argument, NULL, 'r'}, "AGE1...",
	 "encrypt to this age X25519 recipient (repeatable), required"},
	{{"split", required_argument, NULL, OPT_SPLIT}, "SIZE",
	 "cut the encrypted stream into parts of SIZE (640K, 2G, ...)"},
	{{"output", required_argument, NULL, 'o'}, "OUT",
	 "output prefix, required"},
	{{"log", required_argument, NULL, OPT_LOG}, "DIR",
	 "carry the items' custody records (metadata/custody.jsonl; "
	 "needs a checkpoint covering them) and append an 'exported' "
	 "record to the custody log in DIR"},
	{{"item", required_argument, NULL, OPT_ITEM}, "ID",
	 "evidence item ID for that record (repeatable; default: file names)"},
	{{"passphrase-file", required_argument, NULL, OPT_PASS_FILE}, "FILE",
	 "read the key's passphrase from FILE's first line"},
	{{"passphrase-fd", required_argument, NULL, OPT_PASS_FD}, "N",
	 "read the key's passphrase from descriptor N"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define CREATE_COUNT (sizeof(create_options) / sizeof(create_options[0]))

static int cmd_create(int argc, char **argv)
{
	custos_bundle_create_options o;
	custos_sign_options so;
	passphrase_source pass;
	custos_error err;
	struct option *longopts = NULL;
	const char *recipients[MAX_LIST], *log = NULL, *item_ids[64];
	size_t nrcpt = 0, nitems = 0;
	char shortopts[64], id[CUSTOS_BUNDLE_ID_MAX];
	int quiet = 0, c;
	custos_status st;

	custos_bundle_create_options_init(&o);
	custos_sign_options_init(&so);
	passphrase_source_init(&pass, TOOL);
	custos_error_clear(&err);
	if (cli_getopt_tables(create_options, CREATE_COUNT, &longopts,
			shortopts, sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_REQUEST: o.request_path = optarg; break;
		case 'k': so.key_path = optarg; break;
		case 'c': so.cert_path = optarg; break;
		case 'r':
			if (nrcpt == MAX_LIST) {
				usage_error("more than %d recipients", MAX_LIST);
				goto usage;
			}
			if (custos_age_recipient_check(optarg, &err) != CUSTOS_OK) {
				usage_error("bad --recipient: %s", err.message);
				goto usage;
			}
			recipients[nrcpt++] = optarg;
			break;
		case OPT_SPLIT:
			if (!cli_parse_size(optarg, &o.split_size) ||
			    o.split_size < 1024) {
				usage_error("bad --split '%s' (at least 1K)", optarg);
				goto usage;
			}
			break;
		case 'o': o.output = optarg; break;
		case OPT_LOG: log = optarg; break;
		case OPT_ITEM:
			if (nitems == 64) {
				usage_error("more than 64 --item");
				goto usage;
			}
			item_ids[nitems++] = optarg;
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
			cli_print_help(stdout, TOOL " create --request FILE "
				"--sign-key K --sign-cert C --recipient AGE1... "
				"[--split SIZE] -o OUT ITEM...",
				"Write a BagIt bundle of the ITEMs, signed, "
				"encrypted and split into parts.",
				create_options, CREATE_COUNT, "\n");
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
	if (o.request_path == NULL || so.key_path == NULL ||
	    so.cert_path == NULL || nrcpt == 0 || o.output == NULL) {
		usage_error("--request, --sign-key, --sign-cert, --recipient "
			"and -o are required");
		return CLI_EXIT_USAGE;
	}
	if (optind >= argc) {
		usage_error("no ITEM to bundle");
		return CLI_EXIT_USAGE;
	}
	pass.prompt = "Passphrase for the signing key: ";
	so.passphrase = passphrase_callback;
	so.passphrase_ctx = &pass;
	o.items = (const char *const *)argv + optind;
	o.item_count = (size_t)(argc - optind);
	o.sign = &so;
	o.recipients = recipients;
	o.recipient_count = nrcpt;
	/* The custody export and the 'exported' record name the same IDs. */
	o.custody_log = log;
	o.custody_items = nitems > 0 ? item_ids : o.items;
	o.custody_item_count = nitems > 0 ? nitems : o.item_count;
	st = custos_bundle_create(id, &o, &err);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		/* A request lacking a required field is a usage error. */
		return st == CUSTOS_EFORMAT || st == CUSTOS_EINVAL ?
			CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	/* The 'exported' record names the --item IDs, or the file names. */
	if (log != NULL && custos_bundle_log_exported(log, id, o.output,
			nitems > 0 ? item_ids : o.items,
			nitems > 0 ? nitems : o.item_count, &so, &err) !=
			CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return CLI_EXIT_FAILURE;
	}
	if (!quiet) {
		printf("bundle: %s\nparts: ", id);
		cli_fputs_safe(o.output, stdout);
		printf(".tar.age.000...\ntransfer manifest: ");
		cli_fputs_safe(o.output, stdout);
		printf(".transfer-manifest.txt (signed: .p7s)\n");
	}
	return CLI_EXIT_OK;
usage:
	free(longopts);
	return CLI_EXIT_USAGE;
}

/* ---- verify ---- */

/*
 * The -i IDENTITY and --trust PEM options that verify, open and receipt
 * share.  Returns 1 when c was one of them, 0 when it was not, and -1 on a
 * usage error, already reported.
 */
static int take_key_option(int c, const char *arg,
		char idbuf[][CUSTOS_AGE_IDENTITY_MAX], const char **ids,
		size_t *nids, const char **trust, size_t *ntrust)
{
	if (c == 'i') {
		if (load_identities(arg, idbuf, ids, nids) != 0)
			return -1;
		return 1;
	}
	if (c == OPT_TRUST) {
		if (*ntrust == MAX_LIST) {
			usage_error("more than %d --trust", MAX_LIST);
			return -1;
		}
		trust[(*ntrust)++] = arg;
		return 1;
	}
	return 0;
}

static const cli_option verify_options[] = {
	{{"identity", required_argument, NULL, 'i'}, "FILE",
	 "age identity file to decrypt with (repeatable)"},
	{{"trust", required_argument, NULL, OPT_TRUST}, "PEM",
	 "trusted CA certificates for the signatures (repeatable)"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define VERIFY_COUNT (sizeof(verify_options) / sizeof(verify_options[0]))

static int cmd_verify(int argc, char **argv)
{
	custos_bundle_verify_options o;
	custos_bundle_summary sum;
	custos_error err;
	struct option *longopts = NULL;
	const char *trust[MAX_LIST], *ids[MAX_LIST];
	char idbuf[MAX_LIST][CUSTOS_AGE_IDENTITY_MAX];
	size_t nids = 0, ntrust = 0;
	char shortopts[32];
	int quiet = 0, c, rc = CLI_EXIT_OK;
	custos_status st;

	custos_bundle_verify_options_init(&o);
	custos_error_clear(&err);
	if (cli_getopt_tables(verify_options, VERIFY_COUNT, &longopts,
			shortopts, sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int k = take_key_option(c, optarg, idbuf, ids, &nids, trust,
			&ntrust);

		if (k < 0) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (k > 0)
			continue;
		switch (c) {
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " verify [-i IDENTITY] "
				"[--trust CA.pem] OUT.transfer-manifest.txt|BAG",
				"Check a bundle through its parts, decryption and "
				"tar without extracting;\nor a plain BagIt bag "
				"(folder or tar).", verify_options,
				VERIFY_COUNT, "\n");
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
	if (optind + 1 != argc) {
		usage_error("give one bundle (transfer manifest, bag folder or "
			"tar)");
		goto usage;
	}
	o.identities = ids;
	o.identity_count = nids;
	o.trust = trust;
	o.trust_count = ntrust;
	st = custos_bundle_verify(&sum, argv[optind], &o, &err);
	if (st == CUSTOS_EFORMAT || st == CUSTOS_EMISMATCH ||
	    st == CUSTOS_ENOTFOUND) {
		/* Bad or hostile input, wrong key: the bundle is not clean. */
		if (st == CUSTOS_ENOTFOUND && access(argv[optind], F_OK) != 0)
			rc = CLI_EXIT_FAILURE;
		else
			rc = CLI_EXIT_NOT_CLEAN;
		printf("NOT VERIFIED: ");
		cli_fputs_safe(err.message, stdout);
		printf("\n");
		goto out;
	}
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		rc = cli_exit_status(st);
		goto out;
	}
	if (!quiet) {
		printf("bundle: ");
		cli_fputs_safe(sum.bundle_id, stdout);
		printf("\n");
		if (sum.encrypted)
			printf("transfer manifest: signature good, %u part(s) "
				"checked (SHA-256 %s)\ndecryption: age, authenticated "
				"to the end\n", sum.part_count,
				sum.transfer_manifest_sha256);
		printf("payload: %llu file(s), %llu bytes, every manifest entry "
			"and Payload-Oxum match\n",
			(unsigned long long)sum.payload_files,
			(unsigned long long)sum.payload_bytes);
		if (sum.tagmanifest_signed)
			printf("tag manifest: signature good (SHA-512 %s)\n",
				sum.tagmanifest_sha512);
		printf("VERIFIED\n");
	}
out:
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(longopts);
	return rc;
usage:
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(longopts);
	return CLI_EXIT_USAGE;
}

/* ---- open ---- */

static const cli_option open_options[] = {
	{{"identity", required_argument, NULL, 'i'}, "FILE",
	 "age identity file to decrypt with (repeatable)"},
	{{"trust", required_argument, NULL, OPT_TRUST}, "PEM",
	 "trusted CA certificates for the signatures (repeatable)"},
	{{"output", required_argument, NULL, 'o'}, "DIR",
	 "the new folder to extract the bag into, required"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define OPEN_COUNT (sizeof(open_options) / sizeof(open_options[0]))

static int cmd_open(int argc, char **argv)
{
	custos_bundle_verify_options o;
	custos_bundle_summary sum;
	custos_error err;
	struct option *longopts = NULL;
	const char *trust[MAX_LIST], *ids[MAX_LIST], *dest = NULL;
	char idbuf[MAX_LIST][CUSTOS_AGE_IDENTITY_MAX];
	size_t nids = 0, ntrust = 0;
	char shortopts[32];
	int quiet = 0, c, rc = CLI_EXIT_OK;
	custos_status st;

	custos_bundle_verify_options_init(&o);
	custos_error_clear(&err);
	if (cli_getopt_tables(open_options, OPEN_COUNT, &longopts,
			shortopts, sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int k = take_key_option(c, optarg, idbuf, ids, &nids, trust,
			&ntrust);

		if (k < 0) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (k > 0)
			continue;
		switch (c) {
		case 'o': dest = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " open [-i IDENTITY] "
				"[--trust CA.pem] -o DIR BUNDLE",
				"Verify BUNDLE completely, then extract its bag "
				"into the new folder DIR,\nchecking everything "
				"again while writing.", open_options, OPEN_COUNT,
				"\n");
			printf("%s", exit_text);
			goto out;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			rc = CLI_EXIT_USAGE;
			goto out;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (optind + 1 != argc || dest == NULL) {
		usage_error("give -o DIR and one bundle");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	o.identities = ids;
	o.identity_count = nids;
	o.trust = trust;
	o.trust_count = ntrust;
	st = custos_bundle_open(&sum, argv[optind], &o, dest, &err);
	if (st == CUSTOS_EFORMAT || st == CUSTOS_EMISMATCH ||
	    (st == CUSTOS_ENOTFOUND && access(argv[optind], F_OK) == 0)) {
		rc = CLI_EXIT_NOT_CLEAN;
		printf("NOT OPENED: ");
		cli_fputs_safe(err.message, stdout);
		printf("\n");
		goto out;
	}
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		rc = cli_exit_status(st);
		goto out;
	}
	if (!quiet) {
		printf("bundle: ");
		cli_fputs_safe(sum.bundle_id, stdout);
		printf("\nverified, then extracted into ");
		cli_fputs_safe(dest, stdout);
		printf(" (%llu payload file(s), %llu bytes)\n",
			(unsigned long long)sum.payload_files,
			(unsigned long long)sum.payload_bytes);
	}
out:
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(longopts);
	return rc;
}

/* ---- receipt ---- */

static const cli_option receipt_options[] = {
	{{"identity", required_argument, NULL, 'i'}, "FILE",
	 "age identity file to decrypt with (repeatable)"},
	{{"trust", required_argument, NULL, OPT_TRUST}, "PEM",
	 "trusted CA certificates for the signatures (repeatable)"},
	{{"sign-key", required_argument, NULL, 'k'}, "FILE",
	 "the receiving officer's private key (PEM), required"},
	{{"sign-cert", required_argument, NULL, 'c'}, "FILE",
	 "the receiving officer's certificate, required"},
	{{"officer", required_argument, NULL, OPT_OFFICER}, "NAME",
	 "the receiving officer, required"},
	{{"authority", required_argument, NULL, OPT_AUTHORITY}, "NAME",
	 "the receiving authority, required"},
	{{"storage", required_argument, NULL, OPT_STORAGE}, "TEXT",
	 "where the evidence is stored, required"},
	{{"received-at", required_argument, NULL, OPT_RECEIVED_AT}, "TIME",
	 "when the parts arrived (RFC 3339; default now)"},
	{{"log", required_argument, NULL, OPT_LOG}, "DIR",
	 "append a 'verified' record to the custody log in DIR"},
	{{"output", required_argument, NULL, 'o'}, "FILE",
	 "the receipt (JSON; signed as FILE.p7s), required"},
	{{"passphrase-file", required_argument, NULL, OPT_PASS_FILE}, "FILE",
	 "read the key's passphrase from FILE's first line"},
	{{"passphrase-fd", required_argument, NULL, OPT_PASS_FD}, "N",
	 "read the key's passphrase from descriptor N"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define RECEIPT_COUNT (sizeof(receipt_options) / sizeof(receipt_options[0]))

static int cmd_receipt(int argc, char **argv)
{
	custos_bundle_verify_options o;
	custos_bundle_receipt_options ro;
	custos_bundle_summary sum;
	custos_sign_options so;
	passphrase_source pass;
	custos_error err, verr;
	struct option *longopts = NULL;
	const char *trust[MAX_LIST], *ids[MAX_LIST];
	char idbuf[MAX_LIST][CUSTOS_AGE_IDENTITY_MAX];
	size_t nids = 0, ntrust = 0;
	char shortopts[64];
	int quiet = 0, c, rc = CLI_EXIT_OK, clean;
	custos_status st;

	custos_bundle_verify_options_init(&o);
	custos_bundle_receipt_options_init(&ro);
	custos_sign_options_init(&so);
	passphrase_source_init(&pass, TOOL);
	custos_error_clear(&err);
	custos_error_clear(&verr);
	if (cli_getopt_tables(receipt_options, RECEIPT_COUNT, &longopts,
			shortopts, sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int k = take_key_option(c, optarg, idbuf, ids, &nids, trust,
			&ntrust);

		if (k < 0) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (k > 0)
			continue;
		switch (c) {
		case 'k': so.key_path = optarg; break;
		case 'c': so.cert_path = optarg; break;
		case OPT_OFFICER: ro.officer = optarg; break;
		case OPT_AUTHORITY: ro.authority = optarg; break;
		case OPT_STORAGE: ro.storage = optarg; break;
		case OPT_RECEIVED_AT: ro.received_at = optarg; break;
		case OPT_LOG: ro.log = optarg; break;
		case 'o': ro.output = optarg; break;
		case OPT_PASS_FILE: pass.file = optarg; break;
		case OPT_PASS_FD:
			if (!passphrase_parse_fd(optarg, &pass.fd)) {
				usage_error("bad --passphrase-fd '%s'", optarg);
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h':
			cli_print_help(stdout, TOOL " receipt -i IDENTITY --trust "
				"CA.pem -k KEY -c CERT --officer NAME --authority "
				"NAME --storage TEXT -o RECEIPT.json BUNDLE",
				"Verify BUNDLE and write a signed receipt with the "
				"results (also when\nthe bundle is not clean: the "
				"discrepancies are listed).", receipt_options,
				RECEIPT_COUNT, "\n");
			printf("%s", exit_text);
			goto out;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			rc = CLI_EXIT_USAGE;
			goto out;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (optind + 1 != argc || ro.output == NULL || so.key_path == NULL ||
	    so.cert_path == NULL || ro.officer == NULL || ro.authority == NULL ||
	    ro.storage == NULL) {
		usage_error("receipt needs -k, -c, --officer, --authority, "
			"--storage, -o and one bundle");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	pass.prompt = "Passphrase for the signing key: ";
	so.passphrase = passphrase_callback;
	so.passphrase_ctx = &pass;
	o.identities = ids;
	o.identity_count = nids;
	o.trust = trust;
	o.trust_count = ntrust;
	st = custos_bundle_verify(&sum, argv[optind], &o, &verr);
	if (st != CUSTOS_OK && st != CUSTOS_EFORMAT && st != CUSTOS_EMISMATCH &&
	    st != CUSTOS_ENOTFOUND) {
		cli_error(TOOL, "%s", verr.message);
		rc = cli_exit_status(st);
		goto out;
	}
	/* A bundle that is not clean gets a receipt too, naming why. */
	clean = st == CUSTOS_OK;
	ro.bundle = argv[optind];
	ro.summary = &sum;
	ro.discrepancy = clean ? NULL : verr.message;
	ro.sign = &so;
	if (custos_bundle_receipt_write(NULL, &ro, &err) != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = clean ? CLI_EXIT_OK : CLI_EXIT_NOT_CLEAN;
	if (!quiet) {
		printf("%s: ", clean ? "VERIFIED" : "NOT VERIFIED");
		cli_fputs_safe(clean ? sum.bundle_id : verr.message, stdout);
		printf("\nreceipt: ");
		cli_fputs_safe(ro.output, stdout);
		printf(" (signed: .p7s)\n");
	}
out:
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(longopts);
	return rc;
}

/* ---- keygen ---- */

static int cmd_keygen(int argc, char **argv)
{
	char rcpt[CUSTOS_AGE_RECIPIENT_MAX];
	custos_error err;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
			strcmp(argv[1], "-h") == 0)) {
		printf("Usage: %s keygen -o FILE\nWrite a new age X25519 "
			"identity to FILE (mode 0600) and print its recipient.\n\n%s",
			TOOL, exit_text);
		return CLI_EXIT_OK;
	}
	if (argc != 3 || strcmp(argv[1], "-o") != 0) {
		usage_error("keygen needs -o FILE");
		return CLI_EXIT_USAGE;
	}
	if (custos_age_identity_file_write(rcpt, argv[2], &err) != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return CLI_EXIT_FAILURE;
	}
	printf("%s\n", rcpt);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const cli_command commands[] = {
		{"create", cmd_create},
		{"verify", cmd_verify},
		{"open", cmd_open},
		{"receipt", cmd_receipt},
		{"keygen", cmd_keygen},
	};

	signal(SIGPIPE, SIG_IGN);
	return cli_dispatch(TOOL, argc, argv, commands,
		sizeof(commands) / sizeof(commands[0]), print_main_help);
}
