/*
 * test_log.c: what reaches stderr from log_msg: control characters from
 * outside are escaped (no terminal escapes, no carriage return, no DEL or
 * C1), our own newlines stay, and log_quote keeps outside text on one
 * line, capped.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs fn with stderr going to a temporary file; returns what it got. */
static char *
capture(void (*fn)(void))
{
	char	path[] = "/tmp/extauth-test-log-XXXXXX";
	char	*buf;
	int	fd, saved;
	ssize_t	n;

	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_non_null(buf = calloc(1, 4096));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_true((n = read(fd, buf, 4095)) >= 0);
	close(fd);
	return buf;
}

static void
say_hostile(void)
{
	log_error("invoker says: %s",
	    "a\x1b[31mred\x1b[0m\rover\x7f\xc2\x9b" "2J\xc3\xa9");
	log_info("two lines\nof ours, with\ta tab");
}

static void
test_escaped(void **state)
{
	char	*got;

	(void)state;
	log_init(0, false);
	got = capture(say_hostile);
	assert_string_equal(got,
	    "extauth: error: invoker says: a\\x1b[31mred\\x1b[0m\\x0dover"
	    "\\x7f\\xc2\\x9b" "2J\xc3\xa9\n"
	    "two lines\nof ours, with\ta tab\n");
	/* The report line gets the same text. */
	assert_string_equal(log_last_error(), "invoker says: a\\x1b[31mred"
	    "\\x1b[0m\\x0dover\\x7f\\xc2\\x9b" "2J\xc3\xa9");
	free(got);
}

static void
test_quote(void **state)
{
	char	buf[16];

	(void)state;
	assert_string_equal(log_quote("x\nextauth: error: fake", buf,
	    sizeof buf), "x\\x0aextauth...");
	assert_true(strlen(buf) < sizeof buf);
	assert_string_equal(log_quote("tab\there", buf, sizeof buf),
	    "tab\\x09here");
	assert_string_equal(log_quote(NULL, buf, sizeof buf), "(null)");
	/* A control that does not fit whole is not cut in half. */
	assert_string_equal(log_quote("0123456789\x1b\x1b", buf, sizeof buf),
	    "0123456789...");
}

/* Set by the test before capture(): what JOURNAL_STREAM should name. */
static bool	journal_match;

static void
say_to_journal(void)
{
	struct stat	st;
	char		v[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (journal_match ? 0 : 1));
	setenv("JOURNAL_STREAM", v, 1);
	log_init(1, false);
	log_error("bad");
	log_warn("careful");
	log_info("two\nlines");
	log_debug("detail");
	unsetenv("JOURNAL_STREAM");
	log_init(0, false);
}

/* sd-daemon(3) prefixes, on every line, only when stderr is the journal. */
static void
test_journal(void **state)
{
	char	*got;

	(void)state;
	journal_match = true;
	got = capture(say_to_journal);
	assert_string_equal(got, "<3>extauth: error: bad\n"
	    "<4>extauth: warning: careful\n<6>two\n<6>lines\n<7>detail\n");
	free(got);
	/* JOURNAL_STREAM names another stream: stderr was redirected. */
	journal_match = false;
	got = capture(say_to_journal);
	assert_string_equal(got, "extauth: error: bad\n"
	    "extauth: warning: careful\ntwo\nlines\ndetail\n");
	free(got);
}

static void
say_two_errors(void)
{
	log_error("first episode");
	log_info("between");
	log_error("the config dir is locked");
	log_error("wait for it to finish");
}

/* The report line carries both lines of a two-line error, and only those. */
static void
test_last_error(void **state)
{
	char	*got;

	(void)state;
	got = capture(say_two_errors);
	free(got);
	assert_string_equal(log_last_error(),
	    "the config dir is locked; wait for it to finish");
	got = capture(say_two_errors);
	free(got);
	assert_string_equal(log_last_error(),
	    "the config dir is locked; wait for it to finish");
	log_info("next");
	got = capture(say_hostile);
	free(got);
	assert_true(strncmp(log_last_error(), "invoker says: ", 14) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_last_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
