#include "core/estimator.h"

#include <gtest/gtest.h>

namespace lvs::core {
namespace {

// Counters after `seconds` of a steady load.
Counters at(uint64_t seconds, uint64_t cps, uint64_t pps, uint64_t bps) {
  return {cps * seconds, pps * seconds, pps * seconds / 2, bps * seconds, bps * seconds / 2};
}

TEST(RateEstimator, FirstSamplesFollowTheKernelsFixedPoint) {
  RateEstimator e;
  e.reset({});
  e.sample(at(2, 1000, 8000, 1'000'000));
  // avg = (2000 << 9) / 4 = 256000; (256000 + 0x1ff) >> 10 = 250.
  EXPECT_EQ(e.rates(), (Rates{250, 2000, 1000, 250000, 125000}));
  e.sample(at(4, 1000, 8000, 1'000'000));
  // avg = 256000 + (1024000 - 256000) / 4 = 448000; + 0x1ff, not 0x200: 437.5 rounds down.
  EXPECT_EQ(e.rates().cps, 437u);
  EXPECT_EQ(e.rates().inbps, 437500u);
}

TEST(RateEstimator, ConvergesToTheSteadyRate) {
  RateEstimator e;
  e.reset({});
  for (uint64_t t = 2; t <= 200; t += 2) e.sample(at(t, 1000, 8000, 1'000'000));
  EXPECT_EQ(e.rates(), (Rates{1000, 8000, 4000, 1'000'000, 500'000}));
}

TEST(RateEstimator, DecaysByAQuarterPerIdleSample) {
  RateEstimator e;
  e.reset({});
  for (uint64_t t = 2; t <= 200; t += 2) e.sample(at(t, 1000, 0, 0));
  e.sample(at(200, 1000, 0, 0));  // no growth for 2 s
  EXPECT_EQ(e.rates().cps, 750u);
  e.sample(at(200, 1000, 0, 0));
  EXPECT_EQ(e.rates().cps, 562u);  // 576000 is 562.5: halves round down
}

TEST(RateEstimator, RoundsHalvesAsTheKernel) {
  // One connection per 2 s is 0.5/s: 512 scaled, (512 + 511) >> 10 = 0. Three are 1.5/s -> 1.
  RateEstimator one, three;
  one.reset({});
  three.reset({});
  for (uint64_t t = 1; t <= 100; ++t) {
    one.sample({t, 0, 0, 0, 0});
    three.sample({3 * t, 0, 0, 0, 0});
  }
  EXPECT_EQ(one.rates().cps, 0u);
  EXPECT_EQ(three.rates().cps, 1u);
}

TEST(RateEstimator, StartsFromTheCountersItIsGiven) {
  RateEstimator e;
  e.reset(at(1000, 5, 5, 5));  // a service with history: no burst from the old totals
  e.sample(at(1000, 5, 5, 5));
  EXPECT_EQ(e.rates(), Rates{});
}

TEST(RateEstimator, CountersGoingBackwardsRestartIt) {
  RateEstimator e;
  e.reset({});
  for (uint64_t t = 2; t <= 40; t += 2) e.sample(at(t, 100, 100, 100));
  ASSERT_GT(e.rates().cps, 0u);
  e.sample({});  // zeroed (ipvsadm -Z)
  EXPECT_EQ(e.rates(), Rates{});
  e.sample(at(2, 100, 100, 100));
  EXPECT_EQ(e.rates().cps, 25u);
}

}  // namespace
}  // namespace lvs::core
