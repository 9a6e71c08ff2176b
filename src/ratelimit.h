/*
 * ratelimit.h: the CAs that asked this run to wait.  A run with many
 * orders (renew, certonly --batch) meets a rateLimited answer, or a 503
 * with Retry-After, on one order; every later new order to that CA waits
 * out the time given instead of spending more of the limit, and when the
 * wait is longer than a run should stay (RATELIMIT_WAIT_MAX) the orders
 * left are not sent at all: they fail as rate limited, with the CA's time
 * recorded as their next attempt.  Orders already in flight go on.  Each
 * pause is said once, not once per order.
 */
#ifndef EXTAUTH_RATELIMIT_H
#define EXTAUTH_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

/* The longest pause a run waits out before its next order: the same as
 * the longest Retry-After one request waits out (acme.c). */
#define RATELIMIT_WAIT_MAX	120L
/* A rateLimited answer that names no time: as long as renew's first
 * backoff, so the orders left are not sent this run. */
#define RATELIMIT_UNNAMED_S	3600L
#define RATELIMIT_CAS_MAX	8

/* Owned by the run (ratelimit_init, ratelimit_clear); one entry per CA
 * (directory URL); its workers share it (mu). */
struct ratelimit {
	pthread_mutex_t	 mu;
	struct {
		char	*server;	/* owned */
		time_t	 until;		/* no new order before */
		size_t	 held;		/* orders not sent for it */
	} v[RATELIMIT_CAS_MAX];
	size_t	n;
};

/*
 * After a failed order to server: secs is acme_take_ratelimit_retry's
 * answer (0: the CA asked for no wait; -1: rateLimited without a time).
 * Logs the pause once per CA and later pause; ERR_INTERNAL when out of
 * memory (logged), the run goes on without the pause.
 */
enum err	 ratelimit_note(struct ratelimit *, const char *server,
		    long secs, time_t now);
/*
 * Before a new order to server: ERR_OK at once when no pause holds;
 * waits out a pause of at most RATELIMIT_WAIT_MAX s (without holding
 * the others up: a pause another order notes meanwhile is waited too) (ERR_SIGNAL when a
 * stop signal ends the wait); ERR_RATELIMIT when the pause is longer, with
 * *until its end, so the caller fails the order without sending it and
 * records the time.  Nothing is logged per order: ratelimit_report says
 * how many were held.
 */
enum err	 ratelimit_gate(struct ratelimit *, const char *server,
		    time_t *until);
/* One line per CA that held orders back ("N orders not sent ..."). */
void		 ratelimit_report(struct ratelimit *);
void		 ratelimit_init(struct ratelimit *);
void		 ratelimit_clear(struct ratelimit *);

#endif
