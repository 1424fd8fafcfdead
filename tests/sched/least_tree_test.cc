// LeastTree, the ordered set under lc/wlc/sed/nq/fo/ovf: its minimum against a brute-force
// minimum over random adds, removals and load changes, across growth, slot reuse and the switch
// between scaled and cross-multiplied keys.
#include "sched/least_tree.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <random>
#include <vector>

namespace lvs::sched {
namespace {

using I128 = __int128;

struct Tracked {
  Dest* dest;
  Load load;
};

// The least num/den, ties to the larger list_seq; kNoneNum or den 0 never.
Dest* brute_least(const std::vector<Tracked>& all) {
  const Tracked* best = nullptr;
  for (const Tracked& t : all) {
    if (t.load.num == Load::kNoneNum || t.load.den == 0) continue;
    if (best == nullptr) {
      best = &t;
      continue;
    }
    const I128 l = I128(t.load.num) * best->load.den;
    const I128 r = I128(best->load.num) * t.load.den;
    if (l < r || (l == r && t.dest->list_seq > best->dest->list_seq)) best = &t;
  }
  return best ? best->dest : nullptr;
}

TEST(LeastTreeTest, EmptyAndSingle) {
  LeastTree t;
  EXPECT_EQ(t.least(), nullptr);
  Dest a;
  a.list_seq = 1;
  t.add(a, Load{5, 1});
  EXPECT_EQ(t.least(), &a);
  t.update(a, Load::none(1));
  EXPECT_EQ(t.least(), nullptr);
  t.update(a, Load{0, 1});
  EXPECT_EQ(t.least(), &a);
  t.remove(a);
  EXPECT_EQ(t.least(), nullptr);
  EXPECT_EQ(t.size(), 0u);
  t.remove(a);  // unknown: ignored
  t.update(a, Load{1, 1});
  EXPECT_EQ(t.least(), nullptr);
}

TEST(LeastTreeTest, ScalesWhileTheWeightsAllowIt) {
  LeastTree t;
  std::deque<Dest> d(4);
  for (size_t i = 0; i < d.size(); ++i) d[i].list_seq = i + 1;
  t.add(d[0], Load{10, 2});
  t.add(d[1], Load{16, 3});
  EXPECT_TRUE(t.scaled());
  EXPECT_EQ(t.least(), &d[0]);  // 5 < 5.33
  // A prime near 2^22: the common multiple 6 * 4194301 is too large to scale by.
  t.add(d[2], Load{21, 4194301});
  EXPECT_FALSE(t.scaled());
  EXPECT_EQ(t.least(), &d[2]);
  t.update(d[2], Load{5 * 4194301ull + 1, 4194301});  // just above 5
  EXPECT_EQ(t.least(), &d[0]);
  t.update(d[2], Load{5 * 4194301ull, 4194301});  // exactly 5, and later in the list
  EXPECT_EQ(t.least(), &d[2]);
  t.remove(d[2]);
  EXPECT_TRUE(t.scaled());
  EXPECT_EQ(t.least(), &d[0]);
  // A weight change moves a server between denominators: 16/3 -> 16/4 = 4.
  t.update(d[1], Load{16, 4});
  EXPECT_TRUE(t.scaled());
  EXPECT_EQ(t.least(), &d[1]);
  // The largest weight IPVS allows, alone with small ones: 2^31 - 1 is prime.
  t.add(d[3], Load{1, 2147483647});
  EXPECT_FALSE(t.scaled());
  EXPECT_EQ(t.least(), &d[3]);
  t.update(d[3], Load::none(0));  // weight 0: its denominator no longer counts
  EXPECT_TRUE(t.scaled());
  EXPECT_EQ(t.least(), &d[1]);
}

TEST(LeastTreeTest, MatchesBruteForce) {
  std::mt19937_64 rng(20261126);
  uint64_t checks = 0, scaled = 0, unscaled = 0, switches = 0;
  for (int round = 0; round < 200; ++round) {
    LeastTree t;
    std::deque<Dest> pool(1 + rng() % 300);
    std::vector<Dest*> out;  // pool entries not in the tree
    for (Dest& d : pool) out.push_back(&d);
    std::vector<Tracked> in;
    uint64_t seq = 1;
    // Most rounds keep to small weights (scaled keys); some bring a large prime now and then.
    const bool primes = round % 3 == 0;
    auto random_load = [&]() -> Load {
      static constexpr uint32_t kDens[] = {1, 2, 3, 4, 5, 6, 8, 10, 12, 100};
      static constexpr uint32_t kPrimes[] = {4194301, 1000003, 2147483647};
      uint32_t den = kDens[rng() % std::size(kDens)];
      if (primes && rng() % 20 == 0) den = kPrimes[rng() % std::size(kPrimes)];
      if (rng() % 12 == 0) return Load::none(rng() % 2 ? den : 0);
      const uint64_t num = rng() % 4 == 0 ? (uint64_t{1} << 41) - 1 - rng() % 1000 : rng() % 600;
      return Load{num, den};
    };
    bool was_scaled = t.scaled();
    for (int step = 0; step < 1500; ++step) {
      const unsigned op = unsigned(rng() % 10);
      if (op < 3 && !out.empty()) {
        // Add a pool entry not in the tree, at the head of the list.
        const size_t i = rng() % out.size();
        Dest& d = *out[i];
        out.erase(out.begin() + ptrdiff_t(i));
        d.list_seq = seq++;
        in.push_back({&d, random_load()});
        t.add(d, in.back().load);
      } else if (op < 4 && !in.empty()) {
        const size_t i = rng() % in.size();
        t.remove(*in[i].dest);
        out.push_back(in[i].dest);
        in.erase(in.begin() + ptrdiff_t(i));
      } else if (!in.empty()) {
        Tracked& x = in[rng() % in.size()];
        if (rng() % 4 == 0) {
          x.load = random_load();
        } else if (x.load.num != Load::kNoneNum) {
          // Counts move by one connection, the denominator stays.
          x.load.num = rng() % 2 || x.load.num == 0 ? x.load.num + 1 : x.load.num - 1;
        }
        t.update(*x.dest, x.load);
      }
      ASSERT_EQ(t.least(), brute_least(in)) << "round " << round << " step " << step;
      ASSERT_EQ(t.size(), in.size());
      ++checks;
      (t.scaled() ? scaled : unscaled)++;
      switches += t.scaled() != was_scaled;
      was_scaled = t.scaled();
    }
  }
  std::printf("%llu checks, %llu scaled, %llu cross-multiplied, %llu switches\n",
              (unsigned long long)checks, (unsigned long long)scaled, (unsigned long long)unscaled,
              (unsigned long long)switches);
  EXPECT_GT(unscaled, checks / 20);
  EXPECT_GT(switches, 100u);
}

}  // namespace
}  // namespace lvs::sched
