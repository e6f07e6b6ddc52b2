/*
 * Fuzz target: acquisition reports (BASE.report.json) from untrusted bytes,
 * as custos-verify reads them: the report alone in a folder, with the
 * TEST-ONLY CA as trust anchor.  Invariants, beyond not crashing:
 *   - the run returns OK (a broken report is a failed check, not an
 *     error) and the verdict is never VERIFIED: there is no image and no
 *     signature to vouch for it;
 *   - verifying twice gives the same verdict and the same checks;
 *   - the JSON output is JSON, and names the same verdict;
 *   - the text output holds no raw C0 control but LF, no C1 control and
 *     no bidi control: whatever the report says reaches a terminal inert.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "custos/verify.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static custos_verify_case *run(const char *path)
{
	const char *trust[] = {CUSTOS_FUZZ_TRUST};
	const char *targets[] = {path};
	custos_verify_options o;
	custos_verify_case *r = NULL;

	custos_verify_options_init(&o);
	o.trust = trust;
	o.trust_count = 1;
	o.workers = 1;
	if (custos_verify_run(&r, targets, 1, &o, NULL) != CUSTOS_OK ||
	    r == NULL)
		abort();
	if (custos_verify_case_verdict(r) == CUSTOS_VERDICT_VERIFIED)
		abort();
	return r;
}

/* No terminal control survives: C0 but LF, DEL, C1, bidi controls. */
static void check_inert(const char *t)
{
	const unsigned char *p = (const unsigned char *)t;

	for (; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			abort();
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			abort();
		if (p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0x8e || p[2] == 0x8f ||
		     (p[2] >= 0xaa && p[2] <= 0xae)))
			abort();
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 &&
		    p[2] <= 0xa9)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_verify_case *a, *b;
	char path[128], *json = NULL, *text = NULL;
	json_t *doc;
	fuzz_dir d;

	if (fuzz_dir_make(&d) != 0)
		abort();
	fuzz_dir_write(&d, "case.report.json", data, size);
	fuzz_dir_path(&d, "case.report.json", path);
	a = run(path);
	b = run(path);
	if (custos_verify_case_verdict(a) != custos_verify_case_verdict(b) ||
	    custos_verify_case_check_count(a) !=
	    custos_verify_case_check_count(b))
		abort();
	for (size_t i = 0; i < custos_verify_case_check_count(a); i++)
		if (strcmp(custos_verify_check_id(custos_verify_case_check(a, i)),
			   custos_verify_check_id(custos_verify_case_check(b,
				   i))) != 0 ||
		    custos_verify_check_outcome(custos_verify_case_check(a,
			    i)) !=
		    custos_verify_check_outcome(custos_verify_case_check(b, i)))
			abort();
	if (custos_verify_case_to_json(&json, a, NULL) != CUSTOS_OK ||
	    (doc = json_loads(json, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		abort();
	if (!json_is_string(json_object_get(doc, "verdict")) ||
	    strcmp(json_string_value(json_object_get(doc, "verdict")),
		   custos_verify_verdict_name(custos_verify_case_verdict(a))) != 0)
		abort();
	json_decref(doc);
	if (custos_verify_case_to_text(&text, a, 0, NULL) != CUSTOS_OK)
		abort();
	check_inert(text);
	free(json);
	free(text);
	custos_verify_case_free(a);
	custos_verify_case_free(b);
	fuzz_dir_remove(&d);
	return 0;
}
