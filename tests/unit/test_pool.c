/* test_pool.c: pool_run hands every job out exactly once, at 1 worker on
 * the calling thread in order, at 4 workers on 4 threads at once (each job
 * waits until 4 have started, which 1 worker would never reach), and a
 * worker that cannot start takes no job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "pool.h"

#define JOBS	40

struct counts {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 ran[JOBS];
	size_t		 order[JOBS], n;
	int		 started;	/* workers with a state */
	int		 in_job, max_in_job;
	int		 wait_for;	/* jobs wait until this many are in */
	bool		 refuse;	/* start fails */
};

static void *
start(void *arg)
{
	struct counts	*c = arg;

	if (c->refuse)
		return NULL;
	pthread_mutex_lock(&c->mu);
	c->started++;
	pthread_mutex_unlock(&c->mu);
	return c;
}

static void
job(void *state, size_t i, void *arg)
{
	struct counts	*c = arg;
	struct timespec	 until;

	assert_ptr_equal(state, arg);
	pthread_mutex_lock(&c->mu);
	c->ran[i]++;
	c->order[c->n++] = i;
	if (++c->in_job > c->max_in_job)
		c->max_in_job = c->in_job;
	pthread_cond_broadcast(&c->cv);
	/* The first jobs meet: proof that they run at once. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	while (c->wait_for > 0 && c->max_in_job < c->wait_for &&
	    pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
		;
	c->in_job--;
	pthread_mutex_unlock(&c->mu);
}

static void
stop(void *state, void *arg)
{
	assert_ptr_equal(state, arg);
}

static const struct pool_ops ops = { start, job, stop };

static void
counts_init(struct counts *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
}

static void
one_worker_in_order(void **state)
{
	struct counts	c;
	size_t		i;

	(void)state;
	counts_init(&c);
	assert_int_equal(pool_run(1, JOBS, &ops, &c), ERR_OK);
	assert_int_equal(c.started, 1);
	assert_int_equal(c.n, JOBS);
	assert_int_equal(c.max_in_job, 1);
	for (i = 0; i < JOBS; i++) {
		assert_int_equal(c.ran[i], 1);
		assert_int_equal(c.order[i], i);
	}
}

static void
four_workers_at_once(void **state)
{
	struct counts	c;
	size_t		i;

	(void)state;
	counts_init(&c);
	c.wait_for = 4;
	assert_int_equal(pool_run(4, JOBS, &ops, &c), ERR_OK);
	assert_int_equal(c.started, 4);
	assert_int_equal(c.n, JOBS);
	assert_int_equal(c.max_in_job, 4);
	for (i = 0; i < JOBS; i++)
		assert_int_equal(c.ran[i], 1);
	/* More workers than jobs: only as many as jobs. */
	counts_init(&c);
	assert_int_equal(pool_run(8, 3, &ops, &c), ERR_OK);
	assert_int_equal(c.started, 3);
	assert_int_equal(c.n, 3);
}

static void
no_worker_starts(void **state)
{
	struct counts	c;

	(void)state;
	counts_init(&c);
	c.refuse = true;
	assert_int_equal(pool_run(4, JOBS, &ops, &c), ERR_INTERNAL);
	assert_int_equal(c.n, 0);
	assert_int_equal(pool_run(1, JOBS, &ops, &c), ERR_INTERNAL);
	assert_int_equal(pool_run(4, 0, &ops, &c), ERR_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_worker_in_order),
		cmocka_unit_test(four_workers_at_once),
		cmocka_unit_test(no_worker_starts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
