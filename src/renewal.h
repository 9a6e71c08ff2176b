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

/*
 * Writes p as the renewal conf at path: certbot's keys first (version,
 * archive_dir and the live/ files from archive_dir and live, so certbot
 * can list the lineage), then what extauth needs to renew unattended.
 * ERR_USAGE with a one-line reason in why when a value is one the reader
 * would refuse (nothing is written then); other errors are logged by
 * conf.c.
 */
enum err	 renewal_write(const char *path, const struct lineage_params *p,
		    const char *archive_dir, const struct store_paths *live,
		    char *why, size_t whylen);
/*
 * Sets p's recorded fields from the keys of the table present in c; an
 * absent key leaves p's value (start from lineage_params_defaults).  Each
 * value gets the check the same value gets on the command line.  False
 * with a reason in why that names the key but never echoes its value.
 */
bool		 renewal_read(const struct conf *c, struct lineage_params *p,
		    char *why, size_t whylen);

#endif
