#!/usr/bin/env bats
# fault_selftest.bats: proves tests/lib/faultproxy.py injects each fault
# class it offers, with curl as the client where a plain request shows it
# and extauth where only a signed ACME exchange reaches the answer to
# rewrite (authorizations).  If these fail, a fault*.bats failure is not
# extauth's.

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
	BASE=${FAULTPROXY_DIR_URL%/dir}
	# Each test starts from no rules and an empty log.
	faultproxy_rules
	: >"$FAULTPROXY_LOG"
}

# fp_curl ARGS...: curl through the proxy; sets status (curl's exit), output
# (body), and writes the headers to $BATS_TEST_TMPDIR/h.
fp_curl() {
	run curl -sS --max-time 20 --cacert "$FAULTPROXY_CA_BUNDLE" \
		-D "$BATS_TEST_TMPDIR/h" "$@"
	printf -- '--- curl exit %s\n%s\n--- headers\n' "$status" "${output:0:500}"
	cat "$BATS_TEST_TMPDIR/h" 2>/dev/null || true
}

# header NAME: the value of a response header of the last fp_curl.
header() { awk -v n="$1" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(n) ":") == 1 {sub(/^[^:]*: */, ""); sub(/\r$/, ""); print}' "$BATS_TEST_TMPDIR/h"; }

# last_fault: the fault column of the last logged request.
last_fault() { jq -rs '.[-1].fault' "$FAULTPROXY_LOG"; }

@test "faultproxy: no rules, Pebble's answers pass unchanged, URLs name the proxy" {
	fp_curl "$FAULTPROXY_DIR_URL"
	[ "$status" -eq 0 ]
	# Host passed through: Pebble builds its URLs from it.
	assert_eq newOrder "$(jq -r .newOrder <<<"$output")" "$BASE/order-plz"
	fp_curl -I "$BASE/nonce-plz"
	[ -n "$(header Replay-Nonce)" ]
	assert_eq faults "$(jq -rs 'map(.fault) | join(",")' "$FAULTPROXY_LOG")" ","
	assert_eq kinds "$(jq -rs 'map(.kind) | join(",")' "$FAULTPROXY_LOG")" "directory,nonce"
}

@test "faultproxy: a real issuance passes through it with no rules" {
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	ext_run -d fp-plain.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/fp-plain.example.com" fp-plain.example.com
	for k in directory nonce newAccount newOrder authz challenge finalize cert; do
		[ "$(faultproxy_requests "$k")" -ge 1 ] || { echo "no $k request"; false; }
	done
	[ "$(faultproxy_requests other)" -eq 0 ]
}

@test "faultproxy: 500 503 429 without Retry-After, each once" {
	local c
	for c in 500 503 429; do
		faultproxy_rules "$c:kind=directory:times=1"
		fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
		assert_eq code "$output" "$c"
		[ -z "$(header Retry-After)" ]
		assert_eq fault "$(last_fault)" "$c"
		# times=1: the next one passes
		fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
		assert_eq code "$output" 200
	done
}

@test "faultproxy: 503ra 429ra carry Retry-After (secs=)" {
	faultproxy_rules "503ra:kind=directory:times=1:secs=7" "429ra:kind=directory:times=1"
	fp_curl "$FAULTPROXY_DIR_URL"
	assert_eq RA "$(header Retry-After)" 7
	assert_eq type "$(jq -r .type <<<"$output")" urn:ietf:params:acme:error:serverInternal
	fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
	assert_eq code "$output" 429
	assert_eq RA "$(header Retry-After)" 1
}

@test "faultproxy: ratelimited is a rateLimited problem with Retry-After and a nonce" {
	faultproxy_rules "ratelimited:kind=newOrder:secs=3"
	fp_curl -X POST -H 'Content-Type: application/jose+json' -d '{}' "$BASE/order-plz"
	assert_eq type "$(jq -r .type <<<"$output")" urn:ietf:params:acme:error:rateLimited
	assert_eq RA "$(header Retry-After)" 3
	[ -n "$(header Replay-Nonce)" ]
	assert_eq fault "$(last_fault)" ratelimited
}

@test "faultproxy: delay= holds the answer, t_in/t_out say when; two requests in flight both arrive before the first answer" {
	faultproxy_rules "ratelimited:kind=newOrder:secs=3:delay=1.5"
	local pids=() p
	fp_curl -X POST -d '{}' "$BASE/order-plz" &
	pids+=($!)
	fp_curl -X POST -d '{}' "$BASE/order-plz" &
	pids+=($!)
	for p in "${pids[@]}"; do wait "$p"; done
	assert_eq logged "$(faultproxy_requests newOrder)" 2
	# Each answer left at least 1.5 s after its request came.
	assert_eq "held 1.5 s" "$(jq -s 'map(select(.t_out - .t_in >= 1.5)) | length' "$FAULTPROXY_LOG")" 2
	assert_eq "in flight at the first answer" "$(faultproxy_sent_before ratelimited newOrder)" 2
	assert_eq "sent after the first answer" "$(faultproxy_sent_after ratelimited newOrder)" 0
	fp_curl -X POST -d '{}' "$BASE/order-plz"
	assert_eq "sent after the first answer" "$(faultproxy_sent_after ratelimited newOrder)" 1
	assert_eq "within 0 s of it" "$(faultproxy_sent_after ratelimited newOrder 0)" 0
}

@test "faultproxy: badnonce hits POSTs only, with a fresh nonce" {
	faultproxy_rules badnonce
	fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
	assert_eq "GET untouched" "$output" 200
	fp_curl -X POST -d '{}' "$BASE/order-plz"
	assert_eq type "$(jq -r .type <<<"$output")" urn:ietf:params:acme:error:badNonce
	[ -n "$(header Replay-Nonce)" ]
}

@test "faultproxy: at= picks the Nth matching request" {
	faultproxy_rules "500:kind=directory:at=2,4"
	local i codes=
	for i in 1 2 3 4 5; do
		fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
		codes+=$output,
	done
	assert_eq codes "$codes" "200,500,200,500,200,"
	# a nonce request is not a directory request: not counted, not faulted
	fp_curl -o /dev/null -w '%{http_code}' -I "$BASE/nonce-plz"
	assert_eq code "$output" 200
}

@test "faultproxy: rate= injects about that share" {
	faultproxy_rules "503:kind=nonce:rate=0.5"
	local i
	for i in $(seq 40); do
		curl -s -o /dev/null --cacert "$FAULTPROXY_CA_BUNDLE" -I "$BASE/nonce-plz"
	done
	local n
	n=$(faultproxy_injected 503)
	echo "injected $n of 40"
	# binomial(40, 0.5): outside 8..32 has probability < 1e-4
	[ "$n" -ge 8 ] && [ "$n" -le 32 ]
}

@test "faultproxy: redirect is a 307 to the same URL (a loop)" {
	faultproxy_rules "redirect:kind=directory"
	fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
	assert_eq code "$output" 307
	assert_eq Location "$(header Location)" /dir
	fp_curl -L --max-redirs 5 -o /dev/null "$FAULTPROXY_DIR_URL"
	assert_eq "curl: too many redirects" "$status" 47
}

@test "faultproxy: stall holds the answer secs seconds" {
	faultproxy_rules "stall:kind=directory:secs=3:times=1"
	fp_curl --max-time 1 "$FAULTPROXY_DIR_URL"
	assert_eq "curl: timeout" "$status" 28
	fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
	assert_eq code "$output" 200
	# The stalled request is logged when its thread finishes, after the
	# stall: poll for it.
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(faultproxy_injected stall)" -eq 1 ] && return 0
		sleep 0.1
	done
	false
}

@test "faultproxy: drop closes the connection mid-answer" {
	faultproxy_rules "drop:kind=directory:times=1"
	fp_curl "$FAULTPROXY_DIR_URL"
	# 18 partial file, 52 empty reply, 56 recv failure: all a cut connection
	[[ $status =~ ^(18|52|56)$ ]]
	assert_eq fault "$(last_fault)" drop
}

@test "faultproxy: truncate sends half the body as a complete answer" {
	fp_curl "$FAULTPROXY_DIR_URL"
	local full=${#output}
	faultproxy_rules "truncate:kind=directory"
	fp_curl "$FAULTPROXY_DIR_URL"
	[ "$status" -eq 0 ]
	assert_eq length "${#output}" "$((full / 2))"
	! jq . <<<"$output" >/dev/null 2>&1 || false
}

@test "faultproxy: oversize pads the body to 3 MiB, still valid JSON" {
	faultproxy_rules "oversize:kind=directory"
	fp_curl -o "$BATS_TEST_TMPDIR/big" "$FAULTPROXY_DIR_URL"
	[ "$status" -eq 0 ]
	assert_eq size "$(stat -c %s "$BATS_TEST_TMPDIR/big")" $((3 * 1024 * 1024))
	jq -e .newOrder "$BATS_TEST_TMPDIR/big" >/dev/null
}

@test "faultproxy: crossorigin sends clients to https://localhost:PORT, which works" {
	faultproxy_rules "crossorigin:kind=directory"
	fp_curl "$FAULTPROXY_DIR_URL"
	local there=${BASE/127.0.0.1/localhost}
	assert_eq newOrder "$(jq -r .newOrder <<<"$output")" "$there/order-plz"
	assert_eq changed "$(jq -rs '.[-1].changed' "$FAULTPROXY_LOG")" true
	faultproxy_rules
	fp_curl -o /dev/null -w '%{http_code}' "$there/dir"
	assert_eq "the other origin answers" "$output" 200
}

@test "faultproxy: a bad rule keeps the previous rules" {
	faultproxy_rules "500:kind=directory"
	fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
	assert_eq code "$output" 500
	faultproxy_rules "nosuchclass"
	fp_curl -o /dev/null -w '%{http_code}' "$FAULTPROXY_DIR_URL"
	assert_eq code "$output" 500
	grep -q "unknown fault class 'nosuchclass'" "$FAULTPROXY_TMP/proxy.out"
}

# The rewriting classes on authorization answers need a signed POST-as-GET,
# so extauth drives them; the test is that the proxy rewrote the answer
# ("changed"), not what extauth made of it (fault_cases.bats).
@test "faultproxy: foreignid and badtoken rewrite authorization answers" {
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	local c
	for c in foreignid badtoken; do
		faultproxy_rules "$c:kind=authz:times=1"
		: >"$FAULTPROXY_LOG"
		ext_run -d "fp-$c.example.com" --preferred-challenges dns certonly
		assert_eq "$c injected" "$(jq -rs --arg c "$c" '[.[] | select(.fault == $c and .changed)] | length' "$FAULTPROXY_LOG")" 1
	done
}
