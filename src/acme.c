/*
 * acme.c: the wire side of RFC 8555: directory, nonces, signed requests
 * and their retries, problem documents, accounts.  The order state machine
 * is in order.c.  Every request (directory GET, nonce HEAD, POST-as-GET,
 * POST) goes through request(), so there is one retry policy: 5xx, 429,
 * dropped connections and timeouts are retried, Retry-After is honoured,
 * and both the attempts and the total wait are capped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "jws.h"
#include "log.h"
#include "ratelimit.h"
#include "sig.h"

#define ACME_ATTEMPTS		4	/* per request: 5xx, 429, transport */
#define ACME_RETRY_TOTAL_MS	(150 * 1000)	/* all waits of one request */
#define ACME_BACKOFF_FIRST_MS	250	/* without Retry-After: 0.25, 0.5, 1 s */
/* badNonce is the CA's to give at will (Pebble rejects 5% of good nonces
 * by default, and tests run it at 50%): retry it on its own budget, so a
 * request fails only if 1 in 2^20 tries at 50%. */
#define ACME_BADNONCE_MAX	20
#define ACME_RETRY_AFTER_MAX	120	/* longest Retry-After we wait out */
#define ACME_NONCE_POOL		8

struct acme {
	struct http	*http;
	char		*dir_url;
	json_t		*dir;		/* the directory object */
	const char	*urls[ACME_URL__COUNT];	/* borrowed from dir */
	bool		 eab_required;
	char		*nonces[ACME_NONCE_POOL];
	size_t		 n_nonces;
	EVP_PKEY	*key;		/* account key, borrowed */
	char		*kid;		/* account URL */
	long		 requests;	/* for benchmarks */
	acme_failure_cb	 on_failure;
	void		*on_failure_arg;
	bool		 cross_origin;	/* --allow-cross-origin */
	long		 ratelimit_retry;	/* last rateLimited Retry-After, s */
	/* The run's pauses (ratelimit.h), borrowed; NULL for a run of one
	 * order.  Told of every answer asking for a pause as it arrives,
	 * asked before each newOrder is sent. */
	struct ratelimit *rl;
	time_t		 ratelimit_held;	/* a newOrder held: its end */
};

/* Directory member of each endpoint (the directory itself has none). */
static const char *const url_keys[] = {
	[ACME_URL_DIRECTORY] = NULL,
	[ACME_URL_NEW_NONCE] = "newNonce",
	[ACME_URL_NEW_ACCOUNT] = "newAccount",
	[ACME_URL_NEW_ORDER] = "newOrder",
	[ACME_URL_REVOKE_CERT] = "revokeCert",
	[ACME_URL_KEY_CHANGE] = "keyChange",
	[ACME_URL_RENEWAL_INFO] = "renewalInfo",
};
_Static_assert(sizeof(url_keys) / sizeof(url_keys[0]) == ACME_URL__COUNT,
    "url_keys must name every enum acme_url");

bool
acme_wait_ms(long ms)
{
	/* sig.c's sleep ends on a signal (the caller sees sig_pending()
	 * and stops) and keeps a progress line up to date on a terminal. */
	if (ms > 0 && sig_pending() == 0)
		sig_sleep_ms(ms);
	return sig_pending() == 0;
}

/* One request as request() sends it. */
struct req {
	const char		*what;		/* "newOrder", for messages */
	enum http_method	 method;
	const char		*url;
	bool			 sign;		/* a JWS POST (payload NULL:
						 * POST-as-GET) */
	const char		*payload;
	bool			 use_jwk;
	const char		*accept;
	/* Non-NULL: the request changes state at the CA, so it is sent at
	 * most once: when it went out and no answer came back, *lost is
	 * set and the caller looks at the state instead of a resend. */
	bool			*lost;
	/* Non-NULL: a problem type (suffix, ":accountDoesNotExist") that
	 * is an answer the caller expects, not a failure: not logged as an
	 * error, not told to the failure callback. */
	const char		*expect;
};

/* Where one request stands in the retry policy. */
struct tries {
	int	attempt;	/* 1 for the first send */
	long	waited_ms;	/* total of the waits so far */
	long	backoff_ms;	/* next wait when the CA names none */
};

static const char *const method_names[] = {
	[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_POST] = "POST",
};
_Static_assert(sizeof(method_names) / sizeof(method_names[0]) ==
    HTTP_METHOD__COUNT, "method_names must name every method");

static enum err	request(struct acme *, const struct req *,
		    struct http_response *, struct acme_problem *);

/* The body of resp as a JSON object; *out new reference, or NULL and a
 * logged error naming what and url. */
static enum err
json_object_of(const struct http_response *resp, const char *what,
    const char *url, json_t **out)
{
	json_error_t	jerr;

	if ((*out = json_loadb(resp->body, resp->body_len, 0, &jerr)) != NULL &&
	    json_is_object(*out))
		return ERR_OK;
	log_error("%s: %s answered HTTP %ld with something that is not a JSON "
	    "object (%s)", what, url, resp->status, *out == NULL ? jerr.text :
	    "another JSON value");
	json_decref(*out);
	*out = NULL;
	return ERR_ACME;
}

enum err
acme_new(struct http *http, const char *dir_url, struct acme **out)
{
	const struct req	 dreq = { "ACME directory", HTTP_GET, dir_url,
		false, NULL, false, "application/json", NULL, NULL };
	struct http_response	 resp = { 0 };
	struct acme		*a;
	enum err		 e = ERR_ACME;
	int			 i;

	*out = NULL;
	if ((a = calloc(1, sizeof *a)) == NULL ||
	    (a->dir_url = strdup(dir_url)) == NULL) {
		free(a);
		return ERR_INTERNAL;
	}
	a->http = http;
	if ((e = request(a, &dreq, &resp, NULL)) != ERR_OK ||
	    (e = json_object_of(&resp, "ACME directory", dir_url, &a->dir)) !=
	    ERR_OK)
		goto out;
	e = ERR_ACME;
	a->urls[ACME_URL_DIRECTORY] = a->dir_url;
	for (i = ACME_URL_DIRECTORY + 1; i < ACME_URL__COUNT; i++)
		a->urls[i] = json_string_value(json_object_get(a->dir,
		    url_keys[i]));
	a->eab_required = json_is_true(acme_meta(a, "externalAccountRequired"));
	if (a->urls[ACME_URL_NEW_NONCE] == NULL ||
	    a->urls[ACME_URL_NEW_ACCOUNT] == NULL ||
	    a->urls[ACME_URL_NEW_ORDER] == NULL) {
		log_error("ACME directory %s lacks newNonce, newAccount or "
		    "newOrder", dir_url);
		goto out;
	}
	e = ERR_OK;
	*out = a;
	a = NULL;
out:
	http_response_clear(&resp);
	acme_free(a);
	return e;
}

void
acme_free(struct acme *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n_nonces; i++)
		free(a->nonces[i]);
	json_decref(a->dir);
	free(a->dir_url);
	free(a->kid);
	free(a);
}

const char *
acme_url(const struct acme *a, enum acme_url which)
{
	if ((unsigned)which >= ACME_URL__COUNT)
		return NULL;
	return a->urls[which];
}

json_t *
acme_meta(const struct acme *a, const char *key)
{
	return json_object_get(json_object_get(a->dir, "meta"), key);
}

const char *
acme_kid(const struct acme *a)
{
	return a->kid;
}

EVP_PKEY *
acme_key(const struct acme *a)
{
	return a->key;
}

long
acme_requests(const struct acme *a)
{
	return a->requests;
}

void
acme_set_failure_cb(struct acme *a, acme_failure_cb cb, void *arg)
{
	a->on_failure = cb;
	a->on_failure_arg = arg;
}

void
acme_allow_cross_origin(struct acme *a, bool allow)
{
	a->cross_origin = allow;
}

enum err
acme_check_origin(const struct acme *a, const char *what, const char *url)
{
	char	q[LOG_QUOTE_MAX];

	if (url != NULL && (a->cross_origin ||
	    http_same_origin(a->dir_url, url)))
		return ERR_OK;
	log_error("the CA sent %s URL %s, which is not on the origin of its "
	    "directory %s: refused", what, url ? log_quote(url, q, sizeof q) :
	    "(none)", a->dir_url);
	log_error("if this CA really serves orders from another host, run "
	    "again with --allow-cross-origin");
	return ERR_ACME;
}

void
acme_problem_clear(struct acme_problem *p)
{
	if (p == NULL)
		return;
	free(p->type);
	free(p->detail);
	free(p->json);
	memset(p, 0, sizeof *p);
}

char *
acme_problem_text(json_t *prob)
{
	const char	*type, *detail;
	char		*s = NULL;

	type = json_string_value(json_object_get(prob, "type"));
	detail = json_string_value(json_object_get(prob, "detail"));
	if (asprintf(&s, "%s: %s", type ? type : "(no type)",
	    detail ? detail : "(no detail)") == -1)
		return NULL;
	return s;
}

/* Keeps a nonce from any response; the pool drops the oldest when full. */
static void
keep_nonce(struct acme *a, const char *nonce)
{
	char	*n;

	if (nonce == NULL || (n = strdup(nonce)) == NULL)
		return;
	if (a->n_nonces == ACME_NONCE_POOL) {
		free(a->nonces[0]);
		memmove(a->nonces, a->nonces + 1,
		    (ACME_NONCE_POOL - 1) * sizeof a->nonces[0]);
		a->n_nonces--;
	}
	a->nonces[a->n_nonces++] = n;
}

/* Parses a problem document out of resp into prob. */
static void
parse_problem(const struct http_response *resp, struct acme_problem *prob)
{
	json_t		*j;
	json_error_t	 jerr;
	const char	*s;

	memset(prob, 0, sizeof *prob);
	if ((j = json_loadb(resp->body, resp->body_len, 0, &jerr)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(j, "type"))) != NULL)
		prob->type = strdup(s);
	if ((s = json_string_value(json_object_get(j, "detail"))) != NULL)
		prob->detail = strdup(s);
	prob->json = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
}

static bool
problem_is(const struct acme_problem *p, const char *suffix)
{
	size_t	l, s = strlen(suffix);

	if (p->type == NULL || (l = strlen(p->type)) < s)
		return false;
	return strcmp(p->type + l - s, suffix) == 0;
}

/*
 * Waits before another attempt, if the policy allows one: ra is the
 * Retry-After in seconds (-1: none, then the backoff).  false when the
 * attempts or the total time are used up, the CA asks for a longer wait
 * than we hold a run for, or a stop signal came.
 */
static bool
retry_wait(const struct req *r, struct tries *t, long ra, const char *why)
{
	long	ms = ra >= 0 ? ra * 1000 : t->backoff_ms;

	if (t->attempt >= ACME_ATTEMPTS || ra > ACME_RETRY_AFTER_MAX ||
	    t->waited_ms + ms > ACME_RETRY_TOTAL_MS || sig_pending() != 0)
		return false;
	log_info("%s: %s %s: %s; retrying in %ld.%03ld s (attempt %d of %d)",
	    r->what, method_names[r->method], r->url, why, ms / 1000, ms % 1000,
	    t->attempt + 1, ACME_ATTEMPTS);
	if (!acme_wait_ms(ms))
		return false;
	t->waited_ms += ms;
	t->backoff_ms *= 2;
	return true;
}

/* The two-line report of a request that got no HTTP answer. */
static void
report_transport(const struct acme *a, const struct req *r,
    const struct tries *t, enum http_fail f, const char *text)
{
	log_error("%s: %s %s: %s: %s (after %d attempt%s)", r->what,
	    method_names[r->method], r->url, http_fail_name(f), text,
	    t->attempt, t->attempt == 1 ? "" : "s");
	switch (f) {
	case HTTP_FAIL_TLS:
		log_error("the CA's certificate is not trusted: give the CA "
		    "certificate with --ca-bundle FILE|DIR (or check that "
		    "--server is the CA you mean)");
		break;
	case HTTP_FAIL_RESOLVE:
	case HTTP_FAIL_CONNECT:
	case HTTP_FAIL_TIMEOUT:
	case HTTP_FAIL_DROPPED:
		log_error("the CA at %s is unreachable: check --server and the "
		    "network (DNS, firewall, proxy), then run again",
		    a->dir_url);
		break;
	case HTTP_FAIL_NONE:
	case HTTP_FAIL_TOO_BIG:
	case HTTP_FAIL_SIGNAL:
	case HTTP_FAIL_OTHER:
	case HTTP_FAIL__COUNT:
		break;
	}
}

/*
 * An answer that asks for a pause (a rateLimited problem, or a 429 or 503
 * that names its time) starts the run's pause for this CA now, before
 * this request's own retry: the run's other workers then hold their new
 * orders instead of spending more of the limit while this one waits.
 */
static void
pause_note(struct acme *a, const struct http_response *resp,
    const struct acme_problem *p, int attempt)
{
	if (a->rl != NULL && (problem_is(p, ":rateLimited") ||
	    ((resp->status == 429 || resp->status == 503) &&
	    resp->retry_after > 0)))
		(void)ratelimit_note(a->rl, a->dir_url, resp->retry_after,
		    attempt > 1);
}

/*
 * Before a newOrder is first sent (a retry belongs to an order in
 * flight, which keeps its own policy): the run's pause for this CA,
 * checked at the last moment, since another worker's answer may have
 * started it after this order's run began.  A short pause is waited
 * out; a longer one fails the order unsent (ERR_RATELIMIT,
 * acme_take_ratelimit_held says until when), counted in the run's report
 * with one info line here.
 */
static enum err
new_order_gate(struct acme *a, const struct req *r)
{
	time_t		until;
	enum err	e;

	if (a->rl == NULL || r->method != HTTP_POST ||
	    a->urls[ACME_URL_NEW_ORDER] == NULL ||
	    strcmp(r->url, a->urls[ACME_URL_NEW_ORDER]) != 0)
		return ERR_OK;
	if ((e = ratelimit_gate(a->rl, a->dir_url, &until)) ==
	    ERR_RATELIMIT) {
		a->ratelimit_held = until;
		a->ratelimit_retry = (long)(until - time(NULL));
		log_info("%s: %s %s: not sent, the CA asked this run to wait",
		    r->what, method_names[r->method], r->url);
	}
	return e;
}

static enum err	take_nonce(struct acme *, const struct req *, int attempt,
		    char **nonce);

/*
 * Sends r under the retry policy.  badNonce is retried on its own budget
 * (the CA's to give at will), with a fresh nonce: a signed request is
 * signed again for every attempt.  A retry that cannot get a nonce is a
 * failure, never a success with an empty answer.  On ERR_OK resp holds a
 * 2xx answer (caller clears).  Otherwise resp is cleared, the failure is
 * logged once with the URL, the status or transport error and the attempt
 * count, and prob (may be NULL) gets the CA's problem document.
 */
static enum err
request(struct acme *a, const struct req *r, struct http_response *resp,
    struct acme_problem *prob)
{
	struct acme_problem	 p = { 0 };
	struct ratelimit_refusal rr;
	struct tries		 t = { 0, 0, ACME_BACKOFF_FIRST_MS };
	enum http_fail		 f;
	const char		*text;
	char			*nonce = NULL, *body = NULL, why[160];
	char			 qtype[128], qdetail[LOG_QUOTE_MAX];
	enum err		 e = ERR_ACME;
	int			 badnonce = 0;

	memset(resp, 0, sizeof *resp);
	/*
	 * Every URL this client requests came from the CA (the directory's
	 * entries, an account's Location, an order's links): none may leave
	 * the directory's origin unless --allow-cross-origin (issue 11 item 3).
	 */
	snprintf(why, sizeof why, "the %s", r->what);
	if ((e = acme_check_origin(a, why, r->url)) != ERR_OK)
		goto out;
	for (;;) {
		/* Stopping (sig.h): no new request, not even a retry. */
		if (sig_pending() != 0) {
			e = ERR_SIGNAL;
			goto out;
		}
		t.attempt++;
		http_response_clear(resp);
		acme_problem_clear(&p);
		if (r->sign) {
			if ((e = take_nonce(a, r, t.attempt, &nonce)) != ERR_OK)
				goto out;
			body = jws_sign(a->key, r->use_jwk ? NULL : a->kid,
			    nonce, r->url, r->payload);
			free(nonce);
			nonce = NULL;
			if (body == NULL) {
				e = ERR_INTERNAL;
				goto out;
			}
		}
		/* The pause is asked at the last moment before the send,
		 * after the nonce (which may itself take a round trip). */
		if (t.attempt == 1 && (e = new_order_gate(a, r)) != ERR_OK) {
			free(body);
			body = NULL;
			goto out;
		}
		e = http_request(a->http, r->method, r->url, body, body ?
		    strlen(body) : 0, body ? "application/jose+json" : NULL,
		    r->accept, resp);
		free(body);
		body = NULL;
		if (e == ERR_INTERNAL)
			goto out;
		if (e != ERR_OK) {
			f = http_last_failure(a->http, &text);
			if (f == HTTP_FAIL_SIGNAL || sig_pending() != 0) {
				log_info("%s: %s stopped by %s", r->what,
				    r->url, sig_name(sig_pending()));
				e = ERR_SIGNAL;
				goto out;
			}
			if (r->lost != NULL && (f == HTTP_FAIL_DROPPED ||
			    f == HTTP_FAIL_TIMEOUT || f == HTTP_FAIL_OTHER)) {
				*r->lost = true;
				log_info("%s: %s %s: %s after it was sent; not "
				    "sent again, the CA may have acted on it",
				    r->what, method_names[r->method], r->url,
				    http_fail_name(f));
				e = ERR_ACME;
				goto out;
			}
			if ((f == HTTP_FAIL_DROPPED || f == HTTP_FAIL_TIMEOUT) &&
			    retry_wait(r, &t, -1, http_fail_name(f)))
				continue;
			if (sig_pending() != 0) {
				e = ERR_SIGNAL;
				goto out;
			}
			report_transport(a, r, &t, f, text);
			e = ERR_ACME;
			goto out;
		}
		a->requests++;
		log_debug("%s: %s %s: HTTP %ld", r->what,
		    method_names[r->method], r->url, resp->status);
		keep_nonce(a, resp->replay_nonce);
		if (resp->status >= 200 && resp->status < 300) {
			e = ERR_OK;
			goto out;
		}
		parse_problem(resp, &p);
		pause_note(a, resp, &p, t.attempt);
		if (r->sign && problem_is(&p, ":badNonce") &&
		    ++badnonce <= ACME_BADNONCE_MAX) {
			log_debug("%s: badNonce, retrying with a fresh nonce",
			    r->what);
			t.attempt--;
			continue;
		}
		snprintf(why, sizeof why, "HTTP %ld%s%s", resp->status,
		    p.type ? " " : "", p.type ? log_quote(p.type, qtype,
		    sizeof qtype) : "");
		if ((resp->status == 429 || resp->status >= 500) &&
		    retry_wait(r, &t, resp->retry_after, why))
			continue;
		break;
	}
	if (sig_pending() != 0) {
		e = ERR_SIGNAL;
		goto out;
	}
	e = ERR_ACME;
	if (r->expect != NULL && problem_is(&p, r->expect)) {
		log_debug("%s: %s %s: HTTP %ld %s", r->what,
		    method_names[r->method], r->url, resp->status, r->expect);
		goto out;
	}
	/* Only the final answer: dehydrated retries badNonce before it
	 * calls request_failure, and so do we. */
	if (a->on_failure != NULL)
		a->on_failure(a->on_failure_arg, resp->status, p.detail ?
		    p.detail : p.type, method_names[r->method], resp->headers);
	if (problem_is(&p, ":rateLimited")) {
		rr.what = r->what;
		rr.method = method_names[r->method];
		rr.url = r->url;
		rr.status = resp->status;
		rr.detail = p.detail;
		rr.retry_after = resp->retry_after;
		ratelimit_refused(a->rl, a->dir_url, &rr);
		a->ratelimit_retry = resp->retry_after;
		e = ERR_RATELIMIT;
	} else {
		/* A 503 that names its time asks for a pause as well: a run
		 * with more orders waits it out (ratelimit.h). */
		if (resp->status == 503 && resp->retry_after > 0)
			a->ratelimit_retry = resp->retry_after;
		/* The CA's words go inside one line of ours: quoted (log.h). */
		log_error("%s: %s %s: HTTP %ld%s%s%s%s (after %d attempt%s)",
		    r->what, method_names[r->method], r->url, resp->status,
		    p.type ? " " : "", p.type ? log_quote(p.type, qtype,
		    sizeof qtype) : "", p.detail ? ": " : "", p.detail ?
		    log_quote(p.detail, qdetail, sizeof qdetail) : "",
		    t.attempt, t.attempt == 1 ? "" : "s");
	}
out:
	/* On failure the caller gets the problem, not the response. */
	if (e != ERR_OK)
		http_response_clear(resp);
	if (prob != NULL) {
		*prob = p;
		memset(&p, 0, sizeof p);
	}
	acme_problem_clear(&p);
	return e;
}

/* *nonce: a nonce for attempt of for, from the pool or newNonce; the
 * caller frees.  Failure is logged, naming the request left unsent. */
static enum err
take_nonce(struct acme *a, const struct req *for_r, int attempt, char **nonce)
{
	struct http_response	 resp;
	struct req		 r = { 0 };
	enum err		 e;

	*nonce = NULL;
	if (a->n_nonces == 0) {
		r.what = "newNonce";
		r.method = HTTP_HEAD;
		r.url = a->urls[ACME_URL_NEW_NONCE];
		/* request() keeps the Replay-Nonce of the answer. */
		e = request(a, &r, &resp, NULL);
		http_response_clear(&resp);
		if (e != ERR_OK) {
			if (e == ERR_ACME)
				log_error("%s: %s %s: no nonce to sign attempt "
				    "%d with, so it was not sent", for_r->what,
				    method_names[for_r->method], for_r->url,
				    attempt);
			return e;
		}
		if (a->n_nonces == 0) {
			log_error("%s: %s %s: newNonce %s answered without a "
			    "Replay-Nonce, so attempt %d was not sent",
			    for_r->what, method_names[for_r->method],
			    for_r->url, r.url, attempt);
			return ERR_ACME;
		}
	}
	*nonce = a->nonces[--a->n_nonces];
	return ERR_OK;
}

static enum err
signed_post(struct acme *a, const struct req *r, struct http_response *resp,
    struct acme_problem *prob)
{
	memset(resp, 0, sizeof *resp);
	if (prob != NULL)
		memset(prob, 0, sizeof *prob);
	if (a->key == NULL) {
		log_error("%s: no account key", r->what);
		return ERR_INTERNAL;
	}
	return request(a, r, resp, prob);
}

enum err
acme_post(struct acme *a, const char *what, const char *url,
    const char *payload, bool use_jwk, const char *accept,
    struct http_response *resp, struct acme_problem *prob)
{
	const struct req	r = { what, HTTP_POST, url, true, payload,
		use_jwk, accept, NULL, NULL };

	return signed_post(a, &r, resp, prob);
}

static enum err
post_json(struct acme *a, const char *what, const char *url,
    const char *payload, bool use_jwk, bool once, json_t **obj,
    struct acme_answer *ans, struct acme_problem *prob)
{
	struct http_response	 resp;
	struct req		 r = { what, HTTP_POST, url, true, payload,
		use_jwk, "application/json", NULL, NULL };
	enum err		 e;

	*obj = NULL;
	if (ans != NULL) {
		ans->retry_after = -1;
		ans->location = NULL;
		ans->lost = false;
		if (once)
			r.lost = &ans->lost;
	}
	if ((e = signed_post(a, &r, &resp, prob)) != ERR_OK ||
	    (e = json_object_of(&resp, what, url, obj)) != ERR_OK)
		goto out;
	if (ans != NULL) {
		ans->retry_after = resp.retry_after;
		ans->location = resp.location;
		resp.location = NULL;
	}
out:
	http_response_clear(&resp);
	return e;
}

enum err
acme_post_json(struct acme *a, const char *what, const char *url,
    const char *payload, json_t **obj, struct acme_answer *ans)
{
	return post_json(a, what, url, payload, false, false, obj, ans, NULL);
}

enum err
acme_post_json_once(struct acme *a, const char *what, const char *url,
    const char *payload, json_t **obj, struct acme_answer *ans)
{
	return post_json(a, what, url, payload, false, true, obj, ans, NULL);
}

enum err
acme_post_json_prob(struct acme *a, const char *what, const char *url,
    const char *payload, json_t **obj, struct acme_answer *ans,
    struct acme_problem *prob)
{
	return post_json(a, what, url, payload, false, false, obj, ans, prob);
}

enum err
acme_get_json(struct acme *a, const char *what, const char *url,
    json_t **out, long *retry_after)
{
	struct acme_answer	ans;
	enum err		e;

	e = post_json(a, what, url, NULL, false, false, out, &ans, NULL);
	if (retry_after != NULL)
		*retry_after = ans.retry_after;
	free(ans.location);
	return e;
}

long
acme_ratelimit_retry(const struct acme *a)
{
	return a == NULL ? 0 : a->ratelimit_retry;
}

void
acme_set_ratelimit(struct acme *a, struct ratelimit *rl)
{
	a->rl = rl;
}

time_t
acme_take_ratelimit_held(struct acme *a)
{
	time_t	t;

	if (a == NULL)
		return 0;
	t = a->ratelimit_held;
	a->ratelimit_held = 0;
	return t;
}

long
acme_take_ratelimit_retry(struct acme *a)
{
	long	r;

	if (a == NULL)
		return 0;
	r = a->ratelimit_retry;
	a->ratelimit_retry = 0;
	return r;
}

enum err
acme_get_plain_json(struct acme *a, const char *what, const char *url,
    json_t **out, long *retry_after)
{
	const struct req	 r = { what, HTTP_GET, url, false, NULL, false,
		"application/json", NULL, NULL };
	struct http_response	 resp = { 0 };
	enum err		 e;

	*out = NULL;
	*retry_after = -1;
	if ((e = request(a, &r, &resp, NULL)) == ERR_OK &&
	    (e = json_object_of(&resp, what, url, out)) == ERR_OK)
		*retry_after = resp.retry_after;
	http_response_clear(&resp);
	return e;
}

enum err
acme_set_account(struct acme *a, EVP_PKEY *key, const char *kid)
{
	free(a->kid);
	a->key = key;
	if ((a->kid = strdup(kid)) == NULL)
		return ERR_INTERNAL;
	return ERR_OK;
}

/* New reference; NULL when out of memory. */
json_t *
acme_contacts(const char *email)
{
	json_t		*a = json_array();
	const char	*s = email, *comma;
	char		*uri;
	int		 len;

	while (a != NULL && s != NULL) {
		comma = strchr(s, ',');
		len = comma != NULL ? (int)(comma - s) : (int)strlen(s);
		if (asprintf(&uri, "mailto:%.*s", len, s) == -1) {
			json_decref(a);
			return NULL;
		}
		if (json_array_append_new(a, json_string(uri)) == -1) {
			json_decref(a);
			a = NULL;
		}
		free(uri);
		s = comma != NULL ? comma + 1 : NULL;
	}
	return a;
}

enum err
acme_account_lookup(struct acme *a, EVP_PKEY *key, char **kid, bool *known)
{
	struct http_response	 resp;
	struct acme_problem	 prob;
	const struct req	 r = { "newAccount (onlyReturnExisting)",
		HTTP_POST, a->urls[ACME_URL_NEW_ACCOUNT], true,
		"{\"onlyReturnExisting\":true}", true, "application/json",
		NULL, ":accountDoesNotExist" };
	EVP_PKEY		*was = a->key;
	enum err		 e;

	*kid = NULL;
	*known = false;
	a->key = key;
	e = signed_post(a, &r, &resp, &prob);
	a->key = was;
	if (e != ERR_OK) {
		/* The CA's "no such account" is the answer, not a failure. */
		if (e == ERR_ACME && problem_is(&prob, ":accountDoesNotExist"))
			e = ERR_OK;
		goto out;
	}
	e = ERR_ACME;
	if (resp.location == NULL || (*kid = http_resolve(r.url,
	    resp.location)) == NULL) {
		log_error("newAccount %s: no usable Location header for the "
		    "account", r.url);
		goto out;
	}
	*known = true;
	e = ERR_OK;
out:
	http_response_clear(&resp);
	acme_problem_clear(&prob);
	return e;
}

enum err
acme_key_change(struct acme *a, EVP_PKEY *new_key)
{
	struct acme_answer	 ans = { -1, NULL, false };
	const char		*url = a->urls[ACME_URL_KEY_CHANGE];
	json_t			*old_jwk = NULL, *p = NULL, *obj = NULL;
	char			*payload = NULL, *inner = NULL;
	enum err		 e = ERR_INTERNAL;

	if (url == NULL) {
		log_error("the CA %s offers no keyChange: its account keys "
		    "cannot be replaced", a->dir_url);
		e = ERR_ACME;
		goto out;
	}
	if (a->key == NULL || a->kid == NULL) {
		log_error("keyChange: no account");
		goto out;
	}
	/* RFC 8555 §7.3.5: the inner JWS is signed by the new key, names
	 * it as its jwk, has the outer JWS's url and no nonce; its payload
	 * binds the account to the old key.  The outer JWS is the usual
	 * kid-signed request, by the old key. */
	if ((old_jwk = jws_jwk(a->key)) == NULL ||
	    (p = json_pack("{s:s, s:O}", "account", a->kid, "oldKey",
	    old_jwk)) == NULL ||
	    (payload = json_dumps(p, JSON_COMPACT)) == NULL ||
	    (inner = jws_sign(new_key, NULL, NULL, url, payload)) == NULL)
		goto out;
	/* Sent once: a resend after a lost answer would be signed with a
	 * key the CA may have dropped already (the caller asks instead). */
	if ((e = post_json(a, "keyChange", url, inner, false, true, &obj,
	    &ans, NULL)) != ERR_OK)
		goto out;
	a->key = new_key;
	e = ERR_OK;
out:
	free(ans.location);
	json_decref(obj);
	json_decref(old_jwk);
	json_decref(p);
	free(payload);
	free(inner);
	return e;
}

enum err
acme_account(struct acme *a, EVP_PKEY *key,
    const struct acme_account_req *req, json_t **body_out)
{
	struct acme_answer	 ans = { -1, NULL, false };
	json_t			*p = NULL, *eab, *contact, *body = NULL;
	char			*payload = NULL, *kid = NULL;
	char			 q[LOG_QUOTE_MAX];
	enum err		 e = ERR_INTERNAL;

	if (body_out != NULL)
		*body_out = NULL;
	a->key = key;
	if ((p = json_object()) == NULL)
		goto out;
	if (req->email != NULL && !req->only_existing) {
		if ((contact = acme_contacts(req->email)) == NULL)
			goto out;
		json_object_set_new(p, "contact", contact);
	}
	if (req->agree_tos)
		json_object_set_new(p, "termsOfServiceAgreed", json_true());
	if (req->only_existing)
		json_object_set_new(p, "onlyReturnExisting", json_true());
	if (req->eab_kid != NULL && !req->only_existing) {
		if ((eab = jws_eab(key, req->eab_kid, req->eab_hmac,
		    a->urls[ACME_URL_NEW_ACCOUNT])) == NULL) {
			e = ERR_USAGE;
			goto out;
		}
		json_object_set_new(p, "externalAccountBinding", eab);
	} else if (a->eab_required && !req->only_existing) {
		log_error("the CA %s requires external account binding: give "
		    "--eab-kid and --eab-hmac-key", a->dir_url);
		e = ERR_USAGE;
		goto out;
	}
	if ((payload = json_dumps(p, JSON_COMPACT)) == NULL)
		goto out;
	if ((e = post_json(a, "newAccount", a->urls[ACME_URL_NEW_ACCOUNT],
	    payload, true, false, &body, &ans, NULL)) != ERR_OK)
		goto out;
	e = ERR_ACME;
	if (ans.location == NULL) {
		log_error("newAccount %s: no Location header for the account",
		    a->urls[ACME_URL_NEW_ACCOUNT]);
		goto out;
	}
	/* The account URL goes into every JWS as its kid: absolute (the
	 * Location may be relative) and on the directory's origin. */
	if ((kid = http_resolve(a->urls[ACME_URL_NEW_ACCOUNT],
	    ans.location)) == NULL) {
		log_error("newAccount %s: the account URL %s does not parse",
		    a->urls[ACME_URL_NEW_ACCOUNT], log_quote(ans.location, q,
		    sizeof q));
		goto out;
	}
	if ((e = acme_check_origin(a, "an account", kid)) != ERR_OK)
		goto out;
	free(a->kid);
	a->kid = kid;
	kid = NULL;
	if (body_out != NULL) {
		*body_out = body;
		body = NULL;
	}
	e = ERR_OK;
out:
	free(kid);
	free(ans.location);
	json_decref(body);
	json_decref(p);
	free(payload);
	return e;
}
