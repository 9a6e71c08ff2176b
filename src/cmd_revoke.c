/*
 * cmd_revoke.c: the revoke and delete verbs, the two that end a lineage.
 * revoke asks the CA that issued a certificate (the server and account of
 * its renewal conf) to revoke it (RFC 8555 §7.6); delete removes the
 * lineage's files (conf, live/, archive/) under the config-dir lock.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "b64.h"
#include "cmd.h"
#include "conf.h"
#include "crypto.h"
#include "lineage.h"
#include "log.h"
#include "renewal.h"
#include "session.h"

/* cli.c's default server: a cfg->server equal to it was not given. */
#define REVOKE_DEFAULT_SERVER	"https://acme-v02.api.letsencrypt.org/directory"

/* certbot's --reason choices and their RFC 5280 CRLReason codes. */
enum revoke_reason {
	REASON_UNSPECIFIED,
	REASON_KEY_COMPROMISE,
	REASON_AFFILIATION_CHANGED,
	REASON_SUPERSEDED,
	REASON_CESSATION,
	REASON__COUNT
};

static const struct {
	const char	*name;
	int		 code;
} revoke_reasons[] = {
	[REASON_UNSPECIFIED] = { "unspecified", 0 },
	[REASON_KEY_COMPROMISE] = { "keycompromise", 1 },
	[REASON_AFFILIATION_CHANGED] = { "affiliationchanged", 3 },
	[REASON_SUPERSEDED] = { "superseded", 4 },
	[REASON_CESSATION] = { "cessationofoperation", 5 },
};
_Static_assert(sizeof(revoke_reasons) / sizeof(revoke_reasons[0]) ==
    REASON__COUNT, "revoke_reasons must name every reason");

/* The RFC 5280 code of a --reason (any case); -1 if unknown. */
static int
reason_code(const char *name)
{
	size_t	i;

	if (name == NULL)
		return revoke_reasons[REASON_UNSPECIFIED].code;
	for (i = 0; i < REASON__COUNT; i++)
		if (strcasecmp(name, revoke_reasons[i].name) == 0)
			return revoke_reasons[i].code;
	return -1;
}

/* certbot's name of an RFC 5280 code from revoke_reasons. */
static const char *
reason_name(int code)
{
	size_t	i;

	for (i = 0; i < REASON__COUNT; i++)
		if (revoke_reasons[i].code == code)
			return revoke_reasons[i].name;
	return revoke_reasons[REASON_UNSPECIFIED].name;
}

/* What to revoke and where: the certificate file, the lineage's server,
 * account and CA bundle (borrowed from conf or cfg). */
struct revoke_target {
	char			*name;		/* lineage, or NULL */
	char			*cert_path;
	struct lineage_params	 lp;		/* from its renewal conf */
	const char		*server;
	const char		*account;
	const char		*ca_bundle;
};

static void
target_clear(struct revoke_target *t)
{
	free(t->name);
	free(t->cert_path);
	lineage_params_clear(&t->lp);
	memset(t, 0, sizeof *t);
}

/* Finds the certificate and its lineage's conf. */
static enum err
target_find(const struct config *cfg, struct session *ss,
    struct revoke_target *t)
{
	struct store_paths	 live = { 0 };
	struct store_lineage	*ln = NULL;
	struct conf		 conf;
	char			*conf_path = NULL, why[160];
	const char		*conf_server, *bad;
	enum err		 e = ERR_INTERNAL;

	memset(&conf, 0, sizeof conf);
	if (cfg->cert_name != NULL) {
		if ((ln = store_lineage_open(&ss->store, cfg->cert_name,
		    &bad)) == NULL) {
			log_error("\"%s\" is not a valid certificate name "
			    "(%s)", cfg->cert_name, bad);
			e = ERR_USAGE;
			goto out;
		}
		store_lineage_paths(ln, &live);
		if (live.cert == NULL ||
		    (t->cert_path = strdup(live.cert)) == NULL)
			goto out;
	} else {
		if ((t->cert_path = strdup(cfg->cert_path)) == NULL)
			goto out;
		ln = store_lineage_of_path(&ss->store, cfg->cert_path);
	}
	if (ln != NULL && (t->name = strdup(store_lineage_name(ln))) == NULL)
		goto out;
	t->server = cfg->server;
	t->ca_bundle = cfg->ca_bundle;
	if (t->name == NULL) {
		log_info("%s is not in a lineage under %s: revoking with the "
		    "account for %s", t->cert_path, ss->store.config_dir,
		    t->server);
		e = ERR_OK;
		goto out;
	}
	if ((conf_path = store_lineage_conf_path(ln)) == NULL)
		goto out;
	if (access(conf_path, F_OK) == -1 && errno == ENOENT &&
	    cfg->cert_name != NULL) {
		log_error("no certificate named %s: %s does not exist",
		    t->name, conf_path);
		e = ERR_USAGE;
		goto out;
	}
	if ((e = conf_read(conf_path, &conf)) != ERR_OK)
		goto out;
	lineage_params_defaults(&t->lp);
	if (!renewal_read(&conf, &t->lp, why, sizeof why)) {
		log_error("%s: %s", t->name, why);
		e = ERR_STORAGE;
		goto out;
	}
	/* --server wins when given; the conf's account belongs to the
	 * conf's server, so it is used only there. */
	conf_server = t->lp.server;
	if (strcmp(cfg->server, REVOKE_DEFAULT_SERVER) == 0 &&
	    conf_server != NULL)
		t->server = conf_server;
	if (cfg->ca_bundle == NULL)
		t->ca_bundle = t->lp.ca_bundle;
	if (conf_server == NULL || strcmp(t->server, conf_server) == 0)
		t->account = t->lp.account;
	e = ERR_OK;
out:
	store_lineage_paths_clear(&live);
	store_lineage_close(ln);
	conf_clear(&conf);
	free(conf_path);
	return e;
}

/* POST revokeCert {certificate, reason} signed with the account key. */
static enum err
revoke_post(struct session *ss, const struct revoke_target *t, int reason)
{
	struct http_response	 resp = { 0 };
	struct acme_problem	 prob = { 0 };
	unsigned char		*der = NULL;
	json_t			*req = NULL;
	char			*pem = NULL, *b64 = NULL, *payload = NULL;
	size_t			 len, derlen;
	enum err		 e;

	if ((e = store_read_file(t->cert_path, &pem, &len, false)) != ERR_OK)
		goto out;
	e = ERR_USAGE;
	if ((der = crypto_cert_der(pem, len, &derlen)) == NULL) {
		log_error("%s is not a certificate", t->cert_path);
		goto out;
	}
	e = ERR_ACME;
	if (acme_url(ss->acme, ACME_URL_REVOKE_CERT) == NULL) {
		log_error("%s has no revokeCert in its directory", ss->server);
		goto out;
	}
	e = ERR_INTERNAL;
	if ((b64 = b64u_encode(der, derlen)) == NULL ||
	    (req = json_pack("{s:s, s:i}", "certificate", b64, "reason",
	    reason)) == NULL ||
	    (payload = json_dumps(req, JSON_COMPACT)) == NULL)
		goto out;
	if ((e = acme_post(ss->acme, "revokeCert",
	    acme_url(ss->acme, ACME_URL_REVOKE_CERT),
	    payload, false, NULL, &resp, &prob)) != ERR_OK) {
		log_error("cannot revoke %s: %s", t->cert_path,
		    prob.detail ? prob.detail : prob.type ? prob.type :
		    "the CA refused");
		goto out;
	}
out:
	http_response_clear(&resp);
	acme_problem_clear(&prob);
	json_decref(req);
	free(payload);
	free(b64);
	free(der);
	free(pem);
	return e;
}

enum err
cmd_revoke(const struct config *cfg)
{
	struct session		 ss;
	struct revoke_target	 t;
	struct solver		*s = NULL;
	json_t			*messages = json_array(), *res = NULL;
	int			 reason;
	enum err		 e = ERR_USAGE;

	memset(&ss, 0, sizeof ss);
	memset(&t, 0, sizeof t);
	if ((cfg->cert_name == NULL) == (cfg->cert_path == NULL)) {
		log_error("revoke needs exactly one of --cert-name NAME or "
		    "--cert-path FILE");
		goto out;
	}
	if (cfg->cert_name != NULL && !cmd_cert_name_ok(cfg->cert_name,
	    NULL))
		goto out;
	if ((reason = reason_code(cfg->reason)) == -1) {
		log_error("unknown --reason %s: use unspecified, "
		    "keycompromise, affiliationchanged, superseded or "
		    "cessationofoperation", cfg->reason);
		goto out;
	}
	if ((s = cmd_solver(cfg, cfg->mode, cfg->handler, cfg->hook_chain,
	    &e)) == NULL)
		goto out;
	if ((e = cmd_session_open(&ss, cfg)) != ERR_OK ||
	    (e = target_find(cfg, &ss, &t)) != ERR_OK)
		goto out;
	ss.ca_bundle = t.ca_bundle;
	if ((e = session_connect(&ss, t.server)) != ERR_OK ||
	    (e = session_account(&ss, t.account)) != ERR_OK ||
	    (e = revoke_post(&ss, &t, reason)) != ERR_OK)
		goto out;
	e = cmd_report(messages, 1, "Congratulations! You have successfully "
	    "revoked the certificate that was located at %s.", t.cert_path);
	if (e == ERR_OK && (res = json_pack("{s:s?, s:s, s:s, s:i, s:s}",
	    "cert_name", t.name, "cert_path", t.cert_path, "reason",
	    reason_name(reason), "reason_code", reason, "server",
	    ss.server)) == NULL)
		e = ERR_INTERNAL;
out:
	e = cmd_result(cfg, e, res);
	cmd_finish(s, e, messages);
	target_clear(&t);
	session_close(&ss);
	return e;
}

enum err
cmd_delete(const struct config *cfg)
{
	struct session		 ss;
	struct store_lineage	*ln = NULL;
	struct solver		*s = NULL;
	json_t			*messages = json_array(), *res = NULL;
	const char		*why;
	enum err		 e = ERR_USAGE;

	memset(&ss, 0, sizeof ss);
	if (cfg->cert_name == NULL) {
		log_error("delete needs --cert-name NAME");
		goto out;
	}
	if (!cmd_cert_name_ok(cfg->cert_name, NULL))
		goto out;
	if ((s = cmd_solver(cfg, cfg->mode, cfg->handler, cfg->hook_chain,
	    &e)) == NULL)
		goto out;
	if ((e = cmd_session_open(&ss, cfg)) != ERR_OK)
		goto out;
	if ((ln = store_lineage_open(&ss.store, cfg->cert_name,
	    &why)) == NULL) {
		log_error("certificate name %s: %s", cfg->cert_name, why);
		e = ERR_USAGE;
		goto out;
	}
	if (!store_lineage_exists(ln)) {
		log_error("no certificate named %s in %s", cfg->cert_name,
		    ss.store.config_dir);
		log_error("see the names with \"extauth certificates\"");
		e = ERR_USAGE;
		goto out;
	}
	if ((e = store_lineage_delete(ln)) != ERR_OK) {
		if (e == ERR_LOCKED) {
			log_error("certificate %s is being renewed by another "
			    "extauth run", cfg->cert_name);
			log_error("wait for it to finish, then run again");
		}
		goto out;
	}
	e = cmd_report(messages, 1, "Deleted all files relating to "
	    "certificate %s.", cfg->cert_name);
	if (e == ERR_OK && (res = json_pack("{s:s}", "cert_name",
	    cfg->cert_name)) == NULL)
		e = ERR_INTERNAL;
out:
	store_lineage_close(ln);
	e = cmd_result(cfg, e, res);
	cmd_finish(s, e, messages);
	session_close(&ss);
	return e;
}
