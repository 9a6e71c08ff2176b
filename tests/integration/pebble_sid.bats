#!/usr/bin/env bats
# pebble_sid.bats: extauth against Debian unstable's Pebble 2.10 (ARI,
# profiles, dns-account-01, dns-persist-01), fetched by scripts/pebble-sid.sh
# into PEBBLE_SID_DIR without touching the system's apt sources.
# scripts/test.sh runs the whole integration suite on it (PEBBLE_BIN_DIR)
# and the core files again on Debian 12's Pebble 2.4 (PATH); this file proves
# those harness knobs (PEBBLE_BIN_DIR, PEBBLE_PROFILES), that a failed fetch
# says so, and that the core flow holds on the newer CA, which hands a random
# profile to an order naming none.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
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

@test "the harness runs the Pebble the runner names: PEBBLE_BIN_DIR's 2.10, else Debian's 2.4 on PATH" {
	[ "$(readlink "/proc/$PEBBLE_PID/exe")" = "$(readlink -f "$PEBBLE_SID_DIR/pebble")" ]
	local exe dir
	exe=$(
		unset PEBBLE_BIN_DIR PEBBLE_PROFILES
		pebble_start >&2 || exit 1
		readlink "/proc/$PEBBLE_PID/exe"
		curl -fsS --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_DIR_URL" >"$BATS_TEST_TMPDIR/dir24"
		pebble_stop
	)
	[ "$exe" = "$(readlink -f "$(command -v pebble)")" ]
	# 2.4 has no ARI: the directory tells the two apart.
	dir=$(cat "$BATS_TEST_TMPDIR/dir24")
	[ "$(jq -r .renewalInfo <<<"$dir")" = null ]
}

@test "pebble-sid.sh: a fetch that fails says what failed and exits 1 (the runner then counts it)" {
	# apt-get as the failing part: everything before it is the real script.
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	printf '#!/bin/sh\necho "E: could not reach the mirror" >&2\nexit 100\n' >"$bin/apt-get"
	chmod +x "$bin/apt-get"
	run --separate-stderr env PATH="$bin:$PATH" bash "$REPO_ROOT/scripts/pebble-sid.sh" \
		"$BATS_TEST_TMPDIR/cache"
	show
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *"E: could not reach the mirror"* ]]
	[[ $stderr == *"pebble-sid: apt-get update of sid from "*" failed"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/cache/usr/bin/pebble" ]
}
