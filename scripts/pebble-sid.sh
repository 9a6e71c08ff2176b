#!/usr/bin/env bash
# pebble-sid.sh [CACHE_DIR]: fetch Debian unstable's pebble (2.10: ARI,
# profiles, dns-account-01, dns-persist-01) without touching the system's
# apt configuration, and unpack it into CACHE_DIR (default
# /var/cache/extauth-test/pebble-sid).  Prints the directory holding the
# pebble and pebble-challtestsrv binaries.
#
# The way a careful admin does it on Debian 12: a private sources list for
# suite sid, naming the mirror that the machine's own apt sources name, used
# only through -o Dir::Etc::SourceList/Dir::State::Lists for one
# `apt-get download`; then `dpkg-deb -x`.  sid is never added to the
# system's sources and nothing is installed.  The binary depends only on
# libc6 >= 2.34, so it runs on Debian 12.  A second run with the package
# already unpacked does nothing (works offline).
set -euo pipefail
cache=${1:-/var/cache/extauth-test/pebble-sid}
bin=$cache/usr/bin
if [[ -x $bin/pebble && -x $bin/pebble-challtestsrv ]]; then
	echo "$bin"
	exit 0
fi

# The mirror the machine's own sources name: the first http(s) URI of a
# Debian main archive in deb822 (URIs:) or one-line (deb URL suite) form.
mirror=$(
	{ grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
	  grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
		awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; break}}'
	} | grep -v -- '-security' | grep -m1 '/debian/\?$' || true)
if [[ -z $mirror ]]; then
	echo "pebble-sid: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2
	echo "pebble-sid: add the machine's Debian mirror, or unpack pebble into $cache by hand" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pebble-sid.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
	"$mirror" >"$tmp/sources.list"
opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=-"
	-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -q)
apt-get "${opts[@]}" update </dev/null >"$tmp/update.log" 2>&1 || {
	cat "$tmp/update.log" >&2
	echo "pebble-sid: apt-get update of sid from $mirror failed" >&2
	exit 1
}
(cd "$tmp" && apt-get "${opts[@]}" download pebble </dev/null >"$tmp/download.log" 2>&1) || {
	cat "$tmp/download.log" >&2
	echo "pebble-sid: apt-get download pebble from sid failed" >&2
	exit 1
}
deb=$(ls "$tmp"/pebble_*.deb)
mkdir -p "$cache"
dpkg-deb -x "$deb" "$cache"
cp "$deb" "$cache/"
echo "$bin"
