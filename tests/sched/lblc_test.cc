// Locality-based least-connection as IPVS ip_vs_lblc.c, with time driven through now_ns.
#include <gtest/gtest.h>

#include <string>

#include "sched/factories_hash.h"
#include "sched/hash_test_util.h"
#include "sched/locality.h"

namespace lvs::sched {
namespace {

using testing::HashService;
using testing::ip;

constexpr uint64_t kSec = kNsPerSec;
constexpr uint64_t kMin = 60 * kSec;
constexpr uint64_t kHour = 60 * kMin;

std::unique_ptr<Scheduler> lblc(const LocalityConfig& c = {}) {
  return make_lblc_with(SchedParams{}, c);
}
LocalityScheduler& table_of(HashService& s) { return static_cast<LocalityScheduler&>(s.sched()); }

std::vector<testing::ServerSpec> abc(int wa = 1, int wb = 1, int wc = 1) {
  return {{"198.18.0.1", 80, wa}, {"198.18.0.2", 80, wb}, {"198.18.0.3", 80, wc}};
}

// The i-th of many destination addresses, 10.x.y.z.
net::IpAddr dst(uint32_t i) { return net::IpAddr::v4(0x0a000000u + i); }

TEST(LblcTest, RemembersTheLeastConnectionPick) {
  HashService s(lblc(), abc());
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  EXPECT_EQ(s.to("10.0.0.1"), &a);  // all idle: the first in list order
  s.set_active(a, 1);
  EXPECT_EQ(s.to("10.0.0.1"), &a);  // remembered, though B is less loaded now
  EXPECT_EQ(s.to("10.0.0.2"), &b);  // a new address: least connection
  s.set_active(b, 1);
  EXPECT_EQ(s.to("10.0.0.2"), &b);
  EXPECT_EQ(table_of(s).entries(), 2u);
  EXPECT_EQ(table_of(s).cached(ip("10.0.0.1")), (std::vector<const Dest*>{&a}));
  EXPECT_TRUE(table_of(s).cached(ip("10.0.0.3")).empty());
}

TEST(LblcTest, LocalityOverloadRuleMovesTheAddress) {
  // A is overloaded when its active connections exceed its weight while some server has fewer
  // than half of its weight active.
  HashService s(lblc(), {{"198.18.0.1", 80, 1}, {"198.18.0.2", 80, 4}});
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  ASSERT_EQ(s.to("10.0.0.1"), &a);
  s.set_active(a, 2);
  s.set_active(b, 2);  // 2 * 2 < 4 is false: nobody is under half, A stays
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  s.set_active(b, 1);  // 1 * 2 < 4: A (2 > 1) is overloaded; least connection is B (256/4)
  EXPECT_EQ(s.to("10.0.0.1"), &b);
  EXPECT_EQ(table_of(s).cached(ip("10.0.0.1")), (std::vector<const Dest*>{&b}));
  s.set_active(b, 0);
  s.set_active(a, 0);
  EXPECT_EQ(s.to("10.0.0.1"), &b);  // the entry now names B
}

TEST(LblcTest, UpperThresholdFlagIsNotConsultedForTheRememberedServer) {
  // ip_vs_lblc_schedule checks availability, weight and its own overload rule, not
  // IP_VS_DEST_F_OVERLOAD; only the least-connection pick skips flagged servers.
  HashService s(lblc(), abc());
  Dest& a = s.at(0);
  ASSERT_EQ(s.to("10.0.0.1"), &a);
  s.set_overloaded(a, true);
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  EXPECT_EQ(s.to("10.0.0.2"), &s.at(1));
}

TEST(LblcTest, QuiescedServerLosesItsAddresses) {
  HashService s(lblc(), abc());
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  ASSERT_EQ(s.to("10.0.0.1"), &a);
  s.set_weight(a, 0);
  EXPECT_EQ(s.to("10.0.0.1"), &b);
  s.set_weight(a, 1);
  EXPECT_EQ(s.to("10.0.0.1"), &b);  // the entry moved for good
}

TEST(LblcTest, RemovedServerIsNeverReturnedAndComesBackWithItsEntries) {
  HashService s(lblc(), abc());
  Dest* a = &s.at(0);
  ASSERT_EQ(s.to("10.0.0.1"), a);
  ASSERT_EQ(s.to("10.0.0.2"), a);
  s.del(*a);  // freed
  // The entries keep the server (IPVS holds the dest in its trash), unusable.
  EXPECT_EQ(table_of(s).cached(ip("10.0.0.2")), (std::vector<const Dest*>{nullptr}));
  Dest* now = s.to("10.0.0.1");
  EXPECT_GE(s.index(now), 0);
  EXPECT_EQ(table_of(s).cached(ip("10.0.0.1")), (std::vector<const Dest*>{now}));
  // The same address and port rejoining is the same server to the table (IPVS revives the
  // trashed dest): 10.0.0.2 goes back to it even though it is now the busiest (inactive
  // connections: the locality overload rule counts active ones only).
  Dest& again = s.add("198.18.0.1", 80, 1);
  s.set_active(again, 0, 5000);
  EXPECT_EQ(s.to("10.0.0.2"), &again);
  // A different port is a different server.
  HashService t(lblc(), abc());
  Dest* ta = &t.at(0);
  ASSERT_EQ(t.to("10.0.0.2"), ta);
  t.del(*ta);
  Dest& other = t.add("198.18.0.1", 81, 1);
  t.set_active(other, 0, 5000);
  EXPECT_NE(t.to("10.0.0.2"), &other);
}

TEST(LblcTest, NoServer) {
  HashService empty(lblc());
  EXPECT_EQ(empty.to("10.0.0.1"), nullptr);
  EXPECT_EQ(table_of(empty).entries(), 0u);
  HashService s(lblc(), abc(0, 0, 0));
  EXPECT_EQ(s.to("10.0.0.1"), nullptr);
  HashService o(lblc(), abc());
  for (size_t i = 0; i < 3; ++i) o.set_overloaded(o.at(i), true);
  EXPECT_EQ(o.to("10.0.0.1"), nullptr);
}

TEST(LblcTest, EntryUnusedForTheExpirationTimeIsForgotten) {
  HashService s(lblc(), abc());
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  ASSERT_EQ(s.to("10.0.0.1", 0), &a);
  s.set_active(a, 0, 5);                            // least connection would now pick B
  EXPECT_EQ(s.to("10.0.0.1", 24 * kHour - 1), &a);  // used: last use refreshed
  EXPECT_EQ(s.to("10.0.0.1", 48 * kHour - 2), &a);
  EXPECT_EQ(s.to("10.0.0.1", 72 * kHour - 2), &b);  // 24 h unused: scheduled afresh
}

TEST(LblcTest, FullCheckEvery30MinutesDropsEntriesUnusedFor24Hours) {
  // The timer runs every 60 s; every 30th run is the full check. X is used once at t = 0; Y
  // keeps the clock going every minute. Runs fall at 60 s * k; full checks at 1800 s * j. The
  // one at 86400 s (j = 48) is the first with X 24 h old.
  HashService s(lblc(), abc());
  ASSERT_NE(s.to("10.0.0.1", 0), nullptr);
  for (uint64_t t = kMin; t < 24 * kHour; t += kMin) s.to("10.0.0.2", t);
  EXPECT_EQ(table_of(s).entries(), 2u);
  EXPECT_EQ(table_of(s).cached(ip("10.0.0.1")).size(), 1u);
  s.to("10.0.0.2", 24 * kHour);
  EXPECT_EQ(table_of(s).entries(), 1u);
  EXPECT_TRUE(table_of(s).cached(ip("10.0.0.1")).empty());
}

TEST(LblcTest, MissedTimerRunsAreCaughtUp) {
  // Nothing arrives for 25 hours: the first call afterwards starts the full check IPVS would
  // have run meanwhile (a few calls finish it: 1024 buckets and 100 entries at 128 a call).
  HashService s(lblc(), abc());
  for (uint32_t i = 0; i < 100; ++i) s.to(dst(i), 0);
  EXPECT_EQ(table_of(s).entries(), 100u);
  for (uint64_t k = 0; k < 3; ++k) s.to("10.200.0.1", 25 * kHour + k * kSec);
  EXPECT_EQ(table_of(s).entries(), 1u);
}

TEST(LblcTest, OverMaxSizeIdleEntriesAreCollected) {
  // Above max_size a run drops entries idle for 6 min: (entries - max) * 4 / 3 of them, at most
  // max / 2, finishing the bucket it is in.
  LocalityConfig c;
  c.max_size = 100;
  c.check_interval_ns = 10 * kMin;  // runs at 10, 20, ... min
  c.gc_budget = 100000;             // the whole pass in one call
  HashService s(lblc(c), abc());
  for (uint32_t i = 0; i < 300; ++i) s.to(dst(i), 0);
  for (uint32_t i = 0; i < 200; ++i) s.to(dst(i), 9 * kMin);  // recently used
  ASSERT_EQ(table_of(s).entries(), 300u);
  // Run at 10 min: goal min(200 * 4 / 3, 50) = 50, among the 100 idle ones.
  s.to(dst(0), 10 * kMin);
  const size_t left = table_of(s).entries();
  EXPECT_LE(left, 250u);
  EXPECT_GE(left, 245u);  // a bucket's worth past the goal at most
  for (uint32_t i = 0; i < 200; ++i) {
    EXPECT_EQ(table_of(s).cached(dst(i)).size(), 1u) << "recently used entry " << i;
  }
  // Run at 20 min: everything but dst(0) is idle; another 50 go.
  s.to(dst(0), 20 * kMin);
  EXPECT_LE(table_of(s).entries(), left - 50);
  EXPECT_GE(table_of(s).entries(), left - 55);
  EXPECT_EQ(table_of(s).cached(dst(0)).size(), 1u);
}

TEST(LblcTest, GarbagePassWorkIsBoundedPerCall) {
  LocalityConfig c;
  c.gc_budget = 16;  // entries per call
  HashService s(lblc(c), abc());
  for (uint32_t i = 0; i < 5000; ++i) s.to(dst(i), 0);
  // 25 h later a full check is due; each call looks at 16 entries (or 128 empty buckets).
  s.to("10.200.0.1", 25 * kHour);
  EXPECT_GE(table_of(s).entries(), 5000u - 16u);
  int calls = 1;
  while (table_of(s).entries() > 1 && calls < 1000) {
    s.to("10.200.0.1", 25 * kHour + uint64_t(calls) * kSec);
    ++calls;
  }
  EXPECT_EQ(table_of(s).entries(), 1u);
  EXPECT_GE(calls, 5000 / 16);
  EXPECT_LE(calls, 5000 / 16 + 1024 / 128 + 2);
}

TEST(LblcTest, HardLimitStillSchedules) {
  LocalityConfig c;
  c.hard_limit = 10;
  HashService s(lblc(c), abc());
  for (uint32_t i = 0; i < 20; ++i) EXPECT_NE(s.to(dst(i), 0), nullptr);
  EXPECT_EQ(table_of(s).entries(), 10u);
  EXPECT_TRUE(table_of(s).cached(dst(15)).empty());
  EXPECT_EQ(table_of(s).cached(dst(5)).size(), 1u);
}

TEST(LblcTest, ShortExpirationSysctl) {
  LocalityConfig c;
  c.expiration_ns = 6 * kMin;  // net.ipv4.vs.lblc_expiration = 360
  HashService s(lblc(c), abc());
  Dest& a = s.at(0);
  ASSERT_EQ(s.to("10.0.0.1", 0), &a);
  s.set_active(a, 0, 5);
  EXPECT_EQ(s.to("10.0.0.1", 6 * kMin - 1), &a);
  EXPECT_EQ(s.to("10.0.0.1", 12 * kMin - 1), &s.at(1));
}

TEST(LblcTest, ManyAddressesAndIpv6) {
  // The index grows past its first 1024 buckets one split at a time; every address is found.
  HashService s(lblc(), abc());
  for (uint32_t i = 0; i < 20000; ++i) s.to(dst(i), 0);
  s.to("2001:db8::1", 0);
  EXPECT_EQ(table_of(s).entries(), 20001u);
  for (uint32_t i = 0; i < 20000; i += 97) EXPECT_EQ(table_of(s).cached(dst(i)).size(), 1u) << i;
  EXPECT_EQ(table_of(s).cached(ip("2001:db8::1")).size(), 1u);
  // An IPv6 address folding to the same word as an IPv4 one is still a different key.
  EXPECT_TRUE(table_of(s).cached(ip("::a00:0")).empty());
  s.sched().done_service();
  EXPECT_EQ(table_of(s).entries(), 0u);
}

}  // namespace
}  // namespace lvs::sched
