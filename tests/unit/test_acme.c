/*
 * test_acme.c: acme.c against a scripted ACME server on loopback (a
 * forked child speaking plain HTTP/1.1): a directory that is not JSON or
 * lacks endpoints, badNonce retried with fresh nonces and bounded, 429
 * with Retry-After waited out, a problem document reaching the caller.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "acme.h"
#include "acme_status.h"
#include "crypto.h"
#include "sig.h"

static pid_t	srv_pid;
static int	srv_port;
static char	base[64];

static void
reply(int fd, const char *status, const char *headers, const char *body)
{
	char	buf[4096];
	int	n;

	n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
	    "Replay-Nonce: n%ld\r\n%s\r\n%s", status, strlen(body),
	    random() % 100000, headers, body);
	if (write(fd, buf, (size_t)n) != n)
		_exit(1);
}

/* An answer without Replay-Nonce, as a load balancer in front of a CA
 * gives when the CA behind it is down. */
static void
reply_bare(int fd, const char *status, const char *body)
{
	char	buf[1024];
	int	n;

	n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
	    "\r\n%s", status, strlen(body), body);
	if (write(fd, buf, (size_t)n) != n)
		_exit(1);
}

#define PROBLEM(t) "{\"type\":\"urn:ietf:params:acme:error:" t "\"," \
	"\"detail\":\"scripted\"}"
#define PJSON "Content-Type: application/problem+json\r\n"

/* One request: the first line and the body are enough for the script. */
static int
serve_request(int fd, int counts[8])
{
	char	req[16384], *p, *hend, dir[1024];
	size_t	len = 0, clen = 0;
	ssize_t	r;

	for (;;) {
		if ((r = read(fd, req + len, sizeof req - 1 - len)) <= 0)
			return -1;
		len += (size_t)r;
		req[len] = '\0';
		if ((hend = strstr(req, "\r\n\r\n")) == NULL)
			continue;
		if ((p = strcasestr(req, "content-length:")) != NULL &&
		    p < hend)
			clen = strtoul(p + 15, NULL, 10);
		if (len >= (size_t)(hend + 4 - req) + clen)
			break;
	}
	if (strncmp(req, "GET /dir-bad ", 13) == 0)
		reply(fd, "200 OK", "", "this is not json");
	else if (strncmp(req, "GET /dir-missing ", 17) == 0)
		reply(fd, "200 OK", "", "{\"newAccount\":\"x\"}");
	else if (strncmp(req, "GET /dir-flaky ", 15) == 0) {
		/* One 500, then the directory of /dir-nononce. */
		if (counts[4]++ < 1)
			reply_bare(fd, "500 Internal Server Error", "");
		else {
			snprintf(dir, sizeof dir, "{\"newNonce\":"
			    "\"%s/nonce-down\",\"newAccount\":\"%s/acct\","
			    "\"newOrder\":\"%s/order\"}", base, base, base);
			reply(fd, "200 OK", "", dir);
		}
	} else if (strncmp(req, "HEAD /nonce-down ", 17) == 0) {
		/* One nonce, then down for good. */
		if (counts[5]++ < 1)
			reply(fd, "200 OK", "", "");
		else
			reply_bare(fd, "503 Service Unavailable", "");
	} else if (strncmp(req, "POST /busy ", 11) == 0)
		reply_bare(fd, "503 Service Unavailable", "");
	else if (strncmp(req, "POST /drop ", 11) == 0) {
		/* Twice the connection dies without an answer (libcurl
		 * itself retries once on a reused connection). */
		if (counts[3]++ < 2)
			return -1;
		reply(fd, "200 OK", "", "{\"dropped\":\"once\"}");
	} else if (strncmp(req, "POST /limited ", 14) == 0)
		reply(fd, "429 Too Many Requests", PJSON "Retry-After: 3600\r\n",
		    PROBLEM("rateLimited"));
	else if (strncmp(req, "GET /dir ", 9) == 0) {
		snprintf(dir, sizeof dir, "{\"newNonce\":\"%s/nonce\","
		    "\"newAccount\":\"%s/acct\",\"newOrder\":\"%s/order\","
		    "\"meta\":{\"termsOfService\":\"%s/tos\"}}",
		    base, base, base, base);
		reply(fd, "200 OK", "", dir);
	} else if (strncmp(req, "HEAD /nonce ", 12) == 0)
		reply(fd, "200 OK", "", "");
	else if (strncmp(req, "POST /acct ", 11) == 0) {
		if (counts[0]++ < 2)
			reply(fd, "400 Bad Request", PJSON, PROBLEM("badNonce"));
		else
			reply(fd, "201 Created", "Location: /acct/1\r\n",
			    "{\"status\":\"valid\"}");
	} else if (strncmp(req, "POST /slow ", 11) == 0) {
		if (counts[1]++ < 1)
			reply(fd, "429 Too Many Requests", PJSON
			    "Retry-After: 1\r\n", PROBLEM("rateLimited"));
		else
			reply(fd, "200 OK", "", "{}");
	} else if (strncmp(req, "POST /always-bad ", 17) == 0) {
		counts[2]++;
		reply(fd, "400 Bad Request", PJSON, PROBLEM("badNonce"));
	} else if (strncmp(req, "POST /html ", 11) == 0)
		reply(fd, "200 OK", "Content-Type: text/html\r\n",
		    "<html>proxy error</html>");
	else if (strncmp(req, "POST /array ", 12) == 0)
		reply(fd, "200 OK", "", "[1]");
	else if (strncmp(req, "POST /made ", 11) == 0)
		reply(fd, "201 Created", "Location: /made/1\r\n"
		    "Retry-After: 7\r\n", "{\"status\":\"pending\"}");
	else if (strncmp(req, "POST /forbidden ", 16) == 0)
		reply(fd, "403 Forbidden", PJSON, PROBLEM("unauthorized"));
	else if (strncmp(req, "GET /count ", 11) == 0) {
		snprintf(dir, sizeof dir, "%d", counts[2]);
		reply(fd, "200 OK", "", dir);
	} else if (strncmp(req, "GET /count-nonce ", 17) == 0) {
		snprintf(dir, sizeof dir, "%d", counts[5]);
		reply(fd, "200 OK", "", dir);
	} else
		reply(fd, "404 Not Found", "", "");
	return 0;
}

static void __attribute__((noreturn))
serve(int lfd)
{
	int	fd, counts[8] = { 0 };

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(1);
		while (serve_request(fd, counts) == 0)
			;
		close(fd);
	}
}

static int
start(void **state)
{
	struct sockaddr_in	sin = { 0 };
	socklen_t		sl = sizeof sin;
	int			lfd;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 8) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	srv_port = ntohs(sin.sin_port);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", srv_port);
	if ((srv_pid = fork()) == 0)
		serve(lfd);
	close(lfd);
	return srv_pid > 0 ? 0 : -1;
}

static int
stop(void **state)
{
	(void)state;
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, NULL, 0);
	curl_global_cleanup();
	return 0;
}

static char *
url(const char *path)
{
	static char	u[128];

	snprintf(u, sizeof u, "%s%s", base, path);
	return u;
}

static void
bad_directories(void **state)
{
	struct http	*h = http_new(&(struct http_opts){ 0 });
	struct acme	*a = NULL;

	(void)state;
	assert_non_null(h);
	assert_int_equal(acme_new(h, url("/dir-bad"), &a), ERR_ACME);
	assert_null(a);
	assert_int_equal(acme_new(h, url("/dir-missing"), &a), ERR_ACME);
	assert_int_equal(acme_new(h, url("/nowhere"), &a), ERR_ACME);
	http_free(h);
}

static void
retries(void **state)
{
	struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0, "secp256r1" };
	struct acme_account_req	 req = { .agree_tos = true };
	struct http_response	 resp;
	struct acme_problem	 prob;
	struct http		*h = http_new(&(struct http_opts){ 0 });
	struct acme		*a = NULL;
	EVP_PKEY		*key = crypto_key_generate(&spec);
	struct timespec		 t0, t1;
	json_t			*body = NULL;
	char			*count = NULL;

	(void)state;
	assert_int_equal(acme_new(h, url("/dir"), &a), ERR_OK);
	/* Two badNonce answers, then the account: retried transparently. */
	assert_int_equal(acme_account(a, key, &req, &body), ERR_OK);
	/* A relative Location is resolved against the newAccount URL. */
	assert_string_equal(acme_kid(a), url("/acct/1"));
	json_decref(body);
	/* 429 with Retry-After: 1 is waited out, then succeeds. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(acme_post(a, "slow", url("/slow"), "{}", false, NULL,
	    &resp, NULL), ERR_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 950);
	http_response_clear(&resp);
	/* badNonce forever: bounded, and the problem reaches the caller. */
	assert_int_equal(acme_post(a, "bad", url("/always-bad"), "{}", false,
	    NULL, &resp, &prob), ERR_ACME);
	assert_null(resp.body);
	assert_string_equal(prob.type, "urn:ietf:params:acme:error:badNonce");
	acme_problem_clear(&prob);
	assert_int_equal(http_request(h, HTTP_GET, url("/count"), NULL, 0,
	    NULL, NULL, &resp), ERR_OK);
	count = resp.body;
	assert_int_equal(atoi(count), 21);
	http_response_clear(&resp);
	/* Any other problem: no retry, type and detail for the message. */
	assert_int_equal(acme_post(a, "forbidden", url("/forbidden"), "{}",
	    false, NULL, &resp, &prob), ERR_ACME);
	assert_string_equal(prob.type,
	    "urn:ietf:params:acme:error:unauthorized");
	assert_string_equal(prob.detail, "scripted");
	acme_problem_clear(&prob);
	acme_free(a);
	EVP_PKEY_free(key);
	http_free(h);
}

/* The opaque struct acme through its accessors, and acme_post_json. */
static void
json_answers(void **state)
{
	struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0, "secp256r1" };
	struct acme_account_req	 req = { .agree_tos = true };
	struct acme_answer	 ans;
	struct http		*h = http_new(&(struct http_opts){ 0 });
	struct acme		*a = NULL;
	EVP_PKEY		*key = crypto_key_generate(&spec);
	json_t			*obj = NULL;
	char			 want[128];

	(void)state;
	assert_int_equal(acme_new(h, url("/dir"), &a), ERR_OK);
	assert_null(acme_kid(a));
	assert_string_equal(acme_url(a, ACME_URL_DIRECTORY), url("/dir"));
	snprintf(want, sizeof want, "%s/order", base);
	assert_string_equal(acme_url(a, ACME_URL_NEW_ORDER), want);
	assert_null(acme_url(a, ACME_URL_REVOKE_CERT));
	snprintf(want, sizeof want, "%s/tos", base);
	assert_string_equal(json_string_value(acme_meta(a, "termsOfService")),
	    want);
	assert_null(acme_meta(a, "caaIdentities"));
	assert_int_equal(acme_account(a, key, &req, NULL), ERR_OK);
	assert_ptr_equal(acme_key(a), key);
	/* A 200 that is not a JSON object is an error, not a success. */
	assert_int_equal(acme_post_json(a, "html", url("/html"), "{}", &obj,
	    &ans), ERR_ACME);
	assert_null(obj);
	assert_null(ans.location);
	assert_int_equal(acme_post_json(a, "array", url("/array"), NULL, &obj,
	    NULL), ERR_ACME);
	assert_null(obj);
	/* Location and Retry-After come with the object. */
	assert_int_equal(acme_post_json(a, "made", url("/made"), "{}", &obj,
	    &ans), ERR_OK);
	assert_string_equal(json_string_value(json_object_get(obj, "status")),
	    "pending");
	assert_string_equal(ans.location, "/made/1");
	assert_int_equal(ans.retry_after, 7);
	assert_true(acme_requests(a) >= 5);
	free(ans.location);
	json_decref(obj);
	acme_free(a);
	EVP_PKEY_free(key);
	http_free(h);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Issue 11 item 1: one retry policy, and a transport that never lies. */
static void
transport(void **state)
{
	struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0, "secp256r1" };
	struct http_response	 resp;
	struct acme_problem	 prob;
	struct http		*h = http_new(&(struct http_opts){ 0 });
	struct acme		*a = NULL;
	EVP_PKEY		*key = crypto_key_generate(&spec);
	json_t			*obj = NULL;
	struct timespec		 t0;

	(void)state;
	/* A 500 on the directory GET is retried like any request. */
	assert_int_equal(acme_new(h, url("/dir-flaky"), &a), ERR_OK);
	assert_int_equal(acme_set_account(a, key, url("/acct/1")), ERR_OK);
	/* A dropped connection is retried on a fresh nonce. */
	assert_int_equal(acme_post_json(a, "drop", url("/drop"), "{}", &obj,
	    NULL), ERR_OK);
	assert_string_equal(json_string_value(json_object_get(obj,
	    "dropped")), "once");
	json_decref(obj);
	obj = NULL;
	/*
	 * A 503 without a nonce, then newNonce down: the retry cannot be
	 * signed, so the request fails; it is never a success with an
	 * empty answer.  The nonce HEAD had its own capped retries.
	 */
	assert_int_equal(acme_post(a, "busy", url("/busy"), "{}", false, NULL,
	    &resp, NULL), ERR_ACME);
	assert_null(resp.body);
	assert_int_equal(http_request(h, HTTP_GET, url("/count-nonce"), NULL,
	    0, NULL, NULL, &resp), ERR_OK);
	assert_int_equal(atoi(resp.body), 1 + 4);
	http_response_clear(&resp);
	/* rateLimited with a Retry-After beyond what a run waits: at once,
	 * its own code, the problem for the caller. */
	acme_free(a);
	assert_int_equal(acme_new(h, url("/dir"), &a), ERR_OK);
	assert_int_equal(acme_set_account(a, key, url("/acct/1")), ERR_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(acme_post(a, "limited", url("/limited"), "{}", false,
	    NULL, &resp, &prob), ERR_RATELIMIT);
	assert_true(ms_since(&t0) < 5000);
	assert_string_equal(prob.type,
	    "urn:ietf:params:acme:error:rateLimited");
	acme_problem_clear(&prob);
	acme_free(a);
	/* Nothing listens: refused at once, not retried for minutes. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(acme_new(h, "http://127.0.0.1:1/dir", &a), ERR_ACME);
	assert_null(a);
	assert_int_equal(http_last_failure(h, NULL), HTTP_FAIL_CONNECT);
	assert_true(ms_since(&t0) < 5000);
	EVP_PKEY_free(key);
	http_free(h);
}

/* Statuses are parsed once, and every name round-trips. */
static void
statuses(void **state)
{
	static const struct {
		const char		*json;
		enum acme_status	 want;
	} cases[] = {
		{ "{\"status\":\"pending\"}", ACME_STATUS_PENDING },
		{ "{\"status\":\"ready\"}", ACME_STATUS_READY },
		{ "{\"status\":\"processing\"}", ACME_STATUS_PROCESSING },
		{ "{\"status\":\"valid\"}", ACME_STATUS_VALID },
		{ "{\"status\":\"invalid\"}", ACME_STATUS_INVALID },
		{ "{\"status\":\"deactivated\"}", ACME_STATUS_DEACTIVATED },
		{ "{\"status\":\"expired\"}", ACME_STATUS_EXPIRED },
		{ "{\"status\":\"revoked\"}", ACME_STATUS_REVOKED },
		{ "{\"status\":\"VALID\"}", ACME_STATUS_UNKNOWN },
		{ "{\"status\":\"unknown\"}", ACME_STATUS_UNKNOWN },
		{ "{\"status\":\"\"}", ACME_STATUS_UNKNOWN },
		{ "{\"status\":1}", ACME_STATUS_NONE },
		{ "{}", ACME_STATUS_NONE },
		{ "[]", ACME_STATUS_NONE },
	};
	json_t	*j;
	size_t	 i;
	int	 st;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		assert_int_equal(acme_status_of(j), cases[i].want);
		json_decref(j);
	}
	assert_int_equal(acme_status_of(NULL), ACME_STATUS_NONE);
	assert_null(acme_status_name(ACME_STATUS_NONE));
	for (st = ACME_STATUS_PENDING; st < ACME_STATUS__COUNT; st++)
		assert_int_equal(acme_status_parse(acme_status_name(
		    (enum acme_status)st)), st);
	assert_string_equal(acme_status_name(ACME_STATUS__COUNT), "unknown");
}

/* A pending stop signal: no new request goes out (runs last: the signal
 * stays pending for the rest of the process). */
static void
stopping(void **state)
{
	struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0, "secp256r1" };
	struct http_response	 resp;
	struct http		*h = http_new(&(struct http_opts){ 0 });
	struct acme		*a = NULL;
	EVP_PKEY		*key = crypto_key_generate(&spec);
	long			 before;

	(void)state;
	assert_int_equal(acme_new(h, url("/dir"), &a), ERR_OK);
	assert_int_equal(acme_set_account(a, key, url("/acct/1")), ERR_OK);
	assert_int_equal(sig_install(), 0);
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(sig_pending(), SIGTERM);
	before = acme_requests(a);
	assert_int_equal(acme_post(a, "made", url("/made"), "{}", false, NULL,
	    &resp, NULL), ERR_SIGNAL);
	assert_int_equal(acme_requests(a), before);
	assert_false(acme_wait_ms(5000));
	acme_free(a);
	EVP_PKEY_free(key);
	http_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_directories),
		cmocka_unit_test(retries),
		cmocka_unit_test(json_answers),
		cmocka_unit_test(transport),
		cmocka_unit_test(statuses),
		cmocka_unit_test(stopping),
	};

	if (getenv("TEST_STDERR") == NULL && freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, start, stop);
}
