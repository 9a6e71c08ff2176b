/*
 * ratelimit.h: the CAs that asked this run to wait, and what the run says
 * about it.  A run with many orders (renew, certonly --batch) meets a
 * rateLimited answer, or a 429 or 503 with Retry-After, on one request;
 * the pause starts the moment that answer arrives (acme.c tells it here
 * before its own retry), so the run's other workers send no new order to
 * that CA before its time, and when the wait is longer than a run should
 * stay (RATELIMIT_WAIT_MAX) the orders left are not sent at all: they
 * fail as rate limited, with the CA's time recorded as their next
 * attempt.  Orders already in flight go on under their own retry policy.
 * Each pause is said once, and so is the CA's refusal: with several
 * orders in flight when the limit is met, the first refusal is reported
 * and the others get one info line each.
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
		char		*server;	/* owned */
		long long	 until_ms;	/* no new order before (epoch ms) */
		size_t		 held;		/* orders not sent for it */
		bool		 said;		/* this pause's refusal reported */
	} v[RATELIMIT_CAS_MAX];
	size_t	n;
};

/* A final rateLimited answer as acme.c got it, for its report.  The
 * strings are borrowed. */
struct ratelimit_refusal {
	const char	*what;		/* "newOrder" */
	const char	*method;	/* "POST" */
	const char	*url;
	long		 status;	/* 429 */
	const char	*detail;	/* the CA's words, or NULL */
	long		 retry_after;	/* s, -1 when the CA named none */
};

/*
 * An answer of the CA at server that asks for a pause, the moment it
 * arrives: secs is its Retry-After (-1: rateLimited without a time).  A
 * pause starts (said once, as a warning) or an ongoing one is extended.
 * retry: the answer to a retried request, whose own retry line already
 * says the wait, so a pause it starts is not said again.  rl NULL (a run
 * of one order): nothing to do.  ERR_INTERNAL when out of memory
 * (logged): the run goes on without the pause.
 */
enum err	 ratelimit_note(struct ratelimit *, const char *server,
		    long secs, bool retry);
/*
 * The report of a request the CA finally refused as rateLimited: what it
 * said and when to try again (two error lines), the first time in a
 * pause of server; a later refusal in the same pause (another order that
 * was in flight) is one info line.  rl NULL: always the two lines.
 */
void		 ratelimit_refused(struct ratelimit *, const char *server,
		    const struct ratelimit_refusal *);
/*
 * Before a new order to server: ERR_OK at once when no pause holds;
 * waits out a pause of at most RATELIMIT_WAIT_MAX s (without holding
 * the others up: a pause another order notes meanwhile is waited too) (ERR_SIGNAL when a
 * stop signal ends the wait); ERR_RATELIMIT when the pause is longer, with
 * *until its end, so the caller fails the order without sending it and
 * records the time.  Nothing is logged per order: ratelimit_report says
 * how many were held.  rl NULL: ERR_OK.
 */
enum err	 ratelimit_gate(struct ratelimit *, const char *server,
		    time_t *until);
/* One line per CA that held orders back ("N orders not sent ..."). */
void		 ratelimit_report(struct ratelimit *);
void		 ratelimit_init(struct ratelimit *);
void		 ratelimit_clear(struct ratelimit *);

#endif
