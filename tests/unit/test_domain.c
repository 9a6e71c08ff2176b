/* test_domain.c: the name rules every identifier passes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain.h"

static void
accepts(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "example.com", "example.com" },
		{ "WWW.Example.COM", "www.example.com" },
		{ "*.example.com", "*.example.com" },
		{ "a-b.c0.example", "a-b.c0.example" },
		{ "bücher.example", "xn--bcher-kva.example" },
		{ "*.bücher.example", "*.xn--bcher-kva.example" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	};
	char	why[160], *s;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		s = domain_normalize(ok[i].in, why, sizeof why);
		assert_non_null(s);
		assert_string_equal(s, ok[i].out);
		free(s);
	}
}

static void
rejects(void **state)
{
	char	label64[80], long254[300], why[160];
	const char *bad[] = { "", "example.com.", "a..b.com", ".a.com",
	    "bad name.com", "a_b.com", "-a.com", "a-.com", "com", "a.*.com",
	    "*example.com", "**.example.com", "ex$(id).com", "a;b.com",
	    label64, long254 };
	size_t	i;

	(void)state;
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	for (i = 0; i < 250; i += 2) {
		long254[i] = 'a';
		long254[i + 1] = '.';
	}
	strcpy(long254 + 250, "comm");	/* 254 characters */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		assert_null(domain_normalize(bad[i], why, sizeof why));
		assert_true(why[0] != '\0');
	}
	assert_true(strlen(long254) == 254);
	long254[252] = '\0';	/* 252 characters: fine */
	assert_true(domain_valid("a.example.com"));
	assert_false(domain_valid("*.example.com"));
}

/* RFC 8738 identifiers: canonical text in, canonical text out. */
static void
ips(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "192.0.2.1", "192.0.2.1" },
		{ "127.0.0.1", "127.0.0.1" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "2001:db8::1", "2001:db8::1" },
		{ "2001:DB8::1", "2001:db8::1" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "::1", "::1" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
	};
	const char *bad[] = { "010.0.0.1", "192.0.2.01", "1.2.3", "127.1",
	    "256.1.1.1", "1.2.3.4.5", "0x7f.0.0.1", "example.123",
	    "fe80::1%eth0", "fe80::1%1", "[2001:db8::1]", "1::2::3",
	    "2001:db8::g", ":::", "*.192.0.2.1", "*.2001:db8::1" };
	char	why[160], *s;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		s = domain_normalize(ok[i].in, why, sizeof why);
		assert_non_null(s);
		assert_string_equal(s, ok[i].out);
		assert_true(domain_is_ip(s));
		assert_false(domain_valid(s));
		free(s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		assert_null(domain_normalize(bad[i], why, sizeof why));
		assert_true(why[0] != '\0');
	}
	/* Only the canonical text is an IP identifier of ours. */
	assert_false(domain_is_ip("2001:DB8::1"));
	assert_false(domain_is_ip("2001:db8:0:0:0:0:0:1"));
	assert_false(domain_is_ip("example.com"));
	assert_false(domain_is_ip(""));
	assert_false(domain_is_ip("fe80::1%eth0"));
	assert_true(domain_is_ip("fe80::1"));
	/* Names stay names. */
	assert_false(domain_is_ip("1.example.com"));
	assert_non_null(s = domain_normalize("1.2.3.example", why,
	    sizeof why));
	free(s);
}

static void
limits(void **state)
{
	char	label63[80], why[160], *s;

	(void)state;
	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".com");
	assert_non_null(s = domain_normalize(label63, why, sizeof why));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts),
		cmocka_unit_test(rejects),
		cmocka_unit_test(ips),
		cmocka_unit_test(limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
