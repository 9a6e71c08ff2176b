/*
 * num.c: the one place that turns outside text into numbers (see num.h).
 * strtol alone accepts leading space, an empty string, trailing garbage
 * and, for strtoul, a minus sign; the checks around it here refuse all of
 * those so that "10 days" or "0x10" is never silently a different number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "num.h"

/* Digits only, at least one, after an optional sign when signed. */
static bool
shape_ok(const char *s, bool sign_ok)
{
	if (s == NULL)
		return false;
	if (sign_ok && (*s == '-' || *s == '+'))
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == '\0';
}

bool
num_parse_long(const char *s, long min, long max, long *out, char *why,
    size_t whylen)
{
	char	*end;
	long	 n;

	if (!shape_ok(s, true)) {
		if (why != NULL)
			snprintf(why, whylen, "not a whole number");
		return false;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno == ERANGE || n < min || n > max) {
		if (why != NULL)
			snprintf(why, whylen, "out of range (%ld to %ld)",
			    min, max);
		return false;
	}
	*out = n;
	return true;
}

bool
num_parse_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, char *why, size_t whylen)
{
	char		*end;
	unsigned long	 n;

	if (!shape_ok(s, false)) {
		if (why != NULL)
			snprintf(why, whylen, "not a whole number");
		return false;
	}
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno == ERANGE || n < min || n > max) {
		if (why != NULL)
			snprintf(why, whylen, "out of range (%lu to %lu)",
			    min, max);
		return false;
	}
	*out = n;
	return true;
}
