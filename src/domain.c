/*
 * domain.c: domain name checks and IDNA conversion (libidn2).
 */
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
	return true;
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
	bool		 wildcard = false, nonascii = false;
	int		 rc;

	if (strncmp(in, "*.", 2) == 0) {
		wildcard = true;
		base = in + 2;
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
