"""What a new user touches first: ./run-qemu.sh (--gdb with Debian's gdb, --machine microvm, bad
options) and the `help` table.

The help test reads every SHELL_COMMAND registration from the C sources (the truth the kernel
was built from) and checks that `help` shows each usage and description whole.
"""
import glob
import os
import re
import subprocess

import pytest

from vireo import BUILD, QEMU, ROOT

SHELL_COMMAND_RE = re.compile(
    r'SHELL_COMMAND\(\s*\w+\s*,\s*"([^"]*)"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+),\s*'
    r'((?:"(?:[^"\\]|\\.)*"\s*)+),', re.S)


def c_string(literals):
    """The value of adjacent C string literals ("a " "b" -> "a b")."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', literals))


def registered_commands():
    cmds = {}
    for path in glob.glob(os.path.join(ROOT, "**", "*.c"), recursive=True):
        if os.path.relpath(path, ROOT).split(os.sep)[0] in ("build", "tests", "bench"):
            continue
        for m in SHELL_COMMAND_RE.finditer(open(path, errors="replace").read()):
            cmds[m.group(1)] = (c_string(m.group(2)), c_string(m.group(3)))
    return cmds


def test_help_shows_every_usage_and_description_whole(boot):
    cmds = registered_commands()
    assert len(cmds) >= 15, sorted(cmds)
    v = boot(append="")
    v.ready()
    out = v.run("help")
    for name, (usage, text) in cmds.items():
        head = f"  {name} {usage}".rstrip()
        assert any(line.startswith(head) for line in out.splitlines()), \
            f"`help` cuts or loses the usage of {name!r}: want {head!r} in\n{out}"
        assert text in out, f"`help` cuts the description of {name!r}: {text!r}"
    one = v.run("help blk")
    usage, text = cmds["blk"]
    assert f"blk {usage}" in one and text in one


def test_run_qemu_gdb_breakpoint_print_backtrace(tmp_path):
    """./run-qemu.sh --gdb: QEMU waits; Debian's gdb attaches in batch mode, stops in
    kernel_main, prints a variable and a backtrace, and kills the guest."""
    port = 40000 + os.getpid() % 20000
    log = open(tmp_path / "run-qemu.log", "w")
    rq = subprocess.Popen([os.path.join(ROOT, "run-qemu.sh"), "--qemu", QEMU, "--accel", "tcg",
                           "--no-devices", f"--gdb={port}", "--cmd", "poweroff 0"],
                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                          cwd=ROOT)
    try:
        gdb = subprocess.run(
            ["gdb", "-batch", "-nx", os.path.join(BUILD, "vireo64.elf"),
             # gdb retries the connection until QEMU listens (run-qemu.sh may still be
             # building or starting it)
             "-ex", "set tcp connect-timeout 300",
             "-ex", f"target remote localhost:{port}",
             "-ex", "break kernel_main", "-ex", "continue",
             "-ex", "print bi->loader", "-ex", "print bi->cmdline", "-ex", "bt", "-ex", "kill"],
            capture_output=True, text=True, timeout=600)
        out = gdb.stdout + gdb.stderr
        assert "Breakpoint 1, kernel_main" in out, out
        assert '"multiboot' in out, out
        assert '"-- poweroff 0' in out, out
        assert re.search(r"#0\s+kernel_main", out), out
        assert re.search(r"#1\s+.*multiboot_main", out), out
        assert rq.wait(timeout=300) is not None
    finally:
        if rq.poll() is None:
            rq.kill()
            rq.wait()
        log.close()
    text = (tmp_path / "run-qemu.log").read_text()
    assert f"target remote localhost:{port}" in text


def run_qemu(*args, timeout=240):
    return subprocess.run([os.path.join(ROOT, "run-qemu.sh"), "--qemu", QEMU, "--accel", "tcg",
                           *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("boot_path,legacy", [("multiboot", False), ("pvh", True)])
def test_run_qemu_microvm(boot_path, legacy):
    """./run-qemu.sh --machine microvm: the disk, NIC and rng on virtio-mmio transports."""
    r = run_qemu("--machine", "microvm", "--boot", boot_path,
                 *(["--mmio-legacy"] if legacy else []), "--cmd", "virtio; poweroff 4")
    assert r.returncode == 4, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"booted by {boot_path}" in r.stdout
    transport = "legacy" if legacy else "modern"
    for name, kind in (("vda", "virtio-blk"), ("eth0", "virtio-net"), ("rng0", "virtio-rng")):
        assert re.search(rf"^{name}: mmio@0x[0-9a-f]+ gsi:\d+ {kind}, transport {transport}, "
                         rf"mode irq, irq line, ring split$", r.stdout, re.M), (name, r.stdout[-3000:])


def test_run_qemu_refuses_bad_combinations():
    r = run_qemu("--machine", "microvm", "--boot", "uefi", timeout=60)
    assert r.returncode == 2 and "microvm has no UEFI firmware" in r.stderr, r.stderr
    r = run_qemu("--machine", "virt", timeout=60)
    assert r.returncode == 2 and "--machine must be q35, pc or microvm" in r.stderr, r.stderr
