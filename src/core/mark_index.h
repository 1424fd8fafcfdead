// Firewall marks the data path cannot see. IPVS finds fwmark services by the mark netfilter set
// in mangle PREROUTING; XDP runs before netfilter, so lvsd compiles the operator's marking rules
// into <family, proto, address, port> -> mark entries (io/nft_marks) and the engine looks packets
// up here. Open addressing over a small array rebuilt on change (control path); keys sit in the
// slots, so a probe touches nothing else.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "net/addr.h"

namespace lvs::core {

struct MarkRule {
  net::IpAddr addr;
  uint8_t proto = 0;
  uint16_t port = 0;
  uint32_t mark = 0;
  friend bool operator==(const MarkRule&, const MarkRule&) = default;
};

class MarkIndex {
 public:
  // Later rules for the same endpoint do not replace earlier ones: the compiler already
  // resolved what the packet's final mark would be.
  void rebuild(const std::vector<MarkRule>& rules, uint64_t seed);
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  // The mark for a packet to <proto, addr, port>, 0 if none.
  uint32_t find(uint8_t proto, net::Family af, const uint8_t* addr, uint16_t port) const {
    if (count_ == 0) return 0;
    uint64_t a0 = 0, a1 = 0;
    load(af, addr, a0, a1);
    for (size_t i = hash(a0, a1, port, proto, uint8_t(af)) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.mark == 0) return 0;
      if (s.a0 == a0 && s.a1 == a1 && s.port == port && s.proto == proto && s.af == uint8_t(af)) {
        return s.mark;
      }
    }
  }

 private:
  struct Slot {
    uint64_t a0 = 0, a1 = 0;
    uint32_t mark = 0;  // 0: empty (a rule never sets mark 0: IPVS fwmark services are >= 1)
    uint16_t port = 0;
    uint8_t proto = 0;
    uint8_t af = 0;
  };
  static void load(net::Family af, const uint8_t* addr, uint64_t& a0, uint64_t& a1) {
    if (af == net::Family::kV4) {
      uint32_t v;
      std::memcpy(&v, addr, 4);
      a0 = v;
      a1 = 0;
    } else {
      std::memcpy(&a0, addr, 8);
      std::memcpy(&a1, addr + 8, 8);
    }
  }
  uint64_t hash(uint64_t a0, uint64_t a1, uint16_t port, uint8_t proto, uint8_t af) const {
    uint64_t h = (a0 ^ seed_) * 0x9e3779b97f4a7c15ull;
    h ^= a1 ^ (uint64_t(port) << 48) ^ (uint64_t(proto) << 40) ^ (uint64_t(af) << 32);
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace lvs::core
