# shellcheck shell=bash
#
# pebble.bash: start/stop a private Pebble ACME CA plus pebble-challtestsrv on
# free loopback ports.  Sourced by the bats tests, scripts/demo.sh and
# bench/issue.sh.  Being a library, it does not change the caller's shell
# options; every function works with and without `set -euo pipefail`.
#
#   pebble_start [NAME=VALUE...]   extra env for pebble, e.g. PEBBLE_WFE_NONCEREJECT=50
#                                  With PEBBLE_DNS_SERVER=HOST:PORT in pebble_start's
#                                  environment, Pebble resolves (validates dns-01)
#                                  against that server instead of challtestsrv's,
#                                  e.g. PEBBLE_DNS_SERVER=127.0.0.1:$BIND_PORT pebble_start
#                                  With PEBBLE_EAB_KID=KID and PEBBLE_EAB_KEY=KEY (base64url
#                                  HMAC key) in its environment, Pebble requires external
#                                  account binding and knows that one key (default: off).
#                                  With PEBBLE_BIN_DIR=DIR, pebble and pebble-challtestsrv
#                                  come from DIR (scripts/pebble-sid.sh fetches Debian
#                                  unstable's 2.10 there); otherwise from PATH (Debian 12's 2.4).
#                                  With PEBBLE_PROFILES='{"name": {...}}' (2.7 and later),
#                                  Pebble offers exactly those profiles; by default a 2.7+
#                                  Pebble gets one profile, "default", because an order that
#                                  names none gets a random profile.  It puts the first name
#                                  in the subject's CN (promoteCommonName, 2.10), as 2.4 and
#                                  Let's Encrypt's classic profile do.
#   pebble_root_pem FILE [FILE2]   Pebble's root (and intermediate) CA cert
#   challtestsrv_post PATH JSON    call the challtestsrv management API
#   pebble_stop                    idempotent, safe to call from an EXIT trap
#   pebble_reap_registry FILE      stop leftovers recorded via $PEBBLE_REGISTRY
# One instance per shell: the state lives in exported variables.
#
# Pebble defaults worth knowing (we leave them unless the caller overrides):
#   PEBBLE_WFE_NONCEREJECT=5   5% of valid nonces are rejected with badNonce,
#                              so every client must retry badNonce.
#   PEBBLE_AUTHZREUSE=50       a valid authz of the same account is reused
#                              half the time, so a re-issue may need no
#                              challenge at all.
# PEBBLE_VA_NOSLEEP=1 is always set (otherwise each validation sleeps 0-15 s).
#
# pebble-challtestsrv management API (found by experiment with Debian's
# pebble 2.4.0; every call is a POST with a JSON body, answers 200 + empty body):
#   /set-txt    {"host":"_acme-challenge.a.example.com.","value":"..."}
#               The host needs the trailing dot.  set-txt APPENDS: two calls for
#               one host make the DNS server answer both TXT strings, which is
#               what example.com + *.example.com need (same TXT name).
#   /clear-txt  {"host":"..."}  removes ALL values of that host (there is no
#               per-value delete), so clearing after the first of two
#               challenges at one name also removes the other one.
#   /add-http01 {"token":"T","content":"KEYAUTH"}  served at
#               http://<any host>:$PEBBLE_HTTP_PORT/.well-known/acme-challenge/T
#   /del-http01 {"token":"T"}  afterwards that URL answers 200 with an EMPTY
#               body (not 404), which Pebble rejects as a wrong key auth.
# Its DNS server answers every A query with 127.0.0.1 (-defaultIPv4) and AAAA
# with nothing (-defaultIPv6 ""), so any name validates against our loopback
# challenge servers.  Check a record with:
#   dig @127.0.0.1 -p "$PEBBLE_DNS_PORT" TXT _acme-challenge.x.example.com

# Print N distinct free loopback ports.  The sockets stay open until all N are
# chosen so the ports differ; each one is free for both TCP and UDP because the
# challtestsrv DNS server binds both.  Another process may still grab a port
# before we use it: pebble_start retries when a server dies at startup.
_pebble_free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); u.close()
        continue
    held += [t, u]
    ports.append(port)
print(" ".join(map(str, ports)))
EOF
}

# _pebble_bin NAME: the path of pebble or pebble-challtestsrv to run.
_pebble_bin() {
	if [[ -n ${PEBBLE_BIN_DIR:-} ]]; then
		printf '%s/%s\n' "$PEBBLE_BIN_DIR" "$1"
	else
		command -v "$1" || printf '/nonexistent/%s\n' "$1"
	fi
}

# True if PID is alive and still runs the program NAME (guards against PID
# reuse after the server died on its own).
_pebble_pid_is() {
	local pid=$1 name=$2 exe
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
	# braces: the error of a failed < (process just exited) goes to /dev/null too
	{ exe=$(tr '\0' ' ' <"/proc/$pid/cmdline"); } 2>/dev/null || return 1
	[[ $exe == *"$name"* ]]
}

_pebble_dump_logs() {
	local f
	for f in "$PEBBLE_TMP"/pebble.log "$PEBBLE_TMP"/challtestsrv.log; do
		[[ -f $f ]] || continue
		printf '==== %s ====\n' "$f" >&2
		tail -n 50 "$f" >&2
	done
}

# One attempt: 0 = up, 1 = a server died (port race, retry), 2 = timeout.
_pebble_try_start() {
	local p m dns http tls mg ports deadline eab='"externalAccountBindingRequired": false'
	local profiles= pjson
	# 2.7+ knows profiles (its binary knows the invalidProfile error); 2.4 has none.
	pjson=${PEBBLE_PROFILES:-'{"default": {"description": "tests", "validityPeriod": 157766400, "promoteCommonName": true}}'}
	if [[ -n ${PEBBLE_PROFILES:-} ]] || grep -q 'invalidProfile' "$(_pebble_bin pebble)" 2>/dev/null; then
		profiles=$(jq -cen --argjson p "$pjson" '$p | objects') 2>/dev/null || {
			echo "pebble_start: PEBBLE_PROFILES is not a JSON object" >&2
			return 2
		}
		profiles="\"profiles\": $profiles,"
	fi
	ports=$(_pebble_free_ports 6) || return 2
	read -r p m dns http tls mg <<<"$ports"
	if [[ -n ${PEBBLE_EAB_KID:-} ]]; then
		eab=$(jq -rn --arg k "$PEBBLE_EAB_KID" --arg v "$PEBBLE_EAB_KEY" \
			'"\"externalAccountBindingRequired\": true,\n    \"externalAccountMACKeys\": \({($k): $v} | tojson)"') || return 2
	fi

	# Debian's package ships no test certificate, so make a throw-away
	# self-signed one for Pebble's HTTPS listeners; it doubles as the CA
	# bundle clients use to trust the ACME server.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PEBBLE_TMP/key.pem" -out "$PEBBLE_TMP/cert.pem" -days 7 \
		-subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
		>/dev/null 2>&1 || {
		echo "pebble_start: openssl could not create the TLS certificate" >&2
		return 2
	}

	cat >"$PEBBLE_TMP/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$p",
    "managementListenAddress": "127.0.0.1:$m",
    "certificate": "$PEBBLE_TMP/cert.pem",
    "privateKey": "$PEBBLE_TMP/key.pem",
    "httpPort": $http,
    "tlsPort": $tls,
    "ocspResponderURL": "",
    $profiles
    $eab
  }
}
EOF

	# 3>&- : bats waits for fd 3 to close, a server holding it would hang the
	# run.  </dev/null: CI has no stdin.  PIDs are those of the servers
	# themselves (env execs), so pebble_stop can kill them directly.
	# challtestsrv 2.4 takes -dns01; later ones take -dnsserver and start a
	# DoH listener unless told -doh "".
	# (-h exits 2: read its text first, so pipefail in the caller cannot
	# turn the answer around)
	local dnsflags=(-dns01 "127.0.0.1:$dns") usage
	usage=$("$(_pebble_bin pebble-challtestsrv)" -h 2>&1) || true
	if [[ $usage == *-dnsserver* ]]; then
		dnsflags=(-dnsserver "127.0.0.1:$dns" -doh "")
	fi
	"$(_pebble_bin pebble-challtestsrv)" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		"${dnsflags[@]}" -http01 "127.0.0.1:$http" -https01 "" \
		-tlsalpn01 "127.0.0.1:$tls" -management "127.0.0.1:$mg" \
		</dev/null >"$PEBBLE_TMP/challtestsrv.log" 2>&1 3>&- &
	CHALLTESTSRV_PID=$!
	env PEBBLE_VA_NOSLEEP=1 "$@" "$(_pebble_bin pebble)" -config "$PEBBLE_TMP/pebble.json" \
		-dnsserver "${PEBBLE_DNS_SERVER:-127.0.0.1:$dns}" \
		</dev/null >"$PEBBLE_TMP/pebble.log" 2>&1 3>&- &
	PEBBLE_PID=$!
	export CHALLTESTSRV_PID PEBBLE_PID
	# Safety net for runners (scripts/test.sh): if bats is killed before
	# teardown_file, the runner can still stop these by PID.
	if [[ -n ${PEBBLE_REGISTRY:-} ]]; then
		printf '%s pebble-challtestsrv\n%s pebble\n' "$CHALLTESTSRV_PID" "$PEBBLE_PID" \
			>>"$PEBBLE_REGISTRY" || true
	fi

	export PEBBLE_DIR_URL="https://127.0.0.1:$p/dir"
	export PEBBLE_CA_BUNDLE="$PEBBLE_TMP/cert.pem"
	export PEBBLE_MGMT_URL="https://127.0.0.1:$m"
	export CHALLTESTSRV_URL="http://127.0.0.1:$mg"
	export PEBBLE_HTTP_PORT=$http PEBBLE_DNS_PORT=$dns

	# Poll instead of sleeping: both are usually up in well under a second.
	deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)); do
		# Dead is a failed start; alive under another name is a child
		# that has not exec'd yet (a loaded machine), polled again.
		if ! kill -0 "$PEBBLE_PID" 2>/dev/null ||
			! kill -0 "$CHALLTESTSRV_PID" 2>/dev/null; then
			return 1
		fi
		if ! _pebble_pid_is "$PEBBLE_PID" pebble ||
			! _pebble_pid_is "$CHALLTESTSRV_PID" pebble-challtestsrv; then
			sleep 0.1
			continue
		fi
		if curl -fsS -o /dev/null --max-time 2 --cacert "$PEBBLE_CA_BUNDLE" \
			"$PEBBLE_DIR_URL" 2>/dev/null &&
			curl -sS -o /dev/null --max-time 2 -X POST -d '{"host":"probe.invalid."}' \
				"$CHALLTESTSRV_URL/clear-txt" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 2
}

pebble_start() {
	local arg attempt rc
	for arg in "$@"; do
		[[ $arg == [A-Za-z_]*=* ]] || {
			echo "pebble_start: expected NAME=VALUE, got '$arg'" >&2
			return 2
		}
	done
	if [[ -n ${PEBBLE_DNS_SERVER:-} && $PEBBLE_DNS_SERVER != ?*:[0-9]* ]]; then
		echo "pebble_start: PEBBLE_DNS_SERVER must be HOST:PORT, got '$PEBBLE_DNS_SERVER'" >&2
		return 2
	fi
	if [[ -n ${PEBBLE_EAB_KID:-} || -n ${PEBBLE_EAB_KEY:-} ]] &&
		[[ -z ${PEBBLE_EAB_KID:-} || -z ${PEBBLE_EAB_KEY:-} ]]; then
		echo "pebble_start: PEBBLE_EAB_KID and PEBBLE_EAB_KEY go together" >&2
		return 2
	fi
	if [[ ! -x $(_pebble_bin pebble) || ! -x $(_pebble_bin pebble-challtestsrv) ]]; then
		echo "pebble_start: pebble/pebble-challtestsrv not found${PEBBLE_BIN_DIR:+ in $PEBBLE_BIN_DIR} (scripts/install-deps.sh --test${PEBBLE_BIN_DIR:+, scripts/pebble-sid.sh})" >&2
		return 1
	fi
	# Forget (do not stop) an instance started earlier by this shell, so a
	# failed attempt below can never kill it.  For a second, independent
	# instance call pebble_start/pebble_stop in a subshell: ( pebble_start; ... ).
	unset PEBBLE_PID CHALLTESTSRV_PID PEBBLE_TMP
	for attempt in 1 2 3; do
		PEBBLE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pebble.XXXXXX") || return 1
		export PEBBLE_TMP
		rc=0
		_pebble_try_start "$@" || rc=$?
		((rc == 0)) && return 0
		echo "pebble_start: attempt $attempt failed ($([[ $rc == 1 ]] && echo 'a server exited' || echo 'not up after 20 s'))" >&2
		_pebble_dump_logs
		pebble_stop
		((rc == 1)) || break # only a port race is worth retrying
	done
	return 1
}

# pebble_root_pem FILE [INTERMEDIATE_FILE]
# Pebble makes a fresh root/intermediate at every start, so fetch them from
# the running instance (they are not the TLS cert of the ACME listener).
pebble_root_pem() {
	local out=$1 inter=${2:-}
	curl -fsS --cacert "$PEBBLE_CA_BUNDLE" -o "$out" "$PEBBLE_MGMT_URL/roots/0" || return 1
	if [[ -n $inter ]]; then
		curl -fsS --cacert "$PEBBLE_CA_BUNDLE" -o "$inter" "$PEBBLE_MGMT_URL/intermediates/0" || return 1
	fi
}

# challtestsrv_post PATH JSON   e.g. challtestsrv_post set-txt '{"host":"x.","value":"v"}'
challtestsrv_post() {
	curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"
}

_pebble_kill() {
	local pid=$1 name=$2 i
	_pebble_pid_is "$pid" "$name" || return 0
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		_pebble_pid_is "$pid" "$name" || break
		sleep 0.1
	done
	_pebble_pid_is "$pid" "$name" && kill -9 "$pid" 2>/dev/null
	# Reap it if it is our child (no-op otherwise) to avoid a zombie.
	wait "$pid" 2>/dev/null || true
}

# pebble_reap_registry FILE: stop every server listed in FILE (see
# PEBBLE_REGISTRY) that is still running; used after a whole test run.
pebble_reap_registry() {
	local pid name
	[[ -f $1 ]] || return 0
	while read -r pid name; do
		_pebble_kill "$pid" "$name"
	done <"$1"
}

pebble_stop() {
	_pebble_kill "${PEBBLE_PID:-}" pebble
	_pebble_kill "${CHALLTESTSRV_PID:-}" pebble-challtestsrv
	# Only ever delete a directory this library created.
	if [[ -n ${PEBBLE_TMP:-} && -d $PEBBLE_TMP && ${PEBBLE_TMP##*/} == pebble.* ]]; then
		rm -rf -- "$PEBBLE_TMP"
	fi
	unset PEBBLE_PID CHALLTESTSRV_PID PEBBLE_TMP PEBBLE_DIR_URL PEBBLE_CA_BUNDLE \
		PEBBLE_MGMT_URL CHALLTESTSRV_URL PEBBLE_HTTP_PORT PEBBLE_DNS_PORT
	return 0
}
