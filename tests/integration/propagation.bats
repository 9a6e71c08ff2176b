#!/usr/bin/env bats
# propagation.bats: --dns-wait, the one wait for the whole order between
# "the outside party says it deployed" and "the CA is asked to look".
# The handler here stands for a slow DNS provider: it accepts the record
# and returns at once, and the record shows up in DNS a moment later.
# Pebble (PEBBLE_VA_NOSLEEP=1) validates at once, so without the wait the
# CA finds nothing.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_AUTHZREUSE=0
	local h=$BATS_FILE_TMPDIR/slow-provider.sh
	cat >"$h" <<'EOS'
#!/bin/bash
# Publishes after $DELAY seconds in the background, like a provider whose
# API answers before its nameservers have the record.
api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
case "$1" in
perform)
	(sleep "$DELAY"; api set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}") \
		</dev/null >/dev/null 2>&1 &
	;;
cleanup) api clear-txt "{\"host\":\"$txt_domain.\"}" ;;
esac
exit 0
EOS
	chmod +x "$h"
	export SLOW=$h
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

@test "without --dns-wait a slow provider loses the race: exit 4" {
	DELAY=1 ext_direct "${COMMON[@]}" -d nowait.example.com \
		--preferred-challenges dns --handler "$SLOW" certonly
	[ "$status" -eq 4 ]
}

@test "--dns-wait waits once for every record, then the CA validates" {
	local a=wait1.example.com b=wait2.example.com
	DELAY=1 ext_direct "${COMMON[@]}" -d "$a" -d "$b" --deactivate-authz \
		--preferred-challenges dns --handler "$SLOW" \
		--dns-wait 20 --dns-resolver "127.0.0.1:$PEBBLE_DNS_PORT" certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *"_acme-challenge.$a: the TXT record is visible"* ]]
	[[ $stderr == *"_acme-challenge.$b: the TXT record is visible"* ]]
	# renew does it the same way: recorded in the conf
	grep -q '^extauth_dns_wait = 20$' "$CFG/renewal/$a.conf"
	grep -q "^extauth_dns_resolver = 127.0.0.1:$PEBBLE_DNS_PORT\$" "$CFG/renewal/$a.conf"
	DELAY=1 run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" renew \
		"${DIRS[@]}" --force-renewal --deactivate-authz </dev/null
	show
	[ "$status" -eq 0 ]
	[[ $stderr == *"_acme-challenge.$a: the TXT record is visible"* ]]
	[ -f "$CFG/archive/$a/cert2.pem" ]
}

@test "--dns-wait gives up after its time with a warning and asks the CA anyway" {
	local t0 t1
	t0=$(date +%s)
	DELAY=4 ext_direct "${COMMON[@]}" -d late.example.com \
		--preferred-challenges dns --handler "$SLOW" \
		--dns-wait 1 --dns-resolver "127.0.0.1:$PEBBLE_DNS_PORT" certonly
	t1=$(date +%s)
	[ "$status" -eq 4 ]
	[[ $stderr == *"timed out after 1 s waiting for DNS propagation: 1 TXT record still not visible; asking the CA anyway"* ]]
	((t1 - t0 < 4))
}

@test "--dns-resolver must be IPv4[:PORT]" {
	ext_direct -d x.example.com --dns-resolver "ns1.example.com" certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"--dns-resolver"* ]]
}
