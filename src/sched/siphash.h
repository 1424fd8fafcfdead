// SipHash (Aumasson and Bernstein), in the two variants the kernel uses (lib/siphash.c):
//  - siphash():  SipHash-2-4, 64-bit result.
//  - hsiphash(): on 64-bit kernels "HalfSipHash1-3 actually be SipHash1-3", 64-bit state with one
//    compression and three finalization rounds, truncated to 32 bits. IPVS mh hashes with it, so
//    this is the variant that must match bit for bit; 32-bit kernels (real HalfSipHash) differ.
// Messages are read as little-endian 64-bit words, as the kernel does, so results do not depend
// on the host's byte order.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace lvs::sched {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

namespace sip_detail {

struct State {
  uint64_t v0, v1, v2, v3;

  State(const SipKey& key)
      : v0(0x736f6d6570736575ull ^ key.k0),
        v1(0x646f72616e646f6dull ^ key.k1),
        v2(0x6c7967656e657261ull ^ key.k0),
        v3(0x7465646279746573ull ^ key.k1) {}

  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  template <int C>
  void compress(uint64_t m) {
    v3 ^= m;
    for (int i = 0; i < C; ++i) round();
    v0 ^= m;
  }
  template <int D>
  uint64_t finish() {
    v2 ^= 0xff;
    for (int i = 0; i < D; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

inline uint64_t load_le64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

template <int C, int D>
uint64_t siphash(const uint8_t* data, size_t len, const SipKey& key) {
  State s(key);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) s.compress<C>(load_le64(data + i, 8));
  // The last block carries the length in its top byte.
  s.compress<C>((uint64_t(len) << 56) | load_le64(data + i, len - i));
  return s.finish<D>();
}

}  // namespace sip_detail

inline uint64_t siphash24(const uint8_t* data, size_t len, const SipKey& key) {
  return sip_detail::siphash<2, 4>(data, len, key);
}

inline uint32_t hsiphash(const uint8_t* data, size_t len, const SipKey& key) {
  return uint32_t(sip_detail::siphash<1, 3>(data, len, key));
}

// hsiphash(&v, sizeof(v)) of a u32 as it lies in memory on a little-endian kernel (x86-64): the
// one-block message is (4 << 56) | v.
inline uint32_t hsiphash_u32(uint32_t v, const SipKey& key) {
  sip_detail::State s(key);
  s.compress<1>((uint64_t(4) << 56) | v);
  return uint32_t(s.finish<3>());
}

// SipHash-1-3 of two words and a tag: a keyed hash for table indexes (not an IPVS function).
inline uint64_t siphash13_words(uint64_t a, uint64_t b, uint64_t tag, const SipKey& key) {
  sip_detail::State s(key);
  s.compress<1>(a);
  s.compress<1>(b);
  s.compress<1>((uint64_t(24) << 56) | (tag & 0x00ffffffffffffffull));
  return s.finish<3>();
}

}  // namespace lvs::sched
