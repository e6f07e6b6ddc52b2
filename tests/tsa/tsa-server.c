/*
 * A tiny loopback HTTP server for the tests' time-stamping authority
 * (TEST ONLY).  It listens on 127.0.0.1 at a port the kernel picks, writes
 * that port to PORTFILE, and answers each POST by saving the body to
 * DIR/query.tsq, running COMMAND (normally `openssl ts -reply ... -queryfile
 * DIR/query.tsq -out DIR/reply.tsr`), and sending DIR/reply.tsr back as
 * application/timestamp-reply.  One request at a time; runs until killed.
 *
 * Usage: tsa-server PORTFILE DIR MODE -- COMMAND [ARG...]
 *
 * MODE misbehaves on purpose, for the client's negative tests:
 *   normal      answer as above
 *   replay      answer every request with the first reply (wrong nonce)
 *   other-data  change the query's digest before stamping it
 *   http-error  answer "500 Internal Server Error"
 *   garbage     answer 200 with bytes that are not a time stamp
 *   hang        accept, read, and never answer
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ts.h>

#define HEAD_MAX 16384
#define BODY_MAX 65536
#define REPLY_MAX (1 << 20)

static const char *dir;
static const char *mode;
static char **command;
static unsigned char *first_reply;
static size_t first_reply_len;

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int save(const char *path, const unsigned char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc;

	if (fd < 0)
		return -1;
	rc = write_all(fd, data, len);
	close(fd);
	return rc;
}

static unsigned char *load(const char *path, size_t *len)
{
	unsigned char *buf = malloc(REPLY_MAX);
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || buf == NULL) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, REPLY_MAX - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

static void respond(int fd, const char *status, const char *type,
		const unsigned char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
		"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n", status, type, len);

	if (n > 0 && write_all(fd, head, (size_t)n) == 0 && len > 0)
		write_all(fd, body, len);
}

/* Flip the query's digest, so the TSA stamps other data. */
static void alter_query(unsigned char *body, size_t len)
{
	const unsigned char *p = body;
	TS_REQ *req = d2i_TS_REQ(NULL, &p, (long)len);
	ASN1_OCTET_STRING *msg;
	unsigned char *out = NULL, *q;
	int n;

	if (req == NULL)
		return;
	msg = TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(req));
	if (ASN1_STRING_length(msg) > 0) {
		q = (unsigned char *)ASN1_STRING_get0_data(msg);
		q[0] ^= 0xff;
	}
	n = i2d_TS_REQ(req, &out);
	if (n == (int)len)
		memcpy(body, out, len);
	OPENSSL_free(out);
	TS_REQ_free(req);
}

static unsigned char *run_tsa(unsigned char *body, size_t len,
		size_t *reply_len)
{
	char query[4096], reply[4096];
	pid_t pid;
	int status;

	snprintf(query, sizeof(query), "%s/query.tsq", dir);
	snprintf(reply, sizeof(reply), "%s/reply.tsr", dir);
	if (strcmp(mode, "other-data") == 0)
		alter_query(body, len);
	unlink(reply);
	if (save(query, body, len) != 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		execvp(command[0], command);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return NULL;
	return load(reply, reply_len);
}

static void serve(int fd)
{
	char head[HEAD_MAX + 1];
	unsigned char *body = NULL, *reply = NULL;
	size_t used = 0, body_len = 0, have, reply_len = 0;
	char *end = NULL, *cl;

	while (used < HEAD_MAX) {
		ssize_t n = read(fd, head + used, HEAD_MAX - used);

		if (n <= 0)
			return;
		used += (size_t)n;
		head[used] = '\0';
		end = strstr(head, "\r\n\r\n");
		if (end != NULL)
			break;
	}
	if (end == NULL)
		return;
	for (cl = head; (cl = strchr(cl, '\n')) != NULL; cl++) {
		if (strncasecmp(cl + 1, "Content-Length:", 15) == 0) {
			body_len = strtoul(cl + 16, NULL, 10);
			break;
		}
	}
	if (body_len > BODY_MAX) {
		respond(fd, "413 Payload Too Large", "text/plain", NULL, 0);
		return;
	}
	body = malloc(body_len + 1);
	if (body == NULL)
		return;
	have = used - (size_t)(end + 4 - head);
	if (have > body_len)
		have = body_len;
	memcpy(body, end + 4, have);
	while (have < body_len) {
		ssize_t n = read(fd, body + have, body_len - have);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	if (strcmp(mode, "hang") == 0) {
		sleep(120);
	} else if (strcmp(mode, "http-error") == 0) {
		respond(fd, "500 Internal Server Error", "text/plain",
			(const unsigned char *)"no\n", 3);
	} else if (strcmp(mode, "garbage") == 0) {
		respond(fd, "200 OK", "application/timestamp-reply",
			(const unsigned char *)"this is not a time stamp\n", 25);
	} else if (strcmp(mode, "replay") == 0 && first_reply != NULL) {
		respond(fd, "200 OK", "application/timestamp-reply",
			first_reply, first_reply_len);
	} else {
		reply = run_tsa(body, have, &reply_len);
		if (reply == NULL) {
			respond(fd, "500 Internal Server Error", "text/plain",
				NULL, 0);
		} else {
			respond(fd, "200 OK", "application/timestamp-reply",
				reply, reply_len);
			if (first_reply == NULL) {
				first_reply = reply;
				first_reply_len = reply_len;
				reply = NULL;
			}
		}
	}
	free(reply);
	free(body);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	char tmp[4096], text[32];
	int s, one = 1;

	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: tsa-server PORTFILE DIR MODE -- "
			"COMMAND [ARG...]\n");
		return 2;
	}
	dir = argv[2];
	mode = argv[3];
	command = argv + 5;
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
			sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(s, 8) != 0 ||
	    getsockname(s, (struct sockaddr *)&addr, &alen) != 0) {
		perror("tsa-server");
		return 1;
	}
	/* Publish the port atomically: the test waits for the file. */
	snprintf(tmp, sizeof(tmp), "%s.part", argv[1]);
	snprintf(text, sizeof(text), "%u\n", ntohs(addr.sin_port));
	if (save(tmp, (const unsigned char *)text, strlen(text)) != 0 ||
	    rename(tmp, argv[1]) != 0) {
		perror("tsa-server: port file");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		struct timeval tv = {10, 0};

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("tsa-server: accept");
			return 1;
		}
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(c);
		close(c);
	}
}
