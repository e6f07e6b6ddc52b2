/*
 * Fuzz target: BagIt bags as tar streams from untrusted bytes (tar member
 * names and types, bagit.txt, manifests, bag-info.txt, fetch.txt).  The
 * input is written to a temporary file and verified as a plain bag.
 * Invariants, beyond not crashing: the outcome is one of the documented
 * statuses; a bag that verifies has a name and carries no more payload
 * bytes than the input; the same input gives the same outcome twice.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custos/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/custos-fuzz-bag-XXXXXX";
	int fd = mkstemp(path);
	custos_bundle_summary sum;
	custos_status st, again;

	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	st = custos_bundle_verify(&sum, path, NULL, NULL);
	if (st != CUSTOS_OK && st != CUSTOS_EFORMAT && st != CUSTOS_EMISMATCH)
		abort();
	if (st == CUSTOS_OK &&
	    (sum.bundle_id[0] == '\0' || sum.payload_bytes > size))
		abort();
	again = custos_bundle_verify(&sum, path, NULL, NULL);
	if (again != st)
		abort();
	unlink(path);
	return 0;
}
