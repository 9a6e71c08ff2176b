#!/usr/bin/env bats
# concurrent.bats: one run with many orders (issue 10).  renew
# --max-concurrent N keeps up to N handler-mode orders in flight (worker
# threads, pool.c): a handler that logs when each call starts and ends
# shows calls of different lineages overlapping at 4 and never at 1; a
# SIGTERM mid-run cleans up every challenge that was handed out.
# --parallel-hooks runs the performs (and the cleanups) of one order's
# challenges at once: they overlap with it and never without it, and a
# SIGTERM among them still cleans every one up.  Rate-limit
# awareness: a rateLimited answer (or a 503 with Retry-After) pauses the
# run's new orders to that CA for the time given, from the moment it
# arrives, instead of each order spending more of the limit: with several
# workers, none sends a newOrder after the first 429 (the proxy's
# timestamps show it), and the refusal is reported once however many
# orders were in flight; a pause longer than a run waits leaves the
# orders unsent, each with the CA's time as its next attempt, and a run
# whose only failures are rate limits exits 9, not 8.  Through
# tests/lib/faultproxy.py in front of the real Pebble.

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

# make_handler: $H publishes through challtestsrv and logs "start|end CMD
# DOMAIN EPOCH.NS" to $HLOG around each call; a perform sleeps
# $HANDLER_SLEEP, a cleanup $CLEANUP_SLEEP.
make_handler() {
	H=$BATS_TEST_TMPDIR/handler.sh
	HLOG=$BATS_TEST_TMPDIR/handler.log
	export HLOG
	cat >"$H" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
printf 'start %s %s %s\n' "$1" "${domain-}" "$(date +%s.%N)" >>"$HLOG"
case $1 in
perform)
	post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}"
	sleep "${HANDLER_SLEEP:-0}" ;;
cleanup)
	post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}"
	sleep "${CLEANUP_SLEEP:-0}" ;;
esac
printf 'end %s %s %s\n' "$1" "${domain-}" "$(date +%s.%N)" >>"$HLOG"
EOS
	chmod +x "$H"
}

# handler_lineages PREFIX N: N due handler-mode lineages PREFIX1... from
# one certonly --batch run through $H.
handler_lineages() {
	local k b=$BATS_TEST_TMPDIR/batch.txt
	make_handler
	: >"$b"
	for ((k = 1; k <= $2; k++)); do
		printf '%s%d.example.com\n' "$1" "$k" >>"$b"
	done
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$H" \
		--preferred-challenges dns --deactivate-authz --batch "$b" certonly
	show
	[ "$status" -eq 0 ] || return 1
	for ((k = 1; k <= $2; k++)); do
		sed -i '1i renew_before_expiry = 3000 days' "$CFG/renewal/$1$k.example.com.conf"
	done
	: >"$HLOG"
	: >"$FAULTPROXY_LOG"
}

# max_overlap [WORD]: the most WORD calls (default perform) of $HLOG open
# at one moment.
max_overlap() {
	awk -v w="${1:-perform}" '$2 == w { print $4, ($1 == "start" ? 1 : -1) }' "$HLOG" | sort -n |
		awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}

# renew_run ARGS...: `extauth renew` through the driver.  The pause tests
# run --max-concurrent 1, so "the other orders" are exactly those after
# the first (JSON-mode renew keeps orders in flight too, and a pause does
# not abort those).
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
	renew_run --max-concurrent 1
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
	renew_run --max-concurrent 1
	[ "$status" -eq 9 ]
	[[ $stderr == *"asked to wait 2 s: no new order to it before"* ]]
	[[ $stderr =~ waiting\ [12]\ s\ for\ the\ CA ]]
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	[[ $stderr == *"3 lineages checked, 3 due, 2 renewed, 1 failed."* ]]
	assert_eq newOrders "$(faultproxy_new_orders)" 6
}

@test "503 with Retry-After pauses the next order too; a 503 failure is not a rate limit: exit 8" {
	lineages rl-503 2
	faultproxy_rules "503ra:kind=newOrder:secs=2:times=4"
	renew_run --max-concurrent 1
	[ "$status" -eq 8 ]
	[[ $stderr == *"asked to wait 2 s: no new order to it before"* ]]
	[[ $stderr == *"2 lineages checked, 2 due, 1 renewed, 1 failed."* ]]
}

@test "--max-concurrent 8, 8 newOrders in flight when the CA says rateLimited (3600 s): reported once, none sent after the first answer, each lineage records the CA's time, exit 9" {
	handler_lineages rl-fl 8
	# Each 429 is held 2 s by the proxy: the 8 workers' newOrders are
	# all on their way before the first answer arrives.
	faultproxy_rules "ratelimited:kind=newOrder:secs=3600:delay=2"
	local now n at
	now=$(date +%s)
	renew_run --deactivate-authz --max-concurrent 8
	[ "$status" -eq 9 ]
	# Several were in flight together, else this test shows nothing.
	[ "$(faultproxy_sent_before ratelimited newOrder)" -ge 2 ]
	assert_eq "newOrders after the first 429" "$(faultproxy_sent_after ratelimited newOrder)" 0
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	assert_eq "retry-after lines" "$(grep -c 'error: retry after ' <<<"$stderr")" 1
	assert_eq "pause warnings" "$(grep -c 'asked to wait 3600 s: no new order' <<<"$stderr")" 1
	[[ $stderr == *"8 lineages checked, 8 due, 0 renewed, 8 failed."* ]]
	for n in $(seq 1 8); do
		at=$(retry_after "rl-fl$n")
		[ "$at" -ge $((now + 3600)) ] && [ "$at" -le $((now + 3600 + 60)) ]
	done
}

@test "--max-concurrent 8: orders whose run began before the pause are held at their newOrder (3600 s): none sent after the first answer, exit 9" {
	handler_lineages rl-gt 8
	# Every worker passes the run's gate at once; all but the first
	# nonce are held 2 s, so the first newOrder meets the limit while
	# the 7 others are between the gate and their newOrder.
	faultproxy_rules "stall:kind=nonce:at=2,3,4,5,6,7,8:secs=2" "ratelimited:kind=newOrder:secs=3600"
	local now n at
	now=$(date +%s)
	renew_run --deactivate-authz --max-concurrent 8
	[ "$status" -eq 9 ]
	assert_eq newOrders "$(faultproxy_requests newOrder)" 1
	assert_eq "newOrders after the first 429" "$(faultproxy_sent_after ratelimited newOrder)" 0
	assert_eq "rate-limit reports" "$(grep -c 'error: newOrder: POST .*: rate limited by the CA' <<<"$stderr")" 1
	[[ $stderr == *"7 orders were not sent to the CA at $FAULTPROXY_DIR_URL, which asked to wait until "* ]]
	[[ $stderr == *"8 lineages checked, 8 due, 0 renewed, 8 failed."* ]]
	for n in $(seq 1 8); do
		at=$(retry_after "rl-gt$n")
		[ "$at" -ge $((now + 3600)) ] && [ "$at" -le $((now + 3600 + 60)) ]
	done
}

@test "--max-concurrent 4, a 2 s rate limit met by one order in flight: no other worker sends a new order until it ends, then all are renewed" {
	handler_lineages rl-sh 8
	# One newOrder gets the 429; its own retry 2 s later is answered.
	# Each order takes over 1 s (the perform sleeps), so without the
	# pause the other workers' next newOrders fall inside those 2 s.
	# The 429 is held 0.5 s: the workers' first newOrders, sent together
	# at the start, are then in flight with it (allowed) rather than
	# racing its answer by a millisecond.
	faultproxy_rules "ratelimited:kind=newOrder:secs=2:times=1:delay=0.5"
	HANDLER_SLEEP=1 renew_run --deactivate-authz --max-concurrent 4
	[ "$status" -eq 0 ]
	assert_eq "newOrders in the 2 s pause" "$(faultproxy_sent_after ratelimited newOrder 1.9)" 0
	# 8 orders and the refused one's retry; nothing was held unsent.
	assert_eq newOrders "$(faultproxy_new_orders)" 9
	[ "$(faultproxy_sent_after ratelimited newOrder)" -ge 4 ]
	assert_eq "pause warnings" "$(grep -c 'asked to wait 2 s: no new order' <<<"$stderr")" 1
	[[ $stderr =~ waiting\ [12]\ s\ for\ the\ CA ]]
	! grep -q 'rate limited by the CA' <<<"$stderr" || false
	[[ $stderr == *"8 lineages checked, 8 due, 8 renewed, 0 failed."* ]]
}

# dehydrated_hook: $DH, a dehydrated hook that publishes through
# challtestsrv, sleeps 0.4 s in deploy_challenge and logs "start|end HOOK
# DOMAIN EPOCH.NS" to $HLOG around each call (the run's startup_hook and
# exit_hook too).
dehydrated_hook() {
	DH=$BATS_TEST_TMPDIR/dehydrated.sh
	HLOG=$BATS_TEST_TMPDIR/hook.log
	export HLOG
	: >"$HLOG"
	cat >"$DH" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
printf 'start %s %s %s\n' "$1" "${2:--}" "$(date +%s.%N)" >>"$HLOG"
case $1 in
deploy_challenge)
	post set-txt "{\"host\":\"_acme-challenge.$2.\",\"value\":\"$4\"}"
	sleep 0.4 ;;
clean_challenge) post clear-txt "{\"host\":\"_acme-challenge.$2.\"}" ;;
esac
printf 'end %s %s %s\n' "$1" "${2:--}" "$(date +%s.%N)" >>"$HLOG"
EOS
	chmod +x "$DH"
}

# hook_calls HOOK: how many times the dehydrated hook ran HOOK.
hook_calls() { grep -c "^end $1 " "$HLOG" || true; }

@test "--max-concurrent 4, dehydrated hook: deploy_challenge calls of different lineages overlap, startup_hook and exit_hook run once per run; at 1 never" {
	dehydrated_hook
	local k b=$BATS_TEST_TMPDIR/batch.txt
	: >"$b"
	for ((k = 1; k <= 4; k++)); do
		printf 'dh%d.example.com\n' "$k" >>"$b"
	done
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --mode dehydrated --handler "$DH" \
		--preferred-challenges dns --deactivate-authz --max-concurrent 4 --batch "$b" certonly
	show
	[ "$status" -eq 0 ]
	[ "$(max_overlap deploy_challenge)" -ge 3 ]
	assert_eq "batch startup_hook" "$(hook_calls startup_hook)" 1
	assert_eq "batch exit_hook" "$(hook_calls exit_hook)" 1
	assert_eq "batch deploys" "$(hook_calls deploy_challenge)" 4
	for ((k = 1; k <= 4; k++)); do
		sed -i '1i renew_before_expiry = 3000 days' "$CFG/renewal/dh$k.example.com.conf"
	done
	: >"$HLOG"
	renew_run --deactivate-authz --max-concurrent 1
	[ "$status" -eq 0 ]
	assert_eq "overlap at 1" "$(max_overlap deploy_challenge)" 1
	: >"$HLOG"
	renew_run --deactivate-authz --max-concurrent 4
	[ "$status" -eq 0 ]
	[[ $stderr == *"4 lineages checked, 4 due, 4 renewed, 0 failed."* ]]
	[ "$(max_overlap deploy_challenge)" -ge 3 ]
	assert_eq "renew startup_hook" "$(hook_calls startup_hook)" 1
	assert_eq "renew exit_hook" "$(hook_calls exit_hook)" 1
	assert_eq "renew deploys" "$(hook_calls deploy_challenge)" 4
	assert_eq "renew cleans" "$(hook_calls clean_challenge)" 4
	for ((k = 1; k <= 4; k++)); do
		assert_lineage "$CFG/live/dh$k.example.com" "dh$k.example.com" 3
	done
}

@test "--max-concurrent 4: handler calls of different lineages overlap; at 1 they never do" {
	handler_lineages mc 4
	HANDLER_SLEEP=0.4 renew_run --deactivate-authz --max-concurrent 1
	[ "$status" -eq 0 ]
	assert_eq "overlap at 1" "$(max_overlap)" 1
	assert_eq "performs at 1" "$(grep -c '^end perform' "$HLOG")" 4
	: >"$HLOG"
	HANDLER_SLEEP=0.4 renew_run --deactivate-authz --max-concurrent 4
	[ "$status" -eq 0 ]
	# The JSON lines of the 4 orders interleave on stdout, each whole and
	# naming its certificate.
	assert_stdout_json
	assert_eq "perform lines" "$(lines_cmd perform_challenge | jq -r 'select(.cert_name == .domain) | .domain' | sort | paste -sd, -)" \
		mc1.example.com,mc2.example.com,mc3.example.com,mc4.example.com
	[[ $stderr == *"4 lineages checked, 4 due, 4 renewed, 0 failed."* ]]
	assert_eq "performs at 4" "$(grep -c '^end perform' "$HLOG")" 4
	[ "$(max_overlap)" -ge 3 ]
	# Each lineage is at its third version: renewed once per run.
	local k
	for k in 1 2 3 4; do
		assert_lineage "$CFG/live/mc$k.example.com" "mc$k.example.com" 3
	done
}

@test "--max-concurrent 8 against 30% rateLimited newOrders: every lineage renewed or cleanly rate limited (exit 0 or 9)" {
	handler_lineages rl-many 12
	# The second newOrder is always refused, so the run meets at least
	# one rate limit whatever the draws (12 draws at 30% miss 1.4% of runs).
	faultproxy_rules "ratelimited:kind=newOrder:secs=1:at=2" "ratelimited:kind=newOrder:rate=0.3:secs=1"
	renew_run --deactivate-authz --max-concurrent 8
	[ "$status" -eq 0 ] || [ "$status" -eq 9 ]
	[ "$(faultproxy_injected ratelimited)" -ge 1 ]
	local k v renewed=0 limited=0
	for k in $(seq 1 12); do
		v=$(readlink "$CFG/live/rl-many$k.example.com/cert.pem")
		if [[ $v == *cert2.pem ]]; then
			renewed=$((renewed + 1))
		else
			# Not renewed: only a rate limit, recorded as its backoff.
			[ -n "$(retry_after "rl-many$k")" ]
			limited=$((limited + 1))
		fi
	done
	assert_eq "renewed + limited" $((renewed + limited)) 12
	[[ $stderr == *"12 lineages checked, 12 due, $renewed renewed, $limited failed."* ]]
	if ((limited == 0)); then [ "$status" -eq 0 ]; else [ "$status" -eq 9 ]; fi
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$stderr" || false
}

@test "SIGTERM mid-run at --max-concurrent 4: every challenge handed out is cleaned up, nothing new starts, exit 143" {
	handler_lineages sig 6
	# extauth itself gets the signal, once (timeout(1) would send it a
	# second one to its process group: the "exit now" signal).
	HANDLER_SLEEP=30 "$EXTAUTH" renew "${DIRS[@]}" --max-concurrent 4 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null &
	local pid=$! i rc=0
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c '^start perform' "$HLOG")" -ge 4 ] && break
		sleep 0.1
	done
	if [ "$(grep -c '^start perform' "$HLOG")" -ne 4 ]; then
		kill -KILL "$pid"
		false
	fi
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/err" "$HLOG"
	assert_eq "exit status" "$rc" 143
	# The 4 performs each got their cleanup; the other 2 lineages were
	# never started.
	local d
	for d in $(awk '$1 == "start" && $2 == "perform" { print $3 }' "$HLOG"); do
		grep -q "^end cleanup $d " "$HLOG"
	done
	assert_eq "cleanups" "$(grep -c '^end cleanup' "$HLOG")" 4
	grep -q "stopped by SIGTERM" "$BATS_TEST_TMPDIR/err"
}

# at WORD EDGE: the time of the first (EDGE start) or last (EDGE end) call
# of WORD in $HLOG (the phase words have no domain: the time is the last
# field).
at() {
	awk -v w="$1" -v e="$2" '$1 == e && $2 == w { print $NF }' "$HLOG" | sort -n |
		if [ "$2" = start ]; then head -1; else tail -1; fi
}

# certonly_3 PREFIX ARGS...: one order for PREFIX1..3.example.com through $H.
certonly_3() {
	local p=$1
	shift
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$H" \
		--preferred-challenges dns -d "${p}1.example.com" -d "${p}2.example.com" \
		-d "${p}3.example.com" "$@" certonly
	show
}

@test "--parallel-hooks: the performs and the cleanups of one 3-name order overlap; without it they never do" {
	make_handler
	export HANDLER_SLEEP=0.5 CLEANUP_SLEEP=0.5
	certonly_3 phs
	[ "$status" -eq 0 ]
	assert_eq "perform overlap without" "$(max_overlap perform)" 1
	assert_eq "cleanup overlap without" "$(max_overlap cleanup)" 1
	: >"$HLOG"
	certonly_3 php --parallel-hooks
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "performs" "$(grep -c '^end perform' "$HLOG")" 3
	assert_eq "cleanups" "$(grep -c '^end cleanup' "$HLOG")" 3
	assert_eq "perform overlap with" "$(max_overlap perform)" 3
	assert_eq "cleanup overlap with" "$(max_overlap cleanup)" 3
	# pre-perform before every perform, post-perform after all of them;
	# the same around the cleanups.
	[[ $(at pre-perform end) < $(at perform start) ]]
	[[ $(at perform end) < $(at post-perform start) ]]
	[[ $(at pre-cleanup end) < $(at cleanup start) ]]
	[[ $(at cleanup end) < $(at post-cleanup start) ]]
	[ -n "$(at post-cleanup start)" ]
	assert_lineage "$CFG/live/php1.example.com" php1.example.com,php2.example.com,php3.example.com 1
}

@test "--parallel-hooks: SIGTERM while 3 performs run: all 3 are cleaned up, exit 143" {
	make_handler
	HANDLER_SLEEP=30 "$EXTAUTH" "${COMMON[@]}" --handler "$H" --parallel-hooks \
		--preferred-challenges dns -d pht1.example.com -d pht2.example.com \
		-d pht3.example.com certonly >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null &
	local pid=$! i rc=0
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c '^start perform' "$HLOG")" -ge 3 ] && break
		sleep 0.1
	done
	if [ "$(grep -c '^start perform' "$HLOG")" -ne 3 ]; then
		kill -KILL "$pid"
		false
	fi
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/err" "$HLOG"
	assert_eq "exit status" "$rc" 143
	local d
	for d in pht1.example.com pht2.example.com pht3.example.com; do
		grep -q "^end cleanup $d " "$HLOG"
	done
	assert_eq "cleanups" "$(grep -c '^end cleanup' "$HLOG")" 3
}

@test "--parallel-hooks in JSON mode: a usage error before any request, exit 2" {
	: >"$FAULTPROXY_LOG"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --parallel-hooks \
		-d phj.example.com certonly </dev/null
	show
	[ "$status" -eq 2 ]
	[[ $stderr == *"--parallel-hooks is for handler and dehydrated modes, not json mode"* ]]
	[[ $stderr == *"leave out --parallel-hooks, or give --handler PROG"* ]]
	assert_eq "requests" "$(wc -l <"$FAULTPROXY_LOG")" 0
}

@test "renew in JSON mode at --max-concurrent 4: four lineages' perform lines wait at once on one invoker, replies by token in reverse order; at 1 one at a time" {
	local log=$BATS_TEST_TMPDIR/mux.log k
	# Each authorization deactivated once used: a reused one has no
	# perform line (one was reused in about 1 run in 10 here, despite
	# PEBBLE_AUTHZREUSE=0).
	for k in 1 2 3 4; do
		ext_run -d "js$k.example.com" --preferred-challenges dns --deactivate-authz certonly
		[ "$status" -eq 0 ]
		sed -i '1i renew_before_expiry = 3000 days' "$CFG/renewal/js$k.example.com.conf"
	done
	# tests/lib/mux_driver.py publishes each record only just before its
	# own reply: a reply that reached another order fails that order.
	MUX_ORDER=token MUX_WANT=4 MUX_LOG=$log run --separate-stderr timeout "$RUN_TIMEOUT" \
		/usr/bin/python3 "$REPO_ROOT/tests/lib/mux_driver.py" "$EXTAUTH" renew "${DIRS[@]}" --deactivate-authz --max-concurrent 4
	show
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "max pending at 4" "$(cat "$log")" "max_pending 4"
	[[ $stderr == *"4 lineages checked, 4 due, 4 renewed, 0 failed."* ]]
	for k in 1 2 3 4; do
		assert_lineage "$CFG/live/js$k.example.com" "js$k.example.com" 2
	done
	MUX_GATHER=0.2 MUX_ORDER=token MUX_WANT=4 MUX_LOG=$log run --separate-stderr timeout "$RUN_TIMEOUT" \
		/usr/bin/python3 "$REPO_ROOT/tests/lib/mux_driver.py" "$EXTAUTH" renew "${DIRS[@]}" --deactivate-authz --max-concurrent 1
	show
	[ "$status" -eq 0 ]
	assert_eq "max pending at 1" "$(cat "$log")" "max_pending 1"
	[[ $stderr == *"4 lineages checked, 4 due, 4 renewed, 0 failed."* ]]
}
