/*
 * lineage.h: one certificate lineage (certbot's word): decide whether it
 * needs a new certificate, obtain it, store it, record how to renew it.
 */
#ifndef EXTAUTH_LINEAGE_H
#define EXTAUTH_LINEAGE_H

#include <stdbool.h>
#include <time.h>

#include "crypto.h"
#include "err.h"
#include "session.h"
#include "solver.h"
#include "store.h"

#define LINEAGE_DOMAINS_MAX	100	/* Let's Encrypt's limit per order */

/*
 * Everything about one lineage: what its renewal conf records (renewal.c
 * writes and reads exactly these, through one key table) and what this
 * run adds.  Owns every string and the domains array: fill it with
 * lineage_params_defaults() or the renewal reader, release it with
 * lineage_params_clear().
 */
struct lineage_params {
	char			*name;
	/* Recorded in the renewal conf. */
	char			*server;	/* directory URL */
	char			*account;	/* account id */
	char			*ca_bundle;
	char			**domains;	/* normalized names */
	size_t			 n_domains;
	enum chal_type		 prefs[CHAL__COUNT];
	size_t			 n_prefs;
	struct crypto_key_spec	 key;		/* curve: static or argv, not owned */
	enum solver_mode	 mode;		/* how challenges are delivered */
	char			*handler;	/* handler, dehydrated modes */
	char			*socket;	/* JSON mode over this Unix
						 * socket; NULL: stdin/stdout */
	bool			 hook_chain;
	char			*deploy_hook;
	char			*renew_before;	/* certbot's "30 days" */
	long			 dns_wait_s;	/* propagation wait (order.h) */
	char			*dns_resolver;
	char			*preferred_profile;	/* profile.h; at most one */
	char			*required_profile;
	char			*preferred_chain;	/* topmost issuer CN (order.h) */
	bool			 reuse_key;	/* renewals keep the current key */
	/* A cache that lets renew decide "not due" from the conf alone,
	 * trusted only while live/ still points at that version (0: none). */
	long			 cache_version;
	long			 cache_not_before, cache_not_after;
	/* ARI (ari.h) for the live certificate, epoch seconds, 0: none:
	 * the CA's window, the moment chosen in it, when to ask again. */
	long			 ari_start, ari_end, ari_at, ari_next;
	char			*ari_explanation;
	/* Backoff after failed renewals (cmd_renew.c): how many in a row,
	 * and the earliest next attempt, epoch seconds (0: none). */
	long			 retry_count, retry_after;
	/* This run only; never written. */
	/* The lineage, opened (and locked) by the verb; not owned.  NULL:
	 * lineage_obtain opens name itself. */
	struct store_lineage	*lineage;
	bool			 force;
	bool			 expand;
	bool			 replace;	/* --cert-name given: names may change */
	bool			 dry_run;
	bool			 foreign;	/* a certbot lineage: keep its conf */
	bool			 deactivate_authz;
	bool			 new_key;	/* a new key even with reuse_key */
};

/* The one place defaults live: dns-01 then http-01, an ECDSA P-256 key
 * (RSA 2048 when the type is switched), JSON mode.  Zeroes the rest. */
void		 lineage_params_defaults(struct lineage_params *);
/* Frees what p owns and zeroes it. */
void		 lineage_params_clear(struct lineage_params *);
/* Sets p's domains to copies of v[0..n); false when out of memory or
 * n > LINEAGE_DOMAINS_MAX. */
bool		 lineage_params_set_domains(struct lineage_params *,
		    char *const *v, size_t n);

struct lineage_result {
	bool			 renewed;	/* false: kept, not due */
	int			 version;
	time_t			 not_after;
	struct store_paths	 live;
};

/*
 * Obtains (or keeps) the certificate of p->name.  On ERR_OK *r is filled
 * (caller clears with lineage_result_clear).
 */
enum err	 lineage_obtain(struct session *, struct solver *,
		    const struct lineage_params *, struct lineage_result *r);
void		 lineage_result_clear(struct lineage_result *);

/*
 * The two halves of lineage_obtain, for the two-phase mode (--defer),
 * whose order is made by one process and finished by another.
 * lineage_draft: whether the lineage is kept (d->keep: *r filled as
 * lineage_obtain fills it), else what its order needs: the new key, the
 * CSR, the profile and the certificate it replaces.  Owns what it holds:
 * release with lineage_draft_clear.
 */
struct lineage_draft {
	bool			 keep;
	EVP_PKEY		*key;
	unsigned char		*csr;		/* DER */
	size_t			 csr_len;
	const char		*profile;	/* borrowed from the params */
	char			*replaces;	/* RFC 9773 CertID, or NULL */
};
enum err	 lineage_draft(struct session *, const struct lineage_params *,
		    struct lineage_result *r, struct lineage_draft *);
void		 lineage_draft_clear(struct lineage_draft *);
struct order_req;
/* Fills the order request's names, challenge preferences, key, CSR,
 * profile, replaces and work_dir from p and d (borrowed, not copied); the
 * caller sets what its kind of run adds. */
void		 lineage_order_req(const struct lineage_params *p,
		    const struct lineage_draft *d, const char *work_dir,
		    struct order_req *req);
/*
 * Stores the chain pem the CA issued for key (and csr, dehydrated's
 * sync_cert) as the lineage's new version and writes its renewal conf;
 * sets r->renewed, not_after and version.  The CA's chain is checked
 * first: it must parse and be for key.
 */
enum err	 lineage_store(struct session *, struct solver *,
		    const struct lineage_params *, EVP_PKEY *key,
		    const unsigned char *csr, size_t csr_len, const char *pem,
		    struct lineage_result *r);
/*
 * Whether a certificate valid from nb to na is due at now: inside
 * before_s of its end, or, when before_s is 0, inside a third of its
 * lifetime, half of it for lifetimes under 10 days (certbot 4.0's rule, so
 * short-lived certificates renew in time).
 */
bool		 lineage_due(time_t nb, time_t na, time_t now, long before_s);
/* The moment lineage_due turns true. */
time_t		 lineage_due_at(time_t nb, time_t na, long before_s);
/* Parses certbot's renew_before_expiry ("30 days", "2 weeks", "12 hours"). */
long		 lineage_parse_interval(const char *);

#endif
