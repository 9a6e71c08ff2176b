/*
 * profile.h: ACME certificate profiles (draft-ietf-acme-profiles): which
 * names are well formed, and which profile an order names given the
 * CA's directory (meta.profiles) and the user's --preferred-profile or
 * --required-profile (certbot 4.0's semantics).
 */
#ifndef EXTAUTH_PROFILE_H
#define EXTAUTH_PROFILE_H

#include <stdbool.h>

#include <jansson.h>

#include "err.h"

#define PROFILE_NAME_MAX	64	/* longer than any CA's, a cap on input */

/* Whether s is a profile name extauth sends and records: 1 to
 * PROFILE_NAME_MAX of [A-Za-z0-9._-]. */
bool		 profile_name_ok(const char *s);
/*
 * The profile the order names, given the directory's meta.profiles
 * (offered, may be NULL), in *out (borrowed from preferred or
 * required, or NULL: the CA's default).  A preferred profile the CA does
 * not list is a warning and the default; a required one is ERR_USAGE,
 * logged in two lines (what is wrong, what to do), before any order.
 */
enum err	 profile_choose(const json_t *offered, const char *preferred,
		    const char *required, const char **out);

#endif
