// HTTP_GET and SSL_GET against scripted servers on 127.0.0.1 and ::1 (Asio coroutines on the
// test's io_context; the probe runs on the same loop).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "health/http_request.h"
#include "health/probe.h"
#include "health/test_tls.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What the server does with one connection after reading the request head.
struct Reply {
  enum class Mode { kSend, kSilent, kEndless, kCloseAtOnce, kSendKeepOpen };
  Mode mode = Mode::kSend;
  std::string bytes;  // sent first (kSend, kEndless, kSendKeepOpen)
};

Reply send(std::string bytes) { return {Reply::Mode::kSend, std::move(bytes)}; }

std::string ok_reply(std::string_view body, std::string_view status = "200 OK") {
  return "HTTP/1.0 " + std::string(status) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

struct Observed {
  std::vector<std::string> requests;  // request heads, in order
  std::vector<std::string> sni;       // TLS: the server name each client sent ("" when none)
  std::vector<std::string> tls_end;   // TLS: how each client left: "close_notify" or "truncated"
  int writes = 0;                     // kEndless: body writes that went out
};

awaitable<void> wait_long(asio::any_io_executor ex) {
  asio::steady_timer t(ex, 30s);  // ends with the io_context
  co_await t.async_wait(kTuple);
}

// Serves `stream` (a tcp::socket or an ssl::stream) after the TLS handshake, if any.
template <class Stream>
awaitable<void> serve_one(Stream& s, Reply reply, Observed* seen) {
  std::string head;
  auto [ec, n] =
      co_await asio::async_read_until(s, asio::dynamic_buffer(head, 65536), "\r\n\r\n", kTuple);
  if (ec) co_return;
  seen->requests.push_back(head.substr(0, n));
  if (reply.mode == Reply::Mode::kCloseAtOnce) co_return;
  if (reply.mode == Reply::Mode::kSilent) co_return co_await wait_long(s.get_executor());
  auto [wec, wn] = co_await asio::async_write(s, asio::buffer(reply.bytes), kTuple);
  if (wec) co_return;
  if (reply.mode == Reply::Mode::kSendKeepOpen) co_return co_await wait_long(s.get_executor());
  if (reply.mode == Reply::Mode::kEndless) {
    const std::string chunk(4096, 'x');
    for (int i = 0; i < 100000; ++i) {  // bounded; ends when the probe closes
      auto [e, m] = co_await asio::async_write(s, asio::buffer(chunk), kTuple);
      if (e) break;
      ++seen->writes;
    }
  }
}

awaitable<void> http_server(tcp::acceptor* acc, std::vector<Reply> replies, Observed* seen) {
  for (auto& reply : replies) {
    auto [ec, sock] = co_await acc->async_accept(kTuple);
    if (ec) co_return;
    co_await serve_one(sock, std::move(reply), seen);
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }
}

awaitable<void> https_server(tcp::acceptor* acc, asio::ssl::context* ctx,
                             std::vector<Reply> replies, Observed* seen) {
  for (auto& reply : replies) {
    auto [ec, sock] = co_await acc->async_accept(kTuple);
    if (ec) co_return;
    asio::ssl::stream<tcp::socket> s(std::move(sock), *ctx);
    auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (hec) continue;
    const char* name = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
    seen->sni.push_back(name ? name : "");
    co_await serve_one(s, std::move(reply), seen);
    if (reply.mode == Reply::Mode::kSend) {
      // Wait for the client to leave: a close_notify reads as eof, a bare close as truncation.
      char c;
      auto [rec, rn] = co_await s.async_read_some(asio::buffer(&c, 1), kTuple);
      if (rec == asio::error::eof) {
        seen->tls_end.push_back("close_notify");
        co_await s.async_shutdown(kTuple);
      } else if (rec == asio::ssl::error::stream_truncated) {
        seen->tls_end.push_back("truncated");
      } else {
        seen->tls_end.push_back(rec.message());
      }
    }
  }
}

std::optional<tcp::acceptor> listen_on(asio::io_context& io, const char* addr) {
  boost::system::error_code ec;
  tcp::acceptor acc(io);
  const tcp::endpoint ep(asio::ip::make_address(addr), 0);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(16, ec);
  if (ec) return std::nullopt;
  return acc;
}

ctl::CheckerConf http_conf(const tcp::endpoint& ep, std::vector<std::string> paths = {"/"}) {
  ctl::CheckerConf c;
  c.kind = ctl::CheckKind::kHttp;
  c.keyword = "HTTP_GET";
  c.connect_ip = *net::IpAddr::parse(ep.address().to_string());
  c.connect_port = ep.port();
  c.connect_timeout_ms = 150;
  for (auto& p : paths) {
    ctl::HttpUrlConf u;
    u.path = p;
    c.urls.push_back(u);
  }
  return c;
}

std::array<uint8_t, 16> md5(std::string_view data) {
  std::array<uint8_t, 16> d{};
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_md5(), nullptr);
  return d;
}

struct HttpProbeTest : ::testing::Test {
  // Starts `replies` on a listener at `addr`; false when the address is not usable here.
  bool serve(std::vector<Reply> replies, const char* addr = "127.0.0.1") {
    acc = listen_on(io, addr);
    if (!acc) return false;
    asio::co_spawn(io, http_server(&*acc, std::move(replies), &seen), asio::detached);
    return true;
  }
  bool serve_tls(std::vector<Reply> replies) {
    acc = listen_on(io, "127.0.0.1");
    if (!acc) return false;
    testing::use_self_signed_cert(server_tls);
    asio::co_spawn(io, https_server(&*acc, &server_tls, std::move(replies), &seen), asio::detached);
    return true;
  }
  ctl::CheckerConf conf(std::vector<std::string> paths = {"/"}) {
    return http_conf(acc->local_endpoint(), std::move(paths));
  }
  ProbeResult run(const ctl::CheckerConf& c) {
    ProbeEnv env;
    env.tls = &client_tls;
    auto probe = make_http_probe(io, c, env);
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
    io.run_for(20ms);  // let the server see the end of the connection
    EXPECT_EQ(calls, 1);
    return r.value_or(ProbeResult{false, "no result within 5 s"});
  }
  std::string port() const { return std::to_string(acc->local_endpoint().port()); }

  asio::io_context io;
  asio::ssl::context client_tls = testing::make_client_context();
  asio::ssl::context server_tls{asio::ssl::context::tls_server};
  std::optional<tcp::acceptor> acc;
  Observed seen;
  std::chrono::steady_clock::duration elapsed{};
};

TEST(HttpRequest, MirrorsKeepalivedsTemplate) {
  ctl::CheckerConf c;
  c.connect_ip = *net::IpAddr::parse("198.18.0.10");
  c.connect_port = 8080;
  ctl::HttpUrlConf u;
  u.path = "/status?x=1";
  EXPECT_EQ(build_http_request(c, u),
            "GET /status?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n"
            "Host: 198.18.0.10:8080\r\n\r\n");
  c.http_protocol = "1.0C";
  c.virtualhost = "www.example.test";  // a virtualhost is sent as written, no port
  EXPECT_EQ(build_http_request(c, u),
            "GET /status?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
            "Host: www.example.test\r\n\r\n");
  c.http_protocol = "1.1";
  u.virtualhost = "url.example.test";  // the url's wins
  EXPECT_EQ(build_http_request(c, u),
            "GET /status?x=1 HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
            "Host: url.example.test\r\n\r\n");
  c.virtualhost.clear();
  u.virtualhost.clear();
  c.connect_ip = *net::IpAddr::parse("2001:db8::5");
  c.connect_port = 80;  // the port is written even when it is the default
  EXPECT_EQ(build_http_request(c, u),
            "GET /status?x=1 HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
            "Host: [2001:db8::5]:80\r\n\r\n");
}

TEST_F(HttpProbeTest, OkReplyPassesAndTheRequestIsKeepalivedsBytes) {
  ASSERT_TRUE(serve({send(ok_reply("hello\n"))}));
  auto c = conf({"/health"});
  const auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "");
  EXPECT_GT(r.latency.count(), 0);
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(seen.requests[0],
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:" + port() +
                "\r\n\r\n");
}

TEST_F(HttpProbeTest, Ipv6HostHeaderHasBrackets) {
  if (!serve({send(ok_reply("x"))}, "::1")) GTEST_SKIP() << "::1 not usable";
  auto c = conf();
  c.http_protocol = "1.1";
  const auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(seen.requests[0],
            "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [::1]:" +
                port() + "\r\n\r\n");
}

TEST_F(HttpProbeTest, VirtualhostIsTheHostHeader) {
  ASSERT_TRUE(serve({send(ok_reply("x"))}));
  auto c = conf();
  c.http_protocol = "1.0C";
  c.virtualhost = "www.example.test";
  const auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(seen.requests[0],
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
            "Host: www.example.test\r\n\r\n");
}

TEST_F(HttpProbeTest, ServerErrorFails) {
  ASSERT_TRUE(serve({send(ok_reply("down", "503 Service Unavailable"))}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "status 503 not in 200-299");
}

TEST_F(HttpProbeTest, StatusRanges) {
  ASSERT_TRUE(serve({send(ok_reply("", "503 Service Unavailable")), send(ok_reply("", "404 Nope")),
                     send(ok_reply("", "299 Odd"))}));
  auto c = conf();
  c.urls[0].status_codes = {{200, 299}, {500, 503}};
  auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  r = run(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "status 404 not in 200-299,500-503");
  c.urls[0].status_codes = {{200, 200}, {301, 302}};
  r = run(c);
  EXPECT_EQ(r.detail, "status 299 not in 200,301-302");
}

TEST_F(HttpProbeTest, DigestRightAndWrong) {
  ASSERT_TRUE(serve({send(ok_reply("hello\n")), send(ok_reply("hello?\n"))}));
  auto c = conf();
  c.urls[0].digest = md5("hello\n");
  auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  r = run(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail,
            "MD5 digest c08fd167b135e520cccee1ce9cccb060 not the expected "
            "b1946ac92492d2347c6235b4d2611184");
}

TEST_F(HttpProbeTest, DigestCoversContentLengthBytesOnly) {
  // keepalived's http_process_response() digests Content-Length bytes of what it reads.
  ASSERT_TRUE(serve({send("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA")}));
  auto c = conf();
  c.urls[0].digest = md5("hello");
  const auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(HttpProbeTest, BodyWithoutLengthIsReadToEof) {
  ASSERT_TRUE(serve({send("HTTP/1.0 200 OK\r\n\r\nline one\nline two\n")}));
  auto c = conf();
  c.urls[0].digest = md5("line one\nline two\n");
  const auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(HttpProbeTest, ChunkedBodyIsDigestedRawAsGenhashDoes) {
  const std::string raw = "5\r\nhello\r\n0\r\n\r\n";
  ASSERT_TRUE(serve({send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + raw)}));
  auto c = conf();
  c.http_protocol = "1.1";
  c.urls[0].digest = md5(raw);
  const auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(HttpProbeTest, StopsAtContentLengthWhenTheServerKeepsTheConnection) {
  ASSERT_TRUE(serve({{Reply::Mode::kSendKeepOpen, ok_reply("fine")}}));
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_LT(elapsed, 140ms);  // did not wait for the deadline
}

TEST_F(HttpProbeTest, ShortBodyStillJudgedWithANote) {
  ASSERT_TRUE(serve({send("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nhello")}));
  const auto r = run(conf());
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "body 5 of 10 bytes (Content-Length)");
}

TEST_F(HttpProbeTest, GarbageStatusLineFails) {
  ASSERT_TRUE(serve({send("SSH-2.0-OpenSSH_9.2\r\n\r\n")}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("bad reply: ", 0), 0u) << r.detail;
}

TEST_F(HttpProbeTest, OversizeHeaderFails) {
  ASSERT_TRUE(serve({send("HTTP/1.0 200 OK\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n")}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "bad reply: header limit exceeded");
}

TEST_F(HttpProbeTest, NoReplyAtAllFails) {
  ASSERT_TRUE(serve({{Reply::Mode::kCloseAtOnce, ""}}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "no data received");
}

TEST_F(HttpProbeTest, HeaderCutShortFails) {
  ASSERT_TRUE(serve({send("HTTP/1.0 200 OK\r\nContent-Le")}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "bad reply: partial message");
}

TEST_F(HttpProbeTest, SilentServerTimesOut) {
  ASSERT_TRUE(serve({{Reply::Mode::kSilent, ""}}));
  const auto r = run(conf());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timeout after 150 ms reading the reply header");
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1s);
}

TEST_F(HttpProbeTest, EndlessBodyStopsAtTheDeadline) {
  ASSERT_TRUE(serve({{Reply::Mode::kEndless, "HTTP/1.0 200 OK\r\n\r\n"}}));
  auto c = conf();
  c.urls[0].digest = md5("");
  const auto r = run(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timeout after 150 ms reading the body");
  EXPECT_LT(elapsed, 1s);
  EXPECT_GT(seen.writes, 0);
}

TEST_F(HttpProbeTest, RefusedConnection) {
  ASSERT_TRUE(serve({}));
  auto c = conf();
  acc->close();
  const auto r = run(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "connect: Connection refused");
}

TEST_F(HttpProbeTest, EveryUrlInOrderOneConnectionEach) {
  ASSERT_TRUE(serve({send(ok_reply("a")), send(ok_reply("b")), send(ok_reply("a")),
                     send(ok_reply("", "500 Oops"))}));
  auto c = conf({"/a", "/b"});
  auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  r = run(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "/b: status 500 not in 200-299");
  ASSERT_EQ(seen.requests.size(), 4u);
  EXPECT_EQ(seen.requests[0].substr(0, 7), "GET /a ");
  EXPECT_EQ(seen.requests[1].substr(0, 7), "GET /b ");
  EXPECT_EQ(seen.requests[2].substr(0, 7), "GET /a ");
  EXPECT_EQ(seen.requests[3].substr(0, 7), "GET /b ");
}

TEST_F(HttpProbeTest, FirstFailingUrlEndsTheAttempt) {
  ASSERT_TRUE(serve({send(ok_reply("", "404 Gone")), send(ok_reply("b"))}));
  const auto r = run(conf({"/a", "/b"}));
  EXPECT_EQ(r.detail, "/a: status 404 not in 200-299");
  EXPECT_EQ(seen.requests.size(), 1u);
}

TEST_F(HttpProbeTest, EachUrlHasItsOwnBudget) {
  // Two silent urls would take 2 x 150 ms; the first one's timeout already ends the attempt.
  ASSERT_TRUE(serve({send(ok_reply("a")), {Reply::Mode::kSilent, ""}}));
  const auto r = run(conf({"/a", "/b"}));
  EXPECT_EQ(r.detail, "/b: timeout after 150 ms reading the reply header");
  EXPECT_LT(elapsed, 2 * 150ms + 200ms);
}

TEST_F(HttpProbeTest, CancelMidRequest) {
  ASSERT_TRUE(serve({{Reply::Mode::kSilent, ""}}));
  ProbeEnv env;
  auto probe = make_http_probe(io, conf(), env);
  bool called = false;
  probe->start([&](ProbeResult) { called = true; });
  io.run_for(30ms);
  probe->cancel();
  probe.reset();
  io.run_for(200ms);
  EXPECT_FALSE(called);
}

// --- SSL_GET ---

ctl::CheckerConf ssl_conf(ctl::CheckerConf c) {
  c.kind = ctl::CheckKind::kSsl;
  c.keyword = "SSL_GET";
  return c;
}

TEST_F(HttpProbeTest, HttpsWithSelfSignedCertAndSni) {
  ASSERT_TRUE(
      serve_tls({send(ok_reply("secure")), send(ok_reply("secure")), send(ok_reply("secure"))}));
  auto c = ssl_conf(conf());
  c.urls[0].digest = md5("secure");
  c.virtualhost = "www.example.test";
  auto r = run(c);  // enable_sni off: no server name
  EXPECT_TRUE(r.ok) << r.detail;
  c.enable_sni = true;
  r = run(c);  // SNI from the virtualhost
  EXPECT_TRUE(r.ok) << r.detail;
  c.sni_name = "sni.example.test";
  r = run(c);  // sni_name first
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(seen.sni, (std::vector<std::string>{"", "www.example.test", "sni.example.test"}));
  ASSERT_EQ(seen.requests.size(), 3u);
  EXPECT_EQ(seen.requests[0],
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.test\r\n\r\n");
}

TEST_F(HttpProbeTest, TlsCompliantSendsCloseNotify) {
  ASSERT_TRUE(serve_tls({send(ok_reply("x")), send(ok_reply("x"))}));
  auto c = ssl_conf(conf());
  auto r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  c.tls_compliant = true;
  r = run(c);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(seen.tls_end, (std::vector<std::string>{"truncated", "close_notify"}));
}

TEST_F(HttpProbeTest, HttpsStatusAndTimeout) {
  ASSERT_TRUE(serve_tls({send(ok_reply("", "503 Busy")), {Reply::Mode::kSilent, ""}}));
  auto c = ssl_conf(conf());
  auto r = run(c);
  EXPECT_EQ(r.detail, "status 503 not in 200-299");
  r = run(c);
  EXPECT_EQ(r.detail, "timeout after 150 ms reading the reply header");
}

TEST_F(HttpProbeTest, PlainHttpOnTheTlsPortFailsTheHandshake) {
  // A plain HTTP server answers the ClientHello with an HTTP error.
  acc = listen_on(io, "127.0.0.1");
  ASSERT_TRUE(acc);
  asio::co_spawn(
      io,
      [](tcp::acceptor* a) -> awaitable<void> {
        auto [ec, sock] = co_await a->async_accept(kTuple);
        if (ec) co_return;
        char buf[512];
        co_await sock.async_read_some(asio::buffer(buf), kTuple);
        co_await asio::async_write(
            sock,
            asio::buffer(std::string("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")),
            kTuple);
        boost::system::error_code ignored;
        sock.shutdown(tcp::socket::shutdown_both, ignored);
      }(&*acc),
      asio::detached);
  const auto r = run(ssl_conf(conf()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("TLS handshake: ", 0), 0u) << r.detail;
}

TEST_F(HttpProbeTest, TlsHandshakeTimesOutOnASilentServer) {
  ASSERT_TRUE(serve({{Reply::Mode::kSilent, ""}}));  // never answers the ClientHello
  const auto r = run(ssl_conf(conf()));
  EXPECT_EQ(r.detail, "timeout after 150 ms in TLS handshake");
}

TEST_F(HttpProbeTest, NoTlsContextFails) {
  ASSERT_TRUE(serve({}));
  ProbeEnv env;  // no tls
  auto probe = make_http_probe(io, ssl_conf(conf()), env);
  std::optional<ProbeResult> r;
  probe->start([&](ProbeResult x) { r = std::move(x); });
  io.run_for(50ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "no TLS context");
}

}  // namespace
}  // namespace lvs::health
