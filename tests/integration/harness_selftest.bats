#!/usr/bin/env bats
# Proves the integration harness with real, independent clients before extauth
# exists: BIND (tests/lib/bind.bash) + Pebble (tests/lib/pebble.bash) + the
# dehydrated nsupdate hook issue a real certificate through dehydrated itself,
# and nginx (tests/lib/nginx.bash) serves it after examples/nginx-deploy-handler.sh
# installed it. If these fail, an extauth integration failure is not extauth's.

bats_require_minimum_version 1.5.0 # run --separate-stderr

# Top-level code runs for setup_file, every test and teardown_file alike.
load ../lib/bind
load ../lib/pebble
load ../lib/nginx

ZONE=example.test
EXAMPLES="$BATS_TEST_DIRNAME/../../examples"

setup_file() {
	# The nginx test uses the certificate the dehydrated test issued.
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	bind_start "$ZONE"

	# Pebble must validate dns-01 against BIND, not against challtestsrv.
	# NONCEREJECT=0: dehydrated 0.7.0 does not retry badNonce (0.7.1 does).
	# AUTHZREUSE=0: every order must really run its challenges through the hook.
	PEBBLE_DNS_SERVER="127.0.0.1:$BIND_PORT" \
		pebble_start PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 || {
		bind_stop
		return 1
	}
	# The issued certificate, shared with the nginx test.
	export ISSUED_DIR="$BATS_FILE_TMPDIR/issued"
}

teardown_file() {
	pebble_stop
	bind_stop
}

setup() {
	# The hook reads its server and key from the environment, as under dehydrated.
	export NSUPDATE_PORT="$BIND_PORT" NSUPDATE_KEY="$BIND_KEYFILE" NSUPDATE_WAIT=5
	export HOOK_LOG="$BATS_TEST_TMPDIR/hook.log"
}

teardown() {
	nginx_stop
}

@test "bind: nsupdate hook adds values side by side and deletes exactly one" {
	local hook="$EXAMPLES/dehydrated-nsupdate-hook.sh" name="_acme-challenge.$ZONE"

	# HOOK_CHAIN style: two triples for one TXT name (apex + wildcard) in one call.
	"$hook" deploy_challenge "$ZONE" tok1 value-one "$ZONE" tok2 value-two
	[ "$(bind_txt "$name")" = "$(printf 'value-one\nvalue-two')" ]

	"$hook" clean_challenge "$ZONE" tok1 value-one
	[ "$(bind_txt "$name")" = value-two ]
	"$hook" clean_challenge "$ZONE" tok2 value-two
	[ -z "$(bind_txt "$name")" ]

	# dehydrated's probe and future commands must succeed silently;
	# generate_csr must print nothing so the caller makes its own CSR.
	run "$hook" this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr "$hook" generate_csr "$ZONE" /nonexistent "$ZONE www.$ZONE"
	[ "$status" -eq 0 ]
	[ -z "$output" ]

	# A record that cannot be added is a failure dehydrated must see.
	NSUPDATE_KEY=/nonexistent run "$hook" deploy_challenge "$ZONE" t v
	[ "$status" -ne 0 ]

	grep -qx "deploy_challenge $ZONE tok1 value-one $ZONE tok2 value-two" "$HOOK_LOG"
	grep -qx "generate_csr $ZONE /nonexistent $ZONE www.$ZONE" "$HOOK_LOG"
}

@test "dehydrated + Pebble + BIND issue $ZONE and *.$ZONE through the nsupdate hook" {
	local base="$BATS_TEST_TMPDIR/dehydrated"
	mkdir -p "$base"
	cat >"$base/config" <<EOF
CA="$PEBBLE_DIR_URL"
CHALLENGETYPE="dns-01"
HOOK="$EXAMPLES/dehydrated-nsupdate-hook.sh"
BASEDIR="$base"
CURL_OPTS="--cacert $PEBBLE_CA_BUNDLE"
KEY_ALGO="prime256v1"
KEYSIZE="2048"
EOF
	run dehydrated --config "$base/config" --register --accept-terms </dev/null
	echo "$output"
	[ "$status" -eq 0 ]

	# Apex and wildcard: two dns-01 values at the same TXT name, which only
	# works if the hook adds instead of replacing.
	run dehydrated --config "$base/config" --cron --domain "$ZONE" --domain "*.$ZONE" </dev/null
	echo "$output"
	[ "$status" -eq 0 ]

	local certdir="$base/certs/$ZONE"
	[ -s "$certdir/fullchain.pem" ]
	[ -s "$certdir/privkey.pem" ]
	openssl x509 -in "$certdir/cert.pem" -noout -ext subjectAltName | grep -q "DNS:\*\.$ZONE"

	# Argument order as dehydrated documents it, and the records are gone again.
	cat "$HOOK_LOG"
	[ "$(grep -c "^deploy_challenge $ZONE " "$HOOK_LOG")" -eq 2 ]
	[ "$(grep -c "^clean_challenge $ZONE " "$HOOK_LOG")" -eq 2 ]
	grep -q "^deploy_cert $ZONE $certdir/privkey.pem $certdir/cert.pem $certdir/fullchain.pem $certdir/chain.pem [0-9]*$" "$HOOK_LOG"
	[ -z "$(bind_txt "_acme-challenge.$ZONE")" ]

	mkdir -p "$ISSUED_DIR"
	cp -L "$certdir/fullchain.pem" "$certdir/privkey.pem" "$ISSUED_DIR/"
}

@test "nginx serves the issued certificate after nginx-deploy-handler.sh installs it" {
	[ -s "$ISSUED_DIR/fullchain.pem" ] || skip "the issuance test did not produce a certificate"

	# Start with a self-signed placeholder, then let the handler swap in the
	# Pebble certificate the way extauth will call it (handler convention).
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=placeholder" -keyout "$BATS_TEST_TMPDIR/ph.key" -out "$BATS_TEST_TMPDIR/ph.crt" 2>/dev/null
	nginx_start "$BATS_TEST_TMPDIR/ph.crt" "$BATS_TEST_TMPDIR/ph.key"
	[ "$(nginx_served_fingerprint "www.$ZONE")" = "$(nginx_file_fingerprint "$BATS_TEST_TMPDIR/ph.crt")" ]

	run env cmd=deploy_cert domain="$ZONE" cbot_domain="$ZONE" \
		fullchain_path="$ISSUED_DIR/fullchain.pem" cbot_fullchain_path="$ISSUED_DIR/fullchain.pem" \
		key_path="$ISSUED_DIR/privkey.pem" cbot_key_path="$ISSUED_DIR/privkey.pem" \
		NGINX_CONF="$NGINX_CONF" NGINX_CERT_DIR="$NGINX_CERT_DIR" \
		"$EXAMPLES/nginx-deploy-handler.sh" deploy_cert
	echo "$output"
	[ "$status" -eq 0 ]

	# The handler's reload is asynchronous: poll, do not sleep.
	nginx_wait_fingerprint "www.$ZONE" "$(nginx_file_fingerprint "$ISSUED_DIR/fullchain.pem")"

	# The harness's own reload path (symlinks repointed, synchronous reload).
	ln -sfn "$BATS_TEST_TMPDIR/ph.crt" "$NGINX_CERT_DIR/fullchain.pem"
	ln -sfn "$BATS_TEST_TMPDIR/ph.key" "$NGINX_CERT_DIR/privkey.pem"
	nginx_reload
	[ "$(nginx_served_fingerprint "$ZONE")" = "$(nginx_file_fingerprint "$BATS_TEST_TMPDIR/ph.crt")" ]

	# Handler convention for the other command words.
	run "$EXAMPLES/nginx-deploy-handler.sh" cleanup
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr "$EXAMPLES/nginx-deploy-handler.sh" perform
	[ "$status" -eq 1 ]
	[ "$output" = NotImplemented ]
}

@test "example handler and dehydrated hook follow their conventions" {
	run --separate-stderr env cbot_domain="$ZONE" cbot_validation=VAL "$EXAMPLES/handler-example.sh" perform
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"-----BEGIN PERFORM-----"*"domain: $ZONE"*"validation: VAL"*"-----END PERFORM-----"* ]]
	run --separate-stderr "$EXAMPLES/handler-example.sh" no-such-word
	[ "$status" -eq 1 ]
	[ "$output" = NotImplemented ]

	run --separate-stderr "$EXAMPLES/dehydrated-example.sh" clean_challenge "$ZONE" tok VAL
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"-----BEGIN CLEAN_CHALLENGE-----"*"_acme-challenge.$ZONE. "*'"VAL"'*"-----END CLEAN_CHALLENGE-----"* ]]
	run "$EXAMPLES/dehydrated-example.sh" no-such-hook
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
