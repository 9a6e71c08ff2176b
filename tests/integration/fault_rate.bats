#!/usr/bin/env bats
# fault_rate.bats: issuance through tests/lib/faultproxy.py injecting one
# fault class at a time into 20% of all requests (issue 11 item 10).
#   transient classes (5xx, 429, rateLimited, badNonce, dropped connections,
#   stalls): every run issues or exits 3 naming the fault, and over all of
#   them at least 95% issue;
#   answers no client can use (truncated, oversized, redirect loop, another
#   origin, a foreign identifier, bad tokens): every run issues (the fault
#   hit a request whose answer is not needed) or exits 3 naming it.
# Every run: no sanitizer report (the ASan binary), no hang (RUN_TIMEOUT),
# cleanup for every challenge published.  FAULT_RUNS runs per class
# (default 3; 2 for the classes that wait a second each) keep the file
# near a minute per binary.

bats_require_minimum_version 1.5.0

RUNS=${FAULT_RUNS:-3}

setup_file() {
	load ../lib/faults
	faults_setup_file
	: >"$BATS_FILE_TMPDIR/tally"
}

teardown_file() {
	load ../lib/faults
	faults_teardown_file
}

setup() {
	load ../lib/faults
	faults_setup
	RUN_TIMEOUT=90
}

# rate_runs CLASS [RULE_SUFFIX [N]]: N (default RUNS) issuances at 20% of
# CLASS, each checked, each result appended to the file's tally as
# "CLASS issued|failed".
rate_runs() {
	# Not "i": bats' own helpers (common.bash) assign a global i during run.
	local cls=$1 nr name res n=${3:-$RUNS}
	faultproxy_rules "$cls:rate=0.2${2:-}"
	for ((nr = 1; nr <= n; nr++)); do
		name=r$nr-$cls.example.com
		rm -rf "$CFG" "$WORK" "$LOGS"
		ext_run -d "$name" --preferred-challenges dns certonly
		res=$(assert_issued_or_named "$cls" "$name") || return 1
		# never a request to another origin, never a foreign name published
		[ "$(jq -s '[.[] | select(.host | startswith("localhost"))] | length' "$FAULTPROXY_LOG")" -eq 0 ]
		[[ $(lines_cmd perform_challenge) != *foreign-* ]]
		[ "$(count_cmd cleanup)" -eq "$(count_cmd perform_challenge)" ] || {
			echo "$cls: $(count_cmd perform_challenge) published, $(count_cmd cleanup) cleaned up"
			return 1
		}
		echo "$cls $res" >>"$BATS_FILE_TMPDIR/tally"
	done
	echo "injected: $(faultproxy_injected "$cls") in $(faultproxy_requests) requests"
}

# Transient: a client that retries as the README promises issues anyway.
@test "20% 500" { rate_runs 500; }
@test "20% 503" { rate_runs 503; }
# Each Retry-After or stall costs a second: fewer runs of those classes keep
# the file near a minute (FAULT_RUNS sets them all).
@test "20% 503 with Retry-After" { rate_runs 503ra "" "${FAULT_RUNS:-2}"; }
@test "20% 429" { rate_runs 429; }
@test "20% 429 with Retry-After" { rate_runs 429ra "" "${FAULT_RUNS:-2}"; }
@test "20% rateLimited with Retry-After" { rate_runs ratelimited "" "${FAULT_RUNS:-2}"; }
@test "20% badNonce" { rate_runs badnonce; }
@test "20% dropped connections" { rate_runs drop; }
@test "20% stalls of 1 s" { rate_runs stall :secs=1 "${FAULT_RUNS:-2}"; }

# Unusable answers: refused with the fault named.
@test "20% truncated bodies" { rate_runs truncate; }
@test "20% oversized bodies" { rate_runs oversize; }
@test "20% redirect loops" { rate_runs redirect; }
@test "20% cross-origin URLs" { rate_runs crossorigin ":kind=newOrder|order|authz|challenge|finalize"; }
@test "20% foreign identifiers" { rate_runs foreignid; }
@test "20% bad tokens" { rate_runs badtoken; }

@test "at least 95% of the runs under transient faults issue" {
	local t=$BATS_FILE_TMPDIR/tally total issued
	total=$(grep -Ec '^(500|503|503ra|429|429ra|ratelimited|badnonce|drop|stall) ' "$t" || true)
	issued=$(grep -Ec '^(500|503|503ra|429|429ra|ratelimited|badnonce|drop|stall) issued' "$t" || true)
	# the figure, in the TAP output of every run
	echo "# transient faults: $issued of $total runs issued; all classes: $(grep -c issued "$t") of $(wc -l <"$t")" >&3
	[ "$total" -ge $((5 * RUNS)) ]
	[ $((issued * 100)) -ge $((total * 95)) ]
}
