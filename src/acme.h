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

#include <jansson.h>
#include <openssl/evp.h>

#include "err.h"
#include "http.h"

#define ACME_NONCE_POOL	8

/* Told about every final non-2xx answer, after retries (dehydrated
 * request_failure: STATUSCODE REASON REQTYPE HEADERS). */
typedef void	(*acme_failure_cb)(void *arg, long status, const char *reason,
		    const char *reqtype, const char *headers);

struct acme {
	struct http	*http;
	char		*dir_url;
	json_t		*dir;		/* the directory object */
	const char	*new_nonce, *new_account, *new_order, *revoke_cert;
	const char	*key_change, *renewal_info;
	bool		 eab_required;
	char		*nonces[ACME_NONCE_POOL];
	size_t		 n_nonces;
	EVP_PKEY	*key;		/* account key, borrowed */
	char		*kid;		/* account URL */
	long		 requests;	/* for benchmarks */
	acme_failure_cb	 on_failure;
	void		*on_failure_arg;
};

/* The problem document of a failed request (RFC 7807), for messages. */
struct acme_problem {
	char	*type;		/* e.g. urn:ietf:params:acme:error:unauthorized */
	char	*detail;
	char	*json;		/* the whole document */
};

/* Fetches the directory; on success the caller owns *out (acme_free). */
enum err	 acme_new(struct http *, const char *dir_url, struct acme **out);
void		 acme_free(struct acme *);

/*
 * Signed POST of payload (a JSON text; NULL = POST-as-GET) to url, with
 * kid (or the jwk when use_jwk).  Retries badNonce with a new nonce, and
 * 429/503 after Retry-After (bounded).  Fills resp (caller clears).  On a
 * non-2xx final answer returns ERR_ACME after logging "what: HTTP N type:
 * detail", and fills prob (caller clears) when prob is non-NULL.
 */
enum err	 acme_post(struct acme *, const char *what, const char *url,
		    const char *payload, bool use_jwk, const char *accept,
		    struct http_response *resp, struct acme_problem *prob);
/* POST-as-GET and parse the JSON object body; *out new reference. */
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

/* Sleeps ms milliseconds (interruptible by nothing but time). */
void		 acme_wait_ms(long ms);

#endif
