# shellcheck shell=bash
# srccopy.bash: a copy of this checkout's source (tracked and new files,
# not ignored ones such as build trees), for tests that configure or build
# it: the checkout's own build directories must not change under them.
#   srccopy DIR

srccopy() {
	local root dest=$1
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	mkdir -p "$dest"
	# a file deleted but not yet committed is listed and skipped
	git -C "$root" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[[ ! -e $root/$f ]] || printf '%s\0' "$f"
		done |
		tar -C "$root" --null -T - -cf - | tar -C "$dest" -xf -
}
