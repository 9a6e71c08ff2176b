#!/usr/bin/env bash
# trust.sh: what the trust store costs a run (a benchmark, not a test).
# Times `extauth certonly` for a lineage that is not due (one HTTPS request:
# the directory) against a private Pebble, trusting Pebble's certificate
# (a) inside a file that also holds the system's whole bundle, as libcurl's
# default would parse it, and (b) in a hashed directory (c_rehash), which
# extauth uses by default (/etc/ssl/certs) and accepts as --ca-bundle DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-15}
EXTAUTH=${EXTAUTH:-build/extauth}
# shellcheck source=tests/lib/pebble.bash
source tests/lib/pebble.bash
tmp=$(mktemp -d)
cleanup() { pebble_stop; rm -rf -- "$tmp"; }
trap cleanup EXIT
pebble_start PEBBLE_WFE_NONCEREJECT=0 >/dev/null

cat /etc/ssl/certs/ca-certificates.crt "$PEBBLE_CA_BUNDLE" >"$tmp/bundle.pem"
mkdir "$tmp/hashed"
cp "$PEBBLE_CA_BUNDLE" "$tmp/hashed/pebble.pem"
for f in /etc/ssl/certs/*.pem; do ln -s "$f" "$tmp/hashed/"; done
openssl rehash "$tmp/hashed"
echo "bundle: $(grep -c BEGIN "$tmp/bundle.pem") certificates; hashed dir: $(find "$tmp/hashed" -name '*.0' | wc -l) links"

args=(--server "$PEBBLE_DIR_URL" --config-dir "$tmp/c" --work-dir "$tmp/w"
	--logs-dir "$tmp/l" --agree-tos -m b@example.com -n -q -d trust.example.com
	--preferred-challenges dns certonly)
bash examples/json-driver.sh "$EXTAUTH" --ca-bundle "$PEBBLE_CA_BUNDLE" "${args[@]}" >/dev/null

measure() {
	local label=$1 bundle=$2 i t0 t1 ms=()
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$EXTAUTH" --ca-bundle "$bundle" "${args[@]}" >/dev/null </dev/null
		t1=$(date +%s%N)
		ms+=($(((t1 - t0) / 1000)))
	done
	printf '%-32s median %6.1f ms over %d runs\n' "$label" \
		"$(printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]/1000}')" "$runs"
}
measure "file (system bundle + Pebble)" "$tmp/bundle.pem"
measure "hashed directory" "$tmp/hashed"
measure "file (Pebble only)" "$PEBBLE_CA_BUNDLE"
