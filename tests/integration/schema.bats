#!/usr/bin/env bats
# stderr is set by bats' run --separate-stderr.
# shellcheck disable=SC2154
# schema.bats: doc/protocol.schema.json and its validator (tests/lib/
# schema.py, schema.bash).  The seed plugin's README lines stay valid
# forever; deliberately bad lines and replies are refused, by the
# validator and by the helpers every bats file reads JSON lines through;
# a handler's cbot_json lines of a real run are valid too.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file PEBBLE_AUTHZREUSE=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

# refused LINE: the validator refuses this one line and names it.
refused() {
	run --separate-stderr assert_schema_lines - <<<"$1"
	[ "$status" -eq 1 ] || { echo "accepted: $1" >&2; return 1; }
	grep -q 'line 1 is not a valid protocol line' <<<"$stderr"
}

@test "the schema is Draft 2020-12, and its \$id, title and version agree" {
	local v
	jq -e '."$schema" == "https://json-schema.org/draft/2020-12/schema"' "$SCHEMA_FILE"
	v=$(jq -r '."$defs".version.const' "$SCHEMA_FILE")
	[[ $v =~ ^[0-9]+\.[0-9]+$ ]]
	assert_eq "\$id" "$(jq -r '."$id"' "$SCHEMA_FILE")" "urn:extauth:protocol:${v%%.*}"
	jq -e --arg v "$v" '.title | endswith("version " + $v)' "$SCHEMA_FILE"
	# what a version bump means is said in the schema itself
	jq -e '.description | test("MINOR bump") and test("MAJOR bump")' "$SCHEMA_FILE"
	# schema.py checks the schema against the 2020-12 metaschema on load
	assert_schema_lines - <<<'{"cmd": "restart"}'
	# extauth-protocol(7) points to the installed schema and says the version
	run env LC_ALL=C MANWIDTH=1000 man -l "$(dirname "$EXTAUTH")/man/extauth-protocol.7"
	[ "$status" -eq 0 ]
	grep -qF '/usr/share/extauth/protocol.schema.json' <<<"$output"
	grep -qF "This page describes version $v." <<<"$output"
}

@test "every line of the seed plugin's README is valid, forever" {
	local f=$REPO_ROOT/tests/lib/schema.seed.jsonl
	assert_eq "lines" "$(wc -l <"$f")" 17
	assert_eq "cmds" "$(jq -r .cmd "$f" | sort -u | paste -sd, -)" \
		"cleanup,deploy_cert,perform_challenge,report,restart,save"
	assert_eq "types" "$(jq -r 'select(.type).type' "$f" | sort -u | paste -sd, -)" \
		"dns-01,http-01"
	assert_schema_lines "$f"
}

@test "deliberately invalid lines are refused, each with the reason" {
	local ok='{"cmd": "perform_challenge", "type": "dns-01", "domain": "a.example.com", "token": "tok_-1", "validation": "667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc", "txt_domain": "_acme-challenge.a.example.com", "key_auth": "tok_-1.thumb"}'
	assert_schema_lines - <<<"$ok"
	# a key missing, one too many, a wrong type, a bad token, a bad
	# value per challenge type, an unknown cmd or type, not an object
	refused "$(jq -c 'del(.txt_domain)' <<<"$ok")"
	refused "$(jq -c '.extra = 1' <<<"$ok")"
	refused "$(jq -c '.domain = 7' <<<"$ok")"
	refused "$(jq -c '.token = "a/b"' <<<"$ok")"
	refused "$(jq -c '.validation = "not base64url"' <<<"$ok")"
	refused "$(jq -c '.txt_domain = "a.example.com"' <<<"$ok")"
	refused "$(jq -c '.type = "tls-sni-01"' <<<"$ok")"
	refused "$(jq -c '.type = "http-01"' <<<"$ok")"
	refused "$(jq -c '.cmd = "validate"' <<<"$ok")"
	refused '{"type": "dns-01"}'
	# the newer DNS types: token and key_auth null only for
	# dns-persist-01, whose cleanup says persist; each record name its own
	local persist='{"cmd": "cleanup", "type": "dns-persist-01", "status": "valid", "domain": "a.example.com", "token": null, "validation": "ca.example; accounturi=https://ca/a/1", "txt_domain": "_validation-persist.a.example.com", "key_auth": null, "validated": null, "error": null, "persist": true}'
	assert_schema_lines - <<<"$persist"
	refused "$(jq -c 'del(.persist)' <<<"$persist")"
	refused "$(jq -c '.txt_domain = "_acme-challenge.a.example.com"' <<<"$persist")"
	refused "$(jq -c '.token = null' <<<"$ok")"
	refused "$(jq -c '.type = "dns-account-01"' <<<"$ok")"
	assert_schema_lines - <<<"$(jq -c '.type = "dns-account-01" | .txt_domain = "_ujmmovf2vn55tgye._acme-challenge.a.example.com"' <<<"$ok")"
	# the seed's dns-01 cleanup line has no txt_domain
	refused '{"cmd": "cleanup", "type": "dns-01", "status": "valid", "domain": "a.example.com", "token": "t", "validation": "v", "txt_domain": "_acme-challenge.a.example.com", "key_auth": "t.k", "validated": null, "error": null}'
	refused '{"cmd": "cleanup", "type": "dns-01", "status": "pending", "domain": "a.example.com", "token": "t", "validation": "v", "key_auth": "t.k", "validated": "yesterday", "error": null}'
	refused '{"cmd": "deploy_cert", "domain": "a.example.com", "cert_path": "/c", "key_path": "/k", "chain_path": "/ch", "fullchain_path": "/f", "timestamp": 1.5, "cert_timestamp": 1.5}'
	refused '{"cmd": "report", "messages": [{"priority": 1, "lines": []}]}'
	refused '{"cmd": "report", "messages": [], "cert_name": "a"}'
	refused '{"cmd": "save", "title": null}'
	# a line without cmd can only be one of extauth pending --json
	assert_schema_lines - <<<'{"id": "a1", "cert_name": "a", "domains": ["a"], "expires": null, "order_url": "https://ca/o/1"}'
	refused '{"id": "a1", "cert_name": "a", "domains": ["a"], "expires": null}'
	refused '{"id": "a1", "cert_name": "a", "domains": ["a"], "expires": null, "order_url": "https://ca/o/1", "x": 1}'
	refused '{}'
	# a verb's --json line: only cmd, ok and error when it failed
	assert_schema_lines - <<<'{"cmd": "delete", "ok": true, "error": null, "cert_name": "a"}'
	assert_schema_lines - <<<'{"cmd": "delete", "ok": false, "error": "no certificate named a"}'
	refused '{"cmd": "delete", "ok": false, "error": "x", "cert_name": "a"}'
	refused '{"cmd": "delete", "ok": false, "error": null}'
	refused '{"cmd": "delete", "ok": true, "error": null}'
	refused '["cmd", "restart"]'
	refused '{"cmd": "restart"'
	refused ''
	# one bad line among good ones fails the file, and names its number
	run --separate-stderr assert_schema_lines - < <(printf '%s\n' "$ok" '{"cmd": "restart", "x": 1}' "$ok")
	[ "$status" -eq 1 ]
	grep -q 'line 2 is not a valid protocol line' <<<"$stderr"
	grep -Eq "(Additional|Unevaluated) properties are not allowed \('x' was unexpected\)" <<<"$stderr"
}

@test "replies: the ones extauth accepts are valid, the ones it refuses are not" {
	printf '%s\n' '' '   ' '{"result": "ok"}' '{"result": "fail", "error": "no DNS API"}' \
		'{"result": "ok", "note": "keys extauth does not know are ignored"}' |
		assert_schema_replies -
	local bad
	for bad in '{}' '{"result": "maybe"}' '{"result": "fail", "error": 5}' \
		'["ok"]' 'ok' '{"result": "ok"'; do
		run --separate-stderr assert_schema_replies - <<<"$bad"
		[ "$status" -eq 1 ] || { echo "accepted reply: $bad" >&2; return 1; }
	done
}

# with_stdout TEXT CMD...: CMD as after a run whose stdout was TEXT.
with_stdout() {
	output=$1
	mapfile -t lines <<<"$1"
	"${@:2}"
}

@test "the helpers every bats file reads lines through refuse an invalid line" {
	local good='{"cmd": "restart", "cert_name": "a.example.com"}'
	local bad='{"cmd": "restart", "bogus": true}'
	with_stdout "$good" schema_check_output
	with_stdout "$good" assert_stdout_json
	with_stdout "$good" lines_cmd restart
	# run: each in a subshell, so the failure is the helper's own
	run ! with_stdout "$bad" schema_check_output
	run ! with_stdout "$bad" assert_stdout_json
	run ! with_stdout "$bad" lines_cmd restart
	run ! with_stdout "$bad" show
	# ext_run and ext_direct check what the run printed: an "extauth"
	# that prints a perform line and waits for its reply (so that it is
	# still there when the driver starts reading), alone or through the
	# JSON driver (which acknowledges it without publishing)
	local fake=$BATS_TEST_TMPDIR/fake-extauth
	local perform='{"cmd": "perform_challenge", "type": "dns-01", "domain": "a.example.com", "token": "t", "validation": "v", "txt_domain": "_acme-challenge.a.example.com", "key_auth": "t.k"}'
	fake_prints() {
		printf '#!/bin/sh\necho %s\nread -r ack\n' "'$1'" >"$fake"
		chmod +x "$fake"
	}
	fake_prints "${perform%\}}, \"bogus\": true}"
	EXTAUTH=$fake run ! ext_direct
	EXTAUTH=$fake DRIVER_NO_PUBLISH=1 run ! ext_run
	fake_prints "$perform"
	EXTAUTH=$fake ext_direct
	EXTAUTH=$fake DRIVER_NO_PUBLISH=1 ext_run
	assert_eq "through the driver" "$output" "$perform"
	# text around the lines (a driver's, a verb's) is not the schema's business
	with_stdout $'No certificates found.\n{"cmd": "restart"}' schema_check_output
}

@test "a real run: stdout lines and a handler's cbot_json lines are valid" {
	local h=$BATS_TEST_TMPDIR/handler.sh
	cat >"$h" <<'EOS'
#!/bin/bash
printf '%s\n' "$cbot_json" >>"$CBOT_LOG"
api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
case $1 in
perform) api add-http01 "{\"token\":\"$token\",\"content\":\"$key_auth\"}" ;;
cleanup) api del-http01 "{\"token\":\"$token\"}" ;;
esac
exit 0
EOS
	chmod +x "$h"
	export CBOT_LOG=$BATS_TEST_TMPDIR/cbot.log
	ext_direct "${COMMON[@]}" -d schema.example.com --preferred-challenges http \
		--handler "$h" run
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "handler words" "$(jq -r .cmd "$CBOT_LOG" | paste -sd, -)" \
		"pre-perform,perform_challenge,post-perform,pre-cleanup,cleanup,post-cleanup,deploy_cert"
	assert_schema_lines "$CBOT_LOG"
}
