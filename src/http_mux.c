/*
 * http_mux.c: the I/O thread of a run's shared libcurl multi handle
 * (http_mux.h).  Owns the multi handles, the queue of easy handles handed
 * in by workers, the wake-up pipe and the thread.  Only the I/O thread
 * touches a multi handle (libcurl's handles are not thread-safe); the
 * workers meet it under mu and wake it through the pipe.
 *
 * One shared connection is one point of failure: a connection that stops
 * moving without closing (a NAT or middlebox that drops it silently) looks
 * alive to libcurl, which puts every retry back on it, so every order of
 * the run would fail.  So a transfer that times out or breaks retires the
 * multi handle it ran on: new transfers go to a fresh one (new
 * connection), and the old one is closed once its transfers end.  (It
 * cannot help when the CA itself stops answering: Pebble 2.10's store
 * deadlocks now and then under 16 to 32 orders in flight, and a fresh
 * connection meets the same silence.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_mux.h"
#include "log.h"

/* How long the thread sleeps when nothing happens: it wakes sooner for a
 * new transfer (the pipe) or a libcurl timer.  While retired handles
 * drain, their sockets are not polled: they are driven at this pace. */
#define HTTP_MUX_POLL_MS	1000
#define HTTP_MUX_DRAIN_MS	100
/* Retired multi handles still draining; when all are busy, the current
 * one is kept (and libcurl's own timeouts still end its transfers). */
#define HTTP_MUX_RETIRED_MAX	4

/* One transfer handed in; lives on http_mux_perform's stack. */
struct mux_req {
	CURL		*easy;
	CURLcode	 rc;
	bool		 done;
	struct mux_req	*next;
};

/* A multi handle and the number of transfers it runs. */
struct mux_multi {
	CURLM		*h;
	int		 active;
};

struct http_mux {
	/* The I/O thread's alone. */
	struct mux_multi cur;
	struct mux_multi retired[HTTP_MUX_RETIRED_MAX];
	long		 resets;
	/* Shared, under mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 done;		/* broadcast when a transfer ends */
	struct mux_req	*queue;		/* handed in, not yet added */
	struct mux_req	*tail;
	bool		 started;	/* tid is running */
	bool		 failed;	/* it could not start: run inline */
	bool		 stop;
	pthread_t	 tid;
	int		 wake[2];	/* pipe: a byte wakes the thread */
};

/* Failures after which the connection is not trusted with more: no
 * answer in time, or the connection broke under the transfer. */
static const CURLcode	mux_retire_on[] = {
	CURLE_OPERATION_TIMEDOUT,
	CURLE_HTTP2,
	CURLE_HTTP2_STREAM,
	CURLE_SEND_ERROR,
	CURLE_RECV_ERROR,
	CURLE_GOT_NOTHING,
	CURLE_PARTIAL_FILE,
};

static bool
retire_on(CURLcode rc)
{
	size_t	i;

	for (i = 0; i < sizeof mux_retire_on / sizeof mux_retire_on[0]; i++)
		if (mux_retire_on[i] == rc)
			return true;
	return false;
}

/* A new multi handle, or NULL. */
static CURLM *
multi_new(void)
{
	CURLM	*h;

	if ((h = curl_multi_init()) == NULL)
		return NULL;
	/* Multiplexing is libcurl's default since 7.62; said here because
	 * the one connection of issue 10 rests on it. */
	(void)curl_multi_setopt(h, CURLMOPT_PIPELINING,
	    (long)CURLPIPE_MULTIPLEX);
	return h;
}

/* Marks r done with rc and wakes its waiter (mu held by the caller). */
static void
finish(struct http_mux *m, struct mux_req *r, CURLcode rc)
{
	r->rc = rc;
	r->done = true;
	pthread_cond_broadcast(&m->done);
}

/* Moves the queue into the current multi handle (mu held). */
static void
take_queue(struct http_mux *m)
{
	struct mux_req	*r;

	while ((r = m->queue) != NULL) {
		m->queue = r->next;
		if (m->queue == NULL)
			m->tail = NULL;
		if (curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) !=
		    CURLE_OK || curl_multi_add_handle(m->cur.h, r->easy) !=
		    CURLM_OK) {
			finish(m, r, CURLE_FAILED_INIT);
			continue;
		}
		m->cur.active++;
	}
}

/*
 * Retires the current multi handle: its transfers run to their end, new
 * ones get a fresh handle (and so a new connection).  Kept when no slot
 * is free or no new handle can be made.
 */
static void
retire(struct http_mux *m)
{
	CURLM	*fresh;
	size_t	 i;

	for (i = 0; i < HTTP_MUX_RETIRED_MAX; i++)
		if (m->retired[i].h == NULL)
			break;
	if (i == HTTP_MUX_RETIRED_MAX || (fresh = multi_new()) == NULL)
		return;
	m->retired[i] = m->cur;
	m->cur.h = fresh;
	m->cur.active = 0;
	m->resets++;
	log_debug("http: a transfer timed out or broke on the shared "
	    "connection: new requests go over a new one");
}

/* Runs mm's transfers and hands back those that ended; true when one
 * ended in a way that retires its connection. */
static bool
drive(struct http_mux *m, struct mux_multi *mm)
{
	struct mux_req	*r;
	CURLMsg		*msg;
	CURLcode	 rc;
	CURL		*easy;
	char		*priv;
	int		 running, left;
	bool		 bad = false;

	(void)curl_multi_perform(mm->h, &running);
	while ((msg = curl_multi_info_read(mm->h, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is libcurl's until the handle is removed. */
		easy = msg->easy_handle;
		rc = msg->data.result;
		priv = NULL;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		r = (struct mux_req *)(void *)priv;
		(void)curl_multi_remove_handle(mm->h, easy);
		mm->active--;
		if (retire_on(rc))
			bad = true;
		if (r == NULL)
			continue;
		pthread_mutex_lock(&m->mu);
		finish(m, r, rc);
		pthread_mutex_unlock(&m->mu);
	}
	return bad;
}

static void *
io_thread(void *arg)
{
	struct http_mux		*m = arg;
	struct curl_waitfd	 wfd;
	char			 buf[64];
	size_t			 i;
	bool			 stop, draining;

	for (;;) {
		pthread_mutex_lock(&m->mu);
		take_queue(m);
		stop = m->stop;
		pthread_mutex_unlock(&m->mu);
		draining = false;
		for (i = 0; i < HTTP_MUX_RETIRED_MAX; i++) {
			if (m->retired[i].h == NULL)
				continue;
			(void)drive(m, &m->retired[i]);
			if (m->retired[i].active == 0) {
				curl_multi_cleanup(m->retired[i].h);
				m->retired[i].h = NULL;
			} else
				draining = true;
		}
		if (stop && m->cur.active == 0 && !draining)
			break;
		if (drive(m, &m->cur))
			retire(m);
		memset(&wfd, 0, sizeof wfd);
		wfd.fd = m->wake[0];
		wfd.events = CURL_WAIT_POLLIN;
		(void)curl_multi_poll(m->cur.h, &wfd, 1, draining ?
		    HTTP_MUX_DRAIN_MS : HTTP_MUX_POLL_MS, NULL);
		while (read(m->wake[0], buf, sizeof buf) > 0)
			;
	}
	return NULL;
}

/* Returns a mux the caller frees with http_mux_free, or NULL (logged). */
struct http_mux *
http_mux_new(void)
{
	struct http_mux	*m;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		log_error("http: out of memory");
		return NULL;
	}
	m->wake[0] = m->wake[1] = -1;
	if (pipe2(m->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_error("http: pipe: %s", strerror(errno));
		free(m);
		return NULL;
	}
	if ((m->cur.h = multi_new()) == NULL) {
		log_error("http: curl_multi_init failed");
		close(m->wake[0]);
		close(m->wake[1]);
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->done, NULL);
	return m;
}

/* Wakes the I/O thread; a full pipe already will. */
static void
wake(struct http_mux *m)
{
	ssize_t	n;

	do
		n = write(m->wake[1], "", 1);
	while (n == -1 && errno == EINTR);
}

void
http_mux_free(struct http_mux *m)
{
	size_t	i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_mutex_unlock(&m->mu);
	if (m->started) {
		wake(m);
		pthread_join(m->tid, NULL);
	}
	if (m->resets > 0)
		log_debug("http: the shared connection was replaced %ld "
		    "time%s", m->resets, m->resets == 1 ? "" : "s");
	for (i = 0; i < HTTP_MUX_RETIRED_MAX; i++)
		if (m->retired[i].h != NULL)
			curl_multi_cleanup(m->retired[i].h);
	curl_multi_cleanup(m->cur.h);
	close(m->wake[0]);
	close(m->wake[1]);
	pthread_cond_destroy(&m->done);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/*
 * Starts the I/O thread (mu held).  It takes no signal: the stop signals
 * stay with the main thread (sig.h), and a transfer learns of a stop
 * through http.c's progress callback, which runs on this thread.
 */
static bool
start(struct http_mux *m)
{
	sigset_t	all, old;
	int		r;

	if (m->started || m->failed)
		return m->started;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&m->tid, NULL, io_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_warn("http: no I/O thread (%s): each worker uses its own "
		    "connection", strerror(r));
		m->failed = true;
		return false;
	}
	m->started = true;
	return true;
}

CURLcode
http_mux_perform(struct http_mux *m, CURL *easy)
{
	struct mux_req	r = { .easy = easy };
	bool		inline_ = false;

	/* Waits for the connection the others use rather than opening its
	 * own, until libcurl knows whether that one multiplexes. */
	(void)curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
	pthread_mutex_lock(&m->mu);
	if (m->stop || !start(m))
		inline_ = true;
	else {
		if (m->tail != NULL)
			m->tail->next = &r;
		else
			m->queue = &r;
		m->tail = &r;
	}
	pthread_mutex_unlock(&m->mu);
	if (inline_)
		return curl_easy_perform(easy);
	wake(m);
	pthread_mutex_lock(&m->mu);
	while (!r.done)
		pthread_cond_wait(&m->done, &m->mu);
	pthread_mutex_unlock(&m->mu);
	return r.rc;
}
