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

struct lineage_params {
	const char		*name;
	char *const		*domains;
	size_t			 n_domains;
	const enum chal_type	*prefs;
	size_t			 n_prefs;
	struct crypto_key_spec	 key;
	bool			 force;
	bool			 expand;
	bool			 replace;	/* --cert-name given: names may change */
	bool			 dry_run;
	/* What renew needs to redo this later (written to the conf). */
	enum solver_mode	 mode;
	const char		*handler;
	bool			 hook_chain;
	const char		*deploy_hook;
	const char		*renew_before;	/* kept from an existing conf */
	bool			 foreign;	/* a certbot lineage: keep its conf */
	long			 dns_wait_s;	/* propagation wait (order.h) */
	bool			 deactivate_authz;
	const char		*dns_resolver;
};

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
 * Whether a certificate valid from nb to na is due at now: inside
 * before_s of its end, or, when before_s is 0, inside min(30 days, a third
 * of its lifetime) (certbot's rule, so short-lived certificates renew in
 * time).
 */
bool		 lineage_due(time_t nb, time_t na, time_t now, long before_s);
/* Parses certbot's renew_before_expiry ("30 days", "2 weeks", "12 hours"). */
long		 lineage_parse_interval(const char *);

#endif
