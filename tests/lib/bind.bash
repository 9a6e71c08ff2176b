# shellcheck shell=bash
# tests/lib/bind.bash - a throw-away authoritative BIND for dns-01 tests.
#
#   bind_start ZONE   start named on a free 127.0.0.1 port, authoritative for ZONE,
#                     dynamic updates allowed with a fresh TSIG key. Exports:
#                       BIND_PORT     UDP+TCP port on 127.0.0.1
#                       BIND_KEYFILE  TSIG key file, usable as `nsupdate -k "$BIND_KEYFILE"`
#                       BIND_ZONE     ZONE without trailing dot
#                       BIND_TMP      temp dir (named.conf, zone, journal, named.log)
#                       BIND_PID      pid of named
#   bind_stop         stop named and remove BIND_TMP; safe to call twice or without start
#   bind_txt NAME     print the TXT values (unquoted, one per line, sorted) at NAME
#
# The zone has SOA, NS, apex A and wildcard A records (all 127.0.0.1), so any name
# under ZONE resolves to loopback, which is where the test web servers listen.
#
# This file is sourced by bats (which runs with `set -e` and its own traps), so it
# sets no shell options itself; the functions work under `set -euo pipefail` and
# return non-zero on failure without it.

# Print a port that is free for both TCP and UDP on 127.0.0.1. DNS needs both,
# and asking the kernel for port 0 only proves one of them. There is a window
# between this check and named binding the port; named then fails to start and
# bind_start reports it with the log, which beats guessing fixed ports that
# collide when test files run in parallel.
_bind_free_port() {
	python3 - <<'EOF'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
else:
    raise SystemExit("no free port")
EOF
}

# True if PID runs and is not a zombie. Once named's parent shell is gone it
# is reaped by PID 1, which in containers may take a while; kill -0 alone
# would keep reporting the zombie as running.
_bind_alive() {
	local state
	state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
	[[ -n "$state" && "$state" != Z* ]]
}

bind_start() {
	local zone="${1:?usage: bind_start ZONE}"
	zone="${zone%.}"
	if [[ -n "${BIND_PID:-}" ]] && _bind_alive "$BIND_PID"; then
		echo "bind_start: named already running (pid $BIND_PID)" >&2
		return 1
	fi

	BIND_TMP="$(mktemp -d "${TMPDIR:-/tmp}/extauth-bind.XXXXXX")" || return 1
	BIND_ZONE="$zone"
	BIND_KEYFILE="$BIND_TMP/extauth-key.conf"
	BIND_PORT="$(_bind_free_port)" || return 1
	export BIND_TMP BIND_ZONE BIND_KEYFILE BIND_PORT

	# tsig-keygen writes a `key "extauth-key" { ... };` clause: named includes it
	# and nsupdate -k reads the very same file, so there is one secret.
	tsig-keygen -a hmac-sha256 extauth-key >"$BIND_KEYFILE" || return 1

	# Short TTLs/timers: nothing here must outlive a test run. The serial does
	# not matter, named bumps it on every dynamic update.
	cat >"$BIND_TMP/db.zone" <<EOF
\$TTL 60
@	IN SOA	ns.$zone. hostmaster.$zone. 1 60 60 600 60
@	IN NS	ns.$zone.
@	IN A	127.0.0.1
ns	IN A	127.0.0.1
*	IN A	127.0.0.1
EOF

	# Everything named writes goes under BIND_TMP. `controls { };` turns off the
	# default rndc channel on 127.0.0.1:953, which a second instance (parallel
	# test files) or a system named would already hold.
	cat >"$BIND_TMP/named.conf" <<EOF
include "$BIND_KEYFILE";
controls { };
options {
	directory "$BIND_TMP";
	pid-file "$BIND_TMP/named.pid";
	session-keyfile "$BIND_TMP/session.key";
	managed-keys-directory "$BIND_TMP";
	listen-on port $BIND_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
zone "$zone" {
	type master;
	file "$BIND_TMP/db.zone";
	allow-update { key extauth-key; };
};
EOF

	# -g: foreground, log to stderr (captured in named.log). -u root: we run as
	# root in CI and named otherwise tries to switch to the `bind` user, which
	# cannot read our 0700 temp dir. -4: no IPv6 sockets at all.
	# 3>&-: bats waits for every holder of its fd 3 before finishing a test, so a
	# daemon that inherits it would hang the run.
	named -g -4 -u root -c "$BIND_TMP/named.conf" >"$BIND_TMP/named.log" 2>&1 3>&- &
	BIND_PID=$!
	export BIND_PID

	# Poll until the zone answers; `all zones loaded` in the log is not enough,
	# the sockets may still be opening. Give up after 15 s (150 x 0.1 s).
	local i
	for ((i = 0; i < 150; i++)); do
		if ! _bind_alive "$BIND_PID"; then
			echo "bind_start: named exited early; log follows" >&2
			cat "$BIND_TMP/named.log" >&2
			BIND_PID=
			return 1
		fi
		if dig +norecurse +time=1 +tries=1 +short @127.0.0.1 -p "$BIND_PORT" SOA "$zone" 2>/dev/null | grep -qv "^;"; then
			return 0
		fi
		sleep 0.1
	done
	echo "bind_start: named did not answer SOA $zone on 127.0.0.1:$BIND_PORT within 15 s; log follows" >&2
	cat "$BIND_TMP/named.log" >&2
	bind_stop
	return 1
}

bind_stop() {
	local pid="${BIND_PID:-}" i
	if [[ -n "$pid" ]] && _bind_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		# named takes up to a second to shut down; wait so that the next test
		# does not race it for files or the port.
		for ((i = 0; i < 50; i++)); do
			_bind_alive "$pid" || break
			sleep 0.1
		done
		if _bind_alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		# Reap it if it is our child, so no zombie stays behind.
		wait "$pid" 2>/dev/null || true
	fi
	BIND_PID=
	if [[ -n "${BIND_TMP:-}" && -d "$BIND_TMP" ]]; then
		rm -rf -- "$BIND_TMP"
	fi
	BIND_TMP=
	return 0
}

bind_txt() {
	local name="${1:?usage: bind_txt NAME}"
	# +short prints each TXT RR as "value"; strip the quotes so callers can
	# compare with the raw challenge value. Our values never contain quotes
	# or spaces (base64url), so no further unescaping is needed.
	dig +norecurse +time=1 +tries=2 +short @127.0.0.1 -p "${BIND_PORT:?bind_start first}" TXT "$name" |
		sed -e 's/^"//' -e 's/"$//' | sort
}
