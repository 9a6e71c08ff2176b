#!/usr/bin/env bats
# stderr is set by bats' run --separate-stderr.
# shellcheck disable=SC2154
# json_verbs.bats: --json of certificates, show_account, revoke and delete
# against Pebble.  Each prints exactly one line on stdout, instead of the
# report line: {"cmd": VERB, "ok": true, "error": null, ...the verb's keys}
# on success, {"cmd": VERB, "ok": false, "error": "what; what to do"} on
# failure, with the exit code unchanged.  ext_direct checks every line
# against doc/protocol.schema.json (tests/lib/schema.bash).
#
# setup_file issues one lineage into $BASE once; tests copy it.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file
	BASE=$BATS_FILE_TMPDIR/base
	export BASE
	timeout 120 bash "$DRIVER" "$EXTAUTH" --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --config-dir "$BASE" \
		--work-dir "$BATS_FILE_TMPDIR/work" --logs-dir "$BATS_FILE_TMPDIR/logs" \
		--agree-tos --email t@example.com -n --preferred-challenges dns \
		-d jv.example.com,www.jv.example.com certonly >/dev/null || return 1
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	cp -a "$BASE" "$CFG"
	LOCAL=(--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS")
}

# one_line CMD OK: stdout is one JSON line (schema-checked by ext_direct)
# for verb CMD with ok OK.
one_line() {
	assert_eq "stdout lines" "${#lines[@]}" 1
	assert_stdout_json
	assert_eq "cmd" "$(jq -r .cmd <<<"$output")" "$1"
	assert_eq "ok" "$(jq -r .ok <<<"$output")" "$2"
}

@test "certificates --json: one line, the lineage's facts" {
	local pem=$CFG/live/jv.example.com/cert.pem end serial
	ext_direct certificates --json "${LOCAL[@]}"
	[ "$status" -eq 0 ]
	one_line certificates true
	jq -e '.error == null and (.certificates | length) == 1' <<<"$output"
	jq -e --arg c "$CFG" --arg s "$PEBBLE_DIR_URL" '.certificates[0] |
		.name == "jv.example.com" and
		.domains == ["jv.example.com", "www.jv.example.com"] and
		.status == "valid" and .due == false and .failed_renewals == 0 and
		.valid_days > 0 and .error == null and .server == $s and
		.mode == "json" and .key_type == "ECDSA" and
		.fullchain_path == "\($c)/live/jv.example.com/fullchain.pem"' <<<"$output"
	end=$(date -u -d "$(openssl x509 -in "$pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
	assert_eq "not_after" "$(jq -r '.certificates[0].not_after' <<<"$output")" "$end"
	serial=$(openssl x509 -in "$pem" -noout -serial | cut -d= -f2 | sed "s/^0*//")
	assert_eq "serial" "$(jq -r '.certificates[0].serial | ascii_upcase | ltrimstr("0")' <<<"$output")" \
		"$serial"
	# a failure is one line too, with both lines of the error
	ext_direct certificates --json --cert-name ../etc "${LOCAL[@]}"
	[ "$status" -eq 2 ]
	one_line certificates false
	jq -e '(.error | length) > 0 and (keys | length) == 3' <<<"$output"
}

@test "show_account --json: the account at the CA, the report line left out" {
	local regr dir
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	ext_direct "${COMMON[@]}" show_account --json
	[ "$status" -eq 0 ]
	one_line show_account true
	regr=$(find "$CFG/accounts" -name regr.json)
	assert_eq "account_url" "$(jq -r .account_url <<<"$output")" "$(jq -r .uri "$regr")"
	jq -e --arg s "$PEBBLE_DIR_URL" '.server == $s and .status == "valid" and
		.contact == ["mailto:t@example.com"] and .error == null' <<<"$output"
	# the CA's profiles, as its directory lists them; CAA records when it
	# has caaIdentities
	dir=$(curl -fsS --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_DIR_URL")
	assert_eq "profiles" "$(jq -cS .profiles <<<"$output")" "$(jq -cS '.meta.profiles // {}' <<<"$dir")"
	assert_eq "caa_records" "$(jq -c '.caa_records | length' <<<"$output")" \
		"$(jq -c '.meta.caaIdentities // [] | length' <<<"$dir")"
	# without --json: the report line, as before
	ext_direct "${COMMON[@]}" show_account
	[ "$status" -eq 0 ]
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" report
	# no account for this server: exit 2, one line saying so
	ext_direct --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--config-dir "$BATS_TEST_TMPDIR/empty" --work-dir "$WORK" --logs-dir "$LOGS" \
		show_account --json
	[ "$status" -eq 2 ]
	one_line show_account false
	jq -e '.error | test("there is no account")' <<<"$output"
}

@test "revoke --json: what was revoked; again: alreadyRevoked, exit 3, ok false" {
	local pem=$CFG/live/jv.example.com/cert.pem
	ext_direct revoke --json --cert-name jv.example.com --reason superseded "${LOCAL[@]}"
	[ "$status" -eq 0 ]
	one_line revoke true
	jq -e --arg p "$pem" --arg s "$PEBBLE_DIR_URL" '.cert_name == "jv.example.com" and
		.cert_path == $p and .reason == "superseded" and .reason_code == 4 and
		.server == $s' <<<"$output"
	# Pebble agrees
	run curl -fsS --cacert "$PEBBLE_CA_BUNDLE" \
		"$PEBBLE_MGMT_URL/cert-status-by-serial/$(openssl x509 -in "$pem" -noout -serial | cut -d= -f2)"
	jq -e '.Status == "Revoked" and .Reason == 4' <<<"$output"
	ext_direct revoke --json --cert-name jv.example.com "${LOCAL[@]}"
	[ "$status" -eq 3 ]
	one_line revoke false
	jq -e '.error | test("already")' <<<"$output"
	# usage errors before any request are lines too
	ext_direct revoke --json --reason bored --cert-name jv.example.com "${LOCAL[@]}"
	[ "$status" -eq 2 ]
	one_line revoke false
	jq -e '.error | test("bored")' <<<"$output"
}

@test "delete --json: the lineage is gone; again: exit 2, ok false" {
	ext_direct delete --json --cert-name jv.example.com "${LOCAL[@]}"
	[ "$status" -eq 0 ]
	one_line delete true
	jq -e '.cert_name == "jv.example.com" and .error == null' <<<"$output"
	[ ! -e "$CFG/live/jv.example.com" ] && [ ! -e "$CFG/renewal/jv.example.com.conf" ]
	ext_direct delete --json --cert-name jv.example.com "${LOCAL[@]}"
	[ "$status" -eq 2 ]
	one_line delete false
	jq -e '.error | test("no certificate named jv.example.com")' <<<"$output"
	ext_direct delete --json "${LOCAL[@]}"
	[ "$status" -eq 2 ]
	one_line delete false
}

@test "resume --json: the cleanup lines, then the lineage instead of the report; --cancel and an unknown id too" {
	local id l
	ext_direct "${COMMON[@]}" --preferred-challenges dns -d jvr.example.com --defer certonly
	[ "$status" -eq 0 ]
	id=$(lines_cmd deferred | jq -r .id)
	while IFS= read -r l; do
		challtestsrv_post set-txt "$(jq -c '{host: (.txt_domain + "."), value: .validation}' <<<"$l")"
	done < <(lines_cmd perform_challenge)
	ext_direct "${COMMON[@]}" resume "$id" --json
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "cleanup,resume"
	jq -e --arg c "$CFG" '.ok == true and .error == null and
		.cert_name == "jvr.example.com" and .domains == ["jvr.example.com"] and
		.fullchain_path == "\($c)/live/jvr.example.com/fullchain.pem"' <<<"${lines[1]}"
	assert_eq "not_after" "$(jq -r .not_after <<<"${lines[1]}")" \
		"$(date -u -d "$(openssl x509 -in "$CFG/live/jvr.example.com/cert.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)"
	assert_lineage "$CFG/live/jvr.example.com" jvr.example.com
	# the same id again: gone, exit 10, one failure line
	ext_direct "${COMMON[@]}" resume "$id" --json
	[ "$status" -eq 10 ]
	one_line resume false
	# --cancel: the cleanup line, then which order went
	ext_direct "${COMMON[@]}" --preferred-challenges dns -d jvc.example.com --defer certonly
	id=$(lines_cmd deferred | jq -r .id)
	ext_direct "${COMMON[@]}" resume "$id" --cancel "$id" --json
	[ "$status" -eq 0 ]
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "cleanup,resume"
	jq -e --arg id "$id" '.ok == true and .cancelled == $id' <<<"${lines[1]}"
}

@test "--json is refused where a verb has no result line" {
	ext_direct renew --json "${LOCAL[@]}"
	[ "$status" -eq 2 ]
	grep -q -- '--json' <<<"$stderr"
	[ -z "$output" ]
}
