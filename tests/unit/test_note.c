/*
 * C2SP signed notes: key ids, signing and checking, forged and re-keyed
 * notes refused, and a note signature checked by plain openssl
 * (pkeyutl -verify -rawin over the note text).
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "custos/note.h"
#include "harness.h"

static const char text[] = "example.org/log\n42\n"
	"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

static void test_sign_verify(void)
{
	char *vkey = NULL, *pem = NULL, *note = NULL, *vkey2 = NULL;
	size_t tlen = 0;

	CU_ASSERT_FATAL(custos_note_keygen(&vkey, &pem, "example.org/log",
		"log.key", NULL) == CUSTOS_OK);
	CU_ASSERT(strncmp(vkey, "example.org/log+", 16) == 0);
	CU_ASSERT(custos_note_keygen(&vkey2, NULL, "example.org/log",
		"log.key", NULL) == CUSTOS_EEXIST);
	CU_ASSERT_FATAL(custos_note_vkey_of(&vkey2, "example.org/log",
		"log.key", NULL) == CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(vkey, vkey2);
	free(vkey2);
	CU_ASSERT_FATAL(custos_note_sign(&note, text, strlen(text),
		"example.org/log", "log.key", NULL) == CUSTOS_OK);
	CU_ASSERT(strncmp(note, text, strlen(text)) == 0);
	CU_ASSERT(strncmp(note + strlen(text), "\n\xe2\x80\x94 example.org/log ",
		20) == 0);
	CU_ASSERT(custos_note_verify(&tlen, note, strlen(note), vkey, NULL) ==
		CUSTOS_OK);
	CU_ASSERT(tlen == strlen(text));

	/* A changed text, and a different key of the same name. */
	note[20] ^= 1;
	CU_ASSERT(custos_note_verify(&tlen, note, strlen(note), vkey, NULL) ==
		CUSTOS_EMISMATCH);
	note[20] ^= 1;
	CU_ASSERT_FATAL(custos_note_keygen(&vkey2, NULL, "example.org/log",
		"other.key", NULL) == CUSTOS_OK);
	CU_ASSERT(custos_note_verify(&tlen, note, strlen(note), vkey2, NULL) ==
		CUSTOS_EMISMATCH);
	CU_ASSERT(custos_note_verify(&tlen, "garbage\n", 8, vkey, NULL) ==
		CUSTOS_EFORMAT);
	free(vkey2);
	free(vkey);
	free(pem);
	free(note);
}

static void test_checkpoint_text(void)
{
	custos_merkle_hash root, back;
	char *t = NULL, *origin = NULL;
	uint64_t size = 0;

	memset(root, 0xab, sizeof(root));
	CU_ASSERT_FATAL(custos_note_checkpoint_text(&t, "o.example/x", 12345,
		root, NULL) == CUSTOS_OK);
	CU_ASSERT(strncmp(t, "o.example/x\n12345\n", 18) == 0);
	CU_ASSERT_FATAL(custos_note_checkpoint_parse(&origin, &size, back, t,
		strlen(t), NULL) == CUSTOS_OK);
	CU_ASSERT_STRING_EQUAL(origin, "o.example/x");
	CU_ASSERT(size == 12345);
	CU_ASSERT(memcmp(root, back, sizeof(root)) == 0);
	free(origin);
	CU_ASSERT(custos_note_checkpoint_parse(&origin, &size, back,
		"o\n012\nAAAA\n", 11, NULL) == CUSTOS_EFORMAT);
	free(t);
}

/* openssl pkeyutl -verify -rawin checks a note signature made here. */
static void test_openssl_verifies(void)
{
	char *vkey = NULL, *pem = NULL, *note = NULL, cmd[512];
	const char *sigline;
	unsigned char blob[80];
	int n;
	FILE *f;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("no openssl: skipped\n");
		return;
	}
	CU_ASSERT_FATAL(custos_note_keygen(&vkey, NULL, "example.org/log",
		"log.key", NULL) == CUSTOS_OK);
	CU_ASSERT_FATAL(custos_note_vkey_pem(&pem, vkey, NULL) == CUSTOS_OK);
	harness_write_file("pub.pem", pem, strlen(pem));
	CU_ASSERT_FATAL(custos_note_sign(&note, text, strlen(text),
		"example.org/log", "log.key", NULL) == CUSTOS_OK);
	harness_write_file("text", text, strlen(text));
	sigline = strrchr(note, ' ') + 1;
	n = EVP_DecodeBlock(blob, (const unsigned char *)sigline,
		(int)(strlen(sigline) - 1));
	CU_ASSERT_FATAL(n == 69 || n == 68 || n == 70); /* 68 + padding */
	harness_write_file("sig.bin", blob + 4, 64);
	snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -inkey "
		"pub.pem -rawin -in text -sigfile sig.bin >out.txt 2>&1");
	CU_ASSERT(system(cmd) == 0);
	/* And refuses a changed text. */
	f = fopen("text", "ab");
	CU_ASSERT_FATAL(f != NULL);
	fputs("x\n", f);
	fclose(f);
	CU_ASSERT(system(cmd) != 0);
	free(vkey);
	free(pem);
	free(note);
}

/* C2SP: key names are non-empty, without Unicode spaces or '+'. */
static void test_key_names(void)
{
	static const char *const bad[] = {
		"", "with space", "tab\there", "plus+sign", "nbsp\xc2\xa0x",
		"em\xe2\x80\x83space", "ideo\xe3\x80\x80space",
		"nel\xc2\x85x", "line\xe2\x80\xa8sep", "ctl\x1bx",
		"del\x7fx", "bidi\xe2\x80\xaex", "bad\xffutf8",
		"cut\xc3",
	};
	char *vkey = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[32];
		custos_error err;

		snprintf(path, sizeof(path), "bad%zu.key", i);
		CU_ASSERT_EQUAL(custos_note_keygen(&vkey, NULL, bad[i], path,
			&err), CUSTOS_EINVAL);
		CU_ASSERT_PTR_NULL(vkey);
		CU_ASSERT_EQUAL(access(path, F_OK), -1);
	}
	/* Non-ASCII letters are fine: a French or Arabic name. */
	CU_ASSERT_EQUAL(custos_note_keygen(&vkey, NULL,
		"parquet.example/r\xc3\xa9publique", "fr.key", NULL), CUSTOS_OK);
	free(vkey);
	vkey = NULL;
	CU_ASSERT_EQUAL(custos_note_keygen(&vkey, NULL,
		"\xd9\x86\xd9\x8a\xd8\xa7\xd8\xa8\xd8\xa9.example/log",
		"ar.key", NULL), CUSTOS_OK);
	free(vkey);
}

/* Add a line to a note; returns a new note. */
static char *with_line(const char *note, const char *line)
{
	size_t a = strlen(note), b = strlen(line);
	char *out = malloc(a + b + 1);

	CU_ASSERT_FATAL(out != NULL);
	memcpy(out, note, a);
	memcpy(out + a, line, b + 1);
	return out;
}

/* Any failing signature by the known key rejects the note, as do
 * repeated or contradictory signature lines for it. */
static void test_failing_and_repeated(void)
{
	const char *cp = "example.org/log\n5\n"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	char *vkey = NULL, *note = NULL, *other_vkey = NULL, *other = NULL;
	char *n2, sigline[256], bad[256];
	size_t tl = 0, off;
	custos_error err;

	CU_ASSERT_FATAL(custos_note_keygen(&vkey, NULL, "example.org/log",
		"k.key", NULL) == CUSTOS_OK);
	CU_ASSERT_FATAL(custos_note_keygen(&other_vkey, NULL,
		"witness.example/w", "w.key", NULL) == CUSTOS_OK);
	CU_ASSERT_FATAL(custos_note_sign(&note, cp, strlen(cp),
		"example.org/log", "k.key", NULL) == CUSTOS_OK);
	CU_ASSERT_FATAL(custos_note_sign(&other, cp, strlen(cp),
		"witness.example/w", "w.key", NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(custos_note_verify(&tl, note, strlen(note), vkey,
		NULL), CUSTOS_OK);
	off = strlen(cp) + 1;
	snprintf(sigline, sizeof(sigline), "%s", note + off);
	/* A second, failing signature by the same key after the good one. */
	snprintf(bad, sizeof(bad), "%s", sigline);
	bad[strlen(bad) - 4] = bad[strlen(bad) - 4] == 'A' ? 'B' : 'A';
	n2 = with_line(note, bad);
	CU_ASSERT_EQUAL(custos_note_verify(&tl, n2, strlen(n2), vkey, &err),
		CUSTOS_EMISMATCH);
	free(n2);
	/* ... or before it. */
	{
		size_t bl = strlen(bad), sl = strlen(sigline);
		char *swapped = malloc(off + bl + sl + 1);

		CU_ASSERT_FATAL(swapped != NULL);
		memcpy(swapped, note, off);
		memcpy(swapped + off, bad, bl);
		memcpy(swapped + off + bl, sigline, sl + 1);
		CU_ASSERT_EQUAL(custos_note_verify(&tl, swapped,
			strlen(swapped), vkey, &err), CUSTOS_EMISMATCH);
		free(swapped);
	}
	/* The same signature line twice: refused. */
	n2 = with_line(note, sigline);
	CU_ASSERT_EQUAL(custos_note_verify(&tl, n2, strlen(n2), vkey, &err),
		CUSTOS_EFORMAT);
	CU_ASSERT(strstr(err.message, "more than once") != NULL);
	free(n2);
	/* An unknown key's signature is ignored, as C2SP says. */
	n2 = with_line(note, other + off);
	CU_ASSERT_EQUAL(custos_note_verify(&tl, n2, strlen(n2), vkey, &err),
		CUSTOS_OK);
	/* ... but a signature line naming a key that breaks the name rules,
	 * or without a signature, is malformed. */
	free(n2);
	n2 = with_line(note, "\xe2\x80\x94 bad\xc2\xa0name AAAA\n");
	CU_ASSERT_EQUAL(custos_note_verify(&tl, n2, strlen(n2), vkey, &err),
		CUSTOS_EFORMAT);
	free(n2);
	n2 = with_line(note, "\xe2\x80\x94 example.org/log\n");
	CU_ASSERT_EQUAL(custos_note_verify(&tl, n2, strlen(n2), vkey, &err),
		CUSTOS_EFORMAT);
	free(n2);
	/* A control character in the text: not a signed note. */
	{
		const char *ctl = "example.org/log\n5\x1b[2J\nAAAA=\n";
		char *cn = NULL;

		CU_ASSERT_EQUAL(custos_note_sign(&cn, ctl, strlen(ctl),
			"example.org/log", "k.key", NULL), CUSTOS_EINVAL);
		CU_ASSERT_PTR_NULL(cn);
	}
	free(vkey);
	free(other_vkey);
	free(note);
	free(other);
}

static const harness_test tests[] = {
	{"sign, verify, forged and re-keyed notes", test_sign_verify},
	{"checkpoint text", test_checkpoint_text},
	{"key names without Unicode spaces or '+' (C2SP)", test_key_names},
	{"any failing or repeated signature by the key rejects",
	 test_failing_and_repeated},
	{"openssl pkeyutl -verify -rawin accepts a note signature",
	 test_openssl_verifies},
};

HARNESS_MAIN("note", tests)
