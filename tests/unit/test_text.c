/* text module: what custos_text_escape keeps, escapes and never cuts. */
#include <string.h>

#include "custos/text.h"
#include "harness.h"

/* Escape s into a roomy buffer and compare. */
static void expect_escape(const char *s, size_t len, const char *want)
{
	char out[256];
	size_t used = custos_text_escape(out, sizeof(out), s, len);

	CU_ASSERT_EQUAL(used, len);
	CU_ASSERT_STRING_EQUAL(out, want);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "escape: got '%s', want '%s'\n", out, want);
}
#define ESC(lit, want) expect_escape(lit, sizeof(lit) - 1, want)

static void test_controls(void)
{
	ESC("plain", "plain");
	ESC("a\x1b[31mred", "a\\x1b[31mred");
	ESC("tab\tnl\ncr\r", "tab\\x09nl\\x0acr\\x0d");
	ESC("nul\0x", "nul\\x00x");
	ESC("del\x7f", "del\\x7f");
	ESC("back\\slash", "back\\\\slash");
	/* C1: U+0080, U+0085 (NEL), U+009B (CSI), U+009F. */
	ESC("\xc2\x80", "\\u0080");
	ESC("\xc2\x85", "\\u0085");
	ESC("a\xc2\x9b" "31m", "a\\u009b31m");
	ESC("\xc2\x9f", "\\u009f");
	/* U+00A0 is not a control: kept. */
	ESC("\xc2\xa0", "\xc2\xa0");
}

static void test_bidi(void)
{
	static const struct {
		const char *utf8, *want;
	} bidi[] = {
		{"\xe2\x80\x8e", "\\u200e"}, {"\xe2\x80\x8f", "\\u200f"},
		{"\xe2\x80\xaa", "\\u202a"}, {"\xe2\x80\xab", "\\u202b"},
		{"\xe2\x80\xac", "\\u202c"}, {"\xe2\x80\xad", "\\u202d"},
		{"\xe2\x80\xae", "\\u202e"}, {"\xe2\x81\xa6", "\\u2066"},
		{"\xe2\x81\xa7", "\\u2067"}, {"\xe2\x81\xa8", "\\u2068"},
		{"\xe2\x81\xa9", "\\u2069"},
	};

	for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++)
		expect_escape(bidi[i].utf8, strlen(bidi[i].utf8), bidi[i].want);
	/* The classic "evil.exe" trick: RLO reverses what follows. */
	ESC("invoice\xe2\x80\xaegpj.exe", "invoice\\u202egpj.exe");
	/* Neighbours that are not controls are kept (U+2010, U+2070). */
	ESC("\xe2\x80\x90\xe2\x81\xb0", "\xe2\x80\x90\xe2\x81\xb0");
}

static void test_multibyte_kept(void)
{
	ESC("Procureur de la R\xc3\xa9publique, \xc3\xa0 Li\xc3\xa8ge",
	    "Procureur de la R\xc3\xa9publique, \xc3\xa0 Li\xc3\xa8ge");
	/* Arabic: النيابة العامة */
	ESC("\xd8\xa7\xd9\x84\xd9\x86\xd9\x8a\xd8\xa7\xd8\xa8\xd8\xa9",
	    "\xd8\xa7\xd9\x84\xd9\x86\xd9\x8a\xd8\xa7\xd8\xa8\xd8\xa9");
	/* CJK: 証拠, and a 4-byte character (U+1F512). */
	ESC("\xe8\xa8\xbc\xe6\x8b\xa0 \xf0\x9f\x94\x92",
	    "\xe8\xa8\xbc\xe6\x8b\xa0 \xf0\x9f\x94\x92");
}

static void test_invalid_escaped(void)
{
	ESC("\xff", "\\xff");
	ESC("a\x80z", "a\\x80z");               /* lone continuation */
	ESC("\xc3", "\\xc3");                   /* cut short at the end */
	ESC("\xc3z", "\\xc3z");                 /* lead, then ASCII */
	ESC("\xc0\xaf", "\\xc0\\xaf");          /* overlong '/' */
	ESC("\xe0\x80\xaf", "\\xe0\\x80\\xaf");  /* overlong, 3 bytes */
	ESC("\xed\xa0\x80", "\\xed\\xa0\\x80");  /* a surrogate */
	ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	ESC("\xf5", "\\xf5");
}

static void test_truncation(void)
{
	const char *s = "R\xc3\xa9" "\xe8\xa8\xbc" "\x1b" "\xe2\x80\xae" "z";
	size_t len = strlen(s);
	char out[64];

	/* Every capacity: NUL-terminated, a prefix of the full escape, and
	 * never ending inside a character or an escape. */
	for (size_t cap = 1; cap < 32; cap++) {
		size_t used;
		char full[64];

		memset(out, 'Z', sizeof(out));
		used = custos_text_escape(out, cap, s, len);
		CU_ASSERT(strlen(out) < cap);
		custos_text_escape(full, sizeof(full), s, used);
		CU_ASSERT_STRING_EQUAL(out, full);
		CU_ASSERT(used == 0 || used == 1 || used == 3 || used == 6 ||
			used == 7 || used == 10 || used == len);
	}
	CU_ASSERT_EQUAL(custos_text_escape(out, 2, "\xc3\xa9", 2), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(custos_text_escape(out, 3, "\xc3\xa9", 2), 2);
	CU_ASSERT_EQUAL(custos_text_escape(out, 4, "\x1b", 1), 0);
	CU_ASSERT_EQUAL(custos_text_escape(out, 5, "\x1b", 1), 1);
	/* The documented bound is enough for the worst input. */
	{
		char bad[16], big[16 * CUSTOS_TEXT_ESCAPE_RATIO + 1];

		memset(bad, 0xff, sizeof(bad));
		CU_ASSERT_EQUAL(custos_text_escape(big, sizeof(big), bad,
			sizeof(bad)), sizeof(bad));
	}
	CU_ASSERT_EQUAL(custos_text_escape(NULL, 10, "x", 1), 0);
	CU_ASSERT_EQUAL(custos_text_escape(out, sizeof(out), NULL, 3), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static const harness_test tests[] = {
	{"C0, DEL, C1 escaped; backslash doubled", test_controls},
	{"each bidi control escaped", test_bidi},
	{"French, Arabic, CJK kept", test_multibyte_kept},
	{"invalid UTF-8 escaped, never dropped", test_invalid_escaped},
	{"truncation never inside a character", test_truncation},
};

HARNESS_MAIN("text", tests)
