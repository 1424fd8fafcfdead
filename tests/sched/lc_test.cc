// Least-connection as IPVS ip_vs_lc.c: the least active * 256 + inactive, weight ignored except
// that 0 (quiesced) and overloaded servers are skipped; the first in list order wins ties.
#include <gtest/gtest.h>

#include <cstdio>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::run_differential;
using testing::run_pick_table;

TEST(LcTest, PickTable) {
  run_pick_table(
      "lc",
      {
          {"all idle: the first", {{0, 1}, {0, 1}, {0, 1}}, 'A'},
          {"fewer active", {{0, 1, 1, 0}, {0, 1, 0, 0}}, 'B'},
          {"weight does not scale the load", {{0, 1, 0, 10}, {0, 100, 0, 20}}, 'A'},
          {"255 inactive < 1 active", {{0, 1, 1, 0}, {0, 1, 0, 255}}, 'B'},
          {"256 inactive = 1 active: the first", {{0, 1, 1, 0}, {0, 1, 0, 256}}, 'A'},
          {"257 inactive > 1 active", {{0, 1, 1, 0}, {0, 1, 0, 257}}, 'A'},
          {"tie among later ones", {{0, 1, 0, 9}, {0, 1, 0, 5}, {0, 1, 0, 5}}, 'B'},
          {"weight 0 idle first", {{0, 0, 0, 0}, {0, 1, 3, 0}}, 'B'},
          {"weight 0 in the middle", {{0, 1, 5, 0}, {0, 0, 0, 0}, {0, 1, 4, 0}}, 'C'},
          {"overloaded first", {{0, 1, 0, 0, true}, {0, 1, 9, 9}}, 'B'},
          {"overloaded in the middle", {{0, 1, 9, 9}, {0, 1, 0, 0, true}, {0, 1, 8, 0}}, 'C'},
          // Overheads past 32 bits: (2^32 - 1) * 256 against (2^32 - 2) * 256 + 255, one less.
          {"40-bit overheads", {{0, 1, 4294967295u, 0}, {0, 1, 4294967294u, 255}}, 'B'},
          {"all weight 0", {{0, 0}, {0, 0}}, '-'},
          {"all overloaded", {{0, 1, 0, 0, true}, {0, 2, 0, 0, true}}, '-'},
          {"weight 0 or overloaded", {{0, 0}, {0, 2, 0, 0, true}}, '-'},
          {"no servers", {}, '-'},
      });
}

TEST(LcTest, SpreadsNewConnectionsEvenly) {
  ConnService s("lc", {{'A', 1}, {'B', 5}, {'C', 2}});
  EXPECT_EQ(s.picks_and_opens(9), "ABCABCABC");
  s.close('B');
  s.close('B');
  EXPECT_EQ(s.picks_and_opens(3), "BBA");
}

TEST(LcTest, FollowsWeightOverloadAndMembershipChanges) {
  ConnService s("lc", {{'A', 1, 2}, {'B', 1, 1}, {'C', 1, 3}});
  EXPECT_EQ(s.pick(), 'B');
  s.set_weight('B', 0);  // quiesced
  EXPECT_EQ(s.pick(), 'A');
  s.set_overloaded('A', true);
  EXPECT_EQ(s.pick(), 'C');
  s.set_weight('B', 7);
  EXPECT_EQ(s.pick(), 'B');
  s.add({'D', 1, 1});  // at the head: same load as B, earlier in the list
  ASSERT_EQ(s.order(), "DABC");
  EXPECT_EQ(s.pick(), 'D');
  s.del('D');
  EXPECT_EQ(s.pick(), 'B');
  s.set_overloaded('A', false);
  s.set_conns('A', 0, 0);
  EXPECT_EQ(s.pick(), 'A');
}

TEST(LcTest, MatchesIpvsScanOverRandomEvents) {
  const testing::DiffStats st = run_differential("lc", 3000, 300);
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
