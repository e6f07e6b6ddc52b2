/*
 * Fuzz target: an E01 segment from untrusted bytes.  Invariants, beyond not
 * crashing: a hash is only reported for a fully read medium, and an image
 * that hashes cleanly gives the same digest when read a second time.
 * Build with clang -fsanitize=fuzzer,address for libFuzzer; the replay
 * driver (replay.c) runs the seed corpus as an ordinary test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custos/custos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/custos-fuzz-XXXXXX.E01";
	const char *p = path;
	custos_image *img = NULL;
	custos_image_hash_options o;
	custos_image_hash_result first, second;
	int fd = mkstemps(path, 4);

	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	custos_image_hash_options_init(&o);
	o.workers = 2;
	if (custos_image_open(&img, &p, 1, NULL) == CUSTOS_OK &&
	    custos_image_hash(img, &o, &first, NULL) == CUSTOS_OK) {
		if (first.bytes != custos_image_media_size(img))
			abort();
		if (custos_image_hash(img, &o, &second, NULL) != CUSTOS_OK ||
		    strcmp(first.digest[CUSTOS_DIGEST_SHA256],
			   second.digest[CUSTOS_DIGEST_SHA256]) != 0)
			abort();
	}
	custos_image_free(img);
	unlink(path);
	return 0;
}
