#!/usr/bin/env bash
# Inspects what `make dist` made: checksums, the static binaries, and each
# .deb's control data, files, modes and maintainer scripts; runs
# `dxtracker version` from the amd64 binary (on an amd64 host). Exits 1 on
# the first thing wrong. Usage: scripts/check-deb.sh [DIST_DIR]
# Needs dpkg-deb and sha256sum (Debian); installs nothing, changes nothing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dist=${1:-$repo/dist}
fail() { echo "check-deb: $*" >&2; exit 1; }
cd "$dist"

[ -f SHA256SUMS ] || fail "$dist/SHA256SUMS missing: run make dist"
sha256sum --quiet -c SHA256SUMS || fail "SHA256SUMS does not match"

debs=(dxtracker_*.deb)
[ -e "${debs[0]}" ] || fail "no .deb in $dist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for deb in "${debs[@]}"; do
	arch=${deb##*_}; arch=${arch%.deb}
	version=${deb#dxtracker_}; version=${version%_*}
	info=$(dpkg-deb -I "$deb")
	field() { dpkg-deb -f "$deb" "$1"; }
	[ "$(field Package)" = dxtracker ] || fail "$deb: Package is $(field Package)"
	[ "$(field Architecture)" = "$arch" ] || fail "$deb: Architecture is $(field Architecture), want $arch"
	[ "$(field Version)" = "$version" ] || fail "$deb: Version $(field Version) differs from the file name"
	field Depends | grep -qw adduser || fail "$deb: does not depend on adduser (postinst uses it)"
	for member in conffiles postinst prerm postrm; do
		grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? +$member( |$)" <<<"$info" || fail "$deb: control member $member missing"
	done

	# Files with their modes and owners, as dpkg will install them.
	listing=$(dpkg-deb -c "$deb")
	want() { # mode owner path
		grep -qE "^$1 $2 +[0-9]+ [0-9-]+ [0-9:]+ \./${3#/}\$" <<<"$listing" ||
			fail "$deb: want $1 $2 $3, have: $(grep -F "./${3#/}" <<<"$listing" || echo nothing)"
	}
	want -rwxr-xr-x root/root /usr/bin/dxtracker
	want -rw-r--r-- root/root /lib/systemd/system/dxtracker.service
	want drwxr-x--- root/dxtracker /etc/dxtracker/
	want -rw-r----- root/dxtracker /etc/dxtracker/dxtracker.toml
	for doc in README.md mysql.md grants.sql grafana-dashboard.json dxtracker.example.toml; do
		want -rw-r--r-- root/root "/usr/share/doc/dxtracker/$doc"
	done
	# Nothing world-writable, nothing setuid.
	if grep -E '^[-d].......w.|^...[sS]|^......[sS]' <<<"$listing"; then fail "$deb: world-writable or set-id entries"; fi

	rm -rf "${tmp:?}/$arch" && mkdir -p "$tmp/$arch/control" "$tmp/$arch/root"
	dpkg-deb -e "$deb" "$tmp/$arch/control"
	dpkg-deb -x "$deb" "$tmp/$arch/root"
	c=$tmp/$arch/control
	[ "$(cat "$c/conffiles")" = /etc/dxtracker/dxtracker.toml ] || fail "$deb: conffiles is: $(cat "$c/conffiles")"
	for s in postinst prerm postrm; do
		[ -x "$c/$s" ] || fail "$deb: $s not executable"
		sh -n "$c/$s" || fail "$deb: $s is not valid sh"
	done
	grep -q 'adduser --system --group --no-create-home --home /nonexistent' "$c/postinst" || fail "$deb: postinst makes no system account"
	grep -q 'getent passwd dxtracker' "$c/postinst" || fail "$deb: postinst account creation is not guarded (idempotence)"
	grep -q 'chgrp dxtracker' "$c/postinst" || fail "$deb: postinst does not give the config its group"
	grep -q 'systemctl daemon-reload' "$c/postinst" || fail "$deb: postinst does not reload systemd"
	# Never started or enabled by the package: it needs configuring first.
	if grep -vE '^\s*#' "$c/postinst" | grep -nE 'systemctl +(start|enable|restart)|deb-systemd-invoke +start'; then fail "$deb: postinst starts the service"; fi
	grep -q 'systemctl stop dxtracker' "$c/prerm" || fail "$deb: prerm does not stop the service"
	grep -q 'deluser --system' "$c/postrm" || fail "$deb: postrm does not remove the account on purge"

	# The packaged binary is the one in dist/ and checksummed there.
	cmp -s "$tmp/$arch/root/usr/bin/dxtracker" "dxtracker-linux-$arch" || fail "$deb: /usr/bin/dxtracker differs from dxtracker-linux-$arch"
	cmp -s "$tmp/$arch/root/etc/dxtracker/dxtracker.toml" "$repo/deploy/dxtracker.example.toml" ||
		fail "$deb: the config is not deploy/dxtracker.example.toml"
	echo "check-deb: $deb ok ($(field Version), $(stat -c %s "$deb") bytes)"
done

for bin in dxtracker-linux-*; do
	# Static: no program interpreter (dynamic loader) in the ELF headers.
	if LC_ALL=C grep -aq '/ld-linux' "$bin"; then fail "$bin: dynamically linked"; fi
done
if [ "$(uname -m)" = x86_64 ]; then
	out=$(./dxtracker-linux-amd64 version)
	# dxtracker <version> (commit <hash>, built <RFC 3339 UTC>), nothing left at its default.
	[[ $out =~ ^dxtracker\ ([^ ]+)\ \(commit\ ([0-9a-f]{7,40}),\ built\ ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)\)$ ]] ||
		fail "dxtracker version says: $out"
	[ "${BASH_REMATCH[1]}" != dev ] || fail "version not linked in: $out"
	echo "check-deb: $out"
fi
echo "check-deb: all ok"
