/*
 * cmd_certbot_hook.c: the certbot-hook verb, a bridge for people who must
 * keep certbot.  certbot's manual plugin runs
 *
 *   extauth certbot-hook auth|cleanup [--handler H | --dehydrated
 *       --handler H | --socket PATH | --text-mode]
 *
 * once per challenge, and a --deploy-hook "extauth certbot-hook deploy
 * ..." once per lineage.  Each call rebuilds the challenge extauth would
 * have had from certbot's environment (CERTBOT_DOMAIN, CERTBOT_VALIDATION,
 * CERTBOT_TOKEN, CERTBOT_REMAINING_CHALLENGES, CERTBOT_ALL_DOMAINS; for
 * deploy RENEWED_LINEAGE, RENEWED_DOMAINS) and drives the same solver
 * with the same events, so one handler serves both extauth and certbot.
 *
 * Three things differ from an extauth run, because certbot holds the ACME
 * state and runs us once per challenge:
 *   - dns-01: certbot gives only the TXT value, so "key_auth" and "token"
 *     are "" (unknown).  http-01: key_auth is CERTBOT_VALIDATION.
 *   - cleanup: certbot does not say whether the CA accepted the challenge;
 *     "status" is "unknown", "validated" and "error" are null.
 *   - pre-perform/pre-cleanup go with the first challenge of the batch
 *     and post-perform/post-cleanup with the last.  certbot counts the
 *     batch for us: CERTBOT_ALL_DOMAINS has one entry per challenge and
 *     CERTBOT_REMAINING_CHALLENGES how many follow this one, so no state
 *     is kept between calls.  dehydrated's startup_hook goes with the
 *     first auth call; exit_hook is never sent (certbot knows when the
 *     run ends, we do not).
 *
 * certbot keeps the hook's stdout (CERTBOT_AUTH_OUTPUT) and shows it, so
 * JSON mode needs another channel: --socket PATH, a Unix stream socket the
 * invoker listens on.  One connection per call; the lines and the
 * acknowledgement are those of JSON mode on stdin/stdout.  In handler and
 * dehydrated modes the JSON lines still go to stdout, where certbot's log
 * keeps them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "domain.h"
#include "log.h"
#include "num.h"
#include "order.h"

#define HOOK_ENV_MAX	1024	/* cap on one CERTBOT_* value we use */
#define HOOK_DOMAINS_ENV_MAX (CLI_DOMAINS_MAX * (DOMAIN_MAX + 1))

extern char	**environ;

enum hook_word {
	HOOK_AUTH,
	HOOK_CLEANUP,
	HOOK_DEPLOY,
	HOOK__COUNT
};

static const char *const hook_words[] = {
	[HOOK_AUTH] = "auth",
	[HOOK_CLEANUP] = "cleanup",
	[HOOK_DEPLOY] = "deploy",
};
_Static_assert(sizeof(hook_words) / sizeof(hook_words[0]) == HOOK__COUNT,
    "hook_words must name every hook");

/* Where this call stands in certbot's batch of challenges. */
struct hook_batch {
	bool	first;
	bool	last;
};

/* The value of an environment variable, capped; NULL (logged when
 * required) if unset, empty or too long. */
static const char *
env_get(const char *name, size_t max, bool required)
{
	const char	*v = getenv(name);

	if (v == NULL || *v == '\0') {
		if (required)
			log_error("%s is not set: certbot-hook must be run by "
			    "certbot (--manual-auth-hook, --manual-cleanup-hook"
			    ", --deploy-hook)", name);
		return NULL;
	}
	if (strlen(v) > max) {
		log_error("%s is longer than %zu bytes", name, max);
		return NULL;
	}
	return v;
}

/* base64url, and '.' too when dot (an http-01 key authorization). */
static bool
b64u_ok(const char *s, bool dot)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    (dot && *s == '.')))
			return false;
	return true;
}

/*
 * First and last of the batch from certbot's counters.  Without them (a
 * person running the hook by hand) the call is a batch of its own.
 */
static void
batch_from_env(struct hook_batch *b)
{
	const char	*all, *rem, *p;
	long		 n = 1, left;

	b->first = b->last = true;
	if ((all = env_get("CERTBOT_ALL_DOMAINS", HOOK_DOMAINS_ENV_MAX,
	    false)) != NULL)
		for (p = all; *p != '\0'; p++)
			n += *p == ',';
	if ((rem = env_get("CERTBOT_REMAINING_CHALLENGES", 16, false)) ==
	    NULL)
		return;
	if (!num_parse_long(rem, 0, LONG_MAX, &left, NULL, 0)) {
		log_warn("ignoring CERTBOT_REMAINING_CHALLENGES=%.16s", rem);
		return;
	}
	b->first = left >= n - 1;
	b->last = left == 0;
}

/*
 * The challenge certbot is asking about, as order.c would have built it.
 * Caller frees with challenge_free.  NULL (logged) when certbot's
 * environment is missing or malformed.
 */
static struct challenge *
challenge_from_env(enum hook_word w)
{
	struct challenge	*ch = NULL;
	const char		*dom, *val, *tok, *base;
	char			*name = NULL, why[160];
	int			 r = 0;
	bool			 ok = false;

	if ((dom = env_get("CERTBOT_DOMAIN", DOMAIN_MAX + 2, true)) == NULL ||
	    (val = env_get("CERTBOT_VALIDATION", HOOK_ENV_MAX, true)) ==
	    NULL)
		goto out;
	tok = env_get("CERTBOT_TOKEN", HOOK_ENV_MAX, false);
	if ((name = domain_normalize(dom, why, sizeof why)) == NULL) {
		log_error("CERTBOT_DOMAIN \"%.80s\": %s", dom, why);
		goto out;
	}
	if (!b64u_ok(val, tok != NULL) || (tok != NULL && !b64u_ok(tok,
	    false))) {
		log_error("CERTBOT_VALIDATION or CERTBOT_TOKEN for %s is not "
		    "base64url", name);
		goto out;
	}
	if ((ch = calloc(1, sizeof *ch)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	ch->wildcard = strncmp(name, "*.", 2) == 0;
	base = ch->wildcard ? name + 2 : name;
	ch->type = tok != NULL ? CHAL_HTTP01 : CHAL_DNS01;
	if (ch->type == CHAL_DNS01)
		r = asprintf(&ch->txt_domain, "_acme-challenge.%s", base);
	else if ((ch->uri = order_http_uri(base, tok)) == NULL)
		r = -1;
	if (r == -1) {
		ch->txt_domain = ch->uri = NULL;
		log_error("out of memory");
		goto out;
	}
	if ((ch->domain = strdup(base)) == NULL ||
	    (ch->token = strdup(tok ? tok : "")) == NULL ||
	    (ch->validation = strdup(val)) == NULL ||
	    (ch->key_auth = strdup(tok ? val : "")) == NULL) {
		log_error("out of memory");
		goto out;
	}
	if (w == HOOK_CLEANUP)
		ch->status = ACME_STATUS_UNKNOWN;
	ok = true;
out:
	free(name);
	if (!ok) {
		challenge_free(ch);
		ch = NULL;
	}
	return ch;
}

static enum err
hook_auth(struct solver *s, struct challenge *ch, const struct hook_batch *b)
{
	enum err	e;

	if (b->first && ((e = solver_emit(s, event_phase(EVENT_STARTUP))) !=
	    ERR_OK || (e = solver_emit(s, event_phase(EVENT_PRE_PERFORM))) !=
	    ERR_OK))
		return e;
	if ((e = solver_emit(s, event_challenge(EVENT_PERFORM, ch, NULL))) !=
	    ERR_OK)
		return e;
	if (b->last)
		e = solver_emit(s, event_phase(EVENT_POST_PERFORM));
	return e;
}

/* Runs to the end whatever fails, as solver_cleanup does; first error
 * wins. */
static enum err
hook_cleanup(struct solver *s, struct challenge *ch,
    const struct hook_batch *b)
{
	enum err	e, first = ERR_OK;

	if (b->first)
		first = solver_emit(s, event_phase(EVENT_PRE_CLEANUP));
	e = solver_emit(s, event_challenge(EVENT_CLEANUP, ch, NULL));
	if (first == ERR_OK)
		first = e;
	if (b->last) {
		e = solver_emit(s, event_phase(EVENT_POST_CLEANUP));
		if (first == ERR_OK)
			first = e;
	}
	return first;
}

/* deploy_cert for each name of the lineage certbot just saved. */
static enum err
hook_deploy(struct solver *s)
{
	const char	*lin, *doms;
	char		*copy = NULL, *tok, *save = NULL;
	char		*path[4] = { NULL, NULL, NULL, NULL };
	static const char *const file[4] = { "cert", "privkey", "chain",
			    "fullchain" };
	struct stat	 st;
	double		 cert_ts = 0;
	size_t		 i, n = 0;
	enum err	 e = ERR_USAGE;

	if ((lin = env_get("RENEWED_LINEAGE", 4096, true)) == NULL ||
	    (doms = env_get("RENEWED_DOMAINS", HOOK_DOMAINS_ENV_MAX, true)) ==
	    NULL)
		goto out;
	e = ERR_INTERNAL;
	for (i = 0; i < 4; i++)
		if (asprintf(&path[i], "%s/%s.pem", lin, file[i]) == -1) {
			path[i] = NULL;
			goto out;
		}
	if (stat(path[0], &st) == -1) {
		log_error("RENEWED_LINEAGE: %s: %s", path[0], strerror(errno));
		e = ERR_STORAGE;
		goto out;
	}
	cert_ts = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
	if ((copy = strdup(doms)) == NULL)
		goto out;
	e = ERR_OK;
	for (tok = strtok_r(copy, " ", &save); tok != NULL && e == ERR_OK;
	    tok = strtok_r(NULL, " ", &save)) {
		if (!domain_valid(tok) && !domain_is_ip(tok) &&
		    !(strncmp(tok, "*.", 2) == 0 && domain_valid(tok + 2))) {
			log_error("RENEWED_DOMAINS: \"%.80s\" is not a domain "
			    "name", tok);
			e = ERR_USAGE;
			break;
		}
		n++;
		e = solver_emit(s, event_deploy(EVENT_DEPLOY_CERT, tok, path[0],
		    path[1], path[2], path[3], time(NULL), cert_ts, NULL));
	}
	if (e == ERR_OK && n == 0) {
		log_error("RENEWED_DOMAINS names no domain");
		e = ERR_USAGE;
	}
out:
	for (i = 0; i < 4; i++)
		free(path[i]);
	free(copy);
	return e;
}

enum err
cmd_certbot_hook(const struct config *cfg)
{
	struct solver		*s = NULL;
	struct challenge	*ch = NULL;
	struct hook_batch	 b;
	struct stat		 st;
	const char		*word = cfg->hook_args[0];
	enum hook_word		 w;
	enum err		 e = ERR_USAGE;

	for (w = 0; w < HOOK__COUNT; w++)
		if (word != NULL && strcmp(word, hook_words[w]) == 0)
			break;
	if (w == HOOK__COUNT) {
		log_error("certbot-hook needs auth, cleanup or deploy, not "
		    "\"%.40s\"", word ? word : "");
		goto out;
	}
	/* Only an existing logs dir: certbot shows whatever we complain
	 * about on stderr as a warning. */
	if (cfg->logs_dir != NULL && stat(cfg->logs_dir, &st) == 0)
		log_open_file(cfg->logs_dir);
	batch_from_env(&b);
	if (w != HOOK_DEPLOY && (ch = challenge_from_env(w)) == NULL)
		goto out;
	if ((s = cmd_solver(cfg, cfg->mode, cfg->handler, false, &e)) == NULL)
		goto out;
	switch (w) {
	case HOOK_AUTH:
		e = hook_auth(s, ch, &b);
		break;
	case HOOK_CLEANUP:
		e = hook_cleanup(s, ch, &b);
		break;
	case HOOK_DEPLOY:
	case HOOK__COUNT:
		e = hook_deploy(s);
		break;
	}
	if (e != ERR_OK)
		log_error("certbot-hook %s failed; certbot only warns about a "
		    "failing hook, so check its log", hook_words[w]);
out:
	solver_free(s);
	challenge_free(ch);
	return e;
}
