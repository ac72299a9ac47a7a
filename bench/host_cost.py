"""What the host spends: a QEMU process's CPU time (from /proc), and the floor of a block
backend measured by `qemu-img bench` on the same file with the same cache and aio modes.

The floor is what QEMU's block layer alone does on that file, with no guest, no virtqueue and no
interrupt: a guest can approach it, not pass it (with an iothread, QEMU can poll the host
completions the floor's event loop waits for, so a guest can come within noise of it).
`qemu-img bench` has no random pattern; a step that is an odd number of 4 KiB blocks visits
every block of a power-of-two-sized image once, in a scattered order, which is as far from
sequential as the guests' random reads are.
"""
import os
import re
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
# 104729 (a prime) blocks of 4 KiB: odd, so the walk covers every block of a 2^k-block image.
SCATTER_STEP = 104729 * 4096


def proc_cpu_s(pid):
    """User + system CPU seconds of process pid so far, its exited threads included (the aio
    thread pool's workers come and go). None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces) in parentheses: utime and stime
    # are fields 14 and 15 of stat(5), i.e. the 12th and 13th after ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def img_floor(path, aio, qd, n, write=False, cache="none", bs=4096, qemu_img="qemu-img"):
    """qemu-img bench on path (raw): {"iops", "cpu_us_per_req"}, the CPU being the tool's own
    user + system time over the run. path may be "null" for the null-co driver (no host I/O:
    the block layer's own cost)."""
    if path == "null":
        target = ["--image-opts", "driver=null-co,size=1G,read-zeroes=on"]
    else:
        target = ["-f", "raw", "-t", cache, "-i", aio, path]
    args = [qemu_img, "bench", "-c", str(n), "-d", str(qd), "-s", str(bs), "-S",
            str(SCATTER_STEP)] + (["-w"] if write else []) + target
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        raise SystemExit(f"qemu-img bench failed ({status}): {' '.join(args)}\n{out}")
    m = re.search(r"Run completed in ([\d.]+) seconds", out)
    secs = float(m.group(1)) if m else wall
    return {"iops": n / secs, "cpu_us_per_req": (ru.ru_utime + ru.ru_stime) / n * 1e6}
