/*
 * Replays files through a fuzz target, so the seed corpus (and any crash
 * found by a fuzzer and added to it) runs on every `meson test`.  Each
 * file is also fed truncated and with single bytes flipped, deterministically.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (8u * 1024 * 1024)

static int replay(const char *path, unsigned mutations)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return 1;
	}
	buf = malloc(MAX_INPUT);
	n = buf == NULL ? 0 : fread(buf, 1, MAX_INPUT, f);
	fclose(f);
	if (buf == NULL)
		return 1;
	LLVMFuzzerTestOneInput(buf, n);
	for (unsigned i = 1; i <= mutations && n > 0; i++) {
		size_t at = (size_t)((i * 2654435761u) % n);

		LLVMFuzzerTestOneInput(buf, at);       /* truncated */
		buf[at] ^= (uint8_t)(1u << (i % 8));   /* one bit flipped */
		LLVMFuzzerTestOneInput(buf, n);
		buf[at] ^= (uint8_t)(1u << (i % 8));
	}
	free(buf);
	printf("replayed %s with %u mutations\n", path, mutations);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned mutations = 60;
	int rc = 0;

	for (int i = 1; i < argc; i++)
		rc |= replay(argv[i], mutations);
	return rc;
}
