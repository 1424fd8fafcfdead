// Locality-based least-connection with replication as IPVS ip_vs_lblcr.c, with time driven
// through now_ns. cached() lists a set newest member first, as IPVS's list runs.
#include <gtest/gtest.h>

#include "sched/factories_hash.h"
#include "sched/hash_test_util.h"
#include "sched/locality.h"

namespace lvs::sched {
namespace {

using testing::HashService;
using testing::ip;
using Set = std::vector<const Dest*>;

constexpr uint64_t kSec = kNsPerSec;
constexpr uint64_t kMin = 60 * kSec;
constexpr uint64_t kHour = 60 * kMin;

std::unique_ptr<Scheduler> lblcr(const LocalityConfig& c = {}) {
  return make_lblcr_with(SchedParams{}, c);
}
LocalityScheduler& table_of(HashService& s) { return static_cast<LocalityScheduler&>(s.sched()); }
Set set_of(HashService& s, const char* daddr) { return table_of(s).cached(ip(daddr)); }

// A (weight 1) and B (weight 4).
std::vector<testing::ServerSpec> ab() { return {{"198.18.0.1", 80, 1}, {"198.18.0.2", 80, 4}}; }

// X's set grown to {B, A}: A picked first, then overloaded by the locality rule.
void grow(HashService& s, uint64_t now) {
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  ASSERT_EQ(s.to("10.0.0.1", now), &a);
  s.set_active(a, 2);  // 2 > weight 1, and B has 1 * 2 < 4: A is overloaded
  s.set_active(b, 1);
  ASSERT_EQ(s.to("10.0.0.1", now), &b);
  ASSERT_EQ(set_of(s, "10.0.0.1"), (Set{&b, &a}));
}

TEST(LblcrTest, NewAddressGetsTheLeastConnectionServer) {
  HashService s(lblcr(), ab());
  Dest& a = s.at(0);
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&a}));
  s.set_active(a, 1);  // 1 > 1 is false: not overloaded, stays
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&a}));
  EXPECT_EQ(s.to("10.0.0.2"), &s.at(1));  // least connection: B (256 / 4 < 256 / 1)
}

TEST(LblcrTest, SetGrowsUnderLoadAndPicksItsLeastLoadedMember) {
  HashService s(lblcr(), ab());
  grow(s, 0);
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  // Member loads: A 512 / 1, B 256 / 4: B.
  EXPECT_EQ(s.to("10.0.0.1"), &b);
  s.set_active(b, 9);  // B 2304 / 4 = 576 > A 512: A is the least loaded member
  s.set_active(a, 1);  // and not overloaded (1 > 1 is false)
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b, &a}));
  EXPECT_EQ(table_of(s).entries(), 1u);
}

TEST(LblcrTest, SetMinSkipsFlaggedQuiescedAndRemovedMembers) {
  HashService s(lblcr(), ab());
  grow(s, 0);
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  s.set_active(a, 0);
  s.set_active(b, 0);
  s.set_overloaded(b, true);  // upper threshold: set_min skips it
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  s.set_overloaded(b, false);
  s.set_weight(b, 0);
  EXPECT_EQ(s.to("10.0.0.1"), &a);
  s.set_weight(b, 4);
  s.del(a);  // freed; still a member, never returned
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b, nullptr}));
  EXPECT_EQ(s.to("10.0.0.1"), &b);
}

TEST(LblcrTest, NoUsableMemberAddsTheLeastConnectionServer) {
  HashService s(lblcr(), {{"198.18.0.1", 80, 1}, {"198.18.0.2", 80, 1}, {"198.18.0.3", 80, 1}});
  Dest& a = s.at(0);
  ASSERT_EQ(s.to("10.0.0.1"), &a);
  s.del(a);
  Dest& b = s.at(0);
  Dest& c = s.at(1);
  s.set_active(b, 0, 10);
  EXPECT_EQ(s.to("10.0.0.1"), &c);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&c, nullptr}));
  // The same member is not added twice.
  s.set_weight(c, 0);
  s.set_active(b, 0, 0);
  EXPECT_EQ(s.to("10.0.0.1"), &b);
  s.set_weight(c, 1);
  s.set_weight(b, 0);
  EXPECT_EQ(s.to("10.0.0.1"), &c);
  s.set_weight(b, 1);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b, &c, nullptr}));
}

TEST(LblcrTest, BusiestMemberDroppedAfterExpirationWithoutChange) {
  // The set last changed at t0 (B added). Lookups every hour keep the entry alive; the first
  // lookup strictly after t0 + 24 h drops the member with the largest overhead / weight (A).
  HashService s(lblcr(), ab());
  const uint64_t t0 = 5 * kMin;
  grow(s, t0);
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  for (uint64_t t = t0 + kHour; t <= t0 + 24 * kHour; t += kHour) {
    EXPECT_EQ(s.to("10.0.0.1", t), &b);
    EXPECT_EQ(set_of(s, "10.0.0.1").size(), 2u) << (t - t0) / kHour << " h";
  }
  EXPECT_EQ(s.to("10.0.0.1", t0 + 24 * kHour + 1), &b);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b}));
  // One member left: nothing more to drop.
  EXPECT_EQ(s.to("10.0.0.1", t0 + 49 * kHour), &b);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b}));
  (void)a;
}

TEST(LblcrTest, DroppedMemberCanStillBeTheAnswer) {
  // IPVS picks the least loaded member before dropping the busiest; with B quiesced the pick is
  // A, the busiest by weighted load among members with a weight (B has none), and A is both
  // returned and dropped.
  HashService s(lblcr(), ab());
  grow(s, 0);
  Dest& a = s.at(0);
  Dest& b = s.at(1);
  ASSERT_EQ(s.to("10.0.0.1", 12 * kHour), &b);  // used: the entry does not expire
  s.set_active(a, 1);
  s.set_weight(b, 0);
  EXPECT_EQ(s.to("10.0.0.1", 24 * kHour + 1), &a);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b}));
}

TEST(LblcrTest, RemovedMemberCountsForTheDropWithItsLastLoad) {
  HashService s(lblcr(), ab());
  grow(s, 0);
  Dest& b = s.at(1);
  s.del(s.at(0));                               // A leaves with 2 active connections, weight 1
  ASSERT_EQ(s.to("10.0.0.1", 12 * kHour), &b);  // used: the entry does not expire
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b, nullptr}));
  // A (512 / 1, frozen at removal) is busier than B (256 / 4).
  EXPECT_EQ(s.to("10.0.0.1", 24 * kHour + 1), &b);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b}));
}

TEST(LblcrTest, RemovedMemberWithLessLoadStays) {
  HashService s(lblcr(), ab());
  grow(s, 0);
  Dest& b = s.at(1);
  s.set_active(s.at(0), 0);  // A leaves idle
  s.del(s.at(0));
  s.set_active(b, 8);  // B: 2048 / 4 = 512 > A's 0
  ASSERT_EQ(s.to("10.0.0.1", 12 * kHour), &b);
  EXPECT_EQ(s.to("10.0.0.1", 24 * kHour + 1), &b);  // B answers (picked first), then is dropped
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{nullptr}));
}

TEST(LblcrTest, RejoiningServerIsAMemberAgain) {
  HashService s(lblcr(), ab());
  grow(s, 0);
  Dest& b = s.at(1);
  s.del(s.at(0));
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b, nullptr}));
  Dest& a = s.add("198.18.0.1", 80, 1);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b, &a}));
  s.set_active(b, 40);
  EXPECT_EQ(s.to("10.0.0.1"), &a);
}

TEST(LblcrTest, ShortExpirationSysctl) {
  // net.ipv4.vs.lblcr_expiration = 360: sets shrink, and entries expire, after 6 minutes.
  LocalityConfig c;
  c.expiration_ns = 6 * kMin;
  HashService s(lblcr(c), ab());
  grow(s, 0);
  Dest& b = s.at(1);
  EXPECT_EQ(s.to("10.0.0.1", 5 * kMin), &b);
  EXPECT_EQ(set_of(s, "10.0.0.1").size(), 2u);
  EXPECT_EQ(s.to("10.0.0.1", 6 * kMin + 1), &b);
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&b}));
  // Unused for 6 minutes: forgotten, the next connection starts a new set.
  s.set_active(b, 3);
  s.set_active(s.at(0), 0);
  EXPECT_EQ(s.to("10.0.0.1", 12 * kMin + 1), &s.at(0));
  EXPECT_EQ(set_of(s, "10.0.0.1"), (Set{&s.at(0)}));
}

TEST(LblcrTest, GarbageCollectionAsLblc) {
  HashService s(lblcr(), ab());
  for (uint32_t i = 0; i < 50; ++i) s.to(net::IpAddr::v4(0x0a000000u + i), 0);
  EXPECT_EQ(table_of(s).entries(), 50u);
  for (uint64_t k = 0; k < 3; ++k) s.to("10.200.0.1", 25 * kHour + k * kSec);
  EXPECT_EQ(table_of(s).entries(), 1u);
}

TEST(LblcrTest, NoServer) {
  HashService s(lblcr(), {{"198.18.0.1", 80, 0}});
  EXPECT_EQ(s.to("10.0.0.1"), nullptr);
  EXPECT_EQ(table_of(s).entries(), 0u);
}

}  // namespace
}  // namespace lvs::sched
