// DNS_CHECK against a scripted UDP server on 127.0.0.1 and ::1 (Asio coroutine on the test's loop).
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "health/dns_wire.h"
#include "health/probe.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::udp;
using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Answers each query with the datagrams `answer` makes from it.
using Answer = std::function<std::vector<Bytes>(const Bytes& query)>;

awaitable<void> dns_server(udp::socket* s, Answer answer, std::vector<Bytes>* queries) {
  for (int i = 0; i < 100; ++i) {
    Bytes buf(1500);
    udp::endpoint from;
    auto [ec, n] = co_await s->async_receive_from(asio::buffer(buf), from, kTuple);
    if (ec) co_return;
    buf.resize(n);
    queries->push_back(buf);
    for (const auto& d : answer(buf)) co_await s->async_send_to(asio::buffer(d), from, kTuple);
  }
}

// A reply header for `query`: its ID unless `id` says otherwise, QR RD RA, `rcode`, one answer.
Bytes header_for(const Bytes& query, int rcode, std::optional<uint16_t> id = std::nullopt,
                 uint16_t extra_flags = 0) {
  Bytes r = query;  // header + question, as a server echoes it
  if (id) {
    r[0] = uint8_t(*id >> 8);
    r[1] = uint8_t(*id);
  }
  const uint16_t flags = uint16_t(0x8180 | extra_flags | rcode);
  r[2] = uint8_t(flags >> 8);
  r[3] = uint8_t(flags);
  r[7] = 1;  // ANCOUNT (no answer record follows: keepalived does not look)
  return r;
}

uint16_t id_of(const Bytes& m) { return uint16_t(m[0] << 8 | m[1]); }

struct DnsProbeTest : ::testing::Test {
  bool serve(Answer answer, const char* addr = "127.0.0.1") {
    boost::system::error_code ec;
    server.emplace(io);
    const udp::endpoint ep(asio::ip::make_address(addr), 0);
    server->open(ep.protocol(), ec);
    if (!ec) server->bind(ep, ec);
    if (ec) return false;
    asio::co_spawn(io, dns_server(&*server, std::move(answer), &queries), asio::detached);
    return true;
  }
  ctl::CheckerConf conf() const {
    ctl::CheckerConf c;
    c.kind = ctl::CheckKind::kDns;
    c.keyword = "DNS_CHECK";
    const auto ep = server->local_endpoint();
    c.connect_ip = *net::IpAddr::parse(ep.address().to_string());
    c.connect_port = ep.port();
    c.connect_timeout_ms = 150;
    c.dns_name = "www.example.test";
    c.dns_type = 1;
    return c;
  }
  ProbeResult run(Probe& probe) {
    std::optional<ProbeResult> r;
    int calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    probe.start([&](ProbeResult x) {
      ++calls;
      r = std::move(x);
    });
    io.restart();  // a loop that ran out of work stays stopped until restarted
    while (!r && std::chrono::steady_clock::now() < t0 + 5s) io.run_one_for(50ms);
    elapsed = std::chrono::steady_clock::now() - t0;
    io.poll();
    EXPECT_EQ(calls, 1);
    return r.value_or(ProbeResult{false, "no result within 5 s"});
  }
  ProbeResult run(const ctl::CheckerConf& c) {
    auto probe = make_dns_probe(io, c);
    return run(*probe);
  }

  asio::io_context io;
  std::optional<udp::socket> server;
  std::vector<Bytes> queries;
  std::chrono::steady_clock::duration elapsed{};
};

TEST_F(DnsProbeTest, GoodReplyPassesAndTheQueryIsKeepalivedsBytes) {
  ASSERT_TRUE(serve([](const Bytes& q) { return std::vector<Bytes>{header_for(q, 0)}; }));
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "");
  ASSERT_EQ(queries.size(), 1u);
  Bytes want;
  std::string error;
  ASSERT_TRUE(dns::build_query(id_of(queries[0]), "www.example.test", 1, &want, &error));
  EXPECT_EQ(queries[0], want);
}

TEST_F(DnsProbeTest, GoodReplyOnIpv6) {
  if (!serve([](const Bytes& q) { return std::vector<Bytes>{header_for(q, 0)}; }, "::1")) {
    GTEST_SKIP() << "::1 not usable";
  }
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(DnsProbeTest, NxdomainFails) {
  ASSERT_TRUE(serve([](const Bytes& q) { return std::vector<Bytes>{header_for(q, 3)}; }));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "reply rcode 3 (NXDOMAIN)");
}

TEST_F(DnsProbeTest, WrongIdIgnoredThenRightIdPasses) {
  ASSERT_TRUE(serve([](const Bytes& q) {
    return std::vector<Bytes>{header_for(q, 3, uint16_t(id_of(q) ^ 0x5555)),  // not ours
                              header_for(q, 0, std::nullopt, 0),
                              header_for(q, 2)};  // too late to count
  }));
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(DnsProbeTest, OnlyStrangersTimeOutWithWhatWasIgnored) {
  ASSERT_TRUE(serve([](const Bytes& q) {
    Bytes not_reply = header_for(q, 0);
    not_reply[2] &= 0x7f;  // QR clear
    return std::vector<Bytes>{header_for(q, 0, uint16_t(id_of(q) ^ 1)), not_reply};
  }));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail,
            "timeout after 150 ms waiting for the reply (ignored 2 datagrams; last: a query, "
            "not a response)");
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1s);
}

TEST_F(DnsProbeTest, TruncatedReplyIsIgnoredAsKeepalivedDoes) {
  // dns_recv_thread() skips a datagram shorter than a header and keeps waiting.
  ASSERT_TRUE(
      serve([](const Bytes& q) { return std::vector<Bytes>{Bytes(q.begin(), q.begin() + 5)}; }));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail,
            "timeout after 150 ms waiting for the reply (ignored 1 datagrams; last: shorter than a "
            "header (5 bytes))");
}

TEST_F(DnsProbeTest, TruncatedFlagStillPasses) {
  ASSERT_TRUE(serve([](const Bytes& q) {
    return std::vector<Bytes>{header_for(q, 0, std::nullopt, dns::kFlagTc)};
  }));
  EXPECT_TRUE(run(conf()).ok);
}

TEST_F(DnsProbeTest, SilentServerTimesOut) {
  ASSERT_TRUE(serve([](const Bytes&) { return std::vector<Bytes>{}; }));
  EXPECT_EQ(run(conf()).detail, "timeout after 150 ms waiting for the reply");
}

TEST_F(DnsProbeTest, ClosedPortIsRefused) {
  ASSERT_TRUE(serve([](const Bytes&) { return std::vector<Bytes>{}; }));
  const auto c = conf();
  server->close();  // ICMP port unreachable comes back to the connected socket
  EXPECT_EQ(run(c).detail, "recv: Connection refused");
}

TEST_F(DnsProbeTest, BadNameFailsWithoutSending) {
  ASSERT_TRUE(serve([](const Bytes& q) { return std::vector<Bytes>{header_for(q, 0)}; }));
  auto c = conf();
  c.dns_name = "a..b";
  EXPECT_EQ(run(c).detail, "dns_name 'a..b': empty label");
  EXPECT_TRUE(queries.empty());
}

TEST_F(DnsProbeTest, EveryAttemptHasANewId) {
  ASSERT_TRUE(serve([](const Bytes& q) { return std::vector<Bytes>{header_for(q, 0)}; }));
  auto probe = make_dns_probe(io, conf());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(run(*probe).ok);
  std::set<uint16_t> ids;
  for (const auto& q : queries) ids.insert(id_of(q));
  EXPECT_GT(ids.size(), 1u);  // 4 random IDs all equal: 1 in 2^48
}

TEST_F(DnsProbeTest, CancelledAttemptReportsNothing) {
  ASSERT_TRUE(serve([](const Bytes&) { return std::vector<Bytes>{}; }));
  auto probe = make_dns_probe(io, conf());
  bool called = false;
  probe->start([&](ProbeResult) { called = true; });
  io.run_for(20ms);
  probe->cancel();
  probe.reset();
  io.run_for(200ms);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace lvs::health
