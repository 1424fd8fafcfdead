// Weighted least-connection as IPVS ip_vs_wlc.c: the least (active * 256 + inactive) / weight,
// compared by cross-multiplication; the first in list order wins ties; weight 0 and overloaded
// servers are never chosen.
#include <gtest/gtest.h>

#include <cstdio>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::run_differential;
using testing::run_pick_table;

TEST(WlcTest, PickTable) {
  run_pick_table(
      "wlc",
      {
          {"all idle: the first", {{0, 1}, {0, 1}, {0, 1}}, 'A'},
          {"fewer active", {{0, 1, 1, 0}, {0, 1, 0, 0}}, 'B'},
          {"weight halves the load", {{0, 2, 1, 0}, {0, 1, 0, 100}}, 'B'},    // 128 vs 100
          {"weight halves the load 2", {{0, 2, 1, 0}, {0, 1, 0, 200}}, 'A'},  // 128 vs 200
          {"tie goes to the first", {{0, 1, 0, 10}, {0, 2, 0, 20}}, 'A'},
          {"tie among later ones", {{0, 1, 0, 9}, {0, 1, 0, 5}, {0, 1, 0, 5}}, 'B'},
          {"255 inactive < 1 active", {{0, 1, 1, 0}, {0, 1, 0, 255}}, 'B'},
          {"256 inactive = 1 active", {{0, 1, 1, 0}, {0, 1, 0, 256}}, 'A'},
          {"257 inactive > 1 active", {{0, 1, 1, 0}, {0, 1, 0, 257}}, 'A'},
          {"idle heavier server after an idle one", {{0, 1}, {0, 5}}, 'A'},
          // 853.3, 896, 768, 832
          {"four servers", {{0, 3, 10, 0}, {0, 2, 7, 0}, {0, 1, 3, 0}, {0, 4, 13, 0}}, 'C'},
          // 434, 408, 517
          {"active and inactive mixed", {{0, 2, 3, 100}, {0, 3, 4, 200}, {0, 1, 2, 5}}, 'B'},
          {"weight 0 idle first", {{0, 0}, {0, 1, 100, 0}}, 'B'},
          {"weight 0 idle later", {{0, 1, 5, 0}, {0, 0}}, 'A'},
          {"weight 0 in the middle", {{0, 1, 5, 0}, {0, 0}, {0, 1, 4, 0}}, 'C'},
          {"overloaded first", {{0, 1, 0, 0, true}, {0, 1, 9, 9}}, 'B'},
          {"overloaded later", {{0, 1, 9, 9}, {0, 1, 0, 0, true}}, 'A'},
          {"overloaded in the middle", {{0, 1, 9, 9}, {0, 1, 0, 0, true}, {0, 1, 8, 0}}, 'C'},
          // Products beyond 32 bits: 25,600,000 * 1 vs 100,096 * 65535 = 6,559,791,360.
          {"64-bit products keep A", {{0, 65535, 100000, 0}, {0, 1, 391, 0}}, 'A'},
          {"64-bit products pick B", {{0, 1, 391, 0}, {0, 65535, 100000, 0}}, 'B'},
          // Products beyond 64 bits: equal overheads (1,099,511,627,520), weights 2^31 - 2 then
          // 2^31 - 1; the heavier weight has the smaller load.
          {"128-bit products",
           {{0, 2147483646, 4294967295u, 0}, {0, 2147483647, 4294967295u, 0}},
           'B'},
          // 2^34 * 2^30 is 2^64: a 64-bit product would wrap to 0 and make B look least.
          {"product of 2^64", {{0, 1073741824, 1, 0}, {0, 1, 67108864, 0}}, 'A'},
          {"all weight 0", {{0, 0}, {0, 0}}, '-'},
          {"all overloaded", {{0, 1, 0, 0, true}, {0, 2, 0, 0, true}}, '-'},
          {"weight 0 or overloaded", {{0, 0}, {0, 2, 0, 0, true}}, '-'},
          {"no servers", {}, '-'},
      });
}

TEST(WlcTest, OverheadFormula) {
  Dest d;
  d.active_conns = 3;
  d.inactive_conns = 7;
  EXPECT_EQ(conn_overhead(d), 3 * 256 + 7);
  d.active_conns = 0xffffffff;
  d.inactive_conns = 0xffffffff;
  EXPECT_EQ(conn_overhead(d), (int64_t(0xffffffff) << 8) + 0xffffffff);
}

TEST(WlcTest, ConnectionsFollowTheWeights) {
  // Each pick opens an active connection on the chosen server. With weights 3 and 1 every
  // four picks are A B A A (ties go to A), so after 400 picks the split is exactly 300/100.
  ConnService s("wlc", {{'A', 3}, {'B', 1}});
  EXPECT_EQ(s.picks_and_opens(8), "ABAAABAA");
  for (int i = 8; i < 400; ++i) ASSERT_NE(s.pick_and_open(), '-');
  EXPECT_EQ(s['A'].active_conns, 300u);
  EXPECT_EQ(s['B'].active_conns, 100u);
  // Closing two of A's connections makes A the least loaded again: 298 * 256 / 3 < 100 * 256,
  // then 299, then 300 (a tie, A is first), then 301 > 100 * 3.
  s.close('A');
  s.close('A');
  EXPECT_EQ(s.picks_and_opens(4), "AAAB");
}

TEST(WlcTest, DeletedServerKeepsReportingWithoutEffect) {
  // The engine keeps calling on_conn_counts for a deleted server until its connections end.
  ConnService s("wlc", {{'A', 1, 5}, {'B', 1, 0}});
  EXPECT_EQ(s.pick(), 'B');
  Dest& b = s['B'];
  s.del('B');
  EXPECT_EQ(s.pick(), 'A');
  b.active_conns = 0;
  b.inactive_conns = 0;
  s.sched().on_conn_counts(b);
  EXPECT_EQ(s.pick(), 'A');
  s.sched().upd_dest(s.list(), b);
  EXPECT_EQ(s.pick(), 'A');
}

TEST(WlcTest, ManyServersPickTheLeast) {
  // Enough servers to grow the tree several times; the unique least is found wherever it sits.
  std::vector<testing::ServerSpec> servers;
  for (int i = 0; i < 40; ++i) servers.push_back({char('A' + i), 1 + i % 3, 10, 0});
  ConnService s("wlc", servers);
  // Every server has 10 active connections: the least load, 2560 / 3, is first reached by C.
  EXPECT_EQ(s.pick(), 'C');
  // 'h' is the 40th (weight 1): 9 active is 2304, still above 853.
  s.set_conns('h', 9, 0);
  EXPECT_EQ(s.pick(), 'C');
  s.set_conns('h', 2, 0);  // 512
  EXPECT_EQ(s.pick(), 'h');
  s.del('h');
  EXPECT_EQ(s.pick(), 'C');
}

TEST(WlcTest, MatchesIpvsScanOverRandomEvents) {
  const testing::DiffStats st = run_differential("wlc", 3000, 300);
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
