#!/usr/bin/env bash
# Fetch Debian's `lwip` source package into OUTDIR (default build/lwip) and unpack it as
# OUTDIR/src (src/core, src/netif, src/include, src/apps/...). lwIP is never committed to the
# repository: the build runs this script once (OUTDIR/.fetched is the stamp).
#
# apt needs a deb-src line, and the machine's /etc/apt is not ours to edit, so the script keeps
# a private apt configuration under OUTDIR/apt (sources.list, lists, cache) that points at the
# same mirror and release as the machine's own "deb" sources (the deb822 file on Debian 12, or
# the one-line sources.list on older systems). apt-get runs with those options only; nothing
# outside OUTDIR changes. Needs apt-get and dpkg-source (dpkg-dev).
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

# --- Which mirror and release: the first Debian "deb" source of the machine (not -security,
# not -updates, not third-party repositories). ---
mirror="" suite="" keyring=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	# deb822: stanzas separated by blank lines; take the first whose Types has "deb" and whose
	# URIs is not a security mirror.
	read -r mirror suite keyring < <(awk '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && uris != "" && uris !~ /security/ && !done) {
				split(uris, u, " "); split(suites, s, " ")
				print u[1], s[1], (signed == "" ? "-" : signed); done = 1
			}
			types = uris = suites = signed = ""
		}
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
		/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
		/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
		/^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $0 }
		END { flush() }' /etc/apt/sources.list.d/debian.sources) || true
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	# One-line format: deb [options] URI SUITE COMPONENTS...
	read -r mirror suite < <(awk '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($i !~ /security/) { print $i, $(i + 1); exit }
		}' /etc/apt/sources.list) || true
	keyring=-
fi
if [ -z "$suite" ] && [ -r /etc/os-release ]; then
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
fi
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
[ -n "$suite" ] || die "cannot tell the machine's Debian release"
# A Signed-By that is a file path can be reused; inline keys (or none) fall back to apt's
# trusted keyrings.
opts=""
if [ -n "$keyring" ] && [ "$keyring" != - ] && [ -f "$keyring" ]; then
	opts="[signed-by=$keyring] "
fi

apt_dir=$out/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb-src ${opts}${mirror} ${suite} main" >"$apt_dir/sources.list"
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
)
# apt downloads as the unprivileged _apt user, which cannot write into a root-owned build
# folder; download as ourselves instead (the same thing apt does, with a warning, anyway).
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o "APT::Sandbox::User=root")

echo "fetch-lwip: deb-src $mirror $suite main (private apt configuration in $apt_dir)"
apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 ||
	{ cat "$apt_dir/update.log" >&2; die "apt-get update failed"; }

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
