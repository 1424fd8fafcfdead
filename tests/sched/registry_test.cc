#include "sched/registry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sched/sched_test_util.h"

namespace lvs::sched {
namespace {

TEST(RegistryTest, KnownNames) {
  for (const char* name : {"rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "lblc", "lblcr",
                           "dh", "sh", "mh", "twos"}) {
    const SchedInfo* info = find_scheduler(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->name, name);
    EXPECT_FALSE(info->description.empty()) << name;
    auto s = make_scheduler(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->name(), name);
    auto t = info->make(SchedParams{});
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->name(), name);
  }
  EXPECT_EQ(find_scheduler("rr")->description, "round robin");
  EXPECT_EQ(find_scheduler("wrr")->description, "weighted round robin");
  EXPECT_EQ(find_scheduler("wlc")->description, "weighted least-connection");
}

TEST(RegistryTest, UnknownNames) {
  // Names are matched exactly, as the kernel's scheduler lookup (strcmp) does.
  for (const char* name : {"", "RR", "rr ", " rr", "r", "rrr", "lcx", "wlcx", "sh1", "MH"}) {
    EXPECT_EQ(find_scheduler(name), nullptr) << '"' << name << '"';
    EXPECT_EQ(make_scheduler(name), nullptr) << '"' << name << '"';
  }
}

TEST(RegistryTest, Listing) {
  // Every IPVS scheduler of today's kernel, once each.
  EXPECT_EQ(scheduler_names(), "rr, wrr, lc, wlc, sed, nq, fo, ovf, lblc, lblcr, dh, sh, mh, twos");
  std::set<std::string> names;
  for (const SchedInfo& s : all_schedulers()) names.insert(std::string(s.name));
  EXPECT_EQ(names.size(), 14u);
  EXPECT_EQ(all_schedulers().size(), 14u);
}

TEST(RegistryTest, EachMakeIsAFreshInstance) {
  // Per-service state: two services with rr each keep their own cursor.
  testing::TestService a("rr", {{'A', 1}, {'B', 1}});
  testing::TestService b("rr", {{'A', 1}, {'B', 1}});
  EXPECT_EQ(a.picks(3), "ABA");
  EXPECT_EQ(b.picks(1), "A");
  auto x = make_scheduler("wrr");
  auto y = make_scheduler("wrr");
  EXPECT_NE(x.get(), y.get());
}

}  // namespace
}  // namespace lvs::sched
