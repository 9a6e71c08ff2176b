# shellcheck shell=bash
#
# faultproxy.bash: start/stop tests/lib/faultproxy.py, a fault-injecting
# HTTPS proxy between extauth and the Pebble that tests/lib/pebble.bash
# started (pebble_start first).  Like pebble.bash, a library: it does not
# change the caller's shell options.
#
#   faultproxy_start [RULE...]   start on a free loopback port with these
#                                rules (syntax: the header of faultproxy.py,
#                                e.g. 503:kind=newOrder:times=1 or drop:rate=0.2)
#                                and export
#                                  FAULTPROXY_DIR_URL    directory URL via the proxy
#                                  FAULTPROXY_CA_BUNDLE  CA bundle that trusts it
#                                  FAULTPROXY_LOG        JSON line per request
#   faultproxy_rules [RULE...]   replace the rules of the running proxy (the
#                                counters restart); takes effect at its next
#                                request
#   faultproxy_injected [CLASS]  how many faults (of CLASS) were injected so far
#   faultproxy_requests [KIND]   how many requests (of KIND) went through
#   faultproxy_new_orders        newOrder requests, less Pebble's 500s for a
#                                "replaces" it has not indexed yet (below)
#   faultproxy_sent_before CLASS [KIND]  how many requests (of KIND) had
#                                arrived when the first CLASS answer was sent
#                                (in flight together with it)
#   faultproxy_sent_after CLASS [KIND] [SECS]  how many arrived after the
#                                first CLASS answer was sent (within SECS of
#                                it when given); both print -1 when no
#                                CLASS answer was sent
#   faultproxy_stop              idempotent, safe from an EXIT trap
# With FAULTPROXY_SEED=N in the environment the random choices repeat.
# The proxy PID goes to $PEBBLE_REGISTRY, so scripts/test.sh reaps it like
# Pebble if bats dies before its teardown.

FAULTPROXY_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/faultproxy.py

# _faultproxy_write_rules FILE RULE...: atomically, so the proxy never reads
# half a file.
_faultproxy_write_rules() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file.tmp" && mv -f -- "$file.tmp" "$file"
}

faultproxy_start() {
	local t deadline
	if [[ -z ${PEBBLE_DIR_URL:-} || -z ${PEBBLE_CA_BUNDLE:-} ]]; then
		echo "faultproxy_start: start Pebble first (pebble_start)" >&2
		return 1
	fi
	unset FAULTPROXY_PID
	FAULTPROXY_TMP=$(mktemp -d "${TMPDIR:-/tmp}/faultproxy.XXXXXX") || return 1
	export FAULTPROXY_TMP
	t=$FAULTPROXY_TMP
	# A throw-away CA and a leaf for 127.0.0.1 and localhost signed by it:
	# the crossorigin fault sends clients to https://localhost:PORT, which
	# must be valid TLS so that only the client's origin check can stop it.
	if ! {
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$t/ca.key" -out "$t/ca.pem" -days 7 -subj /CN=faultproxy-ca &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout "$t/key.pem" -out "$t/leaf.csr" -subj /CN=127.0.0.1 &&
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$t/ext" &&
			openssl x509 -req -in "$t/leaf.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
				-CAcreateserial -days 7 -extfile "$t/ext" -out "$t/cert.pem"
	} >/dev/null 2>&1; then
		echo "faultproxy_start: openssl could not make the proxy's certificates" >&2
		return 1
	fi
	_faultproxy_write_rules "$t/rules" "$@" || return 1
	: >"$t/log"
	# 3>&- and </dev/null: as in pebble.bash (bats waits for fd 3).
	python3 "$FAULTPROXY_PY" --upstream "${PEBBLE_DIR_URL%/dir}" \
		--upstream-ca "$PEBBLE_CA_BUNDLE" --cert "$t/cert.pem" --key "$t/key.pem" \
		--rules "$t/rules" --log "$t/log" --port-file "$t/port" \
		${FAULTPROXY_SEED:+--seed "$FAULTPROXY_SEED"} \
		</dev/null >"$t/proxy.out" 2>&1 3>&- &
	FAULTPROXY_PID=$!
	export FAULTPROXY_PID
	if [[ -n ${PEBBLE_REGISTRY:-} ]]; then
		printf '%s faultproxy\n' "$FAULTPROXY_PID" >>"$PEBBLE_REGISTRY" || true
	fi
	deadline=$((SECONDS + 20))
	while [[ ! -s $t/port ]]; do
		if ! kill -0 "$FAULTPROXY_PID" 2>/dev/null || ((SECONDS >= deadline)); then
			echo "faultproxy_start: the proxy did not come up:" >&2
			cat "$t/proxy.out" >&2
			faultproxy_stop
			return 1
		fi
		sleep 0.05
	done
	export FAULTPROXY_DIR_URL="https://127.0.0.1:$(cat "$t/port")/dir"
	export FAULTPROXY_CA_BUNDLE=$t/ca.pem
	export FAULTPROXY_LOG=$t/log
}

faultproxy_rules() {
	[[ -n ${FAULTPROXY_TMP:-} ]] || {
		echo "faultproxy_rules: no proxy running" >&2
		return 1
	}
	_faultproxy_write_rules "$FAULTPROXY_TMP/rules" "$@"
}

faultproxy_injected() {
	jq -s --arg c "${1:-}" '[.[] | select(.fault != "" and ($c == "" or .fault == $c))] | length' \
		"$FAULTPROXY_LOG"
}

faultproxy_requests() {
	jq -s --arg k "${1:-}" '[.[] | select($k == "" or .kind == $k)] | length' "$FAULTPROXY_LOG"
}

# _faultproxy_sent CMP CLASS KIND SECS: the count for the two above.
_faultproxy_sent() {
	jq -s --arg cmp "$1" --arg c "$2" --arg k "$3" --arg s "$4" '
		(map(select(.fault == $c and .t_out != null) | .t_out) | min) as $t |
		if $t == null then -1 else
			map(select(($k == "" or .kind == $k) and
				(if $cmp == "before" then .t_in < $t
				 else .t_in > $t and ($s == "" or .t_in <= $t + ($s | tonumber)) end)))
			| length end' "$FAULTPROXY_LOG"
}

faultproxy_sent_before() { _faultproxy_sent before "$1" "${2:-}" ""; }

faultproxy_sent_after() { _faultproxy_sent after "$1" "${2:-}" "${3:-}"; }

# faultproxy_new_orders: the newOrder requests, less those Pebble answered
# 500: Pebble 2.10 now and then cannot find, by its serial, a certificate
# it issued ("could not find order resulting in the given certificate
# serial number") when a renewal names it in ARI "replaces" (its by-serial
# index is filled in a goroutine after the certificate is out; others have
# met it too).  extauth retries the 500 and then orders without
# "replaces": one order made either way.
faultproxy_new_orders() {
	jq -s '[.[] | select(.kind == "newOrder" and .status != 500)] | length' "$FAULTPROXY_LOG"
}

faultproxy_stop() {
	local i
	if [[ -n ${FAULTPROXY_PID:-} ]] && kill -0 "$FAULTPROXY_PID" 2>/dev/null; then
		kill "$FAULTPROXY_PID" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$FAULTPROXY_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$FAULTPROXY_PID" 2>/dev/null || true
		wait "$FAULTPROXY_PID" 2>/dev/null || true
	fi
	if [[ -n ${FAULTPROXY_TMP:-} && -d $FAULTPROXY_TMP && ${FAULTPROXY_TMP##*/} == faultproxy.* ]]; then
		rm -rf -- "$FAULTPROXY_TMP"
	fi
	unset FAULTPROXY_PID FAULTPROXY_TMP FAULTPROXY_DIR_URL FAULTPROXY_CA_BUNDLE FAULTPROXY_LOG
	return 0
}
