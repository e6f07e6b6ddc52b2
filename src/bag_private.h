/*
 * The BagIt model (RFC 8493) the bundle files share: the checksum
 * algorithms a bag may use and hashing beside the main thread
 * (bag_digest.c), and a bag as the verifier collects it, member by
 * member from a tar or a folder, before every check runs over it (bag.c).
 */
#ifndef CUSTOS_BAG_PRIVATE_H
#define CUSTOS_BAG_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "custos/bundle.h"
#include "custos/error.h"

#define TAG_FILE_MAX (16 * 1024 * 1024)
#define TAG_TOTAL_MAX (64 * 1024 * 1024)
#define BAG_FILES_MAX 1000000
#define PATH_MAX_BAG 4096

/* ---- bag_digest.c: checksum algorithms, by index ---- */

#define ALGS 6
#define ALL_ALGS 0x3fu
#define ALG_SHA256 2
#define ALG_SHA512 3

/* "md5", "sha1", "sha256", "sha512", "sha224", "sha384" (manifest names) */
extern const char *const custos__alg_names[ALGS];
extern const size_t custos__alg_sizes[ALGS];
const EVP_MD *custos__alg_md(int i);

/* Hashing beside the main thread: SHA-512 (the slowest) and the other
 * algorithms run on a second thread while the main thread encrypts,
 * writes or decrypts.  Only reads of a buffer are shared. */
typedef struct custos__hash_job {
	EVP_MD_CTX **md;            /* ALGS contexts, NULL where unused */
	unsigned int mask;          /* which of them this job updates */
	const unsigned char *buf;
	size_t len;
	pthread_t thread;
	int running;
} custos__hash_job;

/* Start the job on a thread (or run it here if that fails). */
void custos__hash_start(custos__hash_job *j);
void custos__hash_wait(custos__hash_job *j);

/* ---- bag.c: the bag being verified ---- */

typedef struct custos__bag_file {
	char *path;                 /* relative to the bag folder */
	int payload;                /* under data/ */
	uint64_t size;
	unsigned int have;          /* digests computed: bit per alg */
	unsigned char md[ALGS][64];
	unsigned char *content;     /* tag files only */
	size_t content_len;
	unsigned int listed;        /* payload manifests listing it */
	unsigned int tag_listed;    /* tag manifests listing it */
} custos__bag_file;

typedef struct custos__bag {
	custos_error *err;
	int from_tar;               /* strict member-name rules */
	unsigned int payload_algs;  /* digests computed for payload */
	char *root;                 /* the bag folder's name (tar) */
	custos__bag_file *files;
	size_t count, cap;
	size_t tag_total;
	unsigned char *buf;
	unsigned char *buf2;        /* double buffering in custos__bag_add */
	int v10;                    /* BagIt-Version 1.0 */
	int extracting;             /* open: write regular members into */
	int extract_fd;             /* ... the folder open here, */
	const char *extract_dir;    /* ... named so in messages */
	/* results */
	uint64_t payload_bytes, payload_files;
	char tagmanifest_sha512[129];
	char request_reference[128];
	char bundle_id_info[CUSTOS_BUNDLE_ID_MAX];
} custos__bag;

/* A member's bytes, IO_BLOCK at most per call; *got = 0 at the end. */
typedef custos_status (*custos__read_fn)(void *ctx, void *buf, size_t cap,
		size_t *got, custos_error *err);

void custos__bag_free(custos__bag *b);
/* Consume one regular member: hash it, keep tag files in memory. */
custos_status custos__bag_add(custos__bag *b, const char *rel,
		custos__read_fn rd, void *ctx);
/* After custos__bag_check (which sorts the members); NULL if absent. */
custos__bag_file *custos__bag_find(custos__bag *b, const char *path);
/* A relative path that stays inside the bag: no "..", no absolute. */
int custos__path_in_scope(const char *p);

/* Split text into lines in place (LF or CRLF); calls fn per line. */
typedef custos_status (*custos__line_fn)(custos__bag *b, char *line,
		size_t n, void *ctx);
custos_status custos__each_line(custos__bag *b, char *text,
		custos__line_fn fn, void *ctx);

/* Every check over the collected members.  need_signature: a custos
 * bundle, whose tag manifest must carry a good signature. */
custos_status custos__bag_check(custos__bag *b, int need_signature,
		const char *const *trust, size_t trust_count);
/* Collect the members of the bag folder top (rel: "" at the top). */
custos_status custos__bag_from_dir(custos__bag *b, const char *top,
		const char *rel, int depth);

#endif
