"""Raw Ethernet frames to and from a guest NIC behind QEMU's `-netdev dgram`.

QEMU's dgram (and `socket,udp=`) backend carries each Ethernet frame as one UDP datagram
between two loopback ports: it receives on `local` and sends to `remote`. A RawPeer owns the
remote end, so whatever it sends reaches the guest NIC as one frame, byte for byte (no FCS,
no padding), and every frame the guest transmits arrives here as one datagram.

Everything stays on 127.0.0.1 and inside QEMU's virtual link; the IPv4 addresses in the frames
(192.168.77.x by default) exist only between this script and the guest.

Also usable from the command line to poke a running guest by hand:
    python3 rawframes.py QEMU_LOCAL_PORT MY_PORT flood|runts|oversize|garbage|ping [N]
"""
import os
import random
import socket
import struct
import sys
import time

BROADCAST = b"\xff" * 6
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":")) if isinstance(mac, str) else bytes(mac)


def ip_bytes(ip):
    return socket.inet_aton(ip)


def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, ethertype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, op) + mac_bytes(sha) + ip_bytes(spa) + \
        mac_bytes(tha) + ip_bytes(tpa)


def ipv4(src, dst, proto, payload, ident=0, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0,
                      ip_bytes(src), ip_bytes(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def udp(src_ip, dst_ip, sport, dport, payload):
    length = 8 + len(payload)
    pseudo = ip_bytes(src_ip) + ip_bytes(dst_ip) + struct.pack("!BBH", 0, 17, length)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def icmp_echo(ident, seq, payload, kind=8):
    hdr = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    return struct.pack("!BBHHH", kind, 0, csum(hdr + payload), ident, seq) + payload


def parse(frame):
    """(dst, src, ethertype, payload) or None for anything shorter than a header."""
    if len(frame) < 14:
        return None
    return frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0], frame[14:]


class RawPeer:
    """The host end of a `-netdev dgram` link.

    netdev_arg() is the QEMU argument; the peer pretends to be a host with mac/ip on the
    guest's segment."""

    def __init__(self, netdev_id="n1", mac="02:00:00:77:00:01", ip="192.168.77.1"):
        self.netdev_id = netdev_id
        self.mac = mac_bytes(mac)
        self.ip = ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.qemu_port = free_udp_port()
        self.sock.connect(("127.0.0.1", self.qemu_port))
        self.sent = 0

    def netdev_arg(self):
        return (f"dgram,id={self.netdev_id},local.type=inet,local.host=127.0.0.1,"
                f"local.port={self.qemu_port},remote.type=inet,remote.host=127.0.0.1,"
                f"remote.port={self.port}")

    def close(self):
        self.sock.close()

    # -- sending -------------------------------------------------------------------------------
    def send(self, frame):
        """One frame; retried while the socket buffer is full. Zero-length datagrams are never
        sent: QEMU's dgram backend takes one as end-of-connection and stops reading."""
        assert len(frame) > 0
        while True:
            try:
                self.sock.send(frame)
                self.sent += 1
                return
            except (BlockingIOError, InterruptedError):
                time.sleep(0.0001)
            except ConnectionRefusedError:
                # An ICMP port unreachable from before QEMU listened: try again.
                time.sleep(0.01)

    def send_paced(self, frames, gap=0.0005):
        """Frames slowly enough that neither the host socket nor QEMU drops any."""
        for f in frames:
            self.send(f)
            time.sleep(gap)

    def flood(self, count=20000, size=60, guest_ip="192.168.77.2"):
        """count valid broadcast frames as fast as the socket takes them: alternately a UDP
        datagram to a port nobody listens on (the stack counts and drops it, and sends nothing
        back for a broadcast) and an ARP request for an address that is not the guest's.
        Returns (frames, seconds)."""
        pad = max(0, size - 14 - 20 - 8)
        udp_frame = eth(BROADCAST, self.mac, ETH_P_IP,
                        ipv4(self.ip, "192.168.77.255", 17,
                             udp(self.ip, "192.168.77.255", 40000, 9, b"\xa5" * pad)))
        other = guest_ip.rsplit(".", 1)[0] + ".200"
        arp_frame = eth(BROADCAST, self.mac, ETH_P_ARP,
                        arp(1, self.mac, self.ip, b"\0" * 6, other)).ljust(size, b"\0")
        frames = (udp_frame, arp_frame)
        t0 = time.monotonic()
        for i in range(count):
            self.send(frames[i & 1])
        return count, time.monotonic() - t0

    def runts(self, lengths=range(1, 14)):
        frames = [bytes((0xFF,) * min(n, 6)) + os.urandom(max(0, n - 6)) for n in lengths]
        self.send_paced(frames)
        return len(frames)

    def oversize(self, lengths=(1519, 1600, 2000, 4000, 9000)):
        frames = [eth(BROADCAST, self.mac, ETH_P_IP, os.urandom(n - 14)) for n in lengths]
        self.send_paced(frames)
        return len(frames)

    def garbage(self, count=200, seed=1, first=0):
        """Frames of valid length (14..1514) with random content after a broadcast destination
        (so the NIC's filter passes them): the driver receives them, the stack must drop them.
        first skips that many frames of the seeded sequence (to send it in batches)."""
        rnd = random.Random(seed)
        frames = [BROADCAST + bytes(rnd.getrandbits(8) for _ in range(rnd.randint(8, 1508)))
                  for _ in range(first + count)][first:]
        self.send_paced(frames, gap=0.0002)
        return len(frames)

    # -- receiving -----------------------------------------------------------------------------
    def drain(self):
        self.sock.setblocking(False)
        n = 0
        try:
            while True:
                self.sock.recv(65536)
                n += 1
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        return n

    def recv_until(self, match, timeout):
        """The first frame for which match(frame) is true, or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                frame = self.sock.recv(65536)
            except socket.timeout:
                return None
            finally:
                self.sock.settimeout(None)
            if match(frame):
                return frame

    def arp_resolve(self, target_ip, timeout=2.0, tries=3):
        """The guest's MAC from an ARP request/reply, or None."""
        req = eth(BROADCAST, self.mac, ETH_P_ARP, arp(1, self.mac, self.ip, b"\0" * 6, target_ip))

        def is_reply(f):
            p = parse(f)
            return (p and p[2] == ETH_P_ARP and len(p[3]) >= 28 and p[3][6:8] == b"\0\2"
                    and p[3][14:18] == ip_bytes(target_ip))
        for _ in range(tries):
            self.send(req)
            f = self.recv_until(is_reply, timeout)
            if f:
                return f[6:12]
        return None

    def barrier(self, target_ip, target_mac, timeout=120.0):
        """One ICMP echo, waited for as long as it takes: frames travel in order (the socket,
        QEMU's queue and the RX ring are FIFO, and the guest's stack answers after its driver
        counted what came before), so the reply proves the guest has seen every frame sent
        before it. The echo request is one more received frame. Returns True on the reply."""
        self.seq = getattr(self, "seq", 1000) + 1
        return self.ping(target_ip, target_mac, 1, timeout=timeout, first_seq=self.seq) == 1

    def ping(self, target_ip, target_mac, count=3, timeout=2.0, size=56, first_seq=1):
        """ICMP echo requests; returns how many replies came back intact."""
        got = 0
        ident = os.getpid() & 0xFFFF
        for seq in range(first_seq, first_seq + count):
            data = bytes(range(size % 256)) * (size // 256) + bytes(range(size % 256))
            data = data[:size]
            frame = eth(target_mac, self.mac, ETH_P_IP,
                        ipv4(self.ip, target_ip, 1, icmp_echo(ident, seq, data), ident=seq))

            def is_reply(f, seq=seq, data=data):
                p = parse(f)
                if not p or p[2] != ETH_P_IP or len(p[3]) < 28 or p[3][9] != 1:
                    return False
                ihl = (p[3][0] & 0xF) * 4
                icmp = p[3][ihl:]
                return (icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq)
                        and icmp[8:] == data and csum(icmp) == 0)
            self.send(frame)
            if self.recv_until(is_reply, timeout):
                got += 1
        return got


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    peer = RawPeer()
    peer.sock.close()
    peer.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.sock.bind(("127.0.0.1", int(argv[2])))
    peer.sock.connect(("127.0.0.1", int(argv[1])))
    what = argv[3]
    n = int(argv[4]) if len(argv) > 4 else None
    if what == "flood":
        print(peer.flood(n or 20000))
    elif what == "runts":
        print(peer.runts())
    elif what == "oversize":
        print(peer.oversize())
    elif what == "garbage":
        print(peer.garbage(n or 200))
    elif what == "ping":
        mac = peer.arp_resolve("192.168.77.2")
        print("mac", mac and mac.hex(":"), "replies", mac and peer.ping("192.168.77.2", mac, n or 3))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
