#!/usr/bin/env bats
# chains.bats: alternate chains (RFC 8555 §7.4.2) against Debian unstable's
# Pebble 2.10 started with PEBBLE_ALTERNATE_ROOTS=2 (three roots, each with
# its own chain of PEBBLE_CHAIN_LENGTH=3: leaf and two intermediates).  The
# download names the other chains in Link: rel="alternate".
# --preferred-chain "CN", certbot's rule: the chain whose topmost issuer CN
# is CN, else the default; recorded in the renewal conf, reused by renew.

# stderr is set by bats' run --separate-stderr.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR common_setup_file \
		PEBBLE_ALTERNATE_ROOTS=2 PEBBLE_CHAIN_LENGTH=3
	local i
	for i in 0 1 2; do
		curl -fsS --cacert "$PEBBLE_CA_BUNDLE" -o "$BATS_FILE_TMPDIR/root$i.pem" \
			"$PEBBLE_MGMT_URL/roots/$i"
	done
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

# root_cn N: the subject CN of Pebble's root N.
root_cn() {
	openssl x509 -in "$BATS_FILE_TMPDIR/root$1.pem" -noout -subject -nameopt multiline |
		sed -n 's/^ *commonName *= *//p'
}

# top_issuer NAME: the issuer CN of the last certificate of the live chain.
top_issuer() {
	local last=$BATS_TEST_TMPDIR/last.pem
	awk '/BEGIN CERT/ {buf = ""} {buf = buf $0 "\n"} /END CERT/ {last = buf} END {printf "%s", last}' \
		"$CFG/live/$1/fullchain.pem" >"$last"
	openssl x509 -in "$last" -noout -issuer -nameopt multiline | sed -n 's/^ *commonName *= *//p'
}

# verifies NAME N: the live certificate verifies up to root N only.
verifies() {
	openssl verify -CAfile "$BATS_FILE_TMPDIR/root$2.pem" \
		-untrusted "$CFG/live/$1/chain.pem" "$CFG/live/$1/cert.pem"
}

@test "chains: the roots differ and the default chain leads to root 0" {
	local r0 r1 r2
	r0=$(root_cn 0) r1=$(root_cn 1) r2=$(root_cn 2)
	[ -n "$r0" ] && [ "$r0" != "$r1" ] && [ "$r1" != "$r2" ] && [ "$r0" != "$r2" ]
	ext_run -d default.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	[ "$(top_issuer default.example.com)" = "$r0" ]
	verifies default.example.com 0
	run ! grep -q "^preferred_chain" "$CFG/renewal/default.example.com.conf"
}

@test "chains: --preferred-chain picks the alternate chain to that root, recorded and reused by renew" {
	local r2
	r2=$(root_cn 2)
	ext_run -d alt.example.com --preferred-challenges dns --preferred-chain "$r2" certonly
	[ "$status" -eq 0 ]
	[ "$(top_issuer alt.example.com)" = "$r2" ]
	verifies alt.example.com 2
	run ! verifies alt.example.com 0
	[[ $stderr == *"(--preferred-chain) is https://"* ]]
	grep -qxF "preferred_chain = $r2" "$CFG/renewal/alt.example.com.conf"
	# The fullchain is the certificate and that chain, in order.
	[ "$(cat "$CFG/live/alt.example.com/cert.pem" "$CFG/live/alt.example.com/chain.pem" | md5sum)" = \
		"$(md5sum <"$CFG/live/alt.example.com/fullchain.pem")" ]
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --cert-name alt.example.com --force-renewal
	show
	[ "$status" -eq 0 ]
	[ "$(readlink "$CFG/live/alt.example.com/cert.pem")" = ../../archive/alt.example.com/cert2.pem ]
	[ "$(top_issuer alt.example.com)" = "$r2" ]
	verifies alt.example.com 2
}

@test "chains: renew --preferred-chain replaces the recorded choice" {
	local r1 r2
	r1=$(root_cn 1) r2=$(root_cn 2)
	ext_run -d swap.example.com --preferred-challenges dns --preferred-chain "$r2" certonly
	[ "$status" -eq 0 ]
	[ "$(top_issuer swap.example.com)" = "$r2" ]
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --cert-name swap.example.com --force-renewal --preferred-chain "$r1"
	show
	[ "$status" -eq 0 ]
	[ "$(top_issuer swap.example.com)" = "$r1" ]
	verifies swap.example.com 1
	grep -qxF "preferred_chain = $r1" "$CFG/renewal/swap.example.com.conf"
}

@test "chains: a CN no chain leads to keeps the default chain, with a warning" {
	ext_run -d unknown.example.com --preferred-challenges dns --preferred-chain "No Such Root, Inc." certonly
	[ "$status" -eq 0 ]
	[ "$(top_issuer unknown.example.com)" = "$(root_cn 0)" ]
	verifies unknown.example.com 0
	[[ $stderr == *'no chain the CA offers leads to "No Such Root, Inc." (--preferred-chain); keeping the default chain'* ]]
	# A comma is quoted in the conf, so certbot and renew read one value.
	grep -qxF 'preferred_chain = "No Such Root, Inc."' "$CFG/renewal/unknown.example.com.conf"
}

@test "chains: certonly --csr --preferred-chain saves the chain to that root" {
	local t=$BATS_TEST_TMPDIR r1
	r1=$(root_cn 1)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/key.pem" \
		-out "$t/csr.pem" -subj /CN=csr.example.com -addext subjectAltName=DNS:csr.example.com 2>/dev/null
	ext_run certonly --csr "$t/csr.pem" --preferred-challenges dns --preferred-chain "$r1" \
		--cert-path "$t/cert.pem" --chain-path "$t/chain.pem" --fullchain-path "$t/full.pem"
	[ "$status" -eq 0 ]
	openssl verify -CAfile "$BATS_FILE_TMPDIR/root1.pem" -untrusted "$t/chain.pem" "$t/cert.pem"
	run ! openssl verify -CAfile "$BATS_FILE_TMPDIR/root0.pem" -untrusted "$t/chain.pem" "$t/cert.pem"
}

@test "chains: a bad --preferred-chain is a usage error before the CA" {
	ext_direct certonly -d x.example.com --preferred-chain '' --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	[[ $stderr == *"--preferred-chain is 1 to 256 bytes of text"* ]]
	ext_direct certonly -d x.example.com --preferred-chain ' ISRG Root X1' --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	ext_direct certonly -d x.example.com --preferred-chain $'A\tB' --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	ext_direct certonly -d x.example.com --preferred-chain "A's \"B\"" --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	# One kind of quote is fine (the conf quotes it with the other).
	ext_direct certonly -d x.example.com --preferred-chain "A's B" --server https://127.0.0.1:1/dir
	[ "$status" -ne 2 ]
}
