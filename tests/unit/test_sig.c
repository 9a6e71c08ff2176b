/*
 * test_sig.c: the first signal is recorded and wakes a poll on sig_fd();
 * a second one ends the process at once with 128 + its number.  Each case
 * runs in a forked child so that the handlers do not outlive the test.
 */
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sig.h"

/* Runs fn in a child and returns its wait status. */
static int
test_in_child(int (*fn)(void))
{
	pid_t	pid;
	int	st = -1;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* Exit codes: 0 = all as expected, anything else names the failed step. */
static int
child_first_recorded(void)
{
	struct pollfd	pfd;

	if (sig_pending() != 0 || sig_fd() != -1)
		return 1;
	if (sig_install() != 0)
		return 2;
	pfd.fd = sig_fd();
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0)
		return 3;
	raise(SIGTERM);
	if (sig_pending() != SIGTERM)
		return 4;
	/* Readable now, and stays readable for the next poll too. */
	if (poll(&pfd, 1, 0) != 1 || poll(&pfd, 1, 0) != 1)
		return 5;
	return 0;
}

static void
test_first_signal_recorded(void **state)
{
	int	st;

	(void)state;
	st = test_in_child(child_first_recorded);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The blocking read of an invoker's reply must return, not restart. */
static int
child_read_wakes(void)
{
	int	p[2];
	char	c;

	if (sig_install() != 0 || pipe(p) == -1)
		return 1;
	alarm(0);
	if (fork() == 0) {
		usleep(100000);
		kill(getppid(), SIGHUP);
		_exit(0);
	}
	if (read(p[0], &c, 1) != -1)
		return 2;
	return sig_pending() == SIGHUP ? 0 : 3;
}

static void
test_read_wakes(void **state)
{
	int	st;

	(void)state;
	st = test_in_child(child_read_wakes);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int
child_second_exits(void)
{
	if (sig_install() != 0)
		return 1;
	raise(SIGTERM);
	raise(SIGINT);
	return 2;	/* not reached: the second signal exits */
}

static void
test_second_signal_exits(void **state)
{
	int	st;

	(void)state;
	st = test_in_child(child_second_exits);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGINT);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(sig_name(SIGTERM), "SIGTERM");
	assert_string_equal(sig_name(SIGINT), "SIGINT");
	assert_string_equal(sig_name(SIGHUP), "SIGHUP");
	assert_string_equal(sig_name(SIGUSR1), "signal");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_signal_recorded),
		cmocka_unit_test(test_read_wakes),
		cmocka_unit_test(test_second_signal_exits),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
