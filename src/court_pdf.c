/*
 * The court report printed to PDF by a headless Chromium.  The HTML is
 * written into a private folder made with mkdtemp beside the output (so
 * the final rename stays on one file system), Chromium runs there in its
 * own process group with a throw-away profile, its HOME in that folder,
 * and every switch that keeps it off the network (no proxy lookups, every
 * host name unresolvable, no background or component updates); the page
 * itself forbids any load with its Content-Security-Policy.  The PDF is
 * then committed under the output name without replacing anything, and
 * the private folder, which only custos and the Chromium it started wrote
 * to, is removed.  Chromium is given two minutes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "court_private.h"
#include "error_private.h"
#include "fileio_private.h"
#include "util_private.h"

extern char **environ;

#define TIMEOUT_SECONDS 120

/* The program: the one named, else the first of these found in PATH. */
static char *find_chromium(const char *named)
{
	static const char *const names[] = {"chromium", "chromium-browser",
		"chromium-headless-shell", "google-chrome", NULL};
	const char *path = getenv("PATH");

	if (named != NULL)
		return strchr(named, '/') != NULL && access(named, X_OK) == 0 ?
			strdup(named) : NULL;
	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (size_t i = 0; names[i] != NULL; i++) {
		const char *p = path;

		while (*p != '\0') {
			const char *end = strchr(p, ':');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			char *cand = custos__aprintf("%.*s/%s", (int)n, p,
				names[i]);

			if (cand != NULL && n > 0 && access(cand, X_OK) == 0)
				return cand;
			free(cand);
			p += n;
			if (*p == ':')
				p++;
		}
	}
	return NULL;
}

static int remove_one(const char *path, const struct stat *sb, int flag,
		struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* Remove our private folder (depth first, never following a link). */
static void remove_private(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The environment for Chromium: ours, with HOME and the XDG folders in
 * the private folder so nothing is written elsewhere. */
static char **child_env(const char *dir)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 5, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "HOME=", 5) != 0 &&
		    strncmp(environ[i], "XDG_CONFIG_HOME=", 16) != 0 &&
		    strncmp(environ[i], "XDG_CACHE_HOME=", 15) != 0 &&
		    strncmp(environ[i], "XDG_DATA_HOME=", 14) != 0)
			env[k++] = environ[i];
	env[k++] = custos__aprintf("HOME=%s", dir);
	env[k++] = custos__aprintf("XDG_CONFIG_HOME=%s", dir);
	env[k++] = custos__aprintf("XDG_CACHE_HOME=%s", dir);
	env[k++] = custos__aprintf("XDG_DATA_HOME=%s", dir);
	env[k] = NULL;
	return env;
}

static void free_env(char **env)
{
	size_t n = 0;

	if (env == NULL)
		return;
	while (env[n] != NULL)
		n++;
	for (size_t i = n >= 4 ? n - 4 : 0; i < n; i++)
		free(env[i]);
	free(env);
}

static custos_status run_chromium(const char *prog, const char *dir,
		custos_error *err)
{
	char *pdf = custos__aprintf("--print-to-pdf=%s/report.pdf", dir);
	char *profile = custos__aprintf("--user-data-dir=%s/profile", dir);
	char *url = custos__aprintf("file://%s/report.html", dir);
	char *log = custos__aprintf("%s/chromium.log", dir);
	char **env = child_env(dir);
	const char *argv[24];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	custos_status st = CUSTOS_OK;
	int n = 0, status = 0;
	pid_t pid;
	time_t start;

	if (pdf == NULL || profile == NULL || url == NULL || log == NULL ||
	    env == NULL || env[0] == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	argv[n++] = prog;
	argv[n++] = "--headless";
	if (geteuid() == 0)
		argv[n++] = "--no-sandbox";  /* Chromium refuses root else */
	argv[n++] = "--disable-gpu";
	argv[n++] = "--no-first-run";
	argv[n++] = "--no-default-browser-check";
	argv[n++] = "--disable-extensions";
	argv[n++] = "--disable-sync";
	argv[n++] = "--disable-background-networking";
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-default-apps";
	argv[n++] = "--disable-domain-reliability";
	argv[n++] = "--no-proxy-server";
	argv[n++] = "--host-resolver-rules=MAP * ~NOTFOUND";
	argv[n++] = "--disable-features=Translate,MediaRouter,"
		"OptimizationHints,AutofillServerCommunication";
	argv[n++] = "--no-pdf-header-footer";
	argv[n++] = profile;
	argv[n++] = pdf;
	argv[n++] = url;
	argv[n] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
		O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&attr);
	/* Its own process group, so a timeout ends it and its helpers. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	errno = posix_spawn(&pid, prog, &fa, &attr, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (errno != 0) {
		st = custos__error_errno(err, errno, "cannot start %s", prog);
		goto out;
	}
	start = time(NULL);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			st = custos__error_errno(err, errno, "waiting for %s",
				prog);
			goto out;
		}
		if (time(NULL) - start > TIMEOUT_SECONDS) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			st = custos__error_set(err, CUSTOS_EIO,
				"%s took more than %d seconds; stopped", prog,
				TIMEOUT_SECONDS);
			goto out;
		}
		{
			struct timespec ts = {0, 50 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	/* Helpers it left behind in its group. */
	kill(-pid, SIGKILL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		st = custos__error_set(err, CUSTOS_EIO,
			"%s failed to print the report (status %d)", prog,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
out:
	free(pdf);
	free(profile);
	free(url);
	free(log);
	free_env(env);
	return st;
}

custos_status custos_court_write_pdf(const char *path, const char *html,
		size_t len, const char *chromium, custos_error *err)
{
	char *prog = NULL, *parent = NULL, *dir = NULL, *file = NULL;
	char *abs = NULL;
	custos_status st;
	struct stat sb;

	if (path == NULL || html == NULL)
		return custos__error_set(err, CUSTOS_EINVAL, "no output");
	if (lstat(path, &sb) == 0 || errno != ENOENT)
		return custos__error_set(err, CUSTOS_EEXIST,
			"%s already exists; nothing is overwritten", path);
	if ((prog = find_chromium(chromium)) == NULL)
		return custos__error_set(err, CUSTOS_ENOTFOUND,
			"no headless Chromium found (install chromium, or "
			"name it with CUSTOS_CHROMIUM); the HTML report "
			"(--html) needs none");
	parent = custos__dirname(path);
	abs = parent ? realpath(parent, NULL) : NULL;
	if (abs == NULL) {
		st = custos__error_errno(err, errno, "cannot use the folder "
			"of %s", path);
		goto out;
	}
	dir = custos__aprintf("%s/.custos-pdf-XXXXXX", abs);
	if (dir == NULL || mkdtemp(dir) == NULL) {
		st = dir ? custos__error_errno(err, errno, "cannot make a "
			"private folder beside %s", path) :
			custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		free(dir);
		dir = NULL;
		goto out;
	}
	file = custos__aprintf("%s/report.html", dir);
	if (file == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	st = custos__write_file_exclusive(file, html, len, 0600, err);
	if (st != CUSTOS_OK)
		goto out;
	st = run_chromium(prog, dir, err);
	if (st != CUSTOS_OK)
		goto out;
	free(file);
	file = custos__aprintf("%s/report.pdf", dir);
	if (file == NULL) {
		st = custos__error_set(err, CUSTOS_ENOMEM, "out of memory");
		goto out;
	}
	if (lstat(file, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 5) {
		st = custos__error_set(err, CUSTOS_EIO,
			"%s printed no PDF", prog);
		goto out;
	}
	chmod(file, 0644);
	st = custos__commit_noreplace(file, path, err);
out:
	if (dir != NULL)
		remove_private(dir);
	free(dir);
	free(file);
	free(abs);
	free(parent);
	free(prog);
	return st;
}
