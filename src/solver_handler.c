/*
 * solver_handler.c: handler mode, and the hook runner dehydrated mode
 * shares.  Owns the checks on the handler program, the call of one
 * handler (argv, environment, stdin, timeout), the framing of its output
 * on stderr as the seed printed it ("Handler output (perform): -----BEGIN
 * PERFORM----- ..."), and what its exit status means.
 *
 * The handler gets the seed's interface: argv[1] is the command word
 * (pre-perform, perform, post-perform, pre-cleanup, cleanup, post-cleanup,
 * deploy_cert, unchanged_cert), the event's fields arrive as KEY=value and
 * cbot_KEY=value, and the whole JSON line as cbot_json.  Exit 0 is
 * success; a non-zero exit with "NotImplemented" on stdout declines the
 * command (the seed meant this but broke it on Python 3); anything else
 * aborts the run.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "solver_priv.h"
#include "spawn.h"


#define HANDLER_WORD_MAX	128	/* longest word framed whole */
#define HANDLER_NOTIMPL		"NotImplemented"

/*
 * The handler must be there and runnable before any challenge exists:
 * finding out at the first perform would leave an order half done.
 */
static enum err
handler_init(struct solver *s)
{
	const char	*path = s->o.handler;
	struct stat	 st;

	if (path == NULL || *path == '\0') {
		log_error("%s mode needs a handler program",
		    solver_mode_name(s->o.mode));
		return ERR_USAGE;
	}
	/* Two lines, as every usage error: what is wrong, what to do. */
	if (stat(path, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			log_error("handler %s does not exist", path);
			log_error("give the path of an executable program with "
			    "--handler");
		} else
			log_error("cannot use handler %s: %s", path,
			    strerror(errno));
		return ERR_USAGE;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("handler %s is not a regular file", path);
		log_error("give the path of an executable program with "
		    "--handler");
		return ERR_USAGE;
	}
	if (access(path, X_OK) == -1) {
		log_error("handler %s is not executable", path);
		log_error("make it executable (chmod +x %s) or give another "
		    "--handler", path);
		return ERR_USAGE;
	}
	return ERR_OK;
}

/* Copies the command word upper-cased into buf (the frame's label). */
static void
upper_word(const char *word, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; word[i] != '\0' && i + 1 < len; i++)
		buf[i] = (char)toupper((unsigned char)word[i]);
	buf[i] = '\0';
}

/* Whether a non-empty text lacks its final newline. */
static const char *
newline_after(const char *text, size_t len)
{
	return len > 0 && text[len - 1] != '\n' ? "\n" : "";
}

/*
 * The seed's frame, through the logger so it reaches the log file as well:
 *
 *	Handler output (perform):
 *
 *	-----BEGIN PERFORM-----
 *	<stdout><stderr>-----END PERFORM-----
 *
 * A stream without a final newline gets one, so the END marker always
 * starts its own line.
 */
static void
show_output(const char *word, const struct spawn_result *res)
{
	char		 label[HANDLER_WORD_MAX];
	const char	*out = res->out ? res->out : "";
	const char	*err = res->err ? res->err : "";

	upper_word(word, label, sizeof label);
	log_info("Handler output (%s):\n\n-----BEGIN %s-----\n%s%s%s%s"
	    "-----END %s-----\n", word, label, out,
	    newline_after(out, res->out_len), err,
	    newline_after(err, res->err_len), label);
}

/*
 * Runs one hook: argv[0] is the program, argv[1] the command word, domain
 * (may be NULL) only names the event in messages.  stdin is /dev/null, the
 * timeout is o.handler_timeout_ms.  Shows the output framed, if there is
 * any.  ERR_OK when the program ran to an exit, whatever its status (the
 * caller judges it from *res, which it clears with spawn_result_clear);
 * ERR_INVOKER (logged) when it could not be run, hung or died of a
 * signal; ERR_SIGNAL (logged) when extauth was told to stop meanwhile and
 * killed it.
 */
enum err
solver_handler_spawn(struct solver *s, char *const argv[],
    char *const envp[], const char *domain, struct spawn_result *res)
{
	const char	*path = argv[0], *word = argv[1];
	const char	*sep = domain ? " for " : "";
	const char	*dom = domain ? domain : "";
	enum err	 e = ERR_OK;
	int		 rv;

	log_debug("running handler %s %s%s%s", path, word, sep, dom);
	rv = spawn_run(argv, envp, -1, s->o.handler_timeout_ms, res);
	/* What it said before it failed is part of the story. */
	if (!res->exec_failed && res->out_len + res->err_len > 0)
		show_output(word, res);
	/* spawn.c says why (not executable, timed out ...); this is the
	 * one place it is reported.  Killed for a signal is only a warning:
	 * the stop itself is reported once, by the command (cmd_finish). */
	if (rv == -1 && res->interrupted != 0) {
		log_warn("handler %s during %s%s%s: %s", path, word, sep, dom,
		    res->why);
		e = ERR_SIGNAL;
	} else if (rv == -1) {
		log_error("handler %s during %s%s%s: %s", path, word, sep, dom,
		    res->why);
		e = ERR_INVOKER;
	}
	return e;
}

/* Whether the handler's stdout, without surrounding blanks, is word. */
static bool
stdout_is(const struct spawn_result *res, const char *word)
{
	const char	*p = res->out;
	size_t		 len, wlen = strlen(word);

	if (p == NULL)
		return false;
	len = strlen(p);
	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	return len == wlen && memcmp(p, word, len) == 0;
}

static enum err
handler_deliver(struct solver *s, const struct event *ev)
{
	struct spawn_result	 res;
	const char		*word = event_word(ev->kind), *domain;
	char			*argv[3] = { s->handler, NULL, NULL };
	char			**envp = NULL;
	enum err		 e = ERR_OK;

	memset(&res, 0, sizeof res);
	/* The commands the seed's handler received; the rest are ours. */
	if (!event_handler_called(ev->kind))
		goto out;
	domain = json_string_value(json_object_get(ev->rec, "domain"));
	argv[1] = (char *)word;
	if ((envp = event_env(ev, s->o.base_env)) == NULL) {
		e = ERR_INTERNAL;
		goto out;
	}
	if ((e = solver_handler_spawn(s, argv, envp, domain, &res)) != ERR_OK)
		goto out;
	if (res.exit_code == 0)
		goto out;
	if (stdout_is(&res, HANDLER_NOTIMPL)) {
		log_warn("handler %s does not implement %s; continuing",
		    s->o.handler, word);
		goto out;
	}
	log_error("handler %s failed during %s%s%s (exit %d)", s->o.handler,
	    word, domain ? " for " : "", domain ? domain : "", res.exit_code);
	e = ERR_INVOKER;
out:
	spawn_result_clear(&res);
	event_strv_free(envp);
	return e;
}

const struct solver_ops solver_handler_ops = {
	.init = handler_init,
	.deliver = handler_deliver,
};
