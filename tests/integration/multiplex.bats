#!/usr/bin/env bats
# multiplex.bats: a run with many orders in flight talks to the CA over one
# connection (issue 10).  renew and certonly --batch at --max-concurrent
# N > 1 hand every request to one libcurl multi handle (src/http_mux.c);
# Pebble offers HTTP/2 (ALPN h2), so the workers' requests are streams of
# one TLS connection.  Counted from outside: tests/lib/tcprelay.py, a plain
# TCP relay in front of the real Pebble, logs each connection it accepts
# (TLS stays end to end).  Before the shared multi handle each worker had
# its own connection: 8 workers, 8 or 9 connections.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	load ../lib/tcprelay
	common_setup_file PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
	tcprelay_start || {
		pebble_stop
		return 1
	}
}

teardown_file() {
	load ../lib/common
	load ../lib/tcprelay
	tcprelay_stop
	pebble_stop
}

setup() {
	load ../lib/common
	load ../lib/tcprelay
	common_setup
	tcprelay_thaw
	COMMON=(--server "$TCPRELAY_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	make_handler
}

# make_handler: $H publishes through challtestsrv, sleeps 0.3 s in perform
# (so the orders of different workers are in flight together) and logs
# "start|end perform DOMAIN EPOCH.NS" to $HLOG; with FREEZE_ON_PERFORM set
# its first perform freezes the relay's connections open so far.
make_handler() {
	H=$BATS_TEST_TMPDIR/handler.sh
	HLOG=$BATS_TEST_TMPDIR/handler.log
	export HLOG
	: >"$HLOG"
	cat >"$H" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
case $1 in
perform)
	printf 'start perform %s %s\n' "$domain" "$(date +%s.%N)" >>"$HLOG"
	post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}"
	# FREEZE_ON_PERFORM: the first perform freezes every connection to
	# the CA open so far (tcprelay_freeze, from here).
	if [[ -n ${FREEZE_ON_PERFORM-} && ! -e $HLOG.frozen ]]; then
		: >"$HLOG.frozen"
		awk '$1 == "open" { n = $2 } END { print n + 0 }' "$TCPRELAY_LOG" >"$TCPRELAY_FREEZE.tmp"
		mv -f "$TCPRELAY_FREEZE.tmp" "$TCPRELAY_FREEZE"
	fi
	sleep 0.3
	printf 'end perform %s %s\n' "$domain" "$(date +%s.%N)" >>"$HLOG" ;;
cleanup)
	post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
EOS
	chmod +x "$H"
}

# max_overlap: the most perform calls of $HLOG open at one moment.
max_overlap() {
	awk '{ print $4, ($1 == "start" ? 1 : -1) }' "$HLOG" | sort -n |
		awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}

# batch_file PREFIX N: a batch file of N single-name certificates.
batch_file() {
	B=$BATS_TEST_TMPDIR/batch.txt
	local k
	: >"$B"
	for ((k = 1; k <= $2; k++)); do
		printf '%s%d.example.com\n' "$1" "$k" >>"$B"
	done
}

# run_relay ARGS...: extauth through the relay, handler mode, -v (the
# transport's debug line); the relay's connection count restarts.
run_relay() {
	: >"$TCPRELAY_LOG"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$H" \
		--preferred-challenges dns --deactivate-authz -v "$@" </dev/null
	show
}

@test "certonly --batch of 8 at --max-concurrent 8: 8 orders in flight, one TCP connection to the CA, HTTP/2" {
	batch_file bm 8
	run_relay --max-concurrent 8 --batch "$B" certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *"8 certificates in $B: 8 issued, 0 kept, 0 failed."* ]]
	# The orders were in flight together: their performs overlapped.
	[ "$(max_overlap)" -ge 4 ]
	assert_eq "TCP connections" "$(tcprelay_connections)" 1
	# What libcurl negotiated with Pebble, and that the workers shared it.
	[[ $stderr == *"connection (HTTP/2, shared)"* ]]
	[[ $stderr != *"HTTP/1.1"* ]]
	# -v ends with where the CPU went (bench/many.sh reads it): the
	# handler calls (perform, cleanup and their pre/post) count as the
	# handlers', not ours.
	[[ $stderr =~ CPU:\ extauth\ [0-9.]+\ s\ user,\ [0-9.]+\ s\ system\;\ handlers\ and\ hooks\ [0-9.]+\ s\ user ]]
	[[ ! $stderr =~ handlers\ and\ hooks\ 0\.000\ s\ user,\ 0\.000\ s ]]
	local k
	for k in $(seq 1 8); do
		assert_lineage "$CFG/live/bm$k.example.com" "bm$k.example.com"
	done
}

@test "renew of 8 due lineages at --max-concurrent 8: one TCP connection; at 1 one too, not shared" {
	batch_file rm 8
	run_relay --max-concurrent 8 --batch "$B" certonly
	[ "$status" -eq 0 ]
	: >"$HLOG"
	run_relay --max-concurrent 8 --force-renewal renew
	[ "$status" -eq 0 ]
	[[ $stderr == *"8 lineages checked, 8 due, 8 renewed, 0 failed."* ]]
	[ "$(max_overlap)" -ge 4 ]
	assert_eq "TCP connections at 8" "$(tcprelay_connections)" 1
	[[ $stderr == *"(HTTP/2, shared)"* ]]
	# --max-concurrent 1 keeps today's transport: the run's own handle.
	: >"$HLOG"
	run_relay --max-concurrent 1 --force-renewal renew
	[ "$status" -eq 0 ]
	[[ $stderr == *"8 lineages checked, 8 due, 8 renewed, 0 failed."* ]]
	assert_eq "overlap at 1" "$(max_overlap)" 1
	assert_eq "TCP connections at 1" "$(tcprelay_connections)" 1
	[[ $stderr == *"connection (HTTP/2)"* ]]
	[[ $stderr != *shared* ]]
	local k
	for k in $(seq 1 8); do
		assert_lineage "$CFG/live/rm$k.example.com" "rm$k.example.com" 3
	done
}

@test "two batch runs of one certificate: one connection each, and the relay counts both (the check can fail)" {
	batch_file rc 1
	: >"$TCPRELAY_LOG"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$H" \
		--preferred-challenges dns --batch "$B" certonly </dev/null
	show
	[ "$status" -eq 0 ]
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --handler "$H" \
		--preferred-challenges dns --force-renewal --batch "$B" certonly </dev/null
	show
	[ "$status" -eq 0 ]
	assert_eq "TCP connections" "$(tcprelay_connections)" 2
}

@test "the shared connection stops moving mid-run (no close, no answer): it is replaced, the rest of the run goes over a new one" {
	batch_file fz 6
	run_relay --max-concurrent 6 --batch "$B" certonly
	[ "$status" -eq 0 ]
	: >"$HLOG"
	# The first perform freezes the one connection.  The requests then
	# on it time out (2 s) and may fail their lineage (a challenge POST
	# that was sent is not sent again); what comes after must not wait
	# on that connection again.
	FREEZE_ON_PERFORM=1 EXTAUTH_HTTP_TIMEOUT=2 run_relay --max-concurrent 2 --force-renewal renew
	[ "$status" -eq 0 ] || [ "$status" -eq 8 ]
	[ -e "$HLOG.frozen" ]
	[[ $stderr == *"new requests go over a new one"* ]]
	[ "$(tcprelay_connections)" -ge 2 ]
	local k renewed=0
	for k in $(seq 1 6); do
		[[ $(readlink "$CFG/live/fz$k.example.com/cert.pem") != *cert2.pem ]] || renewed=$((renewed + 1))
	done
	echo "renewed: $renewed of 6" >&2
	[ "$renewed" -ge 4 ]
	[[ $stderr == *"6 lineages checked, 6 due, $renewed renewed, $((6 - renewed)) failed."* ]]
	tcprelay_thaw
}

@test "EXTAUTH_HTTP_TIMEOUT: a bad value is a usage error before any connection, exit 2" {
	batch_file bt 1
	: >"$TCPRELAY_LOG"
	EXTAUTH_HTTP_TIMEOUT=soon ext_direct "${COMMON[@]}" --handler "$H" --preferred-challenges dns \
		--batch "$B" certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"EXTAUTH_HTTP_TIMEOUT=soon: "* ]]
	[[ $stderr == *"give one request's time in seconds (1 to 3600), or unset it for 30"* ]]
	assert_eq "TCP connections" "$(tcprelay_connections)" 0
}
