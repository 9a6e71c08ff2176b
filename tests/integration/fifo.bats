#!/usr/bin/env bats
# stderr is set by bats' run --separate-stderr.
# shellcheck disable=SC2154,SC2030,SC2031 # bats runs each test in a subshell of its own
# fifo.bats: --fifo DIR, JSON mode over two named pipes (DIR/events:
# extauth's lines, DIR/replies: the invoker's), against Pebble, with the
# invoker in another process (fifo_driver below).  The lines are stdio's,
# checked against the schema; a driver that never opens the pipes, or
# stops answering, ends the run with exit 5 and cleanup still reaches the
# pipe; files that are not this user's private FIFOs are refused before
# anything is asked of the CA.

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
	FIFO=$BATS_TEST_TMPDIR/pipes
	DLOG=$BATS_TEST_TMPDIR/driver.log
	mkdir -m 700 "$FIFO"
	DRIVER_PID=
}

teardown() {
	[[ -z $DRIVER_PID ]] || kill "$DRIVER_PID" 2>/dev/null || true
}

# fifo_driver [MODE]: the invoker, in the background: waits for extauth's
# FIFOs (never creates a file there itself), logs each line to $DLOG and,
# for a perform_challenge line, publishes the TXT record through
# pebble-challtestsrv and answers with an empty line (MODE ok); MODE mute
# opens both pipes but never answers; MODE close closes replies at the
# first perform line.  Ends at the end of events.
fifo_driver() {
	local mode=${1:-ok}
	(
		for ((i = 0; i < 400; i++)); do
			[[ -p $FIFO/events && -p $FIFO/replies ]] && break
			sleep 0.05
		done
		exec 3<"$FIFO/events" 4>"$FIFO/replies"
		while IFS= read -r line <&3; do
			printf '%s\n' "$line" >>"$DLOG"
			cmd=$(jq -r .cmd <<<"$line")
			host=$(jq -r '(.txt_domain // ("_acme-challenge." + .domain)) + "."' <<<"$line")
			case $cmd:$mode in
			perform_challenge:ok)
				curl -fsS -o /dev/null -X POST "$CHALLTESTSRV_URL/set-txt" \
					-d "$(jq -c '{host: $h, value: .validation}' --arg h "$host" <<<"$line")"
				printf '\n' >&4 ;;
			perform_challenge:close) exec 4>&- ;;
			cleanup:*)
				curl -fsS -o /dev/null -X POST "$CHALLTESTSRV_URL/clear-txt" \
					-d "$(jq -nc --arg h "$host" '{host: $h}')" ;;
			esac
		done
	) &
	DRIVER_PID=$!
}

# fifo_run ARGS...: extauth with the common arguments and --fifo, no stdin.
fifo_run() {
	ext_direct "${COMMON[@]}" --fifo "$FIFO" "$@"
}

@test "a driver in another process: extauth makes the FIFOs (0600) and the lines flow as on stdio" {
	fifo_driver
	fifo_run -d fifo1.example.com -d www.fifo1.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	# stdout stays empty: the protocol went through the pipes
	[ -z "$output" ]
	wait "$DRIVER_PID"
	DRIVER_PID=
	assert_eq "cmds" "$(jq -r .cmd "$DLOG" | paste -sd, -)" \
		"perform_challenge,perform_challenge,cleanup,cleanup,report"
	assert_schema_lines "$DLOG"
	jq -se '[.[] | select(.cmd == "cleanup").status] == ["valid", "valid"]' "$DLOG"
	assert_lineage "$CFG/live/fifo1.example.com" "fifo1.example.com,www.fifo1.example.com"
	for f in events replies; do
		[[ -p $FIFO/$f && ! -L $FIFO/$f ]]
		assert_eq "$f mode" "$(stat -c %a "$FIFO/$f")" 600
	done
}

@test "FIFOs that exist are used when they are this user's and private" {
	mkfifo -m 600 "$FIFO/events" "$FIFO/replies"
	fifo_driver
	fifo_run -d fifo2.example.com --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/fifo2.example.com" fifo2.example.com
	wait "$DRIVER_PID"
	# and the verbs' report goes there too: show_account's line
	fifo_driver
	: >"$DLOG"
	fifo_run show_account
	[ "$status" -eq 0 ]
	wait "$DRIVER_PID"
	DRIVER_PID=
	assert_eq "cmds" "$(jq -r .cmd "$DLOG")" report
	assert_schema_lines "$DLOG"
}

@test "a regular file, a link, a FIFO of another user or one others may open: exit 2, nothing asked of the CA" {
	local what
	for what in file link other open dirlink; do
		rm -rf "$FIFO" "$BATS_TEST_TMPDIR/elsewhere"
		mkdir -m 700 "$FIFO" "$BATS_TEST_TMPDIR/elsewhere"
		mkfifo -m 600 "$FIFO/replies"
		case $what in
		file) : >"$FIFO/events" ;;
		link) mkfifo -m 600 "$BATS_TEST_TMPDIR/elsewhere/e"
			ln -s "$BATS_TEST_TMPDIR/elsewhere/e" "$FIFO/events" ;;
		other) mkfifo -m 600 "$FIFO/events"; chown nobody "$FIFO/events" ;;
		open) mkfifo -m 622 "$FIFO/events"; chmod 622 "$FIFO/events" ;;
		dirlink) ln -sfn "$FIFO" "$BATS_TEST_TMPDIR/pipelink" ;;
		esac
		if [[ $what == dirlink ]]; then
			ext_direct "${COMMON[@]}" --fifo "$BATS_TEST_TMPDIR/pipelink" \
				-d fifo3.example.com certonly
		else
			fifo_run -d fifo3.example.com certonly
		fi
		[ "$status" -eq 2 ] || { echo "case $what" >&2; return 1; }
		case $what in
		file) grep -q "events exists and is not a FIFO" <<<"$stderr" ;;
		link) grep -q "events is a symbolic link" <<<"$stderr"
			[[ -p $BATS_TEST_TMPDIR/elsewhere/e ]] ;;
		other) grep -q "events belongs to uid $(id -u nobody)" <<<"$stderr" ;;
		open) grep -q "others may open .*events (mode 622)" <<<"$stderr"
			grep -q "chmod 600 it" <<<"$stderr" ;;
		dirlink) grep -q "a symbolic link, which extauth does not follow" <<<"$stderr" ;;
		esac
		# the line saying what to do
		grep -q -e "remove it" -e "chmod 600" -e "give the directory itself" <<<"$stderr"
		# nothing reached the CA: no account, no lock, no lineage
		[ ! -e "$CFG" ]
	done
	# usage errors of the flag itself
	ext_direct "${COMMON[@]}" --fifo "$FIFO" --socket /s -d a.example.com certonly
	[ "$status" -eq 2 ]
	ext_direct "${COMMON[@]}" --fifo "$FIFO" --handler /bin/true -d a.example.com certonly
	[ "$status" -eq 2 ]
	ext_direct "${COMMON[@]}" --fifo "$FIFO" renew
	[ "$status" -eq 2 ]
	grep -q "renew does not take --fifo" <<<"$stderr"
}

@test "a driver that never opens the pipes: --handler-timeout, exit 5, nothing asked of the CA" {
	local t0=$SECONDS
	fifo_run --handler-timeout 2 -d fifo4.example.com certonly
	[ "$status" -eq 5 ]
	grep -q "nobody opened $FIFO/events for reading within 2 s (--handler-timeout)" <<<"$stderr"
	grep -q "start the invoker first" <<<"$stderr"
	# the deadline, not the 120 s of the test's limit
	((SECONDS - t0 < 20))
	[ ! -e "$CFG/accounts" ]
}

@test "a driver that stops answering, or closes replies: exit 5, and cleanup still reaches it" {
	local mode
	for mode in mute close; do
		: >"$DLOG"
		fifo_driver "$mode"
		fifo_run --invoker-timeout 2 -d "fifo5$mode.example.com" --preferred-challenges dns certonly
		[ "$status" -eq 5 ]
		wait "$DRIVER_PID"
		DRIVER_PID=
		assert_eq "cmds ($mode)" "$(jq -r .cmd "$DLOG" | paste -sd, -)" \
			"perform_challenge,cleanup,report"
		assert_schema_lines "$DLOG"
		[ ! -e "$CFG/live/fifo5$mode.example.com" ]
	done
	grep -q "closed its end" <<<"$stderr"
}

@test "SIGTERM while waiting for the driver: exit 143 at once" {
	"$EXTAUTH" "${COMMON[@]}" --fifo "$FIFO" -d fifo6.example.com certonly \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do
		[[ -p $FIFO/events ]] && break
		sleep 0.05
	done
	[[ -p $FIFO/events ]]
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/err" >&2
	assert_eq "exit" "$rc" 143
	grep -q "stopped by SIGTERM" "$BATS_TEST_TMPDIR/err"
}
