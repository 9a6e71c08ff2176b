#!/usr/bin/env bash
# install-deps.sh [--demo|--test]: install what building needs, and with
# --demo what the demo needs (a local Pebble and the example invoker), with
# --test what every test needs, on Debian 12.  Runs apt only when something
# is missing, so repeated runs are fast and work offline.
set -euo pipefail

# scdoc: the man pages (man/meson.build).
build_pkgs=(build-essential meson ninja-build pkg-config
	libcurl4-openssl-dev libssl-dev libjansson-dev libcmocka-dev libidn2-dev
	scdoc)
# time: GNU /usr/bin/time for bench/issue.sh.  bind9/nginx-light/certbot/
# dehydrated are used by other test suites (interop, DNS server); tmux gives
# textmode.bats a real terminal.  debhelper/lintian/debootstrap: the
# package test (tests/package/deb.bats builds the .deb and installs it into
# a debootstrap chroot).  bash-completion, zsh, fish and man-db: docs.bats
# checks the completions and man pages with the real tools.  clang +
# libclang-rt-14-dev (libFuzzer) build the fuzz harnesses (scripts/fuzz.sh);
# valgrind runs the unit tests.  ansible-core (2.14, 8 packages, about
# 10 s to fetch and unpack): ansible.bats runs contrib/ansible's playbooks.
# python3-jsonschema: tests/lib/schema.py checks every JSON line against
# doc/protocol.schema.json.  iproute2: authns.bats gives its two BIND
# instances loopback addresses.
test_pkgs=(pebble bats jq curl python3 python3-jsonschema openssl bind9 bind9-dnsutils iproute2
	nginx-light certbot dehydrated time ca-certificates tmux
	debhelper lintian debootstrap bash-completion zsh fish man-db
	clang libclang-rt-14-dev valgrind ansible-core)

pkgs=("${build_pkgs[@]}")
demo_pkgs=(pebble jq curl python3 openssl ca-certificates)

case ${1:-} in
--test) pkgs+=("${test_pkgs[@]}") ;;
--demo) pkgs+=("${demo_pkgs[@]}") ;;
"") ;;
*) echo "usage: $0 [--demo|--test]" >&2; exit 2 ;;
esac

# A package counts as present only if dpkg says "install ok installed".
missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"

sudo=()
((EUID == 0)) || sudo=(sudo)

# Installing bind9/nginx would start their system services, which then hold
# ports 53/80 and outlive the run.  A policy-rc.d answering 101 ("action
# forbidden") makes invoke-rc.d skip the start; remove it again on exit,
# unless one already existed (then it is not ours to touch).
policy=/usr/sbin/policy-rc.d
own_policy=
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 755 "$policy"
	own_policy=1
fi
cleanup() { [[ -z $own_policy ]] || "${sudo[@]}" rm -f "$policy"; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# </dev/null: CI has no stdin, and nothing here may ever wait for a prompt.
"${sudo[@]}" apt-get update -q </dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}" </dev/null
