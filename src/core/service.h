// Virtual services and their real servers as the engine holds them.
#pragma once

#include <cstdint>
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
  bool trashed = false;
  Counters stats;
  // Next hop cache (IPVS's dest_dst): valid while nh_gen equals the engine's route generation.
  uint64_t nh_gen = 0;
  bool nh_on_link = false;
  NextHop nh;
};

struct Service {
  ServiceKey key;
  std::string sched_name;
  uint32_t sched_flags = 0;
  std::unique_ptr<sched::Scheduler> sched;
  std::vector<sched::Dest*> dests;  // IPVS list order: newest first
  Counters stats;
  uint32_t index = 0;

  Dest* dest_at(size_t i) const { return static_cast<Dest*>(dests[i]); }
};

// Service lookup by (proto, family, address, port) and by (family, fwmark): open addressing
// over a small array rebuilt on every change (control path), probed on every packet.
class ServiceIndex {
 public:
  void rebuild(const std::vector<std::unique_ptr<Service>>& services, uint64_t seed);
  Service* find(uint8_t proto, net::Family af, const uint8_t* addr, uint16_t port) const;
  Service* find_fwmark(net::Family af, uint32_t mark) const;

 private:
  struct Slot {
    Service* svc = nullptr;
  };
  uint64_t hash(uint8_t proto, net::Family af, const uint8_t* addr, uint16_t port,
                uint32_t mark) const;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace lvs::core
