/*
 * cmd.h: the verbs.  Each returns an enum err; main turns it into the
 * exit code.
 */
#ifndef EXTAUTH_CMD_H
#define EXTAUTH_CMD_H

#include "cli.h"
#include "err.h"
#include "solver.h"
#include "store.h"

enum err	cmd_certonly(const struct config *);	/* certonly and run */
enum err	cmd_renew(const struct config *);
/* With --check, *check is the Nagios status (0 ok, 1 warning, 2
 * critical) for main to exit with when the listing itself worked. */
enum err	cmd_certificates(const struct config *, int *check);
enum err	cmd_revoke(const struct config *);
enum err	cmd_delete(const struct config *);
enum err	cmd_certbot_hook(const struct config *);
enum err	cmd_register(const struct config *);
enum err	cmd_unregister(const struct config *);
enum err	cmd_show_account(const struct config *);
enum err	cmd_update_account(const struct config *);

enum err	cmd_certonly_csr(const struct config *);	/* cmd_csr.c */
/* The lineage parameters of certonly for cfg's names as lineage name
 * (batch.c uses it per line); the caller clears p.  ERR_INTERNAL (logged)
 * when out of memory. */
struct lineage_params;
enum err	cmd_certonly_params(const struct config *, const char *name,
		    struct lineage_params *);
/* The two-phase mode (cmd_resume.c): resume ID (and certonly --resume
 * ID), pending [--json] [--cancel ID]. */
enum err	cmd_resume(const struct config *);
enum err	cmd_pending(const struct config *);

/* Shared by the verbs (cmd_common.c). */
struct session;
struct lineage_params;
struct lineage_result;
/*
 * Phase 1 of --defer for lineage p (certonly, renew; cmd_resume.c): keep
 * it when not due (a report message), else make the order, save it as a
 * pending order, hand its challenges out and print the deferred line;
 * *deferred says which.  renew: renew makes it (its resume then runs
 * renewal-hooks/deploy/ as renew would).
 */
enum err	 cmd_defer(struct session *, struct solver *,
		    const struct lineage_params *, bool renew,
		    json_t *messages, bool *deferred);
/* certonly's report message for a lineage obtained or kept
 * (cmd_certonly.c). */
enum err	 cmd_certonly_report(json_t *messages,
		    const struct lineage_result *);
/* The solver (told that we start), then the locked config dir, the CA's
 * directory and the account.  *s is set as soon as it exists, so the
 * caller's report reaches the invoker; the caller frees both. */
enum err	 cmd_start(const struct config *, struct solver **,
		    struct session *);
/* session_open with the session's options taken from cfg. */
enum err	 cmd_session_open(struct session *, const struct config *);
/* Usage checks of the names before the CA is asked (logged). */
bool		 cmd_wildcard_ok(const struct config *, char *const *, size_t);
bool		 cmd_ip_ok(const struct config *, char *const *, size_t);
/* False (two lines logged: what is wrong, what to do) when name cannot be
 * a lineage name; from_domain: the -d it was derived from, or NULL for
 * --cert-name. */
bool		 cmd_cert_name_ok(const char *name, const char *from_domain);
struct solver	*cmd_solver(const struct config *, enum solver_mode,
		    const char *handler, bool hook_chain, enum err *);
/* The same with JSON mode over socket_path (NULL: stdin/stdout) instead
 * of cfg's --socket: renew gives each lineage its own. */
struct solver	*cmd_solver_at(const struct config *, enum solver_mode,
		    const char *handler, bool hook_chain,
		    const char *socket_path, enum err *);
/* With --json (cfg->json_output): prints the verb's outcome as one line
 * on stdout, {"cmd": VERB, "ok": bool, "error": text|null} followed, on
 * success, by result's keys.  Takes result (may be NULL).  Returns e, or
 * ERR_INTERNAL (logged) when a success cannot be written. */
enum err	 cmd_result(const struct config *, enum err e, json_t *result);
/* Prints the report line (JSON, handler, dehydrated modes) and the
 * exit_hook event, then frees the solver. */
void		 cmd_finish(struct solver *, enum err, json_t *messages);
/* Adds {"priority": p, "on_crash": true, "lines": [text]} to messages. */
void		 cmd_report_add(json_t *messages, int priority, const char *);
/* The same, formatted, and logged at info level (stderr and the log). */
/* The result of a run over many certificates (renew, certonly --batch):
 * ERR_SIGNAL when stopped, else ERR_OK when none failed, ERR_RATELIMIT
 * when only rate limits failed ("later", not "broken"), else ERR_PARTIAL. */
enum err	 cmd_run_result(size_t n_failed, size_t n_limited);
enum err	 cmd_report(json_t *messages, int priority, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* Runs a user hook command (--pre-hook ...) without a shell: the command
 * is split on spaces; env gets extra (NULL-terminated "K=V"). */
enum err	 cmd_run_hook(const char *what, const char *cmd,
		    char *const *extra, long timeout_s);
/* acme_failure_cb that tells the solver (arg) with a request_failure
 * event (dehydrated's hook of that name). */
void		 cmd_request_failure(void *solver, long status,
		    const char *reason, const char *reqtype, const char *headers);
/* --deploy-hook for lineage name (RENEWED_LINEAGE, RENEWED_DOMAINS). */
struct store;
/* certbot's renewal-hooks/<pre|deploy|post>/ with env extra; see
 * cmd_common.c for the rules. */
enum err	 cmd_dir_hooks(const struct store *, enum store_hooks,
		    char *const *extra, long timeout_s);
/*
 * What renew runs after each lineage it renewed (cmd_renew.c, and the
 * resume of an order renew --defer made): renewal-hooks/deploy/, then
 * hook (the lineage's, or --deploy-hook) when not NULL; both run, the
 * first failure counts, as certbot.  Environment of cmd_deploy_hook.
 */
enum err	 cmd_renew_deploy_hooks(const struct store *, const char *hook,
		    const char *name, char *const *domains, size_t n,
		    long timeout_s);
enum err	 cmd_deploy_hook(const char *hook, const struct store *,
		    const char *name, char *const *domains, size_t n,
		    long timeout_s);

#endif
