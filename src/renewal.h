/*
 * renewal.h: the renewal conf of a lineage (config_dir/renewal/NAME.conf):
 * which keys extauth writes, how each value is spelled, and how it is read
 * back.  One key table drives both directions, so a key cannot be renamed
 * on one side only, and every value the reader would refuse is refused by
 * the writer first.  The file syntax is conf.c's; the path is store.c's.
 */
#ifndef EXTAUTH_RENEWAL_H
#define EXTAUTH_RENEWAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "lineage.h"
#include "store.h"

/* What the writer needs beyond the lineage: where store.c keeps its
 * files, and the absolute path of this extauth for certbot's hooks. */
struct renewal_files {
	const char			*archive_dir;
	const struct store_paths	*live;
	const char			*self;	/* NULL: no certbot hooks */
};
/*
 * Writes p as the renewal conf at path: certbot's keys first (version,
 * archive_dir and the live/ files, so certbot can list the lineage), then
 * what extauth needs to renew unattended.  When the lineage's delivery
 * can be written as a certbot hook command (handler, dehydrated or text
 * mode, a handler path without shell syntax), the authenticator is
 * certbot's manual plugin with "SELF certbot-hook auth|cleanup ..." as its
 * hooks, so the real certbot can renew the lineage through the bridge
 * (doc/certbot-bridge.md); otherwise it is "extauth", which certbot lists
 * but cannot renew.  ERR_USAGE with a one-line reason in why when a value
 * is one the reader would refuse (nothing is written then); other errors
 * are logged by conf.c.
 */
enum err	 renewal_write(const char *path, const struct lineage_params *p,
		    const struct renewal_files *f, char *why, size_t whylen);
/*
 * Sets in c (a conf as read) the values of p's rows whose key starts with
 * prefix ("extauth_ari_"), with the writer's checks; the caller writes c.
 * For the state renew keeps between renewals without rewriting the rest;
 * with prefix "", every row that comes from p (not the file rows, the
 * authenticator and its hooks): the lineage a pending order carries.
 */
enum err	 renewal_update(struct conf *c, const struct lineage_params *p,
		    const char *prefix, char *why, size_t whylen);
/* Whether c is a conf extauth wrote (its own keys decide how to renew),
 * in the old form (authenticator = extauth) or the certbot-compatible one
 * (authenticator = manual with the bridge as hooks). */
bool		 renewal_is_own(const struct conf *c);
/*
 * Sets p's recorded fields from the keys of the table present in c; an
 * absent key leaves p's value (start from lineage_params_defaults).  Each
 * value gets the check the same value gets on the command line.  False
 * with a reason in why that names the key but never echoes its value.
 */
bool		 renewal_read(const struct conf *c, struct lineage_params *p,
		    char *why, size_t whylen);

#endif
