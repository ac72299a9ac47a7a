#!/usr/bin/python3
"""Build the Linux peer's initramfs (cpio "newc", gzip) without cpio, xz or kmod on the host.

  mkinitramfs.py --moddir LIB/MODULES/VER --modules virtio_pci,virtio_blk,virtio_net \
                 --busybox BUSYBOX --vbench VBENCH --init INIT -o initramfs.gz

Kernel modules: the Debian package ships no modules.dep (depmod writes it at install time), so
the load order is worked out here from each module's own .modinfo "depends=" list, the same
data depmod reads. Modules built into the kernel (modules.builtin) are skipped. Compressed
modules (.ko.xz, newer Debian) are decompressed here with Python's lzma, because busybox insmod
loads only plain ELF. The order is written to /lib/modules/load-order, one file a line, and
/init insmods them in that order.
"""
import argparse
import gzip
import io
import lzma
import os
import stat
import struct
import sys


def modname(path):
    base = os.path.basename(path)
    for suf in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(suf):
            base = base[: -len(suf)]
            break
    return base.replace("-", "_")


def read_module(path):
    data = open(path, "rb").read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    elif path.endswith(".gz"):
        data = gzip.decompress(data)
    elif path.endswith(".zst"):
        raise SystemExit(f"{path}: zstd modules are not handled (install python3-zstd or use xz)")
    return data


def modinfo(elf):
    """key=value strings of the .modinfo section of an ELF64 little-endian relocatable."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not an ELF64 LE object")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = secs[shstrndx]
    names = elf[strtab[4]: strtab[4] + strtab[5]]
    for s in secs:
        name = names[s[0]: names.index(b"\0", s[0])].decode()
        if name == ".modinfo":
            raw = elf[s[4]: s[4] + s[5]]
            out = {}
            for item in raw.split(b"\0"):
                if b"=" in item:
                    k, v = item.decode("utf-8", "replace").split("=", 1)
                    out.setdefault(k, v)
            return out
    return {}


def module_closure(moddir, roots):
    index = {}
    for d, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            if ".ko" in f:
                index[modname(f)] = os.path.join(d, f)
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        builtin = {modname(l.strip()) for l in open(bpath) if l.strip()}
    order, seen, loaded = [], set(), {}

    def visit(name, chain):
        name = name.replace("-", "_")
        if name in builtin or name in seen:
            return
        if name in chain:
            raise SystemExit(f"module dependency cycle: {' -> '.join(chain + [name])}")
        if name not in index:
            raise SystemExit(f"module {name} not found under {moddir} (nor built in)")
        data = read_module(index[name])
        deps = [d for d in modinfo(data).get("depends", "").split(",") if d]
        for d in deps:
            visit(d, chain + [name])
        seen.add(name)
        order.append(name)
        loaded[name] = data

    for r in roots:
        visit(r, [])
    return [(n, loaded[n]) for n in order]


class Cpio:
    """cpio "newc" (SVR4, no CRC) writer: the format the kernel's initramfs unpacker reads."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + name_b)
        self.buf.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, perm=0o644):
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0, nlink=1)
        self.buf.write(b"\0" * (-self.buf.tell() % 512))
        return self.buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moddir", required=True)
    ap.add_argument("--modules", required=True, help="comma-separated root modules")
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--vbench", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    mods = module_closure(a.moddir, [m for m in a.modules.split(",") if m])
    c = Cpio()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "mnt"):
        c.dir(d)
    # The kernel opens /dev/console for init before devtmpfs is mounted.
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.file("bin/busybox", open(a.busybox, "rb").read(), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("bin/vbench", open(a.vbench, "rb").read(), 0o755)
    c.file("init", open(a.init, "rb").read(), 0o755)
    for name, data in mods:
        c.file(f"lib/modules/{name}.ko", data)
    c.file("lib/modules/load-order", "".join(f"{n}\n" for n, _ in mods).encode())
    raw = c.finish()
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as f:
        # mtime=0: the same inputs give the same bytes.
        f.write(gzip.compress(raw, compresslevel=6, mtime=0))
    os.replace(tmp, a.output)
    print(f"  initramfs {a.output}: {len(raw) // 1024} KiB cpio, modules: {' '.join(n for n, _ in mods)}")


if __name__ == "__main__":
    sys.exit(main())
