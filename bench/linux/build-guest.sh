#!/usr/bin/env bash
# Build the Linux peer guest that `make bench` compares Vireo with (docs/LINUX_PEER.md).
#
#   bench/linux/build-guest.sh OUTDIR        (make: build/linux-guest)
#
# OUTDIR/vmlinuz         Debian's kernel (linux-image-amd64 -> linux-image-<ver>-amd64)
# OUTDIR/initramfs.gz    busybox-static, /init (bench/linux/init), vbench, the virtio modules
# OUTDIR/vbench          the static benchmark program (bench/linux/vbench.c)
# OUTDIR/kernel-version  e.g. 6.1.0-56-amd64
# OUTDIR/.built          stamp
#
# Packages are fetched with `apt-get download` (nothing is installed) into OUTDIR/debs and kept
# there, so a rebuild after a source change only recompiles vbench and repacks the initramfs.
# Needs: apt, dpkg (dpkg-deb), gcc with static glibc (libc6-dev), python3. No cpio/xz/kmod:
# bench/linux/mkinitramfs.py writes the cpio, reads module dependencies and decompresses .ko.xz.
set -euo pipefail

out=${1:?usage: $0 OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
stamp=$out/.built
inputs=("$here/build-guest.sh" "$here/mkinitramfs.py" "$here/init" "$here/vbench.c")

# Idempotent: nothing to do when the stamp is newer than every input.
if [ -f "$stamp" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.gz" ]; then
	fresh=1
	for f in "${inputs[@]}"; do [ "$f" -nt "$stamp" ] && fresh=0; done
	if [ $fresh = 1 ]; then
		echo "  linux-guest: up to date ($out)"
		exit 0
	fi
fi

# Virtio modules the guest needs (virtio_mmio for microvm, where ACPI describes the devices);
# their dependencies (virtio, virtio_ring, virtio_pci_*_dev,
# net_failover, failover) are found from the modules themselves.
ROOT_MODULES=virtio_pci,virtio_mmio,virtio_blk,virtio_net

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log=$out/apt.log

# apt-get download PKG into OUTDIR/debs unless a .deb of it is there already. If the package
# lists are missing (fresh container), update them once and retry.
fetch() {
	local pkg=$1 deb
	deb=$(ls "$out/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		echo "  linux-guest: apt-get download $pkg" >&2
		if ! (cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >"$log" 2>&1); then
			echo "  linux-guest: apt-get update (package lists missing?)" >&2
			$sudo apt-get update -q >>"$log" 2>&1 || true
			(cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >>"$log" 2>&1) || {
				cat "$log" >&2
				exit 1
			}
		fi
		deb=$(ls "$out/debs/${pkg}_"*.deb | head -n1)
	fi
	echo "$deb"
}

# linux-image-amd64 is a metapackage; the kernel is in the versioned package it depends on.
meta=$(fetch linux-image-amd64)
kpkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*-amd64\).*/\1/p' | head -n1)
[ -n "$kpkg" ] || { echo "linux-guest: no linux-image-<ver>-amd64 in the Depends of $meta" >&2; exit 1; }
kver=${kpkg#linux-image-}
kdeb=$(fetch "$kpkg")
bbdeb=$(fetch busybox-static)

# Unpack only what is used: vmlinuz, the config and the module tree (dpkg-deb -x of the whole
# package is 400 MB); the subset is kept, so a repack needs no unpacking.
kdir=$out/pkg/$kpkg
if [ ! -f "$kdir/boot/vmlinuz-$kver" ]; then
	echo "  linux-guest: unpack $(basename "$kdeb")"
	rm -rf "$kdir" && mkdir -p "$kdir"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$kdir" --wildcards \
		"./boot/vmlinuz-$kver" "./boot/config-$kver" \
		"./lib/modules/$kver/modules.builtin" \
		"./lib/modules/$kver/kernel/drivers/virtio/*" \
		"./lib/modules/$kver/kernel/drivers/block/*" \
		"./lib/modules/$kver/kernel/drivers/net/*" \
		"./lib/modules/$kver/kernel/net/core/*"
fi
bbdir=$out/pkg/busybox-static
if [ ! -x "$bbdir/bin/busybox" ]; then
	echo "  linux-guest: unpack $(basename "$bbdeb")"
	rm -rf "$bbdir" && mkdir -p "$bbdir"
	dpkg-deb -x "$bbdeb" "$bbdir"
fi

# The drivers must be modules or built in; say which, so a changed Debian config is obvious.
for opt in VIRTIO_PCI VIRTIO_BLK VIRTIO_NET; do
	v=$(sed -n "s/^CONFIG_$opt=\(.\)$/\1/p" "$kdir/boot/config-$kver")
	case $v in
	y | m) ;;
	*) echo "linux-guest: CONFIG_$opt is not set in $kver" >&2; exit 1 ;;
	esac
done

cp "$kdir/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$kver" >"$out/kernel-version"

echo "  linux-guest: cc vbench (static)"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$out/vbench" "$here/vbench.c"

echo "  linux-guest: initramfs ($kver)"
/usr/bin/python3 "$here/mkinitramfs.py" --moddir "$kdir/lib/modules/$kver" --modules "$ROOT_MODULES" \
	--busybox "$bbdir/bin/busybox" --vbench "$out/vbench" --init "$here/init" -o "$out/initramfs.gz"

touch "$stamp"
echo "  linux-guest: $out/vmlinuz $out/initramfs.gz"
