#!/usr/bin/env bats
# names.bats: lineage names and renewal-conf values are checked before any
# request to the CA (issue 11 item 8).  No Pebble: the --server is a local
# listener that records every connection, so "nothing reached the CA" is
# checked, not assumed, and each refusal must be the usage error (exit 2)
# or the lineage's own failure, never a network error.
#
# Exit codes: 2 usage, 8 some lineages failed.

bats_require_minimum_version 1.5.0

setup() {
	load ../lib/common
	common_setup
	# A TCP listener standing in for the CA: it logs one line per
	# connection and never answers.
	HITS=$BATS_TEST_TMPDIR/hits
	: >"$HITS"
	python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
while True:
    c, _ = s.accept()
    with open(sys.argv[1], "a") as f:
        f.write("hit\n")
    c.close()
' "$HITS" >"$BATS_TEST_TMPDIR/port" &
	LISTENER=$!
	local i
	for i in $(seq 50); do
		[[ -s $BATS_TEST_TMPDIR/port ]] && break
		sleep 0.1
	done
	SERVER=https://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")/dir
	ARGS=(--server "$SERVER" "${DIRS[@]}" --agree-tos
		--email t@example.com -n)
}

teardown() {
	kill "$LISTENER" 2>/dev/null || true
	wait "$LISTENER" 2>/dev/null || true
}

# no_ca_contact: the listener saw no connection.
no_ca_contact() {
	[[ ! -s $HITS ]] || { echo "the CA was contacted" >&2; return 1; }
}

@test "the listener does record a connection (the check can fail)" {
	ext_direct "${ARGS[@]}" --dns-wait 0 certonly -d ok.example.com \
		--handler /bin/true
	[[ -s $HITS ]]
}

@test "certonly --cert-name with '..', '/', a leading dot: exit 2, two lines, no request" {
	local name
	for name in .. ../x a/b .hidden; do
		ext_direct "${ARGS[@]}" certonly -d a.example.com --cert-name "$name"
		[[ $status -eq 2 ]]
		grep -q -- "--cert-name: not a valid certificate name" <<<"$stderr"
		grep -q -- "give --cert-name NAME" <<<"$stderr"
		[[ -z $output ]]
	done
	no_ca_contact
}

@test "a 251-character name derived from -d is refused before the CA, not after issuance" {
	local l63 dom
	l63=$(printf 'a%.0s' $(seq 63))
	dom=$l63.$l63.$l63.$(printf 'b%.0s' $(seq 56)).io	# 251 characters
	[[ ${#dom} -eq 251 ]]
	ext_direct "${ARGS[@]}" certonly -d "$dom"
	[[ $status -eq 2 ]]
	grep -q "taken from the first -d is not valid (longer than 250" <<<"$stderr"
	no_ca_contact
	# ... while --cert-name gives the same names a usable lineage name:
	# it gets past the check and so reaches the listener.
	ext_direct "${ARGS[@]}" certonly -d "$dom" --cert-name long \
		--handler /bin/true
	[[ $status -ne 2 ]]
	[[ -s $HITS ]]
}

@test "renew, revoke, delete, certificates: a bad --cert-name is exit 2 with no request" {
	ext_direct "${ARGS[@]}" renew --cert-name ../../etc
	[[ $status -eq 2 ]]
	grep -q -- "--cert-name: not a valid certificate name" <<<"$stderr"
	ext_direct "${ARGS[@]}" revoke --cert-name ..
	[[ $status -eq 2 ]]
	ext_direct "${ARGS[@]}" delete --cert-name a/b
	[[ $status -eq 2 ]]
	ext_direct "${DIRS[@]}" certificates --cert-name .x
	[[ $status -eq 2 ]]
	grep -q -- "give --cert-name NAME" <<<"$stderr"
	no_ca_contact
}

@test "renewal conf values get the command line's checks; the error names the key, never the value" {
	mkdir -p "$CFG/renewal"
	local conf=$CFG/renewal/x.example.com.conf
	# One bad value per case; the rest is a conf extauth would write.
	local -a cases=(
		"extauth_domains = x.example.com,../../SECRET-etc"
		"extauth_dns_wait = 99999999999999999999SECRET"
		"rsa_key_size = 1024SECRET"
		"extauth_mode = SECRETshell"
		"elliptic_curve = SECRET"
		"pref_challs = dns-01, SECRET-01"
	)
	local c key
	for c in "${cases[@]}"; do
		key=${c%% =*}
		cat >"$conf" <<CONF
version = 2.1.0
[renewalparams]
account = 0123456789abcdef
server = $SERVER
authenticator = extauth
extauth_mode = handler
extauth_handler = /bin/true
extauth_domains = x.example.com
$c
CONF
		# configobj refuses a duplicate key: drop the good line when
		# the case replaces it.
		if [[ $key == extauth_domains || $key == extauth_mode ]]; then
			sed -i "0,/^$key = /{/^$key = /d}" "$conf"
		fi
		ext_direct "${ARGS[@]}" renew
		[[ $status -eq 8 ]]
		grep -q "x.example.com: $key in the renewal conf" <<<"$stderr"
		! grep -q SECRET <<<"$stderr" || false
		[[ -s $LOGS/extauth.log ]]
		! grep -q SECRET "$LOGS/extauth.log" || false
	done
	# The server must be https, as on the command line.
	sed -i "s|^server = .*|server = http://127.0.0.1:1/dir|" "$conf"
	sed -i '/SECRET/d' "$conf"
	ext_direct "${ARGS[@]}" renew
	[[ $status -eq 8 ]]
	grep -q "x.example.com: server in the renewal conf is not an https:// URL" <<<"$stderr"
	no_ca_contact
}
