#!/usr/bin/env bats
# dnspersist.bats: dns-persist-01 (draft-ietf-acme-dns-persist, as Debian
# unstable's Pebble 2.10 implements it) against that Pebble.  The challenge
# has no token; the record is _validation-persist.NAME holding
# "ISSUER; accounturi=ACCOUNT-URL" (plus "; policy=wildcard" for a
# wildcard), ISSUER being the first of the challenge's issuer-domain-names
# (Pebble: its caaIdentities, pebble.letsencrypt.org by default).  The record
# is meant to stay: cleanup says "persist": true and nothing removes it, so a
# later order of the same account validates without publishing anything.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	# One profile, named by every order: 2.10 picks a random one otherwise.
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR \
		PEBBLE_PROFILES='{"default": {"description": "ninety days", "validityPeriod": 7776000}}' \
		common_setup_file PEBBLE_AUTHZREUSE=0
	# A DNS provider whose API answers before its nameservers have the
	# record ($DELAY seconds later); a persistent record is left in place.
	local h=$BATS_FILE_TMPDIR/provider.sh
	cat >"$h" <<'EOS'
#!/bin/bash
api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
printf '%s type=%s token=[%s] persist=[%s] txt_domain=%s\n' "$1" "${type-}" \
	"${token-unset}" "${persist-unset}" "${txt_domain-}" >>"$CALLS"
case "$1" in
perform)
	(sleep "${DELAY:-0}"; api set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}") \
		</dev/null >/dev/null 2>&1 &
	;;
cleanup) [[ ${persist-} == true ]] || api clear-txt "{\"host\":\"$txt_domain.\"}" ;;
esac
exit 0
EOS
	chmod +x "$h"
	export PROVIDER=$h
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	COMMON+=(--preferred-profile default)
	export CALLS=$BATS_TEST_TMPDIR/calls
}

# account_url: the URL of the one account in $CFG.
account_url() { jq -r .uri "$(find "$CFG/accounts" -name regr.json)"; }

# txt NAME: the TXT strings challtestsrv serves at NAME.
txt() { dig +short -p "$PEBBLE_DNS_PORT" @127.0.0.1 TXT "$1" | tr -d '"'; }

@test "dns-persist-01 in JSON mode: no token, the persistent record's name and exact value; cleanup keeps it" {
	ext_run -d per1.example.com --preferred-challenges dns-persist-01 certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/per1.example.com" per1.example.com
	local perform cleanup value
	value="pebble.letsencrypt.org; accounturi=$(account_url)"
	perform=$(lines_cmd perform_challenge)
	assert_eq "keys" "$(keys_of "$perform")" cmd,type,domain,token,validation,txt_domain,key_auth
	assert_eq "type" "$(jq -r .type <<<"$perform")" dns-persist-01
	assert_eq "token" "$(jq -c .token <<<"$perform")" null
	assert_eq "key_auth" "$(jq -c .key_auth <<<"$perform")" null
	assert_eq "txt_domain" "$(jq -r .txt_domain <<<"$perform")" _validation-persist.per1.example.com
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" "$value"
	cleanup=$(lines_cmd cleanup)
	assert_eq "cleanup status" "$(jq -r .status <<<"$cleanup")" valid
	assert_eq "cleanup persist" "$(jq -c .persist <<<"$cleanup")" true
	assert_eq "cleanup txt_domain" "$(jq -r .txt_domain <<<"$cleanup")" _validation-persist.per1.example.com
	# Still published after the run.
	assert_eq "record kept" "$(txt _validation-persist.per1.example.com)" "$value"
	# A second certificate for the name: the record is there, nothing is
	# published, and the CA validates again (no authz reuse here).
	DRIVER_NO_PUBLISH=1 ext_run -d per1.example.com --preferred-challenges dns-persist-01 \
		--cert-name per1-again certonly
	[ "$status" -eq 0 ]
	assert_eq "second status" "$(lines_cmd cleanup | jq -r .status)" valid
}

@test "dns-persist-01 for a wildcard: the value carries policy=wildcard, and Pebble accepts it" {
	ext_run -d '*.wper.example.com' --preferred-challenges dns-persist certonly
	[ "$status" -eq 0 ]
	local perform
	perform=$(lines_cmd perform_challenge)
	assert_eq "txt_domain" "$(jq -r .txt_domain <<<"$perform")" _validation-persist.wper.example.com
	assert_eq "validation" "$(jq -r .validation <<<"$perform")" \
		"pebble.letsencrypt.org; accounturi=$(account_url); policy=wildcard"
}

@test "dns-persist-01 in handler mode: token empty, persist=true at cleanup; --dns-wait waits for the late record" {
	DELAY=1 ext_direct "${COMMON[@]}" -d hper.example.com --preferred-challenges dns-persist-01 \
		--handler "$PROVIDER" --dns-wait 20 --dns-resolver "127.0.0.1:$PEBBLE_DNS_PORT" certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *"_validation-persist.hper.example.com: the TXT record is visible"* ]]
	grep -qx 'perform type=dns-persist-01 token=\[\] persist=\[unset\] txt_domain=_validation-persist.hper.example.com' "$CALLS"
	grep -qx 'cleanup type=dns-persist-01 token=\[\] persist=\[true\] txt_domain=_validation-persist.hper.example.com' "$CALLS"
	assert_eq "record kept" "$(txt _validation-persist.hper.example.com)" \
		"pebble.letsencrypt.org; accounturi=$(account_url)"
}

@test "dns-persist-01 without --dns-wait loses the race with the same late provider: exit 4" {
	DELAY=1 ext_direct "${COMMON[@]}" -d lper.example.com --preferred-challenges dns-persist-01 \
		--handler "$PROVIDER" certonly
	[ "$status" -eq 4 ]
	[[ $stderr == *"No TXT records found for DNS-PERSIST-01 challenge"* ]]
}

@test "dns-persist-01 in text mode: the person is told to keep the record" {
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	local value
	value="pebble.letsencrypt.org; accounturi=$(account_url)"
	# Published once, beforehand, as the record is meant to be.
	challtestsrv_post set-txt "$(jq -nc --arg v "$value" '{host:"_validation-persist.tper.example.com.",value:$v}')"
	run --separate-stderr timeout "$RUN_TIMEOUT" env EXTAUTH_DNS_SERVER="127.0.0.1:$PEBBLE_DNS_PORT" \
		"$EXTAUTH" "${COMMON[@]}" -d tper.example.com --preferred-challenges dns-persist-01 \
		--text-mode certonly <<<""
	show
	[ "$status" -eq 0 ]
	[[ $output == *$'name\n_validation-persist.tper.example.com.\nwith the following value:\n\n'"$value"$'\n'* ]]
	[[ $output == *"This record is meant to stay: leave it in place after this run"* ]]
	[[ $output == *"The record is already visible."* ]]
	[[ $output == *"Keep the TXT record _validation-persist.tper.example.com.: it is persistent (dns-persist-01), do not remove it"* ]]
	[[ $output != *"You can now remove"* ]]
}

@test "dns-persist-01 in dehydrated mode: no deploy_challenge or clean_challenge (as dehydrated); the record is named in the log" {
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	local value hook=$BATS_TEST_TMPDIR/hook.sh
	value="pebble.letsencrypt.org; accounturi=$(account_url)"
	challtestsrv_post set-txt "$(jq -nc --arg v "$value" '{host:"_validation-persist.dper.example.com.",value:$v}')"
	# shellcheck disable=SC2016 # $1 is the hook's, not ours
	printf '#!/bin/sh\necho "$1" >>"%s"\nexit 0\n' "$CALLS" >"$hook"
	chmod +x "$hook"
	ext_direct "${COMMON[@]}" -d dper.example.com --preferred-challenges dns-persist-01 \
		--handler "$hook" --dehydrated certonly
	[ "$status" -eq 0 ]
	run ! grep -q '_challenge$' "$CALLS"
	grep -qx startup_hook "$CALLS"
	grep -qx exit_hook "$CALLS"
	[[ $stderr == *"no deploy_challenge for the dns-persist-01 challenge of dper.example.com"* ]]
	[[ $stderr == *"_validation-persist.dper.example.com = \"$value\""* ]]
	# --hook-chain the same: the chained call has nothing to carry.
	: >"$CALLS"
	ext_direct "${COMMON[@]}" -d dper.example.com --preferred-challenges dns-persist-01 \
		--handler "$hook" --dehydrated --hook-chain --cert-name dper-chain certonly
	[ "$status" -eq 0 ]
	run ! grep -q '_challenge$' "$CALLS"
}
