/* Passphrases from a file, a descriptor or the terminal; never argv. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "passphrase.h"

void passphrase_source_init(passphrase_source *src, const char *tool)
{
	memset(src, 0, sizeof(*src));
	src->tool = tool;
	src->fd = -1;
	src->prompt = "Passphrase: ";
}

int passphrase_parse_fd(const char *text, int *fd)
{
	unsigned long n;

	if (!cli_parse_uint(text, 1024 * 1024, &n))
		return 0;
	*fd = (int)n;
	return 1;
}

/* Read a line byte by byte (no stdio buffer keeps a copy). */
static int read_line(int fd, char *buf, size_t cap, int *too_long)
{
	size_t n = 0;

	*too_long = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			*too_long = 1;
			c = 0;
			continue; /* drain the line, keep nothing more */
		}
		buf[n++] = c;
		c = 0;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

static int from_fd(const passphrase_source *src, int fd, const char *what,
		char *buf, size_t cap)
{
	int too_long, n = read_line(fd, buf, cap, &too_long);

	if (n < 0) {
		cli_error(src->tool, "cannot read the passphrase from %s: %s",
			what, strerror(errno));
		return -1;
	}
	if (too_long) {
		OPENSSL_cleanse(buf, cap);
		cli_error(src->tool, "the passphrase from %s is longer than "
			"%d bytes", what, PASSPHRASE_MAX - 1);
		return -1;
	}
	if (n == 0) {
		cli_error(src->tool, "the passphrase from %s is empty", what);
		return -1;
	}
	return n;
}

static int from_tty(const passphrase_source *src, const char *prompt,
		char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	int n, too_long;
	sigset_t block, saved;

	if (fd < 0) {
		cli_error(src->tool, "no terminal to ask for the passphrase; "
			"use --passphrase-file or --passphrase-fd");
		return -1;
	}
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		cli_error(src->tool, "cannot set up the terminal: %s",
			strerror(errno));
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Ctrl-C must not leave the terminal without echo. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &saved);
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		sigprocmask(SIG_SETMASK, &saved, NULL);
		close(fd);
		cli_error(src->tool, "cannot use the terminal: %s",
			strerror(errno));
		return -1;
	}
	n = read_line(fd, buf, cap, &too_long);
	tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(fd);
	if (n < 0 || too_long || n == 0) {
		OPENSSL_cleanse(buf, cap);
		cli_error(src->tool, n == 0 ? "empty passphrase"
			: too_long ? "passphrase too long"
				   : "cannot read the passphrase");
		return -1;
	}
	return n;
}

int passphrase_read(const passphrase_source *src, char *buf, size_t cap)
{
	char again[PASSPHRASE_MAX];
	int n, m, fd;

	if (cap > PASSPHRASE_MAX)
		cap = PASSPHRASE_MAX;
	if (src->file != NULL) {
		fd = open(src->file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error(src->tool, "cannot open passphrase file %s: %s",
				src->file, strerror(errno));
			return -1;
		}
		n = from_fd(src, fd, src->file, buf, cap);
		close(fd);
		return n;
	}
	if (src->fd >= 0) {
		char what[32];

		snprintf(what, sizeof(what), "descriptor %d", src->fd);
		return from_fd(src, src->fd, what, buf, cap);
	}
	n = from_tty(src, src->prompt, buf, cap);
	if (n < 0 || !src->confirm)
		return n;
	m = from_tty(src, "Again: ", again, sizeof(again));
	if (m != n || memcmp(buf, again, (size_t)n) != 0) {
		OPENSSL_cleanse(buf, cap);
		OPENSSL_cleanse(again, sizeof(again));
		if (m >= 0)
			cli_error(src->tool, "the passphrases differ");
		return -1;
	}
	OPENSSL_cleanse(again, sizeof(again));
	return n;
}

int passphrase_callback(char *buf, size_t cap, void *ctx)
{
	char tmp[PASSPHRASE_MAX];
	int n = passphrase_read(ctx, tmp, sizeof(tmp));

	if (n < 0 || (size_t)n > cap) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(buf, tmp, (size_t)n);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return n;
}
