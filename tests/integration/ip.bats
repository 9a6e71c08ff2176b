#!/usr/bin/env bats
# ip.bats: IP address identifiers (RFC 8738) against Pebble, in JSON mode
# driven by examples/json-driver.sh.  Pebble 2.4 validates http-01 for an
# IP identifier by connecting to IP:httpPort, and pebble-challtestsrv
# serves that port on 127.0.0.1, so 127.0.0.1 can be certified.  For ::1 a
# second challtestsrv is started on [::1] at the same port number.
# Pebble writes the certificate's subject CN itself (the first DNS name,
# else the first address), whatever the CSR says, so "no CN when the first
# name is an address" is checked on the CSR that dehydrated mode leaves in
# csr/NAME.pem.
#
# Exit codes: 0 ok, 2 usage, 3 ACME/network, 4 challenge rejected.

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
	if [[ -n ${V6_PID:-} ]]; then
		kill "$V6_PID" 2>/dev/null || true
		wait "$V6_PID" 2>/dev/null || true
	fi
}

# ip_sans PEM: the certificate's SANs as openssl prints them, sorted
# ("DNS:x" and "IP Address:y"), comma separated.
ip_sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 |
		tr ',' '\n' | sed 's/^[[:space:]]*//' | grep . | sort | paste -sd, -
}

# subject x509|req PEM: the subject, without the "subject=" prefix.
subject() {
	openssl "$1" -in "$2" -noout -subject -nameopt RFC2253 | sed 's/^subject= *//'
}

# verify_lineage DIR: links to archive version 1, chain verifies.
verify_lineage() {
	local live=$1 f
	for f in cert chain fullchain privkey; do
		[[ -L $live/$f.pem ]] || { echo "$live/$f.pem is not a symlink" >&2; return 1; }
	done
	assert_eq "cert target" "$(readlink -f "$live/cert.pem")" \
		"$(readlink -f "$CFG/archive/${live##*/}/cert1.pem")" || return 1
	openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$live/chain.pem" "$live/cert.pem" >&2
}

@test "IP only: http-01 to 127.0.0.1, SAN IP, lineage kept on re-run" {
	local perform uri
	ext_run -d 127.0.0.1 --preferred-challenges http certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "perform_challenge,cleanup,report"
	perform=${lines[0]}
	assert_eq "type" "$(jq -r .type <<<"$perform")" http-01
	assert_eq "domain" "$(jq -r .domain <<<"$perform")" 127.0.0.1
	uri="http://127.0.0.1/.well-known/acme-challenge/$(jq -r .token <<<"$perform")"
	assert_eq "uri" "$(jq -r .uri <<<"$perform")" "$uri"
	assert_eq "cleanup status" "$(jq -r .status <<<"${lines[1]}")" valid

	verify_lineage "$CFG/live/127.0.0.1"
	assert_eq "SANs" "$(ip_sans "$CFG/live/127.0.0.1/cert.pem")" "IP Address:127.0.0.1"
	grep -q '^pref_challs = http-01,$' "$CFG/renewal/127.0.0.1.conf"

	# Same names again: the same-names check sees the IP SAN, so the
	# certificate is kept, not re-issued and not refused.
	ext_run -d 127.0.0.1 --preferred-challenges http certonly
	[ "$status" -eq 0 ]
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "report"
	jq -e '[.messages[].lines[]] | any(contains("not yet due"))' <<<"${lines[0]}"
	[ ! -e "$CFG/archive/127.0.0.1/cert2.pem" ]

	# --force-renewal goes to version 2 of the same lineage.
	ext_run -d 127.0.0.1 --preferred-challenges http --force-renewal certonly
	[ "$status" -eq 0 ]
	[ -e "$CFG/archive/127.0.0.1/cert2.pem" ]
	[ "$(lineage_dir)" == "$CFG/live/127.0.0.1" ]

	# renew reads the names back from the certificate: the IP SAN too.
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --force-renewal
	show
	[ "$status" -eq 0 ]
	[ -e "$CFG/archive/127.0.0.1/cert3.pem" ]
	assert_eq "SANs" "$(ip_sans "$CFG/live/127.0.0.1/cert.pem")" "IP Address:127.0.0.1"
}

@test "IP and name: dns-01 for the name, http-01 for the IP, one cert" {
	local name=ipmix.example.com
	ext_run -d "$name" -d 127.0.0.1 --preferred-challenges dns,http certonly
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "performs" "$(lines_cmd perform_challenge | jq -r '.domain + " " + .type' | paste -sd, -)" \
		"$name dns-01,127.0.0.1 http-01"
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | paste -sd, -)" "valid,valid"
	verify_lineage "$CFG/live/$name"
	assert_eq "SANs" "$(ip_sans "$CFG/live/$name/cert.pem")" "DNS:$name,IP Address:127.0.0.1"
	assert_eq "subject" "$(subject x509 "$CFG/live/$name/cert.pem")" "CN=$name"
}

@test "IP first with a name, dehydrated hook: lineage named by the IP, CSR without CN" {
	local name=ipfirst.example.com hook=$BATS_TEST_TMPDIR/hook.sh csr
	export HLOG=$BATS_TEST_TMPDIR/hook.log
	# The hook tells the two apart by DOMAIN: the address gets http-01.
	cat >"$hook" <<'EOF'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
printf '%s\n' "$*" >>"$HLOG"
case $1:${2-} in
deploy_challenge:127.0.0.1) post add-http01 "{\"token\":\"$3\",\"content\":\"$4\"}" ;;
clean_challenge:127.0.0.1) post del-http01 "{\"token\":\"$3\"}" ;;
deploy_challenge:*) post set-txt "{\"host\":\"_acme-challenge.$2.\",\"value\":\"$4\"}" ;;
clean_challenge:*) post clear-txt "{\"host\":\"_acme-challenge.$2.\"}" ;;
esac
EOF
	chmod +x "$hook"
	ext_direct "${COMMON[@]}" -d 127.0.0.1,"$name" --handler "$hook" --dehydrated certonly
	[ "$status" -eq 0 ]
	cat "$HLOG" >&2
	grep -Eq "^deploy_challenge 127\.0\.0\.1 [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\$" "$HLOG"
	grep -Eq "^deploy_challenge $name [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{43}\$" "$HLOG"
	verify_lineage "$CFG/live/127.0.0.1"
	assert_eq "SANs" "$(ip_sans "$CFG/live/127.0.0.1/cert.pem")" "DNS:$name,IP Address:127.0.0.1"
	csr=$CFG/csr/127.0.0.1.pem
	assert_eq "CSR subject" "$(subject req "$csr")" ""
	assert_eq "CSR SANs" "$(openssl req -in "$csr" -noout -text |
		grep -A1 'Subject Alternative Name' | tail -n 1 | tr -d ' ')" "IPAddress:127.0.0.1,DNS:$name"
}

@test "IP with --preferred-challenges dns: exit 2 before the CA is asked" {
	COMMON[1]=https://127.0.0.1:1/dir # nothing listens there
	ext_run -d 127.0.0.1 --preferred-challenges dns certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"127.0.0.1: IP addresses can only be validated with http-01"* ]]
	[ ! -e "$CFG/accounts" ]
	[ ! -e "$CFG/live" ]
}

@test "IP spellings: canonical text, bad forms refused as usage errors" {
	ext_direct "${COMMON[@]}" -d 010.0.0.1 --preferred-challenges http certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"canonical form"* ]]
	ext_direct "${COMMON[@]}" -d 'fe80::1%lo' --preferred-challenges http certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *"zone id"* ]]
	ext_direct "${COMMON[@]}" -d '*.127.0.0.1' certonly
	[ "$status" -eq 2 ]
}

@test "IPv6 ::1: bracketed uri, SAN IP:::1" {
	local mg perform token
	# A second challtestsrv serving http-01 on [::1] at Pebble's httpPort.
	mg=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "" \
		-http01 "[::1]:$PEBBLE_HTTP_PORT" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$mg" </dev/null >"$BATS_TEST_TMPDIR/v6.log" 2>&1 3>&- &
	V6_PID=$!
	[[ -z ${PEBBLE_REGISTRY:-} ]] || printf '%s pebble-challtestsrv\n' "$V6_PID" >>"$PEBBLE_REGISTRY"
	for _ in $(seq 100); do
		curl -sS -o /dev/null --max-time 1 -X POST -d '{"token":"probe"}' \
			"http://127.0.0.1:$mg/del-http01" 2>/dev/null && break
		kill -0 "$V6_PID" 2>/dev/null || skip "challtestsrv cannot listen on [::1]:$PEBBLE_HTTP_PORT: $(cat "$BATS_TEST_TMPDIR/v6.log")"
		sleep 0.1
	done
	CHALLTESTSRV_URL=http://127.0.0.1:$mg ext_run -d 0:0::1 --preferred-challenges http certonly
	[ "$status" -eq 0 ]
	perform=$(lines_cmd perform_challenge)
	token=$(jq -r .token <<<"$perform")
	assert_eq "domain" "$(jq -r .domain <<<"$perform")" ::1
	assert_eq "uri" "$(jq -r .uri <<<"$perform")" "http://[::1]/.well-known/acme-challenge/$token"
	verify_lineage "$CFG/live/::1"
	# OpenSSL 3.0 prints IPv6 SANs uncompressed, later ones compressed.
	[[ $(ip_sans "$CFG/live/::1/cert.pem") == @("IP Address:0:0:0:0:0:0:0:1"|"IP Address:::1") ]]
}
