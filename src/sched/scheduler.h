// The scheduler contract: IPVS's six hooks (ip_vs_scheduler) as a C++ interface, plus an event
// hook for algorithms that keep an ordered structure (HAProxy's lb_fwlc take/drop). One object per
// service; it owns its per-service state, as IPVS's svc->sched_data does. Hooks other than
// schedule() default to doing nothing.
//
// The destination list is the service's, in IPVS order: the most recently added server first
// (IPVS links new dests with list_add_rcu at the head), which Dest::list_seq also encodes
// (larger = earlier in the list). Hooks are called after the list changed.
// Threading: a scheduler belongs to one worker's engine and is never shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "net/addr.h"
#include "sched/dest.h"

namespace lvs::sched {

using DestList = std::span<Dest* const>;

// The packet fields hash-based schedulers key on, and the time (locality-based schedulers
// age their tables with it; schedulers never read a clock).
struct SchedPacket {
  const net::IpAddr* saddr = nullptr;
  const net::IpAddr* daddr = nullptr;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t proto = 0;
  uint64_t now_ns = 0;
};

// Randomness for schedulers that need it (twos), injected so tests can fix it.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual uint64_t next() = 0;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;

  virtual void init_service(DestList dests) { (void)dests; }
  virtual void done_service() {}
  // `dest` now sits at `index` of `dests`.
  virtual void add_dest(DestList dests, Dest& dest, size_t index) {
    (void)dests, (void)dest, (void)index;
  }
  // `dest` was at `index` and is no longer in `dests`.
  virtual void del_dest(DestList dests, Dest& dest, size_t index) {
    (void)dests, (void)dest, (void)index;
  }
  // Weight, thresholds or flags of `dest` changed.
  virtual void upd_dest(DestList dests, Dest& dest) { (void)dests, (void)dest; }
  // Active or inactive counts of `dest` changed (a connection was taken, changed state, ended).
  virtual void on_conn_counts(Dest& dest) { (void)dest; }

  // Picks a server for a new connection, or nullptr when none is available.
  virtual Dest* schedule(DestList dests, const SchedPacket& pkt) = 0;
};

}  // namespace lvs::sched
