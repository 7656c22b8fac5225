#!/usr/bin/env bash
# make dist: static dxtracker binaries for linux/amd64 and linux/arm64 with
# version, commit and build date linked in, a .deb for each (nfpm, from
# deploy/nfpm.yaml), and SHA256SUMS, all in dist/ (git-ignored).
#
#   scripts/dist.sh                 # version from git describe
#   VERSION=1.4.0 scripts/dist.sh   # or given
#   ARCHES="amd64" scripts/dist.sh  # fewer architectures
#   DIST_DIR=/tmp/out scripts/dist.sh   # elsewhere than dist/
#
# Needs only Go: nfpm is run with `go run` at a pinned version (the module
# cache keeps it after the first time). Check the result: scripts/check-deb.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
NFPM=${NFPM:-"$GO run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0"}
ARCHES=${ARCHES:-"amd64 arm64"}
DIST=${DIST_DIR:-dist}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

# A Debian version must start with a digit; '~' sorts before, '+' after:
#   v1.2.3                    -> 1.2.3
#   v1.2.3-rc1                -> 1.2.3~rc1   (a pre-release comes before 1.2.3)
#   v1.2.3-4-gabc1234-dirty   -> 1.2.3+4.gabc1234.dirty (4 commits after the tag)
#   abc1234-dirty (no tag)    -> 0.0.0~git.abc1234.dirty
deb_version() {
	local v=${1#v} base suffix=""
	if [[ $v =~ ^(.+)-([0-9]+)-g([0-9a-f]+)(-dirty)?$ ]]; then
		base=${BASH_REMATCH[1]} suffix="+${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}${BASH_REMATCH[4]:+.dirty}"
	elif [[ $v =~ ^(.+)-dirty$ ]]; then
		base=${BASH_REMATCH[1]} suffix="+dirty"
	else
		base=$v
	fi
	# A version (1.2.3) starts with digits and a dot; a bare commit hash
	# (git describe without tags) may start with a digit too.
	if [[ $base =~ ^[0-9]+\. ]]; then
		echo "${base//-/\~}$suffix"
	else
		echo "0.0.0~git.$base${suffix/+/.}"
	fi
}
DEB_VERSION=$(deb_version "$VERSION")

mkdir -p "$DIST"
rm -f "$DIST"/dxtracker-linux-* "$DIST"/dxtracker_*.deb "$DIST/SHA256SUMS"
stage=$DIST/.pkg
rm -rf "$stage" && mkdir -p "$stage"
# nfpm expands no variables in a file's src: the config names dist/.pkg/dxtracker,
# rewritten here to where this run stages each architecture's binary.
sed "s#src: dist/.pkg/dxtracker#src: $stage/dxtracker#" deploy/nfpm.yaml >"$stage/nfpm.yaml"
ldflags="-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"
echo "dxtracker $VERSION (commit $COMMIT, built $DATE); package version $DEB_VERSION"
for arch in $ARCHES; do
	# CGO off: a static binary that runs on any glibc or none; -trimpath: no
	# build paths inside, reproducible for the same inputs.
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -ldflags "$ldflags" \
		-o "$DIST/dxtracker-linux-$arch" ./cmd/dxtracker
	ln -f "$DIST/dxtracker-linux-$arch" "$stage/dxtracker"
	# DXT_ARCH, not GOARCH: GOARCH would also cross-compile nfpm itself.
	DXT_VERSION=$DEB_VERSION DXT_ARCH=$arch $NFPM pkg --config "$stage/nfpm.yaml" \
		--packager deb --target "$DIST/dxtracker_${DEB_VERSION}_$arch.deb"
done
rm -rf "$stage"
(cd "$DIST" && sha256sum dxtracker-linux-* dxtracker_*.deb >SHA256SUMS)
ls -l "$DIST"/dxtracker-linux-* "$DIST"/dxtracker_*.deb "$DIST/SHA256SUMS"
