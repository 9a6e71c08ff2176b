/*
 * solver_priv.h: what solver.c shares with its backends (solver_*.c) and
 * nobody else.
 */
#ifndef EXTAUTH_SOLVER_PRIV_H
#define EXTAUTH_SOLVER_PRIV_H

#include "solver.h"

#define SOLVER_LINE_MAX	(64 * 1024)	/* cap on one line from the invoker */

struct solver_ops {
	/* Checks the options (handler present and executable ...). */
	enum err	(*init)(struct solver *);
	/* What this event means in this mode, after its JSON line (if any)
	 * was printed.  For EVENT_PERFORM it returns once the outside party
	 * says the challenge is in place. */
	enum err	(*deliver)(struct solver *, const struct event *);
	/* Optional: all perform (or cleanup) events of an order in one call
	 * (dehydrated HOOK_CHAIN).  NULL: deliver is called for each. */
	enum err	(*deliver_chain)(struct solver *, struct event **,
			    size_t);
	void		(*fini)(struct solver *);
};

/* A perform line waiting for its reply (solver_mux.c's queue). */
struct solver_waiter {
	struct solver_waiter	*next;
	char			*token;		/* the line's token; NULL: none */
	bool			 queued;
	bool			 done;		/* r (and line) are its answer */
	int			 r;		/* enum solver_read */
	char			*line;
};

struct solver_mux;

struct solver {
	struct solver_opts	 o;
	const struct solver_ops	*ops;
	char			*handler;	/* owned copy of o.handler */
	char			*cert_name;
	char			 inbuf[SOLVER_LINE_MAX];
	size_t			 inlen;
	bool			 in_eof;
	void			*priv;		/* backend state */
	/* JSON mode with siblings (solver_sibling): the shared reply
	 * queue, the primary's; and this solver's one waiting line. */
	struct solver_mux	*mux;
	struct solver_waiter	 waiter;
};

extern const struct solver_ops solver_json_ops;
extern const struct solver_ops solver_handler_ops;
extern const struct solver_ops solver_dehydrated_ops;
extern const struct solver_ops solver_text_ops;

/* What solver_read_line found. */
enum solver_read {
	SOLVER_READ_LINE,	/* a line (a final unterminated one too) */
	SOLVER_READ_EOF,	/* end of input */
	SOLVER_READ_ERROR,	/* read error or a line over the cap (logged) */
	SOLVER_READ_NUL,	/* the line holds a NUL byte (not logged) */
	SOLVER_READ_TIMEOUT,	/* nothing within timeout_ms (not logged) */
	SOLVER_READ_SIGNAL,	/* a signal came (sig.c; not logged) */
};
/*
 * One line from o.in_fd without its newline; *line is new memory the
 * caller frees (only with SOLVER_READ_LINE).  Waits at most timeout_ms
 * (0: no limit) and wakes on SIGTERM/SIGINT/SIGHUP.
 */
enum solver_read solver_read_line(struct solver *, long timeout_ms,
		    char **line);
/* Writes s and a newline to o.out_fd, all of it. ERR_INVOKER if the
 * reader went away. */
enum err	 solver_write_line(struct solver *, const char *s);
/*
 * solver_mux.c: writes a perform line and queues it for its reply, both
 * under the mux's lock (token: the line's, or NULL).  Then
 * solver_mux_wait returns the reply handed to it (as solver_read_line
 * does, timeout_ms 0: no limit).
 */
enum err	 solver_mux_post(struct solver *, const char *line,
		    const char *token);
enum solver_read solver_mux_wait(struct solver *, long timeout_ms,
		    char **line);
void		 solver_mux_free(struct solver_mux *);
bool		 solver_mux_is_reader(const struct solver_mux *,
		    const struct solver *);
/* Writes human text to o.out_fd (text mode). */
enum err	 solver_write_text(struct solver *, const char *s);

struct spawn_result;
/* Runs the handler (argv, envp) with the timeout, shows its output framed
 * like the seed's on stderr, and maps exec failure, timeout and signals to
 * ERR_INVOKER naming domain (may be NULL).  The exit status is left to the
 * caller (its meaning differs by mode).  Defined in solver_handler.c. */
enum err	 solver_handler_spawn(struct solver *, char *const argv[],
		    char *const envp[], const char *domain,
		    struct spawn_result *);

#endif
