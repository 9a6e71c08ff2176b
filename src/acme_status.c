/*
 * acme_status.c: the names of enum acme_status, and the parse of a CA's
 * status string into it.
 */
#include <string.h>

#include "acme_status.h"

static const char *const acme_status_names[] = {
	[ACME_STATUS_NONE] = NULL,
	[ACME_STATUS_UNKNOWN] = "unknown",
	[ACME_STATUS_PENDING] = "pending",
	[ACME_STATUS_READY] = "ready",
	[ACME_STATUS_PROCESSING] = "processing",
	[ACME_STATUS_VALID] = "valid",
	[ACME_STATUS_INVALID] = "invalid",
	[ACME_STATUS_DEACTIVATED] = "deactivated",
	[ACME_STATUS_EXPIRED] = "expired",
	[ACME_STATUS_REVOKED] = "revoked",
};
_Static_assert(sizeof(acme_status_names) / sizeof(acme_status_names[0]) ==
    ACME_STATUS__COUNT, "acme_status_names must name every acme_status");

const char *
acme_status_name(enum acme_status st)
{
	if ((unsigned)st >= ACME_STATUS__COUNT)
		return acme_status_names[ACME_STATUS_UNKNOWN];
	return acme_status_names[st];
}

enum acme_status
acme_status_parse(const char *s)
{
	int	i;

	if (s == NULL)
		return ACME_STATUS_NONE;
	for (i = ACME_STATUS_PENDING; i < ACME_STATUS__COUNT; i++)
		if (strcmp(s, acme_status_names[i]) == 0)
			return (enum acme_status)i;
	return ACME_STATUS_UNKNOWN;
}

enum acme_status
acme_status_of(const json_t *obj)
{
	return acme_status_parse(json_string_value(json_object_get(obj,
	    "status")));
}
