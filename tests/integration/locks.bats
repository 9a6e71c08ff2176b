#!/usr/bin/env bats
# locks.bats: per-lineage locks (issue 10).  Several renews share one
# config dir: each holds the run lock shared, takes one lineage's own lock
# (renewal/NAME.lock) while it reads, renews and saves that lineage, and
# skips a lineage another run holds ("in progress elsewhere", not a
# failure).  Against Debian unstable's Pebble 2.10 (scripts/pebble-sid.sh)
# for its profiles: the lineages are issued with a 60-second profile, so
# that under EXTAUTH_NOW (ten minutes ahead) every one is due while its
# renewal, with the 5-year default profile, is not.  That is what makes
# "renewed exactly once" testable: a renew that took a lineage right after
# another renewed it must re-read it under the lock and find it not due.
#
# Cost: issuing the lineages is most of it (one batch run).  200 with the
# release binary; the ASan binary is several times slower, so it gets
# LOCKS_N (default 100).

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	PEBBLE_BIN_DIR=$PEBBLE_SID_DIR \
		PEBBLE_PROFILES='{"default": {"description": "tests", "validityPeriod": 157766400}, "minute": {"description": "one minute", "validityPeriod": 60}}' \
		common_setup_file PEBBLE_WFE_NONCEREJECT=0
}

teardown_file() {
	load ../lib/common
	pebble_stop
}

setup() {
	load ../lib/common
	common_setup
	# An ASan binary is much slower: fewer lineages, same checks.
	if [[ -z ${LOCKS_N:-} ]]; then
		LOCKS_N=200
		if nm -an "$EXTAUTH" 2>/dev/null | grep -q __asan_init ||
			ldd "$EXTAUTH" 2>/dev/null | grep -q libasan; then
			LOCKS_N=100
		fi
	fi
}

# finalizes: how many finalize requests Pebble has answered so far.
finalizes() { grep -c 'POST /finalize-order/' "$PEBBLE_TMP/pebble.log" || true; }

# issue_minute N: lineages l1..lN.example.com, one-minute certificates,
# issued by one batch run.
issue_minute() {
	local i batch=$BATS_TEST_TMPDIR/batch
	for ((i = 1; i <= $1; i++)); do echo "l$i.example.com"; done >"$batch"
	ext_run --preferred-challenges dns --preferred-profile minute certonly --batch "$batch"
	[ "$status" -eq 0 ]
}

# renew_bg K: one renew in the background, ten minutes ahead, asking the
# CA's default profile; stdout and stderr to renew.K.{out,err}.
# --max-concurrent 2: the processes, not the orders within one, are what
# this file is about, and Pebble 2.10's store deadlocks now and then under
# about 30 orders in flight (a goroutine dump shows newOrder's
# FindValidAuthorization waiting on a lock behind writers; bench/README.md).
renew_bg() {
	EXTAUTH_NOW=$(($(date +%s) + 600)) timeout "$RUN_TIMEOUT" bash "$DRIVER" \
		"$EXTAUTH" "${COMMON[@]}" --preferred-challenges dns \
		--preferred-profile default --max-concurrent 2 renew \
		>"$BATS_TEST_TMPDIR/renew.$1.out" 2>"$BATS_TEST_TMPDIR/renew.$1.err" 3>&- &
}

# report_names K PREFIX: the lineage names of renew K's report line that
# starts with PREFIX, one a line.
report_names() {
	tail -n 1 "$BATS_TEST_TMPDIR/renew.$1.out" |
		jq -r --arg p "$2" '.messages[].lines[] | select(startswith($p)) |
			ltrimstr($p) | split(", ")[]'
}

@test "4 renews started together over N due lineages: each renewed exactly once, all valid" {
	local k f0 pids=() st n i name bad=0 elsewhere=0
	issue_minute "$LOCKS_N"
	f0=$(finalizes)
	for k in 1 2 3 4; do
		renew_bg "$k"
		pids+=($!)
	done
	for k in 0 1 2 3; do
		st=0
		wait "${pids[$k]}" || st=$?
		[ "$st" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/renew.$((k + 1)).err" >&2; false; }
	done
	for k in 1 2 3 4; do
		report_names "$k" "Renewed: "
	done | sort >"$BATS_TEST_TMPDIR/renewed"
	for k in 1 2 3 4; do
		n=$(report_names "$k" "In progress elsewhere (another extauth run holds them): " | grep -c . || true)
		elsewhere=$((elsewhere + n))
		grep -q 'Renewal failed' "$BATS_TEST_TMPDIR/renew.$k.out" && false
	done
	echo "# $LOCKS_N lineages: skipped as in progress elsewhere $elsewhere times" >&3
	# every lineage once, by exactly one of the four
	assert_eq "renewed (total)" "$(grep -c . "$BATS_TEST_TMPDIR/renewed")" "$LOCKS_N"
	assert_eq "renewed twice" "$(uniq -d "$BATS_TEST_TMPDIR/renewed" | grep -c . || true)" 0
	# the CA saw one finalize per lineage, not more
	assert_eq "finalize requests" "$(($(finalizes) - f0))" "$LOCKS_N"
	# on disk: version 2 everywhere, every link at it, nothing more
	for ((i = 1; i <= LOCKS_N; i++)); do
		name=l$i.example.com
		for f in cert chain fullchain privkey; do
			[[ $(readlink "$CFG/live/$name/$f.pem") == "../../archive/$name/${f}2.pem" ]] || bad=$((bad + 1))
		done
		[[ $(find "$CFG/archive/$name" -type f | wc -l) -eq 8 ]] || bad=$((bad + 1))
		[[ ! -e $CFG/archive/$name/cert3.pem ]] || bad=$((bad + 1))
	done
	assert_eq "inconsistent lineages" "$bad" 0
	# valid: each new certificate chains to Pebble's root and is the
	# 5-year one the renewal asked for
	for ((i = 1; i <= LOCKS_N; i++)); do
		name=l$i.example.com
		openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$CFG/live/$name/chain.pem" \
			"$CFG/live/$name/cert.pem" >/dev/null 2>&1 || bad=$((bad + 1))
		openssl x509 -in "$CFG/live/$name/cert.pem" -noout -checkend 31536000 >/dev/null ||
			bad=$((bad + 1))
	done
	assert_eq "invalid certificates" "$bad" 0
	# the runs are gone: no run left in the run list, no lock file of a
	# lineage that does not exist
	[ ! -s "$CFG/.extauth.lock" ]
	assert_eq "lock files" "$(find "$CFG/renewal" -name '*.lock' | wc -l)" "$LOCKS_N"
}

@test "a lineage another run holds: skipped as in progress elsewhere, exit 0; renewed once it is free" {
	local out
	issue_minute 2
	# another process holds l1's lock (a POSIX record lock, which extauth's
	# open file description locks respect) until told to go
	lock_hold "$CFG/renewal/l1.example.com.lock"
	renew_bg 1
	wait $! || { cat "$BATS_TEST_TMPDIR/renew.1.err" >&2; false; }
	lock_release
	out=$BATS_TEST_TMPDIR/renew.1.out
	assert_eq "renewed" "$(report_names 1 "Renewed: ")" "l2.example.com"
	assert_eq "elsewhere" "$(report_names 1 "In progress elsewhere (another extauth run holds them): ")" \
		"l1.example.com"
	grep -q '"2 lineages checked, 1 due, 1 renewed, 0 failed."' "$out"
	grep -q 'l1.example.com: in progress elsewhere' "$BATS_TEST_TMPDIR/renew.1.err"
	[[ $(readlink "$CFG/live/l1.example.com/cert.pem") == ../../archive/l1.example.com/cert1.pem ]]
	# free now: the next renew takes it, and only it
	renew_bg 2
	wait $! || { cat "$BATS_TEST_TMPDIR/renew.2.err" >&2; false; }
	assert_eq "renewed after" "$(report_names 2 "Renewed: ")" "l1.example.com"
	[[ $(readlink "$CFG/live/l1.example.com/cert.pem") == ../../archive/l1.example.com/cert2.pem ]]
}

@test "a lineage that is not due, its ARI record fresh, is passed over without its lock" {
	local i batch=$BATS_TEST_TMPDIR/batch
	for i in 1 2; do echo "l$i.example.com"; done >"$batch"
	ext_run --preferred-challenges dns --preferred-profile default certonly --batch "$batch"
	[ "$status" -eq 0 ]
	# the first renew asks the CA's renewal window and records it
	renew_bg 1
	wait $! || { cat "$BATS_TEST_TMPDIR/renew.1.err" >&2; false; }
	grep -q "^extauth_ari_next_query = [1-9]" "$CFG/renewal/l1.example.com.conf"
	lock_hold "$CFG/renewal/l1.example.com.lock"
	renew_bg 2
	wait $! || { cat "$BATS_TEST_TMPDIR/renew.2.err" >&2; false; }
	lock_release
	# nothing to do for l1, so its lock was never asked for
	run ! grep -q 'in progress elsewhere' "$BATS_TEST_TMPDIR/renew.2.err"
	grep -q '"2 lineages checked, 0 due' "$BATS_TEST_TMPDIR/renew.2.out"
}
