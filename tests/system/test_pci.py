"""PCI under QEMU (TCG), `pc` and `q35`: Vireo's `lspci` / `lspci -v` against QEMU's own view.

QEMU's view comes from QMP's `query-pci` (structured, and stable across QEMU versions; the
HMP `info pci` text changed its BAR line format between 7.2 and 10.0).

Each machine boots once with several virtio devices, devices behind bridges (a `pci-bridge` on
`pc`, `pcie-root-port`s on `q35`) and a multifunction device; the whole listing is then compared,
function by function and BAR by BAR, with QEMU's `query-pci` for the same machine: every
function QEMU has must be listed with the same ids, class, BARs (type, address, size), interrupt
pin/line and bridge bus numbers, and Vireo must list nothing QEMU does not have.

On `q35` a `pci-testdev` with a 2 GiB 64-bit BAR does not fit below 4 GiB, so SeaBIOS moves the
64-bit prefetchable windows above 4 GiB: the virtio-net BAR4 behind a root port lands at
0x180000000, and `lspci -r` reads a register through it (checked against the monitor's `xp`).
Without such a device SeaBIOS (QEMU 7.2's, even with -m 5000) keeps every BAR below 4 GiB.

Format references: docs/PCI.md ("lspci", "System tests"); QEMU's qapi/pci.json (query-pci).
"""
import os
import re

import pytest

from vireo import exit_code

UNMAPPED = 0xFFFFFFFFFFFFFFFF  # QEMU's PCI_BAR_UNMAPPED

# -- parsers ------------------------------------------------------------------------------------

LSPCI_LINE = re.compile(r"^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{4}):([0-9a-f]{4}) "
                        r"([0-9a-f]{4}) (.+) (\[[^\]]+\]|\(no driver\))$")
LSPCI_BAR = re.compile(r"^  BAR([0-5]) (io|mem32|mem64)( prefetch)? (0x[0-9a-f]+|unassigned) "
                       r"size (0x[0-9a-f]+)$")
LSPCI_IRQ = re.compile(r"^  irq: (?:no pin|INT([A-D]) line (\d+|none)), best (\S+), "
                       r"enabled (\S+)$")


def parse_lspci(text):
    """`lspci` or `lspci -v` output -> {(bus, dev, fn): info}, plus the `intx:` summary lines."""
    funcs, intx, cur = {}, [], None
    for line in text.splitlines():
        m = LSPCI_LINE.match(line)
        if m:
            bdf = (int(m[1], 16), int(m[2], 16), int(m[3], 16))
            assert bdf not in funcs, f"{line!r} listed twice"
            cur = funcs[bdf] = {
                "head": line, "vendor": int(m[4], 16), "device": int(m[5], 16),
                "class": int(m[6], 16), "name": m[7], "driver": m[8], "bars": {}, "irq": None,
                "pin": None, "bridge": None, "multifunction": False, "caps": [], "ecaps": [],
                "extra": [],
            }
            continue
        if line.startswith("intx: "):
            intx.append(line)
            continue
        assert cur is not None and line.startswith("  "), f"unexpected lspci line {line!r}"
        if m := LSPCI_BAR.match(line):
            n = int(m[1])
            assert n not in cur["bars"], line
            cur["bars"][n] = {"type": m[2], "prefetch": bool(m[3]),
                              "addr": None if m[4] == "unassigned" else int(m[4], 16),
                              "size": int(m[5], 16)}
        elif m := LSPCI_IRQ.match(line):
            cur["pin"] = m[1]
            cur["irq"] = None if m[1] is None else (255 if m[2] == "none" else int(m[2]))
            cur["best"], cur["enabled"] = m[3], m[4]
        elif m := re.match(r"^  bridge: secondary bus ([0-9a-f]{2}) subordinate bus ([0-9a-f]{2})$", line):
            cur["bridge"] = (int(m[1], 16), int(m[2], 16))
        elif m := re.match(r"^  rev [0-9a-f]{2} prog-if [0-9a-f]{2} header (\d)( multifunction)?", line):
            cur["header"] = int(m[1])
            cur["multifunction"] = bool(m[2])
        elif m := re.match(r"^  cap ([0-9a-f]{2})@([0-9a-f]{2}) ", line):
            cur["caps"].append((int(m[1], 16), int(m[2], 16), line.strip()))
        elif m := re.match(r"^  ecap ([0-9a-f]{4})@([0-9a-f]{3}) ", line):
            cur["ecaps"].append((int(m[1], 16), int(m[2], 16), line.strip()))
        else:
            cur["extra"].append(line.strip())
    return funcs, intx


def parse_query_pci(buses):
    """QMP `query-pci` -> {(bus, dev, fn): info}, every bus including those behind bridges.
    Only BARs 0..5 are kept: Vireo does not decode ROM BARs."""
    funcs = {}

    def walk(devices):
        for d in devices:
            bdf = (d["bus"], d["slot"], d["function"])
            assert bdf not in funcs, f"query-pci lists {fmt(bdf)} twice"
            bars = {}
            for r in d["regions"]:
                if r["bar"] > 5:
                    continue
                io = r["type"] == "io"
                bars[r["bar"]] = {"io": io, "bits": None if io else (64 if r["mem_type_64"] else 32),
                                  "prefetch": bool(r.get("prefetch")),
                                  "addr": r["address"] & UNMAPPED, "size": r["size"]}
            pin = d.get("irq_pin", 0)
            br = d.get("pci_bridge")
            funcs[bdf] = {"vendor": d["id"]["vendor"], "device": d["id"]["device"],
                          "class_num": d["class_info"]["class"], "bars": bars,
                          "pin": "ABCD"[pin - 1] if pin else None,
                          "irq": d.get("irq") if pin else None,
                          "bridge": (br["bus"]["secondary"], br["bus"]["subordinate"]) if br else None}
            if br:
                walk(br.get("devices", []))
    for bus in buses:
        walk(bus["devices"])
    return funcs


def fmt(bdf):
    return "%02x:%02x.%x" % bdf


def compare(vireo, qemu):
    """Every function, both ways; returns nothing, fails on the first list of differences."""
    errors = []
    for bdf in sorted(set(qemu) - set(vireo)):
        errors.append(f"{fmt(bdf)}: in query-pci, missing from lspci")
    for bdf in sorted(set(vireo) - set(qemu)):
        errors.append(f"{fmt(bdf)}: in lspci, not in query-pci")
    for bdf in sorted(set(vireo) & set(qemu)):
        v, q, where = vireo[bdf], qemu[bdf], fmt(bdf)
        if (v["vendor"], v["device"]) != (q["vendor"], q["device"]):
            errors.append(f"{where}: ids {v['vendor']:04x}:{v['device']:04x} vs "
                          f"{q['vendor']:04x}:{q['device']:04x}")
        if q["class_num"] != v["class"]:
            errors.append(f"{where}: class {v['class']:04x} vs {q['class_num']:04x}")
        if set(v["bars"]) != set(q["bars"]):
            errors.append(f"{where}: BARs {sorted(v['bars'])} vs {sorted(q['bars'])}")
        for n in sorted(set(v["bars"]) & set(q["bars"])):
            vb, qb = v["bars"][n], q["bars"][n]
            vtype = "io" if qb["io"] else f"mem{qb['bits']}"
            if (vb["type"], vb["prefetch"], vb["size"]) != (vtype, qb["prefetch"], qb["size"]):
                errors.append(f"{where} BAR{n}: {vb} vs {qb}")
            # QEMU shows a BAR it does not decode (address 0, or decode off) as unmapped.
            if qb["addr"] == UNMAPPED:
                if vb["addr"] is not None:
                    errors.append(f"{where} BAR{n}: lspci {vb['addr']:#x}, QEMU unmapped")
            elif vb["addr"] != qb["addr"]:
                errors.append(f"{where} BAR{n}: address {vb['addr']} vs {qb['addr']:#x}")
        if (v["pin"], v["irq"]) != (q["pin"], q["irq"]):
            errors.append(f"{where}: irq pin/line {v['pin']}/{v['irq']} vs {q['pin']}/{q['irq']}")
        if v["bridge"] != q["bridge"]:
            errors.append(f"{where}: bridge buses {v['bridge']} vs {q['bridge']}")
        v["extra"] = [e for e in v["extra"] if not e.startswith("probe failed: ")]
        if v["extra"]:
            errors.append(f"{where}: unexpected lspci -v lines {v['extra']}")
    assert not errors, "lspci and query-pci differ:\n" + "\n".join(errors)


def boot_and_list(boot, machine, devices):
    v = boot(machine=machine, extra=devices)
    v.ready()
    brief = v.run("lspci")
    verbose = v.run("lspci -v")
    vfuncs, intx = parse_lspci(verbose)
    bfuncs, _ = parse_lspci(brief)
    # `lspci` is exactly the head lines of `lspci -v`.
    assert [f["head"] for f in bfuncs.values()] == [f["head"] for f in vfuncs.values()]
    assert all(not f["bars"] and f["irq"] is None for f in bfuncs.values())
    # Listed in bus:dev.fn order.
    assert list(vfuncs) == sorted(vfuncs)
    qfuncs = parse_query_pci(v.qmp("query-pci"))
    compare(vfuncs, qfuncs)
    return v, vfuncs, qfuncs, intx


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    return str(path)


def check_common(v, funcs, qfuncs, intx):
    # INTx routing is visible: every function with a pin shows the line firmware wrote (already
    # compared with QEMU), and QEMU's PIRQ lines are 5, 9, 10, 11.
    pinned = [f for f in funcs.values() if f["pin"]]
    assert len(pinned) >= 4
    assert all(f["irq"] in (5, 9, 10, 11) for f in pinned), pinned
    # The per-line INTx statistics (only lines a driver attached to are listed).
    for line in intx:
        m = re.match(r"^intx: line (\d+) gsi (\d+) vector 0x[0-9a-f]+ handlers (\d+) "
                     r"interrupts (\d+) spurious (\d+)$", line)
        assert m, line
        assert int(m[5]) <= int(m[4])
    # The boot log's table matches too.
    # (a function is logged either unbound, "pci BB:DD.F: VVVV:DDDD (no driver)", or as bound).
    for bdf, f in funcs.items():
        assert re.search(rf"^pci {fmt(bdf)}: ({f['vendor']:04x}:{f['device']:04x} |bound to )",
                         v.output, re.M), fmt(bdf)
    # No problems with QEMU's well-formed devices.
    assert "problems:" not in v.output


# -- tests --------------------------------------------------------------------------------------

def test_q35_ecam_root_ports_multifunction_64bit_high(boot, disk):
    devices = [
        "-drive", f"if=none,id=d0,file={disk},format=raw",
        "-netdev", "user,id=n0",
        # 2 GiB 64-bit BAR: the 32-bit window cannot hold it, so 64-bit BARs go above 4 GiB.
        "-device", "pci-testdev,addr=4.0,membar=2G",
        "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=2.0",
        "-device", "virtio-net-pci,bus=rp1,netdev=n0",
        "-device", "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=3.0",
        "-device", "virtio-blk-pci,bus=rp2,drive=d0",
        "-device", "virtio-rng-pci,bus=pcie.0,addr=5.0,multifunction=on",
        "-device", "virtio-rng-pci,bus=pcie.0,addr=5.1",
        "-device", "virtio-rng-pci,bus=pcie.0,addr=5.2",
    ]
    v, funcs, qfuncs, intx = boot_and_list(boot, "q35", devices)

    # ECAM from the MCFG; the count is the number of functions QEMU has.
    m = re.search(r"^pci: (\d+) functions via ECAM$", v.output, re.M)
    assert m, v.output[-3000:]
    assert int(m[1]) == len(qfuncs) == len(funcs)
    check_common(v, funcs, qfuncs, intx)

    # Root ports: PCIe root port capability, extended capabilities at 0x100 (only reachable
    # through ECAM), each port's secondary bus holding one virtio device.
    for port, bus, dev_id, name in [((0, 2, 0), 1, 0x1041, "virtio-net"),
                                    ((0, 3, 0), 2, 0x1042, "virtio-blk")]:
        p = funcs[port]
        assert (p["vendor"], p["device"], p["class"]) == (0x1b36, 0x000c, 0x0604)
        assert p["bridge"] == (bus, bus)
        assert any(c[0] == 0x10 and c[2].endswith("PCIe: root port") for c in p["caps"])
        assert any(e[1] == 0x100 for e in p["ecaps"]), p
        d = funcs[(bus, 0, 0)]
        assert (d["vendor"], d["device"]) == (0x1af4, dev_id)
        assert d["name"] == name
        assert any(c[2].endswith("PCIe: endpoint") for c in d["caps"])
        assert any("virtio common BAR4+0x0" in c[2] for c in d["caps"])
    assert [b for b in sorted(funcs) if b[0] != 0] == [(1, 0, 0), (2, 0, 0)]

    # Multifunction: 00:05.0 says so, .1 and .2 are found, nothing else on device 5.
    assert [b for b in funcs if b[:2] == (0, 5)] == [(0, 5, 0), (0, 5, 1), (0, 5, 2)]
    assert funcs[(0, 5, 0)]["multifunction"]
    for fn in range(3):
        f = funcs[(0, 5, fn)]
        assert f["name"] == "virtio-rng (transitional)"
        assert f["bars"][0]["type"] == "io" and f["bars"][0]["addr"]

    # 64-bit BARs above 4 GiB: the test device's 2 GiB BAR and virtio-net's BAR4 behind rp1.
    big = funcs[(0, 4, 0)]["bars"][2]
    assert big["type"] == "mem64" and big["prefetch"] and big["size"] == 1 << 31
    assert big["addr"] >= 1 << 32
    net_bar4 = funcs[(1, 0, 0)]["bars"][4]
    assert net_bar4["type"] == "mem64" and net_bar4["addr"] >= 1 << 32, net_bar4
    # Mapped and readable: virtio common config + 4 is device_feature (select 0, so the low
    # feature bits); Vireo's read through its mapping equals QEMU's physical read.
    phys = net_bar4["addr"] + 4
    out = v.run("lspci -r 01:00.0 4 0x4")
    m = re.fullmatch(r"01:00\.0 BAR4 phys (0x[0-9a-f]+) = (0x[0-9a-f]{8})", out.strip())
    assert m, out
    assert int(m[1], 16) == phys
    xp = v.monitor(f"xp /1wx {phys:#x}")
    mx = re.fullmatch(r"([0-9a-f]+): (0x[0-9a-f]+)", xp.strip())
    assert mx and int(mx[1], 16) == phys, xp
    assert int(m[2], 16) == int(mx[2], 16)
    assert int(m[2], 16) not in (0, 0xFFFFFFFF)  # some feature bits, and the BAR decodes
    # Same through a 32-bit BAR below 4 GiB (the blk device's MSI-X table: entry 0's address).
    blk_bar1 = funcs[(2, 0, 0)]["bars"][1]
    out = v.run("lspci -r 02:00.0 1 0x0")
    xp = v.monitor(f"xp /1wx {blk_bar1['addr']:#x}")
    assert out.strip().endswith(xp.strip().split(": ")[1]), (out, xp)

    # lspci -r refuses what it cannot do, with a non-zero status.
    io_bar = min(n for n, b in funcs[(0, 5, 0)]["bars"].items() if b["type"] == "io")
    for cmd, msg in [(f"lspci -r 00:05.0 {io_bar} 0", "cannot be mapped (-22)"),
                     ("lspci -r 01:00.0 4 0x4000", "beyond BAR4"),
                     ("lspci -r 01:00.0 4 0xfffffffffffffffc", "beyond BAR4"),
                     ("lspci -r 01:00.0 4 0x2", "dword aligned"),
                     ("lspci -r 09:00.0 0 0", "no function 09:00.0"),
                     ("lspci -x", "usage: lspci")]:
        assert msg in v.run(cmd), cmd
        assert v.run("echo $?").strip() != "0", cmd
    v.proc.stdin.write(b"poweroff 3\r")
    v.proc.stdin.flush()
    assert exit_code(v.wait_exit()) == 3


def test_pc_portio_pci_bridge_multifunction(boot, disk):
    devices = [
        "-drive", f"if=none,id=d0,file={disk},format=raw",
        "-netdev", "user,id=n0",
        "-device", "pci-bridge,id=br1,chassis_nr=1,bus=pci.0,addr=3.0",
        "-device", "virtio-net-pci,bus=br1,addr=3.0,netdev=n0",
        "-device", "virtio-blk-pci,bus=br1,addr=4.0,drive=d0",
        "-device", "virtio-rng-pci,bus=br1,addr=7.0",
        "-device", "virtio-rng-pci,bus=pci.0,addr=5.0,multifunction=on",
        "-device", "virtio-rng-pci,bus=pci.0,addr=5.1",
        "-device", "virtio-net-pci,bus=pci.0,addr=6.0,disable-legacy=on,disable-modern=off,netdev=n1",
        "-netdev", "user,id=n1",
    ]
    v, funcs, qfuncs, intx = boot_and_list(boot, "pc", devices)

    # No MCFG on pc: configuration mechanism #1.
    m = re.search(r"^pci: (\d+) functions via ports 0xcf8/0xcfc \(no MCFG\)$", v.output, re.M)
    assert m, v.output[-3000:]
    assert int(m[1]) == len(qfuncs) == len(funcs)
    check_common(v, funcs, qfuncs, intx)
    # 256-byte configuration space: no extended capabilities anywhere.
    assert all(not f["ecaps"] for f in funcs.values())

    br = funcs[(0, 3, 0)]
    assert (br["vendor"], br["device"], br["class"], br["bridge"]) == (0x1b36, 0x0001, 0x0604, (1, 1))
    behind = sorted(b for b in funcs if b[0] == 1)
    assert behind == [(1, 3, 0), (1, 4, 0), (1, 7, 0)]
    assert [funcs[b]["name"] for b in behind] == [
        "virtio-net (transitional)", "virtio-blk (transitional)", "virtio-rng (transitional)"]
    # Interrupt swizzling across the bridge [PCI-to-PCI bridge 9.1]: INTA of slot 3, 4 and 7
    # lands on different PIRQs; the lines are what firmware wrote (compared with QEMU above).
    assert len({funcs[b]["irq"] for b in behind}) >= 2
    # Transitional devices behind the bridge got I/O BARs inside its window.
    assert all(funcs[b]["bars"][0]["type"] == "io" and funcs[b]["bars"][0]["addr"] for b in behind)

    assert [b for b in funcs if b[:2] == (0, 5)] == [(0, 5, 0), (0, 5, 1)]
    assert funcs[(0, 5, 0)]["multifunction"] and not funcs[(0, 5, 1)]["multifunction"]
    # A modern-only virtio device on pc: no I/O BAR, device id 0x1041.
    modern = funcs[(0, 6, 0)]
    assert (modern["device"], modern["name"]) == (0x1041, "virtio-net")
    assert 0 not in modern["bars"] and modern["bars"][4]["type"] == "mem64"
    # The PIIX4 ACPI function's SCI (line 9) and the IDE controller without a pin.
    assert funcs[(0, 1, 3)]["irq"] == 9
    assert funcs[(0, 1, 1)]["pin"] is None
    v.proc.stdin.write(b"poweroff 3\r")
    v.proc.stdin.flush()
    assert exit_code(v.wait_exit()) == 3


def test_uefi_q35_matches_info_pci(boot):
    """OVMF places and numbers things differently from SeaBIOS; the listing must still agree."""
    if not os.path.exists(os.path.join(os.path.dirname(__file__), "..", "..",
                                       os.environ.get("BUILD", "build"), "vireo.efi")):
        pytest.skip("build/vireo.efi not built")
    devices = [
        "-nic", "none",
        "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=2.0",
        "-device", "virtio-rng-pci,bus=rp1",
        "-device", "virtio-rng-pci,bus=pcie.0,addr=5.0,multifunction=on",
        "-device", "virtio-rng-pci,bus=pcie.0,addr=5.1",
    ]
    v = boot(boot="uefi", machine="q35", extra=devices)
    v.ready(timeout=180)
    vfuncs, _ = parse_lspci(v.run("lspci -v"))
    compare(vfuncs, parse_query_pci(v.qmp("query-pci")))
    assert re.search(r"^pci: \d+ functions via ECAM$", v.output, re.M)
    assert (1, 0, 0) in vfuncs and (0, 5, 1) in vfuncs


def test_shared_intx_line_counts(boot):
    """Two virtio-rng functions forced to INTx share one line: one dispatcher, both handlers,
    every interrupt claimed by the function that raised it (no spurious count)."""
    devices = ["-device", "virtio-rng-pci,bus=pcie.0,addr=5.0,multifunction=on",
               "-device", "virtio-rng-pci,bus=pcie.0,addr=5.1"]
    v = boot(machine="q35", extra=devices, append="virtio.msix=0")
    v.ready()
    funcs, _ = parse_lspci(v.run("lspci -v"))
    if not all(funcs[(0, 5, fn)]["driver"].startswith("[") for fn in (0, 1)):
        pytest.skip("no driver binds virtio-rng")
    assert all(funcs[(0, 5, fn)]["enabled"] == "intx" for fn in (0, 1))
    line = funcs[(0, 5, 0)]["irq"]
    assert funcs[(0, 5, 1)]["irq"] == line
    for _ in range(3):
        v.run("rng 32")
    _, intx = parse_lspci(v.run("lspci -v"))
    m = [re.match(r"^intx: line (\d+) gsi \d+ vector (0x[0-9a-f]+) handlers (\d+) "
                  r"interrupts (\d+) spurious (\d+)$", s) for s in intx]
    m = [x for x in m if x and int(x[1]) == line]
    assert len(m) == 1, intx
    vector, handlers, count, spurious = int(m[0][2], 16), int(m[0][3]), int(m[0][4]), int(m[0][5])
    assert handlers == 2 and count >= 3 and spurious == 0, intx
    # The per-vector count of `irq` agrees with the line's count.
    irq = v.run("irq")
    row = re.search(rf"^\s*{vector:#x}\s+(\d+)\s", irq, re.M)
    assert row and int(row[1]) == count, irq
