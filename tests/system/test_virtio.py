"""virtio-rng under QEMU (TCG) on every transport, interrupt kind and completion mode.

Each case boots Vireo with one `virtio-rng-pci` and the command line
`<options> -- rng 64; virtio; poweroff 3`, then checks from the guest's own report:
  - `rng 64` printed 64 bytes (128 hex digits, two lines of 32 bytes);
  - the `virtio` command's header line: transport (modern/legacy), mode (irq/poll/hybrid),
    irq kind (msix/msix-shared/intx/none);
  - the offered and negotiated features by name (VERSION_1 only on the modern transport;
    RING_INDIRECT_DESC / RING_EVENT_IDX only when QEMU offers them and the command line does not
    turn them off);
  - the queue's counters: every request completed, at least one kick, interrupts > 0 when the
    device interrupts (irq mode), exactly 0 in poll mode; the INTx line's counter with INTx.

QEMU knobs (virtio-rng-pci): disable-legacy=on (modern-only, device id 0x1044),
disable-modern=on (legacy-only), vectors=N (MSI-X table size; 0 = no MSI-X, so INTx),
indirect_desc=off / event_idx=off (not offered). Vireo knobs: virtio.mode=irq|poll|hybrid,
virtio.transport=legacy, virtio.msix=0, virtio.indirect=0, virtio.event_idx=0.
"""
import re

import pytest

from vireo import exit_code, need_in_order

HEADER = re.compile(r"^rng0: ([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) 1af4:([0-9a-f]{4}) virtio-rng, "
                    r"transport (\w+), mode (\w+), irq ([\w-]+)(.*)$", re.M)
QUEUE = re.compile(r"^  queue 0 requestq size (\d+)\s+vector (\S+)\s+requests=(\d+) completed=(\d+) "
                   r"kicks=(\d+) suppressed=(\d+) interrupts=(\d+) spurious=(\d+) indirect=(\d+)",
                   re.M)
INTX = re.compile(r"^  intx: line (\d+), (\d+) interrupts, (\d+) not ours$", re.M)

MODERN_FEATURES = {"RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"}
LEGACY_FEATURES = {"RING_INDIRECT_DESC", "RING_EVENT_IDX"}


def run_rng(boot, device="virtio-rng-pci", options="", machine="q35", boot_path="multiboot"):
    """Boot, run `rng 64; virtio`, return (rng bytes as hex, parsed virtio report, output)."""
    v = boot(boot=boot_path, machine=machine, append=f"{options} -- rng 64; virtio; poweroff 3",
             extra=["-device", device])
    assert exit_code(v.wait_exit(timeout=120)) == 3, v.output[-3000:]
    out = v.output
    m = re.search(r"vireo> rng 64\n((?:[0-9a-f]+\n)+)vireo> virtio\n", out)
    assert m, f"no rng output:\n{out[-3000:]}"
    lines = m.group(1).split()
    assert [len(x) for x in lines] == [64, 64], lines
    hexbytes = "".join(lines)
    report = out[m.end():out.index("vireo> poweroff")]
    h = HEADER.search(report)
    assert h, f"no virtio header line:\n{report}"
    q = QUEUE.search(report)
    assert q, f"no queue line:\n{report}"
    offered = re.search(r"^  offered:\s+(.*)$", report, re.M).group(1).split()
    negotiated = re.search(r"^  negotiated:\s+(.*)$", report, re.M).group(1).split()
    info = {
        "bdf": h.group(1), "device": int(h.group(2), 16), "transport": h.group(3),
        "mode": h.group(4), "irq": h.group(5), "flags": h.group(6), "offered": set(offered),
        "negotiated": set(negotiated) - {"(none)"}, "size": int(q.group(1)),
        "vector": q.group(2), "requests": int(q.group(3)), "completed": int(q.group(4)),
        "kicks": int(q.group(5)), "interrupts": int(q.group(7)), "spurious": int(q.group(8)),
        "intx": INTX.search(report), "report": report,
    }
    return hexbytes, info, out


def check_common(info, out):
    assert "FAILED" not in info["flags"] and "error:" not in info["report"], info["report"]
    # the boot's seed read (4 bytes) and `rng 64`: every request completed, each kicked
    assert info["requests"] >= 2, info["report"]
    assert info["completed"] == info["requests"], info["report"]
    assert 1 <= info["kicks"] <= info["requests"], info["report"]
    assert "BROKEN" not in info["report"]
    assert "virtio: rand() seeded from rng0" in out
    # only offered features are negotiated
    assert info["negotiated"] <= info["offered"], info["report"]


# (id, device properties, command line, transport, device id, irq kind, vector column)
TRANSPORTS = [
    ("transitional", "", "", "modern", 0x1005),
    ("modern-only", ",disable-legacy=on", "", "modern", 0x1044),
    ("legacy-only", ",disable-modern=on", "", "legacy", 0x1005),
    ("transitional-as-legacy", "", "virtio.transport=legacy", "legacy", 0x1005),
]
MODES = ["irq", "poll", "hybrid"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,props,opts,transport,devid", TRANSPORTS, ids=[t[0] for t in TRANSPORTS])
def test_transport_and_mode(boot, name, props, opts, transport, devid, mode):
    """Every transport in every mode: MSI-X per queue (QEMU's default 2 vectors) or none."""
    hexbytes, info, out = run_rng(boot, f"virtio-rng-pci{props}", f"{opts} virtio.mode={mode}")
    check_common(info, out)
    assert (info["transport"], info["device"], info["mode"]) == (transport, devid, mode)
    if mode == "poll":
        assert info["irq"] == "none" and info["vector"] == "none"
        assert info["interrupts"] == 0, info["report"]
    else:
        assert info["irq"] == "msix", info["report"]
        assert re.fullmatch(r"msix1/\d+", info["vector"]), info["vector"]
        if mode == "irq":
            assert info["interrupts"] > 0, info["report"]
    want = MODERN_FEATURES if transport == "modern" else LEGACY_FEATURES
    assert info["negotiated"] == want, info["report"]
    if transport == "legacy":
        # legacy devices offer bits the driver must not take
        assert {"NOTIFY_ON_EMPTY", "ANY_LAYOUT", "BAD_FEATURE"} <= info["offered"]
        assert "VERSION_1" not in info["offered"]
    else:
        assert "VERSION_1" in info["offered"]


# Ring formats: (id, device properties, command line, ring reported, extra features negotiated)
RINGS = [
    ("packed", ",packed=on", "virtio.packed=1", "packed", {"RING_PACKED"}),
    ("packed-offered-not-taken", ",packed=on", "", "split", set()),
    ("packed-taken-not-offered", "", "virtio.packed=1", "split", set()),
    ("packed-rng-only", ",packed=on", "virtio.blk.packed=1 virtio.rng.packed=1", "packed",
     {"RING_PACKED"}),
    ("packed-but-not-rng", ",packed=on", "virtio.packed=1 virtio.rng.packed=0", "split", set()),
    ("in-order", ",in_order=on", "virtio.in_order=1", "split in-order", {"IN_ORDER"}),
    ("packed-in-order", ",packed=on,in_order=on", "virtio.packed=1 virtio.in_order=1",
     "packed in-order", {"RING_PACKED", "IN_ORDER"}),
    ("packed-legacy", ",packed=on,disable-modern=on", "virtio.packed=1", "split", set()),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,props,opts,ring,extra", RINGS, ids=[r[0] for r in RINGS])
def test_ring_formats(boot, name, props, opts, ring, extra, mode):
    """The format the device offers and the command line allows, in every mode; the legacy
    interface has no packed format (it needs VERSION_1)."""
    need_in_order(props)
    hexbytes, info, out = run_rng(boot, f"virtio-rng-pci{props}", f"{opts} virtio.mode={mode}")
    check_common(info, out)
    assert f", ring {ring}" in info["flags"], info["report"]
    legacy = "disable-modern" in props
    want = (LEGACY_FEATURES if legacy else MODERN_FEATURES) | extra
    assert info["negotiated"] == want, info["report"]
    if "packed=on" in props and not legacy:
        assert "RING_PACKED" in info["offered"]
    assert re.search(rf"^rng0: .*, {'legacy' if legacy else 'modern'} transport, {ring} ring, "
                     rf"{mode} mode", out, re.M), out[-3000:]
    if mode == "poll":
        assert info["interrupts"] == 0, info["report"]
    elif mode == "irq":
        assert info["interrupts"] > 0, info["report"]


# Interrupt kinds: (id, device properties, command line, irq kind, vector column pattern)
IRQS = [
    ("modern-intx-vectors0", ",disable-legacy=on,vectors=0", "", "intx", r"intx"),
    ("legacy-intx-vectors0", ",disable-modern=on,vectors=0", "", "intx", r"intx"),
    ("transitional-msix0", "", "virtio.msix=0", "intx", r"intx"),
    ("modern-vectors1", ",disable-legacy=on,vectors=1", "", "msix-shared", r"msix0/\d+"),
    ("legacy-vectors1", ",disable-modern=on,vectors=1", "", "msix-shared", r"msix0/\d+"),
    ("modern-vectors2", ",disable-legacy=on,vectors=2", "", "msix", r"msix1/\d+"),
    ("modern-intx-hybrid", ",disable-legacy=on,vectors=0", "virtio.mode=hybrid", "intx", r"intx"),
    ("modern-intx-poll", ",disable-legacy=on,vectors=0", "virtio.mode=poll", "none", r"none"),
]


@pytest.mark.parametrize("name,props,opts,irq,vector", IRQS, ids=[c[0] for c in IRQS])
def test_interrupt_kinds(boot, name, props, opts, irq, vector):
    hexbytes, info, out = run_rng(boot, f"virtio-rng-pci{props}", opts)
    check_common(info, out)
    assert info["irq"] == irq, info["report"]
    assert re.fullmatch(vector, info["vector"]), info["report"]
    if irq == "intx":
        assert info["intx"], info["report"]
        line, n, not_ours = (int(x) for x in info["intx"].groups())
        if "hybrid" not in opts:
            assert n > 0 and info["interrupts"] > 0, info["report"]
        assert n >= info["interrupts"] - info["spurious"]
    else:
        assert not info["intx"]
    if irq == "none":
        assert info["interrupts"] == 0
    elif "mode=" not in opts:
        assert info["interrupts"] > 0, info["report"]
    # MSI-X with one entry: queue completions are not counted as config changes
    assert "config changes: 0" in info["report"], info["report"]


# Features: (id, device properties, command line, negotiated ring features)
FEATURES = [
    ("offered", "", "", {"RING_INDIRECT_DESC", "RING_EVENT_IDX"}),
    ("not-offered", ",indirect_desc=off,event_idx=off", "", set()),
    ("no-indirect-offered", ",indirect_desc=off", "", {"RING_EVENT_IDX"}),
    ("cmdline-indirect0", "", "virtio.indirect=0", {"RING_EVENT_IDX"}),
    ("cmdline-event_idx0", "", "virtio.event_idx=0", {"RING_INDIRECT_DESC"}),
    ("cmdline-both0", "", "virtio.indirect=0 virtio.event_idx=0", set()),
]


@pytest.mark.parametrize("transport", ["modern", "legacy"])
@pytest.mark.parametrize("name,props,opts,ring", FEATURES, ids=[f[0] for f in FEATURES])
def test_ring_features(boot, name, props, opts, ring, transport):
    base = ",disable-legacy=on" if transport == "modern" else ",disable-modern=on"
    hexbytes, info, out = run_rng(boot, f"virtio-rng-pci{base}{props}", opts)
    check_common(info, out)
    assert info["transport"] == transport
    offered_ring = info["offered"] & {"RING_INDIRECT_DESC", "RING_EVENT_IDX"}
    if "indirect_desc=off" in props:
        assert "RING_INDIRECT_DESC" not in offered_ring
    if "event_idx=off" in props:
        assert "RING_EVENT_IDX" not in offered_ring
    want = set(ring) | ({"VERSION_1"} if transport == "modern" else set())
    assert info["negotiated"] == want, info["report"]
    assert info["interrupts"] > 0


@pytest.mark.parametrize("machine,boot_path,props", [
    ("pc", "multiboot", ""),
    ("pc", "multiboot", ",disable-modern=on"),
    ("q35", "uefi", ""),
    ("q35", "uefi", ",disable-modern=on,vectors=0"),
], ids=["pc-transitional", "pc-legacy", "uefi-transitional", "uefi-legacy-intx"])
def test_machines_and_firmware(boot, machine, boot_path, props):
    """pc (0xCF8 config access, PIIX INTx routing) and UEFI (OVMF leaves the device set up:
    the driver's reset must bring it back)."""
    hexbytes, info, out = run_rng(boot, f"virtio-rng-pci{props}", machine=machine,
                                  boot_path=boot_path)
    check_common(info, out)
    assert info["transport"] == ("legacy" if "disable-modern" in props else "modern")
    assert info["irq"] == ("intx" if "vectors=0" in props else "msix")
    assert info["interrupts"] > 0


def test_two_boots_give_different_bytes(boot):
    a, _, _ = run_rng(boot)
    b, _, _ = run_rng(boot)
    assert a != b
    # and not a constant fill
    assert len(set(a[i:i + 2] for i in range(0, len(a), 2))) > 16


def test_no_device(boot):
    v = boot(append="-- rng 8; echo status=$?; virtio; poweroff 3")
    assert exit_code(v.wait_exit(timeout=60)) == 3
    assert "error: no virtio-rng device" in v.output
    assert "status=1" in v.output
    assert "no virtio devices" in v.output
