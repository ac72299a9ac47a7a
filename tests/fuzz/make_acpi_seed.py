#!/usr/bin/python3
"""Write a seed for fuzz_acpi: a small, valid table set laid out for the fuzzer's window.

Byte 0 is the target's mode byte (1: repair checksums); the window (phys 0x100000) follows:
RSDP v1 → RSDT → {FACP → DSDT with \\_S5_, APIC (1 CPU, 1 IOAPIC, IRQ0→GSI2), MCFG, HPET}.
"""
import struct
import sys

BASE = 0x100000


def table(sig, body, rev=1):
    length = 36 + len(body)
    hdr = struct.pack("<4sIBB6s8sI4sI", sig, length, rev, 0, b"VIREO ", b"FUZZSEED", 1, b"VIRO", 1)
    t = bytearray(hdr + body)
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


def main(out):
    mem = bytearray(4096)
    rsdt_at, facp_at, dsdt_at, apic_at, mcfg_at, hpet_at = 64, 128, 512, 1024, 1280, 1408
    dsdt = table(b"DSDT", bytes([0x08]) + b"_S5_" + bytes([0x12, 0x06, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00]))
    facp_body = bytearray(244 - 36)
    struct.pack_into("<I", facp_body, 40 - 36, BASE + dsdt_at)   # DSDT
    struct.pack_into("<H", facp_body, 46 - 36, 9)                 # SCI_INT
    struct.pack_into("<I", facp_body, 64 - 36, 0x604)             # PM1a_CNT_BLK
    facp = table(b"FACP", bytes(facp_body), rev=3)
    apic_body = struct.pack("<II", 0xFEE00000, 1)
    apic_body += struct.pack("<BBBBI", 0, 8, 0, 0, 1)                      # LAPIC uid 0 id 0
    apic_body += struct.pack("<BBBBII", 1, 12, 0, 0, 0xFEC00000, 0)        # IOAPIC
    apic_body += struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0)                 # IRQ0 -> GSI2
    apic = table(b"APIC", apic_body)
    mcfg = table(b"MCFG", bytes(8) + struct.pack("<QHBBI", 0xB0000000, 0, 0, 255, 0))
    hpet = table(b"HPET", struct.pack("<I", 0x8086A201) + struct.pack("<BBBBQ", 0, 64, 0, 0, 0xFED00000) + bytes(4))
    rsdt = table(b"RSDT", struct.pack("<4I", BASE + facp_at, BASE + apic_at, BASE + mcfg_at, BASE + hpet_at))
    rsdp = bytearray(b"RSD PTR " + bytes(1) + b"VIREO " + bytes([0]) + struct.pack("<I", BASE + rsdt_at))
    rsdp[8] = (-sum(rsdp)) & 0xff
    for at, blob in ((0, rsdp), (rsdt_at, rsdt), (facp_at, facp), (dsdt_at, dsdt), (apic_at, apic),
                     (mcfg_at, mcfg), (hpet_at, hpet)):
        mem[at:at + len(blob)] = blob
    with open(out, "wb") as f:
        f.write(bytes([1]) + bytes(mem[:1536]))


if __name__ == "__main__":
    main(sys.argv[1])
