// The health loop end to end with FILE_CHECK and MISC_CHECK targets (files the test flips),
// real timers of tens of ms on the monitor's own thread.
#include "health/monitor.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace lvs::health {
namespace {

using namespace std::chrono_literals;

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hcore-monitor." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    monitor_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void write(const std::string& p, const std::string& text) {
    const std::string tmp = p + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, p);
  }
  static std::string read(const std::string& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s, '\0');
    return s;
  }

  void make_monitor() {
    MonitorOptions o;
    o.seed = 1;
    o.bootstrap = 0ms;
    o.notify_timeout = 2000ms;
    monitor_ = std::make_unique<Monitor>(
        [this](const ServerEvent& e) {
          std::lock_guard lock(mu_);
          events_.push_back(e);
          cv_.notify_all();
        },
        o);
  }

  static TargetKey key(uint8_t last) {
    TargetKey k;
    k.service.proto = IPPROTO_TCP;
    k.service.addr = net::IpAddr::v4(0xC6120064);  // 198.18.0.100
    k.service.port = 80;
    k.addr = net::IpAddr::v4(0xC6120100 | last);
    k.port = 80;
    return k;
  }
  ctl::CheckerConf file_check(const std::string& file, int32_t weight = 0) {
    ctl::CheckerConf c;
    c.kind = ctl::CheckKind::kFile;
    c.keyword = "FILE_CHECK";
    c.file_path = file;
    c.track_file = "t";
    c.file_weight = weight;
    c.delay_loop_ms = 20;
    c.delay_before_retry_ms = 10;
    c.retry = 0;
    c.connect_timeout_ms = 100;
    return c;
  }
  ctl::CheckerConf misc_check(const std::string& cmd) {
    ctl::CheckerConf c;
    c.kind = ctl::CheckKind::kMisc;
    c.keyword = "MISC_CHECK";
    c.misc_path = cmd;
    c.misc_timeout_ms = 2000;
    c.delay_loop_ms = 30;
    c.delay_before_retry_ms = 10;
    c.retry = 0;
    return c;
  }
  Target target(uint8_t last, std::vector<ctl::CheckerConf> checkers) {
    Target t;
    t.key = key(last);
    t.name = t.key.to_string();
    t.checkers = std::move(checkers);
    return t;
  }

  // Waits (bounded) for an event matching `pred` after the first `from` events.
  std::optional<ServerEvent> wait_event(const std::function<bool(const ServerEvent&)>& pred,
                                        size_t from = 0, std::chrono::milliseconds limit = 3000ms) {
    std::unique_lock lock(mu_);
    std::optional<ServerEvent> found;
    cv_.wait_for(lock, limit, [&] {
      for (size_t i = from; i < events_.size(); ++i) {
        if (pred(events_[i])) {
          found = events_[i];
          return true;
        }
      }
      return false;
    });
    return found;
  }
  size_t events() {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  static bool wait_until(const std::function<bool()>& cond,
                         std::chrono::milliseconds limit = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }
  const CheckStatus* find(const std::vector<CheckStatus>& all, uint8_t last, uint32_t index) {
    for (const auto& s : all) {
      if (s.key == key(last) && s.index == index) return &s;
    }
    return nullptr;
  }

  std::filesystem::path dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ServerEvent> events_;
  std::unique_ptr<Monitor> monitor_;
};

TEST_F(MonitorTest, TargetKeyNames) {
  EXPECT_EQ(key(10).to_string(), "198.18.1.10:80 of TCP 198.18.0.100:80");
  EXPECT_TRUE(key(1) < key(2));
  EXPECT_FALSE(key(2) < key(2));
  EXPECT_EQ(key(3), key(3));
}

TEST_F(MonitorTest, UpDownUpWithNotifyScripts) {
  make_monitor();
  const std::string f = path("state");
  write(f, "0");
  Target t = target(10, {file_check(f)});
  t.notify_up = "echo up >> " + path("notify");
  t.notify_down = "echo down >> " + path("notify");
  monitor_->update({t});
  monitor_->start();
  ASSERT_TRUE(wait_until([&] {
    auto s = monitor_->status();
    return s.size() == 1 && s[0].attempts >= 2;
  }));
  EXPECT_EQ(events(), 0u);  // alive from the start: nothing to tell
  EXPECT_EQ(monitor_->size(), 1u);

  write(f, "1");
  auto down = wait_event([](const ServerEvent& e) { return !e.alive; });
  ASSERT_TRUE(down);
  EXPECT_EQ(down->key, key(10));
  EXPECT_EQ(down->why, "FILE_CHECK: value 1 (weight 0: nonzero is a fault)");
  EXPECT_EQ(down->weight_delta, 0);
  ASSERT_TRUE(wait_until([&] { return read(path("notify")) == "down\n"; })) << read(path("notify"));

  const size_t n = events();
  write(f, "0");
  auto up = wait_event([](const ServerEvent& e) { return e.alive; }, n);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->why, "FILE_CHECK: value 0");
  ASSERT_TRUE(wait_until([&] { return read(path("notify")) == "down\nup\n"; }))
      << read(path("notify"));

  const auto all = monitor_->status();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].keyword, "FILE_CHECK");
  EXPECT_EQ(all[0].name, "198.18.1.10:80 of TCP 198.18.0.100:80");
  EXPECT_EQ(all[0].index, 0u);
  EXPECT_TRUE(all[0].up);
  EXPECT_EQ(all[0].transitions, 2u);
  EXPECT_GE(all[0].failures, 1u);
  EXPECT_GT(all[0].attempts, all[0].failures);
  EXPECT_GT(all[0].last_change_ms, 0);
  EXPECT_TRUE(all[0].last.ok);
  const auto servers = monitor_->servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_TRUE(servers[0].alive);
}

TEST_F(MonitorTest, RetriesBeforeDown) {
  make_monitor();
  const std::string f = path("state");
  write(f, "0");
  ctl::CheckerConf c = file_check(f);
  c.retry = 2;
  monitor_->update({target(11, {c})});
  monitor_->start();
  ASSERT_TRUE(wait_until(
      [&] { return !monitor_->status().empty() && monitor_->status()[0].attempts >= 1; }));
  write(f, "9");
  auto down = wait_event([](const ServerEvent& e) { return !e.alive; });
  ASSERT_TRUE(down);
  EXPECT_EQ(down->why, "FILE_CHECK: value 9 (weight 0: nonzero is a fault) (after 3 attempts)");
}

TEST_F(MonitorTest, WeightDeltaAndDynamicWeight) {
  make_monitor();
  const std::string f = path("weight");
  write(f, "5");
  ctl::CheckerConf dyn = misc_check("exit 12");
  dyn.misc_dynamic = true;
  monitor_->update({target(12, {file_check(f, 2), dyn})});
  monitor_->start();
  auto e =
      wait_event([](const ServerEvent& x) { return x.weight_delta == 10 && x.dynamic_weight; });
  // The two checkers report separately: wait for the aggregate with both.
  ASSERT_TRUE(e) << "no event with both weights";
  EXPECT_TRUE(e->alive);
  EXPECT_EQ(e->dynamic_weight, 10);
  const size_t n = events();
  write(f, "-3");
  e = wait_event([](const ServerEvent& x) { return x.weight_delta == -6; }, n);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->why, "FILE_CHECK: value -3 x weight 2 = -6");
  EXPECT_EQ(e->dynamic_weight, 10);
}

TEST_F(MonitorTest, AlphaStartsDead) {
  make_monitor();
  const std::string f = path("state");
  write(f, "1");
  ctl::CheckerConf c = file_check(f);
  c.alpha = true;
  monitor_->update({target(13, {c})});
  monitor_->start();
  auto e = wait_event([](const ServerEvent& x) { return !x.alive; });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->why, "FILE_CHECK: alpha: down until a check succeeds");
  const size_t n = events();
  write(f, "0");
  ASSERT_TRUE(wait_event([](const ServerEvent& x) { return x.alive; }, n));
}

TEST_F(MonitorTest, UpdateKeepsUnchangedCheckersAndDropsRemovedOnes) {
  make_monitor();
  const std::string a = path("a"), b = path("b");
  write(a, "0");
  write(b, "0");
  monitor_->update({target(20, {file_check(a), file_check(b)}), target(21, {file_check(b)})});
  monitor_->start();
  ASSERT_TRUE(wait_until([&] {
    auto s = monitor_->status();
    const CheckStatus* x = s.size() == 3 ? find(s, 20, 0) : nullptr;
    return x != nullptr && x->attempts >= 5;
  }));
  EXPECT_EQ(monitor_->size(), 3u);
  // Make checker 0 of target 20 fail once, so its state is visible.
  write(a, "1");
  ASSERT_TRUE(wait_event([](const ServerEvent& e) { return !e.alive; }));
  write(a, "0");
  ASSERT_TRUE(wait_until([&] {
    auto s = monitor_->status();
    const CheckStatus* x = find(s, 20, 0);
    return x != nullptr && x->up;
  }));
  const uint64_t before = find(monitor_->status(), 20, 0)->attempts;

  // Target 20: checker a kept (moved to index 1), checker b changed (new delay_loop) -> new;
  // target 21 removed.
  ctl::CheckerConf changed = file_check(b);
  changed.delay_loop_ms = 25;
  monitor_->update({target(20, {changed, file_check(a)})});
  ASSERT_TRUE(wait_until([&] { return monitor_->size() == 2; }));
  const auto s = monitor_->status();
  ASSERT_EQ(s.size(), 2u);
  const CheckStatus* kept = find(s, 20, 1);
  const CheckStatus* fresh = find(s, 20, 0);
  ASSERT_TRUE(kept && fresh);
  EXPECT_GE(kept->attempts, before);
  EXPECT_EQ(kept->transitions, 2u);
  EXPECT_EQ(fresh->transitions, 0u);
  EXPECT_LT(fresh->attempts, before);
  for (const auto& x : s) EXPECT_FALSE(x.key == key(21));
  EXPECT_EQ(monitor_->servers().size(), 1u);

  monitor_->update({});
  ASSERT_TRUE(wait_until([&] { return monitor_->size() == 0; }));
  EXPECT_TRUE(monitor_->status().empty());
}

TEST_F(MonitorTest, RunScriptAndStop) {
  make_monitor();
  monitor_->start();
  monitor_->run_script("echo quorum > " + path("quorum"), "quorum_up TCP 198.18.0.100:80", 1000ms);
  ASSERT_TRUE(wait_until([&] { return read(path("quorum")) == "quorum\n"; }));
  // A script still running at stop() is killed; stop() returns promptly and is idempotent.
  monitor_->run_script("sleep 30", "long", 60000ms);
  monitor_->update({target(30, {misc_check("sleep 30")})});
  ASSERT_TRUE(wait_until([&] { return monitor_->size() == 1; }));
  std::this_thread::sleep_for(50ms);
  const auto t0 = std::chrono::steady_clock::now();
  monitor_->stop();
  monitor_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(monitor_->size(), 0u);
}

TEST_F(MonitorTest, ManyCheckersOnOneThread) {
  make_monitor();
  const std::string f = path("state");
  write(f, "0");
  std::vector<Target> targets;
  for (int i = 0; i < 2000; ++i) {
    Target t = target(uint8_t(i % 250), {file_check(f)});
    t.key.port = uint16_t(1000 + i);
    t.name = t.key.to_string();
    targets.push_back(std::move(t));
  }
  monitor_->update(std::move(targets));
  monitor_->start();
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = monitor_->status();
        if (s.size() != 2000) return false;
        for (const auto& x : s)
          if (x.attempts < 2) return false;
        return true;
      },
      5000ms));
  write(f, "1");
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu_);
        return events_.size() == 2000;
      },
      5000ms));
}

}  // namespace
}  // namespace lvs::health
