/*
 * err.c: names and exit codes of the failure classes.
 */
#include "err.h"

static const struct {
	const char	*name;
	int		 code;
} err_table[] = {
	[ERR_OK] = { "ok", 0 },
	[ERR_USAGE] = { "usage", 2 },
	[ERR_ACME] = { "acme", 3 },
	[ERR_CHALLENGE] = { "challenge", 4 },
	[ERR_INVOKER] = { "invoker", 5 },
	[ERR_STORAGE] = { "storage", 6 },
	[ERR_LOCKED] = { "locked", 7 },
	[ERR_PARTIAL] = { "partial", 8 },
	[ERR_INTERNAL] = { "internal", 1 },
	/* 128 + the signal number: main adds sig_pending(). */
	[ERR_SIGNAL] = { "signal", 128 },
	[ERR_RATELIMIT] = { "ratelimit", 9 },
	/* Expired, invalid, unknown, or being resumed by another run. */
	[ERR_PENDING] = { "pending", 10 },
};
_Static_assert(sizeof(err_table) / sizeof(err_table[0]) == ERR__COUNT,
    "err_table must name every enum err");

int
err_exit_code(enum err e)
{
	if ((unsigned)e >= ERR__COUNT)
		return 1;
	return err_table[e].code;
}

const char *
err_name(enum err e)
{
	if ((unsigned)e >= ERR__COUNT)
		return "unknown";
	return err_table[e].name;
}
