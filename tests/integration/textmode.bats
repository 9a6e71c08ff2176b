#!/usr/bin/env bats
# textmode.bats: manual mode (--text-mode) against a private Pebble, driven
# the way a person (or a person's script) would: from the TEXT on stdout,
# never from JSON (there is none in this mode).  Every run has a deadline;
# nothing sleeps for a fixed time, everything polls.
#
# The self-check is pointed at challtestsrv's DNS in every test
# (EXTAUTH_DNS_SERVER), so no test depends on the host's resolver.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	# authz reuse would let a re-issue skip the challenge (and the prompt)
	common_setup_file PEBBLE_AUTHZREUSE=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	export EXTAUTH_DNS_SERVER=127.0.0.1:$PEBBLE_DNS_PORT
	export EXTAUTH_HTTP_PORT=$PEBBLE_HTTP_PORT
	TMUX_SOCK=extauth-test-$$
	unset DRV_PID GATE_PID
}

teardown() {
	# Only what this test started, by PID / private socket.
	if [[ -n ${DRV_PID:-} ]] && kill -0 "$DRV_PID" 2>/dev/null; then
		kill "$DRV_PID" 2>/dev/null || true
		wait "$DRV_PID" 2>/dev/null || true
	fi
	if [[ -n ${GATE_PID:-} ]]; then
		kill "$GATE_PID" 2>/dev/null || true
		wait "$GATE_PID" 2>/dev/null || true
	fi
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
}

# --- the driver -------------------------------------------------------------

# text_drive ARGS...: extauth "${COMMON[@]}" --text-mode ARGS as a bash
# coprocess.  Reads its stdout line by line, parses each instruction block,
# publishes the challenge through challtestsrv and answers the "Press ENTER"
# prompt with a newline.  Cleanup lines ("You can now remove ...") are parsed
# and the TXT record cleared.  Sets status, output, lines, stderr like `run`,
# and:
#   DNS_NAMES DNS_VALUES     record name / value of each dns-01 block
#   HTTP_URLS HTTP_CONTENTS  URL / content of each http-01 block
#   HTTP_CMDS                the command text of each http-01 block
#   CHECKS                   the self-check line of each block ("" if none)
#   CLEANUPS                 each "You can now remove ..." line
# Knobs: DRIVE_EARLY=1 publishes as soon as the value is read (before the
# self-check can run) and then creates $DRIVE_FLAG if set.
text_drive() {
	local out=$BATS_TEST_TMPDIR/stdout err=$BATS_TEST_TMPDIR/stderr
	local -a w
	local line state='' kind='' name='' value='' cmd='' check='' left ro wo rc=0
	local deadline=$((SECONDS + RUN_TIMEOUT)) published=0
	DNS_NAMES=() DNS_VALUES=() HTTP_URLS=() HTTP_CONTENTS=() HTTP_CMDS=()
	CHECKS=() CLEANUPS=()
	: >"$out"
	coproc EXT { exec timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --text-mode "$@" 2>"$err" 3>&-; }
	DRV_PID=$EXT_PID
	# bash drops the coprocess' fds once it is reaped: keep copies.
	exec {ro}<&"${EXT[0]}" {wo}>&"${EXT[1]}"

	publish() {
		((published)) && return 0
		published=1
		case $kind in
		dns) challtestsrv_post set-txt "$(jq -nc --arg h "$name" --arg v "$value" '{host: $h, value: $v}')" ;;
		http) challtestsrv_post add-http01 "$(jq -nc --arg t "${name##*/}" --arg c "$value" '{token: $t, content: $c}')" ;;
		esac || return 1
		if [[ -n ${DRIVE_FLAG:-} ]]; then touch "$DRIVE_FLAG"; fi
	}

	while :; do
		left=$((deadline - SECONDS))
		if ((left <= 0)); then
			echo "text_drive: no progress within $RUN_TIMEOUT s" >&2
			break
		fi
		if ! IFS= read -r -t "$left" -u "$ro" line; then
			[[ -n $line ]] && printf '%s\n' "$line" >>"$out"
			break # end of output (or the deadline)
		fi
		printf '%s\n' "$line" >>"$out"
		case $state in
		dns-name) name=$line state=dns-with; continue ;;
		dns-with) [[ $line == "with the following value:" ]] && state=blank-value; continue ;;
		http-url) name=$line state=http-before; continue ;;
		http-before) [[ $line == "before continuing:" ]] && state=blank-value; continue ;;
		blank-value) [[ -z $line ]] && state=value; continue ;;
		value)
			value=$line state=after
			if [[ ${DRIVE_EARLY:-} == 1 ]]; then publish || return 1; fi
			continue ;;
		esac
		case $line in
		"Please deploy a DNS TXT record under the name")
			kind=dns state=dns-name cmd='' check='' published=0 ;;
		"Make sure your web server displays the following content at")
			kind=http state=http-url cmd='' check='' published=0 ;;
		"Self-verify of challenge failed:"* | "The "*" is already visible.")
			check=$line ;;
		"Press ENTER to continue")
			[[ $state == after ]] || { echo "text_drive: prompt without a parsed block" >&2; break; }
			publish || return 1
			case $kind in
			dns) DNS_NAMES+=("$name") DNS_VALUES+=("$value") ;;
			http) HTTP_URLS+=("$name") HTTP_CONTENTS+=("$value") HTTP_CMDS+=("$cmd") ;;
			esac
			CHECKS+=("$check")
			state='' kind=''
			printf '\n' >&"$wo" ;;
		"You can now remove the TXT record "*)
			CLEANUPS+=("$line")
			# "You can now remove the TXT record NAME with value VALUE"
			read -ra w <<<"$line"
			challtestsrv_post clear-txt "$(jq -nc --arg h "${w[7]}" '{host: $h}')" ;;
		"You can now remove "*)
			CLEANUPS+=("$line") ;;
		*)
			[[ $state == after && $kind == http ]] && cmd+=$line$'\n' ;;
		esac
	done
	exec {ro}<&- {wo}>&-
	wait "$DRV_PID" || rc=$?
	unset DRV_PID
	status=$rc
	output=$(<"$out")
	stderr=$(<"$err")
	mapfile -t lines <<<"$output"
	show
}

# assert_no_json: no stdout line is (or starts) a JSON object.
assert_no_json() {
	local l
	for l in "${lines[@]}"; do
		[[ $l == *'{'* ]] && jq -e 'type == "object"' <<<"$l" >/dev/null 2>&1 && {
			echo "stdout has a JSON line: [$l]" >&2
			return 1
		}
		[[ $l == '{'* ]] && { echo "stdout line starts like JSON: [$l]" >&2; return 1; }
	done
	return 0
}

# A dns-01 value: base64url of a SHA-256, no padding.
is_dns_value() { [[ $1 =~ ^[A-Za-z0-9_-]{43}$ ]]; }

# --- 1 ----------------------------------------------------------------------

@test "piped, two names over dns-01: parsed from the text, published, ENTER" {
	local a=tx1a.example.com b=tx1b.example.com i
	text_drive -d "$a" -d "$b" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_no_json
	assert_eq "record names" "$(printf '%s\n' "${DNS_NAMES[@]}" | sort | paste -sd, -)" \
		"_acme-challenge.$a.,_acme-challenge.$b."
	for i in 0 1; do
		is_dns_value "${DNS_VALUES[i]}" || { echo "bad value [${DNS_VALUES[i]}]" >&2; false; }
	done
	[ "${DNS_VALUES[0]}" != "${DNS_VALUES[1]}" ]
	assert_eq "prompts" "$(grep -c '^Press ENTER to continue$' <<<"$output")" 2
	# cleanup names the same records and values
	assert_eq "cleanups" "$(printf '%s\n' "${CLEANUPS[@]}" | sort | paste -sd '|' -)" \
		"$(for i in 0 1; do
			printf 'You can now remove the TXT record %s with value %s\n' \
				"${DNS_NAMES[i]}" "${DNS_VALUES[i]}"
		done | sort | paste -sd '|' -)"
	# where the certificate is goes to stderr, with the logs
	grep -qF "$CFG/live/$a/fullchain.pem" <<<"$stderr"
	assert_lineage "$CFG/live/$a" "$a,$b"
}

# --- 2 ----------------------------------------------------------------------

@test "self-check: NOT visible before publishing (no record, other value)" {
	local a=tx2a.example.com b=tx2b.example.com
	# a decoy at a's name: the record exists, but not with the value asked for
	challtestsrv_post set-txt "{\"host\":\"_acme-challenge.$a.\",\"value\":\"decoy\"}"
	text_drive -d "$a" -d "$b" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_eq "blocks" "${#CHECKS[@]}" 2
	assert_eq "names" "${DNS_NAMES[0]},${DNS_NAMES[1]}" "_acme-challenge.$a.,_acme-challenge.$b."
	[[ ${CHECKS[0]} == "Self-verify of challenge failed: NOT visible yet (1 TXT record, none with the expected value)."* ]]
	[[ ${CHECKS[1]} == "Self-verify of challenge failed: NOT visible yet ("* ]]
	# each check sits right before its prompt
	grep -B1 -x 'Press ENTER to continue' <<<"$output" | grep -c '^Self-verify' | grep -qx 2
	assert_lineage "$CFG/live/$a" "$a,$b"
}

# A DNS forwarder to challtestsrv that holds every query until FLAG exists:
# the driver publishes early and then creates FLAG, so the self-check's
# query is answered only after the record is in place, whatever the timing.
gate_start() {
	local flag=$1 portfile=$BATS_TEST_TMPDIR/gate.port deadline
	cat >"$BATS_TEST_TMPDIR/gate.py" <<'EOF'
import os, socket, sys, time
flag, upstream, portfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    q, peer = s.recvfrom(65535)
    deadline = time.monotonic() + 60
    while not os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.02)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(q, ("127.0.0.1", upstream))
    try:
        s.sendto(u.recv(65535), peer)
    except socket.timeout:
        pass
    u.close()
EOF
	python3 "$BATS_TEST_TMPDIR/gate.py" "$flag" "$PEBBLE_DNS_PORT" "$portfile" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/gate.err" 3>&- &
	GATE_PID=$!
	deadline=$((SECONDS + 10))
	until [[ -s $portfile ]]; do
		if ((SECONDS >= deadline)) || ! kill -0 "$GATE_PID" 2>/dev/null; then
			echo "gate did not start" >&2
			cat "$BATS_TEST_TMPDIR/gate.err" >&2
			return 1
		fi
		sleep 0.05
	done
	GATE_PORT=$(<"$portfile")
}

@test "self-check: 'already visible' when the record is in place" {
	local a=tx2c.example.com
	gate_start "$BATS_TEST_TMPDIR/published"
	EXTAUTH_DNS_SERVER=127.0.0.1:$GATE_PORT DRIVE_EARLY=1 DRIVE_FLAG=$BATS_TEST_TMPDIR/published \
		text_drive -d "$a" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_eq "check" "${CHECKS[0]}" "The record is already visible."
	assert_lineage "$CFG/live/$a" "$a"
}

@test "--no-self-check: no self-check line, no lookup" {
	local a=tx2d.example.com
	# were a lookup attempted, this would say so on stdout
	EXTAUTH_DNS_SERVER=not-an-address text_drive --no-self-check -d "$a" --preferred-challenges dns certonly
	[ "$status" -eq 0 ]
	assert_eq "check" "${CHECKS[0]}" ""
	assert_eq "self-check lines" "$(grep -Ec 'visible|Self-verify|EXTAUTH_DNS_SERVER' <<<"$output")" 0
	assert_lineage "$CFG/live/$a" "$a"
}

# --- 3 ----------------------------------------------------------------------

@test "http-01: URL, content and a command in the text; published; exit 0" {
	local a=tx3.example.com token
	text_drive -d "$a" --preferred-challenges http certonly
	[ "$status" -eq 0 ]
	assert_no_json
	assert_eq "blocks" "${#HTTP_URLS[@]}" 1
	[[ ${HTTP_URLS[0]} =~ ^http://tx3\.example\.com/\.well-known/acme-challenge/([A-Za-z0-9_-]{43})$ ]]
	token=${BASH_REMATCH[1]}
	# the content is the key authorization: TOKEN.THUMBPRINT
	[[ ${HTTP_CONTENTS[0]} =~ ^$token\.[A-Za-z0-9_-]{43}$ ]]
	# the command writes exactly that content to the token's path
	grep -qF "printf '%s' '${HTTP_CONTENTS[0]}' > '.well-known/acme-challenge/$token'" <<<"${HTTP_CMDS[0]}"
	[[ ${CHECKS[0]} == "Self-verify of challenge failed: NOT visible yet ("* ]]
	assert_eq "cleanup" "${CLEANUPS[*]}" "You can now remove the file ${HTTP_URLS[0]}"
	assert_lineage "$CFG/live/$a" "$a"
}

# --- 4 ----------------------------------------------------------------------

@test "EOF at the prompt: exit 5, a clear message, cleanup told, nothing saved" {
	local a=tx4.example.com
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --text-mode \
		-d "$a" --preferred-challenges dns certonly </dev/null
	show
	[ "$status" -eq 5 ]
	assert_no_json
	grep -qx 'Press ENTER to continue' <<<"$output"
	grep -q "^You can now remove the TXT record _acme-challenge.$a. with value " <<<"$output"
	grep -Eiq "$a.*(end of input|input closed)" <<<"$stderr"
	# store_open makes the empty skeleton; no lineage may be in it
	[ ! -e "$CFG/live/$a" ]
	assert_eq "saved files" "$(find "$CFG/live" "$CFG/archive" "$CFG/renewal" \
		-mindepth 1 ! -name README 2>/dev/null)" ""
}

# --- 5 ----------------------------------------------------------------------

# screen: what the tmux pane shows, wrapped lines joined, with history.
screen() { tmux -L "$TMUX_SOCK" capture-pane -p -J -S - -t extauth; }

# wait_for WHAT CMD...: poll CMD until it succeeds; 60 s deadline.
wait_for() {
	local what=$1 deadline=$((SECONDS + 60))
	shift
	until "$@"; do
		((SECONDS < deadline)) || {
			echo "timed out waiting for $what; screen:" >&2
			screen >&2 || true
			return 1
		}
		sleep 0.1
	done
}

@test "under a real terminal (tmux): read the screen, publish, Enter" {
	local a=tx5.example.com rcfile=$BATS_TEST_TMPDIR/rc err=$BATS_TEST_TMPDIR/stderr cmd name value
	command -v tmux >/dev/null || skip "tmux not installed (scripts/install-deps.sh --test)"
	cmd="$(printf '%q ' timeout --foreground "$RUN_TIMEOUT" "$EXTAUTH" "${COMMON[@]}" --text-mode \
		-d "$a" --preferred-challenges dns certonly) 2>$(printf %q "$err")"
	cmd+="; echo \$? >$(printf %q "$rcfile.tmp"); mv $(printf %q "$rcfile.tmp") $(printf %q "$rcfile")"
	# remain-on-exit: the final screen stays readable after extauth exits
	# 3>&-: bats waits for fd 3; the tmux server must not hold it
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -x 200 -y 50 -s extauth \
		"bash -c $(printf %q "$cmd")" \; set-option -t extauth remain-on-exit on 3>&-

	wait_for "the prompt" eval 'screen | grep -qx "Press ENTER to continue"'
	name=$(screen | grep -A1 -x 'Please deploy a DNS TXT record under the name' | sed -n 2p)
	value=$(screen | grep -A2 -x 'with the following value:' | sed -n 3p)
	assert_eq "name on screen" "$name" "_acme-challenge.$a."
	is_dns_value "$value"
	screen | grep -q '^Self-verify of challenge failed: NOT visible yet'
	challtestsrv_post set-txt "$(jq -nc --arg h "$name" --arg v "$value" '{host: $h, value: $v}')"
	tmux -L "$TMUX_SOCK" send-keys -t extauth Enter

	wait_for "extauth to exit" test -s "$rcfile"
	screen >"$BATS_TEST_TMPDIR/screen"
	tmux -L "$TMUX_SOCK" kill-server
	assert_eq "exit status" "$(<"$rcfile")" 0
	grep -qxF "You can now remove the TXT record $name with value $value" "$BATS_TEST_TMPDIR/screen"
	assert_lineage "$CFG/live/$a" "$a"
}
