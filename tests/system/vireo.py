"""Boot Vireo under QEMU (TCG) for the system tests.

A Vireo instance runs QEMU with the serial console on a pipe, the HMP monitor on a Unix socket
and isa-debug-exit, so a test can type shell commands, read the output, drive the monitor and
read the guest's poweroff code.
"""
import functools
import json
import os
import re
import select
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
OVMF = "/usr/share/ovmf/OVMF.fd"
# Which QEMU: the system's (Debian 12: 7.2), or the one VIREO_QEMU names, e.g. the 10.0 that
# scripts/fetch-qemu.sh unpacks into build/qemu-10.0 (scripts/check.py runs the system tests
# once with each; `make check QEMU=10.0` picks one).
QEMU = os.environ.get("VIREO_QEMU") or "qemu-system-x86_64"


@functools.lru_cache(maxsize=None)
def qemu_version(binary=None):
    """(major, minor, micro) of a QEMU binary, from its --version line."""
    out = subprocess.run([binary or QEMU, "--version"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups())


def tcg_args(binary=None):
    """Accelerator, CPU and vCPU arguments for a TCG guest on this QEMU.

    QEMU 7.2's TCG drops the guest's memory barriers when the machine can only ever have one
    vCPU, but virtio devices run in other QEMU threads: the notification handshake (store
    avail->idx, fence, load avail_event) then loses a kick now and then. QEMU 8.1 fixed it
    (commit c914d46d0a64); before that, maxcpus=2 keeps the barriers without starting a second
    vCPU."""
    smp = "1,maxcpus=2" if qemu_version(binary) < (8, 1, 0) else "1"
    return ["-accel", "tcg", "-cpu", "max", "-smp", smp]


# Every machine starts from -nodefaults: no default NIC, VGA, floppy or CD-ROM. The devices a
# test wants are named. (QEMU 10's q35 default CD-ROM makes Debian 12's SeaBIOS wait 32 s for
# an AHCI timeout at every boot.)
BASE_ARGS = ["-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot"]
# The exit door: `poweroff N` makes QEMU exit with (N << 1) | 1 (see exit_code).
DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def mmio_args(legacy=False):
    """QEMU's virtio-mmio transports (microvm's): version 1, the legacy interface, or version
    2. Named every time: QEMU 7.2's microvm defaults to legacy."""
    return ["-global", f"virtio-mmio.force-legacy={'on' if legacy else 'off'}"]


def is_microvm(machine):
    return machine.split(",")[0] == "microvm"


def need_in_order(options):
    """Skip unless this QEMU has the in_order device property (10.0: yes, 7.2: no), when the
    -device options ask for it. QEMU 10.0.2's in-order fill search reads past its table when a
    request other than the oldest completes across the ring's end (fixed upstream in commit
    6fcf5ebafad6), so in-order tests keep one request in flight where completions can
    reorder (disks)."""
    import pytest
    if "in_order=on" in options and qemu_version() < (9, 1, 0):
        pytest.skip(f"QEMU {'.'.join(map(str, qemu_version()))} has no in_order property")


PROMPT = "vireo> "
PROMPT_RE = re.compile(r"^vireo(?: \[\d+\])?> ", re.M)


class Vireo:
    def __init__(self, boot="multiboot", machine="q35", append="", mem=256, extra=(), timeout=120,
                 kernel=None, debug_exit=True):
        self.tmp = tempfile.mkdtemp(prefix="vireo-test-")
        self.monitor_path = os.path.join(self.tmp, "monitor.sock")
        self.qmp_path = os.path.join(self.tmp, "qmp.sock")
        self.timeout = timeout
        self.output = ""
        self._cr = ""
        args = [QEMU, "-M", machine, *tcg_args(), "-m", str(mem), *BASE_ARGS,
                *(DEBUG_EXIT if debug_exit else []),
                "-monitor", f"unix:{self.monitor_path},server,nowait",
                "-qmp", f"unix:{self.qmp_path},server,nowait"]
        if boot == "multiboot":
            args += ["-kernel", kernel or os.path.join(BUILD, "vireo.elf")]
        elif boot == "pvh":
            args += ["-kernel", kernel or os.path.join(BUILD, "vireo-pvh.elf")]
        elif boot == "uefi":
            args += ["-bios", OVMF, "-kernel", os.path.join(BUILD, "vireo.efi")]
        elif boot == "uefi-esp":
            args += ["-bios", OVMF, "-drive", f"format=raw,file={os.path.join(BUILD, 'esp.img')},snapshot=on"]
        else:
            raise ValueError(boot)
        if append and boot != "uefi-esp":
            args += ["-append", append]
        args += list(extra)
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)

    # -- serial console ----------------------------------------------------------------------
    def _read_some(self, deadline):
        left = max(0.0, deadline - time.monotonic())
        r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
        if r:
            data = os.read(self.proc.stdout.fileno(), 65536)
            if data:
                # QEMU forwards the UART byte by byte, so a "\r\n" may be split across reads:
                # hold a trailing "\r" back until the next read shows what follows it.
                text = self._cr + data.decode("utf-8", "replace")
                self._cr = "\r" if text.endswith("\r") else ""
                self.output += text[:-1 if self._cr else None].replace("\r\n", "\n")
                return True
            return False
        return None

    def expect(self, text, timeout=None, start=0):
        """Wait until text appears in the output after offset start; return the offset past it."""
        return self.expect_re(re.compile(re.escape(text)), timeout, start).end()

    def expect_re(self, pattern, timeout=None, start=0):
        """Like expect, for a compiled regular expression; returns the match."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = pattern.search(self.output, start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {pattern.pattern[:80]!r}; output so far:\n"
                                   f"{self.output[-4000:]}")
            if self._read_some(deadline) is False and self.proc.poll() is not None:
                m = pattern.search(self.output, start)
                if m:
                    return m
                raise EOFError(f"QEMU exited ({self.proc.returncode}) before {pattern.pattern[:80]!r}:\n"
                               f"{self.output[-4000:]}")

    def ready(self, timeout=None):
        return self.expect("vireo: ready in", timeout)

    def quiet(self, seconds=0.3, timeout=10):
        """Wait until the console has printed nothing for `seconds`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len(self.output)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                self._read_some(end)
            if len(self.output) == before:
                return

    def run(self, command, timeout=None):
        """Type a command at the prompt; return its output (up to the next prompt).

        Waits for a quiet console first. An asynchronous kernel message (a DHCP lease, a link
        change) may still be printed while the command is being echoed, splitting the echo:
        the echo is matched with such whole lines allowed between any two characters."""
        if not PROMPT_RE.search(self.output[-40:]):
            self.expect(PROMPT, timeout)
        self.quiet()
        mark = len(self.output)
        self.proc.stdin.write(command.encode() + b"\r")
        self.proc.stdin.flush()
        echo = re.compile(r"(?:[^\n]*\n)*?".join(re.escape(c) for c in command))
        echoed = self.expect_re(echo, timeout, start=mark).end()
        body = self.expect("\n", timeout, start=echoed)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = PROMPT_RE.search(self.output, body)
            if m:
                return self.output[body:m.start()].rstrip("\n")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no prompt after {command!r}:\n{self.output[-4000:]}")
            if self._read_some(deadline) is False and self.proc.poll() is not None:
                raise EOFError(f"QEMU exited during {command!r}:\n{self.output[-4000:]}")

    def last_status_prompt(self):
        tail = self.output[self.output.rfind("vireo"):]
        return tail

    def wait_exit(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"QEMU did not exit; output:\n{self.output[-4000:]}")
            self._read_some(deadline)
        while self._read_some(time.monotonic() + 0.1):
            pass
        return self.proc.returncode

    # -- monitor -----------------------------------------------------------------------------
    def monitor(self, command, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                s.connect(self.monitor_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        s.settimeout(timeout)
        buf = b""
        while not buf.endswith(b"(qemu) "):
            buf += s.recv(65536)
        s.sendall(command.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        text = buf.decode("utf-8", "replace").replace("\r", "")
        # Drop the echoed command (with its terminal escapes) and the final prompt.
        lines = text.split("\n")[1:]
        return "\n".join(lines).removesuffix("(qemu) ").strip("\n")

    def qmp(self, command, timeout=30, **arguments):
        """One QMP command (QEMU's machine interface: stable JSON, unlike HMP's text); returns
        its "return" value."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                s.connect(self.qmp_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        s.settimeout(timeout)
        f = s.makefile("rw")

        def reply():
            while True:
                msg = json.loads(f.readline())
                if "event" not in msg:
                    return msg
        try:
            json.loads(f.readline())  # the greeting
            f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
            f.flush()
            reply()
            f.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
            f.flush()
            r = reply()
        finally:
            f.close()
            s.close()
        if "error" in r:
            raise RuntimeError(f"QMP {command}: {r['error']}")
        return r["return"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)


def exit_code(qemu_status):
    """The guest's poweroff code from QEMU's exit status with isa-debug-exit."""
    assert qemu_status & 1, f"QEMU exit status {qemu_status} did not come from isa-debug-exit"
    return qemu_status >> 1
