/*
 * test_ratelimit.c: a run's pauses (ratelimit.c): an answer starts or
 * extends the pause at once, the gate holds new orders while it lasts,
 * and the CA's refusal is reported once per pause, again in the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "log.h"
#include "ratelimit.h"

#define CA	"https://ca.example/dir"

static const struct ratelimit_refusal refusal = {
	"newOrder", "POST", "https://ca.example/new-order", 429,
	"too many new orders", 3600,
};

static long long
ms_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A long pause holds every new order unsent, with the CA's end. */
static void
long_pause_holds(void **state)
{
	struct ratelimit	rl;
	time_t			until, now = time(NULL);

	(void)state;
	ratelimit_init(&rl);
	assert_int_equal(ratelimit_gate(&rl, CA, &until), ERR_OK);
	assert_int_equal(until, 0);
	assert_int_equal(ratelimit_note(&rl, CA, 3600, false), ERR_OK);
	assert_int_equal(ratelimit_gate(&rl, CA, &until), ERR_RATELIMIT);
	assert_true(until >= now + 3600 && until <= now + 3601);
	assert_int_equal(ratelimit_gate(&rl, CA, &until), ERR_RATELIMIT);
	assert_int_equal(rl.v[0].held, 2);
	/* Another CA is not paused. */
	assert_int_equal(ratelimit_gate(&rl, "https://other.example/dir",
	    &until), ERR_OK);
	/* A shorter answer inside the pause does not shorten it. */
	assert_int_equal(ratelimit_note(&rl, CA, 5, false), ERR_OK);
	assert_int_equal(ratelimit_gate(&rl, CA, &until), ERR_RATELIMIT);
	assert_true(until >= now + 3600);
	ratelimit_clear(&rl);
}

/* rateLimited without a time: RATELIMIT_UNNAMED_S; no wait asked or no
 * run (NULL): no pause at all. */
static void
unnamed_and_none(void **state)
{
	struct ratelimit	rl;
	time_t			until, now = time(NULL);

	(void)state;
	ratelimit_init(&rl);
	assert_int_equal(ratelimit_note(&rl, CA, 0, false), ERR_OK);
	assert_int_equal(rl.n, 0);
	assert_int_equal(ratelimit_note(NULL, CA, 60, false), ERR_OK);
	assert_int_equal(ratelimit_gate(NULL, CA, &until), ERR_OK);
	assert_int_equal(ratelimit_note(&rl, CA, -1, false), ERR_OK);
	assert_int_equal(ratelimit_gate(&rl, CA, &until), ERR_RATELIMIT);
	assert_true(until >= now + RATELIMIT_UNNAMED_S);
	ratelimit_clear(&rl);
}

/* A short pause is waited out, to the millisecond, not a second early. */
static void
short_pause_waits(void **state)
{
	struct ratelimit	rl;
	time_t			until;
	long long		t0;

	(void)state;
	ratelimit_init(&rl);
	assert_int_equal(ratelimit_note(&rl, CA, 1, false), ERR_OK);
	t0 = ms_now();
	assert_int_equal(ratelimit_gate(&rl, CA, &until), ERR_OK);
	assert_int_equal(until, 0);
	assert_true(ms_now() - t0 >= 950);
	assert_int_equal(rl.v[0].held, 0);
	ratelimit_clear(&rl);
}

/* The refusal's two lines come once per pause: the second order in
 * flight logs no error; after the pause, the next refusal is reported. */
static void
refusal_said_once_per_pause(void **state)
{
	struct ratelimit	rl;

	(void)state;
	ratelimit_init(&rl);
	assert_int_equal(ratelimit_note(&rl, CA, 3600, false), ERR_OK);
	ratelimit_note(&rl, CA, 3600, false);
	ratelimit_refused(&rl, CA, &refusal);
	assert_non_null(strstr(log_last_error(), "newOrder: POST "
	    "https://ca.example/new-order: rate limited by the CA (HTTP 429): "
	    "too many new orders; retry after "));
	log_error("marker");
	ratelimit_refused(&rl, CA, &refusal);
	assert_string_equal(log_last_error(), "marker");
	/* The pause is over: the next answer starts another, reported. */
	rl.v[0].until_ms = ms_now() - 1;
	assert_int_equal(ratelimit_note(&rl, CA, 3600, true), ERR_OK);
	ratelimit_refused(&rl, CA, &refusal);
	assert_non_null(strstr(log_last_error(), "retry after "));
	/* Without a run (one order), always said. */
	log_error("marker");
	ratelimit_refused(NULL, CA, &refusal);
	assert_non_null(strstr(log_last_error(), "retry after "));
	ratelimit_clear(&rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_pause_holds),
		cmocka_unit_test(unnamed_and_none),
		cmocka_unit_test(short_pause_waits),
		cmocka_unit_test(refusal_said_once_per_pause),
	};

	log_init(0, true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
