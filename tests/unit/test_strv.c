/* test_strv.c: list joining, over C vectors and JSON arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strv.h"

static void
join_vec(void **state)
{
	char	*v[] = { "a.example", "b.example", "c" };
	char	*s;

	(void)state;
	s = strv_join(v, 3, ", ");
	assert_string_equal(s, "a.example, b.example, c");
	free(s);
	s = strv_join(v, 1, ", ");
	assert_string_equal(s, "a.example");
	free(s);
	s = strv_join(NULL, 0, " ");
	assert_string_equal(s, "");
	free(s);
	s = strv_join(v, 2, "");
	assert_string_equal(s, "a.exampleb.example");
	free(s);
}

static void
join_json(void **state)
{
	json_t	*a = json_pack("[s, i, s, s]", "x", 5, "y", "z");
	char	*s;

	(void)state;
	s = strv_join_json(a, " ");
	assert_string_equal(s, "x y z");	/* the integer is skipped */
	free(s);
	json_decref(a);
	a = json_array();
	s = strv_join_json(a, " ");
	assert_string_equal(s, "");
	free(s);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_vec),
		cmocka_unit_test(join_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
