/* Ranges: ordered, merged, bounded. */
#include "custos/ranges.h"
#include "harness.h"

static void test_merge(void)
{
	custos_ranges *r = NULL;

	CU_ASSERT_FATAL(custos_ranges_new(&r, NULL) == CUSTOS_OK);
	CU_ASSERT(custos_ranges_add(r, 10, 2, NULL) == CUSTOS_OK);
	CU_ASSERT(custos_ranges_add(r, 12, 1, NULL) == CUSTOS_OK); /* adjacent */
	CU_ASSERT(custos_ranges_add(r, 20, 5, NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_ranges_count(r), 2);
	CU_ASSERT_EQUAL(custos_ranges_get(r, 0)->first_sector, 10);
	CU_ASSERT_EQUAL(custos_ranges_get(r, 0)->sector_count, 3);
	CU_ASSERT_EQUAL(custos_ranges_get(r, 1)->first_sector, 20);
	CU_ASSERT_EQUAL(custos_ranges_total(r), 8);
	CU_ASSERT(custos_ranges_get(r, 2) == NULL);
	custos_ranges_free(r);
}

static void test_reject_bad(void)
{
	custos_ranges *r = NULL;

	CU_ASSERT_FATAL(custos_ranges_new(&r, NULL) == CUSTOS_OK);
	CU_ASSERT(custos_ranges_add(r, 10, 5, NULL) == CUSTOS_OK);
	CU_ASSERT(custos_ranges_add(r, 12, 1, NULL) == CUSTOS_EINVAL); /* overlap */
	CU_ASSERT(custos_ranges_add(r, 5, 1, NULL) == CUSTOS_EINVAL);  /* order */
	CU_ASSERT(custos_ranges_add(r, 30, 0, NULL) == CUSTOS_EINVAL); /* empty */
	CU_ASSERT(custos_ranges_add(r, UINT64_MAX, 2, NULL) == CUSTOS_EINVAL);
	CU_ASSERT_EQUAL(custos_ranges_total(r), 5);
	custos_ranges_free(r);
	custos_ranges_free(NULL);
}

static const harness_test tests[] = {
	{"adjacent ranges merge", test_merge},
	{"overlap, disorder and overflow are refused", test_reject_bad},
};

HARNESS_MAIN("ranges", tests)
