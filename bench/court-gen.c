/*
 * bench/court-gen.c: builds a large, valid, signed custody log for
 * bench/court-report.sh with libcustos directly, instead of one custos-log
 * process per record.  It makes the log (genesis by the examiner), appends
 * the "acquired" record of each acquisition report given, then follows the
 * items round-robin through a realistic mix until the log holds RECORDS
 * records: seals, accesses, and hand-overs between the examiner, the
 * prosecutor and an analyst (each "released" answered by a "received" of
 * the taker), and an "exported" record now and then; at the end one
 * checkpoint.  Every record is signed by the person acting, with the
 * TEST-ONLY identities of samples/pki; nothing here is for real use.
 *
 *   court-gen LOGDIR LOGKEY PKIDIR RECORDS REPORT.json...
 *
 * The "received" records carry the same fields custos_custody_append_received
 * writes ({"answers": {seq, sha256}, "discrepancies": [], ...}), built here
 * from the release's line as just written: that function reads the whole log
 * to find the release, which makes 100,000 records quadratic.  The first
 * receipts still go through it, so the two stay comparable.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <custos/custody.h>

/* Receipts below this record number use custos_custody_append_received. */
#define LIBRARY_RECEIPTS_BELOW 2000

enum { EXAMINER, PROSECUTOR, ANALYST, ACTORS };

static const char *const actor_names[ACTORS] = {
	"Test Examiner", "Test Prosecutor", "Test Analyst" };
static const char *const actor_files[ACTORS] = {
	"examiner", "prosecutor", "analyst" };
static const char *const storage[ACTORS] = {
	"Lab safe 1", "Evidence room 3", "Analysis bay 2" };

typedef struct item {
	char id[64];
	int holder;       /* who holds it */
	unsigned step;    /* where it is in the cycle */
	uint64_t released; /* the open release's seq */
	char released_sha[65];
	int taker;
} item;

static custos_custody_actor_options actors[ACTORS];
static char paths[ACTORS][2][4096];
static const char *log_dir;
static uint64_t records;

static void die(const char *what, const custos_error *e)
{
	fprintf(stderr, "court-gen: %s: %s\n", what, e->message);
	exit(3);
}

/* SHA-256 (hex) of the last line of log.jsonl, with its LF. */
static void last_line_sha(char out[65])
{
	char path[4200], buf[1 << 17];
	unsigned char d[32];
	struct stat sb;
	ssize_t got;
	off_t base;
	int fd;
	char *end, *start;

	snprintf(path, sizeof(path), "%s/log.jsonl", log_dir);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		perror("court-gen: log.jsonl");
		exit(3);
	}
	base = sb.st_size > (off_t)sizeof(buf) ? sb.st_size -
		(off_t)sizeof(buf) : 0;
	got = pread(fd, buf, (size_t)(sb.st_size - base), base);
	close(fd);
	if (got <= 0 || buf[got - 1] != '\n') {
		fprintf(stderr, "court-gen: cannot read the last line\n");
		exit(3);
	}
	end = buf + got;
	start = end - 1;
	while (start > buf && start[-1] != '\n')
		start--;
	EVP_Digest(start, (size_t)(end - start), d, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void plain(item *it, const char *type, const char *note,
		const char *fields)
{
	custos_custody_event ev;
	const char *items[1] = { it->id };
	custos_error e;

	custos_custody_event_init(&ev);
	ev.type = type;
	ev.case_ref = "BIG";
	ev.items = items;
	ev.item_count = 1;
	ev.location = storage[it->holder];
	ev.note = note;
	ev.fields_json = fields;
	custos_error_clear(&e);
	if (custos_custody_append(NULL, NULL, log_dir, &ev,
			&actors[it->holder], &e) != CUSTOS_OK)
		die(type, &e);
	records++;
}

static void release(item *it, int to)
{
	custos_custody_event ev;
	custos_custody_release rel;
	const char *items[1] = { it->id };
	custos_error e;

	custos_custody_event_init(&ev);
	custos_custody_release_init(&rel);
	ev.case_ref = "BIG";
	ev.items = items;
	ev.item_count = 1;
	ev.reason = "analysis";
	rel.to = actor_names[to];
	rel.purpose = "analysis";
	rel.seal_state = "intact";
	custos_error_clear(&e);
	if (custos_custody_append_released(&it->released, NULL, log_dir, &ev,
			&rel, &actors[it->holder], &e) != CUSTOS_OK)
		die("released", &e);
	records++;
	last_line_sha(it->released_sha);
	it->taker = to;
}

static void receive(item *it)
{
	custos_custody_event ev;
	const char *items[1] = { it->id };
	custos_error e;
	custos_status st;

	custos_custody_event_init(&ev);
	custos_error_clear(&e);
	if (records < LIBRARY_RECEIPTS_BELOW) {
		custos_custody_receipt rc;

		custos_custody_receipt_init(&rc);
		rc.answers = it->released;
		rc.seal_state = "intact";
		rc.storage_location = storage[it->taker];
		st = custos_custody_append_received(NULL, NULL, log_dir, &ev,
			&rc, &actors[it->taker], &e);
	} else {
		char fields[512];

		snprintf(fields, sizeof(fields), "{\"answers\":{\"seq\":%"
			PRIu64 ",\"sha256\":\"%s\"},\"discrepancies\":[],"
			"\"seal_state\":\"intact\","
			"\"storage_location\":\"%s\"}",
			it->released, it->released_sha, storage[it->taker]);
		ev.type = "received";
		ev.case_ref = "BIG";
		ev.items = items;
		ev.item_count = 1;
		ev.fields_json = fields;
		st = custos_custody_append(NULL, NULL, log_dir, &ev,
			&actors[it->taker], &e);
	}
	if (st != CUSTOS_OK)
		die("received", &e);
	records++;
	it->holder = it->taker;
}

/* One step of an item's life: seal, access, hand over, take over, ... */
static void step(item *it, uint64_t n)
{
	static const int next_holder[ACTORS] = { PROSECUTOR, ANALYST,
		EXAMINER };
	char fields[256];

	switch (it->step++ % 6) {
	case 0:
		plain(it, "sealed", NULL, "{\"seal\":\"bag 7731\"}");
		break;
	case 1:
		plain(it, "accessed", "read-only review", NULL);
		break;
	case 2:
		release(it, next_holder[it->holder]);
		break;
	case 3:
		receive(it);
		break;
	case 4:
		if ((n / 6) % 10 == 9) {
			snprintf(fields, sizeof(fields), "{\"bundle_id\":"
				"\"urn:uuid:00000000-0000-4000-8000-%012"
				PRIu64 "\"}", n);
			plain(it, "exported", "copy for the foreign authority",
				fields);
		} else {
			plain(it, "accessed", "examination", NULL);
		}
		break;
	default:
		plain(it, "verified", "hashes re-checked", NULL);
		break;
	}
}

int main(int argc, char **argv)
{
	const char *trust[1];
	char ca[4200];
	custos_custody_event gen;
	custos_error e;
	uint64_t want;
	size_t count;
	item *items;

	if (argc < 6) {
		fprintf(stderr, "usage: court-gen LOGDIR LOGKEY PKIDIR RECORDS "
			"REPORT.json...\n");
		return 2;
	}
	log_dir = argv[1];
	want = strtoull(argv[4], NULL, 10);
	count = (size_t)(argc - 5);
	for (int a = 0; a < ACTORS; a++) {
		custos_custody_actor_options_init(&actors[a]);
		snprintf(paths[a][0], sizeof(paths[a][0]), "%s/%s.key",
			argv[3], actor_files[a]);
		snprintf(paths[a][1], sizeof(paths[a][1]), "%s/%s%s.pem",
			argv[3], actor_files[a], a == ANALYST ? "-chain" : "");
		actors[a].key_path = paths[a][0];
		actors[a].cert_path = a == ANALYST ? NULL : paths[a][1];
		if (a == ANALYST) {
			/* the analyst's certificate, then its chain */
			static char cert[4200];

			snprintf(cert, sizeof(cert), "%s/analyst.pem",
				argv[3]);
			actors[a].cert_path = cert;
			actors[a].chain_path = paths[a][1];
		}
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", argv[3]);
	trust[0] = ca;
	custos_custody_event_init(&gen);
	gen.case_ref = "BIG";
	gen.note = "bench/court-gen: a large TEST-ONLY case";
	custos_error_clear(&e);
	if (custos_custody_init(log_dir, "bench.example/BIG", argv[2], trust, 1,
			&gen, &actors[EXAMINER], &e) != CUSTOS_OK)
		die("init", &e);
	records = 1;
	items = calloc(count, sizeof(*items));
	if (items == NULL)
		return 3;
	for (size_t i = 0; i < count; i++) {
		const char *base = strrchr(argv[5 + i], '/');

		custos_error_clear(&e);
		if (custos_custody_append_acquired(log_dir, argv[5 + i],
				&actors[EXAMINER], &e) != CUSTOS_OK)
			die(argv[5 + i], &e);
		records++;
		/* DIR/ITEM.report.json names the item (the evidence
		 * number the report was made with) */
		base = base != NULL ? base + 1 : argv[5 + i];
		snprintf(items[i].id, sizeof(items[i].id), "%.*s",
			(int)strcspn(base, "."), base);
		items[i].holder = EXAMINER;
	}
	for (uint64_t n = 0; records < want; n++) {
		item *it = &items[n % count];

		/* a hand-over takes two records: never leave one open */
		if (it->step % 6 == 2 && records + 2 > want) {
			plain(it, "accessed", "last look", NULL);
			break;
		}
		step(it, n);
		if (records % 10000 == 0)
			fprintf(stderr, "court-gen: %" PRIu64 " records\n",
				records);
	}
	custos_error_clear(&e);
	if (custos_custody_checkpoint(NULL, log_dir, argv[2], NULL, &e) !=
			CUSTOS_OK)
		die("checkpoint", &e);
	printf("%" PRIu64 " records, %zu items\n", records, count);
	free(items);
	return 0;
}
