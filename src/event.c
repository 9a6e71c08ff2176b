/*
 * event.c: event records and their three renderings.  A record is an
 * ordered jansson object; the order of insertion is the order of the keys
 * on the JSON line, which must match the seed's (certbot-external-auth)
 * byte for byte so existing invokers keep working.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"

/* Every challenge type: its name at the CA, the short form
 * --preferred-challenges takes (certbot's "dns", "http"), and whether a
 * TXT record proves it. */
static const struct {
	const char	*name;
	const char	*alias;
	bool		 dns;
} chal_table[] = {
	[CHAL_DNS01] = { "dns-01", "dns", true },
	[CHAL_HTTP01] = { "http-01", "http", false },
	[CHAL_TLSALPN01] = { "tls-alpn-01", "tls-alpn", false },
	[CHAL_DNSACCOUNT01] = { "dns-account-01", "dns-account", true },
	[CHAL_DNSPERSIST01] = { "dns-persist-01", "dns-persist", true },
};
_Static_assert(sizeof(chal_table) / sizeof(chal_table[0]) == CHAL__COUNT,
    "chal_table must describe every challenge type");

/* dehydrated's argv for an event: the record keys after the command. */
static const char *const deh_perform[] = { "domain", "token", "validation",
    NULL };
static const char *const deh_invalid[] = { "domain", "response", NULL };
static const char *const deh_deploy[] = { "domain", "key_path", "cert_path",
    "fullchain_path", "chain_path", "timestamp", NULL };
static const char *const deh_unchanged[] = { "domain", "key_path",
    "cert_path", "fullchain_path", "chain_path", NULL };
static const char *const deh_sync[] = { "key_path", "cert_path",
    "fullchain_path", "chain_path", "request_path", NULL };
static const char *const deh_failure[] = { "status", "reason", "reqtype",
    "headers", NULL };
static const char *const deh_none[] = { NULL };

/*
 * Every per-event fact, in one row per kind, so that adding an event is
 * one line here and not a hunt through each mode:
 *   word      the handler's command word (argv[1] in handler mode)
 *   cmd       "cmd" of the record, on the JSON line
 *   line      printed as a JSON line (JSON, handler and dehydrated modes)
 *   handler   handler mode runs the handler for it (the seed's commands)
 *   act       the invoker must act on the line (JSON mode prints it under -q)
 *   deh_word  dehydrated's hook command; NULL: dehydrated has no such call
 *   deh_keys  the record keys that follow deh_word in dehydrated's argv
 */
static const struct {
	const char		*word;
	const char		*cmd;
	bool			 line;
	bool			 handler;
	bool			 act;
	const char		*deh_word;
	const char *const	*deh_keys;
} event_table[] = {
	[EVENT_STARTUP] = { "startup_hook", "startup_hook", false, false,
	    false, "startup_hook", deh_none },
	[EVENT_PRE_PERFORM] = { "pre-perform", "pre-perform", false, true,
	    false, NULL, NULL },
	[EVENT_PERFORM] = { "perform", "perform_challenge", true, true, true,
	    "deploy_challenge", deh_perform },
	[EVENT_POST_PERFORM] = { "post-perform", "post-perform", false, true,
	    false, NULL, NULL },
	[EVENT_INVALID_CHALLENGE] = { "invalid_challenge", "invalid_challenge",
	    false, false, false, "invalid_challenge", deh_invalid },
	[EVENT_PRE_CLEANUP] = { "pre-cleanup", "pre-cleanup", false, true,
	    false, NULL, NULL },
	[EVENT_CLEANUP] = { "cleanup", "cleanup", true, true, true,
	    "clean_challenge", deh_perform },
	[EVENT_POST_CLEANUP] = { "post-cleanup", "post-cleanup", false, true,
	    false, NULL, NULL },
	[EVENT_SYNC_CERT] = { "sync_cert", "sync_cert", false, false, false,
	    "sync_cert", deh_sync },
	/* The installer events of `run` ask the invoker to install, save
	 * and restart: acted on, like the challenges. */
	[EVENT_DEPLOY_CERT] = { "deploy_cert", "deploy_cert", true, true, true,
	    "deploy_cert", deh_deploy },
	/* The seed printed "deploy_cert" for both; only the word differed. */
	[EVENT_UNCHANGED_CERT] = { "unchanged_cert", "deploy_cert", true, true,
	    true, "unchanged_cert", deh_unchanged },
	[EVENT_SAVE] = { "save", "save", true, false, true, NULL, NULL },
	[EVENT_RESTART] = { "restart", "restart", true, false, true, NULL,
	    NULL },
	[EVENT_REQUEST_FAILURE] = { "request_failure", "request_failure",
	    false, false, false, "request_failure", deh_failure },
	/* The invoker must keep the id to resume: printed under -q too. */
	[EVENT_DEFERRED] = { "deferred", "deferred", true, false, true, NULL,
	    NULL },
	/* Only news: -q drops it. */
	[EVENT_REPORT] = { "report", "report", true, false, false, NULL, NULL },
	/* exit_hook's argument is the error text, and only on failure. */
	[EVENT_EXIT] = { "exit_hook", "exit_hook", false, false, false,
	    "exit_hook", deh_none },
};
_Static_assert(sizeof(event_table) / sizeof(event_table[0]) == EVENT__COUNT,
    "event_table must describe every event kind");

const char *
chal_type_name(enum chal_type t)
{
	if ((unsigned)t >= CHAL__COUNT)
		return "unknown";
	return chal_table[t].name;
}

int
chal_type_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < CHAL__COUNT; i++)
		if (strcmp(s, chal_table[i].name) == 0 ||
		    strcmp(s, chal_table[i].alias) == 0)
			return (int)i;
	return -1;
}

bool
chal_type_is_dns(enum chal_type t)
{
	return (unsigned)t < CHAL__COUNT && chal_table[t].dns;
}

void
challenge_free(struct challenge *ch)
{
	if (ch == NULL)
		return;
	free(ch->domain);
	free(ch->token);
	free(ch->key_auth);
	free(ch->validation);
	free(ch->txt_domain);
	free(ch->uri);
	free(ch->cert_path);
	free(ch->key_path);
	free(ch->url);
	free(ch->authz_url);
	free(ch->validated);
	free(ch->error);
	free(ch->error_json);
	free(ch);
}

const char *
event_word(enum event_kind k)
{
	if ((unsigned)k >= EVENT__COUNT)
		return "unknown";
	return event_table[k].word;
}

bool
event_has_line(enum event_kind k)
{
	return (unsigned)k < EVENT__COUNT && event_table[k].line;
}

bool
event_handler_called(enum event_kind k)
{
	return (unsigned)k < EVENT__COUNT && event_table[k].handler;
}

bool
event_must_act(enum event_kind k)
{
	return (unsigned)k < EVENT__COUNT && event_table[k].act;
}

/* json_string that maps NULL to JSON null; new reference. */
static json_t *
str_or_null(const char *s)
{
	return s == NULL ? json_null() : json_string(s);
}

/* Caller frees with event_free; the record holds only "cmd". */
static struct event *
event_new(enum event_kind k)
{
	struct event	*ev;

	if ((ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	ev->kind = k;
	if ((ev->rec = json_object()) == NULL ||
	    json_object_set_new(ev->rec, "cmd",
	    json_string(event_table[k].cmd)) == -1) {
		event_free(ev);
		return NULL;
	}
	return ev;
}

static void
tag_cert_name(struct event *ev, const char *cert_name)
{
	if (cert_name != NULL)
		json_object_set_new(ev->rec, "cert_name",
		    json_string(cert_name));
}

/*
 * The shell snippet of an http-01 perform line: the seed's idea (write the
 * file, serve the directory) for systems that have python3 but no python2.
 * Token and key authorization are base64url (checked in order.c), and are
 * single-quoted anyway.  Caller frees.
 */
static char *
http01_command(const struct challenge *ch)
{
	char	*s = NULL;

	if (asprintf(&s,
	    "mkdir -p /tmp/extauth/public_html/.well-known/acme-challenge\n"
	    "cd /tmp/extauth/public_html\n"
	    "printf '%%s' '%s' > '.well-known/acme-challenge/%s'\n"
	    "# run only once per server:\n"
	    "python3 -m http.server 80 --bind 0.0.0.0",
	    ch->key_auth, ch->token) == -1)
		return NULL;
	return s;
}

struct event *
event_challenge(enum event_kind k, const struct challenge *ch,
    const char *cert_name)
{
	struct event	*ev;
	json_t		*r;
	char		*cmd;

	if ((ev = event_new(k)) == NULL)
		return NULL;
	r = ev->rec;
	json_object_set_new(r, "type", json_string(chal_type_name(ch->type)));
	if (k == EVENT_CLEANUP)
		json_object_set_new(r, "status",
		    json_string(ch->status != ACME_STATUS_NONE ?
		    acme_status_name(ch->status) : "pending"));
	json_object_set_new(r, "domain", json_string(ch->domain));
	/* dns-persist-01 has no token: null, so that invokers reading the
	 * seed's keys find every key. */
	json_object_set_new(r, "token", str_or_null(ch->token));
	json_object_set_new(r, "validation", json_string(ch->validation));
	/* The seed's dns-01 cleanup line has no txt_domain (invokers derive
	 * _acme-challenge.DOMAIN); the newer types' names cannot be derived
	 * from the domain alone, so their cleanup lines carry it. */
	if (k == EVENT_CLEANUP && chal_type_is_dns(ch->type) &&
	    ch->type != CHAL_DNS01)
		json_object_set_new(r, "txt_domain",
		    json_string(ch->txt_domain));
	if (k == EVENT_PERFORM) {
		if (chal_type_is_dns(ch->type))
			json_object_set_new(r, "txt_domain",
			    json_string(ch->txt_domain));
		else if (ch->type == CHAL_HTTP01) {
			json_object_set_new(r, "uri", json_string(ch->uri));
			if ((cmd = http01_command(ch)) == NULL)
				goto fail;
			json_object_set_new(r, "command", json_string(cmd));
			free(cmd);
		} else if (ch->type == CHAL_TLSALPN01) {
			/* The names of the seed's old tls-sni-01 record. */
			json_object_set_new(r, "cert_path",
			    str_or_null(ch->cert_path));
			json_object_set_new(r, "key_path",
			    str_or_null(ch->key_path));
		}
	}
	json_object_set_new(r, "key_auth", str_or_null(ch->key_auth));
	if (k == EVENT_CLEANUP) {
		json_object_set_new(r, "validated", str_or_null(ch->validated));
		json_object_set_new(r, "error", str_or_null(ch->error));
		/* The persistent record is meant to stay: remove nothing. */
		if (ch->type == CHAL_DNSPERSIST01)
			json_object_set_new(r, "persist", json_true());
	}
	if (k == EVENT_INVALID_CHALLENGE) {
		json_object_set_new(r, "status",
		    str_or_null(acme_status_name(ch->status)));
		json_object_set_new(r, "error", str_or_null(ch->error));
		json_object_set_new(r, "response",
		    str_or_null(ch->error_json));
	}
	tag_cert_name(ev, cert_name);
	return ev;
fail:
	event_free(ev);
	return NULL;
}

struct event *
event_phase(enum event_kind k)
{
	return event_new(k);
}

struct event *
event_deploy(enum event_kind k, const char *domain, const char *cert_path,
    const char *key_path, const char *chain_path, const char *fullchain_path,
    time_t timestamp, double cert_timestamp, const char *cert_name)
{
	struct event	*ev;
	json_t		*r;

	if ((ev = event_new(k)) == NULL)
		return NULL;
	r = ev->rec;
	json_object_set_new(r, "domain", json_string(domain));
	json_object_set_new(r, "cert_path", json_string(cert_path));
	json_object_set_new(r, "key_path", json_string(key_path));
	json_object_set_new(r, "chain_path", json_string(chain_path));
	json_object_set_new(r, "fullchain_path", json_string(fullchain_path));
	/* The seed's code wrote this under "port" (its bug); the README and
	 * dehydrated call it a timestamp. */
	json_object_set_new(r, "timestamp", json_integer((json_int_t)timestamp));
	json_object_set_new(r, "cert_timestamp", json_real(cert_timestamp));
	tag_cert_name(ev, cert_name);
	return ev;
}

struct event *
event_sync(const char *key_path, const char *cert_path,
    const char *fullchain_path, const char *chain_path,
    const char *request_path)
{
	struct event	*ev;

	if ((ev = event_new(EVENT_SYNC_CERT)) == NULL)
		return NULL;
	json_object_set_new(ev->rec, "key_path", json_string(key_path));
	json_object_set_new(ev->rec, "cert_path", json_string(cert_path));
	json_object_set_new(ev->rec, "fullchain_path",
	    json_string(fullchain_path));
	json_object_set_new(ev->rec, "chain_path", json_string(chain_path));
	json_object_set_new(ev->rec, "request_path", str_or_null(request_path));
	return ev;
}

struct event *
event_save(const char *title, bool temporary)
{
	struct event	*ev;

	if ((ev = event_new(EVENT_SAVE)) == NULL)
		return NULL;
	json_object_set_new(ev->rec, "title", str_or_null(title));
	json_object_set_new(ev->rec, "temporary", json_boolean(temporary));
	return ev;
}

struct event *
event_request_failure(long status, const char *reason, const char *reqtype,
    const char *headers)
{
	struct event	*ev;

	if ((ev = event_new(EVENT_REQUEST_FAILURE)) == NULL)
		return NULL;
	json_object_set_new(ev->rec, "status", json_integer(status));
	json_object_set_new(ev->rec, "reason", str_or_null(reason));
	json_object_set_new(ev->rec, "reqtype", str_or_null(reqtype));
	json_object_set_new(ev->rec, "headers", str_or_null(headers));
	return ev;
}

struct event *
event_deferred(const char *id, const char *expires, const char *cert_name)
{
	struct event	*ev;
	char		*resume;

	if (asprintf(&resume, "extauth resume %s", id) == -1)
		return NULL;
	if ((ev = event_new(EVENT_DEFERRED)) != NULL) {
		json_object_set_new(ev->rec, "id", json_string(id));
		json_object_set_new(ev->rec, "expires", str_or_null(expires));
		json_object_set_new(ev->rec, "cert_name", str_or_null(
		    cert_name));
		json_object_set_new(ev->rec, "resume", json_string(resume));
	}
	free(resume);
	return ev;
}

struct event *
event_report(json_t *messages)
{
	struct event	*ev;

	if ((ev = event_new(EVENT_REPORT)) == NULL) {
		json_decref(messages);
		return NULL;
	}
	json_object_set_new(ev->rec, "messages",
	    messages ? messages : json_array());
	return ev;
}

void
event_free(struct event *ev)
{
	if (ev == NULL)
		return;
	json_decref(ev->rec);
	free(ev);
}

/*
 * Python prints a float with the fewest digits that read back as the same
 * double (repr), and without an exponent below 1e16; jansson prints "%.Ng".
 * The N that gives Python's text for every real at the top of the record
 * (cert_timestamp is the only one) is the largest over them of the
 * shortest round-trip precision, raised to the number of integer digits
 * so that %g does not switch to an exponent.  Exact for 1e-4 <= |x| < 1e16
 * (every timestamp); beyond, only the exponent's spelling differs.
 */
static int
real_precision(json_t *rec)
{
	const char	*key;
	json_t		*v;
	char		 buf[40];
	double		 d, a;
	int		 p, digits, max = 1;

	json_object_foreach(rec, key, v) {
		if (!json_is_real(v))
			continue;
		d = json_real_value(v);
		for (p = 1; p < 17; p++) {
			snprintf(buf, sizeof buf, "%.*g", p, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		a = d < 0 ? -d : d;
		for (digits = 1; a >= 10 && digits < 17; digits++)
			a /= 10;
		if (digits > p && a < 10)
			p = digits;
		if (p > max)
			max = p;
	}
	return max;
}

/*
 * jansson escapes as \u00FC and leaves DEL raw; Python's json.dumps (the
 * seed's) writes \u00fc and \u007f.  Rewrites s (freed) into the seed's
 * form; new memory the caller frees, or NULL.
 */
static char *
python_escapes(char *s)
{
	char	*out, *p;
	size_t	 i, j, len = strlen(s), ndel = 0;

	for (i = 0; i < len; i++)
		if (s[i] == 0x7f)
			ndel++;
	if ((out = malloc(len + 5 * ndel + 1)) == NULL)
		goto out;
	for (i = 0, p = out; i < len; i++) {
		if (s[i] == 0x7f) {
			memcpy(p, "\\u007f", 6);
			p += 6;
		} else if (s[i] == '\\' && s[i + 1] == 'u' && i + 5 < len) {
			/* Escapes come whole: \\ is skipped as one. */
			*p++ = s[i++];
			*p++ = s[i];
			for (j = 0; j < 4; j++, i++)
				*p++ = (char)tolower((unsigned char)s[i + 1]);
		} else if (s[i] == '\\' && i + 1 < len) {
			*p++ = s[i++];
			*p++ = s[i];
		} else
			*p++ = s[i];
	}
	*p = '\0';
out:
	free(s);
	return out;
}

char *
event_json_line(const struct event *ev)
{
	char	*s;

	/* No JSON_COMPACT: separators ", " and ": " as Python's json.dumps. */
	s = json_dumps(ev->rec, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
	    JSON_REAL_PRECISION(real_precision(ev->rec)));
	return s != NULL ? python_escapes(s) : NULL;
}

/* Text of a record value for the environment or argv; caller frees. */
static char *
value_text(json_t *v)
{
	char	*s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_NULL:
		return strdup("");
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_OBJECT:
	case JSON_ARRAY:
	case JSON_INTEGER:
	case JSON_REAL:
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
		    JSON_REAL_PRECISION(17));
		break;
	}
	return s;
}

void
event_strv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Whether "NAME=..." names a key of the record (we override it). */
static bool
env_shadowed(json_t *rec, const char *entry)
{
	const char	*eq = strchr(entry, '=');
	char		 name[128];
	size_t		 len;

	if (eq == NULL || (len = (size_t)(eq - entry)) >= sizeof name)
		return false;
	memcpy(name, entry, len);
	name[len] = '\0';
	if (strcmp(name, "cbot_json") == 0)
		return true;
	if (strncmp(name, "cbot_", 5) == 0)
		return json_object_get(rec, name + 5) != NULL;
	return json_object_get(rec, name) != NULL;
}

char **
event_env(const struct event *ev, char *const *base)
{
	char		**env = NULL, *text = NULL, *line = NULL;
	const char	 *key;
	json_t		 *v;
	size_t		  nbase = 0, n = 0, cap, i;

	while (base != NULL && base[nbase] != NULL)
		nbase++;
	cap = nbase + 2 * json_object_size(ev->rec) + 2;
	if ((env = calloc(cap, sizeof *env)) == NULL)
		goto fail;
	for (i = 0; i < nbase; i++) {
		if (env_shadowed(ev->rec, base[i]))
			continue;
		if ((env[n++] = strdup(base[i])) == NULL)
			goto fail;
	}
	json_object_foreach(ev->rec, key, v) {
		if (strcmp(key, "command") == 0)
			continue;
		if ((text = value_text(v)) == NULL)
			goto fail;
		if (asprintf(&env[n++], "%s=%s", key, text) == -1 ||
		    asprintf(&env[n++], "cbot_%s=%s", key, text) == -1) {
			env[--n] = NULL;
			goto fail;
		}
		free(text);
		text = NULL;
	}
	if ((line = event_json_line(ev)) == NULL ||
	    asprintf(&env[n++], "cbot_json=%s", line) == -1) {
		if (n > 0)
			env[--n] = NULL;
		goto fail;
	}
	free(line);
	return env;
fail:
	free(text);
	free(line);
	event_strv_free(env);
	log_error("out of memory building the handler environment");
	return NULL;
}

char **
event_dehydrated_argv(const struct event *ev, const char *prog)
{
	const char *const	*keys;
	const char		*word;
	char			**argv = NULL;
	json_t			*v;
	size_t			 n = 0, i;

	if ((unsigned)ev->kind >= EVENT__COUNT ||
	    (word = event_table[ev->kind].deh_word) == NULL) {
		errno = 0;
		return NULL;
	}
	/* dehydrated publishes nothing for dns-persist-01 (its own support
	 * skips deploy and clean for it): the record is set once, by the
	 * user, and stays.  Its hooks get no challenge call for it. */
	if ((ev->kind == EVENT_PERFORM || ev->kind == EVENT_CLEANUP) &&
	    (v = json_object_get(ev->rec, "type")) != NULL &&
	    json_is_string(v) && strcmp(json_string_value(v),
	    chal_type_name(CHAL_DNSPERSIST01)) == 0) {
		errno = 0;
		return NULL;
	}
	keys = event_table[ev->kind].deh_keys;
	while (keys[n] != NULL)
		n++;
	if ((argv = calloc(n + 4, sizeof *argv)) == NULL)
		goto fail;
	if ((argv[0] = strdup(prog)) == NULL ||
	    (argv[1] = strdup(word)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		v = json_object_get(ev->rec, keys[i]);
		if ((argv[2 + i] = value_text(v ? v : json_null())) == NULL)
			goto fail;
	}
	/* exit_hook takes the error text only when the run failed. */
	if (ev->kind == EVENT_EXIT &&
	    (v = json_object_get(ev->rec, "error")) != NULL &&
	    json_is_string(v) && (argv[2] = value_text(v)) == NULL)
		goto fail;
	return argv;
fail:
	event_strv_free(argv);
	log_error("out of memory building hook arguments");
	return NULL;
}
