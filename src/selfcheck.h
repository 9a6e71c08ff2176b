/*
 * selfcheck.h: is a challenge already visible from here?  Advice for the
 * manual mode's user before pressing ENTER; never a verdict (the CA looks
 * from elsewhere, through other resolvers).
 *
 * Also the propagation wait before the CA is told (order.c, --dns-wait).
 * --dns-resolver, or EXTAUTH_DNS_SERVER="IPv4:PORT", names the one
 * nameserver asked (tests point it at loopback servers); EXTAUTH_HTTP_PORT
 * the port of every http:// URL (tests only).
 */
#ifndef EXTAUTH_SELFCHECK_H
#define EXTAUTH_SELFCHECK_H

#include <stdbool.h>
#include <stddef.h>

#define SELFCHECK_HTTP_TIMEOUT_MS	5000
#define SELFCHECK_HTTP_BODY_MAX		4096	/* cap on the body */

/*
 * Whether a TXT record at fqdn holds value, asking only resolver ("IPv4"
 * or "IPv4:PORT", --dns-resolver) when not NULL, else the system's (a record of several strings
 * counts as their concatenation).  When not, why gets a short reason
 * ("NXDOMAIN", "no TXT record", "2 TXT records, none matches", ...).
 */
bool	selfcheck_dns_txt(const char *resolver, const char *fqdn,
	    const char *value, char *why, size_t whylen);
/*
 * Whether GET uri answers 200 with expected as its body (trailing
 * whitespace ignored).  Redirects are followed as the CA does (at most 10,
 * http and https only).  When not, why gets a short reason.
 */
bool	selfcheck_http(const char *uri, const char *expected, char *why,
	    size_t whylen);
/* Whether ip_port is a resolver selfcheck_dns_txt takes ("IPv4" or
 * "IPv4:PORT"). */
bool	selfcheck_resolver_valid(const char *ip_port);

#endif
