// DNS_CHECK (keepalived's check_dns.c): one UDP query for dns_name/dns_type from a connected UDP
// socket; the first reply with our ID and QR set decides (RCODE 0 passes, anything else fails).
// Datagrams that are not our answer (too short, other ID, QR clear) are ignored until the deadline,
// as dns_recv_thread() does. A new random ID per attempt (keepalived: random()).
#include <fmt/format.h>

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "health/attempt.h"
#include "health/dns_wire.h"
#include "health/probe.h"
#include "health/socket_opts.h"
#include "health/tcp_connect.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;

struct DnsAttempt : std::enable_shared_from_this<DnsAttempt> {
  DnsAttempt(asio::io_context& io, std::shared_ptr<const ctl::CheckerConf> c, ProbeDone d)
      : socket(io),
        deadline(io),
        conf_ptr(std::move(c)),
        conf(*conf_ptr),
        done(std::move(d)),
        started(Clock::now()) {}

  void stop() {
    boost::system::error_code ignored;
    deadline.cancel();
    socket.close(ignored);
  }
  void finish(bool ok, std::string detail) {
    if (!done) return;
    stop();
    deliver(done, ok, std::move(detail), started);
  }

  void run(uint16_t id) {
    query_id = id;
    std::string error;
    if (!dns::build_query(id, conf.dns_name, conf.dns_type, &query, &error)) {
      return fail_soon(error);
    }
    const udp::endpoint ep(to_asio_address(conf.connect_ip), conf.connect_port);
    boost::system::error_code oc;
    socket.open(ep.protocol(), oc);
    if (oc) return fail_soon("socket: " + error_text(oc));
    error = apply_socket_options(socket.native_handle(), conf);
    if (!error.empty()) return fail_soon(error);
    // Connected, as keepalived's socket_bind_connect(): only the server's datagrams arrive, and an
    // ICMP port unreachable comes back as ECONNREFUSED on receive. A UDP connect does not block.
    socket.connect(ep, oc);
    if (oc) return fail_soon("connect: " + error_text(oc));
    socket.async_send(asio::buffer(query), [self = shared_from_this()](
                                               const boost::system::error_code& ec, size_t n) {
      if (ec) {
        if (deadline_passed(self->deadline)) {
          return self->finish(false, timeout_detail(self->conf.connect_timeout_ms, "sending"));
        }
        return self->finish(false, "send: " + error_text(ec));
      }
      if (n != self->query.size()) return self->finish(false, "send: short write");
      self->receive();
    });
  }

  void receive() {
    socket.async_receive(asio::buffer(buf),
                         [self = shared_from_this()](const boost::system::error_code& ec,
                                                     size_t n) { self->on_receive(ec, n); });
  }

  void on_receive(const boost::system::error_code& ec, size_t n) {
    if (ec) {
      if (deadline_passed(deadline)) {
        std::string d = timeout_detail(conf.connect_timeout_ms, "waiting for the reply");
        if (ignored_count > 0) {
          d += fmt::format(" (ignored {} datagrams; last: {})", ignored_count, last_why);
        }
        return finish(false, std::move(d));
      }
      return finish(false, "recv: " + error_text(ec));
    }
    const dns::ReplyVerdict v = dns::judge_reply(query_id, std::span(buf.data(), n));
    switch (v.kind) {
      case dns::ReplyVerdict::Kind::kPass:
        return finish(true, "");
      case dns::ReplyVerdict::Kind::kFail:
        return finish(false, "reply " + v.why);
      case dns::ReplyVerdict::Kind::kIgnore:
        ++ignored_count;
        last_why = v.why;
        return receive();
    }
  }

  void fail_soon(std::string detail) {
    asio::post(socket.get_executor(), [self = shared_from_this(), detail = std::move(detail)] {
      self->finish(false, detail);
    });
  }

  udp::socket socket;
  asio::steady_timer deadline;
  // Shared with the probe: a cancelled attempt's handlers may run after the probe is gone.
  std::shared_ptr<const ctl::CheckerConf> conf_ptr;
  const ctl::CheckerConf& conf;
  ProbeDone done;
  Clock::time_point started;
  uint16_t query_id = 0;
  std::vector<uint8_t> query;
  // keepalived reads into DNS_BUFFER_SIZE (768); only the header matters, a longer datagram is
  // cut, which is harmless.
  std::array<uint8_t, 1024> buf{};
  unsigned ignored_count = 0;
  std::string last_why;
};

class DnsProbe final : public Probe {
 public:
  DnsProbe(asio::io_context& io, const ctl::CheckerConf& conf)
      : io_(io), conf_(std::make_shared<ctl::CheckerConf>(conf)), rng_(std::random_device{}()) {}
  ~DnsProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    auto a = std::make_shared<DnsAttempt>(io_, conf_, std::move(done));
    current_ = a;
    arm_deadline(a, conf_->connect_timeout_ms);  // the pending receive reports the timeout
    a->run(uint16_t(std::uniform_int_distribution<unsigned>(0, 0xffff)(rng_)));
  }

  void cancel() override { cancel_attempt(current_); }

 private:
  asio::io_context& io_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  std::mt19937 rng_;
  std::shared_ptr<DnsAttempt> current_;
};

}  // namespace

std::unique_ptr<Probe> make_dns_probe(asio::io_context& io, const ctl::CheckerConf& conf) {
  return std::make_unique<DnsProbe>(io, conf);
}

}  // namespace lvs::health
