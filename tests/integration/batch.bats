#!/usr/bin/env bats
# batch.bats: extauth certonly --batch FILE (issue 10): one certificate per
# line, its names then its own options; comments and blank lines allowed;
# every bad line reported by its number before anything reaches the CA;
# one account and one connection for the whole file (in handler mode up
# to --max-concurrent lines at once, over the same connection:
# multiplex.bats); exit 8 when
# some certificates failed, 9 when the only failures were rate limits.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_WFE_NONCEREJECT=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	B=$BATS_TEST_TMPDIR/batch.txt
}

@test "batch in JSON mode: three certificates, comments and blank lines, per-line --cert-name and --key-type, one account and connection" {
	cat >"$B" <<'EOS'
# customer certificates
b1.example.com www.b1.example.com

b2.example.com --cert-name second --key-type rsa   # its own key type
*.b3.example.com,b3.example.com
EOS
	ext_run --batch "$B" --preferred-challenges dns -vv certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	# Each perform line names the certificate it is for.
	assert_eq "cert_names" "$(lines_cmd perform_challenge | jq -r .cert_name | sort -u | paste -sd, -)" \
		"b1.example.com,b3.example.com,second"
	assert_eq "b3 performs" "$(lines_cmd perform_challenge | jq -r 'select(.cert_name == "b3.example.com") | .domain' | sort | paste -sd, -)" \
		"b3.example.com,b3.example.com"
	assert_lineage "$CFG/live/b1.example.com" b1.example.com,www.b1.example.com
	assert_lineage "$CFG/live/second" b2.example.com
	assert_lineage "$CFG/live/b3.example.com" "*.b3.example.com,b3.example.com"
	openssl x509 -in "$CFG/live/second/cert.pem" -noout -text | grep -q rsaEncryption
	openssl x509 -in "$CFG/live/b1.example.com/cert.pem" -noout -text | grep -q id-ecPublicKey
	# One account registration, one connection for all three orders.
	assert_eq "registrations" "$(grep -c 'registered account' <<<"$stderr")" 1
	[[ $stderr =~ requests\ to\ [^\ ]*\ over\ 1\ connection ]]
	[[ $stderr == *"3 certificates in $B: 3 issued, 0 kept, 0 failed."* ]]
	# A second run keeps them all (not due).
	ext_run --batch "$B" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *"3 certificates in $B: 0 issued, 3 kept, 0 failed."* ]]
	[ "$(count_cmd perform_challenge)" -eq 0 ]
}

@test "bad lines: each reported with its number, nothing sent to the CA, exit 2" {
	cat >"$B" <<'EOS'
ok.example.com
bad..example.com
c.example.com --handler /bin/true
d.example.com --key-type dsa
ok.example.com --cert-name ok.example.com
--cert-name nonames
*.w.example.com
EOS
	ext_run --batch "$B" --preferred-challenges http certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"$B:2: domains: not a valid domain name"* ]]
	[[ $stderr == *"$B:3: handler: not an option of one certificate"* ]]
	[[ $stderr == *"$B:4: key-type: unknown key type"* ]]
	[[ $stderr == *"$B:5: certificate name ok.example.com is line 1's as well"* ]]
	[[ $stderr == *"$B:6: no names"* ]]
	[[ $stderr == *"wildcard names need a DNS challenge"*"$B:7: the line refused above"* ]]
	[[ $stderr == *"$B: 6 bad lines: nothing was sent to the CA"* ]]
	# Not even the account: the CA heard nothing.
	[ ! -e "$CFG/accounts" ]
	[ "$(count_cmd perform_challenge)" -eq 0 ]
}

@test "usage: --batch with -d, a missing file, an empty file" {
	printf 'x.example.com\n' >"$B"
	ext_run --batch "$B" -d y.example.com certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"--batch: -d cannot be given with it"* ]]
	ext_run --batch "$BATS_TEST_TMPDIR/none.txt" certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"--batch $BATS_TEST_TMPDIR/none.txt: cannot read it: No such file or directory"* ]]
	printf '# nothing\n\n' >"$B"
	ext_run --batch "$B" certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"no certificate in it"* ]]
}

@test "handler mode: one certificate fails, the others are issued, exit 8 with the failed one named" {
	local h=$BATS_TEST_TMPDIR/handler.sh
	cat >"$h" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
case $1 in
perform)
	[[ $domain != fail.* ]] || exit 1
	post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
EOS
	chmod +x "$h"
	printf 'h1.example.com\nfail.example.com\nh3.example.com\n' >"$B"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$h" \
		--preferred-challenges dns --batch "$B" certonly
	show
	[ "$status" -eq 8 ]
	assert_lineage "$CFG/live/h1.example.com" h1.example.com
	assert_lineage "$CFG/live/h3.example.com" h3.example.com
	[ ! -e "$CFG/live/fail.example.com" ]
	[[ $stderr == *"Failed: fail.example.com ("* ]]
	[[ $stderr == *"3 certificates in $B: 2 issued, 0 kept, 1 failed."* ]]
}

@test "rate limited mid-batch: the rest is not sent, said once, exit 9" {
	load ../lib/faultproxy
	faultproxy_start "ratelimited:kind=newOrder:at=2:secs=3600"
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	printf 'r1.example.com\nr2.example.com\nr3.example.com\nr4.example.com\n' >"$B"
	# One line at a time, so "the rest" is exactly lines 3 and 4 (JSON
	# mode now keeps --max-concurrent orders in flight, and orders in
	# flight are not aborted by a pause: concurrent.bats tests that).
	ext_run --batch "$B" --preferred-challenges dns --max-concurrent 1 certonly
	local newOrders
	newOrders=$(faultproxy_requests newOrder)
	faultproxy_stop
	[ "$status" -eq 9 ]
	assert_eq newOrders "$newOrders" 2
	assert_lineage "$CFG/live/r1.example.com" r1.example.com
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	[[ $stderr == *"2 orders were not sent to the CA"* ]]
	[[ $stderr == *"4 certificates in $B: 1 issued, 0 kept, 3 failed."* ]]
}

@test "--max-concurrent 8, 8 newOrders in flight when the CA says rateLimited (3600 s): reported once, none sent after the first answer, exit 9" {
	load ../lib/faultproxy
	# Each 429 is held 2 s: the 8 workers' newOrders are all on their
	# way before the first answer arrives.
	faultproxy_start "ratelimited:kind=newOrder:secs=3600:delay=2"
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	local k
	: >"$B"
	for k in $(seq 1 8); do
		printf 'q%d.example.com\n' "$k" >>"$B"
	done
	ext_run --batch "$B" --preferred-challenges dns --max-concurrent 8 certonly
	local before after
	before=$(faultproxy_sent_before ratelimited newOrder)
	after=$(faultproxy_sent_after ratelimited newOrder)
	faultproxy_stop
	[ "$status" -eq 9 ]
	# Several were in flight together, else this test shows nothing.
	[ "$before" -ge 2 ]
	assert_eq "newOrders after the first 429" "$after" 0
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	assert_eq "retry-after lines" "$(grep -c 'error: retry after ' <<<"$stderr")" 1
	[[ $stderr == *"8 certificates in $B: 0 issued, 0 kept, 8 failed."* ]]
}

@test "handler mode at --max-concurrent 8 against 30% rateLimited newOrders: every line issued or cleanly rate limited (exit 0 or 9)" {
	load ../lib/faultproxy
	# The second newOrder is always refused, so the run meets at least
	# one rate limit whatever the draws.
	faultproxy_start "ratelimited:kind=newOrder:secs=1:at=2" "ratelimited:kind=newOrder:rate=0.3:secs=1"
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	local h=$BATS_TEST_TMPDIR/handler.sh k issued=0 limited=0 injected
	dns_handler "$h"
	: >"$B"
	for k in $(seq 1 12); do
		printf 'rr%d.example.com\n' "$k" >>"$B"
	done
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$h" \
		--preferred-challenges dns --deactivate-authz --max-concurrent 8 --batch "$B" certonly
	show
	injected=$(faultproxy_injected ratelimited)
	faultproxy_stop
	[ "$status" -eq 0 ] || [ "$status" -eq 9 ]
	[ "$injected" -ge 1 ]
	for k in $(seq 1 12); do
		if [[ -e $CFG/live/rr$k.example.com ]]; then
			assert_lineage "$CFG/live/rr$k.example.com" "rr$k.example.com"
			issued=$((issued + 1))
		else
			# Not issued: only a rate limit.
			[[ $stderr =~ rr$k\.example\.com\ \(rate\ limited ]]
			limited=$((limited + 1))
		fi
	done
	[[ $stderr == *"12 certificates in $B: $issued issued, 0 kept, $limited failed."* ]]
	if ((limited == 0)); then [ "$status" -eq 0 ]; else [ "$status" -eq 9 ]; fi
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$stderr" || false
}

@test "handler mode at --max-concurrent 4: four lines in flight at once, all issued; at 1 one after the other" {
	local h=$BATS_TEST_TMPDIR/handler.sh log=$BATS_TEST_TMPDIR/handler.log
	cat >"$h" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
printf 'start %s %s %s\n' "$1" "${domain-}" "$(date +%s.%N)" >>"$HLOG"
case $1 in
perform)
	post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}"
	sleep 0.4 ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
printf 'end %s %s %s\n' "$1" "${domain-}" "$(date +%s.%N)" >>"$HLOG"
EOS
	chmod +x "$h"
	export HLOG=$log
	# overlap: the most perform calls open at one moment
	overlap() {
		awk '$2 == "perform" { print $4, ($1 == "start" ? 1 : -1) }' "$log" | sort -n |
			awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
	}
	printf 'p1.example.com\np2.example.com\np3.example.com\np4.example.com\n' >"$B"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$h" \
		--preferred-challenges dns --deactivate-authz --max-concurrent 4 --batch "$B" certonly
	show
	[ "$status" -eq 0 ]
	[[ $stderr == *"4 certificates in $B: 4 issued, 0 kept, 0 failed."* ]]
	local k
	for k in 1 2 3 4; do
		assert_lineage "$CFG/live/p$k.example.com" "p$k.example.com"
	done
	[ "$(overlap)" -ge 3 ]
	: >"$log"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$h" \
		--preferred-challenges dns --deactivate-authz --max-concurrent 1 --force-renewal \
		--batch "$B" certonly
	show
	[ "$status" -eq 0 ]
	assert_eq "performs at 1" "$(grep -c '^end perform' "$log")" 4
	assert_eq "overlap at 1" "$(overlap)" 1
}

# mux_run ORDER WANT ARGS...: extauth through tests/lib/mux_driver.py,
# which holds the perform lines until WANT wait at once, then answers them
# (ORDER fifo: in the order written; token: in reverse, each naming its
# token), publishing each record only just before its own reply.
mux_run() {
	local order=$1 want=$2
	shift 2
	MUX_LOG=$BATS_TEST_TMPDIR/mux.log
	MUX_ORDER=$order MUX_WANT=$want MUX_LOG=$MUX_LOG run --separate-stderr \
		timeout "$RUN_TIMEOUT" /usr/bin/python3 "$REPO_ROOT/tests/lib/mux_driver.py" \
		"$EXTAUTH" "${COMMON[@]}" "$@"
	show
}

@test "JSON mode at --max-concurrent 4: four orders' perform lines wait at once; replies by token in reverse order and FIFO each reach their own order" {
	local order k
	for order in token fifo; do
		: >"$B"
		for k in 1 2 3 4; do
			printf 'j%s%d.example.com\n' "$order" "$k" >>"$B"
		done
		mux_run "$order" 4 --preferred-challenges dns --deactivate-authz \
			--max-concurrent 4 --batch "$B" certonly
		[ "$status" -eq 0 ]
		assert_stdout_json
		assert_eq "max pending ($order)" "$(cat "$MUX_LOG")" "max_pending 4"
		[[ $stderr == *"4 certificates in $B: 4 issued, 0 kept, 0 failed."* ]]
		# Each perform line names its certificate.
		assert_eq "cert_names ($order)" "$(lines_cmd perform_challenge | jq -r 'select(.cert_name == .domain) | .domain' | sort | paste -sd, -)" \
			"j${order}1.example.com,j${order}2.example.com,j${order}3.example.com,j${order}4.example.com"
		for k in 1 2 3 4; do
			assert_lineage "$CFG/live/j$order$k.example.com" "j$order$k.example.com"
		done
	done
}

@test "JSON mode at --max-concurrent 1: one perform line waits at a time; a reply naming another token is refused" {
	printf 'js1.example.com\njs2.example.com\n' >"$B"
	MUX_GATHER=0.2 mux_run token 4 --preferred-challenges dns --max-concurrent 1 --batch "$B" certonly
	[ "$status" -eq 0 ]
	assert_eq "max pending" "$(cat "$MUX_LOG")" "max_pending 1"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" -d jsbad.example.com \
		--preferred-challenges dns certonly <<<'{"result": "ok", "token": "not-this-one"}'
	show
	[ "$status" -eq 5 ]
	[[ $stderr == *'names the token not-this-one, which is not that of a perform_challenge line waiting for a reply'* ]]
}
