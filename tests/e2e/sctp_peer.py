#!/usr/bin/env python3
"""A minimal SCTP peer over raw IP sockets, for lvs's end-to-end tests.

The CI kernel has no SCTP module, so neither the client nor the real servers can open SCTP
sockets. Raw sockets of IP protocol 132 work without it: this script builds and parses SCTP
packets itself (RFC 9260 common header and chunks, its own CRC32c), and a raw socket bound for
protocol 132 also keeps the kernel from answering "protocol unreachable".

  server --addr A [--addr A6] --port P --name N   answer associations on A:P; every DATA gets
                                                   a SACK plus a DATA chunk carrying N
  client --vip V --port P --count K --src-port-base B
                                                   K associations, one line each: the name
                                                   that answered, or "ERR <reason>"
  stray --dst D --port P --src-port S --chunk data|init [--bad-crc]
                                                   one packet; prints NOANSWER or ANSWER
  selftest                                         CRC32c against RFC 3720's vectors

Standard library only. Every packet received is checked (CRC32c, ports, verification tag);
bad ones are counted and ignored. The server prints its counters ("stats name=... bad_crc=...")
on SIGUSR1 and on exit (SIGTERM, SIGINT or --max-seconds).
"""

import argparse
import ipaddress
import os
import select
import signal
import socket
import struct
import sys
import time

IPPROTO_SCTP = 132

DATA, INIT, INIT_ACK, SACK, HEARTBEAT, HEARTBEAT_ACK, ABORT = 0, 1, 2, 3, 4, 5, 6
SHUTDOWN, SHUTDOWN_ACK, ERROR, COOKIE_ECHO, COOKIE_ACK = 7, 8, 9, 10, 11
SHUTDOWN_COMPLETE = 14
CHUNK_NAMES = {
    DATA: "DATA", INIT: "INIT", INIT_ACK: "INIT_ACK", SACK: "SACK", HEARTBEAT: "HEARTBEAT",
    HEARTBEAT_ACK: "HEARTBEAT_ACK", ABORT: "ABORT", SHUTDOWN: "SHUTDOWN",
    SHUTDOWN_ACK: "SHUTDOWN_ACK", ERROR: "ERROR", COOKIE_ECHO: "COOKIE_ECHO",
    COOKIE_ACK: "COOKIE_ACK", SHUTDOWN_COMPLETE: "SHUTDOWN_COMPLETE",
}
FLAG_T = 0x01            # ABORT / SHUTDOWN COMPLETE: the tag is the sender's own
DATA_BEGIN_END = 0x03    # an unfragmented user message
PARAM_STATE_COOKIE = 7
A_RWND = 65536
COOKIE_MAGIC = b"lvs-e2e1"

# ---------------------------------------------------------------------------------------------
# CRC32c (Castagnoli), reflected, table-driven; SCTP stores it little-endian (RFC 9260 app. A).

CRC32C_POLY = 0x82F63B78


def _crc32c_table():
    table = []
    for byte in range(256):
        c = byte
        for _ in range(8):
            c = (c >> 1) ^ CRC32C_POLY if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    table = CRC32C_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32c_bitwise(data):
    """An independent, bit-at-a-time CRC32c, only for the self-test."""
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (CRC32C_POLY & -(c & 1))
    return c ^ 0xFFFFFFFF


def sctp_crc(pkt):
    """The checksum of an SCTP packet: all of it, with the checksum field taken as zero."""
    return crc32c(pkt[:8] + b"\0\0\0\0" + pkt[12:])


def crc_ok(pkt):
    return len(pkt) >= 12 and struct.unpack_from("<I", pkt, 8)[0] == sctp_crc(pkt)


# ---------------------------------------------------------------------------------------------
# Packets

def chunk(ctype, flags, value=b""):
    length = 4 + len(value)
    return struct.pack("!BBH", ctype, flags, length) + value + b"\0" * (-length % 4)


def packet(sport, dport, vtag, chunks, bad_crc=False):
    pkt = struct.pack("!HHII", sport, dport, vtag, 0) + b"".join(chunks)
    crc = sctp_crc(pkt)
    if bad_crc:
        crc ^= 0x00010000
    return pkt[:8] + struct.pack("<I", crc) + pkt[12:]


def parse_chunks(body):
    """[(type, flags, value)], or None when a chunk header is broken."""
    chunks = []
    off = 0
    while off + 4 <= len(body):
        ctype, flags, length = struct.unpack_from("!BBH", body, off)
        if length < 4 or off + length > len(body):
            return None
        chunks.append((ctype, flags, bytes(body[off + 4:off + length])))
        off += (length + 3) & ~3
    return chunks


def init_value(tag, tsn, params=b""):
    # Initiate tag, a_rwnd, outbound streams, max inbound streams, initial TSN.
    return struct.pack("!IIHHI", tag, A_RWND, 1, 1, tsn) + params


def parse_init(value):
    """(tag, tsn, {param type: value}) of an INIT or INIT ACK, or None."""
    if len(value) < 16:
        return None
    tag, _rwnd, _os, _mis, tsn = struct.unpack_from("!IIHHI", value)
    params = {}
    off = 16
    while off + 4 <= len(value):
        ptype, plen = struct.unpack_from("!HH", value, off)
        if plen < 4 or off + plen > len(value):
            return None
        params[ptype] = value[off + 4:off + plen]
        off += (plen + 3) & ~3
    return tag, tsn, params


def data_value(tsn, ssn, payload):
    # TSN, stream id, stream sequence number, payload protocol id, user data.
    return struct.pack("!IHHI", tsn, 0, ssn, 0) + payload


def sack_value(cum_tsn):
    # Cumulative TSN ack, a_rwnd, no gap blocks, no duplicates.
    return struct.pack("!IIHH", cum_tsn, A_RWND, 0, 0)


def nonzero_random32():
    while True:
        v = struct.unpack("!I", os.urandom(4))[0]
        if v:
            return v


def names(chunks):
    return ",".join(CHUNK_NAMES.get(c[0], str(c[0])) for c in chunks)


# ---------------------------------------------------------------------------------------------
# Raw sockets

class Raw:
    """A raw IP socket for protocol 132 bound to one local address."""

    def __init__(self, addr):
        ip = ipaddress.ip_address(addr)
        self.v6 = ip.version == 6
        self.family = socket.AF_INET6 if self.v6 else socket.AF_INET
        self.addr = str(ip)
        self.sock = socket.socket(self.family, socket.SOCK_RAW, IPPROTO_SCTP)
        self.sock.bind((self.addr, 0, 0, 0) if self.v6 else (self.addr, 0))

    def fileno(self):
        return self.sock.fileno()

    def recv(self):
        """(source address, SCTP bytes); IPv4 raw sockets deliver the IP header too."""
        data, peer = self.sock.recvfrom(65535)
        if self.v6:
            return str(ipaddress.ip_address(peer[0].split("%")[0])), data
        ihl = (data[0] & 0x0F) * 4
        return socket.inet_ntop(socket.AF_INET, data[12:16]), data[ihl:]

    def send(self, dst, pkt):
        # The port of a raw socket's address must be 0 (IPv6) and is ignored (IPv4).
        self.sock.sendto(pkt, (dst, 0, 0, 0) if self.v6 else (dst, 0))


def wait_readable(socks, timeout):
    if timeout <= 0:
        return []
    return select.select(socks, [], [], timeout)[0]


# ---------------------------------------------------------------------------------------------
# Server

class Server:
    def __init__(self, args):
        self.port = args.port
        self.name = args.name.encode()
        self.verbose = args.verbose
        self.socks = [Raw(a) for a in args.addr]
        self.assocs = {}   # (peer address, peer port) -> Assoc
        self.pending = {}  # (peer address, peer port) -> (peer tag, my tag, my TSN) after INIT
        self.n = dict.fromkeys(
            ["rx", "bad_crc", "malformed", "other_port", "bad_vtag", "ootb", "inits",
             "established", "data", "shutdowns", "completed", "aborts"], 0)

    def stats_line(self):
        fields = " ".join(f"{k}={v}" for k, v in self.n.items())
        return f"stats name={self.name.decode()} {fields} open={len(self.assocs)}"

    def log(self, msg):
        if self.verbose:
            print(msg, file=sys.stderr, flush=True)

    def run(self, max_seconds):
        deadline = time.monotonic() + max_seconds
        print(f"ready {self.name.decode()} " + " ".join(f"{s.addr}:{self.port}" for s in self.socks),
              flush=True)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for s in wait_readable(self.socks, left):
                src, pkt = s.recv()
                self.handle(s, src, pkt)

    def handle(self, sock, src, pkt):
        self.n["rx"] += 1
        if len(pkt) < 12:
            self.n["malformed"] += 1
            return
        if not crc_ok(pkt):
            self.n["bad_crc"] += 1
            self.log(f"bad crc from {src}")
            return
        sport, dport, vtag = struct.unpack_from("!HHI", pkt)
        if dport != self.port:
            self.n["other_port"] += 1
            return
        chunks = parse_chunks(pkt[12:])
        if not chunks:
            self.n["malformed"] += 1
            return
        key = (src, sport)
        self.log(f"{src}:{sport} vtag={vtag:#x} {names(chunks)}")
        if chunks[0][0] == INIT:
            self.on_init(sock, src, sport, vtag, chunks)
            return
        first = chunks[0][0]
        a = self.assocs.get(key)
        if first == COOKIE_ECHO:
            a = self.on_cookie_echo(key, vtag, chunks[0][2], a)
            if a is None:
                return
        elif a is None:
            self.n["ootb"] += 1
            return
        elif not self.tag_ok(a, vtag, chunks[0]):
            self.n["bad_vtag"] += 1
            return
        replies = []
        for ctype, flags, value in chunks:
            if ctype == COOKIE_ECHO:
                replies.append(chunk(COOKIE_ACK, 0))
            elif ctype == DATA:
                replies += self.on_data(a, value)
            elif ctype == HEARTBEAT:
                replies.append(chunk(HEARTBEAT_ACK, 0, value))
            elif ctype == SHUTDOWN:
                if not a.shutdown:
                    a.shutdown = True
                    self.n["shutdowns"] += 1
                replies.append(chunk(SHUTDOWN_ACK, 0))
            elif ctype == SHUTDOWN_COMPLETE:
                self.n["completed"] += 1
                del self.assocs[key]
                return
            elif ctype == ABORT:
                self.n["aborts"] += 1
                del self.assocs[key]
                return
        if replies:
            # Control chunks before DATA (RFC 9260 6.10): on_data returns SACK first.
            sock.send(src, packet(self.port, sport, a.peer_tag, replies))

    def tag_ok(self, a, vtag, first):
        if first[0] in (ABORT, SHUTDOWN_COMPLETE) and first[1] & FLAG_T:
            return vtag == a.peer_tag
        return vtag == a.my_tag

    def on_init(self, sock, src, sport, vtag, chunks):
        key = (src, sport)
        parsed = parse_init(chunks[0][2])
        # An INIT travels alone, with tag 0, and announces a non-zero tag of its own.
        if len(chunks) != 1 or parsed is None or parsed[0] == 0:
            self.n["malformed"] += 1
            return
        if vtag != 0:
            self.n["bad_vtag"] += 1
            return
        peer_tag, peer_tsn, _ = parsed
        self.n["inits"] += 1
        p = self.pending.get(key)
        if p and p[0] == peer_tag:  # a retransmitted INIT gets the same answer
            my_tag, my_tsn = p[1], p[2]
        else:
            my_tag, my_tsn = nonzero_random32(), nonzero_random32()
            self.pending[key] = (peer_tag, my_tag, my_tsn)
        # The cookie carries everything the association needs (no state kept until it returns).
        cookie = COOKIE_MAGIC + struct.pack("!IIIIH", my_tag, peer_tag, my_tsn, peer_tsn, sport)
        cookie += ipaddress.ip_address(src).packed
        param = struct.pack("!HH", PARAM_STATE_COOKIE, 4 + len(cookie)) + cookie
        param += b"\0" * (-len(param) % 4)
        ack = chunk(INIT_ACK, 0, init_value(my_tag, my_tsn, param))
        sock.send(src, packet(self.port, sport, peer_tag, [ack]))

    def on_cookie_echo(self, key, vtag, cookie, a):
        hdr = len(COOKIE_MAGIC) + 18
        if len(cookie) < hdr or not cookie.startswith(COOKIE_MAGIC):
            self.n["malformed"] += 1
            return None
        my_tag, peer_tag, my_tsn, peer_tsn, sport = struct.unpack_from("!IIIIH", cookie,
                                                                        len(COOKIE_MAGIC))
        if (ipaddress.ip_address(key[0]).packed, key[1]) != (cookie[hdr:], sport):
            self.n["malformed"] += 1
            return None
        if vtag != my_tag:
            self.n["bad_vtag"] += 1
            return None
        if a is None or a.my_tag != my_tag:  # else a retransmitted COOKIE ECHO
            a = Assoc(my_tag, peer_tag, my_tsn, peer_tsn)
            self.assocs[key] = a
            self.pending.pop(key, None)
            self.n["established"] += 1
        return a

    def on_data(self, a, value):
        if len(value) < 12:
            self.n["malformed"] += 1
            return []
        tsn = struct.unpack_from("!I", value)[0]
        self.n["data"] += 1
        if tsn == (a.cum_tsn + 1) & 0xFFFFFFFF:
            a.cum_tsn = tsn
            a.replies[tsn] = (a.next_tsn, a.next_ssn)
            a.next_tsn = (a.next_tsn + 1) & 0xFFFFFFFF
            a.next_ssn = (a.next_ssn + 1) & 0xFFFF
        out = [chunk(SACK, 0, sack_value(a.cum_tsn))]
        if tsn in a.replies:  # new, or a retransmission whose answer may have been lost
            my_tsn, ssn = a.replies[tsn]
            out.append(chunk(DATA, DATA_BEGIN_END, data_value(my_tsn, ssn, self.name)))
        return out


class Assoc:
    def __init__(self, my_tag, peer_tag, my_tsn, peer_tsn):
        self.my_tag = my_tag
        self.peer_tag = peer_tag
        self.next_tsn = my_tsn
        self.next_ssn = 0
        self.cum_tsn = (peer_tsn - 1) & 0xFFFFFFFF
        self.replies = {}  # peer TSN -> (our TSN, our SSN) of the DATA that answered it
        self.shutdown = False


def cmd_server(args):
    srv = Server(args)
    signal.signal(signal.SIGUSR1, lambda *_: print(srv.stats_line(), flush=True))

    def stop(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.run(args.max_seconds)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(srv.stats_line(), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# Client

class AssocError(Exception):
    pass


def source_for(dst, port):
    """The address the kernel would send from to reach dst (no packet is sent)."""
    fam = socket.AF_INET6 if ipaddress.ip_address(dst).version == 6 else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.connect((dst, port))
        return s.getsockname()[0]


class Conversation:
    """One client port talking to dst:port: sends, retransmits, filters what comes back."""

    def __init__(self, raw, dst, port, sport, my_tag, deadline, verbose):
        self.raw = raw
        self.dst = str(ipaddress.ip_address(dst))
        self.port = port
        self.sport = sport
        self.my_tag = my_tag
        self.deadline = deadline
        self.verbose = verbose
        self.bad_crc = 0
        self.bad_vtag = 0
        self.retransmits = 0

    def send(self, vtag, chunks, bad_crc=False):
        self.raw.send(self.dst, packet(self.sport, self.port, vtag, chunks, bad_crc))

    def receive(self, until):
        """Chunks of the next valid packet from dst:port to our port before `until`, or None."""
        while True:
            ready = wait_readable([self.raw], min(until, self.deadline) - time.monotonic())
            if not ready:
                return None
            src, pkt = self.raw.recv()
            if src != self.dst or len(pkt) < 12:
                continue
            sport, dport, vtag = struct.unpack_from("!HHI", pkt)
            if (sport, dport) != (self.port, self.sport):
                continue
            if not crc_ok(pkt):
                self.bad_crc += 1
                continue
            chunks = parse_chunks(pkt[12:])
            if not chunks:
                continue
            first = chunks[0]
            t_bit = first[0] in (ABORT, SHUTDOWN_COMPLETE) and first[1] & FLAG_T
            if not t_bit and vtag != self.my_tag:
                self.bad_vtag += 1
                continue
            if self.verbose:
                print(f"  {self.sport} <- {names(chunks)}", file=sys.stderr, flush=True)
            return chunks

    def exchange(self, vtag, chunks, want, what):
        """Send, and resend with backoff, until a packet holding a `want` chunk comes back."""
        rto = 0.2
        sends = 1
        while True:
            self.send(vtag, chunks)
            until = time.monotonic() + rto
            while True:
                got = self.receive(until)
                if got is None:
                    break
                for c in got:
                    if c[0] == ABORT:
                        raise AssocError(f"ABORT while waiting for {what}")
                for c in got:
                    if c[0] == want:
                        return c
            if time.monotonic() >= self.deadline:
                raise AssocError(self.why(f"no {what} after {sends} sends"))
            self.retransmits += 1
            sends += 1
            rto = min(rto * 2, 1.0)

    def why(self, reason):
        if self.bad_crc or self.bad_vtag:
            reason += f" (ignored: {self.bad_crc} bad crc, {self.bad_vtag} bad vtag)"
        return reason


def one_association(raw, args, sport):
    my_tag, my_tsn = nonzero_random32(), nonzero_random32()
    conv = Conversation(raw, args.vip, args.port, sport, my_tag,
                        time.monotonic() + args.timeout, args.verbose)
    c = conv.exchange(0, [chunk(INIT, 0, init_value(my_tag, my_tsn))], INIT_ACK, "INIT ACK")
    parsed = parse_init(c[2])
    if parsed is None or parsed[0] == 0:
        raise AssocError("malformed INIT ACK")
    peer_tag, _peer_tsn, params = parsed
    cookie = params.get(PARAM_STATE_COOKIE)
    if cookie is None:
        raise AssocError("INIT ACK without a state cookie")
    conv.exchange(peer_tag, [chunk(COOKIE_ECHO, 0, cookie)], COOKIE_ACK, "COOKIE ACK")
    c = conv.exchange(peer_tag, [chunk(DATA, DATA_BEGIN_END, data_value(my_tsn, 0, b"hello"))],
                      DATA, "DATA")
    if len(c[2]) < 12:
        raise AssocError("malformed DATA")
    peer_data_tsn = struct.unpack_from("!I", c[2])[0]
    name = c[2][12:].decode(errors="replace")
    conv.send(peer_tag, [chunk(SACK, 0, sack_value(peer_data_tsn))])
    conv.exchange(peer_tag, [chunk(SHUTDOWN, 0, struct.pack("!I", peer_data_tsn))], SHUTDOWN_ACK,
                  "SHUTDOWN ACK")
    conv.send(peer_tag, [chunk(SHUTDOWN_COMPLETE, 0)])
    return name, conv.retransmits


def cmd_client(args):
    raw = Raw(args.src or source_for(args.vip, args.port))
    failures = retransmits = 0
    end = time.monotonic() + args.max_seconds
    for i in range(args.count):
        try:
            if time.monotonic() >= end:
                raise AssocError(f"out of time (--max-seconds {args.max_seconds:g})")
            name, r = one_association(raw, args, args.src_port_base + i)
            retransmits += r
            print(name, flush=True)
        except AssocError as e:
            failures += 1
            print(f"ERR {e}", flush=True)
    print(f"client: {args.count} associations, {failures} failed, {retransmits} retransmits",
          file=sys.stderr)
    return 1 if failures else 0


def cmd_stray(args):
    """One packet out of the blue; any answer from dst:port within --wait counts."""
    raw = Raw(args.src or source_for(args.dst, args.port))
    tag = nonzero_random32()
    conv = Conversation(raw, args.dst, args.port, args.src_port, tag,
                        time.monotonic() + args.wait, False)
    if args.chunk == "init":
        vtag, chunks = 0, [chunk(INIT, 0, init_value(tag, nonzero_random32()))]
    else:
        vtag, chunks = nonzero_random32(), [chunk(DATA, DATA_BEGIN_END,
                                                  data_value(nonzero_random32(), 0, b"stray"))]
    conv.send(vtag, chunks, bad_crc=args.bad_crc)
    # Anything from dst:port to our port counts, whatever its tag or checksum.
    while True:
        ready = wait_readable([raw], conv.deadline - time.monotonic())
        if not ready:
            print("NOANSWER")
            return 0
        src, pkt = raw.recv()
        if src == conv.dst and len(pkt) >= 12 and \
                struct.unpack_from("!HH", pkt) == (args.port, args.src_port):
            print(f"ANSWER {names(parse_chunks(pkt[12:]) or [])}")
            return 1


# ---------------------------------------------------------------------------------------------
# Self-test

def cmd_selftest(_args):
    vectors = [  # RFC 3720 B.4, as the CRC's value (stored little-endian: aa 36 91 8a)
        (bytes(32), 0x8A9136AA),
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
    ]
    for data, want in vectors:
        for fn in (crc32c, crc32c_bitwise):
            got = fn(data)
            if got != want:
                print(f"FAIL {fn.__name__}({data[:4].hex()}...) = {got:#010x}, want {want:#010x}")
                return 1
    assert struct.pack("<I", crc32c(bytes(32))) == bytes.fromhex("aa36918a")
    for n in range(0, 300, 7):
        data = os.urandom(n)
        if crc32c(data) != crc32c_bitwise(data):
            print(f"FAIL table and bitwise CRC32c differ on {data.hex()}")
            return 1
    pkt = packet(40000, 5000, 0, [chunk(INIT, 0, init_value(1, 2))])
    if not crc_ok(pkt) or crc_ok(packet(40000, 5000, 0, [chunk(INIT, 0, init_value(1, 2))], True)):
        print("FAIL packet checksum round trip")
        return 1
    bad = bytearray(pkt)
    bad[-1] ^= 1
    if crc_ok(bytes(bad)):
        print("FAIL a flipped bit went unnoticed")
        return 1
    chunks = parse_chunks(pkt[12:])
    if chunks is None or chunks[0][0] != INIT or parse_init(chunks[0][2])[:2] != (1, 2):
        print("FAIL INIT round trip")
        return 1
    print("selftest ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--addr", action="append", required=True, help="local address (repeatable)")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--max-seconds", type=float, default=60)
    s.add_argument("--verbose", action="store_true")
    c = sub.add_parser("client")
    c.add_argument("--vip", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--src-port-base", type=int, required=True)
    c.add_argument("--src", help="own address (default: the kernel's source for --vip)")
    c.add_argument("--timeout", type=float, default=5, help="seconds per association")
    c.add_argument("--max-seconds", type=float, default=30, help="for all of them")
    c.add_argument("--verbose", action="store_true")
    t = sub.add_parser("stray")
    t.add_argument("--dst", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--src-port", type=int, required=True)
    t.add_argument("--src")
    t.add_argument("--chunk", choices=["data", "init"], default="data")
    t.add_argument("--bad-crc", action="store_true")
    t.add_argument("--wait", type=float, default=1)
    sub.add_parser("selftest")
    args = ap.parse_args()
    cmds = {"server": cmd_server, "client": cmd_client, "stray": cmd_stray,
            "selftest": cmd_selftest}
    return cmds[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
