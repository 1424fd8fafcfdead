// Property: over 1,000,000 picks, with connections opening and ending as on a busy director,
// each server's share of new connections follows its weight within 1% (wlc, wrr), or is even
// (lc). Connections live a random time from a fixed-seed PRNG: ESTABLISHED (active) for up to
// 4,000 picks, then closing (inactive, as TIME_WAIT) for up to 1,000 more; every change reaches
// the scheduler through on_conn_counts, as the engine reports it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "sched/least_test_util.h"

namespace lvs::sched {
namespace {

using testing::ConnService;
using testing::ServerSpec;

constexpr int64_t kPicks = 1'000'000;
constexpr uint64_t kMaxActive = 4000;   // picks a connection stays ESTABLISHED, at most
constexpr uint64_t kMaxClosing = 1000;  // then in TIME_WAIT and the like, at most

struct Shares {
  std::vector<int64_t> picks;  // by server index in `servers`
  int64_t none = 0;
};

Shares run(std::string_view sched, const std::vector<ServerSpec>& servers, uint64_t seed) {
  ConnService s(sched, servers);
  std::mt19937_64 rng(seed);
  // A timer wheel of connection events, indexed by pick number modulo its size.
  struct Event {
    Dest* dest;
    bool closing;  // active -> inactive; otherwise inactive -> gone
  };
  std::vector<std::vector<Event>> wheel(kMaxActive + kMaxClosing + 2);
  Shares out;
  out.picks.assign(servers.size(), 0);
  for (int64_t t = 0; t < kPicks; ++t) {
    auto& due = wheel[size_t(t) % wheel.size()];
    for (const Event& e : due) {
      if (e.closing) {
        --e.dest->active_conns;
        ++e.dest->inactive_conns;
        s.sched().on_conn_counts(*e.dest);
        const uint64_t closing = 1 + rng() % kMaxClosing;
        wheel[size_t(uint64_t(t) + closing) % wheel.size()].push_back({e.dest, false});
      } else {
        --e.dest->inactive_conns;
        s.sched().on_conn_counts(*e.dest);
      }
    }
    due.clear();
    Dest* d = s.schedule();
    if (d == nullptr) {
      ++out.none;
      continue;
    }
    ++d->active_conns;
    s.sched().on_conn_counts(*d);
    const uint64_t active = 1 + rng() % kMaxActive;
    wheel[size_t(uint64_t(t) + active) % wheel.size()].push_back({d, true});
    for (size_t i = 0; i < servers.size(); ++i) {
      if (d == &s[servers[i].name]) ++out.picks[i];
    }
  }
  return out;
}

void expect_shares_follow(std::string_view sched, const std::vector<ServerSpec>& servers,
                          bool weighted) {
  const Shares got = run(sched, servers, 0x5ca1ab1e);
  EXPECT_EQ(got.none, 0);
  double total_weight = 0;
  for (const ServerSpec& sv : servers) total_weight += weighted ? sv.weight : 1;
  int64_t total = 0;
  for (int64_t p : got.picks) total += p;
  EXPECT_EQ(total, kPicks);
  double worst = 0;
  for (size_t i = 0; i < servers.size(); ++i) {
    const double want = (weighted ? servers[i].weight : 1) / total_weight;
    const double share = double(got.picks[i]) / double(total);
    worst = std::max(worst, std::abs(share / want - 1));
    EXPECT_LE(std::abs(share / want - 1), 0.01) << sched << " server " << servers[i].name
                                                << ": share " << share << ", weight share " << want;
  }
  std::printf("%s over %zu servers: worst share off its weight share by %.3f%%\n",
              std::string(sched).c_str(), servers.size(), worst * 100);
}

TEST(SharePropertyTest, WlcFollowsWeights) {
  expect_shares_follow("wlc", {{'A', 5}, {'B', 3}, {'C', 2}}, true);
  expect_shares_follow("wlc", {{'A', 1}, {'B', 2}, {'C', 3}, {'D', 4}, {'E', 10}}, true);
  // A weight-0 server takes nothing.
  std::vector<ServerSpec> with_zero = {{'A', 3}, {'B', 0}, {'C', 1}};
  const Shares z = run("wlc", with_zero, 7);
  EXPECT_EQ(z.picks[1], 0);
  EXPECT_NEAR(double(z.picks[0]) / double(z.picks[2]), 3.0, 0.03);
}

TEST(SharePropertyTest, WrrFollowsWeights) {
  expect_shares_follow("wrr", {{'A', 5}, {'B', 3}, {'C', 2}}, true);
  expect_shares_follow("wrr", {{'A', 1}, {'B', 2}, {'C', 3}, {'D', 4}, {'E', 10}}, true);
}

TEST(SharePropertyTest, LcIsEvenWhateverTheWeights) {
  expect_shares_follow("lc", {{'A', 5}, {'B', 3}, {'C', 2}, {'D', 1}}, false);
}

}  // namespace
}  // namespace lvs::sched
