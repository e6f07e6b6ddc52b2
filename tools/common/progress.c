/* Progress on stderr: a live line on a terminal, or JSON lines. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

int progress_parse_mode(const char *text, progress_mode *out)
{
	if (text == NULL || strcmp(text, "auto") == 0)
		*out = progress_auto();
	else if (strcmp(text, "tty") == 0 || strcmp(text, "bar") == 0)
		*out = PROGRESS_TTY;
	else if (strcmp(text, "json") == 0)
		*out = PROGRESS_JSON;
	else if (strcmp(text, "none") == 0)
		*out = PROGRESS_NONE;
	else
		return 0;
	return 1;
}

progress_mode progress_auto(void)
{
	return isatty(STDERR_FILENO) ? PROGRESS_TTY : PROGRESS_NONE;
}

static void human(char *out, size_t cap, double bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	int u = 0;

	while (bytes >= 1024.0 && u < 5) {
		bytes /= 1024.0;
		u++;
	}
	snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

static void show_tty(const custos_progress *p, progress_state *s)
{
	double rate = p->elapsed_seconds > 0 ? (double)p->bytes_done /
		p->elapsed_seconds : 0;
	char done[32], total[32], speed[32], eta[32] = "--:--:--";
	const char *what = p->phase == CUSTOS_PHASE_VERIFY ? "verify " : "acquire";

	human(done, sizeof(done), (double)p->bytes_done);
	human(speed, sizeof(speed), rate);
	if (p->bytes_total > 0) {
		double pct = 100.0 * (double)p->bytes_done / (double)p->bytes_total;

		human(total, sizeof(total), (double)p->bytes_total);
		if (rate > 0) {
			uint64_t left = (uint64_t)((double)(p->bytes_total -
				p->bytes_done) / rate);

			snprintf(eta, sizeof(eta), "%" PRIu64 ":%02" PRIu64
				":%02" PRIu64, left / 3600, left / 60 % 60,
				left % 60);
		}
		fprintf(stderr, "\r%s %10s / %-10s %5.1f%%  %10s/s  ETA %s  "
			"unreadable sectors: %" PRIu64 "\x1b[K", what, done,
			total, pct, speed, eta, p->unreadable_sectors);
	} else {
		fprintf(stderr, "\r%s %10s  %10s/s  unreadable sectors: %" PRIu64
			"\x1b[K", what, done, speed, p->unreadable_sectors);
	}
	s->line_open = 1;
	if (p->final)
		progress_end(s);
	fflush(stderr);
}

static void show_json(const custos_progress *p)
{
	double rate = p->elapsed_seconds > 0 ? (double)p->bytes_done /
		p->elapsed_seconds : 0;

	fprintf(stderr, "{\"phase\":\"%s\",\"bytes_done\":%" PRIu64
		",\"bytes_total\":", p->phase == CUSTOS_PHASE_VERIFY
			? "verify" : "acquire", p->bytes_done);
	if (p->bytes_total > 0)
		fprintf(stderr, "%" PRIu64 ",\"percent\":%.2f", p->bytes_total,
			100.0 * (double)p->bytes_done / (double)p->bytes_total);
	else
		fprintf(stderr, "null,\"percent\":null");
	fprintf(stderr, ",\"rate_bytes_per_second\":%.0f,\"eta_seconds\":", rate);
	if (p->bytes_total > 0 && rate > 0)
		fprintf(stderr, "%.0f", (double)(p->bytes_total - p->bytes_done) /
			rate);
	else
		fprintf(stderr, "null");
	fprintf(stderr, ",\"elapsed_seconds\":%.3f,\"unreadable_sectors\":%"
		PRIu64 ",\"final\":%s}\n", p->elapsed_seconds,
		p->unreadable_sectors, p->final ? "true" : "false");
	fflush(stderr);
}

void progress_show(const custos_progress *p, void *ctx)
{
	progress_state *s = ctx;

	if (s->mode == PROGRESS_TTY)
		show_tty(p, s);
	else if (s->mode == PROGRESS_JSON)
		show_json(p);
}

void progress_end(progress_state *s)
{
	if (s->line_open) {
		fputc('\n', stderr);
		s->line_open = 0;
	}
}
