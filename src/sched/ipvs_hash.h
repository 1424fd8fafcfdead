// The hash inputs IPVS's hashing schedulers share (dh, sh, mh, lblc, lblcr), computed on values
// rather than memory, so results match an x86-64 kernel on any host:
//  - addr_fold(): IPv4 as ntohl(addr); IPv6 as ntohl of the XOR of its four 32-bit words
//    (ip_vs_*_hashkey: addr->ip6[0] ^ ... ^ addr->ip6[3], then ntohl).
//  - hash_32(): include/linux/hash.h, the top `bits` bits of val * GOLDEN_RATIO_32. dh, sh, lblc
//    and lblcr index their tables with it (older kernels used (val * 2654435761) & mask).
#pragma once

#include <cstdint>

#include "net/addr.h"

namespace lvs::sched {

inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoSctp = 132;

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

inline uint32_t addr_fold(const net::IpAddr& a) {
  const uint8_t* b = a.data();
  if (!a.is_v6()) return load_be32(b);
  return load_be32(b) ^ load_be32(b + 4) ^ load_be32(b + 8) ^ load_be32(b + 12);
}

inline constexpr uint32_t kGoldenRatio32 = 0x61C88647u;

inline constexpr uint32_t hash_32(uint32_t val, unsigned bits) {
  return (val * kGoldenRatio32) >> (32 - bits);
}

// Schedulers that hash the source port take it only from protocols whose first four bytes are
// ports (ip_vs_sh_get_port, ip_vs_mh_get_port); anything else hashes port 0.
inline bool has_ports(uint8_t proto) {
  return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp;
}

// Packets handed to a scheduler carry both addresses; a missing one hashes as 0.0.0.0.
inline const net::IpAddr& addr_or_zero(const net::IpAddr* a) {
  static const net::IpAddr kZero{};
  return a != nullptr ? *a : kZero;
}

}  // namespace lvs::sched
