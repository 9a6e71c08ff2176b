/*
 * fuzz_acme_answers.c: libFuzzer harness for the CA's answers (acme.c,
 * order.c): the directory, newOrder, an authorization, a challenge, the
 * order polled, finalize, the certificate, and a problem document.  The
 * whole order flow (order_obtain) runs against a CA simulated in this
 * file: the link step wraps http_request (-Wl,--wrap=http_request, see
 * meson.build), so no source file changes and no network is involved.
 * The first input byte picks the answer that is replaced by the rest of
 * the input; every other answer is a well-formed one, so the fuzzed answer
 * is reached.  acme_wait_ms is wrapped too (poll back-off from order.c),
 * and after REQ_MAX requests the CA answers 403, so a run ends quickly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "acme.h"
#include "fuzz_file.h"
#include "http.h"
#include "log.h"
#include "order.h"
#include "solver.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
enum err __wrap_http_request(struct http *, enum http_method, const char *,
	    const char *, size_t, const char *, const char *,
	    struct http_response *);
void	__wrap_acme_wait_ms(long);

#define CA	"https://ca.test"
#define REQ_MAX	40

enum target {
	T_DIRECTORY, T_NEW_ORDER, T_AUTHZ, T_CHALLENGE, T_ORDER, T_FINALIZE,
	T_CERT, T_PROBLEM, T__COUNT
};

static const char *const dir_json = "{\"newNonce\":\"" CA "/nonce\","
    "\"newAccount\":\"" CA "/acct\",\"newOrder\":\"" CA "/new-order\","
    "\"revokeCert\":\"" CA "/revoke\",\"keyChange\":\"" CA "/key\"}";
static const char *const order_pending = "{\"status\":\"pending\","
    "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}],"
    "\"authorizations\":[\"" CA "/authz/1\"],"
    "\"finalize\":\"" CA "/finalize/1\"}";
static const char *const order_ready = "{\"status\":\"ready\","
    "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}],"
    "\"authorizations\":[\"" CA "/authz/1\"],"
    "\"finalize\":\"" CA "/finalize/1\"}";
static const char *const order_valid = "{\"status\":\"valid\","
    "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}],"
    "\"authorizations\":[\"" CA "/authz/1\"],"
    "\"finalize\":\"" CA "/finalize/1\","
    "\"certificate\":\"" CA "/cert/1\"}";
static const char *const authz_pending = "{\"status\":\"pending\","
    "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example.com\"},"
    "\"challenges\":[{\"type\":\"dns-01\",\"url\":\"" CA "/chall/1\","
    "\"status\":\"pending\",\"token\":\"dG9rZW4tdG9rZW4tdG9rZW4\"}]}";
static const char *const authz_valid = "{\"status\":\"valid\","
    "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example.com\"},"
    "\"challenges\":[{\"type\":\"dns-01\",\"url\":\"" CA "/chall/1\","
    "\"status\":\"valid\",\"token\":\"dG9rZW4tdG9rZW4tdG9rZW4\"}]}";
static const char *const chall_processing = "{\"type\":\"dns-01\","
    "\"url\":\"" CA "/chall/1\",\"status\":\"processing\","
    "\"token\":\"dG9rZW4tdG9rZW4tdG9rZW4\"}";
static const char *const forbidden = "{\"type\":"
    "\"urn:ietf:params:acme:error:unauthorized\",\"detail\":\"enough\"}";

/* The simulated CA's state for one input. */
static struct {
	enum target	 target;
	const uint8_t	*data;
	size_t		 size;
	int		 requests;
	bool		 challenged, finalized;
} ca;

static EVP_PKEY		*account_key, *cert_key;
static struct http	*http;

/* Sets resp to status and a copy of body (n bytes). */
static enum err
answer(struct http_response *resp, long status, const void *body, size_t n,
    const char *location)
{
	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
	resp->status = status;
	if ((resp->body = malloc(n + 1)) == NULL)
		abort();
	memcpy(resp->body, body, n);
	resp->body[n] = '\0';
	resp->body_len = n;
	resp->replay_nonce = strdup("bm9uY2U");
	resp->content_type = strdup(status >= 400 ?
	    "application/problem+json" : "application/json");
	resp->headers = strdup("");
	resp->location = location ? strdup(location) : NULL;
	return ERR_OK;
}

/* The canned answer, or the input when this is the target. */
static enum err
reply(struct http_response *resp, enum target t, long status,
    const char *canned, const char *location)
{
	if (ca.target == t)
		return answer(resp, status, ca.data, ca.size, location);
	return answer(resp, status, canned, strlen(canned), location);
}

enum err
__wrap_http_request(struct http *h, enum http_method method, const char *url,
    const char *body, size_t body_len, const char *content_type,
    const char *accept, struct http_response *resp)
{
	const char	*p;

	if (strncmp(url, CA "/", sizeof CA) != 0 || ++ca.requests > REQ_MAX)
		return answer(resp, 403, forbidden, strlen(forbidden), NULL);
	p = url + sizeof CA - 1;
	if (strcmp(p, "/dir") == 0)
		return reply(resp, T_DIRECTORY, 200, dir_json, NULL);
	if (strcmp(p, "/nonce") == 0)
		return answer(resp, 200, "", 0, NULL);
	if (strcmp(p, "/new-order") == 0) {
		if (ca.target == T_PROBLEM)
			return answer(resp, 403, ca.data, ca.size, NULL);
		return reply(resp, T_NEW_ORDER, 201, order_pending,
		    CA "/order/1");
	}
	if (strcmp(p, "/authz/1") == 0)
		return reply(resp, T_AUTHZ, 200, ca.challenged ? authz_valid :
		    authz_pending, NULL);
	if (strcmp(p, "/chall/1") == 0) {
		ca.challenged = true;
		return reply(resp, T_CHALLENGE, 200, chall_processing, NULL);
	}
	if (strcmp(p, "/order/1") == 0)
		return reply(resp, T_ORDER, 200, ca.finalized ? order_valid :
		    ca.challenged ? order_ready : order_pending, NULL);
	if (strcmp(p, "/finalize/1") == 0) {
		ca.finalized = true;
		return reply(resp, T_FINALIZE, 200, order_valid, NULL);
	}
	if (strcmp(p, "/cert/1") == 0)
		return reply(resp, T_CERT, 200, "-----BEGIN CERTIFICATE-----\n"
		    "-----END CERTIFICATE-----\n", NULL);
	return answer(resp, 403, forbidden, strlen(forbidden), NULL);
}

void
__wrap_acme_wait_ms(long ms)
{
	(void)ms;	/* no one to wait for: the CA is this file */
}

static EVP_PKEY *
p256(void)
{
	EVP_PKEY	*k;

	if ((k = EVP_EC_gen("P-256")) == NULL)
		abort();
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const	 names[] = { "a.example.com" };
	static const enum chal_type prefs[] = { CHAL_DNS01 };
	struct order_req	 req;
	struct solver_opts	 so;
	struct solver		*s;
	struct acme		*a = NULL;
	enum err		 why;
	char			*chain = NULL, acks[64];
	int			 in, out;

	if (size < 1)
		return 0;
	log_init(0, true);
	if (account_key == NULL) {
		account_key = p256();
		cert_key = p256();
		if ((http = http_new(&(struct http_opts){ 0 })) == NULL)
			abort();
	}
	memset(&ca, 0, sizeof ca);
	ca.target = (enum target)(data[0] % T__COUNT);
	ca.data = data + 1;
	ca.size = size - 1;
	if (acme_new(http, CA "/dir", &a) != ERR_OK)
		return 0;
	if (acme_set_account(a, account_key, CA "/acct/1") != ERR_OK)
		abort();
	/* The invoker acknowledges every perform line at once. */
	memset(acks, '\n', sizeof acks);
	if ((in = open(fuzz_write("acks", (const unsigned char *)acks, sizeof acks), O_RDONLY |
	    O_CLOEXEC)) == -1 || (out = open("/dev/null", O_WRONLY |
	    O_CLOEXEC)) == -1)
		abort();
	memset(&so, 0, sizeof so);
	so.mode = SOLVER_JSON;
	so.in_fd = in;
	so.out_fd = out;
	if ((s = solver_new(&so, &why)) == NULL)
		abort();
	memset(&req, 0, sizeof req);
	req.names = names;
	req.n_names = 1;
	req.prefs = prefs;
	req.n_prefs = 1;
	req.cert_key = cert_key;
	req.timeout_s = 5;
	req.work_dir = fuzz_dir();
	if (order_obtain(a, s, &req, &chain) == ERR_OK && chain == NULL)
		abort();
	free(chain);
	solver_free(s);
	close(in);
	close(out);
	acme_free(a);
	return 0;
}
