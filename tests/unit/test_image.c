/*
 * Image reading: E01 made by libewf's ewfacquire (shared testdata) and by
 * us, split raw, and hostile files: flipped bytes, truncation, garbage.
 */
#include <errno.h>
#include <sys/stat.h>

#include <jansson.h>

#include "custos/custos.h"
#include "harness.h"

#define EXT2_MD5 "196066add11fb71c4c49cf1bb50d6d24"
#define EXT2_SHA256 "a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80"

static custos_status hash_path(const char *path, custos_image_hash_result *res,
		custos_error *err)
{
	custos_image *img = NULL;
	custos_image_hash_options o;
	custos_status st = custos_image_open(&img, &path, 1, err);

	custos_image_hash_options_init(&o);
	o.digests |= CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA512);
	if (st == CUSTOS_OK)
		st = custos_image_hash(img, &o, res, err);
	custos_image_free(img);
	return st;
}

static void copy_file(const char *from, const char *to)
{
	size_t len = 0;
	unsigned char *data = harness_read_file(from, &len);

	CU_ASSERT_FATAL(data != NULL);
	harness_write_file(to, data, len);
	free(data);
}

static void flip_byte(const char *path, long offset)
{
	FILE *f = fopen(path, "r+b");
	int c;

	CU_ASSERT_FATAL(f != NULL);
	fseek(f, offset, SEEK_SET);
	c = fgetc(f);
	fseek(f, offset, SEEK_SET);
	fputc(c ^ 0xff, f);
	fclose(f);
}

static void test_testdata_e01(void)
{
	const char *path = CUSTOS_TESTDATA "/ewf/ext2.E01";
	custos_image *img = NULL;
	custos_image_hash_options o;
	custos_image_hash_result res;

	CU_ASSERT_FATAL(custos_image_open(&img, &path, 1, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_image_get_format(img), CUSTOS_FORMAT_E01);
	CU_ASSERT_EQUAL(custos_image_media_size(img), 4194304);
	CU_ASSERT_STRING_EQUAL(custos_image_stored_digest(img,
		CUSTOS_DIGEST_MD5), EXT2_MD5);
	CU_ASSERT_STRING_EQUAL(custos_image_header(img, "case_number"), "case");
	CU_ASSERT_STRING_EQUAL(custos_image_header(img, "examiner_name"),
		"examiner");
	custos_image_hash_options_init(&o);
	CU_ASSERT(custos_image_hash(img, &o, &res, NULL) == CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(res.digest[CUSTOS_DIGEST_MD5], EXT2_MD5);
	CU_ASSERT_STRING_EQUAL(res.digest[CUSTOS_DIGEST_SHA256], EXT2_SHA256);
	CU_ASSERT_EQUAL(res.chunks_checked, 128);
	CU_ASSERT_EQUAL(res.stored_md5_match, 1);
	CU_ASSERT_EQUAL(res.corrupt, 0);
	custos_image_free(img);
}

static void test_testdata_split(void)
{
	const char *path = CUSTOS_TESTDATA "/ewf/ext2.split.E01";
	custos_image *img = NULL;
	custos_image_hash_options o;
	custos_image_hash_result res;

	CU_ASSERT_FATAL(custos_image_open(&img, &path, 1, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_image_file_count(img), 2);
	custos_image_hash_options_init(&o);
	o.workers = 3;
	CU_ASSERT(custos_image_hash(img, &o, &res, NULL) == CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(res.digest[CUSTOS_DIGEST_SHA256], EXT2_SHA256);
	custos_image_free(img);
}

/* Every byte of the chunk area flipped in turn must be caught or harmless. */
static void test_flipped_bytes(void)
{
	custos_image_hash_result res;
	custos_error err;
	size_t len = 0;
	unsigned char *orig = harness_read_file(CUSTOS_TESTDATA "/ewf/ext2.E01",
		&len);
	int caught = 0;

	CU_ASSERT_FATAL(orig != NULL);
	for (long off = 2000; off < (long)len - 2000; off += 499) {
		custos_status st;

		harness_write_file("f.E01", orig, len);
		flip_byte("f.E01", off);
		st = hash_path("f.E01", &res, &err);
		/* Never a silent wrong answer: fail, or give the true hash. */
		if (st == CUSTOS_OK) {
			CU_ASSERT_STRING_EQUAL(res.digest[CUSTOS_DIGEST_MD5],
				EXT2_MD5);
		} else {
			caught++;
		}
	}
	CU_ASSERT(caught > 0);
	free(orig);
}

static void test_corrupt_chunk_named(void)
{
	custos_image_hash_result res;
	custos_error err;

	copy_file(CUSTOS_TESTDATA "/ewf/ext2.E01", "c.E01");
	flip_byte("c.E01", 6000);
	CU_ASSERT(hash_path("c.E01", &res, &err) == CUSTOS_EMISMATCH);
	CU_ASSERT(res.corrupt);
	CU_ASSERT(strstr(err.message, "chunk") != NULL);
	CU_ASSERT(strstr(err.message, "offset") != NULL);
	CU_ASSERT_EQUAL(res.digest[CUSTOS_DIGEST_MD5][0], '\0');
}

static void test_truncated_and_garbage(void)
{
	custos_image_hash_result res;
	size_t len = 0;
	unsigned char *orig = harness_read_file(CUSTOS_TESTDATA "/ewf/ext2.E01",
		&len);
	unsigned char junk[20000];

	CU_ASSERT_FATAL(orig != NULL);
	for (size_t cut = 13; cut < len; cut += len / 7) {
		harness_write_file("t.E01", orig, cut);
		CU_ASSERT(hash_path("t.E01", &res, NULL) != CUSTOS_OK);
	}
	/* The EWF signature followed by noise. */
	memcpy(junk, orig, 13);
	for (size_t i = 13; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	harness_write_file("g.E01", junk, sizeof(junk));
	CU_ASSERT(hash_path("g.E01", &res, NULL) != CUSTOS_OK);
	free(orig);
}

static void test_split_raw(void)
{
	unsigned char a[1000], b[24];
	custos_image *img = NULL;
	const char *path = "x.001";
	custos_image_hash_options o;
	custos_image_hash_result res;
	unsigned char both[1024];
	char want[CUSTOS_DIGEST_HEX_MAX];

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memcpy(both, a, sizeof(a));
	memcpy(both + sizeof(a), b, sizeof(b));
	harness_write_file("x.001", a, sizeof(a));
	harness_write_file("x.002", b, sizeof(b));
	CU_ASSERT_FATAL(custos_image_open(&img, &path, 1, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_image_get_format(img), CUSTOS_FORMAT_RAW);
	CU_ASSERT_EQUAL(custos_image_file_count(img), 2);
	CU_ASSERT_EQUAL(custos_image_media_size(img), 1024);
	custos_image_hash_options_init(&o);
	CU_ASSERT(custos_image_hash(img, &o, &res, NULL) == CUSTOS_OK);
	custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, both, sizeof(both), want,
		sizeof(want), NULL);
	CU_ASSERT_STRING_EQUAL(res.digest[CUSTOS_DIGEST_SHA256], want);
	CU_ASSERT(custos_image_stored_digest(img, CUSTOS_DIGEST_MD5) == NULL);
	custos_image_free(img);
}

/* Our E01 of a source whose size is not whole sectors: padded, said so. */
static void test_e01_padding(void)
{
	unsigned char data[70000];
	custos_source *s = NULL;
	custos_acquire_options o;
	custos_acquisition *a = NULL;
	custos_image_hash_result res;
	char want[CUSTOS_DIGEST_HEX_MAX];
	json_t *rep;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + (i >> 9));
	harness_write_file("odd.bin", data, sizeof(data));
	CU_ASSERT_FATAL(custos_source_open(&s, "odd.bin", NULL) == CUSTOS_OK);
	custos_acquire_options_init(&o);
	o.output_base = "odd";
	o.verify = 1;
	CU_ASSERT_FATAL(custos_acquire_run(&a, s, &o, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_acquisition_verify_result(a), CUSTOS_VERIFY_MATCH);
	custos_digest_buffer_hex(CUSTOS_DIGEST_MD5, data, sizeof(data), want,
		sizeof(want), NULL);
	CU_ASSERT_STRING_EQUAL(custos_acquisition_digest(a, CUSTOS_DIGEST_MD5),
		want);
	rep = json_load_file("odd.report.json", 0, NULL);
	CU_ASSERT_FATAL(rep != NULL);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(rep,
		"image"), "padding_bytes")), 512 - sizeof(data) % 512);
	json_decref(rep);
	CU_ASSERT(hash_path("odd.E01", &res, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(res.bytes, sizeof(data) + 512 - sizeof(data) % 512);
	CU_ASSERT_EQUAL(res.stored_md5_match, 1);
	custos_acquisition_free(a);
	custos_source_free(s);
}

static const harness_test tests[] = {
	{"E01 from ewfacquire: hashes, metadata", test_testdata_e01},
	{"E01 in two segments", test_testdata_split},
	{"flipped bytes never give a wrong hash", test_flipped_bytes},
	{"a corrupt chunk is named", test_corrupt_chunk_named},
	{"truncated and garbage E01 are refused", test_truncated_and_garbage},
	{"split raw found from .001", test_split_raw},
	{"E01 padding of a partial last sector", test_e01_padding},
};

HARNESS_MAIN("image", tests)
