#!/usr/bin/env bats
# seed.bats: every command line of the certbot-external-auth README, with
# `certbot` replaced by `extauth` and only --server/--ca-bundle (and the
# test's own directories) added for Pebble.  stdout must carry the same
# JSON lines, with the same keys in the same order, as the README shows.
# The handlers the README names (./dehydrated-example.sh,
# ./handler-example.sh) are stand-ins written here that really publish the
# challenge through pebble-challtestsrv, so Pebble can validate.

bats_require_minimum_version 1.5.0

PERFORM_DNS="cmd,type,domain,token,validation,txt_domain,key_auth"
PERFORM_HTTP="cmd,type,domain,token,validation,uri,command,key_auth"
CLEANUP="cmd,type,status,domain,token,validation,key_auth,validated,error"
DEPLOY="cmd,domain,cert_path,key_path,chain_path,fullchain_path,timestamp,cert_timestamp"
SAVE="cmd,title,temporary"
RESTART="cmd"
REPORT="cmd,messages"

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_AUTHZREUSE=0
	local d=$BATS_FILE_TMPDIR/hooks
	mkdir -p "$d"
	# dehydrated convention: deploy_challenge DOMAIN TOKEN VALUE ...
	cat >"$d/dehydrated-example.sh" <<'EOS'
#!/bin/bash
echo "$*" >>"$HOOK_LOG"
api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
case "$1" in
deploy_challenge) api set-txt "{\"host\":\"_acme-challenge.$2.\",\"value\":\"$4\"}" ;;
clean_challenge) api clear-txt "{\"host\":\"_acme-challenge.$2.\"}" ;;
esac
exit 0
EOS
	# handler convention: command word in $1, the record in the env
	cat >"$d/handler-example.sh" <<'EOS'
#!/bin/bash
echo "$1 ${domain:-} ${cbot_type:-}" >>"$HOOK_LOG"
api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
case "$1" in
perform)
	echo "publishing $type for $domain"
	case "$type" in
	http-01) api add-http01 "{\"token\":\"$token\",\"content\":\"$key_auth\"}" ;;
	dns-01) api set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
	esac ;;
cleanup)
	case "$type" in
	http-01) api del-http01 "{\"token\":\"$token\"}" ;;
	dns-01) api clear-txt "{\"host\":\"$txt_domain.\"}" ;;
	esac ;;
pre-perform|post-perform|pre-cleanup|post-cleanup|deploy_cert|unchanged_cert) ;;
*) echo NotImplemented; exit 1 ;;
esac
EOS
	chmod +x "$d"/*.sh
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	export HOOK_LOG=$BATS_TEST_TMPDIR/hook.log
	PEBBLE=(--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}")
	cd "$BATS_FILE_TMPDIR/hooks"
}

# The README's JSON-mode commands run through the example invoker, which
# publishes each challenge and answers with a newline.
seed_json() {
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" "$@" "${PEBBLE[@]}"
	show
}

# Handler modes need no invoker: stdin is not read.
seed_handler() {
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "$@" "${PEBBLE[@]}" </dev/null
	show
}

# expect_lines KEYS... : stdout has exactly these lines, in order, each with
# exactly these keys in this order.
expect_lines() {
	local i=0 want
	assert_stdout_json
	assert_eq "line count" "${#lines[@]}" "$#"
	for want in "$@"; do
		assert_eq "line $i keys" "$(keys_of "${lines[$i]}")" "$want"
		i=$((i + 1))
	done
}

@test "README usage: --configurator certbot-external-auth:out certonly" {
	seed_json --text --agree-tos --email you@example.com \
		--expand --renew-by-default \
		--configurator certbot-external-auth:out \
		--certbot-external-auth:out-public-ip-logging-ok \
		-d usage.seed.example.com certonly
	[ "$status" -eq 0 ]
	# default challenge order is dns-01 first, like the plugin
	expect_lines "$PERFORM_DNS" "$CLEANUP" "$REPORT"
	jq -e '.status == "valid" and .validated != null' <<<"${lines[1]}"
}

@test "README DNS: two names, --preferred-challenges dns, certonly" {
	seed_json --staging \
		--text --agree-tos --email you@example.com \
		--expand --renew-by-default \
		--configurator certbot-external-auth:out \
		--certbot-external-auth:out-public-ip-logging-ok \
		-d "bristol3.seed.example.com" \
		-d "bs3.seed.example.com" \
		--preferred-challenges dns \
		certonly
	[ "$status" -eq 0 ]
	expect_lines "$PERFORM_DNS" "$PERFORM_DNS" "$CLEANUP" "$CLEANUP" "$REPORT"
	assert_eq "domains" "$(jq -r 'select(.cmd=="perform_challenge").domain' <<<"$output" | paste -sd, -)" \
		"bristol3.seed.example.com,bs3.seed.example.com"
	jq -e '.messages[0].lines[0] | test("fullchain.pem")' <<<"${lines[4]}"
}

@test "README DNS installer: run emits deploy_cert/save/restart" {
	seed_json --staging \
		--text --agree-tos --email you@example.com \
		--expand --renew-by-default \
		--configurator certbot-external-auth:out \
		--certbot-external-auth:out-public-ip-logging-ok \
		-d "bristol3.run.example.com" \
		-d "bs3.run.example.com" \
		--preferred-challenges dns \
		run
	[ "$status" -eq 0 ]
	expect_lines "$PERFORM_DNS" "$PERFORM_DNS" "$CLEANUP" "$CLEANUP" \
		"$DEPLOY" "$SAVE" "$DEPLOY" "$SAVE" "$SAVE" "$RESTART" "$REPORT"
	# both deploy lines point at the one lineage; the timestamp is a
	# number (the seed emitted it under "port")
	jq -e '.cert_path | endswith("/live/bristol3.run.example.com/cert.pem")' <<<"${lines[6]}"
	jq -e '(.timestamp | type) == "number" and (.cert_timestamp | type) == "number"' <<<"${lines[4]}"
	[ -f "$(jq -r .fullchain_path <<<"${lines[4]}")" ]
	assert_eq "save title" "$(jq -c . <<<"${lines[8]}")" '{"cmd":"save","title":"Deployed ACME Certificate","temporary":false}'
}

@test "README HTTP: --preferred-challenges http, certonly" {
	seed_json --staging \
		--text --agree-tos --email you@example.com \
		--expand --renew-by-default \
		--configurator certbot-external-auth:out \
		--certbot-external-auth:out-public-ip-logging-ok \
		-d "bristol3.http.example.com" \
		-d "bs3.http.example.com" \
		--preferred-challenges http \
		certonly
	[ "$status" -eq 0 ]
	expect_lines "$PERFORM_HTTP" "$PERFORM_HTTP" "$CLEANUP" "$CLEANUP" "$REPORT"
	jq -e '.uri == "http://bristol3.http.example.com/.well-known/acme-challenge/" + .token' <<<"${lines[0]}"
	jq -e '.validation == .key_auth' <<<"${lines[0]}"
}

@test "README Example - Dehydrated: --handler ./dehydrated-example.sh --dehydrated-dns run" {
	seed_handler --staging \
		--text --agree-tos --email you@example.com \
		--expand --renew-by-default \
		--configurator certbot-external-auth:out \
		--certbot-external-auth:out-public-ip-logging-ok \
		-d "bristol3.deh.example.com" \
		-d "bs3.deh.example.com" \
		--preferred-challenges dns \
		--certbot-external-auth:out-handler ./dehydrated-example.sh \
		--certbot-external-auth:out-dehydrated-dns \
		run
	[ "$status" -eq 0 ]
	expect_lines "$PERFORM_DNS" "$PERFORM_DNS" "$CLEANUP" "$CLEANUP" \
		"$DEPLOY" "$SAVE" "$DEPLOY" "$SAVE" "$SAVE" "$RESTART" "$REPORT"
	grep -q '^deploy_challenge bristol3.deh.example.com ' "$HOOK_LOG"
	grep -q '^clean_challenge bs3.deh.example.com ' "$HOOK_LOG"
	# dehydrated calls deploy_cert once per certificate, first name
	assert_eq "deploy_cert calls" "$(grep -c '^deploy_cert ' "$HOOK_LOG")" 1
	grep -q '^deploy_cert bristol3.deh.example.com .*/privkey.pem .*/cert.pem .*/fullchain.pem .*/chain.pem [0-9]*$' "$HOOK_LOG"
}

@test "README Example - Handler: --handler ./handler-example.sh, http, certonly" {
	seed_handler --staging \
		--text --agree-tos --email you@example.com \
		--expand --renew-by-default \
		--configurator certbot-external-auth:out \
		--certbot-external-auth:out-public-ip-logging-ok \
		-d "bristol3.hnd.example.com" \
		-d "bs3.hnd.example.com" \
		--preferred-challenges http \
		--certbot-external-auth:out-handler ./handler-example.sh \
		certonly
	[ "$status" -eq 0 ]
	expect_lines "$PERFORM_HTTP" "$PERFORM_HTTP" "$CLEANUP" "$CLEANUP" "$REPORT"
	assert_eq "handler calls" "$(cut -d' ' -f1 "$HOOK_LOG" | paste -sd, -)" \
		"pre-perform,perform,perform,post-perform,pre-cleanup,cleanup,cleanup,post-cleanup"
	# the seed's stderr framing, around what the handler printed; a
	# command it said nothing to gets no empty frame
	[[ $stderr == *"Handler output (perform):"* ]]
	[[ $stderr == *"-----BEGIN PERFORM-----"$'\n'"publishing http-01 for "* ]]
	[[ $stderr != *"Handler output (cleanup):"* ]]
}
