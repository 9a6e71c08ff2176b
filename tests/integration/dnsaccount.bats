#!/usr/bin/env bats
# dnsaccount.bats: dns-account-01 (draft-ietf-acme-dns-account-label)
# against Debian unstable's Pebble 2.10 (scripts/pebble-sid.sh), whose VA
# looks for the TXT record at _LABEL._acme-challenge.NAME, LABEL being the
# lower-case base32 of the first 10 bytes of SHA-256(account URL).  The
# label is computed here independently (openssl + base32) from the account
# URL that extauth stored, and every rendering is checked: the JSON line,
# the handler's environment, text mode; dehydrated mode is refused.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	# One profile, named by every order: 2.10 picks a random one otherwise.
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR \
		PEBBLE_PROFILES='{"default": {"description": "ninety days", "validityPeriod": 7776000}}' \
		common_setup_file PEBBLE_AUTHZREUSE=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	COMMON+=(--preferred-profile default)
}

# account_name NAME: the dns-account-01 record name of NAME for the one
# account in $CFG, computed from its stored URL without extauth.
account_name() {
	local url label
	url=$(jq -r .uri "$(find "$CFG/accounts" -name regr.json)")
	label=$(printf '%s' "$url" | openssl dgst -sha256 -binary | head -c 10 | base32 | tr '[:upper:]' '[:lower:]')
	printf '_%s._acme-challenge.%s\n' "$label" "$1"
}

@test "dns-account-01 in JSON mode: txt_domain carries the account label, Pebble validates, cleanup names the record" {
	ext_run -d acct1.example.com --preferred-challenges dns-account-01 certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/acct1.example.com" acct1.example.com
	local perform cleanup want
	want=$(account_name acct1.example.com)
	[[ $want =~ ^_[a-z2-7]{16}\._acme-challenge\.acct1\.example\.com$ ]]
	perform=$(lines_cmd perform_challenge)
	assert_eq "type" "$(jq -r .type <<<"$perform")" dns-account-01
	assert_eq "txt_domain" "$(jq -r .txt_domain <<<"$perform")" "$want"
	assert_eq "keys" "$(keys_of "$perform")" cmd,type,domain,token,validation,txt_domain,key_auth
	# The value is dns-01's: b64url(SHA-256(key_auth)).
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" \
		"$(jq -j .key_auth <<<"$perform" | openssl dgst -sha256 -binary | basenc --base64url | tr -d '=')"
	cleanup=$(lines_cmd cleanup)
	assert_eq "cleanup status" "$(jq -r .status <<<"$cleanup")" valid
	assert_eq "cleanup txt_domain" "$(jq -r .txt_domain <<<"$cleanup")" "$want"
	# The driver removed it from the cleanup line's txt_domain.
	run dig +short -p "$PEBBLE_DNS_PORT" @127.0.0.1 TXT "$want"
	[ -z "$output" ]
	grep -qx 'pref_challs = dns-account-01,' "$CFG/renewal/acct1.example.com.conf"
}

@test "dns-account-01 for a wildcard, and renew with the recorded preference" {
	ext_run -d '*.wacct.example.com' --preferred-challenges dns-account certonly
	[ "$status" -eq 0 ]
	assert_eq "txt_domain" "$(lines_cmd perform_challenge | jq -r .txt_domain)" \
		"$(account_name wacct.example.com)"
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --cert-name wacct.example.com --force-renewal
	show
	[ "$status" -eq 0 ]
	assert_eq "renewal type" "$(lines_cmd perform_challenge | jq -r .type)" dns-account-01
}

@test "dns-account-01 in handler mode: txt_domain in the environment" {
	local h=$BATS_TEST_TMPDIR/handler.sh
	cat >"$h" <<HANDLER
#!/bin/bash
set -eu
printf '%s %s %s\n' "\$1" "\${type:-}" "\${txt_domain:-}" >>"$BATS_TEST_TMPDIR/calls"
case \$1 in
perform) curl -fsS -o /dev/null -d "{\"host\":\"\$txt_domain.\",\"value\":\"\$validation\"}" "$CHALLTESTSRV_URL/set-txt" ;;
cleanup) curl -fsS -o /dev/null -d "{\"host\":\"\$txt_domain.\"}" "$CHALLTESTSRV_URL/clear-txt" ;;
esac
HANDLER
	chmod +x "$h"
	ext_direct "${COMMON[@]}" -d hacct.example.com --preferred-challenges dns-account-01 \
		--handler "$h" certonly
	[ "$status" -eq 0 ]
	local want
	want=$(account_name hacct.example.com)
	grep -qx "perform dns-account-01 $want" "$BATS_TEST_TMPDIR/calls"
	grep -qx "cleanup dns-account-01 $want" "$BATS_TEST_TMPDIR/calls"
}

@test "dns-account-01 in text mode: the person is shown the labelled name, with its trailing dot" {
	local out=$BATS_TEST_TMPDIR/out name='' value='' line
	coproc TEXT { timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" -d tacct.example.com \
		--preferred-challenges dns-account-01 --text-mode --no-self-check certonly 2>"$BATS_TEST_TMPDIR/err"; }
	local pid=$TEXT_PID from to
	exec {from}<&"${TEXT[0]}" {to}>&"${TEXT[1]}"
	while IFS= read -r line <&"$from"; do
		printf '%s\n' "$line" >>"$out"
		if [[ $line == _*._acme-challenge.* ]]; then name=$line; fi
		if [[ -n $name && -z $value && $line =~ ^[A-Za-z0-9_-]{43}$ ]]; then value=$line; fi
		if [[ $line == 'Press ENTER to continue' ]]; then
			challtestsrv_post set-txt "$(jq -nc --arg h "$name" --arg v "$value" '{host:$h,value:$v}')"
			printf '\n' >&"$to"
		fi
	done
	local rc=0
	wait "$pid" || rc=$?
	cat "$out" "$BATS_TEST_TMPDIR/err"
	[ "$rc" -eq 0 ]
	assert_eq "name shown" "$name" "$(account_name tacct.example.com)."
	grep -qx "You can now remove the TXT record $(account_name tacct.example.com). with value $value" "$out"
}

@test "dns-account-01 with --dehydrated: refused before any request, exit 2, with what to do" {
	printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/hook.sh"
	chmod +x "$BATS_TEST_TMPDIR/hook.sh"
	ext_direct "${COMMON[@]}" -d dacct.example.com --preferred-challenges dns-account-01 \
		--handler "$BATS_TEST_TMPDIR/hook.sh" --dehydrated certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *'a dehydrated hook cannot publish a dns-account-01 record'* ]]
	[[ $stderr == *'use --handler without --dehydrated'* ]]
	[ ! -d "$CFG/accounts" ]
}
