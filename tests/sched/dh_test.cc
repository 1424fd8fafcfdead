// Destination hashing as IPVS ip_vs_dh.c. Expected buckets are hash_32(ntohl(daddr), 8), worked
// out by hand for 192.168.1.1 (see siphash_test.cc) and by tests/sched/ipvs_hash_reference.py for
// the rest; bucket i holds server i mod n of the list.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sched/factories_hash.h"
#include "sched/hash_test_util.h"

namespace lvs::sched {
namespace {

using testing::HashService;
using testing::numbered_servers;

std::unique_ptr<Scheduler> dh() { return make_dh(SchedParams{}); }

struct BucketCase {
  const char* daddr;
  int bucket;
};

constexpr BucketCase kBuckets[] = {
    {"192.168.1.1", 136}, {"10.0.0.1", 39}, {"10.0.0.2", 137},
    {"198.18.0.1", 188},  {"0.0.0.0", 0},   {"2001:db8::1", 63},  // IPv6: folded words
};

TEST(DhTest, AddressPicksTheKernelsBucket) {
  // 256 servers: bucket i holds server i, so the pick names the bucket.
  HashService s(dh(), numbered_servers(256));
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.to(c.daddr)), c.bucket) << c.daddr;
}

TEST(DhTest, BucketsDealtRoundRobinInListOrder) {
  HashService s(dh(), numbered_servers(3));
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.to(c.daddr)), c.bucket % 3) << c.daddr;
}

TEST(DhTest, WeightsDoNotShapeTheTable) {
  // dh ignores weights for assignment (only weight <= 0 blocks a server) and has no upd_dest:
  // a weight change moves nothing.
  HashService s(dh(), {{"198.18.0.1", 80, 1}, {"198.18.0.2", 80, 100}});
  std::map<std::string, int> before;
  for (const BucketCase& c : kBuckets) before[c.daddr] = s.index(s.to(c.daddr));
  s.set_weight(s.at(0), 50);
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.to(c.daddr)), before[c.daddr]);
}

TEST(DhTest, UnavailableServerMeansNoServer) {
  HashService s(dh(), numbered_servers(3));
  Dest& b = s.at(1);  // 192.168.1.1 -> bucket 136 -> server 1
  ASSERT_EQ(s.to("192.168.1.1"), &b);
  s.set_weight(b, 0);
  EXPECT_EQ(s.to("192.168.1.1"), nullptr);  // no fallback in dh
  s.set_weight(b, 1);
  s.set_overloaded(b, true);
  EXPECT_EQ(s.to("192.168.1.1"), nullptr);
  // Other addresses do not move.
  EXPECT_EQ(s.index(s.to("10.0.0.1")), 0);
  EXPECT_EQ(s.index(s.to("10.0.0.2")), 2);
  s.set_overloaded(b, false);
  EXPECT_EQ(s.to("192.168.1.1"), &b);
}

TEST(DhTest, ServiceChangesRedealTheBuckets) {
  // IPVS refills all 256 buckets round robin on add and delete: dh is not a consistent hash.
  HashService s(dh(), numbered_servers(3));
  Dest& d = s.add("198.18.9.9", 80, 1);  // at the head: buckets now [D, 0, 1, 2] repeating
  ASSERT_EQ(s.index(&d), 0);
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.to(c.daddr)), c.bucket % 4) << c.daddr;
  s.del(d);
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.to(c.daddr)), c.bucket % 3) << c.daddr;
}

TEST(DhTest, RemovedServerIsNeverReturned) {
  HashService s(dh(), numbered_servers(2));
  Dest* first = &s.at(0);
  s.del(*first);  // freed: a stale bucket would be a use-after-free under ASan
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.to(c.daddr)), 0) << c.daddr;
  s.del(s.at(0));
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.to(c.daddr), nullptr) << c.daddr;
}

TEST(DhTest, BindToExistingList) {
  // A scheduler switched in on a populated service fills its table in init_service.
  HashService s(dh(), numbered_servers(3));
  auto other = dh();
  other->init_service(s.list());
  const net::IpAddr saddr = testing::ip("198.18.254.1");
  for (const BucketCase& c : kBuckets) {
    const net::IpAddr daddr = testing::ip(c.daddr);
    EXPECT_EQ(s.index(other->schedule(s.list(), SchedPacket{&saddr, &daddr, 1, 80, 6, 0})),
              c.bucket % 3);
  }
  other->done_service();
  const net::IpAddr daddr = testing::ip("10.0.0.1");
  EXPECT_EQ(other->schedule(s.list(), SchedPacket{&saddr, &daddr, 1, 80, 6, 0}), nullptr);
}

TEST(DhTest, EmptyServiceAndMissingAddress) {
  HashService s(dh());
  EXPECT_EQ(s.to("10.0.0.1"), nullptr);
  HashService t(dh(), numbered_servers(3));
  // No destination address hashes as 0.0.0.0: bucket 0.
  EXPECT_EQ(t.index(t.schedule(SchedPacket{})), 0);
}

}  // namespace
}  // namespace lvs::sched
