#!/usr/bin/env bash
# logs.sh: what the per-run log rotation costs a run (a benchmark, not a
# test).  Times a run that opens its log file and then fails at once to
# reach a CA (127.0.0.1:1, no Pebble needed) with the logs dir holding
# 0 old files, and holding the full default set of --max-log-backups
# (1000, as certbot: every run renames all of them), and with rotation off
# (--max-log-backups 0).  Median of RUNS runs each.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-21}
EXTAUTH=${EXTAUTH:-build/extauth}
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# median_ms ARGS...: the median wall time of runs of extauth ARGS, in ms.
median_ms() {
	local i t0 t1 times=()
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$EXTAUTH" --server https://127.0.0.1:1/dir --config-dir "$tmp/c" \
			--work-dir "$tmp/w" --agree-tos -m b@example.com -n -q \
			-d logs.example.com certonly "$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" \
		'NR == int((n + 1) / 2) { printf "%.1f", $1 / 1000 }'
}

mkdir -p "$tmp/empty"
echo "no old log files:                 $(median_ms --logs-dir "$tmp/empty" --max-log-backups 1) ms"
mkdir -p "$tmp/full"
for ((i = 1; i <= 1000; i++)); do : >"$tmp/full/extauth.log.$i"; done
echo "1000 old log files, rotated:      $(median_ms --logs-dir "$tmp/full") ms"
echo "rotation off (--max-log-backups 0): $(median_ms --logs-dir "$tmp/empty" --max-log-backups 0) ms"
