#!/usr/bin/python3
"""Two Vireo kernels side by side: boot time and virtio-blk null-co 4K random reads.

    bench/compare_kernels.py OLD.elf NEW.elf [--rounds N]

For a change that must not change behaviour (a refactor): both kernels boot alternately in the
same run, on the same QEMU, machine and devices (bench/linux_guest.py's), N rounds each; the
table gives the medians and the new/old ratio. Boot is QEMU start to "vireo: ready" (the
host's clock) and the kernel's own "ready in N ms"; blk is `blk bench` at queue depths 1 and 32
in irq and poll mode. Timing belongs here, not in make check.
"""
import argparse
import os
import re
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import linux_guest as lg  # noqa: E402
from vireo import Vireo, exit_code  # noqa: E402

CMDS = [("irq", 1, "blk bench vda rw=randread bs=4096 qd=1 n=20000"),
        ("irq", 32, "blk bench vda rw=randread bs=4096 qd=32 n=200000"),
        ("poll", 1, "blk bench vda rw=randread bs=4096 qd=1 n=20000"),
        ("poll", 32, "blk bench vda rw=randread bs=4096 qd=32 n=200000")]


def boot_once(kernel):
    t0 = time.monotonic()
    v = Vireo(append="-- poweroff 0", mem=512, extra=lg.blk_args("null") + lg.net_args(),
              kernel=kernel, timeout=300)
    try:
        v.ready()
        wall = (time.monotonic() - t0) * 1000
        own = int(v.expect_re(re.compile(r"vireo: ready in (\d+) ms")).group(1))
        assert exit_code(v.wait_exit()) == 0
    finally:
        v.close()
    return wall, own


def blk_once(kernel, mode):
    cmds = [c for m, _, c in CMDS if m == mode]
    v = Vireo(append=f"virtio.mode={mode} -- " + "; ".join(cmds) + "; poweroff 0", mem=512,
              extra=lg.blk_args("null") + lg.net_args(), kernel=kernel, timeout=600)
    try:
        assert exit_code(v.wait_exit(timeout=600)) == 0, v.output[-2000:]
    finally:
        v.close()
    return [float(m) for m in re.findall(r"^bench=blk .*? iops=([\d.]+)", v.output, re.M)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    res = {k: {"boot_wall": [], "boot_own": [], **{f"{m}_qd{q}": [] for m, q, _ in CMDS}}
           for k in ("old", "new")}
    for r in range(a.rounds):
        for name, kernel in (("old", a.old), ("new", a.new)) if r % 2 == 0 else \
                (("new", a.new), ("old", a.old)):
            wall, own = boot_once(kernel)
            res[name]["boot_wall"].append(wall)
            res[name]["boot_own"].append(own)
            for mode in ("irq", "poll"):
                iops = blk_once(kernel, mode)
                for (m, q, _), x in zip([c for c in CMDS if c[0] == mode], iops):
                    res[name][f"{m}_qd{q}"].append(x)
        print(f"round {r + 1}/{a.rounds} done", flush=True)
    print(f"{'metric':<16} {'old':>12} {'new':>12} {'new/old':>8}   (medians of {a.rounds})")
    for key in res["old"]:
        o, n = statistics.median(res["old"][key]), statistics.median(res["new"][key])
        print(f"{key:<16} {o:>12.1f} {n:>12.1f} {n / o:>8.3f}")
        lo_o, hi_o = min(res["old"][key]), max(res["old"][key])
        lo_n, hi_n = min(res["new"][key]), max(res["new"][key])
        print(f"{'':<16} {lo_o:>5.0f}..{hi_o:<6.0f} {lo_n:>5.0f}..{hi_n:<6.0f}")


if __name__ == "__main__":
    main()
