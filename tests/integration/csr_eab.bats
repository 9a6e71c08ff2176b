#!/usr/bin/env bats
# csr_eab.bats: certonly --csr (the user's CSR and key, no lineage, files
# named as certbot names them) and external account binding, against two
# private Pebbles: the usual one, and one that requires EAB
# (PEBBLE_EAB_KID/PEBBLE_EAB_KEY, tests/lib/pebble.bash).
#
# Exit codes: 0 ok, 2 usage, 3 ACME/network (README "Exit codes").

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154

bats_require_minimum_version 1.5.0

EAB_KID=kid-1
# base64url HMAC keys (Pebble's example config has the same shape)
EAB_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
EAB_BAD=b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH
PEBBLE_VARS=(PEBBLE_PID CHALLTESTSRV_PID PEBBLE_TMP PEBBLE_DIR_URL
	PEBBLE_CA_BUNDLE PEBBLE_MGMT_URL CHALLTESTSRV_URL PEBBLE_HTTP_PORT
	PEBBLE_DNS_PORT)

# save_pebble P: keep the current instance's variables as P_NAME.
save_pebble() {
	local v
	for v in "${PEBBLE_VARS[@]}"; do export "$1_$v=${!v-}"; done
}

# use_pebble P: make the instance saved as P the current one.
use_pebble() {
	local v n
	for v in "${PEBBLE_VARS[@]}"; do
		n=$1_$v
		export "$v=${!n-}"
	done
}

setup_file() {
	load ../lib/common
	# pebble_start forgets (does not stop) the previous instance, so the
	# EAB one goes first and is remembered as EAB_*.
	PEBBLE_EAB_KID=$EAB_KID PEBBLE_EAB_KEY=$EAB_KEY pebble_start
	save_pebble EAB
	common_setup_file
	save_pebble MAIN
}

teardown_file() {
	load ../lib/common
	use_pebble EAB
	pebble_stop
	use_pebble MAIN
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
	cd "$OUT" || return
}

# make_csr NAME... : key.pem and csr.pem (PEM) in $BATS_TEST_TMPDIR, CN the
# first name, SANs all of them.
make_csr() {
	local san=DNS:$1 n
	for n in "${@:2}"; do san+=,DNS:$n; done
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$BATS_TEST_TMPDIR/key.pem" -out "$BATS_TEST_TMPDIR/csr.pem" \
		-subj "/CN=$1" -addext "subjectAltName=$san" 2>/dev/null
	CSR=$BATS_TEST_TMPDIR/csr.pem
}

# assert_csr_files CERT CHAIN FULLCHAIN NAMES: the certificate is for the
# CSR's key, verifies, has exactly NAMES, and fullchain = cert + chain.
assert_csr_files() {
	assert_eq "cert key" "$(openssl x509 -in "$1" -noout -pubkey)" \
		"$(openssl pkey -in "$BATS_TEST_TMPDIR/key.pem" -pubout)" || return 1
	openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$2" "$1" >&2 || return 1
	assert_eq "SANs" "$(cert_sans "$1")" "$4" || return 1
	assert_eq "fullchain" "$(cat "$3")" "$(cat "$1" "$2")" || return 1
	assert_eq "modes" "$(stat -c %a "$1" "$2" "$3" | paste -sd, -)" 644,644,644
}

# no_lineage: nothing under live/ or archive/, no renewal conf.
no_lineage() {
	local d
	for d in live archive renewal; do
		[[ ! -e $CFG/$d ]] || [[ -z $(ls -A "$CFG/$d") ]] || {
			echo "$CFG/$d is not empty: $(ls -A "$CFG/$d")" >&2
			return 1
		}
	done
}

# ls_out: the files in $OUT, sorted, comma separated.
ls_out() { ls -A "$OUT" | sort | paste -sd, -; }

# --- --csr -------------------------------------------------------------------

@test "certonly --csr: certbot's file names, the CSR's key, no lineage" {
	make_csr c1.example.com c2.example.com
	ext_run certonly --csr "$CSR" --preferred-challenges dns
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd, -)" \
		"cleanup=2,perform_challenge=2,report=1"
	assert_eq "domains" "$(lines_cmd perform_challenge | jq -r .domain | paste -sd, -)" \
		"c1.example.com,c2.example.com"
	# certbot 2.1: ./cert.pem and ./chain.pem (twice) through unique_file
	assert_eq "files" "$(ls_out)" "0000_cert.pem,0000_chain.pem,0001_chain.pem"
	assert_csr_files 0000_cert.pem 0000_chain.pem 0001_chain.pem "c1.example.com,c2.example.com"
	lines_cmd report | jq -e --arg c "$OUT/0000_cert.pem" --arg f "$OUT/0001_chain.pem" \
		'[.messages[].lines[]] | any(contains($c) and contains($f))'
	no_lineage
	# Nothing private was written anywhere under the config dir but the
	# account key.
	assert_eq "private files" "$(find "$CFG" -type f -name '*key*' ! -path '*/accounts/*' | wc -l)" 0

	# Again: the next free numbers, nothing overwritten.
	ext_run certonly --csr "$CSR" --preferred-challenges dns
	[ "$status" -eq 0 ]
	assert_eq "files" "$(ls_out)" \
		"0000_cert.pem,0000_chain.pem,0001_cert.pem,0001_chain.pem,0002_chain.pem,0003_chain.pem"
	assert_csr_files 0001_cert.pem 0002_chain.pem 0003_chain.pem "c1.example.com,c2.example.com"
}

@test "certonly --csr DER with matching -d (any order/case) and explicit paths" {
	make_csr c3.example.com c4.example.com
	openssl req -in "$CSR" -outform DER -out "$BATS_TEST_TMPDIR/csr.der"
	ext_run certonly --csr "$BATS_TEST_TMPDIR/csr.der" -d C4.example.com,c3.example.com \
		--preferred-challenges http --cert-path sub/c.pem --chain-path sub/ch.pem \
		--fullchain-path "$OUT/sub/fc.pem"
	[ "$status" -eq 0 ]
	assert_eq "files" "$(ls -A sub | sort | paste -sd, -)" "c.pem,ch.pem,fc.pem"
	assert_csr_files sub/c.pem sub/ch.pem sub/fc.pem "c3.example.com,c4.example.com"
	no_lineage
}

@test "certonly --csr: an existing --cert-path is refused before ordering" {
	make_csr c5.example.com
	echo keep >mine.pem
	ext_run certonly --csr "$CSR" --cert-path mine.pem --preferred-challenges dns
	[ "$status" -eq 2 ]
	grep -q 'mine.pem' <<<"$stderr"
	grep -qi 'exists' <<<"$stderr"
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	assert_eq "mine.pem" "$(cat mine.pem)" keep
	# the claimed-but-unused default names are gone again
	assert_eq "files" "$(ls_out)" "mine.pem"
}

@test "certonly --csr with other -d names: exit 2 naming the difference" {
	make_csr c6.example.com c7.example.com
	ext_run certonly --csr "$CSR" -d c6.example.com -d c8.example.com --preferred-challenges dns
	[ "$status" -eq 2 ]
	grep -q 'c7.example.com' <<<"$stderr"
	grep -q 'c8.example.com' <<<"$stderr"
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	assert_eq "files" "$(ls_out)" ""
}

@test "run --csr: exit 2 (certbot: --csr only with certonly)" {
	make_csr c9.example.com
	ext_run run --csr "$CSR"
	[ "$status" -eq 2 ]
	grep -q 'certonly' <<<"$stderr"
	# the default verb is run too
	ext_run --csr "$CSR"
	[ "$status" -eq 2 ]
	assert_eq "files" "$(ls_out)" ""
}

@test "certonly --csr: missing, unreadable or garbage file: exit 2" {
	ext_run certonly --csr "$BATS_TEST_TMPDIR/none.pem"
	[ "$status" -eq 2 ]
	grep -q 'none.pem' <<<"$stderr"
	printf 'not a CSR\n' >"$BATS_TEST_TMPDIR/junk.pem"
	ext_run certonly --csr "$BATS_TEST_TMPDIR/junk.pem"
	[ "$status" -eq 2 ]
	grep -q 'junk.pem' <<<"$stderr"
	openssl rand 300 >"$BATS_TEST_TMPDIR/junk.der"
	ext_run certonly --csr "$BATS_TEST_TMPDIR/junk.der"
	[ "$status" -eq 2 ]
	if ((EUID != 0)); then
		make_csr c10.example.com
		chmod 000 "$CSR"
		ext_run certonly --csr "$CSR"
		[ "$status" -eq 2 ]
	fi
	assert_eq "files" "$(ls_out)" ""
}

# --- external account binding ------------------------------------------------

# eab_setup: this test talks to the Pebble that requires EAB (and trusts
# its root).
eab_setup() {
	use_pebble EAB
	common_setup
	pebble_root_pem "$BATS_TEST_TMPDIR/eab-root.pem"
	PEBBLE_ROOT=$BATS_TEST_TMPDIR/eab-root.pem
}

@test "EAB required, no --eab-kid: exit 2 telling what to give" {
	eab_setup
	ext_run -d e1.example.com --preferred-challenges dns certonly
	[ "$status" -eq 2 ]
	grep -q -- '--eab-kid' <<<"$stderr"
	grep -qi 'external account binding' <<<"$stderr"
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	[ ! -e "$CFG/accounts" ] || [ -z "$(find "$CFG/accounts" -type f)" ]
}

@test "EAB with the right key: account registered, certificate issued" {
	eab_setup
	ext_run -d e2.example.com --preferred-challenges dns --eab-kid "$EAB_KID" \
		--eab-hmac-key "$EAB_KEY" certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/e2.example.com" e2.example.com
	# the stored account is used next time, no EAB flags needed
	ext_run -d e2b.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
}

@test "EAB key from --eab-hmac-key-file or EXTAUTH_EAB_HMAC_KEY, not argv" {
	eab_setup
	printf '%s\n' "$EAB_KEY" >"$BATS_TEST_TMPDIR/eab.key"
	ext_run -d e6.example.com --preferred-challenges dns --eab-kid "$EAB_KID" \
		--eab-hmac-key-file "$BATS_TEST_TMPDIR/eab.key" certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/e6.example.com" e6.example.com
	! grep -rqF -- "$EAB_KEY" "$LOGS" || false
	# a fresh config dir: a new account, the key from the environment
	rm -rf "$CFG"
	EXTAUTH_EAB_HMAC_KEY=$EAB_KEY ext_run -d e7.example.com --preferred-challenges dns \
		--eab-kid "$EAB_KID" certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/e7.example.com" e7.example.com
	# the wrong key from the environment is the CA's refusal, as on argv
	rm -rf "$CFG"
	EXTAUTH_EAB_HMAC_KEY=$EAB_BAD ext_run -d e8.example.com --preferred-challenges dns \
		--eab-kid "$EAB_KID" certonly
	[ "$status" -eq 3 ]
}

@test "EAB with a wrong HMAC key: exit 3 with the CA's message" {
	eab_setup
	ext_run -d e3.example.com --preferred-challenges dns --eab-kid "$EAB_KID" \
		--eab-hmac-key "$EAB_BAD" certonly
	[ "$status" -eq 3 ]
	# Pebble: "unauthorized: external account binding JWS verification error"
	grep -q 'newAccount.*unauthorized.*external account binding' <<<"$stderr"
	[ ! -e "$CFG/accounts" ] || [ -z "$(find "$CFG/accounts" -type f)" ]
	# an unknown key id: the CA says so
	ext_run -d e3.example.com --preferred-challenges dns --eab-kid kid-9 \
		--eab-hmac-key "$EAB_KEY" certonly
	[ "$status" -eq 3 ]
	grep -q "unauthorized.*kid" <<<"$stderr"
}

@test "EAB: --csr works with it too" {
	eab_setup
	make_csr e4.example.com
	ext_run certonly --csr "$CSR" --preferred-challenges dns --eab-kid "$EAB_KID" \
		--eab-hmac-key "$EAB_KEY"
	[ "$status" -eq 0 ]
	assert_eq "files" "$(ls_out)" "0000_cert.pem,0000_chain.pem,0001_chain.pem"
}

@test "dehydrated mode: a refused request reaches the hook as request_failure STATUS REASON POST HEADERS" {
	local hook=$BATS_TEST_TMPDIR/hook.sh log=$BATS_TEST_TMPDIR/hook.log
	eab_setup
	printf '#!/bin/bash\nprintf "%%s|" "$@" >>%s\necho >>%s\n' "$log" "$log" >"$hook"
	chmod +x "$hook"
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" \
		-d e5.example.com --preferred-challenges dns --eab-kid "$EAB_KID" \
		--eab-hmac-key "$EAB_BAD" --handler "$hook" --dehydrated certonly </dev/null
	show
	[ "$status" -eq 3 ]
	cat "$log" >&2
	grep -Eq '^request_failure\|40[13]\|[^|]*external account binding[^|]*\|POST\|HTTP/' "$log"
	# exactly once: no call for the retried badNonce answers
	assert_eq "request_failure calls" "$(grep -c '^request_failure|' "$log")" 1
	grep -q '^exit_hook|.*unauthorized' "$log"
}
