/*
 * custos_verify_run: the verification workflow.  Find what the targets are
 * and what belongs together (verify_discover.c), then check reports and
 * their signatures, custody logs and each item's history, bundles and
 * receipts (all small and quick), and last the media, which is read once
 * (verify_media.c); then draw the verdict (verify_result.c) and, with a
 * profile, judge what the receiving court requires (verify_profile.c).  The checks
 * only call the public APIs of image, sign, custody and bundle.
 */
#include <stdlib.h>
#include <string.h>

#include "error_private.h"
#include "verify_private.h"

void custos_verify_options_init(custos_verify_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CUSTOS_VERIFY_OPTIONS_VERSION;
	opts->max_gap_seconds = CUSTOS_VERIFY_NO_MAX_GAP;
}

custos_status custos_verify_run(custos_verify_case **out,
		const char *const *targets, size_t count,
		const custos_verify_options *opts, custos_error *err)
{
	custos_verify_options dflt;
	custos_verify_case *r = NULL;
	verify_found vc;
	json_t *profile = NULL;
	custos_status st;

	if (out == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no result");
	*out = NULL;
	if (opts == NULL) {
		custos_verify_options_init(&dflt);
		opts = &dflt;
	}
	if (opts->version != CUSTOS_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown custos_verify_options version %u",
			opts->version);
	if (targets == NULL || count == 0)
		return custos__error_set(err, CUSTOS_EINVAL,
			"nothing to verify");
	/* A bad profile is a usage error, found before any work. */
	if (opts->profile_path != NULL && (st = custos__verify_profile_load(
			&profile, opts->profile_path, err)) != CUSTOS_OK)
		return st;
	if (custos__verify_case_new(&r) != CUSTOS_OK) {
		json_decref(profile);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	memset(&vc, 0, sizeof(vc));
	st = custos__verify_discover(&vc, r, targets, count, opts->logs,
		opts->log_count, err);
	if (st != CUSTOS_OK)
		goto out;
	custos__verify_reports(r, &vc, opts);
	custos__verify_custody(r, &vc, opts);
	custos__verify_bundles(r, &vc, opts);
	custos__verify_receipts(r, &vc, opts);
	custos__verify_disclosures(r, &vc, opts);
	st = custos__verify_media(r, &vc, opts, err);
	if (st != CUSTOS_OK)
		goto out;
	custos__verify_decide(r);
	if (profile != NULL)
		custos__verify_profile_judge(r, profile, opts->profile_path);
	if (r->oom) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	*out = r;
	r = NULL;
out:
	json_decref(profile);
	custos__verify_case_free(&vc);
	custos_verify_case_free(r);
	return st;
}
