/*
 * domain.c: domain name checks and IDNA conversion (libidn2), and the IP
 * addresses RFC 8738 lets us ask for instead of a name.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "domain.h"

/* Checks a lower-case ASCII name without wildcard; reason into why. */
static bool
check_ascii(const char *s, char *why, size_t whylen)
{
	const char	*label = s, *p;
	size_t		 len, labels = 0;

	if ((len = strlen(s)) == 0) {
		snprintf(why, whylen, "empty domain name");
		return false;
	}
	if (len > DOMAIN_MAX) {
		snprintf(why, whylen, "name is %zu characters long, over %d",
		    len, DOMAIN_MAX);
		return false;
	}
	if (s[len - 1] == '.') {
		snprintf(why, whylen, "name ends with a dot (give it without)");
		return false;
	}
	for (p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			len = (size_t)(p - label);
			if (len == 0) {
				snprintf(why, whylen, "empty label (\"..\" or "
				    "a leading dot)");
				return false;
			}
			if (len > DOMAIN_LABEL_MAX) {
				snprintf(why, whylen, "label of %zu characters,"
				    " over %d", len, DOMAIN_LABEL_MAX);
				return false;
			}
			if (label[0] == '-' || p[-1] == '-') {
				snprintf(why, whylen, "label \"%.*s\" starts or"
				    " ends with a hyphen", (int)len, label);
				return false;
			}
			labels++;
			if (*p == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p)
		    || *p == '-')) {
			snprintf(why, whylen, "invalid character '%c' (0x%02x)",
			    isprint((unsigned char)*p) ? *p : '?',
			    (unsigned char)*p);
			return false;
		}
	}
	if (labels < 2) {
		snprintf(why, whylen, "a certificate name needs at least two "
		    "labels (like example.com)");
		return false;
	}
	/* No top-level domain is all digits (RFC 3696 §2): such a "name"
	 * is a mistyped address (256.1.1.1, 0x7f.0.0.1), not a host. */
	if (strspn(label, "0123456789") == strlen(label)) {
		snprintf(why, whylen, "the last label \"%s\" is all digits: "
		    "neither a domain name nor an IP address", label);
		return false;
	}
	return true;
}

/*
 * The canonical text of the address s into out: AF_INET or AF_INET6, or
 * 0 if s is not an address.  inet_ntop's form is the canonical one:
 * dotted quad, and for IPv6 RFC 5952 (compressed, lower-case).
 */
static int
ip_canonical(const char *s, char *out, size_t outlen)
{
	unsigned char	addr[sizeof(struct in6_addr)];
	int		af;

	if (inet_pton(AF_INET, s, addr) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		af = AF_INET6;
	else
		return 0;
	if (inet_ntop(af, addr, out, (socklen_t)outlen) == NULL)
		return 0;
	return af;
}

/*
 * Sorts a user-given s: 1 if it is an IP address (canonical text into
 * out), 0 if it is to be checked as a name, -1 (reason in why) if it is
 * an address written in a form we refuse.  IPv4 must already be the
 * canonical dotted quad: "010.0.0.1" is octal to some parsers and decimal
 * to others, so guessing would be worse than asking.
 */
static int
ip_sort(const char *s, char *out, size_t outlen, char *why, size_t whylen)
{
	int	af;

	if ((af = ip_canonical(s, out, outlen)) == AF_INET6)
		return 1;
	if (af == AF_INET && strcmp(out, s) == 0)
		return 1;
	if (af == AF_INET || (strspn(s, "0123456789.") == strlen(s) &&
	    strpbrk(s, "0123456789") != NULL)) {
		snprintf(why, whylen, "not an IPv4 address in canonical form "
		    "(four numbers 0-255 without leading zeros, like "
		    "192.0.2.1)");
		return -1;
	}
	if (strchr(s, ':') == NULL)
		return 0;
	if (strchr(s, '%') != NULL)
		snprintf(why, whylen, "an IPv6 zone id (%%...) cannot be in a "
		    "certificate");
	else if (strchr(s, '[') != NULL)
		snprintf(why, whylen, "give the IPv6 address without brackets");
	else
		snprintf(why, whylen, "not a valid IPv6 address");
	return -1;
}

bool
domain_is_ip(const char *s)
{
	char	text[INET6_ADDRSTRLEN];

	return ip_canonical(s, text, sizeof text) != 0 && strcmp(text, s) ==
	    0;
}

bool
domain_valid(const char *s)
{
	char	why[128];

	return check_ascii(s, why, sizeof why);
}

char *
domain_normalize(const char *in, char *why, size_t whylen)
{
	const char	*base = in;
	char		*ascii = NULL, *out = NULL, *p;
	char		 ip[INET6_ADDRSTRLEN];
	bool		 wildcard = false, nonascii = false;
	int		 rc;

	if ((rc = ip_sort(in, ip, sizeof ip, why, whylen)) == -1)
		return NULL;
	if (rc == 1) {
		if ((out = strdup(ip)) == NULL)
			snprintf(why, whylen, "out of memory");
		return out;
	}
	if (strncmp(in, "*.", 2) == 0) {
		wildcard = true;
		base = in + 2;
		if (domain_is_ip(base)) {
			snprintf(why, whylen, "a wildcard cannot cover an IP "
			    "address");
			return NULL;
		}
	}
	for (p = (char *)base; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			nonascii = true;
	if (nonascii) {
		rc = idn2_to_ascii_8z(base, &ascii, IDN2_NONTRANSITIONAL |
		    IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			snprintf(why, whylen, "not a valid internationalized "
			    "name: %s", idn2_strerror(rc));
			return NULL;
		}
	} else if ((ascii = strdup(base)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (p = ascii; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strchr(ascii, '*') != NULL) {
		snprintf(why, whylen, "a wildcard may only be the whole first "
		    "label (\"*.example.com\")");
		goto out;
	}
	if (!check_ascii(ascii, why, whylen))
		goto out;
	if (asprintf(&out, "%s%s", wildcard ? "*." : "", ascii) == -1) {
		out = NULL;
		snprintf(why, whylen, "out of memory");
	}
out:
	if (nonascii)
		idn2_free(ascii);
	else
		free(ascii);
	return out;
}
