/*
 * store.h: the config directory, in certbot's layout so users and tools
 * find things where they expect them:
 *
 *   accounts/<server host[:port]><server path>/<account id>/{private_key.json,regr.json,meta.json}
 *   archive/<name>/{cert,chain,fullchain,privkey}N.pem
 *   live/<name>/{cert,chain,fullchain,privkey}.pem -> ../../archive/<name>/...N.pem
 *   renewal/<name>.conf
 *   renewal/<name>.lock	the lineage's lock (store_lineage_lock)
 *   .extauth.lock		the run and config-dir locks, the run list
 *
 * Every file is written atomically (temp file in the same directory, fsync,
 * rename, fsync of the directory); private keys are 0600 in 0700
 * directories; the live/ links flip only once the whole new set is on disk.
 * Several runs may share one config dir (issue 10): each holds the run
 * lock shared, takes the config-dir lock for the moment it touches the
 * whole directory (account creation) and a lineage's own lock for as long
 * as it works on that lineage.  .extauth.lock lists the pid of each run
 * going on; a run that starts alone and finds pids there removes the
 * temporary files those runs left and completes half-flipped live/ links.
 * store.c says which lock is which and why they are fcntl OFD locks.
 */
#ifndef EXTAUTH_STORE_H
#define EXTAUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

#define STORE_FILE_MAX	(1024 * 1024)	/* cap on any file we read */
#define STORE_LINEAGES_MAX 1000000	/* cap on renewal .conf entries listed */

#define STORE_CERTBOT_LOCKS 3	/* logs, config and work dir */

struct store {
	char	*config_dir;
	char	*work_dir;
	char	*logs_dir;
	int	 lock_fd;	/* the run lock; -1 when not locked */
	bool	 marked;	/* our pid is in the run list */
	/* Started alone, so the recovery after dead runs is done: taking a
	 * lineage's lock need not repair its links again. */
	bool	 alone;
	/* certbot's .certbot.lock files we hold: the first n_certbot of
	 * these (so a zeroed struct holds none) */
	int	 certbot_fd[STORE_CERTBOT_LOCKS];
	char	*certbot_path[STORE_CERTBOT_LOCKS];
	size_t	 n_certbot;
};

/* Creates the directories if missing (config, live, renewal, work 0755;
 * accounts, archive, logs 0700); work_dir and logs_dir may be NULL.  On
 * failure (logged) nothing is left to free; otherwise store_close() frees. */
enum err	 store_open(struct store *, const char *config_dir,
		    const char *work_dir, const char *logs_dir);
/* Takes the run lock (config_dir/.extauth.lock, shared with other
 * extauth runs; tidying up first when alone after runs that died), then
 * certbot's locks as certbot takes them (lock.py: .certbot.lock in the
 * logs, config and work dirs, POSIX record locks; held shared), so
 * certbot and extauth never write one directory at once.  ERR_LOCKED
 * (logged, naming the lock file, the holder and its pid) if certbot
 * holds one. */
enum err	 store_lock(struct store *);
void		 store_close(struct store *);
/* The config-dir lock, for what touches the whole directory (creating
 * an account): exclusive, waiting for it when wait (others hold it only
 * for a moment), else ERR_LOCKED (not logged) when held.  *fd is its own
 * descriptor, so threads exclude each other too; store_dir_unlock lets
 * go.  Needs store_lock first (it made the file). */
enum err	 store_dir_lock(const struct store *, bool wait, int *fd);
void		 store_dir_unlock(int *fd);

/* Atomic write of a whole file with exactly the given mode (not umasked). */
enum err	 store_write_atomic(const char *path, const void *, size_t,
		    mode_t);
/* Reads a whole file (cap STORE_FILE_MAX); new NUL-terminated buffer the
 * caller frees.  ERR_STORAGE (logged) if missing/unreadable/too big;
 * if missing and missing_ok, returns ERR_OK with *out NULL. */
enum err	 store_read_file(const char *path, char **out, size_t *len,
		    bool missing_ok);
/* Reads a file extauth keeps (config dir, work dir): like
 * store_read_file, but a link is followed only if it is a live/ link of
 * certbot's shape (../../archive/NAME/FILE from live/NAME/, archive/NAME a
 * real directory, FILE not a link); any other link is refused.  Neither
 * reader blocks on, or reads, a FIFO or a device. */
enum err	 store_read_owned(const char *path, char **out, size_t *len,
		    bool missing_ok);
/* mkdir -p with mode for the created levels (exact, not umasked); levels
 * that already exist are left as they are.  For paths the user names. */
enum err	 store_mkdirs(const char *path, mode_t);
/* The same for a directory extauth keeps things in: the last level must
 * not be a symbolic link nor writable by group or others (ERR_STORAGE,
 * logged with the chmod that fixes it). */
enum err	 store_mkdirs_owned(const char *path, mode_t);

/* ---- accounts ---- */
/* accounts/<host[:port]><path> for a directory URL (certbot's netloc+path);
 * new string, caller frees.  NULL (logged) if the URL has no scheme://host,
 * a "." or ".." segment, or a character outside [A-Za-z0-9._:/-] after the
 * scheme (so no userinfo, query, or IPv6 literal). */
char		*store_account_server_dir(const struct store *, const char *dir_url);
struct store_account {
	char	*id;		/* directory name under the server dir */
	char	*dir;		/* full path of the account directory */
	char	*key_jwk;	/* contents of private_key.json */
	char	*uri;		/* account URL (regr.json "uri") */
	char	*regr;		/* contents of regr.json */
	char	*rollover_jwk;	/* rollover_key.json: a key change that
				 * may not have happened (keychange.h);
				 * NULL when none */
};
/* Finds the account for this server: the one named id, or (id NULL) the
 * first complete one by name, else the first half-made one.  ERR_OK with
 * acct->id NULL if there is none.  A half-made account (a run was killed
 * between saving the key and saving regr.json) has uri and regr NULL: the
 * caller registers its key again.  A directory without a key is not an
 * account: skipped, and removed under the config-dir lock.  Ids are
 * [A-Za-z0-9_-]+.  Fills acct (all members new strings); release with
 * store_account_clear(). */
enum err	 store_account_load(const struct store *, const char *dir_url,
		    const char *id, struct store_account *acct);
/* Writes private_key.json (0400, like certbot) alone under
 * accounts/<server>/<id>/ (0700): done before newAccount, so a run killed
 * after the CA created the account still has its key (see below). */
enum err	 store_account_save_key(const struct store *,
		    const char *dir_url, const char *id, const char *key_jwk);
/* Writes private_key.json unless key_jwk is NULL (saved already),
 * regr.json (0644, verbatim) and, unless it exists already, meta.json
 * (0644: creation_dt, creation_host). */
enum err	 store_account_save(const struct store *, const char *dir_url,
		    const char *id, const char *key_jwk, const char *regr_json);
void		 store_account_clear(struct store_account *);
/* Removes accounts/<server>/<id>/ and its files: a key saved by
 * store_account_save_key whose registration then failed. */
enum err	 store_account_drop(const struct store *, const char *dir_url,
		    const char *id);
/*
 * Account key rollover (keychange.c), in three steps so that a run killed
 * at any moment leaves a state the next run settles: the new key is
 * written beside the old one as rollover_key.json (0400) before the CA is
 * asked; then, once it is known whether the CA holds the new key,
 * store_account_end_rollover either renames it over private_key.json
 * (adopt) or removes it; both fsync the directory.
 */
enum err	 store_account_save_rollover(const struct store *,
		    const char *dir_url, const char *id, const char *key_jwk);
enum err	 store_account_end_rollover(const struct store *,
		    const char *dir_url, const char *id, bool adopt);
/* Removes the account's directory (after it was deactivated at the CA). */
enum err	 store_account_delete(const struct store *,
		    const struct store_account *);

/* ---- lineages (store_lineage.c) ---- */
/*
 * Why name cannot be a lineage name, or NULL when it can: it becomes a
 * directory and a file name, so not empty, no leading '.', no '/', only
 * printable ASCII, at most 250 characters.  The one rule; the verbs call
 * it where a name enters (--cert-name, a name derived from a domain)
 * to refuse a bad one before any request to the CA, and
 * store_lineage_open() is built on it.
 */
const char	*store_lineage_name_problem(const char *name);
/*
 * A lineage of one store, by a name that passed the rule above.  Opaque:
 * store_lineage_open() is the only way to make one, so every function
 * below that takes one knows its name is good and never looks again.
 */
struct store_lineage;
/* The lineage name of st, or NULL with *why (not logged) when name breaks
 * the rule or memory ran out.  st must outlive it; close it with
 * store_lineage_close(), which also lets go of its lock. */
struct store_lineage	*store_lineage_open(const struct store *,
			    const char *name, const char **why);
void		 store_lineage_close(struct store_lineage *);
/* Its name, as checked; valid while it is open. */
const char	*store_lineage_name(const struct store_lineage *);
/*
 * Takes the lineage's own lock (renewal/<name>.lock), without waiting:
 * ERR_LOCKED (not logged) when another run, or another handle of this
 * process, holds it; ERR_OK also when this handle holds it already.  Once
 * it is held, half-flipped live/ links of the lineage (a run killed in
 * store_lineage_save) are completed.  Held until store_lineage_close (or
 * the process ends: a crash leaves no stale lock).
 */
enum err	 store_lineage_lock(struct store_lineage *);
enum store_area {
	STORE_LIVE,	/* live/<name>: the links users point servers at */
	STORE_ARCHIVE,	/* archive/<name>: the numbered versions */
	STORE_AREA__COUNT
};
/* live/<name> or archive/<name>; new string, caller frees; NULL (logged)
 * when out of memory. */
char		*store_lineage_dir(const struct store_lineage *,
		    enum store_area);
/* Whether any of renewal/<name>.conf, live/<name>, archive/<name> exists. */
bool		 store_lineage_exists(const struct store_lineage *);
/* The lineage whose archive/ holds path (after resolving links), opened;
 * NULL if path is in none. */
struct store_lineage	*store_lineage_of_path(const struct store *,
			    const char *path);
/* Writes csr/<name>.pem (directory 0700, file 0644, atomic), the request
 * file dehydrated's sync_cert is shown; *path_out gets its path (caller
 * frees).  Errors logged. */
enum err	 store_lineage_csr_save(const struct store_lineage *,
		    const char *pem, char **path_out);
struct store_paths {
	char	*cert, *chain, *fullchain, *privkey;	/* live/ paths */
};
/* live/<name>/X.pem paths (whether or not they exist); new strings (NULL
 * members on failure, logged), release with store_lineage_paths_clear(). */
void		 store_lineage_paths(const struct store_lineage *,
		    struct store_paths *);
void		 store_lineage_paths_clear(struct store_paths *);
/* The N of the archive/<name>/certN.pem that live/<name>/cert.pem points
 * at; 0 if the lineage does not exist. -1 on a broken lineage (logged). */
int		 store_lineage_version(const struct store_lineage *);
/*
 * Writes archive/<name>/{privkey,cert,chain,fullchain}N.pem with N = one
 * more than any number there (privkey 0600, others 0644), then flips the
 * live/<name>/ links to them, as relative links, cert.pem last (creating
 * live/<name>/README on first use).  A failure before the flip leaves the
 * previous links untouched and removes the new archive files.
 * *version_out gets N.  If sync_cb is set it is called after the archive
 * files are on disk and before the links flip (dehydrated sync_cert), with
 * the archive paths; non-zero aborts with ERR_INVOKER.
 */
struct store_new_cert {
	const char	*privkey_pem;
	const char	*cert_pem;
	const char	*chain_pem;
	const char	*fullchain_pem;
};
typedef int	(*store_sync_cb)(void *arg, const char *key, const char *cert,
		    const char *fullchain, const char *chain);
enum err	 store_lineage_save(const struct store_lineage *,
		    const struct store_new_cert *, store_sync_cb, void *arg,
		    int *version_out);
/* Under the lineage's lock (taken if need be: ERR_LOCKED, not logged,
 * when another run holds it), removes renewal/<name>.conf, live/<name>/
 * (links, README), the files of archive/<name>/ and, last, the lock file;
 * absent parts are not an error.  A directory holding foreign entries is
 * left in place with a warning. */
enum err	 store_lineage_delete(struct store_lineage *);
/* renewal/<name>.conf path (its format: conf.h); new string, caller
 * frees; NULL (logged) when out of memory. */
char		*store_lineage_conf_path(const struct store_lineage *);
/* Lineage names from renewal/NAME.conf, sorted by strcmp, skipping (with a
 * warning) names that are not valid lineage names; caller frees each and
 * the array.  No renewal/ directory: ERR_OK, *n 0, *names NULL. */
enum err	 store_lineage_list(const struct store *, char ***names,
		    size_t *n);

/* ---- batches (store_batch.c) ---- */
/*
 * Deferred atomic writes, for what one run rewrites in many files and can
 * afford to lose in a crash, as long as each file stays whole (renew's
 * record of the CA's renewal windows): store_batch_write puts the data in
 * a temp file beside path at once, unsynced; store_batch_flush (also
 * called by store_batch_write when the batch is full) makes them durable
 * with one syncfs, renames them into place and fsyncs their directories
 * once.  hold (may be NULL) is a lineage handle the batch closes after the
 * rename, so whatever the handle holds covers the file until it is in
 * place.  store_batch_free drops what was not flushed: those files keep
 * their old content.
 */
#define STORE_BATCH_MAX	4096
struct store_batch;
struct store_batch	*store_batch_new(size_t cap);
enum err	 store_batch_write(struct store_batch *, const char *path,
		    const void *, size_t, mode_t, struct store_lineage *hold);
enum err	 store_batch_flush(struct store_batch *);
void		 store_batch_free(struct store_batch *);

/* ---- certbot's hook directories ---- */
enum store_hooks {
	STORE_HOOKS_PRE,	/* renewal-hooks/pre: before the first renewal */
	STORE_HOOKS_DEPLOY,	/* renewal-hooks/deploy: per renewed lineage */
	STORE_HOOKS_POST,	/* renewal-hooks/post: after the last */
	STORE_HOOKS__COUNT
};
/* config_dir/renewal-hooks/<pre|deploy|post>; new string, caller frees;
 * NULL (logged) when out of memory. */
char		*store_hooks_dir(const struct store *, enum store_hooks);

#endif
