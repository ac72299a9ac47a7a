#!/usr/bin/python3
"""make bench: run Vireo's benchmarks, print one summary table, write build/bench/results.json.

Parts (--only PART, or all):
  boot  QEMU start -> "vireo: ready" wall time, multiboot and UEFI, median of several runs (TCG)
  ring  the host ringtest of the vring core (build/bench/ringtest): ns/request, kicks and
        interrupts per request, batch 1/16/64, notify and poll, EVENT_IDX on and off

--smoke runs each part with tiny counts (make check uses it so the harness never rots) and
checks that every part produced sane numbers.

Why ratios: under TCG the guest's absolute speed depends on the host and on what else runs on
it, so figures are only comparable when measured side by side in one run.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
OUT = os.path.join(BUILD, "bench")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from vireo import Vireo  # noqa: E402


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def bench_boot(smoke):
    runs = 1 if smoke else 7
    results = []
    for boot in ("multiboot", "uefi"):
        times = []
        for _ in range(runs):
            t0 = time.monotonic()
            v = Vireo(boot=boot, machine="q35", append="-- poweroff 0")
            try:
                end = v.ready(timeout=120)
                times.append(time.monotonic() - t0)
                v.expect(" ms", start=end)
                m = re.search(r"vireo: ready in (\d+) ms", v.output)
                inside_ms = int(m.group(1)) if m else None
                v.wait_exit(timeout=60)
            finally:
                v.close()
        results.append({"bench": "boot", "boot": boot, "runs": runs,
                        "wall_ms_median": round(statistics.median(times) * 1000),
                        "wall_ms_min": round(min(times) * 1000),
                        "kernel_ready_ms": inside_ms})
    return results


def bench_ring(smoke):
    exe = os.path.join(BUILD, "bench", "ringtest")
    if not os.path.exists(exe):
        raise SystemExit(f"{exe} is missing: run `make bench` (it builds it)")
    p = subprocess.run([exe] + (["--smoke"] if smoke else []), capture_output=True, text=True, check=True)
    return [dict(kv(l)) for l in p.stdout.splitlines() if l.startswith("bench=ring")]


PARTS = {"boot": bench_boot, "ring": bench_ring}


def check_sane(results):
    """Smoke-mode sanity: every part produced rows with the fields its table needs."""
    problems = []
    for part, rows in results.items():
        if not rows:
            problems.append(f"{part}: no results")
        for r in rows:
            if part == "boot" and not (r["wall_ms_median"] > 0 and r["kernel_ready_ms"] is not None):
                problems.append(f"boot: bad row {r}")
            if part == "ring" and not all(k in r for k in ("ns_per_req", "kicks_per_req", "irqs_per_req")):
                problems.append(f"ring: bad row {r}")
    return problems


def print_table(results):
    for part, rows in results.items():
        print(f"\n== {part}")
        if not rows:
            continue
        keys = list(rows[0].keys())
        widths = [max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys]
        print("  ".join(k.ljust(w) for k, w in zip(keys, widths)))
        for r in rows:
            print("  ".join(str(r.get(k, "")).ljust(w) for k, w in zip(keys, widths)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="all")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    parts = list(PARTS) if a.only == "all" else a.only.split(",")
    for p in parts:
        if p not in PARTS:
            raise SystemExit(f"unknown bench part '{p}' (have: {', '.join(PARTS)})")
    os.makedirs(OUT, exist_ok=True)
    results = {p: PARTS[p](a.smoke) for p in parts}
    print_table(results)
    name = "smoke.json" if a.smoke else "results.json"
    with open(os.path.join(OUT, name), "w") as f:
        json.dump({"time": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results}, f, indent=1)
    if a.smoke:
        problems = check_sane(results)
        for pr in problems:
            print("bench smoke:", pr)
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
