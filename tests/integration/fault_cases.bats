#!/usr/bin/env bats
# fault_cases.bats: one fault at one chosen request (tests/lib/faultproxy.py
# between extauth and the real Pebble), for the defects of issue 11 items
# 1-3: what extauth must report, and what must never reach a handler.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/faults
	faults_setup_file
}

teardown_file() {
	load ../lib/faults
	faults_teardown_file
}

setup() {
	load ../lib/faults
	faults_setup
}

@test "fault: 503 on newOrder, then no nonce to be had: an error naming the 503, not 'no Location'" {
	# The 503 carries no Replay-Nonce, so the retry must fetch one; every
	# nonce fetch after the first fails.
	faultproxy_rules "503:kind=newOrder" "503:kind=nonce:at=$(seq -s, 2 60)"
	ext_run -d f-nonce.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	[[ $stderr != *"no Location"* ]]
	grep 'error' <<<"$stderr" | grep -q 'HTTP 503'
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	# the retry asked for a nonce and got a 503 too
	[ "$(faultproxy_injected 503)" -ge 2 ]
}

@test "fault: 503 on the challenge POST, then no nonce: an error now, not a 300 s wait blamed on the CA" {
	faultproxy_rules "503:kind=challenge" "503:kind=nonce:at=$(seq -s, 2 60)"
	RUN_TIMEOUT=60 ext_run -d f-chall.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	grep 'error' <<<"$stderr" | grep -q 'HTTP 503'
	# cleaned up what it published
	[ "$(count_cmd cleanup)" -eq "$(count_cmd perform_challenge)" ]
	[ "$(faultproxy_injected 503)" -ge 2 ]
}

@test "fault: the answer to the challenge POST is lost: the CA had it, the run issues" {
	faultproxy_rules "drop:kind=challenge:times=1"
	ext_run -d f-challdrop.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$(faultproxy_injected drop)" -eq 1 ]
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/f-challdrop.example.com" f-challdrop.example.com
	# not answered twice: the second look is a POST-as-GET that the CA
	# accepts (a second answer to a valid challenge is refused)
	[[ $stderr != *"Cannot update challenge"* ]]
	[ "$(count_cmd cleanup)" -eq "$(count_cmd perform_challenge)" ]
}

@test "fault: a non-JSON finalize answer is reported with the finalize URL" {
	faultproxy_rules "truncate:kind=finalize:times=1"
	ext_run -d f-final.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	local url
	url=$(jq -rs '[.[] | select(.kind == "finalize")][0].path' "$FAULTPROXY_LOG")
	[[ $url == /finalize-order/* ]]
	# the exact URL, not freed memory
	grep 'error' <<<"$stderr" | grep -qF "${FAULTPROXY_DIR_URL%/dir}$url"
}

@test "fault: a damaged certificate download is fetched again; damaged twice, refused with its URL" {
	faultproxy_rules "truncate:kind=cert:times=1"
	ext_run -d f-cert1.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$(faultproxy_injected truncate)" -eq 1 ]
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/f-cert1.example.com" f-cert1.example.com
	grep -q 'warning.*not a certificate chain.*fetching it again' <<<"$stderr"
	faultproxy_rules "truncate:kind=cert"
	ext_run -d f-cert2.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	[ "$(grep -c 'error' <<<"$stderr")" -eq 1 ]
	grep 'error' <<<"$stderr" | grep -q "certificate ${FAULTPROXY_DIR_URL%/dir}/certZ/.*not a certificate chain"
	[ ! -e "$CFG/live/f-cert2.example.com" ]
}

@test "fault: an authorization for a name never ordered aborts before any handler hears of it" {
	faultproxy_rules "foreignid:kind=authz:times=1"
	ext_run -d f-foreign.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$(faultproxy_injected foreignid)" -eq 1 ]
	[ "$status" -eq 3 ]
	grep 'error' <<<"$stderr" | grep -q 'foreign-1\.example\.net'
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	# only the report line may name it
	[ "$(grep -v '"cmd": "report"' <<<"$output" | grep -c foreign-1.example.net)" -eq 0 ]
}

@test "fault: an authorization for a foreign name is refused in handler mode too (no process started)" {
	faultproxy_rules "foreignid:kind=authz:times=1"
	local h=$BATS_TEST_TMPDIR/handler.sh
	printf '#!/bin/sh\necho "$@" >>"%s"\n' "$BATS_TEST_TMPDIR/calls" >"$h"
	chmod +x "$h"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" \
		--handler "$h" -d f-foreign-h.example.com --preferred-challenges dns certonly </dev/null
	show
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	[ ! -e "$BATS_TEST_TMPDIR/calls" ] || { cat "$BATS_TEST_TMPDIR/calls"; false; }
}

# The URLs of issue 11 item 3 (order, authorization, challenge, finalize
# and certificate), the directory's own entries and the account URL.
@test "fault: URLs of another origin are refused, never followed" {
	local kind
	for kind in directory newAccount newOrder order authz challenge finalize; do
		faultproxy_rules "crossorigin:kind=$kind:times=1"
		: >"$FAULTPROXY_LOG"
		rm -rf "$CFG" "$WORK" "$LOGS"
		ext_run -d "f-origin-$kind.example.com" --preferred-challenges dns certonly
		assert_no_sanitizer
		[ "$(jq -s '[.[] | select(.changed)] | length' "$FAULTPROXY_LOG")" -eq 1 ] || {
			echo "$kind: the proxy changed nothing"
			false
		}
		# never a request to the other origin
		[ "$(jq -s '[.[] | select(.host | startswith("localhost"))] | length' "$FAULTPROXY_LOG")" -eq 0 ] ||
			{ echo "$kind: a URL of https://localhost:PORT was followed"; false; }
		# The URLs in a challenge or finalize answer may never be
		# needed again (the order is polled for the certificate URL),
		# so issuing is fine there; any refusal must say why.
		if [[ $kind != @(challenge|finalize) ]] || [ "$status" -ne 0 ]; then
			[ "$status" -eq 3 ] || { echo "$kind: exit $status"; false; }
			grep 'error' <<<"$stderr" | grep -qi 'origin' ||
				{ echo "$kind: refused, but the message does not say why"; false; }
		fi
		[ "$(count_cmd cleanup)" -eq "$(count_cmd perform_challenge)" ]
	done
}

@test "fault: bad tokens (outside base64url, ../, 10,000 characters) never reach a handler" {
	local v
	for v in chars dots long; do
		faultproxy_rules "badtoken:kind=authz:at=1:variant=$v"
		: >"$FAULTPROXY_LOG"
		rm -rf "$CFG" "$WORK" "$LOGS"
		ext_run -d "f-token-$v.example.com" --preferred-challenges dns certonly
		assert_no_sanitizer
		[ "$(faultproxy_injected badtoken)" -eq 1 ]
		[ "$status" -eq 3 ] || { echo "$v: exit $status"; false; }
		grep 'error' <<<"$stderr" | grep -qi 'token'
		[ "$(count_cmd perform_challenge)" -eq 0 ]
	done
}

@test "fault: a certificate with leading blank lines is accepted" {
	faultproxy_rules "leadingblank:kind=cert"
	ext_run -d f-blank.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$(jq -s '[.[] | select(.fault == "leadingblank" and .changed)] | length' "$FAULTPROXY_LOG")" -ge 1 ]
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/f-blank.example.com" f-blank.example.com
}

@test "fault: a CA that never finishes validating: the documented deadline ends the run, the CA named" {
	faultproxy_rules "stuck:kind=authz"
	EXTAUTH_CA_TIMEOUT=2 RUN_TIMEOUT=60 ext_run -d f-stuck.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$(jq -s '[.[] | select(.fault == "stuck" and .changed)] | length' "$FAULTPROXY_LOG")" -ge 1 ]
	[ "$status" -eq 3 ]
	# the timeout message names the party waited for, and the deadline
	grep 'error' <<<"$stderr" | grep -i 'CA' | grep -q '2 s'
	[ "$(count_cmd cleanup)" -eq "$(count_cmd perform_challenge)" ]
	[ "$(count_cmd perform_challenge)" -eq 1 ]
}

@test "fault: an oversized answer is refused at the cap, naming it" {
	faultproxy_rules "oversize:kind=newOrder"
	ext_run -d f-big.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	grep 'error' <<<"$stderr" | grep -Eq "$(fault_pattern oversize)"
}

@test "fault: a redirect loop is an error naming the redirect, not a hang" {
	faultproxy_rules "redirect:kind=newOrder"
	ext_run -d f-loop.example.com --preferred-challenges dns certonly
	assert_no_sanitizer
	[ "$status" -eq 3 ]
	grep 'error' <<<"$stderr" | grep -Eq "$(fault_pattern redirect)"
	# not followed: one redirect answered, no more newOrder than the retries
	[ "$(faultproxy_requests newOrder)" -le 10 ]
}
