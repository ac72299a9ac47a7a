#!/usr/bin/python3
"""Run every test of `make check` and print one summary line at the end.

Parts, in order: host unit tests (cmocka, TAP output), fuzz smoke runs (libFuzzer, a few
seconds each), benchmark smoke runs (bench/run.py --smoke), the two-thread ring test
(build/bench/ringtest --check), the tree tests (tests/tree: the
build from a clean tree), the coverage report (make coverage, at least 90 % of the portable
code's lines), and the QEMU system tests
(pytest, tests/system), once per QEMU given with --qemu. Each part's own output is shown, then
a summary with a line per part (each QEMU version named), and last "N passed, N failed"
counted over all of them. Exit status is non-zero when anything failed.
"""
import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")


def run_host_tests(bins):
    passed = failed = 0
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    for b in bins:
        print(f"== host: {b}", flush=True)
        p = subprocess.run([b], env=env, capture_output=True, text=True)
        out = p.stdout + p.stderr
        sys.stdout.write(out)
        ok = len(re.findall(r"^ok \d+", out, re.M))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        if p.returncode != 0 and bad == 0:
            # Crashed or exited non-zero without saying which test: count the binary as a failure.
            print(f"{b}: exited with status {p.returncode}")
            bad = 1
        passed += ok
        failed += bad
    return passed, failed


def run_fuzz_smoke(bins, seconds):
    passed = failed = 0
    for b in bins:
        print(f"== fuzz smoke: {b} ({seconds} s)", flush=True)
        p = subprocess.run([os.path.join(ROOT, "scripts/run-fuzz.sh"), str(seconds), b])
        if p.returncode == 0:
            passed += 1
        else:
            failed += 1
            print(f"FAILED: fuzz target {b} found a problem (see above)")
    return passed, failed


def run_bench_smoke():
    print("== bench smoke: bench/run.py --smoke", flush=True)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench/run.py"), "--smoke"])
    if p.returncode == 0:
        return 1, 0
    print("FAILED: bench smoke run")
    return 0, 1


def run_ring_threads():
    """The two-thread test of the ring's ordering rules: build/bench/ringtest --check runs a
    driver thread and a device thread on one ring in every format and mode; a lost kick or
    interrupt stalls it, and its watchdog fails it (bench/ringtest/ringtest.c)."""
    print("== two-thread ring test: build/bench/ringtest --check", flush=True)
    p = subprocess.run([os.path.join(ROOT, BUILD, "bench", "ringtest"), "--check"],
                       stdout=subprocess.DEVNULL)
    if p.returncode == 0:
        print("ringtest --check: every configuration completed")
        return 1, 0
    print("FAILED: ringtest --check")
    return 0, 1


def junit_counts(junit, returncode):
    """passed, failed from a pytest JUnit file (skips count as neither)."""
    if not os.path.exists(junit):
        print(f"pytest exited with {returncode} and wrote no results")
        return 0, 1
    passed = failed = 0
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        tests = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        failed += bad
        passed += tests - bad - skipped
    if returncode not in (0, 1) and failed == 0:
        failed = 1  # pytest itself broke (usage error, internal error, no tests collected)
    return passed, failed


def run_pytest(folder, tag, extra, env=None):
    os.makedirs(os.path.join(ROOT, BUILD, "test-results"), exist_ok=True)
    junit = os.path.join(ROOT, BUILD, "test-results", f"{tag}.xml")
    if os.path.exists(junit):
        os.unlink(junit)
    cmd = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
           f"--junitxml={junit}", os.path.join(ROOT, folder)] + extra
    p = subprocess.run(cmd, cwd=ROOT, env=env)
    return junit_counts(junit, p.returncode)


COVERAGE_FLOOR = 90  # per cent of the portable code's lines the host tests must run


def run_coverage():
    """make coverage (the host tests with gcov counters, gcovr's report in build/coverage/):
    passes when every test passed and the total line coverage is at least the floor."""
    print("== coverage (make coverage: host tests with gcov, gcovr)", flush=True)
    p = subprocess.run(["make", "--no-print-directory", "coverage"], cwd=ROOT,
                       capture_output=True, text=True)
    print("\n".join(l for l in p.stdout.splitlines() if not l.startswith("  HOST")))
    if p.stderr:
        print(p.stderr, end="")
    m = re.search(r"^TOTAL\s+\d+\s+\d+\s+(\d+)%", p.stdout, re.M)
    if p.returncode or not m:
        print(f"coverage: make coverage failed (exit {p.returncode})")
        return 0, 1
    ok = int(m.group(1)) >= COVERAGE_FLOOR
    print(f"coverage: {m.group(1)}% of lines (floor {COVERAGE_FLOOR}%): {'ok' if ok else 'too low'}")
    return (1, 0) if ok else (0, 1)


def run_tree_tests():
    print("== tree tests (pytest: the build from a clean tree)", flush=True)
    return run_pytest("tests/tree", "tree", [])


def qemu_label(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return f"QEMU {m.group(1) if m else '?'}"


def run_system_tests(extra, binary, tag):
    """The pytest system tests with one QEMU binary (VIREO_QEMU); results in system-<tag>.xml."""
    label = qemu_label(binary)
    print(f"== system tests (pytest, {label}, TCG)", flush=True)
    passed, failed = run_pytest("tests/system", f"system-{tag}", extra,
                                env=dict(os.environ, VIREO_QEMU=binary))
    return passed, failed, label


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", nargs="*", default=[])
    ap.add_argument("--fuzz", nargs="*", default=[])
    ap.add_argument("--fuzz-seconds", type=int, default=int(os.environ.get("FUZZ_SMOKE_SECONDS", "10")))
    ap.add_argument("--pytest-args", default=os.environ.get("PYTEST_ARGS", ""))
    # TAG=BINARY pairs: the system tests run once with each QEMU.
    ap.add_argument("--qemu", nargs="*", default=["7.2=qemu-system-x86_64"])
    a = ap.parse_args()

    lines = []
    total_p = total_f = 0
    for name, part in [
        ("host unit tests", lambda: run_host_tests(a.host)),
        ("fuzz smoke runs", lambda: run_fuzz_smoke(a.fuzz, a.fuzz_seconds)),
        ("bench smoke run", run_bench_smoke),
        ("two-thread ring test", run_ring_threads),
        ("tree tests", run_tree_tests),
        ("coverage", run_coverage),
    ]:
        p, f = part()
        lines.append(f"{name}: {p} passed, {f} failed")
        total_p += p
        total_f += f
    for pair in a.qemu:
        tag, binary = pair.split("=", 1)
        p, f, label = run_system_tests(a.pytest_args.split(), binary, tag)
        lines.append(f"system tests on {label}: {p} passed, {f} failed")
        total_p += p
        total_f += f
    print("== summary")
    for line in lines:
        print(f"  {line}")
    print(f"{total_p} passed, {total_f} failed")
    sys.exit(1 if total_f else 0)


if __name__ == "__main__":
    main()
