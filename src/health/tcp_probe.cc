// TCP_CHECK: the attempt passes when a TCP connection to connect_ip:connect_port opens within
// connect_timeout; the socket is closed right away (keepalived's tcp_check_thread: connect_success
// -> thread_close_fd -> tcp_epilog(success)), with a reset (below).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "health/attempt.h"
#include "health/probe.h"
#include "health/tcp_connect.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct TcpAttempt : std::enable_shared_from_this<TcpAttempt> {
  TcpAttempt(asio::io_context& io, ProbeDone d)
      : socket(io), deadline(io), done(std::move(d)), started(Clock::now()) {}

  void stop() {
    boost::system::error_code ignored;
    deadline.cancel();
    socket.close(ignored);
  }
  void finish(std::string error) {
    if (!done) return;
    if (error.empty()) {
      // Closed with a reset, not a FIN: the check sent nothing and expects nothing, and at 10,000
      // checks a second an orderly close would keep 600,000 sockets in TIME_WAIT on the director
      // (beyond net.ipv4.tcp_max_tw_buckets) and cost both ends the FIN exchange.
      boost::system::error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
    }
    stop();
    const bool ok = error.empty();
    deliver(done, ok, std::move(error), started);
  }

  asio::ip::tcp::socket socket;
  asio::steady_timer deadline;
  ProbeDone done;
  Clock::time_point started;
};

class TcpProbe final : public Probe {
 public:
  TcpProbe(asio::io_context& io, const ctl::CheckerConf& conf) : io_(io), conf_(conf) {}
  ~TcpProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    auto a = std::make_shared<TcpAttempt>(io_, std::move(done));
    current_ = a;
    arm_deadline(a, conf_.connect_timeout_ms);  // the connect reports the timeout
    async_tcp_connect(a->socket, a->deadline, conf_,
                      [a](std::string error) { a->finish(std::move(error)); });
  }

  void cancel() override { cancel_attempt(current_); }

 private:
  asio::io_context& io_;
  const ctl::CheckerConf conf_;
  std::shared_ptr<TcpAttempt> current_;
};

}  // namespace

std::unique_ptr<Probe> make_tcp_probe(asio::io_context& io, const ctl::CheckerConf& conf) {
  return std::make_unique<TcpProbe>(io, conf);
}

}  // namespace lvs::health
