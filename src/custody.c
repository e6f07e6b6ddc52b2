/* The tamper-evident custody log: records, appends, checkpoints, proofs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_private.h"
#include "custos/cert.h"
#include "custos/custody.h"
#include "custos/digest.h"
#include "custos/merkle.h"
#include "custos/note.h"
#include "custos/sign.h"
#include "custos/timestamp.h"
#include "error_private.h"
#include "note_private.h"
#include "util_private.h"

#define LOG_NAME "log.jsonl"
#define STATE_NAME "tree.state"
#define REPORT_MAX (16u << 20)
#define MAX_PROBLEMS 200
#define MAX_CHECKPOINTS 4096
#define MAX_THREADS 16
#define HEX_SHA256 65

static const char *const event_types[] = {
	"genesis", "acquired", "sealed", "released", "received", "accessed",
	"exported", "verified", "returned", "destroyed", "key-rotation",
	"recovery",
};

static const char *const common_keys[] = {
	"v", "seq", "prev", "type", "case", "items", "recorded_at",
	"event_time", "actor", "location", "reason", "note",
};

static const char verify_md[] =
"# How to verify this custody log\n"
"\n"
"This folder is a custody log written by custos-log.  Everything below can\n"
"be checked with a POSIX shell, coreutils and openssl alone; custos ships a\n"
"script that does exactly this (tools/verify-log.sh).  Trust nothing in\n"
"this folder that is not checked against something you got elsewhere: the\n"
"log's verifier key (keys/log.vkey) and the CA certificates you trust.\n"
"\n"
"## Files\n"
"\n"
"- `log.jsonl`: one record per line; every line ends in LF (0x0A).  Line N\n"
"  (counting from 0) is record N.\n"
"- `sig/NNNNNNNN.p7s`: record N's signature (N as 8 or more decimal\n"
"  digits): a detached CMS (CAdES) signature, DER, over line N's exact\n"
"  bytes including its LF.\n"
"- `checkpoints/N.note`: a checkpoint for the first N records, a C2SP\n"
"  signed note by the log key.  `checkpoints/N.tsr`, when present, is\n"
"  an RFC 3161 time stamp over the note file (`openssl ts -verify -data\n"
"  checkpoints/N.note -in checkpoints/N.tsr -CAfile tsa-ca.pem`).\n"
"- `keys/log.vkey`: the log key as a C2SP verifier key\n"
"  `NAME+KEYID+BASE64(0x01 || 32-byte Ed25519 public key)`;\n"
"  `keys/log.pub.pem` is the same key as PEM.  `keys/ca-K.pem`: CA\n"
"  certificates pinned by SHA-256 in the genesis record.\n"
"- `quarantine/`: torn lines and orphaned signature files from interrupted\n"
"  appends, kept, never part of the log.  A `recovery` record names each.\n"
"\n"
"Hash the bytes as stored.  Never re-format a record before hashing it.\n"
"\n"
"## 1. The chain\n"
"\n"
"1. The file ends in LF.  A last line without LF is a torn append.\n"
"2. Each line is one JSON object with sorted keys and no whitespace\n"
"   outside strings.  Its `seq` is its line number N, its `v` is 1.\n"
"3. Its `prev` is the lowercase hex SHA-256 of line N-1 (with its LF);\n"
"   for line 0 it is the SHA-256 of the empty string\n"
"   (e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855).\n"
"   `sed -n \"${N}p\" log.jsonl | sha256sum` gives the hash of line N-1\n"
"   (sed counts from 1).\n"
"4. Line 0 is the `genesis` record: its `log_key` must equal the vkey you\n"
"   trust, and its `trust` lists the files in keys/ with their SHA-256.\n"
"\n"
"## 2. The Merkle tree (RFC 6962)\n"
"\n"
"The leaf hash of line N is SHA-256(0x00 || line N with its LF).  An inner\n"
"node is SHA-256(0x01 || left || right).  The tree head of n leaves: for\n"
"n = 1 the leaf hash; otherwise split at k, the largest power of two\n"
"smaller than n, and hash the head of the first k leaves with the head of\n"
"the remaining n-k.\n"
"\n"
"## 3. Checkpoints (C2SP tlog-checkpoint, signed note)\n"
"\n"
"A checkpoint note is the text\n"
"\n"
"    <origin>\\n<N>\\n<base64 tree head of the first N lines>\\n\n"
"\n"
"then an empty line, then signature lines\n"
"`— <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>`.\n"
"The key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 ||\n"
"public key).  Check the signature over the text (the first three lines\n"
"with their LFs):\n"
"\n"
"    head -n 3 checkpoints/N.note > text\n"
"    tail -n 1 checkpoints/N.note | cut -d' ' -f3 | base64 -d | tail -c 64 > sig\n"
"    openssl pkeyutl -verify -pubin -inkey keys/log.pub.pem -rawin \\\n"
"        -in text -sigfile sig\n"
"\n"
"Then N must not exceed the number of lines (else the log was truncated),\n"
"the origin must be the genesis `origin`, and the tree head of the first N\n"
"lines must equal the checkpoint's.  Two checkpoints that are both signed\n"
"but do not describe the same history are a fork.\n"
"\n"
"## 4. Record signatures\n"
"\n"
"For each line N, write the line (with LF) to a file and check\n"
"\n"
"    openssl cms -verify -binary -inform DER -in sig/NNNNNNNN.p7s \\\n"
"        -content line -CAfile keys/ca-0.pem -purpose any -signer signer.pem\n"
"\n"
"and that the SHA-256 of the signer's certificate in DER\n"
"(`openssl x509 -in signer.pem -outform DER | sha256sum`) is the record's\n"
"`actor.cert_sha256`.\n"
"\n"
"## 5. Transfers\n"
"\n"
"Every `received` record has `answers` = {seq, sha256}: record `seq` must\n"
"be an earlier `released` record whose line has that SHA-256.  A receipt of\n"
"evidence from another state's log has instead `transfer` = {bundle_id,\n"
"transfer_manifest_sha256}: the release is in the sender's log, and the\n"
"SHA-256 (64 hex digits) names the signed transfer manifest it came with.\n";

/* ---- small helpers ---- */

static char *pjoin(const char *dir, const char *name)
{
	return custos__aprintf("%s/%s", dir, name);
}

static void sha256_raw(unsigned char out[32], const void *data, size_t len)
{
	unsigned int n = 32;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

static void hex32(char out[HEX_SHA256], const unsigned char in[32])
{
	static const char d[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[64] = '\0';
}

static void sha256_hex(char out[HEX_SHA256], const void *data, size_t len)
{
	unsigned char md[32];

	sha256_raw(md, data, len);
	hex32(out, md);
}

static int has_real(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_real(j))
		return 1;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if (has_real(v))
				return 1;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_real(v))
				return 1;
	}
	return 0;
}

/* Replace floats by their text, so a record holds none. */
static void reals_to_strings(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	char buf[64];

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (json_is_real(v)) {
				snprintf(buf, sizeof(buf), "%.17g",
					json_real_value(v));
				json_object_set_new(j, k, json_string(buf));
			} else {
				reals_to_strings(v);
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_real(v)) {
				snprintf(buf, sizeof(buf), "%.17g",
					json_real_value(v));
				json_array_set_new(j, i, json_string(buf));
			} else {
				reals_to_strings(v);
			}
		}
	}
}

/* Drop null members and elements: records hold no nulls. */
static void strip_nulls(json_t *j)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, k, v) {
			if (json_is_null(v))
				json_object_del(j, k);
			else
				strip_nulls(v);
		}
	} else if (json_is_array(j)) {
		for (i = json_array_size(j); i > 0; i--) {
			v = json_array_get(j, i - 1);
			if (json_is_null(v))
				json_array_remove(j, i - 1);
			else
				strip_nulls(v);
		}
	}
}

static char *canonical(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
		JSON_ENSURE_ASCII);
}

/* Text safe to put in a message: control bytes and non-ASCII as \xNN,
 * at most max input bytes. */
static void safe_text(char *out, size_t cap, const char *in, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int custos_custody_type_known(const char *type)
{
	if (type == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(event_types) / sizeof(*event_types); i++)
		if (strcmp(type, event_types[i]) == 0)
			return 1;
	return 0;
}

static int is_common_key(const char *k)
{
	for (size_t i = 0; i < sizeof(common_keys) / sizeof(*common_keys); i++)
		if (strcmp(k, common_keys[i]) == 0)
			return 1;
	return 0;
}

void custos_custody_actor_options_init(custos_custody_actor_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_CUSTODY_ACTOR_OPTIONS_VERSION;
}

void custos_custody_event_init(custos_custody_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->version = CUSTOS_CUSTODY_EVENT_VERSION;
}

void custos_custody_verify_options_init(custos_custody_verify_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = CUSTOS_CUSTODY_VERIFY_OPTIONS_VERSION;
}

static custos_status mkdir_p(const char *path, mode_t mode,
		custos_error *err)
{
	char *p = custos__strdup(path);

	if (p == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			custos_status st = custos__error_errno(err, errno,
				"cannot make folder %s", p);
			free(p);
			return st;
		}
		*s = '/';
	}
	if (mkdir(p, mode) != 0 && errno != EEXIST) {
		custos_status st = custos__error_errno(err, errno,
			"cannot make folder %s", p);
		free(p);
		return st;
	}
	free(p);
	return CUSTOS_OK;
}

custos_status custos_custody_default_key_path(char **out, const char *origin,
		custos_error *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *base, *name;

	*out = NULL;
	if (origin == NULL || origin[0] == '\0')
		return custos__error_set(err, CUSTOS_EINVAL, "no origin");
	if (xdg != NULL && xdg[0] == '/')
		base = custos__aprintf("%s/custos/log-keys", xdg);
	else if (home != NULL && home[0] == '/')
		base = custos__aprintf("%s/.config/custos/log-keys", home);
	else
		return custos__error_set(err, CUSTOS_EINVAL,
			"neither XDG_CONFIG_HOME nor HOME is set; give "
			"--log-key");
	name = custos__strdup(origin);
	if (base == NULL || name == NULL) {
		free(base);
		free(name);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (char *s = name; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			*s = '_';
	*out = custos__aprintf("%s/%s.ed25519.pem", base, name);
	free(base);
	free(name);
	if (*out == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	return CUSTOS_OK;
}

/* Read a whole file of at most max bytes, NUL-terminated. */
static custos_status read_text(char **out, size_t *len, const char *path,
		size_t max, const char *what, custos_error *err)
{
	unsigned char *data;
	size_t n;
	custos_status st;
	char *s;

	*out = NULL;
	st = custos__read_file_max(path, max, &data, &n, what, err);
	if (st != CUSTOS_OK)
		return st;
	s = malloc(n + 1);
	if (s == NULL) {
		free(data);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	memcpy(s, data, n);
	s[n] = '\0';
	free(data);
	*out = s;
	if (len != NULL)
		*len = n;
	return CUSTOS_OK;
}

/* ---- the actor ---- */

typedef struct actor_info {
	custos_sign_options sign;
	json_t *actor;   /* {"cert_sha256", "name", ...} */
} actor_info;

static custos_status actor_load(actor_info *a,
		const custos_custody_actor_options *o, custos_error *err)
{
	custos_cert *cert = NULL;
	custos_status st;
	const char *name;

	memset(a, 0, sizeof(*a));
	if (o == NULL || o->version != CUSTOS_CUSTODY_ACTOR_OPTIONS_VERSION ||
	    o->key_path == NULL || o->cert_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a record needs the acting person's key and "
			"certificate");
	custos_sign_options_init(&a->sign);
	a->sign.key_path = o->key_path;
	a->sign.cert_path = o->cert_path;
	a->sign.chain_path = o->chain_path;
	a->sign.passphrase = o->passphrase;
	a->sign.passphrase_ctx = o->passphrase_ctx;
	if ((st = custos_cert_load(&cert, o->cert_path, err)) != CUSTOS_OK)
		return st;
	name = o->name != NULL ? o->name : custos_cert_common_name(cert);
	a->actor = json_object();
	if (a->actor == NULL) {
		custos_cert_free(cert);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	json_object_set_new(a->actor, "cert_sha256",
		json_string(custos_cert_fingerprint_sha256(cert)));
	json_object_set_new(a->actor, "name", json_string(name));
	if (o->id != NULL)
		json_object_set_new(a->actor, "id", json_string(o->id));
	if (o->organisation != NULL)
		json_object_set_new(a->actor, "organisation",
			json_string(o->organisation));
	if (o->role != NULL)
		json_object_set_new(a->actor, "role", json_string(o->role));
	custos_cert_free(cert);
	if (json_object_size(a->actor) < (size_t)(2 + (o->id != NULL) +
			(o->organisation != NULL) + (o->role != NULL))) {
		json_decref(a->actor);
		a->actor = NULL;
		return custos__error_set(err, CUSTOS_EINVAL,
			"the actor's name, id, organisation or role is not "
			"valid UTF-8");
	}
	return CUSTOS_OK;
}

static void actor_free(actor_info *a)
{
	json_decref(a->actor);
	a->actor = NULL;
}

/* ---- building a record (without seq and prev) ---- */

static custos_status set_str(json_t *o, const char *key, const char *val,
		custos_error *err)
{
	json_t *s = json_string(val != NULL ? val : "");

	if (s == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"the %s is not valid UTF-8 text", key);
	json_object_set_new(o, key, s);
	return CUSTOS_OK;
}

static int parse_rfc3339(const char *s, time_t *out);

static custos_status build_record(json_t **out,
		const custos_custody_event *ev, const actor_info *a,
		custos_error *err)
{
	char now[CUSTOS__RFC3339_MAX];
	json_t *r, *items, *extra = NULL;
	custos_status st = CUSTOS_OK;
	const char *k;
	json_t *v;

	*out = NULL;
	if (ev == NULL || ev->version != CUSTOS_CUSTODY_EVENT_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"bad custody event");
	if (!custos_custody_type_known(ev->type))
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown event type '%s'", ev->type != NULL ? ev->type
								    : "");
	custos__time_rfc3339(now, time(NULL));
	if (ev->event_time != NULL) {
		time_t t;

		if (!parse_rfc3339(ev->event_time, &t) ||
		    strlen(ev->event_time) != 20)
			return custos__error_set(err, CUSTOS_EINVAL,
				"the event time '%s' is not RFC 3339 UTC "
				"(2026-11-28T16:02:46Z)", ev->event_time);
	}
	r = json_object();
	items = json_array();
	if (r == NULL || items == NULL) {
		json_decref(r);
		json_decref(items);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < ev->item_count; i++) {
		json_t *s = json_string(ev->items[i]);

		if (s == NULL || ev->items[i][0] == '\0') {
			json_decref(s);
			st = custos__error_set(err, CUSTOS_EINVAL,
				"an item ID is empty or not UTF-8");
			goto fail;
		}
		json_array_append_new(items, s);
	}
	json_object_set_new(r, "v", json_integer(CUSTOS_CUSTODY_FORMAT));
	json_object_set_new(r, "type", json_string(ev->type));
	json_object_set_new(r, "items", items);
	items = NULL;
	json_object_set_new(r, "recorded_at", json_string(now));
	json_object_set(r, "actor", a->actor);
	if ((st = set_str(r, "case", ev->case_ref, err)) != CUSTOS_OK ||
	    (st = set_str(r, "event_time", ev->event_time != NULL
		    ? ev->event_time : now, err)) != CUSTOS_OK ||
	    (st = set_str(r, "location", ev->location, err)) != CUSTOS_OK ||
	    (st = set_str(r, "reason", ev->reason, err)) != CUSTOS_OK ||
	    (st = set_str(r, "note", ev->note, err)) != CUSTOS_OK)
		goto fail;
	if (ev->fields_json != NULL) {
		json_error_t je;

		extra = json_loads(ev->fields_json, JSON_REJECT_DUPLICATES,
			&je);
		if (extra == NULL || !json_is_object(extra)) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"the extra fields are not a JSON object: %s",
				extra == NULL ? je.text : "not an object");
			goto fail;
		}
		if (has_real(extra)) {
			st = custos__error_set(err, CUSTOS_EINVAL,
				"the extra fields hold a number with a "
				"fraction or exponent; records hold no "
				"floats (write it as a string)");
			goto fail;
		}
		json_object_foreach(extra, k, v) {
			if (is_common_key(k)) {
				st = custos__error_set(err, CUSTOS_EINVAL,
					"the extra field '%s' would replace a "
					"common field", k);
				goto fail;
			}
			json_object_set(r, k, v);
		}
		json_decref(extra);
		extra = NULL;
	}
	*out = r;
	return CUSTOS_OK;
fail:
	json_decref(extra);
	json_decref(items);
	json_decref(r);
	return st;
}

/* ---- the compact tree state (a cache beside the log) ---- */

static int state_read(const char *dir, custos_merkle_state *s)
{
	char *path = pjoin(dir, STATE_NAME), *text = NULL, *p;
	size_t len = 0;
	unsigned long long size;
	int ok = 0;

	custos_merkle_state_init(s);
	if (path == NULL || read_text(&text, &len, path, 16384, "tree state",
			NULL) != CUSTOS_OK)
		goto done;
	if (sscanf(text, "custos-tree-state 1\nsize %llu\n", &size) != 1)
		goto done;
	p = strchr(text, '\n');
	p = p != NULL ? strchr(p + 1, '\n') : NULL;
	s->size = size;
	for (unsigned k = 0; k < 64 && p != NULL; k++) {
		if (!(size & ((uint64_t)1 << k)))
			continue;
		for (int i = 0; i < 32; i++) {
			unsigned int b;

			if (sscanf(p + 1 + 2 * i, "%2x", &b) != 1)
				goto done;
			s->subtree[k][i] = (unsigned char)b;
		}
		p = strchr(p + 1, '\n');
	}
	ok = p != NULL;
done:
	if (!ok)
		custos_merkle_state_init(s);
	free(path);
	free(text);
	return ok;
}

static void state_write(const char *dir, const custos_merkle_state *s)
{
	char buf[80 * 66], hx[HEX_SHA256];
	char *path = pjoin(dir, STATE_NAME);
	char *tmp = custos__aprintf("%s/%s.part", dir, STATE_NAME);
	size_t o;
	int fd;

	o = (size_t)snprintf(buf, sizeof(buf), "custos-tree-state 1\nsize %"
		PRIu64 "\n", s->size);
	for (unsigned k = 0; k < 64; k++) {
		if (!(s->size & ((uint64_t)1 << k)))
			continue;
		hex32(hx, s->subtree[k]);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n", hx);
	}
	if (path == NULL || tmp == NULL)
		goto done;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto done;
	if (custos__write_all(fd, buf, o, "tree state", NULL) == CUSTOS_OK &&
	    close(fd) == 0)
		(void)rename(tmp, path);
	else
		(void)unlink(tmp);
done:
	free(path);
	free(tmp);
}

/* ---- reading the log ---- */

/* The whole log, read under a shared lock so that no append is seen
 * half-written. */
static custos_status read_log_locked(char **buf, size_t *len,
		const char *dir, int lock, custos_error *err)
{
	char *path = pjoin(dir, LOG_NAME);
	custos_status st = CUSTOS_OK;
	struct stat sb;
	size_t got = 0;
	int fd;

	*buf = NULL;
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st = custos__error_errno(err, errno,
			"cannot open the custody log %s", path);
		free(path);
		return st;
	}
	while (lock && flock(fd, LOCK_SH) != 0 && errno == EINTR)
		;
	if (fstat(fd, &sb) != 0) {
		st = custos__error_errno(err, errno, "cannot stat %s", path);
		goto done;
	}
	if ((uint64_t)sb.st_size > CUSTOS_CUSTODY_LOG_MAX) {
		st = custos__error_set(err, CUSTOS_ENOMEM,
			"%s is larger than the %" PRIu64 " bytes custos reads",
			path, CUSTOS_CUSTODY_LOG_MAX);
		goto done;
	}
	*buf = malloc((size_t)sb.st_size + 1);
	if (*buf == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			st = custos__error_errno(err, r < 0 ? errno : EIO,
				"cannot read %s", path);
			goto done;
		}
		got += (size_t)r;
	}
	(*buf)[got] = '\0';
	*len = got;
done:
	if (st != CUSTOS_OK) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	free(path);
	return st;
}

static custos_status read_log(char **buf, size_t *len, const char *dir,
		custos_error *err)
{
	return read_log_locked(buf, len, dir, 1, err);
}

/* Called by an append, which holds the exclusive lock already. */
static custos_status rebuild_state(const char *dir, uint64_t lines,
		custos_merkle_state *s, custos_error *err)
{
	char *buf;
	size_t len, off = 0;
	custos_status st;

	custos_merkle_state_init(s);
	if ((st = read_log_locked(&buf, &len, dir, 0, err)) != CUSTOS_OK)
		return st;
	while (off < len && s->size < lines) {
		char *nl = memchr(buf + off, '\n', len - off);
		custos_merkle_hash leaf;

		if (nl == NULL)
			break;
		custos_merkle_leaf_hash(leaf, buf + off,
			(size_t)(nl - buf - off) + 1);
		(void)custos_merkle_state_append(s, leaf, NULL);
		off = (size_t)(nl - buf) + 1;
	}
	free(buf);
	return CUSTOS_OK;
}

/* ---- appending ---- */

typedef struct tail {
	uint64_t size;       /* bytes of whole lines */
	uint64_t next_seq;
	char prev[HEX_SHA256];
	uint64_t torn_off;   /* where a torn last line starts */
	uint64_t torn_len;   /* 0: none */
} tail;

static custos_status read_tail(int fd, tail *t, custos_error *err)
{
	struct stat sb;
	size_t want, got = 0;
	char *buf, *end, *start;
	uint64_t base;
	custos_status st = CUSTOS_OK;

	memset(t, 0, sizeof(*t));
	if (fstat(fd, &sb) != 0)
		return custos__error_errno(err, errno, "cannot stat the log");
	if (sb.st_size == 0) {
		sha256_hex(t->prev, "", 0);
		return CUSTOS_OK;
	}
	want = (uint64_t)sb.st_size < 2 * (uint64_t)CUSTOS_CUSTODY_LINE_MAX + 2
		? (size_t)sb.st_size : 2 * CUSTOS_CUSTODY_LINE_MAX + 2;
	base = (uint64_t)sb.st_size - want;
	buf = malloc(want);
	if (buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got,
			(off_t)(base + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			st = custos__error_errno(err, r < 0 ? errno : EIO,
				"cannot read the log");
			goto done;
		}
		got += (size_t)r;
	}
	end = buf + want;
	if (end[-1] != '\n') {
		char *lf = NULL;

		for (char *p = end - 1; p >= buf; p--)
			if (*p == '\n') {
				lf = p;
				break;
			}
		if (lf == NULL && base != 0) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"the log ends in more than %u bytes without "
				"LF; it is damaged", CUSTOS_CUSTODY_LINE_MAX);
			goto done;
		}
		t->torn_off = lf == NULL ? 0 : base + (uint64_t)(lf + 1 - buf);
		t->torn_len = (uint64_t)sb.st_size - t->torn_off;
		end = lf == NULL ? buf : lf + 1;
	}
	t->size = base + (uint64_t)(end - buf);
	if (t->size == 0) {
		sha256_hex(t->prev, "", 0);
		goto done;
	}
	/* The last whole line: from the LF before it. */
	start = end - 1;
	while (start > buf && start[-1] != '\n')
		start--;
	if (start == buf && base != 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the last record is longer than %u bytes",
			CUSTOS_CUSTODY_LINE_MAX);
		goto done;
	}
	sha256_hex(t->prev, start, (size_t)(end - start));
	{
		json_error_t je;
		json_t *r = json_loadb(start, (size_t)(end - start - 1), 0, &je);
		json_t *seq = json_object_get(r, "seq");

		if (!json_is_integer(seq) || json_integer_value(seq) < 0) {
			json_decref(r);
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"the last record of the log is damaged (no "
				"seq); run custos-log verify");
			goto done;
		}
		t->next_seq = (uint64_t)json_integer_value(seq) + 1;
		json_decref(r);
	}
done:
	free(buf);
	return st;
}

static char *sig_name(uint64_t seq)
{
	return custos__aprintf("sig/%08" PRIu64 ".p7s", seq);
}

static custos_status quarantine_file(char **qname, const char *dir,
		const char *what, uint64_t n, const void *data, size_t len,
		const char *move_from, custos_error *err)
{
	char *rel = custos__aprintf("quarantine/%s-%" PRIu64 "-%lld-%ld%s",
		what, n, (long long)time(NULL), (long)getpid(),
		move_from != NULL ? ".p7s" : ".bin");
	char *qdir = pjoin(dir, "quarantine");
	char *path = rel != NULL ? pjoin(dir, rel) : NULL;
	custos_status st;

	*qname = NULL;
	if (rel == NULL || qdir == NULL || path == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if (mkdir(qdir, 0755) != 0 && errno != EEXIST) {
		st = custos__error_errno(err, errno, "cannot make %s", qdir);
		goto done;
	}
	if (move_from != NULL) {
		if (rename(move_from, path) != 0)
			st = custos__error_errno(err, errno,
				"cannot move %s to %s", move_from, path);
		else
			st = custos__fsync_parent(path, err);
	} else {
		st = custos__write_file_atomic(path, data, len, err);
	}
	if (st == CUSTOS_OK) {
		*qname = rel;
		rel = NULL;
	}
done:
	free(rel);
	free(qdir);
	free(path);
	return st;
}

/* Append record r (seq and prev set here) under the lock held on fd. */
static custos_status append_locked(int fd, const char *dir, json_t *r,
		actor_info *a, tail *t, custos_merkle_state *ms,
		custos_error *err)
{
	char *text = NULL, *line = NULL, *rel = NULL, *sigpath = NULL;
	custos_merkle_hash leaf;
	size_t len = 0;
	ssize_t w;
	custos_status st;

	json_object_set_new(r, "seq", json_integer((json_int_t)t->next_seq));
	json_object_set_new(r, "prev", json_string(t->prev));
	text = canonical(r);
	if (text == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	len = strlen(text) + 1;
	if (len > CUSTOS_CUSTODY_LINE_MAX) {
		free(text);
		return custos__error_set(err, CUSTOS_EINVAL,
			"the record is %zu bytes; the most is %u", len,
			CUSTOS_CUSTODY_LINE_MAX);
	}
	line = malloc(len);
	rel = sig_name(t->next_seq);
	sigpath = rel != NULL ? pjoin(dir, rel) : NULL;
	if (line == NULL || sigpath == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(line, text, len - 1);
	line[len - 1] = '\n';
	if (custos__path_exists(sigpath)) {
		/* Left by an append that died before its line was written. */
		char *q = NULL;

		st = quarantine_file(&q, dir, "orphan-sig", t->next_seq, NULL,
			0, sigpath, err);
		free(q);
		if (st != CUSTOS_OK)
			goto done;
	}
	if ((st = custos_sign_buffer_to(line, len, sigpath, &a->sign, err)) !=
			CUSTOS_OK)
		goto done;
	w = write(fd, line, len);
	if (w < 0 || (size_t)w != len) {
		int e = w < 0 ? errno : ENOSPC;

		if (w > 0 && ftruncate(fd, (off_t)t->size) != 0)
			e = errno;
		(void)unlink(sigpath);
		st = custos__error_errno(err, e, "cannot append to the log");
		goto done;
	}
	if (fdatasync(fd) != 0) {
		st = custos__error_errno(err, errno, "cannot sync the log");
		goto done;
	}
	custos_merkle_leaf_hash(leaf, line, len);
	if (ms->size == t->next_seq)
		(void)custos_merkle_state_append(ms, leaf, NULL);
	t->size += len;
	t->next_seq++;
	sha256_hex(t->prev, line, len);
	st = CUSTOS_OK;
done:
	free(text);
	free(line);
	free(rel);
	free(sigpath);
	return st;
}

/* Quarantine a torn last line and append the recovery record. */
static custos_status recover_locked(int fd, const char *dir, actor_info *a,
		tail *t, custos_merkle_state *ms, custos_error *err)
{
	unsigned char *buf;
	char hx[HEX_SHA256], *q = NULL, *fields = NULL;
	custos_custody_event ev;
	json_t *r = NULL, *obj;
	custos_status st;
	size_t got = 0;

	if (t->torn_len == 0)
		return CUSTOS_OK;
	if (t->torn_len > CUSTOS_CUSTODY_LINE_MAX + 1)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"the log ends in %" PRIu64 " bytes without LF; it is "
			"damaged", t->torn_len);
	buf = malloc((size_t)t->torn_len);
	if (buf == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	while (got < t->torn_len) {
		ssize_t n = pread(fd, buf + got, (size_t)t->torn_len - got,
			(off_t)(t->torn_off + got));

		if (n <= 0) {
			free(buf);
			return custos__error_errno(err, n < 0 ? errno : EIO,
				"cannot read the torn line");
		}
		got += (size_t)n;
	}
	sha256_hex(hx, buf, got);
	st = quarantine_file(&q, dir, "torn-line", t->torn_off, buf, got,
		NULL, err);
	free(buf);
	if (st != CUSTOS_OK)
		return st;
	if (ftruncate(fd, (off_t)t->torn_off) != 0 || fsync(fd) != 0) {
		free(q);
		return custos__error_errno(err, errno,
			"cannot cut the torn line from the log");
	}
	obj = json_pack("{s:{s:s,s:I,s:I,s:s}}", "quarantined", "file", q,
		"offset", (json_int_t)t->torn_off, "bytes", (json_int_t)got,
		"sha256", hx);
	fields = obj != NULL ? canonical(obj) : NULL;
	json_decref(obj);
	custos_custody_event_init(&ev);
	ev.type = "recovery";
	ev.reason = "an interrupted append left a torn last line; it was "
		"moved to quarantine";
	ev.fields_json = fields;
	t->torn_len = 0;
	if (fields == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if ((st = build_record(&r, &ev, a, err)) == CUSTOS_OK)
		st = append_locked(fd, dir, r, a, t, ms, err);
	json_decref(r);
	free(fields);
	free(q);
	return st;
}

static custos_status open_locked(int *out, const char *dir, int create,
		custos_error *err)
{
	char *path = pjoin(dir, LOG_NAME);
	int fd;

	*out = -1;
	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC |
		(create ? O_CREAT | O_EXCL : 0), 0644);
	if (fd < 0) {
		custos_status st = custos__error_errno(err, errno,
			"cannot open the custody log %s", path);
		free(path);
		return st;
	}
	free(path);
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			custos_status st = custos__error_errno(err, errno,
				"cannot lock the custody log");
			close(fd);
			return st;
		}
	}
	*out = fd;
	return CUSTOS_OK;
}

static custos_status do_append(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_actor_options *actor, int create,
		int recover_only, int *recovered, custos_error *err)
{
	actor_info a;
	custos_merkle_state ms;
	custos_merkle_hash root;
	json_t *r = NULL;
	tail t;
	int fd = -1;
	custos_status st;

	if (root_b64 != NULL)
		*root_b64 = NULL;
	if (dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no log folder");
	if ((st = actor_load(&a, actor, err)) != CUSTOS_OK)
		return st;
	if (!recover_only && (st = build_record(&r, ev, &a, err)) != CUSTOS_OK)
		goto done;
	if ((st = open_locked(&fd, dir, create, err)) != CUSTOS_OK ||
	    (st = read_tail(fd, &t, err)) != CUSTOS_OK)
		goto done;
	if (!create && t.size == 0 && t.torn_len == 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"%s/%s is empty: not a custody log (custos-log init)",
			dir, LOG_NAME);
		goto done;
	}
	if (r != NULL && t.next_seq == 0 &&
	    strcmp(json_string_value(json_object_get(r, "type")),
		    "genesis") != 0) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the log has no genesis record");
		goto done;
	}
	if (r != NULL && t.next_seq != 0 &&
	    strcmp(json_string_value(json_object_get(r, "type")),
		    "genesis") == 0) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"a log has one genesis record, its first");
		goto done;
	}
	if (!state_read(dir, &ms) || ms.size != t.next_seq) {
		if ((st = rebuild_state(dir, t.next_seq, &ms, err)) !=
				CUSTOS_OK)
			goto done;
	}
	if (recovered != NULL)
		*recovered = t.torn_len != 0;
	if ((st = recover_locked(fd, dir, &a, &t, &ms, err)) != CUSTOS_OK)
		goto done;
	if (r != NULL && (st = append_locked(fd, dir, r, &a, &t, &ms, err)) !=
			CUSTOS_OK)
		goto done;
	if (ms.size == t.next_seq)
		state_write(dir, &ms);
	if (seq != NULL)
		*seq = t.next_seq - 1;
	if (root_b64 != NULL) {
		custos_merkle_state_root(&ms, root);
		*root_b64 = custos__b64_encode(root, sizeof(root));
	}
done:
	if (fd >= 0)
		close(fd); /* drops the lock */
	json_decref(r);
	actor_free(&a);
	return st;
}

custos_status custos_custody_append(uint64_t *seq, char **root_b64,
		const char *dir, const custos_custody_event *ev,
		const custos_custody_actor_options *actor, custos_error *err)
{
	return do_append(seq, root_b64, dir, ev, actor, 0, 0, NULL, err);
}

custos_status custos_custody_recover(int *recovered, const char *dir,
		const custos_custody_actor_options *actor, custos_error *err)
{
	int rec = 0;
	custos_status st = do_append(NULL, NULL, dir, NULL, actor, 0, 1, &rec,
		err);

	if (recovered != NULL)
		*recovered = rec;
	return st;
}

/* ---- init ---- */

static custos_status write_text(const char *dir, const char *name,
		const char *text, custos_error *err)
{
	char *path = pjoin(dir, name);
	custos_status st;

	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__write_file_atomic(path, text, strlen(text), err);
	free(path);
	return st;
}

static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

custos_status custos_custody_init(const char *dir, const char *origin,
		const char *log_key_path, const char *const *trust,
		size_t trust_count, const custos_custody_event *genesis,
		const custos_custody_actor_options *actor, custos_error *err)
{
	static const char *const subdirs[] = {"sig", "checkpoints", "keys",
		"quarantine"};
	char *keypath = NULL, *vkey = NULL, *pem = NULL, *fields = NULL;
	char *vkey_line = NULL, *keydir = NULL, *abs_dir = NULL;
	char *abs_key = NULL;
	json_t *g = NULL, *list = NULL;
	custos_custody_event ev;
	custos_status st;
	actor_info a;

	if (dir == NULL || origin == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"init needs a folder and an origin");
	/* The actor must be able to sign before anything is made. */
	if ((st = actor_load(&a, actor, err)) != CUSTOS_OK)
		return st;
	actor_free(&a);
	if (custos__path_exists(dir) && !dir_empty(dir))
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s exists and is not an empty folder", dir);
	if (log_key_path == NULL) {
		if ((st = custos_custody_default_key_path(&keypath, origin,
				err)) != CUSTOS_OK)
			return st;
	} else if ((keypath = custos__strdup(log_key_path)) == NULL) {
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	if ((st = mkdir_p(dir, 0755, err)) != CUSTOS_OK)
		goto done;
	/* The private key must not live inside the log. */
	keydir = custos__dirname(keypath);
	if (keydir == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = mkdir_p(keydir, 0700, err)) != CUSTOS_OK)
		goto done;
	abs_dir = realpath(dir, NULL);
	abs_key = realpath(keydir, NULL);
	if (abs_dir != NULL && abs_key != NULL &&
	    strncmp(abs_key, abs_dir, strlen(abs_dir)) == 0 &&
	    (abs_key[strlen(abs_dir)] == '\0' ||
	     abs_key[strlen(abs_dir)] == '/')) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"the private log key must be kept outside the log "
			"folder");
		goto done;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		char *p = pjoin(dir, subdirs[i]);

		if (p == NULL) {
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
			goto done;
		}
		st = mkdir_p(p, 0755, err);
		free(p);
		if (st != CUSTOS_OK)
			goto done;
	}
	if ((st = custos_note_keygen(&vkey, &pem, origin, keypath, err)) !=
			CUSTOS_OK)
		goto done;
	vkey_line = custos__aprintf("%s\n", vkey);
	if (vkey_line == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = write_text(dir, "keys/log.vkey", vkey_line, err)) !=
			CUSTOS_OK ||
	    (st = write_text(dir, "keys/log.pub.pem", pem, err)) != CUSTOS_OK)
		goto done;
	list = json_array();
	for (size_t i = 0; list != NULL && i < trust_count; i++) {
		char name[40], hx[HEX_SHA256];
		char *data;
		size_t len = 0;
		custos_cert *c = NULL;

		if ((st = custos_cert_load(&c, trust[i], err)) != CUSTOS_OK)
			goto done;
		custos_cert_free(c);
		if ((st = read_text(&data, &len, trust[i],
				CUSTOS__PKI_FILE_MAX, "CA certificate", err)) !=
				CUSTOS_OK)
			goto done;
		snprintf(name, sizeof(name), "keys/ca-%u.pem", (unsigned)(i % 1000));
		sha256_hex(hx, data, len);
		st = write_text(dir, name, data, err);
		free(data);
		if (st != CUSTOS_OK)
			goto done;
		json_array_append_new(list, json_pack("{s:s,s:s}", "file",
			name, "sha256", hx));
	}
	g = json_pack("{s:s,s:s,s:O}", "origin", origin, "log_key", vkey,
		"trust", list);
	fields = g != NULL ? canonical(g) : NULL;
	if (fields == NULL) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"the origin is not valid UTF-8");
		goto done;
	}
	if (genesis != NULL)
		ev = *genesis;
	else
		custos_custody_event_init(&ev);
	ev.type = "genesis";
	ev.fields_json = fields;
	if (ev.reason == NULL)
		ev.reason = "custody log opened";
	if ((st = do_append(NULL, NULL, dir, &ev, actor, 1, 0, NULL, err)) !=
			CUSTOS_OK ||
	    (st = write_text(dir, "VERIFY.md", verify_md, err)) != CUSTOS_OK)
		goto done;
	st = custos_custody_checkpoint(NULL, dir, keypath, NULL, err);
done:
	json_decref(g);
	json_decref(list);
	free(fields);
	free(vkey);
	free(vkey_line);
	free(pem);
	free(keypath);
	free(keydir);
	free(abs_dir);
	free(abs_key);
	return st;
}

/* ---- acquired, from an acquisition report ---- */

static json_t *copy_field(json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	if (v == NULL)
		return NULL;
	v = json_deep_copy(v);
	if (v != NULL && json_is_real(v)) {
		json_t *arr = json_array();

		json_array_append_new(arr, v);
		reals_to_strings(arr);
		v = json_incref(json_array_get(arr, 0));
		json_decref(arr);
	}
	reals_to_strings(v);
	strip_nulls(v);
	return v;
}

custos_status custos_custody_append_acquired(const char *log_dir,
		const char *report_json_path,
		const custos_custody_actor_options *signer, custos_error *err)
{
	char *data = NULL, *fields = NULL, hx[HEX_SHA256];
	const char *item, *case_ref;
	size_t len = 0;
	json_t *rep = NULL, *f = NULL, *c;
	json_error_t je;
	custos_custody_event ev;
	custos_status st;
	const char *keys[] = {"source", "hashes", "image", "tool", "errors",
		"result", "started_at", "finished_at", "host"};

	if (log_dir == NULL || report_json_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_append_acquired: NULL argument");
	if ((st = read_text(&data, &len, report_json_path, REPORT_MAX,
			"acquisition report", err)) != CUSTOS_OK)
		return st;
	sha256_hex(hx, data, len);
	rep = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(rep)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"%s is not a JSON report: %s", report_json_path,
			rep == NULL ? je.text : "not an object");
		goto done;
	}
	f = json_object();
	json_object_set_new(f, "report", json_pack("{s:s,s:s}", "file",
		custos__basename(report_json_path), "sha256", hx));
	json_object_set_new(f, "method", json_string("custos-acquire"));
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		json_t *v = copy_field(rep, keys[i]);

		if (json_is_null(v))
			json_decref(v);
		else if (v != NULL)
			json_object_set_new(f, strcmp(keys[i], "errors") == 0
				? "read_errors" : keys[i], v);
	}
	c = json_object_get(rep, "case");
	case_ref = json_string_value(json_object_get(c, "case_number"));
	item = json_string_value(json_object_get(c, "evidence_number"));
	if (json_is_string(json_object_get(c, "warrant")))
		json_object_set_new(f, "warrant", copy_field(c, "warrant"));
	fields = canonical(f);
	if (fields == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	custos_custody_event_init(&ev);
	ev.type = "acquired";
	ev.case_ref = case_ref;
	ev.items = item != NULL && item[0] != '\0' ? &item : NULL;
	ev.item_count = ev.items != NULL ? 1 : 0;
	ev.note = json_string_value(json_object_get(c, "description"));
	ev.reason = "acquisition";
	ev.fields_json = fields;
	st = custos_custody_append(NULL, NULL, log_dir, &ev, signer, err);
done:
	json_decref(rep);
	json_decref(f);
	free(fields);
	free(data);
	return st;
}

/* ---- loading the log for checks ---- */

typedef struct rec {
	const char *line;
	size_t len;                 /* with the LF */
	char hash[HEX_SHA256];      /* SHA-256 of the line */
	int64_t seq;
	char prev[HEX_SHA256];
	char type[16];
	char cert[HEX_SHA256];
	int has_answers;
	int has_transfer;  /* received from another log, via a bundle */
	int64_t ans_seq;
	char ans_hash[HEX_SHA256];
	char recorded_at[CUSTOS__RFC3339_MAX];
	char *problem;              /* format or signature problem */
} rec;

typedef struct loaded {
	char *buf;
	size_t len;
	rec *recs;
	custos_merkle_hash *leaves;
	uint64_t n;
	uint64_t torn;              /* bytes after the last LF */
} loaded;

static void loaded_free(loaded *L)
{
	for (uint64_t i = 0; L->recs != NULL && i < L->n; i++)
		free(L->recs[i].problem);
	free(L->recs);
	free(L->leaves);
	free(L->buf);
	memset(L, 0, sizeof(*L));
}

static custos_status load_lines(loaded *L, const char *dir,
		custos_error *err)
{
	size_t off = 0, cap;
	custos_status st;

	memset(L, 0, sizeof(*L));
	if ((st = read_log(&L->buf, &L->len, dir, err)) != CUSTOS_OK)
		return st;
	cap = 1;
	for (const char *q = L->buf, *e = L->buf + L->len;
	     (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
		cap++;
	L->recs = calloc(cap, sizeof(*L->recs));
	L->leaves = calloc(cap, sizeof(*L->leaves));
	if (L->recs == NULL || L->leaves == NULL) {
		loaded_free(L);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	while (off < L->len) {
		char *nl = memchr(L->buf + off, '\n', L->len - off);

		if (nl == NULL) {
			L->torn = L->len - off;
			break;
		}
		L->recs[L->n].line = L->buf + off;
		L->recs[L->n].len = (size_t)(nl - L->buf - off) + 1;
		L->n++;
		off = (size_t)(nl - L->buf) + 1;
	}
	return CUSTOS_OK;
}

static void rec_fail(rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rec_fail(rec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->problem != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&r->problem, fmt, ap) < 0)
		r->problem = NULL;
	va_end(ap);
}

static void copy_str(char *dst, size_t cap, json_t *s)
{
	const char *v = json_string_value(s);

	dst[0] = '\0';
	if (v != NULL && strlen(v) < cap)
		memcpy(dst, v, strlen(v) + 1);
}

/* Hash line i, check it is a canonical record and pull out its fields. */
static void parse_rec(loaded *L, uint64_t i)
{
	rec *r = &L->recs[i];
	json_error_t je;
	json_t *j, *seq, *ans;
	char *again;

	sha256_hex(r->hash, r->line, r->len);
	custos_merkle_leaf_hash(L->leaves[i], r->line, r->len);
	r->seq = -1;
	if (r->len > CUSTOS_CUSTODY_LINE_MAX) {
		rec_fail(r, "line %" PRIu64 " is %zu bytes long; the most is "
			"%u", i, r->len, CUSTOS_CUSTODY_LINE_MAX);
		return;
	}
	j = json_loadb(r->line, r->len - 1, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		rec_fail(r, "line %" PRIu64 " is not a JSON object (%s at "
			"column %d): the record was changed or damaged", i,
			j == NULL ? je.text : "another JSON value",
			j == NULL ? je.column : 0);
		json_decref(j);
		return;
	}
	again = canonical(j);
	if (again == NULL || strlen(again) != r->len - 1 ||
	    memcmp(again, r->line, r->len - 1) != 0 || has_real(j))
		rec_fail(r, "line %" PRIu64 " is not in canonical form (sorted "
			"keys, no whitespace, no floats): it was edited", i);
	free(again);
	seq = json_object_get(j, "seq");
	if (json_is_integer(seq))
		r->seq = json_integer_value(seq);
	copy_str(r->prev, sizeof(r->prev), json_object_get(j, "prev"));
	copy_str(r->type, sizeof(r->type), json_object_get(j, "type"));
	copy_str(r->cert, sizeof(r->cert),
		json_object_get(json_object_get(j, "actor"), "cert_sha256"));
	copy_str(r->recorded_at, sizeof(r->recorded_at),
		json_object_get(j, "recorded_at"));
	if (json_integer_value(json_object_get(j, "v")) !=
			CUSTOS_CUSTODY_FORMAT)
		rec_fail(r, "record %" PRIu64 " has format version other than "
			"%d", i, CUSTOS_CUSTODY_FORMAT);
	else if (r->seq < 0 || r->prev[0] == '\0' || r->type[0] == '\0' ||
		 r->cert[0] == '\0')
		rec_fail(r, "record %" PRIu64 " lacks seq, prev, type or "
			"actor.cert_sha256", i);
	else if (!custos_custody_type_known(r->type))
		rec_fail(r, "record %" PRIu64 " has an unknown type", i);
	{
		/* A cross-border receipt names the bundle it came in. */
		json_t *t = json_object_get(j, "transfer");
		const char *id = json_string_value(json_object_get(t,
			"bundle_id"));
		const char *h = json_string_value(json_object_get(t,
			"transfer_manifest_sha256"));
		size_t k = 0;

		while (h != NULL && k < 64 && ((h[k] >= '0' && h[k] <= '9') ||
		       (h[k] >= 'a' && h[k] <= 'f')))
			k++;
		r->has_transfer = id != NULL && *id != '\0' && h != NULL &&
			k == 64 && h[64] == '\0';
	}
	ans = json_object_get(j, "answers");
	if (ans != NULL) {
		json_t *as = json_object_get(ans, "seq");

		r->has_answers = 1;
		r->ans_seq = json_is_integer(as) ? json_integer_value(as) : -1;
		copy_str(r->ans_hash, sizeof(r->ans_hash),
			json_object_get(ans, "sha256"));
	}
	json_decref(j);
}

/* ---- signatures ---- */

#define CHAIN_CACHE 256

typedef struct chain_entry {
	char fp[HEX_SHA256];
	char *problem; /* NULL: trusted */
} chain_entry;

/* Certificates embedded in signatures, decoded once per distinct set:
 * decoding a certificate's public key costs more than checking a
 * signature, and a log has few signers. */
typedef struct cert_set {
	unsigned char hash[32];
	STACK_OF(X509) *certs;
} cert_set;

typedef struct sig_ctx {
	cert_set sets[CHAIN_CACHE];
	size_t set_count;
	const char *dir;
	loaded *L;
	X509_STORE *store;
	pthread_mutex_t mu;
	chain_entry cache[CHAIN_CACHE];
	size_t cached;
	unsigned threads;
	unsigned index;
	int check_sigs;
} sig_ctx;

static char *chain_problem(X509_STORE *store, X509 *signer,
		STACK_OF(X509) *untrusted)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char *msg = NULL;
	int e;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, signer, untrusted)
			!= 1 ||
	    X509_STORE_CTX_set_default(ctx, "smime_sign") != 1) {
		X509_STORE_CTX_free(ctx);
		return custos__strdup("cannot check the certificate chain");
	}
	/* Validity is checked against the record's time, below. */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
		X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		msg = custos__aprintf("its certificate is not issued by a "
			"trusted CA: %s", X509_verify_cert_error_string(e));
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return msg;
}

static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se;
	char z;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se,
			&z) != 7 || z != 'Z')
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 1;
}

/* One DER element at *p (end at end): its tag, class, whole size. */
static int der_next(const unsigned char **p, const unsigned char *end,
		const unsigned char **start, long *total, long *content,
		int *tag, int *cls)
{
	const unsigned char *q = *p;
	long len = 0;
	int r;

	if (q >= end)
		return 0;
	*start = q;
	r = ASN1_get_object(&q, &len, tag, cls, (long)(end - q));
	if ((r & 0x80) || r == 0x21 || len < 0 || len > end - q)
		return 0; /* an error, or indefinite length: not DER */
	*content = len;
	*total = (long)(q - *start) + len;
	*p = q;
	return 1;
}

/*
 * Split a DER ContentInfo { signedData, [0] SignedData } into the same DER
 * without the SignedData's certificates ([0] IMPLICIT SET OF Certificate),
 * and those certificates' bytes.  0 when it is not shaped so (then the
 * slow path decodes it whole).
 */
typedef struct sd_parts {
	const unsigned char *eci;   /* encapContentInfo element */
	long eci_total;
	const unsigned char *sis;   /* signerInfos SET element */
	long sis_total;
} sd_parts;

static int split_certs(const unsigned char *der, long len,
		unsigned char **out, long *out_len, const unsigned char **cs,
		long *cs_len, sd_parts *parts)
{
	int index = 0;
	const unsigned char *p = der, *end = der + len, *st, *oid, *sd_body;
	const unsigned char *cert_el = NULL;
	long total, clen, oid_total, cert_total = 0, sd_len, sd_new, x_new;
	long outer_new;
	int tag, cls, hdr;
	unsigned char *o, *w;

	if (!der_next(&p, end, &st, &total, &clen, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || total != len)
		return 0;
	if (!der_next(&p, end, &oid, &oid_total, &clen, &tag, &cls) ||
	    tag != V_ASN1_OBJECT)
		return 0;
	p += clen;
	if (!der_next(&p, end, &st, &total, &clen, &tag, &cls) ||
	    cls != V_ASN1_CONTEXT_SPECIFIC || tag != 0 || p + clen != end)
		return 0;
	if (!der_next(&p, end, &st, &total, &sd_len, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || p + sd_len != end)
		return 0;
	sd_body = p;
	while (p < end) {
		const unsigned char *el;

		if (!der_next(&p, end, &el, &total, &clen, &tag, &cls))
			return 0;
		if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
			cert_el = el;
			cert_total = total;
			*cs = p;
			*cs_len = clen;
		} else if (index == 2 && cls == V_ASN1_UNIVERSAL &&
			   tag == V_ASN1_SEQUENCE) {
			parts->eci = el;
			parts->eci_total = total;
		} else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_SET) {
			parts->sis = el;
			parts->sis_total = total;
		}
		index++;
		p += clen;
	}
	if (cert_el == NULL)
		return 0;
	sd_new = sd_len - cert_total;
	x_new = ASN1_object_size(1, (int)sd_new, V_ASN1_SEQUENCE);
	outer_new = oid_total + ASN1_object_size(1, (int)x_new, 0);
	hdr = ASN1_object_size(1, (int)outer_new, V_ASN1_SEQUENCE);
	if (sd_new < 0 || x_new < 0 || hdr < 0)
		return 0;
	o = malloc((size_t)hdr);
	if (o == NULL)
		return 0;
	w = o;
	ASN1_put_object(&w, 1, (int)outer_new, V_ASN1_SEQUENCE,
		V_ASN1_UNIVERSAL);
	memcpy(w, oid, (size_t)oid_total);
	w += oid_total;
	ASN1_put_object(&w, 1, (int)x_new, 0, V_ASN1_CONTEXT_SPECIFIC);
	ASN1_put_object(&w, 1, (int)sd_new, V_ASN1_SEQUENCE,
		V_ASN1_UNIVERSAL);
	memcpy(w, sd_body, (size_t)(cert_el - sd_body));
	w += cert_el - sd_body;
	memcpy(w, cert_el + cert_total,
		(size_t)(end - (cert_el + cert_total)));
	w += end - (cert_el + cert_total);
	if (w - o != hdr) {
		free(o);
		return 0;
	}
	*out = o;
	*out_len = hdr;
	return 1;
}

/* DER of the object identifiers the fast check needs. */
static const unsigned char oid_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	0xf7, 0x0d, 0x01, 0x07, 0x01};
static const unsigned char oid_sha256[] = {0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const unsigned char oid_ecdsa_sha256[] = {0x06, 0x08, 0x2a, 0x86,
	0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const unsigned char oid_content_type[] = {0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03};
static const unsigned char oid_message_digest[] = {0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04};

/* 1 if the element at el (total bytes) starts with the DER oid. */
static int starts_with_oid(const unsigned char *el, long total,
		const unsigned char *oid, size_t oid_len)
{
	const unsigned char *p = el, *st;
	long t, c;
	int tag, cls;

	if (!der_next(&p, el + total, &st, &t, &c, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE)
		return 0;
	return el + total - p >= (long)oid_len &&
		memcmp(p, oid, oid_len) == 0;
}

/* 1 if the SignerIdentifier element is issuerAndSerialNumber of cert. */
static int sid_is(const unsigned char *el, long total, X509 *cert)
{
	unsigned char *name = NULL, *serial = NULL, *want = NULL, *w;
	int nl, sl, body, all, ok = 0;

	nl = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
	sl = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(cert),
		&serial);
	if (nl > 0 && sl > 0) {
		body = nl + sl;
		all = ASN1_object_size(1, body, V_ASN1_SEQUENCE);
		if (all == total && (want = malloc((size_t)all)) != NULL) {
			w = want;
			ASN1_put_object(&w, 1, body, V_ASN1_SEQUENCE,
				V_ASN1_UNIVERSAL);
			memcpy(w, name, (size_t)nl);
			memcpy(w + nl, serial, (size_t)sl);
			ok = memcmp(want, el, (size_t)all) == 0;
		}
	}
	OPENSSL_free(name);
	OPENSSL_free(serial);
	free(want);
	return ok;
}

/*
 * The fast check of the common case, an ECDSA P-256 / SHA-256 CAdES
 * signature by the only certificate in the file: the signed attributes
 * hold exactly one content type (id-data) and one message digest equal to
 * SHA-256(line), and the signature over them (re-tagged as a SET) verifies
 * with the certificate's key.  1 accepts; 0 means "not shown here", and
 * the caller runs OpenSSL's CMS_verify, whose verdict is the one given.
 * It never accepts what CMS signature verification would refuse.
 */
static int fast_verify(const sd_parts *sd, X509 *cert, const char *line,
		size_t line_len)
{
	const unsigned char *p, *end, *st, *si, *attrs = NULL, *sig = NULL;
	const unsigned char *dalg = NULL, *salg = NULL;
	long t, c, attrs_total = 0, sig_len = 0, dalg_total = 0;
	long salg_total = 0;
	int tag, cls, index = 0, md_seen = 0, ct_seen = 0, ok = 0;
	unsigned char digest[32], *tbs;
	EVP_PKEY *pkey;
	EVP_MD_CTX *mctx;

	if (sd->eci == NULL || sd->sis == NULL || cert == NULL)
		return 0;
	/* encapContentInfo: id-data, no content (detached). */
	p = sd->eci;
	if (!der_next(&p, sd->eci + sd->eci_total, &st, &t, &c, &tag, &cls) ||
	    c != (long)sizeof(oid_data) || memcmp(p, oid_data,
		    sizeof(oid_data)) != 0)
		return 0;
	/* signerInfos: exactly one SignerInfo. */
	p = sd->sis;
	end = sd->sis + sd->sis_total;
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls) ||
	    !der_next(&p, end, &si, &t, &c, &tag, &cls) ||
	    tag != V_ASN1_SEQUENCE || si + t != end)
		return 0;
	end = si + t;
	while (p < end) {
		const unsigned char *el;
		long total;

		if (!der_next(&p, end, &el, &total, &c, &tag, &cls))
			return 0;
		if (index == 2) {
			dalg = el;
			dalg_total = total;
		} else if (index == 3 && cls == V_ASN1_CONTEXT_SPECIFIC &&
			   tag == 0) {
			attrs = el;
			attrs_total = total;
		} else if (index == 4) {
			salg = el;
			salg_total = total;
		} else if (index == 5 && cls == V_ASN1_UNIVERSAL &&
			   tag == V_ASN1_OCTET_STRING) {
			sig = p;
			sig_len = c;
		}
		if (index == 1 && (cls != V_ASN1_UNIVERSAL ||
				   tag != V_ASN1_SEQUENCE ||
				   !sid_is(el, total, cert)))
			return 0;
		index++;
		p += c;
	}
	if (dalg == NULL || attrs == NULL || salg == NULL || sig == NULL ||
	    !starts_with_oid(dalg, dalg_total, oid_sha256,
		    sizeof(oid_sha256)) ||
	    !starts_with_oid(salg, salg_total, oid_ecdsa_sha256,
		    sizeof(oid_ecdsa_sha256)))
		return 0;
	/* The signed attributes. */
	sha256_raw(digest, line, line_len);
	p = attrs;
	end = attrs + attrs_total;
	if (!der_next(&p, end, &st, &t, &c, &tag, &cls))
		return 0;
	while (p < end) {
		const unsigned char *a, *q, *aend, *v;
		long at, ac, vt, vc;

		if (!der_next(&p, end, &a, &at, &ac, &tag, &cls) ||
		    tag != V_ASN1_SEQUENCE)
			return 0;
		q = p;
		aend = p + ac;
		p = aend;
		if (starts_with_oid(a, at, oid_message_digest,
				sizeof(oid_message_digest))) {
			q += sizeof(oid_message_digest);
			/* SET { OCTET STRING (32) } and nothing else */
			if (!der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_SET || q + vc != aend ||
			    !der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_OCTET_STRING || vc != 32 ||
			    q + vc != aend || memcmp(q, digest, 32) != 0)
				return 0;
			md_seen++;
		} else if (starts_with_oid(a, at, oid_content_type,
				sizeof(oid_content_type))) {
			q += sizeof(oid_content_type);
			if (!der_next(&q, aend, &v, &vt, &vc, &tag, &cls) ||
			    tag != V_ASN1_SET || q + vc != aend ||
			    vc != (long)sizeof(oid_data) ||
			    memcmp(q, oid_data, sizeof(oid_data)) != 0)
				return 0;
			ct_seen++;
		}
	}
	if (md_seen != 1 || ct_seen != 1)
		return 0;
	/* The signature over the attributes as a SET OF. */
	tbs = malloc((size_t)attrs_total);
	pkey = X509_get0_pubkey(cert);
	mctx = EVP_MD_CTX_new();
	if (tbs != NULL && pkey != NULL && mctx != NULL &&
	    EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		memcpy(tbs, attrs, (size_t)attrs_total);
		tbs[0] = 0x31;
		ok = EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL,
			pkey) == 1 &&
			EVP_DigestVerify(mctx, sig, (size_t)sig_len, tbs,
				(size_t)attrs_total) == 1;
	}
	EVP_MD_CTX_free(mctx);
	free(tbs);
	ERR_clear_error();
	return ok;
}

/* The decoded certificates for these bytes (borrowed from the cache). */
static STACK_OF(X509) *cert_set_get(sig_ctx *c, const unsigned char *cs,
		long cs_len)
{
	unsigned char h[32];
	STACK_OF(X509) *certs = NULL;
	const unsigned char *p = cs, *end = cs + cs_len;

	sha256_raw(h, cs, (size_t)cs_len);
	pthread_mutex_lock(&c->mu);
	for (size_t k = 0; k < c->set_count; k++)
		if (memcmp(c->sets[k].hash, h, 32) == 0) {
			certs = c->sets[k].certs;
			break;
		}
	pthread_mutex_unlock(&c->mu);
	if (certs != NULL)
		return certs;
	certs = sk_X509_new_null();
	while (certs != NULL && p < end) {
		X509 *x = d2i_X509(NULL, &p, (long)(end - p));

		/* Fill OpenSSL's lazily cached extension data now, before
		 * other threads read it. */
		if (x != NULL)
			(void)X509_check_purpose(x, -1, 0);
		if (x == NULL || !sk_X509_push(certs, x)) {
			X509_free(x);
			sk_X509_pop_free(certs, X509_free);
			return NULL;
		}
	}
	pthread_mutex_lock(&c->mu);
	if (certs != NULL && c->set_count < CHAIN_CACHE) {
		memcpy(c->sets[c->set_count].hash, h, 32);
		c->sets[c->set_count].certs = certs;
		c->set_count++;
	} else {
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	return certs;
}

static void check_sig(sig_ctx *c, uint64_t i)
{
	rec *r = &c->L->recs[i];
	char rel[48], *path, fp[HEX_SHA256];
	unsigned char *data = NULL, md[32];
	const unsigned char *p;
	unsigned int mdlen = 32;
	size_t len = 0;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *signers = NULL, *certs = NULL, *shared = NULL;
	BIO *content = NULL;
	X509 *signer;
	char *problem = NULL;
	int found = 0;
	time_t t;

	snprintf(rel, sizeof(rel), "sig/%08" PRIu64 ".p7s", i);
	path = pjoin(c->dir, rel);
	if (path == NULL || custos__read_file_max(path, CUSTOS__PKI_FILE_MAX,
			&data, &len, "signature", NULL) != CUSTOS_OK) {
		rec_fail(r, "record %" PRIu64 ": its signature file %s is "
			"missing or unreadable", i, rel);
		goto done;
	}
	{
		unsigned char *bare = NULL;
		const unsigned char *cs = NULL;
		long bare_len = 0, cs_len = 0;
		sd_parts sd;

		memset(&sd, 0, sizeof(sd));
		if (split_certs(data, (long)len, &bare, &bare_len, &cs,
				&cs_len, &sd) &&
		    (shared = cert_set_get(c, cs, cs_len)) != NULL &&
		    sk_X509_num(shared) == 1 &&
		    fast_verify(&sd, sk_X509_value(shared, 0), r->line,
			    r->len)) {
			free(bare);
			signer = sk_X509_value(shared, 0);
			goto have_signer;
		}
		if (shared != NULL) {
			p = bare;
			cms = d2i_CMS_ContentInfo(NULL, &p, bare_len);
			if (cms != NULL && p != bare + bare_len) {
				CMS_ContentInfo_free(cms);
				cms = NULL;
			}
		}
		free(bare);
	}
	if (cms == NULL) {
		shared = NULL;
		p = data;
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
		if (cms != NULL && p != data + len) {
			CMS_ContentInfo_free(cms);
			cms = NULL;
		}
	}
	if (cms == NULL) {
		rec_fail(r, "record %" PRIu64 ": %s is not a CMS signature", i,
			rel);
		goto done;
	}
	content = BIO_new_mem_buf(r->line, (int)r->len);
	if (content == NULL || CMS_verify(cms, shared, NULL, content, NULL,
			CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		rec_fail(r, "record %" PRIu64 ": signature %s does not match "
			"the record's bytes (the record was changed, or the "
			"signature file belongs to another record)", i, rel);
		goto done;
	}
	signers = CMS_get0_signers(cms);
	signer = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
have_signer:
	if (signer == NULL || X509_digest(signer, EVP_sha256(), md, &mdlen)
			!= 1) {
		rec_fail(r, "record %" PRIu64 ": %s must have exactly one "
			"signer", i, rel);
		goto done;
	}
	hex32(fp, md);
	if (strcmp(fp, r->cert) != 0) {
		char *subj = custos__name_text(X509_get_subject_name(signer));

		rec_fail(r, "record %" PRIu64 ": signed by certificate %.16s... "
			"(%s), not by its actor's certificate %.16s...", i, fp,
			subj != NULL ? subj : "?", r->cert);
		free(subj);
		goto done;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t k = 0; k < c->cached; k++) {
		if (strcmp(c->cache[k].fp, fp) == 0) {
			found = 1;
			if (c->cache[k].problem != NULL)
				problem = custos__strdup(c->cache[k].problem);
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (!found) {
		if (shared == NULL)
			certs = CMS_get1_certs(cms);
		problem = chain_problem(c->store, signer,
			shared != NULL ? shared : certs);
		pthread_mutex_lock(&c->mu);
		if (c->cached < CHAIN_CACHE) {
			memcpy(c->cache[c->cached].fp, fp, sizeof(fp));
			c->cache[c->cached].problem = custos__strdup(problem);
			c->cached++;
		}
		pthread_mutex_unlock(&c->mu);
	}
	if (problem != NULL) {
		rec_fail(r, "record %" PRIu64 ": %s", i, problem);
		goto done;
	}
	if (!parse_rfc3339(r->recorded_at, &t)) {
		rec_fail(r, "record %" PRIu64 ": recorded_at is not an RFC "
			"3339 UTC time", i);
	} else if (X509_cmp_time(X509_get0_notBefore(signer), &t) > 0 ||
		   X509_cmp_time(X509_get0_notAfter(signer), &t) < 0) {
		rec_fail(r, "record %" PRIu64 ": the signer's certificate was "
			"not valid at the recorded time %s", i, r->recorded_at);
	}
done:
	free(problem);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_free(signers);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	free(data);
	free(path);
	ERR_clear_error();
}

typedef struct worker {
	sig_ctx *c;
	unsigned index;
	pthread_t tid;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	loaded *L = w->c->L;

	for (uint64_t i = w->index; i < L->n; i += w->c->threads) {
		parse_rec(L, i);
		if (w->c->check_sigs && L->recs[i].problem == NULL)
			check_sig(w->c, i);
	}
	return NULL;
}

static void run_workers(sig_ctx *c)
{
	worker w[MAX_THREADS];
	int started[MAX_THREADS] = {0};

	memset(w, 0, sizeof(w));
	for (unsigned t = 0; t < c->threads; t++) {
		w[t].c = c;
		w[t].index = t;
	}
	for (unsigned t = 1; t < c->threads; t++)
		started[t] = pthread_create(&w[t].tid, NULL, work, &w[t]) == 0;
	work(&w[0]);
	/* A thread that could not start: its share runs here. */
	for (unsigned t = 1; t < c->threads; t++)
		if (!started[t])
			work(&w[t]);
	for (unsigned t = 1; t < c->threads; t++)
		if (started[t])
			pthread_join(w[t].tid, NULL);
}

/* ---- verification ---- */

typedef struct checkpoint {
	char *path;
	char *label;
	uint64_t size;
	custos_merkle_hash root;
	int matches;
} checkpoint;

struct custos_custody_verification {
	uint64_t records;
	char *root;
	size_t checkpoints;
	char **problems;
	size_t problem_count;
	size_t problem_total;
	char **notes;
	size_t note_count;
};

static void vfail(custos_custody_verification *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vfail(custos_custody_verification *v, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	v->problem_total++;
	if (v->problem_count >= MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		v->problems[v->problem_count++] = s;
}

static void vnote(custos_custody_verification *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vnote(custos_custody_verification *v, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (v->note_count >= MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		v->notes[v->note_count++] = s;
}

static custos_status read_vkey(char **vkey, const char *path,
		custos_error *err)
{
	size_t len = 0;
	custos_status st = read_text(vkey, &len, path, 4096, "verifier key",
		err);

	if (st != CUSTOS_OK)
		return st;
	while (len > 0 && ((*vkey)[len - 1] == '\n' ||
			   (*vkey)[len - 1] == '\r' ||
			   (*vkey)[len - 1] == ' '))
		(*vkey)[--len] = '\0';
	return CUSTOS_OK;
}

static custos_status genesis_info(json_t **out, const loaded *L,
		custos_error *err)
{
	json_error_t je;

	*out = NULL;
	if (L->n == 0)
		return custos__error_set(err, CUSTOS_EFORMAT,
			"the custody log is empty");
	*out = json_loadb(L->recs[0].line, L->recs[0].len - 1, 0, &je);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
	}
	return CUSTOS_OK;
}

static custos_status build_store(X509_STORE **store, const char *dir,
		json_t *genesis, const custos_custody_verify_options *o,
		custos_custody_verification *v, char **owned, size_t *owned_n,
		custos_error *err)
{
	const char *paths[64];
	size_t n = 0;
	json_t *e;
	size_t i;

	*owned_n = 0;
	if (o->trust_count > 0)
		return custos__trust_store(store, o->trust, o->trust_count,
			err);
	json_array_foreach(json_object_get(genesis, "trust"), i, e) {
		const char *file = json_string_value(json_object_get(e, "file"));
		const char *want = json_string_value(json_object_get(e,
			"sha256"));
		char hx[HEX_SHA256], *data = NULL;
		size_t len = 0;

		if (n == 64 || file == NULL || want == NULL ||
		    strncmp(file, "keys/", 5) != 0 || strstr(file, "..") ||
		    strchr(file + 5, '/') != NULL)
			continue;
		owned[n] = pjoin(dir, file);
		if (owned[n] == NULL || read_text(&data, &len, owned[n],
				CUSTOS__PKI_FILE_MAX, "CA", NULL) != CUSTOS_OK) {
			vfail(v, "the pinned CA certificate %s is missing",
				file);
			free(owned[n]);
			continue;
		}
		sha256_hex(hx, data, len);
		free(data);
		if (strcmp(hx, want) != 0) {
			vfail(v, "the CA certificate %s was replaced: its "
				"SHA-256 is not the one pinned in the genesis "
				"record", file);
			free(owned[n]);
			continue;
		}
		paths[n] = owned[n];
		n++;
	}
	if (n == 0) {
		*store = NULL;
		vfail(v, "no trusted CA: the genesis record pins none and no "
			"--trust was given; record signatures cannot be "
			"checked");
		return CUSTOS_OK;
	}
	*owned_n = n;
	return custos__trust_store(store, paths, n, err);
}

/* checkpoints/N.tsr, when present: an RFC 3161 token over N.note. */
static void check_checkpoint_tsrs(custos_custody_verification *v,
		const char *dir, const checkpoint *cps, size_t n,
		const char *const *trust, size_t trust_n)
{
	for (size_t i = 0; i < n; i++) {
		custos_sign_verify_options so;
		custos_sign_verification *sv = NULL;
		char rel[48], *tsr;
		custos_status st;
		custos_error e2;

		if (strncmp(cps[i].label, "checkpoints/", 12) != 0)
			continue;
		snprintf(rel, sizeof(rel), "checkpoints/%" PRIu64 ".tsr",
			cps[i].size);
		tsr = pjoin(dir, rel);
		if (tsr == NULL || !custos__path_exists(tsr)) {
			free(tsr);
			continue;
		}
		custos_sign_verify_options_init(&so);
		so.trust = trust;
		so.trust_count = trust_n;
		so.timestamp_path = tsr;
		st = custos_sign_verify_file(&sv, cps[i].path, &so, &e2);
		if (st != CUSTOS_OK) {
			char safe[256];

			safe_text(safe, sizeof(safe), e2.message,
				strlen(e2.message));
			vfail(v, "%s: its time stamp does not verify: %s",
				rel, safe);
		}
		custos_sign_verification_free(sv);
		free(tsr);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Load and check the signatures of all checkpoints. */
static size_t load_checkpoints(checkpoint **out, const char *dir,
		const char *vkey, const char *origin,
		const custos_custody_verify_options *o,
		custos_custody_verification *v)
{
	checkpoint *cps = calloc(MAX_CHECKPOINTS, sizeof(*cps));
	char *cdir = pjoin(dir, "checkpoints");
	DIR *d = cdir != NULL ? opendir(cdir) : NULL;
	struct dirent *e;
	size_t n = 0, paths = 0;
	char **list = calloc(MAX_CHECKPOINTS, sizeof(char *));
	char **labels = calloc(MAX_CHECKPOINTS, sizeof(char *));

	*out = cps;
	if (cps == NULL || list == NULL || labels == NULL) {
		free(list);
		free(labels);
		free(cdir);
		if (d != NULL)
			closedir(d);
		return 0;
	}
	while (d != NULL && (e = readdir(d)) != NULL &&
	       paths < MAX_CHECKPOINTS) {
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 5, ".note") != 0)
			continue;
		list[paths] = pjoin(cdir, e->d_name);
		labels[paths] = custos__aprintf("checkpoints/%s", e->d_name);
		paths++;
	}
	if (d != NULL)
		closedir(d);
	for (size_t k = 0; k < o->checkpoint_count &&
	     paths < MAX_CHECKPOINTS; k++) {
		list[paths] = custos__strdup(o->checkpoints[k]);
		labels[paths] = custos__aprintf("checkpoint %s",
			o->checkpoints[k]);
		paths++;
	}
	for (size_t k = 0; k < paths; k++) {
		char *note = NULL, *corigin = NULL, safe[160];
		size_t len = 0, tlen = 0;
		custos_error e2;
		checkpoint *cp = &cps[n];

		if (list[k] == NULL || labels[k] == NULL)
			continue;
		safe_text(safe, sizeof(safe), labels[k], strlen(labels[k]));
		if (read_text(&note, &len, list[k], CUSTOS_NOTE_MAX,
				"checkpoint", &e2) != CUSTOS_OK) {
			vfail(v, "%s cannot be read: %s", safe, e2.message);
			continue;
		}
		if (custos_note_verify(&tlen, note, len, vkey, &e2) !=
				CUSTOS_OK) {
			vfail(v, "%s is not signed by the log key (%s): a "
				"wrong log key or a forged checkpoint", safe,
				e2.message);
			free(note);
			continue;
		}
		if (custos_note_checkpoint_parse(&corigin, &cp->size,
				cp->root, note, tlen, &e2) != CUSTOS_OK) {
			vfail(v, "%s: %s", safe, e2.message);
			free(note);
			continue;
		}
		if (origin == NULL || strcmp(corigin, origin) != 0) {
			vfail(v, "%s is for another log (its origin is not "
				"the genesis origin)", safe);
		} else {
			const char *base = custos__basename(list[k]);
			char want[40];

			snprintf(want, sizeof(want), "%" PRIu64 ".note",
				cp->size);
			if (strncmp(labels[k], "checkpoints/", 12) == 0 &&
			    strcmp(base, want) != 0)
				vfail(v, "%s holds a checkpoint for %" PRIu64
					" records; its name says otherwise",
					safe, cp->size);
			cp->label = custos__strdup(safe);
			cp->path = list[k];
			list[k] = NULL;
			n++;
		}
		free(corigin);
		free(note);
	}
	for (size_t k = 0; k < paths; k++) {
		free(list[k]);
		free(labels[k]);
	}
	free(list);
	free(labels);
	free(cdir);
	return n;
}

static void check_checkpoints(custos_custody_verification *v,
		checkpoint *cps, size_t n, const loaded *L)
{
	uint64_t *sizes = calloc(n + 1, sizeof(uint64_t));
	custos_merkle_hash *roots = calloc(n + 1, sizeof(*roots));
	custos_merkle_state s;
	size_t m = 0, k = 0;

	if (sizes == NULL || roots == NULL) {
		vfail(v, "out of memory checking checkpoints");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (cps[i].size <= L->n)
			sizes[m++] = cps[i].size;
	qsort(sizes, m, sizeof(uint64_t), cmp_u64);
	custos_merkle_state_init(&s);
	for (uint64_t i = 0; i <= L->n && k < m; i++) {
		while (k < m && sizes[k] == i) {
			custos_merkle_state_root(&s, roots[k]);
			k++;
		}
		if (i < L->n)
			(void)custos_merkle_state_append(&s, L->leaves[i],
				NULL);
	}
	for (size_t i = 0; i < n; i++) {
		checkpoint *cp = &cps[i];

		if (cp->size > L->n) {
			vfail(v, "truncated: %s, signed by the log key, covers "
				"%" PRIu64 " records but the log has only %"
				PRIu64, cp->label, cp->size, L->n);
			continue;
		}
		for (size_t j = 0; j < m; j++)
			if (sizes[j] == cp->size)
				cp->matches = memcmp(roots[j], cp->root,
					sizeof(cp->root)) == 0;
	}
	/* Two signed checkpoints that disagree are a fork. */
	for (size_t i = 0; i < n; i++) {
		checkpoint *a = &cps[i];
		const checkpoint *good = NULL;

		if (a->size > L->n || a->matches)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (j == i || cps[j].size > L->n)
				continue;
			if (cps[j].size == a->size &&
			    memcmp(cps[j].root, a->root, sizeof(a->root)) != 0) {
				good = &cps[j];
				break;
			}
			if (cps[j].matches && cps[j].size >= a->size)
				good = &cps[j];
		}
		if (good != NULL)
			vfail(v, "fork: %s and %s are both signed by the log "
				"key but do not describe the same history (the "
				"first %" PRIu64 " records differ)", a->label,
				good->label, a->size);
		else
			vfail(v, "%s does not match the log: the tree head "
				"of the first %" PRIu64 " records differs, so "
				"records up to it were changed, removed or "
				"reordered", a->label, a->size);
	}
done:
	free(sizes);
	free(roots);
}

static void check_chain_order(custos_custody_verification *v,
		const loaded *L)
{
	char empty[HEX_SHA256];

	sha256_hex(empty, "", 0);
	for (uint64_t i = 0; i < L->n; i++) {
		const rec *r = &L->recs[i];

		if (r->seq < 0)
			continue; /* reported as unreadable */
		if ((uint64_t)r->seq != i) {
			if (i > 0 && (uint64_t)r->seq == i - 1 &&
			    r->len == L->recs[i - 1].len &&
			    memcmp(r->line, L->recs[i - 1].line, r->len) == 0)
				vfail(v, "line %" PRIu64 " repeats record %"
					PRId64 ": a duplicated line", i,
					r->seq);
			else if ((uint64_t)r->seq > i) {
				uint64_t k;

				for (k = i + 1; k < L->n; k++)
					if (L->recs[k].seq == (int64_t)i)
						break;
				if (k < L->n)
					vfail(v, "line %" PRIu64 " holds record "
						"%" PRId64 " and record %" PRIu64
						" is at line %" PRIu64 ": the "
						"lines were reordered", i,
						r->seq, i, k);
				else if ((uint64_t)r->seq == i + 1)
					vfail(v, "line %" PRIu64 " holds record "
						"%" PRId64 ": record %" PRIu64
						" was deleted", i, r->seq, i);
				else
					vfail(v, "line %" PRIu64 " holds record "
						"%" PRId64 ": records %" PRIu64
						" to %" PRId64 " were deleted",
						i, r->seq, i, r->seq - 1);
			}
			else
				vfail(v, "line %" PRIu64 " holds record %"
					PRId64 ": the lines were reordered or "
					"duplicated", i, r->seq);
			continue;
		}
		if (strcmp(r->prev, i == 0 ? empty : L->recs[i - 1].hash) != 0)
			vfail(v, "record %" PRIu64 ": prev is not the SHA-256 "
				"of line %" PRIu64 " (that line was changed, "
				"or a line was removed or inserted before "
				"it)", i, i == 0 ? 0 : i - 1);
		if ((i == 0) != (strcmp(r->type, "genesis") == 0))
			vfail(v, "record %" PRIu64 ": %s", i, i == 0
				? "the first record is not the genesis record"
				: "a genesis record after the first");
	}
}

static void check_transfers(custos_custody_verification *v,
		const loaded *L)
{
	for (uint64_t i = 0; i < L->n; i++) {
		const rec *r = &L->recs[i];
		const rec *a;

		if (strcmp(r->type, "received") != 0)
			continue;
		/* Released in another state's log: nothing here to match. */
		if (!r->has_answers && r->has_transfer)
			continue;
		if (!r->has_answers || r->ans_seq < 0 ||
		    (uint64_t)r->ans_seq >= i) {
			vfail(v, "record %" PRIu64 " (received) answers no "
				"earlier released record", i);
			continue;
		}
		a = &L->recs[r->ans_seq];
		if (strcmp(a->type, "released") != 0)
			vfail(v, "record %" PRIu64 " (received) answers record "
				"%" PRId64 ", which is %s, not a release: a "
				"receive with no matching release", i,
				r->ans_seq, custos_custody_type_known(a->type)
				? a->type : "not a valid record");
		else if (strcmp(a->hash, r->ans_hash) != 0)
			vfail(v, "record %" PRIu64 " (received) answers record "
				"%" PRId64 " but names another SHA-256 for it",
				i, r->ans_seq);
	}
}

static void orphan_notes(custos_custody_verification *v, const char *dir,
		uint64_t n)
{
	char *sdir = pjoin(dir, "sig");
	DIR *d = sdir != NULL ? opendir(sdir) : NULL;
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end;
		unsigned long long k;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		k = strtoull(e->d_name, &end, 10);
		if (strcmp(end, ".p7s") == 0 && k >= n)
			vnote(v, "sig/%s belongs to no record (an interrupted "
				"append); the next append moves it to "
				"quarantine/", e->d_name);
	}
	if (d != NULL)
		closedir(d);
	free(sdir);
}

custos_status custos_custody_verify(custos_custody_verification **out,
		const char *dir, const custos_custody_verify_options *opts,
		custos_error *err)
{
	custos_custody_verify_options defaults;
	custos_custody_verification *v;
	char *vkey = NULL, *vkey_path = NULL, *log_vkey = NULL;
	json_t *genesis = NULL;
	checkpoint *cps = NULL;
	size_t ncp = 0;
	loaded L;
	sig_ctx *c = NULL;
	custos_merkle_hash root;
	custos_status st;
	char *owned[64];
	size_t owned_n = 0;
	long cores;

	if (out == NULL || dir == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_verify: NULL argument");
	*out = NULL;
	if (opts == NULL) {
		custos_custody_verify_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->version != CUSTOS_CUSTODY_VERIFY_OPTIONS_VERSION)
		return custos__error_set(err, CUSTOS_EINVAL,
			"unknown verify options version");
	if ((st = load_lines(&L, dir, err)) != CUSTOS_OK)
		return st;
	v = calloc(1, sizeof(*v));
	c = calloc(1, sizeof(*c));
	if (v == NULL || c == NULL ||
	    (v->problems = calloc(MAX_PROBLEMS, sizeof(char *))) == NULL ||
	    (v->notes = calloc(MAX_PROBLEMS, sizeof(char *))) == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((st = genesis_info(&genesis, &L, err)) != CUSTOS_OK)
		goto fail;
	/* The log key: the one the verifier trusts, else keys/log.vkey. */
	vkey_path = pjoin(dir, "keys/log.vkey");
	if (vkey_path == NULL ||
	    (st = read_vkey(&log_vkey, vkey_path, err)) != CUSTOS_OK)
		goto fail;
	if (opts->vkey_path != NULL) {
		if ((st = read_vkey(&vkey, opts->vkey_path, err)) != CUSTOS_OK)
			goto fail;
	} else if ((vkey = custos__strdup(log_vkey)) == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto fail;
	}
	{
		char name[CUSTOS_NOTE_NAME_MAX];
		custos_error e2;
		const char *gk = json_string_value(json_object_get(genesis,
			"log_key"));

		if (custos_note_vkey_parse(vkey, name, &e2) != CUSTOS_OK) {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"the log key: %s", e2.message);
			goto fail;
		}
		if (gk == NULL || strcmp(gk, vkey) != 0)
			vfail(v, "wrong log key: the genesis record names a "
				"different log key than %s",
				opts->vkey_path != NULL ? "the one you trust"
					: "keys/log.vkey");
		else if (strcmp(log_vkey, vkey) != 0)
			vfail(v, "wrong log key: keys/log.vkey is not the "
				"log key of the genesis record");
	}
	if ((st = build_store(&c->store, dir, genesis, opts, v, owned,
			&owned_n, err)) != CUSTOS_OK)
		goto fail;
	/* Per record, in parallel: hash, parse, signature. */
	c->dir = dir;
	c->L = &L;
	c->check_sigs = c->store != NULL;
	if (c->store != NULL) {
		/* The trusted certificates are shared by the threads: fill
		 * their lazily cached extension data first. */
		STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(c->store);

		for (int k = 0; k < sk_X509_OBJECT_num(objs); k++) {
			X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(
				objs, k));

			if (x != NULL)
				(void)X509_check_purpose(x, -1, 0);
		}
	}
	pthread_mutex_init(&c->mu, NULL);
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	c->threads = opts->threads != 0 ? opts->threads
		: cores > 0 ? (unsigned)cores : 1;
	if (c->threads > MAX_THREADS)
		c->threads = MAX_THREADS;
	if ((uint64_t)c->threads > L.n)
		c->threads = L.n > 0 ? (unsigned)L.n : 1;
	run_workers(c);
	pthread_mutex_destroy(&c->mu);
	for (uint64_t i = 0; i < L.n; i++)
		if (L.recs[i].problem != NULL)
			vfail(v, "%s", L.recs[i].problem);
	check_chain_order(v, &L);
	check_transfers(v, &L);
	ncp = load_checkpoints(&cps, dir, vkey,
		json_string_value(json_object_get(genesis, "origin")), opts, v);
	check_checkpoints(v, cps, ncp, &L);
	if (opts->trust_count > 0)
		check_checkpoint_tsrs(v, dir, cps, ncp, opts->trust,
			opts->trust_count);
	else
		check_checkpoint_tsrs(v, dir, cps, ncp,
			(const char *const *)owned, owned_n);
	v->checkpoints = ncp;
	if (L.torn > 0)
		vfail(v, "torn last line: %" PRIu64 " bytes after the last LF "
			"(an interrupted append); custos-log recover moves it "
			"to quarantine/", L.torn);
	orphan_notes(v, dir, L.n);
	v->records = L.n;
	custos_merkle_root(root, L.leaves, L.n);
	v->root = custos__b64_encode(root, sizeof(root));
	st = v->problem_total == 0 ? CUSTOS_OK : CUSTOS_EMISMATCH;
	if (st != CUSTOS_OK)
		custos__error_set(err, st, "%s", v->problems[0] != NULL
			? v->problems[0] : "the custody log does not verify");
	*out = v;
	v = NULL;
fail:
	for (size_t i = 0; i < ncp; i++) {
		free(cps[i].path);
		free(cps[i].label);
	}
	free(cps);
	if (c != NULL) {
		for (size_t i = 0; i < c->cached; i++)
			free(c->cache[i].problem);
		for (size_t i = 0; i < c->set_count; i++)
			sk_X509_pop_free(c->sets[i].certs, X509_free);
		X509_STORE_free(c->store);
		free(c);
	}
	custos_custody_verification_free(v);
	for (size_t i = 0; i < owned_n; i++)
		free(owned[i]);
	json_decref(genesis);
	free(vkey);
	free(log_vkey);
	free(vkey_path);
	loaded_free(&L);
	return st;
}

uint64_t custos_custody_verification_records(
		const custos_custody_verification *v) { return v->records; }
const char *custos_custody_verification_root(
		const custos_custody_verification *v) { return v->root; }
size_t custos_custody_verification_checkpoints(
		const custos_custody_verification *v) { return v->checkpoints; }
size_t custos_custody_verification_problem_count(
		const custos_custody_verification *v)
{
	return v->problem_count;
}
const char *custos_custody_verification_problem(
		const custos_custody_verification *v, size_t i)
{
	return i < v->problem_count ? v->problems[i] : NULL;
}
size_t custos_custody_verification_note_count(
		const custos_custody_verification *v) { return v->note_count; }
const char *custos_custody_verification_note(
		const custos_custody_verification *v, size_t i)
{
	return i < v->note_count ? v->notes[i] : NULL;
}

void custos_custody_verification_free(custos_custody_verification *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v->problems != NULL && i < v->problem_count; i++)
		free(v->problems[i]);
	for (size_t i = 0; v->notes != NULL && i < v->note_count; i++)
		free(v->notes[i]);
	free(v->problems);
	free(v->notes);
	free(v->root);
	free(v);
}

/* ---- checkpoints and proofs ---- */

/* Load, parse and chain-check the log (no signatures); the first problem
 * refuses.  *genesis gets the genesis record. */
static custos_status load_checked(loaded *L, json_t **genesis,
		const char *dir, custos_error *err)
{
	custos_custody_verification v;
	char *probs[MAX_PROBLEMS], *notes[MAX_PROBLEMS];
	sig_ctx *c;
	custos_status st;

	*genesis = NULL;
	if ((st = load_lines(L, dir, err)) != CUSTOS_OK)
		return st;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		loaded_free(L);
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	}
	c->dir = dir;
	c->L = L;
	c->threads = 1;
	run_workers(c);
	free(c);
	memset(&v, 0, sizeof(v));
	v.problems = probs;
	v.notes = notes;
	for (uint64_t i = 0; i < L->n; i++)
		if (L->recs[i].problem != NULL)
			vfail(&v, "%s", L->recs[i].problem);
	check_chain_order(&v, L);
	if (L->torn > 0)
		vfail(&v, "the log ends in a torn line (custos-log recover)");
	if (v.problem_total == 0 &&
	    (st = genesis_info(genesis, L, err)) != CUSTOS_OK) {
		loaded_free(L);
		return st;
	}
	if (v.problem_total > 0 || *genesis == NULL) {
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"the log does not verify: %s", v.problem_count > 0
			? probs[0] : "no genesis record");
		for (size_t i = 0; i < v.problem_count; i++)
			free(probs[i]);
		for (size_t i = 0; i < v.note_count; i++)
			free(notes[i]);
		json_decref(*genesis);
		*genesis = NULL;
		loaded_free(L);
		return st;
	}
	return CUSTOS_OK;
}

/* Every checkpoint in the log must be signed and a prefix of it. */
static custos_status checkpoints_agree(checkpoint **cps, size_t *n,
		const char *dir, const char *vkey, const char *origin,
		const loaded *L, custos_error *err)
{
	custos_custody_verification v;
	char *probs[MAX_PROBLEMS], *notes[MAX_PROBLEMS];
	custos_custody_verify_options o;
	custos_status st = CUSTOS_OK;

	custos_custody_verify_options_init(&o);
	memset(&v, 0, sizeof(v));
	v.problems = probs;
	v.notes = notes;
	*n = load_checkpoints(cps, dir, vkey, origin, &o, &v);
	check_checkpoints(&v, *cps, *n, L);
	if (v.problem_total > 0)
		st = custos__error_set(err, CUSTOS_EMISMATCH,
			"the log does not verify: %s", v.problem_count > 0
			? probs[0] : "bad checkpoint");
	for (size_t i = 0; i < v.problem_count; i++)
		free(probs[i]);
	for (size_t i = 0; i < v.note_count; i++)
		free(notes[i]);
	return st;
}

static void checkpoints_free(checkpoint *cps, size_t n)
{
	for (size_t i = 0; cps != NULL && i < n; i++) {
		free(cps[i].path);
		free(cps[i].label);
	}
	free(cps);
}

custos_status custos_custody_checkpoint(char **note_path, const char *dir,
		const char *log_key_path, const char *tsa_url,
		custos_error *err)
{
	loaded L;
	json_t *genesis = NULL;
	checkpoint *cps = NULL;
	size_t ncp = 0;
	char *vkey = NULL, *mine = NULL, *vpath = NULL, *text = NULL;
	char *note = NULL, *path = NULL, rel[48];
	const char *origin;
	custos_merkle_hash root;
	custos_status st;

	if (note_path != NULL)
		*note_path = NULL;
	if (dir == NULL || log_key_path == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a checkpoint needs the log folder and the log key");
	if ((st = load_checked(&L, &genesis, dir, err)) != CUSTOS_OK)
		return st;
	origin = json_string_value(json_object_get(genesis, "origin"));
	vpath = pjoin(dir, "keys/log.vkey");
	if (origin == NULL || vpath == NULL) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"the genesis record has no origin");
		goto done;
	}
	if ((st = read_vkey(&vkey, vpath, err)) != CUSTOS_OK ||
	    (st = custos_note_vkey_of(&mine, origin, log_key_path, err)) !=
		    CUSTOS_OK)
		goto done;
	if (strcmp(mine, vkey) != 0 ||
	    strcmp(vkey, json_string_value(json_object_get(genesis,
		    "log_key")) != NULL ? json_string_value(
		    json_object_get(genesis, "log_key")) : "") != 0) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"%s is not this log's key (keys/log.vkey and the "
			"genesis record name another)", log_key_path);
		goto done;
	}
	if ((st = checkpoints_agree(&cps, &ncp, dir, vkey, origin, &L, err)) !=
			CUSTOS_OK)
		goto done;
	custos_merkle_root(root, L.leaves, L.n);
	snprintf(rel, sizeof(rel), "checkpoints/%" PRIu64 ".note", L.n);
	path = pjoin(dir, rel);
	if (path == NULL ||
	    (st = custos_note_checkpoint_text(&text, origin, L.n, root, err)) !=
		    CUSTOS_OK)
		goto done;
	if (custos__path_exists(path)) {
		/* It agrees with the log (checked above): nothing to do. */
		st = CUSTOS_OK;
	} else if ((st = custos_note_sign(&note, text, strlen(text), origin,
			log_key_path, err)) != CUSTOS_OK ||
		   (st = custos__write_file_atomic(path, note, strlen(note),
			   err)) != CUSTOS_OK) {
		goto done;
	}
	if (tsa_url != NULL) {
		custos_tsa_options to;
		char *tsr = custos__aprintf("%s/checkpoints/%" PRIu64 ".tsr",
			dir, L.n);

		custos_tsa_options_init(&to);
		to.url = tsa_url;
		if (tsr == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
		else if (!custos__path_exists(tsr))
			st = custos_timestamp_file_to(path, tsr, &to, err);
		free(tsr);
	}
	if (st == CUSTOS_OK && note_path != NULL) {
		*note_path = path;
		path = NULL;
	}
done:
	checkpoints_free(cps, ncp);
	json_decref(genesis);
	loaded_free(&L);
	free(vkey);
	free(mine);
	free(vpath);
	free(text);
	free(note);
	free(path);
	return st;
}

static custos_status append_hashes(char **out, custos_merkle_hash *h,
		size_t n, custos_error *err)
{
	for (size_t i = 0; i < n; i++) {
		char *b = custos__b64_encode(h[i], CUSTOS_MERKLE_HASH_SIZE);
		char *s = b != NULL ? custos__aprintf("%s%s\n", *out, b) : NULL;

		free(b);
		free(*out);
		*out = s;
		if (s == NULL)
			return custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
	return CUSTOS_OK;
}

/* The checkpoint to prove against: checkpoints/<size>.note, checked. */
static custos_status pick_checkpoint(char **note, const char *dir,
		const char *given, uint64_t want_above, uint64_t exact,
		const checkpoint *cps, size_t ncp, custos_error *err)
{
	const checkpoint *best = NULL;
	size_t len = 0;

	*note = NULL;
	if (given != NULL)
		return read_text(note, &len, given, CUSTOS_NOTE_MAX,
			"checkpoint", err);
	for (size_t i = 0; i < ncp; i++) {
		if (exact != 0 ? cps[i].size != exact
			       : cps[i].size <= want_above)
			continue;
		if (best == NULL || cps[i].size < best->size)
			best = &cps[i];
	}
	(void)dir;
	if (best == NULL)
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			exact != 0 ? "no checkpoint for %" PRIu64 " records; "
			"make one with custos-log checkpoint"
			: "no checkpoint covers record %" PRIu64 " yet; make "
			"one with custos-log checkpoint",
			exact != 0 ? exact : want_above);
	return read_text(note, &len, best->path, CUSTOS_NOTE_MAX,
		"checkpoint", err);
}

static custos_status note_tree(uint64_t *size, custos_merkle_hash root,
		const char *note, const char *vkey, custos_error *err)
{
	size_t tlen;
	char *origin = NULL;
	custos_status st;

	if ((st = custos_note_verify(&tlen, note, strlen(note), vkey, err)) !=
			CUSTOS_OK)
		return st;
	st = custos_note_checkpoint_parse(&origin, size, root, note, tlen,
		err);
	free(origin);
	return st;
}

static custos_status prove_setup(loaded *L, char **vkey, checkpoint **cps,
		size_t *ncp, const char *dir, custos_error *err)
{
	json_t *genesis = NULL;
	char *vpath;
	custos_status st;

	*vkey = NULL;
	*cps = NULL;
	*ncp = 0;
	if ((st = load_checked(L, &genesis, dir, err)) != CUSTOS_OK)
		return st;
	vpath = pjoin(dir, "keys/log.vkey");
	if (vpath == NULL)
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	else if ((st = read_vkey(vkey, vpath, err)) == CUSTOS_OK)
		st = checkpoints_agree(cps, ncp, dir, *vkey,
			json_string_value(json_object_get(genesis, "origin")),
			L, err);
	free(vpath);
	json_decref(genesis);
	if (st != CUSTOS_OK) {
		checkpoints_free(*cps, *ncp);
		*cps = NULL;
		*ncp = 0;
		free(*vkey);
		*vkey = NULL;
		loaded_free(L);
	}
	return st;
}

custos_status custos_custody_prove_inclusion(char **proof, const char *dir,
		uint64_t seq, const char *checkpoint_path, custos_error *err)
{
	loaded L;
	checkpoint *cps;
	size_t ncp, count;
	char *vkey, *note = NULL, *extra = NULL;
	custos_merkle_hash path[CUSTOS_MERKLE_PROOF_MAX], root;
	uint64_t size;
	custos_status st;

	*proof = NULL;
	if ((st = prove_setup(&L, &vkey, &cps, &ncp, dir, err)) != CUSTOS_OK)
		return st;
	if (seq >= L.n) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"the log has no record %" PRIu64, seq);
		goto done;
	}
	if ((st = pick_checkpoint(&note, dir, checkpoint_path, seq, 0, cps,
			ncp, err)) != CUSTOS_OK ||
	    (st = note_tree(&size, root, note, vkey, err)) != CUSTOS_OK)
		goto done;
	if (size <= seq || size > L.n) {
		st = custos__error_set(err, CUSTOS_EINVAL,
			"the checkpoint (%" PRIu64 " records) does not cover "
			"record %" PRIu64 " of this log", size, seq);
		goto done;
	}
	if ((st = custos_merkle_inclusion_proof(path, &count, L.leaves, size,
			seq, err)) != CUSTOS_OK)
		goto done;
	{
		custos_merkle_hash check;

		custos_merkle_root(check, L.leaves, size);
		if (memcmp(check, root, sizeof(root)) != 0) {
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"the checkpoint does not match the log");
			goto done;
		}
	}
	extra = custos__b64_encode(L.recs[seq].line, L.recs[seq].len);
	*proof = extra != NULL ? custos__aprintf("c2sp.org/tlog-proof@v1\n"
		"extra %s\nindex %" PRIu64 "\n", extra, seq) : NULL;
	if (*proof == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = append_hashes(proof, path, count, err)) == CUSTOS_OK) {
		char *s = custos__aprintf("%s\n%s", *proof, note);

		free(*proof);
		*proof = s;
		if (s == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
done:
	if (st != CUSTOS_OK) {
		free(*proof);
		*proof = NULL;
	}
	free(extra);
	free(note);
	free(vkey);
	checkpoints_free(cps, ncp);
	loaded_free(&L);
	return st;
}

#define CONSISTENCY_HEADER "custos.consistency-proof@v1"

custos_status custos_custody_prove_consistency(char **proof,
		const char *dir, uint64_t from, uint64_t to, custos_error *err)
{
	loaded L;
	checkpoint *cps;
	size_t ncp, count;
	char *vkey, *old = NULL, *new = NULL, *old64 = NULL;
	custos_merkle_hash path[CUSTOS_MERKLE_PROOF_MAX];
	custos_status st;

	*proof = NULL;
	if (from == 0 || from > to)
		return custos__error_set(err, CUSTOS_EINVAL,
			"a consistency proof needs 0 < FROM <= TO");
	if ((st = prove_setup(&L, &vkey, &cps, &ncp, dir, err)) != CUSTOS_OK)
		return st;
	if (to > L.n) {
		st = custos__error_set(err, CUSTOS_ENOTFOUND,
			"the log has only %" PRIu64 " records", L.n);
		goto done;
	}
	if ((st = pick_checkpoint(&old, dir, NULL, 0, from, cps, ncp, err)) !=
			CUSTOS_OK ||
	    (st = pick_checkpoint(&new, dir, NULL, 0, to, cps, ncp, err)) !=
		    CUSTOS_OK ||
	    (st = custos_merkle_consistency_proof(path, &count, L.leaves, from,
		    to, err)) != CUSTOS_OK)
		goto done;
	old64 = custos__b64_encode(old, strlen(old));
	*proof = old64 != NULL ? custos__aprintf(CONSISTENCY_HEADER "\nold %s\n",
		old64) : NULL;
	if (*proof == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = append_hashes(proof, path, count, err)) == CUSTOS_OK) {
		char *s = custos__aprintf("%s\n%s", *proof, new);

		free(*proof);
		*proof = s;
		if (s == NULL)
			st = custos__error_set(err, CUSTOS_ENOMEM,
				"out of memory");
	}
done:
	if (st != CUSTOS_OK) {
		free(*proof);
		*proof = NULL;
	}
	free(old64);
	free(old);
	free(new);
	free(vkey);
	checkpoints_free(cps, ncp);
	loaded_free(&L);
	return st;
}

/* Next line of text at *p (without LF) into line/len; 0 at the end. */
static int next_line(const char **p, const char *end, const char **line,
		size_t *len)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		return 0;
	*line = *p;
	*len = (size_t)(nl - *p);
	*p = nl + 1;
	return 1;
}

custos_status custos_custody_check_proof(char **summary, const char *proof,
		size_t len, const char *vkey, custos_error *err)
{
	const char *p = proof, *end = proof + len, *line;
	size_t ll, count = 0;
	custos_merkle_hash hashes[CUSTOS_MERKLE_PROOF_MAX], root, root1;
	unsigned char *extra = NULL;
	char *note = NULL, *old = NULL, *origin = NULL;
	long extra_len = -1;
	uint64_t index = 0, size = 0, size1 = 0;
	int inclusion, have_index = 0;
	custos_status st;
	size_t tlen;

	if (summary != NULL)
		*summary = NULL;
	if (proof == NULL || vkey == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"custos_custody_check_proof: NULL argument");
	if (len > 4 * CUSTOS_NOTE_MAX + 4 * CUSTOS_CUSTODY_LINE_MAX ||
	    memchr(proof, '\0', len) != NULL || !next_line(&p, end, &line, &ll))
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a proof (empty, too long or binary)");
	if (ll == 22 && memcmp(line, "c2sp.org/tlog-proof@v1", 22) == 0)
		inclusion = 1;
	else if (ll == strlen(CONSISTENCY_HEADER) &&
		 memcmp(line, CONSISTENCY_HEADER, ll) == 0)
		inclusion = 0;
	else
		return custos__error_set(err, CUSTOS_EFORMAT,
			"not a c2sp.org/tlog-proof@v1 or " CONSISTENCY_HEADER
			" proof");
	while (next_line(&p, end, &line, &ll) && ll > 0) {
		if (inclusion && ll > 6 && memcmp(line, "extra ", 6) == 0 &&
		    extra == NULL && !have_index) {
			extra = malloc(ll);
			if (extra == NULL)
				return custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
			extra_len = custos__b64_decode(extra, ll, line + 6,
				ll - 6);
			if (extra_len < 0) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad extra line");
				goto done;
			}
		} else if (inclusion && ll > 6 &&
			   memcmp(line, "index ", 6) == 0 && !have_index) {
			char buf[24], *e;

			if (ll - 6 >= sizeof(buf) || line[6] < '0' ||
			    line[6] > '9') {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad index");
				goto done;
			}
			memcpy(buf, line + 6, ll - 6);
			buf[ll - 6] = '\0';
			index = strtoull(buf, &e, 10);
			if (*e != '\0') {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad index");
				goto done;
			}
			have_index = 1;
		} else if (!inclusion && ll > 4 &&
			   memcmp(line, "old ", 4) == 0 && old == NULL) {
			long n;

			old = malloc(ll + 1);
			if (old == NULL) {
				st = custos__error_set(err, CUSTOS_ENOMEM,
					"out of memory");
				goto done;
			}
			n = custos__b64_decode((unsigned char *)old, ll,
				line + 4, ll - 4);
			if (n < 0) {
				st = custos__error_set(err, CUSTOS_EFORMAT,
					"proof: bad old checkpoint");
				goto done;
			}
			old[n] = '\0';
		} else if (count < CUSTOS_MERKLE_PROOF_MAX &&
			   custos__b64_decode(hashes[count], 32, line, ll) ==
				   32 && (have_index || old != NULL)) {
			count++;
		} else {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"proof: unexpected line");
			goto done;
		}
	}
	if ((inclusion && !have_index) || (!inclusion && old == NULL)) {
		st = custos__error_set(err, CUSTOS_EFORMAT,
			"proof: no index or old checkpoint");
		goto done;
	}
	note = strndup(p, (size_t)(end - p));
	if (note == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto done;
	}
	if ((st = custos_note_verify(&tlen, note, strlen(note), vkey, err)) !=
			CUSTOS_OK ||
	    (st = custos_note_checkpoint_parse(&origin, &size, root, note,
		    tlen, err)) != CUSTOS_OK)
		goto done;
	if (inclusion) {
		custos_merkle_hash leaf;
		json_t *r;
		json_error_t je;

		if (extra == NULL || extra_len < 1 ||
		    extra[extra_len - 1] != '\n') {
			st = custos__error_set(err, CUSTOS_EFORMAT,
				"proof: no record line in the extra data");
			goto done;
		}
		r = json_loadb((const char *)extra, (size_t)extra_len - 1, 0,
			&je);
		if (json_integer_value(json_object_get(r, "seq")) !=
				(json_int_t)index || !json_is_object(r)) {
			json_decref(r);
			st = custos__error_set(err, CUSTOS_EMISMATCH,
				"proof: the record is not record %" PRIu64,
				index);
			goto done;
		}
		custos_merkle_leaf_hash(leaf, extra, (size_t)extra_len);
		st = custos_merkle_verify_inclusion(index, size, leaf, hashes,
			count, root, err);
		if (st == CUSTOS_EFORMAT)
			st = CUSTOS_EMISMATCH;
		if (st == CUSTOS_OK && summary != NULL) {
			char safe[256];
			const char *t = json_string_value(json_object_get(r,
				"type"));

			safe_text(safe, sizeof(safe), origin, strlen(origin));
			*summary = custos__aprintf("record %" PRIu64 " (%s) is "
				"in log %s of %" PRIu64 " records, checkpoint "
				"signed by the log key", index,
				t != NULL && custos_custody_type_known(t) ? t
									   : "?",
				safe, size);
		}
		json_decref(r);
	} else {
		char *o2 = NULL;

		if ((st = note_tree(&size1, root1, old, vkey, err)) !=
				CUSTOS_OK)
			goto done;
		(void)o2;
		st = custos_merkle_verify_consistency(size1, size, root1, root,
			hashes, count, err);
		if (st == CUSTOS_EFORMAT)
			st = CUSTOS_EMISMATCH;
		if (st == CUSTOS_OK && summary != NULL)
			*summary = custos__aprintf("the log of %" PRIu64
				" records extends the log of %" PRIu64
				" records: both checkpoints signed by the log "
				"key", size, size1);
	}
done:
	free(extra);
	free(note);
	free(old);
	free(origin);
	return st;
}
