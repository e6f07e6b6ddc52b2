/*
 * A few lines shared by the CUnit test programs: each test runs in a fresh
 * temporary folder, and main() reads the failure count before cleaning up
 * the registry (cleanup clears it, and a failing suite would pass).
 */
#ifndef CUSTOS_TEST_HARNESS_H
#define CUSTOS_TEST_HARNESS_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HARNESS_SKIP 77
#define HARNESS_ERROR 99

static char harness_dir[256];
static char harness_start[4096];

/* Each test gets its own empty folder as the working directory. */
__attribute__((unused)) static int harness_setup(void)
{
	snprintf(harness_dir, sizeof(harness_dir), "%s/custos-test-XXXXXX",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(harness_dir) == NULL || chdir(harness_dir) != 0)
		return -1;
	return 0;
}

static int harness_teardown(void)
{
	char cmd[512];

	if (chdir(harness_start) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", harness_dir);
	return system(cmd) == 0 ? 0 : -1;
}

typedef struct harness_test {
	const char *name;
	void (*fn)(void);
} harness_test;

static int harness_run(const char *suite_name, const harness_test *tests,
		size_t count)
{
	CU_pSuite suite;
	unsigned int failures;

	if (getcwd(harness_start, sizeof(harness_start)) == NULL)
		return HARNESS_ERROR;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return HARNESS_ERROR;
	suite = CU_add_suite_with_setup_and_teardown(suite_name, NULL, NULL,
		(CU_SetUpFunc)harness_setup, (CU_TearDownFunc)harness_teardown);
	if (suite == NULL)
		goto error;
	for (size_t i = 0; i < count; i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			goto error;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto error;
	failures = CU_get_number_of_failures() +
		CU_get_number_of_tests_failed();
	/* Setup/teardown failures are harness errors, not passes. */
	if (CU_get_run_summary()->nSuitesFailed > 0) {
		CU_cleanup_registry();
		return HARNESS_ERROR;
	}
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
error:
	CU_cleanup_registry();
	return HARNESS_ERROR;
}

#define HARNESS_MAIN(suite, tests)                                             \
	int main(void)                                                         \
	{                                                                      \
		return harness_run(suite, tests,                               \
			sizeof(tests) / sizeof(tests[0]));                     \
	}

/* Write a file for a test; fails the test on error. */
__attribute__((unused)) static void harness_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(data, 1, len, f) == len);
	CU_ASSERT_FATAL(fclose(f) == 0);
}

/* Read a whole small file; caller frees.  NULL if missing. */
__attribute__((unused)) static unsigned char *harness_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

#endif
