#!/usr/bin/env bats
# profiles.bats: ACME profiles (draft-ietf-acme-profiles) against Debian
# unstable's Pebble 2.10 (scripts/pebble-sid.sh), which offers two profiles
# of different validity: "long" (90 days) and "six" (6 days).  certbot 4.0's
# semantics: --preferred-profile falls back to the CA's default,
# --required-profile fails before any order; the choice is recorded in the
# renewal conf and reused by renew.

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

# lifetime_days NAME: the live certificate's lifetime in whole days.
lifetime_days() {
	local cert=$CFG/live/$1/cert.pem nb na
	nb=$(date -d "$(openssl x509 -in "$cert" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$cert" -noout -enddate | cut -d= -f2)" +%s)
	echo $(((na - nb + 3600) / 86400))
}

@test "profiles: --required-profile six gives a 6-day certificate, long a 90-day one; both recorded" {
	ext_run -d six.example.com --preferred-challenges dns --required-profile six certonly
	[ "$status" -eq 0 ]
	[ "$(lifetime_days six.example.com)" -eq 6 ]
	grep -qx 'required_profile = six' "$CFG/renewal/six.example.com.conf"
	ext_run -d long.example.com --preferred-challenges dns --preferred-profile long certonly
	[ "$status" -eq 0 ]
	[ "$(lifetime_days long.example.com)" -eq 90 ]
	grep -qx 'preferred_profile = long' "$CFG/renewal/long.example.com.conf"
	! grep -q '^required_profile' "$CFG/renewal/long.example.com.conf" || false
}

@test "profiles: renew reuses the recorded profile" {
	ext_run -d r6.example.com --preferred-challenges dns --required-profile six certonly
	[ "$status" -eq 0 ]
	local i
	# Pebble gives an order without a profile a random one: three 6-day
	# renewals by chance are 1 in 8, so the conf is also shown to decide.
	for i in 1 2 3; do
		run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
			renew "${DIRS[@]}" --cert-name r6.example.com --force-renewal
		show
		[ "$status" -eq 0 ]
		[ "$(lifetime_days r6.example.com)" -eq 6 ]
	done
	[ "$(readlink "$CFG/live/r6.example.com/cert.pem")" = ../../archive/r6.example.com/cert4.pem ]
	# The recorded choice is what renew orders with: a profile the CA does
	# not offer, written into the conf, stops the renewal before ordering.
	sed -i 's/^required_profile = six$/required_profile = gone/' "$CFG/renewal/r6.example.com.conf"
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --cert-name r6.example.com --force-renewal
	show
	[ "$status" -ne 0 ]
	[[ $stderr == *'the CA does not offer the required profile "gone"'* ]]
	# The command line's choice replaces the recorded one.
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --cert-name r6.example.com --force-renewal --required-profile long
	show
	[ "$status" -eq 0 ]
	[ "$(lifetime_days r6.example.com)" -eq 90 ]
	grep -qx 'required_profile = long' "$CFG/renewal/r6.example.com.conf"
}

@test "profiles: a preferred profile the CA does not offer: a warning, then its default" {
	ext_run -d pref.example.com --preferred-challenges dns --preferred-profile nosuch certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *'the CA does not offer the preferred profile "nosuch"; ordering with its default profile'* ]]
	[ -f "$CFG/live/pref.example.com/cert.pem" ]
}

@test "profiles: a required profile the CA does not offer fails in two lines, exit 2, before any order" {
	local before
	# Pebble logs each request it serves; one order first, so the count
	# below is shown to see newOrders at all.
	ext_run -d req0.example.com --preferred-challenges dns --required-profile six certonly
	[ "$status" -eq 0 ]
	before=$(grep -c 'POST /order-plz' "$PEBBLE_TMP/pebble.log" || true)
	[ "$before" -gt 0 ]
	ext_run -d req.example.com --preferred-challenges dns --required-profile nosuch certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *'the CA does not offer the required profile "nosuch"'* ]]
	[[ $stderr == *'see the profiles it offers with extauth show_account'* ]]
	[ "$(grep -c 'POST /order-plz' "$PEBBLE_TMP/pebble.log" || true)" = "$before" ]
	[ ! -e "$CFG/live/req.example.com" ]
	[ "$(count_cmd perform)" -eq 0 ]
}

@test "profiles: bad names and both flags are usage errors before the CA" {
	ext_direct certonly --required-profile 'a b' -d x.example.com --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	[[ $stderr == *"a profile name is 1 to 64 letters"* ]]
	ext_direct certonly --required-profile a --preferred-profile b -d x.example.com --server https://127.0.0.1:1/dir
	[ "$status" -eq 2 ]
	[[ $stderr == *"cannot be used together"* ]]
}

@test "profiles: show_account lists the CA's profiles" {
	ext_run -d acct.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	ext_run show_account
	[ "$status" -eq 0 ]
	[[ $stderr == *'Profile offered: long: ninety days'* ]]
	[[ $stderr == *'Profile offered: six: six days'* ]]
}

@test "profiles: a CA that refuses a profile it listed (invalidProfile): the CA's words and what to do, exit 3" {
	load ../lib/faultproxy
	# The proxy lists "ghost" in the directory; Pebble does not know it.
	faultproxy_start ghostprofile
	ext_run -d ghost.example.com --preferred-challenges dns --required-profile ghost \
		--server "$FAULTPROXY_DIR_URL" --ca-bundle "$FAULTPROXY_CA_BUNDLE" certonly
	faultproxy_stop
	[ "$status" -eq 3 ]
	[[ $stderr == *"invalidProfile"* ]]
	[[ $stderr == *'the CA refused the profile "ghost": see the profiles it offers with extauth show_account'* ]]
	[ "$(count_cmd perform_challenge)" -eq 0 ]
}
