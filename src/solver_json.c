/*
 * solver_json.c: JSON mode.  The line itself was printed by solver.c;
 * what this mode adds is the acknowledgement after each perform line.
 * An empty line means "deployed, go on" (the seed's protocol); a JSON
 * object {"result": "ok"} means the same and {"result": "fail", "error":
 * "..."} abandons the challenge.  End of input or anything else aborts.
 * A reply may name the perform line it answers with "token"; with several
 * orders on one invoker (solver_mux.c) that is how it reaches its order,
 * and a token that is not the line's is refused.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "solver_priv.h"

#define JSON_ECHO_MAX	128	/* bytes of a bad reply shown in the error */

static bool
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Reads the invoker's verdict on the perform event ev. */
static enum err
json_ack(struct solver *s, const struct event *ev)
{
	const char	*domain, *result, *error, *token, *mine;
	json_t		*reply = NULL;
	json_error_t	 jerr;
	char		*line = NULL;
	/* The invoker's words, quoted; an echo of its whole reply is cut
	 * to JSON_ECHO_MAX: one line, not 64 KiB. */
	char		 q[LOG_QUOTE_MAX];
	enum err	 e = ERR_INVOKER;

	domain = json_string_value(json_object_get(ev->rec, "domain"));
	switch (s->mux != NULL ? solver_mux_wait(s, s->o.invoker_timeout_ms,
	    &line) : solver_read_line(s, s->o.invoker_timeout_ms, &line)) {
	case SOLVER_READ_LINE:
		break;
	case SOLVER_READ_EOF:
		log_error("the invoker closed its end (stdin, --socket or "
		    "--fifo's replies) instead of acknowledging the challenge "
		    "for %s; aborting", domain);
		goto out;
	case SOLVER_READ_NUL:
		log_error("the invoker's reply for %s contains a NUL byte; "
		    "aborting", domain);
		goto out;
	case SOLVER_READ_TIMEOUT:
		log_error("waited %g s for the invoker to acknowledge the "
		    "challenge for %s, in vain (--invoker-timeout); aborting",
		    (double)s->o.invoker_timeout_ms / 1000, domain);
		goto out;
	case SOLVER_READ_SIGNAL:
		e = ERR_SIGNAL;
		goto out;
	case SOLVER_READ_ERROR:
		goto out;
	}
	if (blank(line)) {
		e = ERR_OK;
		goto out;
	}
	if ((reply = json_loads(line, 0, &jerr)) == NULL ||
	    !json_is_object(reply)) {
		log_error("the invoker's reply for %s is neither an empty line "
		    "nor a JSON object: %s", domain, log_quote(line, q,
		    JSON_ECHO_MAX));
		goto out;
	}
	token = json_string_value(json_object_get(reply, "token"));
	mine = json_string_value(json_object_get(ev->rec, "token"));
	if (token != NULL && (mine == NULL || strcmp(token, mine) != 0)) {
		log_error("the invoker's reply names the token %s, which is not "
		    "that of a perform_challenge line waiting for a reply (the "
		    "one for %s); aborting", log_quote(token, q, JSON_ECHO_MAX),
		    domain);
		goto out;
	}
	result = json_string_value(json_object_get(reply, "result"));
	error = json_string_value(json_object_get(reply, "error"));
	if (result != NULL && strcmp(result, "ok") == 0)
		e = ERR_OK;
	else if (result != NULL && strcmp(result, "fail") == 0)
		log_error("the invoker could not deploy the challenge for %s: "
		    "%s", domain, error ? log_quote(error, q, sizeof q) :
		    "(no reason given)");
	else
		log_error("the invoker's reply for %s has no \"result\" of "
		    "\"ok\" or \"fail\": %s", domain, log_quote(line, q,
		    JSON_ECHO_MAX));
out:
	json_decref(reply);
	free(line);
	return e;
}

static enum err
json_deliver(struct solver *s, const struct event *ev)
{
	if (ev->kind == EVENT_PERFORM && !s->o.no_ack)
		return json_ack(s, ev);
	return ERR_OK;
}

const struct solver_ops solver_json_ops = {
	.deliver = json_deliver,
};
