// A router's step on an IP header: the TTL (IPv4) or hop limit (IPv6) drops by one.
#pragma once

#include <cstdint>

#include "net/addr.h"
#include "net/checksum.h"
#include "net/headers.h"

namespace lvs::net {

// Decrements the TTL or hop limit of the IP header at `ip`. False, header untouched, when it
// would reach zero (the packet must not be forwarded). For IPv4 the header checksum's change goes
// into `*v4_delta` when given (to be applied with the caller's other changes), else the checksum
// is patched at once.
inline bool decrement_ttl(uint8_t* ip, Family f, CsumDelta* v4_delta = nullptr) {
  if (f == Family::kV4) {
    const uint8_t ttl = ip[Ipv4View::kTtl];
    if (ttl <= 1) return false;
    const uint16_t old_word = uint16_t(ttl << 8 | ip[Ipv4View::kProto]);
    ip[Ipv4View::kTtl] = uint8_t(ttl - 1);
    CsumDelta d;
    d.replace16(old_word, uint16_t(old_word - 0x100));
    if (v4_delta != nullptr) {
      v4_delta->add(d);
    } else {
      csum_apply_at(ip + Ipv4View::kCheck, d);
    }
    return true;
  }
  if (ip[Ipv6View::kHopLimit] <= 1) return false;
  --ip[Ipv6View::kHopLimit];  // in no checksum
  return true;
}

}  // namespace lvs::net
