/*
 * clock.c: the renewal clock (see clock.h).  EXTAUTH_NOW is read on every
 * call: it is cheap, and a test may set it per run only.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "num.h"

/* 2100-01-01: a later "now" is a typo, not a test. */
#define CLOCK_NOW_MAX	4102444800L

time_t
clock_now(void)
{
	static bool	 warned;
	const char	*env = getenv("EXTAUTH_NOW");
	long		 v;

	if (env == NULL || *env == '\0')
		return time(NULL);
	if (num_parse_long(env, 0, CLOCK_NOW_MAX, &v, NULL, 0))
		return (time_t)v;
	if (!warned) {
		warned = true;
		log_warn("EXTAUTH_NOW is not epoch seconds from 0 to %ld: "
		    "using the real clock", CLOCK_NOW_MAX);
	}
	return time(NULL);
}
