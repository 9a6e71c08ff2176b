/*
 * solver_mux.c: JSON mode with several orders in flight on one invoker
 * (certonly --batch --max-concurrent N).  Owns the queue of perform lines
 * still waiting for a reply, in the order they were written, and the
 * hand-out of each reply read from the shared input: to the perform line
 * whose "token" the reply names, else to the oldest one waiting (FIFO,
 * exactly as one order at a time reads them).
 *
 * One reader at a time: a waiting worker that finds nobody reading reads
 * the next line itself (the primary solver's in_fd and buffer), hands it
 * out and wakes the others; the rest wait on the condition variable, each
 * with its own --invoker-timeout.  End of input, a read error and a stop
 * signal reach every waiter.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "sig.h"
#include "solver_priv.h"

struct solver_mux {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct solver		*reader;	/* the primary: in_fd, inbuf */
	bool			 reading;	/* a waiter is in read */
	struct solver_waiter	*head;		/* in the order written */
};

/* Serializes the first sibling's making of the primary's mux. */
static pthread_mutex_t	mux_make_mu = PTHREAD_MUTEX_INITIALIZER;

/* The primary's mux, made on first use; NULL if out of memory. */
static struct solver_mux *
mux_of(struct solver *primary)
{
	struct solver_mux	*m;
	pthread_condattr_t	 ca;

	pthread_mutex_lock(&mux_make_mu);
	if ((m = primary->mux) == NULL && (m = calloc(1, sizeof *m)) != NULL) {
		pthread_mutex_init(&m->mu, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&m->cv, &ca);
		pthread_condattr_destroy(&ca);
		m->reader = primary;
		primary->mux = m;
	}
	pthread_mutex_unlock(&mux_make_mu);
	return m;
}

bool
solver_mux_is_reader(const struct solver_mux *m, const struct solver *s)
{
	return m->reader == s;
}

/* Caller (solver_free of the primary) made sure nobody waits any more. */
void
solver_mux_free(struct solver_mux *m)
{
	if (m == NULL)
		return;
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

struct solver *
solver_sibling(struct solver *primary, enum err *why)
{
	struct solver_opts	 o = primary->o;
	struct solver		*s;

	o.own_fds = false;
	if ((s = solver_new(&o, why)) == NULL)
		return NULL;
	if (o.mode == SOLVER_JSON && (s->mux = mux_of(primary)) == NULL) {
		log_error("out of memory");
		*why = ERR_INTERNAL;
		solver_free(s);
		return NULL;
	}
	return s;
}

static void
unlink_waiter(struct solver_mux *m, struct solver_waiter *w)
{
	struct solver_waiter	**pp;

	for (pp = &m->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	w->next = NULL;
	w->queued = false;
}

enum err
solver_mux_post(struct solver *s, const char *line, const char *token)
{
	struct solver_mux	 *m = s->mux;
	struct solver_waiter	 *w = &s->waiter, **pp;
	enum err		  e;

	free(w->token);
	free(w->line);
	memset(w, 0, sizeof *w);
	if (token != NULL && (w->token = strdup(token)) == NULL)
		return ERR_INTERNAL;
	/* Queued and written under one lock: the queue's order is the
	 * order of the lines on the wire. */
	pthread_mutex_lock(&m->mu);
	for (pp = &m->head; *pp != NULL; pp = &(*pp)->next)
		continue;
	*pp = w;
	w->queued = true;
	if ((e = solver_write_line(s, line)) != ERR_OK)
		unlink_waiter(m, w);
	pthread_mutex_unlock(&m->mu);
	return e;
}

/* Marks w answered with r (and line, which it takes). */
static void
answer(struct solver_waiter *w, enum solver_read r, char *line)
{
	w->done = true;
	w->r = r;
	w->line = line;
}

/*
 * Hands out what the reader got: a line to the waiter whose token it
 * names, else to the oldest waiter not answered; end of input, errors and
 * a signal to all of them.  A reply that names a token nobody waits for
 * goes to the oldest, whose check (solver_json.c) refuses it.
 */
static void
dispatch(struct solver_mux *m, enum solver_read r, char *line)
{
	struct solver_waiter	*w, *to = NULL;
	const char		*tok = NULL;
	json_t			*reply = NULL;

	if (r == SOLVER_READ_EOF || r == SOLVER_READ_ERROR ||
	    r == SOLVER_READ_SIGNAL) {
		for (w = m->head; w != NULL; w = w->next)
			if (!w->done)
				answer(w, r, NULL);
		return;
	}
	if (r == SOLVER_READ_LINE && (reply = json_loads(line, 0, NULL)) !=
	    NULL)
		tok = json_string_value(json_object_get(reply, "token"));
	for (w = m->head; tok != NULL && w != NULL; w = w->next)
		if (!w->done && w->token != NULL && strcmp(w->token, tok) == 0)
			to = w;
	for (w = m->head; to == NULL && w != NULL; w = w->next)
		if (!w->done)
			to = w;
	json_decref(reply);
	if (to != NULL)
		answer(to, r, line);
	else
		free(line);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum solver_read
solver_mux_wait(struct solver *s, long timeout_ms, char **line)
{
	struct solver_mux	*m = s->mux;
	struct solver_waiter	*w = &s->waiter;
	struct timespec		 ts;
	enum solver_read	 r;
	int64_t			 deadline = 0, left = 0;
	char			*l;

	*line = NULL;
	if (timeout_ms > 0)
		deadline = now_ms() + timeout_ms;
	pthread_mutex_lock(&m->mu);
	while (!w->done) {
		if (deadline != 0 && (left = deadline - now_ms()) <= 0) {
			answer(w, SOLVER_READ_TIMEOUT, NULL);
			break;
		}
		if (!m->reading) {
			m->reading = true;
			pthread_mutex_unlock(&m->mu);
			l = NULL;
			r = solver_read_line(m->reader, (long)left, &l);
			pthread_mutex_lock(&m->mu);
			m->reading = false;
			/* Its own time ran out: the others read on. */
			if (r == SOLVER_READ_TIMEOUT)
				answer(w, r, NULL);
			else
				dispatch(m, r, l);
			pthread_cond_broadcast(&m->cv);
			continue;
		}
		if (deadline == 0) {
			pthread_cond_wait(&m->cv, &m->mu);
			continue;
		}
		ts.tv_sec = deadline / 1000;
		ts.tv_nsec = (deadline % 1000) * 1000000;
		(void)pthread_cond_timedwait(&m->cv, &m->mu, &ts);
	}
	unlink_waiter(m, w);
	pthread_mutex_unlock(&m->mu);
	r = w->r;
	*line = w->line;
	w->line = NULL;
	return r;
}
