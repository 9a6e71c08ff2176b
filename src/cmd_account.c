/*
 * cmd_account.c: the account verbs certbot has: register, unregister
 * (RFC 8555 §7.3.6 deactivation at the CA, then the local copy goes) and
 * show_account, which also prints the CAA record that ties a domain to
 * this account and to the validation methods extauth uses (RFC 8657), and
 * update_account: a new contact (RFC 8555 §7.3.2) or a new key
 * (keychange.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "keychange.h"
#include "log.h"
#include "profile.h"
#include "session.h"

/*
 * The solver (for the report line), the locked config dir and the CA's
 * directory; *existing tells whether this server already has an account
 * on disk, which must be so when need is set (ERR_USAGE, logged).  The
 * account itself is not loaded yet.
 */
static enum err
account_start(const struct config *cfg, struct solver **s,
    struct session *ss, bool need, bool *existing)
{
	struct store_account	acct = { 0 };
	enum err		e;

	if ((*s = cmd_solver(cfg, cfg->mode, cfg->handler, cfg->hook_chain,
	    &e)) == NULL)
		return e;
	if ((e = cmd_session_open(ss, cfg)) != ERR_OK ||
	    (e = session_connect(ss, NULL)) != ERR_OK)
		return e;
	if ((e = store_account_load(&ss->store, ss->server, NULL, &acct)) ==
	    ERR_OK)
		*existing = acct.id != NULL;
	store_account_clear(&acct);
	if (e == ERR_OK && need && !*existing) {
		log_error("there is no account for %s in %s", ss->server,
		    cfg->config_dir);
		e = ERR_USAGE;
	}
	return e;
}

enum err
cmd_register(const struct config *cfg)
{
	struct session	 ss;
	struct solver	*s = NULL;
	json_t		*messages = json_array();
	enum err	 e;
	bool		 existing = false;

	memset(&ss, 0, sizeof ss);
	if ((e = account_start(cfg, &s, &ss, false, &existing)) != ERR_OK ||
	    (e = session_account(&ss, NULL)) != ERR_OK)
		goto out;
	e = existing ? cmd_report(messages, 1, "There is an existing account "
	    "for %s: %s", ss.server, acme_kid(ss.acme)) : cmd_report(messages,
	    1, "Account registered with %s: %s", ss.server, acme_kid(ss.acme));
out:
	cmd_finish(s, e, messages);
	session_close(&ss);
	return e;
}

enum err
cmd_unregister(const struct config *cfg)
{
	struct session		 ss;
	struct store_account	 acct = { 0 };
	struct http_response	 resp = { 0 };
	struct solver		*s = NULL;
	json_t			*messages = json_array();
	enum err		 e;
	bool			 existing = false;

	memset(&ss, 0, sizeof ss);
	if ((e = account_start(cfg, &s, &ss, true, &existing)) != ERR_OK)
		goto out;
	if (!cfg->non_interactive) {
		/* Irrevocable, and stdin may be the protocol: no prompt. */
		log_error("deactivating the account for %s cannot be undone; "
		    "confirm with -n/--non-interactive", ss.server);
		e = ERR_USAGE;
		goto out;
	}
	if ((e = session_account(&ss, NULL)) != ERR_OK ||
	    (e = acme_post(ss.acme, "deactivate account", acme_kid(ss.acme),
	    "{\"status\":\"deactivated\"}", false, "application/json", &resp,
	    NULL)) != ERR_OK)
		goto out;
	/* Deactivated at the CA: the key is of no use any more, as certbot
	 * sees it too. */
	if ((e = store_account_load(&ss.store, ss.server, ss.account_id,
	    &acct)) != ERR_OK ||
	    (e = store_account_delete(&ss.store, &acct)) != ERR_OK)
		goto out;
	e = cmd_report(messages, 1, "Account deactivated: %s",
	    acme_kid(ss.acme));
out:
	http_response_clear(&resp);
	store_account_clear(&acct);
	cmd_finish(s, e, messages);
	session_close(&ss);
	return e;
}

/* The RFC 8657 CAA record's value (without "0 issue") for issuer and
 * this account, appended to records. */
static enum err
caa_record(json_t *records, const char *issuer, const char *kid)
{
	char	*text = NULL;
	enum err e = ERR_INTERNAL;

	if (asprintf(&text, "%s; accounturi=%s; validationmethods=dns-01,"
	    "http-01", issuer, kid) != -1 &&
	    json_array_append_new(records, json_string(text)) == 0)
		e = ERR_OK;
	free(text);
	return e;
}

enum err
cmd_show_account(const struct config *cfg)
{
	struct session	 ss;
	struct solver	*s = NULL;
	json_t		*messages = json_array(), *acct = NULL, *v, *caa;
	json_t		*res = NULL, *contacts, *records, *profiles;
	const char	*status, *pname;
	char		 qname[PROFILE_NAME_MAX * 4 + 8], qdesc[LOG_QUOTE_MAX];
	size_t		 i;
	enum err	 e;
	bool		 existing = false;

	memset(&ss, 0, sizeof ss);
	if ((e = account_start(cfg, &s, &ss, true, &existing)) != ERR_OK)
		goto out;
	if ((e = session_account(&ss, NULL)) != ERR_OK ||
	    (e = acme_get_json(ss.acme, "account", acme_kid(ss.acme), &acct,
	    NULL)) != ERR_OK)
		goto out;
	status = json_string_value(json_object_get(acct, "status"));
	/* --json: the same facts as the report, as keys. */
	e = ERR_INTERNAL;
	if ((res = json_pack("{s:s, s:s, s:s?, s:[], s:[], s:{}}", "server",
	    ss.server, "account_url", acme_kid(ss.acme), "status", status,
	    "contact", "caa_records", "profiles")) == NULL)
		goto out;
	contacts = json_object_get(res, "contact");
	records = json_object_get(res, "caa_records");
	profiles = json_object_get(res, "profiles");
	if ((e = cmd_report(messages, 1, "Account details for server %s: "
	    "account URL %s, status %s", ss.server, acme_kid(ss.acme),
	    status ? status : "unknown")) != ERR_OK)
		goto out;
	json_array_foreach(json_object_get(acct, "contact"), i, v)
		if (json_is_string(v) && ((e = cmd_report(messages, 1,
		    "Contact: %s", json_string_value(v))) != ERR_OK ||
		    (e = json_array_append(contacts, v) == -1 ? ERR_INTERNAL :
		    ERR_OK) != ERR_OK))
			goto out;
	/* RFC 8657: only this account, only these methods, may get
	 * certificates for a name that publishes this record. */
	caa = acme_meta(ss.acme, "caaIdentities");
	json_array_foreach(caa, i, v)
		if (json_is_string(v) && ((e = cmd_report(messages, 2,
		    "CAA record binding a name to this account: CAA 0 issue "
		    "\"%s; accounturi=%s; validationmethods=dns-01,http-01\"",
		    json_string_value(v), acme_kid(ss.acme))) != ERR_OK ||
		    (e = caa_record(records, json_string_value(v),
		    acme_kid(ss.acme))) != ERR_OK))
			goto out;
	/* draft-ietf-acme-profiles: what --preferred-profile and
	 * --required-profile may name.  The CA's words stay inside
	 * the one line (log_quote). */
	json_object_foreach(acme_meta(ss.acme, "profiles"), pname, v)
		if ((e = cmd_report(messages, 1, "Profile offered: %s: %s",
		    log_quote(pname, qname, sizeof qname), log_quote(
		    json_is_string(v) ? json_string_value(v) : "", qdesc,
		    sizeof qdesc))) != ERR_OK ||
		    (e = json_object_set_new(profiles, pname,
		    json_string(json_is_string(v) ? json_string_value(v) :
		    "")) == -1 ? ERR_INTERNAL : ERR_OK) != ERR_OK)
			goto out;
out:
	json_decref(acct);
	e = cmd_result(cfg, e, res);
	cmd_finish(s, e, messages);
	session_close(&ss);
	return e;
}

/* The new contact at the CA, then in regr.json (the CA's account object,
 * as register keeps it). */
static enum err
update_contact(struct session *ss, const char *email)
{
	json_t		*p = NULL, *c, *body = NULL, *regr = NULL;
	char		*payload = NULL, *regr_s = NULL;
	enum err	 e = ERR_INTERNAL;

	if ((c = acme_contacts(email)) == NULL ||
	    (p = json_pack("{s:o}", "contact", c)) == NULL ||
	    (payload = json_dumps(p, JSON_COMPACT)) == NULL)
		goto out;
	if ((e = acme_post_json(ss->acme, "account update", acme_kid(ss->acme),
	    payload, &body, NULL)) != ERR_OK)
		goto out;
	e = ERR_INTERNAL;
	if ((regr = json_pack("{s:O, s:s}", "body", body, "uri",
	    acme_kid(ss->acme))) == NULL ||
	    (regr_s = json_dumps(regr, JSON_COMPACT)) == NULL)
		goto out;
	e = store_account_save(&ss->store, ss->server, ss->account_id, NULL,
	    regr_s);
out:
	json_decref(p);
	json_decref(body);
	json_decref(regr);
	free(payload);
	free(regr_s);
	return e;
}

enum err
cmd_update_account(const struct config *cfg)
{
	struct session	 ss;
	struct solver	*s = NULL;
	json_t		*messages = json_array();
	enum err	 e;
	bool		 existing = false;

	memset(&ss, 0, sizeof ss);
	if ((e = account_start(cfg, &s, &ss, true, &existing)) != ERR_OK ||
	    (e = session_account(&ss, NULL)) != ERR_OK)
		goto out;
	if (cfg->email != NULL || cfg->register_unsafely) {
		if ((e = update_contact(&ss, cfg->email)) != ERR_OK)
			goto out;
		/* certbot's words. */
		e = cfg->email != NULL ? cmd_report(messages, 1, "Your e-mail "
		    "address was updated to %s.", cfg->email) :
		    cmd_report(messages, 1, "The account %s has no contact "
		    "address any more.", acme_kid(ss.acme));
		if (e != ERR_OK)
			goto out;
	}
	if (cfg->key_rollover) {
		if ((e = keychange_roll(&ss)) != ERR_OK)
			goto out;
		e = cmd_report(messages, 1, "The key of account %s was "
		    "replaced; the old key no longer works.",
		    acme_kid(ss.acme));
	}
out:
	cmd_finish(s, e, messages);
	session_close(&ss);
	return e;
}
