/*
 * domain.h: what counts as a name we may ask a CA for.  Every identifier,
 * from the user or from the CA, passes through here before it reaches a
 * path, a handler or a JSON line.
 */
#ifndef EXTAUTH_DOMAIN_H
#define EXTAUTH_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_MAX	253
#define DOMAIN_LABEL_MAX 63

/*
 * Normalizes a user-given name: an IP address (RFC 8738) becomes its
 * canonical text (IPv4 dotted quad without leading zeros, IPv6 compressed
 * and lower-case, no zone id); non-ASCII names become their A-label
 * (IDNA 2008 via libidn2), ASCII is lower-cased, "*." allowed as the first
 * label only.  Returns a new string (caller frees), or NULL with a
 * one-line reason in why.
 */
char	*domain_normalize(const char *in, char *why, size_t whylen);
/* True if s is already a valid normalized DNS name (no wildcard, no IP). */
bool	 domain_valid(const char *s);
/* True if s is an IPv4 or IPv6 address in canonical text form, as
 * domain_normalize returns it. */
bool	 domain_is_ip(const char *s);

#endif
