#!/usr/bin/env bash
# Fetch Debian's `lwip` source package into OUTDIR (default build/lwip) and unpack it as
# OUTDIR/src (src/core, src/netif, src/include, src/apps/...). lwIP is never committed to the
# repository: the build runs this script once (OUTDIR/.fetched is the stamp).
#
# apt needs a deb-src line, and the machine's /etc/apt is not ours to edit, so the script keeps
# a private apt configuration under OUTDIR/apt (scripts/apt-private.sh) that points at the same
# mirror and release as the machine's own "deb" sources. apt-get runs with those options only;
# nothing outside OUTDIR changes. Needs apt-get and dpkg-source (dpkg-dev).
#
#   scripts/fetch-lwip.sh build/lwip
set -euo pipefail

out=${1:-build/lwip}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp=$out/.fetched
if [ -f "$stamp" ] && [ -d "$out/src/src/core" ]; then
	exit 0
fi

die() {
	echo "fetch-lwip: $*" >&2
	exit 1
}
command -v apt-get >/dev/null || die "apt-get not found (a Debian or Ubuntu machine is needed)"
command -v dpkg-source >/dev/null || die "dpkg-source not found: install dpkg-dev (scripts/setup.sh)"

. "$(dirname "$0")/apt-private.sh"
apt_private "$out" deb-src ""


work=$out/pkg
rm -rf "$work" "$out/src"
mkdir -p "$work"
(cd "$work" && apt-get "${apt_opts[@]}" -q source lwip) >"$out/source.log" 2>&1 ||
	{ cat "$out/source.log" >&2; die "apt-get source lwip failed"; }

srcdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -n 1)
[ -n "$srcdir" ] || die "no lwip-* folder after apt-get source (see $out/source.log)"
for d in src/core src/core/ipv4 src/netif src/include/lwip src/apps/lwiperf src/apps/http; do
	[ -d "$srcdir/$d" ] || die "$srcdir has no $d"
done
version=$(sed -n 's/^#define LWIP_VERSION_MAJOR[ \t]*\([0-9]*\).*/\1/p; s/^#define LWIP_VERSION_MINOR[ \t]*\([0-9]*\).*/\1/p; s/^#define LWIP_VERSION_REVISION[ \t]*\([0-9]*\).*/\1/p' \
	"$srcdir/src/include/lwip/init.h" | paste -sd.)
[ "$version" = 2.1.3 ] || echo "fetch-lwip: warning: lwIP $version, the port was written for 2.1.3" >&2
mv "$srcdir" "$out/src"
echo "fetch-lwip: lwIP $version in $out/src ($(basename "$srcdir"))"
touch "$stamp"
