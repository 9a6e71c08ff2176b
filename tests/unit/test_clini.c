/*
 * test_clini.c: the cli.ini reader (src/clini.c).  Each case is a file's
 * text and the command-line words it must become, checked against what
 * certbot's configargparse (DefaultConfigFileParser) does with the same
 * text; then the files it must refuse, and the line and key it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clini.h"
#include "log.h"

/* A stand-in for cli.c's option table. */
static enum clini_key
lookup(const char *key)
{
	static const char *const flags[] = { "agree-tos", "staging",
	    "verbose", "non-interactive", NULL };
	static const char *const values[] = { "email", "server", "domains",
	    "handler", "cert-name", "key-type", NULL };
	size_t	i;

	for (i = 0; flags[i] != NULL; i++)
		if (strcmp(key, flags[i]) == 0)
			return CLINI_KEY_FLAG;
	for (i = 0; values[i] != NULL; i++)
		if (strcmp(key, values[i]) == 0)
			return CLINI_KEY_VALUE;
	return CLINI_KEY_UNKNOWN;
}

static char	 path[64];

/* Writes text (len bytes) to a fresh temporary file named in path. */
static void
write_file(const char *text, size_t len)
{
	int	fd;

	snprintf(path, sizeof path, "/tmp/test_clini.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Loads text; the words joined with '|' into out. */
static enum err
load(const char *text, clini_lookup_fn fn, char *out, size_t size)
{
	char		**argv = NULL;
	int		  argc = -1, i;
	enum err	  e;

	write_file(text, strlen(text));
	e = clini_load(path, fn, &argc, &argv, NULL);
	unlink(path);
	out[0] = '\0';
	if (e != ERR_OK) {
		assert_null(argv);
		assert_int_equal(argc, 0);
		return e;
	}
	assert_non_null(argv);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strncat(out, "|", size - strlen(out) - 1);
		strncat(out, argv[i], size - strlen(out) - 1);
	}
	assert_null(argv[argc]);
	clini_free(argv);
	return e;
}

static const struct {
	const char	*text;
	const char	*words;
} good[] = {
	/* comments, blank lines, sections and YAML-ish separators */
	{ "# comment\n; also\n\n   \n[section]\n---\n", "" },
	{ "email = a@example.com\n", "--email|a@example.com" },
	{ "email=a@example.com", "--email|a@example.com" },
	{ "  email   =   a@example.com   \n", "--email|a@example.com" },
	{ "email\t=\ta@example.com\r\n", "--email|a@example.com" },
	{ "email: a@example.com\n", "--email|a@example.com" },
	{ "email a@example.com\n", "--email|a@example.com" },
	{ "handler /usr/bin/h with spaces\n",
	    "--handler|/usr/bin/h with spaces" },
	/* flags: bare, true/yes/1 (any case), false/no/0 leave them out */
	{ "agree-tos\n", "--agree-tos" },
	{ "agree-tos = True\nstaging = yes\nverbose = 1\n",
	    "--agree-tos|--staging|--verbose" },
	{ "agree-tos = false\nstaging = NO\nverbose = 0\n", "" },
	{ "agree-tos \"\"\n", "--agree-tos" },
	/* one pair of matching quotes is removed, nothing else */
	{ "email = \"a@example.com\"\n", "--email|a@example.com" },
	{ "email = 'a@example.com'\n", "--email|a@example.com" },
	{ "email = \"a@example.com\n", "--email|\"a@example.com" },
	{ "email = \"a\"b\"\n", "--email|a\"b" },
	{ "email = a\"b\"\n", "--email|a\"b\"" },
	{ "email = \"\"\n", "--email|" },
	{ "email =\n", "--email|" },
	/* inline comments need whitespace before # or ; */
	{ "email = a@example.com # contact\n", "--email|a@example.com" },
	{ "email = a@example.com ; contact\n", "--email|a@example.com" },
	{ "handler = /bin/a#b\n", "--handler|/bin/a#b" },
	{ "handler = /bin/a;b\n", "--handler|/bin/a;b" },
	{ "email = \"a b\" # c\n", "--email|a b" },
	/* lists: JSON, or configargparse's legacy comma split */
	{ "domains = [a.example, b.example]\n",
	    "--domains|a.example|--domains|b.example" },
	{ "domains = [\"a.example\", \"b.example\"]\n",
	    "--domains|a.example|--domains|b.example" },
	{ "domains = []\n", "" },
	/* a plain comma list is one value (-d splits it itself) */
	{ "domains = a.example, b.example\n", "--domains|a.example, b.example" },
	/* a repeated key keeps its first place and its last value */
	{ "email = a@x\nserver = s\nemail = b@x\n", "--email|b@x|--server|s" },
	/* values may look like options */
	{ "email = --staging\n", "--email|--staging" },
	/* no newline at the end */
	{ "server = https://ca.example/dir", "--server|https://ca.example/dir" },
};

static void
test_good(void **state)
{
	char	out[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (load(good[i].text, lookup, out, sizeof out) != ERR_OK)
			fail_msg("case %zu refused: %s", i, good[i].text);
		if (strcmp(out, good[i].words) != 0)
			fail_msg("case %zu: %s\n got  [%s]\n want [%s]", i,
			    good[i].text, out, good[i].words);
	}
}

/* Without a lookup every key is accepted. */
static void
test_no_lookup(void **state)
{
	char	out[256];

	(void)state;
	assert_int_equal(load("anything = x\nflag\n", NULL, out, sizeof out),
	    ERR_OK);
	assert_string_equal(out, "--anything|x|--flag");
}

static const struct {
	const char	*text;
	const char	*want;	/* in the error message */
} bad[] = {
	{ "email = a@x\n\nbogus = 1\n", ":3: unknown option \"bogus\"" },
	{ "# c\nno-such-flag\n", ":2: unknown option \"no-such-flag\"" },
	{ "agree-tos = maybe\n", ":1: agree-tos takes no value" },
	{ "agree-tos = [a]\n", ":1: agree-tos takes no value" },
	{ "email = a\nemail#x\n", ":2: cannot parse" },
	{ "= value\n", ":1: cannot parse" },
	{ ":x\n", ":1: cannot parse" },
};

static void
test_bad(void **state)
{
	char	out[64], want[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (load(bad[i].text, lookup, out, sizeof out) != ERR_USAGE)
			fail_msg("case %zu accepted: %s", i, bad[i].text);
		/* the message names the file and the line */
		snprintf(want, sizeof want, "%s%s", path, bad[i].want);
		if (strstr(log_last_error(), want) == NULL)
			fail_msg("case %zu: message [%s] lacks [%s]", i,
			    log_last_error(), want);
	}
}

static void
test_file_errors(void **state)
{
	char	**argv = NULL, *big;
	int	  argc = -1;

	(void)state;
	assert_int_equal(clini_load("/nonexistent/cli.ini", lookup, &argc,
	    &argv, NULL), ERR_USAGE);
	assert_null(argv);
	assert_non_null(strstr(log_last_error(), "/nonexistent/cli.ini"));

	/* a NUL byte: not text */
	write_file("email = a\0b\n", 12);
	assert_int_equal(clini_load(path, lookup, &argc, &argv, NULL), ERR_USAGE);
	unlink(path);
	assert_non_null(strstr(log_last_error(), "NUL"));

	/* one byte over the cap (all comment lines) */
	big = malloc(CLINI_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '#', CLINI_FILE_MAX + 1);
	write_file(big, CLINI_FILE_MAX + 1);
	assert_int_equal(clini_load(path, lookup, &argc, &argv, NULL), ERR_USAGE);
	unlink(path);
	assert_non_null(strstr(log_last_error(), "larger than"));
	/* exactly at the cap is fine */
	write_file(big, CLINI_FILE_MAX);
	assert_int_equal(clini_load(path, lookup, &argc, &argv, NULL), ERR_OK);
	assert_int_equal(argc, 0);
	clini_free(argv);
	unlink(path);
	free(big);
}

/* Each word's file line, for the caller's messages; and the reader's own
 * messages never quote a value or a line. */
static void
test_lines(void **state)
{
	static const char text[] = "# c\nemail = a@example.com\n\n"
	    "agree-tos\ndomains = [a.example.com, b.example.com]\n";
	char	**argv = NULL;
	int	  argc = -1, *lines = NULL;

	(void)state;
	write_file(text, strlen(text));
	assert_int_equal(clini_load(path, lookup, &argc, &argv, &lines), ERR_OK);
	unlink(path);
	assert_int_equal(argc, 7);
	assert_int_equal(lines[0], 2);	/* --email */
	assert_int_equal(lines[1], 2);	/* its value */
	assert_int_equal(lines[2], 4);	/* --agree-tos */
	assert_int_equal(lines[3], 5);	/* --domains */
	assert_int_equal(lines[6], 5);	/* b.example.com */
	clini_free(argv);
	free(lines);

	write_file("agree-tos = s3cret\n", 19);
	assert_int_equal(clini_load(path, lookup, &argc, &argv, &lines),
	    ERR_USAGE);
	unlink(path);
	assert_null(lines);
	assert_null(strstr(log_last_error(), "s3cret"));
	write_file("= s3cret\n", 9);
	assert_int_equal(clini_load(path, lookup, &argc, &argv, NULL),
	    ERR_USAGE);
	unlink(path);
	assert_null(strstr(log_last_error(), "s3cret"));
	assert_non_null(strstr(log_last_error(), ":1:"));
}

/* Found by fuzz/fuzz_clini.c: a file with no words (empty, or comments
 * only) asked for line numbers copied from a NULL array (UBSan: memcpy's
 * nonnull argument; meson test halts on it in build-asan). */
static void
test_lines_empty(void **state)
{
	char	**argv = NULL;
	int	  argc = -1, *lines = NULL;

	(void)state;
	write_file("# only a comment\n", 17);
	assert_int_equal(clini_load(path, lookup, &argc, &argv, &lines), ERR_OK);
	unlink(path);
	assert_int_equal(argc, 0);
	assert_non_null(lines);
	assert_null(argv[0]);
	clini_free(argv);
	free(lines);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_no_lookup),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_lines_empty),
	};

	log_init(0, true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
