/*
 * test_event.c: the event records and their three renderings against the
 * seed's README (certbot-external-auth): JSON lines byte for byte (key
 * order, separators, escapes, numbers), the handler environment, and
 * dehydrated's argv for every hook.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"

#define DNS_DOMAIN	"bristol3.pki.enigmabridge.com"
#define DNS_TOKEN	"_QLSFTRw6qbQaN7gTglBYZuU1L7KAP-bXB_41CAnAvU"
#define DNS_VALUE	"667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc"
#define THUMB		"tRQM98JsABZRm5-NiotcgD212RAUPPbyeDP30Ob_7-0"
#define HTTP_TOKEN	"oRezdno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY"
#define LIVE		"/etc/letsencrypt/live/" DNS_DOMAIN "/"

/* The README's lines, copied byte for byte. */
/* README: 372 bytes */
static const char want_dns_perform[] =
    "{\"cmd\": \"perform_challenge\", \"type\": \"dns-01\", \"domain\""
    ": \"bristol3.pki.enigmabridge.com\", \"token\": \"_QLSFTRw6qbQaN"
    "7gTglBYZuU1L7KAP-bXB_41CAnAvU\", \"validation\": \"667drNmQL3vX6"
    "bu8YZlgy0wKNBlCny8yrjF1lSaUndc\", \"txt_domain\": \"_acme-challe"
    "nge.bristol3.pki.enigmabridge.com\", \"key_auth\": \"_QLSFTRw6qb"
    "QaN7gTglBYZuU1L7KAP-bXB_41CAnAvU.tRQM98JsABZRm5-NiotcgD212RAUPPb"
    "yeDP30Ob_7-0\"}";
/* README: 354 bytes */
static const char want_dns_cleanup[] =
    "{\"cmd\": \"cleanup\", \"type\": \"dns-01\", \"status\": \"pendi"
    "ng\", \"domain\": \"bristol3.pki.enigmabridge.com\", \"token\": "
    "\"_QLSFTRw6qbQaN7gTglBYZuU1L7KAP-bXB_41CAnAvU\", \"validation\":"
    " \"667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc\", \"key_auth\": "
    "\"_QLSFTRw6qbQaN7gTglBYZuU1L7KAP-bXB_41CAnAvU.tRQM98JsABZRm5-Nio"
    "tcgD212RAUPPbyeDP30Ob_7-0\", \"validated\": null, \"error\": nul"
    "l}";
/* README: 1015 bytes */
static const char want_http_perform[] =
    "{\"cmd\": \"perform_challenge\", \"type\": \"http-01\", \"domain"
    "\": \"bristol3.pki.enigmabridge.com\", \"token\": \"oRezdno4N00C"
    "fp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY\", \"validation\": \"oRezdno4N00"
    "Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY.tRQM98JsABZRm5-NiotcgD212RAUPPb"
    "yeDP30Ob_7-0\", \"uri\": \"http://bristol3.pki.enigmabridge.com/"
    ".well-known/acme-challenge/oRezdno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7H"
    "ML7RcY\", \"command\": \"mkdir -p /tmp/certbot/public_html/.well"
    "-known/acme-challenge\\ncd /tmp/certbot/public_html\\nprintf \\\""
    "%s\\\" oRezdno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY.tRQM98JsABZRm"
    "5-NiotcgD212RAUPPbyeDP30Ob_7-0 > .well-known/acme-challenge/oRez"
    "dno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY\\n# run only once per se"
    "rver:\\n$(command -v python2 || command -v python2.7 || command "
    "-v python2.6) -c \\\\\\n\\\"import BaseHTTPServer, SimpleHTTPSer"
    "ver; \\\\\\ns = BaseHTTPServer.HTTPServer(('', 80), SimpleHTTPSe"
    "rver.SimpleHTTPRequestHandler); \\\\\\ns.serve_forever()\\\" \","
    " \"key_auth\": \"oRezdno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY.tRQ"
    "M98JsABZRm5-NiotcgD212RAUPPbyeDP30Ob_7-0\"}";
/* README: 399 bytes */
static const char want_http_cleanup[] =
    "{\"cmd\": \"cleanup\", \"type\": \"http-01\", \"status\": \"pend"
    "ing\", \"domain\": \"bristol3.pki.enigmabridge.com\", \"token\":"
    " \"oRezdno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY\", \"validation\""
    ": \"oRezdno4N00Cfp2bLqJe45Ad3mwJ0q3xqIr7HML7RcY.tRQM98JsABZRm5-N"
    "iotcgD212RAUPPbyeDP30Ob_7-0\", \"key_auth\": \"oRezdno4N00Cfp2bL"
    "qJe45Ad3mwJ0q3xqIr7HML7RcY.tRQM98JsABZRm5-NiotcgD212RAUPPbyeDP30"
    "Ob_7-0\", \"validated\": null, \"error\": null}";
/* README: 450 bytes */
static const char want_deploy[] =
    "{\"cmd\": \"deploy_cert\", \"domain\": \"bristol3.pki.enigmabrid"
    "ge.com\", \"cert_path\": \"/etc/letsencrypt/live/bristol3.pki.en"
    "igmabridge.com/cert.pem\", \"key_path\": \"/etc/letsencrypt/live"
    "/bristol3.pki.enigmabridge.com/privkey.pem\", \"chain_path\": \""
    "/etc/letsencrypt/live/bristol3.pki.enigmabridge.com/chain.pem\","
    " \"fullchain_path\": \"/etc/letsencrypt/live/bristol3.pki.enigma"
    "bridge.com/fullchain.pem\", \"timestamp\": 1477582237, \"cert_ti"
    "mestamp\": 1477582245.9930167}";
/* README: 50 bytes */
static const char want_save_null[] =
    "{\"cmd\": \"save\", \"title\": null, \"temporary\": false}";
/* README: 73 bytes */
static const char want_save_title[] =
    "{\"cmd\": \"save\", \"title\": \"Deployed ACME Certificate\", \""
    "temporary\": false}";
/* README: 18 bytes */
static const char want_restart[] =
    "{\"cmd\": \"restart\"}";
/* README: 449 bytes */
static const char want_report[] =
    "{\"cmd\": \"report\", \"messages\": [{\"priority\": 1, \"on_cras"
    "h\": true, \"lines\": [\"Congratulations! Your certificate and c"
    "hain have been saved at /etc/letsencrypt/live/bristol3.pki.enigm"
    "abridge.com/fullchain.pem. Your cert will expire on 2017-01-25. "
    "To obtain a new or tweaked version of this certificate in the fu"
    "ture, simply run certbot again with the \\\"certonly\\\" option."
    " To non-interactively renew *all* of your certificates, run \\\""
    "certbot renew\\\"\"]}]}";

static char *
xstrdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

/* A challenge as order.c builds it; freed with challenge_free. */
static struct challenge *
make_challenge(enum chal_type type, const char *domain, const char *token,
    const char *validation)
{
	struct challenge	*ch;
	char			 buf[512];

	ch = calloc(1, sizeof *ch);
	assert_non_null(ch);
	ch->type = type;
	ch->domain = xstrdup(domain);
	ch->token = xstrdup(token);
	snprintf(buf, sizeof buf, "%s.%s", token, THUMB);
	ch->key_auth = xstrdup(buf);
	ch->validation = xstrdup(type == CHAL_DNS01 ? validation : buf);
	if (type == CHAL_DNS01) {
		snprintf(buf, sizeof buf, "_acme-challenge.%s", domain);
		ch->txt_domain = xstrdup(buf);
	} else {
		snprintf(buf, sizeof buf,
		    "http://%s/.well-known/acme-challenge/%s", domain, token);
		ch->uri = xstrdup(buf);
	}
	return ch;
}

static struct challenge *
dns_challenge(void)
{
	return make_challenge(CHAL_DNS01, DNS_DOMAIN, DNS_TOKEN, DNS_VALUE);
}

static struct challenge *
http_challenge(void)
{
	return make_challenge(CHAL_HTTP01, DNS_DOMAIN, HTTP_TOKEN, NULL);
}

#define ALPN_VALUE	"eb:ae:dd:ac:d9:90:2f:7b:d7:e9:bb:bc:61:99:60:cb:" \
			"4c:0a:34:19:42:9f:2f:32:ae:31:75:95:26:94:9d:d7"

/* tls-alpn-01 as order.c builds it once the files are written. */
static struct challenge *
alpn_challenge(void)
{
	struct challenge	*ch;

	ch = make_challenge(CHAL_TLSALPN01, DNS_DOMAIN, DNS_TOKEN, NULL);
	free(ch->uri);
	ch->uri = NULL;
	free(ch->validation);
	ch->validation = xstrdup(ALPN_VALUE);
	ch->cert_path = xstrdup("/w/alpn/" DNS_DOMAIN ".crt.pem");
	ch->key_path = xstrdup("/w/alpn/" DNS_DOMAIN ".key.pem");
	return ch;
}

static struct event *
deploy_event(enum event_kind k, const char *domain)
{
	return event_deploy(k, domain, LIVE "cert.pem", LIVE "privkey.pem",
	    LIVE "chain.pem", LIVE "fullchain.pem", 1477582237,
	    1477582245.9930167, NULL);
}

/* Renders ev, compares with want and frees ev. */
static void
assert_line(struct event *ev, const char *want)
{
	char	*line;

	assert_non_null(ev);
	line = event_json_line(ev);
	assert_non_null(line);
	assert_string_equal(line, want);
	free(line);
	event_free(ev);
}

static void
test_dns_perform(void **state)
{
	struct challenge	*ch = dns_challenge();

	(void)state;
	assert_line(event_challenge(EVENT_PERFORM, ch, NULL),
	    want_dns_perform);
	challenge_free(ch);
}

/* The README's cleanup: nothing known about the outcome yet. */
static void
test_dns_cleanup(void **state)
{
	struct challenge	*ch = dns_challenge();

	(void)state;
	assert_line(event_challenge(EVENT_CLEANUP, ch, NULL),
	    want_dns_cleanup);
	challenge_free(ch);
}

/* Unlike the seed, cleanup carries the CA's real outcome. */
static void
test_cleanup_outcome(void **state)
{
	struct challenge	*ch = dns_challenge();

	(void)state;
	ch->status = ACME_STATUS_VALID;
	ch->validated = xstrdup("2016-10-27T15:30:37Z");
	assert_line(event_challenge(EVENT_CLEANUP, ch, NULL),
	    "{\"cmd\": \"cleanup\", \"type\": \"dns-01\", \"status\": "
	    "\"valid\", \"domain\": \"" DNS_DOMAIN "\", \"token\": \""
	    DNS_TOKEN "\", \"validation\": \"" DNS_VALUE "\", \"key_auth\": "
	    "\"" DNS_TOKEN "." THUMB "\", \"validated\": "
	    "\"2016-10-27T15:30:37Z\", \"error\": null}");
	free(ch->validated);
	ch->status = ACME_STATUS_INVALID;
	ch->validated = NULL;
	ch->error = xstrdup("urn:ietf:params:acme:error:unauthorized: "
	    "Incorrect TXT record \"x\"");
	assert_line(event_challenge(EVENT_CLEANUP, ch, NULL),
	    "{\"cmd\": \"cleanup\", \"type\": \"dns-01\", \"status\": "
	    "\"invalid\", \"domain\": \"" DNS_DOMAIN "\", \"token\": \""
	    DNS_TOKEN "\", \"validation\": \"" DNS_VALUE "\", \"key_auth\": "
	    "\"" DNS_TOKEN "." THUMB "\", \"validated\": null, \"error\": "
	    "\"urn:ietf:params:acme:error:unauthorized: Incorrect TXT record "
	    "\\\"x\\\"\"}");
	challenge_free(ch);
}

/*
 * Same keys, order and values as the README; only "command" is ours (the
 * seed's needed python2).
 */
static void
test_http_perform(void **state)
{
	struct challenge	*ch = http_challenge();
	struct event		*ev;
	const char		*cmd_key = ", \"command\": ";
	const char		*after = ", \"key_auth\": ";
	const char		*gw, *gl, *tw, *tl;
	char			*line;
	json_t			*cmd;

	(void)state;
	ev = event_challenge(EVENT_PERFORM, ch, NULL);
	assert_non_null(ev);
	line = event_json_line(ev);
	assert_non_null(line);
	gw = strstr(want_http_perform, cmd_key);
	gl = strstr(line, cmd_key);
	assert_non_null(gw);
	assert_non_null(gl);
	assert_int_equal(gl - line, gw - want_http_perform);
	assert_memory_equal(line, want_http_perform,
	    (size_t)(gw - want_http_perform));
	tw = strstr(want_http_perform, after);
	tl = strstr(line, after);
	assert_non_null(tw);
	assert_non_null(tl);
	assert_string_equal(tl, tw);

	cmd = json_object_get(ev->rec, "command");
	assert_true(json_is_string(cmd));
	assert_non_null(strstr(json_string_value(cmd), HTTP_TOKEN "." THUMB));
	assert_non_null(strstr(json_string_value(cmd),
	    ".well-known/acme-challenge/" HTTP_TOKEN));
	assert_null(strstr(json_string_value(cmd), "python2"));
	free(line);
	event_free(ev);
	challenge_free(ch);
}

static void
test_http_cleanup(void **state)
{
	struct challenge	*ch = http_challenge();

	(void)state;
	assert_line(event_challenge(EVENT_CLEANUP, ch, NULL),
	    want_http_cleanup);
	challenge_free(ch);
}

/* "timestamp", not the seed code's "port"; unchanged_cert prints the same. */
static void
test_deploy(void **state)
{
	(void)state;
	assert_line(deploy_event(EVENT_DEPLOY_CERT, DNS_DOMAIN), want_deploy);
	assert_line(deploy_event(EVENT_UNCHANGED_CERT, DNS_DOMAIN),
	    want_deploy);
}

static void
test_installer_lines(void **state)
{
	json_t	*msgs, *msg, *lines;

	(void)state;
	assert_line(event_save(NULL, false), want_save_null);
	assert_line(event_save("Deployed ACME Certificate", false),
	    want_save_title);
	assert_line(event_phase(EVENT_RESTART), want_restart);

	lines = json_array();
	json_array_append_new(lines, json_string("Congratulations! Your "
	    "certificate and chain have been saved at " LIVE "fullchain.pem. "
	    "Your cert will expire on 2017-01-25. To obtain a new or tweaked "
	    "version of this certificate in the future, simply run certbot "
	    "again with the \"certonly\" option. To non-interactively renew "
	    "*all* of your certificates, run \"certbot renew\""));
	msg = json_object();
	json_object_set_new(msg, "priority", json_integer(1));
	json_object_set_new(msg, "on_crash", json_true());
	json_object_set_new(msg, "lines", lines);
	msgs = json_array();
	json_array_append_new(msgs, msg);
	assert_line(event_report(msgs), want_report);
	assert_line(event_report(NULL),
	    "{\"cmd\": \"report\", \"messages\": []}");
}

static void
test_cert_name_last(void **state)
{
	struct challenge	*ch = dns_challenge();
	char			 want[1024];

	(void)state;
	snprintf(want, sizeof want, "%.*s, \"cert_name\": \"lineage\"}",
	    (int)strlen(want_dns_perform) - 1, want_dns_perform);
	assert_line(event_challenge(EVENT_PERFORM, ch, "lineage"), want);
	challenge_free(ch);
}

/* Escapes as Python's json.dumps: lower-case hex, surrogate pairs, DEL. */
static void
test_non_ascii(void **state)
{
	struct event	*ev;
	json_t		*rec;

	(void)state;
	ev = event_save(NULL, false);
	assert_non_null(ev);
	rec = ev->rec;
	json_object_set_new(rec, "title", json_string("b\xc3\xbc"
	    "cher.example \xf0\x9f\x98\x80\x7f\x1f\n\\u"));
	assert_line(ev, "{\"cmd\": \"save\", \"title\": \"b\\u00fccher.example "
	    "\\ud83d\\ude00\\u007f\\u001f\\n\\\\u\", \"temporary\": false}");

	ev = deploy_event(EVENT_DEPLOY_CERT, "xn--bcher-kva.example");
	assert_non_null(ev);
	json_object_set_new(ev->rec, "domain",
	    json_string("b\xc3\xbc" "cher.example"));
	json_object_set_new(ev->rec, "cert_timestamp",
	    json_real(1700000000.1));
	assert_line(ev, "{\"cmd\": \"deploy_cert\", \"domain\": "
	    "\"b\\u00fccher.example\", \"cert_path\": \"" LIVE "cert.pem\", "
	    "\"key_path\": \"" LIVE "privkey.pem\", \"chain_path\": \"" LIVE
	    "chain.pem\", \"fullchain_path\": \"" LIVE "fullchain.pem\", "
	    "\"timestamp\": 1477582237, \"cert_timestamp\": 1700000000.1}");
}

/* Floats as Python's repr: shortest text that reads back the same. */
static void
test_float_repr(void **state)
{
	(void)state;
	static const struct {
		double		 v;
		const char	*text;
	} cases[] = {
		{ 1477582245.9930167, "1477582245.9930167" },
		{ 1700000000.1, "1700000000.1" },
		{ 1700000000.0, "1700000000.0" },
		{ 0.5, "0.5" },
	};
	struct event	*ev;
	char		 want[128];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ev = event_phase(EVENT_RESTART);
		assert_non_null(ev);
		json_object_set_new(ev->rec, "t", json_real(cases[i].v));
		snprintf(want, sizeof want, "{\"cmd\": \"restart\", \"t\": %s}",
		    cases[i].text);
		assert_line(ev, want);
	}
}

static size_t
count_prefix(char **env, const char *prefix)
{
	size_t	i, n = 0;

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static bool
has(char **env, const char *entry)
{
	size_t	i;

	for (i = 0; env[i] != NULL; i++)
		if (strcmp(env[i], entry) == 0)
			return true;
	return false;
}

static void
test_env(void **state)
{
	char *const		 base[] = { "PATH=/usr/bin:/bin",
	    "domain=inherited", "cbot_domain=inherited", "cbot_json=old",
	    "HOME=/root", NULL };
	struct challenge	*ch = dns_challenge();
	struct event		*ev;
	char			**env, want[1024];

	(void)state;
	ev = event_challenge(EVENT_PERFORM, ch, NULL);
	env = event_env(ev, base);
	assert_non_null(env);
	assert_true(has(env, "PATH=/usr/bin:/bin"));
	assert_true(has(env, "HOME=/root"));
	assert_true(has(env, "domain=" DNS_DOMAIN));
	assert_true(has(env, "cbot_domain=" DNS_DOMAIN));
	assert_int_equal(count_prefix(env, "domain="), 1);
	assert_int_equal(count_prefix(env, "cbot_domain="), 1);
	assert_true(has(env, "cmd=perform_challenge"));
	assert_true(has(env, "cbot_cmd=perform_challenge"));
	assert_true(has(env, "validation=" DNS_VALUE));
	assert_true(has(env, "txt_domain=_acme-challenge." DNS_DOMAIN));
	assert_true(has(env, "key_auth=" DNS_TOKEN "." THUMB));
	snprintf(want, sizeof want, "cbot_json=%s", want_dns_perform);
	assert_true(has(env, want));
	assert_int_equal(count_prefix(env, "cbot_json="), 1);
	event_strv_free(env);
	event_free(ev);
	challenge_free(ch);

	/* "command" stays out of the environment but not out of cbot_json. */
	ch = http_challenge();
	ev = event_challenge(EVENT_PERFORM, ch, NULL);
	env = event_env(ev, NULL);
	assert_non_null(env);
	assert_int_equal(count_prefix(env, "command="), 0);
	assert_int_equal(count_prefix(env, "cbot_command="), 0);
	assert_true(has(env, "uri=http://" DNS_DOMAIN
	    "/.well-known/acme-challenge/" HTTP_TOKEN));
	assert_int_equal(count_prefix(env, "cbot_json={\"cmd\": "
	    "\"perform_challenge\", \"type\": \"http-01\""), 1);
	event_strv_free(env);
	event_free(ev);
	challenge_free(ch);

	/* null is empty, booleans and numbers as in JSON. */
	ev = deploy_event(EVENT_DEPLOY_CERT, DNS_DOMAIN);
	env = event_env(ev, NULL);
	assert_true(has(env, "timestamp=1477582237"));
	assert_true(has(env, "cbot_cert_timestamp=1477582245.9930167"));
	assert_int_equal(count_prefix(env, "port="), 0);
	event_strv_free(env);
	event_free(ev);
	ev = event_save(NULL, false);
	env = event_env(ev, NULL);
	assert_true(has(env, "title="));
	assert_true(has(env, "temporary=false"));
	event_strv_free(env);
	event_free(ev);
}

/* Compares a NULL-terminated argv with want (NULL-terminated), frees it. */
static void
assert_argv(char **argv, const char *const *want)
{
	size_t	i;

	assert_non_null(argv);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	event_strv_free(argv);
}

static void
test_dehydrated_argv(void **state)
{
	struct challenge	*ch = dns_challenge();
	struct event		*ev;

	(void)state;
	ev = event_challenge(EVENT_PERFORM, ch, NULL);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "deploy_challenge", DNS_DOMAIN, DNS_TOKEN, DNS_VALUE, NULL });
	event_free(ev);
	ev = event_challenge(EVENT_CLEANUP, ch, NULL);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "clean_challenge", DNS_DOMAIN, DNS_TOKEN, DNS_VALUE, NULL });
	event_free(ev);
	ch->status = ACME_STATUS_INVALID;
	ch->error_json = xstrdup("{\"type\": \"urn:x\"}");
	ev = event_challenge(EVENT_INVALID_CHALLENGE, ch, NULL);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "invalid_challenge", DNS_DOMAIN, "{\"type\": \"urn:x\"}", NULL });
	event_free(ev);
	challenge_free(ch);

	/* Key before cert, fullchain before chain: dehydrated's order. */
	ev = deploy_event(EVENT_DEPLOY_CERT, DNS_DOMAIN);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "deploy_cert", DNS_DOMAIN, LIVE "privkey.pem", LIVE "cert.pem",
	    LIVE "fullchain.pem", LIVE "chain.pem", "1477582237", NULL });
	event_free(ev);
	ev = deploy_event(EVENT_UNCHANGED_CERT, DNS_DOMAIN);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "unchanged_cert", DNS_DOMAIN, LIVE "privkey.pem", LIVE "cert.pem",
	    LIVE "fullchain.pem", LIVE "chain.pem", NULL });
	event_free(ev);
	ev = event_sync("/k-1.pem", "/c-1.pem", "/f-1.pem", "/ch-1.pem",
	    "/r-1.csr");
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "sync_cert", "/k-1.pem", "/c-1.pem", "/f-1.pem", "/ch-1.pem",
	    "/r-1.csr", NULL });
	event_free(ev);
	ev = event_request_failure(503, "Service Unavailable", "POST",
	    "retry-after: 5");
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "request_failure", "503", "Service Unavailable", "POST",
	    "retry-after: 5", NULL });
	event_free(ev);
	ev = event_phase(EVENT_STARTUP);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "startup_hook", NULL });
	event_free(ev);
	ev = event_phase(EVENT_EXIT);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "exit_hook", NULL });
	json_object_set_new(ev->rec, "error", json_string("order failed"));
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "exit_hook", "order failed", NULL });
	event_free(ev);

	/* No such hook: phases and installer bookkeeping. */
	ev = event_phase(EVENT_PRE_PERFORM);
	assert_null(event_dehydrated_argv(ev, "/h"));
	event_free(ev);
	ev = event_save(NULL, false);
	assert_null(event_dehydrated_argv(ev, "/h"));
	event_free(ev);
}

/* The newer DNS types: dns-account-01 as dns-01 but its own record name,
 * also on the cleanup line; dns-persist-01 without token or key
 * authorization (null on the line, empty in the environment), cleanup
 * saying "persist": true, and no dehydrated challenge call at all. */
static void
test_newer_dns(void **state)
{
	struct challenge	*ch;
	struct event		*ev;
	char			**env;

	(void)state;
	ch = dns_challenge();
	ch->type = CHAL_DNSACCOUNT01;
	free(ch->txt_domain);
	ch->txt_domain = xstrdup("_ujmmovf2vn55tgye._acme-challenge."
	    DNS_DOMAIN);
	assert_line(event_challenge(EVENT_PERFORM, ch, NULL),
	    "{\"cmd\": \"perform_challenge\", \"type\": \"dns-account-01\", "
	    "\"domain\": \"" DNS_DOMAIN "\", \"token\": \"" DNS_TOKEN "\", "
	    "\"validation\": \"" DNS_VALUE "\", \"txt_domain\": "
	    "\"_ujmmovf2vn55tgye._acme-challenge." DNS_DOMAIN "\", "
	    "\"key_auth\": \"" DNS_TOKEN "." THUMB "\"}");
	ev = event_challenge(EVENT_CLEANUP, ch, NULL);
	assert_string_equal(json_string_value(json_object_get(ev->rec,
	    "txt_domain")), ch->txt_domain);
	assert_null(json_object_get(ev->rec, "persist"));
	event_free(ev);
	challenge_free(ch);

	ch = calloc(1, sizeof *ch);
	assert_non_null(ch);
	ch->type = CHAL_DNSPERSIST01;
	ch->domain = xstrdup(DNS_DOMAIN);
	ch->validation = xstrdup("ca.example; accounturi=https://ca/a/1");
	ch->txt_domain = xstrdup("_validation-persist." DNS_DOMAIN);
	assert_line(event_challenge(EVENT_PERFORM, ch, NULL),
	    "{\"cmd\": \"perform_challenge\", \"type\": \"dns-persist-01\", "
	    "\"domain\": \"" DNS_DOMAIN "\", \"token\": null, "
	    "\"validation\": \"ca.example; accounturi=https://ca/a/1\", "
	    "\"txt_domain\": \"_validation-persist." DNS_DOMAIN "\", "
	    "\"key_auth\": null}");
	ch->status = ACME_STATUS_VALID;
	assert_line(event_challenge(EVENT_CLEANUP, ch, NULL),
	    "{\"cmd\": \"cleanup\", \"type\": \"dns-persist-01\", "
	    "\"status\": \"valid\", \"domain\": \"" DNS_DOMAIN "\", "
	    "\"token\": null, \"validation\": \"ca.example; "
	    "accounturi=https://ca/a/1\", \"txt_domain\": "
	    "\"_validation-persist." DNS_DOMAIN "\", \"key_auth\": null, "
	    "\"validated\": null, \"error\": null, \"persist\": true}");
	ev = event_challenge(EVENT_CLEANUP, ch, NULL);
	env = event_env(ev, NULL);
	assert_non_null(env);
	assert_true(has(env, "token="));
	assert_true(has(env, "persist=true"));
	errno = ENOENT;
	assert_null(event_dehydrated_argv(ev, "/h"));
	assert_int_equal(errno, 0);
	event_strv_free(env);
	event_free(ev);
	ev = event_challenge(EVENT_PERFORM, ch, NULL);
	errno = ENOENT;
	assert_null(event_dehydrated_argv(ev, "/h"));
	assert_int_equal(errno, 0);
	event_free(ev);
	challenge_free(ch);

	assert_int_equal(chal_type_parse("dns-account"), CHAL_DNSACCOUNT01);
	assert_int_equal(chal_type_parse("dns-persist-01"), CHAL_DNSPERSIST01);
	assert_true(chal_type_is_dns(CHAL_DNSACCOUNT01));
	assert_true(chal_type_is_dns(CHAL_DNSPERSIST01));
	assert_false(chal_type_is_dns(CHAL_HTTP01));
	assert_false(chal_type_is_dns(CHAL_TLSALPN01));
}

static void
test_words(void **state)
{
	(void)state;
	assert_string_equal(event_word(EVENT_PERFORM), "perform");
	assert_string_equal(event_word(EVENT_PRE_CLEANUP), "pre-cleanup");
	assert_string_equal(event_word(EVENT_UNCHANGED_CERT), "unchanged_cert");
	assert_true(event_has_line(EVENT_PERFORM));
	assert_true(event_has_line(EVENT_SAVE));
	assert_false(event_has_line(EVENT_PRE_PERFORM));
	assert_false(event_has_line(EVENT_EXIT));
	/* -q keeps the lines to act on, drops the news. */
	assert_true(event_must_act(EVENT_PERFORM));
	assert_true(event_must_act(EVENT_CLEANUP));
	assert_true(event_must_act(EVENT_DEPLOY_CERT));
	assert_false(event_must_act(EVENT_REPORT));
	assert_int_equal(chal_type_parse("dns"), CHAL_DNS01);
	assert_int_equal(chal_type_parse("http-01"), CHAL_HTTP01);
	assert_int_equal(chal_type_parse("tls-sni-01"), -1);
}

/*
 * The seed's handler got exactly these commands; handler mode must call
 * it for them and for nothing else (an unknown word would abort a handler
 * written for the seed).  Pinned for every kind, so a new event row must
 * say what it means for handlers.
 */
static void
test_handler_called(void **state)
{
	static const bool	want[] = {
		[EVENT_STARTUP] = false,
		[EVENT_PRE_PERFORM] = true,
		[EVENT_PERFORM] = true,
		[EVENT_POST_PERFORM] = true,
		[EVENT_INVALID_CHALLENGE] = false,
		[EVENT_PRE_CLEANUP] = true,
		[EVENT_CLEANUP] = true,
		[EVENT_POST_CLEANUP] = true,
		[EVENT_SYNC_CERT] = false,
		[EVENT_DEPLOY_CERT] = true,
		[EVENT_UNCHANGED_CERT] = true,
		[EVENT_SAVE] = false,
		[EVENT_RESTART] = false,
		[EVENT_REQUEST_FAILURE] = false,
		[EVENT_REPORT] = false,
		[EVENT_EXIT] = false,
	};
	int			k;

	(void)state;
	assert_int_equal(sizeof want / sizeof want[0], EVENT__COUNT);
	for (k = 0; k < EVENT__COUNT; k++)
		if (event_handler_called((enum event_kind)k) != want[k])
			fail_msg("event %s: handler_called %d, want %d",
			    event_word((enum event_kind)k),
			    event_handler_called((enum event_kind)k), want[k]);
	assert_false(event_handler_called(EVENT__COUNT));
}

/* The perform record of tls-alpn-01 carries the files by the names of the
 * seed's old tls-sni-01 record; cleanup is the same as for every type, and
 * dehydrated gets DOMAIN TOKEN HEX-WITH-COLONS as from dehydrated. */
static void
test_alpn(void **state)
{
	struct challenge	*ch = alpn_challenge();
	struct event		*ev;
	char			**env;

	(void)state;
	assert_line(event_challenge(EVENT_PERFORM, ch, NULL),
	    "{\"cmd\": \"perform_challenge\", \"type\": \"tls-alpn-01\", "
	    "\"domain\": \"" DNS_DOMAIN "\", \"token\": \"" DNS_TOKEN "\", "
	    "\"validation\": \"" ALPN_VALUE "\", \"cert_path\": \"/w/alpn/"
	    DNS_DOMAIN ".crt.pem\", \"key_path\": \"/w/alpn/" DNS_DOMAIN
	    ".key.pem\", \"key_auth\": \"" DNS_TOKEN "." THUMB "\"}");
	assert_line(event_challenge(EVENT_CLEANUP, ch, NULL),
	    "{\"cmd\": \"cleanup\", \"type\": \"tls-alpn-01\", \"status\": "
	    "\"pending\", \"domain\": \"" DNS_DOMAIN "\", \"token\": \""
	    DNS_TOKEN "\", \"validation\": \"" ALPN_VALUE "\", \"key_auth\": "
	    "\"" DNS_TOKEN "." THUMB "\", \"validated\": null, \"error\": "
	    "null}");

	ev = event_challenge(EVENT_PERFORM, ch, NULL);
	assert_non_null(ev);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "deploy_challenge", DNS_DOMAIN, DNS_TOKEN, ALPN_VALUE, NULL });
	env = event_env(ev, NULL);
	assert_non_null(env);
	assert_true(has(env, "cert_path=/w/alpn/" DNS_DOMAIN ".crt.pem"));
	assert_true(has(env, "cbot_key_path=/w/alpn/" DNS_DOMAIN ".key.pem"));
	assert_true(has(env, "key_auth=" DNS_TOKEN "." THUMB));
	event_strv_free(env);
	event_free(ev);
	ev = event_challenge(EVENT_CLEANUP, ch, NULL);
	assert_argv(event_dehydrated_argv(ev, "/h"), (const char *[]){ "/h",
	    "clean_challenge", DNS_DOMAIN, DNS_TOKEN, ALPN_VALUE, NULL });
	event_free(ev);
	challenge_free(ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_perform),
		cmocka_unit_test(test_dns_cleanup),
		cmocka_unit_test(test_cleanup_outcome),
		cmocka_unit_test(test_http_perform),
		cmocka_unit_test(test_http_cleanup),
		cmocka_unit_test(test_deploy),
		cmocka_unit_test(test_installer_lines),
		cmocka_unit_test(test_cert_name_last),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_float_repr),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_dehydrated_argv),
		cmocka_unit_test(test_handler_called),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_newer_dns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
