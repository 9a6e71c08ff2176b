/*
 * cmd_resume.c: the two-phase mode (issue 9), for orchestrators that
 * cannot answer a line in the middle of a task.  Phase 1 (cmd_defer, for
 * certonly --defer and renew --defer) makes the order, saves it as a
 * pending order (pending.h), hands the challenges out and ends; phase 2
 * (extauth resume ID, certonly --resume ID) answers them, finalizes and
 * saves the lineage as a one-pass run would.  Also the pending verb: list
 * the pending orders, or cancel one.
 *
 * What each mode does in each phase: in JSON mode phase 1 prints the
 * perform_challenge lines and does not wait for acknowledgements (the
 * resume is the acknowledgement); in handler and dehydrated modes phase 1
 * runs the perform (deploy_challenge) hooks, which return once the record
 * is in place or its change is on its way.  Phase 2 sends cleanup in the
 * lineage's recorded mode.  Text mode is refused (cli.c): a person at the
 * terminal finishes in one run.
 *
 * Phase 2 works where phase 1 meant: the pending order records phase 1's
 * config dir (a resume given another is refused before the CA is asked),
 * and whether renew made it (then its resume runs renewal-hooks/deploy/,
 * as renew would have).  It holds the lineage's lock from before the
 * first request to the CA until the lineage is saved and deployed, so a
 * renew of the lineage cannot run an order of its own alongside.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "cmd.h"
#include "crypto.h"
#include "lineage.h"
#include "log.h"
#include "order.h"
#include "pending.h"
#include "renewal.h"
#include "session.h"

static enum err	saved_challenges(const struct pending *,
		    struct challenge ***);
static void	saved_free(struct challenge **, size_t);

/* strdup of s, NULL for NULL; *ok false when out of memory. */
static char *
dup_or_null(const char *s, bool *ok)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

/* dir with its links resolved (a new string), as given when it does not
 * exist (so it matches no recorded one); NULL when out of memory. */
static char *
canon_dir(const char *dir)
{
	char	buf[PATH_MAX];

	return strdup(realpath(dir, buf) != NULL ? buf : dir);
}

/* The pending order of lineage p whose order h was just made. */
static enum err
pending_fill(struct pending *pd, struct session *ss,
    const struct lineage_params *p, const struct lineage_draft *d,
    const struct order_handout *h, bool renew)
{
	struct lineage_params	 w = *p;	/* shallow: nothing freed */
	const struct challenge	*ch;
	char			 why[160];
	size_t			 i;
	bool			 ok = true;
	enum err		 e;

	/* As write_conf records them: what this run connected with. */
	w.server = (char *)ss->server;
	w.account = ss->account_id;
	w.ca_bundle = (char *)session_ca_bundle(ss);
	if ((e = renewal_update(&pd->lineage, &w, "", why, sizeof why)) !=
	    ERR_OK) {
		log_error("lineage %s: %s", p->name, why);
		return e;
	}
	pd->cert_name = dup_or_null(p->name, &ok);
	pd->order_url = dup_or_null(h->url, &ok);
	pd->expires = dup_or_null(h->expires, &ok);
	pd->server = dup_or_null(ss->server, &ok);
	pd->account = dup_or_null(ss->account_id, &ok);
	pd->deactivate_authz = p->deactivate_authz;
	pd->foreign = p->foreign;
	pd->renew = renew;
	/* Absolute: resume may run from another directory. */
	pd->config_dir = canon_dir(ss->store.config_dir);
	if ((pd->key_pem = crypto_key_to_pem(d->key)) == NULL ||
	    (pd->csr = b64u_encode(d->csr, d->csr_len)) == NULL ||
	    (pd->domains = calloc(p->n_domains + 1, sizeof *pd->domains)) ==
	    NULL || (pd->chs = calloc(h->n_chs + 1, sizeof *pd->chs)) == NULL)
		ok = false;
	for (i = 0; ok && i < p->n_domains; i++, pd->n_domains++)
		pd->domains[i] = dup_or_null(p->domains[i], &ok);
	for (i = 0; ok && i < h->n_chs; i++, pd->n_chs++) {
		ch = h->chs[i];
		pd->chs[i].type = ch->type;
		pd->chs[i].wildcard = ch->wildcard;
		pd->chs[i].domain = dup_or_null(ch->domain, &ok);
		pd->chs[i].token = dup_or_null(ch->token, &ok);
		pd->chs[i].url = dup_or_null(ch->url, &ok);
		pd->chs[i].authz_url = dup_or_null(ch->authz_url, &ok);
		pd->chs[i].key_auth = dup_or_null(ch->key_auth, &ok);
		pd->chs[i].validation = dup_or_null(ch->validation, &ok);
		pd->chs[i].txt_domain = dup_or_null(ch->txt_domain, &ok);
		pd->chs[i].uri = dup_or_null(ch->uri, &ok);
	}
	if (!ok || pd->config_dir == NULL) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	if (pd->config_dir[0] != '/') {
		log_error("config dir %s: cannot resolve it to an absolute path",
		    ss->store.config_dir);
		return ERR_STORAGE;
	}
	return ERR_OK;
}

/*
 * One pending order per lineage: the older ones of pd's lineage are
 * superseded by pd (a play run twice, a second renew --defer).  Their
 * challenges get cleanup, before the new ones are handed out, and their
 * files go.  One that another run is resuming right now is left to it.
 * A lineage is a name in a config dir: a work dir shared by two config
 * dirs holds orders of two lineages of one name.  An order that does not
 * record its config dir (older extauth) counts as this one's, as then.
 */
static void
supersede(struct solver *s, const char *work_dir, const struct pending *pd)
{
	struct pending		  old;
	struct challenge	**chs;
	char			**ids = NULL;
	size_t			  n = 0, i;
	bool			  same;

	if (pending_list(work_dir, &ids, &n) != ERR_OK)
		return;
	for (i = 0; i < n; i++) {
		memset(&old, 0, sizeof old);
		old.lock_fd = -1;
		same = false;
		if (strcmp(ids[i], pd->id) != 0 && pending_read(&old, work_dir,
		    ids[i]) == ERR_OK)
			same = strcmp(old.cert_name, pd->cert_name) == 0 &&
			    (old.config_dir == NULL || strcmp(old.config_dir,
			    pd->config_dir) == 0);
		pending_clear(&old);
		if (!same || pending_open(&old, work_dir, ids[i]) != ERR_OK) {
			pending_clear(&old);
			continue;
		}
		chs = NULL;
		if (saved_challenges(&old, &chs) == ERR_OK &&
		    solver_cleanup(s, chs, old.n_chs) == ERR_OK &&
		    pending_remove(&old) == ERR_OK)
			log_info("pending order %s of %s is superseded by %s",
			    old.id, old.cert_name, pd->id);
		saved_free(chs, old.n_chs);
		pending_clear(&old);
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

enum err
cmd_defer(struct session *ss, struct solver *s,
    const struct lineage_params *p, bool renew, json_t *messages,
    bool *deferred)
{
	struct lineage_result	 r;
	struct lineage_draft	 d;
	struct order_req	 req = { 0 };
	struct order_handout	 h = { 0 };
	struct pending		 pd;
	char			 date[32];
	struct tm		 tm;
	enum err		 e;

	*deferred = false;
	memset(&pd, 0, sizeof pd);
	pd.lock_fd = -1;
	if ((e = lineage_draft(ss, p, &r, &d)) != ERR_OK)
		goto out;
	if (d.keep) {
		gmtime_r(&r.not_after, &tm);
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
		e = cmd_report(messages, 1, "Certificate not yet due for "
		    "renewal; no action taken. It is saved at %s and will "
		    "expire on %s.", r.live.fullchain, date);
		goto out;
	}
	lineage_order_req(p, &d, ss->store.work_dir, &req);
	if ((e = order_defer(ss->acme, &req, &h)) != ERR_OK ||
	    (e = pending_new(&pd, ss->store.work_dir)) != ERR_OK ||
	    (e = pending_fill(&pd, ss, p, &d, &h, renew)) != ERR_OK)
		goto out;
	/* Saved before anybody is told: a run killed from here on leaves
	 * an order `extauth pending` lists and resume can finish. */
	if ((e = pending_save(&pd)) != ERR_OK)
		goto out;
	supersede(s, ss->store.work_dir, &pd);
	if (h.n_chs > 0 && (e = solver_perform(s, h.chs, h.n_chs)) !=
	    ERR_OK) {
		/* A handler that could not deploy, or a signal: what was
		 * told is cleaned up, and there is nothing to resume. */
		(void)solver_cleanup(s, h.chs, h.n_chs);
		(void)pending_remove(&pd);
		goto out;
	}
	log_info("order for %s deferred as pending order %s (expires %s); "
	    "finish it with: extauth resume %s", p->name, pd.id, h.expires ?
	    h.expires : "when the CA decides", pd.id);
	*deferred = true;
	e = solver_emit(s, event_deferred(pd.id, h.expires, p->name));
out:
	lineage_result_clear(&r);
	lineage_draft_clear(&d);
	order_handout_clear(&h);
	pending_clear(&pd);
	return e;
}

/* The lineage a pending order carries, back into p (renewal.c's rows and
 * checks), with the names and flags the rows do not hold. */
static enum err
params_from_pending(const struct pending *pd, struct lineage_params *p)
{
	char	why[160];

	lineage_params_defaults(p);
	if (!renewal_read(&pd->lineage, p, why, sizeof why)) {
		log_error("pending order %s: %s", pd->id, why);
		log_error("cancel it with extauth pending --cancel %s, then run "
		    "extauth certonly --defer again", pd->id);
		return ERR_STORAGE;
	}
	if ((p->name = strdup(pd->cert_name)) == NULL ||
	    !lineage_params_set_domains(p, pd->domains, pd->n_domains)) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	p->deactivate_authz = pd->deactivate_authz;
	p->foreign = pd->foreign;
	return ERR_OK;
}

/* The challenges as handed out, for order_resume and cancel's cleanup.
 * *chs owns the array and each (challenge_free). */
static enum err
saved_challenges(const struct pending *pd, struct challenge ***chs)
{
	struct challenge	*c;
	size_t			 i;
	bool			 ok = true;

	if ((*chs = calloc(pd->n_chs + 1, sizeof **chs)) == NULL)
		ok = false;
	for (i = 0; ok && i < pd->n_chs; i++) {
		if (((*chs)[i] = c = calloc(1, sizeof *c)) == NULL) {
			ok = false;
			break;
		}
		c->type = pd->chs[i].type;
		c->wildcard = pd->chs[i].wildcard;
		c->performed = true;
		c->domain = dup_or_null(pd->chs[i].domain, &ok);
		c->token = dup_or_null(pd->chs[i].token, &ok);
		c->url = dup_or_null(pd->chs[i].url, &ok);
		c->authz_url = dup_or_null(pd->chs[i].authz_url, &ok);
		c->key_auth = dup_or_null(pd->chs[i].key_auth, &ok);
		c->validation = dup_or_null(pd->chs[i].validation, &ok);
		c->txt_domain = dup_or_null(pd->chs[i].txt_domain, &ok);
		c->uri = dup_or_null(pd->chs[i].uri, &ok);
	}
	if (!ok) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

static void
saved_free(struct challenge **chs, size_t n)
{
	size_t	i;

	for (i = 0; chs != NULL && i < n; i++)
		challenge_free(chs[i]);
	free(chs);
}

/* The solver of the pending order's lineage: its recorded mode, unless
 * the command line names a socket for JSON mode. */
static struct solver *
resume_solver(const struct config *cfg, const struct lineage_params *p,
    enum err *e)
{
	return cmd_solver_at(cfg, p->mode, p->handler, p->hook_chain,
	    cfg->socket_path ? cfg->socket_path : p->socket, e);
}

/*
 * --cancel: the pending order's challenges are cleaned up (the outside
 * party may have deployed them) and its file removed.  The order itself
 * is left to expire at the CA: RFC 8555 has no way to cancel an order.
 */
static enum err
cancel(const struct config *cfg, struct pending *pd)
{
	struct lineage_params	  p = { 0 };
	struct challenge	**chs = NULL;
	struct solver		 *s = NULL;
	json_t			 *messages = json_array();
	enum err		  e;

	if ((e = params_from_pending(pd, &p)) != ERR_OK ||
	    (e = saved_challenges(pd, &chs)) != ERR_OK)
		goto out;
	if ((s = resume_solver(cfg, &p, &e)) == NULL)
		goto out;
	if ((e = solver_emit(s, event_phase(EVENT_STARTUP))) != ERR_OK ||
	    (e = solver_cleanup(s, chs, pd->n_chs)) != ERR_OK)
		goto out;
	if ((e = pending_remove(pd)) == ERR_OK)
		e = cmd_report(messages, 1, "Pending order %s for %s cancelled; "
		    "the CA lets its order expire.", pd->id, pd->cert_name);
out:
	cmd_finish(s, e, messages);
	saved_free(chs, pd->n_chs);
	lineage_params_clear(&p);
	return e;
}

/*
 * resume --json: what a one-pass run's report says, as keys: the lineage,
 * its names, where the files are and when the certificate expires.  New
 * reference, NULL on ENOMEM.
 */
static json_t *
resume_result(const struct lineage_params *p, const struct lineage_result *r)
{
	json_t		*res, *names;
	char		 date[32];
	struct tm	 tm;
	size_t		 i;

	gmtime_r(&r->not_after, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((names = json_array()) == NULL)
		return NULL;
	for (i = 0; i < p->n_domains; i++)
		json_array_append_new(names, json_string(p->domains[i]));
	res = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "cert_name",
	    p->name, "domains", names, "not_after", date, "cert_path",
	    r->live.cert, "key_path", r->live.privkey, "fullchain_path",
	    r->live.fullchain, "chain_path", r->live.chain);
	return res;
}

/*
 * The config dir phase 1 meant, into c->config_dir (pd's string): a
 * --config-dir naming another is refused (ERR_USAGE, two lines), before
 * the CA is asked anything.  A pending order from before it was recorded
 * keeps cfg's, as then.
 */
static enum err
resume_config_dir(const struct config *cfg, const struct pending *pd,
    struct config *c)
{
	char	*given;
	bool	 same;

	if (pd->config_dir == NULL)
		return ERR_OK;
	if (cfg->config_dir_given) {
		if ((given = canon_dir(cfg->config_dir)) == NULL) {
			log_error("out of memory");
			return ERR_INTERNAL;
		}
		same = strcmp(given, pd->config_dir) == 0;
		free(given);
		if (!same) {
			log_error("pending order %s was made for the config dir "
			    "%s, not %s", pd->id, pd->config_dir,
			    cfg->config_dir);
			log_error("run extauth resume %s with --config-dir %s, "
			    "or without --config-dir", pd->id, pd->config_dir);
			return ERR_USAGE;
		}
	}
	c->config_dir = pd->config_dir;
	return ERR_OK;
}

/*
 * Connects as phase 1 did: its server, its account, its CA bundle.  The
 * lineage's lock first, into p->lineage (the caller closes it), held
 * until the lineage is saved and deployed: a renew holding it would make
 * an order of its own, so this resume stops (ERR_LOCKED) before asking
 * the CA anything, and its pending order stays for a later resume.
 */
static enum err
resume_connect(const struct config *cfg, struct session *ss,
    struct solver *s, const struct pending *pd, struct lineage_params *p)
{
	const char	*why;
	enum err	 e;

	if ((e = cmd_session_open(ss, cfg)) != ERR_OK)
		return e;
	if ((p->lineage = store_lineage_open(&ss->store, p->name, &why)) ==
	    NULL) {
		log_error("pending order %s: certificate name %s: %s", pd->id,
		    p->name, why);
		log_error("cancel it with extauth pending --cancel %s, then run "
		    "extauth certonly --defer again", pd->id);
		return ERR_STORAGE;
	}
	if ((e = store_lineage_lock(p->lineage)) == ERR_LOCKED) {
		log_error("certificate %s is being renewed or resumed by another "
		    "process; pending order %s is kept", p->name, pd->id);
		log_error("run extauth resume %s again when that run ends",
		    pd->id);
	}
	if (e != ERR_OK)
		return e;
	session_set_failure_cb(ss, cmd_request_failure, s);
	ss->ca_bundle = cfg->ca_bundle ? cfg->ca_bundle : p->ca_bundle;
	if ((e = session_connect(ss, pd->server)) != ERR_OK)
		return e;
	return session_account(ss, pd->account);
}

/* After the lineage is saved, what the verb that made the order runs:
 * renew's deploy hooks, or certonly's recorded --deploy-hook. */
static enum err
resume_deploy(const struct config *cfg, struct session *ss,
    const struct pending *pd, const struct lineage_params *p)
{
	if (pd->renew)
		return cmd_renew_deploy_hooks(&ss->store, p->deploy_hook,
		    p->name, p->domains, p->n_domains, cfg->handler_timeout_s);
	if (p->deploy_hook == NULL)
		return ERR_OK;
	return cmd_deploy_hook(p->deploy_hook, &ss->store, p->name,
	    p->domains, p->n_domains, cfg->handler_timeout_s);
}

enum err
cmd_resume(const struct config *cfg)
{
	struct pending		  pd;
	struct session		  ss;
	struct config		  c;	/* cfg, in phase 1's config dir */
	struct lineage_params	  p = { 0 };
	struct lineage_result	  r = { 0 };
	struct order_req	  req = { 0 };
	struct challenge	**chs = NULL;
	struct solver		 *s = NULL;
	EVP_PKEY		 *key = NULL;
	unsigned char		 *csr = NULL;
	char			 *pem = NULL;
	json_t			 *messages = json_array(), *res = NULL;
	size_t			  csrlen = 0;
	enum err		  e;
	bool			  dead = false;	/* never to be finished */

	memset(&ss, 0, sizeof ss);
	/* The lock first: a second resume of this order stops here, with
	 * its own exit code, before it touches anything else. */
	if ((e = pending_open(&pd, cfg->work_dir, cfg->resume_id ?
	    cfg->resume_id : cfg->cancel_id)) != ERR_OK)
		goto out;
	if (cfg->cancel_id != NULL) {
		e = cancel(cfg, &pd);
		e = cmd_result(cfg, e, e == ERR_OK ? json_pack("{s:s}",
		    "cancelled", pd.id) : NULL);
		json_decref(messages);
		messages = NULL;
		pending_clear(&pd);
		return e;
	}
	c = *cfg;	/* shallow: c only points at cfg's and pd's strings */
	if ((e = resume_config_dir(cfg, &pd, &c)) != ERR_OK)
		goto out;
	cfg = &c;
	if ((e = params_from_pending(&pd, &p)) != ERR_OK ||
	    (e = saved_challenges(&pd, &chs)) != ERR_OK)
		goto out;
	if ((s = resume_solver(cfg, &p, &e)) == NULL)
		goto out;
	if ((e = solver_emit(s, event_phase(EVENT_STARTUP))) != ERR_OK)
		goto out;
	/* Past the expiry the CA gave: nothing to ask it. */
	if (pd.expires_at != 0 && pd.expires_at <= time(NULL)) {
		log_error("pending order %s expired at %s", pd.id, pd.expires);
		e = ERR_PENDING;
		dead = true;
		goto out;
	}
	if ((e = resume_connect(cfg, &ss, s, &pd, &p)) != ERR_OK)
		goto out;
	e = ERR_STORAGE;
	if ((key = crypto_key_from_pem(pd.key_pem, strlen(pd.key_pem))) ==
	    NULL || (csr = b64u_decode(pd.csr, &csrlen)) == NULL) {
		log_error("pending order %s: its key or CSR does not parse",
		    pd.id);
		log_error("cancel it with extauth pending --cancel %s, then run "
		    "extauth certonly --defer again", pd.id);
		goto out;
	}
	req.names = p.domains;
	req.n_names = p.n_domains;
	req.prefs = p.prefs;
	req.n_prefs = p.n_prefs;
	req.cert_key = key;
	req.csr_der = csr;
	req.csr_len = csrlen;
	req.dns_wait_s = p.dns_wait_s;
	req.dns_resolver = p.dns_resolver;
	/* resume ID --dns-wait N: this resume waits for the records, even
	 * when phase 1 did not say so (and is not recorded). */
	if (cfg->dns_wait_s > 0) {
		req.dns_wait_s = cfg->dns_wait_s;
		req.dns_resolver = cfg->dns_resolver;
	}
	req.preferred_chain = p.preferred_chain;
	req.work_dir = ss.store.work_dir;
	req.deactivate_authz = p.deactivate_authz;
	e = order_resume(ss.acme, s, &req, pd.order_url, chs, pd.n_chs, &pem);
	if (e == ERR_PENDING) {
		dead = true;
		goto out;
	}
	/* Kept on any other failure: while the CA allows it, a later
	 * resume finishes the order (pending.h). */
	if (e != ERR_OK ||
	    (e = lineage_store(&ss, s, &p, key, csr, csrlen, pem, &r)) !=
	    ERR_OK)
		goto out;
	(void)pending_remove(&pd);
	if ((e = resume_deploy(cfg, &ss, &pd, &p)) != ERR_OK)
		goto out;
	if ((e = cmd_certonly_report(messages, &r)) == ERR_OK &&
	    cfg->json_output && (res = resume_result(&p, &r)) == NULL)
		e = ERR_INTERNAL;
out:
	if (dead) {
		/* It can never be finished: what was handed out is cleaned
		 * up (order_resume stops before its own cleanup), and its
		 * file goes. */
		(void)solver_cleanup(s, chs, pd.n_chs);
		log_error("pending order %s was removed; start again with "
		    "extauth certonly --defer -d %s", pd.id, pd.domains[0]);
		(void)pending_remove(&pd);
	}
	e = cmd_result(cfg, e, res);
	cmd_finish(s, e, messages);
	saved_free(chs, pd.n_chs);
	lineage_result_clear(&r);
	store_lineage_close(p.lineage);	/* lets go of the lock */
	lineage_params_clear(&p);
	EVP_PKEY_free(key);
	free(csr);
	free(pem);
	session_close(&ss);
	pending_clear(&pd);
	return e;
}

/* One pending order as a --json line: id, cert_name, domains, expires,
 * order_url. */
static void
list_json(const struct pending *pd)
{
	json_t	*o, *doms = json_array();
	char	*line;
	size_t	 i;

	for (i = 0; i < pd->n_domains; i++)
		json_array_append_new(doms, json_string(pd->domains[i]));
	o = json_pack("{s:s,s:s,s:o,s:o,s:s}", "id", pd->id, "cert_name",
	    pd->cert_name, "domains", doms, "expires", pd->expires ?
	    json_string(pd->expires) : json_null(), "order_url",
	    pd->order_url);
	if (o != NULL && (line = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) != NULL) {
		printf("%s\n", line);
		free(line);
	}
	json_decref(o);
}

static void
list_text(const struct pending *pd)
{
	size_t	i;

	printf("  Pending order: %s\n    Certificate Name: %s\n    Domains:",
	    pd->id, pd->cert_name);
	for (i = 0; i < pd->n_domains; i++)
		printf(" %s", pd->domains[i]);
	printf("\n    Expires: %s\n    Resume: extauth resume %s\n",
	    pd->expires ? pd->expires : "(not given by the CA)", pd->id);
}

enum err
cmd_pending(const struct config *cfg)
{
	struct pending	  pd;
	char		**ids = NULL;
	size_t		  n = 0, i;
	enum err	  e;

	if (cfg->cancel_id != NULL)
		return cmd_resume(cfg);
	if ((e = pending_list(cfg->work_dir, &ids, &n)) != ERR_OK)
		return e;
	if (!cfg->json_output)
		printf(n == 0 ? "No pending orders found.\n" : "Pending orders:"
		    "\n");
	for (i = 0; i < n; i++) {
		/* Unreadable ones were said (pending.c); the rest list. */
		if (pending_read(&pd, cfg->work_dir, ids[i]) == ERR_OK)
			(cfg->json_output ? list_json : list_text)(&pd);
		pending_clear(&pd);
		free(ids[i]);
	}
	free(ids);
	fflush(stdout);
	return ERR_OK;
}
