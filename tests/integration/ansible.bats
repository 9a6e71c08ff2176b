#!/usr/bin/env bats
# ansible.bats: the Ansible collection of contrib/ansible (extauth.acme)
# with Debian's real ansible-core, against a Pebble that requires external
# account binding and resolves through a real BIND 9 on loopback
# (PEBBLE_DNS_SERVER): the example playbooks publish dns-01 there with
# nsupdate, and Pebble looks nowhere else.  PEBBLE_AUTHZREUSE=0: every
# order has its challenges.  Debian unstable's Pebble 2.10
# (scripts/pebble-sid.sh), which also knows dns-account-01 and
# dns-persist-01.
#
# The collection is copied into an ansible_collections/extauth/acme tree,
# the layout ansible-doc, ansible-playbook and ansible-test all expect.

# status, output, lines and stderr are set by bats' `run`.
# shellcheck disable=SC2154,SC2030,SC2031

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
	export PEBBLE_SID_DIR=${PEBBLE_SID_DIR:-$(bash "$REPO_ROOT/scripts/pebble-sid.sh")}
	bind_start "$ZONE" || return 1
	if ! PEBBLE_BIN_DIR=$PEBBLE_SID_DIR PEBBLE_DNS_SERVER="127.0.0.1:$BIND_PORT" \
		PEBBLE_EAB_KID=$EAB_KID \
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

# task_result TITLE: the result JSON that `ansible-playbook -v` printed for
# the task named TITLE in the last run (one line: "STATUS: [localhost] => {...}").
task_result() {
	awk -v t="TASK [$1]" 'index($0, t) == 1 { on = 1; next }
		on && /^(ok|changed|fatal|skipping): \[localhost\]/ { sub(/^[^{]*/, ""); print; exit }' <<<"$output"
}

# module ARGS_JSON [ANSIBLE_ARG...]: the module alone, as an ad-hoc task,
# with this test's extauth, CA and directories.
module() {
	local args
	args=$(jq -c --arg x "$EXTAUTH" --arg s "$PEBBLE_DIR_URL" --arg b "$PEBBLE_CA_BUNDLE" \
		--arg c "$CFG" --arg w "$WORK" --arg l "$LOGS" '. + {executable: $x,
		config_dir: $c, work_dir: $w, logs_dir: $l}
		+ (if .data then {} else {server: $s, ca_bundle: $b} end)' <<<"$1")
	shift
	run --separate-stderr timeout "$RUN_TIMEOUT" ansible localhost -i localhost, \
		-c local -m extauth.acme.certificate -a "$args" "$@"
	show
}

# result: the JSON of the last ad-hoc run ("localhost | STATUS => {...}").
result() { sed '1s/^[^{]*//' <<<"$output"; }

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

# doc_vs_spec MODULE.py: DOCUMENTATION's options and the module's
# ARGUMENT_SPEC agree on names, type, elements, default, choices and
# required, and no_log options are the ones whose name says secret: the
# heart of ansible-test's validate-modules, which needs PyPI.
doc_vs_spec() {
	/usr/bin/python3 - "$1" <<'EOF'
import importlib.util, sys, yaml
spec = importlib.util.spec_from_file_location("m", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
doc = yaml.safe_load(m.DOCUMENTATION)["options"]
arg = m.ARGUMENT_SPEC
bad = sorted(set(doc) ^ set(arg))
for name in sorted(set(doc) & set(arg)):
    d, a = doc[name], arg[name]
    for key, dflt in (("type", "str"), ("elements", None), ("default", None),
                      ("choices", None), ("required", False)):
        if d.get(key, dflt) != a.get(key, dflt):
            bad.append("%s.%s: doc %r, spec %r" % (name, key, d.get(key, dflt),
                                                  a.get(key, dflt)))
    if a.get("no_log", False) != ("hmac" in name or "secret" in name):
        bad.append("%s: no_log %r" % (name, a.get("no_log", False)))
if bad:
    sys.exit("DOCUMENTATION and ARGUMENT_SPEC differ: " + "; ".join(map(str, bad)))
EOF
}

@test "DOCUMENTATION and the argument spec agree, and the check finds a difference" {
	local m=$COLLECTION/plugins/modules/certificate.py
	doc_vs_spec "$m"
	# a default changed in the spec only is caught
	sed "s/default='dns-01',/default='http-01',/" "$m" >"$BATS_TEST_TMPDIR/drift.py"
	run ! cmp -s "$m" "$BATS_TEST_TMPDIR/drift.py"
	run doc_vs_spec "$BATS_TEST_TMPDIR/drift.py"
	[ "$status" -ne 0 ]
	[[ $output == *"challenge.default: doc 'dns-01', spec 'http-01'"* ]]
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

@test "two-step playbook: nsupdate into BIND, issued; the second run changes nothing" {
	local a=two.$ZONE r
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\", \"*.$a\", \"www.$a\"]"
	[ "$status" -eq 0 ]
	# step 1, add the records, step 2, remove the records
	assert_eq "changed" "$(recap_count changed)" 4
	assert_eq "failed" "$(recap_count failed)" 0
	assert_eq "rescued" "$(recap_count rescued)" 0
	# step 1's structured challenges: a name and its wildcard share one
	# TXT record with two values
	r=$(task_result "Create the order and get the challenges (step 1)")
	jq -e '.pending and (.id | test("^[A-Za-z0-9_-]{1,64}$"))' <<<"$r"
	jq -e --arg a "$a" '.challenge_data_dns | length == 2
		and (.["_acme-challenge." + $a] | length == 2)
		and (.["_acme-challenge.www." + $a] | length == 1)' <<<"$r"
	jq -e --arg a "$a" '.challenge_data[$a]["dns-01"].record == "_acme-challenge." + $a' <<<"$r"
	jq -e '[.challenges[].type] == ["dns-01", "dns-01", "dns-01"]' <<<"$r"
	# what the module hands on is extauth's lines, as the schema says
	jq -c '.challenges[] | {cmd: "perform_challenge"} + .' <<<"$r" | assert_schema_lines -
	r=$(task_result "Let the CA validate and save the certificate (step 2)")
	jq -e --arg f "$CFG/live/$a/fullchain.pem" '.fullchain_path == $f and
		.cert_days > 0 and ([.cleanup[].status] | unique) == ["valid"]' <<<"$r"
	jq -c '.cleanup[] | {cmd: "cleanup"} + .' <<<"$r" | assert_schema_lines -
	assert_lineage "$CFG/live/$a" "*.$a,$a,www.$a"
	assert_no_txt "$a" "www.$a"
	[ -z "$(ls -A "$WORK/pending" 2>/dev/null)" ]
	assert_no_secret

	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\", \"*.$a\", \"www.$a\"]"
	[ "$status" -eq 0 ]
	assert_eq "changed" "$(recap_count changed)" 0
	assert_eq "failed" "$(recap_count failed)" 0
	[ ! -e "$CFG/archive/$a/cert2.pem" ]
	[[ $output == *"$CFG/live/$a/fullchain.pem expires "* ]]
}

@test "two-step playbook: records that cannot be published cancel the pending order" {
	local a=norecord.$ZONE
	# a TSIG key BIND does not know: nsupdate is refused
	tsig-keygen -a hmac-sha256 extauth-key >"$BATS_TEST_TMPDIR/wrong.key"
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\"]" \
		-e "{\"nsupdate_key\": \"$BATS_TEST_TMPDIR/wrong.key\"}"
	[ "$status" -ne 0 ]
	assert_eq "rescued" "$(recap_count rescued)" 1
	# the rescue's own fail, and the removal in always: (same wrong key)
	assert_eq "failed" "$(recap_count failed)" 2
	[[ $output == *'"msg": "Add the TXT records: '*'NOTAUTH(BADSIG)'* ]]
	# the rescue cancelled the order: nothing pending, no certificate
	jq -e '.changed' <<<"$(task_result "Give the pending order up")"
	[ -z "$(ls -A "$WORK/pending" 2>/dev/null)" ]
	[ ! -e "$CFG/live/$a" ]
	assert_no_secret
}

@test "step 2 with a pending order that is gone fails with extauth's reason" {
	local a=gone.$ZONE
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\"]"
	[ "$status" -eq 0 ]
	# replay step 2 with step 1's result: that order was finished
	module "{\"data\": $(task_result "Create the order and get the challenges (step 1)")}"
	[ "$status" -ne 0 ]
	[[ $output == *"extauth resume"*"(exit 10: the pending order cannot be resumed"* ]]
}

@test "two-step playbook with dns-account-01: the labelled record, published and removed" {
	local a=acct.$ZONE r
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\"]" -e challenge=dns-account-01
	[ "$status" -eq 0 ]
	assert_eq "changed" "$(recap_count changed)" 4
	r=$(task_result "Create the order and get the challenges (step 1)")
	# _LABEL._acme-challenge.NAME: LABEL is base32 of the account URL's hash
	jq -e --arg a "$a" '.challenge_data[$a]["dns-account-01"]
		| (.resource | test("^_[a-z2-7]{16}\\._acme-challenge$"))
		and .record == .resource + "." + $a' <<<"$r"
	assert_lineage "$CFG/live/$a" "$a"
	assert_eq "TXT left" "$(bind_txt "$(jq -r --arg a "$a" \
		'.challenge_data[$a]["dns-account-01"].record' <<<"$r")")" ""
}

@test "two-step playbook with dns-persist-01: the record stays in BIND for later orders" {
	local a=persist.$ZONE r value
	play "$EXAMPLES/dns01-nsupdate.yml" "[\"$a\"]" -e challenge=dns-persist-01
	[ "$status" -eq 0 ]
	# step 1, add, step 2; nothing to remove
	assert_eq "changed" "$(recap_count changed)" 3
	r=$(task_result "Create the order and get the challenges (step 1)")
	jq -e '.challenge_data_dns_cleanup == {}' <<<"$r"
	value=$(jq -r --arg a "$a" '.challenge_data_dns["_validation-persist." + $a][0]' <<<"$r")
	[[ $value == *"; accounturi=https://127.0.0.1:"* ]]
	assert_lineage "$CFG/live/$a" "$a"
	assert_eq "persistent TXT" "$(bind_txt "_validation-persist.$a")" "$value"
}

@test "module alone: step 1 twice supersedes; check mode of step 2 and state=cancelled, then a real cancel" {
	local step1 id first
	module "{\"domains\": [\"cancel.$ZONE\"], \"agree_tos\": true,
		\"eab_kid\": \"$EAB_KID\", \"eab_hmac_key\": \"$EAB_KEY\"}"
	[ "$status" -eq 0 ]
	assert_no_secret
	first=$(result)
	jq -e '.superseded == []' <<<"$first"
	# step 1 again (a play run twice): the first order is given up
	module "{\"domains\": [\"cancel.$ZONE\"]}"
	[ "$status" -eq 0 ]
	step1=$(result)
	id=$(jq -r .id <<<"$step1")
	[ -f "$WORK/pending/$id.json" ]
	[ ! -e "$WORK/pending/$(jq -r .id <<<"$first").json" ]
	assert_eq "superseded token" "$(jq -r '.superseded[0].token' <<<"$step1")" \
		"$(jq -r '.challenges[0].token' <<<"$first")"
	# check mode: step 2 would finish it, cancel would remove it; neither does
	module "{\"data\": $step1}" --check
	[ "$status" -eq 0 ]
	jq -e '.changed and .pending' <<<"$(result)"
	module "{\"data\": $step1, \"state\": \"cancelled\"}" --check
	[ "$status" -eq 0 ]
	jq -e '.changed' <<<"$(result)"
	[ -f "$WORK/pending/$id.json" ]
	# for real, then once more: nothing left to cancel
	module "{\"data\": $step1, \"state\": \"cancelled\"}"
	[ "$status" -eq 0 ]
	jq -e '.changed' <<<"$(result)"
	[ ! -e "$WORK/pending/$id.json" ]
	module "{\"data\": $step1, \"state\": \"cancelled\"}"
	[ "$status" -eq 0 ]
	jq -e '.changed == false' <<<"$(result)"
	# and step 2 in check mode now says the order is gone
	module "{\"data\": $step1}" --check
	[ "$status" -ne 0 ]
	[[ $output == *"pending order $id does not exist"* ]]
}
