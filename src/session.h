/*
 * session.h: what every command that talks to a CA sets up first: the
 * config directory (locked), the transport, the directory, the account.
 */
#ifndef EXTAUTH_SESSION_H
#define EXTAUTH_SESSION_H

#include <openssl/evp.h>

#include "acme.h"
#include "cli.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct session {
	const struct config	*cfg;
	const char		*server;	/* directory URL in use */
	const char		*ca_bundle;	/* overrides cfg's (renew) */
	struct store		 store;
	bool			 store_open;
	struct http		*http;
	char			*http_bundle;	/* the bundle http trusts */
	struct acme		*acme;
	EVP_PKEY		*account_key;
	acme_failure_cb		 on_failure;	/* given to every acme */
	void			*on_failure_arg;
	char			*account_id;
};

/* Opens and locks the config dir. */
enum err	 session_open(struct session *, const struct config *);
/* Connects to server (NULL: cfg->server) and fetches its directory;
 * a no-op when already connected to that server. */
enum err	 session_connect(struct session *, const char *server);
/* Loads this server's account or registers one (needs --agree-tos). */
enum err	 session_account(struct session *, const char *account_id);
void		 session_close(struct session *);

#endif
