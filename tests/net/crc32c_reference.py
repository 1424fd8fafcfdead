#!/usr/bin/env python3
"""Independent derivation of the SCTP/CRC32c fixtures in crc32c_test.cc and parse_test.cc.

A bit-at-a-time CRC32c (reflected polynomial 0x82F63B78, init and final xor 0xffffffff) written
from the definition, nothing shared with src/net/crc32c.cc. It first reproduces published
vectors (RFC 3720 B.4 and Scapy's SCTP regression tests, whose checksum fields prove the
least-significant-byte-first placement), then prints the packets the C++ tests embed.
Run: python3 tests/net/crc32c_reference.py
"""
import struct


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def chunk(ctype, flags, value):
    return pad4(struct.pack("!BBH", ctype, flags, 4 + len(value)) + value)


def param(ptype, value):
    return pad4(struct.pack("!HH", ptype, 4 + len(value)) + value)


def sctp(sport, dport, vtag, chunks):
    body = b"".join(chunks)
    c = crc32c(struct.pack("!HHII", sport, dport, vtag, 0) + body)
    return struct.pack("!HHI", sport, dport, vtag) + struct.pack("<I", c) + body


def main():
    # RFC 3720 B.4.
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    pdu = bytes.fromhex("01c00000000000000000000000000000"
                        "14000000000004000000001400000018"
                        "28000000000000000200000000000000")
    assert crc32c(pdu) == 0xD9963A56
    assert crc32c(b"123456789") == 0xE3069283
    # Scapy test/scapy/layers/sctp.uts: IP()/SCTP()/SCTPChunkInit(params=[IPv4 127.0.0.1]) has
    # checksum field bytes 40 2c 0b 5f; IP()/SCTP()/SCTPChunkSACK(gap 7:28) has 3b 01 d4 04.
    scapy_init = sctp(0, 0, 0, [chunk(1, 0, bytes(16) + param(5, bytes([127, 0, 0, 1])))])
    assert scapy_init[8:12] == bytes.fromhex("402c0b5f"), scapy_init.hex()
    scapy_sack = sctp(0, 0, 0, [chunk(3, 0, bytes(8) + struct.pack("!HHHH", 1, 0, 7, 28))])
    assert scapy_sack[8:12] == bytes.fromhex("3b01d404"), scapy_sack.hex()

    # An INIT as a client sends it: 40000 -> 3868 (Diameter), vtag 0, initiate tag 0x3a1f2c4d,
    # a_rwnd 106496, 10 out / 65535 in streams, TSN 0x5e6f7081, parameters: supported address
    # types (IPv4), ECN capable, forward-TSN supported.
    init = sctp(40000, 3868, 0, [chunk(1, 0, struct.pack("!IIHHI", 0x3A1F2C4D, 106496, 10,
                                                          65535, 0x5E6F7081)
                                       + param(0x000C, struct.pack("!H", 5))
                                       + param(0x8000, b"") + param(0xC000, b""))])
    print("client INIT (%d bytes): %s" % (len(init), init.hex(" ")))
    # Scapy's INIT after NAT sets its ports to 40000 -> 3868.
    natted = sctp(40000, 3868, 0, [chunk(1, 0, bytes(16) + param(5, bytes([127, 0, 0, 1])))])
    print("scapy INIT natted checksum field: %s" % natted[8:12].hex(" "))
    # COOKIE ECHO (8-byte cookie) bundled with an ABORT, 40000 -> 3868, vtag 0x3a1f2c4d.
    bundle = sctp(40000, 3868, 0x3A1F2C4D, [chunk(10, 0, bytes(range(1, 9))), chunk(6, 0, b"")])
    print("COOKIE ECHO + ABORT (%d bytes): %s" % (len(bundle), bundle.hex(" ")))


if __name__ == "__main__":
    main()
