/*
 * event.h: the one source of truth for everything extauth tells the
 * outside.  Each event is one record (an ordered JSON object); the JSON
 * line, the handler environment and the dehydrated argv are all renderings
 * of that record.  No mode formats its own copy.
 */
#ifndef EXTAUTH_EVENT_H
#define EXTAUTH_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "acme_status.h"

enum chal_type {
	CHAL_DNS01,
	CHAL_HTTP01,
	CHAL_TLSALPN01,
	CHAL_DNSACCOUNT01,	/* draft-ietf-acme-dns-account-label */
	CHAL_DNSPERSIST01,	/* draft-ietf-acme-dns-persist */
	CHAL__COUNT
};
const char	*chal_type_name(enum chal_type);	/* "dns-01" ... */
/* Parses a type's name or its short form ("dns", "http", "tls-alpn",
 * "dns-account", "dns-persist"); -1 if unknown. */
int		 chal_type_parse(const char *);
/* Whether the type is proved by a TXT record (txt_domain, validation),
 * so --dns-wait and the DNS self-check apply, and a wildcard may use it. */
bool		 chal_type_is_dns(enum chal_type);

/* One challenge being solved; owned by the order (order.c). */
struct challenge {
	enum chal_type	 type;
	char		*domain;	/* identifier value; base name for a wildcard */
	bool		 wildcard;
	/* validated base64url; NULL for dns-persist-01, which has none */
	char		*token;
	char		*key_auth;	/* token "." thumbprint; NULL without token */
	/* dns-01, dns-account-01: b64u(sha256(key_auth)); http-01: key_auth;
	 * tls-alpn-01: sha256(key_auth) as hex pairs joined by ':'
	 * (dehydrated's); dns-persist-01: the whole TXT value (dnschal.c). */
	char		*validation;
	/* The TXT record's name: dns-01 "_acme-challenge." domain,
	 * dns-account-01 "_LABEL._acme-challenge." domain, dns-persist-01
	 * "_validation-persist." domain (dnschal.c). */
	char		*txt_domain;
	char		*uri;		/* http-01: http://domain/.well-known/acme-challenge/token */
	/* tls-alpn-01: the validation certificate and its key (PEM files),
	 * from before perform until after cleanup; NULL otherwise. */
	char		*cert_path;
	char		*key_path;
	char		*url;		/* challenge URL at the CA */
	char		*authz_url;
	/* After validation: the real outcome from the CA. */
	enum acme_status status;	/* NONE: not tried (renders "pending") */
	char		*validated;	/* RFC 3339 time from the CA, or NULL */
	char		*error;		/* "type: detail" of the CA's problem, or NULL */
	char		*error_json;	/* the problem document as JSON (dehydrated invalid_challenge) */
	bool		 performed;	/* the outside party was told to deploy it */
	bool		 propagated;	/* --dns-wait saw the record */
};
void	challenge_free(struct challenge *);

enum event_kind {
	EVENT_STARTUP,		/* once per run, before anything else */
	EVENT_PRE_PERFORM,
	EVENT_PERFORM,		/* JSON cmd "perform_challenge" */
	EVENT_POST_PERFORM,
	EVENT_INVALID_CHALLENGE,	/* the CA said invalid (dehydrated) */
	EVENT_PRE_CLEANUP,
	EVENT_CLEANUP,
	EVENT_POST_CLEANUP,
	EVENT_SYNC_CERT,	/* files written, before links flip (dehydrated) */
	EVENT_DEPLOY_CERT,
	EVENT_UNCHANGED_CERT,
	EVENT_SAVE,
	EVENT_RESTART,
	EVENT_REQUEST_FAILURE,	/* non-2xx from the CA (dehydrated) */
	EVENT_DEFERRED,		/* --defer: the pending order's id (pending.h) */
	EVENT_REPORT,
	EVENT_EXIT,		/* once per run, last (dehydrated exit_hook) */
	EVENT__COUNT
};

struct event {
	enum event_kind	 kind;
	json_t		*rec;	/* ordered fields; "cmd" first when it has a JSON line */
};

/* Handler command word ("perform", "pre-perform", "deploy_cert", ...). */
const char	*event_word(enum event_kind);
/* Whether this kind is printed as a JSON line in JSON/handler modes. */
bool		 event_has_line(enum event_kind);
/* Whether handler mode runs the handler for it (the seed's commands). */
bool		 event_handler_called(enum event_kind);
/* Whether an invoker must act on its line (deploy or remove something):
 * the lines JSON mode prints even under -q. */
bool		 event_must_act(enum event_kind);

/* Constructors: each returns a new event the caller frees with event_free.
 * cert_name, when non-NULL, is appended as key "cert_name" (renew). */
struct event	*event_challenge(enum event_kind, const struct challenge *,
		    const char *cert_name);
struct event	*event_phase(enum event_kind);	/* pre-/post-, startup, restart, exit */
struct event	*event_deploy(enum event_kind, const char *domain,
		    const char *cert_path, const char *key_path,
		    const char *chain_path, const char *fullchain_path,
		    time_t timestamp, double cert_timestamp, const char *cert_name);
struct event	*event_sync(const char *key_path, const char *cert_path,
		    const char *fullchain_path, const char *chain_path,
		    const char *request_path);
struct event	*event_save(const char *title, bool temporary);
struct event	*event_request_failure(long status, const char *reason,
		    const char *reqtype, const char *headers);
/* {"cmd": "deferred", "id", "expires" (RFC 3339, or null), "cert_name",
 * "resume": "extauth resume ID"}: phase 1 of --defer is over. */
struct event	*event_deferred(const char *id, const char *expires,
		    const char *cert_name);
/* messages: the report's array of {priority, on_crash, lines}; stolen. */
struct event	*event_report(json_t *messages);
void		 event_free(struct event *);

/*
 * Renderings.  Each returns new memory the caller frees.
 * event_json_line: "{...}" with ", " and ": " separators (as Python's
 *   json.dumps, which the seed used), non-ASCII escaped, no newline.
 * event_env: base (may be NULL) plus, for each record key except
 *   "command", KEY=value and cbot_KEY=value, and cbot_json=<line>; null
 *   becomes the empty string, booleans "true"/"false", numbers as in JSON.
 *   NULL-terminated; free with event_strv_free.
 * event_dehydrated_argv: dehydrated's hook argv for this event with prog
 *   as argv[0], or NULL when dehydrated has no such call.
 */
char		*event_json_line(const struct event *);
char		**event_env(const struct event *, char *const *base);
char		**event_dehydrated_argv(const struct event *, const char *prog);
void		 event_strv_free(char **);

#endif
