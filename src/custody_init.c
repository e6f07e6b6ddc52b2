/*
 * Making a custody log: the folder and its subfolders, the Ed25519 log key
 * (kept outside the folder, by default under ~/.config/custos/log-keys/),
 * the pinned CA certificates copied into keys/, the genesis record,
 * VERIFY.md and the first checkpoint.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "custody_private.h"
#include "cert_private.h"
#include "custos/cert.h"
#include "custos/note.h"
#include "error_private.h"
#include "json_private.h"

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

/* ---- init ---- */

static custos_status write_text(const char *dir, const char *name,
		const char *text, custos_error *err)
{
	char *path = custos__custody_path(dir, name);
	custos_status st;

	if (path == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	st = custos__write_file_atomic(path, text, strlen(text), err);
	free(path);
	return st;
}

static custos_status write_verify_md(const char *dir, custos_error *err)
{
	size_t len = 1, o = 0;
	custos_status st;
	char *text;

	for (size_t i = 0; custos__custody_verify_md[i] != NULL; i++)
		len += strlen(custos__custody_verify_md[i]);
	if ((text = malloc(len)) == NULL)
		return custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
	for (size_t i = 0; custos__custody_verify_md[i] != NULL; i++) {
		size_t n = strlen(custos__custody_verify_md[i]);

		memcpy(text + o, custos__custody_verify_md[i], n);
		o += n;
	}
	text[o] = '\0';
	st = write_text(dir, "VERIFY.md", text, err);
	free(text);
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
	custos__custody_actor a;

	if (dir == NULL || origin == NULL)
		return custos__error_set(err, CUSTOS_EINVAL,
			"init needs a folder and an origin");
	/* The actor must be able to sign before anything is made. */
	if ((st = custos__custody_actor_load(&a, actor, err)) != CUSTOS_OK)
		return st;
	custos__custody_actor_free(&a);
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
		char *p = custos__custody_path(dir, subdirs[i]);

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
		if ((st = custos__read_text(&data, &len, trust[i],
				CUSTOS__PKI_FILE_MAX, "CA certificate", err)) !=
				CUSTOS_OK)
			goto done;
		snprintf(name, sizeof(name), "keys/ca-%u.pem",
			(unsigned)(i % 1000));
		custos__custody_sha256_hex(hx, data, len);
		st = write_text(dir, name, data, err);
		free(data);
		if (st != CUSTOS_OK)
			goto done;
		json_array_append_new(list, json_pack("{s:s,s:s}", "file",
			name, "sha256", hx));
	}
	g = json_pack("{s:s,s:s,s:O}", "origin", origin, "log_key", vkey,
		"trust", list);
	fields = g != NULL ? custos__json_canonical(g) : NULL;
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
	if ((st = custos__custody_append_event(NULL, NULL, dir, &ev, actor, 1,
			0, NULL, err)) != CUSTOS_OK ||
	    (st = write_verify_md(dir, err)) != CUSTOS_OK)
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
