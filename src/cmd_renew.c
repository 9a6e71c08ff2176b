/*
 * cmd_renew.c: the renew verb.  Walks the renewal confs, decides from the
 * conf alone whether each lineage is due (the certificate is parsed only
 * when the conf's cache is missing or stale), and renews the due ones the
 * way their conf says: same server, account, names, challenge preference,
 * mode and handler.  One failing lineage does not stop the others.
 * Unattended in handler and dehydrated modes (cron, systemd: no TTY, no
 * stdin); in JSON mode the invoker answers as for certonly.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ari.h"
#include "clock.h"
#include "cmd.h"
#include "conf.h"
#include "lineage.h"
#include "log.h"
#include "pool.h"
#include "ratelimit.h"
#include "renewal.h"
#include "strv.h"
#include "session.h"
#include "sig.h"

#define RENEW_SOLVERS_MAX	8
#define BRIDGE_HOOK_MAX		4096	/* a certbot manual_auth_hook */

/* One solver per distinct (mode, handler, socket, chain) among the due
 * lineages. */
struct renew_solvers {
	struct {
		enum solver_mode	 mode;
		char			*handler;
		char			*socket;
		bool			 chain;
		struct solver		*s;
	} v[RENEW_SOLVERS_MAX];
	size_t	n;
	struct solver	*primary;	/* cmd_renew's: mode/handler of cfg */
};

/* *dst = a copy of src (NULL stays NULL), freeing the old one; false when
 * out of memory (logged). */
static bool
set_str(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL) {
		log_error("out of memory");
		return false;
	}
	free(*dst);
	*dst = s;
	return true;
}

static bool
truthy(const char *v)
{
	return v != NULL && (strcmp(v, "True") == 0 || strcmp(v, "true") == 0
	    || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0);
}

/* certbot-external-auth's options, stored by certbot as
 * "certbot_external_auth:out_NAME" (older certbots kept the dashes). */
static const char *
plugin_opt(const struct conf *c, const char *name)
{
	static const char *const pfx[] = { "certbot_external_auth:out_",
	    "certbot-external-auth:out_", "out_" };
	char		 key[96];
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof pfx / sizeof pfx[0]; i++) {
		snprintf(key, sizeof key, "%s%s", pfx[i], name);
		if ((v = conf_get(c, "renewalparams", key)) != NULL)
			return v;
	}
	return NULL;
}

/*
 * A lineage certbot obtained with the manual plugin and the bridge as its
 * auth hook ("extauth certbot-hook auth --handler H ...", see
 * doc/certbot-bridge.md): renew can drive the same handler itself.  The
 * hook is only split into words, never given to a shell, so a hook a
 * shell would have interpreted differently is refused.  On success sets
 * j's mode, handler and socket (j's own copies) and hook chain.
 */
static bool
bridge_hook_job(const char *hook, struct lineage_params *j)
{
	char		*buf = NULL, *w[32], *save = NULL, *tok;
	const char	*mode = NULL, *handler = NULL;
	size_t		 n = 0, i, k;
	bool		 verb = false, auth = false, deh = false, text = false;
	const char	*sock = NULL;
	bool		 ok = false, chain = false;
	int		 m;

	if (hook == NULL || strlen(hook) >= BRIDGE_HOOK_MAX ||
	    strpbrk(hook, "'\"\\`$;&|<>(){}*?[]~!#\n") != NULL ||
	    (buf = strdup(hook)) == NULL)
		return false;
	for (tok = strtok_r(buf, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof w / sizeof w[0])
			goto out;
		w[n++] = tok;
	}
	if (n < 3 || !((k = strlen(w[0])) >= 7 &&
	    strcmp(w[0] + k - 7, "extauth") == 0 &&
	    (k == 7 || w[0][k - 8] == '/')))
		goto out;
	for (i = 1; i < n; i++) {
		if (strcmp(w[i], "certbot-hook") == 0 && !verb)
			verb = true;
		else if (strcmp(w[i], "auth") == 0 && verb && !auth)
			auth = true;
		else if ((strcmp(w[i], "--handler") == 0 || strcmp(w[i],
		    "--certbot-external-auth:out-handler") == 0) && i + 1 < n)
			handler = w[++i];
		else if (strncmp(w[i], "--handler=", 10) == 0)
			handler = w[i] + 10;
		else if (strcmp(w[i], "--mode") == 0 && i + 1 < n)
			mode = w[++i];
		else if (strncmp(w[i], "--mode=", 7) == 0)
			mode = w[i] + 7;
		else if (strcmp(w[i], "--dehydrated") == 0 || strcmp(w[i],
		    "--certbot-external-auth:out-dehydrated-dns") == 0)
			deh = true;
		else if (strcmp(w[i], "--text-mode") == 0)
			text = true;
		else if (strcmp(w[i], "--hook-chain") == 0)
			chain = true;
		else if (strcmp(w[i], "--socket") == 0 && i + 1 < n)
			sock = w[++i];
		else if (strncmp(w[i], "--socket=", 9) == 0)
			sock = w[i] + 9;
	}
	if (!verb || !auth)
		goto out;
	j->mode = SOLVER_JSON;
	if (mode != NULL && (m = solver_mode_parse(mode)) != -1)
		j->mode = (enum solver_mode)m;
	else if (text)
		j->mode = SOLVER_TEXT;
	else if (deh)
		j->mode = SOLVER_DEHYDRATED;
	else if (handler != NULL)
		j->mode = SOLVER_HANDLER;
	if ((j->mode == SOLVER_HANDLER || j->mode == SOLVER_DEHYDRATED) &&
	    handler == NULL)
		goto out;
	if (!set_str(&j->handler, handler))
		goto out;
	j->hook_chain = chain;
	/* JSON through the invoker's socket, as under certbot. */
	if (j->mode == SOLVER_JSON && !set_str(&j->socket, sock))
		goto out;
	ok = true;
out:
	free(buf);
	return ok;
}

/*
 * Fills j from the conf (renewal.c's table), then picks how to reach the
 * outside party from the authenticator: extauth's own keys, the certbot
 * plugin's options, or the bridge hook of a certbot manual lineage.  The
 * command line's mode, resolver and wait win.  ERR_USAGE (logged) when
 * extauth cannot renew it; ERR_STORAGE when the conf is bad.
 */
static enum err
job_from_conf(const struct config *cfg, const char *name,
    const struct conf *c, struct lineage_params *j)
{
	const char	*auth;
	char		 why[160];

	lineage_params_defaults(j);
	if (!set_str(&j->name, name))
		return ERR_INTERNAL;
	/* Never the value: a conf may hold what its reader must not show. */
	if (!renewal_read(c, j, why, sizeof why)) {
		log_error("%s: %s", name, why);
		return ERR_STORAGE;
	}
	auth = conf_get(c, "renewalparams", "authenticator");
	if (renewal_is_own(c))
		;	/* mode, handler and hook chain came from the table */
	else if (auth != NULL && (strcmp(auth, "certbot-external-auth:out")
	    == 0 || strcmp(auth, "out") == 0)) {
		j->foreign = true;
		if (!set_str(&j->handler, plugin_opt(c, "handler")))
			return ERR_INTERNAL;
		if (truthy(plugin_opt(c, "text_mode")))
			j->mode = SOLVER_TEXT;
		else if (j->handler != NULL)
			j->mode = truthy(plugin_opt(c, "dehydrated_dns")) ?
			    SOLVER_DEHYDRATED : SOLVER_HANDLER;
	} else if (auth != NULL && strcmp(auth, "manual") == 0 &&
	    bridge_hook_job(conf_get(c, "renewalparams",
	    "manual_auth_hook"), j)) {
		/* certbot's lineage through the bridge: keep its conf. */
		j->foreign = true;
	} else {
		log_warn("skipping %s: it was obtained with the %s plugin, "
		    "which extauth cannot run%s", name, auth ? auth :
		    "(unknown)", auth != NULL && strcmp(auth, "manual") == 0 ?
		    " (only an \"extauth certbot-hook auth\" auth hook)" : "");
		return ERR_USAGE;
	}
	/* The command line's delivery applies to every lineage renewed and
	 * is recorded with it (write_conf) for the next renewals. */
	if (cfg->mode_given || cfg->handler != NULL || cfg->socket_path !=
	    NULL) {
		j->mode = cfg->mode;
		j->hook_chain = cfg->hook_chain;
		if (!set_str(&j->handler, cfg->handler) ||
		    !set_str(&j->socket, cfg->socket_path))
			return ERR_INTERNAL;
	}
	if (cfg->dns_resolver != NULL && !set_str(&j->dns_resolver,
	    cfg->dns_resolver))
		return ERR_INTERNAL;
	if (cfg->dns_wait_s != 0)
		j->dns_wait_s = cfg->dns_wait_s;
	/* A profile on the command line replaces the recorded choice,
	 * preferred or required, as in certbot. */
	if ((cfg->preferred_profile != NULL || cfg->required_profile != NULL)
	    && (!set_str(&j->preferred_profile, cfg->preferred_profile) ||
	    !set_str(&j->required_profile, cfg->required_profile)))
		return ERR_INTERNAL;
	/* So do --preferred-chain and --reuse-key/--no-reuse-key;
	 * --new-key holds for this run only (certbot's semantics). */
	if (cfg->preferred_chain != NULL && !set_str(&j->preferred_chain,
	    cfg->preferred_chain))
		return ERR_INTERNAL;
	if (cfg->reuse_key || cfg->no_reuse_key)
		j->reuse_key = cfg->reuse_key;
	j->new_key = cfg->new_key;
	if (j->server == NULL) {
		log_error("%s: the renewal conf names no server", name);
		return ERR_STORAGE;
	}
	/* certbot's confs carry no names: due() takes them from the
	 * certificate. */
	return ERR_OK;
}

/*
 * Whether the lineage is due.  The conf's cache answers when live/ still
 * points at the version it describes; otherwise the certificate is read.
 * Fills the job's names from the certificate when the conf has none.
 */
static enum err
due(struct lineage_params *j, time_t now, bool *is_due)
{
	struct store_paths	 live = { 0 };
	struct crypto_cert_info	 info = { 0 };
	char			*pem = NULL;
	size_t			 len;
	long			 before;
	int			 version;
	enum err		 e;

	before = lineage_parse_interval(j->renew_before);
	if (j->n_domains > 0 && j->cache_version > 0 &&
	    (version = store_lineage_version(j->lineage)) > 0 &&
	    version == j->cache_version) {
		*is_due = lineage_due((time_t)j->cache_not_before,
		    (time_t)j->cache_not_after, now, before);
		return ERR_OK;
	}
	store_lineage_paths(j->lineage, &live);
	if ((e = store_read_owned(live.cert, &pem, &len, false)) != ERR_OK)
		goto out;
	e = ERR_STORAGE;
	if (crypto_cert_info(pem, len, &info) == -1) {
		log_error("%s: %s is not a certificate", j->name, live.cert);
		goto out;
	}
	e = ERR_INTERNAL;
	if (j->n_domains == 0 && !lineage_params_set_domains(j, info.names,
	    info.n_names < LINEAGE_DOMAINS_MAX ? info.n_names :
	    LINEAGE_DOMAINS_MAX))
		goto out;
	*is_due = lineage_due(info.not_before, info.not_after, now, before);
	e = ERR_OK;
out:
	store_lineage_paths_clear(&live);
	crypto_cert_info_free(&info);
	free(pem);
	return e;
}

/* Lineage confs whose ARI record waits for one disk flush together. */
#define ARI_BATCH	256

/*
 * ARI (ari.h) for an own lineage the lifetime rule keeps: asks the CA when
 * the recorded answer is stale, records the answer in the conf c (read
 * from path), and says whether the chosen moment has come.  A CA that
 * cannot be asked leaves the lifetime rule in charge (logged).
 *
 * The record of a lineage that is not due goes through batch, since
 * nothing else writes its conf in this run: one disk flush per ARI_BATCH
 * lineages instead of two per lineage (bench/ari.sh).  The batch then
 * holds the lineage (*lnp, j->lineage: both become NULL) until its conf
 * is in place.  A due lineage's record is written at once, before the
 * renewal writes the conf again.
 */
static bool
ari_step(const struct config *cfg, struct session *ss,
    struct lineage_params *j, struct conf *c, const char *path, time_t now,
    struct store_batch *batch, struct store_lineage **lnp)
{
	struct store_paths	 live = { 0 };
	struct crypto_cert_info	 info = { 0 };
	char			*pem = NULL, why[160] = "", when[32];
	size_t			 len;
	bool			 asked = false;
	struct tm		 tm;
	time_t			 at;
	enum err		 e;

	/* Fresh: the conf decides, nothing is sent. */
	if (j->ari_next > 0 && now < (time_t)j->ari_next)
		goto out;
	ss->ca_bundle = cfg->ca_bundle ? cfg->ca_bundle : j->ca_bundle;
	store_lineage_paths(j->lineage, &live);
	if (session_connect(ss, j->server) != ERR_OK ||
	    store_read_file(live.cert, &pem, &len, false) != ERR_OK ||
	    ari_refresh(ss->acme, j, pem, len, now, &asked) != ERR_OK ||
	    !asked)
		goto out;
	if ((e = renewal_update(c, j, "extauth_ari_", why, sizeof why)) ==
	    ERR_OK) {
		if (ari_due(j, now) || batch == NULL)
			e = conf_write(path, c);
		else {
			j->lineage = NULL;
			e = conf_write_batch(batch, path, c, *lnp);
			*lnp = NULL;
		}
	}
	if (e != ERR_OK)
		log_warn("%s: the CA's renewal window cannot be recorded%s%s; "
		    "it is asked again next run", j->name, why[0] ? ": " : "",
		    why);
	at = (time_t)j->ari_at;
	if (gmtime_r(&at, &tm) == NULL || strftime(when, sizeof when,
	    "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof when, "%ld", j->ari_at);
	log_info("%s: the CA's renewal window puts the renewal at %s",
	    j->name, when);
	/* Earlier than the lifetime rule: the CA's revocation notice. */
	if (crypto_cert_info(pem, len, &info) == 0 && at <
	    lineage_due_at(info.not_before, info.not_after,
	    lineage_parse_interval(j->renew_before)))
		log_warn("%s: the CA asks for renewal earlier than usual "
		    "(before %s)%s%s", j->name, when, j->ari_explanation ?
		    "; its explanation: " : "", j->ari_explanation ?
		    j->ari_explanation : "");
out:
	store_lineage_paths_clear(&live);
	crypto_cert_info_free(&info);
	free(pem);
	return ari_due(j, now);
}

#define BACKOFF_FIRST	3600L	/* after the first failure */
#define BACKOFF_MAX	86400L

/* One line: when the lineage is tried next, and how to try sooner. */
static void
backoff_say(const struct lineage_params *j)
{
	char		when[40];
	struct tm	tm;
	time_t		at = (time_t)j->retry_after;

	if (localtime_r(&at, &tm) == NULL || strftime(when, sizeof when,
	    "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(when, sizeof when, "%ld", j->retry_after);
	log_info("%s: %ld failed renewal%s in a row: next attempt after %s "
	    "(--force-renewal tries now)", j->name, j->retry_count,
	    j->retry_count == 1 ? "" : "s", when);
}

/*
 * After a failed renewal: the next attempt waits 1 h, doubling with each
 * failure in a row up to a day, or until the end of the CA's rate-limit
 * pause (ca_until, 0: none) when that is later; recorded in the lineage's
 * conf (c, read from path), so a timer twice a day against a broken DNS
 * does not hammer the CA.  A successful renewal writes a new conf without
 * it.
 */
static void
backoff_record(struct lineage_params *j, struct conf *c, const char *path,
    time_t now, time_t ca_until)
{
	char	why[160] = "";
	long	wait = BACKOFF_FIRST;
	long	n;

	j->retry_count = j->retry_count < 0 ? 1 : j->retry_count + 1;
	for (n = 1; n < j->retry_count && wait < BACKOFF_MAX; n++)
		wait *= 2;
	if (wait > BACKOFF_MAX)
		wait = BACKOFF_MAX;
	j->retry_after = (long)now + wait;
	if ((long)ca_until > j->retry_after)
		j->retry_after = (long)ca_until;
	if (renewal_update(c, j, "extauth_retry_", why, sizeof why) != ERR_OK ||
	    conf_write(path, c) != ERR_OK)
		log_warn("%s: the time of the next attempt cannot be recorded%s"
		    "%s", j->name, why[0] ? ": " : "", why);
	else
		backoff_say(j);
}

static bool
same_handler(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

/*
 * Whether an invoker can answer on stdin: a pipe or a socket that is not
 * at its end.  Checked before a JSON-mode lineage is renewed, so a renew
 * from cron with nobody there fails at once instead of after the order.
 */
static bool
stdin_invoker(void)
{
	struct stat	 sb;
	struct pollfd	 pfd = { .fd = 0, .events = POLLIN };
	char		 c;

	if (fstat(0, &sb) == -1)
		return false;
	if (S_ISSOCK(sb.st_mode))
		return recv(0, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
	if (!S_ISFIFO(sb.st_mode))
		return false;
	/* A pipe whose writers are gone and that holds nothing: EOF. */
	return !(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0 &&
	    (pfd.revents & POLLIN) == 0);
}

/* The run's solver for j's outside party, or NULL when none is made. */
static struct solver *
solver_lookup(const struct renew_solvers *rs, const struct lineage_params *j)
{
	size_t	i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].mode == j->mode && rs->v[i].chain == j->hook_chain &&
		    same_handler(rs->v[i].handler, j->handler) &&
		    same_handler(rs->v[i].socket, j->socket))
			return rs->v[i].s;
	return NULL;
}

static struct solver *
solver_for(const struct config *cfg, struct renew_solvers *rs,
    const struct lineage_params *j, enum err *e)
{
	struct solver	*s;

	if ((s = solver_lookup(rs, j)) != NULL)
		return s;
	if (rs->n == RENEW_SOLVERS_MAX) {
		log_error("%s: too many different handlers in one renew run",
		    j->name);
		*e = ERR_USAGE;
		return NULL;
	}
	if (j->mode == SOLVER_TEXT && !isatty(0) && !cfg->defer) {
		log_error("%s was obtained in manual (text) mode, which needs a"
		    " person at a terminal", j->name);
		*e = ERR_USAGE;
		return NULL;
	}
	if (j->mode == SOLVER_TEXT && cfg->defer) {
		log_error("%s was obtained in manual (text) mode, which "
		    "--defer does not hand out", j->name);
		log_error("renew it without --defer, at a terminal");
		*e = ERR_USAGE;
		return NULL;
	}
	/* --defer reads no reply: nobody need be on stdin. */
	if (j->mode == SOLVER_JSON && j->socket == NULL && !cfg->defer &&
	    !stdin_invoker()) {
		log_error("%s is renewed in JSON mode on stdin/stdout, and "
		    "nobody is on stdin (not a pipe or socket, or at its end)",
		    j->name);
		log_error("give renew --handler PROG or --socket PATH (kept "
		    "for its next renewals), or run renew under its invoker");
		*e = ERR_USAGE;
		return NULL;
	}
	/*
	 * The lineage wants what the command line asked for: use the primary
	 * solver (already started), so one outside party does not get two
	 * exit_hook calls (dehydrated) or two instances.
	 */
	if (rs->primary != NULL && j->mode == cfg->mode &&
	    j->hook_chain == cfg->hook_chain && same_handler(j->handler,
	    cfg->handler) && same_handler(j->socket, cfg->socket_path))
		s = rs->primary;
	else {
		if ((s = cmd_solver_at(cfg, j->mode, j->handler, j->hook_chain,
		    j->socket, e)) == NULL)
			return NULL;
		if ((*e = solver_emit(s, event_phase(EVENT_STARTUP))) !=
		    ERR_OK) {
			solver_free(s);
			return NULL;
		}
	}
	rs->v[rs->n].mode = j->mode;
	rs->v[rs->n].handler = j->handler ? strdup(j->handler) : NULL;
	rs->v[rs->n].socket = j->socket ? strdup(j->socket) : NULL;
	rs->v[rs->n].chain = j->hook_chain;
	rs->v[rs->n++].s = s;
	return s;
}

static enum err
deploy_hook(const struct config *cfg, struct session *ss,
    const struct lineage_params *j)
{
	if (cfg->dry_run)
		return ERR_OK;
	return cmd_renew_deploy_hooks(&ss->store, cfg->deploy_hook ?
	    cfg->deploy_hook : j->deploy_hook, j->name, j->domains,
	    j->n_domains, cfg->handler_timeout_s);
}

/* Renews one due lineage through solver s. */
static enum err
renew_with(const struct config *cfg, struct session *ss, struct solver *s,
    struct lineage_params *j)
{
	struct lineage_result	 r = { 0 };
	json_t			*scratch = json_array();
	enum err		 e;
	bool			 deferred;

	/* The lineage's own CA bundle unless the command line names one;
	 * write_conf records it again for the next renewal. */
	ss->ca_bundle = cfg->ca_bundle ? cfg->ca_bundle : j->ca_bundle;
	solver_set_cert_name(s, j->name);
	session_set_failure_cb(ss, cmd_request_failure, s);
	if ((e = session_connect(ss, cli_dry_run_server(cfg, j->server))) !=
	    ERR_OK ||
	    (e = session_account(ss, j->account)) != ERR_OK)
		goto out;
	j->force = true;	/* due was decided already */
	j->replace = true;
	j->dry_run = cfg->dry_run;
	j->deactivate_authz = cfg->deactivate_authz;
	if (cfg->defer) {
		/* Phase 1 only (cmd_resume.c): its resume deploys. */
		e = cmd_defer(ss, s, j, true, scratch, &deferred);
		goto out;
	}
	if ((e = lineage_obtain(ss, s, j, &r)) != ERR_OK)
		goto out;
	e = deploy_hook(cfg, ss, j);
out:
	json_decref(scratch);
	solver_set_cert_name(s, NULL);
	lineage_result_clear(&r);
	return e;
}

/* Renews one due lineage with the run's solver for its mode. */
static enum err
renew_one(const struct config *cfg, struct session *ss,
    struct renew_solvers *rs, struct lineage_params *j)
{
	struct solver	*s;
	enum err	 e;

	if ((s = solver_for(cfg, rs, j, &e)) == NULL)
		return e;
	return renew_with(cfg, ss, s, j);
}

static void
add_name(json_t *arr, const char *name, const char *why)
{
	char	*s = NULL;

	if (why == NULL)
		json_array_append_new(arr, json_string(name));
	else if (asprintf(&s, "%s (%s)", name, why) != -1) {
		json_array_append_new(arr, json_string(s));
		free(s);
	}
}

/* "prefix a, b, c" as one report line. */
static void
report_list(json_t *messages, int prio, const char *prefix, json_t *names)
{
	char	*list, *s = NULL;

	if ((list = strv_join_json(names, ", ")) == NULL ||
	    asprintf(&s, "%s%s", prefix, list) == -1)
		s = NULL;
	if (s != NULL)
		cmd_report_add(messages, prio, s);
	else
		log_error("out of memory");
	free(list);
	free(s);
}

/* Appends the job's domains to arr (strings). */
static void
add_domains(json_t *arr, const struct lineage_params *j)
{
	size_t	i;

	for (i = 0; i < j->n_domains; i++)
		json_array_append_new(arr, json_string(j->domains[i]));
}

/* "NAME=a b c" from an array of strings; caller frees. */
static char *
env_list(const char *name, json_t *arr)
{
	char	*list, *s = NULL;

	if ((list = strv_join_json(arr, " ")) != NULL &&
	    asprintf(&s, "%s=%s", name, list) == -1)
		s = NULL;
	free(list);
	return s;
}

/* renewal-hooks/post/, then --post-hook, with RENEWED_DOMAINS and
 * FAILED_DOMAINS, as certbot 4.2. */
static enum err
post_hook(const struct config *cfg, const struct store *st, json_t *renewed,
    json_t *failed)
{
	char		*env[3] = { NULL, NULL, NULL };
	enum err	 e = ERR_INTERNAL;

	if ((env[0] = env_list("RENEWED_DOMAINS", renewed)) != NULL &&
	    (env[1] = env_list("FAILED_DOMAINS", failed)) != NULL &&
	    (e = cmd_dir_hooks(st, STORE_HOOKS_POST, env,
	    cfg->handler_timeout_s)) == ERR_OK && cfg->post_hook != NULL)
		e = cmd_run_hook("post hook", cfg->post_hook, env,
		    cfg->handler_timeout_s);
	free(env[0]);
	free(env[1]);
	return e;
}


/*
 * What one renew run shares among its workers: the lists of the report
 * (under mu), the CAs' pauses (ratelimit.h has its own lock), and the jobs,
 * each touched by the one worker pool.c hands it to.
 */
struct renew_run {
	const struct config	*cfg;
	struct session		*ss;	/* the run's, holding the lock */
	struct ratelimit	 rl;
	time_t			 now;
	pthread_mutex_t		 mu;
	json_t			*renewed, *failed, *rdoms, *fdoms;
	json_t			*elsewhere;	/* held by another run */
	size_t			 n_limited;
	/* The command line's solver: in JSON mode the one invoker whose
	 * replies the workers' siblings share (solver_mux.c). */
	struct solver		*primary;
	/* The run's solvers, one per outside party (solver_for), made
	 * and started once (a dehydrated hook's startup_hook): by the walk,
	 * or under mu by a worker with a dehydrated lineage, which then
	 * takes a sibling of it. */
	struct renew_solvers	*rs;
	/* The due lineages left for the workers (handler mode,
	 * --max-concurrent): indexes into names.  Names only: a worker reads
	 * the conf again, so 1,000 due lineages are not 1,000 parsed confs
	 * and open lineages at once. */
	char			**names;
	size_t			*jobs;
	size_t			 n_jobs;
};

/*
 * One due lineage: waits out its CA's pause (or fails it unsent when the
 * pause outlasts the run), renews it with s (NULL: the run's solver for
 * its mode from rs), and records the outcome and the backoff.  The CA's
 * pause itself is noted by acme.c the moment the CA asks for it, and its
 * newOrder is held there too when a pause began after this gate.  false
 * when a stop signal ended the wait: the run starts nothing more.
 */
static bool
renew_attempt(struct renew_run *run, struct session *ss, struct solver *s,
    struct renew_solvers *rs, struct lineage_params *j, struct conf *c,
    const char *path)
{
	const struct config	*cfg = run->cfg;
	const char		*server = cli_dry_run_server(cfg, j->server);
	time_t			 until, ca_until;
	long			 ra = 0;
	enum err		 e;

	/* A CA that asked this run to wait gets no new order before its
	 * time, or none at all when that is too far off. */
	if ((e = ratelimit_gate(&run->rl, server, &until)) == ERR_SIGNAL)
		return false;
	if (e == ERR_OK) {
		log_info("renewing %s", j->name);
		(void)acme_take_ratelimit_retry(ss->acme);
		(void)acme_take_ratelimit_held(ss->acme);
		e = s != NULL ? renew_with(cfg, ss, s, j) : renew_one(cfg, ss,
		    rs, j);
		ra = e == ERR_OK ? 0 : acme_take_ratelimit_retry(ss->acme);
		until = acme_take_ratelimit_held(ss->acme);
	}
	/* The CA's time as a date from now, not from run->now: the run may
	 * have begun long before the answer.  In clock_now's frame, as every
	 * due question (the test knob EXTAUTH_NOW moves it). */
	ca_until = until != 0 ? clock_now() + (until - time(NULL)) : ra > 0 ?
	    clock_now() + ra : 0;
	pthread_mutex_lock(&run->mu);
	if (e == ERR_OK) {
		add_name(run->renewed, j->name, NULL);
		add_domains(run->rdoms, j);
	} else {
		/* A refusal reported once for many orders leaves the others
		 * no error line of their own: their reason is the fact. */
		add_name(run->failed, j->name, until != 0 ?
		    "rate limited: not sent" : e == ERR_RATELIMIT ?
		    "rate limited by the CA" : log_last_error());
		add_domains(run->fdoms, j);
		if (e == ERR_RATELIMIT)
			run->n_limited++;
	}
	pthread_mutex_unlock(&run->mu);
	if (e == ERR_OK)
		return true;
	if (!cfg->dry_run && !j->foreign && sig_pending() == 0)
		backoff_record(j, c, path, run->now, ca_until);
	return true;
}

/* A worker's own connection, handler-mode solver, and sibling of the
 * run's JSON-mode solver (made when a JSON lineage first comes). */
struct renew_worker {
	struct session	 ss;
	struct solver	*s;
	enum solver_mode mode;		/* s's */
	char		*handler;	/* s's */
	bool		 chain;
	bool		 sibling;	/* s says no startup or exit */
	struct solver	*json;
};

static void *
worker_start(void *arg)
{
	struct renew_run	*run = arg;
	struct renew_worker	*w;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	session_share(&w->ss, run->ss);
	return w;
}

static void
worker_stop(void *state, void *arg)
{
	struct renew_worker	*w = state;

	(void)arg;
	if (w->s != NULL) {
		if (!w->sibling)
			solver_emit(w->s, event_phase(EVENT_EXIT));
		solver_free(w->s);
	}
	solver_free(w->json);
	free(w->handler);
	session_close(&w->ss);
	free(w);
}

/* A job that failed before its renewal could start. */
static void
job_failed(struct renew_run *run, const char *name, const char *why)
{
	pthread_mutex_lock(&run->mu);
	add_name(run->failed, name, why);
	pthread_mutex_unlock(&run->mu);
}

/*
 * Whether JSON lineage j talks to the command line's invoker (the run's
 * solver: its --socket, or stdin when a party is there), so that its
 * order can be in flight beside others (solver_mux.c).  Otherwise it is
 * renewed in walk order, where the missing invoker is reported.
 */
static bool
json_shared(const struct config *cfg, const struct lineage_params *j)
{
	return j->mode == SOLVER_JSON && cfg->mode == SOLVER_JSON &&
	    !cfg->defer && same_handler(j->socket, cfg->socket_path) &&
	    (j->socket != NULL || stdin_invoker());
}

/* The worker's solver for j: made again only when j's handler differs
 * from the last one's.  NULL when it cannot be made (logged). */
static struct solver *
worker_solver(struct renew_run *run, struct renew_worker *w,
    const struct lineage_params *j)
{
	const struct config	*cfg = run->cfg;
	struct solver		*parent;
	enum err		 e;

	/* Re-read under the lock: still for the command line's invoker? */
	if (j->mode == SOLVER_JSON) {
		if (!json_shared(cfg, j)) {
			log_error("%s: its renewal conf changed to another "
			    "invoker meanwhile", j->name);
			return NULL;
		}
		if (w->json == NULL)
			w->json = solver_sibling(run->primary, &e);
		return w->json;
	}
	if (w->s != NULL && w->mode == j->mode && w->chain == j->hook_chain &&
	    same_handler(w->handler, j->handler))
		return w->s;
	if (w->s != NULL) {
		if (!w->sibling)
			solver_emit(w->s, event_phase(EVENT_EXIT));
		solver_free(w->s);
		w->s = NULL;
	}
	free(w->handler);
	w->chain = j->hook_chain;
	w->mode = j->mode;
	/* dehydrated calls startup_hook and exit_hook once per run: the
	 * walk started the run's solver for this hook (solver_for), and the
	 * worker's is a sibling of it, which calls neither. */
	w->sibling = j->mode == SOLVER_DEHYDRATED;
	if ((w->handler = j->handler ? strdup(j->handler) : NULL) == NULL &&
	    j->handler != NULL)
		log_error("out of memory");
	else if (w->sibling) {
		/* rs is the run's: made under mu, one startup_hook each. */
		pthread_mutex_lock(&run->mu);
		parent = solver_for(cfg, run->rs, j, &e);
		pthread_mutex_unlock(&run->mu);
		if (parent != NULL)
			w->s = solver_sibling(parent, &e);
	} else if ((w->s = cmd_solver_at(cfg, SOLVER_HANDLER, j->handler,
	    j->hook_chain, NULL, &e)) != NULL && solver_emit(w->s,
	    event_phase(EVENT_STARTUP)) != ERR_OK) {
		solver_free(w->s);
		w->s = NULL;
	}
	if (w->s == NULL) {
		free(w->handler);
		w->handler = NULL;
	}
	return w->s;
}

static void
worker_job(void *state, size_t i, void *arg)
{
	struct renew_run	*run = arg;
	struct renew_worker	*w = state;
	const char		*name = run->names[run->jobs[i]], *why = NULL;
	struct lineage_params	 j;
	struct conf		 conf;
	struct store_lineage	*ln = NULL;
	struct solver		*s;
	char			*path = NULL;
	bool			 is_due;
	enum err		 e;

	memset(&j, 0, sizeof j);
	memset(&conf, 0, sizeof conf);
	/*
	 * The walk found it due and let go of its lock; taken again here,
	 * and the conf read again under it, as the walk does: another run
	 * may have taken it, or renewed it, in between.
	 */
	if ((ln = store_lineage_open(&run->ss->store, name, &why)) == NULL) {
		job_failed(run, name, why ? why : "out of memory");
		goto out;
	}
	if ((e = store_lineage_lock(ln)) == ERR_LOCKED) {
		log_info("%s: in progress elsewhere (another extauth run holds "
		    "its lock); skipped", name);
		pthread_mutex_lock(&run->mu);
		add_name(run->elsewhere, name, NULL);
		pthread_mutex_unlock(&run->mu);
		goto out;
	} else if (e != ERR_OK) {
		job_failed(run, name, log_last_error());
		goto out;
	}
	if ((path = store_lineage_conf_path(ln)) == NULL ||
	    conf_read(path, &conf) != ERR_OK) {
		job_failed(run, name, "unreadable renewal conf");
		goto out;
	}
	if (job_from_conf(run->cfg, name, &conf, &j) != ERR_OK) {
		job_failed(run, name, log_last_error());
		goto out;
	}
	j.lineage = ln;
	/* Fills the names from the certificate when the conf has none. */
	if (due(&j, run->now, &is_due) != ERR_OK) {
		job_failed(run, name, log_last_error());
		goto out;
	}
	if (!is_due && !run->cfg->force_renewal && !run->cfg->dry_run &&
	    !(!j.foreign && ari_due(&j, run->now))) {
		log_info("%s: renewed by another run meanwhile; not due any "
		    "more", name);
		goto out;
	}
	if ((s = worker_solver(run, w, &j)) == NULL) {
		job_failed(run, name, log_last_error());
		goto out;
	}
	(void)renew_attempt(run, &w->ss, s, NULL, &j, &conf, path);
out:
	free(path);
	conf_clear(&conf);
	lineage_params_clear(&j);
	store_lineage_close(ln);
}

static const struct pool_ops renew_pool_ops = {
	.start = worker_start,
	.job = worker_job,
	.stop = worker_stop,
};

/* Leaves names[k] to the workers. */
static enum err
job_add(struct renew_run *run, size_t k)
{
	size_t	*v;

	if (run->n_jobs % 64 == 0) {
		if ((v = realloc(run->jobs, (run->n_jobs + 64) * sizeof *v)) ==
		    NULL) {
			log_error("out of memory");
			return ERR_INTERNAL;
		}
		run->jobs = v;
	}
	run->jobs[run->n_jobs++] = k;
	return ERR_OK;
}

/* Whether a and b name the same CA; NULL names none. */
static bool
same_server(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * Reads lineage ln's conf (*path and *c, replaced) into *j (cleared
 * first) and says whether it is due.  ERR_USAGE (logged) for a lineage
 * extauth cannot renew; other errors are logged and *why is the reason
 * for the run's list of failures.  Called before the lineage's lock and
 * again under it.
 */
static enum err
examine(const struct config *cfg, const char *name, struct store_lineage *ln,
    struct conf *c, char **path, struct lineage_params *j, time_t now,
    bool *is_due, const char **why)
{
	enum err	e = ERR_STORAGE;

	free(*path);
	*path = NULL;
	conf_clear(c);
	lineage_params_clear(j);
	*is_due = false;
	*why = "unreadable renewal conf";
	if ((*path = store_lineage_conf_path(ln)) == NULL ||
	    conf_read(*path, c) != ERR_OK)
		goto out;
	*why = NULL;
	if ((e = job_from_conf(cfg, name, c, j)) != ERR_OK)
		goto out;
	j->lineage = ln;
	e = due(j, now, is_due);
out:
	if (e != ERR_OK && *why == NULL)
		*why = log_last_error();
	return e;
}

enum err
cmd_renew(const struct config *cfg)
{
	struct session		 ss;
	struct renew_solvers	 rs;
	struct renew_run	 run;
	struct lineage_params	 j;
	struct store_lineage	*ln = NULL;
	struct store_batch	*ari_batch = NULL;
	struct conf		 conf;
	struct solver		*primary = NULL;
	json_t			*messages = json_array();
	json_t			*skipped = json_array();
	char			**names = NULL, *path = NULL, *no_ari = NULL;
	const char		*why, *srv;
	size_t			 n = 0, i, n_due = 0;
	time_t			 now = clock_now();
	enum err		 e, e1;
	bool			 is_due, ask_ari, pre_done = false;

	memset(&ss, 0, sizeof ss);
	memset(&rs, 0, sizeof rs);
	memset(&run, 0, sizeof run);
	ratelimit_init(&run.rl);
	pthread_mutex_init(&run.mu, NULL);
	run.cfg = cfg;
	run.ss = &ss;
	run.now = now;
	run.renewed = json_array();
	run.failed = json_array();
	run.rdoms = json_array();
	run.fdoms = json_array();
	run.elsewhere = json_array();
	memset(&j, 0, sizeof j);
	memset(&conf, 0, sizeof conf);
	e = ERR_USAGE;
	if (cfg->cert_name != NULL && !cmd_cert_name_ok(cfg->cert_name, NULL))
		goto out;
	if ((primary = cmd_solver(cfg, cfg->mode, cfg->handler,
	    cfg->hook_chain, &e)) == NULL)
		goto out;
	rs.primary = primary;
	run.primary = primary;
	run.rs = &rs;
	if ((e = solver_emit(primary, event_phase(EVENT_STARTUP))) != ERR_OK)
		goto out;
	if ((e = cmd_session_open(&ss, cfg)) != ERR_OK)
		goto out;
	/* Every connection of the run, its workers' too, tells the pauses
	 * the CA asks for the moment they are asked. */
	session_set_ratelimit(&ss, &run.rl);
	e = ERR_INTERNAL;
	if ((ari_batch = store_batch_new(ARI_BATCH)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (cfg->cert_name != NULL) {
		if ((names = calloc(1, sizeof *names)) == NULL ||
		    (names[0] = strdup(cfg->cert_name)) == NULL) {
			e = ERR_INTERNAL;
			goto out;
		}
		n = 1;
	} else if ((e = store_lineage_list(&ss.store, &names, &n)) != ERR_OK)
		goto out;
	run.names = names;

	for (i = 0; i < n; i++) {
		/* Stopping (sig.c): no further lineage is started. */
		if (sig_pending() != 0)
			break;
		free(path);
		path = NULL;
		conf_clear(&conf);
		lineage_params_clear(&j);
		store_lineage_close(ln);
		if ((ln = store_lineage_open(&ss.store, names[i],
		    &why)) == NULL) {
			add_name(run.failed, names[i], why);
			continue;
		}
		/*
		 * Looked at without its lock first: a lineage that is not
		 * due, not backing off and whose ARI record is fresh needs
		 * nothing written, and a daily run over thousands of them
		 * should not pay a lock each (bench/renew.sh).  Another run
		 * that holds it can only make it less due.
		 */
		if ((e1 = examine(cfg, names[i], ln, &conf, &path, &j, now,
		    &is_due, &why)) != ERR_OK) {
			if (e1 != ERR_USAGE)
				add_name(run.failed, names[i], why);
			continue;
		}
		if (!is_due && !cfg->force_renewal && !cfg->dry_run &&
		    (j.retry_after == 0 || now >= (time_t)j.retry_after) &&
		    (j.foreign || (j.ari_next > 0 && now <
		    (time_t)j.ari_next) || (no_ari != NULL &&
		    same_server(no_ari, j.server ? j.server : ss.server))))
			continue;
		/* Another run (or worker) has it: not a failure.  Held from
		 * here, and the conf and links read again, so what that run
		 * left counts: a lineage it just renewed is not due any
		 * more. */
		if ((e1 = store_lineage_lock(ln)) == ERR_LOCKED) {
			log_info("%s: in progress elsewhere (another extauth "
			    "run holds its lock); skipped", names[i]);
			add_name(run.elsewhere, names[i], NULL);
			continue;
		} else if (e1 != ERR_OK) {
			add_name(run.failed, names[i], log_last_error());
			continue;
		}
		if ((e1 = examine(cfg, names[i], ln, &conf, &path, &j, now,
		    &is_due, &why)) != ERR_OK) {
			if (e1 != ERR_USAGE)
				add_name(run.failed, names[i], why);
			continue;
		}
		j.lineage = ln;
		/* A lineage that failed lately waits (backoff_record). */
		if (!cfg->force_renewal && j.retry_after > 0 && now <
		    (time_t)j.retry_after) {
			backoff_say(&j);
			add_name(skipped, names[i], NULL);
			continue;
		}
		/* The CA's window (RFC 9773) may call for it sooner, when the
		 * recorded answer is stale. */
		srv = j.server != NULL ? j.server : ss.server;
		ask_ari = !is_due && !cfg->force_renewal && !cfg->dry_run &&
		    !j.foreign && !(j.ari_next > 0 && now <
		    (time_t)j.ari_next) && !(no_ari != NULL &&
		    same_server(no_ari, srv));
		if (ask_ari && ari_step(cfg, &ss, &j, &conf, path, now,
		    ari_batch, &ln)) {
			log_info("%s: renewing inside the CA's renewal window",
			    names[i]);
			is_due = true;
		}
		/* A CA without renewalInfo, or one that could not be
		 * reached (logged once, above): the run asks it no more, and
		 * its other lineages that are not due need no lock. */
		if (ask_ari && no_ari == NULL && srv != NULL &&
		    (ss.acme == NULL || strcmp(acme_url(ss.acme,
		    ACME_URL_DIRECTORY), srv) != 0 || acme_url(ss.acme,
		    ACME_URL_RENEWAL_INFO) == NULL) &&
		    (no_ari = strdup(srv)) == NULL) {
			e = ERR_INTERNAL;
			goto out;
		}
		/* No line per lineage that is not due: a daily cron over
		 * thousands of lineages would fill the log with them. */
		if (!is_due && !cfg->force_renewal && !cfg->dry_run)
			continue;
		/* certbot: before the first renewal; a signal stops here */
		if (n_due == 0 && (e = cli_random_sleep(cfg)) != ERR_OK)
			goto out;
		n_due++;
		/* Before the first renewal: renewal-hooks/pre/, then
		 * --pre-hook (certbot's order). */
		if (!pre_done) {
			pre_done = true;
			if (cmd_dir_hooks(&ss.store, STORE_HOOKS_PRE, NULL,
			    cfg->handler_timeout_s) != ERR_OK ||
			    (cfg->pre_hook != NULL && cmd_run_hook("pre hook",
			    cfg->pre_hook, NULL, cfg->handler_timeout_s) !=
			    ERR_OK)) {
				e = ERR_INVOKER;
				goto out;
			}
		}
		/*
		 * Handler mode runs one handler process per call, and the
		 * command line's JSON invoker tells its replies apart (FIFO
		 * or by token, solver_mux.c), so orders of different
		 * lineages can be in flight at once: the workers take them
		 * after the walk.  So can a dehydrated hook's, a process per
		 * call as a handler (its startup_hook and exit_hook still
		 * run once).  Text mode, and a JSON lineage with its own
		 * --socket, have one party that expects one order at a
		 * time: in walk order, here.
		 */
		if (cfg->max_concurrent > 1 && !cfg->defer &&
		    (j.mode == SOLVER_HANDLER || j.mode == SOLVER_DEHYDRATED ||
		    json_shared(cfg, &j))) {
			if ((e = job_add(&run, i)) != ERR_OK)
				goto out;
			continue;
		}
		if (!renew_attempt(&run, &ss, NULL, &rs, &j, &conf, path))
			break;
	}
	/* The workers open their lineages themselves (and would take a
	 * lineage lock there): the walk's last handle goes first. */
	store_lineage_close(ln);
	ln = NULL;
	if (run.n_jobs > 0 && sig_pending() == 0 && (e = pool_run((unsigned)
	    cfg->max_concurrent, run.n_jobs, &renew_pool_ops, &run)) !=
	    ERR_OK)
		goto out;
	/* A record that cannot be written is only asked for again. */
	if (store_batch_flush(ari_batch) != ERR_OK)
		log_warn("the CA's renewal windows of some lineages cannot be "
		    "recorded; they are asked again next run");
	ratelimit_report(&run.rl);
	/* certbot: the post hook runs once at the end when anything was
	 * attempted, whether or not a pre hook was given, with the domains
	 * that were and were not renewed (certbot 4.2). */
	if (n_due > 0 && post_hook(cfg, &ss.store, run.rdoms, run.fdoms) !=
	    ERR_OK)
		add_name(run.failed, "post hook", log_last_error());

	if (json_array_size(run.renewed) > 0)
		report_list(messages, 1, cfg->dry_run ? "Dry run: renewal "
		    "succeeded for " : cfg->defer ? "Deferred (each deferred "
		    "line says how to resume it): " : "Renewed: ", run.renewed);
	if (json_array_size(run.failed) > 0)
		report_list(messages, 0, "Renewal failed for: ", run.failed);
	if (json_array_size(skipped) > 0)
		report_list(messages, 0, "Skipped after failed renewals (backoff, "
		    "--force-renewal tries now): ", skipped);
	if (json_array_size(run.elsewhere) > 0)
		report_list(messages, 1, "In progress elsewhere (another extauth "
		    "run holds them): ", run.elsewhere);
	if ((e = cmd_report(messages, 2, "%zu lineage%s checked, %zu due, %zu "
	    "%s, %zu failed.", n, n == 1 ? "" : "s", n_due,
	    json_array_size(run.renewed), cfg->defer ? "deferred" : "renewed",
	    json_array_size(run.failed))) != ERR_OK)
		goto out;
	/* Only rate limits failed: the rate-limit exit, which says "later",
	 * not "something is broken". */
	e = cmd_run_result(json_array_size(run.failed), run.n_limited);
out:
	for (i = 0; i < rs.n; i++) {
		if (rs.v[i].s != primary) {
			solver_emit(rs.v[i].s, event_phase(EVENT_EXIT));
			solver_free(rs.v[i].s);
		}
		free(rs.v[i].handler);
		free(rs.v[i].socket);
	}
	cmd_finish(primary, e, messages);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(path);
	free(no_ari);
	conf_clear(&conf);
	lineage_params_clear(&j);
	store_lineage_close(ln);
	store_batch_free(ari_batch);
	free(run.jobs);
	json_decref(run.renewed);
	json_decref(run.rdoms);
	json_decref(run.fdoms);
	json_decref(run.failed);
	json_decref(skipped);
	json_decref(run.elsewhere);
	ratelimit_clear(&run.rl);
	pthread_mutex_destroy(&run.mu);
	session_close(&ss);
	return e;
}
