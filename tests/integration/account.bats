#!/usr/bin/env bats
# account.bats: register, show_account, unregister against Pebble.

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

accounts() { find "$CFG/accounts" -name private_key.json 2>/dev/null | wc -l; }

@test "register creates one account; again finds it; show_account reads it from the CA" {
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	assert_eq "accounts" "$(accounts)" 1
	jq -e '.cmd == "report" and (.messages[0].lines[0] | test("Account registered with .*/my-account/"))' <<<"${lines[-1]}"
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	assert_eq "accounts" "$(accounts)" 1
	jq -e '.messages[0].lines[0] | test("existing account")' <<<"${lines[-1]}"
	ext_direct "${COMMON[@]}" show_account
	[ "$status" -eq 0 ]
	jq -e '[.messages[].lines[0]] | any(test("status valid")) and any(test("Contact: mailto:t@example.com"))' <<<"${lines[-1]}"
}

@test "register without --agree-tos or without an address: exit 2" {
	ext_direct --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}" \
		-m t@example.com -n register
	[ "$status" -eq 2 ]
	[[ $stderr == *"--agree-tos"* ]]
	# two lines: what is missing (naming the terms), what to do
	grep -q "needs your agreement to its terms of service (.*)" <<<"${stderr_lines[0]}"
	grep -q "run again with --agree-tos" <<<"${stderr_lines[1]}"
	assert_eq "stderr lines" "${#stderr_lines[@]}" 2
	ext_direct --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}" \
		--agree-tos -n register
	[ "$status" -eq 2 ]
	[[ $stderr == *"--register-unsafely-without-email"* ]]
	grep -q "needs a contact address" <<<"${stderr_lines[0]}"
	grep -q "run again with --email ADDRESS" <<<"${stderr_lines[1]}"
	assert_eq "accounts" "$(accounts)" 0
}

@test "unregister deactivates at the CA and removes the local account" {
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	cp -a "$CFG/accounts" "$BATS_TEST_TMPDIR/saved"
	# irrevocable: not without -n
	ext_direct --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}" unregister
	[ "$status" -eq 2 ]
	assert_eq "accounts" "$(accounts)" 1
	ext_direct "${COMMON[@]}" unregister
	[ "$status" -eq 0 ]
	assert_eq "accounts" "$(accounts)" 0
	# the CA agrees: the old key is refused now
	rm -rf "$CFG/accounts"
	cp -a "$BATS_TEST_TMPDIR/saved" "$CFG/accounts"
	ext_direct "${COMMON[@]}" show_account
	[ "$status" -eq 3 ]
	[[ $stderr == *"deactivated"* || $stderr == *"unauthorized"* ]]
	# nothing to unregister in an empty config dir
	rm -rf "$CFG/accounts"
	ext_direct "${COMMON[@]}" unregister
	[ "$status" -eq 2 ]
}
