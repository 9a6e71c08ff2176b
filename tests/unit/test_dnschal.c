/*
 * test_dnschal.c: the dns-account-01 label against the example of the
 * draft's implementers (Certify the Web's documentation: account
 * https://example.com/acme/acct/ExampleAccount has label ujmmovf2vn55tgye),
 * and the dns-persist-01 record value Pebble 2.10 parses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnschal.h"

static void
test_account_label(void **state)
{
	char	label[DNSCHAL_LABEL_LEN + 1], *name;

	(void)state;
	assert_int_equal(dnschal_account_label(
	    "https://example.com/acme/acct/ExampleAccount", label), 0);
	assert_string_equal(label, "ujmmovf2vn55tgye");
	name = dnschal_account_name(
	    "https://example.com/acme/acct/ExampleAccount", "example.org");
	assert_non_null(name);
	assert_string_equal(name, "_ujmmovf2vn55tgye._acme-challenge.example.org");
	free(name);
	assert_null(dnschal_account_name(NULL, "example.org"));
}

static void
test_persist_value(void **state)
{
	char	why[160], *v;

	(void)state;
	v = dnschal_persist_value("pebble.letsencrypt.org",
	    "https://127.0.0.1:14000/my-account/1", false, why, sizeof why);
	assert_non_null(v);
	assert_string_equal(v, "pebble.letsencrypt.org; "
	    "accounturi=https://127.0.0.1:14000/my-account/1");
	free(v);
	v = dnschal_persist_value("ca.example", "https://ca.example/acct/7",
	    true, why, sizeof why);
	assert_non_null(v);
	assert_string_equal(v, "ca.example; accounturi=https://ca.example/"
	    "acct/7; policy=wildcard");
	free(v);
	v = dnschal_persist_name("example.org");
	assert_string_equal(v, "_validation-persist.example.org");
	free(v);
}

/* What the CA or the account gives must not break the record's syntax
 * (a ';' would add a parameter) or name a bad issuer. */
static void
test_persist_refused(void **state)
{
	static const char *const bad_issuers[] = {
		"", "*.ca.example", "ca example", "ca.example;x=y", "..",
	};
	static const char *const bad_urls[] = {
		"", "https://ca.example/acct/1; policy=wildcard",
		"https://ca.example/a b", "https://ca.example/\x7f",
	};
	char	why[160];
	size_t	i;

	(void)state;
	assert_null(dnschal_persist_value(NULL, "https://ca.example/a", false,
	    why, sizeof why));
	for (i = 0; i < sizeof bad_issuers / sizeof bad_issuers[0]; i++) {
		why[0] = '\0';
		assert_null(dnschal_persist_value(bad_issuers[i],
		    "https://ca.example/a", false, why, sizeof why));
		assert_non_null(strstr(why, "issuer-domain-names"));
	}
	for (i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
		why[0] = '\0';
		assert_null(dnschal_persist_value("ca.example", bad_urls[i],
		    false, why, sizeof why));
		assert_non_null(strstr(why, "account URL"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_label),
		cmocka_unit_test(test_persist_value),
		cmocka_unit_test(test_persist_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
