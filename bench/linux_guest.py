#!/usr/bin/python3
"""The Linux peer of `make bench` (docs/LINUX_PEER.md), and QEMU virtio trace counting.

Library (bench/run.py imports it):

  machine_args(mem=512, machine="q35")  QEMU binary + machine options shared by both guests
  blk_args(kind, path=None, ..., bus="pci")  virtio-blk on a raw file or on null-co, on PCI or
                                   virtio-mmio (same for both)
  net_args(hostfwd=(), bus="pci")  virtio-net on QEMU user networking (same for both)
  trace_args(path)                 -trace virtio_queue_notify/virtio_notify/virtio_notify_irqfd
                                   (+ virtio_blk_req_complete to name the disk and count its
                                   requests), timestamped, into file path
  boot_linux(extra_qemu_args=(), cmdline="", timeout=300, vbench=(), trace=None,
             machine="q35") -> LinuxRun
  count_trace(path, t0=None, t1=None) -> {device: counts}   works for Vireo's traces too
  window_counts(run, i)            trace counts while the i-th vbench command ran

CLI, to measure the peer by hand:

  bench/linux_guest.py --measure [--runs 3] [--n 20000] [--net]   boot + blk (+ net) tables
  bench/linux_guest.py --smoke                            one quick boot + blk run

Timestamps: every serial line is stamped on arrival with time.monotonic() (relative to just
before QEMU starts: boot timing) and time.time() (wall clock: QEMU's trace lines carry
gettimeofday() stamps with -msg timestamp=on, so a bench line's window selects its events).
"""
import argparse
import collections
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from vireo import BASE_ARGS, DEBUG_EXIT, QEMU, is_microvm, mmio_args, tcg_args  # noqa: E402
import host_cost  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
GUEST = os.path.join(BUILD, "linux-guest")

USERSPACE_LINE = "linux: userspace up"
# The events the issue names. All three exist in QEMU 7.2 (`-trace help`). virtio_notify and
# virtio_notify_irqfd fire only when an interrupt is really sent (after virtio_should_notify),
# so their sum is the interrupt count; virtio_queue_notify is one per guest kick QEMU handles.
# With ioeventfd (the default for virtio-blk-pci and virtio-net-pci) virtio-blk completes
# through its "dataplane" code and signals with virtio_notify_irqfd even without an iothread.
KICK_EVENTS = ("virtio_queue_notify",)
IRQ_EVENTS = ("virtio_notify", "virtio_notify_irqfd")
TRACE_EVENTS = KICK_EVENTS + IRQ_EVENTS
# One line per completed virtio-blk request: names the disk's vdev and counts requests.
ID_EVENTS = ("virtio_blk_req_complete",)


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


# -- QEMU command lines ----------------------------------------------------------------------
def machine_args(mem=512, machine="q35"):
    """The machine both guests run on: same binary, machine type, CPU model, memory, exit port;
    on microvm its virtio-mmio transports as version 2 (modern, as on PCI)."""
    # tcg_args: the vCPU setting QEMU 7.2 needs to keep guest barriers (tests/system/vireo.py);
    # both guests get the same, so the comparison stays fair.
    return [QEMU, "-M", machine, *tcg_args(), "-m", str(mem), *BASE_ARGS, *DEBUG_EXIT,
            *(mmio_args(legacy=False) if is_microvm(machine) else [])]


def bus_suffix(bus):
    """QEMU's device name suffix: virtio-blk-pci, or virtio-blk-device on virtio-mmio."""
    return {"pci": "pci", "mmio": "device"}[bus]


def blk_args(kind="null", path=None, drive_id="d0", size="1G", cache="none", aio="threads",
             bus="pci", dev_opts=""):
    """virtio-blk (pci or mmio) on a raw file (kind="raw": O_DIRECT on the host with cache=none) or on the
    null-co driver (kind="null": no host I/O at all, reads return zeroes): the device cost alone."""
    if kind == "raw":
        if not path:
            raise ValueError("raw blk needs a path")
        drive = f"file={path},format=raw,if=none,id={drive_id},cache={cache},aio={aio}"
    elif kind == "null":
        drive = f"driver=null-co,size={size},if=none,id={drive_id},read-zeroes=on"
    else:
        raise ValueError(kind)
    return ["-drive", drive, "-device", f"virtio-blk-{bus_suffix(bus)},drive={drive_id}"
            + (f",{dev_opts}" if dev_opts else "")]


def net_args(hostfwd=(), netdev_id="n0", bus="pci", dev_opts=""):
    """virtio-net (pci or mmio) on user networking: guest 10.0.2.15, host reachable as 10.0.2.2.
    hostfwd: e.g. ["tcp::5001-:5001", "udp::7777-:7777"]."""
    nd = f"user,id={netdev_id}" + "".join(f",hostfwd={h}" for h in hostfwd)
    return ["-netdev", nd, "-device", f"virtio-net-{bus_suffix(bus)},netdev={netdev_id}"
            + (f",{dev_opts}" if dev_opts else "")]


def trace_args(path, events=TRACE_EVENTS + ID_EVENTS):
    """Options that make QEMU log the virtio events to path, each stamped pid@sec.usec:."""
    args = ["-msg", "timestamp=on"]
    for e in events:
        args += ["-trace", e]
    return args + ["-D", path]


def make_raw_image(path, size="1G"):
    """A fully allocated raw image (reads of holes would skip the host disk)."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", "-o", "preallocation=full", path, size],
                       check=True)
    return path


# -- running the guest -----------------------------------------------------------------------
class LinuxRun:
    """Result of one boot: output, stamped lines, boot times, exit status, bench rows, trace."""

    def __init__(self):
        self.args = []
        self.lines = []          # (monotonic seconds since start, wall-clock time.time(), text)
        self.output = ""
        self.userspace_s = None  # QEMU start -> "linux: userspace up" (host wall clock)
        self.ready_s = None      # QEMU start -> "linux: ready" (modules loaded, network up)
        self.kernel_uptime_s = None  # the guest's /proc/uptime at "linux: ready"
        self.status = None       # QEMU's exit status
        self.exit_code = None    # the guest's code through isa-debug-exit, if it used it
        self.results = []        # kv() of every "bench=" line, with t_start/t_end wall stamps
                                 # and cpu_s (QEMU's CPU seconds over the command)
        self.trace = None        # trace file path when traced
        self.timed_out = False

    def __repr__(self):
        return (f"LinuxRun(userspace_s={self.userspace_s}, ready_s={self.ready_s}, "
                f"exit_code={self.exit_code}, results={len(self.results)})")


def _cmdline(cmdline, vbench):
    parts = ["console=ttyS0", "quiet"]
    if cmdline:
        parts.append(cmdline)
    if vbench:
        cmds = [vbench] if isinstance(vbench, str) else list(vbench)
        for c in cmds:
            if '"' in c or ";" in c:
                raise ValueError(f"vbench command may not contain quotes or ';': {c!r}")
        parts.append('vbench="' + "; ".join(cmds) + '"')
    return " ".join(parts)


def host_tsc_khz():
    """The host's TSC rate in kHz (/proc/cpuinfo's "cpu MHz"), or None. Under TCG the guest's
    rdtsc reads the host's TSC."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":")[1]) * 1000)
    except OSError:
        pass
    return None


def microvm_clock_cmdline():
    """microvm has no HPET and no PM timer: Debian's 6.1 calibrates its TSC against the PIT
    alone, and when the quick calibration fails (often on a loaded host) it finds no other
    reference and never reaches user space. Give it the TSC's rate instead (tsc_early_khz=),
    so the boot does not depend on how busy the host is."""
    khz = host_tsc_khz()
    return f"tsc_early_khz={khz}" if khz else ""


def boot_linux(extra_qemu_args=(), cmdline="", timeout=300, vbench=(), trace=None, mem=512,
               guest_dir=GUEST, echo=False, on_line=None, machine="q35"):
    """Boot the Linux peer with the caller's device options and wait for it to exit.

    extra_qemu_args  device options (blk_args(), net_args(), ...), appended to machine_args()
    cmdline          extra kernel parameters
    vbench           vbench commands (a string or a list) run in order by /init, e.g.
                     ["blk /dev/vda rw=randread qd=32 n=20000"]; none: an interactive shell
                     (then give a timeout and expect timed_out)
    trace            a trace file path: run with trace_args(trace)
    on_line          called with each output line as it arrives, e.g. to start a host-side
                     sender when "vbench: tcpsink listening on PORT" appears
    Returns a LinuxRun; raises nothing on guest failure (check exit_code and results).
    """
    kernel = os.path.join(guest_dir, "vmlinuz")
    initrd = os.path.join(guest_dir, "initramfs.gz")
    for f in (kernel, initrd):
        if not os.path.exists(f):
            raise SystemExit(f"{f} is missing: run `make bench` or bench/linux/build-guest.sh {guest_dir}")
    run = LinuxRun()
    if machine.split(",")[0] == "microvm" and "tsc_early_khz" not in cmdline:
        cmdline = " ".join(x for x in (cmdline, microvm_clock_cmdline()) if x)
    args = machine_args(mem, machine) + ["-kernel", kernel, "-initrd", initrd,
                                "-append", _cmdline(cmdline, vbench)] + list(extra_qemu_args)
    if trace:
        if os.path.exists(trace):
            os.unlink(trace)
        args += trace_args(trace)
        run.trace = trace
    run.args = args
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, bufsize=0)
    deadline = t0 + timeout
    buf = b""
    pending = None  # wall stamp of the last "linux: run vbench" line
    pending_cpu = None  # QEMU's CPU seconds then

    def line_done(raw):
        nonlocal pending, pending_cpu
        mono, wall = time.monotonic() - t0, time.time()
        text = raw.decode("utf-8", "replace").rstrip("\r")
        run.lines.append((mono, wall, text))
        if echo:
            print(f"[{mono:8.3f}] {text}", flush=True)
        if on_line:
            on_line(text)
        if run.userspace_s is None and text.startswith(USERSPACE_LINE):
            run.userspace_s = mono
        elif text.startswith("linux: ready"):
            run.ready_s = mono
            m = re.search(r"uptime=([\d.]+)s", text)
            run.kernel_uptime_s = float(m.group(1)) if m else None
        elif text.startswith("linux: run vbench"):
            pending, pending_cpu = wall, host_cost.proc_cpu_s(proc.pid)
        elif text.startswith("bench="):
            row = kv(text)
            row["t_start"], row["t_end"] = pending, wall
            cpu = host_cost.proc_cpu_s(proc.pid)
            row["cpu_s"] = cpu - pending_cpu if cpu is not None and pending_cpu is not None else None
            run.results.append(row)
            pending = pending_cpu = None

    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                run.timed_out = True
                break
            r, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
            if not r:
                continue
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line_done(raw)
        if buf:
            line_done(buf)
    finally:
        if proc.poll() is None:
            proc.kill()
        run.status = proc.wait()
    run.output = "\n".join(t for _, _, t in run.lines)
    if run.status is not None and run.status > 0 and run.status & 1:
        run.exit_code = run.status >> 1
    return run


# -- trace counting --------------------------------------------------------------------------
_TRACE_RE = re.compile(r"^(?:\d+@(\d+\.\d+):)?(virtio_\w+) (.*)$")


def parse_trace(path):
    """(wall time or None, event, {field: value}) for every virtio line of a QEMU log file."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = _TRACE_RE.match(line.strip())
            if not m:
                continue
            fields = dict(re.findall(r"(\w+) (\S+)", m.group(3)))
            out.append((float(m.group(1)) if m.group(1) else None, m.group(2), fields))
    return out


def count_trace(path, t0=None, t1=None):
    """Kicks, interrupts and (virtio-blk) completed requests per device and queue.

    Devices are QEMU's VirtIODevice pointers, named "blk" (the one, or "blk0", "blk1"... by
    first appearance, that logs virtio_blk_req_complete) or "dev0", "dev1"... otherwise (with
    one disk and one NIC, "dev0" is the NIC). Queues are the virtqueue index n; virtio_notify
    lines carry only the vq pointer, mapped to n through the kicks of the same queue ("?" if
    the queue was never kicked). t0/t1 (time.time() stamps) select a window.
    Returns {name: {"vdev", "kicks", "irqs", "requests", "queues": {n: {"kicks", "irqs"}},
                     "events": {event: count}}}.
    """
    events = parse_trace(path)
    vq_index = {}
    for _, ev, f in events:
        if ev == "virtio_queue_notify" and "vq" in f:
            vq_index[f["vq"]] = int(f["n"])
    blk_vdevs, order = [], []
    for _, ev, f in events:
        v = f.get("vdev")
        if v is None:
            continue
        if v not in order:
            order.append(v)
        if ev in ID_EVENTS and v not in blk_vdevs:
            blk_vdevs.append(v)
    names = {}
    for i, v in enumerate(blk_vdevs):
        names[v] = "blk" if len(blk_vdevs) == 1 else f"blk{i}"
    k = 0
    for v in order:
        if v not in names:
            names[v] = f"dev{k}"
            k += 1
    res = {}
    for t, ev, f in events:
        if t0 is not None and t is not None and t < t0:
            continue
        if t1 is not None and t is not None and t > t1:
            continue
        v = f.get("vdev")
        if v is None:
            continue
        d = res.setdefault(names[v], {"vdev": v, "kicks": 0, "irqs": 0, "requests": 0, "queues": {},
                                      "events": collections.Counter()})
        d["events"][ev] += 1
        if ev in KICK_EVENTS or ev in IRQ_EVENTS:
            n = int(f["n"]) if "n" in f else vq_index.get(f.get("vq"), "?")
            q = d["queues"].setdefault(n, {"kicks": 0, "irqs": 0})
            key = "kicks" if ev in KICK_EVENTS else "irqs"
            d[key] += 1
            q[key] += 1
        elif ev == "virtio_blk_req_complete":
            d["requests"] += 1
    for d in res.values():
        d["events"] = dict(d["events"])
    return res


def window_counts(run, i, device="blk"):
    """Trace counts of one device while run.results[i] ran (between its "linux: run vbench"
    line and its bench= line), plus per-request ratios over the bench's n."""
    r = run.results[i]
    counts = count_trace(run.trace, r["t_start"], r["t_end"]).get(device)
    if counts is None:
        return None
    counts = dict(counts)
    if "n" in r:  # blk, udp: per request
        n = int(r["n"]) or 1
        counts["kicks_per_req"] = round(counts["kicks"] / n, 3)
        counts["irqs_per_req"] = round(counts["irqs"] / n, 3)
    if "bytes" in r:  # tcp, tcpsink: per MB moved
        mb = int(r["bytes"]) / 1e6 or 1
        counts["kicks_per_mb"] = round(counts["kicks"] / mb, 2)
        counts["irqs_per_mb"] = round(counts["irqs"] / mb, 2)
    return counts


# -- alternated runs and ratios --------------------------------------------------------------
def alternate(rounds, runners):
    """Run each runner once per round, in turn (Vireo, Linux, Vireo, Linux ...), so slow
    drift of the host (other load, thermal) hits both guests alike.
    runners: {"vireo": fn, "linux": fn}, each fn() -> list of result rows (dicts).
    Returns {name: [rows of round 0, rows of round 1, ...]}."""
    out = {name: [] for name in runners}
    for _ in range(rounds):
        for name, fn in runners.items():
            out[name].append(fn())
    return out


def medians(rounds_rows, key=("bench", "backend", "rw", "qd"), metrics=("iops", "p50_us", "p99_us")):
    """Per key (the row fields that identify one measurement), the median of each metric over
    the rounds. rounds_rows: a list (rounds) of lists of rows, as alternate() returns."""
    acc = collections.OrderedDict()
    for rows in rounds_rows:
        for r in rows:
            k = tuple(str(r.get(f, "")) for f in key)
            d = acc.setdefault(k, {m: [] for m in metrics})
            for m in metrics:
                if r.get(m) not in (None, ""):
                    d[m].append(float(r[m]))
    return {k: {m: statistics.median(v) for m, v in d.items() if v} for k, d in acc.items()}


def ratio_rows(vireo_med, linux_med, key=("bench", "backend", "rw", "qd")):
    """One row per measurement both guests have: the medians and the Vireo/Linux ratio of each
    metric (iops: > 1 is Vireo faster; latencies: < 1 is Vireo faster)."""
    rows = []
    for k, vm in vireo_med.items():
        lm = linux_med.get(k)
        if lm is None:
            continue
        row = dict(zip(key, k))
        for m in vm:
            if m in lm:
                row[f"vireo_{m}"] = vm[m]
                row[f"linux_{m}"] = lm[m]
                row[f"ratio_{m}"] = round(vm[m] / lm[m], 3) if lm[m] else None
        rows.append(row)
    return rows


# -- measurement CLI -------------------------------------------------------------------------
def measure_boot(runs):
    times, ready, uptime = [], [], []
    for _ in range(runs):
        r = boot_linux(vbench=["exit 0"], extra_qemu_args=blk_args("null") + net_args(), timeout=120)
        if r.userspace_s is None:
            raise SystemExit(f"Linux guest did not reach user space:\n{r.output[-3000:]}")
        times.append(r.userspace_s)
        ready.append(r.ready_s)
        uptime.append(r.kernel_uptime_s)
    return {"bench": "boot", "guest": "linux", "runs": runs,
            "userspace_ms_median": round(statistics.median(times) * 1000),
            "userspace_ms_min": round(min(times) * 1000),
            "ready_ms_median": round(statistics.median(ready) * 1000),
            "guest_uptime_at_ready_ms": round(statistics.median(uptime) * 1000)}


def measure_blk(kind, qds, n, image, trace_dir, traced=True):
    cmds = [f"blk /dev/vda rw=randread bs=4096 qd={qd} n={n}" for qd in qds]
    trace = os.path.join(trace_dir, f"linux-{kind}.trace") if traced else None
    r = boot_linux(extra_qemu_args=blk_args(kind, image) + net_args(), vbench=cmds, trace=trace, timeout=900)
    if r.exit_code != 0 or len(r.results) != len(cmds):
        raise SystemExit(f"Linux blk run failed (status {r.status}):\n{r.output[-3000:]}")
    rows = []
    for i, res in enumerate(r.results):
        row = {"bench": "blk", "guest": "linux", "backend": kind, "traced": int(traced),
               "qd": int(res["qd"]), "n": int(res["n"]), "iops": int(res["iops"]),
               "p50_us": float(res["p50_us"]), "p99_us": float(res["p99_us"]),
               "host_secs": round(res["t_end"] - res["t_start"], 3),
               "guest_irqs_per_req": float(res["irqs_per_req"])}
        if traced:
            c = window_counts(r, i)
            row.update({"trace_reqs": c["requests"], "kicks_per_req": c["kicks_per_req"],
                        "irqs_per_req": c["irqs_per_req"]})
        rows.append(row)
    return rows


class HostUdpEcho:
    """UDP echo server on the host; the guest reaches it as 10.0.2.2:port (slirp)."""

    def __init__(self, port=0):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                d, a = self.sock.recvfrom(65536)
                self.sock.sendto(d, a)
            except OSError:
                return

    def close(self):
        self.sock.close()


class HostTcpSink:
    """The host side of a guest sender: accepts one TCP connection on 127.0.0.1 (the guest
    connects to 10.0.2.2:port, slirp) and reads it to EOF. result: bytes, and secs from the
    accept to EOF (the host's measure of the guest's rate)."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(600)
        self.port = self.sock.getsockname()[1]
        self.result = {}
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        t0, n = time.monotonic(), 0
        with c:
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                n += len(d)
        self.result.update(bytes=n, secs=time.monotonic() - t0)

    def wait(self, timeout=60):
        self.thread.join(timeout)
        return self.result

    def close(self):
        self.sock.close()


def host_tcp_send(port, nbytes, result):
    """Plain TCP sender (the host side of tcpsink): connect to 127.0.0.1:port (a hostfwd to the
    guest), send nbytes, close. Stores bytes sent and seconds in result."""
    import socket
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    buf = b"\xa5" * (1 << 20)
    sent = 0
    while sent < nbytes:
        sent += s.send(buf[: min(len(buf), nbytes - sent)])
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the guest's close after EOF
    s.close()
    result.update(bytes=sent, secs=time.monotonic() - t0)


def measure_net(n, mbytes, trace_dir, port=15001):
    """UDP request/response from the guest to a host echo server, and a host -> guest TCP stream
    into vbench tcpsink through a hostfwd, started when the guest says it is listening."""
    import threading
    echo = HostUdpEcho()
    sent = {}

    def on_line(text):
        if text.startswith("vbench: tcpsink listening"):
            threading.Thread(target=host_tcp_send, args=(port, mbytes << 20, sent), daemon=True).start()

    trace = os.path.join(trace_dir, "linux-net.trace")
    try:
        r = boot_linux(extra_qemu_args=net_args(hostfwd=[f"tcp:127.0.0.1:{port}-:5001"]),
                       vbench=[f"udp 10.0.2.2 {echo.port} n={n}", "tcpsink 5001"], trace=trace,
                       timeout=600, on_line=on_line)
    finally:
        echo.close()
    if r.exit_code != 0 or len(r.results) != 2:
        raise SystemExit(f"Linux net run failed (status {r.status}):\n{r.output[-3000:]}")
    rows = []
    for i, res in enumerate(r.results):
        c = window_counts(r, i, "dev0") or {}
        row = {k: res[k] for k in res if not k.startswith("t_")}
        row.update({k: c[k] for k in c if k.endswith("_per_req") or k.endswith("_per_mb")})
        rows.append(row)
    return rows


def print_rows(rows):
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    widths = [max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths)))
    for r in rows:
        print("  ".join(str(r.get(k, "")).ljust(w) for k, w in zip(keys, widths)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measure", action="store_true", help="boot times and the blk table")
    ap.add_argument("--smoke", action="store_true", help="one quick traced boot + blk run")
    ap.add_argument("--net", action="store_true", help="with --measure: also UDP and TCP")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--image", default=os.path.join(BUILD, "bench", "blk-raw.img"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="linux-peer-")
    if a.smoke:
        rows = measure_blk("null", [1, 8], 200, None, tmp)
        print_rows(rows)
        ok = all(r["iops"] > 0 and r["trace_reqs"] >= r["n"] for r in rows)
        sys.exit(0 if ok else 1)
    if not a.measure:
        ap.print_help()
        return
    print_rows([measure_boot(a.runs)])
    make_raw_image(a.image)
    rows = []
    for kind in ("raw", "null"):
        for traced in (False, True):
            rows += measure_blk(kind, [1, 32], a.n, a.image, tmp, traced)
    print()
    print_rows(rows)
    if a.net:
        print()
        print_rows(measure_net(2000, 64, tmp))


if __name__ == "__main__":
    main()
