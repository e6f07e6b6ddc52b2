/* Source module: files, folders, missing paths, pipes, caller readers. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "custos/source.h"
#include "harness.h"

static void test_file_info_and_read(void)
{
	custos_source *s = NULL;
	const custos_source_info *info;
	unsigned char data[3000], buf[4096];
	size_t got = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	harness_write_file("f.img", data, sizeof(data));
	CU_ASSERT_FATAL(custos_source_open(&s, "f.img", NULL) == CUSTOS_OK);
	info = custos_source_get_info(s);
	CU_ASSERT_EQUAL(info->kind, CUSTOS_SOURCE_FILE);
	CU_ASSERT_EQUAL(info->size_known, 1);
	CU_ASSERT_EQUAL(info->size_bytes, sizeof(data));
	CU_ASSERT_EQUAL(info->logical_sector_size, 512);
	CU_ASSERT_STRING_EQUAL(info->path, "f.img");
	CU_ASSERT(custos_source_is_seekable(s));
	/* Asking for more than there is returns what there is. */
	CU_ASSERT(custos_source_read(s, buf, sizeof(buf), 0, &got, NULL, NULL)
		== CUSTOS_OK);
	CU_ASSERT_EQUAL(got, sizeof(data));
	CU_ASSERT(memcmp(buf, data, sizeof(data)) == 0);
	/* A unit at an offset, and the short tail of a file. */
	CU_ASSERT(custos_source_read_unit(s, buf, 512, 1024, NULL) == CUSTOS_OK);
	CU_ASSERT(memcmp(buf, data + 1024, 512) == 0);
	CU_ASSERT(custos_source_read_unit(s, buf, 512, 2560, NULL) == CUSTOS_EIO);
	custos_source_free(s);
}

static void test_missing_and_folder(void)
{
	custos_source *s = NULL;
	custos_error err;

	CU_ASSERT(custos_source_open(&s, "no-such-file", &err) ==
		CUSTOS_ENOTFOUND);
	CU_ASSERT(s == NULL);
	CU_ASSERT(strstr(err.message, "no-such-file") != NULL);
	CU_ASSERT(custos_source_open(&s, ".", &err) == CUSTOS_EINVAL);
	CU_ASSERT(custos_source_open(&s, "", &err) == CUSTOS_EINVAL);
	custos_source_free(NULL);
}

/* stdin as a pipe: size unknown, read in order only. */
static void test_stdin_pipe(void)
{
	custos_source *s = NULL;
	const custos_source_info *info;
	int fds[2], saved = dup(STDIN_FILENO);
	char buf[64];
	size_t got = 0;

	CU_ASSERT_FATAL(pipe(fds) == 0);
	CU_ASSERT_FATAL(write(fds[1], "hello evidence", 14) == 14);
	close(fds[1]);
	CU_ASSERT_FATAL(dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
	close(fds[0]);
	CU_ASSERT_FATAL(custos_source_open(&s, "-", NULL) == CUSTOS_OK);
	info = custos_source_get_info(s);
	CU_ASSERT_EQUAL(info->kind, CUSTOS_SOURCE_STDIN);
	CU_ASSERT_EQUAL(info->size_known, 0);
	CU_ASSERT(!custos_source_is_seekable(s));
	CU_ASSERT(custos_source_read(s, buf, 5, 3, &got, NULL, NULL) ==
		CUSTOS_EUNSUPPORTED);
	CU_ASSERT(custos_source_read(s, buf, sizeof(buf), 0, &got, NULL, NULL)
		== CUSTOS_OK);
	CU_ASSERT_EQUAL(got, 14);
	CU_ASSERT(memcmp(buf, "hello evidence", 14) == 0);
	CU_ASSERT(custos_source_read_unit(s, buf, 512, 0, NULL) ==
		CUSTOS_EUNSUPPORTED);
	custos_source_free(s);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static ssize_t failing_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx;
	(void)buf;
	(void)len;
	(void)off;
	return -EIO;
}

static const custos_source_ops failing_ops = {
	.version = CUSTOS_SOURCE_OPS_VERSION,
	.read_at = failing_read,
};

static void test_ops_source(void)
{
	custos_source *s = NULL;
	custos_error err;
	char buf[512];
	size_t got = 99;

	CU_ASSERT_FATAL(custos_source_open_ops(&s, &failing_ops, NULL, "bad",
		4096, 512, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_source_get_info(s)->kind, CUSTOS_SOURCE_CUSTOM);
	CU_ASSERT(custos_source_read(s, buf, sizeof(buf), 0, &got, NULL, &err)
		== CUSTOS_EIO);
	CU_ASSERT_EQUAL(got, 0);
	CU_ASSERT(strstr(err.message, "byte 0") != NULL);
	custos_source_free(s);
	/* A wrong ops version is refused rather than misread. */
	{
		custos_source_ops old = failing_ops;

		old.version = 99;
		CU_ASSERT(custos_source_open_ops(&s, &old, NULL, "x", 1, 512,
			NULL) == CUSTOS_EINVAL);
	}
}

static const harness_test tests[] = {
	{"file: size, sector size, reads", test_file_info_and_read},
	{"missing path and folder are refused", test_missing_and_folder},
	{"stdin pipe: unknown size, in order", test_stdin_pipe},
	{"caller reader and its errors", test_ops_source},
};

HARNESS_MAIN("source", tests)
