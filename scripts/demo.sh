#!/usr/bin/env bash
# demo.sh: issue a certificate for demo.example.com + www.demo.example.com
# from a private Pebble CA, with examples/json-driver.sh publishing the
# dns-01 challenges, and show the JSON lines and the resulting files.
# Everything (CA, state) lives in temporary directories removed at exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh --demo </dev/null
# EXTAUTH=/path demonstrates another binary as it is (no build).
if [[ -z ${EXTAUTH:-} ]]; then
	bash scripts/build.sh </dev/null
	EXTAUTH=build/extauth
fi

# shellcheck source=tests/lib/pebble.bash
source tests/lib/pebble.bash
state=$(mktemp -d "${TMPDIR:-/tmp}/extauth-demo.XXXXXX")
cleanup() {
	pebble_stop
	rm -rf -- "$state"
}
trap cleanup EXIT
# shellcheck disable=SC2119 # no extra Pebble settings
pebble_start

echo
echo "==== extauth in JSON mode (stdout: JSON lines; stderr: extauth's log)"
rc=0
bash examples/json-driver.sh "$EXTAUTH" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--config-dir "$state/config" --work-dir "$state/work" --logs-dir "$state/logs" \
	--agree-tos --email you@example.com --public-ip-logging-ok \
	-d demo.example.com -d www.demo.example.com \
	--preferred-challenges dns certonly </dev/null | tee "$state/stdout.jsonl" || rc=$?
if ((rc != 0)); then
	echo "demo: extauth failed with exit status $rc" >&2
	exit "$rc"
fi

echo
echo "==== the same lines, pretty-printed"
jq . "$state/stdout.jsonl"

live=$state/config/live/demo.example.com
echo
echo "==== the certificate: $live"
ls -l "$live"
openssl x509 -in "$live/cert.pem" -noout -subject -enddate -ext subjectAltName
