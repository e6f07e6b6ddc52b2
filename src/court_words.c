/*
 * The fixed words of the court report and of custos-verify's text output,
 * marked for xgettext and translated at run time: what each check id
 * means to a reader ("media.hash.sha256": the SHA-256 of the media,
 * recomputed from the image), the kinds of custody record, the verdicts
 * and the outcomes.  A check id not listed keeps the id itself.
 */
#include <string.h>

#include "court_private.h"

#define N_(s) (s)

static const struct { const char *id; const char *title; } checks[] = {
	{"media.hash.md5", N_("MD5 of the media, recomputed from the image")},
	{"media.hash.sha1",
	 N_("SHA-1 of the media, recomputed from the image")},
	{"media.hash.sha256",
	 N_("SHA-256 of the media, recomputed from the image")},
	{"media.hash", N_("Hashes of the media")},
	{"media.image", N_("The image can be read")},
	{"media.e01.chunks", N_("Checksum of every E01 chunk")},
	{"media.e01.stored.md5", N_("MD5 stored in the E01 file")},
	{"media.e01.stored.sha1", N_("SHA-1 stored in the E01 file")},
	{"media.files.sha256", N_("SHA-256 of the image file")},
	{"media.files.set", N_("Every image file is present")},
	{"report.format", N_("The acquisition report is well formed")},
	{"report.result", N_("The acquisition read every sector")},
	{"report.signature", N_("Signature of the acquisition report")},
	{"report.chain", N_("The signer's certificate is trusted")},
	{"report.role", N_("The certificate names the signer's role")},
	{"report.timestamp", N_("Trusted time stamp on the signature")},
	{"custody.log", N_("The custody log is intact and signed")},
	{"custody.trust", N_("The custody log's signers are trusted")},
	{"custody.acquired",
	 N_("The custody log records this acquisition")},
	{"custody.continuity", N_("Unbroken chain of custody")},
	{"custody.gap", N_("Longest time between two custody records")},
	{"custody.holder", N_("Who holds the item now")},
	{"bundle.transfer-manifest",
	 N_("Signed transfer manifest of the bundle")},
	{"bundle.decrypt", N_("The bundle decrypts and is authentic")},
	{"bundle.bagit", N_("Every file in the bundle is complete")},
	{"bundle.tag-signature", N_("Signature of the bundle's contents")},
	{"bundle.request", N_("The legal request is named")},
	{"receipt.format", N_("The receipt is well formed")},
	{"receipt.signature", N_("Signature of the foreign receipt")},
	{"receipt.answers", N_("The receipt answers this bundle")},
	{"receipt.authority",
	 N_("The receipt comes from the requesting authority")},
	{"receipt.logged", N_("The receipt is in the foreign custody log")},
};

static const struct { const char *type; const char *label; } types[] = {
	{"genesis", N_("Log opened")},
	{"acquired", N_("Acquired")},
	{"sealed", N_("Sealed")},
	{"released", N_("Released")},
	{"received", N_("Received")},
	{"accessed", N_("Accessed")},
	{"exported", N_("Exported across the border")},
	{"verified", N_("Verified")},
	{"returned", N_("Returned")},
	{"destroyed", N_("Destroyed")},
	{"key-rotation", N_("Key changed")},
	{"recovery", N_("Recovery after an interruption")},
};

const char *custos__court_check_title(const custos_lang *lang,
		const char *id)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (strcmp(checks[i].id, id) == 0)
			return custos_lang_text(lang, checks[i].title);
	return id;
}

const char *custos__court_record_type(const custos_lang *lang,
		const char *type)
{
	for (size_t i = 0; type != NULL && i < sizeof(types) / sizeof(types[0]);
	     i++)
		if (strcmp(types[i].type, type) == 0)
			return custos_lang_text(lang, types[i].label);
	return type != NULL ? type : "?";
}

const char *custos__court_verdict(const custos_lang *lang,
		custos_verify_verdict v)
{
	switch (v) {
	case CUSTOS_VERDICT_VERIFIED:
		return custos_lang_text(lang, "VERIFIED");
	case CUSTOS_VERDICT_INCOMPLETE:
		return custos_lang_text(lang, "INCOMPLETE");
	case CUSTOS_VERDICT_FAILED:
		break;
	}
	return custos_lang_text(lang, "FAILED");
}

const char *custos__court_outcome(const custos_lang *lang,
		custos_verify_outcome o, int required)
{
	switch (o) {
	case CUSTOS_CHECK_PASSED:
		return custos_lang_text(lang, "passed");
	case CUSTOS_CHECK_NOT_CHECKED:
		return required ? custos_lang_text(lang, "NOT CHECKED")
				: custos_lang_text(lang, "not checked");
	case CUSTOS_CHECK_FAILED:
		break;
	}
	return custos_lang_text(lang, "FAILED");
}
