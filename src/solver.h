/*
 * solver.h: how challenges and installer events reach the outside party.
 * solver.c owns the sequence (pre-perform, perform x N, post-perform, ...)
 * and prints the JSON line of every event (JSON, handler and dehydrated
 * modes all print it, as the seed did); the backends decide what else an
 * event means in their mode:
 *
 *   solver_json.c        wait for the invoker's acknowledgement line
 *   solver_handler.c     run the handler with the command word and env
 *   solver_dehydrated.c  run a dehydrated hook with dehydrated's argv
 *   solver_text.c        human instructions and "Press ENTER"
 */
#ifndef EXTAUTH_SOLVER_H
#define EXTAUTH_SOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "event.h"

enum solver_mode {
	SOLVER_JSON,
	SOLVER_HANDLER,
	SOLVER_DEHYDRATED,
	SOLVER_TEXT,
	SOLVER__COUNT
};
const char	*solver_mode_name(enum solver_mode);
int		 solver_mode_parse(const char *);	/* -1 if unknown */

struct solver_opts {
	enum solver_mode	 mode;
	const char		*handler;	/* program path (handler/dehydrated) */
	long			 handler_timeout_ms;
	/* JSON mode: how long to wait for each acknowledgement; 0: no
	 * limit. */
	long			 invoker_timeout_ms;
	bool			 hook_chain;	/* dehydrated HOOK_CHAIN=yes */
	/* Handler and dehydrated modes: the perform (cleanup) calls of one
	 * order's challenges run at once, each with its own timeout. */
	bool			 parallel_hooks;
	bool			 self_check;	/* text mode: look before prompting */
	const char		*dns_resolver;	/* that look; NULL: system's */
	int			 in_fd;		/* acknowledgements (JSON, text) */
	int			 out_fd;	/* protocol lines */
	char *const		*base_env;	/* environment passed to handlers */
	bool			 own_fds;	/* solver_free closes in_fd/out_fd */
	/* -q: only the JSON lines an invoker must act on are printed (JSON
	 * mode, all but the report); see prints_line in solver.c. */
	bool			 quiet;
	/* --defer's first phase: JSON-mode perform lines are printed and
	 * not acknowledged (the invoker answers by resuming). */
	bool			 no_ack;
};

struct solver;

/* New solver; caller frees with solver_free.  NULL (logged) if the options
 * do not fit (handler missing or not executable: ERR_USAGE in *why). */
struct solver	*solver_new(const struct solver_opts *, enum err *why);
void		 solver_free(struct solver *);
/*
 * A solver for another worker thread of the same run (certonly --batch):
 * the primary's mode, options and fds (not owned), its own cert_name.  In
 * JSON mode the replies on the shared input go to the perform line they
 * name by "token", else to the oldest one waiting (solver_mux.c).  Caller
 * frees it with solver_free, before the primary.
 */
struct solver	*solver_sibling(struct solver *primary, enum err *why);
/* Lines carry "cert_name" when set (renew over several lineages). */
void		 solver_set_cert_name(struct solver *, const char *);

/*
 * Deploy challenges: pre-perform, perform each, post-perform.  Each
 * challenge the outside party was told about gets ->performed set, so a
 * later solver_cleanup covers exactly those.  ERR_INVOKER when the invoker
 * or handler refused, failed or went away.
 */
enum err	 solver_perform(struct solver *, struct challenge **, size_t);
/* The CA rejected ch (dehydrated invalid_challenge). */
enum err	 solver_invalid(struct solver *, const struct challenge *);
/* pre-cleanup, cleanup for each performed challenge, post-cleanup. */
enum err	 solver_cleanup(struct solver *, struct challenge **, size_t);
/* Any other event (startup, deploy_cert, unchanged_cert, save, restart,
 * sync_cert, request_failure, report, exit).  Takes ownership of ev. */
enum err	 solver_emit(struct solver *, struct event *);

#endif
