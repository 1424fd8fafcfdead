// The director's view of the statistics: the workers' snapshots summed into one, and IPVS's
// rate estimators per service and per real server, sampled every 2 seconds from those sums.
#pragma once

#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "core/engine.h"
#include "core/estimator.h"

namespace lvs::daemon {

// Sums the workers' snapshots into `into` (empty: takes `add` as it is). Workers receive the
// same operations in the same order, so services and servers line up by position; anything that
// does not (a worker mid-change) is matched by key instead. Linear in the table either way.
void merge_snapshot(std::vector<core::ServiceSnapshot>& into,
                    std::vector<core::ServiceSnapshot>&& add);

class StatsBook {
 public:
  // One 2-second sample of every service and server in `merged`; estimators of services and
  // servers that are gone are dropped; new ones (created since the last sample, so with
  // counters from 0) count what they have as their first 2 seconds.
  void sample(const std::vector<core::ServiceSnapshot>& merged);
  // After counters were zeroed (ipvsadm -Z): the estimators of `key` (all when null) start again
  // from the counters at the next sample, with zero rates.
  void zeroed(const core::ServiceKey* key);

  core::Rates service(const core::ServiceKey& key) const;
  core::Rates dest(const core::ServiceKey& key, const net::IpAddr& addr, uint16_t port) const;

 private:
  struct DestKey {
    core::ServiceKey svc;
    net::IpAddr addr;
    uint16_t port = 0;
    friend bool operator==(const DestKey&, const DestKey&) = default;
  };
  struct Hash {
    size_t operator()(const core::ServiceKey& k) const { return core::ServiceKeyHash{}(k); }
    size_t operator()(const DestKey& k) const;
  };
  friend void merge_snapshot(std::vector<core::ServiceSnapshot>&,
                             std::vector<core::ServiceSnapshot>&&);
  struct Entry {
    core::RateEstimator est;
    uint64_t generation = 0;  // the sample that last saw it
    bool restart = false;     // zeroed: restart from the next sample's counters
  };
  boost::unordered_flat_map<core::ServiceKey, Entry, Hash> services_;
  boost::unordered_flat_map<DestKey, Entry, Hash> dests_;
  uint64_t generation_ = 0;
};

}  // namespace lvs::daemon
