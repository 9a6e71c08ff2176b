/*
 * session.h: what every command that talks to a CA sets up first: the
 * config directory (locked), the transport, the directory, the account.
 */
#ifndef EXTAUTH_SESSION_H
#define EXTAUTH_SESSION_H

#include <openssl/evp.h>

#include "acme.h"
#include "err.h"
#include "http.h"
#include "store.h"

/*
 * What a session needs from the command line or a renewal conf, filled by
 * the verbs (cmd_session_open), so this layer never sees struct config.
 * The strings are borrowed for the life of the session.
 */
struct session_opts {
	const char	*config_dir, *work_dir, *logs_dir;
	const char	*server;	/* directory URL */
	const char	*ca_bundle;	/* file or hashed dir; NULL: system */
	const char	*email;		/* registration contact, or NULL */
	bool		 agree_tos;
	bool		 register_unsafely;	/* no --email is fine */
	const char	*eab_kid, *eab_hmac;
	bool		 allow_cross_origin;	/* order URLs on other hosts */
	/* Many orders in flight (renew, certonly --batch at
	 * --max-concurrent > 1): the session and its children
	 * (session_share) send every request through one multi handle. */
	bool		 multiplex;
};

struct session {
	struct session_opts	 opts;
	const char		*server;	/* directory URL in use */
	const char		*ca_bundle;	/* overrides opts' (renew) */
	struct store		 store;
	bool			 store_open;
	struct http		*http;
	char			*http_bundle;	/* the bundle http trusts */
	/* The shared multi handle (opts.multiplex): made by session_open,
	 * borrowed by the children.  NULL: a connection of its own. */
	struct http_mux		*mux;
	bool			 mux_owned;
	struct acme		*acme;
	EVP_PKEY		*account_key;
	acme_failure_cb		 on_failure;	/* given to every acme */
	void			*on_failure_arg;
	struct ratelimit	*ratelimit;	/* the run's pauses, given to
						 * every acme, borrowed */
	char			*account_id;
};

/* Opens and locks the config dir; keeps a copy of *opts. */
enum err	 session_open(struct session *, const struct session_opts *);
/* Connects to server (NULL: opts.server) and fetches its directory;
 * a no-op when already connected to that server. */
enum err	 session_connect(struct session *, const char *server);
/* Who hears of every final non-2xx answer, now and after reconnects. */
void		 session_set_failure_cb(struct session *, acme_failure_cb,
		    void *arg);
/* The run's pauses (ratelimit.h) for every acme of this session and of
 * the sessions that share it from now on (renew, certonly --batch). */
void		 session_set_ratelimit(struct session *, struct ratelimit *);
/* The CA bundle in use: the override, else opts' (NULL: system). */
const char	*session_ca_bundle(const struct session *);
/* Loads this server's account or registers one (needs --agree-tos). */
enum err	 session_account(struct session *, const char *account_id);
/*
 * child: another session on parent's open, locked config dir, for a
 * worker thread (renew --max-concurrent): the store is borrowed (never
 * closed by child, so the lock stays), the options copied; child makes
 * its own transport, directory and account (session_connect,
 * session_account) and is closed with session_close before parent.
 */
void		 session_share(struct session *child, const struct session *);
void		 session_close(struct session *);

#endif
