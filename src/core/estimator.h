// IPVS's rate estimator (net/netfilter/ipvs/ip_vs_est.c): every 2 seconds the counters' growth
// is folded into an exponentially weighted moving average with weight 1/4, in the kernel's
// fixed point (rates scaled by 2^10, byte rates by 2^5), and read out rounded as
// ip_vs_read_estimator does. Same arithmetic, same figures as ipvsadm --rate shows on a kernel
// director. Pure: the caller samples on its own 2-second clock.
#pragma once

#include <cstdint>

#include "core/stats.h"

namespace lvs::core {

// Per-second rates as struct ip_vs_stats_user carries them.
struct Rates {
  uint64_t cps = 0;
  uint64_t inpps = 0;
  uint64_t outpps = 0;
  uint64_t inbps = 0;
  uint64_t outbps = 0;
  friend bool operator==(const Rates&, const Rates&) = default;
};

class RateEstimator {
 public:
  static constexpr uint64_t kIntervalSeconds = 2;  // IPVS_EST_TICK is 2 s worth of jiffies

  // Starts from `now` with zero rates (ip_vs_start_estimator / ip_vs_zero_estimator).
  void reset(const Counters& now);
  // One 2-second sample. Counters that went backwards (zeroed since the last sample) restart
  // the estimator from them rather than producing a huge bogus rate.
  void sample(const Counters& now);
  Rates rates() const;

 private:
  Counters last_;
  // Scaled averages; signed as in the kernel, where the update is (rate - avg) >> 2.
  int64_t cps_ = 0;
  int64_t inpps_ = 0;
  int64_t outpps_ = 0;
  int64_t inbps_ = 0;
  int64_t outbps_ = 0;
};

}  // namespace lvs::core
