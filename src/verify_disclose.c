/*
 * Disclosure packages in custos-verify: a custos-disclose package (a bag
 * whose payload holds disclosure.json, or that payload alone) is checked
 * with custos_disclose_verify, and its result becomes one check per part:
 * the report and its root, the report's signature and its chain, the
 * custody record, every block against the signed root, every file
 * reassembled and hashed, nothing else in the package, and the bag's
 * manifests.  custos_disclose_verify stops at the first failure, so the
 * parts before it passed, the one it names failed, and those after it
 * are not checked (the verdict is FAILED either way).
 */
#include <stdio.h>
#include <string.h>

#include "custos/disclose.h"
#include "verify_private.h"

/* In the order custos_disclose_verify checks them. */
static const struct part {
	const char *name;    /* custos_disclose_verify_result.failed_part */
	const char *id;
	int required;
	const char *passed;
} parts[] = {
	{"report", "disclose.report", 1,
	 "the report in the package is the one it names and carries the "
	 "block map root"},
	{"signature", "disclose.signature", 1,
	 "the report's CAdES signature holds, so its root is the signed one"},
	{"custody", "disclose.custody", 0,
	 "the custody record names this report and its root"},
	{"blocks", "disclose.blocks", 1,
	 "every block is proven against the signed root"},
	{"files", "disclose.files", 1,
	 "every disclosed file and range, reassembled from its extents, "
	 "hashes as recorded"},
	{"extra", "disclose.extra", 1,
	 "the package holds nothing else: no file or block that no request "
	 "needs"},
	{"bag", "disclose.bag", 0,
	 "the BagIt manifests hold"},
};
#define PART_COUNT (sizeof(parts) / sizeof(parts[0]))

static void check_package(custos_verify_case *r, const char *package,
		const custos_verify_options *opts)
{
	custos_disclose_verify_options o;
	custos_disclose_verify_result res;
	custos_error e;
	custos_status st;
	size_t failed = PART_COUNT;

	custos_error_clear(&e);
	custos_disclose_verify_options_init(&o);
	o.trust = opts->trust;
	o.trust_count = opts->trust_count;
	st = custos_disclose_verify(package, &o, &res, &e);
	if (st != CUSTOS_OK) {
		failed = 0;
		for (size_t i = 0; i < PART_COUNT; i++)
			if (strcmp(parts[i].name, res.failed_part) == 0)
				failed = i;
	}
	for (size_t i = 0; i < PART_COUNT; i++) {
		const struct part *p = &parts[i];

		if (i < failed && strcmp(p->name, "custody") == 0 &&
		    res.custody_record_ok < 0)
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_NOT_CHECKED, 0, NULL, NULL,
				"the package carries no custody record");
		else if (i < failed && strcmp(p->name, "bag") == 0 &&
			 !res.bag_checked)
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_NOT_CHECKED, 0, NULL, NULL,
				"not a bag (a package's payload alone)");
		else if (i < failed && strcmp(p->name, "blocks") == 0) {
			char obs[48];

			snprintf(obs, sizeof(obs), "%llu blocks",
				(unsigned long long)res.blocks_checked);
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_PASSED, 1, res.root, obs, "%s",
				p->passed);
		} else if (i < failed && strcmp(p->name, "files") == 0) {
			char obs[64];

			snprintf(obs, sizeof(obs), "%llu files, %llu ranges",
				(unsigned long long)res.files_checked,
				(unsigned long long)res.ranges_checked);
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_PASSED, 1, NULL, obs, "%s",
				p->passed);
		} else if (i < failed)
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_PASSED, p->required, NULL,
				i == 0 && res.root[0] ? res.root : NULL, "%s",
				p->passed);
		else if (i == failed && opts->trust_count == 0 &&
			 strcmp(p->name, "signature") == 0)
			/* Without an anchor the chain cannot hold: that is
			 * a check not made, as for a report (INCOMPLETE). */
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
				"no trust anchor given (--trust CA.pem), so the "
				"signed root cannot be proven: %s", e.message);
		else if (i == failed)
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_FAILED, 1, NULL, NULL, "%s%s",
				st == CUSTOS_EFORMAT ? "malformed package: "
				: "", e.message);
		else
			custos__verify_add(r, p->id, package,
				CUSTOS_CHECK_NOT_CHECKED, p->required, NULL,
				NULL, "not checked: %s did not pass first",
				parts[failed].id);
		/* The signer's chain: only a trust anchor makes it count. */
		if (strcmp(p->name, "signature") == 0 && i < failed)
			custos__verify_add(r, "disclose.chain", package,
				opts->trust_count > 0 ? CUSTOS_CHECK_PASSED
				: CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
				"%s", opts->trust_count > 0 ? "the report's "
				"signer chains to a trust anchor given" :
				"no trust anchor given (--trust CA.pem)");
	}
}

void custos__verify_disclosures(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts)
{
	for (size_t i = 0; i < vc->disclosure_count; i++)
		check_package(r, vc->disclosures[i], opts);
}
