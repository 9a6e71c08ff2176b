/*
 * sig.h: the run's reaction to SIGTERM, SIGINT and SIGHUP.  The first one
 * is only recorded: every wait in the program looks at sig_pending() (or
 * polls sig_fd()), starts no new work, cleans up what was deployed and
 * returns ERR_SIGNAL; main then exits 128 + the signal number.  A second
 * signal means "now": the handler exits at once with 128 + its number.
 */
#ifndef EXTAUTH_SIG_H
#define EXTAUTH_SIG_H

/*
 * Installs the handlers (no SA_RESTART, so a blocking read or poll wakes
 * with EINTR) and the self-pipe behind sig_fd().  Returns -1 with errno
 * set if the pipe or a handler cannot be set up.
 */
int		 sig_install(void);
/* The first signal received (SIGTERM, SIGINT, SIGHUP), or 0. */
int		 sig_pending(void);
/*
 * A descriptor that becomes readable when a signal is pending (never
 * drained): put it in every poll() so that a signal arriving just before
 * the poll still wakes it.  -1 before sig_install().
 */
int		 sig_fd(void);
/*
 * Sleeps ms milliseconds, or less when a signal comes (then sig_pending()
 * says which).  Every second it lets log_progress_tick() update the
 * progress line of the wait, if one is on show (log.h).
 */
void		 sig_sleep_ms(long ms);
/* "SIGTERM", "SIGINT", "SIGHUP", or "signal" for anything else. */
const char	*sig_name(int);

#endif
