/*
 * Fuzz target: the transfer manifest's text and the parts it lists, past
 * its signature (checked before parsing in real use, so it is skipped
 * here: the parser is called directly).  Input: the manifest text, then
 * optionally a NUL byte and the bytes every listed part will hold.
 * Invariants: parsing gives OK, EFORMAT or ENOMEM, and a message in valid
 * UTF-8 on failure; an accepted manifest has each header label at most
 * once (counted here, independently), one to PARTS_MAX parts exactly as
 * Part-Count says, part names that are distinct, without '/', not hidden,
 * and sizes adding up to Total-Size when given; checking the parts
 * succeeds exactly when every part's size and SHA-256 (computed here
 * with OpenSSL) are what the manifest says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "transfer_private.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const labels[] = {"Custos-Transfer-Manifest: ",
	"Bundle-Id: ", "Created: ", "Request-Reference: ", "Case-Reference: ",
	"Encryption: ", "Part-Count: ", "Total-Size: "};

static size_t count_label(const char *text, const char *label)
{
	size_t n = 0, l = strlen(label);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, label, l) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

static void check_parts(custos__transfer *t, custos__bag *b,
		const uint8_t *part, size_t part_len)
{
	unsigned char d[32];
	char hex[65];
	int expect_ok = 1;
	custos_status st;

	if (t->n > 16)
		return;
	EVP_Digest(part, part_len, d, NULL, EVP_sha256(), NULL);
	custos__hex_into(hex, d, 32);
	for (size_t i = 0; i < t->n; i++) {
		FILE *f = fopen(t->parts[i].path, "wbx");
		FUZZ_CHECK(f != NULL);
		FUZZ_CHECK(fwrite(part, 1, part_len, f) == part_len);
		fclose(f);
		if (t->parts[i].size != part_len ||
		    strcmp(t->parts[i].sha256, hex) != 0)
			expect_ok = 0;
	}
	st = custos__transfer_check_parts(b, t);
	FUZZ_CHECK((st == CUSTOS_OK) == expect_ok);
	FUZZ_CHECK(st == CUSTOS_OK || st == CUSTOS_EMISMATCH);
	for (size_t i = 0; i < t->n; i++)
		unlink(t->parts[i].path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/custos-fuzz-transfer-XXXXXX";
	static int have_dir;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *text = malloc(tlen + 1), *copy = malloc(tlen + 1);
	custos__transfer t;
	custos__bag b;
	custos_error err;
	custos_status st;

	if (!have_dir)
		FUZZ_CHECK(mkdtemp(dir) != NULL);
	have_dir = 1;
	FUZZ_CHECK(text != NULL && copy != NULL);
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	memcpy(copy, text, tlen + 1);
	memset(&b, 0, sizeof(b));
	memset(&err, 0, sizeof(err));
	b.err = &err;
	b.buf = malloc(IO_BLOCK);
	FUZZ_CHECK(b.buf != NULL);
	st = custos__transfer_parse(&t, &b, text, tlen, dir);
	FUZZ_CHECK(st == CUSTOS_OK || st == CUSTOS_EFORMAT ||
		st == CUSTOS_ENOMEM);
	if (st != CUSTOS_OK) {
		custos__error_tidy(&err);
		FUZZ_CHECK(err.message[0] != '\0' && fuzz_text_ok(err.message));
	} else {
		uint64_t total = 0;
		for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
			FUZZ_CHECK(count_label(copy, labels[i]) <= 1);
		FUZZ_CHECK(t.n >= 1 && t.n == t.part_count &&
			t.n <= PARTS_MAX);
		FUZZ_CHECK(t.bundle_id[0] != '\0' && fuzz_text_ok(t.bundle_id));
		FUZZ_CHECK(fuzz_text_ok(b.request_reference));
		for (size_t i = 0; i < t.n; i++) {
			FUZZ_CHECK(strchr(t.parts[i].name, '/') == NULL &&
				t.parts[i].name[0] != '.' &&
				t.parts[i].name[0] != '\0');
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK(strcmp(t.parts[i].name,
					t.parts[j].name) != 0);
			total += t.parts[i].size;
		}
		if (count_label(copy, "Total-Size: ") == 1)
			FUZZ_CHECK(total == t.total_size);
		check_parts(&t, &b, nul ? nul + 1 : data,
			nul ? size - tlen - 1 : 0);
	}
	custos__transfer_free(&t);
	free(b.buf);
	free(text);
	free(copy);
	return 0;
}
