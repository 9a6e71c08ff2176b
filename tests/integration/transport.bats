#!/usr/bin/env bats
# transport.bats: what extauth makes of a misbehaving CA or network (issue
# 11 items 1-2, issue 7 §1 and §5), driven through tests/lib/faultproxy.py
# in front of the real Pebble.  One retry policy for every request; a
# retry that cannot be signed is a failure, never a success with an empty
# answer; each failure names the URL, the status or transport error and
# the attempt count; a rateLimited answer exits 9 with the time to retry.
# Run it with both binaries (build/ and build-asan/): the non-JSON
# finalize answer was a use-after-free.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	load ../lib/faultproxy
	common_setup_file PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
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
	: >"$FAULTPROXY_LOG"
}

# no_sanitizer_report: an ASan/UBSan binary says so on stderr.
no_sanitizer_report() {
	if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$stderr"; then
		echo "sanitizer report above"
		return 1
	fi
}

@test "503 on newOrder, then newNonce down: an error naming the request, never 'no Location'" {
	# newAccount takes the first nonce; newOrder's 503 carries none (a
	# load balancer's answer), and every later newNonce fails.
	faultproxy_rules "503:kind=newOrder:times=1" "503:kind=nonce:at=2,3,4,5,6,7,8,9"
	ext_run -d tr-nononce.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"newOrder: POST ${FAULTPROXY_DIR_URL%/dir}/order-plz: no nonce to sign attempt 2 with, so it was not sent"* ]]
	[[ $stderr == *"newNonce: HEAD ${FAULTPROXY_DIR_URL%/dir}/nonce-plz: HTTP 503"*"(after 4 attempts)"* ]]
	[[ $stderr != *"no Location"* ]]
	# Nothing was handed to the invoker for an order that does not exist.
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	no_sanitizer_report
}

@test "500/503/429/dropped on every kind of request: retried, the certificate issues" {
	faultproxy_rules "500:kind=directory:times=1" "503ra:kind=nonce:times=1:secs=0" \
		"503:kind=newOrder:times=1" "drop:kind=authz:times=1" "429:kind=challenge:times=1" \
		"503:kind=order:times=1" "500:kind=cert:times=1"
	ext_run -d tr-retry.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/tr-retry.example.com" tr-retry.example.com
	[ "$(faultproxy_injected)" -eq 7 ]
	[[ $stderr == *"challenge: POST "*": HTTP 429 "*"; retrying in "*"(attempt 2 of 4)"* ]]
	[[ $stderr == *"connection dropped; retrying in"* ]]
	no_sanitizer_report
}

@test "the challenge POST failing for good: exit 3 at once, naming it, and cleanup" {
	faultproxy_rules "503:kind=challenge"
	ext_run -d tr-chal.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"challenge: POST ${FAULTPROXY_DIR_URL%/dir}/"*": HTTP 503"*"(after 4 attempts)"* ]]
	[[ $stderr != *"timed out"* ]]
	# Four attempts, not a 300 s wait that blames the CA.
	[ "$(faultproxy_requests challenge)" -eq 4 ]
	[ "$(count_cmd cleanup)" -eq 1 ]
	no_sanitizer_report
}

@test "a finalize answer that is not JSON: exit 3 naming the finalize URL (no use-after-free)" {
	faultproxy_rules "truncate:kind=finalize:times=1"
	ext_run -d tr-final.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[ "$(faultproxy_injected truncate)" -eq 1 ]
	[[ $stderr == *"finalize: ${FAULTPROXY_DIR_URL%/dir}/finalize-order/"*" answered HTTP 200 with something that is not a JSON object"* ]]
	no_sanitizer_report
	# A plain rerun succeeds.
	faultproxy_rules
	ext_run -d tr-final.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
}

@test "rateLimited: exit 9, the CA's detail and the local time to retry" {
	faultproxy_rules "ratelimited:kind=newOrder:secs=3600"
	ext_run -d tr-limit.example.com --preferred-challenges dns certonly
	[ "$status" -eq 9 ]
	[[ $stderr == *"newOrder: POST "*": rate limited by the CA (HTTP 429): "* ]]
	local when
	when=$(date -d @$(($(date +%s) + 3600)) '+%Y-%m-%d %H')
	[[ $stderr == *"retry after $when:"*"(local time, in 3600 s)"* ]]
	# One attempt: a wait of an hour is not ours to make.
	[ "$(faultproxy_requests newOrder)" -eq 1 ]
	no_sanitizer_report
}

@test "TLS verification failed: exit 3, one line naming --ca-bundle" {
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	ext_run -d tr-tls.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"ACME directory: GET $FAULTPROXY_DIR_URL: TLS verification failed"* ]]
	[[ $stderr == *"give the CA certificate with --ca-bundle"* ]]
}

@test "CA unreachable: exit 3, the URL, check --server and the network" {
	COMMON=(--server https://127.0.0.1:1/dir --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	ext_run -d tr-down.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"ACME directory: GET https://127.0.0.1:1/dir: connection refused"* ]]
	[[ $stderr == *"check --server and the network"* ]]
	COMMON=(--server https://no-such-ca.invalid/dir --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	ext_run -d tr-down.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"host name not found"* ]]
	[[ $stderr == *"check --server and the network"* ]]
}

@test "an authorization for a name nobody ordered: refused before anything is deployed" {
	faultproxy_rules "foreignid:kind=authz:times=1"
	ext_run -d tr-foreign.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[ "$(faultproxy_injected foreignid)" -eq 1 ]
	[[ $stderr == *"is for foreign-"*".example.net, which was not ordered: refused before anything was deployed"* ]]
	# Neither the foreign name nor the ordered one reached the invoker.
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	[[ $(lines_cmd perform_challenge) != *foreign-* ]]
	[ "$(faultproxy_requests challenge)" -eq 0 ]
	no_sanitizer_report
}

@test "order URLs on another origin: refused unless --allow-cross-origin" {
	local base=${FAULTPROXY_DIR_URL%/dir}
	# The directory sends every endpoint to https://localhost:PORT (the
	# same Pebble behind the same proxy), so the account and the order
	# live there.  Refused at the first of them, before any request to it.
	faultproxy_rules "crossorigin:kind=directory"
	ext_run -d tr-cross.example.com --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"the CA sent the new"*" URL ${base/127.0.0.1/localhost}/"*", which is not on the origin of its directory $FAULTPROXY_DIR_URL: refused"* ]]
	[[ $stderr == *"run again with --allow-cross-origin"* ]]
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	[ "$(jq -s '[.[] | select(.host | startswith("localhost:"))] | length' "$FAULTPROXY_LOG")" -eq 0 ]
	# The same answer with the option: issued through the other origin.
	: >"$FAULTPROXY_LOG"
	ext_run -d tr-cross.example.com --preferred-challenges dns --allow-cross-origin certonly
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.kind == "authz" and (.host | startswith("localhost:")))] | length' "$FAULTPROXY_LOG")" -ge 1 ]
	no_sanitizer_report
}

@test "-v traces every order and challenge state change with its source line" {
	ext_run -v -d tr-trace.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	local line='\(order\.c:[0-9]+\)'
	local re1="order \(new\): \[none\] -> \[pending\] $line"
	local re2="order https://[^ ]+/my-order/[^ ]+: \[pending\] -> \[ready\] $line"
	local re3="\[(ready|processing)\] -> \[valid\] $line"
	local re4="dns-01 challenge for tr-trace\.example\.com: \[none\] -> \[valid\] $line"
	[[ $stderr =~ $re1 ]]
	[[ $stderr =~ $re2 ]]
	[[ $stderr =~ $re3 ]]
	[[ $stderr =~ $re4 ]]
	# The JSON line still prints the name.
	[ "$(lines_cmd cleanup | jq -r .status)" = valid ]
}

@test "a rejected challenge says what to do: --dns-wait and dig for a TXT record the CA did not see" {
	DRIVER_NO_PUBLISH=1 ext_run -d tr-notxt.example.com --preferred-challenges dns certonly
	[ "$status" -eq 4 ]
	[[ $stderr == *"the CA rejected the dns-01 challenge for tr-notxt.example.com: urn:ietf:params:acme:error:unauthorized: No TXT records found"* ]]
	[[ $stderr == *"not visible to the CA yet: let extauth wait until it shows with --dns-wait SECONDS; check it with: dig +short TXT _acme-challenge.tr-notxt.example.com"* ]]
	DRIVER_NO_PUBLISH=1 ext_run -d tr-nohttp.example.com --preferred-challenges http certonly
	[ "$status" -eq 4 ]
	[[ $stderr == *"the CA rejected the http-01 challenge for tr-nohttp.example.com:"* ]]
	[[ $stderr == *"check that http://tr-nohttp.example.com/.well-known/acme-challenge/"*" answers "*", then run again"* ]]
	[ "$(count_cmd cleanup)" -eq 1 ]
}

@test "the CA's validation time starts when the challenges are answered, not at newOrder" {
	# A handler that takes 3 s to deploy, a CA given 2 s: the CA's clock
	# must not have run while the handler worked.
	local h=$BATS_TEST_TMPDIR/slow-deploy.sh
	cat >"$h" <<'EOS'
#!/bin/bash
api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
case "$1" in
perform) sleep 3; api set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
cleanup) api clear-txt "{\"host\":\"$txt_domain.\"}" ;;
esac
exit 0
EOS
	chmod +x "$h"
	EXTAUTH_CA_TIMEOUT=2 ext_direct "${COMMON[@]}" -d tr-slowack.example.com \
		--preferred-challenges dns --handler "$h" certonly
	[ "$status" -eq 0 ]
	[[ $stderr != *"timed out"* ]]
	# A bad value is refused before the order is made.
	EXTAUTH_CA_TIMEOUT=soon ext_direct "${COMMON[@]}" -d tr-slowack2.example.com \
		--preferred-challenges dns --handler "$h" certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"EXTAUTH_CA_TIMEOUT=soon"* ]]
	[ "$(faultproxy_requests newOrder)" -eq 1 ]
}

@test "finalize whose answer is lost: not resent blindly, the order is read and the certificate issues" {
	faultproxy_rules "drop:kind=finalize:times=1"
	ext_run -d tr-lostfinal.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/tr-lostfinal.example.com" tr-lostfinal.example.com
	[[ $stderr == *"finalize: POST "*": connection dropped after it was sent; not sent again, the CA may have acted on it"* ]]
	[[ $stderr == *"finalize: the CA had taken the request"* ]]
	[[ $stderr != *orderNotReady* ]]
	[ "$(faultproxy_requests finalize)" -eq 1 ]
	no_sanitizer_report
}
