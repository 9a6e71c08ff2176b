#!/usr/bin/env bats
# concurrent.bats: one run with many orders (issue 10).  Rate-limit
# awareness: a rateLimited answer (or a 503 with Retry-After) pauses the
# run's new orders to that CA for the time given, once, instead of each
# order spending more of the limit; a pause longer than a run waits leaves
# the orders unsent, each with the CA's time as its next attempt, and a
# run whose only failures are rate limits exits 9, not 8.  Through
# tests/lib/faultproxy.py in front of the real Pebble.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	load ../lib/faultproxy
	common_setup_file PEBBLE_WFE_NONCEREJECT=0
	faultproxy_start || {
		pebble_stop
		return 1
	}
}

teardown_file() {
	load ../lib/common
	load ../lib/faultproxy
	faultproxy_stop
	pebble_stop
}

setup() {
	load ../lib/common
	load ../lib/faultproxy
	common_setup
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	faultproxy_rules
}

# lineages PREFIX N: N due lineages PREFIX1.example.com... obtained through
# the proxy (so renew goes through it), each due at once.
lineages() {
	local k
	for ((k = 1; k <= $2; k++)); do
		ext_run -d "$1$k.example.com" --preferred-challenges dns certonly
		[ "$status" -eq 0 ] || return 1
		sed -i '1i renew_before_expiry = 3000 days' "$CFG/renewal/$1$k.example.com.conf"
	done
	: >"$FAULTPROXY_LOG"
}

# renew_run ARGS...: `extauth renew` through the driver.
renew_run() {
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" renew "${DIRS[@]}" "$@"
	show
}

# retry_after NAME: the next attempt recorded in NAME's renewal conf.
retry_after() { sed -n 's/^extauth_retry_after = //p' "$CFG/renewal/$1.example.com.conf"; }

@test "rate limit longer than a run waits: said once, the other orders are not sent, each records the CA's time, exit 9" {
	lineages rl-long 3
	faultproxy_rules "ratelimited:kind=newOrder:secs=3600"
	local now
	now=$(date +%s)
	renew_run
	[ "$status" -eq 9 ]
	# One newOrder reached the CA; the limit was reported once.
	assert_eq newOrders "$(faultproxy_requests newOrder)" 1
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	[[ $stderr == *"2 orders were not sent to the CA at $FAULTPROXY_DIR_URL, which asked to wait until "* ]]
	local n at
	for n in 1 2 3; do
		at=$(retry_after "rl-long$n")
		[ "$at" -ge $((now + 3600)) ] && [ "$at" -le $((now + 3600 + 60)) ]
	done
}

@test "short rate limit: the run waits it out, then renews the others; only rate limits failed: exit 9" {
	lineages rl-short 3
	# The first lineage's newOrder is refused on all 4 attempts (2 s each).
	faultproxy_rules "ratelimited:kind=newOrder:secs=2:times=4"
	renew_run
	[ "$status" -eq 9 ]
	[[ $stderr == *"asked to wait 2 s: no new order to it before"* ]]
	[[ $stderr =~ waiting\ [12]\ s\ for\ the\ CA ]]
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	[[ $stderr == *"3 lineages checked, 3 due, 2 renewed, 1 failed."* ]]
	assert_eq newOrders "$(faultproxy_requests newOrder)" 6
}

@test "503 with Retry-After pauses the next order too; a 503 failure is not a rate limit: exit 8" {
	lineages rl-503 2
	faultproxy_rules "503ra:kind=newOrder:secs=2:times=4"
	renew_run
	[ "$status" -eq 8 ]
	[[ $stderr == *"asked to wait 2 s: no new order to it before"* ]]
	[[ $stderr == *"2 lineages checked, 2 due, 1 renewed, 1 failed."* ]]
}
