// Weighted failover as IPVS ip_vs_fo.c: the server of highest weight that is not overloaded;
// the first in list order wins ties; connection counts do not matter.
#include <gtest/gtest.h>

#include <cstdio>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::run_differential;
using testing::run_pick_table;

TEST(FoTest, PickTable) {
  run_pick_table("fo",
                 {
                     {"highest weight", {{0, 1}, {0, 3}, {0, 2}}, 'B'},
                     {"tie goes to the first", {{0, 2}, {0, 3}, {0, 3}}, 'B'},
                     {"connections do not matter", {{0, 5, 1000, 1000}, {0, 4, 0, 0}}, 'A'},
                     {"overloaded highest is skipped", {{0, 1}, {0, 5, 0, 0, true}, {0, 3}}, 'C'},
                     {"weight 0 never", {{0, 0}, {0, 1}}, 'B'},
                     {"all weight 0", {{0, 0}, {0, 0}}, '-'},
                     {"all overloaded", {{0, 1, 0, 0, true}, {0, 2, 0, 0, true}}, '-'},
                     {"weight 0 or overloaded", {{0, 0}, {0, 1, 0, 0, true}}, '-'},
                     {"largest weights", {{0, 2147483646}, {0, 2147483647}}, 'B'},
                     {"no servers", {}, '-'},
                 });
}

TEST(FoTest, FailsOverAndBack) {
  ConnService s("fo", {{'A', 10}, {'B', 5}, {'C', 5}});
  EXPECT_EQ(s.picks_and_opens(3), "AAA");
  s.set_overloaded('A', true);  // over its upper threshold
  EXPECT_EQ(s.picks_and_opens(2), "BB");
  s.set_weight('C', 6);
  EXPECT_EQ(s.pick(), 'C');
  s.del('C');
  EXPECT_EQ(s.pick(), 'B');
  s.set_overloaded('A', false);
  EXPECT_EQ(s.pick(), 'A');
  s.set_weight('A', 0);  // quiesced: drain to the next
  EXPECT_EQ(s.pick(), 'B');
}

TEST(FoTest, MatchesIpvsScanOverRandomEvents) {
  const testing::DiffStats st = run_differential("fo", 3000, 300);
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
