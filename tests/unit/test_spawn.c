/*
 * test_spawn.c: spawn_run against real programs: capture, exit codes, the
 * exact environment, stdin wiring, exec failures, the timeout and group
 * kill, the fd table and the output cap.  /bin/sh appears here only as the
 * program under test.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spawn.h"

static char *const test_env[] = { "PATH=/usr/bin:/bin", NULL };

static double
test_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Is pid still running?  An orphan that died may linger as a zombie until
 * init reaps it, so a zombie counts as gone; give init a moment.
 */
static bool
test_alive(long pid)
{
	char	path[64], buf[512], *p;
	FILE	*f;
	int	tries;
	bool	alive = false;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	for (tries = 0; tries < 50; tries++) {
		if ((f = fopen(path, "r")) == NULL)
			return false;
		alive = fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    p[2] != 'Z' && p[2] != 'X';
		fclose(f);
		if (!alive)
			return false;
		usleep(10000);
	}
	return alive;
}

static void
test_capture(void **state)
{
	char *const		argv[] = { "/bin/sh", "-c",
	    "echo out; echo err >&2; exit 3", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), 0);
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(res.signal, 0);
	assert_false(res.timed_out);
	assert_false(res.exec_failed);
	assert_string_equal(res.out, "out\n");
	assert_int_equal(res.out_len, 4);
	assert_string_equal(res.err, "err\n");
	assert_int_equal(res.err_len, 4);
	spawn_result_clear(&res);
}

static void
test_exit_127_is_not_exec_failure(void **state)
{
	char *const		argv[] = { "/bin/sh", "-c", "exit 127", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), 0);
	assert_int_equal(res.exit_code, 127);
	assert_false(res.exec_failed);
	spawn_result_clear(&res);
}

static void
test_env_exact(void **state)
{
	char *const		argv[] = { "/usr/bin/env", NULL };
	char *const		envp[] = { "A=1", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, envp, -1, 5000, &res), 0);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.out, "A=1\n");
	spawn_result_clear(&res);
}

static void
test_path_lookup(void **state)
{
	char *const		argv[] = { "echo", "hi", NULL };
	char *const		envp[] = { "PATH=/nonexistent:/bin", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, envp, -1, 5000, &res), 0);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.out, "hi\n");
	spawn_result_clear(&res);
}

static void
test_stdin_devnull(void **state)
{
	char *const		argv[] = { "/bin/cat", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.out_len, 0);
	assert_non_null(res.out);
	assert_string_equal(res.out, "");
	spawn_result_clear(&res);
}

static void
test_stdin_fd(void **state)
{
	char *const		argv[] = { "/bin/cat", NULL };
	struct spawn_result	res;
	int			p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello\n", 6), 6);
	close(p[1]);
	assert_int_equal(spawn_run(argv, test_env, p[0], 5000, &res), 0);
	close(p[0]);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.out, "hello\n");
	spawn_result_clear(&res);
}

static void
test_exec_enoent(void **state)
{
	char *const		argv[] = { "/nonexistent/prog", NULL };
	char *const		argv2[] = { "no-such-prog-xyz", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), -1);
	assert_true(res.exec_failed);
	assert_int_equal(res.exec_errno, ENOENT);
	assert_int_equal(res.exit_code, -1);
	spawn_result_clear(&res);

	assert_int_equal(spawn_run(argv2, test_env, -1, 5000, &res), -1);
	assert_true(res.exec_failed);
	assert_int_equal(res.exec_errno, ENOENT);
	spawn_result_clear(&res);
}

static void
test_exec_eacces(void **state)
{
	char			 path[] = "/tmp/test_spawn_XXXXXX";
	char *const		 argv[] = { path, NULL };
	struct spawn_result	 res;
	int			 fd;

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "#!/bin/sh\necho no\n", 18), 18);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), -1);
	unlink(path);
	assert_true(res.exec_failed);
	assert_int_equal(res.exec_errno, EACCES);
	assert_int_equal(res.out_len, 0);
	spawn_result_clear(&res);
}

static void
test_timeout_kills_group(void **state)
{
	/* The subshell says "gone" only if it gets the SIGTERM, too. */
	char *const		argv[] = { "/bin/sh", "-c",
	    "(trap 'echo gone; exit 0' TERM; sleep 30 & wait) & echo $!; "
	    "sleep 30", NULL };
	struct spawn_result	res;
	double			t0, dt;
	long			gpid;

	t0 = test_now();
	assert_int_equal(spawn_run(argv, test_env, -1, 300, &res), -1);
	dt = test_now() - t0;
	assert_true(res.timed_out);
	/*
	 * The group dies of the SIGTERM at once; the bound leaves room for an
	 * init slow to reap the orphaned grandchild (its zombie still counts
	 * as a group member, so spawn_run may wait out the grace period).
	 */
	if (dt >= 3.0)
		fail_msg("took %.2f s", dt);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGTERM);
	assert_non_null(strstr(res.out, "\ngone\n"));
	gpid = strtol(res.out, NULL, 10);
	assert_true(gpid > 1);
	assert_false(test_alive(gpid));
	spawn_result_clear(&res);
}

static void
test_timeout_sigkill(void **state)
{
	/* Ignores SIGTERM (and so do its children): needs the SIGKILL. */
	char *const		argv[] = { "/bin/sh", "-c",
	    "trap '' TERM; sleep 30 & echo $!; while :; do sleep 1; done",
	    NULL };
	struct spawn_result	res;
	double			t0, dt;
	long			gpid;

	t0 = test_now();
	assert_int_equal(spawn_run(argv, test_env, -1, 200, &res), -1);
	dt = test_now() - t0;
	assert_true(res.timed_out);
	assert_true(dt >= 2.0 && dt < 3.5);
	assert_int_equal(res.signal, SIGKILL);
	gpid = strtol(res.out, NULL, 10);
	assert_true(gpid > 1);
	assert_false(test_alive(gpid));
	spawn_result_clear(&res);
}

static void
test_fds_closed(void **state)
{
	char *const		argv[] = { "/bin/ls", "/proc/self/fd", NULL };
	struct spawn_result	res;
	char			*p, *save = NULL;
	int			fd, n = 0, low = 0;

	/* Deliberately without O_CLOEXEC: spawn must close it anyway. */
	assert_true((fd = open("/dev/null", O_RDONLY)) != -1);
	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), 0);
	close(fd);
	assert_int_equal(res.exit_code, 0);
	for (p = strtok_r(res.out, "\n", &save); p != NULL;
	    p = strtok_r(NULL, "\n", &save)) {
		n++;
		if (strcmp(p, "0") == 0 || strcmp(p, "1") == 0 ||
		    strcmp(p, "2") == 0)
			low++;
	}
	/* 0, 1, 2 and the directory ls itself opened. */
	assert_int_equal(low, 3);
	assert_int_equal(n, 4);
	spawn_result_clear(&res);
}

static void
test_output_cap(void **state)
{
	char *const		argv[] = { "/bin/sh", "-c",
	    "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; "
	    "echo done >&2; exit 0", NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, test_env, -1, 10000, &res), 0);
	assert_false(res.timed_out);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.out_len, SPAWN_OUTPUT_MAX);
	assert_int_equal(res.err_len, SPAWN_OUTPUT_MAX);
	assert_int_equal(res.out[SPAWN_OUTPUT_MAX], '\0');
	spawn_result_clear(&res);
}

static void
test_signalled(void **state)
{
	char *const		argv[] = { "/bin/sh", "-c", "kill -SEGV $$",
	    NULL };
	struct spawn_result	res;

	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), -1);
	assert_false(res.timed_out);
	assert_int_equal(res.signal, SIGSEGV);
	assert_int_equal(res.exit_code, -1);
	spawn_result_clear(&res);
}

static void
test_sigpipe_default(void **state)
{
	/* We ignore SIGPIPE; the child must not inherit that. */
	char *const		argv[] = { "/bin/sh", "-c",
	    "kill -PIPE $$; exit 0", NULL };
	struct spawn_result	res;

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), -1);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(res.signal, SIGPIPE);
	spawn_result_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_exit_127_is_not_exec_failure),
		cmocka_unit_test(test_env_exact),
		cmocka_unit_test(test_path_lookup),
		cmocka_unit_test(test_stdin_devnull),
		cmocka_unit_test(test_stdin_fd),
		cmocka_unit_test(test_exec_enoent),
		cmocka_unit_test(test_exec_eacces),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_sigkill),
		cmocka_unit_test(test_fds_closed),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_signalled),
		cmocka_unit_test(test_sigpipe_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
