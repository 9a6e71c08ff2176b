/*
 * cmd_certonly.c: the certonly and run verbs: obtain (or keep) one
 * lineage; with run, then tell the installer side (deploy_cert per
 * domain, save, restart) as the seed's "DNS installer" example shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "lineage.h"
#include "log.h"
#include "session.h"

/* Installer events of run, for every domain of the lineage. */
static enum err
installer_events(const struct config *cfg, struct solver *s,
    const struct lineage_result *r, time_t started)
{
	struct stat	st;
	double		cert_ts = 0;
	enum err	e;
	size_t		i;

	if (stat(r->live.cert, &st) == 0)
		cert_ts = (double)st.st_mtim.tv_sec +
		    (double)st.st_mtim.tv_nsec / 1e9;
	for (i = 0; i < cfg->n_domains; i++) {
		e = solver_emit(s, event_deploy(r->renewed ?
		    EVENT_DEPLOY_CERT : EVENT_UNCHANGED_CERT, cfg->domains[i],
		    r->live.cert, r->live.privkey, r->live.chain,
		    r->live.fullchain, started, cert_ts, NULL));
		if (e != ERR_OK)
			return e;
		if ((e = solver_emit(s, event_save(NULL, false))) != ERR_OK)
			return e;
	}
	if ((e = solver_emit(s, event_save("Deployed ACME Certificate",
	    false))) != ERR_OK)
		return e;
	return solver_emit(s, event_phase(EVENT_RESTART));
}

/* certbot's --deploy-hook: RENEWED_LINEAGE and RENEWED_DOMAINS. */
static enum err
deploy_hook(const struct config *cfg, const char *live_dir)
{
	char	*lineage = NULL, *domains = NULL, *env[3];
	size_t	 len = 0, i;
	enum err e = ERR_INTERNAL;

	for (i = 0; i < cfg->n_domains; i++)
		len += strlen(cfg->domains[i]) + 1;
	if ((domains = calloc(1, len + sizeof "RENEWED_DOMAINS=")) == NULL)
		goto out;
	strcpy(domains, "RENEWED_DOMAINS=");
	for (i = 0; i < cfg->n_domains; i++) {
		if (i > 0)
			strcat(domains, " ");
		strcat(domains, cfg->domains[i]);
	}
	if (asprintf(&lineage, "RENEWED_LINEAGE=%s", live_dir) == -1) {
		lineage = NULL;
		goto out;
	}
	env[0] = lineage;
	env[1] = domains;
	env[2] = NULL;
	e = cmd_run_hook("deploy hook", cfg->deploy_hook, env,
	    cfg->handler_timeout_s);
out:
	free(lineage);
	free(domains);
	return e;
}

static bool
any_wildcard(const struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->n_domains; i++)
		if (strncmp(cfg->domains[i], "*.", 2) == 0)
			return true;
	return false;
}

enum err
cmd_certonly(const struct config *cfg)
{
	struct session		 ss;
	struct solver		*s = NULL;
	struct lineage_params	 p = { 0 };
	struct lineage_result	 r = { 0 };
	json_t			*messages = json_array();
	char			*live_dir = NULL, *text = NULL, date[32];
	const char		*name;
	time_t			 started = time(NULL);
	struct tm		 tm;
	enum err		 e;
	size_t			 i;
	bool			 dns = false;

	memset(&ss, 0, sizeof ss);
	if (cfg->n_domains == 0) {
		fprintf(stderr, "extauth: no domains given: use -d NAME "
		    "(repeatable)\n");
		json_decref(messages);
		return ERR_USAGE;
	}
	for (i = 0; i < cfg->n_prefs; i++)
		dns |= cfg->prefs[i] == CHAL_DNS01;
	if (any_wildcard(cfg) && !dns) {
		fprintf(stderr, "extauth: wildcard names need the dns-01 "
		    "challenge: add dns to --preferred-challenges\n");
		json_decref(messages);
		return ERR_USAGE;
	}
	name = cfg->cert_name;
	if (name == NULL)
		name = strncmp(cfg->domains[0], "*.", 2) == 0 ?
		    cfg->domains[0] + 2 : cfg->domains[0];

	if ((s = cmd_solver(cfg, cfg->mode, cfg->handler, cfg->hook_chain,
	    &e)) == NULL) {
		json_decref(messages);
		return e;
	}
	if ((e = solver_emit(s, event_phase(EVENT_STARTUP))) != ERR_OK)
		goto out;
	if ((e = session_open(&ss, cfg)) != ERR_OK ||
	    (e = session_connect(&ss, NULL)) != ERR_OK ||
	    (e = session_account(&ss, NULL)) != ERR_OK)
		goto out;

	p.name = name;
	p.domains = cfg->domains;
	p.n_domains = cfg->n_domains;
	p.prefs = cfg->prefs;
	p.n_prefs = cfg->n_prefs;
	p.key = cfg->key;
	p.force = cfg->force_renewal;
	p.expand = cfg->expand;
	p.replace = cfg->cert_name != NULL;
	p.dry_run = cfg->dry_run;
	p.mode = cfg->mode;
	p.handler = cfg->handler;
	p.hook_chain = cfg->hook_chain;
	p.deploy_hook = cfg->deploy_hook;
	if (cfg->pre_hook != NULL && (e = cmd_run_hook("pre hook",
	    cfg->pre_hook, NULL, cfg->handler_timeout_s)) != ERR_OK)
		goto out;
	e = lineage_obtain(&ss, s, &p, &r);
	if (cfg->post_hook != NULL && cmd_run_hook("post hook", cfg->post_hook,
	    NULL, cfg->handler_timeout_s) != ERR_OK && e == ERR_OK)
		e = ERR_INVOKER;
	if (e != ERR_OK)
		goto out;
	if (cfg->dry_run) {
		cmd_report_add(messages, 1, "The dry run was successful.");
		goto out;
	}
	if (cfg->verb == VERB_RUN && (e = installer_events(cfg, s, &r,
	    started)) != ERR_OK)
		goto out;
	if (asprintf(&live_dir, "%s/live/%s", ss.store.config_dir, name) ==
	    -1) {
		live_dir = NULL;
		e = ERR_INTERNAL;
		goto out;
	}
	if (r.renewed && cfg->deploy_hook != NULL &&
	    (e = deploy_hook(cfg, live_dir)) != ERR_OK)
		goto out;
	gmtime_r(&r.not_after, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	if (asprintf(&text, r.renewed ? "Congratulations! Your certificate "
	    "and chain have been saved at %s. Your cert will expire on %s. To "
	    "obtain a new or tweaked version of this certificate in the "
	    "future, simply run extauth again. To non-interactively renew "
	    "*all* of your certificates, run \"extauth renew\"" :
	    "Certificate not yet due for renewal; no action taken. It is "
	    "saved at %s and will expire on %s.", r.live.fullchain, date) ==
	    -1) {
		text = NULL;
		e = ERR_INTERNAL;
		goto out;
	}
	cmd_report_add(messages, 1, text);
	log_info("%s", text);
out:
	cmd_finish(s, e, messages);
	lineage_result_clear(&r);
	session_close(&ss);
	free(live_dir);
	free(text);
	return e;
}
