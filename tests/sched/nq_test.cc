// Never queue as IPVS ip_vs_nq.c: the first idle server (no active connection) in list order,
// else the shortest expected delay (active + 1) / weight with ties to the first; weight 0 and
// overloaded servers are skipped.
#include <gtest/gtest.h>

#include <cstdio>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::run_differential;
using testing::run_pick_table;

TEST(NqTest, PickTable) {
  run_pick_table(
      "nq",
      {
          {"first idle even if a later one is faster", {{0, 1}, {0, 10}}, 'A'},
          {"idle beats a short delay", {{0, 10, 1, 0}, {0, 1, 0, 0}}, 'B'},  // sed would take A
          {"first idle among several", {{0, 1, 2, 0}, {0, 1, 0, 0}, {0, 5, 0, 0}}, 'B'},
          {"inactive connections do not make busy", {{0, 1, 1, 0}, {0, 1, 0, 100}}, 'B'},
          {"idle but weight 0", {{0, 0}, {0, 1, 3, 0}, {0, 2, 3, 0}}, 'C'},  // 4 vs 2
          {"idle but overloaded", {{0, 1, 0, 0, true}, {0, 2, 1, 0}, {0, 1, 0, 5}}, 'C'},
          {"no idle: equal delay goes first", {{0, 2, 3, 0}, {0, 1, 1, 0}}, 'A'},  // 2 vs 2
          {"no idle: shorter delay", {{0, 2, 4, 0}, {0, 1, 1, 0}}, 'B'},           // 2.5 vs 2
          {"no idle: four servers", {{0, 4, 8, 0}, {0, 2, 3, 0}, {0, 3, 5, 0}, {0, 1, 1, 0}}, 'B'},
          {"all weight 0", {{0, 0}, {0, 0}}, '-'},
          {"weight 0 or overloaded", {{0, 0}, {0, 2, 0, 0, true}}, '-'},
          {"no servers", {}, '-'},
      });
}

TEST(NqTest, IdleFirstThenExpectedDelay) {
  // A weight 1, B weight 3: both idle servers first (A, B), then by (active + 1) / weight:
  // B 2/3, 3/3, 4/3, 5/3 against A 2; 6/3 = 2 ties and A is first; B 7/3, 8/3, 9/3 against 3.
  ConnService s("nq", {{'A', 1}, {'B', 3}});
  EXPECT_EQ(s.picks_and_opens(11), "ABBBBBABBBA");
  // A server added later sits at the head: idle, it is next.
  s.add({'C', 1});
  // A has 3 active, B 8: idle C first, then C again (2/1 < 4/1 and 9/3).
  EXPECT_EQ(s.picks_and_opens(2), "CC");
}

TEST(NqTest, BecomingIdleTakesPrecedence) {
  ConnService s("nq", {{'A', 5, 2}, {'B', 1, 3}, {'C', 1, 1}});
  EXPECT_EQ(s.pick(), 'A');  // 3/5
  s.set_conns('C', 0, 7);    // idle: only inactive connections
  EXPECT_EQ(s.pick(), 'C');
  s.set_conns('B', 0, 0);  // idle too, and before C in the list
  EXPECT_EQ(s.pick(), 'B');
  s.set_overloaded('B', true);
  EXPECT_EQ(s.pick(), 'C');
  s.set_weight('C', 0);
  EXPECT_EQ(s.pick(), 'A');
}

TEST(NqTest, MatchesIpvsScanOverRandomEvents) {
  const testing::DiffStats st = run_differential("nq", 3000, 300);
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
