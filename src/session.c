/*
 * session.c: config dir, transport and account set-up shared by the
 * commands.  Accounts live in certbot's layout and format (private JWK,
 * regr.json with the account URL), so certbot's own accounts work too.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "http_mux.h"
#include "jws.h"
#include "keychange.h"
#include "log.h"
#include "session.h"

enum err
session_open(struct session *ss, const struct session_opts *opts)
{
	enum err	e;

	memset(ss, 0, sizeof *ss);
	ss->opts = *opts;
	ss->server = opts->server;
	if ((e = store_open(&ss->store, opts->config_dir, opts->work_dir,
	    opts->logs_dir)) != ERR_OK)
		return e;
	ss->store_open = true;
	log_open_file(opts->logs_dir);
	if (opts->multiplex) {
		if ((ss->mux = http_mux_new()) == NULL)
			return ERR_INTERNAL;
		ss->mux_owned = true;
	}
	return store_lock(&ss->store);
}

const char *
session_ca_bundle(const struct session *ss)
{
	return ss->ca_bundle ? ss->ca_bundle : ss->opts.ca_bundle;
}

void
session_set_failure_cb(struct session *ss, acme_failure_cb cb, void *arg)
{
	ss->on_failure = cb;
	ss->on_failure_arg = arg;
	if (ss->acme != NULL)
		acme_set_failure_cb(ss->acme, cb, arg);
}

void
session_set_ratelimit(struct session *ss, struct ratelimit *rl)
{
	ss->ratelimit = rl;
	if (ss->acme != NULL)
		acme_set_ratelimit(ss->acme, rl);
}

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

enum err
session_connect(struct session *ss, const char *server)
{
	struct http_opts	o = { 0 };
	enum err		e;

	const char		*bundle;

	if (server != NULL)
		ss->server = server;
	bundle = session_ca_bundle(ss);
	/* A transport trusts one bundle: another bundle, another transport. */
	if (ss->http != NULL && !same_str(bundle, ss->http_bundle)) {
		acme_free(ss->acme);
		ss->acme = NULL;
		http_free(ss->http);
		ss->http = NULL;
	}
	if (ss->http != NULL && ss->acme != NULL &&
	    strcmp(acme_url(ss->acme, ACME_URL_DIRECTORY), ss->server) == 0)
		return ERR_OK;
	if (ss->http == NULL) {
		o.ca_bundle = bundle;
		o.mux = ss->mux;
		if ((ss->http = http_new(&o)) == NULL)
			return ERR_USAGE;
		free(ss->http_bundle);
		ss->http_bundle = bundle ? strdup(bundle) : NULL;
	}
	acme_free(ss->acme);
	ss->acme = NULL;
	if ((e = acme_new(ss->http, ss->server, &ss->acme)) != ERR_OK)
		return e;
	acme_set_failure_cb(ss->acme, ss->on_failure, ss->on_failure_arg);
	acme_set_ratelimit(ss->acme, ss->ratelimit);
	acme_allow_cross_origin(ss->acme, ss->opts.allow_cross_origin);
	return ERR_OK;
}

/*
 * Registers the account of key at the CA and stores regr.json.  With key
 * NULL a new key is made and saved first (0400, synced), before the CA is
 * asked: a run killed after newAccount then still has the key, and the
 * next run completes the account with it (RFC 8555 §7.3.1: newAccount with
 * a key the CA knows answers 200 with that account).  Completing a
 * half-made account without --agree-tos only looks the account up
 * (onlyReturnExisting): agreeing to terms is the user's act.
 */
static enum err
register_account(struct session *ss, EVP_PKEY *key, const char *id)
{
	const struct session_opts *o = &ss->opts;
	struct acme_account_req	 req = { 0 };
	struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0, "secp256r1" };
	json_t			*jwk = NULL, *regr = NULL, *body = NULL;
	char			*jwk_s = NULL, *regr_s = NULL;
	const char		*tos;
	enum err		 e = ERR_USAGE;
	bool			 resume = key != NULL;

	tos = json_string_value(acme_meta(ss->acme, "termsOfService"));
	/* Two lines: what is missing, then what to do.  A half-made account
	 * (resume) was agreed to when its key was saved. */
	if (!o->agree_tos && !resume) {
		log_error("registering an account with %s needs your agreement "
		    "to its terms of service (%s)", ss->server, tos ? tos :
		    "none published");
		log_error("read them, then run again with --agree-tos");
		goto out;
	}
	if (o->email == NULL && !o->register_unsafely && !resume) {
		log_error("registering an account needs a contact address");
		log_error("run again with --email ADDRESS, or with "
		    "--register-unsafely-without-email to have none");
		goto out;
	}
	e = ERR_INTERNAL;
	if (resume) {
		ss->account_key = key;
		if ((ss->account_id = strdup(id)) == NULL)
			goto out;
	} else {
		if ((ss->account_key = crypto_key_generate(&spec)) == NULL ||
		    (ss->account_id = crypto_certbot_account_id(
		    ss->account_key)) == NULL ||
		    (jwk = jws_jwk_private(ss->account_key)) == NULL ||
		    (jwk_s = json_dumps(jwk, JSON_COMPACT)) == NULL)
			goto out;
		if ((e = store_account_save_key(&ss->store, ss->server,
		    ss->account_id, jwk_s)) != ERR_OK)
			goto out;
	}
	req.only_existing = resume && !o->agree_tos;
	req.email = o->email;
	req.agree_tos = o->agree_tos;
	req.eab_kid = o->eab_kid;
	req.eab_hmac = o->eab_hmac;
	if ((e = acme_account(ss->acme, ss->account_key, &req, &body)) !=
	    ERR_OK) {
		/* A registration that failed without a crash leaves
		 * nothing: the CA refused it, or its answer never came
		 * (then an account it may have made holds nothing yet). */
		if (!resume)
			(void)store_account_drop(&ss->store, ss->server,
			    ss->account_id);
		if (resume && req.only_existing) {
			log_error("account %s was left half-saved by an "
			    "earlier run and could not be looked up",
			    ss->account_id);
			log_error("if the CA does not know its key, run again "
			    "with --agree-tos to register it");
		}
		goto out;
	}
	e = ERR_INTERNAL;
	regr = json_pack("{s:O, s:s}", "body", body ? body : json_object(),
	    "uri", acme_kid(ss->acme));
	if (regr == NULL || (regr_s = json_dumps(regr, JSON_COMPACT)) == NULL)
		goto out;
	if ((e = store_account_save(&ss->store, ss->server, ss->account_id,
	    NULL, regr_s)) != ERR_OK)
		goto out;
	if (resume)
		log_info("completed account %s left half-saved by an earlier "
		    "run: %s", ss->account_id, acme_kid(ss->acme));
	else
		log_info("registered account %s", acme_kid(ss->acme));
out:
	json_decref(jwk);
	json_decref(regr);
	json_decref(body);
	free(jwk_s);
	free(regr_s);
	return e;
}

enum err
session_account(struct session *ss, const char *account_id)
{
	struct store_account	 acct = { 0 };
	EVP_PKEY		*key = NULL;
	json_t			*jwk = NULL;
	json_error_t		 jerr;
	enum err		 e;
	int			 dirlock = -1;

	EVP_PKEY_free(ss->account_key);
	ss->account_key = NULL;
	free(ss->account_id);
	ss->account_id = NULL;
	/* None yet, or half made: looked at again and made under the
	 * config-dir lock, so that runs starting together register one
	 * account, not one each. */
	for (;;) {
		if ((e = store_account_load(&ss->store, ss->server,
		    account_id, &acct)) != ERR_OK)
			goto out;
		if ((acct.id != NULL && acct.regr != NULL) || dirlock != -1)
			break;
		store_account_clear(&acct);
		if ((e = store_dir_lock(&ss->store, true, &dirlock)) != ERR_OK)
			goto out;
	}
	if (acct.id == NULL) {
		e = register_account(ss, NULL, NULL);
		goto out;
	}
	e = ERR_STORAGE;
	if ((jwk = json_loads(acct.key_jwk, 0, &jerr)) == NULL ||
	    (key = jws_key_from_jwk(jwk)) == NULL) {
		log_error("account %s/private_key.json is not a usable key",
		    acct.dir);
		goto out;
	}
	if (acct.regr == NULL) {
		/* Half-made: the key was saved, regr.json was not. */
		log_warn("account %s has a key but no regr.json (an earlier "
		    "run was interrupted); registering its key again",
		    acct.id);
		e = register_account(ss, key, acct.id);
		key = NULL;	/* ss owns it now */
		goto out;
	}
	ss->account_key = key;
	key = NULL;
	if ((ss->account_id = strdup(acct.id)) == NULL) {
		e = ERR_INTERNAL;
		goto out;
	}
	/* store_account_load gives a uri with every regr.json. */
	e = acme_set_account(ss->acme, ss->account_key, acct.uri);
	/* A key rollover an earlier run did not finish (keychange.h). */
	if (e == ERR_OK && acct.rollover_jwk != NULL)
		e = keychange_settle(ss, acct.rollover_jwk);
out:
	store_dir_unlock(&dirlock);
	EVP_PKEY_free(key);
	json_decref(jwk);
	store_account_clear(&acct);
	return e;
}

void
session_share(struct session *child, const struct session *parent)
{
	memset(child, 0, sizeof *child);
	child->opts = parent->opts;
	child->server = parent->server;
	child->ca_bundle = parent->ca_bundle;
	/* One run, one set of pauses for all its workers. */
	child->ratelimit = parent->ratelimit;
	child->mux = parent->mux;
	child->mux_owned = false;
	/* Borrowed: the parent holds the lock and closes the store. */
	child->store = parent->store;
	child->store_open = false;
}

void
session_close(struct session *ss)
{
	/* What a run cost the CA: the benchmarks read it with -v. */
	if (ss->acme != NULL)
		log_debug("%ld requests to %s over %ld connection%s (%s%s)",
		    acme_requests(ss->acme), acme_url(ss->acme,
		    ACME_URL_DIRECTORY),
		    http_connections(ss->http),
		    http_connections(ss->http) == 1 ? "" : "s",
		    http_version(ss->http), ss->mux != NULL ? ", shared" : "");
	acme_free(ss->acme);
	http_free(ss->http);
	/* After the transport; the children are closed already. */
	if (ss->mux_owned)
		http_mux_free(ss->mux);
	free(ss->http_bundle);
	EVP_PKEY_free(ss->account_key);
	free(ss->account_id);
	if (ss->store_open)
		store_close(&ss->store);
	memset(ss, 0, sizeof *ss);
}
