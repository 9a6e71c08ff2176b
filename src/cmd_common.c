/*
 * cmd_common.c: what every verb needs around its work: the solver for the
 * chosen mode, the report line at the end, user hooks.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "domain.h"
#include "log.h"
#include "session.h"
#include "sig.h"
#include "solver_fifo.h"
#include "spawn.h"
#include "store.h"
#include "strv.h"

extern char	**environ;

#define CMD_HOOKS_MAX	1000	/* cap on entries run from one hook directory */

/*
 * Connects to the invoker's socket (--socket); the fd is the caller's.  A
 * read waits at most timeout_s for an acknowledgement, so a hung invoker
 * cannot hang us (or certbot).  -1 (logged) on failure.
 */
static int
socket_connect(const char *path, long timeout_s)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	int			 fd = -1;
	bool			 ok = false;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		log_error("socket path %s is longer than %zu bytes", path,
		    sizeof sun.sun_path - 1);
		goto out;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_error("socket: %s", strerror(errno));
		goto out;
	}
	tv.tv_sec = timeout_s;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1) {
		log_error("socket %s: cannot set a timeout: %s", path,
		    strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		log_error("cannot connect to the invoker's socket %s: %s", path,
		    strerror(errno));
		goto out;
	}
	ok = true;
out:
	if (!ok && fd != -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The channel: stdin/stdout, or the invoker's socket (--socket, JSON mode
 * only).  Under certbot (certbot-hook) stdout is certbot's, so JSON mode
 * needs the socket and text mode talks to the terminal.
 */
struct solver *
cmd_solver(const struct config *cfg, enum solver_mode mode,
    const char *handler, bool hook_chain, enum err *why)
{
	return cmd_solver_at(cfg, mode, handler, hook_chain, cfg->socket_path,
	    why);
}

struct solver *
cmd_solver_at(const struct config *cfg, enum solver_mode mode,
    const char *handler, bool hook_chain, const char *socket_path,
    enum err *why)
{
	struct solver_opts	 o = { 0 };
	struct solver		*s;
	bool			 certbot = cfg->verb == VERB_CERTBOT_HOOK;
	int			 fd = -1;

	*why = ERR_USAGE;
	o.mode = mode;
	o.handler = handler;
	o.handler_timeout_ms = cfg->handler_timeout_s * 1000;
	o.invoker_timeout_ms = cfg->invoker_timeout_s * 1000;
	/* --json: the verb's result line replaces the report line. */
	o.quiet = cfg->quiet || cfg->json_output;
	o.no_ack = cfg->defer;
	o.hook_chain = hook_chain;
	o.parallel_hooks = cfg->parallel_hooks;
	o.self_check = cfg->self_check;
	o.dns_resolver = cfg->dns_resolver;
	o.in_fd = 0;
	o.out_fd = 1;
	o.base_env = environ;
	if (socket_path != NULL && mode != SOLVER_JSON) {
		log_error("--socket is for JSON mode; it does not go with "
		    "--handler, --dehydrated or --text-mode");
		return NULL;
	}
	if (socket_path != NULL) {
		if ((fd = socket_connect(socket_path,
		    cfg->handler_timeout_s)) == -1) {
			*why = ERR_INVOKER;
			return NULL;
		}
	} else if (cfg->fifo_dir != NULL && mode == SOLVER_JSON) {
		/* Two pipes, one each way; solver_free closes both. */
		if ((*why = solver_fifo_open(cfg->fifo_dir,
		    cfg->handler_timeout_s * 1000, &o.in_fd, &o.out_fd)) !=
		    ERR_OK)
			return NULL;
		o.own_fds = true;
	} else if (certbot && mode == SOLVER_JSON) {
		log_error("certbot keeps the hook's stdout: JSON mode needs "
		    "--socket PATH (or use --handler PROG)");
		return NULL;
	} else if (certbot && mode == SOLVER_TEXT) {
		/* certbot's pipes are not the person: talk to the terminal. */
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
			log_error("text mode needs a terminal: /dev/tty: %s",
			    strerror(errno));
			return NULL;
		}
	} else if (certbot)
		o.in_fd = -1;
	if (fd != -1) {
		o.in_fd = o.out_fd = fd;
		o.own_fds = true;
	}
	if ((s = solver_new(&o, why)) == NULL && o.own_fds) {
		close(o.in_fd);
		if (o.out_fd != o.in_fd)
			close(o.out_fd);
	}
	return s;
}

enum err
cmd_report(json_t *messages, int priority, const char *fmt, ...)
{
	va_list	 ap;
	char	*text = NULL;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r == -1)
		return ERR_INTERNAL;
	log_info("%s", text);
	cmd_report_add(messages, priority, text);
	free(text);
	return ERR_OK;
}

void
cmd_report_add(json_t *messages, int priority, const char *text)
{
	json_t	*m;

	m = json_pack("{s:i, s:b, s:[s]}", "priority", priority, "on_crash",
	    1, "lines", text);
	if (m != NULL)
		json_array_append_new(messages, m);
}

/*
 * The verb's outcome as one line, for an orchestrator: the same spacing
 * and escapes as the protocol lines, and doc/protocol.schema.json
 * describes it.  The error is the report's text (both lines of it).
 */
enum err
cmd_result(const struct config *cfg, enum err e, json_t *result)
{
	json_t		*line = NULL, *v;
	const char	*key;
	char		*text = NULL;
	enum err	 r = e;

	if (!cfg->json_output) {
		json_decref(result);
		return e;
	}
	if ((line = json_object()) == NULL ||
	    json_object_set_new(line, "cmd",
	    json_string(cli_verb_name(cfg->verb))) == -1 ||
	    json_object_set_new(line, "ok", json_boolean(e == ERR_OK)) == -1 ||
	    json_object_set_new(line, "error", e == ERR_OK ? json_null() :
	    json_string(*log_last_error() ? log_last_error() :
	    err_name(e))) == -1)
		goto fail;
	/* A failed verb's keys may be half known: only the three above. */
	if (e == ERR_OK && result != NULL)
		json_object_foreach(result, key, v)
			if (json_object_set(line, key, v) == -1)
				goto fail;
	if ((text = json_dumps(line, JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII)) == NULL)
		goto fail;
	if (printf("%s\n", text) < 0 || fflush(stdout) == EOF) {
		log_error("%s --json: cannot write to stdout: %s",
		    cli_verb_name(cfg->verb), strerror(errno));
		r = e != ERR_OK ? e : ERR_INTERNAL;
	}
	goto out;
fail:
	log_error("%s --json: out of memory", cli_verb_name(cfg->verb));
	r = e != ERR_OK ? e : ERR_INTERNAL;
out:
	free(text);
	json_decref(line);
	json_decref(result);
	return r;
}

void
cmd_finish(struct solver *s, enum err e, json_t *messages)
{
	struct event	*ev;

	if (messages == NULL)
		messages = json_array();
	/* Said once, here, wherever the signal was noticed (sig.c). */
	if (e == ERR_SIGNAL)
		log_error("stopped by %s: nothing new was started, and cleanup "
		    "was sent for every challenge that had been deployed",
		    sig_name(sig_pending()));
	if (e != ERR_OK && json_array_size(messages) == 0)
		cmd_report_add(messages, 0, *log_last_error() ? log_last_error()
		    : err_name(e));
	if (s == NULL) {
		json_decref(messages);
		return;
	}
	solver_emit(s, event_report(messages));
	if ((ev = event_phase(EVENT_EXIT)) != NULL && e != ERR_OK)
		json_object_set_new(ev->rec, "error",
		    json_string(*log_last_error() ? log_last_error() :
		    err_name(e)));
	solver_emit(s, ev);
	solver_free(s);
}

/*
 * Runs argv[0] with argv (no shell), environ plus extra (NULL-terminated
 * "K=V"), for at most timeout_s; what names it in messages.  ERR_INVOKER
 * (reported here, once) when it cannot run or exits non-zero.
 */
static enum err
run_argv(const char *what, char *const *argv, char *const *extra,
    long timeout_s)
{
	struct spawn_result	 res = { 0 };
	char			**env = NULL;
	size_t			 ne = 0, nx = 0, i;
	enum err		 e = ERR_INTERNAL;

	while (environ[ne] != NULL)
		ne++;
	while (extra != NULL && extra[nx] != NULL)
		nx++;
	if ((env = calloc(ne + nx + 1, sizeof *env)) == NULL)
		goto out;
	for (i = 0; i < nx; i++)
		env[i] = extra[i];
	for (i = 0; i < ne; i++)
		env[nx + i] = environ[i];
	if (spawn_run(argv, env, -1, timeout_s * 1000, &res) == -1) {
		/* spawn.c says why; it is reported here, once. */
		if (res.interrupted != 0)
			log_warn("%s %s: %s", what, argv[0], res.why);
		else
			log_error("%s %s: %s", what, argv[0], res.why);
		e = res.interrupted != 0 ? ERR_SIGNAL : ERR_INVOKER;
		goto out;
	}
	if (res.out_len > 0)
		log_info("%s output: %s", what, res.out);
	if (res.err_len > 0)
		log_info("%s errors: %s", what, res.err);
	if (res.exit_code != 0) {
		log_error("%s %s failed (exit %d)", what, argv[0],
		    res.exit_code);
		e = ERR_INVOKER;
		goto out;
	}
	e = ERR_OK;
out:
	spawn_result_clear(&res);
	free(env);
	return e;
}

enum err
cmd_run_hook(const char *what, const char *cmd, char *const *extra,
    long timeout_s)
{
	char		*copy = NULL, *argv[64], *tok, *save = NULL;
	size_t		 n = 0;
	enum err	 e = ERR_INTERNAL;

	if ((copy = strdup(cmd)) == NULL)
		goto out;
	for (tok = strtok_r(copy, " \t", &save); tok != NULL &&
	    n < sizeof argv / sizeof argv[0] - 1;
	    tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	if (n == 0) {
		log_error("%s is empty", what);
		e = ERR_USAGE;
		goto out;
	}
	e = run_argv(what, argv, extra, timeout_s);
out:
	free(copy);
	return e;
}

static int
hook_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * certbot's hook directories (hooks.py list_hooks): every entry of
 * renewal-hooks/<which>/ that is an executable regular file, by name in
 * strcmp order, editor backups ("~" at the end) skipped, run as it is:
 * the path is the whole command, never split or given to a shell.  A
 * missing directory is no hooks.  Every hook runs even when one fails;
 * the first failure is returned.
 */
enum err
cmd_dir_hooks(const struct store *st, enum store_hooks which,
    char *const *extra, long timeout_s)
{
	static const char *const what[] = { "pre hook", "deploy hook",
	    "post hook" };
	struct dirent	 *de;
	struct stat	  sb;
	DIR		 *d = NULL;
	char		 *dir = NULL, **names = NULL, **grown, *argv[2];
	size_t		  n = 0, cap = 0, i, len;
	enum err	  e = ERR_INTERNAL, e1;

	_Static_assert(sizeof what / sizeof what[0] == STORE_HOOKS__COUNT,
	    "a name per hook kind");
	if ((dir = store_hooks_dir(st, which)) == NULL)
		goto out;
	if ((d = opendir(dir)) == NULL) {
		e = errno == ENOENT ? ERR_OK : ERR_STORAGE;
		if (e != ERR_OK)
			log_error("%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || de->d_name[len - 1] == '~')
			continue;
		if (n == CMD_HOOKS_MAX) {
			log_warn("%s: only the first %d hooks run", dir,
			    CMD_HOOKS_MAX);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((grown = realloc(names, cap * sizeof *names)) ==
			    NULL)
				goto out;
			names = grown;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) == -1)
			goto out;
		/* As certbot: a regular file, through a link, executable. */
		if (stat(names[n], &sb) == -1 || !S_ISREG(sb.st_mode) ||
		    access(names[n], X_OK) == -1) {
			free(names[n]);
			continue;
		}
		n++;
	}
	/* certbot makes the directories empty: names is NULL then. */
	if (n > 1)
		qsort(names, n, sizeof *names, hook_name_cmp);
	e = ERR_OK;
	for (i = 0; i < n && e != ERR_SIGNAL; i++) {
		argv[0] = names[i];
		argv[1] = NULL;
		if ((e1 = run_argv(what[which], argv, extra, timeout_s)) !=
		    ERR_OK && (e == ERR_OK || e1 == ERR_SIGNAL))
			e = e1;
	}
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return e;
}

/* RENEWED_LINEAGE and RENEWED_DOMAINS for lineage name: env[0], env[1]
 * (caller frees both); false (logged) when out of memory or the name is
 * bad. */
static bool
deploy_env(const struct store *st, const char *name, char *const *domains,
    size_t n, char *env[2])
{
	struct store_lineage	*ln;
	const char		*why;
	char			*dir = NULL, *list = NULL;
	bool			 ok = false;

	env[0] = env[1] = NULL;
	if ((ln = store_lineage_open(st, name, &why)) == NULL) {
		log_error("certificate name %s: %s", name, why);
		return false;
	}
	if ((dir = store_lineage_dir(ln, STORE_LIVE)) == NULL ||
	    (list = strv_join(domains, n, " ")) == NULL ||
	    asprintf(&env[0], "RENEWED_LINEAGE=%s", dir) == -1 ||
	    asprintf(&env[1], "RENEWED_DOMAINS=%s", list) == -1)
		log_error("out of memory");
	else
		ok = true;
	free(dir);
	free(list);
	store_lineage_close(ln);
	return ok;
}

/*
 * certbot's --deploy-hook: once per issued or renewed lineage, with
 * RENEWED_LINEAGE (the live/ directory) and RENEWED_DOMAINS (space
 * separated) in the environment.
 */
enum err
cmd_deploy_hook(const char *hook, const struct store *st, const char *name,
    char *const *domains, size_t n, long timeout_s)
{
	char	*env[3] = { NULL, NULL, NULL };
	enum err e = ERR_INTERNAL;

	if (deploy_env(st, name, domains, n, env))
		e = cmd_run_hook("deploy hook", hook, env, timeout_s);
	free(env[0]);
	free(env[1]);
	return e;
}

enum err
cmd_renew_deploy_hooks(const struct store *st, const char *hook,
    const char *name, char *const *domains, size_t n, long timeout_s)
{
	char	*env[3] = { NULL, NULL, NULL };
	enum err e = ERR_INTERNAL, e1 = ERR_OK;

	if (deploy_env(st, name, domains, n, env))
		e = cmd_dir_hooks(st, STORE_HOOKS_DEPLOY, env, timeout_s);
	free(env[0]);
	free(env[1]);
	if (hook != NULL)
		e1 = cmd_deploy_hook(hook, st, name, domains, n, timeout_s);
	return e != ERR_OK ? e : e1;
}

void
cmd_request_failure(void *solver, long status, const char *reason,
    const char *reqtype, const char *headers)
{
	/* The run is failing already; a failing hook cannot make it worse. */
	(void)solver_emit(solver, event_request_failure(status, reason,
	    reqtype, headers));
}

enum err
cmd_session_open(struct session *ss, const struct config *cfg)
{
	const struct session_opts	o = {
		.config_dir = cfg->config_dir,
		.work_dir = cfg->work_dir,
		.logs_dir = cfg->logs_dir,
		.server = cfg->server,
		.ca_bundle = cfg->ca_bundle,
		.email = cfg->email,
		.agree_tos = cfg->agree_tos,
		.register_unsafely = cfg->register_unsafely,
		.eab_kid = cfg->eab_kid,
		.eab_hmac = cfg->eab_hmac_key,
		.allow_cross_origin = cfg->allow_cross_origin,
		/* One connection to the CA for a run's many orders. */
		.multiplex = cfg->max_concurrent > 1 &&
		    (cfg->verb == VERB_RENEW || cfg->batch != NULL),
	};
	struct store_account		acct;
	const char			*prod;
	enum err			 e;

	if ((e = session_open(ss, &o)) != ERR_OK)
		return e;
	/* certbot: a dry run sent to staging registers there without asking
	 * when a production account shows the terms were agreed to. */
	if ((prod = cli_dry_run_agreed_server(cfg)) != NULL &&
	    store_account_load(&ss->store, prod, NULL, &acct) == ERR_OK) {
		if (acct.id != NULL) {
			ss->opts.agree_tos = true;
			if (ss->opts.email == NULL)
				ss->opts.register_unsafely = true;
		}
		store_account_clear(&acct);
	}
	return ERR_OK;
}

/*
 * What both kinds of certonly do first: the solver (told that we start),
 * then the locked config dir, the CA's directory and the account.  *s is
 * set as soon as it exists, so the caller's report reaches the invoker.
 */
enum err
cmd_start(const struct config *cfg, struct solver **s, struct session *ss)
{
	enum err	e;

	if ((*s = cmd_solver(cfg, cfg->mode, cfg->handler, cfg->hook_chain,
	    &e)) == NULL)
		return e;
	if ((e = solver_emit(*s, event_phase(EVENT_STARTUP))) != ERR_OK ||
	    (e = cmd_session_open(ss, cfg)) != ERR_OK)
		return e;
	session_set_failure_cb(ss, cmd_request_failure, *s);
	if ((e = session_connect(ss, NULL)) != ERR_OK)
		return e;
	return session_account(ss, NULL);
}

static bool
any_wildcard(char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strncmp(names[i], "*.", 2) == 0)
			return true;
	return false;
}

/* False (logged) for a wildcard among names without dns-01 to prove it. */
bool
cmd_wildcard_ok(const struct config *cfg, char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < cfg->n_prefs; i++)
		if (chal_type_is_dns(cfg->prefs[i]))
			return true;
	if (!any_wildcard(names, n))
		return true;
	log_error("wildcard names need a DNS challenge (dns-01, "
	    "dns-account-01 or dns-persist-01): add dns to "
	    "--preferred-challenges");
	return false;
}

/* False (logged) for an IP address among names without http-01 to prove
 * it: RFC 8738 §7 rules out dns-01.  Checked before the CA is asked. */
bool
cmd_ip_ok(const struct config *cfg, char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < cfg->n_prefs; i++)
		if (cfg->prefs[i] == CHAL_HTTP01)
			return true;
	for (i = 0; i < n; i++)
		if (domain_is_ip(names[i])) {
			log_error("%s: IP addresses can only be validated with "
			    "http-01: add http to --preferred-challenges",
			    names[i]);
			return false;
		}
	return true;
}

/*
 * A lineage name becomes a directory and file names, so it is checked
 * where it enters, before the CA hears of anything (issue 11 item 8):
 * otherwise a name store.c refuses would fail only after issuance.
 */
bool
cmd_cert_name_ok(const char *name, const char *from_domain)
{
	const char	*why;

	if ((why = store_lineage_name_problem(name)) == NULL)
		return true;
	if (from_domain == NULL)
		log_error("--cert-name: not a valid certificate name (%s)", why);
	else
		log_error("the certificate name taken from the first -d is "
		    "not valid (%s)", why);
	log_error("give --cert-name NAME: printable ASCII without '/' or a "
	    "leading '.', at most 250 characters");
	return false;
}

enum err
cmd_run_result(size_t n_failed, size_t n_limited)
{
	if (sig_pending() != 0)
		return ERR_SIGNAL;
	if (n_failed == 0)
		return ERR_OK;
	return n_failed == n_limited ? ERR_RATELIMIT : ERR_PARTIAL;
}
