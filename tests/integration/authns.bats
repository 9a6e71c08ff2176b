#!/usr/bin/env bats
# authns.bats: --dns-wait asks the zone's authoritative nameservers, found
# from --dns-resolver through SOA and NS lookups (as lego does), and waits
# until every one of them serves the record.  Two real BIND 9 instances are
# the nameservers of auth.test (ns1 and ns2 on two loopback addresses of
# their own, 127.R.R.2 and 127.R.R.3, added to lo for the run and removed
# after it, since named listens only on an interface's addresses; the same
# free port on both, EXTAUTH_DNS_AUTH_PORT); the handler is a DNS provider whose
# update reaches ns1 at once and ns2 $DELAY seconds later.  Pebble resolves
# through ns2, the late one, so a wait that trusts the first nameserver (the
# resolver it was given) lets the CA look too early.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

ZONE=auth.test

# _free_port_both: a port free for TCP and UDP on $NS1 and $NS2.
_free_port_both() {
	python3 - "$NS1" "$NS2" <<'PY'
import socket, sys
a1, a2 = sys.argv[1], sys.argv[2]
for _ in range(50):
    t = socket.socket()
    t.bind((a1, 0))
    port = t.getsockname()[1]
    socks = [t]
    ok = True
    for addr, kind in ((a1, socket.SOCK_DGRAM),
                       (a2, socket.SOCK_STREAM),
                       (a2, socket.SOCK_DGRAM)):
        s = socket.socket(socket.AF_INET, kind)
        socks.append(s)
        try:
            s.bind((addr, port))
        except OSError:
            ok = False
            break
    for s in socks:
        s.close()
    if ok:
        print(port)
        break
else:
    raise SystemExit("no free port")
PY
}

# _named ADDR DIR: a BIND primary of $ZONE on ADDR:$NS_PORT, updates by TSIG.
_named() {
	local addr=$1 dir=$2 i
	mkdir -p "$dir"
	cat >"$dir/db.zone" <<ZONEFILE
\$TTL 60
@	IN SOA	ns1.$ZONE. hostmaster.$ZONE. 1 60 60 600 60
@	IN NS	ns1.$ZONE.
@	IN NS	ns2.$ZONE.
ns1	IN A	$NS1
ns2	IN A	$NS2
ZONEFILE
	cat >"$dir/named.conf" <<CONF
include "$NS_KEYFILE";
controls { };
options {
	directory "$dir";
	pid-file "$dir/named.pid";
	session-keyfile "$dir/session.key";
	managed-keys-directory "$dir";
	listen-on port $NS_PORT { $addr; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
zone "$ZONE" {
	type master;
	file "$dir/db.zone";
	allow-update { key extauth-key; };
};
CONF
	# 3>&-: bats waits for every holder of its fd 3.
	named -g -4 -u root -c "$dir/named.conf" >"$dir/named.log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	for ((i = 0; i < 150; i++)); do
		# +short prints "connection timed out" on stdout too: match the SOA.
		if dig +norecurse +time=1 +tries=1 +short @"$addr" -p "$NS_PORT" SOA "$ZONE" 2>/dev/null | grep -q "^ns1\.$ZONE\. "; then
			return 0
		fi
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "named on $addr:$NS_PORT did not start; log follows" >&2
	cat "$dir/named.log" >&2
	return 1
}

setup_file() {
	load ../lib/common
	# Two loopback addresses no one else uses, so that parallel runs and
	# the other test files (127.0.0.1) never meet them.
	local r i
	for ((i = 0; i < 20; i++)); do
		r=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
		ip -4 addr show dev lo | grep -q " inet $r\." || break
	done
	NS1=$r.2 NS2=$r.3
	export NS1 NS2
	if ! ip addr add "$NS1/32" dev lo || ! ip addr add "$NS2/32" dev lo; then
		echo "authns.bats: cannot add $NS1 and $NS2 to lo (needs root with CAP_NET_ADMIN)" >&2
		return 1
	fi
	NS_DIR=$BATS_FILE_TMPDIR/ns
	mkdir -p "$NS_DIR"
	NS_KEYFILE=$NS_DIR/key.conf
	tsig-keygen -a hmac-sha256 extauth-key >"$NS_KEYFILE"
	NS_PORT=$(_free_port_both)
	export NS_DIR NS_KEYFILE NS_PORT
	_named "$NS1" "$NS_DIR/ns1"
	_named "$NS2" "$NS_DIR/ns2"
	# The CA asks the late nameserver.
	PEBBLE_DNS_SERVER="$NS2:$NS_PORT" common_setup_file PEBBLE_AUTHZREUSE=0
	local h=$BATS_FILE_TMPDIR/provider.sh
	cat >"$h" <<'EOS'
#!/bin/bash
# update ADDR LINE: one RFC 2136 update of ADDR.
update() {
	printf 'server %s %s\nzone auth.test\n%s\nsend\n' "$1" "$NS_PORT" "$2" |
		nsupdate -k "$NS_KEYFILE"
}
case "$1" in
perform)
	update "$NS1" "update add $txt_domain. 60 IN TXT \"$validation\""
	(sleep "$DELAY"; update "$NS2" "update add $txt_domain. 60 IN TXT \"$validation\"") \
		</dev/null >/dev/null 2>&1 &
	;;
cleanup)
	# dns-01 cleanup lines name no txt_domain: derive it, as the seed did.
	txt_domain=${txt_domain:-_acme-challenge.$domain}
	update "$NS1" "update delete $txt_domain. TXT"
	update "$NS2" "update delete $txt_domain. TXT"
	;;
esac
exit 0
EOS
	chmod +x "$h"
	export PROVIDER=$h
}

teardown_file() {
	load ../lib/common
	pebble_stop
	local d pid
	for d in ns1 ns2; do
		pid=$(cat "$NS_DIR/$d/pid" 2>/dev/null) || continue
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	ip addr del "$NS1/32" dev lo 2>/dev/null || true
	ip addr del "$NS2/32" dev lo 2>/dev/null || true
}

setup() {
	load ../lib/common
	common_setup
	export EXTAUTH_DNS_AUTH_PORT=$NS_PORT
}

# txt ADDR NAME: the TXT strings ADDR serves at NAME.
txt() { dig +norecurse +short -p "$NS_PORT" @"$1" TXT "$2" | tr -d '"'; }

@test "the race is real: without --dns-wait the CA asks ns2 before it has the record (exit 4)" {
	DELAY=2 ext_direct "${COMMON[@]}" -d a.sub.$ZONE --preferred-challenges dns \
		--handler "$PROVIDER" certonly
	[ "$status" -eq 4 ]
	# Pebble reached ns2, which did not have the record yet.
	[[ $stderr != *"connection refused"* ]]
}

@test "--dns-wait waits until both authoritative nameservers serve the record; the resolver alone had it first" {
	DELAY=2 ext_direct "${COMMON[@]}" -v -v -d b.sub.$ZONE --preferred-challenges dns \
		--handler "$PROVIDER" --dns-wait 30 --dns-resolver "$NS1:$NS_PORT" certonly
	[ "$status" -eq 0 ]
	# The zone was found above the name, and ns2 was asked directly.
	[[ $stderr == *"_acme-challenge.b.sub.$ZONE: not visible yet (ns2.$ZONE does not serve it yet: "* ]]
	[[ $stderr == *"self-check TXT _acme-challenge.b.sub.$ZONE: served by all 2 nameservers of $ZONE"* ]]
	[[ $stderr == *"_acme-challenge.b.sub.$ZONE: the TXT record is visible"* ]]
	# The resolver given had it from the start: asking only it was not enough.
	[[ $stderr != *"ns1.$ZONE does not serve it yet"* ]]
	# Cleanup removed it from both.
	[ -z "$(txt "$NS1" "_acme-challenge.b.sub.$ZONE")" ]
	[ -z "$(txt "$NS2" "_acme-challenge.b.sub.$ZONE")" ]
}

@test "--dns-wait gives up after its time and names the nameserver that lacks the record" {
	DELAY=5 ext_direct "${COMMON[@]}" -v -v -d c.sub.$ZONE --preferred-challenges dns \
		--handler "$PROVIDER" --dns-wait 1 --dns-resolver "$NS1:$NS_PORT" certonly
	[ "$status" -eq 4 ]
	[[ $stderr == *"ns2.$ZONE does not serve it yet: "* ]]
	[[ $stderr == *"timed out after 1 s waiting for DNS propagation: 1 TXT record still not visible; asking the CA anyway"* ]]
}
