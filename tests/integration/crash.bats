#!/usr/bin/env bats
# crash.bats: kill -9 at any moment leaves a config dir from which a plain
# rerun succeeds (issue 11 item 5).  Against the real Pebble.
#
# The harness follows a run's -vv log and kills extauth with SIGKILL just
# after each step (directory, nonce, newAccount, newOrder, authorization,
# challenge, finalize, certificate) and at several moments while the
# certificate is stored (archive files, link flips, renewal conf).  After
# each kill the same config dir gets a plain rerun, which must exit 0 and
# leave it consistent (crash_check).  The narrow windows a kill rarely hits
# (key saved but not regr.json, a temp file, links half flipped) get a test
# each, built by hand.  A kill that comes after extauth exited does not
# count (the trial is repeated once, killing at once): each phase needs two
# thirds of its kills to land (the counts are printed).

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/common
	# no authorization reuse: every renewal goes through its challenges,
	# so every step of the plan is reached
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

# killed_run STEP DELAY_MS ARGS...: extauth -vv ARGS (through the JSON
# driver, with the common arguments), killed with SIGKILL DELAY_MS after
# its first log line matching the regex STEP.  Sets KILLED=1 if the kill
# landed (extauth was still running).
killed_run() {
	local step=$1 delay=$2 pidf=$BATS_TEST_TMPDIR/pid res=$BATS_TEST_TMPDIR/res
	shift 2
	rm -f "$pidf"
	# The wrapper writes its pid and execs extauth in place: that pid is
	# extauth's, not the driver's.
	bash "$DRIVER" bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$EXTAUTH" \
		"${COMMON[@]}" -vv "$@" 2>&1 >/dev/null | {
		killed=0 armed=1
		while IFS= read -r line; do
			[[ $armed == 1 && $line =~ $step ]] || continue
			armed=0
			sleep "$(printf '0.%03d' "$delay")"
			kill -9 "$(cat "$pidf")" 2>/dev/null && killed=1
		done
		echo "$killed" >"$res"
	}
	read -r KILLED <"$res"
}

# crash_check NAME: the config dir is consistent: one account, complete;
# the lineage's four live links resolve to one version whose key matches
# the certificate; private keys are 0600 (archive) and 0400 (account); no
# temporary file anywhere; `extauth certificates` lists the lineage.
crash_check() {
	local name=$1 live=$CFG/live/$1 f v vs=() bad
	assert_eq "accounts" "$(find "$CFG/accounts" -name private_key.json | wc -l)" 1 || return 1
	assert_eq "account regr.json" "$(find "$CFG/accounts" -name regr.json | wc -l)" 1 || return 1
	for f in cert chain fullchain privkey; do
		[[ -e $live/$f.pem ]] || { echo "$live/$f.pem does not resolve" >&2; return 1; }
		v=$(readlink "$live/$f.pem")
		v=${v##*/"$f"}
		vs+=("${v%.pem}")
	done
	[[ ${vs[0]} == "${vs[1]}" && ${vs[0]} == "${vs[2]}" && ${vs[0]} == "${vs[3]}" ]] || {
		echo "live links name versions ${vs[*]}" >&2
		return 1
	}
	assert_eq "key matches cert" \
		"$(openssl pkey -in "$live/privkey.pem" -pubout | sha256sum)" \
		"$(openssl x509 -in "$live/cert.pem" -noout -pubkey | sha256sum)" || return 1
	bad=$(find "$CFG/archive" -name 'privkey*.pem' ! -perm 0600)
	[[ -z $bad ]] || { echo "archive keys not 0600: $bad" >&2; return 1; }
	bad=$(find "$CFG/accounts" -name private_key.json ! -perm 0400)
	[[ -z $bad ]] || { echo "account keys not 0400: $bad" >&2; return 1; }
	bad=$(find "$CFG" "$WORK" -regextype posix-extended -regex '.*/\.[^/]+\.extauth\.[A-Za-z0-9]{6}')
	[[ -z $bad ]] || { echo "temporary files left: $bad" >&2; return 1; }
	[[ -f $CFG/renewal/$name.conf ]] || { echo "no renewal conf" >&2; return 1; }
	run --separate-stderr "$EXTAUTH" certificates "${DIRS[@]}"
	[[ $status -eq 0 && $output == *"Certificate Name: $name"* ]] || {
		show
		return 1
	}
}

# The steps of a run, as its -vv log shows them: the kills land 1 ms
# after each, and 0-12 ms after the certificate arrived (the
# archive files, the link flips and the renewal conf come then, all within
# a few milliseconds).
STEPS_ACCOUNT=('/dir: ' 'nonce' 'sign-me-up: ' '^registered account')
STEPS_ORDER=('order-plz: ' '^authorization: ' 'challenge for' '^challenge: '
	'^finalize: ' '^certificate: ')
plan() {
	local step d
	for step in "$@"; do
		echo "1 $step"
	done
	for d in 0 2 3 4 5 6 8 10 12; do echo "$d ^certificate: "; done
}

# trials LABEL SETUP "RERUN ARGS" "ARGS" STEPS...: for each planned kill,
# SETUP (a function), the killed run of ARGS, then the rerun, which must
# succeed and leave crash.example.com consistent.  Prints what the reruns
# had to repair.
trials() {
	local label=$1 setup=$2 rerun args step d n=0 landed=0
	local tidied=0 halfacct=0 flipped=0 noconf=0 missed=()
	read -ra rerun <<<"$3"
	read -ra args <<<"$4"
	shift 4
	while read -r d step; do
		n=$((n + 1))
		"$setup"
		killed_run "$step" "$d" "${args[@]}"
		if ((!KILLED)); then
			# the run ended first (on a loaded machine the log is
			# read late): once more, killing at once
			"$setup"
			killed_run "$step" 0 "${args[@]}"
		fi
		landed=$((landed + KILLED))
		((KILLED)) || missed+=("$step+$d")
		ext_run "${rerun[@]}"
		[ "$status" -eq 0 ] || { echo "trial $n ($step + $d ms): rerun failed" >&2; return 1; }
		[[ $stderr == *"did not finish"* ]] && tidied=$((tidied + 1))
		[[ $stderr == *"registering its key again"* ]] && halfacct=$((halfacct + 1))
		[[ $stderr == *"completed them to version"* ]] && flipped=$((flipped + 1))
		[[ $stderr == *"no renewal configuration"* ]] && noconf=$((noconf + 1))
		# (crash_check's own run replaces $stderr)
		crash_check crash.example.com || { echo "trial $n ($step + $d ms)" >&2; return 1; }
	done < <(plan "$@")
	echo "# $label: $landed of $n kills landed; reruns that tidied up $tidied," \
		"completed an account $halfacct, completed links $flipped," \
		"re-obtained a lineage without conf $noconf" | tee /dev/stderr >&3
	[ "$landed" -ge $((n * 2 / 3)) ] || { echo "kills after the run ended: ${missed[*]}" >&2; return 1; }
}

fresh() { rm -rf "$CFG" "$WORK" "$LOGS"; }
from_base() { fresh; cp -a "$BATS_TEST_TMPDIR/base" "$CFG"; }

@test "kill -9 during a first run (account + issuance): a plain rerun succeeds" {
	trials "first run" fresh "-d crash.example.com certonly" \
		"-d crash.example.com certonly" "${STEPS_ACCOUNT[@]}" "${STEPS_ORDER[@]}"
}

@test "kill -9 during a forced renew: a plain renew succeeds" {
	ext_run -d crash.example.com certonly
	[ "$status" -eq 0 ]
	cp -a "$CFG" "$BATS_TEST_TMPDIR/base"
	trials "forced renew" from_base "renew" "--force-renewal renew" \
		'/dir: ' 'nonce' "${STEPS_ORDER[@]}"
}

# The account's directory (there is one server dir per Pebble).
acct_dir() { dirname "$(find "$CFG/accounts" -name private_key.json)"; }

@test "a key saved without regr.json (killed after newAccount) is completed with the same account" {
	local dir uri
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	dir=$(acct_dir)
	uri=$(jq -r .uri "$dir/regr.json")
	rm "$dir/regr.json" "$dir/meta.json"
	# as a killed run leaves it: the lock file still names that run
	echo 12345 >"$CFG/.extauth.lock"
	# no --agree-tos: the CA is only asked for the existing account
	ext_run -d half.example.com --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" "${DIRS[@]}" -m t@example.com -n certonly
	[ "$status" -eq 0 ]
	[[ $stderr == *"registering its key again"* ]]
	assert_eq "same account" "$(jq -r .uri "$dir/regr.json")" "$uri"
	[ -f "$dir/meta.json" ]
	crash_check half.example.com
	[ ! -s "$CFG/.extauth.lock" ]
}

@test "an account directory holding only a temp file is removed and a new account registered" {
	local server=$BATS_TEST_TMPDIR/x
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	server=$(dirname "$(acct_dir)")
	rm -rf "$CFG/accounts"
	mkdir -p "$server/0123abcd"
	echo '{"kty":' >"$server/0123abcd/.private_key.json.extauth.Ab12Cd"
	echo 12345 >"$CFG/.extauth.lock"
	ext_run -d temp.example.com certonly
	[ "$status" -eq 0 ]
	[ ! -e "$server/0123abcd" ]
	crash_check temp.example.com
}

@test "links left half flipped and temp files everywhere: the next run completes and removes them" {
	local live=$CFG/live/flip.example.com arch=$CFG/archive/flip.example.com
	ext_run -d flip.example.com certonly
	[ "$status" -eq 0 ]
	ext_run --force-renewal renew
	[ "$status" -eq 0 ]
	# as a kill between the privkey and the cert flip leaves it
	ln -sfn ../../archive/flip.example.com/cert1.pem "$live/cert.pem"
	ln -sfn ../../archive/flip.example.com/fullchain1.pem "$live/fullchain.pem"
	ln -s ../../archive/flip.example.com/cert2.pem "$live/.cert.pem.extauth.Zz9Yx8"
	: >"$arch/.privkey3.pem.extauth.aB3dE5"
	: >"$CFG/renewal/.flip.example.com.conf.extauth.QwErTy"
	: >"$CFG/.keep.me"
	: >"$CFG/live/.notes.backup"
	echo 12345 >"$CFG/.extauth.lock"
	ext_run renew
	[ "$status" -eq 0 ]
	[[ $stderr == *"completed them to version 2"* ]]
	assert_eq "cert version" "$(readlink "$live/cert.pem")" ../../archive/flip.example.com/cert2.pem
	crash_check flip.example.com
	# only names of our own temp pattern go
	[ -e "$CFG/.keep.me" ] && [ -e "$CFG/live/.notes.backup" ]
}

@test "a run that ends cleanly empties the lock file, and the next one finds nothing to tidy" {
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	[ -f "$CFG/.extauth.lock" ]
	[ ! -s "$CFG/.extauth.lock" ]
	ext_direct "${COMMON[@]}" register
	[ "$status" -eq 0 ]
	[[ $stderr != *"did not finish"* ]]
	[ ! -s "$CFG/.extauth.lock" ]
}
