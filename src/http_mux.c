/*
 * http_mux.c: the I/O thread of a run's shared libcurl multi handle
 * (http_mux.h).  Owns the multi handle, the queue of easy handles handed
 * in by workers, and the thread.  Only the I/O thread touches the multi
 * handle (libcurl's handles are not thread-safe); the workers meet it
 * under mu and wake it with curl_multi_wakeup, the one multi call that is.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http_mux.h"
#include "log.h"

/* How long the thread sleeps when nothing happens: it wakes sooner for a
 * new transfer (curl_multi_wakeup) or a libcurl timer. */
#define HTTP_MUX_POLL_MS	1000

/* One transfer handed in; lives on http_mux_perform's stack. */
struct mux_req {
	CURL		*easy;
	CURLcode	 rc;
	bool		 done;
	struct mux_req	*next;
};

struct http_mux {
	CURLM		*multi;
	pthread_mutex_t	 mu;
	pthread_cond_t	 done;		/* broadcast when a transfer ends */
	struct mux_req	*queue;		/* handed in, not yet added */
	struct mux_req	*tail;
	pthread_t	 tid;
	bool		 started;	/* tid is running */
	bool		 failed;	/* it could not start: run inline */
	bool		 stop;
};

/* Marks r done with rc and wakes its waiter (mu held by the caller). */
static void
finish(struct http_mux *m, struct mux_req *r, CURLcode rc)
{
	r->rc = rc;
	r->done = true;
	pthread_cond_broadcast(&m->done);
}

/* Moves the queue into the multi handle; the number of transfers added.
 * mu is held. */
static int
take_queue(struct http_mux *m)
{
	struct mux_req	*r;
	int		 added = 0;

	while ((r = m->queue) != NULL) {
		m->queue = r->next;
		if (m->queue == NULL)
			m->tail = NULL;
		if (curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) !=
		    CURLE_OK || curl_multi_add_handle(m->multi, r->easy) !=
		    CURLM_OK) {
			finish(m, r, CURLE_FAILED_INIT);
			continue;
		}
		added++;
	}
	return added;
}

static void *
io_thread(void *arg)
{
	struct http_mux	*m = arg;
	struct mux_req	*r;
	CURLMsg		*msg;
	CURLcode	 rc;
	CURL		*easy;
	char		*priv;
	int		 active = 0, running, left;
	bool		 stop;

	for (;;) {
		pthread_mutex_lock(&m->mu);
		active += take_queue(m);
		stop = m->stop;
		pthread_mutex_unlock(&m->mu);
		if (stop && active == 0)
			break;
		(void)curl_multi_perform(m->multi, &running);
		while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg is libcurl's until the handle is removed. */
			easy = msg->easy_handle;
			rc = msg->data.result;
			priv = NULL;
			(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
			r = (struct mux_req *)(void *)priv;
			(void)curl_multi_remove_handle(m->multi, easy);
			active--;
			if (r == NULL)
				continue;
			pthread_mutex_lock(&m->mu);
			finish(m, r, rc);
			pthread_mutex_unlock(&m->mu);
		}
		(void)curl_multi_poll(m->multi, NULL, 0, HTTP_MUX_POLL_MS,
		    NULL);
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
	if ((m->multi = curl_multi_init()) == NULL) {
		log_error("http: curl_multi_init failed");
		free(m);
		return NULL;
	}
	/* Multiplexing is libcurl's default since 7.62; said here because
	 * the one connection of issue 10 rests on it. */
	(void)curl_multi_setopt(m->multi, CURLMOPT_PIPELINING,
	    (long)CURLPIPE_MULTIPLEX);
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->done, NULL);
	return m;
}

void
http_mux_free(struct http_mux *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_mutex_unlock(&m->mu);
	if (m->started) {
		(void)curl_multi_wakeup(m->multi);
		pthread_join(m->tid, NULL);
	}
	curl_multi_cleanup(m->multi);
	pthread_cond_destroy(&m->done);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/*
 * Starts the I/O thread (mu held).  It takes no stop signal: those stay
 * with the main thread (sig.h), and a transfer learns of a stop through
 * http.c's progress callback, which runs on this thread.
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
	(void)curl_multi_wakeup(m->multi);
	pthread_mutex_lock(&m->mu);
	while (!r.done)
		pthread_cond_wait(&m->done, &m->mu);
	pthread_mutex_unlock(&m->mu);
	return r.rc;
}
