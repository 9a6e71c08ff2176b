/* test_lineage.c: when a lineage is due, and renew_before_expiry. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lineage.h"

static void
due_rule(void **state)
{
	const long	day = 86400;
	time_t		nb = 1000000000;

	(void)state;
	/* 90-day cert: due in the last 30 days. */
	assert_false(lineage_due(nb, nb + 90 * day, nb + 59 * day, 0));
	assert_true(lineage_due(nb, nb + 90 * day, nb + 61 * day, 0));
	/* 6-day cert (under 10 days): due in the last half, 3 days, so a
	 * twice-daily timer has six chances before it expires. */
	assert_false(lineage_due(nb, nb + 6 * day, nb + 3 * day - 60, 0));
	assert_true(lineage_due(nb, nb + 6 * day, nb + 3 * day + 60, 0));
	/* 10 days is no longer short: a third. */
	assert_false(lineage_due(nb, nb + 10 * day, nb + 6 * day, 0));
	assert_true(lineage_due(nb, nb + 10 * day, nb + 7 * day, 0));
	/* 45-day cert (LE tlsserver): 15 days. */
	assert_false(lineage_due(nb, nb + 45 * day, nb + 29 * day, 0));
	assert_true(lineage_due(nb, nb + 45 * day, nb + 31 * day, 0));
	/* 5-year cert: a third too (certbot 4.0 has no 30-day cap). */
	assert_false(lineage_due(nb, nb + 1826 * day, nb + 1200 * day, 0));
	assert_true(lineage_due(nb, nb + 1826 * day, nb + 1230 * day, 0));
	/* renew_before_expiry wins, in both directions. */
	assert_true(lineage_due(nb, nb + 90 * day, nb + 10 * day, 85 * day));
	assert_false(lineage_due(nb, nb + 6 * day, nb + 5 * day, 3600));
	assert_true(lineage_due(nb, nb + 6 * day, nb + 6 * day - 60, 3600));
	assert_int_equal(lineage_parse_interval("30 days"), 30 * day);
	assert_int_equal(lineage_parse_interval("2 weeks"), 14 * day);
	assert_int_equal(lineage_parse_interval("12 hours"), 12 * 3600);
	assert_int_equal(lineage_parse_interval("soon"), 0);
}

static void
interval_edges(void **state)
{
	const long	day = 86400;

	(void)state;
	assert_int_equal(lineage_parse_interval("1 day"), day);
	assert_int_equal(lineage_parse_interval("90 minutes"), 90 * 60);
	assert_int_equal(lineage_parse_interval("45"), 45);
	assert_int_equal(lineage_parse_interval("45 seconds"), 45);
	assert_int_equal(lineage_parse_interval(NULL), 0);
	assert_int_equal(lineage_parse_interval(""), 0);
	assert_int_equal(lineage_parse_interval("-3 days"), 0);
	assert_int_equal(lineage_parse_interval("3 daysx"), 0);
	assert_int_equal(lineage_parse_interval("3 days; rm"), 0);
	/* No overflow into a small or negative window. */
	assert_int_equal(lineage_parse_interval("9223372036854775807 weeks"),
	    0);
	assert_int_equal(lineage_parse_interval("99999999999999999999999"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(due_rule),
		cmocka_unit_test(interval_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
