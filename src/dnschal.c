/*
 * dnschal.c: owns how the newer DNS challenges name and fill their TXT
 * record: the account label of dns-account-01 and the persistent record
 * of dns-persist-01.  Pure functions over the CA's values and the account
 * URL; nothing is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "dnschal.h"
#include "domain.h"

#define LABEL_BYTES	10	/* the draft's SHA-256(...)[0:10] */

int
dnschal_account_label(const char *account_url,
    char label[DNSCHAL_LABEL_LEN + 1])
{
	static const char	 alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char		 digest[32];
	unsigned		 acc = 0, bits = 0;
	size_t			 i, n = 0;

	if (crypto_sha256(account_url, strlen(account_url), digest) == -1)
		return -1;
	/* 80 bits are exactly 16 groups of 5: no padding, no tail. */
	for (i = 0; i < LABEL_BYTES; i++) {
		acc = (acc << 8) | digest[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			label[n++] = alphabet[(acc >> bits) & 0x1f];
		}
	}
	label[n] = '\0';
	return 0;
}

char *
dnschal_account_name(const char *account_url, const char *domain)
{
	char	label[DNSCHAL_LABEL_LEN + 1], *s;

	if (account_url == NULL ||
	    dnschal_account_label(account_url, label) == -1 ||
	    asprintf(&s, "_%s._acme-challenge.%s", label, domain) == -1)
		return NULL;
	return s;
}

char *
dnschal_persist_name(const char *domain)
{
	char	*s;

	if (asprintf(&s, "_validation-persist.%s", domain) == -1)
		return NULL;
	return s;
}

/* Whether v may stand as a parameter value: the draft's (and Pebble's)
 * %x21-3A / %x3C-7E, printable ASCII without ';'. */
static bool
value_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if (*v < 0x21 || *v > 0x7e || *v == ';')
			return false;
	return true;
}

char *
dnschal_persist_value(const char *issuer, const char *account_url,
    bool wildcard, char *why, size_t whylen)
{
	char	*s;

	if (issuer == NULL || strlen(issuer) > DOMAIN_MAX || !domain_valid(issuer) ||
	    strncmp(issuer, "*.", 2) == 0) {
		snprintf(why, whylen, "the CA's issuer-domain-names hold no "
		    "valid domain name");
		return NULL;
	}
	if (account_url == NULL || *account_url == '\0' ||
	    strlen(account_url) > DNSCHAL_URL_MAX || !value_ok(account_url)) {
		snprintf(why, whylen, "the account URL cannot stand in the "
		    "record (empty, too long, or blanks or ';' in it)");
		return NULL;
	}
	if (asprintf(&s, "%s; accounturi=%s%s", issuer, account_url,
	    wildcard ? "; policy=wildcard" : "") == -1) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	return s;
}
