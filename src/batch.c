/*
 * batch.c: certonly --batch FILE (batch.h).  Owns the batch file's syntax:
 *
 *   # a comment, from '#' to the end of the line; blank lines are skipped
 *   example.com www.example.com --cert-name site --key-type rsa
 *   api.example.com,api2.example.com --required-profile shortlived
 *
 * One certificate per line: its names first (blank- or comma-separated,
 * as -d takes them), then any of its own options, spelled as on the
 * command line (cli_parse_batch_line has the list).  Everything else
 * (mode, handler, server, challenge preference, hooks) is the command
 * line's and applies to every line.  No quoting: no value of these needs
 * a blank.
 *
 * Every line is checked before anything is sent, and every bad line is
 * reported with its number, so one edit fixes them all.  Then one
 * session (lock, directory, account, connection) and one solver serve
 * every certificate in file order (in handler mode up to --max-concurrent
 * at once, each worker with its own connection and solver); a failure
 * does not stop the others, and a CA that asks to wait pauses the rest
 * (ratelimit.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"
#include "batch.h"
#include "cmd.h"
#include "lineage.h"
#include "log.h"
#include "pool.h"
#include "ratelimit.h"
#include "session.h"
#include "sig.h"
#include "strv.h"

#define BATCH_FILE_MAX		(4L * 1024 * 1024)	/* bytes */
#define BATCH_LINES_MAX		20000	/* certificates per file */
#define BATCH_WORDS_MAX		(CLI_DOMAINS_MAX + 16)	/* per line */

/* One certificate of the file. */
struct batch_item {
	int		 line;
	char		**argv;		/* argv[0] unused; words point into
					 * the run's copy of the file */
	int		 argc;
	struct config	 cfg;		/* the command line's, with the line's
					 * names and options */
	const char	*name;		/* lineage name, borrowed from cfg */
};

/* The file's certificates; owned by batch_certonly. */
struct batch {
	char			*text;	/* the file, split in place */
	struct batch_item	*v;
	size_t			 n;
};

/*
 * Reads path (at most BATCH_FILE_MAX bytes) into *text, NUL-terminated;
 * the caller frees.  Two lines reported and ERR_USAGE when it cannot.
 */
static enum err
read_file(const char *path, char **text)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd = -1, saved = 0;
	enum err	 e = ERR_USAGE;

	*text = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		saved = errno;
		log_error("--batch %s: cannot read it: %s", path,
		    strerror(saved));
		log_error("give a readable file with one certificate per line");
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > BATCH_FILE_MAX) {
		log_error("--batch %s: %s", path, S_ISREG(st.st_mode) ?
		    "larger than 4 MiB" : "not a regular file");
		log_error("give a file of at most 4 MiB with one certificate "
		    "per line");
		goto out;
	}
	e = ERR_INTERNAL;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	/* The size seen by fstat caps the read: a file that grows
	 * meanwhile is read as it was. */
	while (len < (size_t)st.st_size && (r = read(fd, buf + len,
	    (size_t)st.st_size - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			log_error("--batch %s: read: %s", path,
			    strerror(saved));
			log_error("give a readable file with one certificate "
			    "per line");
			e = ERR_USAGE;
			goto out;
		}
		len += (size_t)r;
	}
	if (memchr(buf, '\0', len) != NULL) {
		log_error("--batch %s: holds a NUL byte, so it is not text",
		    path);
		log_error("give a text file with one certificate per line");
		e = ERR_USAGE;
		goto out;
	}
	buf[len] = '\0';
	*text = buf;
	buf = NULL;
	e = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return e;
}

/* Splits line (in place) into it->argv; 0 words: a blank or comment
 * line.  ERR_USAGE (reported) for too many words. */
static enum err
split(const char *path, int lineno, char *line, struct batch_item *it)
{
	char	*w, *save = NULL, *hash;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	it->argc = 1;
	if ((it->argv = calloc(BATCH_WORDS_MAX + 2, sizeof *it->argv)) ==
	    NULL) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	it->argv[0] = "batch";
	for (w = strtok_r(line, " \t\r", &save); w != NULL;
	    w = strtok_r(NULL, " \t\r", &save)) {
		if (it->argc == BATCH_WORDS_MAX + 1) {
			log_error("%s:%d: more than %d words", path, lineno,
			    BATCH_WORDS_MAX);
			log_error("split the names over several certificates "
			    "(at most %d per line)", CLI_DOMAINS_MAX);
			return ERR_USAGE;
		}
		it->argv[it->argc++] = w;
	}
	return ERR_OK;
}

/* The lineage name of the item: --cert-name, else its first name without
 * a leading "*." (certonly's rule). */
static const char *
item_name(const struct config *c)
{
	if (c->cert_name != NULL)
		return c->cert_name;
	return strncmp(c->domains[0], "*.", 2) == 0 ? c->domains[0] + 2 :
	    c->domains[0];
}

/*
 * Checks the item as certonly would check one command line; false when
 * it cannot be ordered (reported: the check's own lines, then which line
 * of the file).
 */
static bool
item_ok(const char *path, struct batch *b, size_t k)
{
	struct batch_item	*it = &b->v[k];
	size_t			 i;

	it->name = item_name(&it->cfg);
	if (!cmd_wildcard_ok(&it->cfg, it->cfg.domains, it->cfg.n_domains) ||
	    !cmd_ip_ok(&it->cfg, it->cfg.domains, it->cfg.n_domains) ||
	    !cmd_cert_name_ok(it->name, it->cfg.cert_name ? NULL :
	    it->cfg.domains[0])) {
		log_error("%s:%d: the line refused above", path, it->line);
		return false;
	}
	for (i = 0; i < k; i++)
		if (b->v[i].name != NULL && strcmp(b->v[i].name, it->name) ==
		    0) {
			log_error("%s:%d: certificate name %s is line %d's as "
			    "well", path, it->line, it->name, b->v[i].line);
			log_error("give one of them its own --cert-name");
			return false;
		}
	return true;
}

/*
 * Reads and checks the whole file into b.  ERR_USAGE when any line is
 * bad: each is reported, none is ordered.
 */
static enum err
batch_load(const struct config *cfg, struct batch *b)
{
	const char	*path = cfg->batch;
	char		*line, *next;
	size_t		 bad = 0;
	int		 lineno = 0;
	enum err	 e;

	if ((e = read_file(path, &b->text)) != ERR_OK)
		return e;
	for (line = b->text; line != NULL; line = next) {
		struct batch_item	*it;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (b->n == BATCH_LINES_MAX) {
			log_error("%s:%d: more than %d certificates", path,
			    lineno, BATCH_LINES_MAX);
			log_error("split the file over several runs");
			return ERR_USAGE;
		}
		if (b->n % 64 == 0) {
			struct batch_item *v = realloc(b->v, (b->n + 64) *
			    sizeof *v);

			if (v == NULL) {
				log_error("out of memory");
				return ERR_INTERNAL;
			}
			b->v = v;
		}
		it = &b->v[b->n];
		memset(it, 0, sizeof *it);
		it->line = lineno;
		if ((e = split(path, lineno, line, it)) != ERR_OK) {
			free(it->argv);
			if (e != ERR_USAGE)
				return e;
			bad++;
			continue;
		}
		if (it->argc == 1) {
			free(it->argv);
			continue;
		}
		/* The command line's values; the line adds its own names
		 * and options (cli_config_clear frees only those). */
		it->cfg = *cfg;
		it->cfg.n_domains = 0;
		it->cfg.n_owned = 0;
		b->n++;
		if ((e = cli_parse_batch_line(path, lineno, it->argc, it->argv,
		    &it->cfg)) == ERR_INTERNAL)
			return e;
		if (e != ERR_OK || !item_ok(path, b, b->n - 1)) {
			it->name = NULL;
			bad++;
		}
	}
	if (bad > 0) {
		log_error("%s: %zu bad line%s: nothing was sent to the CA",
		    path, bad, bad == 1 ? "" : "s");
		log_error("fix %s and run again", bad == 1 ? "it" : "them");
		return ERR_USAGE;
	}
	if (b->n == 0) {
		log_error("%s: no certificate in it (only blank lines and "
		    "comments)", path);
		log_error("give one certificate per line: its names, then its "
		    "options");
		return ERR_USAGE;
	}
	return ERR_OK;
}

static void
batch_clear(struct batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		cli_config_clear(&b->v[i].cfg);
		free(b->v[i].argv);
	}
	free(b->v);
	free(b->text);
	memset(b, 0, sizeof *b);
}

/* The command line's conflicts with --batch (two lines logged). */
static bool
usage_ok(const struct config *cfg)
{
	const char	*what = cfg->verb != VERB_CERTONLY ? "the run verb" :
			    cfg->n_domains > 0 ? "-d" : cfg->cert_name ?
			    "--cert-name" : cfg->csr ? "--csr" : NULL;

	if (what == NULL)
		return true;
	log_error("--batch: %s cannot be given with it", what);
	log_error("give each certificate's names and --cert-name on its line "
	    "of the file, and use extauth certonly --batch FILE");
	return false;
}

/* "prefix a, b, c" as one report line, when names is not empty, and on
 * stderr and in the log (a warning for priority 0: what failed). */
static void
report_list(json_t *messages, int prio, const char *prefix, json_t *names)
{
	char	*list, *s = NULL;

	if (json_array_size(names) == 0)
		return;
	if ((list = strv_join_json(names, ", ")) == NULL ||
	    asprintf(&s, "%s%s", prefix, list) == -1)
		s = NULL;
	if (s != NULL) {
		cmd_report_add(messages, prio, s);
		if (prio == 0)
			log_warn("%s", s);
		else
			log_info("%s", s);
	} else
		log_error("out of memory");
	free(list);
	free(s);
}

/* "name (why)" into arr. */
static void
add_failed(json_t *arr, const char *name, const char *why)
{
	char	*s = NULL;

	if (asprintf(&s, "%s (%s)", name, why ? why : "failed") != -1)
		json_array_append_new(arr, json_string(s));
	free(s);
}

/*
 * Obtains item it over the run's session and solver; ERR_OK with
 * *renewed set, or the failure (logged).
 */
static enum err
batch_one(const struct config *cfg, struct session *ss, struct solver *s,
    const struct batch_item *it, bool *renewed)
{
	struct lineage_params	 p = { 0 };
	struct lineage_result	 r = { 0 };
	enum err		 e;

	*renewed = false;
	if ((e = cmd_certonly_params(&it->cfg, it->name, &p)) != ERR_OK)
		goto out;
	solver_set_cert_name(s, it->name);
	if ((e = lineage_obtain(ss, s, &p, &r)) != ERR_OK)
		goto out;
	*renewed = r.renewed;
	if (r.renewed && !cfg->dry_run && cfg->deploy_hook != NULL)
		e = cmd_deploy_hook(cfg->deploy_hook, &ss->store, it->name,
		    it->cfg.domains, it->cfg.n_domains, cfg->handler_timeout_s);
out:
	solver_set_cert_name(s, NULL);
	lineage_result_clear(&r);
	lineage_params_clear(&p);
	return e;
}

/* One run over the file: what its workers share (the lists under mu,
 * the CA pauses under their own lock). */
struct batch_run {
	const struct config	*cfg;
	struct batch		*b;
	struct session		*ss;	/* the run's, holding the lock */
	struct solver		*s;	/* the run's (JSON: the invoker's) */
	struct ratelimit	 rl;
	pthread_mutex_t		 mu;
	json_t			*issued, *kept, *failed;
	size_t			 n_limited;
};

/*
 * Line i: waits out a pause of its CA (or fails it unsent), obtains it
 * over ss and s, records the outcome.  false when a stop signal ended
 * the wait: nothing more is started.
 */
static bool
batch_attempt(struct batch_run *run, struct session *ss, struct solver *s,
    size_t i)
{
	const struct config	*cfg = run->cfg;
	const struct batch_item	*it = &run->b->v[i];
	time_t			 until;
	bool			 renewed = false;
	enum err		 e;

	if ((e = ratelimit_gate(&run->rl, cfg->server, &until)) ==
	    ERR_SIGNAL)
		return false;
	if (e == ERR_OK) {
		log_info("%s:%d: obtaining %s", cfg->batch, it->line,
		    it->name);
		(void)acme_take_ratelimit_held(ss->acme);
		e = batch_one(cfg, ss, s, it, &renewed);
		until = acme_take_ratelimit_held(ss->acme);
	}
	pthread_mutex_lock(&run->mu);
	if (e == ERR_OK)
		json_array_append_new(renewed ? run->issued : run->kept,
		    json_string(it->name));
	else {
		/* A refusal reported once for many orders leaves the others
		 * no error line of their own: their reason is the fact. */
		add_failed(run->failed, it->name, until != 0 ?
		    "rate limited: not sent" : e == ERR_RATELIMIT ?
		    "rate limited by the CA" : log_last_error());
		if (e == ERR_RATELIMIT)
			run->n_limited++;
	}
	pthread_mutex_unlock(&run->mu);
	return true;
}

/* A worker's own connection, and its handler solver (handler mode) or
 * its sibling of the run's solver on the one invoker (JSON mode). */
struct batch_worker {
	struct session	 ss;
	struct solver	*s;
};

static void *
worker_start(void *arg)
{
	struct batch_run	*run = arg;
	struct batch_worker	*w;
	enum err		 e;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	session_share(&w->ss, run->ss);
	/* A sibling calls no startup_hook or exit_hook (dehydrated):
	 * the run's solver did and does, once. */
	if (run->cfg->mode == SOLVER_JSON ||
	    run->cfg->mode == SOLVER_DEHYDRATED)
		w->s = solver_sibling(run->s, &e);
	else
		w->s = cmd_solver_at(run->cfg, SOLVER_HANDLER,
		    run->cfg->handler, run->cfg->hook_chain, NULL, &e);
	if (w->s == NULL) {
		session_close(&w->ss);
		free(w);
		return NULL;
	}
	session_set_failure_cb(&w->ss, cmd_request_failure, w->s);
	/* Its own connection and the account cmd_start made sure of. */
	if (session_connect(&w->ss, NULL) != ERR_OK ||
	    session_account(&w->ss, NULL) != ERR_OK) {
		solver_free(w->s);
		session_close(&w->ss);
		free(w);
		return NULL;
	}
	return w;
}

static void
worker_job(void *state, size_t i, void *arg)
{
	struct batch_worker	*w = state;

	(void)batch_attempt(arg, &w->ss, w->s, i);
}

static void
worker_stop(void *state, void *arg)
{
	struct batch_worker	*w = state;

	(void)arg;
	solver_free(w->s);
	session_close(&w->ss);
	free(w);
}

static const struct pool_ops batch_pool_ops = {
	.start = worker_start,
	.job = worker_job,
	.stop = worker_stop,
};

enum err
batch_certonly(const struct config *cfg)
{
	struct batch		 b = { 0 };
	struct session		 ss;
	struct batch_run	 run;
	struct solver		*s = NULL;
	json_t			*messages = json_array();
	size_t			 i;
	enum err		 e;

	memset(&ss, 0, sizeof ss);
	memset(&run, 0, sizeof run);
	ratelimit_init(&run.rl);
	pthread_mutex_init(&run.mu, NULL);
	run.cfg = cfg;
	run.b = &b;
	run.ss = &ss;
	run.issued = json_array();
	run.kept = json_array();
	run.failed = json_array();
	e = ERR_USAGE;
	if (!usage_ok(cfg) || (e = batch_load(cfg, &b)) != ERR_OK)
		goto out;
	if ((e = cmd_start(cfg, &s, &ss)) != ERR_OK)
		goto out;
	/* Every connection of the run, its workers' too, tells the pauses
	 * the CA asks for the moment they are asked. */
	session_set_ratelimit(&ss, &run.rl);
	if (cfg->pre_hook != NULL && (e = cmd_run_hook("pre hook",
	    cfg->pre_hook, NULL, cfg->handler_timeout_s)) != ERR_OK)
		goto out;
	/*
	 * Handler mode runs one handler process per call, and JSON mode's
	 * invoker tells its replies apart (FIFO, or by token;
	 * solver_mux.c): up to --max-concurrent lines at once, each worker
	 * with its own solver.  So does a dehydrated hook, a process per
	 * call (startup_hook and exit_hook still once, the run's).  Text
	 * mode has one person who expects one order at a time: in file
	 * order, here.
	 */
	run.s = s;
	if ((cfg->mode == SOLVER_HANDLER || cfg->mode == SOLVER_DEHYDRATED ||
	    (cfg->mode == SOLVER_JSON && !cfg->defer)) &&
	    cfg->max_concurrent > 1) {
		if ((e = pool_run((unsigned)cfg->max_concurrent, b.n,
		    &batch_pool_ops, &run)) != ERR_OK)
			goto out;
	} else
		for (i = 0; i < b.n && sig_pending() == 0; i++)
			if (!batch_attempt(&run, &ss, s, i))
				break;
	ratelimit_report(&run.rl);
	if (cfg->post_hook != NULL && cmd_run_hook("post hook", cfg->post_hook,
	    NULL, cfg->handler_timeout_s) != ERR_OK)
		add_failed(run.failed, "post hook", log_last_error());
	report_list(messages, 1, cfg->dry_run ? "Dry run: obtained " :
	    "Issued: ", run.issued);
	report_list(messages, 1, "Kept, not due: ", run.kept);
	report_list(messages, 0, "Failed: ", run.failed);
	if ((e = cmd_report(messages, 2, "%zu certificate%s in %s: %zu "
	    "issued, %zu kept, %zu failed.", b.n, b.n == 1 ? "" : "s",
	    cfg->batch, json_array_size(run.issued),
	    json_array_size(run.kept), json_array_size(run.failed))) != ERR_OK)
		goto out;
	e = cmd_run_result(json_array_size(run.failed), run.n_limited);
out:
	cmd_finish(s, e, messages);
	json_decref(run.issued);
	json_decref(run.kept);
	json_decref(run.failed);
	ratelimit_clear(&run.rl);
	pthread_mutex_destroy(&run.mu);
	batch_clear(&b);
	session_close(&ss);
	return e;
}
