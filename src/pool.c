/*
 * pool.c: worker threads over a list of jobs (pool.h).  The job counter
 * is the only state the workers share here; it is taken under a mutex, so
 * each job runs once and in list order of start.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "sig.h"

struct pool {
	const struct pool_ops	*ops;
	void			*arg;
	size_t			 n, next;
	pthread_mutex_t		 mu;
	unsigned		 started;	/* workers that got a state */
};

/* The next job to run, or false when none is left or a stop came. */
static bool
take(struct pool *p, size_t *i)
{
	bool	ok;

	pthread_mutex_lock(&p->mu);
	ok = p->next < p->n && sig_pending() == 0;
	if (ok)
		*i = p->next++;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static void *
worker(void *v)
{
	struct pool	*p = v;
	void		*state;
	size_t		 i;

	if ((state = p->ops->start(p->arg)) == NULL)
		return NULL;
	pthread_mutex_lock(&p->mu);
	p->started++;
	pthread_mutex_unlock(&p->mu);
	while (take(p, &i))
		p->ops->job(state, i, p->arg);
	p->ops->stop(state, p->arg);
	return NULL;
}

enum err
pool_run(unsigned workers, size_t n, const struct pool_ops *ops, void *arg)
{
	struct pool	 p = { .ops = ops, .arg = arg, .n = n };
	pthread_t	 tid[POOL_WORKERS_MAX];
	sigset_t	 stop, old;
	unsigned	 k, made = 0;
	int		 r;

	if (workers > n)
		workers = (unsigned)n;
	if (workers > POOL_WORKERS_MAX)
		workers = POOL_WORKERS_MAX;
	pthread_mutex_init(&p.mu, NULL);
	/* glibc gives each new thread its own malloc arena (64 MiB reserved,
	 * its touched pages resident): with 8 workers that alone outgrew the
	 * memory budget of issue 10 (16 MiB at --max-concurrent 8).  The
	 * workers' allocations are small and mostly wait on the network, so
	 * one shared arena costs no speed. */
	if (workers > 1)
		(void)mallopt(M_ARENA_MAX, 1);
	if (workers <= 1) {
		/* Today's behaviour: the calling thread, in order. */
		(void)worker(&p);
		pthread_mutex_destroy(&p.mu);
		return n == 0 || p.started > 0 ? ERR_OK : ERR_INTERNAL;
	}
	/* The workers inherit a mask with the stop signals blocked; the
	 * calling thread takes them back once they exist. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	for (k = 0; k < workers; k++) {
		if ((r = pthread_create(&tid[made], NULL, worker, &p)) != 0) {
			log_warn("only %u of %u workers could start: %s", made,
			    workers, strerror(r));
			break;
		}
		made++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (k = 0; k < made; k++)
		pthread_join(tid[k], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.started == 0 && n > 0) {
		log_error("no worker could start");
		return ERR_INTERNAL;
	}
	return ERR_OK;
}
