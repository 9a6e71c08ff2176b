#!/usr/bin/env bats
# authz.bats: authorization reuse and --deactivate-authz, against a Pebble
# that reuses every valid authorization it can (PEBBLE_AUTHZREUSE=100).
# Pebble never quite stops reusing: at PEBBLE_AUTHZREUSE=0 its test is
# rand.Intn(100) > 0, so 1 order in 100 still reuses.  Tests that need
# challenges on a re-issue therefore use --deactivate-authz.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_AUTHZREUSE=100
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

@test "a reused authorization needs no challenge: the invoker hears nothing" {
	ext_run -d reuse1.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_eq "first run" "$(count_cmd perform_challenge)" 1
	ext_run -d reuse1.example.com --preferred-challenges dns --force-renewal certonly
	[ "$status" -eq 0 ]
	assert_eq "second run" "$(count_cmd perform_challenge)" 0
	[[ $stderr == *"reuse1.example.com: already authorized"* ]]
	[ -f "$CFG/archive/reuse1.example.com/cert2.pem" ]
}

@test "--deactivate-authz: the next order validates afresh" {
	ext_run -d reuse2.example.com --preferred-challenges dns --deactivate-authz certonly
	[ "$status" -eq 0 ]
	assert_eq "first run" "$(count_cmd perform_challenge)" 1
	ext_run -d reuse2.example.com --preferred-challenges dns --force-renewal certonly
	[ "$status" -eq 0 ]
	assert_eq "second run" "$(count_cmd perform_challenge)" 1
	[[ $stderr != *"already authorized"* ]]
}
