// PING_CHECK, as keepalived's check_ping.c: one ICMP (ICMPv6) echo request with a 128-byte
// payload to connect_ip; the matching echo reply within connect_timeout passes, silence fails.
// keepalived uses SOCK_DGRAM ping sockets (widening net.ipv4.ping_group_range); lvsd runs as root
// and opens a raw socket, falling back to a ping socket when raw is refused. Each attempt has its
// own socket; a reply is ours when its source, id and sequence match (a raw socket sees every
// echo reply on the host, a ping socket only its own), anything else is ignored.
#include <fmt/format.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "health/attempt.h"
#include "health/probe.h"
#include "health/socket_opts.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr size_t kPayload = 128;  // check_ping.c ICMP_BUFSIZE
// <linux/icmp.h>'s ICMP_FILTER (that header clashes with <netinet/ip_icmp.h>).
constexpr int kIcmpFilter = 1;

uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint16_t next_id() {
  static std::atomic<uint32_t> counter{uint32_t(::getpid()) * 2654435761u};
  return uint16_t(counter.fetch_add(0x9e37) >> 3);
}

struct Attempt : DescriptorAttempt, std::enable_shared_from_this<Attempt> {
  Attempt(asio::io_context& io, std::shared_ptr<const ctl::CheckerConf> c, uint16_t s, ProbeDone d)
      : DescriptorAttempt(io, std::move(d)), conf(std::move(c)), seq(s) {}
  std::shared_ptr<const ctl::CheckerConf> conf;
  uint16_t id = 0;
  uint16_t seq;
  bool v6 = false;
  bool raw = true;
  uint32_t ignored = 0;

  void post_fail(std::string detail) {
    asio::post(sock.get_executor(), [self = shared_from_this(), d = std::move(detail)]() mutable {
      self->finish(false, std::move(d));
    });
  }

  int open_socket() {
    const int af = v6 ? AF_INET6 : AF_INET;
    const int proto = v6 ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP);
    int fd = ::socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd < 0 && (errno == EPERM || errno == EACCES)) {
      raw = false;
      fd = ::socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    }
    if (fd < 0 || !raw) return fd;
    // Only echo replies reach a raw socket: not the host's other ICMP traffic.
    if (v6) {
      icmp6_filter f;
      ICMP6_FILTER_SETBLOCKALL(&f);
      ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
      ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    } else {
      const uint32_t blocked = ~(1u << ICMP_ECHOREPLY);
      ::setsockopt(fd, SOL_RAW, kIcmpFilter, &blocked, sizeof blocked);
    }
    return fd;
  }

  void run() {
    v6 = conf->connect_ip.is_v6();
    const int fd = open_socket();
    if (fd < 0) return post_fail(fmt::format("socket: {}", std::strerror(errno)));
    boost::system::error_code ec;
    sock.assign(fd, ec);
    if (auto err = apply_socket_options(fd, *conf); !err.empty()) return post_fail(err);

    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
      sa->sin6_family = AF_INET6;
      std::memcpy(&sa->sin6_addr, conf->connect_ip.data(), 16);
      len = sizeof *sa;
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
      sa->sin_family = AF_INET;
      std::memcpy(&sa->sin_addr, conf->connect_ip.data(), 4);
      len = sizeof *sa;
    }
    id = next_id();
    std::vector<uint8_t> pkt(8 + kPayload);
    pkt[0] = v6 ? uint8_t(ICMP6_ECHO_REQUEST) : uint8_t(ICMP_ECHO);
    pkt[4] = uint8_t(id >> 8);
    pkt[5] = uint8_t(id);
    pkt[6] = uint8_t(seq >> 8);
    pkt[7] = uint8_t(seq);
    static const char kText[] = "lvs health check - ";
    for (size_t i = 0; i < kPayload; ++i) pkt[8 + i] = uint8_t(kText[i % (sizeof kText - 1)]);
    if (!v6) {
      // The kernel sums ICMPv6 (pseudo-header) and ping sockets; raw ICMPv4 is ours to sum.
      const uint16_t sum = checksum(pkt.data(), pkt.size());
      pkt[2] = uint8_t(sum >> 8);
      pkt[3] = uint8_t(sum);
    }
    if (::sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return post_fail(
          fmt::format("sendto {}: {}", conf->connect_ip.to_string(), std::strerror(errno)));
    }
    if (!raw) {
      // A ping socket replaces the id with its own "port".
      sockaddr_storage local{};
      socklen_t llen = sizeof local;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0) {
        id = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
      }
    }
    timer.expires_after(std::chrono::milliseconds(conf->connect_timeout_ms));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
      if (e || self->finished) return;
      self->finish(false,
                   fmt::format("no echo reply within {} ms", self->conf->connect_timeout_ms));
    });
    wait();
  }

  void wait() {
    sock.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](const boost::system::error_code& e) {
                      if (e || self->finished) return;
                      self->on_readable();
                    });
  }

  void on_readable() {
    const int fd = sock.native_handle();
    uint8_t buf[1500];
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage from{};
      socklen_t flen = sizeof from;
      const ssize_t n =
          ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        return finish(false, fmt::format("recv: {}", std::strerror(errno)));
      }
      if (matches(buf, size_t(n), from)) {
        return finish(true,
                      fmt::format("echo reply from {} seq {}", conf->connect_ip.to_string(), seq));
      }
      ++ignored;
    }
    wait();
  }

  bool matches(const uint8_t* p, size_t n, const sockaddr_storage& from) const {
    if (v6) {
      if (from.ss_family != AF_INET6) return false;
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(&from);
      if (std::memcmp(&sa->sin6_addr, conf->connect_ip.data(), 16) != 0) return false;
    } else {
      if (from.ss_family != AF_INET) return false;
      const auto* sa = reinterpret_cast<const sockaddr_in*>(&from);
      if (std::memcmp(&sa->sin_addr, conf->connect_ip.data(), 4) != 0) return false;
      if (raw) {  // a raw IPv4 socket hands over the IP header too
        if (n < 20) return false;
        const size_t ihl = size_t(p[0] & 0x0f) * 4;
        if (ihl < 20 || n < ihl) return false;
        p += ihl;
        n -= ihl;
      }
    }
    if (n < 8) return false;
    const uint8_t reply = v6 ? uint8_t(ICMP6_ECHO_REPLY) : uint8_t(ICMP_ECHOREPLY);
    if (p[0] != reply) return false;
    const uint16_t rid = uint16_t(p[4] << 8 | p[5]);
    const uint16_t rseq = uint16_t(p[6] << 8 | p[7]);
    return rid == id && rseq == seq;
  }
};

class PingProbe final : public Probe {
 public:
  PingProbe(asio::io_context& io, const ctl::CheckerConf& conf)
      : io_(io), conf_(std::make_shared<const ctl::CheckerConf>(conf)) {}
  ~PingProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    attempt_ = std::make_shared<Attempt>(io_, conf_, ++seq_, std::move(done));
    attempt_->run();
  }
  void cancel() override {
    if (attempt_) attempt_->cancel();
    attempt_.reset();
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  uint16_t seq_ = 0;  // check_ping.c: ++seq_no per request
  std::shared_ptr<Attempt> attempt_;
};

}  // namespace

std::unique_ptr<Probe> make_ping_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf) {
  return std::make_unique<PingProbe>(io, conf);
}

}  // namespace lvs::health
