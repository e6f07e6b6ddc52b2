/*
 * custos-bundle: evidence bundles for cross-border transmission.
 *   create   a signed BagIt bag, as a pax tar, encrypted with age, in parts
 *   verify   check a bundle (or a plain bag, folder or tar) without
 *            extracting it
 *   open     extract a bundle into a new folder, only after it verified
 *   receipt  verify and write a signed receipt (and a custody record)
 *   keygen   make an age X25519 identity file (AGE-SECRET-KEY-1...)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

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

/* Read an identity: an age identity file. */
static int load_identity(const char *path, char *out)
{
	custos_error err;

	if (custos_age_identity_file_read(out, path, &err) != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return -1;
	}
	return 0;
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
	 "append an 'exported' record to the custody log in DIR"},
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

/* SHA-256 of a small file (the transfer manifest), or "" on failure. */
static void small_file_sha256(const char *path, char hex[CUSTOS_DIGEST_HEX_MAX])
{
	char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf), f) : 0;

	hex[0] = '\0';
	if (f == NULL)
		return;
	if (feof(f) && !ferror(f))
		(void)custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, buf, n, hex,
			CUSTOS_DIGEST_HEX_MAX, NULL);
	fclose(f);
}

/*
 * The sender's "exported" record: the evidence IDs (or, without --item,
 * the file names), the bundle id and its signed transfer manifest's SHA-256.
 */
static int log_exported(const char *log, const char *id, const char *output,
		const custos_sign_options *so, const char *const *items,
		size_t count)
{
	custos_custody_actor_options a;
	custos_custody_event ev;
	custos_error err;
	const char *names[64];
	char manifest_sha[CUSTOS_DIGEST_HEX_MAX];
	char *path = NULL, *fields = NULL;
	json_t *f;

	if (count > 64)
		count = 64;
	for (size_t i = 0; i < count; i++) {
		const char *sl = strrchr(items[i], '/');
		names[i] = sl ? sl + 1 : items[i];
	}
	if (asprintf(&path, "%s.transfer-manifest.txt", output) < 0)
		return CLI_EXIT_FAILURE;
	small_file_sha256(path, manifest_sha);
	free(path);
	f = json_pack("{s:s}", "bundle_id", id);
	if (f != NULL && manifest_sha[0] != '\0')
		json_object_set_new(f, "transfer_manifest_sha256",
			json_string(manifest_sha));
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return CLI_EXIT_FAILURE;
	custos_custody_actor_options_init(&a);
	a.key_path = so->key_path;
	a.cert_path = so->cert_path;
	a.passphrase = so->passphrase;
	a.passphrase_ctx = so->passphrase_ctx;
	custos_custody_event_init(&ev);
	ev.type = "exported";
	ev.items = names;
	ev.item_count = count;
	ev.fields_json = fields;
	if (custos_custody_append(NULL, NULL, log, &ev, &a, &err) !=
			CUSTOS_OK) {
		free(fields);
		cli_error(TOOL, "custody log: %s", err.message);
		return CLI_EXIT_FAILURE;
	}
	free(fields);
	return CLI_EXIT_OK;
}

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
	st = custos_bundle_create(id, &o, &err);
	if (st != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		/* A request lacking a required field is a usage error. */
		return st == CUSTOS_EFORMAT || st == CUSTOS_EINVAL ?
			CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	if (log != NULL && log_exported(log, id, o.output, &so,
			nitems > 0 ? item_ids : o.items,
			nitems > 0 ? nitems : o.item_count))
		return CLI_EXIT_FAILURE;
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
		if (*nids == MAX_LIST) {
			usage_error("more than %d identities", MAX_LIST);
			return -1;
		}
		if (load_identity(arg, idbuf[*nids]) != 0)
			return -1;
		ids[*nids] = idbuf[*nids];
		(*nids)++;
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

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int log_receipt(const char *log, const custos_sign_options *so,
		const custos_bundle_summary *sum, const char *receipt_sha256,
		int clean, const char *storage)
{
	custos_custody_actor_options a;
	custos_custody_event ev;
	custos_error err;
	/*
	 * A "received" record: the matching release is in the sender's log,
	 * so it names the bundle and its signed transfer manifest instead.
	 */
	int bundle = sum->transfer_manifest_sha256[0] != '\0';
	json_t *f = json_pack("{s:s, s:s, s:s}", "receipt_sha256",
		receipt_sha256, "result", clean ? "verified" : "not verified",
		"storage_location", storage);

	/* A plain bag came with no transfer manifest: only "verified". */
	if (f != NULL && bundle)
		json_object_set_new(f, "transfer", json_pack("{s:s, s:s}",
			"bundle_id", sum->bundle_id, "transfer_manifest_sha256",
			sum->transfer_manifest_sha256));
	else if (f != NULL)
		json_object_set_new(f, "bundle_id", json_string(sum->bundle_id));
	char *fields = f ? json_dumps(f, JSON_COMPACT) : NULL;
	const char *item = sum->bundle_id;
	int rc = CLI_EXIT_OK;

	json_decref(f);
	if (fields == NULL)
		return CLI_EXIT_FAILURE;
	custos_custody_actor_options_init(&a);
	a.key_path = so->key_path;
	a.cert_path = so->cert_path;
	a.passphrase = so->passphrase;
	a.passphrase_ctx = so->passphrase_ctx;
	custos_custody_event_init(&ev);
	ev.type = bundle ? "received" : "verified";
	ev.items = &item;
	ev.item_count = 1;
	ev.location = storage;
	ev.fields_json = fields;
	if (custos_custody_append(NULL, NULL, log, &ev, &a, &err) != CUSTOS_OK) {
		cli_error(TOOL, "custody log: %s", err.message);
		rc = CLI_EXIT_FAILURE;
	}
	free(fields);
	return rc;
}

static int cmd_receipt(int argc, char **argv)
{
	custos_bundle_verify_options o;
	custos_bundle_summary sum;
	custos_sign_options so;
	passphrase_source pass;
	custos_error err;
	struct option *longopts = NULL;
	const char *trust[MAX_LIST], *ids[MAX_LIST], *out_path = NULL;
	const char *officer = NULL, *authority = NULL, *storage = NULL;
	const char *received_at = NULL, *log = NULL;
	char idbuf[MAX_LIST][CUSTOS_AGE_IDENTITY_MAX], verified_at[32];
	char now[32], sha[65];
	size_t nids = 0, ntrust = 0;
	char shortopts[64];
	int quiet = 0, c, rc = CLI_EXIT_OK, clean;
	custos_status st;
	json_t *j = NULL, *disc;
	char *text = NULL;
	FILE *f;

	custos_bundle_verify_options_init(&o);
	custos_sign_options_init(&so);
	passphrase_source_init(&pass, TOOL);
	custos_error_clear(&err);
	if (cli_getopt_tables(receipt_options, RECEIPT_COUNT, &longopts,
			shortopts, sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	now_rfc3339(now);
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
		case OPT_OFFICER: officer = optarg; break;
		case OPT_AUTHORITY: authority = optarg; break;
		case OPT_STORAGE: storage = optarg; break;
		case OPT_RECEIVED_AT: received_at = optarg; break;
		case OPT_LOG: log = optarg; break;
		case 'o': out_path = optarg; break;
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
	if (optind + 1 != argc || out_path == NULL || so.key_path == NULL ||
	    so.cert_path == NULL || officer == NULL || authority == NULL ||
	    storage == NULL) {
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
	st = custos_bundle_verify(&sum, argv[optind], &o, &err);
	if (st != CUSTOS_OK && st != CUSTOS_EFORMAT && st != CUSTOS_EMISMATCH &&
	    st != CUSTOS_ENOTFOUND) {
		cli_error(TOOL, "%s", err.message);
		rc = cli_exit_status(st);
		goto out;
	}
	clean = st == CUSTOS_OK;
	now_rfc3339(verified_at);
	disc = json_array();
	if (!clean)
		json_array_append_new(disc, json_string(err.message));
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:i, "
		"s:I, s:I, s:[s,s,s,s,s,s,s], s:s, s:o, s:s, s:s, s:s, s:s, s:s}",
		"custos_receipt_version", 1,
		"bundle_id", sum.bundle_id,
		"request_reference", sum.request_reference,
		"transfer_manifest_sha256", sum.transfer_manifest_sha256,
		"tag_manifest_sha512", sum.tagmanifest_sha512,
		"hash_algorithms", "SHA-256 (parts, payload), SHA-512 (payload, "
		"tag files)",
		"bundle", "file", argv[optind], "encrypted",
		sum.encrypted ? "age-encryption.org/v1 X25519" : "no",
		"parts", (int)sum.part_count,
		"payload_files", (json_int_t)sum.payload_files,
		"payload_bytes", (json_int_t)sum.payload_bytes,
		"checked", "transfer manifest signature", "part sizes and SHA-256",
		"age decryption, authenticated to the end",
		"tag manifest signature (CAdES)",
		"payload SHA-256 and SHA-512 against both manifests",
		"Payload-Oxum", "member names and types (no links, devices, "
		"absolute paths, '..', duplicates)",
		"result", clean ? "verified" : "not verified",
		"discrepancies", disc,
		"received_at", received_at ? received_at : now,
		"verified_at", verified_at,
		"receiving_officer", officer,
		"receiving_authority", authority,
		"storage_location", storage);
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (text == NULL) {
		cli_error(TOOL, "cannot build the receipt");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	f = fopen(out_path, "wx");
	if (f == NULL || fputs(text, f) == EOF || fputc('\n', f) == EOF ||
	    fclose(f) != 0) {
		cli_error(TOOL, "%s: cannot write (exists?)", out_path);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (custos_sign_file(out_path, &so, &err) != CUSTOS_OK) {
		cli_error(TOOL, "signing the receipt: %s", err.message);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	{
		unsigned char d[32];
		size_t tl = strlen(text);
		static const char hx[] = "0123456789abcdef";
		char *withnl = malloc(tl + 2);
		if (withnl == NULL) {
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		memcpy(withnl, text, tl);
		withnl[tl] = '\n';
		EVP_Digest(withnl, tl + 1, d, NULL, EVP_sha256(), NULL);
		free(withnl);
		for (int i = 0; i < 32; i++) {
			sha[2 * i] = hx[d[i] >> 4];
			sha[2 * i + 1] = hx[d[i] & 15];
		}
		sha[64] = '\0';
	}
	if (log != NULL &&
	    log_receipt(log, &so, &sum, sha, clean, storage) != CLI_EXIT_OK) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = clean ? CLI_EXIT_OK : CLI_EXIT_NOT_CLEAN;
	if (!quiet) {
		printf("%s: ", clean ? "VERIFIED" : "NOT VERIFIED");
		cli_fputs_safe(clean ? sum.bundle_id : err.message, stdout);
		printf("\nreceipt: ");
		cli_fputs_safe(out_path, stdout);
		printf(" (signed: .p7s)\n");
	}
out:
	free(text);
	json_decref(j);
	OPENSSL_cleanse(idbuf, sizeof(idbuf));
	free(longopts);
	return rc;
}

/* ---- keygen ---- */

static int cmd_keygen(int argc, char **argv)
{
	char id[CUSTOS_AGE_IDENTITY_MAX], rcpt[CUSTOS_AGE_RECIPIENT_MAX];
	char *text;
	custos_error err;
	FILE *f;
	int fd, rc = CLI_EXIT_OK;
	size_t len;

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
	if (custos_age_keygen(id, rcpt, &err) != CUSTOS_OK) {
		cli_error(TOOL, "%s", err.message);
		return CLI_EXIT_FAILURE;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_error(TOOL, "%s: cannot create (exists?)", argv[2]);
		OPENSSL_cleanse(id, sizeof(id));
		return CLI_EXIT_FAILURE;
	}
	len = strlen(rcpt) + strlen(id) + 64;
	text = malloc(len);
	f = fdopen(fd, "w");
	if (text == NULL || f == NULL) {
		free(text);
		if (f != NULL)
			fclose(f);
		else
			close(fd);
		OPENSSL_cleanse(id, sizeof(id));
		return CLI_EXIT_FAILURE;
	}
	snprintf(text, len, "# public key: %s\n%s\n", rcpt, id);
	if (fputs(text, f) == EOF)
		rc = CLI_EXIT_FAILURE;
	if (fclose(f) != 0)
		rc = CLI_EXIT_FAILURE;
	OPENSSL_cleanse(text, len);
	OPENSSL_cleanse(id, sizeof(id));
	free(text);
	if (rc != CLI_EXIT_OK) {
		cli_error(TOOL, "%s: write failed", argv[2]);
		return rc;
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
