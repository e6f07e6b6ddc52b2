/*
 * Fuzz target: BagIt bags as tar streams from untrusted bytes (tar member
 * names and types, bagit.txt, manifests, bag-info.txt, fetch.txt), and,
 * when the bytes start like one, a transfer manifest.  The input is
 * written to a temporary file and verified as a plain bag.  Invariants,
 * beyond not crashing: the outcome is one of the documented statuses
 * (OK; EFORMAT or EMISMATCH for a bag that is refused; EINVAL only for a
 * transfer manifest given without an identity; ENOMEM only for a hard
 * limit); a failure comes with a message that is valid UTF-8 without
 * control characters; a bag that verifies has a printable name, at most
 * one payload file per 512-byte tar header and no more payload bytes than
 * the input; the same input gives the same outcome twice.  Build with
 * clang -fsanitize=fuzzer,address for libFuzzer (tests/fuzz/README.md);
 * the replay driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custos/bundle.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/custos-fuzz-bag-XXXXXX";
	int fd = mkstemp(path);
	custos_bundle_summary sum;
	custos_error err;
	custos_status st, again;
	int manifest = size >= 26 &&
		memcmp(data, "Custos-Transfer-Manifest: ", 26) == 0;

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	memset(&err, 0, sizeof(err));
	st = custos_bundle_verify(&sum, path, NULL, &err);
	FUZZ_CHECK(st == CUSTOS_OK || st == CUSTOS_EFORMAT ||
		st == CUSTOS_EMISMATCH || st == CUSTOS_ENOMEM ||
		(st == CUSTOS_EINVAL && manifest));
	if (st != CUSTOS_OK)
		FUZZ_CHECK(err.message[0] != '\0' && fuzz_text_ok(err.message));
	if (st == CUSTOS_OK) {
		FUZZ_CHECK(sum.bundle_id[0] != '\0' &&
			fuzz_text_ok(sum.bundle_id));
		FUZZ_CHECK(sum.payload_bytes <= size);
		FUZZ_CHECK(sum.payload_files <= size / 512);
		FUZZ_CHECK(fuzz_text_ok(sum.request_reference));
	}
	again = custos_bundle_verify(&sum, path, NULL, &err);
	FUZZ_CHECK(again == st);
	unlink(path);
	return 0;
}
