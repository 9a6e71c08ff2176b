#!/usr/bin/env bats
# keys.bats: the certificate key across renewals (certbot's --reuse-key,
# --no-reuse-key and --new-key, recorded as reuse_key in the renewal conf)
# and the account: update_account --email changes the contact at the CA,
# --key-rollover replaces the account key (RFC 8555 §7.3.5) after which the
# CA refuses the old one, and a rollover cut short at either side of the
# CA's answer is settled by the next plain run.

# stderr is set by bats' run --separate-stderr.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	# No badNonce by chance (Pebble's default 5%): the lost-answer test
	# needs its one keyChange, which is never resent, to reach the CA.
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR common_setup_file PEBBLE_AUTHZREUSE=100 \
		PEBBLE_WFE_NONCEREJECT=0
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

@test "keys: --reuse-key with another key type, size or curve is refused before the CA; --new-key changes it" {
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key certonly
	[ "$status" -eq 0 ]
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key --key-type rsa --force-renewal certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"--reuse-key keeps its ecdsa secp256r1 key, but the key asked for is rsa 2048; give --new-key once to change it"* ]]
	[ "$(count_cmd perform_challenge)" -eq 0 ]
	[ "$(readlink "$CFG/live/kt.example.com/privkey.pem")" = ../../archive/kt.example.com/privkey1.pem ]
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key --new-key --key-type rsa --force-renewal certonly
	[ "$status" -eq 0 ]
	openssl pkey -in "$CFG/live/kt.example.com/privkey.pem" -noout -text | grep -q 'Private-Key: (2048 bit'
	renew_force kt.example.com
	[ "$status" -eq 0 ]
	[ "$(pub kt.example.com 2)" = "$(pub kt.example.com 3)" ]
	# Another size or curve is another key too.
	ext_run -d kt.example.com --preferred-challenges dns --reuse-key --key-type rsa \
		--rsa-key-size 3072 --force-renewal certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"keeps its rsa 2048 key, but the key asked for is rsa 3072"* ]]
	ext_run -d ec.example.com --preferred-challenges dns --reuse-key certonly
	[ "$status" -eq 0 ]
	ext_run -d ec.example.com --preferred-challenges dns --reuse-key --elliptic-curve secp384r1 \
		--force-renewal certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"keeps its ecdsa secp256r1 key, but the key asked for is ecdsa secp384r1"* ]]
}

@test "keys: --reuse-key and --no-reuse-key together are a usage error" {
	ext_direct certonly -d x.example.com --reuse-key --no-reuse-key --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	[[ $stderr == *"cannot be used together"* ]]
}

# acct_dir: the one account directory of $CFG.
acct_dir() {
	local d
	d=$(find "$CFG/accounts" -name private_key.json -printf '%h\n')
	[ "$(wc -l <<<"$d")" -eq 1 ] || return 1
	echo "$d"
}

# ec_jwk FILE: a new EC P-256 private key as a JWK (certbot's
# private_key.json) in FILE; a key no CA has seen.
ec_jwk() {
	local pem=$BATS_TEST_TMPDIR/k.pem txt priv pub
	openssl ecparam -name prime256v1 -genkey -noout -out "$pem"
	txt=$(openssl ec -in "$pem" -noout -text 2>/dev/null)
	priv=$(awk '/^priv:/ {f = 1; next} /^pub:/ {f = 0} f' <<<"$txt" | tr -d ' :\n')
	pub=$(awk '/^pub:/ {f = 1; next} /^ASN1 OID/ {f = 0} f' <<<"$txt" | tr -d ' :\n')
	priv=$(printf '%064s' "${priv: -64}" | tr ' ' 0)
	b64u() { tr a-f A-F | basenc --base16 -d | basenc --base64url | tr -d '=\n'; }
	printf '{"crv": "P-256", "d": "%s", "kty": "EC", "x": "%s", "y": "%s"}' \
		"$(b64u <<<"$priv")" "$(b64u <<<"${pub:2:64}")" "$(b64u <<<"${pub:66:64}")" >"$1"
}

@test "update_account: --email changes the contact at the CA and in regr.json" {
	ext_run register
	[ "$status" -eq 0 ]
	ext_run update_account --email new@example.com,other@example.com
	[ "$status" -eq 0 ]
	[[ $stderr == *"Your e-mail address was updated to new@example.com,other@example.com."* ]]
	jq -e '.body.contact == ["mailto:new@example.com", "mailto:other@example.com"]' "$(acct_dir)/regr.json"
	# The CA's own account object, as show_account fetches it.
	ext_run show_account
	[ "$status" -eq 0 ]
	[[ $stderr == *"Contact: mailto:new@example.com"* ]]
	[[ $stderr == *"Contact: mailto:other@example.com"* ]]
	[[ $stderr != *"t@example.com"* ]]
	# (without the common --email)
	ext_direct update_account --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		"${DIRS[@]}" --register-unsafely-without-email
	[ "$status" -eq 0 ]
	jq -e '.body.contact == null or .body.contact == []' "$(acct_dir)/regr.json"
	ext_run show_account
	[ "$status" -eq 0 ]
	[[ $stderr != *"Contact:"* ]]
}

@test "register --email with two addresses: two mailto: contacts at the CA" {
	ext_direct register --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		"${DIRS[@]}" --agree-tos --email one@example.com,two@example.com
	[ "$status" -eq 0 ]
	jq -e '.body.contact == ["mailto:one@example.com", "mailto:two@example.com"]' "$(acct_dir)/regr.json"
}

@test "update_account: nothing to change, or no account, is a usage error" {
	ext_direct update_account --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	[[ $stderr == *"update_account has nothing to change"* ]]
	ext_run update_account --email x@example.com
	[ "$status" -eq 2 ]
	[[ $stderr == *"there is no account for"* ]]
}

@test "update_account --key-rollover: a new key at the CA, the old one refused" {
	local d old=$BATS_TEST_TMPDIR/old_key.json uri
	ext_run -d roll.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	d=$(acct_dir)
	cp "$d/private_key.json" "$old"
	uri=$(jq -r .uri "$d/regr.json")
	ext_run update_account --key-rollover
	[ "$status" -eq 0 ]
	[[ $stderr == *"The key of account $uri was replaced"* ]]
	[ "$(acct_dir)" = "$d" ]
	run ! cmp -s "$old" "$d/private_key.json"
	[ ! -e "$d/rollover_key.json" ]
	[ "$(stat -c %a "$d/private_key.json")" = 400 ]
	# The new key works: the same account, and it renews.
	ext_run show_account
	[ "$status" -eq 0 ]
	[[ $stderr == *"account URL $uri, status valid"* ]]
	ext_run -d roll.example.com --preferred-challenges dns --force-renewal certonly
	[ "$status" -eq 0 ]
	# The old key is refused by the CA: a copy of the config dir with the
	# old key put back.
	cp -a "$CFG" "$BATS_TEST_TMPDIR/oldcfg"
	install -m 0400 "$old" "$BATS_TEST_TMPDIR/oldcfg/accounts/${d#"$CFG"/accounts/}/private_key.json"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" show_account --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --config-dir "$BATS_TEST_TMPDIR/oldcfg" \
		--work-dir "$WORK" --logs-dir "$LOGS" </dev/null
	show
	[ "$status" -eq 3 ]
	[[ $stderr == *"account: POST $uri: HTTP 4"* ]]
}

@test "update_account --key-rollover cut short after the CA switched: the next plain run adopts the new key" {
	local d old=$BATS_TEST_TMPDIR/old_key.json new=$BATS_TEST_TMPDIR/new_key.json
	ext_run register
	[ "$status" -eq 0 ]
	d=$(acct_dir)
	cp "$d/private_key.json" "$old"
	ext_run update_account --key-rollover
	[ "$status" -eq 0 ]
	cp "$d/private_key.json" "$new"
	# What a kill between the CA's answer and the rename leaves: the old
	# key in place, the new one saved beside it.
	install -m 0400 "$new" "$d/rollover_key.json"
	install -m 0400 "$old" "$d/private_key.json"
	ext_run show_account
	[ "$status" -eq 0 ]
	[[ $stderr == *"an earlier key rollover was interrupted; the CA holds the new key, which is kept"* ]]
	cmp "$new" "$d/private_key.json"
	[ ! -e "$d/rollover_key.json" ]
	ext_run show_account
	[ "$status" -eq 0 ]
	[[ $stderr != *"interrupted"* ]]
}

@test "update_account --key-rollover cut short before the CA was asked: the next plain run keeps the old key" {
	local d old=$BATS_TEST_TMPDIR/old_key.json
	ext_run register
	[ "$status" -eq 0 ]
	d=$(acct_dir)
	cp "$d/private_key.json" "$old"
	# What a kill before keyChange leaves: a new key the CA never saw.
	ec_jwk "$BATS_TEST_TMPDIR/fresh.json"
	install -m 0400 "$BATS_TEST_TMPDIR/fresh.json" "$d/rollover_key.json"
	ext_run -d before.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *"an earlier key rollover was interrupted; the CA holds the old key, which is kept"* ]]
	cmp "$old" "$d/private_key.json"
	[ ! -e "$d/rollover_key.json" ]
	# And a rollover works from there.
	ext_run update_account --key-rollover
	[ "$status" -eq 0 ]
	run ! cmp -s "$old" "$d/private_key.json"
}

# proxied ARGS...: extauth through the fault proxy (its own account dir).
proxied() {
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" \
		"${DIRS[@]}" --agree-tos --email t@example.com -n "$@"
	show
}

@test "update_account --key-rollover whose answer is lost after the CA switched: the new key is kept" {
	local d old=$BATS_TEST_TMPDIR/old_key.json
	load ../lib/faultproxy
	# Pebble switches the key, the answer is cut off; keyChange is not
	# sent again (the old key may be gone): the CA is asked which key it
	# holds.
	faultproxy_start drop:kind=keyChange:times=1
	proxied register
	[ "$status" -eq 0 ]
	d=$(acct_dir)
	cp "$d/private_key.json" "$old"
	proxied update_account --key-rollover
	[ "$status" -eq 0 ]
	[[ $stderr == *"the CA holds the new key after all"* ]]
	[[ $stderr != *"error"* ]]
	[ "$(grep -c '"kind": *"keyChange"' "$FAULTPROXY_TMP/log")" -eq 1 ]
	run ! cmp -s "$old" "$d/private_key.json"
	[ ! -e "$d/rollover_key.json" ]
	proxied show_account
	faultproxy_stop
	[ "$status" -eq 0 ]
}

@test "update_account --key-rollover refused by the CA: the old key stays, and works" {
	local d old=$BATS_TEST_TMPDIR/old_key.json
	load ../lib/faultproxy
	faultproxy_start 500:kind=keyChange
	proxied register
	[ "$status" -eq 0 ]
	d=$(acct_dir)
	cp "$d/private_key.json" "$old"
	proxied update_account --key-rollover
	[ "$status" -eq 3 ]
	[[ $stderr == *"keyChange: POST"*"HTTP 500"* ]]
	[[ $stderr == *"keeps its old key, which the CA still holds: run update_account --key-rollover again later"* ]]
	cmp "$old" "$d/private_key.json"
	[ ! -e "$d/rollover_key.json" ]
	proxied show_account
	faultproxy_stop
	[ "$status" -eq 0 ]
}
