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
	handler 'case $1 in perform) exit 1 ;; pre-perform) echo said-pre ;; esac; exit 0'
	ext_direct "${COMMON[@]}" --mode handler --handler "$H" \
		--preferred-challenges dns -d frame.solver.example.com certonly
	[ "$status" -eq 5 ]
	[[ $stderr == *"-----BEGIN PRE-PERFORM-----"*said-pre*"-----END PRE-PERFORM-----"* ]]
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
