/*
 * solver_dehydrated.c: dehydrated mode.  Owns dehydrated's calling
 * convention for an existing hook script (docs/examples/hook.sh of
 * dehydrated): which event becomes which hook call, the unknown-hook probe
 * at startup, one deploy_cert per certificate, HOOK_CHAIN's single
 * deploy_challenge/clean_challenge call, and dehydrated's verdicts (every
 * non-zero exit is fatal except exit_hook's; there is no NotImplemented).
 * The argv itself comes from event_dehydrated_argv; running the program
 * and framing its output is solver_handler.c's.
 *
 * The environment is the seed's in this mode too: o.base_env plus the
 * event's KEY=value, cbot_KEY=value and cbot_json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "solver_priv.h"
#include "spawn.h"


/* What dehydrated runs first, to prove the hook ignores unknown commands. */
#define DEH_PROBE	"this_hookscript_is_broken__dehydrated_is_working_" \
			"fine__please_ignore_unknown_hooks_in_your_script"
#define DEH_NAMES_MAX	320	/* "D1 and N more" in messages */

struct deh_state {
	char	*last_cert;	/* cert_path of the last deploy call */
};

static enum err
deh_init(struct solver *s)
{
	enum err	e;

	if ((e = solver_handler_ops.init(s)) != ERR_OK)
		return e;
	if ((s->priv = calloc(1, sizeof(struct deh_state))) == NULL) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

static void
deh_fini(struct solver *s)
{
	struct deh_state	*st = s->priv;

	if (st != NULL)
		free(st->last_cert);
	free(st);
	s->priv = NULL;
}

/*
 * Runs argv and judges the exit as dehydrated does: non-zero is fatal
 * (ERR_INVOKER) unless fatal is false (exit_hook), when it is a warning.
 * names only labels the call in messages (may be NULL).
 */
static enum err
deh_call(struct solver *s, char *const argv[], char *const envp[],
    const char *names, bool fatal)
{
	struct spawn_result	 res;
	const char		*sep = names ? " for " : "";
	enum err		 e;

	memset(&res, 0, sizeof res);
	e = solver_handler_spawn(s, argv, envp, names, &res);
	if (e == ERR_OK && res.exit_code != 0) {
		if (fatal)
			log_error("hook %s failed during %s%s%s (exit %d)",
			    argv[0], argv[1], sep, names ? names : "",
			    res.exit_code);
		e = ERR_INVOKER;
	}
	if (e == ERR_INVOKER && !fatal) {
		log_warn("hook %s: %s failed; ignored, as dehydrated does",
		    argv[0], argv[1]);
		e = ERR_OK;
	}
	spawn_result_clear(&res);
	return e;
}

/*
 * dehydrated's first call: a command no hook knows.  A hook that fails on
 * it would also fail on every command dehydrated adds later, so it is
 * refused now, with dehydrated's own words.
 */
static enum err
deh_probe(struct solver *s, char *const envp[])
{
	struct spawn_result	 res;
	char			*argv[3] = { s->handler, DEH_PROBE, NULL };
	enum err		 e;

	memset(&res, 0, sizeof res);
	if ((e = solver_handler_spawn(s, argv, envp, NULL, &res)) != ERR_OK)
		goto out;
	if (res.exit_code != 0) {
		log_error("hook %s exited %d on an unknown command.  Please "
		    "check your hook script, it should exit cleanly without "
		    "doing anything on unknown/new hooks.", s->handler,
		    res.exit_code);
		e = ERR_INVOKER;
	}
out:
	spawn_result_clear(&res);
	return e;
}

/*
 * deploy_cert and unchanged_cert come once per domain (the seed's JSON
 * lines), dehydrated calls the hook once per certificate with its first
 * name: only the first event of each certificate passes.
 */
static bool
deh_repeated_cert(struct solver *s, const struct event *ev)
{
	struct deh_state	*st = s->priv;
	const char		*cert;
	char			*copy;

	cert = json_string_value(json_object_get(ev->rec, "cert_path"));
	if (cert == NULL)
		return false;
	if (st->last_cert != NULL && strcmp(st->last_cert, cert) == 0)
		return true;
	/* Out of memory here only costs a repeated call later. */
	if ((copy = strdup(cert)) != NULL) {
		free(st->last_cert);
		st->last_cert = copy;
	}
	return false;
}

/*
 * A challenge dehydrated has no call for (dns-persist-01): the user
 * publishes its record once and keeps it, so the hook is not asked; say
 * which record the CA will look for.
 */
static void
persist_note(struct solver *s, const struct event *ev)
{
	log_info("hook %s: no deploy_challenge for the %s challenge of %s "
	    "(as dehydrated): the CA looks for the TXT record %s = \"%s\", "
	    "which you publish once and keep", s->handler,
	    json_string_value(json_object_get(ev->rec, "type")),
	    json_string_value(json_object_get(ev->rec, "domain")),
	    json_string_value(json_object_get(ev->rec, "txt_domain")),
	    json_string_value(json_object_get(ev->rec, "validation")));
}

static enum err
deh_deliver(struct solver *s, const struct event *ev)
{
	const char	*domain;
	char		**argv = NULL, **envp = NULL;
	enum err	 e = ERR_INTERNAL;

	if ((ev->kind == EVENT_DEPLOY_CERT ||
	    ev->kind == EVENT_UNCHANGED_CERT) && deh_repeated_cert(s, ev)) {
		log_debug("hook %s: %s already called for this certificate",
		    s->handler, event_word(ev->kind));
		e = ERR_OK;
		goto out;
	}
	/* NULL with errno 0: dehydrated has no call for this event. */
	errno = 0;
	if ((argv = event_dehydrated_argv(ev, s->handler)) == NULL) {
		e = errno == ENOMEM ? ERR_INTERNAL : ERR_OK;
		if (e == ERR_OK && ev->kind == EVENT_PERFORM)
			persist_note(s, ev);
		goto out;
	}
	if ((envp = event_env(ev, s->o.base_env)) == NULL)
		goto out;
	if (ev->kind == EVENT_STARTUP && (e = deh_probe(s, envp)) != ERR_OK)
		goto out;
	domain = json_string_value(json_object_get(ev->rec, "domain"));
	e = deh_call(s, argv, envp, domain, ev->kind != EVENT_EXIT);
out:
	event_strv_free(argv);
	event_strv_free(envp);
	return e;
}

/*
 * HOOK_CHAIN=yes: one deploy_challenge (or clean_challenge) call with
 * DOMAIN TOKEN VALUE for every event, in order.  The environment is only
 * o.base_env: per-challenge variables cannot describe several challenges.
 */
static enum err
deh_deliver_chain(struct solver *s, struct event **evs, size_t n)
{
	const char	*first;
	char		**argv = NULL, **one = NULL, **grown;
	char		 names[DEH_NAMES_MAX];
	size_t		 argc = 0, i, j;
	enum err	 e = ERR_INTERNAL;

	for (i = 0; i < n; i++) {
		errno = 0;
		if ((one = event_dehydrated_argv(evs[i], s->handler)) == NULL) {
			if (errno != 0)
				goto out;
			if (evs[i]->kind == EVENT_PERFORM)
				persist_note(s, evs[i]);
			continue;
		}
		for (j = 0; one[j] != NULL; j++)
			continue;
		if ((grown = realloc(argv, (argc + j + 1) *
		    sizeof *argv)) == NULL) {
			log_error("out of memory building hook arguments");
			goto out;
		}
		argv = grown;
		/* The program and the command once; then each triple. */
		for (j = argc == 0 ? 0 : 2; one[j] != NULL; j++) {
			argv[argc++] = one[j];
			one[j] = NULL;
		}
		argv[argc] = NULL;
		/* What was taken is a suffix: the free stops at it. */
		event_strv_free(one);
		one = NULL;
	}
	if (argc < 2) {
		e = ERR_OK;
		goto out;
	}
	first = argc > 2 ? argv[2] : "";
	if (n > 1)
		snprintf(names, sizeof names, "%.255s and %zu more", first,
		    n - 1);
	else
		snprintf(names, sizeof names, "%.255s", first);
	e = deh_call(s, argv, s->o.base_env, names, true);
out:
	event_strv_free(one);
	event_strv_free(argv);
	return e;
}

const struct solver_ops solver_dehydrated_ops = {
	.init = deh_init,
	.deliver = deh_deliver,
	.deliver_chain = deh_deliver_chain,
	.fini = deh_fini,
};
