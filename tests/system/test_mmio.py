"""QEMU's microvm: no PCI, virtio-mmio transports, few legacy chips (TCG).

The block and network drivers' tests run over virtio-mmio too (test_blk.py and test_net.py,
their microvm cases); this file has what is particular to the platform:

  test_rng_over_mmio[...]      virtio-rng-device over version 2 and version 1 (force-legacy=on),
                               in irq, poll and hybrid mode: bytes, the `virtio` report (where,
                               transport, mode, irq, features, the queue's counters)
  test_several_devices         two disks, a NIC and an rng found in the DSDT, each logged with
                               its address, transport, features, queue sizes and interrupt line
  test_bad_and_absent_windows  virtio_mmio.device= entries that are malformed, point at nothing
                               or at an empty slot: a clear message each (none for the empty
                               slot), and the real devices still work
  test_boot_paths              multiboot and PVH on microvm with ACPI, with acpi=off (windows
                               from the command line QEMU's PVH path appends), and without the
                               PIT, PIC and RTC (pit=off,pic=off,rtc=off): the memory map, the
                               interrupt controllers, the TSC's source or its loud guess
  test_poweroff_without_debug_exit  poweroff through ACPI's hardware-reduced sleep control
                               register (QEMU exits by itself), and with acpi=off a halt that
                               says so
"""
import re
import zlib

import pytest

from vireo import exit_code, mmio_args

MODERN_FEATURES = {"RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"}
LEGACY_FEATURES = {"RING_INDIRECT_DESC", "RING_EVENT_IDX"}
# microvm's transports: 512-byte windows from 0xfeb00000, the devices in the top slots, their
# interrupts GSI 24 + slot on the second IOAPIC (hw/i386/microvm.c).
WINDOW = re.compile(r"mmio@0xfeb0([0-9a-f]{4}) gsi:(\d+)")


def script(boot, commands, extra, append="", machine="microvm", boot_path="multiboot",
           legacy=False, code=3):
    v = boot(boot=boot_path, machine=machine,
             append=f"{append} -- {'; '.join(commands)}; poweroff {code}".strip(),
             extra=[*extra, *mmio_args(legacy)])
    assert exit_code(v.wait_exit(timeout=120)) == code, v.output[-3000:]
    return v.output


def device_report(out, name):
    """The `virtio` report's block for one device."""
    m = re.search(rf"^{name}: (mmio@\S+ gsi:\d+) (\S+), transport (\w+), mode (\w+), irq (\w+)"
                  rf"(.*)\n((?:  .*\n?)*)", out, re.M)
    assert m, out[-3000:]
    body = m.group(7)
    q = re.search(r"^  queue 0 \w+\s+size (\d+)\s+vector (\S+)\s+requests=(\d+) completed=(\d+) "
                  r"kicks=(\d+) suppressed=\d+ interrupts=(\d+)", body, re.M)
    assert q, body
    return {"where": m.group(1), "type": m.group(2), "transport": m.group(3),
            "mode": m.group(4), "irq": m.group(5), "flags": m.group(6), "body": body,
            "offered": set(re.search(r"^  offered:\s+(.*)$", body, re.M).group(1).split()),
            "negotiated": set(re.search(r"^  negotiated:\s+(.*)$", body, re.M).group(1).split()),
            "size": int(q[1]), "vector": q[2], "requests": int(q[3]), "completed": int(q[4]),
            "kicks": int(q[5]), "interrupts": int(q[6])}


@pytest.mark.parametrize("mode", ["irq", "poll", "hybrid"])
@pytest.mark.parametrize("transport", ["modern", "legacy", "modern-packed"])
def test_rng_over_mmio(boot, transport, mode):
    packed = transport.endswith("packed")
    transport = transport.split("-")[0]
    out = script(boot, ["rng 64", "virtio"],
                 ["-device", "virtio-rng-device" + (",packed=on" if packed else "")],
                 append=f"virtio.mode={mode}" + (" virtio.packed=1" if packed else ""),
                 legacy=transport == "legacy")
    m = re.search(r"vireo> rng 64\n((?:[0-9a-f]+\n)+)vireo> virtio\n", out)
    assert m and [len(x) for x in m.group(1).split()] == [64, 64], out[-3000:]
    d = device_report(out, "rng0")
    assert d["type"] == "virtio-rng" and "FAILED" not in d["flags"], d
    assert (d["transport"], d["mode"]) == (transport, mode)
    assert d["irq"] == ("none" if mode == "poll" else "line")
    assert d["negotiated"] == (MODERN_FEATURES if transport == "modern" else LEGACY_FEATURES) | \
        ({"RING_PACKED"} if packed else set())
    assert f", ring {'packed' if packed else 'split'}" in d["flags"], d
    w = WINDOW.search(d["where"])
    assert w and int(w[1], 16) % 0x200 == 0, d["where"]
    assert int(w[2]) == 24 + int(w[1], 16) // 0x200  # the slot's line on the second IOAPIC
    version = 2 if transport == "modern" else 1
    assert re.search(rf"^  mmio: version {version}, 512-byte window, line {w[2]} level: ",
                     d["body"], re.M), d["body"]
    assert d["requests"] == d["completed"] >= 2 and d["kicks"] >= 1
    if mode == "poll":
        assert d["interrupts"] == 0 and d["vector"] == "none", d
    elif mode == "irq":
        assert d["interrupts"] > 0 and d["vector"] == f"gsi{w[2]}", d


def test_several_devices(boot, tmp_path):
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    a.write_bytes(bytes(1 << 20))
    b.write_bytes(bytes(2 << 20))
    out = script(boot, ["virtio", "blk"], [
        "-drive", f"if=none,id=d0,file={a},format=raw", "-device", "virtio-blk-device,drive=d0",
        "-drive", f"if=none,id=d1,file={b},format=raw", "-device", "virtio-blk-device,drive=d1",
        "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
        "-device", "virtio-rng-device"])
    # The boot log names each device: where, what, transport, mode, interrupt, features, and
    # each queue's size and line.
    for name, kind in (("vda", "virtio-blk"), ("vdb", "virtio-blk"), ("eth0", "virtio-net"),
                       ("rng0", "virtio-rng")):
        assert re.search(rf"^{name}: mmio@0xfeb0[0-9a-f]{{4}} {kind}, modern transport, split ring, "
                         rf"irq mode, irq line; features: .*VERSION_1", out, re.M), (name, out[-4000:])
        assert re.search(rf"^{name}:   queue 0 \w+: size \d+, vector line \d+ \(level, active "
                         rf"high\)", out, re.M), (name, out[-4000:])
    wheres = {device_report(out, n)["where"] for n in ("vda", "vdb", "eth0", "rng0")}
    assert len(wheres) == 4, wheres  # four windows, four lines
    listing = out[out.index("vireo> blk\n"):]
    assert re.search(r"^vda mmio@\S+ 2048 sectors \(1 MiB\) RW", listing, re.M), listing
    assert re.search(r"^vdb mmio@\S+ 4096 sectors \(2 MiB\) RW", listing, re.M), listing


def test_bad_and_absent_windows(boot, tmp_path):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(range(256)) * 4096)
    out = script(boot, ["virtio", "blk crc vda 0 8"], [
        "-drive", f"if=none,id=d0,file={img},format=raw", "-device", "virtio-blk-device,drive=d0"],
        append="virtio_mmio.device=junk virtio_mmio.device=512@0xfeb00000:29 "
               "virtio_mmio.device=512@0xfe000000:9 virtio_mmio.device=4K@0:5")
    assert ("virtio-mmio: bad virtio_mmio.device='junk': the size is not a number (with an "
            "optional K, M or G); skipped") in out
    assert "virtio-mmio: bad virtio_mmio.device='4K@0:5': the window is at address 0" in out
    # Nothing decodes at 0xfe000000: the magic reads 0.
    assert 'virtio-mmio@0xfe000000: magic 0 is not "virt" (cmdline); ignored' in out
    # Slot 0 is a transport with no device behind it (device id 0): not reported at all.
    assert "0xfeb00000" not in out[out.index("\n", out.index("command line")):]
    d = device_report(out, "vda")
    assert "FAILED" not in d["flags"]
    want = f"{zlib.crc32((bytes(range(256)) * 16)[:8 * 512]):08x}"
    assert f"crc32={want} sectors=8" in out, out[-2000:]


@pytest.mark.parametrize("machine,boot_path,irq_mode,tsc", [
    ("microvm", "multiboot", "level", "PIT"),
    ("microvm", "pvh", "level", "PIT"),
    ("microvm,acpi=off", "pvh", "edge", "PIT"),
    ("microvm,pit=off,pic=off,rtc=off", "pvh", "level", None),
    ("microvm,pit=off,pic=off,rtc=off,acpi=off", "pvh", "edge", None),
], ids=["mb", "pvh", "pvh-acpi-off", "pvh-no-legacy-chips", "pvh-no-legacy-chips-acpi-off"])
def test_boot_paths(boot, machine, boot_path, irq_mode, tsc):
    out = script(boot, ["mem", "rng 8"], ["-device", "virtio-rng-device"], machine=machine,
                 boot_path=boot_path)
    assert f"booted by {boot_path}" in out
    # Every path ends in one boot_info: the memory map as the loader gave it.
    mem = out[out.index(f"memory map ({boot_path}):"):]
    usable = [int(e, 16) - int(s, 16) + 1 for s, e in
              re.findall(r"^  ([0-9a-f]{16})-([0-9a-f]{16}) +\d+ KiB  usable", mem, re.M)]
    assert 250 << 20 < sum(usable) <= 256 << 20, mem
    assert not re.search(r"^  0{16}-0{16}", mem, re.M), mem  # no empty entries
    acpi = "acpi=off" not in machine
    if acpi:
        assert "2 IOAPIC(s)" in out
    else:
        assert "no usable ACPI tables" in out and "an IOAPIC at 0xfec00000" in out
        # The windows came from the command line QEMU's PVH path appended.
        assert re.search(r'command line "[^"]*virtio_mmio\.device=512@0xfeb0[0-9a-f]{4}:\d+', out)
    assert re.search(rf"^rng0:   queue 0 requestq: size \d+, vector line \d+ \({irq_mode}, "
                     rf"active high\)", out, re.M), out[-3000:]
    m = re.search(r"TSC (\d+\.\d+) MHz \(measured against ([^)]+)\)", out)
    assert m, out[-3000:]
    if tsc:
        assert m[2] == tsc
    else:
        # No PIT, no HPET, no CPUID leaf under TCG: the kernel says it guesses.
        assert m[2] == "nothing: a guess"
        assert "time: no clock source to measure the TSC against; assuming 1000 MHz" in out
    assert re.search(r"vireo> rng 8\n[0-9a-f]{16}\n", out), out[-2000:]


@pytest.mark.parametrize("machine", ["microvm", "microvm,acpi=off"])
def test_poweroff_without_debug_exit(boot, machine):
    v = boot(boot="pvh", machine=machine, append="-- poweroff", debug_exit=False)
    if "acpi=off" in machine:
        v.expect("poweroff: neither isa-debug-exit nor ACPI S5 worked; halting")
        return  # the fixture kills QEMU
    status = v.wait_exit(timeout=120)
    assert status == 0, v.output[-2000:]  # the guest powered the machine off
