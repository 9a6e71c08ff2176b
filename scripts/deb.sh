#!/usr/bin/env bash
# deb.sh [OUTDIR]: build the Debian package (debian/) from a copy of the
# source, so the checkout stays clean, and put extauth_*.deb in OUTDIR
# (default build-deb/).  Prints the .deb's path as its last line.
# Needs the build dependencies of debian/control and dpkg-dev/debhelper
# (scripts/install-deps.sh --test installs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$(realpath -m "${1:-build-deb}")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/extauth-deb.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
bash scripts/srccopy.sh "$tmp/extauth"
# -b: binary only; -us -uc: unsigned.  The log stays quiet unless it fails.
if ! (cd "$tmp/extauth" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 </dev/null; then
	tail -n 40 "$tmp/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed (last 40 lines above)" >&2
	exit 1
fi
mkdir -p "$out"
debs=("$tmp"/extauth_*.deb)
cp -- "${debs[@]}" "$out/"
echo "$out/${debs[0]##*/}"
