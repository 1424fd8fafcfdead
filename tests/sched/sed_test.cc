// Shortest expected delay as IPVS ip_vs_sed.c: the least (active + 1) / weight, inactive
// connections ignored; the first in list order wins ties; weight 0 and overloaded servers are
// never chosen.
#include <gtest/gtest.h>

#include <cstdio>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::run_differential;
using testing::run_pick_table;

TEST(SedTest, PickTable) {
  run_pick_table("sed",
                 {
                     {"all idle, same weight: the first", {{0, 1}, {0, 1}, {0, 1}}, 'A'},
                     {"idle: the heavier weight", {{0, 1}, {0, 3}}, 'B'},            // 1 vs 1/3
                     {"equal delay: the first", {{0, 3, 2, 0}, {0, 1, 0, 0}}, 'A'},  // 1 vs 1
                     {"longer delay", {{0, 3, 3, 0}, {0, 1, 0, 0}}, 'B'},            // 4/3 vs 1
                     {"inactive connections do not count", {{0, 1, 0, 1000}, {0, 1, 1, 0}}, 'A'},
                     {"four servers",
                      {{0, 4, 8, 0}, {0, 2, 3, 0}, {0, 3, 5, 0}, {0, 1, 1, 0}},
                      'B'},  // 9/4 2 2 2
                     {"weight 0 idle first", {{0, 0}, {0, 1, 5, 0}}, 'B'},
                     {"weight 0 later", {{0, 1, 2, 0}, {0, 0}}, 'A'},
                     {"overloaded", {{0, 5, 0, 0, true}, {0, 1, 0, 0}}, 'B'},
                     // 2^32 / (2^31 - 2) against (2^32 - 1) / (2^31 - 1): products near 2^63.
                     {"largest products",
                      {{0, 2147483646, 4294967295u, 0}, {0, 2147483647, 4294967294u, 0}},
                      'B'},
                     {"all weight 0", {{0, 0}, {0, 0}}, '-'},
                     {"all overloaded", {{0, 1, 0, 0, true}}, '-'},
                     {"no servers", {}, '-'},
                 });
}

TEST(SedTest, NewConnectionsFollowTheExpectedDelay) {
  // A weight 1, B weight 3, both idle. Delays A against B: 1 > 1/3 (B), 1 > 2/3 (B), 1 = 1 (A is
  // first), 2 > 1 (B), 2 > 4/3 (B), 2 > 5/3 (B), 2 = 2 (A), 3 > 2 (B), 3 > 7/3 (B), 3 > 8/3 (B).
  ConnService s("sed", {{'A', 1}, {'B', 3}});
  EXPECT_EQ(s.picks_and_opens(10), "BBABBBABBB");
  EXPECT_EQ(s.reference_pick(), s.pick());
}

TEST(SedTest, MatchesIpvsScanOverRandomEvents) {
  const testing::DiffStats st = run_differential("sed", 3000, 300);
  EXPECT_EQ(st.checks, 3000u * 300u);
  std::printf("%llu checks: %llu picks, %llu ties decided by list order, %llu with big numbers\n",
              (unsigned long long)st.checks, (unsigned long long)st.picked,
              (unsigned long long)st.ties, (unsigned long long)st.big);
  // The sequences must reach the cases that matter, or matching proves little.
  EXPECT_GT(st.picked, st.checks / 2);
  EXPECT_GT(st.ties, st.checks / 50);
  EXPECT_GT(st.big, 1000u);
}
}  // namespace
}  // namespace lvs::sched
