/*
 * Acquisition pipeline, with a fault-injecting source: bad sectors must be
 * isolated exactly, transient errors recovered by retries, interruptions
 * and write failures recorded as "aborted", and nothing left looking
 * complete that is not.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <jansson.h>

#include "custos/custos.h"
#include "harness.h"

#define SECTOR 512
#define MEDIA_SIZE (3u * 1024 * 1024 + 5 * SECTOR) /* not a buffer multiple */
#define MAX_BAD 8

typedef struct fault_source {
	unsigned char *data;
	size_t size;
	uint64_t bad_first[MAX_BAD], bad_count[MAX_BAD];
	int nbad;
	uint64_t transient_sector; /* fails transient_left more times */
	int transient_left;
	unsigned long reads;
} fault_source;

static int overlaps(uint64_t off, size_t len, uint64_t first, uint64_t count)
{
	uint64_t a = first * SECTOR, b = (first + count) * SECTOR;

	return off < b && off + len > a;
}

/* Like a disk: a request touching a bad sector fails as a whole. */
static ssize_t fault_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	fault_source *f = ctx;

	f->reads++;
	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	for (int i = 0; i < f->nbad; i++)
		if (overlaps(off, len, f->bad_first[i], f->bad_count[i]))
			return -EIO;
	if (f->transient_left > 0 &&
	    overlaps(off, len, f->transient_sector, 1)) {
		f->transient_left--;
		return -EIO;
	}
	memcpy(buf, f->data + off, len);
	return (ssize_t)len;
}

static const custos_source_ops fault_ops = {
	.version = CUSTOS_SOURCE_OPS_VERSION,
	.read_at = fault_read,
};

static fault_source *fault_new(void)
{
	fault_source *f = calloc(1, sizeof(*f));

	f->size = MEDIA_SIZE;
	f->data = malloc(f->size);
	for (size_t i = 0; i < f->size; i++)
		f->data[i] = (unsigned char)((i * 2654435761u) >> 13);
	return f;
}

static void fault_free(fault_source *f)
{
	free(f->data);
	free(f);
}

static custos_source *open_fault(fault_source *f)
{
	custos_source *s = NULL;

	CU_ASSERT_FATAL(custos_source_open_ops(&s, &fault_ops, f, "fault",
		f->size, SECTOR, NULL) == CUSTOS_OK);
	return s;
}

static void expected_hex(const unsigned char *d, size_t n,
		custos_digest_alg alg, char *hex)
{
	CU_ASSERT_FATAL(custos_digest_buffer_hex(alg, d, n, hex,
		CUSTOS_DIGEST_HEX_MAX, NULL) == CUSTOS_OK);
}

static json_t *load_report(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);

	CU_ASSERT_FATAL(j != NULL);
	return j;
}

static int exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static void test_clean_run(void)
{
	fault_source *f = fault_new();
	custos_source *s = open_fault(f);
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	char hex[CUSTOS_DIGEST_HEX_MAX];
	unsigned char *img;
	size_t len = 0;

	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "clean";
	o.digests |= CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA512);
	o.verify = 1;
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_acquisition_result(a), CUSTOS_RESULT_COMPLETE);
	CU_ASSERT_EQUAL(custos_acquisition_verify_result(a), CUSTOS_VERIFY_MATCH);
	CU_ASSERT_EQUAL(custos_acquisition_bytes(a), MEDIA_SIZE);
	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++) {
		expected_hex(f->data, f->size, (custos_digest_alg)alg, hex);
		CU_ASSERT_STRING_EQUAL(custos_acquisition_digest(a,
			(custos_digest_alg)alg), hex);
	}
	img = harness_read_file("clean.raw", &len);
	CU_ASSERT_FATAL(img != NULL);
	CU_ASSERT(len == f->size && memcmp(img, f->data, len) == 0);
	free(img);
	CU_ASSERT(exists("clean.report.json") && exists("clean.report.txt") &&
		exists("clean.sha256"));
	CU_ASSERT(!exists("clean.raw.part"));
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

/*
 * Bad sectors, one range straddling the 1 MiB buffer boundary (sector
 * 2048), one single sector, one at the very end.
 */
static void test_bad_sectors_exact(void)
{
	fault_source *f = fault_new();
	custos_source *s;
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	const custos_ranges *bad;
	unsigned char *expect, *img;
	char hex[CUSTOS_DIGEST_HEX_MAX];
	size_t len = 0;
	uint64_t last = MEDIA_SIZE / SECTOR - 1;
	json_t *rep;

	f->bad_first[0] = 100; f->bad_count[0] = 3;
	f->bad_first[1] = 2045; f->bad_count[1] = 6;
	f->bad_first[2] = 5000; f->bad_count[2] = 1;
	f->bad_first[3] = last; f->bad_count[3] = 1;
	f->nbad = 4;
	s = open_fault(f);
	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "bad";
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_acquisition_result(a),
		CUSTOS_RESULT_COMPLETE_WITH_ERRORS);
	bad = custos_acquisition_unreadable(a);
	CU_ASSERT_FATAL(custos_ranges_count(bad) == 4);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(custos_ranges_get(bad, (size_t)i)->first_sector,
			f->bad_first[i]);
		CU_ASSERT_EQUAL(custos_ranges_get(bad, (size_t)i)->sector_count,
			f->bad_count[i]);
	}
	CU_ASSERT_EQUAL(custos_ranges_total(bad), 11);

	/* The image and the hashes cover the zero-filled bytes. */
	expect = malloc(f->size);
	memcpy(expect, f->data, f->size);
	for (int i = 0; i < 4; i++)
		memset(expect + f->bad_first[i] * SECTOR, 0,
			f->bad_count[i] * SECTOR);
	img = harness_read_file("bad.raw", &len);
	CU_ASSERT_FATAL(img != NULL);
	CU_ASSERT(len == f->size && memcmp(img, expect, len) == 0);
	expected_hex(expect, f->size, CUSTOS_DIGEST_MD5, hex);
	CU_ASSERT_STRING_EQUAL(custos_acquisition_digest(a, CUSTOS_DIGEST_MD5),
		hex);

	rep = load_report("bad.report.json");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rep, "result")),
		"complete-with-errors");
	{
		json_t *errors = json_object_get(rep, "errors");
		json_t *ranges = json_object_get(errors, "ranges");

		CU_ASSERT_EQUAL(json_integer_value(json_object_get(errors,
			"unreadable_sectors")), 11);
		CU_ASSERT_EQUAL(json_array_size(ranges), 4);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(
			json_array_get(ranges, 1), "first_sector")), 2045);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(
			json_array_get(ranges, 1), "sector_count")), 6);
	}
	json_decref(rep);
	free(expect);
	free(img);
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

/* A sector that fails twice then reads: retries save it; no retries lose it. */
static void test_transient_error(void)
{
	fault_source *f = fault_new();
	custos_source *s;
	custos_acquire_options o;
	custos_acquisition *a = NULL;

	/* Fails for the source fingerprint (first MiB), the in-order read,
	 * the copying pass and the trimming pass; a retry pass reads it. */
	f->transient_sector = 777;
	f->transient_left = 4;
	s = open_fault(f);
	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "t1";
	o.retries = 2;
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_acquisition_result(a), CUSTOS_RESULT_COMPLETE);
	CU_ASSERT_EQUAL(custos_ranges_total(custos_acquisition_unreadable(a)), 0);
	custos_acquisition_free(a);
	custos_source_free(s);

	f->transient_left = 4;
	s = open_fault(f);
	o.output_base = "t0";
	o.retries = 0;
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_ranges_total(custos_acquisition_unreadable(a)), 1);
	CU_ASSERT_EQUAL(custos_ranges_get(custos_acquisition_unreadable(a),
		0)->first_sector, 777);
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

/* Coarser isolation steps still end at single sectors. */
static void test_granularity(void)
{
	fault_source *f = fault_new();
	custos_source *s;
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	const custos_ranges *bad;

	f->bad_first[0] = 4099; f->bad_count[0] = 2;
	f->nbad = 1;
	s = open_fault(f);
	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "g";
	o.granularity = 16 * SECTOR;
	o.retries = 1;
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	bad = custos_acquisition_unreadable(a);
	CU_ASSERT_FATAL(custos_ranges_count(bad) == 1);
	CU_ASSERT_EQUAL(custos_ranges_get(bad, 0)->first_sector, 4099);
	CU_ASSERT_EQUAL(custos_ranges_get(bad, 0)->sector_count, 2);
	custos_acquisition_free(a);
	custos_source_free(s);

	/* A granularity that is not whole sectors is a usage error. */
	s = open_fault(f);
	o.output_base = "g2";
	o.granularity = 1000;
	CU_ASSERT(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_EINVAL);
	CU_ASSERT(a == NULL);
	CU_ASSERT(!exists("g2.report.json"));
	custos_source_free(s);
	fault_free(f);
}

static volatile sig_atomic_t stop_flag;

static void stop_after_first(const custos_progress *p, void *ctx)
{
	(void)p;
	(void)ctx;
	stop_flag = 1;
}

static void test_cancel_is_aborted(void)
{
	fault_source *f = fault_new();
	custos_source *s = open_fault(f);
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	json_t *rep;

	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "c";
	o.progress = stop_after_first;
	o.cancel = &stop_flag;
	stop_flag = 0;
	CU_ASSERT(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_ECANCELED);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(custos_acquisition_result(a), CUSTOS_RESULT_ABORTED);
	CU_ASSERT(custos_acquisition_bytes(a) < MEDIA_SIZE);
	CU_ASSERT(custos_acquisition_digest(a, CUSTOS_DIGEST_MD5) == NULL);
	/* Nothing looks complete: no final image, no checksum file. */
	CU_ASSERT(!exists("c.raw"));
	CU_ASSERT(!exists("c.sha256"));
	CU_ASSERT(exists("c.part/c.raw"));
	rep = load_report("c.report.json");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rep, "result")),
		"aborted");
	CU_ASSERT(json_is_string(json_object_get(rep, "aborted_reason")));
	CU_ASSERT(json_integer_value(json_object_get(json_object_get(rep,
		"acquisition"), "bytes_acquired")) < MEDIA_SIZE);
	json_decref(rep);
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

/* A file size limit makes the image write fail half way. */
static void test_write_failure_is_aborted(void)
{
	fault_source *f = fault_new();
	custos_source *s = open_fault(f);
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	custos_error err;
	struct rlimit old, lim;
	void (*old_handler)(int);
	json_t *rep;

	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1024 * 1024; /* the report fits, the image does not */
	old_handler = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "w";
	CU_ASSERT(custos_acquire_run(&a, s, &o, &err) == CUSTOS_ENOSPC);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_handler);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(strstr(err.message, "w.part/w.raw") != NULL);
	CU_ASSERT_EQUAL(custos_acquisition_result(a), CUSTOS_RESULT_ABORTED);
	CU_ASSERT(!exists("w.raw"));
	CU_ASSERT(!exists("w.sha256"));
	rep = load_report("w.report.json");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rep, "result")),
		"aborted");
	json_decref(rep);
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

static void test_existing_output_untouched(void)
{
	fault_source *f = fault_new();
	custos_source *s = open_fault(f);
	custos_acquire_options o;
	custos_acquisition *a = NULL;

	harness_write_file("x.report.json", "keep", 4);
	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "x";
	CU_ASSERT(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_EEXIST);
	CU_ASSERT(a == NULL);
	CU_ASSERT(!exists("x.raw") && !exists("x.part"));
	custos_source_free(s);
	fault_free(f);
}

/* The report has the fields of DESIGN.md, exactly so named. */
static void test_report_fields(void)
{
	fault_source *f = fault_new();
	custos_source *s = open_fault(f);
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	static const char *paths[][2] = {
		{"tool", "name"}, {"tool", "version"}, {"tool", "libewf"},
		{"tool", "openssl"}, {"case", "case_number"},
		{"case", "evidence_number"}, {"case", "examiner"},
		{"case", "description"}, {"case", "notes"}, {"source", "path"},
		{"source", "kind"}, {"source", "size_bytes"},
		{"source", "sector_size"}, {"source", "read_only"},
		{"source", "vendor"}, {"source", "model"}, {"source", "serial"},
		{"image", "format"}, {"image", "compression"}, {"image", "files"},
		{"hashes", "md5"}, {"hashes", "sha1"}, {"hashes", "sha256"},
		{"errors", "unreadable_sectors"}, {"errors", "ranges"},
	};
	static const char *top[] = {"custos_report", "started_at",
		"finished_at", "host", "timezone", "result"};
	json_t *rep, *file;
	size_t len = 0;
	unsigned char *txt;

	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "r";
	o.tool_name = "test-tool";
	o.case_info.case_number = "CASE-1";
	o.case_info.examiner = "Ex\xff\x01 Aminer"; /* not UTF-8, a control byte */
	o.case_info.notes = "line1\nline2";
	/* A right-to-left override and a C1 CSI, then Arabic to keep. */
	o.case_info.description = "evil\xe2\x80\xae\xc2\x9b" "2J \xd9\x85\xd8\xad";
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	rep = load_report("r.report.json");
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(json_object_get(rep, top[i]));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		json_t *section = json_object_get(rep, paths[i][0]);

		CU_ASSERT_PTR_NOT_NULL(json_object_get(section, paths[i][1]));
	}
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(rep,
		"custos_report")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_object_get(rep, "case"), "case_number")), "CASE-1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_object_get(rep, "tool"), "name")), "test-tool");
	file = json_array_get(json_object_get(json_object_get(rep, "image"),
		"files"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(file, "name")),
		"r.raw");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(file, "sha256")),
		custos_acquisition_digest(a, CUSTOS_DIGEST_SHA256));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(file, "size_bytes")),
		MEDIA_SIZE);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rep, "result")),
		"complete");
	{
		const char *t = json_string_value(json_object_get(rep,
			"started_at"));

		CU_ASSERT(t != NULL && strlen(t) == 20 && t[10] == 'T' &&
			t[19] == 'Z');
	}
	json_decref(rep);
	/* The text report escapes control bytes and invalid UTF-8 instead
	 * of printing them. */
	txt = harness_read_file("r.report.txt", &len);
	CU_ASSERT_FATAL(txt != NULL);
	CU_ASSERT(strstr((char *)txt, "Ex\\xff\\x01 Aminer") != NULL);
	CU_ASSERT(memchr(txt, 0xff, len) == NULL);
	CU_ASSERT(strstr((char *)txt, "evil\\u202e\\u009b2J \xd9\x85\xd8\xad") !=
		NULL);
	CU_ASSERT(strstr((char *)txt, "line1\\x0aline2") != NULL);
	CU_ASSERT(strstr((char *)txt, "CASE-1") != NULL);
	free(txt);
	/* The checksum file is in sha256sum's format. */
	txt = harness_read_file("r.sha256", &len);
	CU_ASSERT_FATAL(txt != NULL);
	CU_ASSERT(len == 64 + 2 + 5 + 1);
	CU_ASSERT(strncmp((char *)txt + 64, "  r.raw\n", 8) == 0);
	free(txt);
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

/* Split output: per-file SHA-256 differs from the media hash. */
static void test_split(void)
{
	fault_source *f = fault_new();
	custos_source *s = open_fault(f);
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	char hex[CUSTOS_DIGEST_HEX_MAX];
	json_t *rep, *files;

	custos_acquire_options_init(&o);
	o.format = CUSTOS_FORMAT_RAW;
	o.output_base = "sp";
	o.split_size = 1024 * 1024;
	o.digests = CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_MD5);
	o.verify = 1;
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_acquisition_verify_result(a), CUSTOS_VERIFY_MATCH);
	rep = load_report("sp.report.json");
	files = json_object_get(json_object_get(rep, "image"), "files");
	CU_ASSERT_EQUAL(json_array_size(files), 4);
	expected_hex(f->data + 3 * 1024 * 1024, 5 * SECTOR,
		CUSTOS_DIGEST_SHA256, hex);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_array_get(files, 3), "sha256")), hex);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_array_get(files, 3), "name")), "sp.004");
	CU_ASSERT(json_object_get(json_object_get(rep, "hashes"), "sha256")
		== NULL);
	json_decref(rep);
	custos_acquisition_free(a);
	custos_source_free(s);
	fault_free(f);
}

static const harness_test tests[] = {
	{"clean run: hashes, image, verify", test_clean_run},
	{"bad sectors isolated exactly and zero-filled", test_bad_sectors_exact},
	{"transient errors: retries recover them", test_transient_error},
	{"coarse granularity narrows to sectors", test_granularity},
	{"interrupt: report says aborted", test_cancel_is_aborted},
	{"write failure: report says aborted", test_write_failure_is_aborted},
	{"existing outputs are never touched", test_existing_output_untouched},
	{"report fields as in DESIGN.md", test_report_fields},
	{"split output", test_split},
};

HARNESS_MAIN("acquire", tests)
