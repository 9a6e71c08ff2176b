#!/usr/bin/env bats
# nonce.bats: a Pebble that rejects half of all valid nonces with badNonce
# (PEBBLE_WFE_NONCEREJECT=50).  extauth must retry them transparently, so
# three issuances in a row (one account) all succeed.  Own file, because
# setup_file starts Pebble with different settings than core.bats.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_WFE_NONCEREJECT=50
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

@test "badNonce half of the time: three certificates in a row" {
	local i name
	for i in 1 2 3; do
		name=t9-$i.example.com
		ext_run -d "$name" --preferred-challenges dns certonly
		[ "$status" -eq 0 ]
		assert_lineage "$CFG/live/$name" "$name"
	done
}
