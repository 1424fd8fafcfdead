// Virtual services and their real servers as the engine holds them.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/route_table.h"
#include "core/stats.h"
#include "core/types.h"
#include "sched/dest.h"
#include "sched/scheduler.h"

namespace lvs::core {

struct Service;

// A real server. It outlives its removal from the service while connections still use it
// (IPVS's dest trash), so those connections finish and the counters stay right if it returns.
struct Dest : sched::Dest {
  Fwd fwd = Fwd::kNat;
  uint32_t index = 0;       // in the engine's dest pool; what connections store
  Service* svc = nullptr;   // nullptr once the service is gone
  ServiceKey svc_key;       // to match a returning server with its trashed entry
  uint32_t refcnt = 0;      // connections bound to it
  uint32_t tuple_slot = 0;  // its address and port in the engine's TupleUsers
  bool trashed = false;
  Counters stats;
  // VS/TUN.
  TunType tun_type = TunType::kIpip;
  uint16_t tun_port = 0;
  uint16_t tun_flags = 0;
  // Next hop cache (IPVS's dest_dst): valid while nh_gen equals the engine's route generation.
  uint64_t nh_gen = 0;
  bool nh_on_link = false;
  NextHop nh;
  net::IpAddr nh_src;  // the egress interface's address in the server's family (tunnel source)
};

struct Service {
  ServiceKey key;
  std::string sched_name;
  uint32_t sched_flags = 0;
  uint32_t persistence_timeout = 0;  // seconds; 0: not persistent
  uint8_t persistence_prefix = 128;  // already clamped to the family's width
  bool one_packet = false;
  bool proxy_protocol = false;
  // FULLNAT local addresses: indexes into the engine's local address table, used in turn.
  std::vector<uint16_t> laddrs;
  net::Family laddr_family = net::Family::kNone;
  uint32_t laddr_next = 0;
  std::unique_ptr<sched::Scheduler> sched;
  std::vector<sched::Dest*> dests;  // IPVS list order: newest first
  Counters stats;
  uint32_t index = 0;

  Dest* dest_at(size_t i) const { return static_cast<Dest*>(dests[i]); }
};

// Service lookup by (proto, family, address, port) and by (family, fwmark): open addressing with
// linear probing, probed on every packet; kept at most half full, grown by doubling, entries
// removed by backward shift, so a change costs O(1) and 10,000 services load in linear time.
// Keys sit in the slots as words, so a probe compares without touching the Service.
class ServiceIndex {
 public:
  void rebuild(const std::vector<std::unique_ptr<Service>>& services, uint64_t seed);
  void insert(Service* svc);
  void erase(const Service* svc);
  Service* find_key(const ServiceKey& k) const {
    Slot s = slot_of(k, nullptr);
    return probe(s.a0, s.a1, s.port, s.proto, s.af, s.mark);
  }
  Service* find(uint8_t proto, net::Family af, const uint8_t* addr, uint16_t port) const {
    uint64_t a0 = 0, a1 = 0;
    load(af, addr, a0, a1);
    return probe(a0, a1, port, proto, uint8_t(af), 0);
  }
  Service* find_fwmark(net::Family af, uint32_t mark) const {
    return probe(0, 0, 0, 0, uint8_t(af), mark);
  }

 private:
  struct Slot {
    uint64_t a0 = 0, a1 = 0;
    uint32_t mark = 0;
    uint16_t port = 0;
    uint8_t proto = 0;
    uint8_t af = 0;
    Service* svc = nullptr;
  };
  static void load(net::Family af, const uint8_t* addr, uint64_t& a0, uint64_t& a1) {
    if (af == net::Family::kV4) {
      uint32_t v;
      std::memcpy(&v, addr, 4);
      a0 = v;
    } else {
      std::memcpy(&a0, addr, 8);
      std::memcpy(&a1, addr + 8, 8);
    }
  }
  static Slot slot_of(const ServiceKey& k, Service* svc) {
    Slot slot;
    if (k.fwmark == 0) load(k.addr.family, k.addr.data(), slot.a0, slot.a1);
    slot.mark = k.fwmark;
    slot.port = k.port;
    slot.proto = k.proto;
    slot.af = uint8_t(k.addr.family);
    slot.svc = svc;
    return slot;
  }
  size_t home(const Slot& s) const { return hash(s.a0, s.a1, s.port, s.proto, s.af, s.mark) & mask_; }
  void place(const Slot& s);
  void grow();

  uint64_t hash(uint64_t a0, uint64_t a1, uint16_t port, uint8_t proto, uint8_t af,
                uint32_t mark) const {
    uint64_t h = (a0 ^ seed_) * 0x9e3779b97f4a7c15ull;
    h ^= a1 ^ (uint64_t(port) << 48) ^ (uint64_t(proto) << 40) ^ (uint64_t(af) << 32) ^ mark;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
  }
  Service* probe(uint64_t a0, uint64_t a1, uint16_t port, uint8_t proto, uint8_t af,
                 uint32_t mark) const {
    for (size_t i = hash(a0, a1, port, proto, af, mark) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.svc == nullptr) return nullptr;
      if (s.a0 == a0 && s.a1 == a1 && s.port == port && s.proto == proto && s.af == af &&
          s.mark == mark) {
        return s.svc;
      }
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t live_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace lvs::core
