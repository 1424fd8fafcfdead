// Source hashing as IPVS ip_vs_sh.c. Buckets are (offset + hash_32(sport + ntohl(saddr), 8)) & 255
// (192.168.1.1 and port 12345 worked by hand in siphash_test.cc, the rest from
// tests/sched/ipvs_hash_reference.py); the table deals `weight` consecutive buckets per server.
#include <gtest/gtest.h>

#include <map>

#include "sched/factories_hash.h"
#include "sched/flags.h"
#include "sched/hash_test_util.h"
#include "sched/ipvs_hash.h"

namespace lvs::sched {
namespace {

using testing::HashService;
using testing::numbered_servers;

std::unique_ptr<Scheduler> sh(uint32_t flags = 0) { return make_sh(SchedParams{flags, nullptr}); }

struct BucketCase {
  const char* saddr;
  int bucket;       // port 0
  int port_bucket;  // sport 12345 with sh-port
};

constexpr BucketCase kBuckets[] = {
    {"192.168.1.1", 136, 231},
    {"198.18.0.1", 188, 27},
    {"198.51.100.7", 171, 9},
    {"2001:db8::1", 63, 157},
};

TEST(ShTest, AddressPicksTheKernelsBucket) {
  HashService s(sh(), numbered_servers(256));  // bucket i holds server i
  for (const BucketCase& c : kBuckets) {
    EXPECT_EQ(s.index(s.from(c.saddr)), c.bucket) << c.saddr;
    // Without sh-port the source port does not count.
    EXPECT_EQ(s.index(s.from(c.saddr, 12345)), c.bucket) << c.saddr;
  }
}

TEST(ShTest, PortFlagHashesTheSourcePort) {
  HashService s(sh(kShPort), numbered_servers(256));
  for (const BucketCase& c : kBuckets) {
    EXPECT_EQ(s.index(s.from(c.saddr, 12345, 6)), c.port_bucket) << c.saddr;
    EXPECT_EQ(s.index(s.from(c.saddr, 12345, 17)), c.port_bucket) << c.saddr;
    EXPECT_EQ(s.index(s.from(c.saddr, 12345, 132)), c.port_bucket) << c.saddr;
    // Protocols without ports hash port 0.
    EXPECT_EQ(s.index(s.from(c.saddr, 12345, 1)), c.bucket) << c.saddr;
    EXPECT_EQ(s.index(s.from(c.saddr, 0, 6)), c.bucket) << c.saddr;
  }
}

// Buckets per server: the 2^16 sources 10.0.x.y (port 0) reach every bucket, whose number is
// hash_32(source, 8); the server each bucket gives is counted once.
std::map<int, int> shares(HashService& s) {
  std::map<int, int> per_bucket_server;
  std::map<int, int> counts;
  for (uint32_t i = 0; i < 65536; ++i) {
    const net::IpAddr a = net::IpAddr::v4(0x0a000000u | i);
    const int bucket = int(hash_32(0x0a000000u | i, 8));
    per_bucket_server[bucket] = s.index(s.from(a));
  }
  for (const auto& [bucket, server] : per_bucket_server) ++counts[server];
  return counts;
}

TEST(ShTest, WeightsGiveProportionalBucketShares) {
  // Weights 3, 1, 2: buckets A A A B C C repeating; 256 = 42 * 6 + 4, so A gets 42 * 3 + 3,
  // B 42 + 1, C 42 * 2.
  HashService s(sh(), {{"198.18.0.1", 80, 3}, {"198.18.0.2", 80, 1}, {"198.18.0.3", 80, 2}});
  auto c = shares(s);
  EXPECT_EQ(c[0], 129);
  EXPECT_EQ(c[1], 43);
  EXPECT_EQ(c[2], 84);
  // A weight change refills the table.
  s.set_weight(s.at(1), 3);  // A A A B B B C C: 256 = 32 * 8
  c = shares(s);
  EXPECT_EQ(c[0], 96);
  EXPECT_EQ(c[1], 96);
  EXPECT_EQ(c[2], 64);
}

TEST(ShTest, WeightZeroTakesOneBucketPerRound) {
  // ++count >= 0 moves on after one bucket: A A B repeating for weights 2, 0; 256 = 85 * 3 + 1.
  HashService s(sh(), {{"198.18.0.1", 80, 2}, {"198.18.0.2", 80, 0}});
  std::map<int, int> buckets;
  for (uint32_t i = 0; i < 65536; ++i) {
    const int bucket = int(hash_32(0x0a000000u | i, 8));
    buckets[bucket] = s.index(s.from(net::IpAddr::v4(0x0a000000u | i)));
  }
  int a = 0, none = 0;
  for (const auto& [bucket, server] : buckets) {
    if (server == 0) ++a;
    if (server == -1) ++none;  // server B's buckets: weight 0, no server
  }
  EXPECT_EQ(a, 85 * 2 + 1);
  EXPECT_EQ(none, 85);
}

TEST(ShTest, UnavailableWithoutFallbackMeansNoServer) {
  HashService s(sh(), numbered_servers(256));
  s.set_overloaded(s.at(136), true);
  EXPECT_EQ(s.from("192.168.1.1"), nullptr);
  s.set_overloaded(s.at(136), false);
  s.set_weight(s.at(136), 0);
  EXPECT_EQ(s.from("192.168.1.1"), nullptr);
}

TEST(ShTest, FallbackProbesFromTwiceTheHash) {
  // ip_vs_sh_get_fallback: probe k reads bucket hashkey(roffset = (k + ihash) % 256), which adds
  // the hash again: (k + 2 * ihash) & 255. For 192.168.1.1 (ihash 136): 16, 17, 18, ...
  HashService s(sh(kShFallback), numbered_servers(256));
  s.set_overloaded(s.at(136), true);
  EXPECT_EQ(s.index(s.from("192.168.1.1")), 16);
  s.set_weight(s.at(16), 0);
  EXPECT_EQ(s.index(s.from("192.168.1.1")), 17);
  s.set_overloaded(s.at(17), true);
  EXPECT_EQ(s.index(s.from("192.168.1.1")), 18);
  // The chosen server itself comes back first once it is available again.
  s.set_overloaded(s.at(136), false);
  EXPECT_EQ(s.index(s.from("192.168.1.1")), 136);
}

TEST(ShTest, FallbackWithPort) {
  // sh-port and sh-fallback together: 192.168.1.1:12345 hashes to 231, probes start at
  // (2 * 231) & 255 = 206.
  HashService s(sh(kShFallback | kShPort), numbered_servers(256));
  EXPECT_EQ(s.index(s.from("192.168.1.1", 12345)), 231);
  s.set_overloaded(s.at(231), true);
  EXPECT_EQ(s.index(s.from("192.168.1.1", 12345)), 206);
}

TEST(ShTest, FallbackWithNothingAvailable) {
  HashService s(sh(kShFallback), numbered_servers(3));
  for (size_t i = 0; i < 3; ++i) s.set_overloaded(s.at(i), true);
  EXPECT_EQ(s.from("192.168.1.1"), nullptr);
  s.set_overloaded(s.at(2), false);
  EXPECT_EQ(s.index(s.from("192.168.1.1")), 2);
}

TEST(ShTest, FallbackMovesOnlyTheUnavailableServersFlows) {
  HashService s(sh(kShFallback), numbered_servers(10));
  const auto clients = testing::random_clients(20000, 7);
  std::vector<int> before;
  for (const auto& c : clients) before.push_back(s.index(s.from(c)));
  Dest& gone = s.at(4);
  s.set_weight(gone, 0);  // quiesced: the table is refilled, but with the same deal
  size_t moved = 0, of_server = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    const int now = s.index(s.from(clients[i]));
    EXPECT_NE(now, 4);
    if (before[i] == 4) {
      ++of_server;
    } else if (now != before[i]) {
      ++moved;
    }
  }
  EXPECT_EQ(moved, 0u);
  EXPECT_GT(of_server, 0u);
}

TEST(ShTest, AddingAServerRedealsTheTable) {
  // As in IPVS, sh is not a consistent hash: a new server at the head shifts every bucket.
  HashService s(sh(), numbered_servers(255));
  Dest& d = s.add("198.18.9.9", 80, 1);  // 256 servers now, the new one at index 0
  ASSERT_EQ(s.index(&d), 0);
  for (const BucketCase& c : kBuckets) EXPECT_EQ(s.index(s.from(c.saddr)), c.bucket) << c.saddr;
}

TEST(ShTest, RemovedServerIsNeverReturned) {
  HashService s(sh(kShFallback), numbered_servers(3));
  s.del(s.at(1));
  const auto clients = testing::random_clients(2000, 3);
  for (const auto& c : clients) EXPECT_GE(s.index(s.from(c)), 0);
  s.del(s.at(0));
  s.del(s.at(0));
  EXPECT_EQ(s.from("192.168.1.1"), nullptr);
}

}  // namespace
}  // namespace lvs::sched
