#!/usr/bin/env bats
# stderr is set by bats' run --separate-stderr.
# shellcheck disable=SC2154
# realservers.bats: extauth against real servers, with the example scripts
# unchanged.
#   - dehydrated mode drives examples/dehydrated-nsupdate-hook.sh, which
#     publishes dns-01 in a real BIND 9 over RFC 2136 + TSIG; Pebble
#     validates by asking that BIND (PEBBLE_DNS_SERVER), nothing else.
#   - handler mode with `run` deploys the certificate into a real nginx
#     through examples/nginx-deploy-handler.sh; dns-01 goes through
#     pebble-challtestsrv there.
# So setup_file starts two Pebbles: "bind" (resolves through BIND) and "cts"
# (resolves through its challtestsrv).  Each one's exported state is kept in
# a file and a test picks one with use_pebble.  PEBBLE_AUTHZREUSE=0 on both:
# every order runs its challenges through the hook/handler.
# Every extauth run has a time limit (ext_direct); every wait is a poll.

bats_require_minimum_version 1.5.0 # run --separate-stderr

# Top-level code runs for setup_file, every test and teardown_file alike.
load ../lib/common
load ../lib/bind
load ../lib/nginx

ZONE=realservers.test
HOOK=$REPO_ROOT/examples/dehydrated-nsupdate-hook.sh
NGINX_HANDLER=$REPO_ROOT/examples/nginx-deploy-handler.sh
PROBE=this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script

# save_pebble NAME: remember the running Pebble's exported state as NAME.
save_pebble() {
	local v
	for v in PEBBLE_PID CHALLTESTSRV_PID PEBBLE_TMP PEBBLE_DIR_URL PEBBLE_CA_BUNDLE \
		PEBBLE_MGMT_URL CHALLTESTSRV_URL PEBBLE_HTTP_PORT PEBBLE_DNS_PORT; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done >"$BATS_FILE_TMPDIR/pebble-$1.env"
	pebble_root_pem "$BATS_FILE_TMPDIR/$1-root.pem" "$BATS_FILE_TMPDIR/$1-intermediate.pem"
}

# use_pebble NAME: make Pebble NAME the current one (PEBBLE_*, CHALLTESTSRV_URL,
# PEBBLE_ROOT for assert_lineage, COMMON for extauth).
use_pebble() {
	[[ -f $BATS_FILE_TMPDIR/pebble-$1.env ]] || return 1
	# shellcheck disable=SC1090
	source "$BATS_FILE_TMPDIR/pebble-$1.env"
	export PEBBLE_ROOT=$BATS_FILE_TMPDIR/$1-root.pem
	PEBBLE_INTERMEDIATE=$BATS_FILE_TMPDIR/$1-intermediate.pem
	common_setup
}

setup_file() {
	bind_start "$ZONE" || return 1
	# Pebble asks BIND for the _acme-challenge TXT records.
	if ! PEBBLE_DNS_SERVER="127.0.0.1:$BIND_PORT" pebble_start PEBBLE_AUTHZREUSE=0 ||
		! save_pebble bind; then
		pebble_stop
		bind_stop
		return 1
	fi
	# pebble_start forgets (does not stop) the first instance.
	if ! pebble_start PEBBLE_AUTHZREUSE=0 || ! save_pebble cts; then
		pebble_stop
		(use_pebble bind && pebble_stop)
		bind_stop
		return 1
	fi
}

teardown_file() {
	(use_pebble bind && pebble_stop) || true
	(use_pebble cts && pebble_stop) || true
	bind_stop
}

setup() {
	# The nsupdate hook's configuration, as it documents it.
	export NSUPDATE_SERVER=127.0.0.1 NSUPDATE_PORT="$BIND_PORT" NSUPDATE_KEY="$BIND_KEYFILE"
	export NSUPDATE_WAIT=10 HOOK_LOG="$BATS_TEST_TMPDIR/hook.log"
}

teardown() {
	nginx_stop
}

# hook_words: the command words in HOOK_LOG, comma separated.
hook_words() { cut -d' ' -f1 "$HOOK_LOG" | paste -sd, -; }

# hook_lines WORD: the HOOK_LOG lines of WORD, without the word.
hook_lines() { sed -n "s/^$1 //p" "$HOOK_LOG"; }

# sorted_csv NAME...: the names as cert_sans prints them.
sorted_csv() { printf '%s\n' "$@" | sort | paste -sd, -; }

# assert_triples_match_json TRIPLES...: each DOMAIN TOKEN VALUE triple is one
# perform_challenge line of stdout, in order, and VALUE is the dns-01 digest
# of that line's key_auth.
assert_triples_match_json() {
	local -a perf
	local i=0 l
	mapfile -t perf < <(lines_cmd perform_challenge)
	assert_eq "triples" "$(($# / 3))" "${#perf[@]}" || return 1
	while (($# >= 3)); do
		l=${perf[i]}
		assert_eq "domain $i" "$1" "$(jq -r .domain <<<"$l")" || return 1
		assert_eq "token $i" "$2" "$(jq -r .token <<<"$l")" || return 1
		assert_eq "value $i" "$3" "$(jq -r .validation <<<"$l")" || return 1
		assert_eq "digest $i" "$3" "$(b64url_sha256 "$(jq -r .key_auth <<<"$l")")" || return 1
		shift 3
		i=$((i + 1))
	done
}

# assert_no_txt NAME...: BIND serves no TXT record at _acme-challenge.NAME.
assert_no_txt() {
	local n got
	for n in "$@"; do
		got=$(bind_txt "_acme-challenge.$n")
		assert_eq "TXT left at _acme-challenge.$n" "$got" "" || return 1
	done
}

@test "dehydrated mode + nsupdate hook + BIND: apex, wildcard and a name in one order" {
	use_pebble bind
	local a=a.$ZONE
	ext_direct certonly --handler "$HOOK" --dehydrated "${COMMON[@]}" \
		-d "$a" -d "*.$ZONE" -d "$ZONE" --preferred-challenges dns
	cat "$HOOK_LOG"
	[ "$status" -eq 0 ]

	# dehydrated's order of calls; one deploy/clean per challenge.
	assert_eq "hook calls" "$(hook_words)" \
		"$PROBE,startup_hook,deploy_challenge,deploy_challenge,deploy_challenge,clean_challenge,clean_challenge,clean_challenge,sync_cert,exit_hook"
	# Identifiers as the CA names them (the wildcard's is the base name), in
	# the order given; exit_hook without an error.
	assert_eq "deploy domains" "$(hook_lines deploy_challenge | cut -d' ' -f1 | paste -sd, -)" "$a,$ZONE,$ZONE"
	assert_eq "clean = deploy" "$(hook_lines clean_challenge)" "$(hook_lines deploy_challenge)"
	assert_eq "exit_hook" "$(grep '^exit_hook' "$HOOK_LOG")" exit_hook
	# shellcheck disable=SC2046 # the triples are single words
	assert_triples_match_json $(hook_lines deploy_challenge)
	# Two distinct values at _acme-challenge.ZONE (apex + wildcard).
	assert_eq "distinct values" "$(hook_lines deploy_challenge | cut -d' ' -f3 | sort -u | wc -l)" 3

	# sync_cert KEY CERT FULLCHAIN CHAIN REQUEST: five real files (the hook
	# runs `sync -- "$@"`), REQUEST the CSR for the names.
	# shellcheck disable=SC2046
	set -- $(hook_lines sync_cert)
	assert_eq "sync_cert arguments" "$#" 5
	[ -f "$1" ] && [ -f "$2" ] && [ -f "$3" ] && [ -f "$4" ] && [ -f "$5" ]
	openssl req -in "$5" -noout -verify
	openssl req -in "$5" -noout -text | grep -q "DNS:\*\.$ZONE"

	assert_lineage "$CFG/live/$a" "$(sorted_csv "$a" "*.$ZONE" "$ZONE")"
	assert_no_txt "$a" "$ZONE"
}

@test "dehydrated mode --hook-chain: one deploy_challenge and one clean_challenge with all triples" {
	use_pebble bind
	local d=chain.$ZONE a=a.chain.$ZONE deploy
	ext_direct certonly --handler "$HOOK" --dehydrated --hook-chain "${COMMON[@]}" \
		-d "$a" -d "*.$d" -d "$d" --preferred-challenges dns
	cat "$HOOK_LOG"
	[ "$status" -eq 0 ]

	assert_eq "hook calls" "$(hook_words)" \
		"$PROBE,startup_hook,deploy_challenge,clean_challenge,sync_cert,exit_hook"
	deploy=$(hook_lines deploy_challenge)
	# shellcheck disable=SC2086
	set -- $deploy
	assert_eq "deploy arguments" "$#" 9
	assert_eq "deploy domains" "$1,$4,$7" "$a,$d,$d"
	assert_eq "clean = deploy" "$(hook_lines clean_challenge)" "$deploy"
	# shellcheck disable=SC2086
	assert_triples_match_json $deploy

	assert_lineage "$CFG/live/$a" "$(sorted_csv "$a" "*.$d" "$d")"
	assert_no_txt "$a" "$d"
}

@test "handler mode run: dns-01 through challtestsrv, certificate deployed into a real nginx" {
	use_pebble cts
	local name=www.$ZONE H=$BATS_TEST_TMPDIR/handler.sh HLOG=$BATS_TEST_TMPDIR/handler.log
	local ph_fp fp1 fp2 bundle=$BATS_TEST_TMPDIR/pebble-cas.pem
	export HLOG NGINX_HANDLER

	# Publishes dns-01 in challtestsrv; everything else is the nginx
	# example's business (deploy_cert, and NotImplemented for the rest).
	# The cleanup record has no txt_domain (the seed's cleanup keys), so
	# the name is derived from domain there.
	cat >"$H" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
printf '%s %s\n' "$1" "${domain-}" >>"$HLOG"
txt=${txt_domain:-_acme-challenge.${domain-}}
case $1 in
perform)
	curl -fsS -X POST -d "{\"host\":\"${txt%.}.\",\"value\":\"$validation\"}" \
		"$CHALLTESTSRV_URL/set-txt" ;;
cleanup)
	curl -fsS -X POST -d "{\"host\":\"${txt%.}.\"}" "$CHALLTESTSRV_URL/clear-txt" ;;
*) exec "$NGINX_HANDLER" "$@" ;;
esac
EOF
	chmod +x "$H"

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=placeholder -keyout "$BATS_TEST_TMPDIR/ph.key" -out "$BATS_TEST_TMPDIR/ph.crt" 2>/dev/null
	nginx_start "$BATS_TEST_TMPDIR/ph.crt" "$BATS_TEST_TMPDIR/ph.key"
	ph_fp=$(nginx_file_fingerprint "$BATS_TEST_TMPDIR/ph.crt")
	assert_eq "placeholder served" "$(nginx_served_fingerprint "$name")" "$ph_fp"

	ext_direct run --handler "$H" "${COMMON[@]}" -d "$name" --preferred-challenges dns
	cat "$HLOG"
	[ "$status" -eq 0 ]
	assert_eq "handler calls" "$(grep -E '^(perform|cleanup|deploy_cert) ' "$HLOG" | paste -sd, -)" \
		"perform $name,cleanup $name,deploy_cert $name"
	[[ $stderr == *"nginx-deploy: deployed "*" for $name and reloaded nginx"* ]]
	assert_eq "TXT left in challtestsrv" \
		"$(dig +short @127.0.0.1 -p "$PEBBLE_DNS_PORT" TXT "_acme-challenge.$name")" ""
	assert_lineage "$CFG/live/$name" "$name" 1

	# The reload is asynchronous: poll until nginx serves the new cert.
	fp1=$(nginx_file_fingerprint "$CFG/live/$name/cert.pem")
	[ "$fp1" != "$ph_fp" ]
	nginx_wait_fingerprint "$name" "$fp1"

	# A real TLS client trusts it through Pebble's CA, by name.
	cat "$PEBBLE_ROOT" "$PEBBLE_INTERMEDIATE" >"$bundle"
	run curl -fsS --max-time 10 --cacert "$bundle" \
		--resolve "$name:$NGINX_PORT:127.0.0.1" "https://$name:$NGINX_PORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]

	# A forced renewal deploys the new certificate the same way.
	: >"$HLOG"
	ext_direct run --handler "$H" "${COMMON[@]}" -d "$name" --preferred-challenges dns --force-renewal
	cat "$HLOG"
	[ "$status" -eq 0 ]
	assert_eq "handler calls" "$(grep -E '^(perform|cleanup|deploy_cert|unchanged_cert) ' "$HLOG" | paste -sd, -)" \
		"perform $name,cleanup $name,deploy_cert $name"
	assert_lineage "$CFG/live/$name" "$name" 2
	fp2=$(nginx_file_fingerprint "$CFG/live/$name/cert.pem")
	[ "$fp2" != "$fp1" ]
	nginx_wait_fingerprint "$name" "$fp2"
	run curl -fsS --max-time 10 --cacert "$bundle" \
		--resolve "$name:$NGINX_PORT:127.0.0.1" "https://$name:$NGINX_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "dehydrated mode: a failing deploy_challenge stops the order, cleans up, exit_hook gets the error" {
	use_pebble bind
	local d=fail.$ZONE W=$BATS_TEST_TMPDIR/failing-hook.sh exit_line
	export FAIL_DOMAIN=two.$d HOOK
	# The nsupdate hook, except that deploy_challenge fails for FAIL_DOMAIN.
	cat >"$W" <<'EOF'
#!/usr/bin/env bash
if [[ ${1-} == deploy_challenge && ${2-} == "$FAIL_DOMAIN" ]]; then
	printf '%s\n' "$*" >>"$HOOK_LOG"
	echo "failing-hook: refusing $2" >&2
	exit 1
fi
exec "$HOOK" "$@"
EOF
	chmod +x "$W"

	ext_direct certonly --handler "$W" --dehydrated "${COMMON[@]}" \
		-d "one.$d" -d "two.$d" -d "three.$d" --preferred-challenges dns
	cat "$HOOK_LOG"
	[ "$status" -eq 5 ]

	# Nothing after the failure reaches the hook but the cleanups (the one
	# really deployed, and the failed one, whose state is unknown) and
	# exit_hook; three.$d is never told.
	assert_eq "hook calls" "$(hook_words)" \
		"$PROBE,startup_hook,deploy_challenge,deploy_challenge,clean_challenge,clean_challenge,exit_hook"
	assert_eq "deploy domains" "$(hook_lines deploy_challenge | cut -d' ' -f1 | paste -sd, -)" "one.$d,two.$d"
	assert_eq "clean = deploy" "$(hook_lines clean_challenge)" "$(hook_lines deploy_challenge)"
	exit_line=$(grep '^exit_hook' "$HOOK_LOG")
	[[ $exit_line == "exit_hook "?* ]]
	[[ $exit_line == *deploy_challenge* ]]
	assert_no_txt "one.$d" "two.$d" "three.$d"
	[ ! -e "$CFG/live/one.$d" ]
}
