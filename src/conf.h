/*
 * conf.h: certbot's renewal conf format (a configobj subset), read and
 * written so that certbot and extauth can share one config directory.
 */
#ifndef EXTAUTH_CONF_H
#define EXTAUTH_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CONF_MAX_KEYS	128	/* cap on keys read from one file */

/*
 * Renewal confs: the configobj subset certbot writes and reads.
 * Nested sections are named by their path joined with '.': [renewalparams]
 * is "renewalparams", its [[webroot_map]] is "renewalparams.webroot_map".
 * Section names and keys are printable ASCII without whitespace or any of
 * = [ ] ' " # , (and section names without '.').  Scalar values are stored
 * unquoted.  configobj list values (pref_challs = dns-01, http-01) are
 * kept as their raw text with list set, and written back verbatim, because
 * certbot tells a list from a string by the missing quotes.
 */
struct conf_kv {
	char	*section;	/* NULL for top level, "renewalparams", ... */
	char	*key;
	char	*value;
	bool	 list;		/* value is a raw configobj list literal */
};
struct conf {
	struct conf_kv	kv[CONF_MAX_KEYS];
	size_t			n;
};
/* Overwrites *conf without freeing it (pass a zeroed or cleared one);
 * release with conf_clear().  ERR_STORAGE (logged) on a syntax error,
 * a duplicate key or section, or more than CONF_MAX_KEYS keys. */
enum err	 conf_read(const char *path, struct conf *);
/* NULL if absent. Borrowed pointer into conf. */
const char	*conf_get(const struct conf *, const char *section,
		    const char *key);
/* Sets a scalar (replacing an existing key in place, else appending).
 * ERR_USAGE (logged) for a bad section or key name, ERR_STORAGE when
 * CONF_MAX_KEYS are in use. */
enum err	 conf_set(struct conf *, const char *section,
		    const char *key, const char *value);
/* As conf_set for a list written verbatim, e.g. "dns-01, http-01" or
 * "dns-01," (one element: configobj needs the trailing comma). */
enum err	 conf_set_list(struct conf *, const char *section,
		    const char *key, const char *raw_list);
/* Top-level keys first, then each section (its keys, then its subsections)
 * in order of first use; written atomically, mode 0644. */
enum err	 conf_write(const char *path, const struct conf *);
/* conf_write through a batch of deferred writes (store.h): the file is in
 * place, whole, after store_batch_flush; hold as store_batch_write's (the
 * batch takes it, on failure too). */
struct store_batch;
struct store_lineage;
enum err	 conf_write_batch(struct store_batch *, const char *path,
		    const struct conf *, struct store_lineage *hold);
void		 conf_clear(struct conf *);

#endif
