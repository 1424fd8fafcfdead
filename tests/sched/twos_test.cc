// Power of two choices as IPVS ip_vs_twos.c, with scripted and fixed-seed random sources.
#include <gtest/gtest.h>

#include <map>

#include "sched/factories_hash.h"
#include "sched/hash_test_util.h"

namespace lvs::sched {
namespace {

using testing::HashService;
using testing::ScriptedRandom;
using testing::SeededRandom;

std::unique_ptr<Scheduler> twos(RandomSource* r) { return make_twos(SchedParams{0, r}); }

// A raw next() value that get_random_u32_below(ceil) maps to k: the high 32 bits u give
// (ceil * u) >> 32 == k, with the low half of the product far from the rejection zone.
uint64_t draw(uint32_t k, uint32_t ceil) {
  const uint64_t u = ((2 * uint64_t(k) + 1) << 31) / ceil;
  return u << 32;
}

std::vector<testing::ServerSpec> weights(std::initializer_list<int> ws) {
  std::vector<testing::ServerSpec> v;
  int i = 1;
  for (int w : ws) v.push_back({"198.18.0." + std::to_string(i++), 80, w});
  return v;
}

TEST(TwosTest, DrawHelperMapsAsTheKernelDoes) {
  for (uint32_t ceil : {1u, 11u, 1000u}) {
    for (uint32_t k = 0; k < ceil; k += (ceil / 7 + 1)) {
      const uint64_t u = draw(k, ceil) >> 32;
      EXPECT_EQ((uint64_t(ceil) * u) >> 32, k);
      EXPECT_GE(uint32_t(uint64_t(ceil) * u), uint32_t(-ceil) % ceil);  // not rejected
    }
  }
}

TEST(TwosTest, HandWorkedPicks) {
  // Weights A 2, B 3, C 5: W = 10, draws in [0, 10]. r walks: A takes 0..2, B 3..5, C 6..10.
  struct Case {
    uint32_t r1, r2;
    uint32_t a_active, b_active, c_active;
    char want;
  };
  const Case cases[] = {
      {0, 7, 0, 0, 0, 'A'},  // A vs C, both idle: the second wins only if strictly lighter
      {0, 7, 1, 0, 0, 'C'},  // A 256 / 2 vs C 0
      {2, 3, 0, 0, 0, 'A'},  // r1 = 2: 2 - 2 <= 0 stops at A; r2 = 3 goes on to B
      {3, 2, 1, 0, 0, 'B'},  // B first, A second: A (256 / 2) is not lighter than B (0)
      {10, 10, 0, 0, 0, 'C'}, {5, 6, 0, 2, 1, 'C'},  // B 512 / 3 vs C 256 / 5: 5 * 512 > 3 * 256
      {6, 5, 0, 2, 1, 'C'},                          // C first: B is not lighter
  };
  for (const Case& c : cases) {
    ScriptedRandom r({draw(c.r1, 11), draw(c.r2, 11)});
    HashService s(twos(&r), weights({2, 3, 5}));
    s.set_active(s.at(0), c.a_active);
    s.set_active(s.at(1), c.b_active);
    s.set_active(s.at(2), c.c_active);
    const Dest* d = s.to("10.0.0.1");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(char('A' + s.index(d)), c.want) << c.r1 << " " << c.r2;
    EXPECT_EQ(r.used(), 2u);
  }
}

TEST(TwosTest, SkipsOverloadedAndQuiesced) {
  // Only B (3) and C (5) count: W = 8, draws in [0, 8]; B takes 0..3, C 4..8.
  ScriptedRandom r({draw(3, 9), draw(3, 9), draw(4, 9), draw(4, 9)});
  HashService s(twos(&r), weights({2, 3, 5, 0}));
  s.set_overloaded(s.at(0), true);
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 1);
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 2);
}

TEST(TwosTest, NoServer) {
  SeededRandom r(1);
  HashService s(twos(&r), weights({0, 0}));
  EXPECT_EQ(s.to("10.0.0.1"), nullptr);
  HashService o(twos(&r), weights({1}));
  o.set_overloaded(o.at(0), true);
  EXPECT_EQ(o.to("10.0.0.1"), nullptr);
  HashService e(twos(&r));
  EXPECT_EQ(e.to("10.0.0.1"), nullptr);
}

TEST(TwosTest, PickProportionsFollowWeights) {
  // Idle servers: the second choice never wins (0 > 0 is false), so picks follow the first draw:
  // A (w1 + 1) / (W + 1), the others wi / (W + 1). Weights 1, 2, 3, 4: 2, 2, 3, 4 of 11.
  SeededRandom r(12345);
  HashService s(twos(&r), weights({1, 2, 3, 4}));
  constexpr int kPicks = 200000;
  std::map<int, int> n;
  for (int i = 0; i < kPicks; ++i) ++n[s.index(s.to("10.0.0.1"))];
  const double want[] = {2.0 / 11, 2.0 / 11, 3.0 / 11, 4.0 / 11};
  for (int i = 0; i < 4; ++i) {
    // 200k draws: the standard deviation of a share is under 0.0011.
    EXPECT_NEAR(double(n[i]) / kPicks, want[i], 0.005) << "server " << i;
  }
}

TEST(TwosTest, LoadTracksWeights) {
  // With connections that stay, picks follow weight and load: the lighter of two random
  // candidates keeps the servers near their weight share of connections.
  SeededRandom r(99);
  HashService s(twos(&r), weights({1, 2, 5}));
  for (int i = 0; i < 8000; ++i) {
    Dest* d = s.to("10.0.0.1");
    ASSERT_NE(d, nullptr);
    s.set_active(*d, d->active_conns + 1);
  }
  const double total = 8000;
  EXPECT_NEAR(s.at(0).active_conns / total, 1.0 / 8, 0.02);
  EXPECT_NEAR(s.at(1).active_conns / total, 2.0 / 8, 0.02);
  EXPECT_NEAR(s.at(2).active_conns / total, 5.0 / 8, 0.02);
}

TEST(TwosTest, WithoutRandomSourceFallsBackToLeastConnection) {
  // No RandomSource: weighted least-connection over the same servers, ties to the first.
  HashService s(twos(nullptr), weights({1, 2, 3}));
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 0);
  s.set_active(s.at(0), 1);  // A 256 / 1; B and C idle: B first
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 1);
  s.set_active(s.at(1), 1);  // B 256 / 2; C idle
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 2);
  s.set_active(s.at(2), 2);  // C 512 / 3 > B 256 / 2 = 128
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 1);
  s.set_overloaded(s.at(1), true);
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 2);
}

TEST(TwosTest, RegistryPassesTheRandomSource) {
  ScriptedRandom r({draw(7, 11), draw(0, 11)});
  auto sched = make_scheduler("twos", SchedParams{0, &r});
  ASSERT_NE(sched, nullptr);
  HashService s(std::move(sched), weights({2, 3, 5}));
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 2);  // r1 = 7: C
  EXPECT_EQ(r.used(), 2u);
}

}  // namespace
}  // namespace lvs::sched
