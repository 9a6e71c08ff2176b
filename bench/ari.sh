#!/usr/bin/env bash
# bench/ari.sh [N]: `extauth renew` over N lineages (default 10000), none
# due, against Debian unstable's Pebble 2.10 (scripts/pebble-sid.sh), which
# answers ARI.  Not a test.  Two rows:
#   fresh   every conf holds a fresh ARI answer (extauth_ari_next_query in
#           the future): no request at all; best of BENCH_RUNS runs (5).
#   stale   no conf holds an answer: N renewalInfo GETs over one
#           connection, and N conf rewrites (atomic; made durable in
#           batches of 256, one syncfs each: store.h "batches"); one run,
#           since it changes the confs.
# Each row: wall seconds, peak RSS (GNU time's %M, KiB), extauth's own CPU
# seconds (user + system: what the wall time is made of on a machine whose
# other load slows Pebble and the disk), and the renewalInfo answers
# extauth recorded (-v log).  The lineages are copies of one
# real lineage (bench/renew.sh's layout), so every GET asks about the same
# certificate, which Pebble issued.
# not pipefail: tests/lib/pebble.bash's challtestsrv flag probe (-h | grep -q)
# fails under it with Pebble 2.10 (its -h exits 2)
set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
n=${1:-10000}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N]" >&2; exit 2; }
runs=${BENCH_RUNS:-5}
EXTAUTH=${EXTAUTH:-$repo/build/extauth}
[[ -x $EXTAUTH ]] || { echo "bench: build first (scripts/build.sh)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench: GNU time missing (apt-get install time)" >&2; exit 1; }

# shellcheck source=tests/lib/pebble.bash
source tests/lib/pebble.bash
state=$(mktemp -d "${TMPDIR:-/tmp}/extauth-ari-bench.XXXXXX")
cleanup() {
	pebble_stop
	rm -rf -- "$state"
}
trap cleanup EXIT

PEBBLE_BIN_DIR=$(bash scripts/pebble-sid.sh)
export PEBBLE_BIN_DIR
PEBBLE_PROFILES='{"long": {"description": "90 days", "validityPeriod": 7776000}}' \
	pebble_start PEBBLE_WFE_NONCEREJECT=0
seed=$state/seed
bash examples/json-driver.sh "$EXTAUTH" --server "$PEBBLE_DIR_URL" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --config-dir "$seed/config" \
	--work-dir "$seed/work" --logs-dir "$seed/logs" --agree-tos \
	--email bench@example.com -n -d bench.example.com --required-profile long \
	--preferred-challenges dns certonly </dev/null >"$state/seed.out" 2>"$state/seed.err" || {
	echo "bench: obtaining the seed certificate failed:" >&2
	cat "$state/seed.err" >&2
	exit 1
}

cfg=$state/config
python3 - "$seed/config" "$cfg" "$n" <<'PY'
import os, sys
seed, cfg, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
name = "bench.example.com"
conf = open(f"{seed}/renewal/{name}.conf").read()
for d in ("archive", "live", "renewal"):
    os.makedirs(f"{cfg}/{d}", exist_ok=True)
os.chmod(f"{cfg}/archive", 0o700)
kinds = ("cert", "chain", "fullchain", "privkey")
for i in range(1, n + 1):
    l = f"l{i}"
    a, v = f"{cfg}/archive/{l}", f"{cfg}/live/{l}"
    os.mkdir(a, 0o700)
    os.mkdir(v, 0o755)
    for k in kinds:
        os.link(f"{seed}/archive/{name}/{k}1.pem", f"{a}/{k}1.pem")
        os.symlink(f"../../archive/{l}/{k}1.pem", f"{v}/{k}.pem")
    c = (conf.replace(f"{seed}/", f"{cfg}/")
         .replace(f"/archive/{name}", f"/archive/{l}")
         .replace(f"/live/{name}/", f"/live/{l}/"))
    open(f"{cfg}/renewal/{l}.conf", "w").write(c)
PY
cp -a "$seed/config/accounts" "$cfg/"
sync
args=(renew -v --config-dir "$cfg" --work-dir "$state/work" --logs-dir "$state/logs")

# row LABEL: one timed run; prints the row.
row() {
	local t
	/usr/bin/time -o "$state/time" -f '%e %M %U %S' "$EXTAUTH" "${args[@]}" </dev/null \
		>"$state/out" 2>"$state/err" || { tail -5 "$state/err" >&2; exit 1; }
	grep -q "\"$n lineages\? checked, 0 due, 0 renewed, 0 failed.\"" "$state/out" || {
		echo "bench: unexpected report: $(cat "$state/out")" >&2
		exit 1
	}
	read -r t rss us ss <"$state/time"
	printf '%-6s %7d %8s %12s %6.2f %9s\n' "$1" "$n" "$t" "$rss" \
		"$(awk -v u="$us" -v s="$ss" 'BEGIN {print u + s}')" \
		"$(grep -c 'renewal window puts' "$state/err" || true)"
}

echo "extauth renew, none due, ARI (Pebble 2.10); $(nproc) cores; $(date -u +%Y-%m-%d)"
printf '%-6s %7s %8s %12s %6s %9s\n' variant N wall_s peak_rss_kib cpu_s ari_gets
row stale
# now every conf holds a fresh answer: the best of $runs runs
best=
for ((i = 0; i < runs; i++)); do
	line=$(row fresh)
	t=$(awk '{print $3}' <<<"$line")
	if [[ -z $best ]] || awk -v a="$t" -v b="$(awk '{print $3}' <<<"$best")" 'BEGIN {exit !(a < b)}'; then
		best=$line
	fi
done
printf '%s\n' "$best"
