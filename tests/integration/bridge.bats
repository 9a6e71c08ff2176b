#!/usr/bin/env bats
# bridge.bats: the real certbot (2.1) against Pebble, with its manual hooks
# pointing at "extauth certbot-hook auth|cleanup|deploy" (doc/certbot-bridge.md).
# The challenges are solved by the same handlers extauth uses itself:
# handler mode, dehydrated mode, and JSON mode through
# examples/json-socket-driver.py.  Names are unique per test; certbot's
# dirs are fresh per test (so no authorization is reused).
#
# Pebble runs with PEBBLE_WFE_NONCEREJECT=0: certbot 2.1 does not survive a
# badNonce on finalize (acme retries it, then josepy raises "AttributeError:
# can't set attribute" while certbot re-raises), which is certbot's bug,
# not the bridge's.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_WFE_NONCEREJECT=0
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
	# A seed-style handler: word in $1, fields in the environment.
	cat >"$H" <<'EOF'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
case $1 in
perform)
	[[ -z ${HANDLER_FAIL:-} ]] || { echo "told to fail" >&2; exit 1; }
	if [[ $type == http-01 ]]; then
		printf '%s\n' "$cbot_json" >>"$HLOG.json"
		post add-http01 "{\"token\":\"$token\",\"content\":\"$key_auth\"}"
	else
		post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}"
	fi ;;
cleanup)
	if [[ $type == http-01 ]]; then
		post del-http01 "{\"token\":\"$token\"}"
	else
		post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}"
	fi ;;
deploy_cert)
	[[ -s $cert_path && -s $key_path && -s $fullchain_path && -s $chain_path ]] ;;
esac
printf '%s %s %s %s\n' "$1" "${domain-}" "${status-}" "${cert_path-}" >>"$HLOG"
EOF
	chmod +x "$H"
	export HLOG
	CB=$BATS_TEST_TMPDIR/certbot
	CBDIRS=(--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs")
}

teardown() {
	if [[ -n ${DRIVER_PID:-} ]]; then
		kill "$DRIVER_PID" 2>/dev/null || true
		wait "$DRIVER_PID" 2>/dev/null || true
	fi
}

# cb_run ARGS...: certbot certonly against Pebble with manual hooks ARGS.
cb_run() {
	run --separate-stderr env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" \
		timeout "$RUN_TIMEOUT" certbot certonly -n --agree-tos -m x@example.com \
		--server "$PEBBLE_DIR_URL" "${CBDIRS[@]}" --manual "$@"
	show
}

# hooks WORDS...: the auth and cleanup hook flags, extauth with WORDS.
hooks() {
	HOOKS=(--manual-auth-hook "$EXTAUTH certbot-hook auth $*"
		--manual-cleanup-hook "$EXTAUTH certbot-hook cleanup $*")
}

# start_driver: examples/json-socket-driver.py on $SOCK, lines to $DLOG.
start_driver() {
	SOCK=$BATS_TEST_TMPDIR/invoker.sock DLOG=$BATS_TEST_TMPDIR/driver.log
	python3 "$REPO_ROOT/examples/json-socket-driver.py" "$SOCK" "$DLOG" \
		2>"$BATS_TEST_TMPDIR/driver.err" &
	DRIVER_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -S $SOCK ]] && return 0
		kill -0 "$DRIVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "the socket driver did not come up" >&2
	cat "$BATS_TEST_TMPDIR/driver.err" >&2
	return 1
}

@test "handler mode: certbot obtains a cert, dns-01 solved through the bridge" {
	local a=br1a.example.com b=br1b.example.com
	hooks --handler "$H"
	cb_run --preferred-challenges dns -d "$a" -d "$b" "${HOOKS[@]}"
	[ "$status" -eq 0 ]
	CFG=$CB/config assert_lineage "$CB/config/live/$a" "$a,$b"
	cat "$HLOG" >&2
	# pre-/post- once per batch, in extauth's order; cleanup status
	# unknown.  certbot's order of the two challenges is the CA's.
	assert_eq "handler words" "$(cut -d' ' -f1 "$HLOG" | paste -sd, -)" \
		"pre-perform,perform,perform,post-perform,pre-cleanup,cleanup,cleanup,post-cleanup"
	assert_eq "performed" "$(grep '^perform ' "$HLOG" | cut -d' ' -f2 | sort | paste -sd, -)" "$a,$b"
	assert_eq "cleaned" "$(grep '^cleanup ' "$HLOG" | cut -d' ' -f2,3 | sort | paste -sd, -)" \
		"$a unknown,$b unknown"
}

@test "handler mode, http-01: token, key_auth and uri from certbot's environment" {
	local a=br7.example.com perform
	hooks --handler "$H"
	cb_run --preferred-challenges http -d "$a" "${HOOKS[@]}"
	[ "$status" -eq 0 ]
	CFG=$CB/config assert_lineage "$CB/config/live/$a" "$a"
	perform=$(cat "$HLOG.json")
	assert_eq "perform keys" "$(keys_of "$perform")" "cmd,type,domain,token,validation,uri,command,key_auth"
	assert_eq "type" "$(jq -r .type <<<"$perform")" http-01
	assert_eq "uri" "$(jq -r .uri <<<"$perform")" \
		"http://$a/.well-known/acme-challenge/$(jq -r .token <<<"$perform")"
	assert_eq "key_auth prefix" "$(jq -r '.key_auth | split(".")[0]' <<<"$perform")" "$(jq -r .token <<<"$perform")"
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" "$(jq -r .key_auth <<<"$perform")"
	assert_eq "handler words" "$(cut -d' ' -f1 "$HLOG" | paste -sd, -)" \
		"pre-perform,perform,post-perform,pre-cleanup,cleanup,post-cleanup"
}

@test "dehydrated mode: deploy_challenge/clean_challenge DOMAIN TOKEN VALUE" {
	local a=br2.example.com D=$BATS_TEST_TMPDIR/dehydrated.sh
	cat >"$D" <<'EOF'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
printf '%s\n' "$*" >>"$HLOG"
case $1 in
deploy_challenge) post set-txt "{\"host\":\"_acme-challenge.$2.\",\"value\":\"$4\"}" ;;
clean_challenge) post clear-txt "{\"host\":\"_acme-challenge.$2.\"}" ;;
esac
EOF
	chmod +x "$D"
	hooks --dehydrated --handler "$D"
	cb_run --preferred-challenges dns -d "$a" "${HOOKS[@]}"
	[ "$status" -eq 0 ]
	CFG=$CB/config assert_lineage "$CB/config/live/$a" "$a"
	cat "$HLOG" >&2
	# the unknown-command probe first, then startup_hook, then the challenge
	[[ $(sed -n 1p "$HLOG") == this_hookscript_is_broken__* ]]
	assert_eq "startup" "$(sed -n 2p "$HLOG")" startup_hook
	# dns-01 through certbot: the token is unknown, so argv[3] is empty
	grep -Eq "^deploy_challenge $a  [A-Za-z0-9_-]{43}\$" "$HLOG"
	grep -Eq "^clean_challenge $a  [A-Za-z0-9_-]{43}\$" "$HLOG"
	assert_eq "order" "$(grep -Eo '^(deploy|clean)_challenge' "$HLOG" | paste -sd, -)" \
		"deploy_challenge,clean_challenge"
}

@test "JSON mode over --socket: the driver publishes, certbot gets the cert" {
	local a=br3.example.com perform cleanup
	start_driver
	hooks --socket "$SOCK"
	cb_run --preferred-challenges dns -d "$a" "${HOOKS[@]}"
	[ "$status" -eq 0 ]
	CFG=$CB/config assert_lineage "$CB/config/live/$a" "$a"
	cat "$DLOG" >&2
	assert_schema_lines "$DLOG"
	assert_eq "cmds" "$(jq -r .cmd "$DLOG" | paste -sd, -)" "perform_challenge,cleanup"
	perform=$(sed -n 1p "$DLOG") cleanup=$(sed -n 2p "$DLOG")
	assert_eq "perform keys" "$(keys_of "$perform")" "cmd,type,domain,token,validation,txt_domain,key_auth"
	assert_eq "domain" "$(jq -r .domain <<<"$perform")" "$a"
	assert_eq "txt_domain" "$(jq -r .txt_domain <<<"$perform")" "_acme-challenge.$a"
	assert_eq "cleanup status" "$(jq -r .status <<<"$cleanup")" unknown
	assert_eq "same value" "$(jq -r .validation <<<"$cleanup")" "$(jq -r .validation <<<"$perform")"
}

@test "JSON mode over --socket: a fail ack makes the hook exit 5" {
	DRIVER_ACK='{"result":"fail","error":"no DNS today"}' start_driver
	run --separate-stderr env CERTBOT_DOMAIN=br4.example.com CERTBOT_VALIDATION=abc \
		CERTBOT_ALL_DOMAINS=br4.example.com CERTBOT_REMAINING_CHALLENGES=0 \
		timeout "$RUN_TIMEOUT" "$EXTAUTH" certbot-hook auth --socket "$SOCK"
	show
	[ "$status" -eq 5 ]
	grep -q "no DNS today" <<<"$stderr"
	assert_schema_lines "$DLOG"
	assert_eq "cmds" "$(jq -r .cmd "$DLOG" | paste -sd, -)" "perform_challenge"
}

@test "deploy hook: deploy_cert per domain with certbot's live paths" {
	local a=br5a.example.com b=br5b.example.com
	hooks --handler "$H"
	cb_run --preferred-challenges dns -d "$a,$b" "${HOOKS[@]}" \
		--deploy-hook "$EXTAUTH certbot-hook deploy --handler $H"
	[ "$status" -eq 0 ]
	cat "$HLOG" >&2
	assert_eq "deploy calls" "$(grep '^deploy_cert' "$HLOG" | cut -d' ' -f2,4 | paste -sd, -)" \
		"$a $CB/config/live/$a/cert.pem,$b $CB/config/live/$a/cert.pem"
	# after the challenges, never before
	[[ $(tail -n 1 "$HLOG") == deploy_cert* ]]
	[[ $(grep -n '^post-cleanup' "$HLOG" | cut -d: -f1) -lt $(grep -n '^deploy_cert' "$HLOG" | head -1 | cut -d: -f1) ]]
}

@test "a failing handler: the hook exits 5 and certbot does not get a cert" {
	local a=br6.example.com
	hooks --handler "$H"
	HANDLER_FAIL=1 cb_run --preferred-challenges dns -d "$a" "${HOOKS[@]}"
	[ "$status" -ne 0 ]
	[ ! -e "$CB/config/live/$a" ]
	# certbot logs the hook's exit code (it only warns about it)
	grep -q "reported error code 5" "$CB/logs/letsencrypt.log"
	# told is told: cleanup still ran
	grep -q "^cleanup $a" "$HLOG"
}

@test "usage: no certbot environment, JSON mode without --socket, bad word" {
	run --separate-stderr "$EXTAUTH" certbot-hook auth --handler "$H"
	show
	[ "$status" -eq 2 ]
	grep -q CERTBOT_DOMAIN <<<"$stderr"
	run --separate-stderr env CERTBOT_DOMAIN=x.example.com CERTBOT_VALIDATION=abc \
		"$EXTAUTH" certbot-hook auth
	show
	[ "$status" -eq 2 ]
	grep -q -- --socket <<<"$stderr"
	run --separate-stderr "$EXTAUTH" certbot-hook frobnicate --handler "$H"
	show
	[ "$status" -eq 2 ]
	[ ! -e "$HLOG" ]
}

@test "certonly in JSON mode over --socket, no certbot: stdout stays empty" {
	local a=sock1.example.com
	start_driver
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" certonly \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--config-dir "$BATS_TEST_TMPDIR/c" --work-dir "$BATS_TEST_TMPDIR/w" \
		--logs-dir "$BATS_TEST_TMPDIR/l" --agree-tos -m x@example.com -n \
		--preferred-challenges dns -d "$a" --socket "$SOCK" </dev/null
	show
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	assert_schema_lines "$DLOG"
	assert_eq "cmds" "$(jq -r .cmd "$DLOG" | paste -sd, -)" \
		"perform_challenge,cleanup,report"
	assert_eq "cleanup status" "$(jq -r 'select(.cmd=="cleanup").status' "$DLOG")" valid
	[ -L "$BATS_TEST_TMPDIR/c/live/$a/fullchain.pem" ]
}
