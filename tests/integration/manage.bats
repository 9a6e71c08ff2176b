#!/usr/bin/env bats
# manage.bats: the verbs that look after existing lineages (certificates,
# revoke, delete) and -c/--config FILE, against a private Pebble.
#
# setup_file issues two lineages into $BASE once:
#   one.example.com   (one name)
#   two.example.com   (two.example.com, www.two.example.com)
# Tests that change anything work on a copy of $BASE in their own $CFG.
# Both copies share the certificates at Pebble, so each certificate is
# revoked by one test only: "one" by name, "two" by path.
#
# Exit codes: 0 ok, 2 usage, 3 CA/network, 6 storage, 7 locked.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file
	BASE=$BATS_FILE_TMPDIR/base
	export BASE
	local args=(--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE"
		--config-dir "$BASE" --work-dir "$BATS_FILE_TMPDIR/work"
		--logs-dir "$BATS_FILE_TMPDIR/logs" --agree-tos
		--email t@example.com -n --preferred-challenges dns certonly)
	timeout 120 bash "$DRIVER" "$EXTAUTH" "${args[@]}" -d one.example.com \
		>/dev/null || return 1
	timeout 120 bash "$DRIVER" "$EXTAUTH" "${args[@]}" \
		-d two.example.com,www.two.example.com >/dev/null || return 1
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
}

# copy_base: this test's $CFG becomes a copy of the two lineages.
copy_base() {
	cp -a "$BASE" "$CFG"
}

# pebble_status PEM: "Valid" or "Revoked", from Pebble's management API
# (pebble 2.4: GET /cert-status-by-serial/<hex serial>).
pebble_status() {
	local serial
	serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
	curl -fsS --cacert "$PEBBLE_CA_BUNDLE" \
		"$PEBBLE_MGMT_URL/cert-status-by-serial/$serial" | jq -r "$2"
}

# --- certificates -----------------------------------------------------------

@test "certificates: certbot's text format, both lineages, no lock taken" {
	local name days pid
	ext_direct certificates --config-dir "$BASE"
	[ "$status" -eq 0 ]
	assert_eq "first line" "${lines[0]}" "Found the following certs:"
	assert_eq "names" "$(grep -o 'Certificate Name: .*' <<<"$output" | paste -sd, -)" \
		"Certificate Name: one.example.com,Certificate Name: two.example.com"
	grep -qx '    Domains: one.example.com' <<<"$output"
	grep -qx '    Domains: two.example.com www.two.example.com' <<<"$output"
	for name in one.example.com two.example.com; do
		grep -qx "    Certificate Path: $BASE/live/$name/fullchain.pem" <<<"$output"
		grep -qx "    Private Key Path: $BASE/live/$name/privkey.pem" <<<"$output"
		grep -qx "    Serial Number: $(openssl x509 -in "$BASE/live/$name/cert.pem" \
			-noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')" <<<"$output"
	done
	# Expiry Date: 2031-11-27 09:09:33+00:00 (VALID: 1825 days)
	days=$(grep -m1 -o 'Expiry Date: .*(VALID: [0-9]* days)' <<<"$output" |
		sed 's/.*VALID: \([0-9]*\) days.*/\1/')
	[ -n "$days" ] && [ "$days" -gt 0 ]
	assert_eq "Key Type lines" "$(grep -c '^    Key Type: ECDSA$' <<<"$output")" 2
	# read-only: works while the whole of .extauth.lock is locked (the run
	# and config-dir locks are fcntl locks on it, which this excludes) and
	# a lineage's lock is held
	mkfifo "$BATS_TEST_TMPDIR/ready" "$BATS_TEST_TMPDIR/go"
	timeout 60 /usr/bin/python3 -c 'import fcntl, sys
a = open(sys.argv[1], "a"); fcntl.lockf(a, fcntl.LOCK_EX)
b = open(sys.argv[2], "a"); fcntl.lockf(b, fcntl.LOCK_EX)
open(sys.argv[3], "w").write("held\n")
open(sys.argv[4]).read()' "$BASE/.extauth.lock" "$BASE/renewal/one.example.com.lock" \
		"$BATS_TEST_TMPDIR/ready" "$BATS_TEST_TMPDIR/go" 3>&- &
	pid=$!
	read -r _ <"$BATS_TEST_TMPDIR/ready"
	ext_direct certificates --config-dir "$BASE"
	echo go >"$BATS_TEST_TMPDIR/go"
	wait "$pid"
	[ "$status" -eq 0 ]
	grep -q 'two.example.com' <<<"$output"
}

@test "certificates --json: one document with names, domains, dates and paths" {
	local doc end
	ext_direct certificates --json --config-dir "$BASE"
	[ "$status" -eq 0 ]
	doc=$output
	assert_eq "names" "$(jq -r '[.certificates[].name] | join(",")' <<<"$doc")" \
		"one.example.com,two.example.com"
	assert_eq "domains of two" \
		"$(jq -r '.certificates[1].domains | join(",")' <<<"$doc")" \
		"two.example.com,www.two.example.com"
	jq -e --arg b "$BASE" 'all(.certificates[];
		.cert_path == "\($b)/live/\(.name)/cert.pem" and
		.key_path == "\($b)/live/\(.name)/privkey.pem" and
		.fullchain_path == "\($b)/live/\(.name)/fullchain.pem" and
		.chain_path == "\($b)/live/\(.name)/chain.pem")' <<<"$doc"
	jq -e --arg s "$PEBBLE_DIR_URL" 'all(.certificates[];
		.status == "valid" and .valid_days > 0 and .server == $s and
		.mode == "json" and .error == null)' <<<"$doc"
	# not_after is the certificate's, in RFC 3339
	end=$(date -u -d "$(openssl x509 -in "$BASE/live/one.example.com/cert.pem" \
		-noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
	assert_eq "not_after" "$(jq -r '.certificates[0].not_after' <<<"$doc")" "$end"
}

@test "certificates --cert-name: only that lineage; unknown name: nothing" {
	ext_direct certificates --json --cert-name two.example.com --config-dir "$BASE"
	[ "$status" -eq 0 ]
	assert_eq "names" "$(jq -r '[.certificates[].name] | join(",")' <<<"$output")" \
		two.example.com
	ext_direct certificates --cert-name nope.example.com --config-dir "$BASE"
	[ "$status" -eq 0 ]
	assert_eq "text" "$output" "No certificates found."
}

@test "certificates: missing config dir is an empty list and is not created" {
	ext_direct certificates --config-dir "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 0 ]
	assert_eq "text" "$output" "No certificates found."
	ext_direct certificates --json --config-dir "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 0 ]
	assert_eq "json" "$output" '{"cmd": "certificates", "ok": true, "error": null, "certificates": []}'
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
}

@test "certificates: an unreadable certificate shows as invalid with the reason" {
	copy_base
	echo garbage >"$CFG/archive/one.example.com/cert1.pem"
	ext_direct certificates --json --config-dir "$CFG"
	[ "$status" -eq 0 ]
	jq -e '.certificates[0] | .name == "one.example.com" and
		.status == "invalid" and (.error | contains("cert.pem")) and
		.valid_days == null' <<<"$output"
	jq -e '.certificates[1].status == "valid"' <<<"$output"
	ext_direct certificates --config-dir "$CFG"
	[ "$status" -eq 0 ]
	grep -q 'Expiry Date: unknown (INVALID: .*cert.pem' <<<"$output"
	grep -q 'VALID: [0-9]* days' <<<"$output"
}

# --- revoke -----------------------------------------------------------------

@test "revoke --cert-name: server and account from the conf; Pebble says revoked; again: alreadyRevoked, exit 3" {
	local pem
	copy_base
	pem=$CFG/live/one.example.com/cert.pem
	assert_eq "before" "$(pebble_status "$pem" .Status)" Valid
	# no --server and no --ca-bundle: both come from the renewal conf
	ext_direct revoke --cert-name one.example.com --reason keycompromise \
		--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS"
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "report"
	jq -e '.messages[].lines[] | contains("revoked")' <<<"$output"
	grep -q 'revoked' <<<"$stderr"
	assert_eq "after" "$(pebble_status "$pem" .Status)" Revoked
	assert_eq "reason" "$(pebble_status "$pem" .Reason)" 1

	ext_direct revoke --cert-name one.example.com \
		--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS"
	[ "$status" -eq 3 ]
	grep -q 'alreadyRevoked' <<<"$stderr"
	jq -e '.cmd == "report" and (.messages[0].lines[0] | contains("already"))' <<<"$output"
	# revoking does not delete
	[ -L "$pem" ]
}

@test "revoke --cert-path: the lineage is found from the file" {
	local pem
	copy_base
	pem=$CFG/archive/two.example.com/cert1.pem
	assert_eq "before" "$(pebble_status "$pem" .Status)" Valid
	ext_direct revoke --cert-path "$pem" --config-dir "$CFG" --work-dir "$WORK" \
		--logs-dir "$LOGS"
	[ "$status" -eq 0 ]
	assert_eq "after" "$(pebble_status "$pem" .Status)" Revoked
	assert_eq "reason" "$(pebble_status "$pem" .Reason)" 0
	# no new account was registered for it
	assert_eq "accounts" "$(find "$CFG/accounts" -name regr.json | wc -l)" 1
}

@test "revoke: usage errors exit 2 before touching anything" {
	ext_direct revoke --config-dir "$CFG"
	[ "$status" -eq 2 ]
	grep -q -- '--cert-name' <<<"$stderr"
	ext_direct revoke --cert-name a --cert-path /etc/hostname --config-dir "$CFG"
	[ "$status" -eq 2 ]
	ext_direct revoke --cert-name a --reason bored --config-dir "$CFG"
	[ "$status" -eq 2 ]
	grep -q 'bored' <<<"$stderr"
	[ ! -e "$CFG" ]
	copy_base
	ext_direct revoke --cert-name nope.example.com --config-dir "$CFG" \
		--work-dir "$WORK" --logs-dir "$LOGS"
	[ "$status" -eq 2 ]
	grep -q 'nope.example.com' <<<"$stderr"
}

# --- delete -----------------------------------------------------------------

@test "delete: removes live/, archive/ and renewal/ of one lineage only" {
	local n=one.example.com o=two.example.com
	copy_base
	ext_direct delete --cert-name "$n" --config-dir "$CFG" --work-dir "$WORK" \
		--logs-dir "$LOGS"
	[ "$status" -eq 0 ]
	grep -q "$n" <<<"$stderr"
	[ ! -e "$CFG/live/$n" ] && [ ! -L "$CFG/live/$n" ]
	[ ! -e "$CFG/archive/$n" ]
	[ ! -e "$CFG/renewal/$n.conf" ]
	[ -L "$CFG/live/$o/cert.pem" ] && [ -s "$CFG/live/$o/cert.pem" ]
	[ -s "$CFG/archive/$o/cert1.pem" ]
	[ -s "$CFG/renewal/$o.conf" ]
	[ -n "$(ls -A "$CFG/accounts")" ]
	ext_direct certificates --json --config-dir "$CFG"
	assert_eq "left" "$(jq -r '[.certificates[].name] | join(",")' <<<"$output")" "$o"
}

@test "delete: unknown name exits 2 naming it; no --cert-name exits 2" {
	copy_base
	ext_direct delete --cert-name nope.example.com --config-dir "$CFG" \
		--work-dir "$WORK" --logs-dir "$LOGS"
	[ "$status" -eq 2 ]
	grep -q 'nope.example.com' <<<"$stderr"
	# renewal/ also holds each lineage's lock file (store.h)
	assert_eq "lineages" "$(cd "$CFG/renewal" && ls -- *.conf | paste -sd, -)" \
		"one.example.com.conf,two.example.com.conf"
	[ ! -e "$CFG/renewal/nope.example.com.lock" ]
	ext_direct delete --config-dir "$CFG"
	[ "$status" -eq 2 ]
}

@test "delete: waits for nobody: a held lineage lock is exit 7 and nothing goes" {
	local held=$BATS_TEST_TMPDIR/held pid
	copy_base
	# another process holds the lineage's lock (a POSIX record lock, which
	# extauth's open file description locks respect) until told to go
	mkfifo "$held.ready" "$held.go"
	timeout 60 /usr/bin/python3 -c 'import fcntl, sys
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").write("held\n")
open(sys.argv[3]).read()' "$CFG/renewal/one.example.com.lock" "$held.ready" "$held.go" 3>&- &
	pid=$!
	read -r _ <"$held.ready"
	ext_direct delete --cert-name one.example.com --config-dir "$CFG" \
		--work-dir "$WORK" --logs-dir "$LOGS"
	echo go >"$held.go"
	wait "$pid"
	[ "$status" -eq 7 ]
	[[ $stderr == *"certificate one.example.com is being renewed by another extauth run"* ]]
	[ -s "$CFG/renewal/one.example.com.conf" ]
	[ -L "$CFG/live/one.example.com/cert.pem" ]
	# let go: the same delete goes through, and takes the lock file along
	ext_direct delete --cert-name one.example.com --config-dir "$CFG" \
		--work-dir "$WORK" --logs-dir "$LOGS"
	[ "$status" -eq 0 ]
	[ ! -e "$CFG/renewal/one.example.com.conf" ]
	[ ! -e "$CFG/renewal/one.example.com.lock" ]
}

# --- -c/--config FILE ---------------------------------------------------------

@test "-c FILE: agree-tos, email and server from the file; the command line wins" {
	local ini=$BATS_TEST_TMPDIR/cli.ini regr
	cat >"$ini" <<-EOF
	# certbot-style cli.ini
	agree-tos
	email = "ini@example.com"   ; quoted, with a comment
	server = $PEBBLE_DIR_URL
	ca-bundle: $PEBBLE_CA_BUNDLE
	non-interactive = true
	preferred-challenges = dns
	cert-name = from-ini
	EOF
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		-c "$ini" "${DIRS[@]}" --cert-name from-cli -d ini.example.com certonly
	show
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_lineage "$CFG/live/from-cli" ini.example.com
	[ ! -e "$CFG/live/from-ini" ]
	regr=$(find "$CFG/accounts" -name regr.json)
	assert_eq "contact" "$(jq -r '.body.contact | join(",")' "$regr")" \
		"mailto:ini@example.com"
	grep -qx "server = $PEBBLE_DIR_URL" "$CFG/renewal/from-cli.conf"
}

@test "-c FILE: an unknown key or a missing file exits 2 naming file and line" {
	local ini=$BATS_TEST_TMPDIR/bad.ini
	printf 'agree-tos\n\n# fine so far\nno-such-option = 1\n' >"$ini"
	ext_direct --config "$ini" "${DIRS[@]}" -d x.example.com certonly
	[ "$status" -eq 2 ]
	grep -q "$ini:4: unknown option \"no-such-option\"" <<<"$stderr"
	[ -z "$output" ]
	ext_direct -c "$BATS_TEST_TMPDIR/missing.ini" "${DIRS[@]}" certificates
	[ "$status" -eq 2 ]
	grep -q "missing.ini" <<<"$stderr"
	printf 'agree-tos = sometimes\n' >"$ini"
	ext_direct --config="$ini" "${DIRS[@]}" certificates
	[ "$status" -eq 2 ]
	grep -q "$ini:1: agree-tos" <<<"$stderr"
	[ ! -e "$CFG" ]
}
