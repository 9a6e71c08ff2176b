/*
 * ratelimit.c: the pauses CAs asked one run for (ratelimit.h).  The run's
 * own memory: no file, no lock; the next run learns the CA's time from
 * the backoff each held lineage records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "log.h"
#include "ratelimit.h"

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
    time_t now)
{
	char		when[64];
	time_t		until;
	size_t		i;
	enum err	e = ERR_OK;

	if (secs == 0 || server == NULL)
		return ERR_OK;
	until = now + (secs < 0 ? RATELIMIT_UNNAMED_S : secs);
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
		rl->v[i].until = 0;
		rl->v[i].held = 0;
		rl->n++;
	}
	/* Said once: a later answer inside the same pause only moves its
	 * end (several orders in flight meet the same limit). */
	if (until <= rl->v[i].until)
		goto out;
	if (rl->v[i].until <= now)
		log_warn("the CA at %s asked to wait %s%ld s: no new order to it "
		    "before %s%s", server, secs < 0 ? "(no time given, taken "
		    "as) " : "", secs < 0 ? RATELIMIT_UNNAMED_S : secs,
		    local_time(until, when, sizeof when), until - now >
		    RATELIMIT_WAIT_MAX ? " (longer than this run waits: its "
		    "orders left are not sent)" : "");
	rl->v[i].until = until;
out:
	pthread_mutex_unlock(&rl->mu);
	return e;
}

enum err
ratelimit_gate(struct ratelimit *rl, const char *server, time_t *until)
{
	time_t		now, end;
	size_t		i;
	enum err	e = ERR_OK;

	*until = 0;
	if (server == NULL)
		return ERR_OK;
	for (;;) {
		now = time(NULL);
		pthread_mutex_lock(&rl->mu);
		end = (i = find(rl, server)) == rl->n ? 0 : rl->v[i].until;
		if (end > now && end - now > RATELIMIT_WAIT_MAX) {
			rl->v[i].held++;
			*until = end;
			e = ERR_RATELIMIT;
		}
		pthread_mutex_unlock(&rl->mu);
		if (end <= now || e != ERR_OK)
			return e;
		log_info("waiting %lld s for the CA at %s before the next "
		    "order", (long long)(end - now), server);
		if (!acme_wait_ms((long)(end - now) * 1000L))
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
			    local_time(rl->v[i].until, when, sizeof when));
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
