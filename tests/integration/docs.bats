#!/usr/bin/env bats
# docs.bats: what the option table generates at build time, checked with the
# real tools a user has: the bash completion through Debian's bash-completion
# loader, the zsh and fish files through zsh and fish, the man pages through
# man(1).  No CA is involved.  The files are the build tree's (next to
# $EXTAUTH): completions/{extauth.bash,_extauth,extauth.fish} and
# man/{extauth.1,extauth-protocol.7}.

load ../lib/common

setup() {
	BUILD=$(dirname "$EXTAUTH")
	[[ -f $BUILD/completions/extauth.bash ]] || {
		echo "no completions next to $EXTAUTH: build first" >&2
		return 1
	}
}

# complete LINE: what bash-completion offers for the last word of LINE (a
# trailing space starts a new word), one per line.  The file is found by
# bash-completion's own loader under the name it is installed as.
complete_bash() {
	local dir=$BATS_TEST_TMPDIR/bc
	mkdir -p "$dir/completions"
	cp "$BUILD/completions/extauth.bash" "$dir/completions/extauth"
	BASH_COMPLETION_USER_DIR=$dir bash -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion extauth || exit 3
		complete -p extauth | grep -q -- "-F _extauth" || exit 4
		COMP_LINE=$1
		COMP_POINT=${#COMP_LINE}
		read -ra COMP_WORDS <<<"$COMP_LINE"
		[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_extauth extauth "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$1"
}

# The long options `extauth help VERB` lists (first column), sorted.
help_options() {
	"$EXTAUTH" help "$@" | sed -n 's/^  \(-., \|    \)\(--[^ ]*\).*/\2/p' | sort
}

@test "bash: --pre offers --preferred-challenges, --preferred-chain, --preferred-profile and --pre-hook, and only them" {
	run complete_bash "extauth --pre"
	show
	[ "$status" -eq 0 ]
	assert_eq "offered" "$(sort <<<"$output" | paste -sd' ')" "--pre-hook --preferred-chain --preferred-challenges --preferred-profile"
}

@test "bash: after renew only renew's options; values and verbs complete" {
	run complete_bash "extauth renew --"
	show
	[ "$status" -eq 0 ]
	grep -qx -- --no-random-sleep-on-renew <<<"$output"
	grep -qx -- --force-renewal <<<"$output"
	grep -qx -- --dry-run <<<"$output"
	for o in --csr --domains --expand --key-type --json --reason --preferred-challenges; do
		! grep -qx -- "$o" <<<"$output" || false
	done
	# exactly what `extauth help renew` lists (aliases are completed too)
	local listed
	listed=$(help_options renew)
	assert_eq "renew options" "$(grep -xFf <(printf '%s\n' $listed) <<<"$output" | sort | paste -sd' ')" \
		"$(paste -sd' ' <<<"$listed")"
	# certonly has --csr, which renew has not
	run complete_bash "extauth certonly --cs"
	assert_eq "certonly --cs" "$output" "--csr"
	run complete_bash "extauth --key-type "
	assert_eq "key types" "$(paste -sd' ' <<<"$output")" "ecdsa rsa"
	run complete_bash "extauth ren"
	assert_eq "verb" "$output" "renew"
	run complete_bash "extauth certbot-hook a"
	assert_eq "hook word" "$output" "auth"
}

@test "zsh and fish: the files parse, and fish completes from them" {
	zsh -n "$BUILD/completions/_extauth"
	head -1 "$BUILD/completions/_extauth" | grep -qx '#compdef extauth'
	grep -q -- "'--preferred-challenges=\[" "$BUILD/completions/_extauth"
	fish -n "$BUILD/completions/extauth.fish"
	run fish -c "source $BUILD/completions/extauth.fish; complete -C'extauth --pre'"
	show
	[ "$status" -eq 0 ]
	assert_eq "fish --pre" "$(cut -f1 <<<"$output" | sort | paste -sd' ')" "--pre-hook --preferred-chain --preferred-challenges --preferred-profile"
	run fish -c "source $BUILD/completions/extauth.fish; complete -C'extauth renew --cs'"
	assert_eq "fish renew --cs" "$output" ""
	run fish -c "source $BUILD/completions/extauth.fish; complete -C'extauth certonly --cs'"
	[[ $output == --csr* ]]
}

@test "help VERB and VERB --help: the verb's purpose and only its options" {
	run "$EXTAUTH" help renew
	show
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: extauth renew"* ]]
	grep -q "renew every lineage that is due" <<<"$output"
	grep -q -- --no-random-sleep-on-renew <<<"$output"
	! grep -q -- "--csr " <<<"$output" || false
	! grep -q -- "--domains" <<<"$output" || false
	assert_eq "same text" "$("$EXTAUTH" renew --help)" "$output"
	run "$EXTAUTH" help revoke
	grep -q -- "--reason" <<<"$output"
	! grep -qE -- "^ +--dry-run " <<<"$output" || false
	# without a verb: every verb with its purpose, and the exit codes
	run "$EXTAUTH" --help
	for v in run certonly renew certificates revoke delete register unregister show_account certbot-hook; do
		grep -q "^  $v " <<<"$output"
	done
	grep -q "exit codes: 0 ok, 1 internal, 2 usage" <<<"$output"
}

@test "man pages: both built, man renders them, every option and verb is in extauth(1)" {
	local page=$BUILD/man/extauth.1 text o
	[ -s "$page" ] && [ -s "$BUILD/man/extauth-protocol.7" ]
	run env LC_ALL=C MANWIDTH=200 man -l "$page"
	[ "$status" -eq 0 ]
	# groff breaks long words: join each break, once dropping the hyphen
	# it added, once keeping a real one
	text=$(sed -z 's/-\n *//g' <<<"$output")$(sed -z 's/\n *//g' <<<"$output")
	# every listed option of the table (what --help lists, aliases included)
	for o in $("$EXTAUTH" --help | grep -o -- '--[a-z0-9:][a-z0-9:-]*' | sort -u); do
		grep -qF -- "$o" <<<"$text" || { echo "missing in extauth.1: $o"; return 1; }
	done
	for o in /etc/extauth/cli.ini "EXIT STATUS" EXAMPLES certbot-hook show_account; do
		grep -qF -- "$o" <<<"$text" || { echo "missing in extauth.1: $o"; return 1; }
	done
	# every environment variable the source reads (getenv, env_get)
	for o in $(grep -ohE '(getenv|env_get)\("[A-Z_]+"' "$REPO_ROOT"/src/*.c |
		sed 's/.*("//; s/"$//' | sort -u); do
		grep -qF -- "$o" <<<"$text" || { echo "environment variable missing in extauth.1: $o"; return 1; }
	done
	run env LC_ALL=C MANWIDTH=200 man -l "$BUILD/man/extauth-protocol.7"
	[ "$status" -eq 0 ]
	for o in perform_challenge txt_domain key_auth cleanup validated deploy_cert cert_timestamp \
		save restart report cbot_json NotImplemented deploy_challenge clean_challenge \
		sync_cert exit_hook '{"result": "fail", "error": "why"}' --handler-timeout; do
		grep -qF -- "$o" <<<"$output" || { echo "missing in extauth-protocol.7: $o"; return 1; }
	done
	# no troff warnings
	run bash -c "LC_ALL=C MANWIDTH=80 man --warnings -l '$page' 2>&1 >/dev/null"
	assert_eq "man warnings" "$output" ""
}

@test "README and extauth(1) document issue 8's flags, verbs and test knob" {
	local page=$BUILD/man/extauth.1 text o
	run env LC_ALL=C MANWIDTH=200 man -l "$page"
	[ "$status" -eq 0 ]
	text=$(sed -z 's/-\n *//g' <<<"$output")$(sed -z 's/\n *//g' <<<"$output")
	for o in --preferred-profile --required-profile --preferred-chain --reuse-key \
		--no-reuse-key --new-key update_account --key-rollover "certificates --check" \
		--warn-days EXTAUTH_NOW; do
		grep -qF -- "$o" "$REPO_ROOT/README.md" || { echo "missing in README.md: $o"; return 1; }
		grep -qF -- "$o" <<<"$text" || { echo "missing in extauth.1: $o"; return 1; }
	done
}

@test "meson install puts the man pages in man1 and man7" {
	local dest=$BATS_TEST_TMPDIR/dest
	run meson install -C "$BUILD" --destdir "$dest" --no-rebuild --only-changed
	show
	[ "$status" -eq 0 ]
	find "$dest" -path '*/man1/extauth.1' | grep -q .
	find "$dest" -path '*/man7/extauth-protocol.7' | grep -q .
}
