/*
 * acme.h: RFC 8555 requests.  One struct acme per CA: the directory, a
 * pool of nonces (never one global nonce, so requests for several
 * authorizations can later run at once), the account key and URL.  Every
 * signed request is re-signed with a fresh nonce when it is retried.
 */
#ifndef EXTAUTH_ACME_H
#define EXTAUTH_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "err.h"
#include "http.h"

/* Told about every final non-2xx answer, after retries (dehydrated
 * request_failure: STATUSCODE REASON REQTYPE HEADERS). */
typedef void	(*acme_failure_cb)(void *arg, long status, const char *reason,
		    const char *reqtype, const char *headers);

/* The endpoints of the directory (RFC 8555 §7.1.1), and its own URL. */
enum acme_url {
	ACME_URL_DIRECTORY,
	ACME_URL_NEW_NONCE,
	ACME_URL_NEW_ACCOUNT,
	ACME_URL_NEW_ORDER,
	ACME_URL_REVOKE_CERT,
	ACME_URL_KEY_CHANGE,
	ACME_URL_RENEWAL_INFO,
	ACME_URL__COUNT
};

/* Opaque: the directory, the nonce pool, the account.  Only acme.c reads
 * or writes its members. */
struct acme;

/* The problem document of a failed request (RFC 7807), for messages. */
struct acme_problem {
	char	*type;		/* e.g. urn:ietf:params:acme:error:unauthorized */
	char	*detail;
	char	*json;		/* the whole document */
};

/* Fetches the directory; on success the caller owns *out (acme_free). */
enum err	 acme_new(struct http *, const char *dir_url, struct acme **out);
void		 acme_free(struct acme *);
/* The URL of an endpoint, borrowed from a (NULL if the CA has none). */
const char	*acme_url(const struct acme *, enum acme_url);
/* A member of the directory's "meta" object, borrowed, or NULL. */
json_t		*acme_meta(const struct acme *, const char *key);
/* The account URL (kid), borrowed; NULL before an account is set. */
const char	*acme_kid(const struct acme *);
/* The account key, borrowed; NULL before an account is set. */
EVP_PKEY	*acme_key(const struct acme *);
/* Requests sent so far (benchmarks read it with -v). */
long		 acme_requests(const struct acme *);
void		 acme_set_failure_cb(struct acme *, acme_failure_cb, void *arg);
/* --allow-cross-origin: order URLs may leave the directory's origin. */
void		 acme_allow_cross_origin(struct acme *, bool);
/*
 * ERR_OK when url (what: "authorization", ...) is on the directory's
 * origin (scheme, host, port) or cross-origin URLs are allowed; else
 * ERR_ACME, logged with what to do.  A CA answer that sends the order
 * elsewhere is refused before anything is sent there.
 */
enum err	 acme_check_origin(const struct acme *, const char *what,
		    const char *url);

/*
 * Signed POST of payload (a JSON text; NULL = POST-as-GET) to url, with
 * kid (or the jwk when use_jwk).  The retry policy of every request:
 * badNonce with a new nonce; 5xx, 429, dropped connections and timeouts
 * after Retry-After or a backoff, capped in attempts and total time.
 * Fills resp (caller clears).  On failure logs "what: POST url: HTTP N
 * type: detail (after N attempts)" or the transport error, and returns
 * ERR_ACME, ERR_RATELIMIT (a rateLimited problem, whose report gives the
 * local time to retry, once per pause of a run: ratelimit.h; or a
 * newOrder the run's pause held unsent) or ERR_SIGNAL; prob (caller
 * clears, may be NULL) gets the problem document.
 */
enum err	 acme_post(struct acme *, const char *what, const char *url,
		    const char *payload, bool use_jwk, const char *accept,
		    struct http_response *resp, struct acme_problem *prob);
/* What a JSON answer brings beside its body. */
struct acme_answer {
	long	 retry_after;	/* seconds, -1 when absent */
	char	*location;	/* Location header or NULL; the caller frees */
	bool	 lost;		/* acme_post_json_once: sent, no answer */
};
/*
 * Signed POST of payload (NULL: POST-as-GET) whose answer must be a JSON
 * object: *obj is a new reference on ERR_OK, NULL otherwise.  ans may be
 * NULL.  An answer that is not a JSON object is ERR_ACME, logged with
 * what and url.
 */
enum err	 acme_post_json(struct acme *, const char *what, const char *url,
		    const char *payload, json_t **obj, struct acme_answer *ans);
/*
 * The same for a request that changes state at the CA and must not be
 * sent twice blindly (finalize): when it went out and no answer came back
 * (dropped, timed out), it is not resent; ans->lost is set (ans must not
 * be NULL), the loss is logged at info level only, and the caller looks at
 * the state to decide.  Every other failure is retried and reported as by
 * acme_post_json.
 */
enum err	 acme_post_json_once(struct acme *, const char *what,
		    const char *url, const char *payload, json_t **obj,
		    struct acme_answer *ans);
/* acme_post_json that also hands over the problem document of a
 * refusal (prob: caller clears), for callers that act on its type. */
enum err	 acme_post_json_prob(struct acme *, const char *what,
		    const char *url, const char *payload, json_t **obj,
		    struct acme_answer *ans, struct acme_problem *prob);
/* The Retry-After (seconds, -1: none given) of the last rateLimited
 * answer, or of the last final 503 that named one, since the last call;
 * 0 when there was none (a NULL acme too): renew records when to try
 * again, and a run pauses its new orders (ratelimit.h). */
long		 acme_take_ratelimit_retry(struct acme *);
/* The same, left in place: whether the CA just asked for a pause. */
long		 acme_ratelimit_retry(const struct acme *);
struct ratelimit;
/* The run's pauses (ratelimit.h), borrowed for the life of the acme:
 * every answer that asks for a pause starts or extends it as it arrives,
 * a newOrder is held while one lasts, and a rateLimited refusal is
 * reported once per pause.  NULL (the default): one order's run. */
void		 acme_set_ratelimit(struct acme *, struct ratelimit *);
/* The end of the run's pause that held the last newOrder unsent (the
 * request then failed ERR_RATELIMIT), 0 when none since the last call. */
time_t		 acme_take_ratelimit_held(struct acme *);
/* Unsigned GET of a JSON object (RFC 9773's renewalInfo) under the
 * retry policy; *out new reference, *retry_after -1 when absent. */
enum err	 acme_get_plain_json(struct acme *, const char *what,
		    const char *url, json_t **out, long *retry_after);
/* POST-as-GET of a JSON object; *out new reference. */
enum err	 acme_get_json(struct acme *, const char *what, const char *url,
		    json_t **out, long *retry_after);
void		 acme_problem_clear(struct acme_problem *);
/* "type: detail" of a problem object (ACME error JSON); caller frees. */
char		*acme_problem_text(json_t *);

/*
 * newAccount: creates (or with only_existing, looks up) the account of
 * key.  Sets acme->key and acme->kid.  *body_out (new ref, may be NULL)
 * is the account object from the CA.
 */
struct acme_account_req {
	const char	*email;		/* NULL: no contact */
	bool		 agree_tos;
	bool		 only_existing;
	const char	*eab_kid, *eab_hmac;
};
enum err	 acme_account(struct acme *, EVP_PKEY *,
		    const struct acme_account_req *, json_t **body_out);
/* Uses an account we already know. */
enum err	 acme_set_account(struct acme *, EVP_PKEY *, const char *kid);
/*
 * The contact array of an account (RFC 8555 §7.3): one "mailto:" URI per
 * address of email, which --email takes comma-separated; none for NULL.
 * New reference, NULL when out of memory.
 */
json_t		*acme_contacts(const char *email);
/*
 * newAccount with onlyReturnExisting, signed by key (RFC 8555 §7.3.1):
 * *known tells whether the CA has an account for key, *kid (new string,
 * caller frees; NULL when not known) its URL.  The CA's
 * accountDoesNotExist is an answer (ERR_OK, *known false), not logged as
 * an error.  a's own account is left as it was.
 */
enum err	 acme_account_lookup(struct acme *, EVP_PKEY *key, char **kid,
		    bool *known);
/*
 * keyChange (RFC 8555 §7.3.5): the CA replaces the account's key by
 * new_key (borrowed, as the account key is).  On ERR_OK a signs with
 * new_key from now on; on failure (logged) a still signs with the old
 * key, and whether the CA switched is for acme_account_lookup to tell:
 * an answer may be lost after the CA acted.
 */
enum err	 acme_key_change(struct acme *, EVP_PKEY *new_key);

/* Sleeps ms milliseconds, or less when a stop signal comes (sig.h):
 * false then. */
bool		 acme_wait_ms(long ms);

#endif
