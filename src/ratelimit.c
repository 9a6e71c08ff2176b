/*
 * ratelimit.c: the pauses CAs asked one run for, and the one report of
 * each (ratelimit.h).  The run's own memory: no file, no lock; the next
 * run learns the CA's time from the backoff each held lineage records.
 * Times are milliseconds of the real clock: a 2 s pause held to whole
 * seconds would end up to a second early.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "log.h"
#include "ratelimit.h"

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The index of server's entry, or rl->n. */
static size_t
find(const struct ratelimit *rl, const char *server)
{
	size_t	i;

	for (i = 0; i < rl->n; i++)
		if (strcmp(rl->v[i].server, server) == 0)
			return i;
	return rl->n;
}

/* "YYYY-MM-DD HH:MM:SS TZ" of t in local time, into buf. */
static const char *
local_time(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, len,
	    "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

void
ratelimit_init(struct ratelimit *rl)
{
	memset(rl, 0, sizeof *rl);
	pthread_mutex_init(&rl->mu, NULL);
}

enum err
ratelimit_note(struct ratelimit *rl, const char *server, long secs,
    bool retry)
{
	char		when[64];
	long long	now, until;
	long		s = secs < 0 ? RATELIMIT_UNNAMED_S : secs;
	size_t		i;
	enum err	e = ERR_OK;

	if (rl == NULL || secs == 0 || server == NULL)
		return ERR_OK;
	now = now_ms();
	until = now + (long long)s * 1000;
	pthread_mutex_lock(&rl->mu);
	if ((i = find(rl, server)) == rl->n) {
		/* More CAs than slots: the last one's pause is dropped;
		 * each order then meets the CA's answer itself. */
		if (rl->n == RATELIMIT_CAS_MAX)
			goto out;
		if ((rl->v[i].server = strdup(server)) == NULL) {
			log_error("out of memory");
			e = ERR_INTERNAL;
			goto out;
		}
		rl->v[i].until_ms = 0;
		rl->v[i].held = 0;
		rl->n++;
	}
	/* An answer inside a pause (another order in flight met the same
	 * limit) only moves its end; one after it starts the next pause,
	 * whose refusal is reported again. */
	if (rl->v[i].until_ms <= now) {
		rl->v[i].said = false;
		if (!retry)
			log_warn("the CA at %s asked to wait %s%ld s: no new "
			    "order to it before %s%s", server, secs < 0 ?
			    "(no time given, taken as) " : "", s,
			    local_time((time_t)(until / 1000), when,
			    sizeof when), s > RATELIMIT_WAIT_MAX ? " (longer "
			    "than this run waits: its orders left are not "
			    "sent)" : "");
	}
	if (until > rl->v[i].until_ms)
		rl->v[i].until_ms = until;
out:
	pthread_mutex_unlock(&rl->mu);
	return e;
}

void
ratelimit_refused(struct ratelimit *rl, const char *server,
    const struct ratelimit_refusal *r)
{
	char	when[64], qdetail[LOG_QUOTE_MAX];
	size_t	i;
	bool	said = false;

	if (rl != NULL && server != NULL) {
		pthread_mutex_lock(&rl->mu);
		if ((i = find(rl, server)) < rl->n) {
			said = rl->v[i].said;
			rl->v[i].said = true;
		}
		pthread_mutex_unlock(&rl->mu);
	}
	if (said) {
		log_info("%s: %s %s: rate limited by the CA as well (HTTP "
		    "%ld), in the pause reported above", r->what, r->method,
		    r->url, r->status);
		return;
	}
	log_error("%s: %s %s: rate limited by the CA (HTTP %ld): %s", r->what,
	    r->method, r->url, r->status, r->detail ? log_quote(r->detail,
	    qdetail, sizeof qdetail) : "no detail given");
	if (r->retry_after < 0) {
		log_error("the CA gave no time to retry (no Retry-After): see "
		    "its rate-limit documentation before running again");
		return;
	}
	log_error("retry after %s (local time, in %ld s); running again "
	    "sooner only spends more of the limit", local_time(time(NULL) +
	    r->retry_after, when, sizeof when), r->retry_after);
}

enum err
ratelimit_gate(struct ratelimit *rl, const char *server, time_t *until)
{
	long long	now, end;
	size_t		i;
	enum err	e = ERR_OK;

	*until = 0;
	if (rl == NULL || server == NULL)
		return ERR_OK;
	for (;;) {
		now = now_ms();
		pthread_mutex_lock(&rl->mu);
		end = (i = find(rl, server)) == rl->n ? 0 : rl->v[i].until_ms;
		if (end > now && end - now > RATELIMIT_WAIT_MAX * 1000) {
			rl->v[i].held++;
			*until = (time_t)(end / 1000);
			e = ERR_RATELIMIT;
		}
		pthread_mutex_unlock(&rl->mu);
		if (end <= now || e != ERR_OK)
			return e;
		log_info("waiting %lld s for the CA at %s before the next "
		    "order", (end - now + 999) / 1000, server);
		if (!acme_wait_ms((long)(end - now)))
			return ERR_SIGNAL;
	}
}

void
ratelimit_report(struct ratelimit *rl)
{
	char	when[64];
	size_t	i;

	for (i = 0; i < rl->n; i++)
		if (rl->v[i].held > 0)
			log_error("%zu order%s not sent to the CA at %s, which "
			    "asked to wait until %s: each is tried again after "
			    "that time", rl->v[i].held, rl->v[i].held == 1 ?
			    " was" : "s were", rl->v[i].server,
			    local_time((time_t)(rl->v[i].until_ms / 1000), when,
			    sizeof when));
}

void
ratelimit_clear(struct ratelimit *rl)
{
	size_t	i;

	for (i = 0; i < rl->n; i++)
		free(rl->v[i].server);
	pthread_mutex_destroy(&rl->mu);
	memset(rl, 0, sizeof *rl);
}
