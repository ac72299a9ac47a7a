"""The embedding example (examples/embed): a second kernel, with its own boot and port, reads a
virtio disk through Vireo's unchanged ring, device core, virtio-mmio transport and blk driver.

  test_embed_reads_the_disk[...]  on QEMU's microvm with ACPI off (the windows come from the
                                  command line, as on Firecracker), over virtio-mmio version 2
                                  and version 1: the CRC-32 the example prints of the first
                                  sectors of a disk of random bytes is the host's (zlib)
  test_embed_without_a_disk       no device at all: a clear message and exit code 1
"""
import os
import re
import zlib

import pytest

from vireo import BUILD, exit_code, mmio_args

EMBED = os.path.join(BUILD, "embed", "embed.elf")
CRC = re.compile(r"^embed: (vd\w+): crc32 of sectors 0-(\d+): ([0-9a-f]{8})\r?$", re.M)


def run_embed(boot, extra, append="", legacy=False):
    v = boot(boot="pvh", machine="microvm,acpi=off", kernel=EMBED, append=append, mem=64,
             extra=[*extra, *mmio_args(legacy)])
    code = exit_code(v.wait_exit(timeout=120))
    return code, v.output


@pytest.mark.parametrize("transport,sectors", [("modern", 64), ("legacy", 256)])
def test_embed_reads_the_disk(boot, tmp_path, transport, sectors):
    disk = tmp_path / "disk.img"
    disk.write_bytes(os.urandom(1 << 20))
    code, out = run_embed(boot, ["-drive", f"file={disk},if=none,id=d0,format=raw",
                                 "-device", "virtio-blk-device,drive=d0"],
                          append=f"sectors={sectors}", legacy=transport == "legacy")
    assert code == 0, out[-3000:]
    # The stack's own log, unchanged: where, transport, ring, mode, features.
    assert re.search(rf"^vda: mmio@0xfeb0\w+ virtio-blk, {transport} transport, split ring, "
                     r"poll mode, irq none; features: .*RING_INDIRECT_DESC", out, re.M), out
    m = CRC.search(out)
    assert m, out
    assert (m[1], int(m[2])) == ("vda", sectors - 1)
    want = zlib.crc32(disk.read_bytes()[:sectors * 512])
    assert int(m[3], 16) == want, f"the guest read other bytes than the disk holds:\n{out}"


def test_embed_without_a_disk(boot):
    code, out = run_embed(boot, [])
    assert code == 1, out
    assert "embed: no virtio disk among 0 windows" in out, out
