#!/usr/bin/env bats
# solver.bats: how extauth reports what handlers and hooks did, and how it
# stops: one error line per failure, the output frame only when there is
# output, usage errors in two lines.  Against the file's own Pebble.

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
	H=$BATS_TEST_TMPDIR/handler.sh
	export HOOK_LOG=$BATS_TEST_TMPDIR/hook.log
}

# handler BODY: writes an executable handler whose case body is BODY; every
# call is logged to $HOOK_LOG first.
handler() {
	{
		echo '#!/bin/bash'
		echo 'echo "$1 ${domain:-}" >>"$HOOK_LOG"'
		printf '%s\n' "$1"
	} >"$H"
	chmod +x "$H"
}

# errors: the stderr lines of the last run that are errors.
errors() { grep '^extauth: error: ' <<<"$stderr" || true; }

@test "handler timeout: exactly one error line, naming handler, command and limit; exit 5" {
	handler 'case $1 in perform) sleep 30 ;; esac; exit 0'
	ext_direct "${COMMON[@]}" --mode handler --handler "$H" --handler-timeout 1 \
		--preferred-challenges dns -d to.solver.example.com certonly
	[ "$status" -eq 5 ]
	assert_eq "error lines" "$(errors | wc -l)" 1
	[[ $(errors) == *"handler $H during perform for to.solver.example.com: timed out after 1 s (killed)"* ]]
	# cleanup still told, for the challenge that was performed
	grep -q '^cleanup to.solver.example.com' "$HOOK_LOG"
}

@test "handler exits non-zero: one error line with the exit code; exit 5" {
	handler 'case $1 in perform) echo boom >&2; exit 3 ;; esac; exit 0'
	ext_direct "${COMMON[@]}" --mode handler --handler "$H" \
		--preferred-challenges dns -d fail.solver.example.com certonly
	[ "$status" -eq 5 ]
	assert_eq "error lines" "$(errors | wc -l)" 1
	[[ $(errors) == *"failed during perform for fail.solver.example.com (exit 3)"* ]]
	# what it said is framed
	[[ $stderr == *"-----BEGIN PERFORM-----"*boom*"-----END PERFORM-----"* ]]
}

@test "handler output is framed only when the handler printed something" {
	handler 'case $1 in perform) exit 1 ;; pre-perform) printf "said-pre\033[2J\n" ;; esac; exit 0'
	ext_direct "${COMMON[@]}" --mode handler --handler "$H" \
		--preferred-challenges dns -d frame.solver.example.com certonly
	[ "$status" -eq 5 ]
	[[ $stderr == *"-----BEGIN PRE-PERFORM-----"*'said-pre\x1b[2J'*"-----END PRE-PERFORM-----"* ]]
	# its terminal escape is shown, not obeyed
	! grep -q $'\x1b' <<<"$stderr" || false
	# perform, cleanup ... said nothing: no empty frames
	[[ $stderr != *"Handler output (perform)"* ]]
	[[ $stderr != *"Handler output (cleanup)"* ]]
}

@test "handler not executable: two lines (what is wrong, what to do), exit 2, nothing run" {
	handler 'exit 0'
	chmod -x "$H"
	ext_direct "${COMMON[@]}" --mode handler --handler "$H" \
		-d nx.solver.example.com certonly
	[ "$status" -eq 2 ]
	assert_eq "stderr lines" "$(grep -c . <<<"$stderr")" 2
	[[ ${stderr} == *"handler $H is not executable"* ]]
	[[ ${stderr} == *"chmod +x $H"* ]]
	[ -z "$output" ]
	[ ! -e "$HOOK_LOG" ]
}

# --- signals: cleanup, report, 128+signal, no orphan ------------------------

# wait_file PATH: waits (at most RUN_TIMEOUT s) until PATH exists.
wait_file() {
	local i
	for ((i = 0; i < RUN_TIMEOUT * 10; i++)); do
		[[ -e $1 ]] && return 0
		sleep 0.1
	done
	echo "wait_file: $1 never appeared" >&2
	return 1
}

# gone PID: the process has ended (a zombie left to init counts as ended).
gone() {
	local i st
	for ((i = 0; i < 50; i++)); do
		st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
		[[ $st == Z || $st == X ]] && return 0
		sleep 0.1
	done
	echo "process $1 is still running" >&2
	return 1
}

# A handler whose perform starts a publisher in the background (a process
# that keeps "publishing" into $BATS_TEST_TMPDIR/published until killed),
# records its pid and then hangs.  Cleanup and the rest only log.
hanging_handler() {
	handler 'case $1 in
perform|deploy_challenge)
	( while :; do date +%s%N >>"$BATS_TEST_TMPDIR/published"; sleep 0.1; done ) &
	echo $! >"$BATS_TEST_TMPDIR/bg.pid.tmp"
	mv "$BATS_TEST_TMPDIR/bg.pid.tmp" "$BATS_TEST_TMPDIR/bg.pid"
	sleep 60 ;;
esac
exit 0'
}

# sig_run_hook SIGNAL ARGS...: runs extauth in the background with stdout
# to a file, sends SIGNAL once the handler's perform is running, waits.
# Sets status, output (stdout), stderr, and BG (the publisher's pid).
sig_run_hook() {
	local sig=$1 pid
	shift
	"$EXTAUTH" "${COMMON[@]}" "$@" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_file "$BATS_TEST_TMPDIR/bg.pid" || { kill -KILL "$pid"; return 1; }
	BG=$(cat "$BATS_TEST_TMPDIR/bg.pid")
	kill "-$sig" "$pid"
	status=0
	wait "$pid" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/out")
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	mapfile -t lines <"$BATS_TEST_TMPDIR/out"
	show
}

# The publisher stopped: gone, and the file it writes stops growing.
assert_publisher_stopped() {
	local before
	gone "$BG"
	before=$(wc -l <"$BATS_TEST_TMPDIR/published")
	sleep 0.3
	assert_eq "publishing after the kill" "$(wc -l <"$BATS_TEST_TMPDIR/published")" "$before"
}

@test "SIGTERM in handler mode during perform: group killed, cleanup, report, exit 143" {
	hanging_handler
	sig_run_hook TERM --mode handler --handler "$H" --preferred-challenges dns \
		-d sigterm.solver.example.com certonly
	[ "$status" -eq 143 ]
	assert_publisher_stopped
	# cleanup told for the challenge whose perform was interrupted
	assert_eq "handler calls" "$(cut -d' ' -f1 "$HOOK_LOG" | paste -sd, -)" \
		"pre-perform,perform,pre-cleanup,cleanup,post-cleanup"
	assert_eq "stdout cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" \
		"perform_challenge,cleanup,report"
	[[ $stderr == *"stopped by SIGTERM"* ]]
	# the stop is the one error; the killed handler is a warning
	assert_eq "error lines" "$(errors | wc -l)" 1
	[[ $stderr == *"warning: handler $H during perform for sigterm.solver.example.com: stopped because extauth received SIGTERM"* ]]
	jq -e '.messages[0].lines[0] | test("stopped by SIGTERM")' <<<"${lines[2]}"
	# nothing was saved
	[ ! -e "$CFG/live" ] || [ -z "$(ls -A "$CFG/live")" ]
}

@test "SIGINT in dehydrated mode during deploy_challenge: clean_challenge, exit_hook, exit 130" {
	hanging_handler
	sig_run_hook INT --mode dehydrated --handler "$H" --preferred-challenges dns \
		-d sigint.solver.example.com certonly
	[ "$status" -eq 130 ]
	assert_publisher_stopped
	grep -q '^clean_challenge sigint.solver.example.com' "$HOOK_LOG" || {
		cat "$HOOK_LOG"
		grep -q '^clean_challenge ' "$HOOK_LOG"
	}
	assert_eq "last hook call" "$(tail -n1 "$HOOK_LOG" | cut -d' ' -f1)" exit_hook
	[[ $(lines_cmd report) == *"stopped by SIGINT"* ]]
}

@test "SIGTERM in JSON mode while waiting for the invoker: cleanup line, report, exit 143" {
	local ro wo line pid cmds=() status=0
	coproc EXT { exec "$EXTAUTH" "${COMMON[@]}" --preferred-challenges dns \
		-d json.solver.example.com certonly 2>"$BATS_TEST_TMPDIR/err" 3>&-; }
	pid=$EXT_PID
	exec {ro}<&"${EXT[0]}" {wo}>&"${EXT[1]}"
	IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line
	cmds+=("$(jq -r .cmd <<<"$line")")
	# the perform line is out; extauth waits for the acknowledgement
	kill -TERM "$pid"
	while IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line; do
		cmds+=("$(jq -r .cmd <<<"$line")")
	done
	wait "$pid" || status=$?
	exec {ro}<&- {wo}>&-
	cat "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 143 ]
	assert_eq "cmds" "$(IFS=,; echo "${cmds[*]}")" "perform_challenge,cleanup,report"
	grep -q "stopped by SIGTERM" "$BATS_TEST_TMPDIR/err"
}

@test "SIGHUP in text mode at the ENTER prompt: removal instructions, exit 129" {
	local ro wo line pid out=$BATS_TEST_TMPDIR/text status=0
	coproc EXT { exec "$EXTAUTH" "${COMMON[@]}" --text-mode --no-self-check \
		--preferred-challenges dns -d text.solver.example.com certonly \
		2>"$BATS_TEST_TMPDIR/err" 3>&-; }
	pid=$EXT_PID
	exec {ro}<&"${EXT[0]}" {wo}>&"${EXT[1]}"
	while IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line; do
		printf '%s\n' "$line" >>"$out"
		[[ $line == "Press ENTER to continue" ]] && break
	done
	kill -HUP "$pid"
	while IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line; do
		printf '%s\n' "$line" >>"$out"
	done
	wait "$pid" || status=$?
	exec {ro}<&- {wo}>&-
	cat "$out" "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 129 ]
	grep -q "^You can now remove the TXT record _acme-challenge.text.solver.example.com" "$out"
	grep -q "stopped by SIGHUP" "$BATS_TEST_TMPDIR/err"
}

@test "SIGTERM during --dns-wait: the wait ends at once, cleanup line, exit 143" {
	local ro wo line pid cmds=() status=0 t0
	coproc EXT { exec "$EXTAUTH" "${COMMON[@]}" --preferred-challenges dns \
		--dns-wait 600 -d wait.solver.example.com certonly \
		2>"$BATS_TEST_TMPDIR/err" 3>&-; }
	pid=$EXT_PID
	exec {ro}<&"${EXT[0]}" {wo}>&"${EXT[1]}"
	IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line
	cmds+=("$(jq -r .cmd <<<"$line")")
	# acknowledged without publishing: the record never shows
	echo >&"$wo"
	sleep 1
	t0=$SECONDS
	kill -TERM "$pid"
	while IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line; do
		cmds+=("$(jq -r .cmd <<<"$line")")
	done
	wait "$pid" || status=$?
	exec {ro}<&- {wo}>&-
	cat "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 143 ]
	# far below the 600 s wait (a bound, not a speed measurement)
	(( SECONDS - t0 < 30 ))
	assert_eq "cmds" "$(IFS=,; echo "${cmds[*]}")" "perform_challenge,cleanup,report"
}

# --- the invoker's side --------------------------------------------------

# json_with_ack REPLY-CMD ARGS...: extauth in JSON mode as a coprocess; at
# the perform line, REPLY-CMD is eval'ed with $wo as extauth's stdin (or
# does nothing).  Sets status, cmds (the stdout cmds) and stderr.
json_with_ack() {
	local reply=$1 ro wo line pid
	shift
	cmds=() status=0
	coproc EXT { exec "$EXTAUTH" "${COMMON[@]}" "$@" 2>"$BATS_TEST_TMPDIR/err" 3>&-; }
	pid=$EXT_PID
	exec {ro}<&"${EXT[0]}" {wo}>&"${EXT[1]}"
	while IFS= read -r -t "$RUN_TIMEOUT" -u "$ro" line; do
		cmds+=("$(jq -r .cmd <<<"$line")")
		if [[ ${cmds[-1]} == perform_challenge ]]; then eval "$reply"; fi
	done
	wait "$pid" || status=$?
	exec {ro}<&- {wo}>&-
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	output=$(IFS=,; echo "${cmds[*]}")
	show
}

@test "--invoker-timeout: no acknowledgement in time is exit 5 naming the invoker; cleanup sent" {
	json_with_ack : --invoker-timeout 1 --preferred-challenges dns \
		-d late.solver.example.com certonly
	[ "$status" -eq 5 ]
	assert_eq "cmds" "$output" "perform_challenge,cleanup,report"
	assert_eq "error lines" "$(errors | wc -l)" 1
	[[ $(errors) == *"waited 1 s for the invoker to acknowledge the challenge for late.solver.example.com"*"--invoker-timeout"* ]]
}

@test "--invoker-timeout 0 is no limit; a bad value is a usage error" {
	ext_direct "${COMMON[@]}" --invoker-timeout -1 -d x.solver.example.com certonly
	[ "$status" -eq 2 ]
	[[ $stderr == *invoker-timeout* ]]
	# 0 waits: the acknowledgement after 2 s still counts (publish first)
	json_with_ack 'sleep 2; echo >&"$wo"' --invoker-timeout 0 \
		--preferred-challenges dns -d nolimit.solver.example.com certonly
	# not published, so the CA says invalid (exit 4): the wait itself held
	[ "$status" -eq 4 ]
	assert_eq "cmds" "$output" "perform_challenge,cleanup,report"
}

@test "a reply holding a NUL byte is invalid: exit 5, a clear error, cleanup sent" {
	json_with_ack 'printf "{\"result\": \"ok\"}\0junk\n" >&"$wo"' \
		--preferred-challenges dns -d nul.solver.example.com certonly
	[ "$status" -eq 5 ]
	assert_eq "cmds" "$output" "perform_challenge,cleanup,report"
	[[ $(errors) == *"reply for nul.solver.example.com contains a NUL byte"* ]]
}

@test "text from outside is escaped: no terminal escape, no forged log line" {
	# The invoker's error: a screen clear, a newline and a fake error line.
	json_with_ack 'printf "%s\n" "{\"result\": \"fail\", \"error\": \"\\u001b[2J\\u001b[31mno\\nextauth: error: forged\\rX\"}" >&"$wo"' \
		--preferred-challenges dns -d esc.solver.example.com certonly
	[ "$status" -eq 5 ]
	# no ESC or CR byte reached stderr, and the only error line is ours
	! grep -q $'\x1b' <<<"$stderr" || false
	! grep -q $'\r' <<<"$stderr" || false
	assert_eq "error lines" "$(errors | wc -l)" 1
	[[ $(errors) == *'could not deploy the challenge for esc.solver.example.com: \x1b[2J\x1b[31mno\x0aextauth: error: forged\x0dX' ]]
	# the log file holds the same escaped text
	! grep -rq $'\x1b' "$LOGS" || false
	grep -rqF 'no\x0aextauth: error: forged' "$LOGS"
}

# --- -q: silence when all is well -----------------------------------------

# A handler (both conventions) that really publishes through challtestsrv
# and talks on stdout and stderr, as handlers do.
publishing_handler() {
	handler 'api() { curl -fsS -X POST -d "$2" "$CHALLTESTSRV_URL/$1" >/dev/null; }
echo "handler says $1"; echo "handler warns $1" >&2
case $1 in
perform) api set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}" ;;
cleanup) api clear-txt "{\"host\":\"$txt_domain.\"}" ;;
deploy_challenge) api set-txt "{\"host\":\"_acme-challenge.$2.\",\"value\":\"$4\"}" ;;
clean_challenge) api clear-txt "{\"host\":\"_acme-challenge.$2.\"}" ;;
esac
exit 0'
}

@test "-q, handler mode: certonly and renew print nothing at all; an error still shows" {
	publishing_handler
	ext_direct "${COMMON[@]}" -q --mode handler --handler "$H" \
		--preferred-challenges dns -d quiet.solver.example.com --deactivate-authz certonly
	[ "$status" -eq 0 ]
	assert_eq "stdout" "$output" ""
	assert_eq "stderr" "$stderr" ""
	# the handler did run (silence is not inaction)
	grep -q '^perform quiet.solver.example.com' "$HOOK_LOG"

	ext_direct "${DIRS[@]}" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		-n -q renew --force-renewal --deactivate-authz
	[ "$status" -eq 0 ]
	assert_eq "renew stdout" "$output" ""
	assert_eq "renew stderr" "$stderr" ""
	assert_eq "perform calls" "$(grep -c '^perform ' "$HOOK_LOG")" 2

	# without -q the same renew talks: the rule is -q, not the mode
	ext_direct "${DIRS[@]}" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		-n renew --force-renewal --deactivate-authz
	[ "$status" -eq 0 ]
	[[ $output == *'"cmd": "report"'* ]]
	[[ $stderr == *"handler says perform"* ]]

	# an error under -q is still printed
	handler 'case $1 in perform) echo nope; exit 3 ;; esac; exit 0'
	ext_direct "${DIRS[@]}" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		-n -q renew --force-renewal --deactivate-authz
	[ "$status" -eq 8 ]
	assert_eq "stdout" "$output" ""
	[[ $(errors) == *"failed during perform for quiet.solver.example.com (exit 3)"* ]]
	# errors only: no info line, no frame
	[ -z "$(grep -v '^extauth: error: ' <<<"$stderr")" ]
}

@test "-q, dehydrated mode: nothing printed on success" {
	publishing_handler
	ext_direct "${COMMON[@]}" -q --mode dehydrated --handler "$H" \
		--preferred-challenges dns -d qdeh.solver.example.com certonly
	[ "$status" -eq 0 ]
	assert_eq "stdout" "$output" ""
	assert_eq "stderr" "$stderr" ""
	grep -q '^deploy_challenge qdeh.solver.example.com' "$HOOK_LOG"
}

@test "-q, JSON mode: the lines to act on are printed, the report (news only) is not" {
	ext_run -q --preferred-challenges dns -d qjson.solver.example.com certonly
	[ "$status" -eq 0 ]
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" "perform_challenge,cleanup"
	assert_eq "stderr" "$stderr" ""
	# nothing to act on (not due): nothing at all
	ext_run -q --keep-until-expiring -d qjson.solver.example.com certonly
	[ "$status" -eq 0 ]
	assert_eq "stdout" "$output" ""
	assert_eq "stderr" "$stderr" ""
}

# --- log files --------------------------------------------------------------

# offline_run ARGS...: a run that opens its log and then fails to reach
# the CA (exit 3): cheap, and enough to exercise the log file.
offline_run() {
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${DIRS[@]}" \
		--server https://127.0.0.1:1/dir --agree-tos --email t@example.com \
		-n "$@" -d offline.solver.example.com certonly </dev/null
	show
}

@test "one log file per run, the newest N kept (--max-log-backups); 0 appends to one file" {
	local i
	for i in 1 2 3 4; do
		offline_run --max-log-backups 2
		[ "$status" -eq 3 ]
	done
	assert_eq "log files" "$(cd "$LOGS" && ls | sort | paste -sd, -)" \
		"extauth.log,extauth.log.1,extauth.log.2"
	# each file is one run (one pid), the newest is extauth.log
	for i in extauth.log extauth.log.1 extauth.log.2; do
		assert_eq "pids in $i" "$(grep -o 'Z \[[0-9]*\]' "$LOGS/$i" | sort -u | wc -l)" 1
		assert_eq "mode of $i" "$(stat -c %a "$LOGS/$i")" 600
	done
	assert_eq "newest first" "$(ls -t "$LOGS" | paste -sd, -)" \
		"extauth.log,extauth.log.1,extauth.log.2"

	rm -rf "$LOGS"
	offline_run --max-log-backups 0
	offline_run --max-log-backups 0
	assert_eq "log files" "$(ls "$LOGS")" "extauth.log"
	assert_eq "runs in the one file" "$(grep -o 'Z \[[0-9]*\]' "$LOGS/extauth.log" | sort -u | wc -l)" 2
}

@test "a symlink or FIFO planted as the log file is never followed or opened" {
	local target=$BATS_TEST_TMPDIR/victim
	echo "precious" >"$target"
	mkdir -p "$LOGS"
	ln -s "$target" "$LOGS/extauth.log"
	# no rotation: the name itself is refused
	offline_run --max-log-backups 0
	[ "$status" -eq 3 ]
	assert_eq "victim" "$(cat "$target")" "precious"
	[[ $stderr == *"cannot open log file $LOGS/extauth.log: it is a symlink"* ]]
	# rotation moves the link itself aside and starts a new regular file
	offline_run --max-log-backups 5
	[ "$status" -eq 3 ]
	assert_eq "victim" "$(cat "$target")" "precious"
	[ -L "$LOGS/extauth.log.1" ]
	[ -f "$LOGS/extauth.log" ] && [ ! -L "$LOGS/extauth.log" ]
	# a FIFO does not hang the run
	rm -rf "$LOGS" && mkdir -p "$LOGS" && mkfifo "$LOGS/extauth.log"
	offline_run --max-log-backups 0
	[ "$status" -eq 3 ]
	[[ $stderr == *"$LOGS/extauth.log: not a regular file"* ]]
}

# --- progress line of long waits ---------------------------------------------

@test "a wait over 2 s shows one updating line on a terminal (tmux), none otherwise" {
	command -v tmux >/dev/null || skip "tmux not installed (scripts/install-deps.sh --test)"
	local sock=extauth-solver-$$ rc=$BATS_TEST_TMPDIR/rc cmd i seen=''
	cmd="$(printf '%q ' env DRIVER_NO_PUBLISH=1 CHALLTESTSRV_URL="$CHALLTESTSRV_URL" \
		timeout --foreground "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" "${COMMON[@]}" \
		--preferred-challenges dns --dns-wait 6 -d tty.solver.example.com certonly) >/dev/null"
	cmd+="; echo \$? >$(printf %q "$rc.tmp"); mv $(printf %q "$rc.tmp") $(printf %q "$rc")"
	tmux -L "$sock" -f /dev/null new-session -d -x 200 -y 50 -s ext \
		"bash -c $(printf %q "$cmd")" \; set-option -t ext remain-on-exit on 3>&-
	for ((i = 0; i < RUN_TIMEOUT * 10; i++)); do
		[[ -s $rc ]] && break
		if tmux -L "$sock" capture-pane -p -t ext | grep -Eq 'waiting [2-6] s of at most 6 s for the TXT records to be visible'; then
			seen=1
		fi
		sleep 0.1
	done
	tmux -L "$sock" capture-pane -p -J -S - -t ext >"$BATS_TEST_TMPDIR/screen"
	tmux -L "$sock" kill-server
	cat "$BATS_TEST_TMPDIR/screen"
	[ -n "$seen" ]
	# the line was rewritten in place and taken away: not left on screen
	! grep -q 'waiting [0-9]* s of at most' "$BATS_TEST_TMPDIR/screen" || false
	grep -q 'still not visible' "$BATS_TEST_TMPDIR/screen"

	# stderr not a terminal: no progress text, no carriage return
	DRIVER_NO_PUBLISH=1 ext_run --preferred-challenges dns --dns-wait 3 -d notty.solver.example.com certonly
	[ "$status" -eq 4 ]
	[[ $stderr == *"still not visible"* ]]
	[[ $stderr != *"waiting "*" s of at most"* ]]
	! grep -q $'\r' <<<"$stderr" || false
}

@test "a second signal exits at once, even while a cleanup hangs" {
	local pid status=0 t0
	handler 'case $1 in
perform) echo x >"$BATS_TEST_TMPDIR/bg.pid"; sleep 60 ;;
cleanup) echo $$ >"$BATS_TEST_TMPDIR/cleanup.pid"; sleep 60 ;;
esac
exit 0'
	"$EXTAUTH" "${COMMON[@]}" --mode handler --handler "$H" --preferred-challenges dns \
		-d twice.solver.example.com certonly </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_file "$BATS_TEST_TMPDIR/bg.pid"
	kill -TERM "$pid"
	# the first signal started the cleanup, which hangs
	wait_file "$BATS_TEST_TMPDIR/cleanup.pid"
	t0=$SECONDS
	kill -INT "$pid"
	wait "$pid" || status=$?
	# the hanging cleanup handler is not ours to wait for any more
	kill -KILL -- "-$(cat "$BATS_TEST_TMPDIR/cleanup.pid")" 2>/dev/null || true
	cat "$BATS_TEST_TMPDIR/err"
	assert_eq "exit status" "$status" 130
	(( SECONDS - t0 < 30 ))
}

@test "SIGTERM during renew: the lineage being renewed is cleaned up, no further lineage starts, exit 143" {
	publishing_handler
	local d
	for d in r1 r2; do
		ext_direct "${COMMON[@]}" -q --mode handler --handler "$H" \
			--preferred-challenges dns -d "$d.solver.example.com" certonly
		[ "$status" -eq 0 ]
	done
	# the renewal confs name $H: now make its perform hang
	hanging_handler
	: >"$HOOK_LOG"
	# One lineage at a time (concurrent.bats has the same with 4 in
	# flight): exactly one can have started.
	sig_run_hook TERM --no-random-sleep-on-renew renew --force-renewal \
		--max-concurrent 1
	[ "$status" -eq 143 ]
	assert_publisher_stopped
	# exactly one lineage was started, and it was cleaned up
	assert_eq "perform calls" "$(grep -c '^perform ' "$HOOK_LOG")" 1
	assert_eq "cleanup calls" "$(grep -c '^cleanup ' "$HOOK_LOG")" 1
	[[ $stderr == *"stopped by SIGTERM"* ]]
}
