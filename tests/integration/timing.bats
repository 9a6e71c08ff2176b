#!/usr/bin/env bats
# timing.bats: when renew renews, against Debian unstable's Pebble 2.10
# (scripts/pebble-sid.sh) with a 6-day profile ("six") and a 90-day one.
# The clock renew decides with is moved by EXTAUTH_NOW (a test knob,
# extauth(1)), so days pass without waiting.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR \
		PEBBLE_PROFILES='{"long": {"description": "ninety days", "validityPeriod": 7776000}, "six": {"description": "six days", "validityPeriod": 518400}}' \
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

# cert_time NAME start|end: the live certificate's notBefore/notAfter, epoch.
cert_time() {
	date -d "$(openssl x509 -in "$CFG/live/$1/cert.pem" -noout -"$2"date | cut -d= -f2)" +%s
}

# renew_at EPOCH ARGS...: `extauth renew` through the driver, its clock at EPOCH.
renew_at() {
	local at=$1
	shift
	run --separate-stderr env EXTAUTH_NOW="$at" timeout "$RUN_TIMEOUT" bash "$DRIVER" \
		"$EXTAUTH" renew "${DIRS[@]}" "$@"
	show
}

# version NAME: N of the archive file live/NAME/cert.pem points at.
version() {
	readlink "$CFG/live/$1/cert.pem" | sed 's/.*cert\([0-9]*\)\.pem$/\1/'
}

@test "due rule: a 6-day certificate is due with half its lifetime left, so a twice-daily timer renews it on time" {
	ext_run -d six.example.com --preferred-challenges dns --required-profile six certonly
	[ "$status" -eq 0 ]
	local nb na half
	nb=$(cert_time six.example.com start)
	na=$(cert_time six.example.com end)
	half=$(((na - nb) / 2))
	[ $(((na - nb + 3600) / 86400)) -eq 6 ]
	# At issuance and 2.9 days later (a third of the lifetime would still
	# be 1.9 days away): not due, nothing sent to the CA.
	renew_at "$(date +%s)"
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
	renew_at $((nb + 250560))
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
	[ "$(version six.example.com)" = 1 ]
	# 3.1 days after issuance (half the lifetime plus 0.1 day): renewed,
	# with the recorded 6-day profile.
	renew_at $((nb + half + 8640))
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 due, 1 renewed"* ]]
	[ "$(version six.example.com)" = 2 ]
	[ $((($(cert_time six.example.com end) - $(cert_time six.example.com start) + 3600) / 86400)) -eq 6 ]
}

@test "due rule: a 90-day certificate is due with a third left; renew_before_expiry still wins" {
	ext_run -d long.example.com --preferred-challenges dns --required-profile long certonly
	[ "$status" -eq 0 ]
	local nb
	nb=$(cert_time long.example.com start)
	# day 58: before the lifetime rule (day 60) and Pebble's ARI window (59-61)
	renew_at $((nb + 58 * 86400))
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
	# renew_before_expiry = 40 days: due at day 51.
	sed -i '1i renew_before_expiry = 40 days' "$CFG/renewal/long.example.com.conf"
	renew_at $((nb + 51 * 86400))
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 due, 1 renewed"* ]]
	[ "$(version long.example.com)" = 2 ]
	sed -i '/^renew_before_expiry = /d' "$CFG/renewal/long.example.com.conf"
	nb=$(cert_time long.example.com start)
	renew_at $((nb + 61 * 86400))
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 due, 1 renewed"* ]]
	[ "$(version long.example.com)" = 3 ]
}

@test "EXTAUTH_NOW that is not a time: a warning, the real clock" {
	ext_run -d bad.example.com --preferred-challenges dns --required-profile six certonly
	[ "$status" -eq 0 ]
	renew_at soon
	[ "$status" -eq 0 ]
	[[ $stderr == *"EXTAUTH_NOW is not epoch seconds"* ]]
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
}

# set_window NAME START END: Pebble's answer for live/NAME's certificate
# becomes the window START..END (RFC 3339), through its management API.
set_window() {
	local body
	body=$(jq -cn --rawfile c "$CFG/live/$1/cert.pem" --arg s "$2" --arg e "$3" \
		'{Certificate: $c, ARIResponse: ({suggestedWindow: {start: $s, end: $e},
		  explanationURL: "https://ca.example/why"} | tojson)}')
	curl -fsS --cacert "$PEBBLE_CA_BUNDLE" -o /dev/null -X POST -d "$body" \
		"$PEBBLE_MGMT_URL/set-renewal-info/"
}

rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

@test "ARI: renew follows the CA's window: recorded, cached until Retry-After, into the past renews with replaces" {
	ext_run -d ari.example.com --preferred-challenges dns --required-profile long certonly
	[ "$status" -eq 0 ]
	local nb na now at conf=$CFG/renewal/ari.example.com.conf
	nb=$(cert_time ari.example.com start)
	na=$(cert_time ari.example.com end)
	now=$(date +%s)
	# Pebble's own window: 2/3 of the lifetime +-24 h; not due now.
	renew_at "$now"
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
	at=$(sed -n 's/^extauth_ari_renew_at = //p' "$conf")
	local mid=$((nb + (na - nb) * 2 / 3))
	[ "$at" -ge $((mid - 86400 - 60)) ] && [ "$at" -le $((mid + 86400 + 60)) ]
	[ "$(sed -n 's/^extauth_ari_next_query = //p' "$conf")" -eq $((now + 21600)) ]
	# The CA moves the window into the past; the recorded answer is still
	# fresh, so nothing is asked and nothing renewed.
	set_window ari.example.com "$(rfc3339 $((now - 7200)))" "$(rfc3339 $((now - 3600)))"
	renew_at "$now"
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
	[ "$(sed -n 's/^extauth_ari_renew_at = //p' "$conf")" = "$at" ]
	# Once its Retry-After has passed: asked again, renewed now, and the
	# newOrder named the certificate it replaces (Pebble logs it).
	renew_at $((now + 21601))
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 due, 1 renewed"* ]]
	[[ $stderr == *"the CA asks for renewal earlier than usual"*"https://ca.example/why"* ]]
	[ "$(version ari.example.com)" = 2 ]
	grep -q 'ARI: order .* is a replacement of' "$PEBBLE_TMP/pebble.log"
	# The new certificate starts without a window.
	! grep -q '^extauth_ari_renew_at' "$conf" || false
}

@test "ARI: a window in the far future is not renewed; the moment is inside it" {
	ext_run -d far.example.com --preferred-challenges dns --required-profile long certonly
	[ "$status" -eq 0 ]
	local s=4102444800 e=$((4102444800 + 86400)) at
	set_window far.example.com "$(rfc3339 $s)" "$(rfc3339 $e)"
	renew_at "$(date +%s)"
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 lineage checked, 0 due"* ]]
	at=$(sed -n 's/^extauth_ari_renew_at = //p' "$CFG/renewal/far.example.com.conf")
	[ "$at" -ge "$s" ] && [ "$at" -le "$e" ]
	[ "$(sed -n 's/^extauth_ari_window_start = //p' "$CFG/renewal/far.example.com.conf")" = "$s" ]
	[ "$(version far.example.com)" = 1 ]
}

# orders: how many newOrders Pebble has served so far.
orders() { grep -c 'POST /order-plz' "$PEBBLE_TMP/pebble.log" || true; }

@test "backoff: a failing lineage is not retried before its time (1 h, then 2 h), --force-renewal ignores it, success resets it" {
	ext_run -d fail.example.com --preferred-challenges dns --required-profile long certonly
	[ "$status" -eq 0 ]
	local conf=$CFG/renewal/fail.example.com.conf now before
	# Due from now on; the DNS is broken (the driver publishes nothing).
	sed -i '1i renew_before_expiry = 1000 days' "$conf"
	now=$(date +%s)
	DRIVER_NO_PUBLISH=1 renew_at "$now"
	[ "$status" -ne 0 ]
	[[ $stderr == *"1 due, 0 renewed, 1 failed"* ]]
	[ "$(sed -n 's/^extauth_retry_count = //p' "$conf")" = 1 ]
	[ "$(sed -n 's/^extauth_retry_after = //p' "$conf")" -eq $((now + 3600)) ]
	# The next timer run, 12 minutes later: skipped, the CA not contacted.
	before=$(orders)
	[ "$before" -gt 0 ]
	DRIVER_NO_PUBLISH=1 renew_at $((now + 720))
	[ "$status" -eq 0 ]
	[[ $stderr == *"fail.example.com: 1 failed renewal in a row: next attempt after"* ]]
	[[ $output == *"Skipped after failed renewals"*"fail.example.com"* ]]
	[ "$(orders)" = "$before" ]
	# After the hour: tried again, fails again, now 2 h.
	DRIVER_NO_PUBLISH=1 renew_at $((now + 3601))
	[[ $stderr == *"1 due, 0 renewed, 1 failed"* ]]
	[ "$(orders)" -gt "$before" ]
	[ "$(sed -n 's/^extauth_retry_count = //p' "$conf")" = 2 ]
	[ "$(sed -n 's/^extauth_retry_after = //p' "$conf")" -eq $((now + 3601 + 7200)) ]
	# --force-renewal ignores the backoff; the DNS works again: renewed,
	# and the backoff is gone.
	renew_at $((now + 3700)) --force-renewal
	[ "$status" -eq 0 ]
	[[ $stderr == *"1 renewed, 0 failed"* ]]
	! grep -q '^extauth_retry' "$conf" || false
}

# check_at EPOCH ARGS...: `extauth certificates --check` with its clock at EPOCH.
check_at() {
	local at=$1
	shift
	run --separate-stderr env EXTAUTH_NOW="$at" "$EXTAUTH" certificates "${DIRS[@]}" "$@"
	show
}

@test "certificates: days left, due, failing and expired marks; --check exits 0/1/2 with one line" {
	ext_run -d c6.example.com --preferred-challenges dns --required-profile six certonly
	[ "$status" -eq 0 ]
	ext_run -d c90.example.com --preferred-challenges dns --required-profile long certonly
	[ "$status" -eq 0 ]
	local nb na now
	nb=$(cert_time c6.example.com start)
	na=$(cert_time c6.example.com end)
	now=$(date +%s)
	check_at "$now" --check
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == "EXTAUTH CERTIFICATES OK - 2 certificates, the nearest expiry in 5 days (c6.example.com)" ]]
	# The listing: days left, and no marks yet.
	check_at "$now"
	[ "$status" -eq 0 ]
	[[ $output == *"(VALID: 5 days)"* ]]
	[[ $output != *"Renewal:"* ]]
	# 3.1 days in: the 6-day one is due, not yet a warning.
	check_at $((nb + 267840))
	[[ $output == *"Certificate Name: c6.example.com"*"Renewal: DUE"*"Certificate Name: c90"* ]]
	check_at $((nb + 267840)) --check
	[ "$status" -eq 0 ]
	# 4.6 days in: half of its renewal window gone, no renewal: WARNING.
	check_at $((nb + 397440)) --check
	[ "$status" -eq 1 ]
	[[ $output == "EXTAUTH CERTIFICATES WARNING - 1 of 2 need attention; c6.example.com: 1 days left" ]]
	# --warn-days: the 90-day one is under 100 days.
	check_at "$now" --check --warn-days 100
	[ "$status" -eq 1 ]
	# Expired: CRITICAL.
	check_at $((na + 60)) --check
	[ "$status" -eq 2 ]
	[[ $output == "EXTAUTH CERTIFICATES CRITICAL - "*"c6.example.com: expired" ]]
	check_at $((na + 60))
	[[ $output == *"(INVALID: EXPIRED)"* ]]
	# A lineage whose renewals fail: FAILING in the listing, WARNING.
	sed -i '1i extauth_retry_count = 2' "$CFG/renewal/c90.example.com.conf"
	check_at "$now"
	[[ $output == *"Renewal: FAILING (2 failed renewals in a row)"* ]]
	check_at "$now" --check
	[ "$status" -eq 1 ]
	[[ $output == *"c90.example.com: "*"days left, failing to renew" ]]
	# --json carries the same.
	check_at "$now" --json
	[ "$(jq -r '.certificates[] | select(.name == "c90.example.com") | .failed_renewals' <<<"$output")" = 2 ]
}

@test "ARI: replaces refused (alreadyReplaced): the order is sent once more without it" {
	ext_run -d again.example.com --preferred-challenges dns --required-profile long certonly
	[ "$status" -eq 0 ]
	renew_at "$(date +%s)" --force-renewal
	[ "$status" -eq 0 ]
	[ "$(version again.example.com)" = 2 ]
	# live/ back on version 1, which Pebble knows is replaced already: all
	# four links, or the run's repair of half-updated links (store_lineage.c)
	# would complete them to version 2 again.
	for f in cert chain fullchain privkey; do
		ln -sfn "../../archive/again.example.com/${f}1.pem" "$CFG/live/again.example.com/$f.pem"
	done
	renew_at "$(date +%s)" --force-renewal
	[ "$status" -eq 0 ]
	[[ $stderr == *"alreadyReplaced"* ]]
	[[ $stderr == *'ordering again without "replaces"'* ]]
	[[ $stderr == *"1 renewed, 0 failed"* ]]
	[ "$(version again.example.com)" = 3 ]
}

@test "backoff: a rateLimited answer's Retry-After is the next attempt when later than the backoff" {
	load ../lib/faultproxy
	# Obtained through the proxy (no faults yet), so renew goes through it.
	faultproxy_start
	ext_run -d rl.example.com --preferred-challenges dns --required-profile long \
		--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" certonly
	[ "$status" -eq 0 ] || { faultproxy_stop; false; }
	faultproxy_rules "ratelimited:kind=newOrder:secs=7200"
	local conf=$CFG/renewal/rl.example.com.conf now
	sed -i '1i renew_before_expiry = 1000 days' "$conf"
	now=$(date +%s)
	renew_at "$now"
	faultproxy_stop
	[ "$status" -ne 0 ]
	[[ $stderr == *"rate limited by the CA"* ]]
	[ "$(sed -n 's/^extauth_retry_count = //p' "$conf")" = 1 ]
	local after
	after=$(sed -n 's/^extauth_retry_after = //p' "$conf")
	[ "$after" -ge $((now + 7200)) ] && [ "$after" -le $((now + 7200 + 60)) ]
}
