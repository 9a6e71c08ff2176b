#!/usr/bin/env bats
# renew.bats: the renew verb end to end against a private Pebble started
# once for the file (tests/lib/pebble.bash).  Lineages are obtained with
# certonly (JSON mode through examples/json-driver.sh, or handler mode with
# a handler this file writes), then renewed with `extauth renew`, which
# takes server, account, names, mode, handler and CA bundle from each
# lineage's renewal conf: no --server, no -d, no --ca-bundle here.
#
# PEBBLE_AUTHZREUSE=0: a renewal always goes through the challenges, so
# every renewal shows up as perform lines / handler calls.
# Pebble certificates are valid for about 5 years, so nothing is due unless
# a test makes it due (renew_before_expiry, or the conf's cache).

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
}

# obtain NAME[,NAME2] [ARGS...]: one lineage (named after the first name)
# in JSON mode over dns-01, through the driver.
obtain() {
	local names=$1
	shift
	ext_run -d "$names" --preferred-challenges dns --deactivate-authz "$@" certonly
	[ "$status" -eq 0 ] || { echo "obtaining $names failed" >&2; return 1; }
}

# renew_drv ARGS...: `extauth renew` with only the directory flags (and
# ARGS), as the JSON driver's child.
renew_drv() {
	run --separate-stderr timeout "$RUN_TIMEOUT" bash "$DRIVER" "$EXTAUTH" \
		renew "${DIRS[@]}" --deactivate-authz "$@"
	show
}

# archive_versions NAME: the cert versions in archive/NAME, e.g. "1,2".
archive_versions() {
	(cd "$CFG/archive/$1" && ls cert*.pem) | sed 's/^cert\([0-9]*\)\.pem$/\1/' |
		sort -n | paste -sd, -
}

# live_version NAME: N of the archive file live/NAME/cert.pem points at.
live_version() {
	readlink "$CFG/live/$1/cert.pem" | sed 's/.*cert\([0-9]*\)\.pem$/\1/'
}

# report: the last run's report line (exactly one).
report() {
	local r
	r=$(lines_cmd report)
	assert_eq "report lines" "$(grep -c . <<<"$r")" 1 >&2 || return 1
	printf '%s\n' "$r"
}

# report_has TEXT: some line of the report contains TEXT.
report_has() {
	report | jq -e --arg t "$1" '[.messages[].lines[]] | any(contains($t))' >/dev/null || {
		echo "report lacks [$1]" >&2
		return 1
	}
}

# conf_set NAME KEY VALUE: set a top-level key of renewal/NAME.conf (added
# before the first section when missing: configobj's top level ends there).
conf_set() {
	local f=$CFG/renewal/$1.conf
	if grep -q "^$2 = " "$f"; then
		sed -i "s|^$2 = .*|$2 = $3|" "$f"
	else
		sed -i "1i $2 = $3" "$f"
	fi
	grep -q "^$2 = $3\$" "$f"
}

# conf_get NAME [SECTION.]KEY: a value from renewal/NAME.conf (keys are
# unique across sections in the confs extauth writes).
conf_get() {
	sed -n "s|^$2 = ||p" "$CFG/renewal/$1.conf"
}

# write_handler PATH LOG: a handler that publishes dns-01 TXT records in
# challtestsrv on perform, clears them on cleanup, logs every call to LOG
# ("WORD CERT_NAME DOMAIN") and exits 0 on every other word.
write_handler() {
	cat >"$1" <<EOF
#!/bin/bash
set -u
printf '%s %s %s\n' "\$1" "\${cert_name:--}" "\${domain:--}" >>"$2"
post() { curl -fsS -o /dev/null -X POST -d "\$2" "$CHALLTESTSRV_URL/\$1"; }
case \$1 in
perform) post set-txt "{\"host\":\"\${txt_domain}.\",\"value\":\"\${validation}\"}" ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.\${domain#\\*.}.\"}" ;;
esac
exit 0
EOF
	chmod +x "$1"
}

# --- nothing due --------------------------------------------------------------

@test "renew: nothing due: exit 0, no challenges, no new versions" {
	obtain r1a.example.com
	obtain r1b.example.com
	renew_drv
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	assert_eq "cmds" "$(jq -r .cmd <<<"$output" | paste -sd, -)" report
	report_has "2 lineages checked, 0 due, 0 renewed, 0 failed."
	assert_eq "archive a" "$(archive_versions r1a.example.com)" 1
	assert_eq "archive b" "$(archive_versions r1b.example.com)" 1

	# without stdin and without a driver (cron): same answer
	ext_direct renew "${DIRS[@]}" --deactivate-authz
	[ "$status" -eq 0 ]
	report_has "0 renewed"
}

# --- --force-renewal over two JSON lineages -------------------------------------

@test "renew --force-renewal: both JSON lineages renewed through the driver" {
	local l
	obtain r2a.example.com
	obtain r2b.example.com,r2c.example.com
	renew_drv --force-renewal
	[ "$status" -eq 0 ]
	assert_stdout_json
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 3
	assert_eq "cleanup lines" "$(count_cmd cleanup)" 3
	# every line but the report names its lineage, and the right one
	while IFS= read -r l; do
		jq -e '(.domain | ltrimstr("*.")) as $d |
			(.cert_name == "r2a.example.com" and $d == "r2a.example.com") or
			(.cert_name == "r2b.example.com" and ($d == "r2b.example.com" or $d == "r2c.example.com"))' \
			<<<"$l" >/dev/null || { echo "bad cert_name: $l" >&2; false; }
	done < <(lines_cmd perform_challenge; lines_cmd cleanup)
	assert_eq "non-report lines without cert_name" \
		"$(jq -r 'select(.cmd != "report" and .cert_name == null) | .cmd' <<<"$output" | grep -c . || true)" 0
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | sort -u)" valid
	report_has "2 lineages checked, 2 due, 2 renewed, 0 failed."
	assert_lineage "$CFG/live/r2a.example.com" r2a.example.com 2
	assert_lineage "$CFG/live/r2b.example.com" r2b.example.com,r2c.example.com 2
	# the conf was rewritten for the new version and still says how to renew
	assert_eq "cached version" "$(conf_get r2a.example.com extauth_version)" 2
	assert_eq "ca bundle kept" "$(conf_get r2a.example.com extauth_ca_bundle)" "$PEBBLE_CA_BUNDLE"

	# --cert-name: only that one, and it can be renewed again (the
	# rewritten conf is enough to reach the CA)
	renew_drv --force-renewal --cert-name r2b.example.com
	[ "$status" -eq 0 ]
	assert_eq "cert_names" "$(lines_cmd perform_challenge | jq -r .cert_name | sort -u)" r2b.example.com
	report_has "1 lineage checked, 1 due, 1 renewed, 0 failed."
	assert_eq "archive a" "$(archive_versions r2a.example.com)" 1,2
	assert_eq "archive b" "$(archive_versions r2b.example.com)" 1,2,3
	assert_lineage "$CFG/live/r2b.example.com" r2b.example.com,r2c.example.com 3
}

# --- due by certbot's rule ------------------------------------------------------

@test "renew: renew_before_expiry in the conf makes exactly that lineage due" {
	obtain r3a.example.com
	obtain r3b.example.com
	# lifetime ~1826 days: 2000 days before expiry is now
	conf_set r3a.example.com renew_before_expiry "2000 days"
	renew_drv
	[ "$status" -eq 0 ]
	assert_stdout_json
	[ "$(count_cmd perform_challenge)" -ge 1 ]
	assert_eq "cert_names" "$(lines_cmd perform_challenge | jq -r .cert_name | sort -u)" r3a.example.com
	report_has "2 lineages checked, 1 due, 1 renewed, 0 failed."
	assert_eq "archive a" "$(archive_versions r3a.example.com)" 1,2
	assert_eq "archive b" "$(archive_versions r3b.example.com)" 1
	assert_lineage "$CFG/live/r3a.example.com" r3a.example.com 2
	# the setting survives the rewrite of the conf
	assert_eq "renew_before_expiry" "$(conf_get r3a.example.com renew_before_expiry)" "2000 days"

	# 1500 days: not due yet (about 1826 left)
	conf_set r3a.example.com renew_before_expiry "1500 days"
	renew_drv
	[ "$status" -eq 0 ]
	assert_eq "perform lines" "$(count_cmd perform_challenge)" 0
	assert_eq "archive a" "$(archive_versions r3a.example.com)" 1,2
}

# --- unattended handler mode ------------------------------------------------------

@test "renew without stdin or TTY uses the handler recorded in the conf" {
	local h=$BATS_TEST_TMPDIR/handler.sh log=$BATS_TEST_TMPDIR/handler.log
	write_handler "$h" "$log"
	ext_direct "${COMMON[@]}" -d r4.example.com --preferred-challenges dns --deactivate-authz --handler "$h" certonly
	[ "$status" -eq 0 ]
	assert_eq "recorded mode" "$(conf_get r4.example.com extauth_mode)" handler
	assert_eq "recorded handler" "$(conf_get r4.example.com extauth_handler)" "$h"
	: >"$log"

	# cron-like: no --handler, no --mode, stdin /dev/null, no TTY
	ext_direct renew --force-renewal "${DIRS[@]}" --deactivate-authz
	[ "$status" -eq 0 ]
	report_has "1 renewed"
	grep -qx 'perform r4.example.com r4.example.com' "$log" || { cat "$log" >&2; false; }
	grep -qx 'cleanup r4.example.com r4.example.com' "$log" || { cat "$log" >&2; false; }
	assert_lineage "$CFG/live/r4.example.com" r4.example.com 2
	assert_eq "recorded handler after renewal" "$(conf_get r4.example.com extauth_handler)" "$h"
}

# --- hooks ------------------------------------------------------------------------

@test "renew hooks: pre/post once per run, deploy once per renewed lineage" {
	local hook=$BATS_TEST_TMPDIR/hook.sh hlog=$BATS_TEST_TMPDIR/hooks.log
	local dlog=$BATS_TEST_TMPDIR/deploy.log
	printf '#!/bin/sh\necho "$1" >>"%s"\n' "$hlog" >"$hook"
	printf '#!/bin/sh\necho "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >>"%s"\n' "$dlog" \
		>"$BATS_TEST_TMPDIR/deploy.sh"
	chmod +x "$hook" "$BATS_TEST_TMPDIR/deploy.sh"
	obtain r5a.example.com
	obtain r5b.example.com,r5c.example.com

	# nothing due: no hook runs
	renew_drv --pre-hook "$hook pre" --post-hook "$hook post" \
		--deploy-hook "$BATS_TEST_TMPDIR/deploy.sh"
	[ "$status" -eq 0 ]
	[ ! -e "$hlog" ] && [ ! -e "$dlog" ]

	renew_drv --force-renewal --pre-hook "$hook pre" --post-hook "$hook post" \
		--deploy-hook "$BATS_TEST_TMPDIR/deploy.sh"
	[ "$status" -eq 0 ]
	report_has "2 renewed"
	assert_eq "pre/post hooks" "$(paste -sd, "$hlog")" pre,post
	assert_eq "deploy hook" "$(sort "$dlog" | paste -sd '#' -)" \
		"$CFG/live/r5a.example.com|r5a.example.com#$CFG/live/r5b.example.com|r5b.example.com r5c.example.com"

	# a post hook alone still runs once after a renewal, and is told
	# what was renewed and what failed (certbot 4.2's variables)
	: >"$hlog"
	printf '#!/bin/sh\necho "$1|$RENEWED_DOMAINS|$FAILED_DOMAINS" >>"%s"\n' "$hlog" >"$hook"
	renew_drv --force-renewal --cert-name r5b.example.com --post-hook "$hook postonly"
	[ "$status" -eq 0 ]
	assert_eq "post hook alone" "$(paste -sd, "$hlog")" "postonly|r5b.example.com r5c.example.com|"
}

# --- partial failure ----------------------------------------------------------------

@test "renew: one lineage's handler fails: exit 8, the other renewed, report names it" {
	local h=$BATS_TEST_TMPDIR/handler.sh log=$BATS_TEST_TMPDIR/handler.log
	local bad=$BATS_TEST_TMPDIR/fail.sh
	write_handler "$h" "$log"
	printf '#!/bin/sh\n[ "$1" = perform ] && { echo "no DNS today" >&2; exit 3; }\nexit 0\n' >"$bad"
	chmod +x "$bad"
	ext_direct "${COMMON[@]}" -d r6a.example.com --preferred-challenges dns --deactivate-authz --handler "$h" certonly
	[ "$status" -eq 0 ]
	ext_direct "${COMMON[@]}" -d r6b.example.com --preferred-challenges dns --deactivate-authz --handler "$h" certonly
	[ "$status" -eq 0 ]
	sed -i "s|^extauth_handler = .*|extauth_handler = $bad|" "$CFG/renewal/r6a.example.com.conf"
	grep -q "^extauth_handler = $bad\$" "$CFG/renewal/r6a.example.com.conf"

	ext_direct renew --force-renewal "${DIRS[@]}" --deactivate-authz
	[ "$status" -eq 8 ]
	report_has "Renewal failed for: r6a.example.com"
	report_has "Renewed: r6b.example.com"
	report_has "2 lineages checked, 2 due, 1 renewed, 1 failed."
	assert_eq "archive a" "$(archive_versions r6a.example.com)" 1
	assert_eq "live a" "$(live_version r6a.example.com)" 1
	assert_lineage "$CFG/live/r6b.example.com" r6b.example.com 2
}

# --- the conf's cache ------------------------------------------------------------------

@test "renew: a stale cache (live/ moved to another version) is not trusted" {
	local name=r7.example.com c1=$BATS_TEST_TMPDIR/v1.conf now
	now=$(date +%s)
	obtain "$name"
	cp "$CFG/renewal/$name.conf" "$c1"
	# version 2 through certonly: live/ -> *2.pem, conf cache says 2
	obtain "$name" --force-renewal
	assert_eq "live" "$(live_version "$name")" 2

	# The old conf (cache for version 1) claiming "expires tomorrow": stale,
	# so renew reads cert2.pem (5 years left) and renews nothing.
	cp "$c1" "$CFG/renewal/$name.conf"
	conf_set "$name" extauth_not_before $((now - 89 * 86400))
	conf_set "$name" extauth_not_after $((now + 86400))
	renew_drv
	[ "$status" -eq 0 ]
	report_has "1 lineage checked, 0 due, 0 renewed, 0 failed."
	assert_eq "archive after stale 'due' cache" "$(archive_versions "$name")" 1,2

	# Control: the same claim with the cache matching live/ is believed
	# (so the run above really took the other path).
	conf_set "$name" extauth_version 2
	renew_drv
	[ "$status" -eq 0 ]
	report_has "1 lineage checked, 1 due, 1 renewed, 0 failed."
	assert_eq "archive after fresh 'due' cache" "$(archive_versions "$name")" 1,2,3
	assert_eq "cache rewritten" "$(conf_get "$name" extauth_version)" 3

	# The other way round: a stale cache claiming "not due for ages" while
	# the certificate itself is due (renew_before_expiry = 2000 days).
	conf_set "$name" extauth_version 2
	conf_set "$name" extauth_not_before "$now"
	conf_set "$name" extauth_not_after $((now + 100000 * 86400))
	conf_set "$name" renew_before_expiry "2000 days"
	renew_drv
	[ "$status" -eq 0 ]
	report_has "1 lineage checked, 1 due, 1 renewed, 0 failed."
	assert_eq "archive after stale 'not due' cache" "$(archive_versions "$name")" 1,2,3,4
	assert_lineage "$CFG/live/$name" "$name" 4
}

# --- dry run -------------------------------------------------------------------------

@test "renew --dry-run: talks to the CA, changes nothing on disk" {
	local name=r8.example.com conf_before dlog=$BATS_TEST_TMPDIR/deploy.log
	printf '#!/bin/sh\necho deployed >>"%s"\n' "$dlog" >"$BATS_TEST_TMPDIR/deploy.sh"
	chmod +x "$BATS_TEST_TMPDIR/deploy.sh"
	obtain "$name"
	conf_before=$(cat "$CFG/renewal/$name.conf")
	renew_drv --dry-run --deploy-hook "$BATS_TEST_TMPDIR/deploy.sh"
	[ "$status" -eq 0 ]
	assert_stdout_json
	# not due, yet the CA was asked: challenges were performed and validated
	[ "$(count_cmd perform_challenge)" -ge 1 ]
	assert_eq "statuses" "$(lines_cmd cleanup | jq -r .status | sort -u)" valid
	report_has "Dry run"
	assert_eq "archive" "$(cd "$CFG/archive/$name" && ls | paste -sd, -)" \
		"cert1.pem,chain1.pem,fullchain1.pem,privkey1.pem"
	assert_eq "live" "$(live_version "$name")" 1
	assert_eq "conf" "$(cat "$CFG/renewal/$name.conf")" "$conf_before"
	[ ! -e "$dlog" ]
}
