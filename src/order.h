/*
 * order.h: one certificate order from newOrder to the downloaded chain:
 * the authorizations, the challenge handshake with the outside party
 * (through the solver), validation, finalization, download.
 */
#ifndef EXTAUTH_ORDER_H
#define EXTAUTH_ORDER_H

#include <stddef.h>

#include <openssl/evp.h>

#include "acme.h"
#include "err.h"
#include "event.h"
#include "solver.h"

struct order_req {
	char *const		*names;		/* normalized, may hold "*.x" */
	size_t			 n_names;
	const enum chal_type	*prefs;
	size_t			 n_prefs;
	EVP_PKEY		*cert_key;	/* signs the CSR ... */
	const unsigned char	*csr_der;	/* ... unless a CSR is given */
	size_t			 csr_len;
	long			 timeout_s;	/* validation + issuance */
	long			 dns_wait_s;	/* >0: wait for TXT records first */
	bool			 deactivate_authz;	/* once issued (RFC 8555 §7.5.2) */
	const char		*work_dir;	/* tls-alpn-01 files go in alpn/ */
	const char		*dns_resolver;	/* for dns_wait_s; NULL: system's */
	const char		*profile;	/* newOrder's profile; NULL: CA's default */
	const char		*replaces;	/* RFC 9773 CertID of the renewed one */
	const char		*preferred_chain;	/* topmost issuer CN; NULL: default */
};

/*
 * Obtains a certificate.  On ERR_OK *chain_pem is the PEM chain from the
 * CA (leaf first), new memory the caller frees.  ERR_CHALLENGE when the CA
 * rejected a challenge, ERR_INVOKER when the outside party failed,
 * ERR_ACME for the CA/network; the reason is logged.  Cleanup events are
 * sent for every challenge the outside party was told about, on every
 * path.
 */
enum err	 order_obtain(struct acme *, struct solver *,
		    const struct order_req *, char **chain_pem);
/*
 * The two-phase mode (--defer).  order_defer makes the order and collects
 * its challenges, checked as order_obtain checks them, and hands them
 * over in *h without telling anyone: the caller saves the pending order
 * first, then hands the challenges out (solver_perform).  dns-01 and
 * http-01 only: tls-alpn-01 is ERR_USAGE (logged).
 */
struct order_handout {
	char			 *url;		/* the order URL */
	char			 *expires;	/* the CA's RFC 3339 time, or NULL */
	struct challenge	**chs;		/* in the order of the names */
	size_t			  n_chs;
};
enum err	 order_defer(struct acme *, const struct order_req *,
		    struct order_handout *h);
void		 order_handout_clear(struct order_handout *);
/*
 * Finishes the order at url in a later process: saved[0..n) are the
 * challenges order_defer handed out (type, domain, wildcard, token, url
 * and authz_url are read).  Each is checked against the order as the CA
 * has it now; those the CA has not had an answer for are answered (never
 * one twice: RFC 8555 §7.5.1 lets a client answer a challenge once), then
 * as order_obtain: wait, cleanup for every one of them, finalize,
 * download.  ERR_PENDING (why logged; the caller says what to do) when
 * the order can never be finished: the CA does not know it, marked it
 * invalid, it expired, or it no longer matches what was handed out.
 */
enum err	 order_resume(struct acme *, struct solver *,
		    const struct order_req *, const char *url,
		    struct challenge *const *saved, size_t n,
		    char **chain_pem);
/*
 * The rule that an order's authorizations cover exactly the names ordered,
 * exported for tests.  seen[] holds one flag per req->names entry, all
 * false at first.  order_cover_add records the authorization of an
 * identifier (domain, wildcard flag) and sets *k to its ordered name
 * (req->n_names if none).  order_cover_missing is the first ordered name
 * no authorization covered (a name given twice counts once), or
 * req->n_names.
 */
enum order_cover {
	ORDER_COVER_OK,		/* the first authorization for an ordered name */
	ORDER_COVER_FOREIGN,	/* a name that was not ordered */
	ORDER_COVER_DUPLICATE,	/* a second authorization for one name */
	ORDER_COVER__COUNT
};
enum order_cover order_cover_add(const struct order_req *, bool *seen,
		    const char *domain, bool wildcard, size_t *k);
size_t		 order_cover_missing(const struct order_req *,
		    const bool *seen);
/* Key authorization and the dns-01 value for token; exported for tests.
 * New strings the caller frees.  -1 on a token that is not base64url. */
int		 order_key_auth(const char *token, const char *thumbprint,
		    char **key_auth, char **dns_value);
/* The tls-alpn-01 value: SHA-256 of key_auth as lower-case hex pairs
 * joined by ':' (dehydrated's TOKEN_VALUE, `openssl dgst -sha256 -c`);
 * exported for tests.  New string the caller frees, NULL on failure. */
char		*order_alpn_value(const char *key_auth);
/* The http-01 URL for an identifier (a name, IPv4, or IPv6 in brackets);
 * exported for tests.  New string the caller frees, NULL if out of
 * memory. */
char		*order_http_uri(const char *domain, const char *token);

#endif
