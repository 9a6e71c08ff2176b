/*
 * dnschal.h: the TXT record names and values of the DNS challenges that
 * RFC 8555's dns-01 does not cover: dns-account-01
 * (draft-ietf-acme-dns-account-label) and dns-persist-01
 * (draft-ietf-acme-dns-persist, the version Pebble 2.10 implements).
 * order.c builds the challenge record with these; event.c renders it.
 */
#ifndef EXTAUTH_DNSCHAL_H
#define EXTAUTH_DNSCHAL_H

#include <stdbool.h>
#include <stddef.h>

#define DNSCHAL_LABEL_LEN	16	/* base32 of 10 bytes, no padding */
#define DNSCHAL_URL_MAX		1024	/* cap on an account URL in a value */

/*
 * The account label of dns-account-01: lower-case base32 (RFC 4648) of
 * the first 10 bytes of SHA-256(account_url), into label (16 letters and
 * a NUL).  -1 only if hashing fails.
 */
int	 dnschal_account_label(const char *account_url,
	    char label[DNSCHAL_LABEL_LEN + 1]);
/* "_LABEL._acme-challenge.DOMAIN"; new memory the caller frees, or NULL. */
char	*dnschal_account_name(const char *account_url, const char *domain);
/* "_validation-persist.DOMAIN"; new memory the caller frees, or NULL. */
char	*dnschal_persist_name(const char *domain);
/*
 * The dns-persist-01 record value, as an RFC 8659 issue-value:
 * "ISSUER; accounturi=URL", then "; policy=wildcard" when the name is a
 * wildcard (the CA refuses a wildcard without it).  issuer is one of the
 * challenge's issuer-domain-names and must be a domain name; the URL must
 * be printable ASCII without ';' or blanks (the draft's value syntax).
 * New memory the caller frees; NULL with the reason in why.
 */
char	*dnschal_persist_value(const char *issuer, const char *account_url,
	    bool wildcard, char *why, size_t whylen);

#endif
