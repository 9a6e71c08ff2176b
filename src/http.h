/*
 * http.h: the HTTPS transport to the CA (libcurl).  One handle per struct
 * http, reused for every request so the TLS connection is kept alive; the
 * trust store is loaded once per process.  Bodies are capped.  No retries
 * happen here: acme.c decides what to retry, because a signed request must
 * be signed again with a new nonce.
 */
#ifndef EXTAUTH_HTTP_H
#define EXTAUTH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

#define HTTP_BODY_MAX	(2 * 1024 * 1024)	/* cap on any response body */
#define HTTP_LINKS_MAX	16			/* cap on Link headers kept */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_METHOD__COUNT
};

struct http_response {
	long	 status;		/* HTTP status code */
	char	*body;			/* NUL-terminated, never NULL after success */
	size_t	 body_len;
	char	*content_type;		/* lower-cased media type, no params; may be NULL */
	char	*location;		/* Location header or NULL */
	char	*replay_nonce;		/* Replay-Nonce header or NULL */
	long	 retry_after;		/* seconds from now, -1 if absent/unparsable */
	char	*links[HTTP_LINKS_MAX];	/* targets of Link: <..>;rel="alternate" */
	size_t	 n_links;
	char	*link_up;		/* Link rel="up" target or NULL */
	char	*headers;		/* raw response headers, for request_failure; capped */
};

/*
 * Why a request brought no HTTP answer: the class decides whether a retry
 * can help (dropped, timeout) and what the user is told to do (tls: the
 * trust store; resolve, connect: the URL and the network).
 */
enum http_fail {
	HTTP_FAIL_NONE,
	HTTP_FAIL_RESOLVE,	/* the host name does not resolve */
	HTTP_FAIL_CONNECT,	/* refused or unreachable */
	HTTP_FAIL_TIMEOUT,	/* no complete answer in time */
	HTTP_FAIL_TLS,		/* the server's certificate is not trusted */
	HTTP_FAIL_DROPPED,	/* the connection broke mid-exchange */
	HTTP_FAIL_TOO_BIG,	/* a body over HTTP_BODY_MAX */
	HTTP_FAIL_SIGNAL,	/* aborted: a stop signal is pending */
	HTTP_FAIL_OTHER,
	HTTP_FAIL__COUNT
};
/* "dropped connection", "TLS verification failed", ... */
const char	*http_fail_name(enum http_fail);

struct http_mux;

struct http_opts {
	const char	*ca_bundle;	/* file, or NULL for the system store */
	/* The run's shared multi handle (http_mux.h), borrowed for the
	 * life of the transport; NULL: this transport's own connection. */
	struct http_mux	*mux;
	const char	*user_agent;	/* NULL: "extauth/VERSION" */
	long		 timeout_ms;	/* whole-request timeout; 0: 30000 */
};

struct http;

/* New transport; caller frees with http_free.  NULL (logged) on failure,
 * e.g. an unreadable CA bundle. */
struct http	*http_new(const struct http_opts *);
void		 http_free(struct http *);
/*
 * One request.  body may be NULL (GET/HEAD).  content_type and accept may
 * be NULL.  Fills *resp (caller clears it with http_response_clear).
 * Returns ERR_OK when an HTTP response arrived whatever its status;
 * ERR_ACME on transport failure or a body over the cap, not logged: the
 * caller reports it with http_last_failure.  A transfer stops early when
 * sig_pending() (HTTP_FAIL_SIGNAL).
 */
enum err	 http_request(struct http *, enum http_method, const char *url,
		    const char *body, size_t body_len, const char *content_type,
		    const char *accept, struct http_response *resp);
void		 http_response_clear(struct http_response *);
/* Why the last http_request failed (HTTP_FAIL_NONE after a success), and
 * *text the transport's own words, borrowed until the next request. */
enum http_fail	 http_last_failure(const struct http *, const char **text);
/* Number of TCP connections opened so far (for tests and benchmarks). */
long		 http_connections(struct http *);
/* The HTTP version of the last answer ("HTTP/2", "HTTP/1.1"), or "no
 * answer yet": what the CA negotiated (ALPN), for -v and the tests. */
const char	*http_version(const struct http *);

/*
 * True when url has the origin (scheme, host, port; RFC 6454) of base.
 * Hosts compare case-insensitively and a missing port is the scheme's
 * default.  False for anything that does not parse as an absolute URL.
 */
bool		 http_same_origin(const char *base, const char *url);
/*
 * ref resolved against base (RFC 3986 §5; a Location header may be a
 * relative reference, RFC 9110 §10.2.2).  New string the caller frees;
 * NULL if either does not parse or out of memory.
 */
char		*http_resolve(const char *base, const char *ref);

/*
 * Header parsers, exported for the unit tests.
 *
 * http_parse_retry_after: value is delta-seconds or an HTTP-date; returns
 * seconds from now (0 for a date in the past), or -1 when unparsable
 * (including a negative number).
 *
 * http_parse_link: one Link header value, possibly several comma-separated
 * links.  Appends the targets with rel "alternate" to targets[*n..max)
 * (increments *n; links over max are dropped) and stores the first rel "up"
 * target in *up if *up is NULL.  Other rels are ignored.  The strings are
 * the caller's to free.  Returns 0, or -1 on a malformed value or out of
 * memory (links parsed before the error are kept).
 */
long		 http_parse_retry_after(const char *value, time_t now);
int		 http_parse_link(const char *value, char **targets, size_t max,
		    size_t *n, char **up);

#endif
