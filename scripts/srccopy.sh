#!/usr/bin/env bash
# srccopy.sh DEST: copy this checkout's source (tracked and new files, not
# ignored ones such as build trees) to DEST, for builds and tests that must
# not touch the checkout's own build directories (scripts/deb.sh,
# tests/package).  A file deleted but not yet committed is skipped.
set -euo pipefail
(($# == 1)) || { echo "usage: $0 DEST" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$1
mkdir -p "$dest"
git -C "$root" ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		[[ ! -e $root/$f ]] || printf '%s\0' "$f"
	done |
	tar -C "$root" --null -T - -cf - | tar -C "$dest" -xf -
