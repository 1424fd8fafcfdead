// Internet checksums: the full sum (RFC 1071) and incremental updates (RFC 1624, eqn. 3).
// Sums are over big-endian 16-bit words in host order; callers store results with store_be16.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/addr.h"

namespace lvs::net {

// Adds `len` bytes to a running 32-bit sum (an odd last byte is padded with zero).
uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t sum);

inline uint16_t csum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

// The checksum field value for `len` bytes whose checksum field is zero.
inline uint16_t checksum(const uint8_t* p, size_t len) {
  return uint16_t(~csum_fold(csum_partial(p, len, 0)));
}

// Sum of the TCP/UDP/ICMPv6 pseudo-header for either family.
uint32_t pseudo_header_sum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t l4_len);

// Accumulates field replacements, then patches a checksum once: HC' = ~(~HC + ~m + m').
// Folding once for several fields is what keeps the NAT rewrite to a handful of adds.
class CsumDelta {
 public:
  void replace16(uint16_t old_v, uint16_t new_v) {
    acc_ += uint16_t(~old_v);
    acc_ += new_v;
  }
  void replace32(uint32_t old_v, uint32_t new_v) {
    replace16(uint16_t(old_v >> 16), uint16_t(new_v >> 16));
    replace16(uint16_t(old_v), uint16_t(new_v));
  }
  // Replaces `len` bytes (even) such as an address; both in network order.
  void replace_bytes(const uint8_t* old_p, const uint8_t* new_p, size_t len) {
    for (size_t i = 0; i + 1 < len; i += 2) {
      replace16(uint16_t(old_p[i] << 8 | old_p[i + 1]), uint16_t(new_p[i] << 8 | new_p[i + 1]));
    }
  }
  void add(const CsumDelta& o) { acc_ += o.acc_; }

  uint16_t apply(uint16_t check) const {
    return uint16_t(~csum_fold(uint32_t(uint16_t(~check)) + acc_));
  }
  bool empty() const { return acc_ == 0; }

 private:
  // Each replace16 adds under 2^17, so tens of thousands of replacements fit; a packet rewrite
  // does at most a few dozen.
  uint32_t acc_ = 0;
};

// Patches the checksum stored big-endian at `field`.
void csum_apply_at(uint8_t* field, const CsumDelta& d);
// Same for UDP over IPv4, where 0 means "no checksum" and a computed 0 is sent as 0xffff.
void udp_csum_apply_at(uint8_t* field, const CsumDelta& d, bool ipv4);

}  // namespace lvs::net
