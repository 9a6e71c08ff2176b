/*
 * solver.c: the order in which the outside party hears about challenges
 * and installer events, identical in every mode, and the JSON line of
 * every event.  The backends (solver_*.c) only add what a mode means.
 */
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"
#include "solver_priv.h"

static const struct {
	const char		*name;
	const struct solver_ops	*ops;
} solver_modes[] = {
	[SOLVER_JSON] = { "json", &solver_json_ops },
	[SOLVER_HANDLER] = { "handler", &solver_handler_ops },
	[SOLVER_DEHYDRATED] = { "dehydrated", &solver_dehydrated_ops },
	[SOLVER_TEXT] = { "text", &solver_text_ops },
};
_Static_assert(sizeof(solver_modes) / sizeof(solver_modes[0]) ==
    SOLVER__COUNT, "solver_modes must name every mode");

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
solver_mode_name(enum solver_mode m)
{
	if ((unsigned)m >= SOLVER__COUNT)
		return "unknown";
	return solver_modes[m].name;
}

int
solver_mode_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < SOLVER__COUNT; i++)
		if (strcmp(s, solver_modes[i].name) == 0)
			return (int)i;
	return -1;
}

struct solver *
solver_new(const struct solver_opts *o, enum err *why)
{
	struct solver	*s;

	*why = ERR_INTERNAL;
	if ((unsigned)o->mode >= SOLVER__COUNT ||
	    (s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->o = *o;
	s->o.own_fds = false;	/* set once we own them: fail paths close */
	s->ops = solver_modes[o->mode].ops;
	if (o->handler != NULL && (s->handler = strdup(o->handler)) == NULL)
		goto fail;
	s->o.handler = s->handler;
	if (s->ops->init != NULL && (*why = s->ops->init(s)) != ERR_OK)
		goto fail;
	s->o.own_fds = o->own_fds;
	*why = ERR_OK;
	return s;
fail:
	solver_free(s);
	return NULL;
}

void
solver_free(struct solver *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->fini != NULL)
		s->ops->fini(s);
	if (s->o.own_fds) {
		if (s->o.in_fd >= 0)
			close(s->o.in_fd);
		if (s->o.out_fd >= 0 && s->o.out_fd != s->o.in_fd)
			close(s->o.out_fd);
	}
	free(s->handler);
	free(s->cert_name);
	free(s->waiter.token);
	free(s->waiter.line);
	if (s->mux != NULL && solver_mux_is_reader(s->mux, s))
		solver_mux_free(s->mux);
	free(s);
}

void
solver_set_cert_name(struct solver *s, const char *name)
{
	free(s->cert_name);
	s->cert_name = name ? strdup(name) : NULL;
}

static enum err
write_all(int fd, const char *p, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("cannot write to the invoker: %s",
			    strerror(errno));
			return ERR_INVOKER;
		}
		p += w;
		len -= (size_t)w;
	}
	return ERR_OK;
}

/* Whole lines on the shared stdout, whichever of renew's workers
 * (--max-concurrent) writes one. */
static pthread_mutex_t	write_mu = PTHREAD_MUTEX_INITIALIZER;

enum err
solver_write_line(struct solver *s, const char *line)
{
	enum err	e;

	pthread_mutex_lock(&write_mu);
	if ((e = write_all(s->o.out_fd, line, strlen(line))) == ERR_OK)
		e = write_all(s->o.out_fd, "\n", 1);
	pthread_mutex_unlock(&write_mu);
	return e;
}

enum err
solver_write_text(struct solver *s, const char *text)
{
	return write_all(s->o.out_fd, text, strlen(text));
}

/*
 * Waits until in_fd is readable, a signal came or the deadline (0: none)
 * passed.  The signal's self-pipe is in the poll set, so a signal that
 * arrives just before poll() still wakes it.
 */
static enum solver_read
wait_readable(struct solver *s, int64_t deadline)
{
	struct pollfd	pfd[2];
	nfds_t		n = 1;
	int64_t		left;
	int		r;

	pfd[0].fd = s->o.in_fd;
	pfd[0].events = POLLIN;
	if (sig_fd() != -1) {
		pfd[1].fd = sig_fd();
		pfd[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		if (sig_pending() != 0)
			return SOLVER_READ_SIGNAL;
		left = -1;
		if (deadline != 0 && (left = deadline - now_ms()) <= 0)
			return SOLVER_READ_TIMEOUT;
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, n, left > INT_MAX ? INT_MAX : (int)left);
		if (r == -1 && errno != EINTR) {
			log_error("cannot wait for the invoker: %s",
			    strerror(errno));
			return SOLVER_READ_ERROR;
		}
		if (r > 0 && pfd[0].revents != 0)
			return SOLVER_READ_LINE;
	}
}

enum solver_read
solver_read_line(struct solver *s, long timeout_ms, char **line)
{
	enum solver_read	 w;
	char			*nl;
	ssize_t			 r;
	size_t			 len;
	int64_t			 deadline = 0;

	*line = NULL;
	if (timeout_ms > 0)
		deadline = now_ms() + timeout_ms;
	for (;;) {
		if ((nl = memchr(s->inbuf, '\n', s->inlen)) != NULL ||
		    (s->in_eof && s->inlen > 0)) {
			len = nl ? (size_t)(nl - s->inbuf) : s->inlen;
			/* strndup would cut the line at the NUL and read
			 * what is left as a valid reply. */
			if (memchr(s->inbuf, '\0', len) != NULL)
				w = SOLVER_READ_NUL;
			else if ((*line = strndup(s->inbuf, len)) == NULL) {
				log_error("out of memory");
				return SOLVER_READ_ERROR;
			} else
				w = SOLVER_READ_LINE;
			if (nl != NULL)
				len++;
			memmove(s->inbuf, s->inbuf + len, s->inlen - len);
			s->inlen -= len;
			return w;
		}
		if (s->in_eof)
			return SOLVER_READ_EOF;
		if (s->inlen == sizeof s->inbuf) {
			log_error("a line from the invoker exceeds %zu bytes",
			    sizeof s->inbuf);
			return SOLVER_READ_ERROR;
		}
		if ((w = wait_readable(s, deadline)) != SOLVER_READ_LINE)
			return w;
		r = read(s->o.in_fd, s->inbuf + s->inlen,
		    sizeof s->inbuf - s->inlen);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == -1) {
			log_error("cannot read from the invoker: %s",
			    strerror(errno));
			return SOLVER_READ_ERROR;
		}
		if (r == 0)
			s->in_eof = true;
		s->inlen += (size_t)r;
	}
}

/*
 * Whether the JSON line of an event of kind k goes to o.out_fd.  Never in
 * text mode (a person reads prose).  Under -q only the lines an invoker
 * must act on (all but the report) in JSON mode, where they are the
 * protocol; in handler and dehydrated modes nobody answers stdout, so
 * nothing.  Without -q, every event that has a line.
 */
static bool
prints_line(const struct solver *s, enum event_kind k)
{
	if (s->o.mode == SOLVER_TEXT || !event_has_line(k))
		return false;
	if (s->o.quiet)
		return s->o.mode == SOLVER_JSON && event_must_act(k);
	return true;
}

/* Prints the event's line where the mode has lines, then the backend. */
static enum err
emit(struct solver *s, const struct event *ev)
{
	char		*line;
	enum err	 e;

	if (prints_line(s, ev->kind)) {
		if ((line = event_json_line(ev)) == NULL)
			return ERR_INTERNAL;
		/* Shared input: the line is queued for its reply as it is
		 * written. */
		if (s->mux != NULL && ev->kind == EVENT_PERFORM &&
		    s->o.mode == SOLVER_JSON && !s->o.no_ack)
			e = solver_mux_post(s, line, json_string_value(
			    json_object_get(ev->rec, "token")));
		else
			e = solver_write_line(s, line);
		free(line);
		if (e != ERR_OK)
			return e;
	}
	return s->ops->deliver(s, ev);
}

enum err
solver_emit(struct solver *s, struct event *ev)
{
	enum err	e;

	if (ev == NULL)
		return ERR_INTERNAL;
	if (s->cert_name != NULL && event_has_line(ev->kind) &&
	    json_object_get(ev->rec, "cert_name") == NULL &&
	    ev->kind != EVENT_REPORT)
		json_object_set_new(ev->rec, "cert_name",
		    json_string(s->cert_name));
	e = emit(s, ev);
	event_free(ev);
	return e;
}

static enum err
emit_phase(struct solver *s, enum event_kind k)
{
	return solver_emit(s, event_phase(k));
}

/* Perform or cleanup events of every challenge in the chain, in one call. */
static enum err
chain(struct solver *s, enum event_kind k, struct challenge **chs, size_t n)
{
	struct event	**evs;
	char		 *line;
	enum err	  e = ERR_INTERNAL;
	size_t		  i, m = 0;

	if ((evs = calloc(n ? n : 1, sizeof *evs)) == NULL)
		return ERR_INTERNAL;
	for (i = 0; i < n; i++) {
		if (k == EVENT_CLEANUP && !chs[i]->performed)
			continue;
		/* Stopping: no challenge is deployed after the signal. */
		if (k == EVENT_PERFORM && sig_pending() != 0) {
			e = ERR_SIGNAL;
			goto out;
		}
		if ((evs[m] = event_challenge(k, chs[i], s->cert_name)) == NULL)
			goto out;
		if (prints_line(s, k)) {
			if ((line = event_json_line(evs[m])) == NULL)
				goto out;
			e = solver_write_line(s, line);
			free(line);
			if (e != ERR_OK)
				goto out;
		}
		chs[i]->performed = true;
		m++;
	}
	e = m > 0 ? s->ops->deliver_chain(s, evs, m) : ERR_OK;
out:
	for (i = 0; i < n; i++)
		event_free(evs[i]);
	free(evs);
	return e;
}

/*
 * --parallel-hooks: the perform (or cleanup) calls of one order on up to
 * SOLVER_FAN_MAX threads, the calling one among them.  Each call is a
 * whole solver_emit (its line written whole under write_mu, then its own
 * handler with its own timeout); the threads take the challenges in order
 * from next.  A perform that failed, or a stop signal, ends the hand-out
 * of performs (as the loop in solver_perform stops); cleanup goes on to
 * the last performed challenge whatever fails.
 */
#define SOLVER_FAN_MAX	16

struct fan {
	struct solver		 *s;
	struct challenge	**chs;
	size_t			  n;
	enum event_kind		  k;
	pthread_mutex_t		  mu;
	size_t			  next;		/* next challenge to hand out */
	enum err		  first;	/* first error */
};

/* The next challenge to deliver, or -1: none left (or stop handing out). */
static long
fan_take(struct fan *f)
{
	long	i = -1;

	pthread_mutex_lock(&f->mu);
	if (f->k == EVENT_PERFORM && f->first == ERR_OK && sig_pending() != 0)
		f->first = ERR_SIGNAL;
	while (f->k == EVENT_CLEANUP && f->next < f->n &&
	    !f->chs[f->next]->performed)
		f->next++;
	if (f->next < f->n && (f->k == EVENT_CLEANUP || f->first == ERR_OK)) {
		i = (long)f->next++;
		/* Told is told: cleanup covers it even if it then fails. */
		if (f->k == EVENT_PERFORM)
			f->chs[i]->performed = true;
	}
	pthread_mutex_unlock(&f->mu);
	return i;
}

static void *
fan_worker(void *arg)
{
	struct fan	*f = arg;
	enum err	 e;
	long		 i;

	while ((i = fan_take(f)) != -1) {
		e = solver_emit(f->s, event_challenge(f->k, f->chs[i],
		    f->s->cert_name));
		pthread_mutex_lock(&f->mu);
		if (e != ERR_OK && f->first == ERR_OK)
			f->first = e;
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

/*
 * Runs the calls of kind k for chs on threads; the first error.  A thread
 * that cannot be made is no failure: the calling thread works through
 * what is left.  The threads inherit a mask with the stop signals blocked
 * (as pool.c's workers): the signal reaches the main thread, and the
 * calls see it through sig_pending() and the signal pipe.
 */
static enum err
fan_out(struct solver *s, enum event_kind k, struct challenge **chs,
    size_t n)
{
	struct fan	f = { .s = s, .chs = chs, .n = n, .k = k };
	pthread_t	tid[SOLVER_FAN_MAX];
	sigset_t	stop, old;
	size_t		made = 0, want, j;

	pthread_mutex_init(&f.mu, NULL);
	want = n < SOLVER_FAN_MAX ? n : SOLVER_FAN_MAX;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	while (made + 1 < want &&
	    pthread_create(&tid[made], NULL, fan_worker, &f) == 0)
		made++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fan_worker(&f);
	for (j = 0; j < made; j++)
		pthread_join(tid[j], NULL);
	pthread_mutex_destroy(&f.mu);
	return f.first;
}

/* Whether the calls of one order go through fan_out. */
static bool
fans_out(const struct solver *s, size_t n)
{
	return s->o.parallel_hooks && n > 1 &&
	    (s->o.mode == SOLVER_HANDLER || s->o.mode == SOLVER_DEHYDRATED);
}

enum err
solver_perform(struct solver *s, struct challenge **chs, size_t n)
{
	enum err	e;
	size_t		i;

	if (sig_pending() != 0)
		return ERR_SIGNAL;
	if ((e = emit_phase(s, EVENT_PRE_PERFORM)) != ERR_OK)
		return e;
	if (s->o.hook_chain && s->ops->deliver_chain != NULL) {
		if ((e = chain(s, EVENT_PERFORM, chs, n)) != ERR_OK)
			return e;
	} else if (fans_out(s, n)) {
		if ((e = fan_out(s, EVENT_PERFORM, chs, n)) != ERR_OK)
			return e;
	} else {
		for (i = 0; i < n; i++) {
			/* Stopping: no challenge is deployed after the
			 * signal; cleanup covers those before it. */
			if (sig_pending() != 0)
				return ERR_SIGNAL;
			/* Told is told: cleanup covers it even if the
			 * outside party then failed. */
			chs[i]->performed = true;
			e = solver_emit(s, event_challenge(EVENT_PERFORM,
			    chs[i], s->cert_name));
			if (e != ERR_OK)
				return e;
		}
	}
	return emit_phase(s, EVENT_POST_PERFORM);
}

enum err
solver_invalid(struct solver *s, const struct challenge *ch)
{
	return solver_emit(s, event_challenge(EVENT_INVALID_CHALLENGE, ch,
	    s->cert_name));
}

/*
 * Cleanup runs to the end whatever fails on the way: a challenge left
 * deployed is a record left in someone's DNS.  The first error wins.
 */
enum err
solver_cleanup(struct solver *s, struct challenge **chs, size_t n)
{
	enum err	e, first = ERR_OK;
	size_t		i;
	bool		any = false;

	for (i = 0; i < n; i++)
		any |= chs[i]->performed;
	if (!any)
		return ERR_OK;
	if ((e = emit_phase(s, EVENT_PRE_CLEANUP)) != ERR_OK)
		first = e;
	if (s->o.hook_chain && s->ops->deliver_chain != NULL) {
		if ((e = chain(s, EVENT_CLEANUP, chs, n)) != ERR_OK &&
		    first == ERR_OK)
			first = e;
	} else if (fans_out(s, n)) {
		if ((e = fan_out(s, EVENT_CLEANUP, chs, n)) != ERR_OK &&
		    first == ERR_OK)
			first = e;
	} else {
		for (i = 0; i < n; i++) {
			if (!chs[i]->performed)
				continue;
			e = solver_emit(s, event_challenge(EVENT_CLEANUP,
			    chs[i], s->cert_name));
			if (e != ERR_OK && first == ERR_OK)
				first = e;
		}
	}
	if ((e = emit_phase(s, EVENT_POST_CLEANUP)) != ERR_OK &&
	    first == ERR_OK)
		first = e;
	return first;
}
