# shellcheck shell=bash
# status, output and stderr are set by bats' `run`.
# shellcheck disable=SC2154
#
# faults.bash: what tests/integration/fault*.bats share on top of
# common.bash and faultproxy.bash: a Pebble with the proxy in front, extauth
# pointed at the proxy, and the checks every faulted run must pass.
#   load ../lib/faults

load ../lib/common
load ../lib/faultproxy

# For setup_file: Pebble without its own nonce rejection (the proxy injects
# badNonce when a test wants it, so counts stay exact) and the proxy.
faults_setup_file() {
	common_setup_file PEBBLE_WFE_NONCEREJECT=0 "$@" || return 1
	faultproxy_start || {
		pebble_stop
		return 1
	}
}

faults_teardown_file() {
	faultproxy_stop
	pebble_stop
}

# For setup: common_setup, with extauth talking to the proxy; no rules and
# an empty log.
faults_setup() {
	common_setup || return 1
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE"
		"${DIRS[@]}" --agree-tos --email t@example.com -n)
	faultproxy_rules
	: >"$FAULTPROXY_LOG"
}

# assert_no_sanitizer: the last run's stderr holds no ASan/UBSan/LSan report
# (empty for the release build, which is the point of running both).
assert_no_sanitizer() {
	if grep -Eq 'Sanitizer|runtime error:' <<<"${stderr-}"; then
		echo "sanitizer report in stderr" >&2
		return 1
	fi
}

# fault_pattern CLASS: an extended regex that an error message caused by
# CLASS must match: the message has to name the fault, not something else.
fault_pattern() {
	case $1 in
	500 | 503 | 429) echo "HTTP $1" ;;
	503ra) echo "HTTP 503" ;;
	429ra) echo "HTTP 429" ;;
	ratelimited) echo "rateLimited|HTTP 429" ;;
	badnonce) echo "badNonce" ;;
	drop) echo "transfer closed|connection|Connection|Empty reply|recv|reset" ;;
	stall) echo "timed out|timeout" ;;
	truncate) echo "not a JSON|premature end|JSON|not a certificate chain" ;;
	oversize) echo "exceeds|too large|larger than" ;;
	redirect) echo "HTTP 307|redirect" ;;
	crossorigin) echo "origin" ;;
	foreignid) echo "foreign-[0-9]+\.example\.net" ;;
	badtoken) echo "token" ;;
	*) echo "fault_pattern: no pattern for '$1'" >&2; return 1 ;;
	esac
}

# assert_issued_or_named CLASS NAME: the last run either issued NAME or
# exited 3 with an error line naming CLASS; no sanitizer report either way.
# Prints "issued" or "failed" for the caller's tally.
assert_issued_or_named() {
	local cls=$1 name=$2 pat
	assert_no_sanitizer || return 1
	if ((status == 0)); then
		assert_lineage "$CFG/live/$name" "$name" >&2 || return 1
		echo issued
		return 0
	fi
	pat=$(fault_pattern "$cls") || return 1
	if ((status != 3)); then
		echo "$cls: exit $status, want 0 or 3" >&2
		return 1
	fi
	if ! grep -E 'error' <<<"$stderr" | grep -Eq "$pat"; then
		echo "$cls: exit 3 but no error line matches /$pat/" >&2
		return 1
	fi
	echo failed
}
