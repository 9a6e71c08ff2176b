#!/usr/bin/env bats
# tlsalpn.bats: tls-alpn-01 (RFC 8737) end to end against a private Pebble.
# pebble-challtestsrv answers Pebble's acme-tls/1 handshakes on Pebble's
# tlsPort with a certificate it makes from the key authorization
# (/add-tlsalpn01 {"host","content"}); extauth's own certificate files are
# checked as files: present while the perform line is current, holding
# the critical acmeIdentifier extension with SHA-256(key_auth), gone after.
# The last test has Pebble validate against extauth's own certificate.
# Names are unique per test; Pebble is shared by the file.
# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154

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
	COPY=$BATS_TEST_TMPDIR/copy
	mkdir "$COPY"
}

teardown() {
	# test 6's second Pebble and TLS server, if it failed half-way
	local pid
	for pid in "${PEBBLE2_PID:-}" "$(cat "$BATS_TEST_TMPDIR/s_server.pid" 2>/dev/null)"; do
		[[ -n $pid ]] || continue
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# hexcolon_sha256 STRING: dehydrated's TOKEN_VALUE for tls-alpn-01.
hexcolon_sha256() {
	printf '%s' "$1" | openssl dgst -sha256 -c -hex | awk '{print $NF}'
}

# assert_alpn_perform LINE NAME: the perform line of a tls-alpn-01
# challenge for NAME, and the files the driver copied while it was current.
assert_alpn_perform() {
	local perform=$1 name=$2 ka cert key der want
	assert_eq "perform keys" "$(keys_of "$perform")" \
		"cmd,type,domain,token,validation,cert_path,key_path,key_auth" || return 1
	assert_eq "type" "$(jq -r .type <<<"$perform")" tls-alpn-01 || return 1
	assert_eq "domain" "$(jq -r .domain <<<"$perform")" "$name" || return 1
	ka=$(jq -r .key_auth <<<"$perform")
	assert_eq "key_auth prefix" "${ka%%.*}" "$(jq -r .token <<<"$perform")" || return 1
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" "$(hexcolon_sha256 "$ka")" || return 1
	cert=$(jq -r .cert_path <<<"$perform") key=$(jq -r .key_path <<<"$perform")
	assert_eq "cert_path" "$cert" "$WORK/alpn/$name.crt.pem" || return 1
	assert_eq "key_path" "$key" "$WORK/alpn/$name.key.pem" || return 1
	# gone after the run, present (copied by the driver) during perform
	[[ ! -e $cert && ! -e $key ]] || { echo "$cert or $key left behind" >&2; return 1; }
	cert=$COPY/$name.crt.pem key=$COPY/$name.key.pem
	[[ -s $cert && -s $key ]] || { echo "the driver found no files for $name" >&2; return 1; }
	assert_eq "key mode" "$(stat -c %a "$key")" 600 || return 1
	assert_eq "cert SAN" "$(cert_sans "$cert")" "$name" || return 1
	openssl x509 -in "$cert" -noout -text >"$cert.txt"
	grep -Eq '(1\.3\.6\.1\.5\.5\.7\.1\.31|acmeIdentifier|ACME Identifier): critical' "$cert.txt" || {
		cat "$cert.txt" >&2
		echo "no critical acmeIdentifier extension" >&2
		return 1
	}
	# In DER: OID 1.3.6.1.5.5.7.1.31, critical TRUE, extnValue OCTET STRING
	# of the OCTET STRING(32) of SHA-256(key_auth); exactly once.
	der=$(openssl x509 -in "$cert" -outform DER | od -An -v -tx1 | tr -d ' \n')
	want=06082b0601050507011f0101ff04220420$(jq -r '.validation | gsub(":"; "")' <<<"$perform")
	assert_eq "acmeIdentifier value" "$(grep -o "$want" <<<"$der" | grep -c .)" 1 || return 1
	# the key is the certificate's
	assert_eq "key matches" "$(openssl pkey -in "$key" -pubout)" \
		"$(openssl x509 -in "$cert" -noout -pubkey)"
}

@test "tls-alpn-01, one name: perform keys, files during perform only, critical acmeIdentifier" {
	local name=ta1.example.com perform cleanup
	DRIVER_COPY_FILES=$COPY ext_run -d "$name" --preferred-challenges tls-alpn-01 certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "perform_challenge,cleanup,report"
	perform=${lines[0]} cleanup=${lines[1]}
	assert_alpn_perform "$perform" "$name"
	assert_eq "cleanup keys" "$(keys_of "$cleanup")" \
		"cmd,type,status,domain,token,validation,key_auth,validated,error"
	assert_eq "cleanup status" "$(jq -r .status <<<"$cleanup")" valid
	assert_eq "cleanup validation" "$(jq -r .validation <<<"$cleanup")" "$(jq -r .validation <<<"$perform")"
	assert_eq "alpn dir mode" "$(stat -c %a "$WORK/alpn")" 700
	assert_eq "alpn dir empty" "$(ls -A "$WORK/alpn")" ""
	assert_lineage "$CFG/live/$name" "$name"
}

@test "tls-alpn-01, two names (spelled tls-alpn): both valid, one certificate" {
	local a=ta2a.example.com b=ta2b.example.com
	DRIVER_COPY_FILES=$COPY ext_run -d "$a,$b" --preferred-challenges tls-alpn certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 2
	assert_eq "domains" "$(lines_cmd perform_challenge | jq -r .domain | paste -sd, -)" "$a,$b"
	assert_alpn_perform "$(lines_cmd perform_challenge | sed -n 1p)" "$a"
	assert_alpn_perform "$(lines_cmd perform_challenge | sed -n 2p)" "$b"
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | paste -sd, -)" "valid,valid"
	assert_eq "alpn dir empty" "$(ls -A "$WORK/alpn")" ""
	assert_lineage "$CFG/live/$a" "$a,$b"
}

@test "dehydrated mode: deploy_challenge DOMAIN TOKEN HEX-WITH-COLONS, as dehydrated" {
	local name=ta3.example.com hook=$BATS_TEST_TMPDIR/hook.sh HLOG=$BATS_TEST_TMPDIR/hook.log
	export HLOG
	# The hook checks TOKEN_VALUE the way dehydrated computes it, and
	# publishes with the key_auth extauth exports (challtestsrv needs it).
	cat >"$hook" <<'EOF'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
printf '%s\n' "$*" >>"$HLOG"
case $1 in
deploy_challenge)
	want=$(printf '%s' "$key_auth" | openssl dgst -sha256 -c -hex | awk '{print $NF}')
	[[ $4 == "$want" ]] || { echo "TOKEN_VALUE $4 is not $want" >&2; exit 1; }
	[[ -s $cert_path && -s $key_path ]] || { echo "no files at $cert_path" >&2; exit 1; }
	post add-tlsalpn01 "{\"host\":\"$2\",\"content\":\"$key_auth\"}" ;;
clean_challenge) post del-tlsalpn01 "{\"host\":\"$2\"}" ;;
esac
EOF
	chmod +x "$hook"
	ext_direct "${COMMON[@]}" -d "$name" --preferred-challenges tls-alpn-01 \
		--handler "$hook" --dehydrated certonly
	[ "$status" -eq 0 ]
	cat "$HLOG" >&2
	grep -Eq "^deploy_challenge $name [A-Za-z0-9_-]{43} ([0-9a-f]{2}:){31}[0-9a-f]{2}\$" "$HLOG"
	grep -Eq "^clean_challenge $name [A-Za-z0-9_-]{43} ([0-9a-f]{2}:){31}[0-9a-f]{2}\$" "$HLOG"
	assert_eq "same value" "$(grep ^deploy_challenge "$HLOG" | cut -d' ' -f4)" \
		"$(grep ^clean_challenge "$HLOG" | cut -d' ' -f4)"
	assert_eq "alpn dir empty" "$(ls -A "$WORK/alpn")" ""
	assert_lineage "$CFG/live/$name" "$name"
}

@test "wildcard with tls-alpn-01 only: exit 2 before the CA is asked" {
	COMMON[1]=https://127.0.0.1:1/dir # nothing listens there
	ext_run -d '*.ta4.example.com' --preferred-challenges tls-alpn-01 certonly
	[ "$status" -eq 2 ]
	grep -qi wildcard <<<"$stderr"
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	[ ! -e "$CFG/accounts" ]
}

@test "IP address with tls-alpn-01 only: exit 2 (addresses use http-01)" {
	COMMON[1]=https://127.0.0.1:1/dir
	ext_run -d 127.0.0.1 --preferred-challenges tls-alpn-01 certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"127.0.0.1: IP addresses can only be validated with http-01"* ]]
	[ ! -e "$CFG/accounts" ]
}

# The tests above prove the protocol; this one proves the certificate file:
# a second Pebble (sharing challtestsrv's DNS, so every name is 127.0.0.1)
# validates against a port where `openssl s_server` serves extauth's own
# cert_path/key_path with ALPN acme-tls/1, started and stopped by a handler.
@test "extauth's certificate passes Pebble's tls-alpn-01 check (served by openssl s_server)" {
	local name=ta6.example.com p m tls h=$BATS_TEST_TMPDIR/serve.sh i
	read -r p m tls <<<"$(_pebble_free_ports 3)"
	jq --arg l "127.0.0.1:$p" --arg ml "127.0.0.1:$m" --argjson t "$tls" \
		'.pebble.listenAddress = $l | .pebble.managementListenAddress = $ml |
		 .pebble.tlsPort = $t' "$PEBBLE_TMP/pebble.json" >"$BATS_TEST_TMPDIR/pebble.json"
	env PEBBLE_VA_NOSLEEP=1 pebble -config "$BATS_TEST_TMPDIR/pebble.json" \
		-dnsserver "127.0.0.1:$PEBBLE_DNS_PORT" </dev/null >"$BATS_TEST_TMPDIR/pebble.log" 2>&1 3>&- &
	PEBBLE2_PID=$!
	for ((i = 0; i < 200; i++)); do
		curl -fsS -o /dev/null --cacert "$PEBBLE_CA_BUNDLE" "https://127.0.0.1:$p/dir" 2>/dev/null && break
		kill -0 "$PEBBLE2_PID" || { cat "$BATS_TEST_TMPDIR/pebble.log" >&2; return 1; }
		sleep 0.05
	done
	cat >"$h" <<EOF
#!/usr/bin/env bash
set -eu
case \$1 in
perform)
	openssl s_server -accept 127.0.0.1:$tls -cert "\$cert_path" -key "\$key_path" \\
		-alpn acme-tls/1 -www </dev/null >"$BATS_TEST_TMPDIR/s_server.log" 2>&1 3>&- &
	echo \$! >"$BATS_TEST_TMPDIR/s_server.pid"
	for ((i = 0; i < 200; i++)); do
		grep -q ACCEPT "$BATS_TEST_TMPDIR/s_server.log" && exit 0
		sleep 0.05
	done
	exit 1 ;;
cleanup) kill "\$(cat "$BATS_TEST_TMPDIR/s_server.pid")" ;;
esac
EOF
	chmod +x "$h"
	COMMON[1]=https://127.0.0.1:$p/dir
	ext_direct "${COMMON[@]}" -d "$name" --preferred-challenges tls-alpn-01 --handler "$h" certonly
	[ "$status" -eq 0 ]
	assert_eq "cleanup status" "$(lines_cmd cleanup | jq -r .status)" valid
	grep -q "$name" "$BATS_TEST_TMPDIR/pebble.log"
}
