/*
 * Benchmark helper for bench/log.sh: append N signed records to a custody
 * log in one process and print the mean time per append for each block of
 * BLOCK appends, so that a flat append cost can be seen as the log grows.
 *
 *   log-append DIR N KEY CERT [BLOCK]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "custos/custos.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	custos_custody_actor_options actor;
	custos_custody_event ev;
	custos_error err;
	const char *item = "HD-01";
	unsigned long n, block = 1000;
	double t0;
	char note[64];

	if (argc < 5) {
		fprintf(stderr, "usage: log-append DIR N KEY CERT [BLOCK]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	if (argc > 5)
		block = strtoul(argv[5], NULL, 10);
	if (block == 0)
		block = 1000;
	custos_custody_actor_options_init(&actor);
	actor.key_path = argv[3];
	actor.cert_path = argv[4];
	custos_custody_event_init(&ev);
	ev.type = "accessed";
	ev.items = &item;
	ev.item_count = 1;
	ev.reason = "benchmark";
	ev.note = note;
	t0 = now();
	for (unsigned long i = 0; i < n; i++) {
		uint64_t seq;

		snprintf(note, sizeof(note), "bench %lu", i);
		if (custos_custody_append(&seq, NULL, argv[1], &ev, &actor,
				&err) != CUSTOS_OK) {
			fprintf(stderr, "append %lu: %s\n", i, err.message);
			return 3;
		}
		if ((i + 1) % block == 0) {
			double t = now();

			printf("records %" PRIu64 " append_ms %.3f\n", seq + 1,
				(t - t0) * 1000.0 / (double)block);
			fflush(stdout);
			t0 = t;
		}
	}
	return 0;
}
