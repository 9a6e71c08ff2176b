/*
 * pool.h: up to N jobs at once on worker threads (renew --max-concurrent,
 * issue 10).  Owns the threads and their signal mask: the stop signals
 * (sig.h) stay with the calling thread, so the workers learn of a stop
 * through sig_pending() and the signal pipe, as the single-threaded code
 * does, and clean up what they deployed before they return.  What a job
 * does, and which of its state is shared, is the caller's: pool.c only
 * hands out the job indexes in order, each exactly once.
 */
#ifndef EXTAUTH_POOL_H
#define EXTAUTH_POOL_H

#include <stddef.h>

#include "err.h"

#define POOL_WORKERS_MAX	64

struct pool_ops {
	/* A worker's own state (its connection, its solver), made on its
	 * thread; NULL: this worker takes no job (the failure is logged). */
	void	*(*start)(void *arg);
	/* Job i, on the worker that took it. */
	void	 (*job)(void *state, size_t i, void *arg);
	/* Frees what start made, on the same thread. */
	void	 (*stop)(void *state, void *arg);
};

/*
 * Runs jobs 0..n-1, at most workers at once (1: on the calling thread, in
 * order, no thread made).  A stop signal ends the hand-out: the jobs not
 * taken are not run.  ERR_INTERNAL (logged) when no worker could start;
 * otherwise ERR_OK once every worker has returned.
 */
enum err	 pool_run(unsigned workers, size_t n, const struct pool_ops *,
		    void *arg);

#endif
