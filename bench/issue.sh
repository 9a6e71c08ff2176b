#!/usr/bin/env bash
# bench/issue.sh [N]: how long one issuance takes extauth, and how much memory.
# Not a test.  A private Pebble (no validation sleeps, no authz reuse, so
# every run does the full order + challenge + finalize flow), one account
# registered by an unmeasured first run, then N (default 7) runs of
# `certonly --force-renewal` for one name through examples/json-driver.sh.
# Measured: extauth's own wall time and peak RSS, via GNU time wrapped
# around extauth alone (the driver, jq and curl are not counted).  The wall
# time includes the waits for the driver and for Pebble's validation.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
runs=${1:-7}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }

bash scripts/install-deps.sh --test </dev/null
# The release tree is the one that is measured; EXTAUTH=/path measures
# another binary as it is (no build).
if [[ -z ${EXTAUTH:-} ]]; then
	bash scripts/build.sh </dev/null
	EXTAUTH=$repo/build/extauth
fi

# shellcheck source=tests/lib/pebble.bash
source tests/lib/pebble.bash
state=$(mktemp -d "${TMPDIR:-/tmp}/extauth-bench.XXXXXX")
cleanup() {
	pebble_stop
	rm -rf -- "$state"
}
trap cleanup EXIT
# NONCEREJECT=0: random badNonce retries would only add noise.
pebble_start PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0

# The driver runs one command: a wrapper that puts GNU time around extauth
# and appends "seconds maxrss_kib" to a file (not stderr: extauth's log
# goes there).
cat >"$state/timed-extauth" <<WRAP
#!/bin/sh
exec /usr/bin/time -o "$state/times" -a -f "%e %M" "$EXTAUTH" "\$@"
WRAP
chmod +x "$state/timed-extauth"

args=(--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE"
	--config-dir "$state/config" --work-dir "$state/work" --logs-dir "$state/logs"
	--agree-tos --email bench@example.com -n -d bench.example.com
	--preferred-challenges dns certonly)

# run_once: one issuance; its stdout/stderr are kept for a failure report.
run_once() {
	bash examples/json-driver.sh "$state/timed-extauth" "${args[@]}" "$@" \
		</dev/null >"$state/out" 2>"$state/err" || {
		echo "bench: extauth failed; its stderr:" >&2
		cat "$state/err" >&2
		exit 1
	}
}

echo "warm-up: registering the account and issuing the first certificate"
run_once
: >"$state/times"

printf '%-6s %10s %14s\n' run wall_s peak_rss_kib
for ((i = 1; i <= runs; i++)); do
	run_once --force-renewal
	read -r wall rss < <(tail -n 1 "$state/times")
	printf '%-6s %10s %14s\n' "$i" "$wall" "$rss"
done

# median of a column (lower middle value for an even count)
median() { cut -d' ' -f"$1" "$state/times" | sort -n | sed -n "$(((runs + 1) / 2))p"; }
printf '%-6s %10s %14s\n' median "$(median 1)" "$(median 2)"
