/* Digest module: known answers, streaming, parsing. */
#include <string.h>

#include "custos/digest.h"
#include "harness.h"

/* Known answers (FIPS 180 / RFC 1321 examples). */
static const struct {
	custos_digest_alg alg;
	const char *input;
	const char *hex;
} known[] = {
	{CUSTOS_DIGEST_MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
	{CUSTOS_DIGEST_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	{CUSTOS_DIGEST_SHA256, "",
	 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{CUSTOS_DIGEST_SHA512, "",
	 "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	 "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	{CUSTOS_DIGEST_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
	{CUSTOS_DIGEST_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
	{CUSTOS_DIGEST_SHA256, "abc",
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	{CUSTOS_DIGEST_SHA512, "abc",
	 "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
};

static void test_known_answers(void)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char hex[CUSTOS_DIGEST_HEX_MAX];

		CU_ASSERT_EQUAL(custos_digest_buffer_hex(known[i].alg,
			known[i].input, strlen(known[i].input), hex, sizeof(hex),
			NULL), CUSTOS_OK);
		CU_ASSERT_STRING_EQUAL(hex, known[i].hex);
	}
}

/* One million 'a' fed in uneven pieces (FIPS 180-2 long-message vectors). */
static void test_multi_buffer(void)
{
	static const char *want[] = {
		"7707d6ae4e027c70eea2a935c2296f21",
		"34aa973cd4c4daa4f61eeb2bdbad27316534016f",
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		("e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
		 "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"),
	};
	static char chunk[7919];
	memset(chunk, 'a', sizeof(chunk));

	for (int alg = 0; alg < CUSTOS_DIGEST_COUNT; alg++) {
		custos_digest *d = NULL;
		char hex[CUSTOS_DIGEST_HEX_MAX];
		size_t left = 1000000;

		CU_ASSERT_FATAL(custos_digest_new(&d, (custos_digest_alg)alg,
			NULL) == CUSTOS_OK);
		while (left > 0) {
			size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

			CU_ASSERT(custos_digest_update(d, chunk, n, NULL) ==
				CUSTOS_OK);
			left -= n;
		}
		CU_ASSERT(custos_digest_final_hex(d, hex, sizeof(hex), NULL) ==
			CUSTOS_OK);
		CU_ASSERT_STRING_EQUAL(hex, want[alg]);
		/* A reset digest hashes afresh. */
		CU_ASSERT(custos_digest_reset(d, NULL) == CUSTOS_OK);
		CU_ASSERT(custos_digest_final_hex(d, hex, sizeof(hex), NULL) ==
			CUSTOS_OK);
		CU_ASSERT_STRING_EQUAL(hex, known[alg].hex);
		custos_digest_free(d);
	}
}

static void test_parse_list(void)
{
	custos_digest_set set = 0;
	custos_error err;

	CU_ASSERT(custos_digest_parse_list(&set, "md5,sha1,sha256", NULL) ==
		CUSTOS_OK);
	CU_ASSERT_EQUAL(set, CUSTOS_DIGEST_SET_DEFAULT);
	CU_ASSERT(custos_digest_parse_list(&set, "SHA-512", NULL) == CUSTOS_OK);
	CU_ASSERT_EQUAL(set, CUSTOS_DIGEST_BIT(CUSTOS_DIGEST_SHA512));
	CU_ASSERT(custos_digest_parse_list(&set, "md5,crc32", &err) ==
		CUSTOS_EINVAL);
	CU_ASSERT(strstr(err.message, "crc32") != NULL);
	CU_ASSERT(custos_digest_parse_list(&set, "md5,,sha1", NULL) ==
		CUSTOS_EINVAL);
	CU_ASSERT(custos_digest_parse_list(&set, "", NULL) == CUSTOS_EINVAL);
	CU_ASSERT(custos_digest_parse_list(&set, "sha2561", NULL) ==
		CUSTOS_EINVAL);
}

static void test_small_output_buffer(void)
{
	char hex[10];

	CU_ASSERT(custos_digest_buffer_hex(CUSTOS_DIGEST_MD5, "x", 1, hex,
		sizeof(hex), NULL) == CUSTOS_EINVAL);
	custos_digest_free(NULL); /* free accepts NULL */
}

static const harness_test tests[] = {
	{"known answers, including empty input", test_known_answers},
	{"multi-buffer input equals one-shot", test_multi_buffer},
	{"hash list parsing", test_parse_list},
	{"output buffer too small", test_small_output_buffer},
};

HARNESS_MAIN("digest", tests)
