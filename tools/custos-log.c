/*
 * custos-log: the tamper-evident custody log (see custos-log(1) and the
 * format in custos-log(5)).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "passphrase.h"

#define TOOL "custos-log"
#define MAX_LIST 64

static const char exit_text[] =
	"Exit status: 0 done (verify, check-proof: every check passed); 1 a\n"
	"check failed (the log, a signature, a checkpoint or a proof does not\n"
	"verify); 2 usage error; 3 failure (I/O, missing file, existing "
	"log).\n";

static void print_main_help(void)
{
	printf("Usage: %s COMMAND DIR [OPTIONS]\n"
		"Keep a tamper-evident chain-of-custody log.\n\n"
		"Commands:\n"
		"  init DIR --origin NAME -k KEY -c CERT   make a log\n"
		"  record DIR --type TYPE --item ID -k KEY -c CERT"
		"   any event\n"
		"  release DIR --item ID --to WHOM -k KEY -c CERT   hand over\n"
		"  receive DIR --answers SEQ -k KEY -c CERT   take over\n"
		"  show DIR [--item ID] [--json]        the timeline\n"
		"  verify DIR [--trust CA.pem] [--checkpoint FILE]"
		" [--vkey FILE]\n"
		"  checkpoint DIR [--log-key FILE] [--tsa URL]\n"
		"  prove DIR --seq N | --from A --to B   write a proof\n"
		"  check-proof PROOF --vkey FILE        check a proof alone\n"
		"  recover DIR -k KEY -c CERT"
		"           quarantine a torn line\n\n"
		"'%s COMMAND --help' lists the options.\n\n%s", TOOL, TOOL,
		exit_text);
}

enum {
	OPT_ORIGIN = 256, OPT_LOG_KEY, OPT_TRUST, OPT_CHAIN, OPT_PASS_FILE,
	OPT_PASS_FD, OPT_NAME, OPT_ID, OPT_ORG, OPT_ROLE, OPT_TYPE, OPT_CASE,
	OPT_ITEM, OPT_EVENT_TIME, OPT_LOCATION, OPT_REASON, OPT_NOTE,
	OPT_FIELDS, OPT_FIELD, OPT_TO, OPT_PURPOSE, OPT_CARRIER, OPT_SEAL,
	OPT_HASH, OPT_ANSWERS, OPT_DISCREPANCY, OPT_STORAGE, OPT_JSON,
	OPT_CHECKPOINT, OPT_VKEY, OPT_TSA, OPT_SEQ, OPT_FROM, OPT_TO_SIZE,
	OPT_OUTPUT, OPT_THREADS, OPT_REPORT,
};

static const cli_option options[] = {
	{{"origin", required_argument, NULL, OPT_ORIGIN}, "NAME",
	 "init: the log's name, e.g. lab.example/case-2026-001"},
	{{"log-key", required_argument, NULL, OPT_LOG_KEY}, "FILE",
	 "init, checkpoint: the private Ed25519 log key (kept outside DIR; "
	 "default ~/.config/custos/log-keys/ORIGIN.ed25519.pem)"},
	{{"trust", required_argument, NULL, OPT_TRUST}, "CA.pem",
	 "init: CA to pin in the log; verify: CA to trust (repeatable)"},
	{{"key", required_argument, NULL, 'k'}, "FILE",
	 "the acting person's private key (PEM)"},
	{{"cert", required_argument, NULL, 'c'}, "FILE",
	 "the acting person's certificate"},
	{{"chain", required_argument, NULL, OPT_CHAIN}, "PEM",
	 "intermediate CA certificates to include in signatures"},
	{{"passphrase-file", required_argument, NULL, OPT_PASS_FILE}, "FILE",
	 "read the key's passphrase from FILE's first line"},
	{{"passphrase-fd", required_argument, NULL, OPT_PASS_FD}, "N",
	 "read the key's passphrase from descriptor N"},
	{{"name", required_argument, NULL, OPT_NAME}, "TEXT",
	 "the actor's name (default: the certificate's CN)"},
	{{"id", required_argument, NULL, OPT_ID}, "TEXT",
	 "the actor's staff or badge number"},
	{{"organisation", required_argument, NULL, OPT_ORG}, "TEXT",
	 "the actor's organisation"},
	{{"role", required_argument, NULL, OPT_ROLE}, "TEXT",
	 "the actor's role"},
	{{"type", required_argument, NULL, OPT_TYPE}, "TYPE",
	 "record: acquired, sealed, released, received, accessed, exported, "
	 "verified, returned, destroyed, key-rotation"},
	{{"case", required_argument, NULL, OPT_CASE}, "REF",
	 "the case reference"},
	{{"item", required_argument, NULL, OPT_ITEM}, "ID",
	 "an evidence item (repeatable); show: only this item"},
	{{"event-time", required_argument, NULL, OPT_EVENT_TIME}, "TIME",
	 "when it happened, RFC 3339 (default now)"},
	{{"location", required_argument, NULL, OPT_LOCATION}, "TEXT",
	 "where it happened"},
	{{"reason", required_argument, NULL, OPT_REASON}, "TEXT",
	 "the authority or purpose"},
	{{"note", required_argument, NULL, OPT_NOTE}, "TEXT", "free text"},
	{{"report", required_argument, NULL, OPT_REPORT}, "FILE",
	 "record --type acquired: take the record from a custos-acquire "
	 "report (its SHA-256, case, item, source, hashes)"},
	{{"fields", required_argument, NULL, OPT_FIELDS}, "FILE",
	 "the type's extra fields, a JSON object"},
	{{"field", required_argument, NULL, OPT_FIELD}, "KEY=VALUE",
	 "one extra text field (repeatable)"},
	{{"to", required_argument, NULL, OPT_TO}, "WHOM",
	 "release: to whom; prove: the larger tree size"},
	{{"purpose", required_argument, NULL, OPT_PURPOSE}, "TEXT",
	 "release: the purpose"},
	{{"carrier", required_argument, NULL, OPT_CARRIER}, "TEXT",
	 "release: who carries it"},
	{{"seal", required_argument, NULL, OPT_SEAL}, "TEXT",
	 "release, receive: the seal and its state"},
	{{"hash", required_argument, NULL, OPT_HASH}, "ALG:HEX",
	 "release, receive: a hash of the item (repeatable)"},
	{{"answers", required_argument, NULL, OPT_ANSWERS}, "SEQ",
	 "receive: the released record this receipt answers"},
	{{"discrepancy", required_argument, NULL, OPT_DISCREPANCY}, "TEXT",
	 "receive: what differs from the release (repeatable)"},
	{{"storage", required_argument, NULL, OPT_STORAGE}, "TEXT",
	 "receive: where it is stored now"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL,
	 "show, verify: JSON on stdout"},
	{{"checkpoint", required_argument, NULL, OPT_CHECKPOINT}, "FILE",
	 "verify: also hold the log to this checkpoint (repeatable); prove: "
	 "prove against it"},
	{{"vkey", required_argument, NULL, OPT_VKEY}, "FILE",
	 "verify, check-proof: the log's verifier key you trust"},
	{{"tsa", required_argument, NULL, OPT_TSA}, "URL",
	 "checkpoint: time-stamp it (checkpoints/N.tsr)"},
	{{"seq", required_argument, NULL, OPT_SEQ}, "N",
	 "prove: the record to prove"},
	{{"from", required_argument, NULL, OPT_FROM}, "A",
	 "prove: the smaller tree size"},
	{{"output", required_argument, NULL, 'o'}, "FILE",
	 "prove: write the proof to FILE (default stdout)"},
	{{"threads", required_argument, NULL, OPT_THREADS}, "N",
	 "verify: threads (default one per core)"},
	{{"quiet", no_argument, NULL, 'q'}, NULL, "print nothing on success"},
	{{"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

typedef struct args {
	const char *cmd;
	const char *dir;
	custos_custody_actor_options actor;
	custos_custody_event ev;
	passphrase_source pass;
	const char *origin, *log_key, *type, *fields_file, *to, *purpose;
	const char *carrier, *seal, *storage, *vkey, *tsa, *output, *report;
	const char *trust[MAX_LIST], *items[MAX_LIST], *field[MAX_LIST];
	const char *hash[MAX_LIST], *discrepancy[MAX_LIST];
	const char *checkpoint[MAX_LIST];
	size_t trust_n, items_n, field_n, hash_n, discrepancy_n, checkpoint_n;
	int json, quiet, have_seq, have_from, have_to, have_answers;
	unsigned long seq, from, to_size, answers, threads;
} args;

static int add(const char **list, size_t *n, const char *v, const char *opt)
{
	if (*n == MAX_LIST) {
		cli_usage_error(TOOL, "too many %s (at most %d)", opt,
			MAX_LIST);
		return 0;
	}
	list[(*n)++] = v;
	return 1;
}

/* 0 ok, else an exit status. */
static int parse(args *a, int argc, char **argv)
{
	struct option *longopts = NULL;
	char shortopts[32];
	int c;

	if (cli_getopt_tables(options, OPTION_COUNT, &longopts, shortopts,
			sizeof(shortopts)) != 0) {
		cli_error(TOOL, "out of memory");
		return CLI_EXIT_FAILURE;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int ok = 1;

		switch (c) {
		case OPT_ORIGIN: a->origin = optarg; break;
		case OPT_LOG_KEY: a->log_key = optarg; break;
		case OPT_TRUST: ok = add(a->trust, &a->trust_n, optarg,
			"--trust"); break;
		case 'k': a->actor.key_path = optarg; break;
		case 'c': a->actor.cert_path = optarg; break;
		case OPT_CHAIN: a->actor.chain_path = optarg; break;
		case OPT_PASS_FILE: a->pass.file = optarg; break;
		case OPT_PASS_FD:
			if (!passphrase_parse_fd(optarg, &a->pass.fd)) {
				cli_usage_error(TOOL,
					"bad --passphrase-fd '%s'", optarg);
				ok = 0;
			}
			break;
		case OPT_NAME: a->actor.name = optarg; break;
		case OPT_ID: a->actor.id = optarg; break;
		case OPT_ORG: a->actor.organisation = optarg; break;
		case OPT_ROLE: a->actor.role = optarg; break;
		case OPT_TYPE: a->type = optarg; break;
		case OPT_CASE: a->ev.case_ref = optarg; break;
		case OPT_ITEM: ok = add(a->items, &a->items_n, optarg,
			"--item"); break;
		case OPT_EVENT_TIME: a->ev.event_time = optarg; break;
		case OPT_LOCATION: a->ev.location = optarg; break;
		case OPT_REASON: a->ev.reason = optarg; break;
		case OPT_NOTE: a->ev.note = optarg; break;
		case OPT_FIELDS: a->fields_file = optarg; break;
		case OPT_REPORT: a->report = optarg; break;
		case OPT_FIELD:
			if (strchr(optarg, '=') == NULL ||
			    optarg[0] == '=') {
				cli_usage_error(TOOL,
					"--field needs KEY=VALUE");
				ok = 0;
			} else {
				ok = add(a->field, &a->field_n, optarg,
					"--field");
			}
			break;
		case OPT_TO:
			a->to = optarg;
			a->have_to = cli_parse_uint(optarg, ULONG_MAX,
				&a->to_size);
			break;
		case OPT_PURPOSE: a->purpose = optarg; break;
		case OPT_CARRIER: a->carrier = optarg; break;
		case OPT_SEAL: a->seal = optarg; break;
		case OPT_HASH:
			if (strchr(optarg, ':') == NULL) {
				cli_usage_error(TOOL, "--hash needs ALG:HEX");
				ok = 0;
			} else {
				ok = add(a->hash, &a->hash_n, optarg, "--hash");
			}
			break;
		case OPT_ANSWERS:
			ok = a->have_answers = cli_parse_uint(optarg, ULONG_MAX,
				&a->answers);
			if (!ok)
				cli_usage_error(TOOL, "bad --answers '%s'",
					optarg);
			break;
		case OPT_DISCREPANCY: ok = add(a->discrepancy,
			&a->discrepancy_n, optarg, "--discrepancy"); break;
		case OPT_STORAGE: a->storage = optarg; break;
		case OPT_JSON: a->json = 1; break;
		case OPT_CHECKPOINT: ok = add(a->checkpoint, &a->checkpoint_n,
			optarg, "--checkpoint"); break;
		case OPT_VKEY: a->vkey = optarg; break;
		case OPT_TSA: a->tsa = optarg; break;
		case OPT_SEQ:
			ok = a->have_seq = cli_parse_uint(optarg, ULONG_MAX,
				&a->seq);
			if (!ok)
				cli_usage_error(TOOL, "bad --seq '%s'", optarg);
			break;
		case OPT_FROM:
			ok = a->have_from = cli_parse_uint(optarg, ULONG_MAX,
				&a->from);
			if (!ok)
				cli_usage_error(TOOL, "bad --from '%s'",
					optarg);
			break;
		case 'o': a->output = optarg; break;
		case OPT_THREADS:
			ok = cli_parse_uint(optarg, 64, &a->threads) &&
				a->threads > 0;
			if (!ok)
				cli_usage_error(TOOL, "bad --threads '%s'",
					optarg);
			break;
		case 'q': a->quiet = 1; break;
		case 'h':
			free(longopts);
			cli_print_help(stdout, TOOL " COMMAND DIR [OPTIONS]",
				"Keep a tamper-evident chain-of-custody log "
				"(custos-log(1)).", options, OPTION_COUNT,
				"Passphrases are never taken from the command "
				"line.\n\n");
			printf("%s", exit_text);
			return -1;
		case ':':
			cli_usage_error(TOOL, "option '%s' needs a value",
				argv[optind - 1]);
			ok = 0;
			break;
		default:
			cli_usage_error(TOOL, "unknown option '%s'",
				argv[optind - 1]);
			ok = 0;
			break;
		}
		if (!ok) {
			free(longopts);
			return CLI_EXIT_USAGE;
		}
	}
	free(longopts);
	if (optind >= argc) {
		cli_usage_error(TOOL, "%s needs a %s", a->cmd,
			strcmp(a->cmd, "check-proof") == 0 ? "PROOF file"
							   : "log folder DIR");
		return CLI_EXIT_USAGE;
	}
	a->dir = argv[optind++];
	if (optind < argc) {
		cli_usage_error(TOOL, "unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (a->pass.file != NULL && a->pass.fd >= 0) {
		cli_usage_error(TOOL, "give either --passphrase-file or "
			"--passphrase-fd");
		return CLI_EXIT_USAGE;
	}
	a->pass.prompt = "Passphrase for the signing key: ";
	a->actor.passphrase = passphrase_callback;
	a->actor.passphrase_ctx = &a->pass;
	a->ev.items = a->items;
	a->ev.item_count = a->items_n;
	return 0;
}

static int need_actor(const args *a)
{
	if (a->actor.key_path == NULL || a->actor.cert_path == NULL) {
		cli_usage_error(TOOL, "%s needs the acting person's key and "
			"certificate (-k KEY -c CERT)", a->cmd);
		return 0;
	}
	return 1;
}

static int fail(custos_status st, const custos_error *err)
{
	cli_error(TOOL, "%s", err->message);
	if (st == CUSTOS_EMISMATCH)
		return CLI_EXIT_NOT_CLEAN;
	if (st == CUSTOS_EINVAL)
		return CLI_EXIT_USAGE;
	return CLI_EXIT_FAILURE;
}

/* The extra fields (--fields FILE, --field) into a->ev; 0 or an exit
 * status after an error message. */
static int take_fields(args *a, char **fields)
{
	custos_error err;
	custos_status st;

	custos_error_clear(&err);
	st = custos_custody_fields_build(fields, a->fields_file, a->field,
		a->field_n, &err);
	if (st != CUSTOS_OK)
		return fail(st, &err);
	a->ev.fields_json = *fields;
	return 0;
}

static int recorded(custos_status st, const custos_error *err,
		const args *a, const char *type, uint64_t seq, char *root)
{
	if (st != CUSTOS_OK)
		return fail(st, err);
	if (!a->quiet)
		printf("recorded: %" PRIu64 " %s (tree head %s)\n", seq, type,
			root);
	free(root);
	return CLI_EXIT_OK;
}

static int do_append(args *a)
{
	custos_error err;
	uint64_t seq;
	char *root = NULL, *fields = NULL;
	custos_status st;
	int rc;

	custos_error_clear(&err);
	if ((rc = take_fields(a, &fields)) != 0)
		return rc;
	st = custos_custody_append(&seq, &root, a->dir, &a->ev, &a->actor,
		&err);
	free(fields);
	return recorded(st, &err, a, a->ev.type, seq, root);
}

static int cmd_init(args *a)
{
	custos_error err;
	custos_status st;

	if (a->origin == NULL) {
		cli_usage_error(TOOL, "init needs --origin NAME");
		return CLI_EXIT_USAGE;
	}
	if (!need_actor(a))
		return CLI_EXIT_USAGE;
	custos_error_clear(&err);
	st = custos_custody_init(a->dir, a->origin, a->log_key, a->trust,
		a->trust_n, &a->ev, &a->actor, &err);
	if (st != CUSTOS_OK)
		return fail(st, &err);
	if (!a->quiet) {
		printf("log made: ");
		cli_fputs_safe(a->dir, stdout);
		printf(" (genesis record 0, checkpoints/1.note)\n");
	}
	return CLI_EXIT_OK;
}

static int cmd_record(args *a)
{
	if (a->type == NULL) {
		cli_usage_error(TOOL, "record needs --type TYPE");
		return CLI_EXIT_USAGE;
	}
	if (!custos_custody_type_known(a->type) ||
	    strcmp(a->type, "genesis") == 0) {
		cli_usage_error(TOOL, "unknown or reserved type '%s'", a->type);
		return CLI_EXIT_USAGE;
	}
	if (!need_actor(a))
		return CLI_EXIT_USAGE;
	if (a->report != NULL) {
		custos_error err;
		custos_status st;

		if (strcmp(a->type, "acquired") != 0 || a->items_n > 0 ||
		    a->fields_file != NULL || a->field_n > 0) {
			cli_usage_error(TOOL, "--report goes with --type "
				"acquired alone: the report gives the fields");
			return CLI_EXIT_USAGE;
		}
		custos_error_clear(&err);
		st = custos_custody_append_acquired(a->dir, a->report,
			&a->actor, &err);
		if (st != CUSTOS_OK)
			return fail(st, &err);
		if (!a->quiet)
			printf("recorded: acquired, from %s\n", a->report);
		return CLI_EXIT_OK;
	}
	a->ev.type = a->type;
	return do_append(a);
}

static int cmd_release(args *a)
{
	custos_custody_release rel;
	custos_error err;
	uint64_t seq = 0;
	char *root = NULL, *fields = NULL;
	custos_status st;
	int rc;

	if (a->to == NULL || a->items_n == 0) {
		cli_usage_error(TOOL, "release needs --to WHOM and --item ID");
		return CLI_EXIT_USAGE;
	}
	if (!need_actor(a))
		return CLI_EXIT_USAGE;
	if ((rc = take_fields(a, &fields)) != 0)
		return rc;
	custos_custody_release_init(&rel);
	rel.to = a->to;
	rel.purpose = a->purpose;
	rel.carrier = a->carrier;
	rel.seal_state = a->seal;
	rel.hashes = a->hash;
	rel.hash_count = a->hash_n;
	custos_error_clear(&err);
	st = custos_custody_append_released(&seq, &root, a->dir, &a->ev, &rel,
		&a->actor, &err);
	free(fields);
	return recorded(st, &err, a, "released", seq, root);
}

static int cmd_receive(args *a)
{
	custos_custody_receipt rc;
	custos_error err;
	uint64_t seq = 0;
	char *root = NULL, *fields = NULL;
	custos_status st;
	int r;

	if (!a->have_answers) {
		cli_usage_error(TOOL, "receive needs --answers SEQ (the "
			"released record)");
		return CLI_EXIT_USAGE;
	}
	if (!need_actor(a))
		return CLI_EXIT_USAGE;
	if ((r = take_fields(a, &fields)) != 0)
		return r;
	custos_custody_receipt_init(&rc);
	rc.answers = a->answers;
	rc.seal_state = a->seal;
	rc.storage_location = a->storage;
	rc.discrepancies = a->discrepancy;
	rc.discrepancy_count = a->discrepancy_n;
	rc.hashes = a->hash;
	rc.hash_count = a->hash_n;
	custos_error_clear(&err);
	st = custos_custody_append_received(&seq, &root, a->dir, &a->ev, &rc,
		&a->actor, &err);
	free(fields);
	return recorded(st, &err, a, "received", seq, root);
}


/* Untrusted text from the log, escaped by the library (every byte that is
 * not printable ASCII as \xNN, whole). */
static void put_n(const char *s, size_t len)
{
	char *safe = NULL;

	if (custos_custody_safe_text(&safe, s, len) == CUSTOS_OK)
		fputs(safe, stdout);
	free(safe);
}

static void put(const char *s)
{
	put_n(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static int has_item(json_t *r, const char *id)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(r, "items"), i, it)
		if (json_string_value(it) != NULL &&
		    strcmp(json_string_value(it), id) == 0)
			return 1;
	return 0;
}

static int cmd_show(args *a)
{
	char *buf;
	size_t len, off = 0;
	json_t *all = a->json ? json_array() : NULL;

	custos_error err;
	custos_status st;

	custos_error_clear(&err);
	if ((st = custos_custody_read_log(&buf, &len, a->dir, &err)) !=
			CUSTOS_OK) {
		json_decref(all);
		return fail(st == CUSTOS_EINVAL ? CUSTOS_EFORMAT : st, &err);
	}
	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		json_error_t je;
		json_t *r, *it, *actor;
		const char *s;
		size_t i;

		if (nl == NULL) {
			if (!a->json)
				printf("(torn last line: %zu bytes)\n",
					len - off);
			break;
		}
		r = json_loadb(buf + off, (size_t)(nl - buf - off),
			JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(r)) {
			/* Shown, escaped: never silently dropped. */
			if (!a->json) {
				printf("(a line that is not a record: ");
				put_n(buf + off, (size_t)(nl - buf - off));
				printf(")\n");
			}
			json_decref(r);
			off = (size_t)(nl - buf) + 1;
			continue;
		}
		off = (size_t)(nl - buf) + 1;
		if (a->items_n > 0 && !has_item(r, a->items[0]) &&
		    strcmp(json_string_value(json_object_get(r, "type")) != NULL
			    ? json_string_value(json_object_get(r, "type"))
			    : "", "genesis") != 0) {
			json_decref(r);
			continue;
		}
		if (a->json) {
			json_array_append_new(all, r);
			continue;
		}
		actor = json_object_get(r, "actor");
		printf("%5" JSON_INTEGER_FORMAT "  ",
			json_integer_value(json_object_get(r, "seq")));
		put(json_string_value(json_object_get(r, "event_time")));
		s = json_string_value(json_object_get(r, "type"));
		printf("  ");
		put(s != NULL ? s : "?");
		printf("%*s", s != NULL && strlen(s) < 10
			? (int)(10 - strlen(s)) : 1, "");
		json_array_foreach(json_object_get(r, "items"), i, it) {
			if (i > 0)
				printf(",");
			put(json_string_value(it));
		}
		printf("  by ");
		put(json_string_value(json_object_get(actor, "name")));
		if ((s = json_string_value(json_object_get(actor, "role")))
				!= NULL) {
			printf(" (");
			put(s);
			printf(")");
		}
		if ((s = json_string_value(json_object_get(r, "to"))) != NULL) {
			printf("  to ");
			put(s);
		}
		if (json_object_get(r, "answers") != NULL)
			printf("  answers %" JSON_INTEGER_FORMAT,
				json_integer_value(json_object_get(
					json_object_get(r, "answers"), "seq")));
		if ((s = json_string_value(json_object_get(r, "location"))) !=
				NULL && s[0] != '\0') {
			printf("  at ");
			put(s);
		}
		if ((s = json_string_value(json_object_get(r, "reason"))) !=
				NULL && s[0] != '\0') {
			printf("  -- ");
			put(s);
		}
		printf("\n");
		json_decref(r);
	}
	free(buf);
	if (a->json) {
		char *out = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS |
			JSON_ENSURE_ASCII);

		if (out != NULL)
			printf("%s\n", out);
		free(out);
		json_decref(all);
	}
	return CLI_EXIT_OK;
}

static int cmd_verify(args *a)
{
	custos_custody_verify_options o;
	custos_custody_verification *v = NULL;
	custos_error err;
	custos_status st;

	custos_custody_verify_options_init(&o);
	custos_error_clear(&err);
	o.trust = a->trust;
	o.trust_count = a->trust_n;
	o.checkpoints = a->checkpoint;
	o.checkpoint_count = a->checkpoint_n;
	o.vkey_path = a->vkey;
	o.threads = (unsigned)a->threads;
	st = custos_custody_verify(&v, a->dir, &o, &err);
	if (v == NULL)
		return fail(st, &err);
	if (a->json) {
		json_t *j = json_object(), *p = json_array(), *n = json_array();
		char *out;

		for (size_t i = 0;
		     i < custos_custody_verification_problem_count(v); i++)
			json_array_append_new(p, json_string(
				custos_custody_verification_problem(v, i)));
		for (size_t i = 0;
		     i < custos_custody_verification_note_count(v); i++)
			json_array_append_new(n, json_string(
				custos_custody_verification_note(v, i)));
		json_object_set_new(j, "verdict", json_string(st == CUSTOS_OK
			? "VERIFIED" : "FAILED"));
		json_object_set_new(j, "records", json_integer((json_int_t)
			custos_custody_verification_records(v)));
		json_object_set_new(j, "checkpoints", json_integer((json_int_t)
			custos_custody_verification_checkpoints(v)));
		json_object_set_new(j, "root", json_string(
			custos_custody_verification_root(v)));
		json_object_set_new(j, "problems", p);
		json_object_set_new(j, "notes", n);
		out = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		if (out != NULL)
			printf("%s\n", out);
		free(out);
		json_decref(j);
	} else {
		if (st == CUSTOS_OK)
			printf("VERIFIED: %" PRIu64 " records, %zu "
				"checkpoints, tree head %s\n",
				custos_custody_verification_records(v),
				custos_custody_verification_checkpoints(v),
				custos_custody_verification_root(v));
		else
			printf("FAILED: %zu problem(s)\n",
				custos_custody_verification_problem_count(v));
		for (size_t i = 0;
		     i < custos_custody_verification_problem_count(v); i++) {
			fprintf(stderr, "%s: ", TOOL);
			cli_fputs_safe(custos_custody_verification_problem(v,
				i), stderr);
			fputc('\n', stderr);
		}
		for (size_t i = 0;
		     i < custos_custody_verification_note_count(v); i++) {
			fprintf(stderr, "%s: note: ", TOOL);
			cli_fputs_safe(custos_custody_verification_note(v, i),
				stderr);
			fputc('\n', stderr);
		}
	}
	custos_custody_verification_free(v);
	return st == CUSTOS_OK ? CLI_EXIT_OK : st == CUSTOS_EMISMATCH
		? CLI_EXIT_NOT_CLEAN : CLI_EXIT_FAILURE;
}

static int cmd_checkpoint(args *a)
{
	custos_error err;
	custos_status st;
	char *path = NULL, *def = NULL;
	const char *key = a->log_key;

	custos_error_clear(&err);
	if (key == NULL) {
		char *origin = NULL;

		if (custos_custody_origin(&origin, a->dir, &err) !=
				CUSTOS_OK) {
			cli_error(TOOL, "cannot read the genesis record of %s",
				a->dir);
			return CLI_EXIT_FAILURE;
		}
		st = custos_custody_default_key_path(&def, origin, &err);
		free(origin);
		if (st != CUSTOS_OK)
			return fail(st, &err);
		key = def;
	}
	st = custos_custody_checkpoint(&path, a->dir, key, a->tsa, &err);
	free(def);
	if (st != CUSTOS_OK)
		return fail(st, &err);
	if (!a->quiet) {
		printf("checkpoint: ");
		put(path);
		printf("\n");
	}
	free(path);
	return CLI_EXIT_OK;
}

static int cmd_prove(args *a)
{
	custos_error err;
	custos_status st;
	char *proof = NULL;

	custos_error_clear(&err);
	if (a->have_seq == (a->have_from || a->to != NULL)) {
		cli_usage_error(TOOL, "prove needs --seq N, or --from A "
			"--to B");
		return CLI_EXIT_USAGE;
	}
	if (a->have_seq) {
		st = custos_custody_prove_inclusion(&proof, a->dir, a->seq,
			a->checkpoint_n > 0 ? a->checkpoint[0] : NULL, &err);
	} else {
		if (!a->have_from || !a->have_to) {
			cli_usage_error(TOOL, "prove needs both --from A and "
				"--to B (tree sizes)");
			return CLI_EXIT_USAGE;
		}
		st = custos_custody_prove_consistency(&proof, a->dir, a->from,
			a->to_size, &err);
	}
	if (st != CUSTOS_OK)
		return fail(st, &err);
	if (a->output != NULL) {
		/* Created exclusively, never through a planted symlink. */
		st = custos_custody_proof_save(a->output, proof, &err);
		free(proof);
		return st == CUSTOS_OK ? CLI_EXIT_OK
			: fail(st == CUSTOS_EINVAL ? CUSTOS_EIO : st, &err);
	}
	fputs(proof, stdout);
	free(proof);
	return CLI_EXIT_OK;
}

static int cmd_check_proof(args *a)
{
	custos_error err;
	custos_status st;
	char *summary = NULL;

	custos_error_clear(&err);
	if (a->vkey == NULL) {
		cli_usage_error(TOOL, "check-proof needs --vkey FILE");
		return CLI_EXIT_USAGE;
	}
	st = custos_custody_check_proof_file(&summary, a->dir, a->vkey, &err);
	if (st != CUSTOS_OK) {
		if (!a->quiet)
			printf("FAILED\n");
		return fail(st == CUSTOS_EFORMAT ? CUSTOS_EMISMATCH : st, &err);
	}
	if (!a->quiet) {
		printf("VERIFIED: ");
		put(summary);
		printf("\n");
	}
	free(summary);
	return CLI_EXIT_OK;
}

static int cmd_recover(args *a)
{
	custos_error err;
	custos_status st;
	int recovered = 0;

	if (!need_actor(a))
		return CLI_EXIT_USAGE;
	custos_error_clear(&err);
	st = custos_custody_recover(&recovered, a->dir, &a->actor, &err);
	if (st != CUSTOS_OK)
		return fail(st, &err);
	if (!a->quiet)
		printf("%s\n", recovered ? "recovered: the torn line is in "
			"quarantine/ and a recovery record says so"
			: "nothing to recover");
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(args *);
	} cmds[] = {
		{"init", cmd_init}, {"record", cmd_record},
		{"release", cmd_release}, {"receive", cmd_receive},
		{"show", cmd_show}, {"verify", cmd_verify},
		{"checkpoint", cmd_checkpoint}, {"prove", cmd_prove},
		{"check-proof", cmd_check_proof}, {"recover", cmd_recover},
	};
	args a;
	int rc;

	if (argc < 2) {
		cli_usage_error(TOOL, "no command given");
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_main_help();
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		cli_print_version(TOOL);
		return CLI_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	custos_custody_actor_options_init(&a.actor);
	custos_custody_event_init(&a.ev);
	passphrase_source_init(&a.pass, TOOL);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		a.cmd = cmds[i].name;
		rc = parse(&a, argc - 1, argv + 1);
		if (rc < 0)
			return CLI_EXIT_OK;
		if (rc != 0)
			return rc;
		return cmds[i].fn(&a);
	}
	cli_usage_error(TOOL, "unknown command '%s'", argv[1]);
	return CLI_EXIT_USAGE;
}
