/* Raw writer and reader: single, split, no partial file under a final name. */
#include <sys/stat.h>

#include "custos/raw.h"
#include "harness.h"

static unsigned char data[10000];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i % 251);
}

static int exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static void test_single_file(void)
{
	custos_raw_writer *w = NULL;
	unsigned char *back;
	size_t len = 0;

	fill();
	CU_ASSERT_FATAL(custos_raw_writer_open(&w, "img", 0, 1, NULL) ==
		CUSTOS_OK);
	CU_ASSERT(custos_raw_writer_write(w, data, 4096, NULL) == CUSTOS_OK);
	CU_ASSERT(custos_raw_writer_write(w, data + 4096, sizeof(data) - 4096,
		NULL) == CUSTOS_OK);
	/* Before commit the data lives only under the .part name. */
	CU_ASSERT(!exists("img.raw"));
	CU_ASSERT(exists("img.raw.part"));
	CU_ASSERT(custos_raw_writer_commit(w, NULL) == CUSTOS_OK);
	CU_ASSERT(exists("img.raw"));
	CU_ASSERT(!exists("img.raw.part"));
	CU_ASSERT_EQUAL(custos_raw_writer_file_count(w), 1);
	CU_ASSERT_STRING_EQUAL(custos_raw_writer_file(w, 0)->name, "img.raw");
	CU_ASSERT_EQUAL(custos_raw_writer_file(w, 0)->size_bytes, sizeof(data));
	{
		char hex[CUSTOS_DIGEST_HEX_MAX];

		custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, data,
			sizeof(data), hex, sizeof(hex), NULL);
		CU_ASSERT_STRING_EQUAL(custos_raw_writer_file(w, 0)->sha256, hex);
	}
	custos_raw_writer_free(w);
	back = harness_read_file("img.raw", &len);
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT_EQUAL(len, sizeof(data));
	CU_ASSERT(memcmp(back, data, len) == 0);
	free(back);
}

static void test_split_and_read_back(void)
{
	custos_raw_writer *w = NULL;
	custos_source *src = NULL;
	const char *paths[] = {"s.001", "s.002", "s.003"};
	unsigned char buf[sizeof(data) + 100];
	size_t got = 0;

	fill();
	CU_ASSERT_FATAL(custos_raw_writer_open(&w, "s", 4096, 1, NULL) ==
		CUSTOS_OK);
	/* Odd-sized writes that straddle segment boundaries. */
	for (size_t off = 0; off < sizeof(data); off += 3000) {
		size_t n = sizeof(data) - off < 3000 ? sizeof(data) - off : 3000;

		CU_ASSERT(custos_raw_writer_write(w, data + off, n, NULL) ==
			CUSTOS_OK);
	}
	CU_ASSERT(custos_raw_writer_commit(w, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_raw_writer_file_count(w), 3);
	CU_ASSERT_EQUAL(custos_raw_writer_file(w, 0)->size_bytes, 4096);
	CU_ASSERT_EQUAL(custos_raw_writer_file(w, 2)->size_bytes, 10000 - 8192);
	for (size_t i = 0; i < 3; i++) {
		char hex[CUSTOS_DIGEST_HEX_MAX];
		size_t n = i < 2 ? 4096 : 10000 - 8192;

		custos_digest_buffer_hex(CUSTOS_DIGEST_SHA256, data + i * 4096,
			n, hex, sizeof(hex), NULL);
		CU_ASSERT_STRING_EQUAL(custos_raw_writer_file(w, i)->sha256, hex);
		CU_ASSERT_STRING_EQUAL(custos_raw_writer_file(w, i)->name,
			paths[i]);
	}
	custos_raw_writer_free(w);
	CU_ASSERT(!exists("s.004"));

	CU_ASSERT_FATAL(custos_raw_open_source(&src, paths, 3, NULL) ==
		CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_source_get_info(src)->size_bytes, sizeof(data));
	CU_ASSERT(custos_source_read(src, buf, sizeof(buf), 0, &got, NULL,
		NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(got, sizeof(data));
	CU_ASSERT(memcmp(buf, data, sizeof(data)) == 0);
	/* A read across the first boundary. */
	CU_ASSERT(custos_source_read(src, buf, 200, 4000, &got, NULL, NULL) ==
		CUSTOS_OK);
	CU_ASSERT(got == 200 && memcmp(buf, data + 4000, 200) == 0);
	custos_source_free(src);
}

static void test_refuse_overwrite(void)
{
	custos_raw_writer *w = NULL;
	custos_error err;

	harness_write_file("old.raw", "x", 1);
	CU_ASSERT(custos_raw_writer_open(&w, "old", 0, 0, &err) ==
		CUSTOS_EEXIST);
	CU_ASSERT(w == NULL);
	CU_ASSERT(strstr(err.message, "old.raw") != NULL);
	/* The existing file is untouched. */
	{
		size_t len = 0;
		unsigned char *b = harness_read_file("old.raw", &len);

		CU_ASSERT(b != NULL && len == 1 && b[0] == 'x');
		free(b);
	}
}

static void test_uncommitted_stays_partial(void)
{
	custos_raw_writer *w = NULL;

	fill();
	CU_ASSERT_FATAL(custos_raw_writer_open(&w, "p", 0, 0, NULL) ==
		CUSTOS_OK);
	CU_ASSERT(custos_raw_writer_write(w, data, 100, NULL) == CUSTOS_OK);
	custos_raw_writer_free(w);
	CU_ASSERT(!exists("p.raw"));
	CU_ASSERT(exists("p.raw.part"));
}

static void test_empty_image(void)
{
	custos_raw_writer *w = NULL;

	CU_ASSERT_FATAL(custos_raw_writer_open(&w, "e", 0, 1, NULL) ==
		CUSTOS_OK);
	CU_ASSERT(custos_raw_writer_commit(w, NULL) == CUSTOS_OK);
	CU_ASSERT(exists("e.raw"));
	CU_ASSERT_STRING_EQUAL(custos_raw_writer_file(w, 0)->sha256,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	custos_raw_writer_free(w);
}

static const harness_test tests[] = {
	{"single file, committed by rename", test_single_file},
	{"split segments, hashed, read back as one", test_split_and_read_back},
	{"an existing image is never overwritten", test_refuse_overwrite},
	{"an uncommitted image keeps its .part name", test_uncommitted_stays_partial},
	{"an empty medium gives an empty image", test_empty_image},
};

HARNESS_MAIN("raw", tests)
