/* test_order.c: key authorization, dns-01 and tls-alpn-01 values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

/* The tls-alpn-01 value is what `openssl dgst -sha256 -c -hex` prints for
 * the key authorization: dehydrated's TOKEN_VALUE. */
static void
alpn_value(void **state)
{
	char	*v;

	(void)state;
	v = order_alpn_value("_QLSFTRw6qbQaN7gTglBYZuU1L7KAP-bXB_41CAnAvU."
	    "tRQM98JsABZRm5-NiotcgD212RAUPPbyeDP30Ob_7-0");
	assert_non_null(v);
	assert_string_equal(v, "eb:ae:dd:ac:d9:90:2f:7b:d7:e9:bb:bc:61:99:60:"
	    "cb:4c:0a:34:19:42:9f:2f:32:ae:31:75:95:26:94:9d:d7");
	free(v);
	/* SHA-256 of "" */
	v = order_alpn_value("");
	assert_non_null(v);
	assert_string_equal(v, "e3:b0:c4:42:98:fc:1c:14:9a:fb:f4:c8:99:6f:b9:"
	    "24:27:ae:41:e4:64:9b:93:4c:a4:95:99:1b:78:52:b8:55");
	free(v);
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

/* Issue 11 item 3: the authorizations cover exactly the names ordered. */
static void
cover(void **state)
{
	char *const		 names[] = { "a.example", "*.a.example",
	    "192.0.2.1", "B.example" };
	struct order_req	 req = { .names = names, .n_names = 4 };
	bool			 seen[4] = { false };
	size_t			 k;

	(void)state;
	/* The base name and its wildcard are two identifiers. */
	assert_int_equal(order_cover_add(&req, seen, "a.example", true, &k),
	    ORDER_COVER_OK);
	assert_int_equal(k, 1);
	assert_int_equal(order_cover_missing(&req, seen), 0);
	assert_int_equal(order_cover_add(&req, seen, "a.example", false, &k),
	    ORDER_COVER_OK);
	assert_int_equal(k, 0);
	/* A second authorization for one name. */
	assert_int_equal(order_cover_add(&req, seen, "a.example", false, &k),
	    ORDER_COVER_DUPLICATE);
	/* Names nobody ordered, a wildcard of an address among them. */
	assert_int_equal(order_cover_add(&req, seen, "foreign.example",
	    false, &k), ORDER_COVER_FOREIGN);
	assert_int_equal(k, 4);
	assert_int_equal(order_cover_add(&req, seen, "192.0.2.1", true, &k),
	    ORDER_COVER_FOREIGN);
	assert_int_equal(order_cover_add(&req, seen, "sub.a.example", false,
	    &k), ORDER_COVER_FOREIGN);
	assert_int_equal(order_cover_missing(&req, seen), 2);
	assert_int_equal(order_cover_add(&req, seen, "192.0.2.1", false, &k),
	    ORDER_COVER_OK);
	assert_int_equal(order_cover_missing(&req, seen), 3);
	/* DNS names compare without case. */
	assert_int_equal(order_cover_add(&req, seen, "b.EXAMPLE", false, &k),
	    ORDER_COVER_OK);
	assert_int_equal(k, 3);
	assert_int_equal(order_cover_missing(&req, seen), 4);
}

/* A name given twice (a CSR may) needs one authorization. */
static void
cover_repeated(void **state)
{
	char *const		 names[] = { "a.example", "a.example" };
	struct order_req	 req = { .names = names, .n_names = 2 };
	bool			 seen[2] = { false };
	size_t			 k;

	(void)state;
	assert_int_equal(order_cover_missing(&req, seen), 0);
	assert_int_equal(order_cover_add(&req, seen, "a.example", false, &k),
	    ORDER_COVER_OK);
	assert_int_equal(order_cover_missing(&req, seen), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_auth_vectors),
		cmocka_unit_test(alpn_value),
		cmocka_unit_test(http_uris),
		cmocka_unit_test(cover),
		cmocka_unit_test(cover_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
