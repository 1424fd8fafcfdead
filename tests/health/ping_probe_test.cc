// PING_CHECK against loopback. Not covered here: a failing ping by timeout (loopback always
// answers, and no other address may be used) and the SOCK_DGRAM fallback (the tests run as root,
// where raw sockets work; ping sockets are disabled by ping_group_range on this host).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "health/probe.h"

namespace lvs::health {
namespace {

using namespace std::chrono_literals;

ctl::CheckerConf ping_conf(const char* addr) {
  ctl::CheckerConf c;
  c.kind = ctl::CheckKind::kPing;
  c.keyword = "PING_CHECK";
  c.connect_ip = *net::IpAddr::parse(addr);
  c.connect_timeout_ms = 1000;
  return c;
}

ProbeResult attempt(boost::asio::io_context& io, Probe& probe) {
  std::optional<ProbeResult> result;
  int calls = 0;
  probe.start([&](ProbeResult r) {
    result = std::move(r);
    ++calls;
  });
  EXPECT_EQ(calls, 0);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!result && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  io.poll();
  EXPECT_EQ(calls, 1);
  return result.value_or(ProbeResult{false, "no result", {}, {}});
}

TEST(PingProbe, Loopback4) {
  boost::asio::io_context io;
  auto probe = make_ping_probe(io, ping_conf("127.0.0.1"));
  ProbeResult r = attempt(io, *probe);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "echo reply from 127.0.0.1 seq 1");
  EXPECT_GT(r.latency.count(), 0);
  EXPECT_LT(r.latency, std::chrono::milliseconds(1000));
  r = attempt(io, *probe);  // reused: the next sequence number
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "echo reply from 127.0.0.1 seq 2");
}

TEST(PingProbe, Loopback6) {
  boost::asio::io_context io;
  auto probe = make_ping_probe(io, ping_conf("::1"));
  const ProbeResult r = attempt(io, *probe);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "echo reply from ::1 seq 1");
}

TEST(PingProbe, ConcurrentProbesTakeOnlyTheirOwnReplies) {
  // Raw sockets see every echo reply; each probe must wait for its own (id + sequence).
  boost::asio::io_context io;
  std::vector<std::unique_ptr<Probe>> probes;
  std::vector<std::optional<ProbeResult>> results(8);
  int calls = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    probes.push_back(make_ping_probe(io, ping_conf(i % 2 ? "::1" : "127.0.0.1")));
    probes.back()->start([&, i](ProbeResult r) {
      results[i] = std::move(r);
      ++calls;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (calls < int(results.size()) && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(50ms);
  }
  io.poll();
  EXPECT_EQ(calls, int(results.size()));
  for (auto& r : results) {
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok) << r->detail;
  }
}

TEST(PingProbe, SocketOptionFailureIsReported) {
  boost::asio::io_context io;
  ctl::CheckerConf c = ping_conf("127.0.0.1");
  c.bind_if = "nosuchdev0";
  auto probe = make_ping_probe(io, c);
  const ProbeResult r = attempt(io, *probe);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "bind_if nosuchdev0: No such device");
}

TEST(PingProbe, UnroutableSourceFails) {
  // bindto an address this host does not have: the attempt fails at once, before sending.
  boost::asio::io_context io;
  ctl::CheckerConf c = ping_conf("::1");
  c.bindto = *net::IpAddr::parse("2001:db8::1");
  auto probe = make_ping_probe(io, c);
  const ProbeResult r = attempt(io, *probe);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "bindto 2001:db8::1:0: Cannot assign requested address");
}

TEST(PingProbe, CancelDropsTheAttempt) {
  boost::asio::io_context io;
  auto probe = make_ping_probe(io, ping_conf("127.0.0.1"));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  probe->cancel();
  probe.reset();
  io.run_for(100ms);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace lvs::health
