# shellcheck shell=bash
#
# tcprelay.bash: start/stop tests/lib/tcprelay.py, a plain TCP relay in
# front of the Pebble that tests/lib/pebble.bash started (pebble_start
# first), which logs every TCP connection it accepts.  TLS stays end to end
# (Pebble's certificate, its ALPN h2), so a run through the relay is a run
# against Pebble whose connections can be counted from outside.  Pebble
# builds its URLs from the Host header, so they all point at the relay.
#
#   tcprelay_start        start on a free loopback port and export
#                           TCPRELAY_DIR_URL  directory URL via the relay
#                           TCPRELAY_LOG      "open N" / "close N SECS" lines
#   tcprelay_connections  connections accepted so far
#   tcprelay_freeze       the connections open so far stop moving (bytes
#                         held both ways, sockets kept open); later ones
#                         flow.  Also from a handler: it writes the last
#                         connection number of $TCPRELAY_LOG to
#                         $TCPRELAY_FREEZE.  tcprelay_thaw undoes it.
#   tcprelay_stop         idempotent, safe from an EXIT trap
# The PID goes to $PEBBLE_REGISTRY, so scripts/test.sh reaps it like Pebble.

TCPRELAY_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tcprelay.py

tcprelay_start() {
	local t deadline hostport
	if [[ -z ${PEBBLE_DIR_URL:-} ]]; then
		echo "tcprelay_start: start Pebble first (pebble_start)" >&2
		return 1
	fi
	TCPRELAY_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcprelay.XXXXXX") || return 1
	t=$TCPRELAY_TMP
	hostport=${PEBBLE_DIR_URL#https://}
	hostport=${hostport%%/*}
	: >"$t/log"
	# 3>&- and </dev/null: as in pebble.bash (bats waits for fd 3).
	/usr/bin/python3 "$TCPRELAY_PY" "${hostport%:*}" "${hostport##*:}" "$t/port" "$t/log" "$t/freeze" \
		</dev/null >"$t/relay.out" 2>&1 3>&- &
	TCPRELAY_PID=$!
	export TCPRELAY_PID TCPRELAY_TMP
	if [[ -n ${PEBBLE_REGISTRY:-} ]]; then
		printf '%s tcprelay\n' "$TCPRELAY_PID" >>"$PEBBLE_REGISTRY" || true
	fi
	deadline=$((SECONDS + 20))
	while [[ ! -s $t/port ]]; do
		if ! kill -0 "$TCPRELAY_PID" 2>/dev/null || ((SECONDS >= deadline)); then
			echo "tcprelay_start: the relay did not come up:" >&2
			cat "$t/relay.out" >&2
			tcprelay_stop
			return 1
		fi
		sleep 0.05
	done
	export TCPRELAY_DIR_URL="https://127.0.0.1:$(cat "$t/port")/dir"
	export TCPRELAY_LOG=$t/log TCPRELAY_FREEZE=$t/freeze
}

tcprelay_connections() { grep -c '^open ' "$TCPRELAY_LOG" || true; }

tcprelay_freeze() {
	awk '$1 == "open" { n = $2 } END { print n + 0 }' "$TCPRELAY_LOG" >"$TCPRELAY_FREEZE.tmp" &&
		mv -f "$TCPRELAY_FREEZE.tmp" "$TCPRELAY_FREEZE"
}

tcprelay_thaw() { rm -f -- "$TCPRELAY_FREEZE"; }

tcprelay_stop() {
	if [[ -n ${TCPRELAY_PID:-} ]]; then
		kill "$TCPRELAY_PID" 2>/dev/null || true
		wait "$TCPRELAY_PID" 2>/dev/null || true
	fi
	unset TCPRELAY_PID
	[[ -z ${TCPRELAY_TMP:-} ]] || rm -rf -- "$TCPRELAY_TMP"
	unset TCPRELAY_TMP
}
