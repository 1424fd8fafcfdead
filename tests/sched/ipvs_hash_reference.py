#!/usr/bin/env python3
"""Reference model of IPVS's hashing schedulers, written apart from the C++ (from the kernel's
ip_vs_dh.c, ip_vs_sh.c, ip_vs_mh.c, lib/siphash.c and include/linux/hash.h) to derive the
expected values in dh_test.cc, sh_test.cc, mh_test.cc and siphash_test.cc. Not run by ctest;
run it to see where the constants come from:  python3 tests/sched/ipvs_hash_reference.py
"""
import ipaddress
import math

M64 = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def sipround(v):
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16); v3 ^= v2
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21); v3 ^= v0
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    return [v0, v1, v2, v3]


def siphash(data, k0, k1, c, d):
    v = [0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1,
         0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1]
    n = len(data)
    blocks = [int.from_bytes(data[i:i + 8], 'little') for i in range(0, n - n % 8, 8)]
    blocks.append((n << 56 | int.from_bytes(data[n - n % 8:], 'little')) & M64)
    for m in blocks:
        v[3] ^= m
        for _ in range(c):
            v = sipround(v)
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(d):
        v = sipround(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def hsiphash(data, k0, k1):
    # 64-bit kernels: SipHash-1-3, truncated to u32.
    return siphash(data, k0, k1, 1, 3) & 0xFFFFFFFF


def hash_32(val, bits):
    return ((val * 0x61C88647) & 0xFFFFFFFF) >> (32 - bits)


def fold(addr):
    a = ipaddress.ip_address(addr)
    b = a.packed
    if a.version == 4:
        return int.from_bytes(b, 'big')
    x = 0
    for i in range(0, 16, 4):
        x ^= int.from_bytes(b[i:i + 4], 'big')
    return x


def dh_bucket(addr):
    return hash_32(fold(addr), 8)


def sh_bucket(addr, port=0, offset=0):
    return (offset + hash_32((port + fold(addr)) & 0xFFFFFFFF, 8)) & 255


H1 = (2654435761, 2654435761)
H2 = (2654446892, 2654446892)
PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]


def mh_hashkey(addr, port, key, offset=0):
    v = (offset + port + fold(addr)) & 0xFFFFFFFF
    return hsiphash(v.to_bytes(4, 'little'), *key)


def mh_table(dests, index=12):
    """dests: list of (addr, port, last_weight) in IPVS list order (head first)."""
    m = PRIMES[index - 8]
    bits = index // 2
    g = 0
    for _, _, w in dests:
        if w > 0:
            g = math.gcd(w, g) if g else w
    if g < 1:
        return [None] * m
    mw = max(w for _, _, w in dests) // g
    rshift = max(0, mw.bit_length() - bits)
    setup = []
    for addr, port, w in dests:
        off = mh_hashkey(addr, port, H1) % m
        skip = mh_hashkey(addr, port, H2) % (m - 1) + 1
        turns = (w // g) >> rshift
        setup.append([off, skip, turns if turns else int(w != 0)])
    table = [None] * m
    n = 0
    while True:
        for i, s in enumerate(setup):
            for _ in range(s[2]):
                while table[s[0]] is not None:
                    s[0] = (s[0] + s[1]) % m
                table[s[0]] = i
                n += 1
                if n == m:
                    return table


def digest(table):
    """FNV-1a 64 over the table's dest indexes as u32 little-endian (None = 0xffffffff); the C++
    tests compute the same over their tables."""
    h = 0xCBF29CE484222325
    for x in table:
        v = 0xFFFFFFFF if x is None else x
        for byte in v.to_bytes(4, 'little'):
            h = ((h ^ byte) * 0x100000001B3) & M64
    return f'{h:#018x}'


def mh_fallback(table, dests_ok, addr, port, m=4093):
    """ip_vs_mh_get_fallback over a table of dest indexes; dests_ok[i]: server i available."""
    ihash = mh_hashkey(addr, port, H1) % m
    if table[ihash] is None:
        return None
    if dests_ok[table[ihash]]:
        return table[ihash]
    for offset in range(m):
        roffset = (offset + ihash) % m
        d = table[mh_hashkey(addr, port, H1, roffset) % m]
        if d is None:
            return None
        if dests_ok[d]:
            return d
    return None


if __name__ == '__main__':
    # siphash_test.cc: the kernel's test key and vectors (lib/siphash_kunit.c), self-check.
    k = (0x0706050403020100, 0x0F0E0D0C0B0A0908)
    for n in (0, 1, 4, 7, 8, 15, 16, 63):
        data = bytes(range(n))
        print(f'siphash24 len {n}: {siphash(data, *k, 2, 4):#018x}  hsiphash: {hsiphash(data, *k):#010x}')

    print('dh buckets:')
    for a in ('192.168.1.1', '10.0.0.1', '10.0.0.2', '198.18.0.1', '0.0.0.0', '2001:db8::1'):
        print(f'  {a}: {dh_bucket(a)}')
    print('sh buckets (port 0, port 12345):')
    for a in ('192.168.1.1', '198.18.0.1', '198.51.100.7', '2001:db8::1'):
        print(f'  {a}: {sh_bucket(a)} {sh_bucket(a, 12345)}')

    print('mh keys of servers 198.18.1.1..4:80 (offset, skip at 4093):')
    for i in range(1, 5):
        a = f'198.18.1.{i}'
        print(f'  {a}: {mh_hashkey(a, 80, H1) % 4093} {mh_hashkey(a, 80, H2) % 4092 + 1}')
    dests = [(f'198.18.1.{i}', 80, 1) for i in range(1, 5)]
    t = mh_table(dests)
    print('mh table, 4 servers weight 1, first 16:', t[:16], 'digest', digest(t))
    print('  counts', [t.count(i) for i in range(4)])
    dests_w = [('198.18.1.1', 80, 3), ('198.18.1.2', 80, 1), ('198.18.1.3', 80, 0),
               ('198.18.1.4', 80, 2)]
    t = mh_table(dests_w)
    print('mh table weights 3,1,0,2, first 16:', t[:16], 'digest', digest(t))
    print('  counts', [t.count(i) for i in range(4)])
    t = mh_table(dests, index=8)
    print('mh table 251, first 16:', t[:16], 'digest', digest(t))
    t = mh_table(dests)
    for a, port in (('203.0.113.9', 0), ('203.0.113.9', 40000), ('2001:db8::42', 0)):
        slot = mh_hashkey(a, port, H1) % 4093
        print(f'  lookup {a} port {port}: slot {slot} server {t[slot]}')
        ok = [True] * 4
        ok[t[slot]] = False
        print(f'    fallback with server {t[slot]} unavailable: {mh_fallback(t, ok, a, port)}')
        seq = [t[mh_hashkey(a, port, H1, (o + slot) % 4093) % 4093] for o in range(6)]
        print(f'    fallback probe sequence: {seq}')
    big = [(f'198.18.{i // 250}.{i % 250 + 1}', 8080, 1) for i in range(100)]
    t = mh_table(big, index=16)
    print('mh 65521, 100 servers 198.18.x.y:8080, digest', digest(t),
          'min/max', min(t.count(i) for i in range(100)), max(t.count(i) for i in range(100)))
