/* test_profile.c: which profile an order names (certbot 4.0's preferred
 * and required semantics) and which names are accepted at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "profile.h"

static void
names(void **state)
{
	static const char *ok[] = { "classic", "shortlived", "tls-server",
	    "a.b_c", "0" };
	static const char *bad[] = { "", "two words", "a/b", "x\n", "\"q\"",
	    "ümlaut", "a;b" };
	char	long_name[PROFILE_NAME_MAX + 2];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_true(profile_name_ok(ok[i]));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(profile_name_ok(bad[i]));
	assert_false(profile_name_ok(NULL));
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[PROFILE_NAME_MAX] = '\0';
	assert_true(profile_name_ok(long_name));
	long_name[PROFILE_NAME_MAX] = 'a';
	long_name[PROFILE_NAME_MAX + 1] = '\0';
	assert_false(profile_name_ok(long_name));
}

static void
choose(void **state)
{
	json_t		*offered = json_pack("{s:s, s:s}", "classic", "90 days",
			    "shortlived", "6 days");
	const char	*out = "unset";

	(void)state;
	/* Nothing asked: the CA's default (no "profile" in newOrder). */
	assert_int_equal(profile_choose(offered, NULL, NULL, &out), ERR_OK);
	assert_null(out);
	assert_int_equal(profile_choose(offered, "shortlived", NULL, &out),
	    ERR_OK);
	assert_string_equal(out, "shortlived");
	assert_int_equal(profile_choose(offered, NULL, "classic", &out),
	    ERR_OK);
	assert_string_equal(out, "classic");
	/* Preferred but not offered: the default, with a warning. */
	assert_int_equal(profile_choose(offered, "tlsserver", NULL, &out),
	    ERR_OK);
	assert_null(out);
	/* Required but not offered: a usage error before any order. */
	assert_int_equal(profile_choose(offered, NULL, "tlsserver", &out),
	    ERR_USAGE);
	assert_null(out);
	/* A CA without profiles (Pebble 2.4, older CAs). */
	assert_int_equal(profile_choose(NULL, "classic", NULL, &out), ERR_OK);
	assert_null(out);
	assert_int_equal(profile_choose(NULL, NULL, "classic", &out),
	    ERR_USAGE);
	json_decref(offered);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
