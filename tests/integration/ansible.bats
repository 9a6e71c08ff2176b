#!/usr/bin/env bats
# ansible.bats: the Ansible collection of contrib/ansible (extauth.acme)
# with Debian's real ansible-core, against a Pebble that requires external
# account binding and resolves through a real BIND 9 on loopback
# (PEBBLE_DNS_SERVER): the example playbooks publish dns-01 there with
# nsupdate, and Pebble looks nowhere else.  PEBBLE_AUTHZREUSE=0: every
# order has its challenges.
#
# The collection is copied into an ansible_collections/extauth/acme tree,
# the layout ansible-doc, ansible-playbook and ansible-test all expect.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154

bats_require_minimum_version 1.5.0 # run --separate-stderr

load ../lib/common
load ../lib/bind

ZONE=ansible.test
EAB_KID=kid-ansible
# a base64url HMAC key, Pebble's shape; the tests check it is never shown
EAB_KEY=Wq3lT7eHc0ZbR8nVxPj2mKd5sA9uYfGiL4oN6rE1tBzC3vXhJ0kQ8wMpS7gD2aUy
EXAMPLES=$REPO_ROOT/contrib/ansible/examples
# The ansible-test sanity tests that need a virtualenv with packages from
# PyPI (offline there is none); the other ones run.
SANITY_NEEDS_PYPI=(ansible-doc import pep8 pylint runtime-metadata
	validate-modules yamllint)

setup_file() {
	command -v ansible-playbook >/dev/null || {
		echo "ansible-playbook is missing: scripts/install-deps.sh --test installs ansible-core" >&2
		return 1
	}
	bind_start "$ZONE" || return 1
	if ! PEBBLE_DNS_SERVER="127.0.0.1:$BIND_PORT" PEBBLE_EAB_KID=$EAB_KID \
		PEBBLE_EAB_KEY=$EAB_KEY common_setup_file PEBBLE_AUTHZREUSE=0; then
		pebble_stop
		bind_stop
		return 1
	fi
	local tree=$BATS_FILE_TMPDIR/collections/ansible_collections/extauth
	mkdir -p "$tree"
	cp -r "$REPO_ROOT/contrib/ansible" "$tree/acme"
	export COLLECTION=$tree/acme
	# Everything Ansible writes goes under the file's temp dir; the
	# module runs under Debian's python3, not a pyenv one on PATH.
	export ANSIBLE_COLLECTIONS_PATH=$BATS_FILE_TMPDIR/collections
	export ANSIBLE_HOME=$BATS_FILE_TMPDIR/ansible-home
	export ANSIBLE_LOCAL_TEMP=$BATS_FILE_TMPDIR/ansible-tmp
	export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
	export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
	export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
}

teardown_file() {
	pebble_stop
	bind_stop
}

setup() {
	common_setup
	# Every playbook gets the private CA, this test's directories, BIND
	# and the EAB pair, as a user would pass them with -e.
	VARS=$BATS_TEST_TMPDIR/vars.json
	jq -n --arg x "$EXTAUTH" --arg s "$PEBBLE_DIR_URL" --arg b "$PEBBLE_CA_BUNDLE" \
		--arg c "$CFG" --arg w "$WORK" --arg l "$LOGS" --arg p "$BIND_PORT" \
		--arg k "$BIND_KEYFILE" --arg kid "$EAB_KID" --arg hmac "$EAB_KEY" '{
		extauth: $x, acme_server: $s, ca_bundle: $b, config_dir: $c,
		work_dir: $w, logs_dir: $l, nsupdate_server: "127.0.0.1",
		nsupdate_port: ($p | tonumber), nsupdate_key: $k,
		eab_kid: $kid, eab_hmac_key: $hmac, email: "t@example.com"}' >"$VARS"
}

# play PLAYBOOK DOMAINS_JSON [ARG...]: ansible-playbook, verbose (-v shows
# every task's result, so a secret in one would show), with VARS.
play() {
	local book=$1 domains=$2
	shift 2
	run --separate-stderr timeout "$RUN_TIMEOUT" ansible-playbook -v \
		-i localhost, -e "@$VARS" -e "{\"domains\": $domains}" "$@" "$book"
	show
}

# recap: the PLAY RECAP line of localhost, counters only.
recap() {
	grep -E '^localhost +:' <<<"$output" | sed -E 's/^localhost +: +//; s/ +/ /g'
}

# recap_count NAME: one counter of the recap (ok, changed, failed, ...).
recap_count() { recap | grep -oE "(^| )$1=[0-9]+" | cut -d= -f2; }

# assert_no_secret: neither the EAB HMAC key nor a private key in the
# last run's stdout or stderr.
assert_no_secret() {
	[[ $output$stderr != *"$EAB_KEY"* ]] || { echo "EAB HMAC key in the output" >&2; return 1; }
	[[ $output$stderr != *"PRIVATE KEY"* ]] || { echo "a private key in the output" >&2; return 1; }
}

# assert_no_txt NAME...: BIND serves no TXT record at _acme-challenge.NAME.
assert_no_txt() {
	local n
	for n in "$@"; do
		assert_eq "TXT left at _acme-challenge.$n" "$(bind_txt "_acme-challenge.$n")" "" || return 1
	done
}

@test "ansible-doc renders the module: options, examples and return values" {
	run --separate-stderr ansible-doc --json extauth.acme.certificate
	show
	[ "$status" -eq 0 ]
	local doc=$BATS_TEST_TMPDIR/doc.json
	printf '%s\n' "$output" >"$doc"
	# ansible-doc parsed DOCUMENTATION and RETURN as YAML; EXAMPLES is text
	jq -e '.["extauth.acme.certificate"].doc.options
		| has("domains") and has("data") and has("state")
		and has("eab_hmac_key") and has("work_dir")' "$doc"
	jq -e '.["extauth.acme.certificate"].return
		| has("challenge_data_dns") and has("id") and has("fullchain_path")
		and has("cert_days")' "$doc"
	jq -e '.["extauth.acme.certificate"].doc.attributes.check_mode.support == "full"' "$doc"
	# every example task uses the module or a builtin, and is valid YAML
	jq -r '.["extauth.acme.certificate"].examples' "$doc" |
		/usr/bin/python3 -c 'import sys, yaml
tasks = yaml.safe_load(sys.stdin)
mods = {k for t in tasks for k in t if k not in ("name", "register", "when")}
assert mods <= {"extauth.acme.certificate", "ansible.builtin.command",
    "ansible.builtin.debug"}, mods
assert sum("extauth.acme.certificate" in t for t in tasks) == 3'
	# the text form, as a user reads it
	run ansible-doc extauth.acme.certificate
	[ "$status" -eq 0 ]
	[[ $output == *"EXTAUTH.ACME.CERTIFICATE"* ]]
	# (wrapped at the terminal width: compare with the blanks squeezed)
	[[ $(tr -s ' \n' '  ' <<<"$output") == *"extauth certonly --defer"* ]]
	# and the collection builds into what ansible-galaxy installs
	cd "$BATS_TEST_TMPDIR"
	run ansible-galaxy collection build "$COLLECTION"
	[ "$status" -eq 0 ]
	tar tzf extauth-acme-*.tar.gz | grep -qx plugins/modules/certificate.py
	tar tzf extauth-acme-*.tar.gz | grep -qx examples/dns01-nsupdate.yml
}

@test "ansible-test sanity passes its offline tests, and finds a planted fault" {
	local skip=() t
	for t in "${SANITY_NEEDS_PYPI[@]}"; do skip+=(--skip-test "$t"); done
	cd "$COLLECTION"
	run ansible-test sanity --python 3.11 --color=no "${skip[@]}"
	show
	[ "$status" -eq 0 ]
	(($(grep -c '^Running sanity test' <<<"$output") >= 20))
	# the same run fails on a module with an assert (no-assert), so it
	# really looks at the module
	local m=plugins/modules/certificate.py
	cp "$m" "$BATS_TEST_TMPDIR/keep.py"
	echo 'assert True' >>"$m"
	run ansible-test sanity --python 3.11 --color=no "${skip[@]}"
	cp "$BATS_TEST_TMPDIR/keep.py" "$m"
	[ "$status" -ne 0 ]
	[[ $output == *"no-assert"* ]]
}

@test "check mode orders nothing: no account, no pending order, no records" {
	play "$EXAMPLES/dns01-nsupdate.yml" '["check.ansible.test"]' --check
	[ "$status" -eq 0 ]
	# step 1 says it would order; the rest is skipped
	assert_eq "changed" "$(recap_count changed)" 1
	assert_eq "failed" "$(recap_count failed)" 0
	[ ! -e "$CFG/accounts" ]
	[ ! -e "$WORK/pending" ] || [ -z "$(ls -A "$WORK/pending")" ]
	assert_no_txt check.ansible.test
	assert_no_secret
}

@test "one-pass JSON mode through the helper: issued, then kept (changed=0)" {
	local a=one.$ZONE
	play "$EXAMPLES/oneshot-json.yml" "[\"$a\", \"*.$a\"]" \
		-e "{\"extauth_args\": [\"--config-dir\", \"$CFG\", \"--work-dir\", \"$WORK\",
		\"--logs-dir\", \"$LOGS\", \"--ca-bundle\", \"$PEBBLE_CA_BUNDLE\"]}"
	[ "$status" -eq 0 ]
	assert_eq "changed" "$(recap_count changed)" 1
	assert_eq "failed" "$(recap_count failed)" 0
	assert_lineage "$CFG/live/$a" "*.$a,$a"
	assert_no_txt "$a"
	assert_no_secret
	# the HMAC key on extauth's command line hides that task's result
	[[ $output == *"the output has been hidden"* ]]

	play "$EXAMPLES/oneshot-json.yml" "[\"$a\", \"*.$a\"]" \
		-e "{\"extauth_args\": [\"--config-dir\", \"$CFG\", \"--work-dir\", \"$WORK\",
		\"--logs-dir\", \"$LOGS\", \"--ca-bundle\", \"$PEBBLE_CA_BUNDLE\"]}"
	[ "$status" -eq 0 ]
	assert_eq "changed" "$(recap_count changed)" 0
	[ ! -e "$CFG/archive/$a/cert2.pem" ]
}

@test "check mode after issue: not due, so changed=0" {
	local a=kept.$ZONE
	play "$EXAMPLES/oneshot-json.yml" "[\"$a\"]" \
		-e "{\"extauth_args\": [\"--config-dir\", \"$CFG\", \"--work-dir\", \"$WORK\",
		\"--logs-dir\", \"$LOGS\", \"--ca-bundle\", \"$PEBBLE_CA_BUNDLE\"]}"
	[ "$status" -eq 0 ]
	assert_lineage "$CFG/live/$a" "$a"
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\"]" --check
	[ "$status" -eq 0 ]
	assert_eq "changed" "$(recap_count changed)" 0
	# the debug task names the kept certificate
	[[ $output == *"$CFG/live/$a/fullchain.pem expires "* ]]
	# a different set of names would be ordered
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\", \"www.$a\"]" --check
	[ "$status" -eq 0 ]
	assert_eq "changed" "$(recap_count changed)" 1
}
