#!/usr/bin/env bats
# dryrun.bats: --dry-run never finalizes at a production CA (issue 7 §1):
# without --server it goes to Let's Encrypt's staging directory, which the
# tests point at Pebble through EXTAUTH_STAGING_SERVER (documented in
# extauth(1)); renew sends a lineage recorded with production to staging;
# a dry run writes nothing to the lineage.  And renew's random sleep
# without a terminal (issue 7 §3), kept short by EXTAUTH_RANDOM_SLEEP_MAX.
# The machine has no internet: the real staging URL can only fail, and
# the test checks it is the one named, never production's acme-v02.
# Exit codes: 0 ok, 3 CA/network.

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
	# everything of COMMON but --server
	NOSERVER=(--ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}" --agree-tos
		--email t@example.com -n)
	PROD=https://acme-v02.api.letsencrypt.org/directory
}

# obtain NAME: a real lineage at Pebble.
obtain() {
	ext_run -d "$1" --preferred-challenges dns --deactivate-authz certonly
	[ "$status" -eq 0 ]
}

# snapshot NAME: archive listing, live link targets and the conf's bytes.
snapshot() {
	(cd "$CFG" && ls -l "archive/$1" | awk '{print $NF}' &&
		readlink live/"$1"/*.pem && sha256sum "renewal/$1.conf")
}

assert_no_production() {
	! grep -qF "acme-v02.api" <<<"$stderr$output" || false
	! grep -rqF "acme-v02.api" "$LOGS" || false
}

@test "certonly --dry-run without --server: staging (EXTAUTH_STAGING_SERVER), nothing saved" {
	EXTAUTH_STAGING_SERVER=$PEBBLE_DIR_URL run --separate-stderr timeout "$RUN_TIMEOUT" \
		bash "$DRIVER" "$EXTAUTH" "${NOSERVER[@]}" -d dry1.example.com \
		--preferred-challenges dns --dry-run certonly
	show
	[ "$status" -eq 0 ]
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | sort -u)" valid
	grep -qi "dry run" <<<"$output$stderr"
	[ ! -e "$CFG/live/dry1.example.com" ] && [ ! -e "$CFG/archive/dry1.example.com" ]
	[ ! -e "$CFG/renewal/dry1.example.com.conf" ]
	# the account is Pebble's: the run went there
	grep -rqF "$(sed 's|https://||; s|/.*||' <<<"$PEBBLE_DIR_URL")" <(find "$CFG/accounts")
}

@test "certonly --dry-run without --server or variable: Let's Encrypt staging, never production" {
	ext_direct "${NOSERVER[@]}" -d dry2.example.com --dry-run certonly
	[ "$status" -eq 3 ]
	grep -qF "acme-staging-v02.api.letsencrypt.org" <<<"$stderr"
	assert_no_production
	# --server wins over the dry-run default
	ext_direct "${NOSERVER[@]}" --server https://127.0.0.1:1/dir -d dry2.example.com --dry-run certonly
	[ "$status" -eq 3 ]
	grep -qF "127.0.0.1:1" <<<"$stderr"
	! grep -qF "acme-staging" <<<"$stderr" || false
}

@test "--server PEBBLE --dry-run validates and finalizes but writes nothing to the lineage" {
	local name=dry3.example.com before
	obtain "$name"
	before=$(snapshot "$name")
	cp "$CFG/renewal/$name.conf" "$BATS_TEST_TMPDIR/conf.before"
	ext_run -d "$name" --preferred-challenges dns --deactivate-authz --force-renewal \
		--dry-run certonly
	[ "$status" -eq 0 ]
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | sort -u)" valid
	assert_eq "lineage" "$(snapshot "$name")" "$before"
	cmp "$CFG/renewal/$name.conf" "$BATS_TEST_TMPDIR/conf.before"
}

@test "renew --dry-run: a lineage recorded with production goes to staging" {
	local name=dry4.example.com before
	obtain "$name"
	sed -i "s|^server = .*|server = $PROD|" "$CFG/renewal/$name.conf"
	before=$(snapshot "$name")
	EXTAUTH_STAGING_SERVER=$PEBBLE_DIR_URL run --separate-stderr timeout "$RUN_TIMEOUT" \
		bash "$DRIVER" "$EXTAUTH" renew "${DIRS[@]}" --deactivate-authz --dry-run
	show
	[ "$status" -eq 0 ]
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | sort -u)" valid
	assert_eq "lineage" "$(snapshot "$name")" "$before"
	# no variable: the real staging URL, which this machine cannot reach
	# (through the driver: a JSON-mode lineage with nobody on stdin would
	# fail before any URL is chosen)
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" renew "${DIRS[@]}" --dry-run
	show
	[ "$status" -ne 0 ]
	grep -qF "acme-staging-v02.api.letsencrypt.org" <<<"$stderr"
	assert_no_production
	assert_eq "lineage" "$(snapshot "$name")" "$before"
}

@test "renew without a terminal sleeps a random delay first; --no-random-sleep-on-renew does not" {
	local name=sleep.example.com start end nosleep=(--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS")
	obtain "$name"
	start=$(date +%s%N)
	EXTAUTH_RANDOM_SLEEP_MAX=1 run --separate-stderr timeout "$RUN_TIMEOUT" \
		bash "$DRIVER" "$EXTAUTH" renew "${nosleep[@]}" --deactivate-authz --force-renewal
	end=$(date +%s%N)
	show
	[ "$status" -eq 0 ]
	grep -q "random delay of 1.000 seconds" <<<"$stderr"
	grep -q "random delay of 1.000 seconds" "$LOGS/extauth.log"
	# it waited (a lower bound only: a slow machine cannot fail it)
	((end - start >= 1000000000))
	# nothing due: no sleep at all, as certbot
	: >"$LOGS/extauth.log"
	EXTAUTH_RANDOM_SLEEP_MAX=1 run --separate-stderr timeout "$RUN_TIMEOUT" \
		"$EXTAUTH" renew "${nosleep[@]}" </dev/null
	[ "$status" -eq 0 ]
	! grep -q "random delay" <<<"$stderr" || false
	# the flag skips it
	EXTAUTH_RANDOM_SLEEP_MAX=1 run --separate-stderr timeout "$RUN_TIMEOUT" \
		bash "$DRIVER" "$EXTAUTH" renew "${nosleep[@]}" --deactivate-authz --force-renewal \
		--no-random-sleep-on-renew
	show
	[ "$status" -eq 0 ]
	! grep -q "random delay" <<<"$stderr" || false
	! grep -q "random delay" "$LOGS/extauth.log" || false
}

@test "renew's random sleep ends on SIGTERM: exit 143, nothing renewed" {
	local name=sigsleep.example.com pid i before nosleep=(--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS")
	obtain "$name"
	before=$(snapshot "$name")
	EXTAUTH_RANDOM_SLEEP_MAX=480 "$EXTAUTH" renew "${nosleep[@]}" --force-renewal \
		</dev/null 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	# wait until it says it sleeps (the delay is at least 1 s)
	for ((i = 0; i < 200; i++)); do
		grep -q "random delay" "$BATS_TEST_TMPDIR/err" && break
		sleep 0.05
	done
	grep -q "random delay" "$BATS_TEST_TMPDIR/err"
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/err"
	assert_eq "exit" "$rc" 143
	assert_eq "lineage" "$(snapshot "$name")" "$before"
}

@test "renew --dry-run to staging registers there without --agree-tos when a production account exists (certbot)" {
	local name=dry5.example.com host acct
	obtain "$name"
	sed -i "s|^server = .*|server = $PROD|" "$CFG/renewal/$name.conf"
	# the account becomes a production one: staging (Pebble) has none
	host=$(sed 's|https://||; s|/.*||' <<<"$PEBBLE_DIR_URL")
	mkdir -p "$CFG/accounts/acme-v02.api.letsencrypt.org"
	mv "$CFG/accounts/$host/dir" "$CFG/accounts/acme-v02.api.letsencrypt.org/directory"
	EXTAUTH_STAGING_SERVER=$PEBBLE_DIR_URL run --separate-stderr timeout "$RUN_TIMEOUT" \
		bash "$DRIVER" "$EXTAUTH" renew "${DIRS[@]}" --deactivate-authz --dry-run
	show
	[ "$status" -eq 0 ]
	grep -q "registered account" <<<"$stderr"
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | sort -u)" valid
	# the new staging account has no contact: none was given
	acct=$(find "$CFG/accounts/$host" -name regr.json)
	assert_eq "contact" "$(jq -r '.body.contact // [] | length' "$acct")" 0
	# no production account: the dry run asks for --agree-tos as any run
	rm -rf "$CFG/accounts"
	EXTAUTH_STAGING_SERVER=$PEBBLE_DIR_URL run --separate-stderr timeout "$RUN_TIMEOUT" \
		bash "$DRIVER" "$EXTAUTH" renew "${DIRS[@]}" --deactivate-authz --dry-run
	show
	[ "$status" -ne 0 ]
	grep -q -- "--agree-tos" <<<"$stderr"
}
