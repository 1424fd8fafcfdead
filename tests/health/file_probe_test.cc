#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>

#include "health/probe.h"

namespace lvs::health {
namespace {

using namespace std::chrono_literals;

class FileProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("hcore-track." + std::to_string(::getpid())))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void write(const std::string& text) {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
  }
  ctl::CheckerConf conf(int32_t weight, bool reverse = false) {
    ctl::CheckerConf c;
    c.kind = ctl::CheckKind::kFile;
    c.keyword = "FILE_CHECK";
    c.file_path = path_;
    c.track_file = "t";
    c.file_weight = weight;
    c.file_reverse = reverse;
    return c;
  }
  ProbeResult attempt(Probe& probe) {
    std::optional<ProbeResult> r;
    int calls = 0;
    probe.start([&](ProbeResult x) {
      r = std::move(x);
      ++calls;
    });
    EXPECT_EQ(calls, 0);  // not from inside start()
    io_.restart();
    io_.run_for(200ms);
    EXPECT_EQ(calls, 1);
    return r.value_or(ProbeResult{false, "no result", {}, {}});
  }
  ProbeResult attempt(const ctl::CheckerConf& c) {
    auto p = make_file_probe(io_, c);
    return attempt(*p);
  }

  boost::asio::io_context io_;
  std::string path_;
};

TEST_F(FileProbeTest, ValueTimesWeight) {
  write("5\n");
  const ProbeResult r = attempt(conf(2));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 10);
  EXPECT_EQ(r.detail, "value 5 x weight 2 = 10");
}

TEST_F(FileProbeTest, Reverse) {
  write("5");
  const ProbeResult r = attempt(conf(2, true));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, -10);
  EXPECT_EQ(r.detail, "value 5 x weight 2 reversed = -10");
}

TEST_F(FileProbeTest, StrtolBaseZero) {
  write("0x10 trailing words");
  EXPECT_EQ(attempt(conf(1)).weight, 16);
  write("010");
  EXPECT_EQ(attempt(conf(1)).weight, 8);
  write("  -7");
  EXPECT_EQ(attempt(conf(1)).weight, -7);
  write("words");
  EXPECT_EQ(attempt(conf(1)).weight, 0);
}

TEST_F(FileProbeTest, ClampedAndFault) {
  write("200");
  ProbeResult r = attempt(conf(2));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 253);
  EXPECT_EQ(r.detail, "value 200 x weight 2 = 400 (clamped to 253)");
  write("-126");
  r = attempt(conf(2));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, -252);
  write("-127");
  r = attempt(conf(2));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.weight, std::nullopt);
  EXPECT_EQ(r.detail, "value -127 x weight 2 = -254 (fault)");
  write("127");
  r = attempt(conf(2, true));
  EXPECT_FALSE(r.ok);
}

TEST_F(FileProbeTest, WeightZeroIsAState) {
  write("0");
  ProbeResult r = attempt(conf(0));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 0);
  write("3");
  r = attempt(conf(0));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "value 3 (weight 0: nonzero is a fault)");
  r = attempt(conf(0, true));
  EXPECT_TRUE(r.ok);
  write("0");
  r = attempt(conf(0, true));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "value 0 (weight 0 reverse: zero is a fault)");
}

TEST_F(FileProbeTest, MissingFileIsZero) {
  ProbeResult r = attempt(conf(3));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 0);
  EXPECT_EQ(r.detail, path_ + ": No such file or directory: value 0 x weight 3 = 0");
  r = attempt(conf(0, true));  // reversed weight 0: zero (missing) fails
  EXPECT_FALSE(r.ok);
  write("");
  EXPECT_EQ(attempt(conf(3)).weight, 0);
}

TEST_F(FileProbeTest, InvalidNumberKeepsThePreviousValue) {
  auto probe = make_file_probe(io_, conf(1));
  write("4");
  EXPECT_EQ(attempt(*probe).weight, 4);
  write("99999999999");
  const ProbeResult r = attempt(*probe);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.weight, 4);
  EXPECT_EQ(r.detail, "invalid number in " + path_ + " ignored: value 4 x weight 1 = 4");
  write("6");
  EXPECT_EQ(attempt(*probe).weight, 6);
}

TEST_F(FileProbeTest, OnlyTheFirst127BytesCount) {
  write(std::string(127, ' ') + "9");
  EXPECT_EQ(attempt(conf(1)).weight, 0);
  write(std::string(126, ' ') + "9");
  EXPECT_EQ(attempt(conf(1)).weight, 9);
}

TEST_F(FileProbeTest, CancelDropsTheResult) {
  write("1");
  auto probe = make_file_probe(io_, conf(1));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  probe->cancel();
  probe.reset();
  io_.run_for(50ms);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace lvs::health
