#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "health/probe.h"

namespace lvs::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;
using Bytes = std::vector<uint8_t>;

// A UDP server on the test's loop: `reply` maps each datagram to an answer (nullopt: silence).
class UdpServer {
 public:
  UdpServer(asio::io_context& io, std::function<std::optional<Bytes>(const Bytes&)> reply,
            bool v6 = false)
      : sock_(io, udp::endpoint(
                      v6 ? asio::ip::make_address("::1") : asio::ip::make_address("127.0.0.1"), 0)),
        reply_(std::move(reply)) {
    receive();
  }
  uint16_t port() const { return sock_.local_endpoint().port(); }
  std::vector<Bytes> received;

 private:
  void receive() {
    sock_.async_receive_from(asio::buffer(buf_), peer_,
                             [this](boost::system::error_code ec, size_t n) {
                               if (ec) return;
                               Bytes got(buf_.begin(), buf_.begin() + long(n));
                               received.push_back(got);
                               if (auto r = reply_(got))
                                 sock_.send_to(asio::buffer(*r), peer_, 0, ec);
                               receive();
                             });
  }
  udp::socket sock_;
  udp::endpoint peer_;
  std::array<uint8_t, 2048> buf_{};
  std::function<std::optional<Bytes>(const Bytes&)> reply_;
};

ctl::CheckerConf udp_conf(uint16_t port, bool v6 = false) {
  ctl::CheckerConf c;
  c.kind = ctl::CheckKind::kUdp;
  c.keyword = "UDP_CHECK";
  c.connect_ip = *net::IpAddr::parse(v6 ? "::1" : "127.0.0.1");
  c.connect_port = port;
  c.connect_timeout_ms = 150;
  return c;
}

ProbeResult attempt(asio::io_context& io, const ctl::CheckerConf& conf) {
  auto probe = make_udp_probe(io, conf);
  std::optional<ProbeResult> result;
  int calls = 0;
  probe->start([&](ProbeResult r) {
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

uint16_t closed_port(bool v6 = false) {
  asio::io_context io;
  udp::socket s(
      io,
      udp::endpoint(v6 ? asio::ip::make_address("::1") : asio::ip::make_address("127.0.0.1"), 0));
  return s.local_endpoint().port();  // closed when s goes
}

const auto kEcho = [](const Bytes& b) -> std::optional<Bytes> { return b; };
const auto kSilent = [](const Bytes&) -> std::optional<Bytes> { return std::nullopt; };

TEST(UdpProbe, DefaultPayloadIsKeepalivedsAndAReplyPasses) {
  asio::io_context io;
  UdpServer server(io, kEcho);
  const ProbeResult r = attempt(io, udp_conf(server.port()));
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "reply of 32 bytes");
  EXPECT_GT(r.latency.count(), 0);
  ASSERT_EQ(server.received.size(), 1u);
  const std::string text(server.received[0].begin(), server.received[0].end());
  EXPECT_EQ(text, "keepalived check - keepalived ch");
}

TEST(UdpProbe, SilencePassesWithoutRequireReply) {
  asio::io_context io;
  UdpServer server(io, kSilent);
  ctl::CheckerConf c = udp_conf(server.port());
  c.payload = {1, 2, 3};
  const ProbeResult r = attempt(io, c);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "no reply and no ICMP error within 150 ms");
  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0], (Bytes{1, 2, 3}));
}

TEST(UdpProbe, SilenceFailsWithRequireReply) {
  asio::io_context io;
  UdpServer server(io, kSilent);
  ctl::CheckerConf c = udp_conf(server.port());
  c.require_reply = true;
  const ProbeResult r = attempt(io, c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "no reply within 150 ms");
}

TEST(UdpProbe, PortUnreachableFails) {
  for (const bool v6 : {false, true}) {
    for (const bool require : {false, true}) {
      asio::io_context io;
      ctl::CheckerConf c = udp_conf(closed_port(v6), v6);
      c.require_reply = require;
      const ProbeResult r = attempt(io, c);
      EXPECT_FALSE(r.ok);
      EXPECT_EQ(r.detail, v6 ? "ICMPv6 port unreachable (code 4): Connection refused"
                             : "ICMP port unreachable (code 3): Connection refused");
      EXPECT_LT(r.latency, std::chrono::milliseconds(150));  // not the timeout
    }
  }
}

TEST(UdpProbe, ReplyMustStartWithThePrefix) {
  asio::io_context io;
  UdpServer server(io, [](const Bytes&) -> std::optional<Bytes> {
    return Bytes{'P', 'O', 'N', 'G'};
  });
  ctl::CheckerConf c = udp_conf(server.port());
  c.require_reply = true;
  c.reply_prefix = {'P', 'O'};
  ProbeResult r = attempt(io, c);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "reply of 4 bytes matches");
  c.reply_prefix = {'P', 'X'};
  r = attempt(io, c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "reply byte 1 is 0x4f, expected 0x58");
}

TEST(UdpProbe, ShortReplyComparesOnlyItsBytes) {
  // check_udp.c check_udp_reply(): only min(reply length, pattern length) bytes are compared.
  asio::io_context io;
  UdpServer server(io, [](const Bytes&) -> std::optional<Bytes> { return Bytes{'P'}; });
  ctl::CheckerConf c = udp_conf(server.port());
  c.require_reply = true;
  c.reply_prefix = {'P', 'O', 'N', 'G'};
  EXPECT_TRUE(attempt(io, c).ok);
  c.min_reply_length = 2;
  const ProbeResult r = attempt(io, c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "reply of 1 bytes, expected at least 2");
}

TEST(UdpProbe, ReplyLengthLimits) {
  asio::io_context io;
  UdpServer server(io, [](const Bytes&) -> std::optional<Bytes> { return Bytes(300, 'x'); });
  ctl::CheckerConf c = udp_conf(server.port());
  c.require_reply = true;
  c.reply_prefix = {'x'};
  c.max_reply_length = 255;
  ProbeResult r = attempt(io, c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "reply of 300 bytes, expected 0..255");
  c.max_reply_length = 300;
  EXPECT_TRUE(attempt(io, c).ok);
  c.max_reply_length = 0;  // no limit
  EXPECT_TRUE(attempt(io, c).ok);
  // keepalived checks the lengths only with reply bytes: without them any reply passes.
  c.reply_prefix.clear();
  c.max_reply_length = 10;
  r = attempt(io, c);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "reply of 300 bytes");
}

TEST(UdpProbe, Ipv6Reply) {
  asio::io_context io;
  UdpServer server(io, kEcho, true);
  ctl::CheckerConf c = udp_conf(server.port(), true);
  c.require_reply = true;
  c.payload = {'h', 'i'};
  c.reply_prefix = {'h', 'i'};
  const ProbeResult r = attempt(io, c);
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST(UdpProbe, SocketOptionFailureIsReported) {
  asio::io_context io;
  ctl::CheckerConf c = udp_conf(closed_port());
  c.bind_if = "nosuchdev0";
  const ProbeResult r = attempt(io, c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "bind_if nosuchdev0: No such device");
}

TEST(UdpProbe, CancelDropsTheAttempt) {
  asio::io_context io;
  UdpServer server(io, kSilent);
  auto probe = make_udp_probe(io, udp_conf(server.port()));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  io.run_for(20ms);
  probe->cancel();
  probe.reset();
  io.run_for(300ms);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace lvs::health
