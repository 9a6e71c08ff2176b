#!/usr/bin/env bats
# keys.bats: the certificate key across renewals (certbot's --reuse-key,
# --no-reuse-key and --new-key, recorded as reuse_key in the renewal conf).

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR common_setup_file PEBBLE_AUTHZREUSE=100
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

# pub NAME N: the public key of archive version N of lineage NAME.
pub() {
	openssl pkey -in "$CFG/archive/$1/privkey$2.pem" -pubout
}

# renew_force NAME ARGS...: renew that lineage now.
renew_force() {
	local name=$1
	shift
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --cert-name "$name" --force-renewal "$@"
	show
}

@test "keys: without --reuse-key every renewal has a new key" {
	ext_run -d fresh.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	renew_force fresh.example.com
	[ "$status" -eq 0 ]
	[ "$(pub fresh.example.com 1)" != "$(pub fresh.example.com 2)" ]
	run ! grep -q '^reuse_key' "$CFG/renewal/fresh.example.com.conf"
}

@test "keys: --reuse-key keeps the key across renewals, recorded; files stay 0600" {
	ext_run -d reuse.example.com --preferred-challenges dns --reuse-key certonly
	[ "$status" -eq 0 ]
	grep -qx 'reuse_key = True' "$CFG/renewal/reuse.example.com.conf"
	renew_force reuse.example.com
	[ "$status" -eq 0 ]
	renew_force reuse.example.com
	[ "$status" -eq 0 ]
	[ "$(readlink "$CFG/live/reuse.example.com/privkey.pem")" = ../../archive/reuse.example.com/privkey3.pem ]
	[ "$(pub reuse.example.com 1)" = "$(pub reuse.example.com 2)" ]
	[ "$(pub reuse.example.com 1)" = "$(pub reuse.example.com 3)" ]
	[[ $stderr == *"reusing its current private key"* ]]
	# The certificate is for that key.
	[ "$(openssl x509 -in "$CFG/live/reuse.example.com/cert.pem" -noout -pubkey)" = "$(pub reuse.example.com 1)" ]
	local f
	for f in "$CFG"/archive/reuse.example.com/privkey*.pem; do
		[ "$(stat -c %a "$f")" = 600 ]
	done
}

@test "keys: --new-key replaces a reused key once, then the new one is reused" {
	ext_run -d newkey.example.com --preferred-challenges dns --reuse-key certonly
	[ "$status" -eq 0 ]
	renew_force newkey.example.com --new-key
	[ "$status" -eq 0 ]
	[ "$(pub newkey.example.com 1)" != "$(pub newkey.example.com 2)" ]
	grep -qx 'reuse_key = True' "$CFG/renewal/newkey.example.com.conf"
	renew_force newkey.example.com
	[ "$status" -eq 0 ]
	[ "$(pub newkey.example.com 2)" = "$(pub newkey.example.com 3)" ]
}

@test "keys: --no-reuse-key ends the reuse; certonly --reuse-key starts it on a lineage" {
	ext_run -d stop.example.com --preferred-challenges dns --reuse-key certonly
	[ "$status" -eq 0 ]
	renew_force stop.example.com --no-reuse-key
	[ "$status" -eq 0 ]
	[ "$(pub stop.example.com 1)" != "$(pub stop.example.com 2)" ]
	run ! grep -q '^reuse_key' "$CFG/renewal/stop.example.com.conf"
	ext_run -d stop.example.com --preferred-challenges dns --reuse-key --force-renewal certonly
	[ "$status" -eq 0 ]
	[ "$(pub stop.example.com 2)" = "$(pub stop.example.com 3)" ]
}

@test "keys: --reuse-key with another key type is refused before the CA; --new-key changes it" {
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key certonly
	[ "$status" -eq 0 ]
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key --key-type rsa --force-renewal certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"--reuse-key keeps its ecdsa key, but the key type asked for is rsa; give --new-key once to change it"* ]]
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	[ "$(readlink "$CFG/live/kt.example.com/privkey.pem")" = ../../archive/kt.example.com/privkey1.pem ]
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key --new-key --key-type rsa --force-renewal certonly
	[ "$status" -eq 0 ]
	openssl pkey -in "$CFG/live/kt.example.com/privkey.pem" -noout -text | grep -q 'Private-Key: (2048 bit'
	renew_force kt.example.com
	[ "$status" -eq 0 ]
	[ "$(pub kt.example.com 2)" = "$(pub kt.example.com 3)" ]
}

@test "keys: --reuse-key and --no-reuse-key together are a usage error" {
	ext_direct certonly -d x.example.com --reuse-key --no-reuse-key --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	[[ $stderr == *"cannot be used together"* ]]
}
