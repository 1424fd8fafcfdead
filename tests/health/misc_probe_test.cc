#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "health/probe.h"

namespace lvs::health {
namespace {

using namespace std::chrono_literals;

ctl::CheckerConf misc(std::string path, bool dynamic = false, uint64_t timeout_ms = 3000) {
  ctl::CheckerConf c;
  c.kind = ctl::CheckKind::kMisc;
  c.keyword = "MISC_CHECK";
  c.misc_path = std::move(path);
  c.misc_dynamic = dynamic;
  c.misc_timeout_ms = timeout_ms;
  c.delay_loop_ms = 60000;
  return c;
}

ProbeResult attempt(const ctl::CheckerConf& conf) {
  boost::asio::io_context io;
  auto probe = make_misc_probe(io, conf);
  std::optional<ProbeResult> result;
  int calls = 0;
  probe->start([&](ProbeResult r) {
    result = std::move(r);
    ++calls;
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!result && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  io.poll();
  EXPECT_EQ(calls, 1);
  return result.value_or(ProbeResult{false, "no result", {}, {}});
}

TEST(MiscProbe, ExitZeroPasses) {
  const ProbeResult r = attempt(misc("echo all good; exit 0"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "exit status 0: all good");
  EXPECT_EQ(r.weight, std::nullopt);
  EXPECT_GT(r.latency.count(), 0);
}

TEST(MiscProbe, ExitOneFailsWithTheFirstLine) {
  const ProbeResult r = attempt(misc("echo backend down; echo more; exit 1"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exited with status 1: backend down");
}

TEST(MiscProbe, OtherStatusFailsWithoutDynamic) {
  const ProbeResult r = attempt(misc("exit 7"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exited with status 7");
  EXPECT_EQ(r.weight, std::nullopt);
}

TEST(MiscProbe, DynamicStatusSetsWeight) {
  ProbeResult r = attempt(misc("exit 7", true));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 5);
  EXPECT_EQ(r.detail, "exit status 7: weight 5");
  r = attempt(misc("exit 2", true));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 0);
  r = attempt(misc("exit 255", true));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 253);
  r = attempt(misc("exit 0", true));  // the configured weight again
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, std::nullopt);
  r = attempt(misc("exit 1", true));  // 1 is a failure also with misc_dynamic
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.weight, std::nullopt);
}

TEST(MiscProbe, TimeoutFails) {
  const auto t0 = std::chrono::steady_clock::now();
  const ProbeResult r = attempt(misc("echo started; sleep 10", false, 150));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("timed out after ", 0), 0u) << r.detail;
  EXPECT_NE(r.detail.find("ms: started"), std::string::npos) << r.detail;
}

TEST(MiscProbe, NoTimeoutMeansDelayLoop) {
  ctl::CheckerConf c = misc("sleep 10", false, 0);
  c.delay_loop_ms = 150;  // keepalived: misc_timeout unset -> delay_loop
  const auto t0 = std::chrono::steady_clock::now();
  const ProbeResult r = attempt(c);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("timed out after ", 0), 0u) << r.detail;
}

TEST(MiscProbe, SignalFails) {
  const ProbeResult r = attempt(misc("kill -KILL $$"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "killed by signal 9 (Killed)");
}

TEST(MiscProbe, RunsAsUser) {
  ctl::CheckerConf c = misc("test \"$(id -u)\" = 65534");
  c.user = "nobody";
  EXPECT_TRUE(attempt(c).ok);
  c.user = "no-such-user-hcore";
  const ProbeResult r = attempt(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "user no-such-user-hcore: unknown");
}

TEST(MiscProbe, CancelEndsTheAttemptWithoutDone) {
  boost::asio::io_context io;
  auto probe = make_misc_probe(io, misc("sleep 10"));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  io.run_for(30ms);
  probe->cancel();
  probe.reset();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!io.stopped() && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  EXPECT_TRUE(io.stopped());
  EXPECT_EQ(calls, 0);
}

TEST(MiscProbe, ReusedForSeveralAttempts) {
  boost::asio::io_context io;
  auto probe = make_misc_probe(io, misc("exit 0"));
  for (int i = 0; i < 3; ++i) {
    std::optional<ProbeResult> r;
    probe->start([&](ProbeResult x) { r = std::move(x); });
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!r && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok);
  }
}

}  // namespace
}  // namespace lvs::health
