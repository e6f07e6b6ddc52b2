/*
 * Fuzz target: bag-info.txt and the payload manifests, as a plain bag
 * folder.  Input, split at NUL bytes: bag-info.txt, manifest-sha256.txt,
 * the payload file data/f, then optionally fetch.txt; bagit.txt is a
 * valid BagIt 1.0 one.  Invariants: the outcome is OK, EFORMAT or
 * EMISMATCH, with a message in valid UTF-8 on failure; an accepted bag
 * has, counted here independently, no label that must be unique
 * (Payload-Oxum, Bagging-Date, Bag-Size, ...) twice in bag-info.txt
 * whatever its case, a Payload-Oxum (if any, and no fetch.txt) equal to
 * the payload, and a manifest that lists data/f exactly once with its
 * real SHA-256 (computed here with OpenSSL).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "custos/bundle.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/custos-fuzz-bagdir-XXXXXX";

static void put(const char *name, const void *d, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bag/%s", root, name);
	f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(n == 0 || fwrite(d, 1, n, f) == n);
	fclose(f);
}

static void drop(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/bag/%s", root, name);
	unlink(path);
}

static size_t count_label(const char *text, size_t len, const char *label)
{
	size_t n = 0, l = strlen(label);

	for (size_t i = 0; i < len;) {
		const char *e = memchr(text + i, '\n', len - i);
		size_t ll = e ? (size_t)(e - text - i) : len - i;
		if (ll > l && strncasecmp(text + i, label, l) == 0) {
			size_t k = l;
			while (k < ll && (text[i + k] == ' ' || text[i + k] == '\t'))
				k++;
			if (k < ll && text[i + k] == ':')
				n++;
		}
		i += ll + 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static const char *const unique[] = {"Payload-Oxum", "Bagging-Date",
		"Bag-Size", "Bag-Group-Identifier", "Bag-Count"};
	const char *part[4] = {"", "", "", NULL};
	size_t plen[4] = {0, 0, 0, 0}, np = 0;
	custos_bundle_summary sum;
	custos_error err;
	custos_status st;
	char bagpath[128], hex[65], line[200];
	unsigned char d[32];

	if (!ready) {
		char p[128];
		FUZZ_CHECK(mkdtemp(root) != NULL);
		snprintf(p, sizeof(p), "%s/bag", root);
		FUZZ_CHECK(mkdir(p, 0700) == 0);
		snprintf(p, sizeof(p), "%s/bag/data", root);
		FUZZ_CHECK(mkdir(p, 0700) == 0);
		put("bagit.txt", "BagIt-Version: 1.0\n"
			"Tag-File-Character-Encoding: UTF-8\n", 54);
		ready = 1;
	}
	for (size_t i = 0, start = 0; i <= size && np < 4; i++)
		if (i == size || data[i] == '\0') {
			part[np] = (const char *)data + start;
			plen[np++] = i - start;
			start = i + 1;
		}
	put("bag-info.txt", part[0], plen[0]);
	put("manifest-sha256.txt", part[1], plen[1]);
	put("data/f", part[2], plen[2]);
	if (part[3] != NULL)
		put("fetch.txt", part[3], plen[3]);
	else
		drop("fetch.txt");
	snprintf(bagpath, sizeof(bagpath), "%s/bag", root);
	memset(&err, 0, sizeof(err));
	st = custos_bundle_verify(&sum, bagpath, NULL, &err);
	FUZZ_CHECK(st == CUSTOS_OK || st == CUSTOS_EFORMAT ||
		st == CUSTOS_EMISMATCH);
	if (st != CUSTOS_OK) {
		FUZZ_CHECK(err.message[0] != '\0' && fuzz_text_ok(err.message));
		return 0;
	}
	for (size_t i = 0; i < sizeof(unique) / sizeof(unique[0]); i++)
		FUZZ_CHECK(count_label(part[0], plen[0], unique[i]) <= 1);
	FUZZ_CHECK(sum.payload_files == 1 && sum.payload_bytes == plen[2]);
	EVP_Digest(part[2], plen[2], d, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	/* data/f listed once, with its digest (any case, either blank). */
	{
		size_t listed = 0;
		for (size_t i = 0; i < plen[1];) {
			const char *e = memchr(part[1] + i, '\n', plen[1] - i);
			size_t ll = e ? (size_t)(e - part[1] - i) : plen[1] - i;
			char *l = malloc(ll + 1);
			FUZZ_CHECK(l != NULL);
			memcpy(l, part[1] + i, ll);
			l[ll] = '\0';
			if (strstr(l, "data/f") != NULL) {
				listed++;
				FUZZ_CHECK(strncasecmp(l, hex, 64) == 0);
			}
			free(l);
			i += ll + 1;
		}
		FUZZ_CHECK(listed == 1);
	}
	/* Payload-Oxum, in any case, is the payload when there is no
	 * fetch.txt. */
	for (size_t i = 0; part[3] == NULL && i < plen[0];) {
		const char *e = memchr(part[0] + i, '\n', plen[0] - i);
		size_t ll = e ? (size_t)(e - part[0] - i) : plen[0] - i;
		if (ll > 13 && ll < sizeof(line) &&
		    strncasecmp(part[0] + i, "Payload-Oxum:", 13) == 0) {
			unsigned long long bytes = 0, files = 0;
			memcpy(line, part[0] + i, ll);
			line[ll] = '\0';
			if (sscanf(line + 13, " %llu.%llu", &bytes, &files) == 2)
				FUZZ_CHECK(bytes == plen[2] && files == 1);
		}
		i += ll + 1;
	}
	return 0;
}
