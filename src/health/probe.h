// One health check attempt against one real server, as keepalived's checkers make them
// (keepalived/check/check_*.c), run on the health loop's io_context. The checker's schedule
// (delay_loop, retry, delay_before_retry, rise, alpha) is not here: check_state.h decides when
// an attempt starts and what its result means; a probe only makes the attempt.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ctl/config.h"

namespace boost::asio::ssl {
class context;
}

namespace lvs::health {

struct ProbeResult {
  bool ok = false;
  // Why it failed, in words an operator reads in the log and the API ("connect: Connection
  // refused", "status 503 not in 200-299", "timeout after 3000 ms in TLS handshake"); on
  // success a short note or empty.
  std::string detail;
  std::chrono::microseconds latency{0};  // from start() to the result
  // MISC_CHECK with misc_dynamic: the weight the exit status asks for. FILE_CHECK: the weight
  // change the file asks for (its number times the checker's weight, reversed if asked, within
  // -253..253 as keepalived's weight_range()). nullopt: the weight stays.
  std::optional<int32_t> weight;
};

using ProbeDone = std::function<void(ProbeResult)>;

// What probes share and do not own.
struct ProbeEnv {
  boost::asio::ssl::context* tls = nullptr;  // client context for SSL_GET (no verification)
  std::string host_name;                     // this host's name (SMTP HELO default)
};

// start() begins one attempt; it ends by calling `done` exactly once, on the loop thread, at the
// latest when the checker's connect_timeout has passed (the whole attempt's budget: connect,
// TLS, request, reply; HTTP_GET/SSL_GET: per url, so at most urls.size() x connect_timeout). cancel() ends a running attempt without calling `done` (a reload removed
// the checker, or lvsd stops); after it the probe may be destroyed or started again. A probe is
// made once per checker and reused for every attempt; it holds no socket between attempts.
// A probe never blocks the loop and never throws out of start() or its handlers.
class Probe {
 public:
  virtual ~Probe() = default;
  virtual void start(ProbeDone done) = 0;
  virtual void cancel() = 0;
};

// The probe for conf.kind (probe_factory.cc).
std::unique_ptr<Probe> make_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf,
                                  const ProbeEnv& env);

// One factory per kind, each in its own file.
std::unique_ptr<Probe> make_tcp_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf);
std::unique_ptr<Probe> make_http_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf,
                                       const ProbeEnv& env);  // HTTP_GET and SSL_GET
std::unique_ptr<Probe> make_smtp_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf,
                                       const ProbeEnv& env);
std::unique_ptr<Probe> make_dns_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf);
std::unique_ptr<Probe> make_udp_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf);
std::unique_ptr<Probe> make_ping_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf);
std::unique_ptr<Probe> make_misc_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf);
std::unique_ptr<Probe> make_file_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf);

}  // namespace lvs::health
