#!/usr/bin/env bash
# bench/many.sh [WORKLOAD...]: many certificates in one run (issue 10).  Not
# a test.  A private Pebble (PEBBLE_VA_NOSLEEP=1 as always, no authz reuse,
# no badNonce noise), dns-01 through pebble-challtestsrv, one account
# registered by an unmeasured first run.  Workloads (default: all):
#
#   names50   one certificate with 50 names, JSON mode, with a persistent
#             driver (examples/json-socket-driver.py on --socket, started
#             once): BENCH_RUNS (default 5) runs, extauth's median wall.
#   batch20   20 single-name certificates: one `certonly --batch` JSON run
#             at --max-concurrent 1 and 8, against 20 `certonly` runs
#             (same persistent driver).
#   renew     `renew --force-renewal` over BENCH_N (default 1000) handler-mode
#             lineages, at each --max-concurrent of BENCH_CONC (default
#             "1 2 4 8 16"): wall, extauth's CPU (user+sys of it and its
#             handlers), Pebble's and challtestsrv's CPU, extauth's peak
#             RSS.  BENCH_HANDLER picks the handler, a bash script either
#             way: "curl" (default) publishes with curl, two processes per
#             call as most users' handlers; "lean" speaks HTTP to
#             challtestsrv from bash itself (/dev/tcp), one process per
#             call: where the time goes once the hooks' start-up is cut.
#
# GNU time wraps extauth alone (drivers, Pebble not counted in wall/RSS).
#   EXTAUTH=/path/extauth   measure that binary as it is (no build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
workloads=("$@")
((${#workloads[@]} > 0)) || workloads=(names50 batch20 renew)
runs=${BENCH_RUNS:-5}
nren=${BENCH_N:-1000}
conc=${BENCH_CONC:-1 2 4 8 16}

if [[ -z ${EXTAUTH:-} ]]; then
	bash scripts/install-deps.sh --test </dev/null
	bash scripts/build.sh </dev/null
	EXTAUTH=$repo/build/extauth
fi
[[ -x /usr/bin/time ]] || { echo "bench: GNU time missing (apt-get install time)" >&2; exit 1; }

# shellcheck source=tests/lib/pebble.bash
source tests/lib/pebble.bash
state=$(mktemp -d "${TMPDIR:-/tmp}/extauth-many-bench.XXXXXX")
driver_pid=
cleanup() {
	[[ -z $driver_pid ]] || kill "$driver_pid" 2>/dev/null || true
	pebble_stop
	rm -rf -- "$state"
}
trap cleanup EXIT
pebble_start PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0

common=(--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE"
	--config-dir "$state/config" --work-dir "$state/work" --logs-dir "$state/logs"
	--agree-tos --email bench@example.com -n --preferred-challenges dns)

# timed ARGS...: extauth under GNU time; appends "wall maxrss user sys" to
# $state/times; a failure shows extauth's stderr and stops the bench.
timed() {
	/usr/bin/time -o "$state/times" -a -f "%e %M %U %S" "$EXTAUTH" "$@" \
		</dev/null >"$state/out" 2>"$state/err" || {
		echo "bench: extauth $* failed; its stderr:" >&2
		tail -n 20 "$state/err" >&2
		exit 1
	}
}
last() { tail -n 1 "$state/times" | cut -d' ' -f"$1"; }
median() { sort -n | sed -n "$((($1 + 1) / 2))p"; }
# cpu_of U S: user + system seconds, fields U and S (1-4: extauth's own,
# then its handlers') of the last run's -v "CPU:" line.
cpu_of() {
	sed -n 's/.*CPU: extauth \([0-9.]*\) s user, \([0-9.]*\) s system; handlers and hooks \([0-9.]*\) s user, \([0-9.]*\) s system.*/\1 \2 \3 \4/p' \
		"$state/err" | tail -n 1 | awk -v u="$1" -v s="$2" '{ print $u + $s }'
}
# cpu PID: its user+sys clock ticks so far.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# The persistent JSON driver on a socket, started once.
sock=$state/driver.sock
python3 examples/json-socket-driver.py "$sock" </dev/null >/dev/null 2>&1 &
driver_pid=$!
for ((i = 0; i < 100; i++)); do
	[[ -S $sock ]] && break
	sleep 0.05
done
[[ -S $sock ]] || { echo "bench: the socket driver did not start" >&2; exit 1; }

echo "warm-up: registering the account"
timed "${common[@]}" --socket "$sock" -d warmup.example.com certonly
: >"$state/times"

names50() {
	local d=() i
	for ((i = 1; i <= 50; i++)); do d+=(-d "n$i.many.example.com"); done
	timed "${common[@]}" --socket "$sock" "${d[@]}" certonly
	: >"$state/times"
	for ((i = 1; i <= runs; i++)); do
		timed "${common[@]}" --socket "$sock" "${d[@]}" --force-renewal certonly
	done
	printf 'names50: 1 certificate, 50 names, JSON over --socket: median %s s of %d runs (peak RSS %s KiB)\n' \
		"$(cut -d' ' -f1 "$state/times" | median "$runs")" "$runs" \
		"$(cut -d' ' -f2 "$state/times" | sort -n | tail -n 1)"
	: >"$state/times"
}

batch20() {
	local i b=$state/batch20.txt sum
	: >"$b"
	for ((i = 1; i <= 20; i++)); do printf 'b%d.many.example.com\n' "$i" >>"$b"; done
	# First issuance of each, then the timed forced renewals.
	timed "${common[@]}" --socket "$sock" --batch "$b" certonly
	: >"$state/times"
	# One at a time (--max-concurrent 1), then the default 8 orders in
	# flight on the one driver connection (replies FIFO, solver_mux.c).
	local c
	for c in 1 8; do
		for ((i = 1; i <= runs; i++)); do
			timed "${common[@]}" --socket "$sock" --batch "$b" --max-concurrent "$c" \
				--force-renewal certonly
		done
		printf 'batch20: one certonly --batch run of 20 at --max-concurrent %s: median %s s of %d runs (peak RSS %s KiB)\n' \
			"$c" "$(cut -d' ' -f1 "$state/times" | median "$runs")" "$runs" \
			"$(cut -d' ' -f2 "$state/times" | sort -n | tail -n 1)"
		: >"$state/times"
	done
	for ((i = 1; i <= 20; i++)); do
		timed "${common[@]}" --socket "$sock" -d "b$i.many.example.com" --force-renewal certonly
	done
	sum=$(awk '{ s += $1 } END { printf "%.2f", s }' "$state/times")
	printf 'batch20: 20 certonly runs: %s s in all\n' "$sum"
	: >"$state/times"
}

renew() {
	local h=$state/handler.sh cfg=$state/config c p0 c0 p1 c1 tick
	tick=$(getconf CLK_TCK)
	if [[ ${BENCH_HANDLER:-curl} == lean ]]; then
		# post PATH BODY: one HTTP/1.0 POST to challtestsrv from bash
		# itself (/dev/tcp), no process started.
		cat >"$h" <<'EOS'
#!/usr/bin/env bash
set -eu
post() {
	local hp=${CHALLTESTSRV_URL#http://} status
	exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}"
	printf 'POST /%s HTTP/1.0\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s' \
		"$1" "$hp" "${#2}" "$2" >&3
	IFS= read -r status <&3
	exec 3<&-
	[[ $status == "HTTP/1."?" 200"* ]]
}
case $1 in
perform) post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
EOS
	else
		cat >"$h" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
case $1 in
perform) post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
EOS
	fi
	chmod +x "$h"
	# Only these lineages are renewed: the other workloads' go.
	find "$cfg/renewal" -name '*.conf' -delete
	# One real handler-mode lineage, then BENCH_N copies of it under
	# their own names (domains, paths and name substituted in the conf).
	timed "${common[@]}" --handler "$h" -d seed.many.example.com certonly
	python3 - "$cfg" "$nren" <<'PY'
import os, sys
cfg, n = sys.argv[1], int(sys.argv[2])
seed = "seed.many.example.com"
conf = open(f"{cfg}/renewal/{seed}.conf").read()
files = sorted(os.listdir(f"{cfg}/archive/{seed}"))
for i in range(1, n + 1):
    name = f"r{i}.many.example.com"
    os.makedirs(f"{cfg}/archive/{name}", exist_ok=True)
    os.makedirs(f"{cfg}/live/{name}", exist_ok=True)
    for f in files:
        os.link(f"{cfg}/archive/{seed}/{f}", f"{cfg}/archive/{name}/{f}")
    for f in os.listdir(f"{cfg}/live/{seed}"):
        src = os.readlink(f"{cfg}/live/{seed}/{f}") if os.path.islink(f"{cfg}/live/{seed}/{f}") else None
        if src:
            os.symlink(src.replace(seed, name), f"{cfg}/live/{name}/{f}")
    with open(f"{cfg}/renewal/{name}.conf", "w") as fh:
        fh.write(conf.replace(seed, name))
os.unlink(f"{cfg}/renewal/{seed}.conf")
PY
	: >"$state/times"
	printf 'renew: %d handler-mode lineages, --force-renewal, %s handler\n' "$nren" "${BENCH_HANDLER:-curl}"
	# extauth_cpu: extauth itself; hooks_cpu: the handler processes it
	# waited for (its -v "CPU:" line, from getrusage).
	printf '%-6s %9s %9s %12s %10s %12s %10s %10s\n' conc wall_s per_s extauth_cpu hooks_cpu pebble_cpu chall_cpu rss_kib
	for c in $conc; do
		p0=$(cpu "$PEBBLE_PID")
		c0=$(cpu "$CHALLTESTSRV_PID")
		timed renew "${common[@]:0:8}" --no-random-sleep-on-renew --force-renewal \
			--deactivate-authz --max-concurrent "$c" -v
		p1=$(cpu "$PEBBLE_PID")
		c1=$(cpu "$CHALLTESTSRV_PID")
		grep -q "$nren lineages checked, $nren due, $nren renewed, 0 failed" "$state/err" || {
			echo "bench: renew at --max-concurrent $c did not renew all:" >&2
			tail -n 5 "$state/err" >&2
			exit 1
		}
		printf '%-6s %9s %9.1f %12.2f %10.2f %12.2f %10.2f %10s\n' "$c" "$(last 1)" \
			"$(awk -v n="$nren" -v w="$(last 1)" 'BEGIN { print n / w }')" \
			"$(cpu_of 1 2)" "$(cpu_of 3 4)" \
			"$(awk -v a="$p0" -v b="$p1" -v t="$tick" 'BEGIN { print (b - a) / t }')" \
			"$(awk -v a="$c0" -v b="$c1" -v t="$tick" 'BEGIN { print (b - a) / t }')" \
			"$(last 2)"
	done
}

for w in "${workloads[@]}"; do
	case $w in
	names50 | batch20 | renew) "$w" ;;
	*) echo "usage: $0 [names50|batch20|renew]..." >&2; exit 2 ;;
	esac
done
