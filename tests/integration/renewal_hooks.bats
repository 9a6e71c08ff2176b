#!/usr/bin/env bats
# renewal_hooks.bats: certbot's hook directories in the config dir
# (renewal-hooks/{pre,deploy,post}/) run as certbot runs them (issue 7 §3):
# sorted by name, executable regular files only (editor backups "~",
# dot files, directories and non-executables skipped), the path itself as
# the command; pre before the first renewal, deploy per renewed lineage
# with RENEWED_LINEAGE/RENEWED_DOMAINS, post once after the last; none when
# nothing is due; no deploy on --dry-run.

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
	HLOG=$BATS_TEST_TMPDIR/hooks.log
	export HLOG
	H=$BATS_TEST_TMPDIR/handler.sh
	cat >"$H" <<'EOS'
#!/usr/bin/env bash
set -eu
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }
case $1 in
perform) post set-txt "{\"host\":\"$txt_domain.\",\"value\":\"$validation\"}"
	echo "challenge ${domain}" >>"$HLOG" ;;
cleanup) post clear-txt "{\"host\":\"_acme-challenge.$domain.\"}" ;;
esac
EOS
	chmod +x "$H"
}

# hook DIR NAME [MODE]: a hook that logs "DIR NAME" and its environment.
hook() {
	local d=$CFG/renewal-hooks/$1
	mkdir -p "$d"
	cat >"$d/$2" <<EOS
#!/bin/sh
echo "$1 $2 lineage=\${RENEWED_LINEAGE-} domains=\${RENEWED_DOMAINS-} failed=\${FAILED_DOMAINS-}" >>"\$HLOG"
EOS
	chmod "${3:-755}" "$d/$2"
}

issue() {
	local d
	for d in "$@"; do
		ext_direct "${COMMON[@]}" --preferred-challenges dns --handler "$H" \
			--deactivate-authz -d "$d" certonly
		[ "$status" -eq 0 ] || return 1
	done
}

renew() {
	run --separate-stderr timeout "$RUN_TIMEOUT" "$EXTAUTH" renew "${DIRS[@]}" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --deactivate-authz "$@" </dev/null
	show
}

@test "pre before the first renewal, deploy per lineage, post after the last, each sorted" {
	local a=rh1.example.com b=rh2.example.com
	issue "$a" "$b"
	hook pre 20-second
	hook pre 10-first
	hook pre 15-not-executable 644
	hook pre 30-backup~
	hook pre .hidden
	mkdir -p "$CFG/renewal-hooks/pre/40-a-directory"
	hook deploy 10-deploy
	hook post 10-post
	hook post 05-post
	# a regular file through a link counts, as with certbot
	ln -s "$CFG/renewal-hooks/post/10-post" "$CFG/renewal-hooks/post/20-link"
	: >"$HLOG"
	# One lineage after the other: the walk's order is the hooks' order
	# only then (handler-mode lineages are renewed 8 at once by default).
	renew --force-renewal --max-concurrent 1
	[ "$status" -eq 0 ]
	cat "$HLOG" >&2
	local want
	want=$(cat <<EOT
pre 10-first lineage= domains= failed=
pre 20-second lineage= domains= failed=
challenge $a
deploy 10-deploy lineage=$CFG/live/$a domains=$a failed=
challenge $b
deploy 10-deploy lineage=$CFG/live/$b domains=$b failed=
post 05-post lineage= domains=$a $b failed=
post 10-post lineage= domains=$a $b failed=
post 10-post lineage= domains=$a $b failed=
EOT
)
	assert_eq "hook order" "$(cat "$HLOG")" "$want"
	assert_lineage "$CFG/live/$a" "$a" 2
	assert_lineage "$CFG/live/$b" "$b" 2
}

@test "nothing due: no hooks; --dry-run: pre and post but no deploy" {
	local a=rh3.example.com
	issue "$a"
	hook pre 10-pre
	hook deploy 10-deploy
	hook post 10-post
	: >"$HLOG"
	renew
	[ "$status" -eq 0 ]
	[ ! -s "$HLOG" ]
	renew --dry-run
	[ "$status" -eq 0 ]
	cat "$HLOG" >&2
	grep -q "^pre 10-pre " "$HLOG"
	grep -q "^post 10-post " "$HLOG"
	! grep -q "^deploy" "$HLOG" || false
}

@test "a failing deploy hook fails its lineage; the lineage's own deploy hook still runs" {
	local a=rh4.example.com
	issue "$a"
	mkdir -p "$CFG/renewal-hooks/deploy"
	printf '#!/bin/sh\nexit 3\n' >"$CFG/renewal-hooks/deploy/10-fails"
	chmod +x "$CFG/renewal-hooks/deploy/10-fails"
	hook deploy 20-after
	local own=$BATS_TEST_TMPDIR/own-deploy.sh
	printf '#!/bin/sh\necho "own $RENEWED_DOMAINS" >>"$HLOG"\n' >"$own"
	chmod +x "$own"
	: >"$HLOG"
	renew --force-renewal --deploy-hook "$own"
	[ "$status" -eq 8 ]
	grep -q "deploy hook $CFG/renewal-hooks/deploy/10-fails failed (exit 3)" <<<"$stderr"
	grep -q "^deploy 20-after lineage=$CFG/live/$a " "$HLOG"
	grep -qx "own $a" "$HLOG"
}
