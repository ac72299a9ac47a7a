#!/usr/bin/python3
"""Markdown tables of build/bench/results.json (for BENCHMARKS.md):

    bench/report_md.py [results.json] > tables.md
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fmt(x, nd=3):
    if x is None or x == "":
        return "–"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}".replace(",", " ")
        return f"{x:.{nd}g}" if abs(x) < 1 else f"{x:.{nd + 1}g}"
    if isinstance(x, int) and abs(x) >= 10000:
        return f"{x:,}".replace(",", " ")
    return str(x)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bench", "results.json")
    with open(path) as f:
        data = json.load(f)
    res, summ = data["results"], data["summary"]
    print(f"Run of {data['time']}, accel {data['accel']}; seconds per part: "
          + ", ".join(f"{p} {s}" for p, s in data.get("seconds", {}).items()) + ".\n")
    print("### Summary (targets)\n")
    print(table(["metric", "Vireo", "Linux", "Vireo/Linux", "target", "met"],
                [[s["metric"], s["vireo"], s["linux"], s["ratio"], s["target"], s["met"] or "–"] for s in summ]))
    boot = res.get("boot") or []
    if boot:
        print("\n### boot (QEMU start to first usable line, ms)\n")
        print(table(["guest", "machine", "boot", "line", "median", "min", "floor (stub)",
                     "share (median - floor)", "guest's own figure"],
                    [[r["guest"], r.get("machine", "q35"), r["boot"], r["line"], r["wall_ms_median"],
                      r["wall_ms_min"], r.get("floor_ms", "–"), r.get("share_ms", "–"),
                      r["kernel_ready_ms"]] for r in boot]))
    blk = [r for r in res.get("blk") or [] if r["bench"] == "blk"]
    if blk:
        qds = sorted({r["qd"] for r in blk})
        for rw in ("randread", "randwrite"):
            rows = []
            for backend in ("raw", "null"):
                keys = [("linux", "irq", 1)] + [("vireo", m, e) for m in ("irq", "poll", "hybrid") for e in (1, 0)]
                for g, m, e in keys:
                    cells = []
                    for qd in qds:
                        r = next((r for r in blk if r["guest"] == g and r["backend"] == backend and r["rw"] == rw
                                  and r["qd"] == qd and (g == "linux" or (r["mode"] == m and r["event_idx"] == e))), None)
                        cells.append(f"{fmt(r['iops'])} ({fmt(r['p50_us'])})" if r else "–")
                    if any(c != "–" for c in cells):
                        label = "Linux" if g == "linux" else f"Vireo {m}, EVENT_IDX {'on' if e else 'off'}"
                        rows.append([backend, label] + cells)
            if rows:
                print(f"\n### blk 4 KiB {rw}: IOPS (median of the rounds; p50 µs in brackets)\n")
                print(table(["backend", "guest"] + [f"qd {q}" for q in qds], rows))
        print("\n### blk kicks / interrupts per request, random read (Vireo: its counters; Linux: trace / /proc/interrupts)\n")
        rows = []
        for backend in ("raw", "null"):
            keys = [("linux", "irq", 1)] + [("vireo", m, e) for m in ("irq", "poll", "hybrid") for e in (1, 0)]
            for g, m, e in keys:
                cells = []
                for qd in qds:
                    r = next((r for r in blk if r["guest"] == g and r["backend"] == backend and r["rw"] == "randread"
                              and r["qd"] == qd and (g == "linux" or (r["mode"] == m and r["event_idx"] == e))), None)
                    cells.append(f"{fmt(r.get('kicks_per_req'))} / {fmt(r.get('irqs_per_req'))}" if r else "–")
                if any(c != "–" for c in cells):
                    label = "Linux" if g == "linux" else f"Vireo {m}, EVENT_IDX {'on' if e else 'off'}"
                    rows.append([backend, label] + cells)
        print(table(["backend", "guest"] + [f"qd {q}" for q in qds], rows))
        tr = [r for r in res["blk"] if r["bench"] == "blk_trace"]
        if tr:
            v = [r for r in tr if r["guest"] == "vireo"]
            bad = [r for r in v if not r["agree"]]
            print(f"\n**Trace cross-check (counting round, n = {tr[0]['n']}):** {len(v) - len(bad)} of {len(v)} "
                  "Vireo commands agree (kicks and interrupts of its counters = QEMU trace, and the trace "
                  "saw exactly n completed requests); "
                  f"Linux: {sum(r['agree'] for r in tr if r['guest'] == 'linux')} of "
                  f"{sum(1 for r in tr if r['guest'] == 'linux')} commands whose /proc/interrupts count "
                  "equals the trace.")
            if bad:
                print("\nDisagreements:\n")
                print(table(["backend", "mode", "EVENT_IDX", "rw", "qd", "kicks counter/trace", "irqs counter/trace", "trace reqs", "why"],
                            [[r["backend"], r["mode"], r["event_idx"], r["rw"], r["qd"],
                              f"{r['counter_kicks']}/{r['trace_kicks']}", f"{r['counter_irqs']}/{r['trace_irqs']}",
                              r["trace_reqs"], r.get("note", "")] for r in bad]))
        fails = [r for r in res["blk"] if r["bench"] == "blk_failure"]
        if fails:
            print("\n**Vireo commands that failed and were rerun in a fresh boot:**\n")
            print(table(["backend", "mode", "EVENT_IDX", "traced", "command", "error"],
                        [[r["backend"], r["mode"], r["event_idx"], r["traced"], r["command"], r["error"]] for r in fails]))
    bd = [r for r in res.get("blk") or [] if r["bench"] == "blk_breakdown"]
    if bd:
        print("\n### Where a qd-1 request's time goes (4 KiB randread, traced round, mean µs; docs/PERFORMANCE.md)\n")
        print(table(["backend", "guest", "mode", "EVENT_IDX", "period (notify to notify)", "guest before the kick",
                     "device: notify to used ring", "then interrupt sent after (share of requests)",
                     "guest after the completion", "requests"],
                    [[r["backend"], r["guest"], r["mode"], r["event_idx"], r["period_us"],
                      r["guest_before_kick_us"], r["device_us"],
                      f"{fmt(r['used_to_irq_us'])} ({fmt(r['irq_share'])})" if r.get("used_to_irq_us") is not None else "none",
                      r["guest_after_completion_us"], r["requests"]]
                     for r in sorted(bd, key=lambda r: (r["backend"], r["guest"] != "linux", r["mode"], -r["event_idx"]))]))
    floor = res.get("floor") or []
    if floor:
        qds = sorted({r["qd"] for r in floor})
        print("\n### blk against the floor: raw image (written data, cache=none), 4 KiB randread\n")
        print("IOPS, QEMU's CPU µs per request, and the fraction of the floor (`qemu-img bench` on the "
              "same file, same aio mode), medians of the rounds.\n")
        rows = []
        for aio in ("threads", "native", "io_uring"):
            for io in (0, 1):
                for g, m in (("floor", ""), ("vireo", "irq"), ("vireo", "poll"), ("vireo", "hybrid"), ("linux", "irq")):
                    cells = []
                    for qd in qds:
                        r = next((r for r in floor if r["aio"] == aio and r["iothread"] == io and r["guest"] == g
                                  and r["mode"] == m and r["qd"] == qd), None)
                        cells.append(f"{fmt(r['iops'])}, {fmt(r['cpu_us_per_req'])} µs, {fmt(r['of_floor'])}" if r else "–")
                    if any(c != "–" for c in cells):
                        rows.append([aio + (", iothread" if io else ""),
                                     "floor (qemu-img)" if g == "floor" else f"{'Vireo' if g == 'vireo' else 'Linux'} {m}"] + cells)
        print(table(["aio", "guest"] + [f"qd {q}: IOPS, CPU/req, of floor" for q in qds], rows))
    net = res.get("net") or []
    if net:
        print("\n### net (medians; kicks / interrupts per unit from the counting round's trace)\n")
        rows = []
        for r in [r for r in net if r["bench"] == "net"]:
            if r["test"].startswith("udp"):
                fig = f"p50 {fmt(r['p50_us'])} µs, p99 {fmt(r['p99_us'])} µs, avg {fmt(r['rtt_avg_us'])} µs"
            elif r["test"] == "tx":
                fig = f"{fmt(r['pps'])} packets/s"
            else:
                fig = f"{fmt(r['mbps'])} MB/s"
            rows.append([r["guest"], r["test"], fig, r["unit"], fmt(r.get("trace_kicks_per_unit")),
                         fmt(r.get("trace_tx_kicks_per_unit")), fmt(r.get("trace_irqs_per_unit"))])
        print(table(["guest", "test", "figure", "per", "kicks", "of which TX", "interrupts"], rows))
        tr = [r for r in net if r["bench"] == "net_trace" and r["guest"] == "vireo"]
        if tr:
            print("\nVireo counters vs trace (counting round): " + "; ".join(
                f"{r['test']}: kicks {r['counter_kicks']}/{r['trace_kicks']}, irqs {r['counter_irqs']}/{r['trace_irqs']}"
                f"{'' if r['agree'] else ' (disagree)'}" for r in tr) + ".")


if __name__ == "__main__":
    main()
