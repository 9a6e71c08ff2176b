/* test_ari.c: RFC 9773's CertID (the RFC's own example), the window
 * parser, the random moment and the Retry-After clamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ari.h"

static void
window(void **state)
{
	json_t		*o;
	time_t		 s, e;
	const char	*ex;

	(void)state;
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-02T04:00:00Z\", \"end\": \"2025-01-03T04:00:00.123Z\"},"
	    " \"explanationURL\": \"https://acme.example.com/docs/ari\"}", 0,
	    NULL);
	assert_non_null(o);
	assert_true(ari_parse(o, &s, &e, &ex));
	assert_int_equal(s, 1735790400);
	assert_int_equal(e, 1735790400 + 86400);
	assert_string_equal(ex, "https://acme.example.com/docs/ari");
	json_decref(o);
	/* An offset is honoured. */
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-02T06:00:00+02:00\", \"end\": \"2025-01-02T05:00:00Z\"}}",
	    0, NULL);
	assert_true(ari_parse(o, &s, &e, &ex));
	assert_int_equal(s, 1735790400);
	assert_null(ex);
	json_decref(o);
	/* End before start, missing or bad times: no window. */
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-03T04:00:00Z\", \"end\": \"2025-01-02T04:00:00Z\"}}",
	    0, NULL);
	assert_false(ari_parse(o, &s, &e, &ex));
	json_decref(o);
	o = json_loads("{\"suggestedWindow\": {\"start\": \"soon\", "
	    "\"end\": \"2025-01-02T04:00:00Z\"}}", 0, NULL);
	assert_false(ari_parse(o, &s, &e, &ex));
	json_decref(o);
	o = json_loads("{}", 0, NULL);
	assert_false(ari_parse(o, &s, &e, &ex));
	json_decref(o);
	/* An explanation with a newline is not kept. */
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-02T04:00:00Z\", \"end\": \"2025-01-03T04:00:00Z\"},"
	    " \"explanationURL\": \"https://x/\\nextauth: error: fake\"}", 0,
	    NULL);
	assert_true(ari_parse(o, &s, &e, &ex));
	assert_null(ex);
	json_decref(o);
}

static void
choose_and_clamp(void **state)
{
	int	i;
	time_t	t;
	bool	low = false, high = false;

	(void)state;
	for (i = 0; i < 2000; i++) {
		t = ari_choose(1000, 1009);
		assert_true(t >= 1000 && t <= 1009);
		low |= t == 1000;
		high |= t == 1009;
	}
	assert_true(low && high);
	assert_int_equal(ari_choose(5, 5), 5);
	assert_int_equal(ari_retry_after(-1), 21600);
	assert_int_equal(ari_retry_after(0), 60);
	assert_int_equal(ari_retry_after(3600), 3600);
	assert_int_equal(ari_retry_after(999999), 86400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(window),
		cmocka_unit_test(choose_and_clamp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
