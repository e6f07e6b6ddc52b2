/*
 * Bundle module: the legal request's required fields, and plain BagIt
 * validation over the conformance bags (statuses pinned).  Creating,
 * encrypting, splitting and the interoperability checks: tests/cli/bundle.sh.
 */
#include <stdio.h>
#include <string.h>

#include "custos/bundle.h"
#include "harness.h"

#define BAGS CUSTOS_TESTDATA "/bagit-conformance"

static const char good[] =
	"{\"instrument\":{\"name\":\"Budapest Convention\",\"article\":\"31\"},"
	"\"measure\":\"letter-of-request\","
	"\"requesting_authority\":{\"name\":\"A\",\"country\":\"FR\"},"
	"\"requested_authority\":{\"name\":\"B\",\"country\":\"AT\"},"
	"\"references\":{\"request\":\"R-1\"}}";

static custos_status check(const char *text, custos_error *err)
{
	return custos_bundle_request_check(text, strlen(text), err);
}

static void test_request(void)
{
	custos_error err;
	char buf[1024];
	static const struct {
		const char *from, *to, *why;
	} cuts[] = {
		{"\"instrument\":{\"name\":\"Budapest Convention\",",
		 "\"instrument\":{", "instrument.name"},
		{"letter-of-request", "fishing-expedition", "unknown measure"},
		{"\"country\":\"FR\"", "\"country\":\"France\"",
		 "requesting_authority.country"},
		{"\"requested_authority\":{\"name\":\"B\",", "\"requested_authority\":{",
		 "requested_authority.name"},
		{"{\"request\":\"R-1\"}", "{\"case\":\"C\"}", "references.request"},
	};

	CU_ASSERT_EQUAL(check(good, &err), CUSTOS_OK);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const char *at = strstr(good, cuts[i].from);
		CU_ASSERT_FATAL(at != NULL);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good,
			cuts[i].to, at + strlen(cuts[i].from));
		CU_ASSERT_EQUAL(check(buf, &err), CUSTOS_EFORMAT);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, cuts[i].why));
	}
	CU_ASSERT_EQUAL(check("[1,2]", &err), CUSTOS_EFORMAT);
	CU_ASSERT_EQUAL(check("{\"measure\":1,\"measure\":2}", &err),
		CUSTOS_EFORMAT);
	CU_ASSERT_EQUAL(check("not json", &err), CUSTOS_EFORMAT);
}

static void test_conformance(void)
{
	custos_bundle_summary sum;
	custos_error err;

	CU_ASSERT_EQUAL(custos_bundle_verify(&sum, BAGS "/v1.0/valid/basicBag",
		NULL, &err), CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(sum.bundle_id, "basicBag");
	CU_ASSERT(sum.payload_files > 0);
	CU_ASSERT_EQUAL(custos_bundle_verify(&sum,
		BAGS "/v0.97/valid/UTF-16-encoded-tag-files", NULL, &err),
		CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_bundle_verify(&sum,
		BAGS "/v0.97/invalid/corrupt-data-file", NULL, &err),
		CUSTOS_EMISMATCH);
	CU_ASSERT_EQUAL(custos_bundle_verify(&sum,
		BAGS "/v1.0/invalid/notAllManifestsListAllFiles", NULL, &err),
		CUSTOS_EMISMATCH);
	CU_ASSERT_EQUAL(custos_bundle_verify(&sum,
		BAGS "/v0.97/invalid/missing-bagit.txt", NULL, &err),
		CUSTOS_EFORMAT);
	CU_ASSERT_EQUAL(custos_bundle_verify(&sum, BAGS "/no-such-bag", NULL,
		&err), CUSTOS_ENOTFOUND);
}

/* Receipts read back (custos_bundle_receipt_check): a repeated key or a
 * result that contradicts the discrepancies is refused. */
static void test_receipt_check(void)
{
	static const char base[] =
		"{\"custos_receipt_version\":1,\"bundle_id\":\"b\","
		"\"request_reference\":\"R\",\"transfer_manifest_sha256\":\"\","
		"\"tag_manifest_sha512\":\"\",\"received_at\":\"t\","
		"\"verified_at\":\"t\",\"receiving_officer\":\"O\","
		"\"receiving_authority\":\"A\",\"storage_location\":\"S\",";
	char buf[1024];
	custos_error err;

	snprintf(buf, sizeof(buf), "%s\"result\":\"verified\","
		"\"discrepancies\":[]}", base);
	CU_ASSERT_EQUAL(custos_bundle_receipt_check(buf, strlen(buf), &err),
		CUSTOS_OK);
	snprintf(buf, sizeof(buf), "%s\"result\":\"not verified\","
		"\"discrepancies\":[\"part missing\"]}", base);
	CU_ASSERT_EQUAL(custos_bundle_receipt_check(buf, strlen(buf), &err),
		CUSTOS_OK);
	/* The last value must never win: a second "result" is refused. */
	snprintf(buf, sizeof(buf), "%s\"result\":\"not verified\","
		"\"discrepancies\":[\"x\"],\"result\":\"verified\"}", base);
	CU_ASSERT_EQUAL(custos_bundle_receipt_check(buf, strlen(buf), &err),
		CUSTOS_EFORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "duplicate"));
	snprintf(buf, sizeof(buf), "%s\"result\":\"verified\","
		"\"discrepancies\":[\"part missing\"]}", base);
	CU_ASSERT_EQUAL(custos_bundle_receipt_check(buf, strlen(buf), &err),
		CUSTOS_EFORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "contradict"));
	snprintf(buf, sizeof(buf), "%s\"result\":\"fine\","
		"\"discrepancies\":[]}", base);
	CU_ASSERT_EQUAL(custos_bundle_receipt_check(buf, strlen(buf), &err),
		CUSTOS_EFORMAT);
	CU_ASSERT_EQUAL(custos_bundle_receipt_check("{\"custos_receipt_version"
		"\":2}", 27, &err), CUSTOS_EFORMAT);
}

/* A repeated key at any depth of request.json is refused. */
static void test_request_nested_duplicate(void)
{
	static const char dup[] =
		"{\"instrument\":{\"name\":\"A\",\"name\":\"B\"},"
		"\"measure\":\"letter-of-request\","
		"\"requesting_authority\":{\"name\":\"A\",\"country\":\"FR\"},"
		"\"requested_authority\":{\"name\":\"B\",\"country\":\"AT\"},"
		"\"references\":{\"request\":\"R-1\"}}";
	custos_error err;

	CU_ASSERT_EQUAL(check(dup, &err), CUSTOS_EFORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "duplicate"));
}

static const harness_test tests[] = {
	{"request", test_request},
	{"request_nested_duplicate", test_request_nested_duplicate},
	{"receipt_check", test_receipt_check},
	{"conformance", test_conformance},
};

HARNESS_MAIN("bundle", tests)
