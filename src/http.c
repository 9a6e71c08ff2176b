/*
 * http.c: the libcurl transport.  Owns the one easy handle of a struct
 * http, the per-request body and header buffers (both capped), and the
 * parsing of the few response headers ACME needs (Content-Type, Location,
 * Replay-Nonce, Retry-After, Link).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "http_mux.h"
#include "log.h"
#include "num.h"
#include "sig.h"

/* Debian's hashed trust directory (update-ca-certificates keeps it). */
#define HTTP_SYSTEM_CAPATH	"/etc/ssl/certs"

/* CURLOPT_PROTOCOLS_STR (7.85) and CURLOPT_CA_CACHE_TIMEOUT (7.87). */
#if LIBCURL_VERSION_NUM < 0x075700
#error "libcurl 7.87.0 or newer is required"
#endif

#ifndef EXTAUTH_VERSION
#define EXTAUTH_VERSION	"0.1"
#endif

#define HTTP_HEADERS_MAX	(16 * 1024)	/* cap on resp->headers */
#define HTTP_TIMEOUT_DEFAULT	30000L
#define HTTP_BODY_INITIAL	4096

static const char *const http_method_names[] = {
	[HTTP_GET] = "GET",
	[HTTP_HEAD] = "HEAD",
	[HTTP_POST] = "POST",
};
_Static_assert(sizeof(http_method_names) / sizeof(http_method_names[0]) ==
    HTTP_METHOD__COUNT, "http_method_names must name every method");

struct http {
	CURL		*curl;
	struct http_mux	*mux;		/* borrowed; NULL: easy interface */
	long		 connects;	/* sum of CURLINFO_NUM_CONNECTS */
	long		 version;	/* CURLINFO_HTTP_VERSION, last answer */
	char		 errbuf[CURL_ERROR_SIZE];
	enum http_fail	 fail;		/* of the last request */
	char		 fail_text[CURL_ERROR_SIZE + 64];
};

static const char *const http_fail_names[] = {
	[HTTP_FAIL_NONE] = "no failure",
	[HTTP_FAIL_RESOLVE] = "host name not found",
	[HTTP_FAIL_CONNECT] = "connection refused or unreachable",
	[HTTP_FAIL_TIMEOUT] = "timed out",
	[HTTP_FAIL_TLS] = "TLS verification failed",
	[HTTP_FAIL_DROPPED] = "connection dropped",
	[HTTP_FAIL_TOO_BIG] = "answer too big",
	[HTTP_FAIL_SIGNAL] = "stopped by a signal",
	[HTTP_FAIL_OTHER] = "transfer failed",
};
_Static_assert(sizeof(http_fail_names) / sizeof(http_fail_names[0]) ==
    HTTP_FAIL__COUNT, "http_fail_names must name every enum http_fail");

/* libcurl's codes as failure classes; anything not listed is OTHER. */
static const struct {
	CURLcode	code;
	enum http_fail	fail;
} http_fail_of[] = {
	{ CURLE_COULDNT_RESOLVE_HOST, HTTP_FAIL_RESOLVE },
	{ CURLE_COULDNT_RESOLVE_PROXY, HTTP_FAIL_RESOLVE },
	{ CURLE_COULDNT_CONNECT, HTTP_FAIL_CONNECT },
	{ CURLE_OPERATION_TIMEDOUT, HTTP_FAIL_TIMEOUT },
	{ CURLE_PEER_FAILED_VERIFICATION, HTTP_FAIL_TLS },
	{ CURLE_SSL_CACERT_BADFILE, HTTP_FAIL_TLS },
	{ CURLE_SSL_ISSUER_ERROR, HTTP_FAIL_TLS },
	/* A handshake cut short is a dropped connection, not a verdict on
	 * the certificate (that is PEER_FAILED_VERIFICATION). */
	{ CURLE_SSL_CONNECT_ERROR, HTTP_FAIL_DROPPED },
	{ CURLE_GOT_NOTHING, HTTP_FAIL_DROPPED },
	{ CURLE_RECV_ERROR, HTTP_FAIL_DROPPED },
	{ CURLE_SEND_ERROR, HTTP_FAIL_DROPPED },
	{ CURLE_PARTIAL_FILE, HTTP_FAIL_DROPPED },
	{ CURLE_HTTP2, HTTP_FAIL_DROPPED },
	{ CURLE_HTTP2_STREAM, HTTP_FAIL_DROPPED },
	{ CURLE_ABORTED_BY_CALLBACK, HTTP_FAIL_SIGNAL },
};

const char *
http_fail_name(enum http_fail f)
{
	if ((unsigned)f >= HTTP_FAIL__COUNT)
		return "unknown failure";
	return http_fail_names[f];
}

enum http_fail
http_last_failure(const struct http *h, const char **text)
{
	if (text != NULL)
		*text = h->fail_text;
	return h->fail;
}

/* Records why the request failed, for http_last_failure. */
static void
http_set_failure(struct http *h, enum http_fail f, const char *text)
{
	h->fail = f;
	snprintf(h->fail_text, sizeof h->fail_text, "%s", text);
}

static enum http_fail
http_classify(CURLcode rc)
{
	size_t	i;

	for (i = 0; i < sizeof http_fail_of / sizeof http_fail_of[0]; i++)
		if (http_fail_of[i].code == rc)
			return http_fail_of[i].fail;
	return HTTP_FAIL_OTHER;
}

/* libcurl asks between chunks: a pending stop signal ends the transfer,
 * so a stalled CA does not hold a stop for the whole request timeout. */
static int
http_progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return sig_pending() != 0;
}

/* State of one transfer; lives on http_request's stack. */
struct http_xfer {
	struct http_response	*resp;
	size_t			 body_cap;	/* allocated size of resp->body */
	size_t			 headers_len;
	bool			 over_cap;	/* body exceeded HTTP_BODY_MAX */
	bool			 oom;
	/* The last header block ended with its blank line.  libcurl (7.88)
	 * reports success for an answer cut inside its headers, which would
	 * pass for an answer without the headers that were lost. */
	bool			 headers_done;
};

static pthread_once_t	http_global_once = PTHREAD_ONCE_INIT;
static CURLcode		http_global_rc;

static void
http_global_run(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * libcurl wants one curl_global_init per process before any handle, and
 * not twice at once: renew's workers (--max-concurrent) each make their
 * own handle, so the first one runs it, once.  The matching cleanup is
 * left to process exit because other handles may still exist.
 */
static int
http_global_init(void)
{
	(void)pthread_once(&http_global_once, http_global_run);
	if (http_global_rc != CURLE_OK) {
		log_error("cannot initialise libcurl: %s",
		    curl_easy_strerror(http_global_rc));
		return -1;
	}
	return 0;
}

/* Checks now, rather than at the first request, so a typo in --ca-bundle
 * is reported before any work is done. */
static int
http_check_bundle(const char *path, bool *is_dir)
{
	struct stat	st;
	int		fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("cannot read CA bundle %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		log_error("cannot read CA bundle %s: %s", path,
		    strerror(errno));
		goto out;
	}
	*is_dir = S_ISDIR(st.st_mode);
	if (!S_ISREG(st.st_mode) && !*is_dir) {
		log_error("cannot read CA bundle %s: neither a file nor a "
		    "directory", path);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Returns a handle the caller frees with http_free, or NULL (logged). */
struct http *
http_new(const struct http_opts *opts)
{
	struct http	*h = NULL;
	const char	*bundle, *ua, *env;
	char		 why[96];
	long		 timeout;
	CURLcode	 rc = CURLE_OK;
	bool		 ok = false, bundle_dir = false;

	if (http_global_init() == -1)
		goto out;

	/* The curl tool honours CURL_CA_BUNDLE but libcurl does not. */
	bundle = opts != NULL ? opts->ca_bundle : NULL;
	if (bundle == NULL && (bundle = getenv("CURL_CA_BUNDLE")) != NULL &&
	    *bundle == '\0')
		bundle = NULL;
	if (bundle != NULL && http_check_bundle(bundle, &bundle_dir) == -1)
		goto out;

	ua = opts != NULL && opts->user_agent != NULL ? opts->user_agent :
	    "extauth/" EXTAUTH_VERSION;
	timeout = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms :
	    HTTP_TIMEOUT_DEFAULT;
	/* EXTAUTH_HTTP_TIMEOUT (seconds): one request's time, for a CA
	 * slower than 30 s, or a test that must not wait 30 s for one. */
	if ((opts == NULL || opts->timeout_ms <= 0) && (env =
	    getenv("EXTAUTH_HTTP_TIMEOUT")) != NULL && *env != '\0') {
		if (!num_parse_long(env, 1, 3600, &timeout, why, sizeof why)) {
			log_error("EXTAUTH_HTTP_TIMEOUT=%s: %s", env, why);
			log_error("give one request's time in seconds (1 to "
			    "3600), or unset it for 30");
			goto out;
		}
		timeout *= 1000;
	}

	if ((h = calloc(1, sizeof *h)) == NULL) {
		log_error("http: out of memory");
		goto out;
	}
	h->mux = opts != NULL ? opts->mux : NULL;
	if ((h->curl = curl_easy_init()) == NULL) {
		log_error("http: curl_easy_init failed");
		goto out;
	}

	/*
	 * Options that hold for every request.  Each call is checked: a
	 * libcurl that silently ignores VERIFYPEER is not one to talk to a CA
	 * with.  The CA cache timeout of -1 keeps the parsed trust store for
	 * the life of the handle, so it is read once per process.
	 */
#define HTTP_SETOPT(opt, val) do {					\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(h->curl, (opt), (val));		\
} while (0)
	HTTP_SETOPT(CURLOPT_ERRORBUFFER, h->errbuf);
	HTTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(CURLOPT_PROTOCOLS_STR, "https,http");
	HTTP_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	HTTP_SETOPT(CURLOPT_CA_CACHE_TIMEOUT, -1L);
	HTTP_SETOPT(CURLOPT_TIMEOUT_MS, timeout);
	HTTP_SETOPT(CURLOPT_USERAGENT, ua);
	HTTP_SETOPT(CURLOPT_XFERINFOFUNCTION, http_progress_cb);
	HTTP_SETOPT(CURLOPT_NOPROGRESS, 0L);
	/*
	 * Trust: a file is parsed whole (Debian's 145-certificate bundle costs
	 * about 50 ms); a hashed directory (c_rehash) is looked up lazily, the
	 * issuer only, in well under a millisecond.  So --ca-bundle may be
	 * either, and the default is the system's hashed directory rather than
	 * libcurl's default bundle file.
	 */
	if (bundle != NULL && bundle_dir) {
		HTTP_SETOPT(CURLOPT_CAINFO, NULL);
		HTTP_SETOPT(CURLOPT_CAPATH, bundle);
	} else if (bundle != NULL)
		HTTP_SETOPT(CURLOPT_CAINFO, bundle);
	else if (access(HTTP_SYSTEM_CAPATH, R_OK | X_OK) == 0) {
		HTTP_SETOPT(CURLOPT_CAINFO, NULL);
		HTTP_SETOPT(CURLOPT_CAPATH, HTTP_SYSTEM_CAPATH);
	}
#undef HTTP_SETOPT
	if (rc != CURLE_OK) {
		log_error("http: cannot configure libcurl: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	ok = true;
out:
	if (!ok) {
		http_free(h);
		h = NULL;
	}
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h);
}

long
http_connections(struct http *h)
{
	return h != NULL ? h->connects : 0;
}

static const struct {
	long		 version;
	const char	*name;
} http_versions[] = {
	{ CURL_HTTP_VERSION_1_0, "HTTP/1.0" },
	{ CURL_HTTP_VERSION_1_1, "HTTP/1.1" },
	{ CURL_HTTP_VERSION_2_0, "HTTP/2" },
	{ CURL_HTTP_VERSION_3, "HTTP/3" },
};

const char *
http_version(const struct http *h)
{
	size_t	i;

	for (i = 0; h != NULL &&
	    i < sizeof http_versions / sizeof http_versions[0]; i++)
		if (http_versions[i].version == h->version)
			return http_versions[i].name;
	return "no answer yet";
}

void
http_response_clear(struct http_response *resp)
{
	size_t	i;

	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->content_type);
	free(resp->location);
	free(resp->replay_nonce);
	for (i = 0; i < resp->n_links; i++)
		free(resp->links[i]);
	free(resp->link_up);
	free(resp->headers);
	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
}

/* The scheme, host and port of url (curl_free each); -1 if it is not an
 * absolute URL with a host. */
static int
http_origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU	*u;
	int	 rc = -1;

	*scheme = *host = *port = NULL;
	if ((u = curl_url()) == NULL)
		return -1;
	/* DEFAULT_PORT: "https://h/" and "https://h:443/" are one origin. */
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK)
		rc = 0;
	curl_url_cleanup(u);
	return rc;
}

char *
http_resolve(const char *base, const char *ref)
{
	CURLU	*u;
	char	*got = NULL, *out = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		out = strdup(got);
	curl_free(got);
	curl_url_cleanup(u);
	return out;
}

bool
http_same_origin(const char *base, const char *url)
{
	char	*s1, *h1, *p1, *s2, *h2, *p2;
	bool	 same;
	int	 r1, r2;

	r1 = base != NULL ? http_origin(base, &s1, &h1, &p1) : -1;
	r2 = url != NULL ? http_origin(url, &s2, &h2, &p2) : -1;
	if (base == NULL)
		s1 = h1 = p1 = NULL;
	if (url == NULL)
		s2 = h2 = p2 = NULL;
	same = r1 == 0 && r2 == 0 && strcasecmp(s1, s2) == 0 &&
	    strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
	curl_free(s1);
	curl_free(h1);
	curl_free(p1);
	curl_free(s2);
	curl_free(h2);
	curl_free(p2);
	return same;
}

/* Returns a copy of [s, s+len) without surrounding blanks; caller frees. */
static char *
http_strip_dup(const char *s, size_t len)
{
	char	*p;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

long
http_parse_retry_after(const char *value, time_t now)
{
	char		*s = NULL, *end;
	const char	*p;
	long		 secs = -1, v;
	time_t		 t;

	if (value == NULL || (s = http_strip_dup(value, strlen(value))) ==
	    NULL || *s == '\0')
		goto out;
	for (p = s; *p != '\0' && isdigit((unsigned char)*p); p++)
		continue;
	if (*p == '\0') {
		/* delta-seconds; a huge number is still "later", not garbage */
		errno = 0;
		v = strtol(s, &end, 10);
		secs = errno == ERANGE ? LONG_MAX : v;
		goto out;
	}
	/* curl_getdate also takes a bare number or "-5" as a date: refuse. */
	if (!isalpha((unsigned char)*s))
		goto out;
	if ((t = curl_getdate(s, NULL)) == -1)
		goto out;
	secs = t > now ? (long)(t - now) : 0;
out:
	free(s);
	return secs;
}

/*
 * Parses one quoted-string or token at *pp into out (capped), advancing
 * *pp.  Returns -1 on an unterminated quote.
 */
static int
http_link_value(const char **pp, char *out, size_t outsz)
{
	const char	*p = *pp;
	size_t		 n = 0;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < outsz)
				out[n++] = *p;
		}
		p++;
	} else {
		for (; *p != '\0' && *p != ';' && *p != ',' && *p != ' ' &&
		    *p != '\t'; p++)
			if (n + 1 < outsz)
				out[n++] = *p;
	}
	out[n] = '\0';
	*pp = p;
	return 0;
}

/* Does the space-separated rel list contain want (case-insensitive)? */
static bool
http_rel_has(const char *rels, const char *want)
{
	size_t	len, wlen = strlen(want);

	while (*rels != '\0') {
		while (*rels == ' ' || *rels == '\t')
			rels++;
		len = strcspn(rels, " \t");
		if (len == wlen && strncasecmp(rels, want, len) == 0)
			return true;
		rels += len;
	}
	return false;
}

int
http_parse_link(const char *value, char **targets, size_t max, size_t *n,
    char **up)
{
	const char	*p = value, *end;
	char		 name[32], val[256], *target = NULL;
	size_t		 len;
	bool		 alt, isup;
	int		 rc = -1;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0' || *p == '\r' || *p == '\n')
			break;
		if (*p != '<' || (end = strchr(p, '>')) == NULL)
			goto out;
		if ((target = http_strip_dup(p + 1, (size_t)(end - p - 1))) ==
		    NULL)
			goto out;
		p = end + 1;
		alt = isup = false;
		/* link-params: *( OWS ";" OWS link-param ) */
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ';')
				break;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			len = strcspn(p, "=;, \t");
			if (len >= sizeof name)
				len = sizeof name - 1;
			memcpy(name, p, len);
			name[len] = '\0';
			p += strcspn(p, "=;, \t");
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '=')
				continue;	/* a param without value */
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (http_link_value(&p, val, sizeof val) == -1)
				goto out;
			if (strcasecmp(name, "rel") != 0)
				continue;
			alt = http_rel_has(val, "alternate");
			isup = http_rel_has(val, "up");
		}
		if (*p != ',' && *p != '\0' && *p != '\r' && *p != '\n')
			goto out;
		if (isup && *up == NULL) {
			*up = target;
			target = NULL;
		} else if (alt && *n < max) {
			targets[(*n)++] = target;
			target = NULL;
		}
		free(target);
		target = NULL;
	}
	rc = 0;
out:
	free(target);
	return rc;
}

/* Replaces *dst by a stripped copy of the header value. */
static void
http_set_header(struct http_xfer *x, char **dst, const char *v, size_t len)
{
	free(*dst);
	if ((*dst = http_strip_dup(v, len)) == NULL)
		x->oom = true;
}

/* Forgets what an earlier response on the same transfer (a 1xx) set. */
static void
http_reset_headers(struct http_xfer *x)
{
	struct http_response	*r = x->resp;
	size_t			 i;

	free(r->content_type);
	free(r->location);
	free(r->replay_nonce);
	free(r->link_up);
	for (i = 0; i < r->n_links; i++)
		free(r->links[i]);
	r->content_type = r->location = r->replay_nonce = r->link_up = NULL;
	r->n_links = 0;
	r->retry_after = -1;
	x->headers_len = 0;
	if (r->headers != NULL)
		r->headers[0] = '\0';
}

static void
http_keep_raw(struct http_xfer *x, const char *line, size_t len)
{
	struct http_response	*r = x->resp;
	size_t			 room;

	if (r->headers == NULL) {
		if ((r->headers = malloc(HTTP_HEADERS_MAX + 1)) == NULL) {
			x->oom = true;
			return;
		}
		r->headers[0] = '\0';
	}
	room = HTTP_HEADERS_MAX - x->headers_len;
	if (len > room)
		len = room;
	memcpy(r->headers + x->headers_len, line, len);
	x->headers_len += len;
	r->headers[x->headers_len] = '\0';
}

static size_t
http_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_xfer	*x = arg;
	struct http_response	*r = x->resp;
	size_t			 len = size * nitems, nlen;
	const char		*colon, *v;
	char			*tmp, *semi, *c;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		http_reset_headers(x);
		x->headers_done = false;
	}
	if ((len == 2 && buf[0] == '\r' && buf[1] == '\n') ||
	    (len == 1 && buf[0] == '\n'))
		x->headers_done = true;
	http_keep_raw(x, buf, len);
	if ((colon = memchr(buf, ':', len)) == NULL)
		return len;
	nlen = (size_t)(colon - buf);
	v = colon + 1;
	len -= nlen + 1;

#define HTTP_IS(n)	(nlen == sizeof(n) - 1 && strncasecmp(buf, n, nlen) == 0)
	if (HTTP_IS("content-type")) {
		http_set_header(x, &r->content_type, v, len);
		if ((c = r->content_type) == NULL)
			return size * nitems;
		if ((semi = strchr(c, ';')) != NULL) {
			*semi = '\0';
			while (semi > c && (semi[-1] == ' ' || semi[-1] == '\t'))
				*--semi = '\0';
		}
		for (; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
	} else if (HTTP_IS("location")) {
		http_set_header(x, &r->location, v, len);
	} else if (HTTP_IS("replay-nonce")) {
		http_set_header(x, &r->replay_nonce, v, len);
	} else if (HTTP_IS("retry-after")) {
		if ((tmp = http_strip_dup(v, len)) == NULL) {
			x->oom = true;
			return size * nitems;
		}
		r->retry_after = http_parse_retry_after(tmp, time(NULL));
		free(tmp);
	} else if (HTTP_IS("link")) {
		if ((tmp = http_strip_dup(v, len)) == NULL) {
			x->oom = true;
			return size * nitems;
		}
		if (http_parse_link(tmp, r->links, HTTP_LINKS_MAX, &r->n_links,
		    &r->link_up) == -1)
			log_debug("ignoring malformed Link header: %s", tmp);
		free(tmp);
	}
#undef HTTP_IS
	return size * nitems;
}

static size_t
http_write_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer	*x = arg;
	struct http_response	*r = x->resp;
	size_t			 len = size * nmemb, ncap;
	char			*nb;

	if (len > HTTP_BODY_MAX - r->body_len) {
		x->over_cap = true;
		return 0;	/* aborts the transfer */
	}
	if (r->body_len + len + 1 > x->body_cap) {
		ncap = x->body_cap != 0 ? x->body_cap : HTTP_BODY_INITIAL;
		while (ncap < r->body_len + len + 1)
			ncap *= 2;
		if (ncap > HTTP_BODY_MAX + 1)
			ncap = HTTP_BODY_MAX + 1;
		if ((nb = realloc(r->body, ncap)) == NULL) {
			x->oom = true;
			return 0;
		}
		r->body = nb;
		x->body_cap = ncap;
	}
	memcpy(r->body + r->body_len, buf, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

/* Sets the options that differ per request; the rest stay from http_new. */
static CURLcode
http_prepare(struct http *h, enum http_method method, const char *url,
    const char *body, size_t body_len, struct curl_slist *hdrs,
    struct http_xfer *x)
{
	CURLcode	rc = CURLE_OK;

#define HTTP_SETOPT(opt, val) do {					\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(h->curl, (opt), (val));		\
} while (0)
	HTTP_SETOPT(CURLOPT_URL, url);
	/* HTTPGET also resets NOBODY and POST left by the last request. */
	HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
	if (method == HTTP_HEAD)
		HTTP_SETOPT(CURLOPT_NOBODY, 1L);
	else if (method == HTTP_POST) {
		HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		HTTP_SETOPT(CURLOPT_POSTFIELDS, body != NULL ? body : "");
	}
	HTTP_SETOPT(CURLOPT_HTTPHEADER, hdrs);
	HTTP_SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SETOPT(CURLOPT_WRITEDATA, x);
	HTTP_SETOPT(CURLOPT_HEADERFUNCTION, http_header_cb);
	HTTP_SETOPT(CURLOPT_HEADERDATA, x);
#undef HTTP_SETOPT
	return rc;
}

/* Appends "name: value" to *list; -1 on out of memory. */
static int
http_add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist	*nl;
	char			*line = NULL;
	int			 rc = -1;

	if (asprintf(&line, "%s: %s", name, value) == -1) {
		line = NULL;
		goto out;
	}
	if ((nl = curl_slist_append(*list, line)) == NULL)
		goto out;
	*list = nl;
	rc = 0;
out:
	free(line);
	return rc;
}

enum err
http_request(struct http *h, enum http_method method, const char *url,
    const char *body, size_t body_len, const char *content_type,
    const char *accept, struct http_response *resp)
{
	struct http_xfer	 x;
	struct curl_slist	*hdrs = NULL;
	enum err		 e = ERR_ACME;
	CURLcode		 rc;
	long			 nconn = 0;
	const char		*mname;

	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
	memset(&x, 0, sizeof x);
	x.resp = resp;
	http_set_failure(h, HTTP_FAIL_NONE, "");
	if ((unsigned)method >= HTTP_METHOD__COUNT) {
		log_error("%s: bad HTTP method %d", url, (int)method);
		e = ERR_INTERNAL;
		goto out;
	}
	mname = http_method_names[method];

	/*
	 * An empty "Expect:" stops libcurl from waiting for 100-continue on
	 * larger POSTs (a finalize with a big CSR), a round trip for nothing.
	 */
	if ((content_type != NULL &&
	    http_add_header(&hdrs, "Content-Type", content_type) == -1) ||
	    (accept != NULL && http_add_header(&hdrs, "Accept", accept) == -1) ||
	    (method == HTTP_POST && http_add_header(&hdrs, "Expect", "") ==
	    -1)) {
		log_error("%s %s: out of memory", mname, url);
		e = ERR_INTERNAL;
		goto out;
	}
	if ((rc = http_prepare(h, method, url, body, body_len, hdrs, &x)) !=
	    CURLE_OK) {
		http_set_failure(h, HTTP_FAIL_OTHER, curl_easy_strerror(rc));
		goto out;
	}
	h->errbuf[0] = '\0';
	rc = h->mux != NULL ? http_mux_perform(h->mux, h->curl) :
	    curl_easy_perform(h->curl);
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &nconn) ==
	    CURLE_OK)
		h->connects += nconn;
	/* The list is freed below; the handle must not keep a pointer to it. */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);

	if (x.oom) {
		log_error("%s %s: out of memory", mname, url);
		e = ERR_INTERNAL;
		goto out;
	}
	if (x.over_cap) {
		snprintf(h->errbuf, sizeof h->errbuf, "the answer exceeds %d "
		    "bytes", HTTP_BODY_MAX);
		http_set_failure(h, HTTP_FAIL_TOO_BIG, h->errbuf);
		goto out;
	}
	if (rc != CURLE_OK) {
		http_set_failure(h, http_classify(rc), h->errbuf[0] != '\0' ?
		    h->errbuf : curl_easy_strerror(rc));
		log_debug("%s %s: %s", mname, url, h->fail_text);
		goto out;
	}
	if (!x.headers_done) {
		http_set_failure(h, HTTP_FAIL_DROPPED, "the connection closed "
		    "inside the answer's headers");
		log_debug("%s %s: %s", mname, url, h->fail_text);
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	(void)curl_easy_getinfo(h->curl, CURLINFO_HTTP_VERSION, &h->version);
	if (resp->body == NULL && (resp->body = strdup("")) == NULL) {
		log_error("%s %s: out of memory", mname, url);
		e = ERR_INTERNAL;
		goto out;
	}
	if (resp->headers == NULL && (resp->headers = strdup("")) == NULL) {
		log_error("%s %s: out of memory", mname, url);
		e = ERR_INTERNAL;
		goto out;
	}
	log_debug("%s %s: %ld, %zu bytes", mname, url, resp->status,
	    resp->body_len);
	e = ERR_OK;
out:
	curl_slist_free_all(hdrs);
	if (e != ERR_OK)
		http_response_clear(resp);
	return e;
}
