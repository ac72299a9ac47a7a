#!/usr/bin/env bash
# Install the Debian packages Vireo needs, when they are missing. Idempotent; says what it does.
# Called by `make`, `make check` and ./run-qemu.sh, so any of them works first on a fresh machine.
set -euo pipefail

packages=(
	build-essential        # gcc, ld, objcopy, make
	clang llvm             # libFuzzer targets (clang -fsanitize=fuzzer)
	libclang-rt-14-dev     # clang's sanitizer/fuzzer runtimes
	newlib-source          # the C library, built for the kernel by scripts/build-newlib.sh
	gnu-efi                # the UEFI boot path
	ovmf                   # UEFI firmware for QEMU
	qemu-system-x86        # the machine Vireo runs on
	qemu-utils             # qemu-img for disk images
	mtools dosfstools      # the FAT ESP image, without root or loop devices
	libcmocka-dev          # host unit tests
	python3 python3-pytest # system tests
	dpkg-dev               # apt-get source (lwIP)
	gnuplot-nox            # benchmark plots
	curl iperf             # host-side clients of the network services
	gdb                    # run-qemu.sh --gdb (and its system test)
	gcovr                  # make coverage
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "setup: installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
