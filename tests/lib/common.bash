# shellcheck shell=bash
# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
#
# common.bash: helpers shared by the bats integration tests.
#   load ../lib/common      (from a file in tests/integration)
#
# EXTAUTH   binary under test (default: build/extauth of this checkout)
# DRIVER    examples/json-driver.sh, the invoker every JSON-mode test uses
# Every run gets a time limit, so a hung extauth fails a test, not CI.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXTAUTH=${EXTAUTH:-$REPO_ROOT/build/extauth}
DRIVER=$REPO_ROOT/examples/json-driver.sh
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
# No cli.ini of this machine (/etc/extauth/cli.ini as root) may change a
# test: the default config file is off unless a test names one.
export EXTAUTH_CLI_INI=
NO_SLEEP=--no-random-sleep-on-renew
export EXTAUTH DRIVER REPO_ROOT

# shellcheck source=tests/lib/pebble.bash
source "$REPO_ROOT/tests/lib/pebble.bash"
# shellcheck source=tests/lib/schema.bash
source "$REPO_ROOT/tests/lib/schema.bash"

# For setup_file: Pebble plus its root/intermediate for `openssl verify`.
common_setup_file() {
	pebble_start "$@"
	pebble_root_pem "$BATS_FILE_TMPDIR/root.pem" "$BATS_FILE_TMPDIR/intermediate.pem"
	export PEBBLE_ROOT=$BATS_FILE_TMPDIR/root.pem
}

# For setup: fresh per-test state directories and the common arguments.
common_setup() {
	if [[ ! -x $EXTAUTH ]]; then
		echo "EXTAUTH=$EXTAUTH is not an executable (build first: scripts/build.sh)" >&2
		return 1
	fi
	CFG=$BATS_TEST_TMPDIR/config
	WORK=$BATS_TEST_TMPDIR/work
	LOGS=$BATS_TEST_TMPDIR/logs
	# --no-random-sleep-on-renew ($NO_SLEEP): bats has no terminal, so renew
	# would wait up to 8 minutes first; every verb accepts it.
	DIRS=(--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS" "$NO_SLEEP")
	COMMON=(--server "${PEBBLE_DIR_URL:-https://127.0.0.1:1/dir}"
		--ca-bundle "${PEBBLE_CA_BUNDLE:-/dev/null}"
		"${DIRS[@]}" --agree-tos --email t@example.com -n)
}

# show: the last run's result; bats prints it only when a test fails.
# Every run a test shows is extauth's (the files' own wrappers call it
# too), so its JSON lines are checked against the schema here as well:
# show fails when one is not valid.
show() {
	printf -- '--- exit status: %s\n--- stdout:\n%s\n--- stderr:\n%s\n---\n' \
		"$status" "$output" "${stderr-}"
	schema_check_output
}

# ext_run ARGS...: extauth with the common arguments, through the JSON
# driver.  Sets status, output (stdout) and stderr.  Driver knobs
# (DRIVER_NO_PUBLISH, ...) go in front: DRIVER_NO_PUBLISH=1 ext_run ...
# Fails when a JSON line on stdout is not valid under the schema (show).
ext_run() {
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" "${COMMON[@]}" "$@"
	show
}

# ext_direct ARGS...: extauth alone, exactly these arguments, no stdin.
# Its JSON lines are checked against the schema, as ext_run's.
ext_direct() {
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "$@" </dev/null
	show
}

# lines_cmd CMD: the stdout lines of the last run whose "cmd" is CMD
# (each checked against the schema first).
lines_cmd() {
	local l
	schema_check_output || return 1
	for l in "${lines[@]}"; do
		jq -e --arg c "$1" '.cmd == $c' <<<"$l" >/dev/null 2>&1 && printf '%s\n' "$l"
	done
	return 0
}

# count_cmd CMD: how many stdout lines have that cmd.
count_cmd() { lines_cmd "$1" | grep -c . || true; }

# keys_of JSON: its keys in order, comma separated.
keys_of() { jq -r 'keys_unsorted | join(",")' <<<"$1"; }

# assert_eq WHAT GOT WANT: a comparison that explains itself on failure.
assert_eq() {
	[[ $2 == "$3" ]] && return 0
	printf '%s: got  [%s]\n%*s  want [%s]\n' "$1" "$2" "${#1}" '' "$3" >&2
	return 1
}

# assert_stdout_json: every stdout line is one JSON object (no blank lines,
# no text) valid under doc/protocol.schema.json: the JSON-mode contract.
assert_stdout_json() {
	local l
	# bats' ${lines[@]} drops empty lines, so look for them in $output.
	if [[ -n $output ]] && grep -qn '^$' <<<"$output"; then
		echo "stdout has blank lines" >&2
		return 1
	fi
	for l in "${lines[@]}"; do
		jq -e 'type == "object"' <<<"$l" >/dev/null 2>&1 || {
			echo "stdout line is not a JSON object: [$l]" >&2
			return 1
		}
	done
	schema_check_output
}

# b64url_sha256 STRING: the dns-01 TXT value for a key authorization.
b64url_sha256() {
	printf '%s' "$1" | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# cert_sans PEM: the certificate's DNS SANs, sorted, comma separated.
cert_sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName |
		grep -o 'DNS:[^,[:space:]]*' | sed 's/^DNS://' | sort | paste -sd, -
}

# lineage_dir: the only live/NAME directory of this test's config dir
# (avoids guessing how a wildcard lineage is named).
lineage_dir() {
	local d=("$CFG"/live/*/)
	[[ ${#d[@]} == 1 && -d ${d[0]} ]] || {
		echo "expected exactly one lineage under $CFG/live, found: ${d[*]}" >&2
		return 1
	}
	printf '%s\n' "${d[0]%/}"
}

# assert_lineage DIR NAMES(comma-sep, sorted) [N]: the live files are
# symlinks to archive/<name>/*N.pem, the key is private, the chain verifies
# against Pebble's root and the SANs are exactly NAMES.
assert_lineage() {
	local live=$1 want=$2 n=${3:-1} name f target
	name=${live##*/}
	for f in cert chain fullchain privkey; do
		[[ -L $live/$f.pem ]] || { echo "$live/$f.pem is not a symlink" >&2; return 1; }
		target=$(readlink -f "$live/$f.pem")
		assert_eq "$f.pem target" "$target" "$(readlink -f "$CFG/archive/$name/$f$n.pem")" || return 1
		[[ -s $target ]] || { echo "$target is empty" >&2; return 1; }
	done
	assert_eq "privkey mode" "$(stat -L -c %a "$live/privkey.pem")" 600 || return 1
	openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$live/chain.pem" "$live/cert.pem" >&2 || return 1
	assert_eq "SANs" "$(cert_sans "$live/cert.pem")" "$want"
}

# lock_hold FILE: another process holds a POSIX record lock on FILE (what
# certbot's lock.py or an old run would hold; extauth's open file
# description locks respect it) until lock_release.
lock_hold() {
	LOCK_HOLD_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/hold.XXXXXX")
	mkfifo "$LOCK_HOLD_DIR/ready" "$LOCK_HOLD_DIR/go"
	timeout 60 /usr/bin/python3 -c 'import fcntl, sys
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").write("held\n")
open(sys.argv[3]).read()' "$1" "$LOCK_HOLD_DIR/ready" "$LOCK_HOLD_DIR/go" 3>&- &
	LOCK_HOLD_PID=$!
	read -r _ <"$LOCK_HOLD_DIR/ready"
}

# lock_release: the holder of lock_hold lets go and exits.
lock_release() {
	echo go >"$LOCK_HOLD_DIR/go"
	wait "$LOCK_HOLD_PID"
}

# dns_handler FILE [-]: FILE becomes the usual handler-mode test handler,
# which publishes dns-01 records through pebble-challtestsrv
# ($CHALLTESTSRV_URL) on perform and clears them on cleanup; with "-" the
# lines on stdin are appended (a log line, say).
dns_handler() {
	cat >"$1" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
case $1 in
perform) post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
EOS
	[[ ${2-} != - ]] || cat >>"$1"
	chmod +x "$1"
}
