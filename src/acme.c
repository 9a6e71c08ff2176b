/*
 * acme.c: the wire side of RFC 8555: directory, nonces, signed requests
 * and their retries, problem documents, accounts.  The order state machine
 * is in order.c.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "jws.h"
#include "log.h"
#include "sig.h"

#define ACME_ATTEMPTS		4	/* per request: 429 and 503 */
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

void
acme_wait_ms(long ms)
{
	struct pollfd	pfd;
	struct timespec	ts;

	if (ms <= 0 || sig_pending() != 0)
		return;
	/* A signal ends the wait (sig.c's self-pipe becomes readable);
	 * the caller sees sig_pending() and stops. */
	if ((pfd.fd = sig_fd()) != -1) {
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
		return;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

enum err
acme_new(struct http *http, const char *dir_url, struct acme **out)
{
	struct http_response	 resp = { 0 };
	struct acme		*a;
	json_error_t		 jerr;
	enum err		 e = ERR_ACME;
	int			 i;

	*out = NULL;
	if ((a = calloc(1, sizeof *a)) == NULL ||
	    (a->dir_url = strdup(dir_url)) == NULL) {
		free(a);
		return ERR_INTERNAL;
	}
	a->http = http;
	if ((e = http_request(http, HTTP_GET, dir_url, NULL, 0, NULL,
	    "application/json", &resp)) != ERR_OK)
		goto out;
	a->requests++;
	e = ERR_ACME;
	if (resp.status != 200) {
		log_error("ACME directory %s: HTTP %ld", dir_url, resp.status);
		goto out;
	}
	if ((a->dir = json_loadb(resp.body, resp.body_len, 0, &jerr)) == NULL ||
	    !json_is_object(a->dir)) {
		log_error("ACME directory %s is not a JSON object (line %d: %s)",
		    dir_url, jerr.line, jerr.text);
		goto out;
	}
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
	if (resp.replay_nonce != NULL)
		a->nonces[a->n_nonces++] = strdup(resp.replay_nonce);
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

/* A nonce for the next request; caller frees. */
static char *
take_nonce(struct acme *a)
{
	struct http_response	 resp = { 0 };
	char			*n = NULL;

	if (a->n_nonces > 0)
		return a->nonces[--a->n_nonces];
	if (http_request(a->http, HTTP_HEAD, a->urls[ACME_URL_NEW_NONCE], NULL, 0, NULL, NULL,
	    &resp) != ERR_OK)
		goto out;
	a->requests++;
	if (resp.replay_nonce == NULL) {
		log_error("ACME newNonce %s: HTTP %ld without Replay-Nonce",
		    a->urls[ACME_URL_NEW_NONCE], resp.status);
		goto out;
	}
	n = strdup(resp.replay_nonce);
out:
	http_response_clear(&resp);
	return n;
}

/* Parses a problem document out of resp into prob (may be NULL). */
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

enum err
acme_post(struct acme *a, const char *what, const char *url,
    const char *payload, bool use_jwk, const char *accept,
    struct http_response *resp, struct acme_problem *prob)
{
	struct acme_problem	 p = { 0 };
	char			*nonce = NULL, *body = NULL;
	char			 qtype[128], qdetail[LOG_QUOTE_MAX];
	enum err		 e = ERR_ACME;
	int			 attempt, badnonce = 0;
	long			 wait;

	memset(resp, 0, sizeof *resp);
	if (a->key == NULL) {
		log_error("%s: no account key", what);
		return ERR_INTERNAL;
	}
	for (attempt = 1; attempt <= ACME_ATTEMPTS; attempt++) {
		http_response_clear(resp);
		acme_problem_clear(&p);
		if ((nonce = take_nonce(a)) == NULL)
			goto out;
		body = jws_sign(a->key, use_jwk ? NULL : a->kid, nonce, url,
		    payload);
		free(nonce);
		nonce = NULL;
		if (body == NULL) {
			e = ERR_INTERNAL;
			goto out;
		}
		e = http_request(a->http, HTTP_POST, url, body, strlen(body),
		    "application/jose+json", accept, resp);
		free(body);
		body = NULL;
		if (e != ERR_OK)
			goto out;
		a->requests++;
		log_debug("%s: POST %s: HTTP %ld", what, url, resp->status);
		keep_nonce(a, resp->replay_nonce);
		if (resp->status >= 200 && resp->status < 300) {
			e = ERR_OK;
			goto out;
		}
		parse_problem(resp, &p);
		if (problem_is(&p, ":badNonce") &&
		    ++badnonce <= ACME_BADNONCE_MAX) {
			log_debug("%s: badNonce, retrying with a fresh nonce",
			    what);
			attempt--;
			continue;
		}
		if ((resp->status == 429 || resp->status == 503) &&
		    resp->retry_after >= 0 &&
		    resp->retry_after <= ACME_RETRY_AFTER_MAX &&
		    attempt < ACME_ATTEMPTS) {
			wait = resp->retry_after;
			log_info("%s: HTTP %ld, retrying after %ld s as the CA "
			    "asks", what, resp->status, wait);
			acme_wait_ms(wait * 1000);
			/* Stopping (sig.c): no new request. */
			if (sig_pending() == 0)
				continue;
		}
		break;
	}
	e = ERR_ACME;
	/* Only the final answer: dehydrated retries badNonce before it
	 * calls request_failure, and so do we. */
	if (a->on_failure != NULL)
		a->on_failure(a->on_failure_arg, resp->status, p.detail ?
		    p.detail : p.type, "POST", resp->headers);
	/* The CA's words go inside one line of ours: quoted (log.h). */
	log_error("%s: %s: HTTP %ld %s%s%s", what, url, resp->status,
	    p.type ? log_quote(p.type, qtype, sizeof qtype) : "",
	    p.detail ? ": " : "",
	    p.detail ? log_quote(p.detail, qdetail, sizeof qdetail) : "");
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

static enum err
post_json(struct acme *a, const char *what, const char *url,
    const char *payload, bool use_jwk, json_t **obj, struct acme_answer *ans)
{
	struct http_response	 resp;
	enum err		 e;

	*obj = NULL;
	if (ans != NULL) {
		ans->retry_after = -1;
		ans->location = NULL;
	}
	if ((e = acme_post(a, what, url, payload, use_jwk, "application/json",
	    &resp, NULL)) != ERR_OK ||
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
	return post_json(a, what, url, payload, false, obj, ans);
}

enum err
acme_get_json(struct acme *a, const char *what, const char *url,
    json_t **out, long *retry_after)
{
	struct acme_answer	ans;
	enum err		e;

	e = post_json(a, what, url, NULL, false, out, &ans);
	if (retry_after != NULL)
		*retry_after = ans.retry_after;
	free(ans.location);
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

enum err
acme_account(struct acme *a, EVP_PKEY *key,
    const struct acme_account_req *req, json_t **body_out)
{
	struct acme_answer	 ans = { -1, NULL };
	json_t			*p = NULL, *eab, *contact, *body = NULL;
	char			*payload = NULL, *mailto = NULL;
	enum err		 e = ERR_INTERNAL;

	if (body_out != NULL)
		*body_out = NULL;
	a->key = key;
	if ((p = json_object()) == NULL)
		goto out;
	if (req->email != NULL && !req->only_existing) {
		if (asprintf(&mailto, "mailto:%s", req->email) == -1) {
			mailto = NULL;
			goto out;
		}
		contact = json_array();
		json_array_append_new(contact, json_string(mailto));
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
	    payload, true, &body, &ans)) != ERR_OK)
		goto out;
	e = ERR_ACME;
	if (ans.location == NULL) {
		log_error("newAccount %s: no Location header for the account",
		    a->urls[ACME_URL_NEW_ACCOUNT]);
		goto out;
	}
	free(a->kid);
	a->kid = ans.location;
	ans.location = NULL;
	if (body_out != NULL) {
		*body_out = body;
		body = NULL;
	}
	e = ERR_OK;
out:
	free(ans.location);
	json_decref(body);
	json_decref(p);
	free(payload);
	free(mailto);
	return e;
}
