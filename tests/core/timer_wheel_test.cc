#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/conn_table.h"

namespace lvs::core {
namespace {

constexpr uint32_t kTps = TimerWheel::kTicksPerSec;

struct WheelRig {
  ConnTable table{64, 1};
  TimerWheel wheel{table.pool()};
  std::vector<uint32_t> fired;
  uint32_t arm(uint32_t expires) {
    const uint32_t i = table.alloc();
    wheel.arm(i, expires);
    return i;
  }
  size_t run(uint32_t to, size_t budget = 1000) {
    return wheel.advance(to, budget, [&](uint32_t i) { fired.push_back(i); });
  }
};

TEST(TimerWheel, FiresAtExpiryNotBefore) {
  WheelRig r;
  r.wheel.start(100);
  const uint32_t a = r.arm(110), b = r.arm(105);
  r.run(104);
  EXPECT_TRUE(r.fired.empty());
  r.run(105);
  EXPECT_EQ(r.fired, std::vector<uint32_t>{b});
  r.run(109);
  EXPECT_EQ(r.fired.size(), 1u);
  r.run(110);
  EXPECT_EQ(r.fired, (std::vector<uint32_t>{b, a}));
}

TEST(TimerWheel, LaterExpiryIsLazyEarlierIsImmediate) {
  WheelRig r;
  r.wheel.start(0);
  const uint32_t a = r.arm(10 * kTps);
  r.wheel.rearm(a, 20 * kTps);  // later: stays in its slot, re-slotted when it comes due
  r.run(10 * kTps);
  EXPECT_TRUE(r.fired.empty());
  r.wheel.rearm(a, 12 * kTps);  // earlier than its slot: moved now
  r.run(12 * kTps);
  EXPECT_EQ(r.fired.size(), 1u);
}

TEST(TimerWheel, BeyondTheHorizon) {
  WheelRig r;
  r.wheel.start(1000);
  const uint32_t a = r.arm(1000 + 900 * kTps);  // ESTABLISHED: 900 s > 512 s horizon
  r.run(1000 + 899 * kTps);
  EXPECT_TRUE(r.fired.empty());
  r.run(1000 + 900 * kTps);
  EXPECT_EQ(r.fired, std::vector<uint32_t>{a});
}

TEST(TimerWheel, BudgetResumesWhereItStopped) {
  WheelRig r;
  r.wheel.start(0);
  for (int n = 0; n < 10; ++n) r.arm(5);
  EXPECT_EQ(r.run(5, 4), 4u);
  EXPECT_EQ(r.run(5, 4), 4u);
  EXPECT_EQ(r.run(5, 4), 2u);
  EXPECT_EQ(r.fired.size(), 10u);
}

TEST(TimerWheel, RearmFromCallbackLandsInALaterSlot) {
  WheelRig r;
  r.wheel.start(0);
  const uint32_t a = r.arm(3);
  int calls = 0;
  r.wheel.advance(3, 100, [&](uint32_t i) {
    ++calls;
    r.wheel.arm(i, 3);  // already due: must fire at the next tick, not be lost for a turn
  });
  EXPECT_EQ(calls, 1);
  r.wheel.advance(4, 100, [&](uint32_t i) { EXPECT_EQ(i, a); ++calls; });
  EXPECT_EQ(calls, 2);
}

TEST(TimerWheel, DisarmRemoves) {
  WheelRig r;
  r.wheel.start(0);
  const uint32_t a = r.arm(5), b = r.arm(5), c = r.arm(5);
  r.wheel.disarm(b);
  r.run(5);
  EXPECT_EQ(r.fired.size(), 2u);
  EXPECT_NE(std::find(r.fired.begin(), r.fired.end(), a), r.fired.end());
  EXPECT_NE(std::find(r.fired.begin(), r.fired.end(), c), r.fired.end());
}

TEST(TimerWheel, LongIdleGapStillFires) {
  WheelRig r;
  r.wheel.start(0);
  r.arm(50);
  r.run(3 * TimerWheel::kSlots);  // several turns later
  EXPECT_EQ(r.fired.size(), 1u);
}

}  // namespace
}  // namespace lvs::core

namespace lvs::core {
namespace {

TEST(TimerWheel, EmptyWheelSkipsIdleGapsAtOnce) {
  WheelRig r;
  r.wheel.start(0);
  EXPECT_EQ(r.run(100u * TimerWheel::kSlots), 0u);
  EXPECT_EQ(r.wheel.now_tick(), 100u * TimerWheel::kSlots);
  const uint32_t a = r.arm(r.wheel.now_tick() + 3);
  EXPECT_EQ(r.wheel.armed(), 1u);
  r.run(r.wheel.now_tick() + 3);
  EXPECT_EQ(r.fired, std::vector<uint32_t>{a});
  EXPECT_EQ(r.wheel.armed(), 0u);
}

}  // namespace
}  // namespace lvs::core
