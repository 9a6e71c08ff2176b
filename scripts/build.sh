#!/usr/bin/env bash
# build.sh: configure (first time) or reconfigure, then build two trees:
#   build/      release build, the binary users run and benchmarks measure
#   build-asan/ debug build with ASan+UBSan for the test runs
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# setup_or_reconfigure DIR MESON_OPTIONS...
# (explicit "|| return 1": set -e is off inside a function called with ||)
setup_or_reconfigure() {
	local dir=$1
	shift
	if [[ -f $dir/build.ninja ]]; then
		# --reconfigure re-applies the options, so changing them here works.
		meson setup --reconfigure "$dir" "$@" || return 1
	elif [[ -d $dir/meson-private ]]; then
		# A half-made directory (a first setup that failed): start over.
		meson setup --wipe "$dir" "$@" || return 1
	else
		meson setup "$dir" "$@" || return 1
	fi
	ninja -C "$dir"
}

# Build both trees even if the first fails: the log then shows every error
# (a release-only -O3 warning differs from a debug one).
rc=0
setup_or_reconfigure build --buildtype=release || rc=1
# b_lundef=false: required with sanitizers (their runtime provides symbols
# at load time).
setup_or_reconfigure build-asan --buildtype=debug \
	-Db_sanitize=address,undefined -Db_lundef=false || rc=1
exit "$rc"
