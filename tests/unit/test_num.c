/* test_num.c: checked number parsing refuses everything atoi would guess at. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "num.h"

static void
long_accepts(void **state)
{
	static const struct { const char *in; long min, max, out; } ok[] = {
		{ "0", 0, 10, 0 },
		{ "10", 0, 10, 10 },
		{ "-5", -10, 10, -5 },
		{ "+7", 0, 10, 7 },
		{ "007", 0, 10, 7 },
		{ "9223372036854775807", 0, LONG_MAX, LONG_MAX },
		{ "-9223372036854775808", LONG_MIN, 0, LONG_MIN },
	};
	size_t	i;
	long	n;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		n = 12345;
		assert_true(num_parse_long(ok[i].in, ok[i].min, ok[i].max, &n,
		    NULL, 0));
		assert_int_equal(n, ok[i].out);
	}
}

static void
long_refuses(void **state)
{
	static const char *bad[] = { "", " 1", "1 ", "1x", "0x10", "1.5",
	    "-", "+", "--1", "1e3", "9223372036854775808",
	    "-9223372036854775809", "99999999999999999999999", "11", "-1" };
	char	why[80];
	size_t	i;
	long	n = 42;

	(void)state;
	assert_false(num_parse_long(NULL, 0, 10, &n, NULL, 0));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		assert_false(num_parse_long(bad[i], 0, 10, &n, why,
		    sizeof why));
		assert_true(why[0] != '\0');
		assert_int_equal(n, 42);	/* untouched on failure */
	}
	assert_false(num_parse_long("11", 0, 10, &n, why, sizeof why));
	assert_string_equal(why, "out of range (0 to 10)");
	assert_false(num_parse_long("1x", 0, 10, &n, why, sizeof why));
	assert_string_equal(why, "not a whole number");
}

static void
ulong_refuses_sign(void **state)
{
	unsigned long	n = 3;
	char		why[80];

	(void)state;
	/* strtoul reads "-1" as ULONG_MAX; this must not. */
	assert_false(num_parse_ulong("-1", 0, ULONG_MAX, &n, why, sizeof why));
	assert_false(num_parse_ulong("+1", 0, ULONG_MAX, &n, why, sizeof why));
	assert_false(num_parse_ulong("18446744073709551616", 0, ULONG_MAX, &n,
	    why, sizeof why));
	assert_false(num_parse_ulong("5", 6, 9, &n, why, sizeof why));
	assert_int_equal(n, 3);
	assert_true(num_parse_ulong("18446744073709551615", 0, ULONG_MAX, &n,
	    why, sizeof why));
	assert_true(n == ULONG_MAX);
	assert_true(num_parse_ulong("9", 6, 9, &n, NULL, 0));
	assert_int_equal(n, 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_accepts),
		cmocka_unit_test(long_refuses),
		cmocka_unit_test(ulong_refuses_sign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
