#!/usr/bin/env bats
# planted.bats: files that cannot be turned against us (issue 11 item 7).
# Someone who can write into the config, work or logs directory plants a
# link, a FIFO or loosens a mode; extauth must neither follow the link
# (reading or writing), nor hang on the FIFO, nor trust the directory.
# Against the real Pebble.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
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
	OUTSIDE=$BATS_TEST_TMPDIR/outside
	mkdir -p "$OUTSIDE"
	echo "do not touch" >"$OUTSIDE/victim"
}

# A run of extauth that would hang on a FIFO must fail the test quickly
# (common.bash's ext_run reads it).
# shellcheck disable=SC2034
RUN_TIMEOUT=60

obtain() {
	ext_run -d "$1" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
}

victim_intact() {
	assert_eq "victim" "$(cat "$OUTSIDE/victim")" "do not touch" &&
		assert_eq "outside" "$(find "$OUTSIDE" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd, -)" "fifo,victim"
}

@test "a link planted at live/NAME/privkey.pem is never followed; renew replaces it" {
	local live=$CFG/live/p.example.com
	obtain p.example.com
	mkfifo "$OUTSIDE/fifo"
	# a FIFO: following the link to read it would hang
	ln -sfn "$OUTSIDE/fifo" "$live/privkey.pem"
	run --separate-stderr timeout 20 "$EXTAUTH" certificates "${DIRS[@]}"
	show
	[ "$status" -eq 0 ]
	[[ $stderr == *"not into archive/p.example.com/"* ]]
	ext_run --force-renewal renew
	[ "$status" -eq 0 ]
	assert_eq "privkey link" "$(readlink "$live/privkey.pem")" \
		../../archive/p.example.com/privkey2.pem
	victim_intact
}

@test "a link planted at live/NAME/cert.pem is refused as a broken lineage, not read" {
	local live=$CFG/live/c.example.com
	obtain c.example.com
	mkfifo "$OUTSIDE/fifo"
	ln -sfn "$OUTSIDE/fifo" "$live/cert.pem"
	ext_run renew
	[ "$status" -ne 0 ]
	[[ $stderr == *"c.example.com"*"not into archive/c.example.com/"* ]]
	victim_intact
}

@test "archive/NAME planted as a link: nothing is written through it, the run says why" {
	obtain a.example.com
	rm -rf "$CFG/archive/a.example.com"
	mkfifo "$OUTSIDE/fifo"
	ln -s "$OUTSIDE" "$CFG/archive/a.example.com"
	ext_run --force-renewal renew
	[ "$status" -ne 0 ]
	[[ $stderr == *"archive/a.example.com is a symbolic link"* ]]
	[[ $stderr == *"remove the link"* ]]
	victim_intact
}

@test "a link planted at the log file is not followed" {
	mkdir -p "$LOGS"
	chmod 700 "$LOGS"
	mkfifo "$OUTSIDE/fifo"
	ln -s "$OUTSIDE/victim" "$LOGS/extauth.log"
	ext_direct "${COMMON[@]}" --max-log-backups 0 register
	[ "$status" -eq 0 ]
	[[ $stderr == *"extauth.log"*"symlink"* ]]
	[ -L "$LOGS/extauth.log" ]
	victim_intact
}

@test "a link planted at the lock file is not followed (the run mark would truncate its target)" {
	mkdir -p "$CFG"
	mkfifo "$OUTSIDE/fifo"
	ln -s "$OUTSIDE/victim" "$CFG/.extauth.lock"
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 6 ]
	[[ $stderr == *".extauth.lock: it is a symbolic link"* ]]
	victim_intact
}

@test "a world- or group-writable directory of ours is refused with the chmod that fixes it" {
	mkdir -p "$CFG"
	chmod 0777 "$CFG"
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 6 ]
	[[ $stderr == *"$CFG is writable by everyone (mode 0777)"* ]]
	[[ $stderr == *"chmod go-w $CFG"* ]]
	[ ! -e "$CFG/accounts" ]
	chmod 0755 "$CFG"
	mkdir -p "$CFG/live"
	chmod 0775 "$CFG/live"
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 6 ]
	[[ $stderr == *"$CFG/live is writable by its group"* ]]
	chmod 0755 "$CFG/live"
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	# what extauth creates is 0700 or 0755, as certbot makes it
	assert_eq "modes" "$(stat -c '%n %a' "$CFG" "$CFG"/{accounts,archive,live,renewal} "$WORK" "$LOGS" |
		sed "s|$BATS_TEST_TMPDIR/||" | paste -sd, -)" \
		"config 755,config/accounts 700,config/archive 700,config/live 755,config/renewal 755,work 755,logs 700"
}

@test "a FIFO in renewal/ (or as an account key) is skipped with a warning, never opened" {
	obtain f.example.com
	mkfifo "$CFG/renewal/evil.conf"
	ext_run renew
	[ "$status" -eq 0 ]
	[[ $stderr == *"skipping $CFG/renewal/evil.conf: not a regular file"* ]]
	[[ $stderr == *"1 lineage checked"* ]]
	run --separate-stderr timeout 20 "$EXTAUTH" certificates "${DIRS[@]}"
	show
	[ "$status" -eq 0 ]
	[[ $output == *"f.example.com"* ]]
	# a FIFO where an account's key belongs: not an account, not opened
	local key
	key=$(find "$CFG/accounts" -name private_key.json)
	rm "$key" "${key%/*}/regr.json"
	mkfifo "$key"
	ext_run -d g.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_eq "accounts" "$(find "$CFG/accounts" -name private_key.json -type f | wc -l)" 1
}

@test "delete through archive/NAME and live/NAME planted as links removes the links, not their targets" {
	obtain d.example.com
	mkfifo "$OUTSIDE/fifo"
	mkdir "$OUTSIDE/live" "$OUTSIDE/archive"
	echo keep >"$OUTSIDE/live/cert.pem"
	echo keep >"$OUTSIDE/archive/privkey1.pem"
	rm -rf "$CFG/live/d.example.com" "$CFG/archive/d.example.com"
	ln -s "$OUTSIDE/live" "$CFG/live/d.example.com"
	ln -s "$OUTSIDE/archive" "$CFG/archive/d.example.com"
	ext_direct delete --cert-name d.example.com "${DIRS[@]}"
	[ "$status" -eq 0 ]
	[[ $stderr == *"live/d.example.com was a symbolic link: removed the link"* ]]
	[ ! -e "$CFG/live/d.example.com" ] && [ ! -L "$CFG/live/d.example.com" ]
	[ ! -L "$CFG/archive/d.example.com" ]
	assert_eq "outside live" "$(cat "$OUTSIDE/live/cert.pem")" keep
	assert_eq "outside archive" "$(cat "$OUTSIDE/archive/privkey1.pem")" keep
}
