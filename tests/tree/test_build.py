"""The repository itself: `make` with no target, on a tree that has never been built.

The tree is a copy of the checkout's files (tracked and new, nothing ignored), so what is
tested is what a `git clone` would hold. The two fetched inputs that take a minute each and do
not depend on the tree's code, newlib's build and lwIP's source package, are hard-linked from
this checkout's build folder; everything else is built from nothing.
"""
import os
import shutil
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))


def tree_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]


def copy_tree(dst):
    for f in tree_files():
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(dst, f))
    os.makedirs(os.path.join(dst, "build"), exist_ok=True)
    for fetched in ("newlib", "lwip"):
        src = os.path.join(BUILD, fetched)
        if os.path.isdir(src):
            # hard links where the file system allows them, else a copy
            if subprocess.run(["cp", "-al", src, os.path.join(dst, "build", fetched)],
                              capture_output=True).returncode:
                shutil.copytree(src, os.path.join(dst, "build", fetched), symlinks=True)
    # Objects compiled in this checkout are not inputs: build them again.
    shutil.rmtree(os.path.join(dst, "build", "lwip", "obj"), ignore_errors=True)
    for stamp in ("build/newlib/.built", "build/lwip/.fetched"):
        p = os.path.join(dst, stamp)
        if os.path.exists(p):
            os.utime(p)  # newer than the copied scripts, as after a real fetch


def make(tree, *args):
    return subprocess.run(["make", "-j2", *args], cwd=tree, capture_output=True, text=True,
                          timeout=1800)


def test_make_without_target_builds_the_three_images(tmp_path):
    tree = tmp_path / "vireo"
    copy_tree(str(tree))
    r = make(str(tree))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    b = tree / "build"
    with open(b / "vireo.elf", "rb") as f:
        ident = f.read(64)
    assert ident[:4] == b"\x7fELF" and ident[4] == 1, "vireo.elf is not ELF32 (multiboot)"
    assert struct.unpack_from("<H", ident, 18)[0] == 3, "vireo.elf is not labelled i386"
    with open(b / "vireo.efi", "rb") as f:
        pe = f.read(4096)
    off = struct.unpack_from("<I", pe, 0x3c)[0]
    assert pe[:2] == b"MZ" and pe[off:off + 4] == b"PE\0\0", "vireo.efi is not a PE image"
    assert struct.unpack_from("<H", pe, off + 4)[0] == 0x8664, "vireo.efi is not x86-64"
    with open(b / "esp.img", "rb") as f:
        boot_sector = f.read(512)
    assert boot_sector[510:512] == b"\x55\xaa", "esp.img has no FAT boot sector"
    listing = subprocess.run(["mdir", "-i", str(b / "esp.img"), "::/EFI/BOOT"],
                             capture_output=True, text=True,
                             env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    assert "BOOTX64" in listing.stdout, listing.stdout + listing.stderr

    # Built means up to date: a second `make` compiles nothing.
    again = make(str(tree))
    assert again.returncode == 0
    steps = [l for l in again.stdout.splitlines() if l.startswith("  ")]
    assert not steps, f"a second make rebuilt: {steps[:10]}"
