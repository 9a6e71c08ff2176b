/*
 * test_spawn.c: spawn_run against real programs: capture, exit codes, the
 * exact environment, stdin wiring, exec failures, the timeout and group
 * kill, the fd table and the output cap.  /bin/sh appears here only as the
 * program under test.
 */
#include <sys/stat.h>
#include <sys/wait.h>

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

#include "sig.h"
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

	(void)state;
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

	(void)state;
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

	(void)state;
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

	(void)state;
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

	(void)state;
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

	(void)state;
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

	(void)state;
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

	(void)state;
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
	(void)state;
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
	(void)state;
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

	(void)state;
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

	(void)state;
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

	(void)state;
	assert_int_equal(spawn_run(argv, test_env, -1, 5000, &res), -1);
	assert_false(res.timed_out);
	assert_int_equal(res.signal, SIGSEGV);
	assert_int_equal(res.exit_code, -1);
	spawn_result_clear(&res);
}

static void
test_sigpipe_default(void **state)
{
	(void)state;
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

/*
 * spawn.c reports nothing: the result's why says what happened, in words
 * the caller puts after the program's name.  stderr is watched to prove
 * no error line is printed from inside.
 */
static void
test_why_and_silence(void **state)
{
	char *const		slow[] = { "/bin/sh", "-c", "sleep 30", NULL };
	char *const		segv[] = { "/bin/sh", "-c", "kill -SEGV $$",
	    NULL };
	char *const		missing[] = { "/nonexistent/hook", NULL };
	char *const		ok[] = { "/bin/sh", "-c", "exit 4", NULL };
	struct spawn_result	res;
	char			path[] = "/tmp/extauth-test-spawn-XXXXXX";
	int			fd, saved;
	struct stat		st;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);

	assert_int_equal(spawn_run(slow, test_env, -1, 300, &res), -1);
	assert_string_equal(res.why, "timed out after 0.3 s (killed)");
	spawn_result_clear(&res);
	assert_int_equal(spawn_run(segv, test_env, -1, 5000, &res), -1);
	assert_string_equal(res.why, "killed by signal 11 (Segmentation "
	    "fault)");
	spawn_result_clear(&res);
	assert_int_equal(spawn_run(missing, test_env, -1, 5000, &res), -1);
	assert_string_equal(res.why, "it (or its #! interpreter) does not "
	    "exist");
	spawn_result_clear(&res);
	/* A plain exit, even non-zero, is not spawn's to judge. */
	assert_int_equal(spawn_run(ok, test_env, -1, 5000, &res), 0);
	assert_int_equal(res.exit_code, 4);
	assert_string_equal(res.why, "");
	spawn_result_clear(&res);

	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	assert_int_equal(st.st_size, 0);
}

/* The three steps called one by one give what spawn_run gives. */
static void
test_start_wait_collect(void **state)
{
	char *const		argv[] = { "/bin/sh", "-c",
	    "echo out; echo err >&2; exit 2", NULL };
	struct spawn_job	job;
	struct spawn_result	res;

	(void)state;
	assert_int_equal(spawn_start(&job, argv, test_env, -1, 5000), 0);
	assert_true(job.pid > 0);
	assert_int_equal(spawn_wait(&job), 0);
	assert_int_equal(spawn_collect(&job, &res), 0);
	assert_int_equal(job.pid, -1);
	assert_int_equal(res.exit_code, 2);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(res.err, "err\n");
	spawn_result_clear(&res);

	/* A start that fails still collects into a result with a why. */
	assert_int_equal(spawn_start(&job, (char *[]){ NULL }, test_env, -1,
	    0), -1);
	assert_int_equal(spawn_wait(&job), -1);
	assert_int_equal(spawn_collect(&job, &res), -1);
	assert_string_equal(res.why, "no program given");
	spawn_result_clear(&res);
}

/*
 * In a child process (the handlers and the pending flag must not leak
 * into the other tests): a SIGTERM that arrives while a program runs
 * kills its whole group at once; a program started afterwards (a cleanup
 * hook) runs to its end.  Exit 0 when all held, else the failed step.
 */
static int
child_signal(void)
{
	char *const		argv[] = { "/bin/sh", "-c",
	    "sleep 30 & echo $!; wait", NULL };
	char *const		after[] = { "/bin/sh", "-c",
	    "sleep 0.2; echo cleaned", NULL };
	struct spawn_job	job;
	struct spawn_result	res;
	double			t0;
	long			gpid;

	if (sig_install() != 0)
		return 1;
	if (spawn_start(&job, argv, test_env, -1, 60000) != 0)
		return 2;
	t0 = test_now();
	/* Let the shell start its grandchild and print its pid. */
	usleep(200000);
	kill(getpid(), SIGTERM);
	(void)spawn_wait(&job);
	if (spawn_collect(&job, &res) != -1 || res.interrupted != SIGTERM)
		return 3;
	/* At once, not at the 60 s timeout; the bound leaves room for an
	 * init slow to reap the orphaned grandchild (as above). */
	if (test_now() - t0 > 3.0 || res.timed_out)
		return 4;
	if (strstr(res.why, "SIGTERM") == NULL)
		return 5;
	gpid = strtol(res.out, NULL, 10);
	if (gpid <= 1 || test_alive(gpid))
		return 6;
	spawn_result_clear(&res);
	if (spawn_run(after, test_env, -1, 5000, &res) != 0 ||
	    res.exit_code != 0 || strcmp(res.out, "cleaned\n") != 0)
		return 7;
	spawn_result_clear(&res);
	return 0;
}

static void
test_signal_kills_group(void **state)
{
	pid_t	pid;
	int	st;

	(void)state;
	assert_true((pid = fork()) != -1);
	if (pid == 0)
		_exit(child_signal());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
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
		cmocka_unit_test(test_why_and_silence),
		cmocka_unit_test(test_start_wait_collect),
		cmocka_unit_test(test_signal_kills_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
