// The health loop: every checker of every real server on one thread running an io_context, one
// timer per checker (10,000 checkers are 10,000 timers, not threads). Each checker's schedule and
// verdict is a CheckState; its attempts are a Probe (make_probe()). A server is alive when every
// checker is up (keepalived: num_failed_checkers == 0); on_change tells the owner when a server's
// alive, FILE_CHECK weight delta or MISC_CHECK dynamic weight changes, and notify_up/notify_down
// run then.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/types.h"
#include "ctl/config.h"
#include "health/probe.h"

namespace lvs::health {

struct TargetKey {  // one real server (or sorry server) of one service
  core::ServiceKey service;
  net::IpAddr addr;
  uint16_t port = 0;
  // core::ServiceKey has == only, so the order is written out.
  friend bool operator==(const TargetKey&, const TargetKey&) = default;
  friend bool operator<(const TargetKey& a, const TargetKey& b) {
    const auto& x = a.service;
    const auto& y = b.service;
    return std::tie(x.proto, x.addr, x.port, x.fwmark, a.addr, a.port) <
           std::tie(y.proto, y.addr, y.port, y.fwmark, b.addr, b.port);
  }
  std::string to_string() const;  // "198.18.1.10:80 of TCP 198.18.0.100:80"
};

struct Target {
  TargetKey key;
  std::string name;                        // for logs: "198.18.1.10:80 of TCP 198.18.0.100:80"
  std::vector<ctl::CheckerConf> checkers;  // non-empty
  std::string notify_up, notify_down;      // command lines, run when the server's state changes
};

struct ServerEvent {  // the server's aggregate changed
  TargetKey key;
  bool alive = true;                      // every checker up (keepalived: num_failed_checkers == 0)
  int32_t weight_delta = 0;               // sum of FILE_CHECK deltas
  std::optional<int32_t> dynamic_weight;  // MISC_CHECK misc_dynamic's last weight, if any
  std::string why;  // "HTTP_GET: status 503 not in 200-299" / "TCP_CHECK: connected"
};

struct CheckStatus {  // one checker, for the API and /metrics
  TargetKey key;
  std::string name;
  uint32_t index = 0;
  std::string keyword;
  bool up = true;
  uint64_t attempts = 0, failures = 0, transitions = 0;
  ProbeResult last;
  int64_t last_change_ms = -1;  // ms since the monitor started, -1 none
};

struct MonitorOptions {
  std::string host_name;  // empty: gethostname()
  uint64_t seed = 0;      // warmup randomness; 0: random
  // keepalived's BOOTSTRAP_DELAY: a new checker's first attempt waits this plus its warmup share.
  std::chrono::milliseconds bootstrap{1000};
  std::chrono::milliseconds notify_timeout{10000};  // notify_up/notify_down scripts
};

// Field-by-field equality of two checker blocks, their source locations aside (a line moved by a
// reload does not restart a checker).
bool same_checker(const ctl::CheckerConf& a, const ctl::CheckerConf& b);

class Monitor {
 public:
  using OnChange = std::function<void(const ServerEvent&)>;  // called on the loop thread
  Monitor(OnChange on_change, MonitorOptions options);
  ~Monitor();    // stop()
  void start();  // the loop thread (one std::thread running an io_context)
  void stop();   // cancels every probe and script, joins; idempotent
  // Replaces the whole set. A checker equal (same_checker) to a running one of the same target
  // keeps its state and schedule; new ones start as their alpha says; gone ones are cancelled.
  // A new target counts as alive with no weight change until its checkers say otherwise: with
  // alpha, on_change reports it dead at once. Thread-safe, returns at once (posts to the loop).
  void update(std::vector<Target> targets);
  // Runs a command line (quorum_up/down) with a timeout; output logged. Thread-safe.
  void run_script(std::string command, std::string why, std::chrono::milliseconds timeout);
  std::vector<CheckStatus> status() const;   // thread-safe snapshot
  std::vector<ServerEvent> servers() const;  // every target's current aggregate; thread-safe
  size_t size() const;                       // checkers running; thread-safe

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvs::health
