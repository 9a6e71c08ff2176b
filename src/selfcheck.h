/*
 * selfcheck.h: is a challenge already visible from here?  Advice for the
 * manual mode's user before pressing ENTER; never a verdict (the CA looks
 * from elsewhere, through other resolvers).
 *
 * Also the propagation wait before the CA is told (order.c, --dns-wait),
 * which asks the zone's authoritative nameservers.
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
 * Whether every authoritative nameserver of fqdn's zone serves value at
 * fqdn, asked directly without recursion, as the CA's resolver will get
 * it (a provider's API answers before all its nameservers have the
 * record).  The zone is the closest name above fqdn whose SOA resolver
 * (as for selfcheck_dns_txt) returns; its NS names and their IPv4
 * addresses come from resolver too, at most 8.  When no zone or no
 * nameserver address is found, resolver's own answer counts.  Port 53,
 * or EXTAUTH_DNS_AUTH_PORT (tests only).  When not, why names a
 * nameserver that lacks the record and what it answered.
 */
bool	selfcheck_dns_auth(const char *resolver, const char *fqdn,
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
