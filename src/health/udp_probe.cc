// UDP_CHECK, as keepalived's check_udp.c with core/layer4.c udp_bind_connect(),
// udp_socket_state() and udp_socket_error(): a connected UDP socket with IP(V6)_RECVERR sends
// the payload (none configured: 32 bytes of "keepalived check - ...", keepalived's set_buf()).
//  - without require_reply: an ICMP destination unreachable (port, host, net, ...) or a failing
//    recv fails; any reply, or silence until the timeout, passes;
//  - with require_reply: silence until the timeout fails; a reply passes, except when reply bytes
//    were given (reply_prefix): then its length must be within min..max_reply_length and its
//    first min(length, prefix length) bytes must equal the prefix (check_udp_reply(); keepalived
//    checks the lengths only together with the bytes, and so does lvs).
// Other ICMP errors (time exceeded, ...) are ignored, as udp_socket_error() does.
#include <fmt/format.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

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

std::vector<uint8_t> default_payload() {
  // keepalived's set_buf(): the text repeated over UDP_BUFSIZE (32) bytes.
  static const char kText[] = "keepalived check - ";
  std::vector<uint8_t> p(32);
  for (size_t i = 0; i < p.size(); ++i) p[i] = uint8_t(kText[i % (sizeof kText - 1)]);
  return p;
}

std::string hex_byte(uint8_t b) { return fmt::format("0x{:02x}", b); }

struct Attempt : DescriptorAttempt, std::enable_shared_from_this<Attempt> {
  Attempt(asio::io_context& io, std::shared_ptr<const ctl::CheckerConf> c, ProbeDone d)
      : DescriptorAttempt(io, std::move(d)), conf_ptr(std::move(c)), conf(*conf_ptr) {}
  std::shared_ptr<const ctl::CheckerConf> conf_ptr;  // shared: the probe may go first
  const ctl::CheckerConf& conf;
  std::vector<uint8_t> buf = std::vector<uint8_t>(65536);

  void run() {
    const bool v6 = conf.connect_ip.is_v6();
    const int fd =
        ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return post_fail(fmt::format("socket: {}", std::strerror(errno)));
    boost::system::error_code ec;
    sock.assign(fd, ec);
    const int on = 1;
    ::setsockopt(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &on, sizeof on);
    if (auto err = apply_socket_options(fd, conf); !err.empty()) return post_fail(err);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
      sa->sin6_family = AF_INET6;
      sa->sin6_port = htons(conf.connect_port);
      std::memcpy(&sa->sin6_addr, conf.connect_ip.data(), 16);
      len = sizeof *sa;
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
      sa->sin_family = AF_INET;
      sa->sin_port = htons(conf.connect_port);
      std::memcpy(&sa->sin_addr, conf.connect_ip.data(), 4);
      len = sizeof *sa;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      return post_fail(fmt::format("connect: {}", std::strerror(errno)));
    }
    static const std::vector<uint8_t> kDefault = default_payload();
    const auto& payload = conf.payload.empty() ? kDefault : conf.payload;
    const ssize_t n = ::send(fd, payload.data(), payload.size(), 0);
    if (n != ssize_t(payload.size())) {
      return post_fail(n < 0 ? fmt::format("send: {}", std::strerror(errno))
                             : fmt::format("send: {} of {} bytes", n, payload.size()));
    }
    timer.expires_after(std::chrono::milliseconds(conf.connect_timeout_ms));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
      if (e || self->finished) return;
      // udp_socket_state(): a read timeout passes unless a reply is required.
      if (self->conf.require_reply) {
        self->finish(false, fmt::format("no reply within {} ms", self->conf.connect_timeout_ms));
      } else {
        self->finish(true, fmt::format("no reply and no ICMP error within {} ms",
                                       self->conf.connect_timeout_ms));
      }
    });
    wait();
  }

  void post_fail(std::string detail) {
    // Failures before anything was sent are still reported from the loop, not from start().
    asio::post(sock.get_executor(), [self = shared_from_this(), d = std::move(detail)]() mutable {
      self->finish(false, std::move(d));
    });
  }

  void wait() {
    sock.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](const boost::system::error_code& e) {
                      if (e || self->finished) return;
                      self->on_readable();
                    });
  }

  // An ICMP error queued for the socket: "" when none or not a destination unreachable.
  std::string icmp_error(int fd, bool& found) {
    found = false;
    char data[64];
    alignas(cmsghdr) char control[512];
    iovec iov{data, sizeof data};
    sockaddr_storage from{};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return {};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      if (v4 && ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_type == ICMP_DEST_UNREACH) {
        found = true;
        static const char* const kCodes[] = {"network unreachable", "host unreachable",
                                             "protocol unreachable", "port unreachable"};
        const char* what = ee.ee_code < 4 ? kCodes[ee.ee_code] : "destination unreachable";
        return fmt::format("ICMP {} (code {}): {}", what, ee.ee_code,
                           std::strerror(int(ee.ee_errno)));
      }
      if (v6 && ee.ee_origin == SO_EE_ORIGIN_ICMP6 && ee.ee_type == ICMP6_DST_UNREACH) {
        found = true;
        const char* what = ee.ee_code == ICMP6_DST_UNREACH_NOPORT    ? "port unreachable"
                           : ee.ee_code == ICMP6_DST_UNREACH_NOROUTE ? "no route"
                           : ee.ee_code == ICMP6_DST_UNREACH_ADDR    ? "address unreachable"
                                                                     : "destination unreachable";
        return fmt::format("ICMPv6 {} (code {}): {}", what, ee.ee_code,
                           std::strerror(int(ee.ee_errno)));
      }
    }
    return {};
  }

  void on_readable() {
    const int fd = sock.native_handle();
    for (int guard = 0; guard < 16; ++guard) {
      bool found = false;
      std::string icmp = icmp_error(fd, found);
      if (found) return finish(false, icmp);
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return wait();
        if (errno == EINTR) continue;
        // The error an ICMP message left on the socket whose queue entry was already taken.
        return finish(false, fmt::format("recv: {}", std::strerror(errno)));
      }
      return on_reply(size_t(n));
    }
    wait();
  }

  void on_reply(size_t len) {
    if (!conf.require_reply || conf.reply_prefix.empty()) {
      return finish(true, fmt::format("reply of {} bytes", len));
    }
    const size_t max = conf.max_reply_length != 0 ? conf.max_reply_length : SIZE_MAX;
    if (len < conf.min_reply_length || len > max) {
      return finish(false, conf.max_reply_length != 0
                               ? fmt::format("reply of {} bytes, expected {}..{}", len,
                                             conf.min_reply_length, conf.max_reply_length)
                               : fmt::format("reply of {} bytes, expected at least {}", len,
                                             conf.min_reply_length));
    }
    const size_t n = std::min({len, conf.reply_prefix.size(), buf.size()});
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != conf.reply_prefix[i]) {
        return finish(false, fmt::format("reply byte {} is {}, expected {}", i, hex_byte(buf[i]),
                                         hex_byte(conf.reply_prefix[i])));
      }
    }
    finish(true, fmt::format("reply of {} bytes matches", len));
  }
};

class UdpProbe final : public Probe {
 public:
  UdpProbe(asio::io_context& io, const ctl::CheckerConf& conf)
      : io_(io), conf_(std::make_shared<const ctl::CheckerConf>(conf)) {}
  ~UdpProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    attempt_ = std::make_shared<Attempt>(io_, conf_, std::move(done));
    attempt_->run();
  }
  void cancel() override {
    if (attempt_) attempt_->cancel();
    attempt_.reset();
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  std::shared_ptr<Attempt> attempt_;
};

}  // namespace

std::unique_ptr<Probe> make_udp_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf) {
  return std::make_unique<UdpProbe>(io, conf);
}

}  // namespace lvs::health
