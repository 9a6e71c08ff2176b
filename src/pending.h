/*
 * pending.h: the pending orders of the two-phase mode (--defer): one file
 * per order, WORK_DIR/pending/ID.json, 0600 in a 0700 directory, holding
 * everything `extauth resume ID` needs to finish the order in another
 * process: the order URL, the server and account, the certificate key and
 * CSR, the names, the lineage settings and the challenges as they were
 * handed out, the config dir phase 1 meant the lineage for and whether
 * renew made it.  pending.c owns the file's format, its path and its lock.
 */
#ifndef EXTAUTH_PENDING_H
#define EXTAUTH_PENDING_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "event.h"

#define PENDING_ID_MAX		64	/* ^[A-Za-z0-9_-]{1,64}$ */
#define PENDING_CHALS_MAX	200	/* 100 names, wildcard and base */

/* Whether id is a pending order id (the agreed ^[A-Za-z0-9_-]{1,64}$). */
bool		 pending_id_ok(const char *id);

/* A challenge as phase 1 handed it out. */
struct pending_chal {
	enum chal_type	 type;
	char		*domain;
	bool		 wildcard;
	char		*token;
	char		*url;
	char		*authz_url;
	char		*key_auth;	/* token "." thumbprint (public) */
	char		*validation;	/* what the outside party published */
	char		*txt_domain;	/* dns-01, else NULL */
	char		*uri;		/* http-01, else NULL */
};

/*
 * One pending order.  Owns every string, the arrays and the lock: fill it
 * with pending_new or pending_open, release it with pending_clear (which
 * drops the lock).  key_pem is a secret: pending_clear wipes it.
 */
struct pending {
	char			 id[PENDING_ID_MAX + 1];
	char			*path;		/* WORK_DIR/pending/ID.json */
	char			*cert_name;
	char			**domains;
	size_t			 n_domains;
	char			*order_url;
	char			*expires;	/* the CA's RFC 3339 time */
	long			 expires_at;	/* the same, epoch seconds */
	char			*server;
	char			*account;
	char			*key_pem;	/* the certificate key */
	char			*csr;		/* base64url DER */
	bool			 deactivate_authz;
	bool			 foreign;	/* a certbot lineage */
	bool			 renew;		/* made by renew --defer */
	/* Phase 1's config dir, absolute; NULL in files written before it
	 * was recorded (then resume's own is used, as it was). */
	char			*config_dir;
	struct conf		 lineage;	/* renewal.c's rows (see cmd_resume.c) */
	struct pending_chal	*chs;
	size_t			 n_chs;
	int			 lock_fd;	/* -1: not locked */
};

/* A new pending order with a fresh random id under work_dir; the caller
 * fills the rest and saves it.  ERR_INTERNAL (logged) when out of memory
 * or without randomness. */
enum err	 pending_new(struct pending *, const char *work_dir);
/*
 * Writes p to its path (0600, atomic, fsynced), creating WORK_DIR/pending
 * (0700).  Errors logged.
 */
enum err	 pending_save(const struct pending *);
/*
 * Reads the pending order id under work_dir into p, first taking an
 * exclusive lock on its file (fcntl, non-blocking) that p holds until
 * pending_clear, so two runs never resume one order.  ERR_PENDING with
 * two lines logged (what is wrong, what to do) when there is no such
 * order or another run holds it; ERR_STORAGE (logged) for a file that is
 * not ours or does not parse.
 */
enum err	 pending_open(struct pending *, const char *work_dir,
		    const char *id);
/* Removes p's file (it is finished or cancelled); errors logged. */
enum err	 pending_remove(const struct pending *);
void		 pending_clear(struct pending *);
/*
 * The ids of the pending orders under work_dir, sorted; caller frees each
 * and the array.  No pending/ directory: ERR_OK, *n 0.
 */
enum err	 pending_list(const char *work_dir, char ***ids, size_t *n);
/* Reads one pending order without locking it, for listing. */
enum err	 pending_read(struct pending *, const char *work_dir,
		    const char *id);

#endif
