// Weighted round robin as IPVS ip_vs_wrr.c. Sequences were derived by hand from the kernel's
// algorithm: passes with a current weight cw running from mw - (di - 1) down by the gcd di,
// each pass picking, in list order, the servers whose weight >= cw.
#include <gtest/gtest.h>

#include <map>

#include "sched/sched_test_util.h"

namespace lvs::sched {
namespace {

using testing::repeat;
using testing::TestService;

// Most tests start from a scheduler bound to the complete list, where the first pass runs at the
// top weight; adding servers one by one leaves cw lower at first (see AddingOneByOne).
constexpr auto kBind = testing::Setup::kBindToExisting;

struct SeqCase {
  const char* name;
  std::vector<std::pair<char, int32_t>> servers;
  const char* cycle;  // one period of picks
};

TEST(WrrTest, SequencesPerIpvs) {
  const SeqCase cases[] = {
      {"4,3,2", {{'A', 4}, {'B', 3}, {'C', 2}}, "AABABCABC"},
      // gcd 50: mw = 100 - 49 = 51, passes cw = 51 and cw = 1.
      {"100,50,50", {{'A', 100}, {'B', 50}, {'C', 50}}, "AABC"},
      // gcd 5: one pass with cw = 1.
      {"5,5,5", {{'A', 5}, {'B', 5}, {'C', 5}}, "ABC"},
      {"2,0,1", {{'A', 2}, {'B', 0}, {'C', 1}}, "AAC"},
      {"1,2,3", {{'A', 1}, {'B', 2}, {'C', 3}}, "CBCABC"},
      // gcd 2: mw = 5, passes cw = 5, 3, 1.
      {"6,4,2", {{'A', 6}, {'B', 4}, {'C', 2}}, "AABABC"},
      {"single", {{'A', 3}}, "A"},
  };
  for (const SeqCase& c : cases) {
    TestService s("wrr", c.servers, kBind);
    EXPECT_EQ(s.picks(3 * std::string_view(c.cycle).size()), repeat(c.cycle, 3)) << c.name;
  }
}

TEST(WrrTest, AddingOneByOne) {
  // ipvsadm -A then -a per server: init_service saw no server (cw = mw = 0), the first add set
  // cw to that server's mw, later adds keep cw while it is <= the new mw. So the first pass runs
  // at a low cw before the regular cycles.
  struct Case {
    std::vector<std::pair<char, int32_t>> servers;  // added last to first
    const char* first_pass;
    const char* cycle;
  };
  const Case cases[] = {
      {{{'A', 4}, {'B', 3}, {'C', 2}}, "ABC", "AABABCABC"},  // C first: di 2, cw = mw = 1
      {{{'A', 100}, {'B', 50}, {'C', 50}}, "ABC", "AABC"},
      {{{'A', 1}, {'B', 2}, {'C', 3}}, "ABC", "CBCABC"},
      {{{'A', 6}, {'B', 4}, {'C', 2}}, "ABC", "AABABC"},
      {{{'A', 2}, {'B', 2}}, "AB", "AB"},
  };
  for (const Case& c : cases) {
    TestService s("wrr", c.servers);
    const std::string want = std::string(c.first_pass) + repeat(c.cycle, 2);
    EXPECT_EQ(s.picks(want.size()), want) << c.cycle;
  }
}

TEST(WrrTest, NoneAvailable) {
  TestService empty("wrr", {});
  EXPECT_EQ(empty.schedule(), nullptr);
  TestService zero("wrr", {{'A', 0}, {'B', 0}});
  EXPECT_EQ(zero.picks(3), "---");
  // A weight coming back restarts from the top weight.
  zero.set_weight('B', 2);
  EXPECT_EQ(zero.picks(4), "BBBB");
  zero.set_weight('A', 1);  // cw stays 1: this pass takes both, then cw = 2 takes B alone
  EXPECT_EQ(zero.picks(6), "ABBABB");
}

TEST(WrrTest, SkipsOverloaded) {
  TestService s("wrr", {{'A', 4}, {'B', 3}, {'C', 2}}, kBind);
  s.set_overloaded('A', true);
  EXPECT_EQ(s.picks(10), "BBCBCBBCBC");
}

TEST(WrrTest, AllOverloadedThenRecovered) {
  TestService s("wrr", {{'A', 4}, {'B', 3}, {'C', 2}}, kBind);
  s.set_all_overloaded(true);
  EXPECT_EQ(s.picks(2), "--");
  s.set_all_overloaded(false);
  EXPECT_EQ(s.picks(9), "AABABCABC");
}

TEST(WrrTest, AllOverloadedKeepsTheCursorWhenNotAtTheHead) {
  // With the cursor on A, the failed search stops at A (IPVS's `stop`), so B comes next.
  TestService s("wrr", {{'A', 1}, {'B', 1}}, kBind);
  EXPECT_EQ(s.pick(), 'A');
  s.set_all_overloaded(true);
  EXPECT_EQ(s.pick(), '-');
  s.set_all_overloaded(false);
  EXPECT_EQ(s.picks(3), "BAB");
}

TEST(WrrTest, WeightRaisedKeepsCurrentWeight) {
  TestService s("wrr", {{'A', 4}, {'B', 3}, {'C', 2}}, kBind);
  EXPECT_EQ(s.picks(3), "AAB");  // now cw = 3
  s.set_weight('C', 6);
  // cw stays 3 (<= the new mw 6, gcd 1); the cursor restarts at the head.
  EXPECT_EQ(s.picks(9), "ABCABCABC");
  // Then a full cycle: cw = 6, 5, 4, 3, 2, 1.
  EXPECT_EQ(s.picks(15), "CCACABCABCABCCC");
}

TEST(WrrTest, WeightLoweredBelowCurrentWeight) {
  TestService s("wrr", {{'A', 4}, {'B', 3}, {'C', 2}}, kBind);
  EXPECT_EQ(s.pick(), 'A');  // cw = 4
  s.set_weight('A', 1);
  // cw > the new mw 3: it restarts at 3.
  EXPECT_EQ(s.picks(12), "BBCABCBBCABC");
}

TEST(WrrTest, GcdChangeRoundsCurrentWeight) {
  TestService s("wrr", {{'A', 4}, {'B', 2}}, kBind);  // di 2, mw 3: "AAB"
  EXPECT_EQ(s.pick(), 'A');                           // cw = 3
  s.set_weight('A', 6);
  s.set_weight('B', 4);
  // di 2, mw 5; cw becomes (3 / 2) * 2 + 1 = 3. Passes then run cw = 3, 1, 5, 3, 1, ...
  EXPECT_EQ(s.picks(14),
            "ABAB"
            "AABAB"
            "AABAB");
}

TEST(WrrTest, GcdChangeFromEqualWeights) {
  TestService s("wrr", {{'A', 10}, {'B', 10}}, kBind);  // di 10, mw 1: one pass, cw = 1
  EXPECT_EQ(s.picks(4), "ABAB");
  s.set_weight('B', 5);  // di 5, mw 6; cw = (1 / 5) * 5 + 1 = 1: the cw = 1 pass comes first
  EXPECT_EQ(s.picks(6),
            "AB"
            "A"
            "AB"
            "A");
}

TEST(WrrTest, AddAndDeleteRestartAtTheHead) {
  TestService s("wrr", {{'A', 4}, {'B', 3}, {'C', 2}}, kBind);
  EXPECT_EQ(s.picks(3), "AAB");  // cursor on B, cw 3
  s.add('D', 3);
  ASSERT_EQ(s.order(), "DABC");
  EXPECT_EQ(s.picks(11),
            "DAB"
            "DABC"
            "DABC");
  EXPECT_EQ(s.picks(12),
            "A"
            "DAB"
            "DABC"
            "DABC");

  TestService t("wrr", {{'A', 4}, {'B', 3}, {'C', 2}}, kBind);
  EXPECT_EQ(t.picks(3), "AAB");
  t.del('A');
  EXPECT_EQ(t.picks(10), "BBCBCBBCBC");
}

TEST(WrrTest, MillionPicksExactlyProportional) {
  struct Case {
    std::vector<std::pair<char, int32_t>> servers;
  };
  const Case cases[] = {
      {{{'A', 5}, {'B', 3}, {'C', 2}}},
      {{{'A', 7}, {'B', 5}, {'C', 3}, {'D', 1}}},
      {{{'A', 100}, {'B', 50}, {'C', 50}}},
      {{{'A', 1}, {'B', 0}, {'C', 4}}},
  };
  for (const Case& c : cases) {
    TestService s("wrr", c.servers, kBind);
    int64_t total_weight = 0;
    for (const auto& [name, w] : c.servers) total_weight += w;
    constexpr int64_t kPicks = 1'000'000;
    std::map<char, int64_t> counts;
    for (int64_t i = 0; i < kPicks; ++i) ++counts[s.pick()];
    for (const auto& [name, w] : c.servers) {
      // Every weight sum here divides a million, so the counts are exact.
      ASSERT_EQ(kPicks % total_weight, 0);
      EXPECT_EQ(counts[name], kPicks / total_weight * w) << name;
    }
    EXPECT_EQ(counts['-'], 0);
  }
}

}  // namespace
}  // namespace lvs::sched
