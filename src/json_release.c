/*
 * Letting go of many JSON values at once, on two threads: a case of
 * 100,000 custody records holds millions of small objects, and freeing
 * them one by one on one thread took a second at the end of every
 * custos-verify run.  jansson's reference counts are atomic, so values
 * shared between the halves are safe; small sets are freed in place.
 */
#include <pthread.h>
#include <stdlib.h>

#include <jansson.h>

#include "json_release_private.h"

/* Below this many values a thread costs more than it saves. */
#define PARALLEL_MIN 256

typedef struct half {
	json_t **v;
	size_t n;
} half;

static void *release(void *arg)
{
	half *h = arg;

	for (size_t i = 0; i < h->n; i++)
		json_decref(h->v[i]);
	return NULL;
}

void custos__json_release_all(json_t **v, size_t n)
{
	half a = {v, n / 2}, b = {v + n / 2, n - n / 2};
	pthread_t t;
	int started = 0;

	if (n >= PARALLEL_MIN)
		started = pthread_create(&t, NULL, release, &a) == 0;
	if (!started) {
		a.n = n;
		b.n = 0;
		release(&a);
	}
	release(&b);
	if (started)
		pthread_join(t, NULL);
}
