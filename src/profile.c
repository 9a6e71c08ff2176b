/*
 * profile.c: the choice of an order's profile against the CA's
 * meta.profiles (see profile.h).  The CA's own default is what an order
 * without a "profile" gets, so "use the default" means "send none".
 */
#include <string.h>

#include "log.h"
#include "profile.h"

bool
profile_name_ok(const char *s)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 || n > PROFILE_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

enum err
profile_choose(const json_t *offered, const char *preferred,
    const char *required, const char **out)
{
	const char	*want = required ? required : preferred;
	bool		 listed;

	*out = NULL;
	if (want == NULL)
		return ERR_OK;
	listed = json_is_object(offered) && json_object_get(offered, want) !=
	    NULL;
	if (listed) {
		*out = want;
		return ERR_OK;
	}
	if (required != NULL) {
		log_error("the CA does not offer the required profile \"%s\"%s",
		    required, json_is_object(offered) ? "" :
		    " (its directory lists no profiles)");
		log_error("see the profiles it offers with extauth "
		    "show_account, or use --preferred-profile to fall back to "
		    "its default");
		return ERR_USAGE;
	}
	log_warn("the CA does not offer the preferred profile \"%s\"; "
	    "ordering with its default profile", preferred);
	return ERR_OK;
}
