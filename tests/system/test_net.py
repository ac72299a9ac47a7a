"""Networking under QEMU TCG, driven by real host clients.

Host side: curl, Debian's iperf 2, and Python sockets through QEMU user networking's hostfwd
ports (127.0.0.1 only, ports picked free per boot so parallel runs do not collide); a second
NIC on `-netdev dgram` whose other end is rawframes.RawPeer (raw Ethernet frames as UDP
datagrams on 127.0.0.1); and, where the machine allows it, a tap device inside a network
namespace the test creates and deletes (for checksum offload, which user networking lacks).

  test_matrix[...]       one short boot per configuration (transport, MRG_RXBUF, INTx/MSI-X,
                         virtio.mode, pc/q35, multiboot/UEFI): net wait, curl, 1 MiB TCP echo,
                         UDP echo, and the `virtio` output proving the configuration
  test_tcp_echo_8mib     8 MiB of random data through the echo service, compared
  test_tcp_echo_backpressure_does_not_starve_rx
                         clients that stop reading must not let lwIP hold every RX buffer
  test_udp_echo_fragmented  datagrams beyond the MTU, both ways
  test_iperf             iperf -c ... -t 5: bandwidth > 0 on the host, lwiperf's line in the guest
  test_ping_gateway      ping 10.0.2.2: answers counted, an unknown address: 100% loss
  test_guest_udp_bench_and_tx_bench  net bench udp/tx from the guest, HTTP 404/501
  test_link_down_up      set_link off/on in the monitor: seen by the guest, traffic stops/resumes
  test_raw_frames_*      flood, runts, oversized and garbage frames on eth1: counted, dropped,
                         the guest still answers on eth1 and serves HTTP on eth0
  test_tap_checksum_offload  virtio-net on a tap with vnet headers in a private network
                         namespace: CSUM/GUEST_CSUM negotiated and used, or switched off with
                         csum=off,guest_csum=off
"""
import ctypes
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

import vireo
from rawframes import RawPeer, eth

GUEST_IP = "10.0.2.15"
GATEWAY = "10.0.2.2"
ETH1_IP = "192.168.77.2"
RX_BUF = 2048  # the driver's receive buffer (drivers/virtio/net/virtio_net.c RX_BUF_SIZE)

# Every boot gets vireo.tcg_args(): on QEMU 7.2 -smp 1,maxcpus=2 (its TCG drops the guest's
# barriers with one vCPU, which lost TX kicks under iperf on a loaded host).


# ---- host helpers ----------------------------------------------------------------------------

def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Ports:
    """Free host ports for one guest's forwards: http -> 80, echo (tcp and udp) -> 7,
    iperf -> 5001."""

    def __init__(self):
        self.http = free_port()
        self.echo = free_port()
        self.uecho = free_port(socket.SOCK_DGRAM)
        self.iperf = free_port()

    def netdev(self, nid="n0"):
        return (f"user,id={nid},"
                f"hostfwd=tcp:127.0.0.1:{self.http}-:80,"
                f"hostfwd=tcp:127.0.0.1:{self.echo}-:7,"
                f"hostfwd=udp:127.0.0.1:{self.uecho}-:7,"
                f"hostfwd=tcp:127.0.0.1:{self.iperf}-:5001")


def curl(url, timeout=15, netns=None):
    """(exit code, body) of curl fetching url."""
    cmd = ["curl", "-sS", "--max-time", str(timeout), url]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10)
    return r.returncode, r.stdout + r.stderr


def check_page(body):
    assert body.startswith("<!DOCTYPE html>"), body[:500]
    assert "<h1>Vireo</h1>" in body
    assert re.search(r"<td>eth0</td><td>52:54:00:[0-9a-f:]{8}</td><td>10\.0\.2\.15 \((dhcp|static)\)"
                     r"</td><td>up</td>", body), body
    assert body.rstrip().endswith("</body></html>")


def connect(port, host="127.0.0.1", sock_factory=None, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        s = sock_factory() if sock_factory else socket.socket()
        s.settimeout(timeout)
        try:
            s.connect((host, port))
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def tcp_echo(port, nbytes, host="127.0.0.1", sock_factory=None, timeout=120):
    """Send nbytes of random data to the echo service while reading the echo back; assert that
    what came back is identical. Returns seconds."""
    data = os.urandom(nbytes)
    s = connect(port, host, sock_factory)
    s.settimeout(timeout)
    errors = []

    def writer():
        try:
            view = memoryview(data)
            for off in range(0, nbytes, 65536):
                s.sendall(view[off:off + 65536])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:  # pragma: no cover - reported below
            errors.append(e)

    t0 = time.monotonic()
    w = threading.Thread(target=writer, daemon=True)
    w.start()
    got = bytearray()
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    finally:
        w.join(timeout)
        s.close()
    secs = time.monotonic() - t0
    assert not errors, errors
    assert len(got) == nbytes, f"echo returned {len(got)} of {nbytes} bytes"
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), "echo data differs"
    return secs


def udp_echo(port, count=20, host="127.0.0.1", sock_factory=None, sizes=(1, 32, 512, 1472)):
    """Datagrams of several sizes to the UDP echo; each must come back intact. Lost datagrams
    are resent (UDP); a late echo of an earlier datagram is skipped, anything else fails.
    Returns how many needed a resend."""
    s = sock_factory(socket.SOCK_DGRAM) if sock_factory else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    resent = 0
    earlier = set()
    try:
        for i in range(count):
            payload = os.urandom(sizes[i % len(sizes)])
            for attempt in range(5):
                s.sendto(payload, (host, port))
                try:
                    while True:
                        reply, _ = s.recvfrom(65536)
                        if reply == payload:
                            break
                        assert reply in earlier, f"UDP echo changed a datagram ({len(reply)} bytes)"
                    break
                except socket.timeout:
                    resent += 1
            else:
                raise AssertionError(f"no UDP echo for datagram {i} after 5 tries")
            earlier.add(payload)
    finally:
        s.close()
    return resent


def device_block(virtio_out, name="eth0"):
    """The `virtio` output of one device (its header line and indented lines)."""
    m = re.search(rf"^{name}: .*?(?=^\S|\Z)", virtio_out, re.M | re.S)
    assert m, f"{name} missing from `virtio`:\n{virtio_out}"
    return m.group(0)


def counters(line_text):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line_text)}


def driver_rx_line(block, name="eth0"):
    m = re.search(rf"^  {name}: link (\w+), header (\d+), rx pool (\d+)/(\d+) free, rx=(\d+) "
                  rf"\((\d+) bytes\) dropped=(\d+) errors=(\d+) \(runts (\d+), oversize (\d+)\) "
                  rf"merged=(\d+) starved=(\d+)$", block, re.M)
    assert m, block
    keys = ["link", "header", "pool_free", "pool", "rx", "rx_bytes", "dropped", "errors", "runts",
            "oversize", "merged", "starved"]
    d = dict(zip(keys, m.groups()))
    return {k: (v if k == "link" else int(v)) for k, v in d.items()}


def net_dev(net_out, name="eth0"):
    """Parsed `net` lines of one device: link, features, inet, driver and stack counters."""
    m = re.search(rf"^{name}: mac (\S+) mtu (\d+) link (\w+) features (.*)$", net_out, re.M)
    assert m, net_out
    rest = net_out[m.end():].split("\n")
    d = {"mac": m.group(1), "link": m.group(3), "features": m.group(4).split()}
    for line in rest[1:4]:
        line = line.strip()
        if line.startswith("inet"):
            d["inet"] = line
        elif line.startswith("driver:"):
            d["driver"] = counters(line)
        elif line.startswith("stack:"):
            d["stack"] = counters(line)
    return d


def nic_model(machine):
    """virtio-net-pci, or on microvm virtio-net-device (a virtio-mmio transport)."""
    return "virtio-net-device" if vireo.is_microvm(machine) else "virtio-net-pci"


def start(boot, ports=None, append="", device="", nic_extra=(), qemu_extra=(), machine="q35",
          boot_path="multiboot", netdev=None, mem=256, mmio_legacy=False):
    """Boot with eth0 = virtio-net (nic_model) on user networking (forwards from ports)."""
    ports = ports or Ports()
    nd = netdev or ports.netdev()
    dev = f"{nic_model(machine)},netdev=n0" + (("," + device) if device else "")
    bus_extra = vireo.mmio_args(mmio_legacy) if vireo.is_microvm(machine) else []
    v = boot(boot=boot_path, machine=machine, append=append, mem=mem,
             extra=["-netdev", nd, "-device", dev, *nic_extra, *qemu_extra, *bus_extra])
    v.ports = ports
    v.ready(timeout=180)
    return v


def wait_net(v, secs=10):
    out = v.run(f"net wait {secs}", timeout=secs + 30)
    assert v.run("echo $?").strip() == "0", f"net wait failed:\n{out}\n{v.output[-3000:]}"


# ---- the matrix ------------------------------------------------------------------------------

# (id, machine, boot, device options, kernel options, expectations)
# Transport: "transitional" is QEMU's default device (both interfaces; Vireo picks modern unless
# virtio.transport=legacy), disable-legacy=on is modern-only, disable-modern=on legacy-only.
MATRIX = [
    ("transitional-q35-mb", "q35", "multiboot", "", "",
     dict(transport="modern", mode="irq", irq="msix", mrg=True)),
    ("modern-only-q35-mb", "q35", "multiboot", "disable-legacy=on", "",
     dict(transport="modern", mode="irq", irq="msix", mrg=True)),
    ("legacy-only-pc-mb", "pc", "multiboot", "disable-modern=on", "",
     dict(transport="legacy", mode="irq", irq="msix", mrg=True)),
    ("transitional-as-legacy-q35", "q35", "multiboot", "", "virtio.transport=legacy",
     dict(transport="legacy", mode="irq", irq="msix", mrg=True)),
    ("modern-nomrg-q35", "q35", "multiboot", "disable-legacy=on,mrg_rxbuf=off", "",
     dict(transport="modern", mode="irq", irq="msix", mrg=False)),
    ("legacy-nomrg-intx-pc", "pc", "multiboot", "disable-modern=on,mrg_rxbuf=off,vectors=0", "",
     dict(transport="legacy", mode="irq", irq="intx", mrg=False)),
    ("intx-vectors0-q35", "q35", "multiboot", "vectors=0", "",
     dict(transport="modern", mode="irq", irq="intx", mrg=True)),
    ("intx-msix0-pc", "pc", "multiboot", "", "virtio.msix=0",
     dict(transport="modern", mode="irq", irq="intx", mrg=True)),
    ("poll-q35", "q35", "multiboot", "", "virtio.mode=poll",
     dict(transport="modern", mode="poll", irq=None, mrg=True)),
    ("hybrid-pc-intx", "pc", "multiboot", "vectors=0", "virtio.mode=hybrid",
     dict(transport="modern", mode="hybrid", irq="intx", mrg=True)),
    ("csum-off-noindirect-noeventidx", "q35", "multiboot", "csum=off,guest_csum=off",
     "virtio.indirect=0 virtio.event_idx=0",
     dict(transport="modern", mode="irq", irq="msix", mrg=True, no_indirect=True)),
    ("uefi-q35", "q35", "uefi", "", "",
     dict(transport="modern", mode="irq", irq="msix", mrg=True)),
    ("uefi-pc-legacy-poll", "pc", "uefi", "disable-modern=on", "virtio.net.mode=poll",
     dict(transport="legacy", mode="poll", irq=None, mrg=True)),
    ("pvh-q35", "q35", "pvh", "", "",
     dict(transport="modern", mode="irq", irq="msix", mrg=True)),
    # microvm: virtio-net-device on virtio-mmio, version 2 or 1 (force-legacy=on).
    ("mmio-modern-microvm", "microvm", "multiboot", "", "",
     dict(transport="modern", mode="irq", irq="line", mrg=True)),
    ("mmio-legacy-microvm-pvh", "microvm", "pvh", "", "",
     dict(transport="legacy", mode="irq", irq="line", mrg=True)),
    ("mmio-modern-poll-microvm", "microvm", "multiboot", "", "virtio.mode=poll",
     dict(transport="modern", mode="poll", irq=None, mrg=True)),
    ("mmio-legacy-hybrid-nomrg-microvm", "microvm", "multiboot", "mrg_rxbuf=off",
     "virtio.net.mode=hybrid", dict(transport="legacy", mode="hybrid", irq="line", mrg=False)),
    ("mmio-modern-no-legacy-chips-pvh", "microvm,pit=off,pic=off,rtc=off", "pvh", "", "",
     dict(transport="modern", mode="irq", irq="line", mrg=True)),
    ("mmio-modern-acpi-off-pvh", "microvm,acpi=off", "pvh", "", "",
     dict(transport="modern", mode="irq", irq="line", mrg=True)),
    # Packed rings and in-order use (in_order: QEMU 10 only).
    ("packed-q35", "q35", "multiboot", "packed=on", "virtio.packed=1",
     dict(transport="modern", mode="irq", irq="msix", mrg=True, ring="packed")),
    ("packed-nomrg-poll-pc", "pc", "multiboot", "packed=on,mrg_rxbuf=off",
     "virtio.packed=1 virtio.mode=poll",
     dict(transport="modern", mode="poll", irq=None, mrg=False, ring="packed")),
    ("packed-mmio-hybrid-microvm", "microvm", "multiboot", "packed=on",
     "virtio.packed=1 virtio.net.mode=hybrid",
     dict(transport="modern", mode="hybrid", irq="line", mrg=True, ring="packed")),
    ("in-order-q35", "q35", "multiboot", "in_order=on", "virtio.in_order=1",
     dict(transport="modern", mode="irq", irq="msix", mrg=True, ring="split in-order")),
    # The network takes in-order use by default, and not packed; the command line overrides.
    ("in-order-by-default-packed-not", "q35", "multiboot", "in_order=on,packed=on", "",
     dict(transport="modern", mode="irq", irq="msix", mrg=True, ring="split in-order")),
    ("in-order-refused", "q35", "multiboot", "in_order=on", "virtio.net.in_order=0",
     dict(transport="modern", mode="irq", irq="msix", mrg=True)),
    ("packed-in-order-mmio-pvh", "microvm", "pvh", "packed=on,in_order=on",
     "virtio.packed=1 virtio.in_order=1",
     dict(transport="modern", mode="irq", irq="line", mrg=True, ring="packed in-order")),
]


@pytest.mark.parametrize("machine,boot_path,device,append,exp",
                         [pytest.param(*m[1:], id=m[0]) for m in MATRIX])
def test_matrix(boot, machine, boot_path, device, append, exp):
    vireo.need_in_order(device)
    v = start(boot, machine=machine, boot_path=boot_path, device=device, append=append,
              mmio_legacy=exp["transport"] == "legacy")
    wait_net(v)

    # What the configuration is, from the driver's own `virtio` output.
    blk = device_block(v.run("virtio"))
    head = blk.split("\n")[0]
    assert "virtio-net" in head and "FAILED" not in head and "no driver" not in head, blk
    assert f"transport {exp['transport']}," in head, blk
    assert f"mode {exp['mode']}," in head, blk
    assert f", ring {exp.get('ring', 'split')}" in head, blk
    if exp["irq"]:
        assert re.search(rf"irq {exp['irq']}\b", head), blk
    offered = re.search(r"^  offered: +(.*)$", blk, re.M).group(1).split()
    negotiated = re.search(r"^  negotiated: +(.*)$", blk, re.M).group(1).split()
    # QEMU user networking has no vnet header: no checksum offload on offer at all.
    assert "CSUM" not in offered and "GUEST_CSUM" not in offered, offered
    assert ("VERSION_1" in negotiated) == (exp["transport"] == "modern"), negotiated
    assert ("MRG_RXBUF" in negotiated) == exp["mrg"], negotiated
    assert ("MRG_RXBUF" in offered) == exp["mrg"], offered
    if exp.get("no_indirect"):
        assert "RING_INDIRECT_DESC" not in negotiated and "RING_EVENT_IDX" not in negotiated
    rx = driver_rx_line(blk)
    # 5.1.6.1: 12-byte header with VERSION_1 or MRG_RXBUF, the legacy 10 otherwise.
    want_hdr = 12 if exp["transport"] == "modern" or exp["mrg"] else 10
    assert rx["header"] == want_hdr and rx["link"] == "up", blk
    queues = re.findall(r"^  queue \d+ (\w+) +size \d+ +vector (\S+)", blk, re.M)
    assert [q for q, _ in queues][:2] == ["rx", "tx"], blk
    if exp["irq"] == "msix":
        assert all(vec.startswith("msix") for _, vec in queues), blk
    elif exp["irq"] == "intx":
        assert all(vec == "intx" for _, vec in queues), blk
        assert re.search(r"^  intx: line \d+, \d+ interrupts", blk, re.M), blk
    elif exp["irq"] == "line":
        assert all(vec.startswith("gsi") for _, vec in queues), blk
        version = 2 if exp["transport"] == "modern" else 1
        assert re.search(rf"^  mmio: version {version}, 512-byte window, line \d+ ", blk, re.M), blk

    # Traffic from real host clients.
    rc, body = curl(f"http://127.0.0.1:{v.ports.http}/")
    assert rc == 0, body
    check_page(body)
    tcp_echo(v.ports.echo, 1 << 20)
    udp_echo(v.ports.uecho, count=12)

    # Counters moved the right way; nothing broke.
    blk = device_block(v.run("virtio"))
    assert "BROKEN" not in blk and "FAILED" not in blk, blk
    rx = driver_rx_line(blk)
    assert rx["rx"] > 700 and rx["errors"] == 0 and rx["starved"] == 0, blk
    if exp["irq"] is None or exp["mode"] == "poll":
        q = re.findall(r"^  queue \d+ (?:rx|tx) .* interrupts=(\d+)", blk, re.M)
        assert q and all(int(n) == 0 for n in q), f"interrupts in poll mode:\n{blk}"
    else:
        q = re.findall(r"^  queue \d+ (?:rx|tx) .* interrupts=(\d+)", blk, re.M)
        assert sum(int(n) for n in q) > 0, blk
    d = net_dev(v.run("net"))
    assert d["link"] == "up" and d["features"] == ["none"], d
    # tx_busy_drops (a frame dropped after the TX ring stayed full; TCP resends it) is not
    # asserted: whether the ring fills depends on when QEMU's TX handler runs.
    assert d["stack"]["rx_drops"] == 0, d


# ---- the big tests on the default configuration ----------------------------------------------

@pytest.mark.parametrize("machine,ring", [("q35", "split"), ("microvm", "split"),
                                          ("q35", "packed")])
def test_tcp_echo_8mib(boot, machine, ring):
    packed = ring == "packed"
    v = start(boot, machine=machine, device="packed=on" if packed else "",
              append="virtio.packed=1" if packed else "")
    wait_net(v)
    secs = tcp_echo(v.ports.echo, 8 << 20, timeout=180)
    print(f"8 MiB echo round trip: {secs:.2f} s")
    d = net_dev(v.run("net"))
    assert d["driver"]["rx_errors"] == 0 and d["stack"]["rx_drops"] == 0, d
    assert d["stack"]["tx_in_flight"] < 300, d  # TX references come back
    rx = driver_rx_line(device_block(v.run("virtio")))
    assert rx["starved"] == 0, rx
    # Every RX buffer is back in the pool or in the ring once the connection is gone.
    assert rx["pool_free"] >= rx["pool"] - 256 - 2, rx


def test_tcp_echo_backpressure_does_not_starve_rx(boot):
    """Many echo connections whose clients stop reading: the echo service keeps what it cannot
    send yet (it holds received pbufs until its send buffer has room), the host's socket
    buffers fill, and the guest waits for ACKs. Those ACKs must still be receivable: lwIP may
    not end up holding every RX buffer of the driver (zero-copy), or the ring runs dry and
    nothing moves again, even after the clients read. Then every byte must come back."""
    v = start(boot)
    wait_net(v)
    n, size = 8, 8 << 20
    datas = [os.urandom(size) for _ in range(n)]
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        s.connect(("127.0.0.1", v.ports.echo))
        s.setblocking(False)
        socks.append(s)
    sent, got = [0] * n, [bytearray() for _ in range(n)]

    def pump(read, quiet, limit):
        """Send (and read when asked) until nothing moved for quiet seconds."""
        start_t = last = time.monotonic()
        while time.monotonic() - last < quiet and time.monotonic() - start_t < limit:
            for i, s in enumerate(socks):
                try:
                    if sent[i] < size:
                        sent[i] += s.send(datas[i][sent[i]:sent[i] + 65536])
                        last = time.monotonic()
                except BlockingIOError:
                    pass
                if read:
                    try:
                        chunk = s.recv(1 << 20)
                        if chunk:
                            got[i] += chunk
                            last = time.monotonic()
                    except BlockingIOError:
                        pass
            if all(len(g) == size for g in got):
                return
            time.sleep(0.002)

    try:
        pump(read=False, quiet=1.5, limit=30)  # the clients do not read: everything backs up
        rx = driver_rx_line(device_block(v.run("virtio")))
        stack = net_dev(v.run("net"))["stack"]
        print(f"backed up: sent {sum(sent)} bytes; {rx}; rx_copied={stack.get('rx_copied')}")
        assert rx["pool_free"] > 0 and rx["starved"] == 0, \
            f"lwIP holds every RX buffer; the ring ran dry: {rx}"
        pump(read=True, quiet=30, limit=1800)  # now they read: it must all flow again
    finally:
        for s in socks:
            s.close()
    assert [len(g) for g in got] == [size] * n, f"echo stalled: {[len(g) for g in got]} of {size}"
    assert all(bytes(got[i]) == datas[i] for i in range(n)), "echo data differs"
    rx = driver_rx_line(device_block(v.run("virtio")))
    assert rx["starved"] == 0 and rx["errors"] == 0, rx


def test_udp_echo_fragmented(boot):
    """UDP datagrams larger than the MTU: QEMU fragments them towards the guest, lwIP
    reassembles, the echo goes back fragmented. lwIP reassembles at most IP_REASS_MAX_PBUFS
    (10) fragments, so ~14 KiB is the largest datagram the guest takes."""
    v = start(boot)
    wait_net(v)
    udp_echo(v.ports.uecho, count=8, sizes=(1473, 3000, 8000, 14000))
    net = v.run("net")
    assert re.search(r"udp xmit=\d+ recv=\d+ drop=0 chkerr=0", net), net


@pytest.mark.parametrize("machine", ["q35", "microvm"])
def test_iperf(boot, machine):
    iperf = shutil.which("iperf")
    if not iperf:
        pytest.skip("iperf (2) is not installed")
    v = start(boot, machine=machine)
    wait_net(v)
    r = subprocess.run([iperf, "-c", "127.0.0.1", "-p", str(v.ports.iperf), "-t", "5", "-f", "k"],
                       capture_output=True, text=True, timeout=60)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.findall(r"sec\s+[\d.]+\s+\w?Bytes\s+([\d.]+)\s+Kbits/sec", r.stdout)
    assert m, r.stdout
    host_kbps = float(m[-1])
    assert host_kbps > 0
    # lwiperf's report in the guest, printed when the client closes.
    v.expect("iperf: ", timeout=30)
    end = v.expect(" kbit/s", timeout=30)
    line = v.output[v.output.rfind("iperf: ", 0, end):end]
    g = re.match(r"iperf: (\S+) (done|aborted): (\d+) bytes in (\d+) ms, (\d+) kbit/s", line)
    assert g, line
    assert g.group(1) == GATEWAY and g.group(2) == "done", line
    guest_bytes, guest_ms, guest_kbps = int(g.group(3)), int(g.group(4)), int(g.group(5))
    # Durations and rates are the bench's business; here: data flowed and was counted.
    assert guest_bytes > 0 and guest_kbps > 0 and guest_ms > 0, line
    print(f"iperf: host {host_kbps:.0f} kbit/s, guest {guest_kbps} kbit/s, {guest_bytes} bytes")


def test_ping_gateway(boot):
    v = start(boot)
    wait_net(v)
    out = v.run(f"ping {GATEWAY} 5", timeout=60)
    assert v.run("echo $?").strip() == "0", out
    # Each echo waits a second in the guest: a host stalled for longer loses one, so the test
    # asks for at least one answer and a summary that counts what was printed.
    replies = re.findall(rf"^64 bytes from {re.escape(GATEWAY)}: icmp_seq=\d+ ttl=\d+ time=[\d.]+ ms",
                         out, re.M)
    assert len(replies) >= 1, out
    m = re.search(rf"--- {re.escape(GATEWAY)} ping statistics: 5 sent, (\d+) received, (\d+)% loss",
                  out)
    assert m and int(m[1]) == len(replies) and int(m[2]) == (5 - len(replies)) * 100 // 5, out
    # And an address nobody has: no answers, status 1.
    out = v.run("ping 10.0.2.99 2", timeout=30)
    assert "2 sent, 0 received, 100% loss" in out, out
    assert v.run("echo $?").strip() == "1"


def test_guest_tcp_bench_to_a_host_sink(boot):
    """`net bench tcp`: the guest connects to a host sink through 10.0.2.2 and sends exactly
    the bytes it says, in order (a counter pattern is not needed: the host counts them and
    the connection's FIN ends them); a closed port is a clear error, status 1; bad arguments
    status 2."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(120)
    port = srv.getsockname()[1]
    got = {}

    def sink():
        c, _ = srv.accept()
        n = 0
        with c:
            while True:
                d = c.recv(1 << 16)
                if not d:
                    break
                n += len(d)
        got["bytes"] = n
    t = threading.Thread(target=sink, daemon=True)
    t.start()
    nbytes = 3 * 1024 * 1024 + 17  # not a multiple of the MSS or of the 16 KiB pattern
    try:
        v = start(boot)
        wait_net(v)
        out = v.run(f"net bench tcp {GATEWAY} {port} bytes={nbytes}", timeout=300)
        t.join(timeout=60)
    finally:
        srv.close()
    m = re.search(rf"bench tcp: host={GATEWAY} port={port} bytes={nbytes} elapsed_us=(\d+) "
                  r"mbps=([\d.]+)", out)
    assert m and int(m.group(1)) > 0, out
    assert got.get("bytes") == nbytes, (got, out)
    assert v.run("echo $?").strip() == "0"
    out = v.run(f"net bench tcp {GATEWAY} {port} bytes=1000", timeout=120)
    assert re.search(r"error: bench tcp to .*: lwIP error -?\d+ after 0 of 1000 bytes", out), out
    assert v.run("echo $?").strip() == "1"
    for bad in ("net bench tcp", f"net bench tcp {GATEWAY} 0", f"net bench tcp {GATEWAY} 7 bytes=0",
                f"net bench tcp {GATEWAY} 7 size=5"):
        out = v.run(bad, timeout=30)
        assert "error: net bench tcp HOST PORT" in out, (bad, out)
        assert v.run("echo $?").strip() == "2"


def test_guest_udp_bench_and_tx_bench(boot):
    """Guest-initiated traffic: `net bench udp` against a UDP echo on the host (QEMU maps
    10.0.2.2 to the host's 127.0.0.1), `net bench tx` raw frames; HTTP errors via curl."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    stop = threading.Event()

    def echo():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                data, addr = srv.recvfrom(65536)
                srv.sendto(data, addr)
            except socket.timeout:
                pass
    t = threading.Thread(target=echo, daemon=True)
    t.start()
    try:
        v = start(boot)
        wait_net(v)
        out = v.run(f"net bench udp {GATEWAY} {port} n=300 size=64", timeout=60)
        m = re.search(r"bench udp: .* n=300 size=64 received=(\d+) lost=(\d+) rtt_avg_us=(\d+) "
                      r"p50_us=(\d+) p99_us=(\d+)", out)
        assert m, out
        # Each request waits a second for its answer; losses are a stalled host's, so only
        # the bookkeeping and some traffic are asserted (rates belong to make bench).
        assert int(m.group(1)) + int(m.group(2)) == 300 and int(m.group(1)) >= 1, out
        assert int(m.group(3)) > 0, out
    finally:
        stop.set()
        t.join()
        srv.close()
    out = v.run("net bench tx n=20000 size=60", timeout=60)
    m = re.search(r"bench tx: dev=eth0 dst=bcast n=20000 size=60 sent=20000 completed=20000 .*pps=(\d+)", out)
    assert m and int(m.group(1)) > 0, out
    assert v.run("echo $?").strip() == "0"
    # HTTP errors through the same forward.
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                        f"http://127.0.0.1:{v.ports.http}/nosuch"], capture_output=True, text=True)
    assert r.stdout == "404", r
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                        "-X", "POST", f"http://127.0.0.1:{v.ports.http}/"], capture_output=True, text=True)
    assert r.stdout == "501", r
    blk = device_block(v.run("virtio"))
    assert "BROKEN" not in blk and driver_rx_line(blk)["errors"] == 0, blk


@pytest.mark.parametrize("mode", ["irq", "poll"])
def test_link_down_up(boot, mode):
    """irq: the config-change interrupt; poll: the driver reads the status every 100 ms."""
    v = start(boot, append=f"virtio.mode={mode}")
    wait_net(v)
    rc, body = curl(f"http://127.0.0.1:{v.ports.http}/")
    assert rc == 0, body

    mark = len(v.output)
    v.monitor("set_link n0 off")
    v.expect("eth0: link down", timeout=20, start=mark)
    d = net_dev(v.run("net"))
    assert d["link"] == "down", d
    blk = device_block(v.run("virtio"))
    if mode == "irq":
        assert int(re.search(r"config changes: (\d+)", blk).group(1)) >= 1, blk
    assert driver_rx_line(blk)["link"] == "down"
    # Traffic fails: the guest cannot send, the HTTP request gets no answer.
    rc, body = curl(f"http://127.0.0.1:{v.ports.http}/", timeout=4)
    assert rc != 0, f"curl succeeded with the link down:\n{body[:300]}"
    out = v.run(f"ping {GATEWAY} 1", timeout=30)
    assert "100% loss" in out or "unreachable" in out, out
    assert v.run("echo $?").strip() == "1"

    mark = len(v.output)
    v.monitor("set_link n0 on")
    v.expect("eth0: link up", timeout=20, start=mark)
    assert net_dev(v.run("net"))["link"] == "up"
    deadline = time.monotonic() + 30
    while True:
        rc, body = curl(f"http://127.0.0.1:{v.ports.http}/", timeout=5)
        if rc == 0 or time.monotonic() > deadline:
            break
    assert rc == 0, body
    check_page(body)
    tcp_echo(v.ports.echo, 1 << 20)
    out = v.run(f"ping {GATEWAY} 2", timeout=30)
    assert re.search(r"2 sent, [12] received", out), out


# ---- raw frames on a second NIC (-netdev dgram) ----------------------------------------------

@pytest.fixture
def raw_peer():
    p = RawPeer()
    yield p
    p.close()


def eth1_counts(v):
    return driver_rx_line(device_block(v.run("virtio"), "eth1"), "eth1")


@pytest.mark.parametrize("mrg,machine,packed", [("on", "q35", False), ("off", "q35", False),
                                               ("on", "microvm", False), ("on", "q35", True),
                                               ("off", "microvm", True)],
                         ids=["mrg_rxbuf", "no_mrg_rxbuf", "mrg_rxbuf-mmio", "mrg_rxbuf-packed",
                              "no_mrg_rxbuf-mmio-packed"])
def test_raw_frames_flood_and_malformed(boot, raw_peer, mrg, machine, packed):
    peer = raw_peer
    pk = ",packed=on" if packed else ""
    v = start(boot, append=f"net.eth1.ip={ETH1_IP}/24 net.eth1.dhcp=0"
                           + (" virtio.packed=1" if packed else ""), machine=machine,
              nic_extra=["-netdev", peer.netdev_arg(),
                         "-device", f"{nic_model(machine)},netdev=n1,mrg_rxbuf={mrg}{pk}"])
    wait_net(v)
    assert "inet 192.168.77.2/24" in v.run("net")

    # The guest answers on eth1 before anything else: ARP, then ICMP echo.
    mac = peer.arp_resolve(ETH1_IP)
    assert mac is not None, "no ARP reply from eth1"
    assert mac.hex(":") == net_dev(v.run("net"), "eth1")["mac"]
    assert peer.ping(ETH1_IP, mac, 3) == 3
    base = eth1_counts(v)
    assert base["runts"] == base["oversize"] == base["dropped"] == 0, base

    # (a) A flood of valid broadcast frames as fast as the host can send them. QEMU drops
    # what the guest cannot take (full RX ring) and the host drops what QEMU does not read in
    # time, so the guest sees a part -- how much depends on the host's speed, so the test only
    # asks that some arrive; it must keep up without starving or failing.
    n, secs = peer.flood(20000)
    print(f"flood: {n} frames in {secs:.2f} s")
    peer.drain()
    assert peer.ping(ETH1_IP, mac, 30) >= 1, "eth1 stopped answering after the flood"
    after = eth1_counts(v)
    flood_rx = after["rx"] - base["rx"]
    print(f"flood: guest received {flood_rx} of {n}; {after}")
    assert flood_rx >= 1, after
    assert after["errors"] == base["errors"] and after["dropped"] == base["dropped"], after
    assert after["starved"] <= 2, after
    assert after["pool_free"] >= after["pool"] - 256 - 2, after  # buffers all came back
    peer.drain()

    # After every batch below, a barrier echo proves the guest has seen the whole batch (and
    # is one more frame received).
    def sync():
        assert peer.barrier(ETH1_IP, mac), "no answer to the barrier echo"
        peer.drain()
        return eth1_counts(v)

    # (b) Runts, 1..13 bytes (0 would make QEMU's dgram backend stop reading): QEMU passes
    # them on, the driver drops and counts each one.
    before = sync()
    runts = peer.runts(range(1, 14))
    c = sync()
    assert c["runts"] - before["runts"] == runts, c
    assert c["rx"] == before["rx"] + 1, c  # none reached the stack; the barrier did

    # (c) Oversized frames. With MRG_RXBUF QEMU spreads a big frame over several buffers and
    # the driver merges, sees > 1518 bytes and drops it. Without, QEMU itself drops what does
    # not fit one 2 KiB buffer (minus the header); the rest reach the driver and are dropped.
    lengths = (1519, 1600, 2000, 4000, 9000)
    before = c
    peer.oversize(lengths)
    c = sync()
    if mrg == "on":
        want = len(lengths)
        assert c["merged"] - before["merged"] == sum(1 for x in lengths if x > RX_BUF - 12), c
    else:
        want = sum(1 for x in lengths if x <= RX_BUF - c["header"])
    assert c["oversize"] - before["oversize"] == want, (c, want)
    assert c["rx"] == before["rx"] + 1, c

    # dropped and errors are exactly the runts and the oversized frames.
    assert c["dropped"] - base["dropped"] == runts + want, c
    assert c["errors"] - base["errors"] == runts + want, c

    # (d) Garbage of legal length: the driver passes it on (it is a frame), the stack drops it.
    # In batches of 25 (at most ~38 KB), each behind a barrier, so no socket buffer overflows
    # however slowly QEMU reads.
    before = c
    ng = batches = 0
    while ng < 200:
        ng += peer.garbage(25, first=ng)
        c = sync()
        batches += 1
    assert c["rx"] - before["rx"] == ng + batches, c
    assert c["dropped"] == before["dropped"] and c["starved"] <= 2, c

    # Still alive: eth1 answers, eth0 serves HTTP and echoes, nothing failed.
    peer.drain()
    assert peer.ping(ETH1_IP, mac, 3) == 3
    rc, body = curl(f"http://127.0.0.1:{v.ports.http}/")
    assert rc == 0, body
    check_page(body)
    assert "<td>eth1</td>" in body
    tcp_echo(v.ports.echo, 256 << 10)
    blk = v.run("virtio")
    assert "BROKEN" not in blk and "FAILED" not in blk, blk
    d = net_dev(v.run("net"), "eth1")
    assert d["driver"]["rx_errors"] == c["errors"] and d["driver"]["rx_dropped"] == c["dropped"], d
    assert d["stack"]["rx_drops"] == 0, d
    print(f"eth1 after all: {c}")


def test_rx_filter_promisc_and_mac_table(boot, raw_peer):
    """`net promisc` and `net filter` through virtio-net's control queue (CTRL_RX PROMISC,
    CTRL_MAC TABLE_SET), judged by QEMU's own receive filter: with promiscuous mode off a
    frame for a foreign unicast address never reaches the guest, one for an address in the
    table does, and promiscuous mode on lets everything through."""
    peer = raw_peer
    v = start(boot, append=f"net.eth1.ip={ETH1_IP}/24 net.eth1.dhcp=0",
              nic_extra=["-netdev", peer.netdev_arg(), "-device", "virtio-net-pci,netdev=n1"])
    wait_net(v)
    mac = peer.arp_resolve(ETH1_IP)
    assert mac is not None
    foreign, listed = b"\x02\x00\x00\x99\x99\x01", b"\x02\x00\x00\x99\x99\x02"

    def received(dst, n=5):
        """How many of n frames for dst the guest's driver received (a barrier echo after
        them proves the guest has seen everything sent before it)."""
        before = eth1_counts(v)["rx"]
        for i in range(n):
            peer.send(eth(dst, peer.mac, 0x88B5, bytes([i]) * 46))  # local experimental type
        assert peer.barrier(ETH1_IP, mac)
        return eth1_counts(v)["rx"] - before - 1

    assert received(foreign) == 5  # QEMU starts promiscuous (its reset state)
    assert v.run("net promisc eth1 off") == "" and v.run("echo $?").strip() == "0"
    assert received(foreign) == 0 and received(listed) == 0
    assert received(mac) == 5  # the card's own address always passes
    assert v.run("net filter eth1 02:00:00:99:99:02") == ""
    assert received(listed) == 5 and received(foreign) == 0
    assert v.run("net promisc eth1 on") == ""
    assert received(foreign) == 5
    # Bad input: a clear error and a non-zero status; the device is unharmed.
    for cmd, msg in [("net promisc eth9 on", "no interface 'eth9'"),
                     ("net promisc eth1 maybe", "usage: net"),
                     ("net filter eth1 02:00:00:99:99", "bad MAC address"),
                     ("net filter eth1 " + " ".join(["02:00:00:00:00:01"] * 8), "usage: net")]:
        assert msg in v.run(cmd), cmd
        assert v.run("echo $?").strip() != "0", cmd
    blk = device_block(v.run("virtio"), "eth1")
    assert "BROKEN" not in blk and "FAILED" not in blk, blk


@pytest.mark.parametrize("machine", ["q35", "microvm"])
def test_raw_frames_poll_mode_flood(boot, raw_peer, machine):
    """The same flood against a polling driver (no interrupts): it keeps up and answers."""
    peer = raw_peer
    v = start(boot, append=f"virtio.mode=poll net.eth1.ip={ETH1_IP}/24 net.eth1.dhcp=0",
              machine=machine, nic_extra=["-netdev", peer.netdev_arg(), "-device",
                                          f"{nic_model(machine)},netdev=n1"])
    wait_net(v)
    mac = peer.arp_resolve(ETH1_IP)
    assert mac is not None
    base = eth1_counts(v)
    peer.flood(20000)
    peer.drain()
    assert peer.ping(ETH1_IP, mac, 30) >= 1, "eth1 stopped answering after the flood"
    c = eth1_counts(v)
    assert c["rx"] - base["rx"] >= 1 and c["errors"] == 0 and c["starved"] <= 2, c
    peer.drain()
    assert peer.barrier(ETH1_IP, mac)
    rc, body = curl(f"http://127.0.0.1:{v.ports.http}/")
    assert rc == 0, body


# ---- checksum offload over a tap in a private network namespace ------------------------------

CLONE_NEWNET = 0x40000000


def _can_make_tap():
    if os.geteuid() != 0 or not shutil.which("ip") or not os.path.exists("/dev/net/tun"):
        return False
    ns = f"vireo-probe-{os.getpid()}"
    try:
        if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode:
            return False
        return subprocess.run(["ip", "netns", "exec", ns, "ip", "tuntap", "add", "dev", "vtap0",
                               "mode", "tap"], capture_output=True).returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def netns_tap(monkeypatch, tmp_path):
    """A network namespace of our own with a tap device vtap0 at 10.0.2.2/24 (the address the
    guest expects its gateway at, as under user networking), and QEMU started inside it. The
    namespace (and with it the tap) is deleted at the end. Nothing is reachable from it."""
    if not _can_make_tap():
        pytest.skip("cannot create a network namespace with a tap device here (needs root and /dev/net/tun)")
    ns = f"vireo-test-{uuid.uuid4().hex[:8]}"
    run = lambda *a: subprocess.run(["ip", "netns", "exec", ns, *a], check=True, capture_output=True)
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        run("ip", "link", "set", "lo", "up")
        run("ip", "tuntap", "add", "dev", "vtap0", "mode", "tap", "vnet_hdr")
        run("ip", "addr", "add", f"{GATEWAY}/24", "dev", "vtap0")
        run("ip", "link", "set", "vtap0", "up")
        wrapper = tmp_path / "qemu-in-netns"
        wrapper.write_text(f"#!/bin/sh\nexec ip netns exec {ns} {vireo.QEMU} \"$@\"\n")
        wrapper.chmod(0o755)
        monkeypatch.setattr(vireo, "QEMU", str(wrapper))
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def netns_socket_factory(ns):
    """socket(type) made inside namespace ns: setns() in a short-lived thread (it changes only
    that thread's namespace); the socket keeps its namespace afterwards."""
    libc = ctypes.CDLL(None, use_errno=True)

    def make(kind=socket.SOCK_STREAM):
        box = {}

        def inner():
            fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    box["err"] = OSError(ctypes.get_errno(), "setns")
                    return
                box["sock"] = socket.socket(socket.AF_INET, kind)
            finally:
                os.close(fd)
        t = threading.Thread(target=inner)
        t.start()
        t.join()
        if "err" in box:
            raise box["err"]
        return box["sock"]
    return make


@pytest.mark.parametrize("offload", [True, False], ids=["csum_on", "csum_off"])
def test_tap_checksum_offload(boot, netns_tap, offload):
    ns = netns_tap
    dev = "" if offload else "csum=off,guest_csum=off"
    # The guest takes the static 10.0.2.15/24 at once; QEMU is started inside the namespace.
    v = start(boot, append="net.dhcp=0",
              netdev="tap,id=n0,ifname=vtap0,script=no,downscript=no,vnet_hdr=on", device=dev)
    wait_net(v)
    blk = device_block(v.run("virtio"))
    offered = re.search(r"^  offered: +(.*)$", blk, re.M).group(1).split()
    negotiated = re.search(r"^  negotiated: +(.*)$", blk, re.M).group(1).split()
    for f in ("CSUM", "GUEST_CSUM"):
        assert (f in offered) == offload and (f in negotiated) == offload, blk
    d = net_dev(v.run("net"))
    assert d["features"] == (["tx-csum", "rx-csum"] if offload else ["none"]), d

    mk = netns_socket_factory(ns)
    rc, body = curl(f"http://{GUEST_IP}/", netns=ns)
    assert rc == 0, body
    check_page(body)
    tcp_echo(7, 2 << 20, host=GUEST_IP, sock_factory=mk)
    udp_echo(7, count=12, host=GUEST_IP, sock_factory=mk)
    # Fragmented datagrams: no checksum offload for fragments (the device sees one fragment at
    # a time), so these take the software path even with the offload on.
    udp_echo(7, count=4, host=GUEST_IP, sock_factory=mk, sizes=(3000, 8000))

    net = v.run("net")
    d = net_dev(net)
    chk = re.search(r"tcp xmit=\d+ recv=\d+ drop=\d+ chkerr=(\d+); udp .* chkerr=(\d+);", net)
    assert chk and chk.groups() == ("0", "0"), net  # every checksum on both sides was right
    if offload:
        # The device completed the guest's TCP/UDP sums, and the guest trusted the host's
        # (locally generated packets arrive with NEEDS_CSUM, partial sums).
        assert d["stack"]["tx_csum_offload"] > 500 and d["stack"]["rx_csum_trusted"] > 500, d
    else:
        assert d["stack"]["tx_csum_offload"] == 0 and d["stack"]["rx_csum_trusted"] == 0, d
