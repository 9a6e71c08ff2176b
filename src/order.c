/*
 * order.c: the RFC 8555 §7.4 order flow as one linear function with its
 * steps split out: create the order, collect the challenges to solve, hand
 * them to the solver, tell the CA, poll, clean up, finalize, download.
 * Polling never sleeps a fixed time: it starts short, backs off, and a
 * Retry-After from the CA wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ari.h"
#include "b64.h"
#include "crypto.h"
#include "dnschal.h"
#include "domain.h"
#include "jws.h"
#include "log.h"
#include "num.h"
#include "order.h"
#include "selfcheck.h"
#include "sig.h"
#include "store.h"

#define POLL_FIRST_MS	5
#define ORDER_TIMEOUT_S	300	/* the CA's time to validate, and to issue */
#define POLL_MAX_MS	2000
#define DNS_POLL_FIRST_MS 50	/* propagation: a local update shows fast */

struct order {
	struct acme		*a;
	struct solver		*s;
	const struct order_req	*req;
	json_t			*obj;		/* latest order object */
	enum acme_status	 status;	/* its status: order_set_status */
	char			*url;		/* order URL */
	struct challenge	**chs;
	size_t			 n_chs;
	char			*thumb;
	struct timespec		 deadline;
	long			 timeout_s;	/* the CA's time per stage */
	/* Resumed (--defer): chs[i] was answered by an earlier run, so it
	 * is polled, never answered twice (RFC 8555 §7.5.1). */
	bool			*answered;
};

/* A status for messages: NONE has no name of its own. */
static const char *
status_str(enum acme_status st)
{
	return st == ACME_STATUS_NONE ? "none" : acme_status_name(st);
}

/*
 * Takes obj (a new reference, may be NULL) as the order's latest object
 * and its status as the order's state.  Every change of the order's state
 * goes through here, so -v traces each with the line that caused it (the
 * way curl's mstate() does): "order URL: [pending] -> [ready] (order.c:N)".
 */
#define order_set_status(o, obj)	order_set_status_at((o), (obj), __LINE__)
static void
order_set_status_at(struct order *o, json_t *obj, int line)
{
	enum acme_status	st = acme_status_of(obj);

	json_decref(o->obj);
	o->obj = obj;
	if (st != o->status)
		log_debug("order %s: [%s] -> [%s] (order.c:%d)", o->url ?
		    o->url : "(new)", status_str(o->status), status_str(st),
		    line);
	o->status = st;
}

/* The same for a challenge: its outcome, as the CA's authorization says. */
#define chal_set_status(ch, st)	chal_set_status_at((ch), (st), __LINE__)
static void
chal_set_status_at(struct challenge *ch, enum acme_status st, int line)
{
	if (st != ch->status)
		log_debug("%s challenge for %s%s: [%s] -> [%s] (order.c:%d)",
		    chal_type_name(ch->type), ch->wildcard ? "*." : "",
		    ch->domain, status_str(ch->status), status_str(st), line);
	ch->status = st;
}

static long
ms_left(const struct order *o)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (o->deadline.tv_sec - now.tv_sec) * 1000 +
	    (o->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * Starts the CA's clock.  The CA is charged only for time that is its
 * own: validation from the moment the challenges are answered (not from
 * newOrder: the outside party's deployment and --dns-wait are theirs), and
 * issuance from the moment finalize is due.
 */
static void
start_clock(struct order *o)
{
	clock_gettime(CLOCK_MONOTONIC, &o->deadline);
	o->deadline.tv_sec += o->timeout_s;
}

/*
 * The CA's time per stage: req->timeout_s, else EXTAUTH_CA_TIMEOUT
 * (seconds, README), else ORDER_TIMEOUT_S.  A bad value is a usage error
 * before the order is made.
 */
static enum err
ca_timeout(const struct order_req *req, long *out)
{
	const char	*env = getenv("EXTAUTH_CA_TIMEOUT");
	char		 why[96];

	*out = ORDER_TIMEOUT_S;
	if (req->timeout_s > 0)
		*out = req->timeout_s;
	else if (env != NULL && *env != '\0' && !num_parse_long(env, 1, 86400,
	    out, why, sizeof why)) {
		log_error("EXTAUTH_CA_TIMEOUT=%s: %s", env, why);
		log_error("give the CA's time to validate and to issue in "
		    "seconds (1 to 86400), or unset it for 300");
		return ERR_USAGE;
	}
	return ERR_OK;
}

/* Waits before the next poll: Retry-After if given, else the backoff.
 * what names the party waited for, for the timeout message. */
static bool
poll_wait(struct order *o, long *backoff, long retry_after, const char *what)
{
	long	ms = retry_after >= 0 ? retry_after * 1000 : *backoff;
	long	left = ms_left(o);

	/* Stopping (sig.c): the caller's error becomes ERR_SIGNAL. */
	if (sig_pending() != 0)
		return false;
	/* On a terminal, a long wait shows (log.h). */
	log_progress_begin(what, o->timeout_s);
	if (left <= 0) {
		log_error("timed out after %ld s waiting for %s", o->timeout_s,
		    what);
		return false;
	}
	if (ms > left)
		ms = left;
	acme_wait_ms(ms);
	if (*backoff < POLL_MAX_MS)
		*backoff *= 2;
	return sig_pending() == 0;
}

int
order_key_auth(const char *token, const char *thumb, char **key_auth,
    char **dns_value)
{
	unsigned char	digest[32];

	*key_auth = *dns_value = NULL;
	if (!b64u_valid(token))
		return -1;
	if (asprintf(key_auth, "%s.%s", token, thumb) == -1) {
		*key_auth = NULL;
		return -1;
	}
	if (crypto_sha256(*key_auth, strlen(*key_auth), digest) == -1 ||
	    (*dns_value = b64u_encode(digest, sizeof digest)) == NULL) {
		free(*key_auth);
		*key_auth = NULL;
		return -1;
	}
	return 0;
}

/*
 * Every URL of the order the CA just made stays on its directory's origin:
 * a CA answer (or whoever rewrote it on the way) must not send our signed
 * requests, or the party's challenge, to another host.
 */
static enum err
check_origins(struct order *o)
{
	json_t		*v;
	size_t		 i;
	enum err	 e;

	if ((e = acme_check_origin(o->a, "an order", o->url)) != ERR_OK ||
	    (e = acme_check_origin(o->a, "a finalize", json_string_value(
	    json_object_get(o->obj, "finalize")))) != ERR_OK)
		return e;
	json_array_foreach(json_object_get(o->obj, "authorizations"), i, v)
		if ((e = acme_check_origin(o->a, "an authorization",
		    json_string_value(v))) != ERR_OK)
			return e;
	return ERR_OK;
}

/*
 * The second line when the CA refused the order's profile: invalidProfile,
 * or an account not allowed to use it (Let's Encrypt answers unauthorized
 * naming the profile).  acme.c logged the CA's words already.
 */
static void
profile_refused(const struct order *o, const struct acme_problem *prob)
{
	const char	*t = prob->type;

	if (o->req->profile == NULL || t == NULL)
		return;
	if (strcmp(t, "urn:ietf:params:acme:error:invalidProfile") == 0 ||
	    (strcmp(t, "urn:ietf:params:acme:error:unauthorized") == 0 &&
	    prob->detail != NULL && strstr(prob->detail, "profile") != NULL))
		log_error("the CA refused the profile \"%s\": see the profiles "
		    "it offers with extauth show_account, and choose another "
		    "with --preferred-profile or --required-profile",
		    o->req->profile);
}

static enum err
new_order(struct order *o, bool with_replaces)
{
	struct acme_answer	 ans = { -1, NULL, false };
	struct acme_problem	 prob = { 0 };
	const char		*new_order = acme_url(o->a, ACME_URL_NEW_ORDER);
	json_t			*p, *ids, *obj;
	char			*payload = NULL;
	enum err		 e = ERR_INTERNAL;
	size_t			 i;

	p = json_object();
	ids = json_array();
	for (i = 0; i < o->req->n_names; i++)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
		    domain_is_ip(o->req->names[i]) ? "ip" : "dns", "value",
		    o->req->names[i]));
	json_object_set_new(p, "identifiers", ids);
	if (o->req->profile != NULL)
		json_object_set_new(p, "profile", json_string(o->req->profile));
	if (with_replaces && o->req->replaces != NULL)
		json_object_set_new(p, "replaces",
		    json_string(o->req->replaces));
	if ((payload = json_dumps(p, JSON_COMPACT)) == NULL)
		goto out;
	if ((e = acme_post_json_prob(o->a, "newOrder", new_order, payload,
	    &obj, &ans, &prob)) != ERR_OK) {
		profile_refused(o, &prob);
		goto out;
	}
	order_set_status(o, obj);
	e = ERR_ACME;
	if (ans.location == NULL) {
		log_error("newOrder %s: no Location for the order", new_order);
		goto out;
	}
	if (!json_is_array(json_object_get(o->obj, "authorizations")) ||
	    json_string_value(json_object_get(o->obj, "finalize")) == NULL) {
		log_error("newOrder %s: the order lacks authorizations or "
		    "finalize", new_order);
		goto out;
	}
	o->url = ans.location;
	ans.location = NULL;
	e = check_origins(o);
out:
	acme_problem_clear(&prob);
	free(ans.location);
	json_decref(p);
	free(payload);
	return e;
}

/*
 * Picks the challenge of authz by preference; NULL (logged) if none fits.
 * An IP address is proved over http-01 only: RFC 8738 §7 rules out
 * dns-01, and tls-alpn-01 for an address (its SNI is the reverse-DNS
 * name, RFC 8738 §6) is not one we hand out yet.  A wildcard takes
 * dns-01 only (CAs offer nothing else; RFC 8737 §3 rules out tls-alpn-01).
 */
static json_t *
pick(struct order *o, json_t *authz, const char *domain, bool wildcard,
    bool ip, enum chal_type *type)
{
	json_t		*chs = json_object_get(authz, "challenges"), *c;
	const char	*t;
	size_t		 i, j;
	char		 offered[128] = "";
	bool		 http = false;

	for (i = 0; i < o->req->n_prefs; i++) {
		if (o->req->prefs[i] == CHAL_HTTP01)
			http = true;
		if (wildcard && !chal_type_is_dns(o->req->prefs[i]))
			continue;
		if (ip && o->req->prefs[i] != CHAL_HTTP01)
			continue;
		json_array_foreach(chs, j, c) {
			t = json_string_value(json_object_get(c, "type"));
			if (t != NULL && strcmp(t,
			    chal_type_name(o->req->prefs[i])) == 0) {
				*type = o->req->prefs[i];
				return c;
			}
		}
	}
	if (ip && !http) {
		log_error("%s: IP addresses can only be validated with http-01:"
		    " add http to --preferred-challenges", domain);
		return NULL;
	}
	json_array_foreach(chs, j, c) {
		t = json_string_value(json_object_get(c, "type"));
		if (t != NULL && strlen(offered) + strlen(t) + 3 <
		    sizeof offered) {
			if (offered[0] != '\0')
				strcat(offered, ", ");
			strcat(offered, t);
		}
	}
	log_error("the CA offers no challenge of the preferred types for %s%s"
	    " (it offers: %s)", wildcard ? "*." : "", domain,
	    offered[0] ? offered : "none");
	return NULL;
}

char *
order_http_uri(const char *domain, const char *token)
{
	char	*uri;
	bool	 v6 = strchr(domain, ':') != NULL;

	/* An IPv6 literal goes in brackets (RFC 3986 §3.2.2). */
	if (asprintf(&uri, "http://%s%s%s/.well-known/acme-challenge/%s",
	    v6 ? "[" : "", domain, v6 ? "]" : "", token) == -1)
		return NULL;
	return uri;
}

char *
order_alpn_value(const char *key_auth)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 digest[32];
	char			*s;
	size_t			 i;

	if (crypto_sha256(key_auth, strlen(key_auth), digest) == -1 ||
	    (s = malloc(3 * sizeof digest)) == NULL)
		return NULL;
	for (i = 0; i < sizeof digest; i++) {
		s[3 * i] = digits[digest[i] >> 4];
		s[3 * i + 1] = digits[digest[i] & 0x0f];
		s[3 * i + 2] = i + 1 < sizeof digest ? ':' : '\0';
	}
	return s;
}

/*
 * The dns-persist-01 record of c: no token, no key authorization; the
 * value names the first of the CA's issuer-domain-names and this account
 * (dnschal.c checks both before they reach a line, a handler or a path).
 * Caller frees with challenge_free; NULL (logged) when unusable.
 */
static struct challenge *
make_persist(struct order *o, const char *authz_url, const char *domain,
    bool wildcard, json_t *c)
{
	struct challenge	*ch;
	const char		*url, *issuer;
	char			 why[160];

	url = json_string_value(json_object_get(c, "url"));
	issuer = json_string_value(json_array_get(json_object_get(c,
	    "issuer-domain-names"), 0));
	if (url == NULL) {
		log_error("the CA sent a dns-persist-01 challenge for %s "
		    "without a URL", domain);
		return NULL;
	}
	if (acme_check_origin(o->a, "a challenge", url) != ERR_OK ||
	    (ch = calloc(1, sizeof *ch)) == NULL)
		return NULL;
	ch->type = CHAL_DNSPERSIST01;
	ch->wildcard = wildcard;
	if ((ch->validation = dnschal_persist_value(issuer, acme_kid(o->a),
	    wildcard, why, sizeof why)) == NULL) {
		log_error("dns-persist-01 challenge for %s: %s", domain, why);
		goto fail;
	}
	if ((ch->domain = strdup(domain)) == NULL ||
	    (ch->url = strdup(url)) == NULL ||
	    (ch->authz_url = strdup(authz_url)) == NULL ||
	    (ch->txt_domain = dnschal_persist_name(domain)) == NULL)
		goto fail;
	return ch;
fail:
	challenge_free(ch);
	return NULL;
}

/* Builds the challenge record from the CA's objects, checking every value
 * before it goes anywhere.  Caller frees with challenge_free. */
static struct challenge *
make_challenge(struct order *o, const char *authz_url, const char *domain,
    bool wildcard, enum chal_type type, json_t *c)
{
	struct challenge	*ch;
	const char		*token, *url;

	if (type == CHAL_DNSPERSIST01)
		return make_persist(o, authz_url, domain, wildcard, c);
	token = json_string_value(json_object_get(c, "token"));
	url = json_string_value(json_object_get(c, "url"));
	if (token == NULL || url == NULL || !b64u_valid(token) ||
	    strlen(token) > 256) {
		log_error("the CA sent a %s challenge for %s with a missing or "
		    "malformed token or URL", chal_type_name(type), domain);
		return NULL;
	}
	if (acme_check_origin(o->a, "a challenge", url) != ERR_OK)
		return NULL;
	if ((ch = calloc(1, sizeof *ch)) == NULL)
		return NULL;
	ch->type = type;
	ch->wildcard = wildcard;
	if ((ch->domain = strdup(domain)) == NULL ||
	    (ch->token = strdup(token)) == NULL ||
	    (ch->url = strdup(url)) == NULL ||
	    (ch->authz_url = strdup(authz_url)) == NULL)
		goto fail;
	if (order_key_auth(token, o->thumb, &ch->key_auth, &ch->validation) ==
	    -1)
		goto fail;
	if (type == CHAL_HTTP01) {
		free(ch->validation);
		if ((ch->validation = strdup(ch->key_auth)) == NULL ||
		    (ch->uri = order_http_uri(domain, token)) == NULL)
			goto fail;
	} else if (type == CHAL_TLSALPN01) {
		free(ch->validation);
		if ((ch->validation = order_alpn_value(ch->key_auth)) == NULL)
			goto fail;
	} else if (type == CHAL_DNSACCOUNT01) {
		if ((ch->txt_domain = dnschal_account_name(acme_kid(o->a),
		    domain)) == NULL)
			goto fail;
	} else if (asprintf(&ch->txt_domain, "_acme-challenge.%s", domain) ==
	    -1)
		goto fail;
	return ch;
fail:
	challenge_free(ch);
	return NULL;
}

/* Position of an authorization's identifier (domain, wildcard) among the
 * names the user asked for; req->n_names if it is none of them.  DNS
 * names compare without case (RFC 4343); addresses are canonical. */
static size_t
name_index(const struct order_req *req, const char *domain, bool wildcard)
{
	const char	*n;
	size_t		 i;

	for (i = 0; i < req->n_names; i++) {
		n = req->names[i];
		if (wildcard != (strncmp(n, "*.", 2) == 0))
			continue;
		if (strcasecmp(wildcard ? n + 2 : n, domain) == 0)
			return i;
	}
	return req->n_names;
}

/* True if names[i] was given before (a CSR may name one twice). */
static bool
name_repeated(const struct order_req *req, size_t i)
{
	const char	*n = req->names[i];
	bool		 wild = strncmp(n, "*.", 2) == 0;

	return name_index(req, wild ? n + 2 : n, wild) < i;
}

static size_t
name_rank(const struct order_req *req, const struct challenge *ch)
{
	return name_index(req, ch->domain, ch->wildcard);
}

enum order_cover
order_cover_add(const struct order_req *req, bool *seen, const char *domain,
    bool wildcard, size_t *k)
{
	*k = name_index(req, domain, wildcard);
	if (*k == req->n_names)
		return ORDER_COVER_FOREIGN;
	if (seen[*k])
		return ORDER_COVER_DUPLICATE;
	seen[*k] = true;
	return ORDER_COVER_OK;
}

size_t
order_cover_missing(const struct order_req *req, const bool *seen)
{
	size_t	i;

	for (i = 0; i < req->n_names; i++)
		if (!seen[i] && !name_repeated(req, i))
			return i;
	return req->n_names;
}

/*
 * The authorizations must cover exactly the names ordered: one each, no
 * other.  A name nobody asked for must never reach an invoker or handler
 * (it would publish a challenge for it), so this runs on every
 * authorization before any challenge is handed out.  seen[] has one flag
 * per ordered name.
 */
static enum err
check_identifier(struct order *o, bool *seen, const char *authz_url,
    const char *domain, bool wildcard)
{
	char			q[LOG_QUOTE_MAX];
	size_t			k;
	enum order_cover	c = order_cover_add(o->req, seen, domain,
				    wildcard, &k);

	if (c == ORDER_COVER_FOREIGN) {
		log_error("the CA's authorization %s is for %s%s, which was not "
		    "ordered: refused before anything was deployed", authz_url,
		    wildcard ? "*." : "", log_quote(domain, q, sizeof q));
		return ERR_ACME;
	}
	if (c == ORDER_COVER_DUPLICATE) {
		log_error("the CA sent a second authorization (%s) for %s: "
		    "refused before anything was deployed", authz_url,
		    o->req->names[k]);
		return ERR_ACME;
	}
	return ERR_OK;
}

/*
 * The CA lists authorizations in an order of its own (Pebble's is random);
 * the outside party sees challenges in the order the names were given, as
 * the seed's README shows.  Insertion sort: orders hold few names.
 */
static void
sort_challenges(struct order *o)
{
	struct challenge	*ch;
	size_t			 i, j;

	for (i = 1; i < o->n_chs; i++) {
		ch = o->chs[i];
		for (j = i; j > 0 && name_rank(o->req, o->chs[j - 1]) >
		    name_rank(o->req, ch); j--)
			o->chs[j] = o->chs[j - 1];
		o->chs[j] = ch;
	}
}

/*
 * The identifier of authz, new memory, or NULL if it is not of a type we
 * ask for (dns, ip) or not a valid value of its type.  RFC 8738 §3 wants
 * IPv6 in RFC 5952 form; any other spelling of a valid address is brought
 * to it, so it compares equal to the name we asked for.
 */
static char *
identifier_value(json_t *authz, bool wildcard)
{
	json_t		*id = json_object_get(authz, "identifier");
	const char	*type, *value;
	char		*canon, why[160];

	type = json_string_value(json_object_get(id, "type"));
	value = json_string_value(json_object_get(id, "value"));
	if (type == NULL || value == NULL)
		return NULL;
	if (strcmp(type, "dns") == 0)
		return domain_valid(value) ? strdup(value) : NULL;
	if (strcmp(type, "ip") != 0 || wildcard)
		return NULL;
	if ((canon = domain_normalize(value, why, sizeof why)) != NULL &&
	    !domain_is_ip(canon)) {
		free(canon);
		canon = NULL;
	}
	return canon;
}

static enum err
collect(struct order *o)
{
	json_t		*authzs = json_object_get(o->obj, "authorizations");
	json_t		*authz = NULL, *c;
	const char	*url;
	char		*domain = NULL;
	enum acme_status st;
	struct challenge *ch;
	enum chal_type	 type = CHAL_DNS01;
	enum err	 e = ERR_OK;
	size_t		 i;
	bool		 wildcard, *seen = NULL;

	if ((o->chs = calloc(json_array_size(authzs) + 1, sizeof *o->chs)) ==
	    NULL || (seen = calloc(o->req->n_names + 1, sizeof *seen)) == NULL)
		return ERR_INTERNAL;
	json_array_foreach(authzs, i, c) {
		if ((url = json_string_value(c)) == NULL) {
			log_error("order %s: an authorization is not a URL",
			    o->url);
			e = ERR_ACME;
			goto out;
		}
		if ((e = acme_get_json(o->a, "authorization", url, &authz,
		    NULL)) != ERR_OK)
			goto out;
		st = acme_status_of(authz);
		wildcard = json_is_true(json_object_get(authz, "wildcard"));
		domain = identifier_value(authz, wildcard);
		e = ERR_ACME;
		if (st == ACME_STATUS_NONE || domain == NULL) {
			log_error("authorization %s: missing status or an "
			    "identifier that is not a valid name or IP "
			    "address", url);
			goto next;
		}
		if ((e = check_identifier(o, seen, url, domain, wildcard)) !=
		    ERR_OK)
			goto next;
		e = ERR_ACME;
		if (st == ACME_STATUS_VALID) {
			log_info("%s%s: already authorized", wildcard ? "*." :
			    "", domain);
			e = ERR_OK;
			goto next;
		}
		if (st != ACME_STATUS_PENDING) {
			log_error("authorization for %s is %s", domain,
			    status_str(st));
			e = ERR_CHALLENGE;
			goto next;
		}
		if ((c = pick(o, authz, domain, wildcard, domain_is_ip(domain),
		    &type)) == NULL)
			goto next;
		if ((ch = make_challenge(o, url, domain, wildcard, type, c)) ==
		    NULL)
			goto next;
		o->chs[o->n_chs++] = ch;
		log_info("%s challenge for %s%s", chal_type_name(type),
		    wildcard ? "*." : "", domain);
		e = ERR_OK;
next:
		json_decref(authz);
		authz = NULL;
		free(domain);
		domain = NULL;
		if (e != ERR_OK)
			goto out;
	}
	if ((i = order_cover_missing(o->req, seen)) < o->req->n_names) {
		log_error("order %s has no authorization for %s, which was "
		    "ordered: refused before anything was deployed", o->url,
		    o->req->names[i]);
		e = ERR_ACME;
		goto out;
	}
	sort_challenges(o);
	e = ERR_OK;
out:
	free(seen);
	return e;
}

/*
 * The tls-alpn-01 certificate and key of ch, for outside parties that only
 * need files to serve (dehydrated's ALPNCERTDIR): dir/NAME.{crt,key}.pem,
 * the key 0600.  The name is a checked identifier (no '/', no leading
 * '.').  ch->key_path and ch->cert_path are set as each file lands, so
 * alpn_remove finds whatever was written.
 */
static enum err
alpn_write_one(const char *dir, struct challenge *ch)
{
	unsigned char	 digest[32];
	char		*cert = NULL, *key = NULL;
	char		*cpath = NULL, *kpath = NULL;
	enum err	 e = ERR_INTERNAL;

	if (crypto_sha256(ch->key_auth, strlen(ch->key_auth), digest) == -1 ||
	    crypto_alpn_cert(ch->domain, digest, &cert, &key) == -1)
		goto out;
	if (asprintf(&kpath, "%s/%s.key.pem", dir, ch->domain) == -1) {
		kpath = NULL;
		goto out;
	}
	if (asprintf(&cpath, "%s/%s.crt.pem", dir, ch->domain) == -1) {
		cpath = NULL;
		goto out;
	}
	if ((e = store_write_atomic(kpath, key, strlen(key), 0600)) != ERR_OK)
		goto out;
	ch->key_path = kpath;	/* owned by ch from here */
	kpath = NULL;
	if ((e = store_write_atomic(cpath, cert, strlen(cert), 0644)) !=
	    ERR_OK)
		goto out;
	ch->cert_path = cpath;
	cpath = NULL;
	log_debug("%s: tls-alpn-01 certificate in %s", ch->domain,
	    ch->cert_path);
out:
	if (e != ERR_OK)
		log_error("%s: cannot write the tls-alpn-01 certificate to %s",
		    ch->domain, dir);
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	free(kpath);
	free(cpath);
	return e;
}

/* Writes the files of every tls-alpn-01 challenge, before perform. */
static enum err
alpn_write(struct order *o)
{
	char		*dir = NULL;
	enum err	 e = ERR_INTERNAL;
	size_t		 i;

	for (i = 0; i < o->n_chs && o->chs[i]->type != CHAL_TLSALPN01; i++)
		;
	if (i == o->n_chs)
		return ERR_OK;
	if (o->req->work_dir == NULL) {
		log_error("%s: no work directory for the tls-alpn-01 "
		    "certificate", o->chs[i]->domain);
		return ERR_INTERNAL;
	}
	if (asprintf(&dir, "%s/alpn", o->req->work_dir) == -1) {
		dir = NULL;
		goto out;
	}
	if ((e = store_mkdirs_owned(dir, 0700)) != ERR_OK)
		goto out;
	for (; i < o->n_chs; i++)
		if (o->chs[i]->type == CHAL_TLSALPN01 &&
		    (e = alpn_write_one(dir, o->chs[i])) != ERR_OK)
			goto out;
out:
	free(dir);
	return e;
}

/* Removes what alpn_write wrote; runs on every path, after cleanup. */
static void
alpn_remove(struct order *o)
{
	struct challenge	*ch;
	size_t			 i;

	for (i = 0; i < o->n_chs; i++) {
		ch = o->chs[i];
		if (ch->cert_path != NULL && unlink(ch->cert_path) == -1 &&
		    errno != ENOENT)
			log_warn("cannot remove %s: %s", ch->cert_path,
			    strerror(errno));
		if (ch->key_path != NULL && unlink(ch->key_path) == -1 &&
		    errno != ENOENT)
			log_warn("cannot remove %s: %s", ch->key_path,
			    strerror(errno));
		free(ch->cert_path);
		free(ch->key_path);
		ch->cert_path = ch->key_path = NULL;
	}
}

/*
 * What a CA's problem says when it looked for a TXT record and found none
 * (Pebble: "No TXT records found for DNS challenge"; Let's Encrypt: "No
 * TXT record found at _acme-challenge..."; or the name does not exist).
 */
static const char *const txt_missing[] = {
	"no txt record", "txt record not found", "nxdomain",
};

/* The second line of a rejected challenge: what to do about it. */
static void
report_rejection(const struct challenge *ch)
{
	size_t	i;
	bool	missing = false;

	for (i = 0; ch->error != NULL &&
	    i < sizeof txt_missing / sizeof txt_missing[0]; i++)
		if (strcasestr(ch->error, txt_missing[i]) != NULL)
			missing = true;
	if (chal_type_is_dns(ch->type) && missing)
		log_error("the TXT record was not visible to the CA yet: let "
		    "extauth wait until it shows with --dns-wait SECONDS; check "
		    "it with: dig +short TXT %s", ch->txt_domain);
	else if (chal_type_is_dns(ch->type))
		log_error("check what the CA sees with: dig +short TXT %s (it "
		    "must give %s), then run again", ch->txt_domain,
		    ch->validation);
	else if (ch->type == CHAL_HTTP01)
		log_error("check that %s answers %s from the internet (no "
		    "redirect to another host, no firewall), then run again",
		    ch->uri, ch->key_auth);
	else
		log_error("check that %s:443 serves the tls-alpn-01 "
		    "certificate for ALPN acme-tls/1 to the CA, then run again",
		    ch->domain);
}

/* Copies the outcome of the challenge object c into ch. */
static void
record_outcome(struct challenge *ch, json_t *authz, json_t *c)
{
	enum acme_status	 st = acme_status_of(authz);
	const char		*s;
	json_t			*err;

	/* No status at all is no success. */
	chal_set_status(ch, st == ACME_STATUS_NONE ? ACME_STATUS_INVALID : st);
	if (c == NULL)
		return;
	if ((s = json_string_value(json_object_get(c, "validated"))) != NULL) {
		free(ch->validated);
		ch->validated = strdup(s);
	}
	if ((err = json_object_get(c, "error")) != NULL &&
	    json_is_object(err)) {
		free(ch->error);
		free(ch->error_json);
		ch->error = acme_problem_text(err);
		ch->error_json = json_dumps(err, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
	}
}

/* The challenge of authz whose URL is ch->url, borrowed, or NULL. */
static json_t *
find_challenge(json_t *authz, const struct challenge *ch)
{
	json_t		*c;
	const char	*url;
	size_t		 i;

	json_array_foreach(json_object_get(authz, "challenges"), i, c) {
		url = json_string_value(json_object_get(c, "url"));
		if (url != NULL && strcmp(url, ch->url) == 0)
			return c;
	}
	return NULL;
}

/*
 * The propagation wait (--dns-wait): every record the outside party said
 * it deployed is looked up until it shows or the time is up, before the
 * CA is asked to look.  This is the "deploy all, wait once" that users of
 * certbot's and dehydrated's hooks keep asking for: one wait for the whole
 * order, not a sleep per hook.  Advice, not a verdict: when time is up the
 * CA is asked anyway and decides.
 */
static void
propagate(struct order *o)
{
	struct timespec	 now, until;
	char		 why[128];
	size_t		 i, left;
	long		 backoff = DNS_POLL_FIRST_MS, ms;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += o->req->dns_wait_s;
	log_progress_begin("the TXT records to be visible (--dns-wait)",
	    o->req->dns_wait_s);
	for (;;) {
		left = 0;
		for (i = 0; i < o->n_chs; i++) {
			if (!chal_type_is_dns(o->chs[i]->type) ||
			    o->chs[i]->propagated)
				continue;
			if (selfcheck_dns_auth(o->req->dns_resolver,
			    o->chs[i]->txt_domain,
			    o->chs[i]->validation, why, sizeof why)) {
				o->chs[i]->propagated = true;
				log_info("%s: the TXT record is visible",
				    o->chs[i]->txt_domain);
			} else {
				left++;
				log_debug("%s: not visible yet (%s)",
				    o->chs[i]->txt_domain, why);
			}
		}
		if (left == 0 || sig_pending() != 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (until.tv_sec - now.tv_sec) * 1000 +
		    (until.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			log_warn("timed out after %ld s waiting for DNS "
			    "propagation: %zu TXT record%s still not visible; "
			    "asking the CA anyway", o->req->dns_wait_s, left,
			    left == 1 ? "" : "s");
			return;
		}
		acme_wait_ms(backoff < ms ? backoff : ms);
		if (backoff < POLL_MAX_MS)
			backoff *= 2;
	}
}

/*
 * Tells the CA that ch is ready.  Like finalize, not resent blindly: when
 * the request went out and its answer was lost, the CA may have taken it,
 * and a second POST to a challenge that is no longer pending is refused
 * (Pebble: malformed).  So the challenge is read again; pending means
 * answer again, anything else means the CA has it and polling decides.
 */
static enum err
answer_challenge(struct order *o, const struct challenge *ch)
{
	struct acme_answer	 ans = { -1, NULL, false };
	json_t			*obj = NULL;
	enum err		 e;

	if ((e = acme_post_json_once(o->a, "challenge", ch->url, "{}", &obj,
	    &ans)) == ERR_OK || !ans.lost)
		goto out;
	if ((e = acme_get_json(o->a, "challenge", ch->url, &obj, NULL)) !=
	    ERR_OK)
		goto out;
	if (acme_status_of(obj) != ACME_STATUS_PENDING) {
		log_info("challenge %s: the CA had taken the answer; it is %s",
		    ch->url, status_str(acme_status_of(obj)));
		goto out;
	}
	json_decref(obj);
	obj = NULL;
	e = acme_post_json(o->a, "challenge", ch->url, "{}", &obj, NULL);
out:
	free(ans.location);
	json_decref(obj);
	return e;
}

/* The CA's verdict on ch was not valid: said (its words quoted, log.h),
 * with what to do, and told to the outside party. */
static void
rejected(struct order *o, struct challenge *ch)
{
	char	q[LOG_QUOTE_MAX];

	log_error("the CA rejected the %s challenge for %s: %s",
	    chal_type_name(ch->type), ch->domain, log_quote(ch->error ?
	    ch->error : status_str(ch->status), q, sizeof q));
	report_rejection(ch);
	solver_invalid(o->s, ch);
}

/* Tells the CA every challenge is ready, then polls until each is final. */
static enum err
validate(struct order *o)
{
	json_t			*authz = NULL;
	enum acme_status	 st;
	enum err		 e;
	size_t			 i, pending;
	long			 backoff = POLL_FIRST_MS, ra, max_ra;

	for (i = 0; i < o->n_chs; i++)
		if (o->chs[i]->status == ACME_STATUS_NONE &&
		    (o->answered == NULL || !o->answered[i]) &&
		    (e = answer_challenge(o, o->chs[i])) != ERR_OK)
			return e;
	start_clock(o);
	for (;;) {
		pending = 0;
		max_ra = -1;
		for (i = 0; i < o->n_chs; i++) {
			if (o->chs[i]->status != ACME_STATUS_NONE)
				continue;
			ra = -1;
			if ((e = acme_get_json(o->a, "authorization",
			    o->chs[i]->authz_url, &authz, &ra)) != ERR_OK)
				return e;
			st = acme_status_of(authz);
			if (st == ACME_STATUS_PENDING ||
			    st == ACME_STATUS_PROCESSING) {
				pending++;
				if (ra > max_ra)
					max_ra = ra;
			} else {
				record_outcome(o->chs[i], authz,
				    find_challenge(authz, o->chs[i]));
				if (o->chs[i]->status != ACME_STATUS_VALID)
					rejected(o, o->chs[i]);
			}
			json_decref(authz);
			authz = NULL;
		}
		if (pending == 0)
			break;
		if (!poll_wait(o, &backoff, max_ra, "the CA to validate the "
		    "challenges (counted from when they were answered)"))
			return ERR_ACME;
	}
	for (i = 0; i < o->n_chs; i++)
		if (o->chs[i]->status != ACME_STATUS_VALID)
			return ERR_CHALLENGE;
	return ERR_OK;
}

/* Polls the order while its status is wait1 or wait2 (NONE: only wait1);
 * ra is the Retry-After of the answer that brought the current object
 * (-1).  what names the party waited for. */
static enum err
poll_order(struct order *o, enum acme_status wait1, enum acme_status wait2,
    long ra, const char *what)
{
	long		 backoff = POLL_FIRST_MS;
	json_t		*obj;
	enum err	 e;

	for (;;) {
		if (o->status == ACME_STATUS_NONE ||
		    o->status == ACME_STATUS_UNKNOWN) {
			log_error("order %s has no status of RFC 8555", o->url);
			return ERR_ACME;
		}
		if (o->status != wait1 && (wait2 == ACME_STATUS_NONE ||
		    o->status != wait2))
			return ERR_OK;
		if (!poll_wait(o, &backoff, ra, what))
			return ERR_ACME;
		if ((e = acme_get_json(o->a, "order", o->url, &obj, &ra)) !=
		    ERR_OK)
			return e;
		order_set_status(o, obj);
	}
}

/*
 * POSTs the CSR to the order's finalize URL; the answer becomes the
 * order's object.  Finalize changes the order at the CA, so a request
 * that went out without an answer coming back is not resent blindly (the
 * retry would meet orderNotReady from an order already processing): the
 * order is read again, and only an order still ready is finalized again.
 */
static enum err
send_finalize(struct order *o, const char *payload, struct acme_answer *ans)
{
	const char	*url;
	json_t		*obj = NULL;
	enum err	 e;

	/* url lives in o->obj: the answer replaces o->obj only once every
	 * use of url is over. */
	url = json_string_value(json_object_get(o->obj, "finalize"));
	if ((e = acme_check_origin(o->a, "a finalize", url)) != ERR_OK)
		return e;
	if ((e = acme_post_json_once(o->a, "finalize", url, payload, &obj,
	    ans)) == ERR_OK || !ans->lost)
		goto out;
	if ((e = acme_get_json(o->a, "order", o->url, &obj, NULL)) != ERR_OK)
		goto out;
	order_set_status(o, obj);
	obj = NULL;
	if (o->status == ACME_STATUS_PROCESSING ||
	    o->status == ACME_STATUS_VALID) {
		log_info("finalize: the CA had taken the request; order %s is "
		    "%s", o->url, status_str(o->status));
		return ERR_OK;
	}
	url = json_string_value(json_object_get(o->obj, "finalize"));
	if ((e = acme_check_origin(o->a, "a finalize", url)) != ERR_OK)
		return e;
	free(ans->location);
	e = acme_post_json(o->a, "finalize", url, payload, &obj, ans);
out:
	if (e == ERR_OK)
		order_set_status(o, obj);
	else
		json_decref(obj);
	return e;
}

static enum err
finalize(struct order *o)
{
	struct acme_answer	 ans = { -1, NULL, false };
	unsigned char		*der = NULL;
	const unsigned char	*csr;
	char			*b64 = NULL, *payload = NULL;
	json_t			*p = NULL, *obj = NULL;
	size_t			 len;
	enum err		 e = ERR_INTERNAL;

	/* The order we hold is from before validation: look again now
	 * rather than after a first backoff. */
	if (o->n_chs > 0) {
		if ((e = acme_get_json(o->a, "order", o->url, &obj, NULL)) !=
		    ERR_OK)
			goto out;
		order_set_status(o, obj);
		obj = NULL;
	}
	start_clock(o);
	if ((e = poll_order(o, ACME_STATUS_PENDING, ACME_STATUS_NONE, -1,
	    "the CA to mark the order ready")) != ERR_OK)
		goto out;
	e = ERR_ACME;
	if (o->status != ACME_STATUS_READY && o->status != ACME_STATUS_VALID) {
		log_error("order %s is %s, not ready to finalize", o->url,
		    status_str(o->status));
		goto out;
	}
	if (o->status == ACME_STATUS_READY) {
		e = ERR_INTERNAL;
		if (o->req->csr_der != NULL) {
			csr = o->req->csr_der;
			len = o->req->csr_len;
		} else {
			if ((der = crypto_csr_der(o->req->cert_key,
			    o->req->names, o->req->n_names, &len)) == NULL)
				goto out;
			csr = der;
		}
		if ((b64 = b64u_encode(csr, len)) == NULL ||
		    (p = json_pack("{s:s}", "csr", b64)) == NULL ||
		    (payload = json_dumps(p, JSON_COMPACT)) == NULL)
			goto out;
		if ((e = send_finalize(o, payload, &ans)) != ERR_OK)
			goto out;
		if ((e = poll_order(o, ACME_STATUS_PROCESSING, ACME_STATUS_READY,
		    ans.retry_after, "the CA to issue the certificate")) !=
		    ERR_OK)
			goto out;
	}
	if (o->status != ACME_STATUS_VALID) {
		log_error("order %s ended %s", o->url, status_str(o->status));
		e = ERR_ACME;
		goto out;
	}
	e = ERR_OK;
out:
	free(ans.location);
	json_decref(obj);
	json_decref(p);
	free(der);
	free(b64);
	free(payload);
	return e;
}

/*
 * One certificate chain at url into *resp (caller clears), checked whole;
 * *top_cn (caller frees, may be NULL) is the issuer CN of its topmost
 * certificate.  A chain that does not parse is fetched once more: the
 * download is a POST-as-GET, safe to repeat, and a damaged answer is more
 * often the path's fault than the CA's.
 */
static enum err
fetch_chain(struct order *o, const char *url, struct http_response *resp,
    char **top_cn)
{
	const char	*why = NULL;
	enum err	 e;
	int		 try;

	*top_cn = NULL;
	if ((e = acme_check_origin(o->a, "a certificate", url)) != ERR_OK)
		return e;
	for (try = 0; try < 2; try++) {
		http_response_clear(resp);
		if ((e = acme_post(o->a, "certificate", url, NULL, false,
		    "application/pem-certificate-chain", resp, NULL)) !=
		    ERR_OK)
			return e;
		if ((why = crypto_chain_top_issuer(resp->body, resp->body_len,
		    top_cn)) == NULL)
			break;
		if (try == 0)
			log_warn("certificate %s: the answer is not a "
			    "certificate chain (%s); fetching it again", url,
			    why);
	}
	if (why != NULL) {
		log_error("certificate %s: the answer is not a certificate "
		    "chain (%s)", url, why);
		return ERR_ACME;
	}
	if (resp->content_type != NULL && strcmp(resp->content_type,
	    "application/pem-certificate-chain") != 0)
		log_warn("certificate %s served as %s", url,
		    resp->content_type);
	return ERR_OK;
}

/* Whether a chain whose topmost issuer CN is cn is the one asked for. */
static bool
chain_wanted(const char *want, const char *cn)
{
	return want == NULL || (cn != NULL && strcmp(want, cn) == 0);
}

/*
 * The certificate chain of a valid order; *pem is new, caller frees.
 * --preferred-chain, certbot's rule (RFC 8555 §7.4.2): the default chain
 * unless its topmost issuer CN differs from the one asked for; then the
 * first of the alternates the download links to (Link: rel="alternate")
 * whose topmost issuer CN matches; none: the default, with a warning.  An
 * alternate that cannot be fetched is skipped: the default is a valid
 * chain for the same certificate.
 */
static enum err
download(struct order *o, char **pem)
{
	struct http_response	 resp, alt;
	const char		*url, *want = o->req->preferred_chain;
	char			*cn = NULL, *acn = NULL;
	enum err		 e = ERR_ACME;
	size_t			 i;

	*pem = NULL;
	memset(&resp, 0, sizeof resp);
	memset(&alt, 0, sizeof alt);
	if ((url = json_string_value(json_object_get(o->obj, "certificate")))
	    == NULL) {
		log_error("order %s is valid but names no certificate", o->url);
		goto out;
	}
	if ((e = fetch_chain(o, url, &resp, &cn)) != ERR_OK)
		goto out;
	for (i = 0; !chain_wanted(want, cn) && i < resp.n_links; i++) {
		if ((e = fetch_chain(o, resp.links[i], &alt, &acn)) != ERR_OK) {
			if (e == ERR_SIGNAL || sig_pending() != 0)
				goto out;
			log_warn("certificate %s: alternate chain %s skipped",
			    url, resp.links[i]);
			continue;
		}
		log_debug("certificate %s: alternate chain %s leads to \"%s\"",
		    url, resp.links[i], acn != NULL ? acn : "(no CN)");
		if (chain_wanted(want, acn)) {
			log_info("certificate %s: the chain to \"%s\" "
			    "(--preferred-chain) is %s", url, want,
			    resp.links[i]);
			*pem = alt.body;
			alt.body = NULL;
			e = ERR_OK;
			goto out;
		}
		free(acn);
		acn = NULL;
	}
	if (!chain_wanted(want, cn))
		log_warn("certificate %s: no chain the CA offers leads to "
		    "\"%s\" (--preferred-chain); keeping the default chain, "
		    "which leads to \"%s\"", url, want, cn != NULL ? cn :
		    "(no CN)");
	*pem = resp.body;
	resp.body = NULL;
	e = ERR_OK;
out:
	http_response_clear(&resp);
	http_response_clear(&alt);
	free(cn);
	free(acn);
	return e;
}

/*
 * --deactivate-authz: once the certificate is ours, the order's
 * authorizations are given up (RFC 8555 §7.5.2), so nobody holding the
 * account key can issue for these names without validating again, and the
 * next order validates afresh.  A failure here is only a warning: the
 * certificate is already issued.
 */
static void
deactivate(struct order *o)
{
	struct http_response	 resp;
	const char		*url;
	json_t			*v;
	size_t			 i;

	json_array_foreach(json_object_get(o->obj, "authorizations"), i, v) {
		if ((url = json_string_value(v)) == NULL)
			continue;
		if (acme_post(o->a, "deactivate authorization", url,
		    "{\"status\":\"deactivated\"}", false, "application/json",
		    &resp, NULL) == ERR_OK)
			log_debug("authorization %s deactivated", url);
		else
			log_warn("could not deactivate authorization %s", url);
		http_response_clear(&resp);
	}
}

/* Frees what the order holds after alpn_remove. */
static void
order_release(struct order *o)
{
	size_t	i;

	for (i = 0; i < o->n_chs; i++)
		challenge_free(o->chs[i]);
	free(o->chs);
	free(o->answered);
	free(o->thumb);
	free(o->url);
	json_decref(o->obj);
	memset(o, 0, sizeof *o);
}

/* The CA's clock and our thumbprint: what every kind of order needs
 * before its first request. */
static enum err
order_init(struct order *o, struct acme *a, struct solver *s,
    const struct order_req *req)
{
	enum err	e;

	memset(o, 0, sizeof *o);
	o->a = a;
	o->s = s;
	o->req = req;
	if ((e = ca_timeout(req, &o->timeout_s)) != ERR_OK)
		return e;
	if ((o->thumb = jws_thumbprint(acme_key(a))) == NULL)
		return ERR_INTERNAL;
	return ERR_OK;
}

/* newOrder (once more without "replaces" if the CA refused it), then the
 * challenges to hand out. */
static enum err
create(struct order *o)
{
	enum err	e;

	e = new_order(o, true);
	/* RFC 9773 §5: alreadyReplaced, or any refusal of "replaces", gets
	 * one more order without it (acme.c logged the refusal).  A CA that
	 * asked for a pause (a 503 with Retry-After) refused nothing: it
	 * gets no order before its time, which renew's pause keeps. */
	if (e == ERR_ACME && o->req->replaces != NULL && o->url == NULL &&
	    acme_ratelimit_retry(o->a) == 0 && sig_pending() == 0) {
		log_warn("newOrder: ordering again without \"replaces\" (the "
		    "CA refused the order that named the certificate it "
		    "replaces)");
		e = new_order(o, false);
	}
	if (e == ERR_OK)
		e = collect(o);
	if (e != ERR_OK && sig_pending() != 0)
		e = ERR_SIGNAL;
	return e;
}

/* Validation is over: finalize, download, and give the authorizations up
 * when asked to. */
static enum err
conclude(struct order *o, char **chain_pem)
{
	enum err	e;

	if (sig_pending() != 0)
		return ERR_SIGNAL;
	if ((e = finalize(o)) != ERR_OK)
		return e;
	if ((e = download(o, chain_pem)) == ERR_OK && o->req->deactivate_authz)
		deactivate(o);
	return e;
}

enum err
order_obtain(struct acme *a, struct solver *s, const struct order_req *req,
    char **chain_pem)
{
	struct order	o;
	enum err	e, ec;

	*chain_pem = NULL;
	if ((e = order_init(&o, a, s, req)) != ERR_OK ||
	    (e = create(&o)) != ERR_OK)
		goto out;
	if (o.n_chs > 0) {
		if ((e = alpn_write(&o)) != ERR_OK)
			goto out;
		e = solver_perform(s, o.chs, o.n_chs);
		if (e == ERR_OK && req->dns_wait_s > 0)
			propagate(&o);
		log_progress_end();
		/* Stopped by a signal (sig.c): nothing more goes to the CA;
		 * what was deployed is cleaned up below. */
		if (e == ERR_OK && sig_pending() != 0)
			e = ERR_SIGNAL;
		if (e == ERR_OK)
			e = validate(&o);
		ec = solver_cleanup(s, o.chs, o.n_chs);
		if (e == ERR_OK)
			e = ec;
		if (e != ERR_OK && sig_pending() != 0)
			e = ERR_SIGNAL;
		if (e != ERR_OK)
			goto out;
	}
	e = conclude(&o, chain_pem);
out:
	log_progress_end();
	alpn_remove(&o);
	order_release(&o);
	return e;
}

void
order_handout_clear(struct order_handout *h)
{
	size_t	i;

	for (i = 0; i < h->n_chs; i++)
		challenge_free(h->chs[i]);
	free(h->chs);
	free(h->url);
	free(h->expires);
	memset(h, 0, sizeof *h);
}

enum err
order_defer(struct acme *a, const struct order_req *req,
    struct order_handout *h)
{
	struct order	 o;
	const char	*exp;
	enum err	 e;
	size_t		 i;

	memset(h, 0, sizeof *h);
	if ((e = order_init(&o, a, NULL, req)) != ERR_OK ||
	    (e = create(&o)) != ERR_OK)
		goto out;
	/* Its certificate would have to be served from files kept between
	 * the two runs; dns-01 and http-01 need nothing of ours. */
	for (i = 0; i < o.n_chs; i++)
		if (o.chs[i]->type == CHAL_TLSALPN01) {
			log_error("%s: --defer hands out dns-01 and http-01 "
			    "challenges only, and the CA offered tls-alpn-01",
			    o.chs[i]->domain);
			log_error("give --preferred-challenges dns or http with "
			    "--defer");
			e = ERR_USAGE;
			goto out;
		}
	exp = json_string_value(json_object_get(o.obj, "expires"));
	if (exp != NULL && (h->expires = strdup(exp)) == NULL) {
		e = ERR_INTERNAL;
		goto out;
	}
	h->url = o.url;
	o.url = NULL;
	h->chs = o.chs;
	h->n_chs = o.n_chs;
	o.chs = NULL;
	o.n_chs = 0;
out:
	order_release(&o);
	return e;
}

/*
 * A resumed order as the CA has it now.  An order the CA no longer knows
 * (it answers with a problem), one it marked invalid, or one past its
 * expiry cannot be finished: ERR_PENDING, in two lines.  A failure to
 * reach the CA is ERR_ACME: the order may still be fine.
 */
static enum err
resume_read(struct order *o)
{
	struct acme_problem	 prob = { 0 };
	json_t			*obj = NULL;
	const char		*exp;
	time_t			 t;
	enum err		 e;

	if ((e = acme_check_origin(o->a, "an order", o->url)) != ERR_OK)
		return e;
	e = acme_post_json_prob(o->a, "order", o->url, NULL, &obj, NULL,
	    &prob);
	if (e == ERR_ACME && prob.type != NULL) {
		log_error("the CA does not know the order %s any more",
		    o->url);
		e = ERR_PENDING;
	}
	acme_problem_clear(&prob);
	if (e != ERR_OK)
		return e;
	order_set_status(o, obj);
	exp = json_string_value(json_object_get(o->obj, "expires"));
	if (o->status == ACME_STATUS_INVALID) {
		log_error("the CA marked the order %s invalid: a challenge "
		    "failed, or the order expired", o->url);
		return ERR_PENDING;
	}
	if (o->status != ACME_STATUS_VALID && exp != NULL &&
	    ari_parse_time(exp, &t) && t <= time(NULL)) {
		log_error("the order %s expired at %s", o->url, exp);
		return ERR_PENDING;
	}
	if (!json_is_array(json_object_get(o->obj, "authorizations")) ||
	    json_string_value(json_object_get(o->obj, "finalize")) == NULL) {
		log_error("order %s lacks authorizations or finalize", o->url);
		return ERR_ACME;
	}
	return check_origins(o);
}

/* Whether url is one of the order's authorizations. */
static bool
order_has_authz(const struct order *o, const char *url)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(o->obj, "authorizations"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), url) ==
		    0)
			return true;
	return false;
}

/*
 * Whether challenge c still has the token handed out in the first phase.
 * dns-persist-01 has none on either side: its URL alone identifies it.
 */
static bool
same_token(json_t *c, const struct challenge *saved)
{
	const char	*token = json_string_value(json_object_get(c, "token"));

	if (saved->token == NULL)
		return saved->type == CHAL_DNSPERSIST01 && token == NULL;
	return token != NULL && strcmp(token, saved->token) == 0;
}

/*
 * One challenge of the first phase, rebuilt from the CA's objects and
 * checked against what was handed out: its authorization belongs to the
 * order and names an ordered identifier, the challenge is still there
 * with the same type and token.  Sets *answered when the CA has had the
 * answer already (the first resume was stopped after answering).
 */
static enum err
resume_one(struct order *o, bool *seen, const struct challenge *saved,
    bool *answered)
{
	json_t			*authz = NULL, *c;
	struct challenge	*ch = NULL;
	enum acme_status	 st;
	char			*domain = NULL;
	enum err		 e = ERR_ACME;
	bool			 wildcard;

	if (!order_has_authz(o, saved->authz_url)) {
		log_error("order %s no longer lists the authorization %s that "
		    "was handed out", o->url, saved->authz_url);
		return ERR_PENDING;
	}
	if ((e = acme_get_json(o->a, "authorization", saved->authz_url,
	    &authz, NULL)) != ERR_OK)
		goto out;
	e = ERR_ACME;
	st = acme_status_of(authz);
	wildcard = json_is_true(json_object_get(authz, "wildcard"));
	if ((domain = identifier_value(authz, wildcard)) == NULL ||
	    wildcard != saved->wildcard || strcasecmp(domain,
	    saved->domain) != 0) {
		log_error("authorization %s is not the one handed out for %s",
		    saved->authz_url, saved->domain);
		goto out;
	}
	if ((e = check_identifier(o, seen, saved->authz_url, domain,
	    wildcard)) != ERR_OK)
		goto out;
	e = ERR_ACME;
	if ((c = find_challenge(authz, saved)) == NULL ||
	    !same_token(c, saved)) {
		log_error("authorization %s no longer holds the %s challenge "
		    "that was handed out", saved->authz_url,
		    chal_type_name(saved->type));
		goto out;
	}
	if ((ch = make_challenge(o, saved->authz_url, domain, wildcard,
	    saved->type, c)) == NULL)
		goto out;
	/* Handed out in the first phase: cleanup covers it. */
	ch->performed = true;
	*answered = acme_status_of(c) != ACME_STATUS_PENDING;
	if (st == ACME_STATUS_VALID)
		chal_set_status(ch, ACME_STATUS_VALID);
	else if (st != ACME_STATUS_PENDING) {
		record_outcome(ch, authz, c);
		rejected(o, ch);
	}
	o->chs[o->n_chs++] = ch;
	ch = NULL;
	e = ERR_OK;
out:
	challenge_free(ch);
	json_decref(authz);
	free(domain);
	return e;
}

/* Every challenge handed out, rebuilt (resume_one); an authorization of
 * the order that was not handed out must be valid already, or the order
 * could never become ready. */
static enum err
resume_challenges(struct order *o, struct challenge *const *saved, size_t n)
{
	json_t		*v, *authz;
	const char	*url;
	bool		*seen = NULL, found;
	enum err	 e = ERR_INTERNAL;
	size_t		 i, j;

	if ((o->chs = calloc(n + 1, sizeof *o->chs)) == NULL ||
	    (o->answered = calloc(n + 1, sizeof *o->answered)) == NULL ||
	    (seen = calloc(o->req->n_names + 1, sizeof *seen)) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if ((e = resume_one(o, seen, saved[i], &o->answered[o->n_chs]))
		    != ERR_OK)
			goto out;
	json_array_foreach(json_object_get(o->obj, "authorizations"), i, v) {
		url = json_string_value(v);
		for (j = 0, found = false; url != NULL && j < n; j++)
			found |= strcmp(saved[j]->authz_url, url) == 0;
		if (found)
			continue;
		authz = NULL;
		if (url == NULL || (e = acme_get_json(o->a, "authorization",
		    url, &authz, NULL)) != ERR_OK) {
			e = url ? e : ERR_ACME;
			goto out;
		}
		if (acme_status_of(authz) != ACME_STATUS_VALID) {
			json_decref(authz);
			log_error("order %s has an authorization (%s) that was "
			    "not handed out and is not valid", o->url, url);
			e = ERR_PENDING;
			goto out;
		}
		json_decref(authz);
	}
	sort_challenges(o);
	e = ERR_OK;
out:
	free(seen);
	return e;
}

enum err
order_resume(struct acme *a, struct solver *s, const struct order_req *req,
    const char *url, struct challenge *const *saved, size_t n,
    char **chain_pem)
{
	struct order	o;
	enum err	e, ec;

	*chain_pem = NULL;
	if ((e = order_init(&o, a, s, req)) != ERR_OK)
		goto out;
	if ((o.url = strdup(url)) == NULL) {
		e = ERR_INTERNAL;
		goto out;
	}
	if ((e = resume_read(&o)) != ERR_OK ||
	    (e = resume_challenges(&o, saved, n)) != ERR_OK)
		goto out;
	/* Answer what is still pending, unless the CA is past that (the
	 * first resume was stopped after validation). */
	e = ERR_OK;
	if (o.status == ACME_STATUS_PENDING) {
		if (req->dns_wait_s > 0)
			propagate(&o);
		log_progress_end();
		e = sig_pending() != 0 ? ERR_SIGNAL : validate(&o);
	}
	/* The records were deployed in the first phase: cleanup is sent
	 * whatever happened (again, when an earlier resume sent it). */
	ec = solver_cleanup(s, o.chs, o.n_chs);
	if (e == ERR_OK)
		e = ec;
	if (e != ERR_OK && sig_pending() != 0)
		e = ERR_SIGNAL;
	if (e == ERR_OK)
		e = conclude(&o, chain_pem);
out:
	log_progress_end();
	order_release(&o);
	return e;
}
