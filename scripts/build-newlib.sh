#!/usr/bin/env bash
# Build newlib (libc + libm, no libgloss) for the kernel:  scripts/build-newlib.sh OUTDIR
#
#   OUTDIR/src       the unpacked newlib source (from Debian's newlib-source)
#   OUTDIR/build     the build tree;  OUTDIR/build.log its full output
#   OUTDIR/install   the result: install/x86_64-elf/{include,lib/libc.a,lib/libm.a}
#   OUTDIR/.built    stamp written last
#
# We configure newlib's own `newlib/` directory with --host=x86_64-elf and the host gcc/binutils
# (the ELF x86-64 code they make is what the kernel needs; no cross toolchain exists on Debian).
# x86_64-elf has no syscall directory in newlib, so configure.host adds -DMISSING_SYSCALL_NAMES:
# libc.a calls the plain names (write, sbrk, close, ...), which lib/newlib/syscalls.c provides.
#
# Idempotent: a finished build returns at once; an interrupted one resumes. Writes only below
# OUTDIR (TMPDIR is pointed there too, for configure's temporary files).
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

TARBALL=/usr/src/newlib/newlib-3.3.0.tar.xz
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
SRC=$OUT/src
BLD=$OUT/build
INST=$OUT/install
LOG=$OUT/build.log
STAMP=$OUT/.built

# Same code-generation flags as the kernel (KCFLAGS in the Makefile): freestanding, no red zone
# (interrupt frames land on the current stack), non-PIC for the 1 MiB link address. SSE is allowed.
# --noexecstack marks newlib's assembler files (memcpy.S, setjmp.S, ...) like the C objects, so ld
# does not warn about an executable stack.
NEWLIB_CFLAGS="-O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone -fno-stack-protector -fno-omit-frame-pointer -Wa,--noexecstack"
NEWLIB_OPTS=(
	--disable-newlib-supplied-syscalls # lib/newlib/syscalls.c provides them
	--enable-newlib-io-long-long       # %lld, %llu
	--enable-newlib-io-c99-formats     # %zu, %jd, %hhx, %tx
	--enable-newlib-nano-malloc        # small first-fit malloc on top of sbrk
	--disable-newlib-multithread       # one kernel thread: no __malloc_lock/__sfp_lock needed
	--disable-multilib
)
# What this build is made of; a change (edited flags or options) rebuilds from scratch.
CONFIG="$TARBALL $NEWLIB_CFLAGS ${NEWLIB_OPTS[*]}"

built() {
	[ -f "$STAMP" ] && [ -f "$INST/x86_64-elf/lib/libc.a" ] && [ -f "$INST/x86_64-elf/lib/libm.a" ] &&
		[ "$(cat "$OUT/config.txt" 2>/dev/null)" = "$CONFIG" ]
}
built && exit 0

# Two makes (say, two engineers' builds in one tree) must not build into OUTDIR at once: the
# second waits for the first and then finds the stamp.
exec 9> "$OUT/.lock"
flock 9
built && exit 0
rm -f "$STAMP"
# config.txt records what the build tree was configured with: same → resume it, else start over.
if [ "$(cat "$OUT/config.txt" 2>/dev/null)" != "$CONFIG" ]; then
	rm -rf "$BLD" "$INST"
fi

# Don't let a calling make's flags (jobserver, command-line variables such as CC=...) or the
# environment's compiler flags leak into newlib's configure and make.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CPPFLAGS LDFLAGS CC AR AS LD RANLIB
export TMPDIR=$OUT/tmp
mkdir -p "$TMPDIR"

fail() {
	echo "build-newlib: $1 failed; last lines of $LOG:" >&2
	tail -n 40 "$LOG" >&2
	exit 1
}

if [ ! -f "$SRC/newlib/configure" ]; then
	[ -f "$TARBALL" ] || { echo "build-newlib: $TARBALL missing (run scripts/setup.sh)" >&2; exit 1; }
	rm -rf "$SRC"
	mkdir -p "$SRC"
	# The tarball's top directory is not named after the version; strip it whatever it is.
	tar -xJf "$TARBALL" -C "$SRC" --strip-components=1 || { echo "build-newlib: unpacking failed" >&2; exit 1; }
fi

: > "$LOG"
mkdir -p "$BLD"
if [ ! -f "$BLD/config.status" ]; then
	echo "== configure" >> "$LOG"
	printf '%s\n' "$CONFIG" > "$OUT/config.txt"
	(cd "$BLD" && "$SRC/newlib/configure" \
		--build="$("$SRC/config.guess")" --host=x86_64-elf --prefix="$INST" \
		CC=gcc AR=ar AS=as LD=ld NM=nm RANLIB=ranlib READELF=readelf OBJCOPY=objcopy \
		CFLAGS="$NEWLIB_CFLAGS" "${NEWLIB_OPTS[@]}") >> "$LOG" 2>&1 || { rm -f "$BLD/config.status"; fail configure; }
fi

echo "== make" >> "$LOG"
make -C "$BLD" -j2 >> "$LOG" 2>&1 || fail make
echo "== make install" >> "$LOG"
make -C "$BLD" install >> "$LOG" 2>&1 || fail "make install"

for f in include/stdio.h lib/libc.a lib/libm.a; do
	[ -f "$INST/x86_64-elf/$f" ] || { echo "build-newlib: $INST/x86_64-elf/$f missing after install" >&2; exit 1; }
done
rm -rf "$TMPDIR"
touch "$STAMP"
