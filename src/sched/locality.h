// Locality-based schedulers (lblc, lblcr) beyond the registry's defaults: IPVS's timing
// constants and sysctls as a config, and a view of the per-destination table.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sched/registry.h"

namespace lvs::sched {

inline constexpr uint64_t kNsPerSec = 1'000'000'000ull;

struct LocalityConfig {
  // net.ipv4.vs.lblc_expiration / lblcr_expiration (DEFAULT_EXPIRATION): an entry unused this
  // long is dropped; for lblcr also how long a replica set must stay unchanged before its busiest
  // member is dropped.
  uint64_t expiration_ns = 24 * 3600 * kNsPerSec;
  uint64_t check_interval_ns = 60 * kNsPerSec;     // CHECK_EXPIRE_INTERVAL: garbage pass period
  uint64_t entry_timeout_ns = 6 * 60 * kNsPerSec;  // ENTRY_TIMEOUT: idle time GC-when-full drops
  uint32_t max_size = 1024 * 16;   // IP_VS_LBLC(R)_TAB_SIZE * 16: above it passes drop idle entries
  uint32_t full_check_every = 30;  // COUNT_FOR_FULL_EXPIRATION: every 30th pass is a full check
  // lvs: no entries past this many (16 times max_size: 17 MB for lblc, 35 for lblcr); a new
  // destination is still scheduled, just not remembered (IPVS on a kmalloc failure). IPVS has no
  // such bound; this one keeps memory bounded whatever the traffic.
  uint32_t hard_limit = 16 * 1024 * 16;
  // lvs: entries a garbage pass looks at per schedule call (opening an empty bucket counts an
  // eighth), so a large table is swept across many calls instead of stalling one packet.
  uint32_t gc_budget = 128;
};

class LocalityScheduler : public Scheduler {
 public:
  virtual size_t entries() const = 0;
  // The servers remembered for a destination address, most recently added first; nullptr for a
  // server that has left the service (IPVS keeps it, unusable, until the entry goes). Empty when
  // there is no entry.
  virtual std::vector<const Dest*> cached(const net::IpAddr& daddr) const = 0;
};

std::unique_ptr<LocalityScheduler> make_lblc_with(const SchedParams& params,
                                                  const LocalityConfig& config);
std::unique_ptr<LocalityScheduler> make_lblcr_with(const SchedParams& params,
                                                   const LocalityConfig& config);

}  // namespace lvs::sched
