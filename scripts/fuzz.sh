#!/usr/bin/env bash
# fuzz.sh [SECONDS] [HARNESS...]: build the libFuzzer harnesses (fuzz/) in
# fuzz-build/ (clang, -Dfuzz=true, ASan+UBSan) and run each for SECONDS
# (default 10) on a copy of its seed corpus fuzz/corpus/NAME, so the repo's
# corpus stays small.  CI (scripts/test.sh) runs it for a few seconds each.
#   one line per harness: NAME: ok|CRASH, executions, exec/s, corpus size
#   last line: "N passed, N failed" (a harness fails on any crash, leak,
#   sanitizer report or timeout; its input is kept in fuzz-build/artifacts/
#   and the report is shown).
# FUZZ_JOBS=N runs N harnesses at once (default 1: CPU is shared).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs=${1:-10}
shift || true
[[ $secs =~ ^[0-9]+$ ]] || {
	echo "fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2
	echo "usage: scripts/fuzz.sh [SECONDS] [HARNESS...]" >&2
	exit 2
}
command -v clang >/dev/null || {
	echo "fuzz.sh: clang is not installed" >&2
	echo "run scripts/install-deps.sh --test" >&2
	exit 2
}

tree=fuzz-build
# werror=false: clang warns where gcc (the CI compiler, -Werror there) does
# not, e.g. -Wformat-nonliteral in log.c; the harnesses are not the place
# to enforce clang cleanliness.
opts=(-Dfuzz=true -Dtests=false -Dwerror=false --buildtype=debugoptimized
	-Db_sanitize=address,undefined -Db_lundef=false)
mkdir -p "$tree"
blog=$tree/build.log
if ! {
	if [[ -f $tree/build.ninja ]]; then
		meson setup --reconfigure "$tree" "${opts[@]}"
	else
		[[ -d $tree/meson-private ]] && rm -rf -- "$tree/meson-private"
		CC=clang meson setup "$tree" "${opts[@]}"
	fi && ninja -C "$tree"
} >"$blog.tmp" 2>&1; then
	mv -f -- "$blog.tmp" "$blog"
	echo "fuzz.sh: building the harnesses failed ($blog):"
	grep -E -A5 'error|ERROR' "$blog" | head -40
	echo "0 passed, 1 failed"
	exit 1
fi
mv -f -- "$blog.tmp" "$blog"

if (($# == 0)); then
	for f in fuzz/fuzz_*.c; do
		f=${f#fuzz/fuzz_}
		set -- "$@" "${f%.c}"
	done
fi

mkdir -p "$tree/artifacts" "$tree/corpus"
passed=0 failed=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for h in "$@"; do
	bin=$tree/fuzz/fuzz_$h log=$tree/fuzz_$h.log rc=0
	[[ -x $bin ]] || { echo "$h: no such harness ($bin)"; failed=$((failed + 1)); continue; }
	mkdir -p "$tree/corpus/$h"
	# -close_fd_mask=2: the parsers log every refusal to stderr, which
	# would dominate the run; libFuzzer keeps its own output and the
	# sanitizer reports on a duplicate of stderr.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$tree/artifacts/$h-" \
		"$tree/corpus/$h" "fuzz/corpus/$h" </dev/null >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	units=$(find "$tree/corpus/$h" -type f | wc -l)
	if ((rc == 0)); then
		passed=$((passed + 1))
		printf '%s: ok, %s executions, %s exec/s, corpus %s\n' "$h" "${execs:-?}" "${rate:-?}" "$units"
	else
		failed=$((failed + 1))
		printf '%s: CRASH (exit %s) after %s executions\n' "$h" "$rc" "${execs:-?}"
		grep -E -A30 'ERROR|runtime error|SUMMARY|Test unit written|deadly signal' "$log" | head -60
	fi
done
echo "$passed passed, $failed failed"
((failed == 0))
