#!/usr/bin/env bats
# meson.bats: the build's test wiring (issue 12 item 10), checked on a copy
# of the source tree so the checkout's build directories stay untouched:
# -Dtests=false needs no cmocka, a listed unit test whose file is missing
# stops the configure, and `meson test` knows the unit tests and the bats
# suite (TAP, EXTAUTH set).  Configure only: nothing is compiled.

bats_require_minimum_version 1.5.0

setup_file() {
	bash "$BATS_TEST_DIRNAME/../../scripts/srccopy.sh" "$BATS_FILE_TMPDIR/src"
}

setup() {
	SRC=$BATS_FILE_TMPDIR/src
}

@test "-Dtests=false: no cmocka lookup, no test registered" {
	run meson setup "$BATS_TEST_TMPDIR/b" "$SRC" -Dtests=false
	echo "$output"
	[ "$status" -eq 0 ]
	run ! grep -i cmocka "$BATS_TEST_TMPDIR/b/meson-logs/meson-log.txt"
	run meson introspect --tests "$BATS_TEST_TMPDIR/b"
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 0 ]
}

@test "a listed unit test whose file is missing stops the configure" {
	cp -a "$SRC" "$BATS_TEST_TMPDIR/src"
	rm "$BATS_TEST_TMPDIR/src/tests/unit/test_b64.c"
	run meson setup "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/src"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"unit test b64 is listed in meson.build but tests/unit/test_b64.c is missing"* ]]
}

@test "meson test: unit suite and the bats suite as TAP with EXTAUTH" {
	run meson setup "$BATS_TEST_TMPDIR/b" "$SRC"
	[ "$status" -eq 0 ]
	run meson introspect --tests "$BATS_TEST_TMPDIR/b"
	[ "$status" -eq 0 ]
	tests=$output
	# every tests/unit file is registered, in suite unit
	for f in "$SRC"/tests/unit/test_*.c; do
		t=${f##*/test_} t=${t%.c}
		jq -e --arg t "$t" 'any(.[]; .name == $t and (.suite | index("extauth:unit")))' <<<"$tests"
	done
	jq -e '.[] | select(.name == "integration")
		| .protocol == "tap"
		and (.suite | index("extauth:integration"))
		and (.env.EXTAUTH | endswith("/extauth"))
		and (.cmd[0] | endswith("bats"))
		and .timeout >= 1800' <<<"$tests"
}

@test "meson install: where each file goes, and the units name the installed binary" {
	local b=$BATS_TEST_TMPDIR/b want
	run meson setup "$b" "$SRC" -Dtests=false --prefix=/opt/x
	[ "$status" -eq 0 ]
	# destinations only: nothing is built
	run meson introspect --installed "$b"
	[ "$status" -eq 0 ]
	for want in /opt/x/bin/extauth \
		/lib/systemd/system/extauth.service /lib/systemd/system/extauth.timer \
		/etc/cron.d/extauth /opt/x/share/doc/extauth/examples \
		/opt/x/share/extauth/protocol.schema.json \
		/opt/x/share/man/man1/extauth.1 /opt/x/share/man/man7/extauth-protocol.7 \
		/opt/x/share/bash-completion/completions/extauth \
		/opt/x/share/zsh/vendor-completions/_extauth \
		/opt/x/share/fish/vendor_completions.d/extauth.fish; do
		echo "$want"
		jq -e --arg w "$want" 'any(.[]; . == $w)' <<<"$output"
	done
	grep -qx 'ExecStart=/opt/x/bin/extauth -q renew --no-random-sleep-on-renew' \
		"$b/dist/extauth.service"
	grep -q ' root test -x /opt/x/bin/extauth .* && /opt/x/bin/extauth -q renew --no-random-sleep-on-renew$' \
		"$b/dist/extauth.cron"
	# -Dsystemdsystemunitdir moves the units
	run meson setup --reconfigure "$b" "$SRC" -Dsystemdsystemunitdir=/usr/lib/systemd/system
	[ "$status" -eq 0 ]
	run meson introspect --installed "$b"
	jq -e 'any(.[]; . == "/usr/lib/systemd/system/extauth.timer")' <<<"$output"
}
