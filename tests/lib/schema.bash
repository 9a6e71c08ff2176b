# shellcheck shell=bash
# output is set by bats' `run`.
# shellcheck disable=SC2154
# schema.bash: validate extauth's JSON lines against doc/protocol.schema.json
# (tests/lib/schema.py, python3-jsonschema under Debian's /usr/bin/python3:
# `python3` on PATH may be a pyenv without the module).  common.bash loads
# it, and its show (which ext_run, ext_direct and the files' own run
# wrappers call), lines_cmd and assert_stdout_json validate every line
# they see, so each bats file that reads JSON lines through them checks
# the schema without a line of its own.
#
#   assert_schema_lines FILE|-     every line is a valid protocol line
#   assert_schema_replies FILE|-   every line is a reply extauth accepts
#   schema_check_output            the JSON lines of the last run's stdout

SCHEMA_PYTHON=${SCHEMA_PYTHON:-/usr/bin/python3}
SCHEMA_PY=$REPO_ROOT/tests/lib/schema.py
SCHEMA_FILE=$REPO_ROOT/doc/protocol.schema.json

assert_schema_lines() {
	"$SCHEMA_PYTHON" "$SCHEMA_PY" --schema "$SCHEMA_FILE" "${1:--}"
}

assert_schema_replies() {
	"$SCHEMA_PYTHON" "$SCHEMA_PY" --reply --schema "$SCHEMA_FILE" "${1:--}"
}

# schema_check_output: the lines of $output that start with '{"' (stdout
# may also hold a verb's text, or a driver's; assert_stdout_json is what
# says a JSON-mode stdout holds nothing else).  A stdout already checked in
# this test is not checked again: lines_cmd runs once per cmd, in
# subshells, so the mark is a file.
schema_check_output() {
	local mark
	[[ $output == *'{"'* ]] || return 0
	if [[ -n ${BATS_TEST_TMPDIR-} ]]; then
		mark=$BATS_TEST_TMPDIR/.schema-ok.$(cksum <<<"$output" | tr ' ' .)
		[[ -e $mark ]] && return 0
	fi
	grep '^{"' <<<"$output" | assert_schema_lines - || {
		echo "stdout has a line that doc/protocol.schema.json does not allow (above)" >&2
		return 1
	}
	[[ -z ${mark-} ]] || : >"$mark"
}
