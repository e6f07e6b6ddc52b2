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

static const harness_test tests[] = {
	{"sign, verify, forged and re-keyed notes", test_sign_verify},
	{"checkpoint text", test_checkpoint_text},
	{"openssl pkeyutl -verify -rawin accepts a note signature",
	 test_openssl_verifies},
};

HARNESS_MAIN("note", tests)
