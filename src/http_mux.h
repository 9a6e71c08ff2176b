/*
 * http_mux.h: one libcurl multi handle shared by the transports of a run
 * with many orders in flight (renew and certonly --batch at
 * --max-concurrent N > 1, issue 10).  One I/O thread owns the multi
 * handle; a worker's http_request hands its easy handle over and sleeps
 * until the transfer ends.  Every transfer of the run then draws on one
 * connection cache, so with a CA that speaks HTTP/2 (ALPN h2, as Pebble
 * and Boulder do) all the workers' requests are streams of one TLS
 * connection (CURLOPT_PIPEWAIT); a CA limited to HTTP/1.1 gets a
 * connection per request in flight, reused from the same cache.
 */
#ifndef EXTAUTH_HTTP_MUX_H
#define EXTAUTH_HTTP_MUX_H

#include <curl/curl.h>

struct http_mux;

/* A new mux (its thread starts with the first transfer); the caller frees
 * it with http_mux_free once every transport using it is freed.  NULL
 * (logged) on failure. */
struct http_mux	*http_mux_new(void);
/* Stops the I/O thread (no transfer may be in flight) and frees. */
void		 http_mux_free(struct http_mux *);
/*
 * Runs easy to its end on the mux's thread, as curl_easy_perform would on
 * the caller's, and returns its result.  Thread-safe.  The easy handle
 * gets CURLOPT_PRIVATE and CURLOPT_PIPEWAIT set; it is the caller's again
 * once this returns.
 */
CURLcode	 http_mux_perform(struct http_mux *, CURL *easy);

#endif
