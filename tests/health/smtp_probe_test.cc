// SMTP_CHECK against scripted servers on 127.0.0.1 and ::1 (Asio coroutines on the test's loop).
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "health/probe.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// One server step: send these bytes, or read one line ("<" prefix), or stay silent ("wait").
using Script = std::vector<std::string>;

awaitable<void> smtp_server(tcp::acceptor* acc, Script script, std::vector<std::string>* lines) {
  auto [ec, sock] = co_await acc->async_accept(kTuple);
  if (ec) co_return;
  std::string in;
  for (const auto& step : script) {
    if (step == "<") {
      auto [rec, n] =
          co_await asio::async_read_until(sock, asio::dynamic_buffer(in, 4096), "\n", kTuple);
      if (rec) co_return;
      lines->push_back(in.substr(0, n));
      in.erase(0, n);
    } else if (step == "wait") {
      asio::steady_timer t(sock.get_executor(), 30s);  // ends with the io_context
      co_await t.async_wait(kTuple);
    } else {
      auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(step), kTuple);
      if (wec) co_return;
    }
  }
  boost::system::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
}

struct SmtpProbeTest : ::testing::Test {
  bool serve(Script script, const char* addr = "127.0.0.1") {
    boost::system::error_code ec;
    acc.emplace(io);
    const tcp::endpoint ep(asio::ip::make_address(addr), 0);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(16, ec);
    if (ec) return false;
    asio::co_spawn(io, smtp_server(&*acc, std::move(script), &lines), asio::detached);
    return true;
  }
  ctl::CheckerConf conf() const {
    ctl::CheckerConf c;
    c.kind = ctl::CheckKind::kSmtp;
    c.keyword = "SMTP_CHECK";
    const auto ep = acc->local_endpoint();
    c.connect_ip = *net::IpAddr::parse(ep.address().to_string());
    c.connect_port = ep.port();
    c.connect_timeout_ms = 150;
    c.helo_name = "checker.example.test";
    return c;
  }
  ProbeResult run(const ctl::CheckerConf& c, std::string host_name = "director.test") {
    ProbeEnv env;
    env.host_name = std::move(host_name);
    auto probe = make_smtp_probe(io, c, env);
    std::optional<ProbeResult> r;
    int calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    probe->start([&](ProbeResult x) {
      ++calls;
      r = std::move(x);
    });
    io.restart();  // a loop that ran out of work stays stopped until restarted
    while (!r && std::chrono::steady_clock::now() < t0 + 5s) io.run_one_for(50ms);
    elapsed = std::chrono::steady_clock::now() - t0;
    io.run_for(20ms);
    EXPECT_EQ(calls, 1);
    return r.value_or(ProbeResult{false, "no result within 5 s"});
  }

  asio::io_context io;
  std::optional<tcp::acceptor> acc;
  std::vector<std::string> lines;  // what the server read
  std::chrono::steady_clock::duration elapsed{};
};

const Script kGood = {"220 mail.example.test ESMTP\r\n", "<", "250 mail.example.test\r\n", "<",
                      "221 bye\r\n"};

TEST_F(SmtpProbeTest, GoodServerPasses) {
  ASSERT_TRUE(serve(kGood));
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "");
  EXPECT_EQ(lines, (std::vector<std::string>{"HELO checker.example.test\r\n", "QUIT\r\n"}));
}

TEST_F(SmtpProbeTest, GoodServerOnIpv6) {
  if (!serve(kGood, "::1")) GTEST_SKIP() << "::1 not usable";
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(SmtpProbeTest, HeloNameDefaultsToTheHostThenKeepalivedsName) {
  ASSERT_TRUE(serve(kGood));
  auto c = conf();
  c.helo_name.clear();
  EXPECT_TRUE(run(c).ok);
  ASSERT_TRUE(serve(kGood));
  c = conf();
  c.helo_name.clear();
  EXPECT_TRUE(run(c, "").ok);
  EXPECT_EQ(lines, (std::vector<std::string>{"HELO director.test\r\n", "QUIT\r\n",
                                             "HELO smtpchecker.keepalived.org\r\n", "QUIT\r\n"}));
}

TEST_F(SmtpProbeTest, RefusingGreetingFails) {
  ASSERT_TRUE(serve({"554 go away\r\n", "wait"}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "expected 220, got '554 go away'");
  EXPECT_TRUE(lines.empty());  // no HELO after a bad greeting
}

TEST_F(SmtpProbeTest, MultiLineGreetingIsOneReply) {
  // Lines split across writes and several in one write.
  ASSERT_TRUE(serve({"220-mail.example.test\r\n220-welc", "ome\r\n", "220 ready\r\n", "<",
                     "250-mail.example.test\r\n250 hi\r\n", "<", "221 bye\r\n"}));
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(lines.size(), 2u);
}

TEST_F(SmtpProbeTest, MultiLineRefusalFailsOnItsLastLine) {
  ASSERT_TRUE(serve({"554-busy\r\n554 try later\r\n", "wait"}));
  EXPECT_EQ(run(conf()).detail, "expected 220, got '554 try later'");
}

TEST_F(SmtpProbeTest, HeloRefusedFails) {
  ASSERT_TRUE(serve({"220 ok\r\n", "<", "550 not you\r\n", "wait"}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "HELO: expected 250, got '550 not you'");
}

TEST_F(SmtpProbeTest, GarbageGreetingFails) {
  ASSERT_TRUE(serve({"SSH-2.0-OpenSSH\r\n", "wait"}));
  EXPECT_EQ(run(conf()).detail, "expected 220, got 'SSH-2.0-OpenSSH'");
}

TEST_F(SmtpProbeTest, GarbageIsQuotedSafely) {
  ASSERT_TRUE(serve({std::string("22\x01\xff") + std::string(100, 'z') + "\r\n", "wait"}));
  EXPECT_EQ(run(conf()).detail, "expected 220, got '22\\x01\\xff" + std::string(76, 'z') + "...'");
}

TEST_F(SmtpProbeTest, EndlessLineFails) {
  ASSERT_TRUE(serve({"220 " + std::string(1000, 'a'), "wait"}));
  EXPECT_EQ(run(conf()).detail, "reply line longer than 512 bytes waiting for the greeting");
}

TEST_F(SmtpProbeTest, SilentServerTimesOut) {
  ASSERT_TRUE(serve({"wait"}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timeout after 150 ms waiting for the greeting");
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1s);
}

TEST_F(SmtpProbeTest, SilentAfterHeloTimesOut) {
  ASSERT_TRUE(serve({"220 ok\r\n", "<", "wait"}));
  EXPECT_EQ(run(conf()).detail, "timeout after 150 ms waiting for the HELO reply");
}

TEST_F(SmtpProbeTest, ClosedBeforeTheGreeting) {
  ASSERT_TRUE(serve({}));
  EXPECT_EQ(run(conf()).detail, "connection closed waiting for the greeting");
}

TEST_F(SmtpProbeTest, QuitNeedsALineAsKeepalivedReadsOne) {
  ASSERT_TRUE(serve({"220 ok\r\n", "<", "250 ok\r\n", "<"}));  // closes after QUIT
  EXPECT_EQ(run(conf()).detail, "connection closed waiting for the QUIT reply");
  ASSERT_TRUE(serve({"220 ok\r\n", "<", "250 ok\r\n", "<", "500 whatever\r\n"}));
  EXPECT_TRUE(run(conf()).ok);  // any line after QUIT will do (smtp_engine_thread)
}

TEST_F(SmtpProbeTest, RefusedConnection) {
  ASSERT_TRUE(serve({}));
  const auto c = conf();
  acc->close();
  EXPECT_EQ(run(c).detail, "connect: Connection refused");
}

}  // namespace
}  // namespace lvs::health
