/*
 * err.h: the failure classes every layer returns, and the one table that
 * maps them to documented exit codes.  Layers below the command layer
 * return an enum err and log the object they failed on; only main and the
 * command layer turn it into an exit status.
 */
#ifndef EXTAUTH_ERR_H
#define EXTAUTH_ERR_H

enum err {
	ERR_OK = 0,
	ERR_USAGE,	/* bad flag, name or file given by the user */
	ERR_ACME,	/* CA, network or protocol failure after retries */
	ERR_CHALLENGE,	/* the CA rejected a challenge (authz invalid) */
	ERR_INVOKER,	/* invoker/handler aborted, failed or hung up */
	ERR_STORAGE,	/* local files: unreadable, unwritable, corrupt */
	ERR_LOCKED,	/* certbot, or a run on the same lineage, holds the lock */
	ERR_PARTIAL,	/* renew: some lineages failed, others did not */
	ERR_INTERNAL,	/* out of memory or a bug */
	ERR_SIGNAL,	/* stopped by SIGTERM/SIGINT/SIGHUP after cleanup */
	ERR_RATELIMIT,	/* the CA said rateLimited; retry after its time */
	ERR_PENDING,	/* a pending order that cannot be resumed (pending.h) */
	ERR__COUNT
};

/* Exit codes: documented in README.md ("Exit codes"); keep both in step. */
int		 err_exit_code(enum err);
const char	*err_name(enum err);

#endif
