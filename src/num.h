/*
 * num.h: checked number parsing.  Every number that comes from outside
 * (command line, cli.ini, renewal confs, environment, CA headers) is read
 * here: the whole string must be a decimal number inside the caller's
 * range, or the caller gets a one-line reason.  Nothing in src/ calls
 * atoi/atol, which turn "12abc" into 12 and overflow into anything.
 */
#ifndef EXTAUTH_NUM_H
#define EXTAUTH_NUM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Parses s (optional '-' or '+', then decimal digits, nothing else: no
 * leading or trailing space) into *out when min <= value <= max.  Returns
 * false with a one-line reason in why (when why is not NULL) otherwise;
 * *out is then untouched.
 */
bool	num_parse_long(const char *s, long min, long max, long *out,
	    char *why, size_t whylen);
/* The same for unsigned values: digits only, no sign at all (strtoul
 * would take "-1" as ULONG_MAX). */
bool	num_parse_ulong(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out, char *why, size_t whylen);

#endif
