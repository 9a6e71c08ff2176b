#!/usr/bin/env bats
# pebble_sid.bats: extauth against Debian unstable's Pebble 2.10 (ARI,
# profiles, dns-account-01, dns-persist-01), fetched by scripts/pebble-sid.sh
# into PEBBLE_SID_DIR without touching the system's apt sources.  Debian 12's
# Pebble 2.4 stays the default for every other file; this file proves the
# harness knobs (PEBBLE_BIN_DIR, PEBBLE_PROFILES) and that the core flow holds
# on the newer CA, which hands a random profile to an order naming none.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR \
		PEBBLE_PROFILES='{"long": {"description": "long", "validityPeriod": 7776000}, "six": {"description": "six days", "validityPeriod": 518400}}' \
		common_setup_file PEBBLE_AUTHZREUSE=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

@test "pebble 2.10 from sid: the directory offers renewalInfo and the configured profiles" {
	run curl -fsS --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_DIR_URL"
	[ "$status" -eq 0 ]
	[[ $(jq -r '.renewalInfo' <<<"$output") == https://127.0.0.1:*/renewalInfo ]]
	[ "$(jq -c '.meta.profiles' <<<"$output")" = '{"long":"long","six":"six days"}' ]
}

@test "pebble 2.10: dns-01 issuance; the lifetime is one of the two profiles'" {
	ext_run -d sid1.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/sid1.example.com" sid1.example.com
	local cert=$CFG/live/sid1.example.com/cert.pem nb na days
	nb=$(date -d "$(openssl x509 -in "$cert" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$cert" -noout -enddate | cut -d= -f2)" +%s)
	days=$(((na - nb + 3600) / 86400))
	[[ $days == 90 || $days == 6 ]] || { echo "lifetime $days days" >&2; false; }
}
