#!/usr/bin/env bats
# deb.bats: the Debian package as an admin gets it (issue 7 §3).  Builds
# the .deb from a copy of the source (scripts/deb.sh), runs lintian on it,
# installs it with dpkg into a fresh Debian chroot made by debootstrap
# (minbase plus man-db, systemd and the package's Depends, from the mirror
# the machine's own apt sources name) and checks the installed files and
# commands inside it.
#
# Every command in the chroot runs in its own mount namespace (unshare),
# where /proc and /dev are mounted: the mounts vanish with the namespace,
# so a failed or killed test leaves nothing mounted.  The chroot lives in
# BATS_FILE_TMPDIR and is deleted by teardown_file; nothing is cached
# beyond one run (setup_file builds the .deb and the chroot once for all
# tests of the file).  The time of each phase is printed as a TAP comment.
#   EXTAUTH_DEB_MIRROR  overrides the mirror (default: from apt's sources)
#
# SC2154: status, output and stderr are set by bats' run.
# SC2016: the single-quoted $(...) and ${...} are apt's, dpkg's and the
# inner shell's, not ours.
# shellcheck disable=SC2016,SC2154

bats_require_minimum_version 1.5.0

# in_chroot CMD...: CMD inside the chroot, with /proc and /dev.
in_chroot() {
	unshare --mount --fork -- sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
		exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
	' sh "$ROOT" "$@"
}

# The mirror apt uses here for this release's main component.
mirror() {
	local codename=$1
	if [[ -n ${EXTAUTH_DEB_MIRROR:-} ]]; then
		echo "$EXTAUTH_DEB_MIRROR"
		return
	fi
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
		'Created-By: Packages' |
		awk -v c="$codename" '$2 == c && $3 == "main" { print $1; exit }'
}

phase() { # phase NAME START: a TAP comment with the seconds since START
	printf '# %s: %d s\n' "$1" $((SECONDS - $2)) >&3
}

setup_file() {
	local t codename deps url
	export ROOT=$BATS_FILE_TMPDIR/root
	if ((EUID != 0)); then
		echo "deb.bats needs root (debootstrap, chroot)" >&2
		return 1
	fi
	t=$SECONDS
	DEB=$(bash "$BATS_TEST_DIRNAME/../../scripts/deb.sh" "$BATS_FILE_TMPDIR/deb" | tail -n 1)
	export DEB
	phase "dpkg-buildpackage" "$t"

	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	url=$(mirror "$codename")
	if [[ -z $url ]]; then
		echo "no apt source for $codename main: set EXTAUTH_DEB_MIRROR" >&2
		return 1
	fi
	# The package's Depends, without versions; the first of alternatives.
	deps=$(dpkg-deb -f "$DEB" Depends |
		sed -E 's/\([^)]*\)//g; s/\|[^,]*//g; s/[[:space:]]//g')
	t=$SECONDS
	debootstrap --variant=minbase --include="man-db,systemd,$deps" \
		"$codename" "$ROOT" "$url" >"$BATS_FILE_TMPDIR/debootstrap.log" 2>&1 || {
		tail -n 20 "$BATS_FILE_TMPDIR/debootstrap.log" >&2
		return 1
	}
	phase "debootstrap ($codename, $url)" "$t"

	t=$SECONDS
	cp -- "$DEB" "$ROOT/tmp/extauth.deb"
	in_chroot dpkg -i /tmp/extauth.deb >"$BATS_FILE_TMPDIR/dpkg.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/dpkg.log" >&2
		return 1
	}
	phase "dpkg -i" "$t"
}

teardown_file() {
	# Nothing should be mounted (each in_chroot had its own namespace);
	# unmount anyway before deleting, so rm never walks into /dev or /proc.
	if [[ -n ${ROOT:-} && -d $ROOT ]]; then
		findmnt -rn -o TARGET | grep -F "$ROOT/" | sort -r |
			while read -r m; do umount -l "$m"; done || true
		rm -rf --one-file-system -- "$ROOT"
	fi
}

@test "lintian: no errors" {
	run lintian --no-tag-display-limit "$DEB"
	printf '%s\n' "$output"
	printf '# lintian: %s\n' "$(grep -c '^W:' <<<"$output") warnings" >&3
	[ "$status" -eq 0 ]
	run ! grep '^E:' <<<"$output"
}

@test "extauth --version is the package's version" {
	run in_chroot dpkg-query -W -f '${Status} ${Version}' extauth
	echo "$output"
	[ "$output" = "install ok installed $(dpkg-deb -f "$DEB" Version)" ]
	run in_chroot extauth --version
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$(dpkg-deb -f "$DEB" Version)"* ]]
}

@test "the trust store extauth verifies the CA with comes with the package" {
	# http.c's default CA path, /etc/ssl/certs, hashed by ca-certificates
	[ -e "$ROOT/etc/ssl/certs/ISRG_Root_X1.pem" ]
	ls "$ROOT"/etc/ssl/certs/*.0 >/dev/null
}

@test "man -w finds extauth(1) and extauth-protocol(7)" {
	run in_chroot man -w extauth
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == /usr/share/man/man1/extauth.1* ]]
	run in_chroot man -w extauth-protocol
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == /usr/share/man/man7/extauth-protocol.7* ]]
	# extauth(1) names the installed units and cron file under FILES
	run in_chroot sh -c 'MANWIDTH=200 man extauth 2>/dev/null'
	grep -q 'extauth.service, extauth.timer' <<<"$output"
	grep -q '/etc/cron.d/extauth' <<<"$output"
}

@test "bash, zsh and fish completions in their vendor directories" {
	local f
	for f in /usr/share/bash-completion/completions/extauth \
		/usr/share/zsh/vendor-completions/_extauth \
		/usr/share/fish/vendor_completions.d/extauth.fish; do
		echo "$f"
		[ -s "$ROOT$f" ]
		grep -q -- preferred-challenges "$ROOT$f"
	done
}

@test "systemd-analyze verify: the installed service and timer" {
	# Documentation=man:extauth(1) is verified too
	run in_chroot systemd-analyze verify \
		/lib/systemd/system/extauth.service /lib/systemd/system/extauth.timer
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the unit runs the installed binary, quietly
	grep -qx 'ExecStart=/usr/bin/extauth -q renew --no-random-sleep-on-renew' \
		"$ROOT/lib/systemd/system/extauth.service"
	grep -qx 'OnCalendar=\*-\*-\* 00,12:00:00' "$ROOT/lib/systemd/system/extauth.timer"
}

@test "systemd-analyze security: the service's exposure stays at or below 3.0" {
	run in_chroot systemd-analyze security --offline=true --threshold=30 \
		/lib/systemd/system/extauth.service
	printf '# security: %s\n' "$(grep -o 'exposure level.*' <<<"$output")" >&3
	[ "$status" -eq 0 ]
}

@test "the timer is enabled on install" {
	[ -L "$ROOT/etc/systemd/system/timers.target.wants/extauth.timer" ]
}

@test "extauth renew with nothing to do exits 0, and -q prints nothing" {
	run --separate-stderr in_chroot extauth renew
	echo "status $status stdout $output stderr $stderr"
	[ "$status" -eq 0 ]
	[[ $stderr == *"0 lineages checked"* ]]
	[ -d "$ROOT/etc/extauth/renewal" ]
	run --separate-stderr in_chroot extauth -q renew
	echo "status $status stdout $output stderr $stderr"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "the service can write every directory extauth made as root" {
	local unit=$ROOT/lib/systemd/system/extauth.service writable d
	# ReadWritePaths (required ones, without "-") and the *Directory=
	# settings, which systemd creates writable
	writable=$(sed -nE 's/^ReadWritePaths=//p' "$unit" | tr ' ' '\n' | grep -v '^-'
		sed -nE 's|^StateDirectory=|/var/lib/|p; s|^LogsDirectory=|/var/log/|p' "$unit")
	echo "writable: $writable"
	# the previous test ran renew as root: its default dirs exist now
	mapfile -t made < <(cd "$ROOT" && find etc var -maxdepth 2 -type d -name '*extauth*')
	[ "${#made[@]}" -eq 3 ]
	for d in "${made[@]}"; do
		echo "made: /$d"
		grep -qx "/$d" <<<"$writable"
	done
}

@test "cron.d: a conffile that does nothing when systemd runs" {
	local cmd
	grep -qx /etc/cron.d/extauth < <(in_chroot dpkg-query -W -f '${Conffiles}' extauth | awk '{print $1}')
	# the command of the one job line (fields 7 on: after the schedule and user)
	cmd=$(grep -E '^[0-9*]' "$ROOT/etc/cron.d/extauth" | cut -d' ' -f7-)
	[[ $cmd == *"extauth -q renew --no-random-sleep-on-renew" ]]
	rm -rf "$ROOT/var/log/extauth"
	mkdir -p "$ROOT/run/systemd/system"
	run in_chroot timeout 10 sh -c "$cmd"
	rmdir "$ROOT/run/systemd/system"
	echo "status $status $output"
	# the test fails at once (status 1), before any sleep or renew
	[ "$status" -eq 1 ]
	[ ! -e "$ROOT/var/log/extauth" ]
}

@test "purge removes work and logs dirs and keeps /etc/extauth" {
	mkdir -p "$ROOT/etc/extauth/live" "$ROOT/var/lib/extauth" "$ROOT/var/log/extauth"
	run in_chroot dpkg --purge extauth
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/usr/bin/extauth" ]
	[ ! -e "$ROOT/var/lib/extauth" ]
	[ ! -e "$ROOT/var/log/extauth" ]
	[ -d "$ROOT/etc/extauth/live" ]
}
