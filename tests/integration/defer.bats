#!/usr/bin/env bats
# defer.bats: the two-phase mode (issue 9): certonly --defer hands the
# challenges out and ends; resume ID, in another process, finishes the
# order.  Against Pebble with authorization reuse off
# (PEBBLE_AUTHZREUSE=0; each test has its own account anyway) and without
# its 5% badNonce (PEBBLE_WFE_NONCEREJECT=0), so the fault proxy's request
# counts are exact: a rejected nonce would send a request twice.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

teardown() {
	if declare -F faultproxy_stop >/dev/null; then
		faultproxy_stop
	fi
}

# defer ARGS...: extauth ... --defer certonly, nobody on stdin.
defer() {
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" \
		--preferred-challenges dns "$@" --defer certonly </dev/null
	show
}

# resume ID [ARGS...]: extauth resume ID, nobody on stdin.
resume() {
	local id=$1
	shift
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" "$@" \
		resume "$id" </dev/null
	show
}

# publish: the TXT record of every perform_challenge line of the last run.
publish() {
	local l host val
	while IFS= read -r l; do
		host=$(jq -r .txt_domain <<<"$l")
		val=$(jq -r .validation <<<"$l")
		challtestsrv_post set-txt "{\"host\":\"$host.\",\"value\":\"$val\"}" || return 1
	done < <(lines_cmd perform_challenge)
}

# deferred_id: the id of the last run's deferred line.
deferred_id() { lines_cmd deferred | jq -r .id; }

@test "--defer prints the perform lines and a deferred line, saves the order 0600, and exits 0 without waiting" {
	defer -d d1.example.com -d www.d1.example.com
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 2
	assert_eq "last line is deferred" "$(jq -r .cmd <<<"${lines[-1]}")" deferred
	assert_eq "deferred keys" "$(keys_of "${lines[-1]}")" cmd,id,expires,cert_name,resume
	# The seed's perform keys, as a one-pass run prints them.
	assert_eq "perform keys" "$(keys_of "${lines[0]}")" \
		cmd,type,domain,token,validation,txt_domain,key_auth
	id=$(deferred_id)
	[[ $id =~ ^[A-Za-z0-9_-]{1,64}$ && $id != -* ]]
	assert_eq "resume" "$(jq -r .resume <<<"${lines[-1]}")" "extauth resume $id"
	assert_eq "cert_name" "$(jq -r .cert_name <<<"${lines[-1]}")" d1.example.com
	[[ $(jq -r .expires <<<"${lines[-1]}") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
	assert_eq "mode" "$(stat -c %a "$WORK/pending/$id.json")" 600
	assert_eq "dir mode" "$(stat -c %a "$WORK/pending")" 700
	[ ! -e "$CFG/live/d1.example.com" ]
	# Nothing but protocol lines, and no report after the deferred line.
	assert_eq "report lines" "$(count_cmd report)" 0
}

@test "resume in another process answers, finalizes, saves the lineage, prints cleanup and report, removes the pending order" {
	defer -d r1.example.com -d www.r1.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	resume "$id"
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 2
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	assert_eq "report lines" "$(count_cmd report)" 1
	[[ $(lines_cmd cleanup | jq -r .status | sort -u) == valid ]]
	assert_lineage "$CFG/live/r1.example.com" r1.example.com,www.r1.example.com
	[ ! -e "$WORK/pending/$id.json" ]
	[ -f "$CFG/renewal/r1.example.com.conf" ]
	# Finished is finished: a second resume is an unknown order.
	resume "$id"
	[ "$status" -eq 10 ]
	[[ $stderr == *"no pending order $id"* ]]
}

@test "certonly --resume ID is resume ID, --json included" {
	defer -d r2.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" \
		certonly --resume "$id" --json </dev/null
	show
	[ "$status" -eq 0 ]
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 1
	assert_eq "result" "$(lines_cmd resume | jq -c '[.ok, .cert_name]')" '[true,"r2.example.com"]'
	assert_lineage "$CFG/live/r2.example.com" r2.example.com
	[ ! -e "$WORK/pending/$id.json" ]
}

@test "pending lists the pending orders (text and --json) and --cancel sends cleanup and removes one" {
	defer -d p1.example.com -d www.p1.example.com
	[ "$status" -eq 0 ]
	id1=$(deferred_id)
	defer -d p2.example.com
	[ "$status" -eq 0 ]
	id2=$(deferred_id)
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --json
	show
	[ "$status" -eq 0 ]
	assert_eq "listed" "${#lines[@]}" 2
	# Verb output, not protocol lines: the schema's $defs/pending.
	/usr/bin/python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator({"$schema": s["$schema"], "$defs": s["$defs"], "$ref": "#/$defs/pending"})
for line in sys.stdin:
    v.validate(json.loads(line))
' "$REPO_ROOT/doc/protocol.schema.json" <<<"$output"
	l=$(printf '%s\n' "${lines[@]}" | jq -c --arg id "$id1" 'select(.id == $id)')
	assert_eq "keys" "$(keys_of "$l")" id,cert_name,domains,expires,order_url
	assert_eq "domains" "$(jq -r '.domains | join(",")' <<<"$l")" \
		p1.example.com,www.p1.example.com
	assert_eq "cert_name" "$(jq -r .cert_name <<<"$l")" p1.example.com
	[[ $(jq -r .order_url <<<"$l") == "${PEBBLE_DIR_URL%/dir}/"* ]]
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending
	show
	[[ $output == *"Pending order: $id2"* ]]
	[[ $output == *"extauth resume $id1"* ]]
	# No secret in the listing.
	[[ $output != *PRIVATE* ]]
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --cancel "$id1"
	show
	[ "$status" -eq 0 ]
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 2
	[ ! -e "$WORK/pending/$id1.json" ]
	[ -e "$WORK/pending/$id2.json" ]
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --json
	assert_eq "left" "$(jq -r .id <<<"$output")" "$id2"
	# resume --cancel too.
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" resume "$id2" --cancel "$id2"
	show
	[ "$status" -eq 0 ]
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending
	[[ $output == "No pending orders found." ]]
}

@test "an unknown or malformed id: two lines, exit 10 or 2, no request to the CA" {
	# The server is unreachable: nothing may be asked of it.
	run --separate-stderr "$EXTAUTH" --server https://127.0.0.1:1/dir "${DIRS[@]}" \
		resume AAAAAAAAAAAAAAAAAAAAAA </dev/null
	show
	[ "$status" -eq 10 ]
	assert_eq "stderr lines" "$(grep -c . <<<"$stderr")" 2
	[[ $stderr == *"no pending order AAAAAAAAAAAAAAAAAAAAAA"* ]]
	[[ $stderr == *"extauth pending lists"* ]]
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" resume '../../etc/passwd' </dev/null
	show
	[ "$status" -eq 2 ]
	[[ $stderr == *"pending order id is 1 to 64"* ]]
}

@test "records not visible: resume fails as a one-pass run (exit 4), keeps the order, and the next resume finds it invalid (exit 10, removed)" {
	defer -d nv.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	resume "$id"
	[ "$status" -eq 4 ]
	[[ $stderr == *"the CA rejected the dns-01 challenge for nv.example.com"* ]]
	assert_eq "cleanup" "$(lines_cmd cleanup | jq -r .status)" invalid
	[ -e "$WORK/pending/$id.json" ]
	resume "$id"
	[ "$status" -eq 10 ]
	[[ $stderr == *"marked the order"*"invalid"* ]]
	[[ $stderr == *"start again with extauth certonly --defer -d nv.example.com"* ]]
	# What was handed out is cleaned up once more.
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 1
	[ ! -e "$WORK/pending/$id.json" ]
}

@test "an expired pending order: exit 10 before any request, cleanup sent, file removed" {
	defer -d ex.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	f=$WORK/pending/$id.json
	jq '.expires = "2020-01-01T00:00:00Z"' "$f" >"$f.new"
	chmod 600 "$f.new"
	mv "$f.new" "$f"
	run --separate-stderr "$EXTAUTH" --server https://127.0.0.1:1/dir "${DIRS[@]}" \
		resume "$id" </dev/null
	show
	[ "$status" -eq 10 ]
	[[ $stderr == *"pending order $id expired at 2020-01-01T00:00:00Z"* ]]
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 1
	[ ! -e "$f" ]
}

# lock_held FILE: whether some process holds an fcntl lock on FILE.
lock_held() {
	local ino
	ino=$(stat -c %i "$1") || return 1
	grep -q ":$ino " /proc/locks
}

# slow_defer NAME: a pending order whose resume waits for its TXT record
# (--dns-wait, recorded with the lineage), so a resume stays in progress
# until the test publishes.
slow_defer() {
	defer -d "$1" --dns-wait 60 --dns-resolver "127.0.0.1:$PEBBLE_DNS_PORT"
	[ "$status" -eq 0 ] || return 1
	SLOW_LINES=$(lines_cmd perform_challenge)
}

publish_slow() {
	local host val
	host=$(jq -r .txt_domain <<<"$SLOW_LINES")
	val=$(jq -r .validation <<<"$SLOW_LINES")
	challtestsrv_post set-txt "{\"host\":\"$host.\",\"value\":\"$val\"}"
}

@test "two resumes race: one wins, the other gets a clear error and exit 10" {
	# --dns-wait on the resume's command line this time, not in phase 1.
	defer -d race.example.com
	[ "$status" -eq 0 ]
	SLOW_LINES=$(lines_cmd perform_challenge)
	id=$(deferred_id)
	"$EXTAUTH" "${COMMON[@]}" resume "$id" --dns-wait 60 \
		--dns-resolver "127.0.0.1:$PEBBLE_DNS_PORT" </dev/null >"$BATS_TEST_TMPDIR/a.out" \
		2>"$BATS_TEST_TMPDIR/a.err" &
	a=$!
	for _ in $(seq 400); do lock_held "$WORK/pending/$id.json" && break; sleep 0.05; done
	lock_held "$WORK/pending/$id.json"
	resume "$id"
	[ "$status" -eq 10 ]
	[[ $stderr == *"pending order $id is being resumed or cancelled by another extauth (pid $a)"* ]]
	assert_eq "stderr lines" "$(grep -c . <<<"$stderr")" 2
	# The loser touched nothing: the winner finishes.
	publish_slow
	wait "$a"
	assert_eq "winner" "$?" 0
	assert_lineage "$CFG/live/race.example.com" race.example.com
	[ ! -e "$WORK/pending/$id.json" ]
}

@test "kill -9 mid-resume: a plain rerun of resume succeeds" {
	slow_defer crash.example.com
	id=$(deferred_id)
	"$EXTAUTH" "${COMMON[@]}" resume "$id" </dev/null >/dev/null 2>&1 &
	a=$!
	for _ in $(seq 400); do lock_held "$WORK/pending/$id.json" && break; sleep 0.05; done
	lock_held "$WORK/pending/$id.json"
	kill -9 "$a"
	wait "$a" || true
	[ -e "$WORK/pending/$id.json" ]
	publish_slow
	resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/crash.example.com" crash.example.com
	[ ! -e "$WORK/pending/$id.json" ]
}

@test "renew --defer: one deferred line per due lineage, each resumed on its own" {
	ext_run -d rn1.example.com --preferred-challenges dns --deactivate-authz certonly
	[ "$status" -eq 0 ]
	ext_run -d rn2.example.com --preferred-challenges dns --deactivate-authz certonly
	[ "$status" -eq 0 ]
	# Nobody on stdin: with --defer no reply is read, so JSON-mode
	# lineages are not refused.
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${DIRS[@]}" \
		--defer --force-renewal renew </dev/null
	show
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "deferred lines" "$(count_cmd deferred)" 2
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 2
	assert_eq "names" "$(lines_cmd deferred | jq -r .cert_name | sort | paste -sd,)" \
		rn1.example.com,rn2.example.com
	[[ $(lines_cmd report) == *"2 deferred, 0 failed"* ]]
	ids=$(lines_cmd deferred | jq -r .id)
	publish
	for id in $ids; do
		resume "$id"
		[ "$status" -eq 0 ]
		assert_eq "cleanup lines" "$(count_cmd cleanup)" 1
	done
	assert_lineage "$CFG/live/rn1.example.com" rn1.example.com 2
	assert_lineage "$CFG/live/rn2.example.com" rn2.example.com 2
}

@test "handler mode: the perform hooks run in phase 1, the cleanup hooks in phase 2" {
	hlog=$BATS_TEST_TMPDIR/handler.log
	h=$BATS_TEST_TMPDIR/handler.sh
	dns_handler "$h" - <<'HANDLER'
printf '%s %s\n' "$1" "${domain-}" >>"$HLOG"
HANDLER
	export HLOG=$hlog
	defer -d hd.example.com --handler "$h"
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	[[ -n $id ]]
	assert_eq "phase 1" "$(paste -sd, "$hlog")" \
		"pre-perform ,perform hd.example.com,post-perform "
	: >"$hlog"
	# The handler is the one recorded in phase 1: nothing on the command line.
	resume "$id"
	[ "$status" -eq 0 ]
	assert_eq "phase 2" "$(paste -sd, "$hlog")" \
		"pre-cleanup ,cleanup hd.example.com,post-cleanup "
	assert_lineage "$CFG/live/hd.example.com" hd.example.com
	grep -q "^extauth_handler = $h" "$CFG/renewal/hd.example.com.conf"
}

@test "a handler that fails in phase 1: cleanup, no pending order, exit 5" {
	h=$BATS_TEST_TMPDIR/fail.sh
	printf '#!/bin/sh\n[ "$1" = perform ] && exit 1\nexit 0\n' >"$h"
	chmod +x "$h"
	defer -d hf.example.com --handler "$h"
	[ "$status" -eq 5 ]
	assert_eq "deferred lines" "$(count_cmd deferred)" 0
	[ -z "$(ls -A "$WORK/pending")" ]
}

@test "kill -9 after the order was made, before the pending order was saved: a plain rerun of certonly --defer succeeds" {
	load ../lib/faultproxy
	# The first authorization read after newOrder hangs: the run is held
	# between making the order and saving it.
	faultproxy_start stall:kind=authz:secs=6:times=1
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE"
		"${DIRS[@]}" --agree-tos --email t@example.com -n)
	"$EXTAUTH" "${COMMON[@]}" -d k1.example.com --preferred-challenges dns \
		--defer certonly </dev/null >/dev/null 2>&1 &
	a=$!
	for _ in $(seq 400); do
		[[ $(faultproxy_requests newOrder) -ge 1 ]] && break
		sleep 0.05
	done
	assert_eq "order made" "$(faultproxy_requests newOrder)" 1
	kill -9 "$a"
	wait "$a" || true
	[ -z "$(ls -A "$WORK/pending" 2>/dev/null)" ]
	faultproxy_rules
	defer -d k1.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	resume "$id"
	faultproxy_stop
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/k1.example.com" k1.example.com
}

@test "kill -9 while the handler deploys in phase 1: the order is listed, and a plain resume finishes it" {
	h=$BATS_TEST_TMPDIR/slow.sh
	cat >"$h" <<'HANDLER'
#!/usr/bin/env bash
set -eu
if [[ $1 == perform ]]; then
	curl -fsS -o /dev/null -X POST -d "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" \
		"$CHALLTESTSRV_URL/set-txt"
	echo $$ >"$HPID"
	sleep 60
fi
HANDLER
	chmod +x "$h"
	export HPID=$BATS_TEST_TMPDIR/handler.pid
	"$EXTAUTH" "${COMMON[@]}" -d k2.example.com --preferred-challenges dns \
		--handler "$h" --defer certonly </dev/null >/dev/null 2>&1 &
	a=$!
	for _ in $(seq 400); do [[ -s $HPID ]] && break; sleep 0.05; done
	[[ -s $HPID ]]
	kill -9 "$a"
	wait "$a" || true
	kill "$(cat "$HPID")" 2>/dev/null || true
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --json
	show
	id=$(jq -r .id <<<"$output")
	assert_eq "listed" "$(jq -r .cert_name <<<"$output")" k2.example.com
	resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/k2.example.com" k2.example.com
}

@test "dehydrated mode: deploy_challenge in phase 1, clean_challenge and sync_cert in phase 2, as certonly calls them" {
	hlog=$BATS_TEST_TMPDIR/hook.log
	h=$BATS_TEST_TMPDIR/hook.sh
	cat >"$h" <<'HOOK'
#!/usr/bin/env bash
set -eu
case $1 in
deploy_challenge)
	curl -fsS -o /dev/null -X POST -d "{\"host\":\"_acme-challenge.$2.\",\"value\":\"$4\"}" \
		"$CHALLTESTSRV_URL/set-txt" ;;
esac
case $1 in
startup_hook | deploy_challenge | clean_challenge | sync_cert | exit_hook) echo "$1" >>"$HLOG" ;;
esac
HOOK
	chmod +x "$h"
	export HLOG=$hlog
	defer -d dh.example.com --handler "$h" --dehydrated
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	assert_eq "phase 1" "$(paste -sd, "$hlog")" \
		startup_hook,deploy_challenge,exit_hook
	: >"$hlog"
	resume "$id"
	[ "$status" -eq 0 ]
	assert_eq "phase 2" "$(paste -sd, "$hlog")" \
		startup_hook,clean_challenge,sync_cert,exit_hook
	assert_lineage "$CFG/live/dh.example.com" dh.example.com
}

@test "phase 1 run twice for one lineage: the new order supersedes the old one (cleanup for its challenges, file removed)" {
	defer -d twice.example.com
	[ "$status" -eq 0 ]
	old=$(deferred_id)
	old_token=$(lines_cmd perform_challenge | jq -r .token)
	defer -d twice.example.com
	[ "$status" -eq 0 ]
	new=$(deferred_id)
	[[ $new != "$old" ]]
	# The old challenge is cleaned up before the new one is handed out.
	assert_eq "cleanup of the old" "$(lines_cmd cleanup | jq -r .token)" "$old_token"
	assert_eq "order of lines" "$(printf '%s\n' "${lines[@]}" | jq -r .cmd | paste -sd,)" \
		cleanup,perform_challenge,deferred
	[[ $stderr == *"pending order $old of twice.example.com is superseded by $new"* ]]
	publish
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --json
	assert_eq "only the new one" "$(jq -r .id <<<"$output")" "$new"
	# Another lineage's pending order is left alone.
	defer -d other.example.com
	[ "$status" -eq 0 ]
	assert_eq "no cleanup" "$(count_cmd cleanup)" 0
	resume "$new"
	[ "$status" -eq 0 ]
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --json
	assert_eq "the other one" "$(jq -r .cert_name <<<"$output")" other.example.com
	# The same name in another config dir (one work dir for both) is
	# another lineage: its pending order is left alone too.
	defer -d other.example.com --config-dir "$BATS_TEST_TMPDIR/config2"
	[ "$status" -eq 0 ]
	assert_eq "no cleanup" "$(count_cmd cleanup)" 0
	run --separate-stderr "$EXTAUTH" "${DIRS[@]}" pending --json
	assert_eq "both" "$(jq -r .cert_name <<<"$output" | paste -sd,)" \
		other.example.com,other.example.com
}

@test "kill -9 after resume answered the challenge: a plain rerun does not answer it again, and finishes" {
	load ../lib/faultproxy
	# The first authorization poll after the answer hangs.
	faultproxy_start stall:kind=authz:at=2:secs=6:times=1
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE"
		"${DIRS[@]}" --agree-tos --email t@example.com -n)
	defer -d k3.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	faultproxy_rules stall:kind=authz:at=2:secs=6:times=1
	"$EXTAUTH" "${COMMON[@]}" resume "$id" </dev/null >/dev/null 2>&1 &
	a=$!
	for _ in $(seq 400); do
		[[ $(faultproxy_requests challenge) -ge 1 ]] && break
		sleep 0.05
	done
	assert_eq "answered once" "$(faultproxy_requests challenge)" 1
	kill -9 "$a"
	wait "$a" || true
	faultproxy_rules
	resume "$id"
	[ "$status" -eq 0 ]
	assert_eq "cleanup" "$(lines_cmd cleanup | jq -r .status)" valid
	# The CA had the answer: the rerun read it, never sent it again.
	assert_eq "challenge requests" "$(faultproxy_requests challenge)" 1
	assert_lineage "$CFG/live/k3.example.com" k3.example.com
	[ ! -e "$WORK/pending/$id.json" ]
}

# pending_swap_server ID: points the pending order at a CA that cannot be
# reached (the original kept in $BATS_TEST_TMPDIR/ID.orig), so a run that
# asked the CA anything would exit 3, not with the code under test.
pending_swap_server() {
	local f=$WORK/pending/$1.json
	cp -p "$f" "$BATS_TEST_TMPDIR/$1.orig"
	jq '.server = "https://127.0.0.1:1/dir"' "$f" >"$f.new"
	chmod 600 "$f.new"
	mv "$f.new" "$f"
}

pending_restore() {
	mv "$BATS_TEST_TMPDIR/$1.orig" "$WORK/pending/$1.json"
}

@test "resume meets the lineage's lock held by another process: exit 7 before any request to the CA, two lines naming the lineage, the order kept; the rerun finishes it" {
	defer -d lk.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	pending_swap_server "$id"
	lock_hold "$CFG/renewal/lk.example.com.lock"
	resume "$id"
	lock_release
	[ "$status" -eq 7 ]
	[[ $stderr == *"certificate lk.example.com is being renewed or resumed by another process; pending order $id is kept"* ]]
	[[ $stderr == *"run extauth resume $id again when that run ends"* ]]
	assert_eq "stderr lines" "$(grep -c . <<<"$stderr")" 2
	# Nothing handed back: the outside party's records stay for the rerun.
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 0
	[ -e "$WORK/pending/$id.json" ]
	[ ! -e "$CFG/live/lk.example.com" ]
	pending_restore "$id"
	resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/lk.example.com" lk.example.com
	[ ! -e "$WORK/pending/$id.json" ]
}

# gate_handler: a handler whose perform publishes the TXT record and then,
# while the FIFO $GATE exists, waits for a line on it (its pid in $HPID);
# its cleanup leaves the records, so a pending order's stay published.
gate_handler() {
	local h=$BATS_TEST_TMPDIR/gate.sh
	cat >"$h" <<'HANDLER'
#!/usr/bin/env bash
set -eu
if [[ $1 == perform ]]; then
	curl -fsS -o /dev/null -X POST -d "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" \
		"$CHALLTESTSRV_URL/set-txt"
	if [[ -p $GATE ]]; then
		echo $$ >"$HPID"
		read -r _ <"$GATE"
	fi
fi
HANDLER
	chmod +x "$h"
	export GATE=$BATS_TEST_TMPDIR/gate HPID=$BATS_TEST_TMPDIR/handler.pid
	GATE_HANDLER=$h
}

@test "a resume while renew of the lineage is mid-order: exit 7, the order kept; renew finalizes once, and the rerun of resume after it once more" {
	load ../lib/faultproxy
	# No faults: the proxy counts the finalize requests.
	faultproxy_start
	COMMON=(--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE"
		"${DIRS[@]}" --agree-tos --email t@example.com -n)
	gate_handler
	ext_run -d mo.example.com --preferred-challenges dns --handler "$GATE_HANDLER" \
		--deactivate-authz certonly
	[ "$status" -eq 0 ]
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${DIRS[@]}" \
		--defer --force-renewal renew </dev/null
	show
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	[[ -n $id ]]
	# A renew of the same lineage, held in its handler's perform: it has
	# made its order and holds the lineage's lock.
	mkfifo "$GATE"
	"$EXTAUTH" "${DIRS[@]}" --force-renewal --deactivate-authz renew </dev/null \
		>"$BATS_TEST_TMPDIR/renew.out" 2>"$BATS_TEST_TMPDIR/renew.err" &
	a=$!
	for _ in $(seq 400); do [[ -s $HPID ]] && break; sleep 0.05; done
	[[ -s $HPID ]]
	resume "$id"
	[ "$status" -eq 7 ]
	[[ $stderr == *"certificate mo.example.com is being renewed or resumed by another process"* ]]
	[ -e "$WORK/pending/$id.json" ]
	assert_lineage "$CFG/live/mo.example.com" mo.example.com 1
	echo go >"$GATE"
	wait "$a"
	assert_eq "renew" "$?" 0
	rm -f "$GATE"
	# One finalize between them (certonly's, then renew's): one new
	# version.
	assert_eq "finalize requests" "$(faultproxy_requests finalize)" 2
	assert_lineage "$CFG/live/mo.example.com" mo.example.com 2
	resume "$id"
	[ "$status" -eq 0 ]
	assert_eq "finalize requests" "$(faultproxy_requests finalize)" 3
	assert_lineage "$CFG/live/mo.example.com" mo.example.com 3
	[ ! -e "$WORK/pending/$id.json" ]
}

@test "a renew while a resume of the lineage runs: skipped as in progress elsewhere, no order of its own" {
	ext_run -d ip.example.com --preferred-challenges dns --deactivate-authz certonly
	[ "$status" -eq 0 ]
	# Its resume waits for the TXT record (--dns-wait), holding the lock.
	defer -d ip.example.com --force-renewal --dns-wait 60 \
		--dns-resolver "127.0.0.1:$PEBBLE_DNS_PORT"
	[ "$status" -eq 0 ]
	SLOW_LINES=$(lines_cmd perform_challenge)
	id=$(deferred_id)
	"$EXTAUTH" "${COMMON[@]}" resume "$id" </dev/null >"$BATS_TEST_TMPDIR/a.out" \
		2>"$BATS_TEST_TMPDIR/a.err" &
	a=$!
	for _ in $(seq 400); do lock_held "$CFG/renewal/ip.example.com.lock" && break; sleep 0.05; done
	lock_held "$CFG/renewal/ip.example.com.lock"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${DIRS[@]}" \
		--force-renewal renew </dev/null
	show
	[ "$status" -eq 0 ]
	[[ $stderr == *"ip.example.com: in progress elsewhere"* ]]
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	publish_slow
	wait "$a"
	assert_eq "resume" "$?" 0
	# The first certonly and the resume: nothing from the renew.
	assert_lineage "$CFG/live/ip.example.com" ip.example.com 2
}

# deploy_dir_hook: a renewal-hooks/deploy/ script that logs its lineage
# and names, one line a run, to $DLOG.
deploy_dir_hook() {
	mkdir -p "$CFG/renewal-hooks/deploy"
	printf '#!/bin/sh\necho "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >>"$DLOG"\n' \
		>"$CFG/renewal-hooks/deploy/log.sh"
	chmod +x "$CFG/renewal-hooks/deploy/log.sh"
	export DLOG=$BATS_TEST_TMPDIR/deploy.log
	: >"$DLOG"
}

@test "resume of an order renew --defer made runs renewal-hooks/deploy/ once, as renew would; one certonly --defer made does not, as certonly" {
	ext_run -d dp.example.com -d www.dp.example.com --preferred-challenges dns \
		--deactivate-authz certonly
	[ "$status" -eq 0 ]
	deploy_dir_hook
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${DIRS[@]}" \
		--defer --force-renewal renew </dev/null
	show
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	assert_eq "renew recorded" "$(jq -r .renew "$WORK/pending/$id.json")" true
	publish
	# Phase 1 renewed nothing: nothing deployed yet.
	[ ! -s "$DLOG" ]
	resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/dp.example.com" dp.example.com,www.dp.example.com 2
	assert_eq "deploy hook ran once" "$(cat "$DLOG")" \
		"$CFG/live/dp.example.com|dp.example.com www.dp.example.com"
	: >"$DLOG"
	defer -d dc.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	assert_eq "not renew" "$(jq -r .renew "$WORK/pending/$id.json")" false
	publish
	resume "$id"
	[ "$status" -eq 0 ]
	[ ! -s "$DLOG" ]
}

@test "the config dir of phase 1 is recorded: resume with another is refused before any request (exit 2), without one uses it; an older pending order keeps resume's own" {
	defer -d cd1.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	assert_eq "recorded" "$(jq -r .config_dir "$WORK/pending/$id.json")" "$(realpath "$CFG")"
	publish
	other=$BATS_TEST_TMPDIR/other
	pending_swap_server "$id"
	ext_direct --config-dir "$other" --work-dir "$WORK" --logs-dir "$LOGS" "$NO_SLEEP" \
		resume "$id"
	[ "$status" -eq 2 ]
	[[ $stderr == *"pending order $id was made for the config dir $(realpath "$CFG"), not $other"* ]]
	[[ $stderr == *"run extauth resume $id with --config-dir $(realpath "$CFG"), or without --config-dir"* ]]
	assert_eq "stderr lines" "$(grep -c . <<<"$stderr")" 2
	[ ! -e "$other" ]
	[ -e "$WORK/pending/$id.json" ]
	pending_restore "$id"
	# The same directory by another path is the same.
	ln -s "$CFG" "$BATS_TEST_TMPDIR/cfg-link"
	ext_direct --config-dir "$BATS_TEST_TMPDIR/cfg-link" --work-dir "$WORK" \
		--logs-dir "$LOGS" "$NO_SLEEP" resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/cd1.example.com" cd1.example.com
	# No --config-dir: the recorded one, not the default.
	defer -d cd2.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	ext_direct --work-dir "$WORK" --logs-dir "$LOGS" "$NO_SLEEP" resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/cd2.example.com" cd2.example.com
	[ ! -e "/etc/extauth/live/cd2.example.com" ]
	# A pending order from before it was recorded: resume's own config
	# dir, as then (here the same one phase 1 used).
	defer -d cd3.example.com
	[ "$status" -eq 0 ]
	id=$(deferred_id)
	publish
	f=$WORK/pending/$id.json
	jq 'del(.config_dir, .renew)' "$f" >"$f.new"
	chmod 600 "$f.new"
	mv "$f.new" "$f"
	resume "$id"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/cd3.example.com" cd3.example.com
}
