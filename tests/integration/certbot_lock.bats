#!/usr/bin/env bats
# certbot_lock.bats: extauth takes certbot's locks (issue 7 §2): the
# .certbot.lock files certbot 2.1 takes in the config, work and logs dirs,
# with the same POSIX record locks (certbot/_internal/lock.py), in
# addition to its own .extauth.lock.  Both directions, with the real
# certbot against Pebble: a run of one, paused inside its challenge hook,
# keeps the other out.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	# certbot 2.1 crashes on a badNonce at finalize (see bridge.bats)
	common_setup_file PEBBLE_WFE_NONCEREJECT=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	GATE=$BATS_TEST_TMPDIR/gate
	mkfifo "$GATE"
	# a challenge hook (certbot's manual auth hook, or extauth's handler)
	# that says it is running, then waits until the test opens the gate
	HOOK=$BATS_TEST_TMPDIR/hook.sh
	cat >"$HOOK" <<-EOF
		#!/bin/sh
		echo \$\$ >"$BATS_TEST_TMPDIR/in-hook"
		read -r _ <"$GATE"
		exit 1
	EOF
	chmod +x "$HOOK"
	CBARGS=(--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS" -n
		--server "$PEBBLE_DIR_URL" --agree-tos -m t@example.com)
}

teardown() {
	# whatever happened, let a paused hook go
	if [[ -p $GATE ]]; then
		timeout 5 sh -c "echo go >'$GATE'" 2>/dev/null || true
	fi
	if [[ -n ${BG:-} ]]; then
		wait "$BG" 2>/dev/null || true
	fi
}

# in_hook: wait (up to 30 s) until the paused hook has started.
in_hook() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -s $BATS_TEST_TMPDIR/in-hook ]] && return 0
		kill -0 "$BG" 2>/dev/null || { echo "the paused run ended early" >&2; return 1; }
		sleep 0.1
	done
	echo "the hook never ran" >&2
	return 1
}

@test "while certbot holds its lock, extauth exits 7 naming certbot and its pid" {
	local pid
	REQUESTS_CA_BUNDLE=$PEBBLE_CA_BUNDLE timeout 120 certbot certonly "${CBARGS[@]}" \
		--manual --preferred-challenges dns -d held.example.com \
		--manual-auth-hook "$HOOK" --manual-cleanup-hook /bin/true \
		>"$BATS_TEST_TMPDIR/certbot.out" 2>&1 &
	BG=$!
	in_hook
	# BG is timeout's pid; certbot is its child
	pid=$(pgrep -P "$BG")
	[ -n "$pid" ]
	ext_run -d other.example.com certonly
	[ "$status" -eq 7 ]
	[[ $stderr == *"is in use by certbot (pid $pid), which holds "*"/.certbot.lock"* ]]
	[[ $stderr == *"wait for it to finish"* ]]
	# nothing of extauth's was written meanwhile
	[ ! -e "$CFG/renewal/other.example.com.conf" ]
	echo go >"$GATE"
	wait "$BG" || true
	BG=
	# certbot is gone (and removed its lock files): extauth runs
	ext_run -d other.example.com certonly
	[ "$status" -eq 0 ]
	# and so does certbot while nothing holds the lock
	run env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" timeout 60 certbot certificates \
		--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS"
	show
	[ "$status" -eq 0 ]
	[[ $output == *"other.example.com"* ]]
}

@test "while extauth holds the lock, certbot refuses: another instance is running" {
	local d
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	timeout 120 "$EXTAUTH" "${COMMON[@]}" --handler "$HOOK" -d paused.example.com \
		--preferred-challenges dns certonly >/dev/null 2>"$BATS_TEST_TMPDIR/ext.err" </dev/null &
	BG=$!
	in_hook
	for d in "$CFG" "$WORK" "$LOGS"; do
		[ -f "$d/.certbot.lock" ]
	done
	# every certbot verb takes the locks first: certificates, renew, certonly
	run env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" timeout 60 certbot certificates \
		--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS"
	show
	[ "$status" -ne 0 ]
	[[ "$output$stderr" == *"Another instance of Certbot is already running"* ]]
	run env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" timeout 60 certbot renew \
		--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS" -n
	show
	[ "$status" -ne 0 ]
	[[ "$output$stderr" == *"Another instance of Certbot is already running"* ]]
	echo go >"$GATE"
	wait "$BG" || true
	BG=
	# extauth let go as certbot does: the lock files are gone
	for d in "$CFG" "$WORK" "$LOGS"; do
		[ ! -e "$d/.certbot.lock" ]
	done
	run env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" timeout 60 certbot certificates \
		--config-dir "$CFG" --work-dir "$WORK" --logs-dir "$LOGS"
	show
	[ "$status" -eq 0 ]
}

@test "a symlink planted at .certbot.lock is not followed" {
	mkdir -p "$WORK"
	echo "do not touch" >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$WORK/.certbot.lock"
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 6 ]
	[[ $stderr == *"$WORK/.certbot.lock: it is a symbolic link"* ]]
	assert_eq "victim" "$(cat "$BATS_TEST_TMPDIR/victim")" "do not touch"
}
