/*
 * acme_status.h: the status of an ACME object (RFC 8555 §7.1.6) as an
 * enum.  A CA's status string is turned into it once, where the answer is
 * read (acme_status_of); everything after compares enums, and the JSON
 * lines print the name from the one table.
 */
#ifndef EXTAUTH_ACME_STATUS_H
#define EXTAUTH_ACME_STATUS_H

#include <jansson.h>

enum acme_status {
	ACME_STATUS_NONE,	/* not known yet (a challenge not tried) */
	ACME_STATUS_UNKNOWN,	/* a status we cannot know or do not know */
	ACME_STATUS_PENDING,
	ACME_STATUS_READY,
	ACME_STATUS_PROCESSING,
	ACME_STATUS_VALID,
	ACME_STATUS_INVALID,
	ACME_STATUS_DEACTIVATED,
	ACME_STATUS_EXPIRED,
	ACME_STATUS_REVOKED,
	ACME_STATUS__COUNT
};

/* "pending", "valid", ...; "unknown" for UNKNOWN; NULL for NONE. */
const char	*acme_status_name(enum acme_status);
/* The status named by s (NULL: NONE); UNKNOWN for any other string. */
enum acme_status acme_status_parse(const char *s);
/* The "status" member of a CA object: NONE when absent or not a string,
 * UNKNOWN when it names no status of RFC 8555. */
enum acme_status acme_status_of(const json_t *obj);

#endif
