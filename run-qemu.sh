#!/usr/bin/env bash
# Boot Vireo under QEMU with a virtio disk, network card and entropy source.
#
# Builds what is missing first (installing Debian packages when needed), so this is the one
# command a new user runs. Its exit status is the guest's `poweroff N` code.
set -euo pipefail

cd "$(dirname "$0")"
BUILD=${BUILD:-build}

usage() {
	cat <<'EOF'
usage: ./run-qemu.sh [options] [-- extra QEMU arguments]

  --boot multiboot|pvh|uefi
                          how to boot (default multiboot: QEMU loads build/vireo.elf;
                          pvh: the PVH entry of build/vireo-pvh.elf; uefi: OVMF runs
                          build/vireo.efi, on pc and q35)
  --machine q35|pc|microvm
                          QEMU machine type (default q35); microvm has no PCI: the devices
                          are virtio-mmio transports
  --mmio-legacy           on microvm: the legacy virtio-mmio interface (version 1)
  --accel auto|kvm|tcg    auto (default): KVM when it works on this host, else TCG
  --mem MB                guest memory (default 512)
  --cmd "c1; c2"          shell commands to run after boot (appended after " -- ")
  --append "opts"         kernel options before the commands (e.g. "virtio.mode=poll")
  --no-devices            no virtio disk, network card or rng
  --qemu 7.2|10.0|PATH    which QEMU (default: the system's qemu-system-x86_64; 10.0 is
                          Debian's bookworm-backports build, fetched into build/qemu-10.0)
  --gdb[=PORT]            QEMU waits for a debugger on PORT (default 1234)
  --help                  this text

Host ports forwarded to the guest (user networking):
  8080 -> 80 (HTTP), 7007 -> 7 (TCP and UDP echo), 5001 -> 5001 (iperf)
Exit QEMU with Ctrl-A x, or type `poweroff` in the Vireo shell.
EOF
}

boot=multiboot machine=q35 accel=auto mem=512 cmd="" append="" gdb=0 devices=1 qemu=${QEMU:-7.2}
mmio_legacy=off
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--boot) boot=${2:?--boot needs a value}; shift 2 ;;
	--machine) machine=${2:?--machine needs a value}; shift 2 ;;
	--accel) accel=${2:?--accel needs a value}; shift 2 ;;
	--mem) mem=${2:?--mem needs a value}; shift 2 ;;
	--cmd) cmd=${2?--cmd needs a value}; shift 2 ;;
	--append) append=${2?--append needs a value}; shift 2 ;;
	--no-devices) devices=0; shift ;;
	--mmio-legacy) mmio_legacy=on; shift ;;
	--qemu) qemu=${2:?--qemu needs a value}; shift 2 ;;
	--gdb) gdb=1234; shift ;;
	--gdb=*) gdb=${1#--gdb=}; shift ;;
	--help|-h) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "run-qemu.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
case "$boot" in multiboot|pvh|uefi) ;; *) echo "run-qemu.sh: --boot must be multiboot, pvh or uefi" >&2; exit 2 ;; esac
case "$machine" in q35|pc|microvm) ;; *) echo "run-qemu.sh: --machine must be q35, pc or microvm" >&2; exit 2 ;; esac
if [ "$machine" = microvm ] && [ "$boot" = uefi ]; then
	echo "run-qemu.sh: microvm has no UEFI firmware in Debian; use --boot multiboot or pvh" >&2
	exit 2
fi
case "$accel" in auto|kvm|tcg) ;; *) echo "run-qemu.sh: --accel must be auto, kvm or tcg" >&2; exit 2 ;; esac
[[ "$mem" =~ ^[0-9]+$ ]] || { echo "run-qemu.sh: --mem takes a number of MiB" >&2; exit 2; }
[[ "$gdb" =~ ^[0-9]+$ ]] || { echo "run-qemu.sh: --gdb=PORT takes a port number" >&2; exit 2; }

scripts/setup.sh
make -s all
case "$qemu" in
7.2 | system) QEMU=qemu-system-x86_64 ;;
10.0) make -s qemu10; QEMU=$BUILD/qemu-10.0/qemu-system-x86_64 ;;
*) QEMU=$qemu ;;
esac
command -v "$QEMU" >/dev/null || { echo "run-qemu.sh: no QEMU at '$QEMU'" >&2; exit 2; }

# Which accelerator: KVM only when /dev/kvm is usable *and* a probe boot under it succeeds
# (nested KVM on some hosts fails at the first SSE instruction). The probe runs silently (its
# QEMU may abort; a bash of its own reaps it, so no "Aborted" report reaches the terminal) and its result
# is cached per QEMU version and host kernel. One line says what was chosen and why.
kvm_why=""
kvm_works() {
	if [ ! -e /dev/kvm ]; then kvm_why="no /dev/kvm"; return 1; fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then kvm_why="/dev/kvm is not read-writable"; return 1; fi
	local key stamp="$BUILD/.kvm-probe"
	key="$("$QEMU" --version | head -1) $(uname -r)"
	if [ ! -f "$stamp" ] || [ "$(head -1 "$stamp")" != "$key" ]; then
		local rc=0
		bash -c 'timeout 30 "$@"; exit $?' probe "$QEMU" -M q35 -accel kvm -cpu host -m 128 \
			-display none -serial none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$BUILD/vireo.elf" -append "-- poweroff 5" >/dev/null 2>&1 || rc=$?
		if [ "$rc" -eq 11 ]; then printf '%s\nok\n' "$key" >"$stamp"; else printf '%s\nfail\n' "$key" >"$stamp"; fi
	fi
	[ "$(tail -1 "$stamp")" = ok ] && return 0
	kvm_why="a probe boot under KVM failed on this host (cached in $stamp)"
	return 1
}
if [ "$accel" = auto ]; then
	if kvm_works; then
		accel=kvm
		echo "run-qemu.sh: accelerator kvm (a probe boot under KVM works here)"
	else
		accel=tcg
		echo "run-qemu.sh: accelerator tcg: $kvm_why"
	fi
fi
accel_args=(-accel "$accel")
# Under TCG before QEMU 8.1, maxcpus=2 keeps the guest's memory barriers: QEMU 7.2 drops them
# for a one-vCPU machine although virtio devices run in other threads.
if [ "$accel" = kvm ]; then
	accel_args+=(-cpu host)
else
	accel_args+=(-cpu max)
	qv=$("$QEMU" --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -1)
	read -r qmaj qmin <<<"$qv"
	if [ "${qmaj:-0}" -lt 8 ] || { [ "$qmaj" -eq 8 ] && [ "${qmin:-0}" -lt 1 ]; }; then
		accel_args+=(-smp 1,maxcpus=2)
	fi
fi
echo "run-qemu.sh: $boot boot, machine $machine, accelerator $accel, ${mem} MiB, $("$QEMU" --version | head -1)"

kernel_line="$append"
[ -n "$cmd" ] && kernel_line="$kernel_line -- $cmd"

case "$boot" in
multiboot) boot_args=(-kernel "$BUILD/vireo.elf") ;;
pvh) boot_args=(-kernel "$BUILD/vireo-pvh.elf") ;;
uefi) boot_args=(-bios /usr/share/ovmf/OVMF.fd -kernel "$BUILD/vireo.efi") ;;
esac
[ -n "$kernel_line" ] && boot_args+=(-append "$kernel_line")

dev_args=()
if [ "$devices" = 1 ]; then
	disk="$BUILD/disk.img"
	[ -f "$disk" ] || { truncate -s 64M "$disk"; echo "run-qemu.sh: created $disk (64 MiB)"; }
	# PCI functions on pc and q35; virtio-mmio transports on microvm (QEMU 7.2 defaults
	# those to the legacy interface, so it is always named).
	if [ "$machine" = microvm ]; then
		bus=device
		dev_args+=(-global "virtio-mmio.force-legacy=$mmio_legacy")
	else
		bus=pci
	fi
	dev_args+=(-drive "file=$disk,if=none,id=vda,format=raw"
		-device "virtio-blk-$bus,drive=vda"
		-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:7007-:7,hostfwd=udp:127.0.0.1:7007-:7,hostfwd=tcp:127.0.0.1:5001-:5001"
		-device "virtio-net-$bus,netdev=net0"
		-device "virtio-rng-$bus")
	echo "run-qemu.sh: http://localhost:8080/  echo: localhost:7007 (tcp/udp)  iperf -c localhost -p 5001"
fi

gdb_args=()
if [ "$gdb" != 0 ]; then
	gdb_args=(-gdb "tcp:127.0.0.1:$gdb" -S)
	echo "run-qemu.sh: QEMU waits for gdb; attach with:"
	echo "    gdb $BUILD/vireo64.elf -ex 'target remote localhost:$gdb'"
fi

rc=0
# -nodefaults: only the devices named here (no default NIC, VGA or CD-ROM; QEMU 10's q35
# CD-ROM makes Debian 12's SeaBIOS wait 32 s for an AHCI timeout).
"$QEMU" -M "$machine" "${accel_args[@]}" -m "$mem" -nodefaults -nographic -serial mon:stdio \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
	"${boot_args[@]}" "${dev_args[@]}" "${gdb_args[@]}" "${extra[@]}" || rc=$?

# isa-debug-exit makes QEMU exit with (code << 1) | 1; a plain QEMU exit is 0.
if [ $((rc & 1)) -eq 1 ] && [ "$rc" -lt 256 ]; then
	exit $((rc >> 1))
fi
exit "$rc"
