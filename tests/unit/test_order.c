/* test_order.c: key authorization and dns-01 value, and the renewal rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lineage.h"
#include "order.h"

static void
key_auth_vectors(void **state)
{
	char	*ka, *dns;

	(void)state;
	/* The seed README's values: token, account thumbprint, TXT value. */
	assert_int_equal(order_key_auth("_QLSFTRw6qbQaN7gTglBYZuU1L7KAP-bXB_"
	    "41CAnAvU", "tRQM98JsABZRm5-NiotcgD212RAUPPbyeDP30Ob_7-0", &ka,
	    &dns), 0);
	assert_string_equal(ka, "_QLSFTRw6qbQaN7gTglBYZuU1L7KAP-bXB_41CAnAvU."
	    "tRQM98JsABZRm5-NiotcgD212RAUPPbyeDP30Ob_7-0");
	assert_string_equal(dns, "667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc");
	free(ka);
	free(dns);
	assert_int_equal(order_key_auth("3gJ87yANDpmuuKVL2ktfQ0_qURQ3mN0IfqgbTU"
	    "_AGS4", "tRQM98JsABZRm5-NiotcgD212RAUPPbyeDP30Ob_7-0", &ka, &dns),
	    0);
	assert_string_equal(dns, "ejEDZXYEeYHUxqBAiX4csh8GKkeVX7utK6BBOBshZ1Y");
	free(ka);
	free(dns);
	/* A token that could walk a path or reach a shell is refused. */
	assert_int_equal(order_key_auth("../../etc/passwd", "t", &ka, &dns), -1);
	assert_int_equal(order_key_auth("a$(id)", "t", &ka, &dns), -1);
	assert_int_equal(order_key_auth("", "t", &ka, &dns), -1);
	assert_null(ka);
}

static void
http_uris(void **state)
{
	static const struct { const char *domain, *uri; } v[] = {
		{ "a.example", "http://a.example/.well-known/acme-challenge/T" },
		{ "192.0.2.1", "http://192.0.2.1/.well-known/acme-challenge/T" },
		{ "2001:db8::1",
		    "http://[2001:db8::1]/.well-known/acme-challenge/T" },
		{ "::ffff:192.0.2.1",
		    "http://[::ffff:192.0.2.1]/.well-known/acme-challenge/T" },
	};
	char	*uri;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_non_null(uri = order_http_uri(v[i].domain, "T"));
		assert_string_equal(uri, v[i].uri);
		free(uri);
	}
}

static void
due_rule(void **state)
{
	const long	day = 86400;
	time_t		nb = 1000000000;

	(void)state;
	/* 90-day cert: due in the last 30 days. */
	assert_false(lineage_due(nb, nb + 90 * day, nb + 59 * day, 0));
	assert_true(lineage_due(nb, nb + 90 * day, nb + 61 * day, 0));
	/* 6-day cert: due in the last third (2 days), not 30 days. */
	assert_false(lineage_due(nb, nb + 6 * day, nb + 3 * day, 0));
	assert_true(lineage_due(nb, nb + 6 * day, nb + 4 * day + 1, 0));
	/* 5-year cert: 30 days. */
	assert_false(lineage_due(nb, nb + 1826 * day, nb + 1000 * day, 0));
	/* renew_before_expiry wins. */
	assert_true(lineage_due(nb, nb + 90 * day, nb + 10 * day, 85 * day));
	assert_int_equal(lineage_parse_interval("30 days"), 30 * day);
	assert_int_equal(lineage_parse_interval("2 weeks"), 14 * day);
	assert_int_equal(lineage_parse_interval("12 hours"), 12 * 3600);
	assert_int_equal(lineage_parse_interval("soon"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_auth_vectors),
		cmocka_unit_test(http_uris),
		cmocka_unit_test(due_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
