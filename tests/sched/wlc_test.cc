// Weighted least-connection as IPVS ip_vs_wlc.c: the least (active * 256 + inactive) / weight,
// compared by cross-multiplication in 64 bits; the first in list order wins ties; weight 0 and
// overloaded servers are never chosen.
#include <gtest/gtest.h>

#include "sched/sched_test_util.h"

namespace lvs::sched {
namespace {

using testing::TestService;

struct Server {
  int32_t weight;
  uint32_t active;
  uint32_t inactive;
  bool overloaded = false;
};

struct Case {
  const char* name;
  std::vector<Server> servers;  // named A, B, C, ... in list order
  char want;                    // '-' for none
};

TEST(WlcTest, PickTable) {
  const Case cases[] = {
      {"all idle: the first", {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}}, 'A'},
      {"fewer active", {{1, 1, 0}, {1, 0, 0}}, 'B'},
      {"weight halves the load", {{2, 1, 0}, {1, 0, 100}}, 'B'},    // 128 vs 100
      {"weight halves the load 2", {{2, 1, 0}, {1, 0, 200}}, 'A'},  // 128 vs 200
      {"tie goes to the first", {{1, 0, 10}, {2, 0, 20}}, 'A'},
      {"tie among later ones", {{1, 0, 9}, {1, 0, 5}, {1, 0, 5}}, 'B'},
      {"255 inactive < 1 active", {{1, 1, 0}, {1, 0, 255}}, 'B'},
      {"256 inactive = 1 active", {{1, 1, 0}, {1, 0, 256}}, 'A'},
      {"257 inactive > 1 active", {{1, 1, 0}, {1, 0, 257}}, 'A'},
      {"idle heavier server after an idle one", {{1, 0, 0}, {5, 0, 0}}, 'A'},
      {"four servers", {{3, 10, 0}, {2, 7, 0}, {1, 3, 0}, {4, 13, 0}}, 'C'},  // 853 896 768 832
      {"active and inactive mixed", {{2, 3, 100}, {3, 4, 200}, {1, 2, 5}}, 'B'},
      {"weight 0 idle first", {{0, 0, 0}, {1, 100, 0}}, 'B'},
      {"weight 0 idle later", {{1, 5, 0}, {0, 0, 0}}, 'A'},
      {"weight 0 in the middle", {{1, 5, 0}, {0, 0, 0}, {1, 4, 0}}, 'C'},
      {"overloaded first", {{1, 0, 0, true}, {1, 9, 9}}, 'B'},
      {"overloaded later", {{1, 9, 9}, {1, 0, 0, true}}, 'A'},
      {"overloaded in the middle", {{1, 9, 9}, {1, 0, 0, true}, {1, 8, 0}}, 'C'},
      // Products beyond 32 bits: 25,600,000 * 1 vs 100,096 * 65535 = 6,559,791,360.
      {"64-bit products keep A", {{65535, 100000, 0}, {1, 391, 0}}, 'A'},
      {"64-bit products pick B", {{1, 391, 0}, {65535, 100000, 0}}, 'B'},
      {"all weight 0", {{0, 0, 0}, {0, 0, 0}}, '-'},
      {"all overloaded", {{1, 0, 0, true}, {2, 0, 0, true}}, '-'},
      {"weight 0 or overloaded", {{0, 0, 0}, {2, 0, 0, true}}, '-'},
      {"no servers", {}, '-'},
  };
  for (const Case& c : cases) {
    std::vector<std::pair<char, int32_t>> named;
    for (size_t i = 0; i < c.servers.size(); ++i) {
      named.emplace_back(char('A' + i), c.servers[i].weight);
    }
    TestService s("wlc", named);
    for (size_t i = 0; i < c.servers.size(); ++i) {
      Dest& d = s[char('A' + i)];
      d.active_conns = c.servers[i].active;
      d.inactive_conns = c.servers[i].inactive;
      s.set_overloaded(char('A' + i), c.servers[i].overloaded);
    }
    EXPECT_EQ(s.pick(), c.want) << c.name;
    // Scheduling has no side effects: the same state gives the same answer.
    EXPECT_EQ(s.pick(), c.want) << c.name;
  }
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
  TestService s("wlc", {{'A', 3}, {'B', 1}});
  auto open = [&] {
    Dest* d = s.schedule();
    if (d == nullptr) return '-';
    ++d->active_conns;
    return char(d->port);
  };
  std::string first;
  for (int i = 0; i < 8; ++i) first += open();
  EXPECT_EQ(first, "ABAAABAA");
  for (int i = 8; i < 400; ++i) ASSERT_NE(open(), '-');
  EXPECT_EQ(s['A'].active_conns, 300u);
  EXPECT_EQ(s['B'].active_conns, 100u);
}

}  // namespace
}  // namespace lvs::sched
