/*
 * test_http.c: the header parsers (Retry-After, Link) table by table, and
 * the transport against a canned HTTP/1.1 keep-alive server forked on
 * 127.0.0.1: connection reuse, the body cap, per-request header reset,
 * POST/HEAD wiring and a refused connection.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"

/* ---- parsers ---- */

static void
test_retry_after(void **state)
{
	(void)state;
	static const struct {
		const char	*value;
		long		 want;
	} cases[] = {
		{ "120", 120 },
		{ " 5 ", 5 },
		{ "0", 0 },
		{ "Sun, 06 Nov 1994 08:51:17 GMT", 100 },
		{ "Sunday, 06-Nov-94 08:51:17 GMT", 100 },	/* RFC 850 */
		{ "Sun Nov  6 08:51:17 1994", 100 },		/* asctime */
		{ "Sun, 06 Nov 1994 08:00:00 GMT", 0 },		/* past */
		{ "garbage", -1 },
		{ "-5", -1 },
		{ "12abc", -1 },
		{ "", -1 },
		{ "   ", -1 },
	};
	time_t	now;
	size_t	i;

	now = curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL);
	assert_true(now != -1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long got = http_parse_retry_after(cases[i].value, now);

		if (got != cases[i].want)
			fail_msg("Retry-After \"%s\": got %ld, want %ld",
			    cases[i].value, got, cases[i].want);
	}
	assert_int_equal(http_parse_retry_after(NULL, now), -1);
}

static void
free_links(char **t, size_t n, char *up)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(t[i]);
	free(up);
}

static void
test_link_multiple(void **state)
{
	char	*t[HTTP_LINKS_MAX], *up = NULL;
	size_t	 n = 0;

	(void)state;
	assert_int_equal(http_parse_link(
	    "<https://ca/cert/1/1>;rel=\"alternate\", "
	    "<https://ca/dir>;rel=\"index\", "
	    "<https://ca/cert/1/2> ; REL = Alternate ; title=\"a,b;c\", "
	    "<https://ca/x,y>;title=\"q\\\"x\";rel=\"alternate\", "
	    "<https://ca/issuer>;rel=up",
	    t, HTTP_LINKS_MAX, &n, &up), 0);
	assert_int_equal(n, 3);
	assert_string_equal(t[0], "https://ca/cert/1/1");
	assert_string_equal(t[1], "https://ca/cert/1/2");
	assert_string_equal(t[2], "https://ca/x,y");
	assert_non_null(up);
	assert_string_equal(up, "https://ca/issuer");

	/* A second header line appends; a second "up" does not replace. */
	assert_int_equal(http_parse_link(
	    "<https://ca/cert/1/3>; rel=\"alternate\", <https://ca/up2>;"
	    "rel=\"up\"", t, HTTP_LINKS_MAX, &n, &up), 0);
	assert_int_equal(n, 4);
	assert_string_equal(t[3], "https://ca/cert/1/3");
	assert_string_equal(up, "https://ca/issuer");
	free_links(t, n, up);
}

static void
test_link_other_rels(void **state)
{
	char	*t[HTTP_LINKS_MAX], *up = NULL;
	size_t	 n = 0;

	(void)state;
	assert_int_equal(http_parse_link(
	    "<https://ca/tos>;rel=\"terms-of-service\", <https://ca/i>;"
	    "rel=index, <https://ca/a>;rel=\"alternates\", <https://ca/b>",
	    t, HTTP_LINKS_MAX, &n, &up), 0);
	assert_int_equal(n, 0);
	assert_null(up);
}

static void
test_link_cap(void **state)
{
	char	*t[2], *up = NULL;
	size_t	 n = 0;

	(void)state;
	assert_int_equal(http_parse_link(
	    "<https://ca/1>;rel=alternate, <https://ca/2>;rel=alternate, "
	    "<https://ca/3>;rel=alternate, <https://ca/up>;rel=up",
	    t, 2, &n, &up), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[0], "https://ca/1");
	assert_string_equal(t[1], "https://ca/2");
	assert_string_equal(up, "https://ca/up");
	free_links(t, n, up);
}

static void
test_link_malformed(void **state)
{
	char	*t[HTTP_LINKS_MAX], *up = NULL;
	size_t	 n = 0;

	(void)state;
	assert_int_equal(http_parse_link("garbage", t, HTTP_LINKS_MAX, &n,
	    &up), -1);
	assert_int_equal(http_parse_link("<https://ca/1", t, HTTP_LINKS_MAX,
	    &n, &up), -1);
	assert_int_equal(http_parse_link("<https://ca/1>;rel=\"alternate",
	    t, HTTP_LINKS_MAX, &n, &up), -1);
	assert_int_equal(n, 0);
	assert_null(up);
	/* The good link before the bad one is kept. */
	assert_int_equal(http_parse_link("<https://ca/1>;rel=alternate, junk",
	    t, HTTP_LINKS_MAX, &n, &up), -1);
	assert_int_equal(n, 1);
	free_links(t, n, up);
}

/* ---- loopback server ---- */

struct server {
	pid_t	pid;
	int	port;
	char	base[64];
};

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
send_body(int fd, const char *status, const char *extra, const char *body,
    size_t len, int head)
{
	char	hdr[4096];
	int	n;

	n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %s\r\n%sContent-Length: %zu"
	    "\r\n\r\n", status, extra, len);
	if (write_all(fd, hdr, (size_t)n) == -1)
		return -1;
	return head ? 0 : write_all(fd, body, len);
}

static int
send_filler(int fd, size_t len)
{
	char	hdr[128], chunk[65536];
	size_t	k;
	int	n;

	memset(chunk, 'a', sizeof chunk);
	n = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\n\r\n", len);
	if (write_all(fd, hdr, (size_t)n) == -1)
		return -1;
	while (len > 0) {
		k = len < sizeof chunk ? len : sizeof chunk;
		if (write_all(fd, chunk, k) == -1)
			return -1;
		len -= k;
	}
	return 0;
}

/* Answers one request on fd; -1 when the connection should be closed. */
static int
serve_one(int fd)
{
	static char	buf[65536];
	char		method[16], path[256], ctype[256] = "", accept[256] = "";
	char		reply[1024], *end, *p;
	size_t		have = 0, clen = 0, hlen;
	ssize_t		n;
	int		head;

	for (;;) {
		if (have + 1 >= sizeof buf)
			return -1;
		if ((n = read(fd, buf + have, sizeof buf - have - 1)) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	hlen = (size_t)(end - buf) + 4;
	if (sscanf(buf, "%15s %255s", method, path) != 2)
		return -1;
	for (p = strstr(buf, "\r\n"); p != NULL && p < end;
	    p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			clen = strtoul(p + 17, NULL, 10);
		else if (strncasecmp(p + 2, "Content-Type: ", 14) == 0)
			sscanf(p + 16, "%255[^\r]", ctype);
		else if (strncasecmp(p + 2, "Accept: ", 8) == 0)
			sscanf(p + 10, "%255[^\r]", accept);
	}
	if (hlen + clen >= sizeof buf)
		return -1;
	while (have < hlen + clen) {
		if ((n = read(fd, buf + have, sizeof buf - have - 1)) <= 0)
			return -1;
		have += (size_t)n;
	}
	buf[hlen + clen] = '\0';
	head = strcmp(method, "HEAD") == 0;

	if (strcmp(path, "/full") == 0)
		return send_body(fd, "200 OK",
		    "Content-Type: Application/JOSE+JSON; charset=UTF-8\r\n"
		    "Replay-Nonce: nonce-1\r\n"
		    "location:  http://ca/acct/1 \r\n"
		    "Retry-After: 7\r\n"
		    "Link: <http://ca/dir>;rel=\"index\", "
		    "<http://ca/alt1>;rel=\"alternate\"\r\n"
		    "LINK: <http://ca/up>; rel=up\r\n", "{}", 2, head);
	if (strcmp(path, "/bare") == 0)
		return send_body(fd, "200 OK", "", "hello", 5, head);
	if (strcmp(path, "/missing") == 0)
		return send_body(fd, "404 Not Found", "Replay-Nonce: n404\r\n",
		    "nf", 2, head);
	if (strcmp(path, "/continue") == 0) {
		/* A 1xx whose headers must not end up in the response. */
		static const char	cont[] = "HTTP/1.1 100 Continue\r\n"
		    "Replay-Nonce: stale\r\nRetry-After: 9\r\n\r\n";

		if (write_all(fd, cont, sizeof cont - 1) == -1)
			return -1;
		return send_body(fd, "200 OK", "", "ok", 2, head);
	}
	if (strcmp(path, "/cuthead") == 0) {
		/* The connection ends inside the headers (a dropped answer). */
		static const char	cut[] = "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 0\r\nReplay-Non";

		(void)write_all(fd, cut, sizeof cut - 1);
		return -1;
	}
	if (strcmp(path, "/exact") == 0)
		return send_filler(fd, HTTP_BODY_MAX);
	if (strcmp(path, "/big") == 0) {
		send_filler(fd, (size_t)HTTP_BODY_MAX + 1);
		return -1;
	}
	if (strcmp(path, "/echo") == 0) {
		n = snprintf(reply, sizeof reply, "%s|%s|%s|%s", method, ctype,
		    accept, buf + hlen);
		return send_body(fd, "200 OK", "", reply, (size_t)n, head);
	}
	return send_body(fd, "500 Unknown", "", "", 0, head);
}

/*
 * A process per connection, so a test that fails with its connection still
 * open cannot stall the next one; all in one process group for the kill.
 */
static void __attribute__((noreturn))
serve(int lfd)
{
	int	fd;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (fork() == 0) {
			close(lfd);
			while (serve_one(fd) == 0)
				continue;
			_exit(0);
		}
		close(fd);
	}
}

/* Binds 127.0.0.1:0 and returns the fd, with the port in *port. */
static int
listen_loopback(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
server_start(void **state)
{
	static struct server	srv;
	int			lfd;

	if ((lfd = listen_loopback(&srv.port)) == -1)
		return -1;
	if ((srv.pid = fork()) == -1) {
		close(lfd);
		return -1;
	}
	if (srv.pid == 0)
		serve(lfd);
	setpgid(srv.pid, srv.pid);
	close(lfd);
	snprintf(srv.base, sizeof srv.base, "http://127.0.0.1:%d", srv.port);
	*state = &srv;
	return 0;
}

static int
server_stop(void **state)
{
	struct server	*srv = *state;

	kill(-srv->pid, SIGKILL);
	while (waitpid(srv->pid, NULL, 0) == -1 && errno == EINTR)
		continue;
	return 0;
}

static struct http *
new_http(void)
{
	struct http_opts	opts = { .timeout_ms = 10000 };

	return http_new(&opts);
}

static char *
url(const struct server *srv, const char *path)
{
	static char	buf[2][128];
	static int	which;

	which = !which;
	snprintf(buf[which], sizeof buf[which], "%s%s", srv->base, path);
	return buf[which];
}

static void
test_keepalive_and_reset(void **state)
{
	struct server		*srv = *state;
	struct http		*h;
	struct http_response	 r;

	assert_non_null(h = new_http());
	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/full"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{}");
	assert_int_equal(r.body_len, 2);
	assert_string_equal(r.content_type, "application/jose+json");
	assert_string_equal(r.replay_nonce, "nonce-1");
	assert_string_equal(r.location, "http://ca/acct/1");
	assert_int_equal(r.retry_after, 7);
	assert_int_equal(r.n_links, 1);
	assert_string_equal(r.links[0], "http://ca/alt1");
	assert_string_equal(r.link_up, "http://ca/up");
	assert_non_null(strstr(r.headers, "Replay-Nonce: nonce-1"));
	http_response_clear(&r);

	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/bare"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello");
	assert_null(r.content_type);
	assert_null(r.replay_nonce);
	assert_null(r.location);
	assert_null(r.link_up);
	assert_int_equal(r.n_links, 0);
	assert_int_equal(r.retry_after, -1);
	assert_null(strstr(r.headers, "nonce-1"));
	http_response_clear(&r);

	assert_int_equal(http_connections(h), 1);
	http_free(h);
}

static void
test_post_head_status(void **state)
{
	struct server		*srv = *state;
	struct http		*h;
	struct http_response	 r;
	static const char	 body[] = "{\"protected\":\"x\"}";

	assert_non_null(h = new_http());
	assert_int_equal(http_request(h, HTTP_POST, url(srv, "/echo"), body,
	    sizeof body - 1, "application/jose+json",
	    "application/pem-certificate-chain", &r), ERR_OK);
	assert_string_equal(r.body, "POST|application/jose+json|"
	    "application/pem-certificate-chain|{\"protected\":\"x\"}");
	http_response_clear(&r);

	/* After a POST, a GET must be a GET again, with no stale headers. */
	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/echo"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_string_equal(r.body, "GET||*/*|");	/* curl's default */
	http_response_clear(&r);

	assert_int_equal(http_request(h, HTTP_HEAD, url(srv, "/bare"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(r.body);
	assert_int_equal(r.body_len, 0);
	http_response_clear(&r);

	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/missing"), NULL,
	    0, NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.replay_nonce, "n404");
	http_response_clear(&r);

	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/continue"), NULL,
	    0, NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.status, 200);
	assert_null(r.replay_nonce);
	assert_int_equal(r.retry_after, -1);
	http_response_clear(&r);

	assert_int_equal(http_connections(h), 1);
	http_free(h);
}

static void
test_body_cap(void **state)
{
	struct server		*srv = *state;
	struct http		*h;
	struct http_response	 r;

	assert_non_null(h = new_http());
	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/exact"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.body_len, HTTP_BODY_MAX);
	assert_int_equal(r.body[HTTP_BODY_MAX], '\0');
	http_response_clear(&r);

	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/big"), NULL, 0,
	    NULL, NULL, &r), ERR_ACME);
	assert_null(r.body);
	assert_null(r.content_type);

	/* The handle is still usable after the aborted transfer. */
	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/bare"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_string_equal(r.body, "hello");
	http_response_clear(&r);
	http_free(h);
}

static void
test_refused(void **state)
{
	struct http		*h;
	struct http_response	 r;
	char			 u[64];
	int			 fd, port;

	(void)state;
	/* A port that was just free and has no listener now. */
	assert_true((fd = listen_loopback(&port)) != -1);
	close(fd);
	snprintf(u, sizeof u, "http://127.0.0.1:%d/x", port);
	assert_non_null(h = new_http());
	assert_int_equal(http_request(h, HTTP_GET, u, NULL, 0, NULL, NULL, &r),
	    ERR_ACME);
	assert_null(r.body);
	assert_int_equal(r.retry_after, -1);
	http_response_clear(&r);
	http_free(h);
}

/* libcurl calls an answer cut inside its headers a success; http.c must
 * not (found with tests/lib/faultproxy.py: a dropped nonce answer passed
 * for one without a Replay-Nonce). */
static void
test_cut_in_headers(void **state)
{
	struct server		*srv = *state;
	struct http		*h;
	struct http_response	 r;
	const char		*text = NULL;

	assert_non_null(h = new_http());
	assert_int_equal(http_request(h, HTTP_HEAD, url(srv, "/cuthead"), NULL,
	    0, NULL, NULL, &r), ERR_ACME);
	assert_int_equal(http_last_failure(h, &text), HTTP_FAIL_DROPPED);
	assert_non_null(strstr(text, "headers"));
	http_response_clear(&r);
	/* the next request on a new connection is fine */
	assert_int_equal(http_request(h, HTTP_GET, url(srv, "/bare"), NULL, 0,
	    NULL, NULL, &r), ERR_OK);
	assert_int_equal(r.status, 200);
	http_response_clear(&r);
	http_free(h);
}

static void
test_ca_bundle(void **state)
{
	struct http_opts	 opts = { 0 };
	struct http		*h;
	char			 path[] = "/tmp/test_http_XXXXXX";
	int			 fd;

	(void)state;
	opts.ca_bundle = "/nonexistent/ca.pem";
	assert_null(http_new(&opts));
	/* A directory is a hashed trust store (CAPATH), not an error. */
	opts.ca_bundle = "/tmp";
	assert_non_null(h = http_new(&opts));
	http_free(h);
	opts.ca_bundle = "/dev/null";
	assert_null(http_new(&opts));

	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	opts.ca_bundle = path;
	h = http_new(&opts);
	unlink(path);
	assert_non_null(h);
	http_free(h);

	/* Like the curl tool, honour CURL_CA_BUNDLE when none is given. */
	setenv("CURL_CA_BUNDLE", "/nonexistent/env-ca.pem", 1);
	h = http_new(NULL);
	unsetenv("CURL_CA_BUNDLE");
	assert_null(h);
}

/* Origins (RFC 6454) and the resolution of a relative Location. */
static void
test_origin_resolve(void **state)
{
	static const struct {
		const char	*base, *url;
		bool		 same;
	} rows[] = {
		{ "https://ca.test/dir", "https://ca.test/acct/1", true },
		{ "https://ca.test/dir", "https://CA.test:443/x", true },
		{ "https://ca.test/dir", "http://ca.test/x", false },
		{ "https://ca.test/dir", "https://ca.test:8443/x", false },
		{ "https://ca.test/dir", "https://other.test/x", false },
		{ "https://ca.test/dir", "/acct/1", false },
	};
	char	*r;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		assert_int_equal(http_same_origin(rows[i].base, rows[i].url),
		    rows[i].same);
	assert_non_null(r = http_resolve("https://ca.test:14000/sign-me-up",
	    "/my-account/7"));
	assert_string_equal(r, "https://ca.test:14000/my-account/7");
	free(r);
	assert_non_null(r = http_resolve("https://ca.test/a/b", "c"));
	assert_string_equal(r, "https://ca.test/a/c");
	free(r);
	assert_non_null(r = http_resolve("https://ca.test/a",
	    "https://other.test/x"));
	assert_string_equal(r, "https://other.test/x");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest parsers[] = {
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_link_multiple),
		cmocka_unit_test(test_link_other_rels),
		cmocka_unit_test(test_link_cap),
		cmocka_unit_test(test_link_malformed),
		cmocka_unit_test(test_ca_bundle),
		cmocka_unit_test(test_refused),
	};
	const struct CMUnitTest loopback[] = {
		cmocka_unit_test(test_keepalive_and_reset),
		cmocka_unit_test(test_post_head_status),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_cut_in_headers),
		cmocka_unit_test(test_origin_resolve),
	};
	int	rc;

	/* The loopback server must be reached directly. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("CURL_CA_BUNDLE");
	rc = cmocka_run_group_tests_name("parsers", parsers, NULL, NULL);
	rc += cmocka_run_group_tests_name("loopback", loopback, server_start,
	    server_stop);
	return rc != 0;
}
