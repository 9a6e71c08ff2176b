#!/usr/bin/env bats
# certbot_dir.bats: extauth renews a lineage the real certbot (2.1) created
# in its own config dir, with the manual plugin and the bridge
# ("extauth certbot-hook auth --handler H") as its auth hook; certbot can
# still list and renew it afterwards.  See doc/certbot-bridge.md.
#
# Pebble runs with PEBBLE_WFE_NONCEREJECT=0 (certbot 2.1 crashes on a
# badNonce at finalize, see bridge.bats) and PEBBLE_AUTHZREUSE=0 (so every
# renewal really asks the handler).

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	HLOG=$BATS_TEST_TMPDIR/handler.log
	H=$BATS_TEST_TMPDIR/handler.sh
	dns_handler "$H" - <<'EOF'
printf '%s %s key_auth=%s cert=%s\n' "$1" "${domain-}" "${key_auth-}" "${cert_path-}" >>"$HLOG"
EOF
	export HLOG
	CB=$BATS_TEST_TMPDIR/certbot
	CFG=$CB/config
	CBDIRS=(--config-dir "$CFG" --work-dir "$CB/work" --logs-dir "$CB/logs")
}

# cb ARGS...: certbot against Pebble with certbot's dirs.
cb() {
	run --separate-stderr env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" \
		timeout "$RUN_TIMEOUT" certbot "$@" -n "${CBDIRS[@]}"
	show
}

# cb_issue NAME: certonly through the bridge in handler mode, deploy hook too.
cb_issue() {
	cb certonly --agree-tos -m x@example.com --server "$PEBBLE_DIR_URL" \
		--manual --preferred-challenges dns -d "$1" \
		--manual-auth-hook "$EXTAUTH certbot-hook auth --handler $H" \
		--manual-cleanup-hook "$EXTAUTH certbot-hook cleanup --handler $H" \
		--deploy-hook "$EXTAUTH certbot-hook deploy --handler $H"
	[ "$status" -eq 0 ]
}

# ext_renew ARGS...: extauth renew on certbot's config dir, no stdin.
ext_renew() {
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" renew \
		--config-dir "$CFG" --work-dir "$CB/work" --logs-dir "$CB/logs" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --deactivate-authz "$NO_SLEEP" "$@" </dev/null
	show
}

# enddate PEM: notAfter as certbot prints it (YYYY-MM-DD HH:MM:SS).
enddate() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%M:%S'
}

@test "extauth renews certbot's manual+bridge lineage; certbot still lists and renews it" {
	local a=cd1.example.com conf accounts
	cb_issue "$a"
	conf=$CFG/renewal/$a.conf
	cat "$conf" >&2
	# what certbot wrote and what extauth relies on
	grep -qx 'authenticator = manual' "$conf"
	grep -qx "manual_auth_hook = $EXTAUTH certbot-hook auth --handler $H" "$conf"
	grep -qx "server = $PEBBLE_DIR_URL" "$conf"
	accounts=$(find "$CFG/accounts" -name private_key.json)
	# certbot's accounts/<netloc><path>/<id>/ is where extauth looks
	assert_eq "account dir" "$(dirname "$(dirname "$accounts")")" \
		"$CFG/accounts/${PEBBLE_DIR_URL#https://}"
	cp "$conf" "$BATS_TEST_TMPDIR/conf.before"
	: >"$HLOG"

	ext_renew --force-renewal
	[ "$status" -eq 0 ]
	cat "$HLOG" >&2
	# extauth solved it itself with the handler from the hook: it knows
	# the key authorization, certbot's hook calls did not.  (Unless Pebble
	# reused certbot's authorization: it does 1 time in 100 even at
	# PEBBLE_AUTHZREUSE=0, and then there is nothing to solve.)
	if [[ $stderr != *"$a: already authorized"* ]]; then
		grep -Eq "^perform $a key_auth=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+ " "$HLOG"
		grep -q "^cleanup $a " "$HLOG"
	fi
	# the stored deploy hook ran through the bridge, for the new cert
	grep -qx "deploy_cert $a key_auth= cert=$CFG/live/$a/cert.pem" "$HLOG"
	# certbot's numbering, links flipped, same account, conf untouched
	assert_lineage "$CFG/live/$a" "$a" 2
	assert_eq "accounts" "$(find "$CFG/accounts" -name private_key.json)" "$accounts"
	cmp "$conf" "$BATS_TEST_TMPDIR/conf.before"

	cb certificates
	[ "$status" -eq 0 ]
	grep -q "Certificate Name: $a" <<<"$output$stderr"
	grep -q "Expiry Date: $(enddate "$CFG/archive/$a/cert2.pem")" <<<"$output$stderr"
	grep -q "Certificate Path: $CFG/live/$a/fullchain.pem" <<<"$output$stderr"

	: >"$HLOG"
	cb renew --force-renewal --no-random-sleep-on-renew
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a" 3
	# certbot ran the bridge again: dns-01 without key_auth
	grep -qx "perform $a key_auth= cert=" "$HLOG"
}

@test "renew refuses a manual hook that is not the bridge or needs a shell" {
	local a=cd2.example.com conf
	cb_issue "$a"
	conf=$CFG/renewal/$a.conf
	# a shell would run the second command; extauth must not
	sed -i "s|^manual_auth_hook = .*|manual_auth_hook = $EXTAUTH certbot-hook auth --handler $H; touch $BATS_TEST_TMPDIR/pwned|" "$conf"
	: >"$HLOG"
	ext_renew --force-renewal
	[ "$status" -eq 0 ]
	grep -q "skipping $a" <<<"$stderr"
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ]
	[ ! -s "$HLOG" ]
	assert_lineage "$CFG/live/$a" "$a" 1

	sed -i "s|^manual_auth_hook = .*|manual_auth_hook = /bin/true|" "$conf"
	ext_renew --force-renewal
	[ "$status" -eq 0 ]
	grep -q "skipping $a" <<<"$stderr"
	assert_lineage "$CFG/live/$a" "$a" 1
}

@test "an extauth lineage is one certbot can list and renew: manual authenticator, the bridge as hooks" {
	local a=cd3.example.com conf self
	self=$(readlink -f "$EXTAUTH")
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" certonly \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		"${CBDIRS[@]}" --agree-tos --email t@example.com -n \
		--preferred-challenges dns --handler "$H" -d "$a" </dev/null
	show
	[ "$status" -eq 0 ]
	conf=$CFG/renewal/$a.conf
	cat "$conf" >&2
	grep -qx 'authenticator = manual' "$conf"
	grep -qx "manual_auth_hook = $self certbot-hook auth --handler $H" "$conf"
	grep -qx "manual_cleanup_hook = $self certbot-hook cleanup --handler $H" "$conf"
	grep -qx 'extauth_mode = handler' "$conf"

	# certbot reads it: listed, and a plain renew (not due) is clean.
	cb certificates
	[ "$status" -eq 0 ]
	grep -q "Certificate Name: $a" <<<"$output$stderr"
	! grep -qi "parse\|skipped\|invalid" <<<"$output$stderr" || false
	cb renew --no-random-sleep-on-renew
	[ "$status" -eq 0 ]
	! grep -qi "parse\|failure" <<<"$output$stderr" || false

	# certbot renews it, through the bridge with the lineage's handler.
	: >"$HLOG"
	cb renew --force-renewal --no-random-sleep-on-renew
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a" 2
	grep -qx "perform $a key_auth= cert=" "$HLOG"
	grep -q "^cleanup $a " "$HLOG"

	# ... and extauth still renews it afterwards, whatever certbot kept
	# of the conf.
	: >"$HLOG"
	ext_renew --force-renewal
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a" 3
}

@test "an extauth conf of the old form (authenticator = extauth) still renews, and is rewritten for certbot" {
	local a=cd4.example.com conf self
	self=$(readlink -f "$EXTAUTH")
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" certonly \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		"${CBDIRS[@]}" --agree-tos --email t@example.com -n \
		--preferred-challenges dns --handler "$H" -d "$a" </dev/null
	show
	[ "$status" -eq 0 ]
	conf=$CFG/renewal/$a.conf
	# What extauth wrote before: no certbot hooks.
	sed -i -e 's/^authenticator = manual$/authenticator = extauth/' \
		-e '/^manual_auth_hook = /d' -e '/^manual_cleanup_hook = /d' "$conf"
	ext_renew --force-renewal
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a" 2
	grep -qx 'authenticator = manual' "$conf"
	grep -qx "manual_auth_hook = $self certbot-hook auth --handler $H" "$conf"
}
