/*
 * Acquisition report checks for custos-verify: the report parses (strict
 * JSON, duplicate keys refused) and has the fields custos-report(5)
 * requires; its CAdES signature (BASE.report.json.p7s) verifies over its
 * exact bytes and names the signer the report itself names; the signer's
 * chain reaches a trust anchor given with --trust; the signer's role as
 * the certificate states it (its title attribute, as samples/pki encodes
 * roles); and the RFC 3161 timestamp (CAdES-B-T): its time, its TSA, and
 * whether the chain was checked at that time.  The facts a profile needs
 * (hash algorithms, signer, CA, role, timestamp, read-only source) are
 * kept on the report's entry in the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cert_private.h"
#include "error_private.h"
#include "util_private.h"
#include "verify_private.h"

char *custos__verify_cert_role(const custos_cert *c)
{
	X509 *x = c != NULL ? custos__cert_x509(c) : NULL;
	const X509_NAME *name = x != NULL ? X509_get_subject_name(x) : NULL;
	int i = name != NULL ? X509_NAME_get_index_by_NID((X509_NAME *)name,
		NID_title, -1) : -1;
	const ASN1_STRING *s;
	unsigned char *utf8 = NULL;
	char *out;
	int n;

	if (i < 0)
		return NULL;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n < 0)
		return NULL;
	out = strndup((const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return out;
}

json_t *custos__verify_signer_json(const custos_cert *c)
{
	char *role = custos__verify_cert_role(c);
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}",
		"subject", custos_cert_subject(c),
		"common_name", custos_cert_common_name(c),
		"issuer", custos_cert_issuer(c),
		"role", role != NULL ? json_string(role) : json_null(),
		"sha256", custos_cert_fingerprint_sha256(c),
		"not_before", custos_cert_not_before(c),
		"not_after", custos_cert_not_after(c));

	free(role);
	return o;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The fields custos-report(5) requires, and the report's own result. */
static int check_format(custos_verify_case *r, verify_report *rep,
		const char *subject)
{
	json_t *j = rep->json;
	const char *missing = NULL, *result;

	if (j == NULL) {
		custos__verify_add(r, "report.format", subject,
			CUSTOS_CHECK_FAILED, 1, "custos-report(5) JSON",
			NULL, "%s: %s", rep->path, jstr(rep->facts, "error"));
		return 0;
	}
	if (json_integer_value(json_object_get(j, "custos_report")) != 1)
		missing = "custos_report (1)";
	else if (!json_is_object(json_object_get(j, "case")))
		missing = "case";
	else if (rep->item == NULL)
		missing = "case.evidence_number";
	else if (!json_is_object(json_object_get(j, "hashes")) ||
		 json_object_size(json_object_get(j, "hashes")) == 0)
		missing = "hashes";
	else if (!json_is_array(json_object_get(json_object_get(j, "image"),
			"files")))
		missing = "image.files";
	else if (!json_is_object(json_object_get(j, "source")))
		missing = "source";
	else if (jstr(j, "result") == NULL)
		missing = "result";
	if (missing != NULL) {
		custos__verify_add(r, "report.format", subject,
			CUSTOS_CHECK_FAILED, 1, missing, NULL,
			"the report lacks %s", missing);
		return 0;
	}
	custos__verify_add(r, "report.format", subject, CUSTOS_CHECK_PASSED,
		1, NULL, rep->sha256, "custos-report(5) version 1");
	result = jstr(j, "result");
	if (strcmp(result, "complete") == 0)
		custos__verify_add(r, "report.result", subject,
			CUSTOS_CHECK_PASSED, 1, "complete", result,
			"every sector was read");
	else if (strcmp(result, "complete-with-errors") == 0)
		custos__verify_add(r, "report.result", subject,
			CUSTOS_CHECK_PASSED, 1, "complete", result,
			"%lld unreadable sectors were zero-filled and are "
			"covered by the hashes", json_integer_value(
			json_object_get(json_object_get(j, "errors"),
			"unreadable_sectors")));
	else
		custos__verify_add(r, "report.result", subject,
			CUSTOS_CHECK_FAILED, 1, "complete", result,
			"the acquisition did not finish");
	return 1;
}

/* Facts a profile reads: hash algorithms, source, case. */
static void report_facts(verify_report *rep)
{
	json_t *algs = json_array(), *src = json_object_get(rep->json,
		"source");
	const char *alg;
	json_t *v;

	json_object_foreach(json_object_get(rep->json, "hashes"), alg, v)
		json_array_append_new(algs, json_string(alg));
	json_object_set_new(rep->facts, "item", json_string(rep->item));
	json_object_set_new(rep->facts, "case", rep->case_ref ?
		json_string(rep->case_ref) : json_null());
	json_object_set_new(rep->facts, "hash_algorithms", algs);
	json_object_set(rep->facts, "source_read_only",
		json_object_get(src, "read_only") ? json_object_get(src,
		"read_only") : json_null());
	json_object_set_new(rep->facts, "source_kind", jstr(src, "kind") ?
		json_string(jstr(src, "kind")) : json_null());
	json_object_set_new(rep->facts, "result", json_string(
		jstr(rep->json, "result")));
	custos__verify_report_court_facts(rep->facts, rep->json);
}

static void timestamp_check(custos_verify_case *r, const char *subject,
		const custos_sign_verification *v, json_t *vj, json_t *facts)
{
	const char *at_source = jstr(json_object_get(vj, "signature"),
		"certificate_checked_at_source");
	size_t n = custos_sign_verification_timestamp_count(v);
	const custos_timestamp *ts = NULL;

	for (size_t i = 0; i < n; i++) {
		const custos_timestamp *t = custos_sign_verification_timestamp(
			v, i);

		if (strcmp(custos_timestamp_kind(t), "signature") == 0 &&
		    (ts == NULL || custos_timestamp_check(t) == CUSTOS_SIGN_OK))
			ts = t;
	}
	if (ts == NULL) {
		json_object_set_new(facts, "timestamp", json_null());
		custos__verify_add(r, "report.timestamp", subject,
			CUSTOS_CHECK_NOT_CHECKED, 0, "CAdES-B-T", "CAdES-B-B",
			"the signature carries no RFC 3161 timestamp, so its "
			"time is the signer's own clock and the chain was "
			"checked at the current time");
		return;
	}
	json_object_set_new(facts, "timestamp", json_pack(
		"{s:o, s:o, s:s, s:o}",
		"time", custos_timestamp_time(ts) ?
			json_string(custos_timestamp_time(ts)) : json_null(),
		"tsa", custos_timestamp_tsa_name(ts) ?
			json_string(custos_timestamp_tsa_name(ts)) : json_null(),
		"result", custos_sign_check_name(custos_timestamp_check(ts)),
		"chain_checked_at", at_source ? json_string(at_source)
					      : json_null()));
	if (custos_timestamp_check(ts) != CUSTOS_SIGN_OK)
		custos__verify_add(r, "report.timestamp", subject,
			CUSTOS_CHECK_FAILED, 1, "a valid timestamp",
			custos_sign_check_name(custos_timestamp_check(ts)),
			"%s", custos_timestamp_message(ts) ?
			custos_timestamp_message(ts) : "the timestamp is bad");
	else
		custos__verify_add(r, "report.timestamp", subject,
			CUSTOS_CHECK_PASSED, 1, NULL, custos_timestamp_time(ts),
			"time stamped at %s by %s; the certificates were "
			"checked at %s", custos_timestamp_time(ts),
			custos_timestamp_tsa_name(ts) ?
			custos_timestamp_tsa_name(ts) : "an unnamed TSA",
			at_source != NULL && strcmp(at_source, "timestamp") == 0
			? "that time" : "the current time");
}

static void signature_checks(custos_verify_case *r, verify_report *rep,
		const char *subject, const custos_verify_options *opts)
{
	custos_sign_verify_options so;
	custos_sign_verification *v = NULL;
	custos_error e;
	custos_status st;
	custos_sign_check sc;
	const custos_cert *signer;
	const char *claimed = jstr(json_object_get(rep->json, "signature"),
		"certificate_sha256");
	json_t *vj = NULL;
	char *text = NULL, *role;
	int trusted = opts->trust_count > 0;

	custos_error_clear(&e);
	custos_sign_verify_options_init(&so);
	so.trust = opts->trust;
	so.trust_count = opts->trust_count;
	st = custos_sign_verify_file(&v, rep->path, &so, &e);
	if (v == NULL || (st != CUSTOS_OK && st != CUSTOS_EMISMATCH)) {
		custos__verify_add(r, "report.signature", subject,
			CUSTOS_CHECK_FAILED, 1, "CAdES signature", NULL,
			"the signature cannot be checked: %s", e.message);
		goto out;
	}
	sc = custos_sign_verification_signature_check(v);
	if (custos_sign_verification_signature_path(v) == NULL ||
	    sc == CUSTOS_SIGN_MISSING) {
		custos__verify_add(r, "report.signature", subject,
			CUSTOS_CHECK_FAILED, 1, "CAdES signature",
			"none", "the report is not signed (no %s.p7s)",
			custos__basename(rep->path));
		goto out;
	}
	signer = custos_sign_verification_signer(v);
	if (custos_sign_verification_to_json(&text, v, NULL) == CUSTOS_OK)
		vj = json_loads(text, 0, NULL);
	if (signer != NULL)
		json_object_set_new(rep->facts, "signer",
			custos__verify_signer_json(signer));
	json_object_set_new(rep->facts, "signature_digest",
		custos_sign_verification_digest(v) ? json_string(
		custos_sign_verification_digest(v)) : json_null());
	if (sc == CUSTOS_SIGN_MALFORMED || sc == CUSTOS_SIGN_CONTENT_CHANGED ||
	    sc == CUSTOS_SIGN_BAD_SIGNATURE || signer == NULL) {
		custos__verify_add(r, "report.signature", subject,
			CUSTOS_CHECK_FAILED, 1, "a valid signature",
			custos_sign_check_name(sc), "%s",
			custos_sign_verification_signature_message(v));
		custos__verify_add(r, "report.chain", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL, NULL,
			"the signature itself does not verify");
		goto out;
	}
	if (claimed != NULL && strcasecmp(claimed,
			custos_cert_fingerprint_sha256(signer)) != 0)
		custos__verify_add(r, "report.signature", subject,
			CUSTOS_CHECK_FAILED, 1, claimed,
			custos_cert_fingerprint_sha256(signer),
			"the report names another signing certificate than "
			"the one that signed it");
	else
		custos__verify_add(r, "report.signature", subject,
			CUSTOS_CHECK_PASSED, 1, claimed,
			custos_cert_fingerprint_sha256(signer),
			"CAdES signature over the report's bytes by %s",
			custos_cert_subject(signer));
	if (!trusted)
		custos__verify_add(r, "report.chain", subject,
			CUSTOS_CHECK_NOT_CHECKED, 1, NULL,
			custos_cert_issuer(signer),
			"no trust anchor given (--trust CA.pem)");
	else if (sc == CUSTOS_SIGN_OK || sc == CUSTOS_SIGN_TIMESTAMP_MISMATCH ||
		 sc == CUSTOS_SIGN_TIMESTAMP_INVALID ||
		 sc == CUSTOS_SIGN_TIMESTAMP_UNTRUSTED)
		custos__verify_add(r, "report.chain", subject,
			CUSTOS_CHECK_PASSED, 1, NULL,
			custos_cert_issuer(signer),
			"the signer's certificate chains to a trust anchor");
	else
		custos__verify_add(r, "report.chain", subject,
			CUSTOS_CHECK_FAILED, 1, "a trusted, valid chain",
			custos_sign_check_name(sc), "%s",
			custos_sign_verification_signature_message(v));
	role = custos__verify_cert_role(signer);
	if (role != NULL)
		custos__verify_add(r, "report.role", subject,
			CUSTOS_CHECK_PASSED, 0, NULL, role,
			"the certificate names the signer's role");
	else
		custos__verify_add(r, "report.role", subject,
			CUSTOS_CHECK_NOT_CHECKED, 0, NULL, NULL,
			"the signer's certificate names no role (title)");
	free(role);
	if (trusted)
		timestamp_check(r, subject, v, vj, rep->facts);
	else
		custos__verify_add(r, "report.timestamp", subject,
			CUSTOS_CHECK_NOT_CHECKED,
			custos_sign_verification_timestamp_count(v) > 0,
			NULL, NULL, "no trust anchor given (--trust CA.pem)");
out:
	json_decref(vj);
	free(text);
	custos_sign_verification_free(v);
}

void custos__verify_reports(custos_verify_case *r, verify_found *vc,
		const custos_verify_options *opts)
{
	for (size_t i = 0; i < vc->report_count; i++) {
		verify_report *rep = &vc->reports[i];
		const char *subject = rep->item != NULL ? rep->item : rep->path;

		if (!check_format(r, rep, subject))
			continue;
		report_facts(rep);
		custos__verify_item(r, rep->item);
		signature_checks(r, rep, subject, opts);
	}
}
