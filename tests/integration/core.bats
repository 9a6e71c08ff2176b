#!/usr/bin/env bats
# core.bats: end-to-end tests of extauth's core in JSON mode against a
# private Pebble (tests/lib/pebble.bash), driven by examples/json-driver.sh.
# Names are unique per test: the account/config dir is fresh per test, but
# Pebble is shared by the whole file.  challtestsrv answers 127.0.0.1 for
# every A query, so any name can be validated.
#
# Exit codes: 0 ok, 2 usage, 3 ACME/network, 4 challenge rejected, 5 invoker
# abort, 6 storage, 7 locked, 8 partial (renew), 1 internal.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	common_setup_file
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
	# test 12 leaves a background extauth if it fails half-way
	if [[ -n ${BG_PID:-} ]]; then
		kill "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
}

# --- 1 ----------------------------------------------------------------------

@test "dns-01, one name: JSON lines, lineage files, verifiable cert" {
	local name=t1.example.com perform cleanup report ka
	ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	# exactly perform, cleanup, report, in this order
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "perform_challenge,cleanup,report"

	perform=${lines[0]} cleanup=${lines[1]} report=${lines[2]}
	assert_eq "perform keys" "$(keys_of "$perform")" "cmd,type,domain,token,validation,txt_domain,key_auth"
	assert_eq "type" "$(jq -r .type <<<"$perform")" dns-01
	assert_eq "domain" "$(jq -r .domain <<<"$perform")" "$name"
	assert_eq "txt_domain" "$(jq -r .txt_domain <<<"$perform")" "_acme-challenge.$name"
	ka=$(jq -r .key_auth <<<"$perform")
	assert_eq "key_auth prefix" "${ka%%.*}" "$(jq -r .token <<<"$perform")"
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" "$(b64url_sha256 "$ka")"

	assert_eq "cleanup keys" "$(keys_of "$cleanup")" \
		"cmd,type,status,domain,token,validation,key_auth,validated,error"
	assert_eq "cleanup status" "$(jq -r .status <<<"$cleanup")" valid
	jq -e '.validated != null and .error == null' <<<"$cleanup"
	assert_eq "cleanup token" "$(jq -r .token <<<"$cleanup")" "$(jq -r .token <<<"$perform")"

	jq -e --arg p "live/$name/fullchain.pem" \
		'[.messages[].lines[]] | any(contains($p))' <<<"$report"

	assert_lineage "$CFG/live/$name" "$name"
}

# --- 2 ----------------------------------------------------------------------

# two_names_ok A B: two challenges, both valid, one cert with both SANs.
two_names_ok() {
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 2
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 2
	assert_eq "domains" "$(lines_cmd perform_challenge | jq -r .domain | sort | paste -sd, -)" "$1,$2"
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | paste -sd, -)" "valid,valid"
	assert_lineage "$CFG/live/$1" "$1,$2"
}

@test "dns-01, two names with -d a,b" {
	ext_run -d t2a.example.com,t2b.example.com --preferred-challenges dns certonly
	two_names_ok t2a.example.com t2b.example.com
}

@test "dns-01, two names with repeated -d" {
	ext_run -d t2c.example.com -d t2d.example.com --preferred-challenges dns certonly
	two_names_ok t2c.example.com t2d.example.com
}

# --- 3 ----------------------------------------------------------------------

@test "http-01: perform line fields and issuance" {
	local name=t3.example.com perform token
	ext_run -d "$name" --preferred-challenges http certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 1
	perform=$(lines_cmd perform_challenge)
	assert_eq "perform keys" "$(keys_of "$perform")" \
		"cmd,type,domain,token,validation,uri,command,key_auth"
	assert_eq "type" "$(jq -r .type <<<"$perform")" http-01
	token=$(jq -r .token <<<"$perform")
	assert_eq "uri" "$(jq -r .uri <<<"$perform")" "http://$name/.well-known/acme-challenge/$token"
	# for http-01 the validation is the key authorization itself
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" "$(jq -r .key_auth <<<"$perform")"
	assert_eq "cleanup status" "$(lines_cmd cleanup | jq -r .status)" valid
	assert_lineage "$CFG/live/$name" "$name"
}

# --- 4 ----------------------------------------------------------------------

@test "wildcard + base name over dns-01: two TXT values at one name" {
	ext_run -d '*.w.example.com' -d w.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 2
	assert_eq "txt_domains" "$(lines_cmd perform_challenge | jq -r .txt_domain | paste -sd, -)" \
		"_acme-challenge.w.example.com,_acme-challenge.w.example.com"
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | paste -sd, -)" "valid,valid"
	# lineage naming of wildcards is the core's choice: take the only one
	assert_lineage "$(lineage_dir)" '*.w.example.com,w.example.com'
}

@test "wildcard with http-01 only: usage error naming the wildcard" {
	ext_run -d '*.wh.example.com' --preferred-challenges http certonly
	[ "$status" -eq 2 ]
	grep -qi wildcard <<<"$stderr"
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	assert_eq "non-report stdout lines" "$(jq -r 'select(.cmd != "report") | .cmd' <<<"$output" | grep -c . || true)" 0
	[ ! -e "$CFG/live" ] || [ -z "$(ls -A "$CFG/live")" ]
}

# --- 5-7: failures -----------------------------------------------------------

@test "challenge not published: exit 4, cleanup says invalid, no lineage" {
	local name=t5.example.com cleanup
	DRIVER_NO_PUBLISH=1 ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 4 ]
	assert_stdout_json
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 1
	cleanup=$(lines_cmd cleanup)
	assert_eq "cleanup status" "$(jq -r .status <<<"$cleanup")" invalid
	jq -e '.error != null and .error != ""' <<<"$cleanup"
	[ ! -e "$CFG/live/$name" ]
}

@test "EOF on stdin at perform: exit 5, reason on stderr, cleanup still sent" {
	local name=t6.example.com
	DRIVER_EOF_AT_PERFORM=1 ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 5 ]
	[ -n "$stderr" ]
	grep -Eqi 'stdin|standard input|eof|end of (file|input)|closed|hung up|hangup' <<<"$stderr"
	[ "$(count_cmd cleanup)" -ge 1 ]
	[ ! -e "$CFG/live/$name" ]
}

@test "invoker answers a JSON failure: exit 5" {
	local name=t7.example.com
	DRIVER_ACK='{"result":"fail","error":"nope"}' ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 5 ]
	[ ! -e "$CFG/live/$name" ]
}

# --- 8 ----------------------------------------------------------------------

@test "re-run keeps the cert; --force-renewal adds version 2" {
	local name=t8.example.com
	ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]

	ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines on re-run" "$(count_cmd perform_challenge)" 0
	assert_eq "archive" "$(cd "$CFG/archive/$name" && ls | paste -sd, -)" \
		"cert1.pem,chain1.pem,fullchain1.pem,privkey1.pem"

	# Pebble may reuse the valid authorization (PEBBLE_AUTHZREUSE=50), so the
	# number of perform lines here is not fixed.
	ext_run -d "$name" --preferred-challenges dns --force-renewal certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	[ -f "$CFG/archive/$name/cert2.pem" ]
	assert_lineage "$CFG/live/$name" "$name" 2
}

# --- 10: bad input (no CA involved: the server is unreachable on purpose,
# so a check done too late shows up as exit 3 instead of 2) ---------------------

bad_name() {
	ext_direct --server https://127.0.0.1:1/dir "${DIRS[@]}" --agree-tos \
		--email t@example.com -n "$@" --preferred-challenges dns certonly
	[ "$status" -eq 2 ]
	[ -n "$stderr" ]
}

@test "unknown flag: exit 2, a line naming it and a line saying what to do" {
	ext_direct --no-such-flag "${DIRS[@]}" certonly
	[ "$status" -eq 2 ]
	assert_eq "stderr lines" "${#stderr_lines[@]}" 2
	grep -q -- '--no-such-flag' <<<"${stderr_lines[0]}"
	grep -q -- '--help' <<<"${stderr_lines[1]}"
	# a near miss gets the nearest flag; an unambiguous prefix is the flag
	ext_direct --agre-tos "${DIRS[@]}" certonly
	[ "$status" -eq 2 ]
	assert_eq "hint" "${stderr_lines[1]}" "extauth: did you mean --agree-tos? (see extauth --help)"
	ext_direct --pre x "${DIRS[@]}" certonly
	[ "$status" -eq 2 ]
	[[ ${stderr_lines[0]} == *--preferred-challenges*--pre-hook* ]]
	ext_direct --preferred-chal dns --help
	[ "$status" -eq 0 ]
}

@test "bad names are usage errors" {
	local l63 l64
	l63=$(printf 'a%.0s' {1..63})
	l64=${l63}a
	bad_name -d 'a..b.com'
	bad_name -d ''
	bad_name -d "$l64.example.com"
	# 63+1+63+1+63+1+62 = 254 characters, each label valid
	bad_name -d "$l63.$l63.$l63.${l63:1}"
	bad_name -d 'bad name.com'
	bad_name -d dup.example.com -d dup.example.com
}

@test "unreadable --ca-bundle: exit 2" {
	ext_direct --server "$PEBBLE_DIR_URL" --ca-bundle "$BATS_TEST_TMPDIR/missing.pem" \
		"${DIRS[@]}" --agree-tos --email t@example.com -n -d t10.example.com certonly
	[ "$status" -eq 2 ]
	[ -n "$stderr" ]
}

@test "not root, directories not writable: exit 6, two lines naming root and the directory flags" {
	# A user who is not root, on root's directories (the default ones are
	# root's), as nobody through setpriv.  The binary is copied where
	# nobody can run it (the checkout may sit under a 0700 home).
	local d
	d=$(mktemp -d /tmp/extauth-notroot.XXXXXX)
	chmod 755 "$d"
	cp "$EXTAUTH" "$d/extauth"
	cp "$PEBBLE_CA_BUNDLE" "$d/ca.pem"
	chmod 644 "$d/ca.pem"
	mkdir -m 755 "$d/etc"
	run --separate-stderr timeout "$RUN_TIMEOUT" setpriv --reuid=65534 --regid=65534 \
		--clear-groups env HOME="$d" "$d/extauth" --config-dir "$d/etc/extauth" \
		--work-dir "$d/etc/work" --logs-dir "$d/etc/logs" --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$d/ca.pem" --agree-tos -m t@example.com -n \
		-d notroot.example.com certonly </dev/null
	show
	rm -rf -- "$d"
	[ "$status" -eq 6 ]
	[[ ${lines[*]} != *perform_challenge* ]]
	grep -q 'error: cannot create directory .*/etc/.*: Permission denied' <<<"$stderr"
	grep -q 'error: run as root .* --config-dir, --work-dir and --logs-dir' <<<"$stderr"
}

@test "unreachable server: exit 3" {
	ext_direct --server https://127.0.0.1:1/dir --ca-bundle "$PEBBLE_CA_BUNDLE" \
		"${DIRS[@]}" --agree-tos --email t@example.com -n -d t10b.example.com certonly
	[ "$status" -eq 3 ]
	[ -n "$stderr" ]
}

@test "--help and --version" {
	run timeout "$RUN_TIMEOUT" "$EXTAUTH" --help </dev/null
	show
	[ "$status" -eq 0 ]
	grep -q -- '--preferred-challenges' <<<"$output"
	run timeout "$RUN_TIMEOUT" "$EXTAUTH" --version </dev/null
	show
	[ "$status" -eq 0 ]
	[ -n "$output" ]
}

@test "non-ASCII name is sent as its A-label" {
	# C.UTF-8 so the test does not depend on the CI locale
	LC_ALL=C.UTF-8 ext_run -d 'bücher.example' --preferred-challenges dns certonly
	assert_eq "perform domain" "$(lines_cmd perform_challenge | jq -r .domain)" xn--bcher-kva.example
}

# --- 11 ---------------------------------------------------------------------

@test "verbose: stdout is still JSON only" {
	ext_run -v -d t11.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	assert_stdout_json
}

# --- 12 ---------------------------------------------------------------------

@test "a second run beside a paused one: another lineage goes on, the same lineage is exit 7" {
	local fifo=$BATS_TEST_TMPDIR/stdin out=$BATS_TEST_TMPDIR/first.out i wfd
	mkfifo "$fifo"
	# The first run waits at its perform line: nobody acks until we close the
	# fifo.  3>&- so bats does not wait for it.
	timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" -d t12a.example.com \
		--preferred-challenges dns certonly <"$fifo" >"$out" 2>&1 3>&- &
	BG_PID=$!
	exec {wfd}>"$fifo"
	for ((i = 0; i < 300; i++)); do
		grep -q perform_challenge "$out" && break
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q perform_challenge "$out" || { cat "$out" >&2; false; }

	# issue 10: runs share the config dir, each lineage has its own lock
	ext_run -d t12b.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	[ -L "$CFG/live/t12b.example.com/cert.pem" ]
	ext_direct "${COMMON[@]}" -d t12a.example.com --preferred-challenges dns certonly
	[ "$status" -eq 7 ]
	[[ $stderr == *"certificate t12a.example.com is being obtained or renewed by another extauth run"* ]]
	[[ $stderr == *"wait for it to finish, then run again"* ]]
	[ ! -e "$CFG/live/t12a.example.com" ]

	exec {wfd}>&- # EOF: the first run gives up (exit 5)
	wait "$BG_PID" || true
	BG_PID=
}

@test "renew passes over a lineage that is not due without asking for its lock (with ARI or without it)" {
	local i
	for i in 1 2; do
		ext_run -d "nl$i.example.com" --preferred-challenges dns certonly
		[ "$status" -eq 0 ]
	done
	# the first renew learns what the CA offers (ARI or none)
	ext_run renew
	[ "$status" -eq 0 ]
	lock_hold "$CFG/renewal/nl2.example.com.lock"
	ext_run renew
	lock_release
	[ "$status" -eq 0 ]
	[[ $stderr != *"in progress elsewhere"* ]]
	[[ $stderr == *"2 lineages checked, 0 due"* ]]
}

@test "renew with the CA unreachable: one error for the run, not one per lineage, and the lineages kept" {
	local i bundle=$BATS_TEST_TMPDIR/other-ca.pem
	for i in 1 2 3; do
		ext_run -d "down$i.example.com" --preferred-challenges dns certonly
		[ "$status" -eq 0 ]
	done
	# a trust store without Pebble's CA: every TLS connection fails
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$BATS_TEST_TMPDIR/other.key" -out "$bundle" -subj /CN=other -days 1 2>/dev/null
	ext_run --ca-bundle "$bundle" renew
	[ "$status" -eq 0 ]
	[[ $stderr == *"3 lineages checked, 0 due"* ]]
	[ "$(grep -c 'TLS verification failed' <<<"$stderr")" -eq 1 ]
}

# --- trust -------------------------------------------------------------------

@test "--ca-bundle takes a hashed directory; a store without Pebble's cert fails TLS (exit 3)" {
	local name=trustdir.example.com dir=$BATS_TEST_TMPDIR/hashed empty=$BATS_TEST_TMPDIR/empty
	mkdir -p "$dir" "$empty"
	cp "$PEBBLE_CA_BUNDLE" "$dir/pebble.pem"
	openssl rehash "$dir"
	COMMON=(--server "$PEBBLE_DIR_URL" --ca-bundle "$dir" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	[ -L "$CFG/live/$name/fullchain.pem" ]
	# verification is always on: a directory that does not hold the CA
	COMMON=(--server "$PEBBLE_DIR_URL" --ca-bundle "$empty" "${DIRS[@]}"
		--agree-tos --email t@example.com -n)
	ext_run -d "x.$name" --cert-name other --preferred-challenges dns certonly
	[ "$status" -eq 3 ]
	[[ $stderr == *"certificate"* ]]
}

@test "certonly --deploy-hook: once when issued, with RENEWED_LINEAGE/RENEWED_DOMAINS; not when kept" {
	local name=dh.example.com hook=$BATS_TEST_TMPDIR/hook.sh log=$BATS_TEST_TMPDIR/hook.log
	printf '#!/bin/sh\necho "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >>%s\n' "$log" >"$hook"
	chmod +x "$hook"
	ext_run -d "$name" -d "www.$name" --preferred-challenges dns --deploy-hook "$hook" certonly
	[ "$status" -eq 0 ]
	assert_eq "hook log" "$(cat "$log")" "$CFG/live/$name|$name www.$name"
	ext_run -d "$name" -d "www.$name" --preferred-challenges dns --deploy-hook "$hook" certonly
	[ "$status" -eq 0 ]
	assert_eq "hook runs" "$(wc -l <"$log")" 1
}

# --- lineage names and keys -------------------------------------------------

@test "new names for an existing lineage: refused without --expand, added with it" {
	local name=exp.example.com
	ext_run -d "$name" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	ext_run -d "$name" -d "www.$name" --preferred-challenges dns certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"--expand"* ]]
	[ ! -e "$CFG/archive/$name/cert2.pem" ]
	ext_run -d "$name" -d "www.$name" --preferred-challenges dns --expand certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$name" "$name,www.$name" 2
	grep -Eq "^extauth_domains = \"?$name,www.$name\"?\$" "$CFG/renewal/$name.conf"
}

@test "--key-type rsa --rsa-key-size 3072 and --elliptic-curve secp384r1" {
	ext_run -d rsa.example.com --preferred-challenges dns --key-type rsa --rsa-key-size 3072 certonly
	[ "$status" -eq 0 ]
	openssl pkey -in "$CFG/live/rsa.example.com/privkey.pem" -noout -text | grep -q "Private-Key: (3072 bit"
	openssl x509 -in "$CFG/live/rsa.example.com/cert.pem" -noout -text | grep -q "Public-Key: (3072 bit)"
	grep -q '^key_type = rsa$' "$CFG/renewal/rsa.example.com.conf"
	ext_run -d p384.example.com --preferred-challenges dns --elliptic-curve secp384r1 certonly
	[ "$status" -eq 0 ]
	openssl x509 -in "$CFG/live/p384.example.com/cert.pem" -noout -text | grep -q "NIST CURVE: P-384"
}

@test "--register-unsafely-without-email: an account with no contact" {
	COMMON=(--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}"
		--agree-tos --register-unsafely-without-email -n)
	ext_run -d nomail.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	ext_direct "${COMMON[@]}" show_account
	[ "$status" -eq 0 ]
	[[ $output != *"Contact:"* ]]
	[[ $output == *"status valid"* ]]
}
