#!/usr/bin/env bats
# delivery.bats: each lineage records how its challenges were delivered
# (JSON on stdio, JSON over a socket, handler, dehydrated, text), and renew
# uses that record (issue 7 §5):
#   - a JSON-mode lineage with nobody on stdin fails at once, naming
#     --handler and --socket, before any order;
#   - renew --handler or --socket applies to every lineage it renews and is
#     kept for the next renewals.
#
# Exit codes: 0 ok, 8 some lineages failed.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_AUTHZREUSE=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	HLOG=$BATS_TEST_TMPDIR/handler.log
	H=$BATS_TEST_TMPDIR/handler.sh
	dns_handler "$H" - <<'EOS'
printf '%s %s\n' "$1" "${domain-}" >>"$HLOG"
EOS
	export HLOG
	DRIVER_PID=
}

teardown() {
	if [[ -n $DRIVER_PID ]]; then
		kill "$DRIVER_PID" 2>/dev/null || true
		wait "$DRIVER_PID" 2>/dev/null || true
	fi
}

# renew_with STDIN ARGS...: extauth renew on this test's dirs.  STDIN:
# "null" (/dev/null), "eof" (a pipe whose writer is already closed).
renew_with() {
	local how=$1
	shift
	local cmd=("$EXTAUTH" renew "${DIRS[@]}" --ca-bundle "$PEBBLE_CA_BUNDLE"
		--force-renewal --deactivate-authz "$@")
	if [[ $how == eof ]]; then
		run --separate-stderr timeout "$RUN_TIMEOUT" python3 -c '
import os, sys
r, w = os.pipe()
os.close(w)
os.dup2(r, 0)
os.execvp(sys.argv[1], sys.argv[1:])' "${cmd[@]}"
	else
		run --separate-stderr timeout "$RUN_TIMEOUT" "${cmd[@]}" </dev/null
	fi
	show
}

# issue_json NAME...: one JSON-mode lineage per name, through the driver.
issue_json() {
	local d
	for d in "$@"; do
		ext_run -d "$d" --preferred-challenges dns --deactivate-authz certonly
		[ "$status" -eq 0 ] || return 1
		grep -qx 'extauth_mode = json' "$CFG/renewal/$d.conf" || return 1
	done
}

# start_driver: examples/json-socket-driver.py on $SOCK, lines to $DLOG.
start_driver() {
	SOCK=$BATS_TEST_TMPDIR/invoker.sock DLOG=$BATS_TEST_TMPDIR/driver.log
	python3 "$REPO_ROOT/examples/json-socket-driver.py" "$SOCK" "$DLOG" \
		2>"$BATS_TEST_TMPDIR/driver.err" &
	DRIVER_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -S $SOCK ]] && return 0
		kill -0 "$DRIVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "the socket driver did not come up" >&2
	return 1
}

@test "renew of a JSON-mode lineage with nobody on stdin fails it at once, naming --handler and --socket" {
	local a=jnull.example.com how
	issue_json "$a"
	for how in null eof; do
		renew_with "$how"
		[ "$status" -eq 8 ]
		grep -q "$a is renewed in JSON mode on stdin/stdout, and nobody is on stdin" <<<"$stderr"
		grep -q "give renew --handler PROG or --socket PATH" <<<"$stderr"
		# at once: no challenge was ever offered, no version made
		[[ $output != *perform_challenge* ]]
		assert_lineage "$CFG/live/$a" "$a" 1
	done
}

@test "renew --handler applies to every lineage it renews and is kept for the next renewals" {
	local a=jh1.example.com b=jh2.example.com d
	issue_json "$a" "$b"
	renew_with null --handler "$H"
	[ "$status" -eq 0 ]
	for d in "$a" "$b"; do
		assert_lineage "$CFG/live/$d" "$d" 2
		grep -q "^perform $d\$" "$HLOG"
		grep -qx 'extauth_mode = handler' "$CFG/renewal/$d.conf"
		grep -qx "extauth_handler = $H" "$CFG/renewal/$d.conf"
	done
	# No flags now: the recorded handler is used, still with no stdin.
	: >"$HLOG"
	renew_with null
	[ "$status" -eq 0 ]
	for d in "$a" "$b"; do
		assert_lineage "$CFG/live/$d" "$d" 3
		grep -q "^perform $d\$" "$HLOG"
	done
}

@test "renew --socket is recorded: later renewals and certbot's hooks use the invoker's socket" {
	local a=js.example.com conf
	issue_json "$a"
	start_driver
	renew_with null --socket "$SOCK"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a" 2
	conf=$CFG/renewal/$a.conf
	grep -qx "extauth_socket = $SOCK" "$conf"
	grep -qx "manual_auth_hook = $(readlink -f "$EXTAUTH") certbot-hook auth --socket $SOCK" "$conf"
	grep -q '"perform_challenge"' "$DLOG"
	# Nobody on stdin, no flags: the recorded socket is where JSON goes.
	: >"$DLOG"
	renew_with null
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a" 3
	grep -q '"perform_challenge"' "$DLOG"
	grep -q "\"$a\"" "$DLOG"
	assert_schema_lines "$DLOG"
}
