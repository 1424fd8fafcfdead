// Maglev hashing as IPVS ip_vs_mh.c. Expected tables come from tests/sched/ipvs_hash_reference.py,
// a separate model of the kernel code (its hsiphash matches the kernel's own test vectors, see
// siphash_test.cc); tables are compared whole through an FNV-1a digest of the server index of
// every slot, plus a few slots and the per-server counts.
#include "sched/mh.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sched/factories_hash.h"
#include "sched/flags.h"
#include "sched/hash_test_util.h"

namespace lvs::sched {
namespace {

using testing::HashService;
using testing::ip;
using testing::numbered_servers;

std::unique_ptr<Scheduler> mh(uint32_t flags = 0, unsigned index = kMhDefaultTabIndex) {
  MhConfig c;
  c.tab_index = index;
  return make_mh_with(SchedParams{flags, nullptr}, c);
}

MhScheduler& table_of(HashService& s) { return static_cast<MhScheduler&>(s.sched()); }

// Server index (list position) of every slot, -1 for none.
std::vector<int> indexes(HashService& s) {
  std::unordered_map<const Dest*, int> pos;
  for (size_t i = 0; i < s.size(); ++i) pos[&s.at(i)] = int(i);
  std::vector<int> v;
  for (const Dest* d : table_of(s).lookup_table()) {
    auto it = pos.find(d);
    v.push_back(it == pos.end() ? -1 : it->second);
  }
  return v;
}

uint64_t digest(const std::vector<int>& table) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int x : table) {
    const uint32_t v = x < 0 ? 0xffffffffu : uint32_t(x);
    for (int i = 0; i < 4; ++i) h = (h ^ uint8_t(v >> (8 * i))) * 0x100000001b3ull;
  }
  return h;
}

std::vector<size_t> counts(const std::vector<int>& table, size_t servers) {
  std::vector<size_t> c(servers, 0);
  for (int x : table) {
    if (x >= 0) ++c[size_t(x)];
  }
  return c;
}

std::vector<testing::ServerSpec> four(int w0 = 1, int w1 = 1, int w2 = 1, int w3 = 1) {
  return {{"198.18.1.1", 80, w0},
          {"198.18.1.2", 80, w1},
          {"198.18.1.3", 80, w2},
          {"198.18.1.4", 80, w3}};
}

TEST(MhTest, KernelTableFourServers) {
  HashService s(mh(), four());
  const auto t = indexes(s);
  ASSERT_EQ(t.size(), 4093u);
  EXPECT_EQ(std::vector<int>(t.begin(), t.begin() + 16),
            (std::vector<int>{0, 2, 3, 3, 0, 0, 3, 0, 0, 3, 3, 0, 3, 2, 2, 2}));
  EXPECT_EQ(digest(t), 0x0729fcb8e58f35f5ull);
  EXPECT_EQ(counts(t, 4), (std::vector<size_t>{1024, 1023, 1023, 1023}));
}

TEST(MhTest, KernelTableWeighted) {
  // Weights 3, 1, 0, 2: turns 3, 1, 0, 2 per round; the weight-0 server takes no slot.
  HashService s(mh(), four(3, 1, 0, 2));
  const auto t = indexes(s);
  EXPECT_EQ(digest(t), 0xdf5fad27cf6e3075ull);
  EXPECT_EQ(counts(t, 4), (std::vector<size_t>{2047, 682, 0, 1364}));
}

TEST(MhTest, KernelTableWeightsReducedByGcdAndShift) {
  // 64, 32: gcd 32, turns 2 and 1.
  HashService a(mh(), {{"198.18.1.1", 80, 64}, {"198.18.1.2", 80, 32}});
  EXPECT_EQ(digest(indexes(a)), 0xa769d61e8c45c065ull);
  EXPECT_EQ(counts(indexes(a), 2), (std::vector<size_t>{2729, 1364}));
  // 1000, 1: fls(1000) = 10 bits, table bits 12 / 2 = 6, shift 4: turns 62 and (1 >> 4 = 0) 1.
  HashService b(mh(), {{"198.18.1.1", 80, 1000}, {"198.18.1.2", 80, 1}});
  EXPECT_EQ(digest(indexes(b)), 0xd6879ef510d47b65ull);
  EXPECT_EQ(counts(indexes(b), 2), (std::vector<size_t>{4029, 64}));
}

TEST(MhTest, KernelTableOtherSizes) {
  HashService small(mh(0, 8), four());
  EXPECT_EQ(indexes(small).size(), 251u);
  EXPECT_EQ(digest(indexes(small)), 0x02430b1616aeb956ull);
  HashService big(mh(0, 16), numbered_servers(100, 8080), HashService::Bind{});
  const auto t = indexes(big);
  EXPECT_EQ(t.size(), 65521u);
  EXPECT_EQ(digest(t), 0xed7094356f6bb3e1ull);
  const auto c = counts(t, 100);
  EXPECT_EQ(*std::min_element(c.begin(), c.end()), 655u);
  EXPECT_EQ(*std::max_element(c.begin(), c.end()), 656u);
}

TEST(MhTest, EveryIpvsTableSize) {
  for (unsigned index = kMhMinTabIndex; index <= kMhMaxTabIndex; ++index) {
    auto s = mh(0, index);
    ASSERT_NE(s, nullptr) << index;
    EXPECT_EQ(static_cast<MhScheduler&>(*s).lookup_table().size(),
              kMhPrimes[index - kMhMinTabIndex]);
  }
  EXPECT_EQ(mh(0, 7), nullptr);
  EXPECT_EQ(mh(0, 18), nullptr);
  // The registry's mh is the Kconfig default, 4093 entries.
  auto d = make_mh(SchedParams{});
  EXPECT_EQ(static_cast<MhScheduler&>(*d).lookup_table().size(), 4093u);
}

TEST(MhTest, SourceAddressAndPortPickTheKernelsSlot) {
  HashService s(mh(), four());
  MhScheduler& m = table_of(s);
  EXPECT_EQ(m.lookup_index(ip("203.0.113.9"), 0), 1189u);
  EXPECT_EQ(m.lookup_index(ip("203.0.113.9"), 40000), 1917u);
  EXPECT_EQ(m.lookup_index(ip("2001:db8::42"), 0), 1097u);
  EXPECT_EQ(s.index(s.from("203.0.113.9")), 3);
  EXPECT_EQ(s.index(s.from("203.0.113.9", 40000)), 3);  // port ignored without mh-port
  EXPECT_EQ(s.index(s.from("2001:db8::42")), 0);

  HashService p(mh(kMhPort), four());
  EXPECT_EQ(p.index(p.from("203.0.113.9", 40000, 6)), 2);
  EXPECT_EQ(p.index(p.from("203.0.113.9", 40000, 17)), 2);
  EXPECT_EQ(p.index(p.from("203.0.113.9", 40000, 1)), 3);  // no ports in ICMP: port 0
}

TEST(MhTest, UnavailableWithoutFallbackMeansNoServer) {
  HashService s(mh(), four());
  s.set_overloaded(s.at(3), true);
  EXPECT_EQ(s.from("203.0.113.9"), nullptr);
  s.set_overloaded(s.at(3), false);
  EXPECT_EQ(s.index(s.from("203.0.113.9")), 3);
}

TEST(MhTest, FallbackFollowsTheKernelsProbes) {
  // Probes hash roffset + port + addr for roffset = ihash, ihash + 1, ...: for 203.0.113.9 they
  // read servers 1, 0, 2, 3, ...
  HashService s(mh(kMhFallback), four());
  s.set_overloaded(s.at(3), true);
  EXPECT_EQ(s.index(s.from("203.0.113.9")), 1);
  s.set_overloaded(s.at(1), true);
  EXPECT_EQ(s.index(s.from("203.0.113.9")), 0);
  s.set_weight(s.at(0), 0);
  EXPECT_EQ(s.index(s.from("203.0.113.9")), 2);
  s.set_overloaded(s.at(2), true);
  EXPECT_EQ(s.from("203.0.113.9"), nullptr);  // nothing left

  HashService v6(mh(kMhFallback), four());
  v6.set_weight(v6.at(0), 0);
  EXPECT_EQ(v6.index(v6.from("2001:db8::42")), 1);

  // Probes for 203.0.113.9:40000 read servers 0, 0, 0, 2, ...
  HashService p(mh(kMhFallback | kMhPort), four());
  p.set_overloaded(p.at(2), true);
  EXPECT_EQ(p.index(p.from("203.0.113.9", 40000)), 0);
}

TEST(MhTest, QuiescedServerKeepsItsSlots) {
  // Weight 0 keeps the last non-zero weight in the table (IPVS's last_weight): the flows of that
  // server find no server meanwhile, and come back to it with its weight.
  HashService s(mh(), four());
  const uint64_t before = digest(indexes(s));
  s.set_weight(s.at(3), 0);
  EXPECT_EQ(digest(indexes(s)), before);
  EXPECT_EQ(s.from("203.0.113.9"), nullptr);
  // Other changes rebuild with the remembered weight too.
  s.set_weight(s.at(0), 1);
  EXPECT_EQ(digest(indexes(s)), before);
  s.set_weight(s.at(3), 1);
  EXPECT_EQ(s.index(s.from("203.0.113.9")), 3);
  // Added with weight 0, a server never had a weight: no slots.
  HashService z(mh(), four(1, 1, 1, 0));
  EXPECT_EQ(counts(indexes(z), 4)[3], 0u);
}

TEST(MhTest, CountChangesLeaveTheTable) {
  HashService s(mh(), four());
  const auto before = indexes(s);
  s.set_active(s.at(1), 100, 5);
  s.set_overloaded(s.at(2), true);
  EXPECT_EQ(indexes(s), before);
}

TEST(MhTest, BindToExistingList) {
  HashService s(mh(), four(3, 1, 0, 2));
  auto other = mh();
  other->init_service(s.list());
  std::vector<int> t;
  for (const Dest* d : static_cast<MhScheduler&>(*other).lookup_table()) t.push_back(s.index(d));
  EXPECT_EQ(digest(t), 0xdf5fad27cf6e3075ull);
  other->done_service();
  for (const Dest* d : static_cast<MhScheduler&>(*other).lookup_table()) EXPECT_EQ(d, nullptr);
}

TEST(MhTest, NoServerWithAWeight) {
  HashService empty(mh(kMhFallback));
  EXPECT_EQ(empty.from("203.0.113.9"), nullptr);
  HashService zero(mh(kMhFallback), four(0, 0, 0, 0));
  for (const Dest* d : table_of(zero).lookup_table()) EXPECT_EQ(d, nullptr);
  EXPECT_EQ(zero.from("203.0.113.9"), nullptr);
}

TEST(MhTest, RemovedServerIsNeverReturned) {
  HashService s(mh(kMhFallback), four());
  s.del(s.at(3));  // freed
  for (const Dest* d : table_of(s).lookup_table()) EXPECT_GE(s.index(d), 0);
  for (const auto& c : testing::random_clients(2000, 11)) EXPECT_GE(s.index(s.from(c)), 0);
}

TEST(MhTest, MoreServersThanSlots) {
  // IPVS refuses (-EINVAL) and keeps its old table; lvs fills the table with the servers that
  // come first in the rounds, so every slot names a server still in the service.
  HashService s(mh(kMhFallback, 8), numbered_servers(300));
  const auto t = indexes(s);
  EXPECT_TRUE(std::none_of(t.begin(), t.end(), [](int x) { return x < 0; }));
  EXPECT_TRUE(std::all_of(t.begin(), t.end(), [](int x) { return x < 251; }));
  s.del(s.at(0));
  for (const Dest* d : table_of(s).lookup_table()) EXPECT_GE(s.index(d), 0);
}

// Flows moved by a change, over the table and over random clients.
struct Moved {
  double entries;
  double flows;
};

Moved moved_by(HashService& s, const std::vector<net::IpAddr>& clients,
               const std::function<void()>& change) {
  std::vector<const Dest*> before_table(table_of(s).lookup_table().begin(),
                                        table_of(s).lookup_table().end());
  std::vector<const Dest*> before_flows;
  for (const auto& c : clients) before_flows.push_back(s.from(c));
  // Compare by address: a removed server's pointer is freed.
  std::vector<net::IpAddr> before_addr;
  for (const Dest* d : before_table) before_addr.push_back(d->addr);
  std::vector<net::IpAddr> before_flow_addr;
  for (const Dest* d : before_flows) before_flow_addr.push_back(d->addr);
  change();
  size_t e = 0, f = 0;
  const auto after = table_of(s).lookup_table();
  for (size_t i = 0; i < after.size(); ++i) e += !(after[i]->addr == before_addr[i]);
  for (size_t i = 0; i < clients.size(); ++i)
    f += !(s.from(clients[i])->addr == before_flow_addr[i]);
  return {double(e) / double(after.size()), double(f) / double(clients.size())};
}

TEST(MhTest, RemovingOrAddingOneServerMovesAboutOneNth) {
  // Maglev moves the removed server's 1/N plus some disruption elsewhere, which shrinks as M / N
  // grows (Eisenbud et al., figure 12). The bounds are the measured shares (deterministic:
  // fixed servers and clients) with a little room, so a change in the fill shows up here.
  struct Case {
    unsigned index;
    size_t n;
    double bound;
  };
  const Case cases[] = {{12, 10, 0.125}, {12, 100, 0.045}, {16, 10, 0.11}, {16, 100, 0.018}};
  const auto clients = testing::random_clients(100000, 42);
  for (const Case& c : cases) {
    HashService s(mh(0, c.index), numbered_servers(c.n));
    const double ideal = 1.0 / double(c.n);
    // Remove the server in the middle of the list, then add a new one (at the head, as IPVS).
    const Moved del = moved_by(s, clients, [&] { s.del(s.at(c.n / 2)); });
    const Moved add = moved_by(s, clients, [&] { s.add("198.18.200.1", 80, 1); });
    std::printf(
        "M=%u N=%zu: remove moves %.4f of entries, %.4f of flows; add %.4f, %.4f; "
        "ideal %.4f\n",
        kMhPrimes[c.index - 8], c.n, del.entries, del.flows, add.entries, add.flows, ideal);
    const std::string where =
        "M " + std::to_string(kMhPrimes[c.index - 8]) + " N " + std::to_string(c.n);
    EXPECT_GE(del.entries, ideal * 0.95) << where;
    EXPECT_LE(del.entries, c.bound) << where;
    EXPECT_GE(add.entries, ideal * 0.95) << where;
    EXPECT_LE(add.entries, c.bound) << where;
    // Random clients see the same share as table entries.
    EXPECT_NEAR(del.flows, del.entries, 0.005) << where;
    EXPECT_NEAR(add.flows, add.entries, 0.005) << where;
  }
}

TEST(MhTest, EntriesPerServerWithinOnePercent) {
  // IPVS's rounds give every server floor(M / N) or ceil(M / N) entries with equal weights, so
  // the imbalance is under N / M: below 1% once M > 100 N.
  for (unsigned index : {12u, 16u, 17u}) {
    const uint32_t m = kMhPrimes[index - 8];
    for (size_t n : {10u, 40u, 100u, 1000u}) {
      if (m <= 100 * n) continue;
      HashService s(mh(0, index), numbered_servers(n), HashService::Bind{});
      const auto c = counts(indexes(s), n);
      const auto [lo, hi] = std::minmax_element(c.begin(), c.end());
      EXPECT_LE(*hi - *lo, 1u) << m << " " << n;
      const double imbalance = double(*hi) / (double(m) / double(n)) - 1.0;
      EXPECT_LT(imbalance, 0.01) << m << " " << n;
    }
  }
}

TEST(MhTest, RebuildTimeAt65521) {
  // The target is <= 2 ms for a 65,537-entry table; IPVS's nearest sizes are 65521 and
  // 131071. Timed here loosely (shared CI cores, sanitizers); bench/mh_bench.cc measures it.
  for (size_t n : {10u, 100u, 1000u}) {
    HashService s(mh(0, 16), numbered_servers(n), HashService::Bind{});
    Dest& d = s.at(0);
    const auto start = std::chrono::steady_clock::now();
    constexpr int kRounds = 20;
    for (int i = 0; i < kRounds; ++i) s.set_weight(d, 1 + (i & 1));  // upd_dest: full rebuild
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() /
        kRounds;
    std::printf("rebuild M=65521 N=%zu: %.3f ms\n", n, ms);
    ::testing::Test::RecordProperty("rebuild_ms_65521_n" + std::to_string(n), std::to_string(ms));
    EXPECT_LT(ms, 50.0);
  }
}

}  // namespace
}  // namespace lvs::sched
