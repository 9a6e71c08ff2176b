/*
 * sig.c: owns the process's SIGTERM/SIGINT/SIGHUP dispositions, the
 * pending-signal flag and the self-pipe that makes it visible to poll().
 * Nothing else in extauth installs a signal handler (spawn.c only resets
 * dispositions in the child before exec).
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"

#define SIG_SLICE_MS	1000	/* progress line updates while sleeping */

static const struct {
	int		 sig;
	const char	*name;
} sig_table[] = {
	{ SIGTERM, "SIGTERM" },
	{ SIGINT, "SIGINT" },
	{ SIGHUP, "SIGHUP" },
};

/* Atomic, not only sig_atomic_t: renew's worker threads read it while
 * the handler writes it on the main thread (lock-free, so still
 * async-signal-safe). */
static atomic_int			sig_caught;
static int			sig_pipe[2] = { -1, -1 };

/*
 * Async-signal-safe only.  The first signal is recorded and the pipe made
 * readable; cleanup happens in the normal flow.  A second one means the
 * user does not want to wait for the cleanup: exit now, without running
 * atexit handlers or flushing stdio that the interrupted code may hold.
 */
static void
sig_handler(int sig)
{
	int	saved = errno;
	char	c = 0;

	if (sig_caught != 0)
		_exit(128 + sig);
	sig_caught = sig;
	if (sig_pipe[1] != -1)
		(void)!write(sig_pipe[1], &c, 1);
	errno = saved;
}

int
sig_install(void)
{
	struct sigaction	sa;
	size_t			i;

	if (sig_pipe[0] == -1 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++)
		sigaddset(&sa.sa_mask, sig_table[i].sig);
	/* No SA_RESTART: a read() of the invoker's reply must wake up. */
	sa.sa_flags = 0;
	for (i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++)
		if (sigaction(sig_table[i].sig, &sa, NULL) == -1)
			return -1;
	return 0;
}

int
sig_pending(void)
{
	return sig_caught;
}

int
sig_fd(void)
{
	return sig_pipe[0];
}

void
sig_sleep_ms(long ms)
{
	struct pollfd	pfd;
	struct timespec	now, end;
	long		left, slice;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pfd.fd = sig_pipe[0];
	pfd.events = POLLIN;
	for (;;) {
		log_progress_tick();
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long)(end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0 || sig_caught != 0)
			return;
		slice = left < SIG_SLICE_MS ? left : SIG_SLICE_MS;
		/* Without sig_install (unit tests) the poll is a plain
		 * sleep: a negative fd is ignored. */
		(void)poll(&pfd, 1, (int)slice);
	}
}

const char *
sig_name(int sig)
{
	size_t	i;

	for (i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++)
		if (sig_table[i].sig == sig)
			return sig_table[i].name;
	return "signal";
}
