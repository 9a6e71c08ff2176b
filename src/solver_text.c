/*
 * solver_text.c: manual mode.  Owns the human instructions on o.out_fd
 * (what to deploy, what to remove afterwards, where the certificate is),
 * the optional look at whether a challenge is already visible, and the
 * "Press ENTER to continue" wait on o.in_fd.  No JSON lines: solver.c
 * leaves them out in this mode.
 *
 * The seed told dns-01 users to put the record under the bare domain (its
 * issue #11); the name here is always the full _acme-challenge name, with
 * the trailing dot so zone editors do not append their origin.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "selfcheck.h"
#include "solver_priv.h"

#define TEXT_WHY_MAX	256	/* self-check reason */

struct text_state {
	char	*last_cert;	/* cert_path last shown */
};

static enum err
text_init(struct solver *s)
{
	if ((s->priv = calloc(1, sizeof(struct text_state))) == NULL) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

static void
text_fini(struct solver *s)
{
	struct text_state	*st = s->priv;

	if (st != NULL)
		free(st->last_cert);
	free(st);
	s->priv = NULL;
}

static enum err	text_printf(struct solver *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static enum err
text_printf(struct solver *s, const char *fmt, ...)
{
	va_list		 ap;
	char		*text = NULL;
	enum err	 e = ERR_INTERNAL;
	int		 r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r == -1) {
		log_error("out of memory");
		text = NULL;
		goto out;
	}
	e = solver_write_text(s, text);
out:
	free(text);
	return e;
}

/* A string field of the event's record, "" when absent. */
static const char *
field(const struct event *ev, const char *key)
{
	const char	*v = json_string_value(json_object_get(ev->rec, key));

	return v != NULL ? v : "";
}

static bool
is_type(const struct event *ev, enum chal_type t)
{
	return strcmp(field(ev, "type"), chal_type_name(t)) == 0;
}

/* Whether the event's challenge is proved by a TXT record. */
static bool
is_dns(const struct event *ev)
{
	int	t = chal_type_parse(field(ev, "type"));

	return t != -1 && chal_type_is_dns((enum chal_type)t);
}

/* "." when name lacks the trailing dot of an absolute name. */
static const char *
dot(const char *name)
{
	size_t	len = strlen(name);

	return len > 0 && name[len - 1] == '.' ? "" : ".";
}

/*
 * Says whether the challenge can already be seen from here.  Advice only:
 * the user may know better (split horizon, a CDN), so it never blocks.
 */
static enum err
text_selfcheck(struct solver *s, const struct event *ev)
{
	char		why[TEXT_WHY_MAX] = "";
	const char	*what;
	bool		ok;

	if (is_dns(ev)) {
		what = "record";
		ok = selfcheck_dns_txt(s->o.dns_resolver, field(ev, "txt_domain"),
		    field(ev, "validation"), why, sizeof why);
	} else if (is_type(ev, CHAL_HTTP01)) {
		what = "file";
		ok = selfcheck_http(field(ev, "uri"), field(ev, "key_auth"),
		    why, sizeof why);
	} else
		return ERR_OK;
	if (ok)
		return text_printf(s, "The %s is already visible.\n", what);
	return text_printf(s, "Self-verify of challenge failed: NOT visible "
	    "yet (%s). You may want to wait before continuing.\n", why);
}

static enum err
text_perform(struct solver *s, const struct event *ev)
{
	const char	*domain = field(ev, "domain"), *txt;
	char		*line = NULL;
	enum err	 e;

	if (is_type(ev, CHAL_DNSPERSIST01)) {
		txt = field(ev, "txt_domain");
		e = text_printf(s, "Please deploy a DNS TXT record under the "
		    "name\n%s%s\nwith the following value:\n\n%s\n\n"
		    "This record is meant to stay: leave it in place after "
		    "this run, and\nlater orders of this account for %s "
		    "reuse it (dns-persist-01).\n\n", txt, dot(txt),
		    field(ev, "validation"), domain);
	} else if (is_dns(ev)) {
		txt = field(ev, "txt_domain");
		e = text_printf(s, "Please deploy a DNS TXT record under the "
		    "name\n%s%s\nwith the following value:\n\n%s\n\n", txt,
		    dot(txt), field(ev, "validation"));
	} else if (is_type(ev, CHAL_HTTP01))
		e = text_printf(s, "Make sure your web server displays the "
		    "following content at\n%s\nbefore continuing:\n\n%s\n\n"
		    "If you don't have HTTP server configured, you can run "
		    "the following\ncommands on the target server (as "
		    "root):\n\n%s\n\n", field(ev, "uri"),
		    field(ev, "key_auth"), field(ev, "command"));
	else if (is_type(ev, CHAL_TLSALPN01))
		e = text_printf(s, "Make sure the TLS server on port 443 of "
		    "%s answers a handshake\nwith SNI %s and ALPN protocol "
		    "acme-tls/1 with this certificate and key:\n\n"
		    "  certificate: %s\n  private key: %s\n\n(its "
		    "acmeIdentifier extension holds the SHA-256 of the key "
		    "authorization,\n%s)\n\n", domain, domain,
		    field(ev, "cert_path"), field(ev, "key_path"),
		    field(ev, "validation"));
	else
		e = text_printf(s, "Please deploy a %s challenge for %s with "
		    "the key authorization\n%s\n\n", field(ev, "type"), domain,
		    field(ev, "key_auth"));
	if (e != ERR_OK)
		goto out;
	if (s->o.self_check && (e = text_selfcheck(s, ev)) != ERR_OK)
		goto out;
	if ((e = text_printf(s, "Press ENTER to continue\n")) != ERR_OK)
		goto out;
	/* A person: no time limit, only a signal ends the wait. */
	switch (solver_read_line(s, 0, &line)) {
	case SOLVER_READ_LINE:
	case SOLVER_READ_NUL:	/* ENTER is all that is asked for */
		e = ERR_OK;
		break;
	case SOLVER_READ_EOF:
		log_error("challenge for %s: end of input before ENTER was "
		    "pressed; aborting, nothing is saved", domain);
		e = ERR_INVOKER;
		break;
	case SOLVER_READ_SIGNAL:
		e = ERR_SIGNAL;
		break;
	case SOLVER_READ_TIMEOUT:
	case SOLVER_READ_ERROR:
		e = ERR_INVOKER;
		break;
	}
out:
	free(line);
	return e;
}

static enum err
text_cleanup(struct solver *s, const struct event *ev)
{
	const char	*domain = field(ev, "domain"), *txt;

	if (is_type(ev, CHAL_DNSPERSIST01)) {
		txt = field(ev, "txt_domain");
		return text_printf(s, "Keep the TXT record %s%s: it is "
		    "persistent (dns-persist-01), do not remove it\n", txt,
		    dot(txt));
	}
	if (is_dns(ev) && !is_type(ev, CHAL_DNS01)) {
		txt = field(ev, "txt_domain");
		return text_printf(s, "You can now remove the TXT record "
		    "%s%s with value %s\n", txt, dot(txt),
		    field(ev, "validation"));
	}
	if (is_type(ev, CHAL_DNS01))
		return text_printf(s, "You can now remove the TXT record "
		    "_acme-challenge.%s%s with value %s\n", domain, dot(domain),
		    field(ev, "validation"));
	if (is_type(ev, CHAL_HTTP01))
		return text_printf(s, "You can now remove the file "
		    "http://%s/.well-known/acme-challenge/%s\n", domain,
		    field(ev, "token"));
	if (is_type(ev, CHAL_TLSALPN01))
		return text_printf(s, "You can now stop serving the acme-tls/1 "
		    "certificate for %s; extauth deletes its files\n", domain);
	return text_printf(s, "You can now remove the %s challenge for %s\n",
	    field(ev, "type"), domain);
}

/* Once per certificate, though the events come once per domain. */
static enum err
text_deploy(struct solver *s, const struct event *ev)
{
	struct text_state	*st = s->priv;
	const char		*cert = field(ev, "cert_path");
	char			*copy;

	if (st->last_cert != NULL && strcmp(st->last_cert, cert) == 0)
		return ERR_OK;
	if ((copy = strdup(cert)) != NULL) {
		free(st->last_cert);
		st->last_cert = copy;
	}
	return text_printf(s, "%s certificate for %s:\n"
	    "  certificate: %s\n  private key: %s\n  chain:       %s\n"
	    "  full chain:  %s\n", ev->kind == EVENT_DEPLOY_CERT ? "New" :
	    "Unchanged", field(ev, "domain"), cert, field(ev, "key_path"),
	    field(ev, "chain_path"), field(ev, "fullchain_path"));
}

/* What a person is told, per event; NULL: nothing (the rest are for
 * programs). */
static enum err (*const text_events[])(struct solver *,
    const struct event *) = {
	[EVENT_STARTUP] = NULL,
	[EVENT_PRE_PERFORM] = NULL,
	[EVENT_PERFORM] = text_perform,
	[EVENT_POST_PERFORM] = NULL,
	[EVENT_INVALID_CHALLENGE] = NULL,
	[EVENT_PRE_CLEANUP] = NULL,
	[EVENT_CLEANUP] = text_cleanup,
	[EVENT_POST_CLEANUP] = NULL,
	[EVENT_SYNC_CERT] = NULL,
	[EVENT_DEPLOY_CERT] = text_deploy,
	[EVENT_UNCHANGED_CERT] = text_deploy,
	[EVENT_SAVE] = NULL,
	[EVENT_RESTART] = NULL,
	[EVENT_REQUEST_FAILURE] = NULL,
	[EVENT_DEFERRED] = NULL,	/* --defer refuses text mode */
	[EVENT_REPORT] = NULL,
	[EVENT_EXIT] = NULL,
};
_Static_assert(sizeof(text_events) / sizeof(text_events[0]) == EVENT__COUNT,
    "text_events must cover every event kind");

static enum err
text_deliver(struct solver *s, const struct event *ev)
{
	if ((unsigned)ev->kind >= EVENT__COUNT ||
	    text_events[ev->kind] == NULL)
		return ERR_OK;
	return text_events[ev->kind](s, ev);
}

const struct solver_ops solver_text_ops = {
	.init = text_init,
	.deliver = text_deliver,
	.fini = text_fini,
};
