// Overflow as IPVS ip_vs_ovf.c: the server of highest weight among those whose active connections
// do not exceed their weight, not overloaded, weight not 0; the first in list order wins ties.
#include <gtest/gtest.h>

#include <cstdio>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::run_differential;
using testing::run_pick_table;

TEST(OvfTest, PickTable) {
  run_pick_table("ovf",
                 {
                     {"highest weight", {{0, 2}, {0, 5}, {0, 3}}, 'B'},
                     {"active == weight still takes", {{0, 2}, {0, 5, 5, 0}, {0, 3}}, 'B'},
                     {"active > weight overflows", {{0, 2}, {0, 5, 6, 0}, {0, 3}}, 'C'},
                     {"inactive connections do not count", {{0, 5, 0, 1000}, {0, 3}}, 'A'},
                     {"tie goes to the first", {{0, 4}, {0, 4, 4, 0}}, 'A'},
                     {"tie, first overflowed", {{0, 4, 5, 0}, {0, 4, 4, 0}}, 'B'},
                     {"overloaded", {{0, 5, 0, 0, true}, {0, 3}}, 'B'},
                     {"weight 0 never", {{0, 0}}, '-'},
                     {"all overflowed", {{0, 1, 2, 0}, {0, 2, 3, 0}}, '-'},
                     {"largest weight, full", {{0, 2147483647, 2147483647u, 0}, {0, 1}}, 'A'},
                     {"largest weight, over", {{0, 2147483647, 2147483648u, 0}, {0, 1}}, 'B'},
                     {"no servers", {}, '-'},
                 });
}

TEST(OvfTest, OverflowsToTheNextAndBack) {
  // A takes connections while active <= 2 (three of them), then B while active <= 1, then none.
  ConnService s("ovf", {{'A', 2}, {'B', 1}});
  EXPECT_EQ(s.picks_and_opens(6), "AAABB-");
  s.close('A');  // A back to 2 active
  EXPECT_EQ(s.picks_and_opens(2), "A-");
  s.set_weight('B', 3);  // B now outranks A and has room (2 <= 3)
  EXPECT_EQ(s.picks_and_opens(3), "BB-");
}

TEST(OvfTest, MatchesIpvsScanOverRandomEvents) {
  const testing::DiffStats st = run_differential("ovf", 3000, 300);
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
