// The hash and locality schedulers in the registry, and properties all six share: flags reach
// them, and under any sequence of service changes they return only servers of the service
// (removed servers are freed at once, so a stale pointer is a use-after-free under ASan).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sched/flags.h"
#include "sched/hash_test_util.h"
#include "sched/locality.h"
#include "sched/registry.h"

namespace lvs::sched {
namespace {

using testing::HashService;

constexpr const char* kNames[] = {"lblc", "lblcr", "dh", "sh", "mh", "twos"};

TEST(HashRegistryTest, AllSixRegistered) {
  std::set<std::string> hash;
  for (const SchedInfo& s : hash_schedulers()) hash.insert(std::string(s.name));
  EXPECT_EQ(hash, (std::set<std::string>{"lblc", "lblcr", "dh", "sh", "mh", "twos"}));
  for (const char* name : kNames) {
    const SchedInfo* info = find_scheduler(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_FALSE(info->description.empty()) << name;
    auto s = make_scheduler(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->name(), name);
    EXPECT_NE(scheduler_names().find(name), std::string::npos) << name;
  }
  EXPECT_EQ(find_scheduler("sh")->description, "source hashing");
  EXPECT_EQ(find_scheduler("mh")->description, "maglev hashing");
}

TEST(HashRegistryTest, FlagsReachTheScheduler) {
  // 198.51.100.7 hashes to bucket 171, and to 9 with source port 12345 (sh_test.cc).
  for (uint32_t flags : {0u, kShPort}) {
    HashService s(make_scheduler("sh", SchedParams{flags, nullptr}),
                  testing::numbered_servers(256));
    EXPECT_EQ(s.index(s.from("198.51.100.7", 12345)), flags ? 9 : 171);
  }
  HashService f(make_scheduler("sh", SchedParams{kShFallback, nullptr}),
                testing::numbered_servers(256));
  f.set_overloaded(f.at(171), true);
  EXPECT_EQ(f.index(f.from("198.51.100.7")), (2 * 171) & 255);  // first fallback probe
}

TEST(HashRegistryTest, ChurnNeverReturnsAServerOutsideTheService) {
  for (const char* name : kNames) {
    for (uint32_t flags : {0u, kSchedFlag1 | kSchedFlag2}) {
      testing::SeededRandom rng(17);
      testing::SeededRandom sched_rng(5);
      HashService s(make_scheduler(name, SchedParams{flags, &sched_rng}),
                    testing::numbered_servers(5));
      int next_server = 100;
      uint64_t now = 0;
      for (int step = 0; step < 4000; ++step) {
        now += (rng.next() % 3) * 20 * kNsPerSec;
        const uint64_t op = rng.next() % 10;
        if (op == 0 && s.size() > 0) {
          s.del(s.at(rng.next() % s.size()));
        } else if (op == 1 && s.size() < 12) {
          // Sometimes a server that left before (same address and port) comes back.
          const int id = (rng.next() % 2) ? next_server++ : int(rng.next() % 8);
          s.add("198.19." + std::to_string(id / 250) + "." + std::to_string(id % 250 + 1), 80,
                int32_t(rng.next() % 4));
        } else if (op == 2 && s.size() > 0) {
          s.set_weight(s.at(rng.next() % s.size()), int32_t(rng.next() % 4));
        } else if (op == 3 && s.size() > 0) {
          s.set_overloaded(s.at(rng.next() % s.size()), rng.next() % 2);
        } else if (op == 4 && s.size() > 0) {
          s.set_active(s.at(rng.next() % s.size()), uint32_t(rng.next() % 6),
                       uint32_t(rng.next() % 20));
        } else {
          const net::IpAddr a = net::IpAddr::v4(0x0a000000u + uint32_t(rng.next() % 64));
          const Dest* d = (rng.next() % 2) ? s.from(a, uint16_t(rng.next())) : s.to(a, now);
          if (d != nullptr) {
            ASSERT_GE(s.index(d), 0) << name << " step " << step;
            EXPECT_GT(d->weight, 0) << name << " step " << step;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace lvs::sched
