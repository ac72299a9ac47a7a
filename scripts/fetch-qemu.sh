#!/usr/bin/env bash
# Fetch a second QEMU, Debian's qemu-system-x86 from bookworm-backports (10.0, what Debian 13
# and current Ubuntu releases ship), into OUTDIR (default build/qemu-10.0) beside the system's
# QEMU 7.2, which stays as it is. The .debs are fetched by name through a private apt
# configuration (scripts/apt-private.sh) and unpacked with dpkg -x: nothing is installed. The
# binary runs on Debian 12's libraries.
#
#   scripts/fetch-qemu.sh build/qemu-10.0
#   build/qemu-10.0/qemu-system-x86_64 ...     a wrapper that adds the firmware search path
#
# The unpacked tree has QEMU's own data files (option ROMs, multiboot.bin, pvh.bin) but no
# SeaBIOS or OVMF, which are separate packages: the wrapper passes -L for the unpacked data
# first and /usr/share/qemu (the system's SeaBIOS, and the ovmf package's files) second, and
# points QEMU_MODULE_DIR at the unpacked modules so the system's 7.2 modules are not loaded.
set -euo pipefail

out=${1:-build/qemu-10.0}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp=$out/.fetched
[ -f "$stamp" ] && [ -x "$out/qemu-system-x86_64" ] && exit 0

die() {
	echo "fetch-qemu: $*" >&2
	exit 1
}
command -v apt-get >/dev/null || die "apt-get not found (a Debian or Ubuntu machine is needed)"

. "$(dirname "$0")/apt-private.sh"
apt_private "$out" deb -backports

debs=$out/debs
rm -rf "$debs" "$out/root"
mkdir -p "$debs"
(cd "$debs" && apt-get "${apt_opts[@]}" -q download qemu-system-x86 qemu-system-common \
	qemu-system-data) >"$out/download.log" 2>&1 ||
	{ cat "$out/download.log" >&2; die "apt-get download failed"; }
for d in "$debs"/*.deb; do
	dpkg -x "$d" "$out/root"
done
bin=$out/root/usr/bin/qemu-system-x86_64
[ -x "$bin" ] || die "no qemu-system-x86_64 in the unpacked packages"

cat >"$out/qemu-system-x86_64" <<WRAP
#!/bin/sh
# QEMU from Debian's $apt_suite, unpacked by scripts/fetch-qemu.sh.
QEMU_MODULE_DIR=$out/root/usr/lib/x86_64-linux-gnu/qemu exec $bin \\
	-L $out/root/usr/share/qemu -L /usr/share/qemu "\$@"
WRAP
chmod +x "$out/qemu-system-x86_64"
version=$("$out/qemu-system-x86_64" --version | head -1) || die "the unpacked QEMU does not run"
echo "fetch-qemu: $version in $out"
touch "$stamp"
