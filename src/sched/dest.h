// What a scheduler sees of a real server. core::Dest extends it with forwarding and statistics;
// schedulers read only these fields, the connection code keeps the counters current.
#pragma once

#include <cstdint>

#include "net/addr.h"

namespace lvs::sched {

inline constexpr uint32_t kDestAvailable = 0x1;  // linked in its service (IPVS DEST_F_AVAILABLE)
inline constexpr uint32_t kDestOverload = 0x2;   // over its upper threshold (DEST_F_OVERLOAD)

struct Dest {
  net::IpAddr addr;
  uint16_t port = 0;
  // IPVS keeps weight as a signed int; 0 quiesces the server: no new connections, live ones
  // continue.
  int32_t weight = 0;
  uint32_t flags = 0;
  uint32_t active_conns = 0;    // ESTABLISHED connections
  uint32_t inactive_conns = 0;  // every other state
  uint32_t persist_conns = 0;   // persistence templates
  uint32_t u_threshold = 0;     // 0: no upper limit
  uint32_t l_threshold = 0;
  // Position in IPVS's list order without scanning it: set when the server joins its service,
  // from a counter that only grows, so a larger value is nearer the head (added later).
  uint64_t list_seq = 0;

  bool overloaded() const { return (flags & kDestOverload) != 0; }
};

// IPVS's estimate of a server's load: an active connection costs 256 inactive ones.
inline int64_t conn_overhead(const Dest& d) {
  return (int64_t(d.active_conns) << 8) + int64_t(d.inactive_conns);
}

}  // namespace lvs::sched
