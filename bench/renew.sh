#!/usr/bin/env bash
# bench/renew.sh [N...]: how long `extauth renew` takes to decide that none
# of N lineages is due (default N: 10000), and its peak RSS.  Not a test.
#
# One real certificate is obtained from a private Pebble (that is the only
# CA traffic; the timed runs make none), so the renewal conf is the one
# extauth itself writes.  Then, with a small python3 script, a fresh config
# dir gets N copies of that lineage: archive/l$i/{cert,chain,fullchain,
# privkey}1.pem (hard links to the real files), live/l$i/*.pem (relative
# symlinks, as store.c makes them) and renewal/l$i.conf (the real conf with
# the lineage's name and paths substituted, cache keys included).
#
# Two variants per N:
#   cached    the confs carry extauth_version/not_before/not_after: renew
#             reads each conf and one readlink, no certificate.
#   nocache   the same confs without those keys: renew also reads and
#             parses every live/l$i/cert.pem.
# Timing: hyperfine (--warmup 1, BENCH_RUNS runs, default 5) when it is
# installed, else BENCH_RUNS runs under GNU time and their median.  Peak
# RSS: GNU time's %M (KiB) of one more run.  Every timed run is checked to
# exit 0 and to report "N lineages checked, 0 due".
#
#   EXTAUTH=/path/extauth   measure that binary as it is (no build)
#   BENCH_VARIANTS=cached   only that variant (default "cached nocache")
#   BENCH_RUNS=N            timed runs per row (default 5)
#   BENCH_KEEP=1            keep the temp dir and the config dirs (for perf)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
sizes=("$@")
((${#sizes[@]} > 0)) || sizes=(10000)
for n in "${sizes[@]}"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N...]" >&2; exit 2; }
done
runs=${BENCH_RUNS:-5}
variants=${BENCH_VARIANTS:-cached nocache}

if [[ -z ${EXTAUTH:-} ]]; then
	bash scripts/install-deps.sh --test </dev/null
	bash scripts/build.sh </dev/null
	EXTAUTH=$repo/build/extauth
fi
[[ -x /usr/bin/time ]] || { echo "bench: GNU time missing (apt-get install time)" >&2; exit 1; }

# shellcheck source=tests/lib/pebble.bash
source tests/lib/pebble.bash
state=$(mktemp -d "${TMPDIR:-/tmp}/extauth-renew-bench.XXXXXX")
cleanup() {
	pebble_stop
	if [[ -n ${BENCH_KEEP:-} ]]; then
		echo "bench: kept $state" >&2
	else
		rm -rf -- "$state"
	fi
}
trap cleanup EXIT

# --- one real lineage --------------------------------------------------------
pebble_start PEBBLE_WFE_NONCEREJECT=0
seed=$state/seed
bash examples/json-driver.sh "$EXTAUTH" --server "$PEBBLE_DIR_URL" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --config-dir "$seed/config" \
	--work-dir "$seed/work" --logs-dir "$seed/logs" --agree-tos \
	--email bench@example.com -n -d bench.example.com \
	--preferred-challenges dns certonly </dev/null >"$state/seed.out" 2>"$state/seed.err" || {
	echo "bench: obtaining the seed certificate failed:" >&2
	cat "$state/seed.err" >&2
	exit 1
}
pebble_stop # the timed runs need no CA
grep -q '^extauth_not_after = ' "$seed/config/renewal/bench.example.com.conf" || {
	echo "bench: the seed conf has no cache keys; this binary predates them" >&2
	exit 1
}

# make_lineages CONFIG_DIR N: N copies of the seed lineage, named l1..lN.
make_lineages() {
	python3 - "$seed/config" "$1" "$2" <<'EOF'
import os, sys
seed, cfg, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
name = "bench.example.com"
conf = open(f"{seed}/renewal/{name}.conf").read()
for d in ("archive", "live", "renewal", "accounts"):
    os.makedirs(f"{cfg}/{d}", exist_ok=True)
os.chmod(f"{cfg}/archive", 0o700)
kinds = ("cert", "chain", "fullchain", "privkey")
src = {k: f"{seed}/archive/{name}/{k}1.pem" for k in kinds}
for i in range(1, n + 1):
    l = f"l{i}"
    a, v = f"{cfg}/archive/{l}", f"{cfg}/live/{l}"
    os.mkdir(a, 0o700)
    os.mkdir(v, 0o755)
    for k in kinds:
        os.link(src[k], f"{a}/{k}1.pem")
        os.symlink(f"../../archive/{l}/{k}1.pem", f"{v}/{k}.pem")
    c = (conf.replace(f"{seed}/", f"{cfg}/")
         .replace(f"/archive/{name}", f"/archive/{l}")
         .replace(f"/live/{name}/", f"/live/{l}/"))
    with open(f"{cfg}/renewal/{l}.conf", "w") as f:
        f.write(c)
EOF
}

# strip_cache CONFIG_DIR: remove the extauth_* cache keys from every conf.
strip_cache() {
	python3 - "$1" <<'EOF'
import os, sys
d = sys.argv[1] + "/renewal"
for f in os.listdir(d):
    p = f"{d}/{f}"
    lines = open(p).read().splitlines(True)
    keep = [l for l in lines if not l.startswith(("extauth_version =",
            "extauth_not_before =", "extauth_not_after ="))]
    open(p, "w").write("".join(keep))
EOF
}

# measure LABEL N CONFIG_DIR: prints one result row.
measure() {
	local label=$1 n=$2 cfg=$3 args out median mean rss word=lineages
	((n != 1)) || word=lineage
	args=(renew --config-dir "$cfg" --work-dir "$state/work" --logs-dir "$state/logs")
	# sanity: the run must succeed and find nothing due
	out=$("$EXTAUTH" "${args[@]}" </dev/null 2>/dev/null) || {
		echo "bench: renew failed on $cfg" >&2
		exit 1
	}
	grep -q "\"$n $word checked, 0 due, 0 renewed, 0 failed.\"" <<<"$out" || {
		echo "bench: unexpected report: $out" >&2
		exit 1
	}
	if command -v hyperfine >/dev/null; then
		hyperfine -N --warmup 1 --runs "$runs" --export-json "$state/hf.json" \
			--output null "$(printf '%q ' "$EXTAUTH" "${args[@]}")" \
			</dev/null >/dev/null 2>"$state/hf.err" || { cat "$state/hf.err" >&2; echo "bench: hyperfine failed" >&2; exit 1; }
		read -r median mean < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.3f %.3f" % (r["median"], r["mean"]))' "$state/hf.json")
	else
		: >"$state/times"
		for ((i = 0; i < runs; i++)); do
			/usr/bin/time -a -o "$state/times" -f %e "$EXTAUTH" "${args[@]}" \
				</dev/null >/dev/null 2>&1
		done
		median=$(sort -n "$state/times" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
		mean=$(awk '{s += $1} END {printf "%.3f", s / NR}' "$state/times")
	fi
	rss=$(/usr/bin/time -f %M "$EXTAUTH" "${args[@]}" </dev/null 2>&1 >/dev/null | tail -n 1)
	printf '%-8s %8d %10s %10s %12s\n' "$label" "$n" "$median" "$mean" "$rss"
}

echo "extauth renew, none due; $(nproc) cores; $runs runs per row; $(date -u +%Y-%m-%d)"
printf '%-8s %8s %10s %10s %12s\n' variant N median_s mean_s peak_rss_kib
for n in "${sizes[@]}"; do
	cfg=$state/n$n/config
	make_lineages "$cfg" "$n"
	sync
	[[ $variants != *cached* || $variants == nocache ]] || measure cached "$n" "$cfg"
	if [[ $variants == *nocache* ]]; then
		strip_cache "$cfg"
		measure nocache "$n" "$cfg"
	fi
	[[ -n ${BENCH_KEEP:-} ]] || rm -rf -- "$state/n$n"
done
