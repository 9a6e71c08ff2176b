/*
 * cmd_certonly.c: the certonly and run verbs: obtain (or keep) one
 * lineage; with run, then tell the installer side (deploy_cert per
 * domain, save, restart) as the seed's "DNS installer" example shows.
 * certonly --csr is cmd_csr.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cmd.h"
#include "crypto.h"
#include "lineage.h"
#include "log.h"
#include "order.h"
#include "session.h"
#include "store.h"

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

enum err
cmd_certonly_report(json_t *messages, const struct lineage_result *r)
{
	char		date[32];
	struct tm	tm;

	gmtime_r(&r->not_after, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	return r->renewed ? cmd_report(messages, 1, "Congratulations! Your "
	    "certificate and chain have been saved at %s. Your cert will expire "
	    "on %s. To obtain a new or tweaked version of this certificate in "
	    "the future, simply run extauth again. To non-interactively renew "
	    "*all* of your certificates, run \"extauth renew\"",
	    r->live.fullchain, date) : cmd_report(messages, 1, "Certificate not "
	    "yet due for renewal; no action taken. It is saved at %s and will "
	    "expire on %s.", r->live.fullchain, date);
}

enum err
cmd_certonly_params(const struct config *cfg, const char *name,
    struct lineage_params *p)
{
	const char *const	 src[] = { name, cfg->handler, cfg->dns_resolver,
				    cfg->deploy_hook, cfg->socket_path,
				    cfg->preferred_profile,
				    cfg->required_profile,
				    cfg->preferred_chain };
	char			**dst[] = { &p->name, &p->handler,
				    &p->dns_resolver, &p->deploy_hook,
				    &p->socket, &p->preferred_profile,
				    &p->required_profile,
				    &p->preferred_chain };
	size_t			 i;

	lineage_params_defaults(p);
	for (i = 0; i < sizeof src / sizeof src[0]; i++)
		if (src[i] != NULL && (*dst[i] = strdup(src[i])) == NULL)
			goto oom;
	if (!lineage_params_set_domains(p, cfg->domains, cfg->n_domains))
		goto oom;
	memcpy(p->prefs, cfg->prefs, cfg->n_prefs * sizeof cfg->prefs[0]);
	p->n_prefs = cfg->n_prefs;
	p->key = cfg->key;
	p->force = cfg->force_renewal;
	p->expand = cfg->expand;
	p->replace = cfg->cert_name != NULL;
	p->dry_run = cfg->dry_run;
	p->mode = cfg->mode;
	p->hook_chain = cfg->hook_chain;
	p->dns_wait_s = cfg->dns_wait_s;
	p->deactivate_authz = cfg->deactivate_authz;
	p->reuse_key = cfg->reuse_key;
	p->new_key = cfg->new_key;
	return ERR_OK;
oom:
	log_error("out of memory");
	return ERR_INTERNAL;
}

enum err
cmd_certonly(const struct config *cfg)
{
	struct session		 ss;
	struct solver		*s = NULL;
	struct lineage_params	 p = { 0 };
	struct lineage_result	 r = { 0 };
	json_t			*messages = json_array();
	const char		*name;
	time_t			 started = time(NULL);
	enum err		 e;
	bool			 deferred = false;

	if (cfg->resume_id != NULL) {
		json_decref(messages);
		return cmd_resume(cfg);
	}
	if (cfg->csr != NULL && cfg->batch == NULL) {
		json_decref(messages);
		return cmd_certonly_csr(cfg);
	}
	if (cfg->batch != NULL) {
		json_decref(messages);
		return batch_certonly(cfg);
	}
	if (cfg->chain_path != NULL || cfg->fullchain_path != NULL ||
	    cfg->cert_path != NULL)
		log_warn("--cert-path, --chain-path and --fullchain-path are "
		    "for --csr; the certificate goes to the lineage");
	memset(&ss, 0, sizeof ss);
	if (cfg->n_domains == 0) {
		fprintf(stderr, "extauth: no domains given: use -d NAME "
		    "(repeatable)\n");
		json_decref(messages);
		return ERR_USAGE;
	}
	if (!cmd_wildcard_ok(cfg, cfg->domains, cfg->n_domains) ||
	    !cmd_ip_ok(cfg, cfg->domains, cfg->n_domains)) {
		json_decref(messages);
		return ERR_USAGE;
	}
	/* An IP first name names the lineage as it is: ':' is fine in a
	 * file name (store_name_problem refuses only '/', a leading '.'
	 * and non-printables), and certbot does the same. */
	name = cfg->cert_name;
	if (name == NULL)
		name = strncmp(cfg->domains[0], "*.", 2) == 0 ?
		    cfg->domains[0] + 2 : cfg->domains[0];
	if (!cmd_cert_name_ok(name, cfg->cert_name ? NULL : cfg->domains[0])) {
		json_decref(messages);
		return ERR_USAGE;
	}

	if ((e = cmd_start(cfg, &s, &ss)) != ERR_OK)
		goto out;

	if ((e = cmd_certonly_params(cfg, name, &p)) != ERR_OK)
		goto out;
	if (cfg->pre_hook != NULL && (e = cmd_run_hook("pre hook",
	    cfg->pre_hook, NULL, cfg->handler_timeout_s)) != ERR_OK)
		goto out;
	if (cfg->defer)
		e = cmd_defer(&ss, s, &p, false, messages, &deferred);
	else
		e = lineage_obtain(&ss, s, &p, &r);
	if (e == ERR_OK && cfg->defer)
		goto out;
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
	if (r.renewed && cfg->deploy_hook != NULL &&
	    (e = cmd_deploy_hook(cfg->deploy_hook, &ss.store, name,
	    cfg->domains, cfg->n_domains, cfg->handler_timeout_s)) != ERR_OK)
		goto out;
	e = cmd_certonly_report(messages, &r);
out:
	if (deferred) {
		/* The deferred line was the last: no report after it. */
		json_decref(messages);
		solver_emit(s, event_phase(EVENT_EXIT));
		solver_free(s);
	} else
		cmd_finish(s, e, messages);
	lineage_result_clear(&r);
	lineage_params_clear(&p);
	session_close(&ss);
	return e;
}
