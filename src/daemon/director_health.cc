// The director's side of the health checks: the checkers' targets from the configuration, their
// verdicts into the desired state (alive, weights, quorum and the sorry server), and what the
// API and /metrics show of them. The checkers run on the Monitor's thread; their verdicts reach
// the control loop through an eventfd and are applied there like an operator's change.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cmath>

#include "ctl/quorum.h"
#include "daemon/director.h"
#include "daemon/metrics.h"
#include "health/script.h"
#include "io/bpf_maps.h"

namespace lvs::daemon {

namespace {

health::TargetKey target_key(const ctl::VirtualServerConf& vs, const ctl::RealServerConf& rs) {
  return health::TargetKey{vs.key, rs.addr, rs.port};
}

const char* yes_no(bool b) { return b ? "1" : "0"; }

}  // namespace

void Director::start_health() {
  health_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  monitor_ = std::make_unique<health::Monitor>(
      [this](const health::ServerEvent& ev) {
        {
          std::lock_guard lock(health_mu_);
          health_pending_.push_back(ev);
        }
        const uint64_t one = 1;
        if (write(health_fd_, &one, sizeof one) < 0) {
          // A saturated counter: the control loop is being woken anyway.
        }
      },
      health::MonitorOptions{});
  monitor_->start();
}

// keepalived's omega: at shutdown, a service with omega runs quorum_down if it has quorum and
// notify_down for each of its servers that is up, as if everything went down. They run here,
// before lvsd exits, each with the notify timeout; their output is logged.
void Director::run_omega_scripts() {
  std::vector<std::pair<std::string, std::string>> scripts;  // command, why
  for (const ctl::VirtualServerConf& vs : cfg_.services) {
    if (!vs.omega) continue;
    if (!vs.quorum_down.empty() && ctl::has_quorum(vs, vs.quorum_state)) {
      scripts.emplace_back(vs.quorum_down, vs.key.to_string() + " quorum_down (omega)");
    }
    for (const ctl::RealServerConf& rs : vs.real_servers) {
      if (rs.alive && !rs.notify_down.empty()) {
        scripts.emplace_back(rs.notify_down,
                             target_key(vs, rs).to_string() + " notify_down (omega)");
      }
    }
  }
  if (scripts.empty()) return;
  boost::asio::io_context io;
  std::vector<std::shared_ptr<health::Script>> running;
  for (auto& [cmd, why] : scripts) {
    running.push_back(
        health::Script::start(io, health::ScriptSpec{cmd, "", std::chrono::seconds(10)},
                              [why = why](health::ScriptResult r) {
                                spdlog::info("{}: {}{}", why, r.describe(),
                                             r.output.empty() ? "" : ": " + r.first_line());
                              }));
  }
  io.run_for(std::chrono::seconds(12));
}

void Director::stop_health() {
  if (monitor_) monitor_->stop();
  monitor_.reset();
  if (health_fd_ >= 0) ::close(health_fd_);
  health_fd_ = -1;
}

// The health the checkers last reported, over a configuration about to be applied. A server
// the checkers do not know yet starts alive, or dead when one of its checkers has alpha (the
// Monitor reports that at once too; keepalived: UNSET_ALIVE in validate_check_config()).
void Director::overlay_health(ctl::Config& cfg) const {
  for (ctl::VirtualServerConf& vs : cfg.services) {
    bool touched = false;
    for (ctl::RealServerConf& rs : vs.real_servers) {
      if (rs.checkers.empty()) continue;
      touched = true;  // its health may change apart from the file: never skipped by diff()
      const auto it = health_state_.find(target_key(vs, rs));
      if (it != health_state_.end()) {
        rs.alive = it->second.alive;
        rs.weight_delta = it->second.weight_delta;
        rs.dynamic_weight = it->second.dynamic_weight;
      } else {
        rs.alive = std::none_of(rs.checkers.begin(), rs.checkers.end(),
                                [](const ctl::CheckerConf& c) { return c.alpha; });
      }
    }
    vs.health_touched = touched;
  }
}

// Hands the Monitor the checkers of cfg_ (unchanged ones keep running as they are) and forgets
// the health of servers that are gone.
void Director::update_monitor() {
  if (!monitor_) return;
  std::vector<health::Target> targets;
  std::map<health::TargetKey, health::ServerEvent> kept;
  for (const ctl::VirtualServerConf& vs : cfg_.services) {
    for (const ctl::RealServerConf& rs : vs.real_servers) {
      if (rs.checkers.empty()) continue;
      health::Target& t = targets.emplace_back();
      t.key = target_key(vs, rs);
      t.name = t.key.to_string();
      t.checkers = rs.checkers;
      t.notify_up = rs.notify_up;
      t.notify_down = rs.notify_down;
      if (const auto it = health_state_.find(t.key); it != health_state_.end()) {
        kept.insert(*it);
      }
    }
  }
  health_state_ = std::move(kept);
  monitor_->update(std::move(targets));
}

void Director::handle_health_events() {
  uint64_t v;
  while (read(health_fd_, &v, sizeof v) > 0) {
  }
  std::vector<health::ServerEvent> events;
  {
    std::lock_guard lock(health_mu_);
    events.swap(health_pending_);
  }
  for (const health::ServerEvent& ev : events) {
    const auto vs_it =
        std::find_if(cfg_.services.begin(), cfg_.services.end(),
                     [&](const ctl::VirtualServerConf& vs) { return vs.key == ev.key.service; });
    if (vs_it == cfg_.services.end()) continue;  // removed by a reload since
    ctl::VirtualServerConf& vs = *vs_it;
    const auto rs_it = std::find_if(
        vs.real_servers.begin(), vs.real_servers.end(), [&](const ctl::RealServerConf& rs) {
          return rs.addr == ev.key.addr && rs.port == ev.key.port && !rs.checkers.empty();
        });
    if (rs_it == vs.real_servers.end()) continue;
    health_state_[ev.key] = ev;
    const ctl::VirtualServerConf before = vs;
    rs_it->alive = ev.alive;
    rs_it->weight_delta = ev.weight_delta;
    rs_it->dynamic_weight = ev.dynamic_weight;
    // keepalived's update_quorum_state(): hysteresis from the state before the change.
    const bool had = ctl::has_quorum(before, before.quorum_state);
    const bool has = ctl::has_quorum(vs, had);
    vs.quorum_state = has;
    const std::vector<ctl::Op> ops = ctl::diff_servers(before, vs);
    spdlog::info("{}: {} (weight {}){}: {}", ev.key.to_string(), ev.alive ? "up" : "down",
                 ctl::effective_weight(*rs_it),
                 ops.empty() ? ", nothing changes in the service"
                             : fmt::format(", {} change{} to the service", ops.size(),
                                           ops.size() == 1 ? "" : "s"),
                 ev.why);
    if (had != has) {
      const ctl::QuorumRule q = ctl::quorum_rule(vs);
      spdlog::warn("{}: quorum {} (live weight {}, quorum {}, hysteresis {}){}", vs.key.to_string(),
                   has ? "gained" : "lost", ctl::live_weight(vs), q.quorum, q.hysteresis,
                   vs.sorry_server ? (has ? "; sorry server out" : "; sorry server in") : "");
      const std::string& script = has ? vs.quorum_up : vs.quorum_down;
      if (!script.empty() && monitor_) {
        monitor_->run_script(
            script, fmt::format("{} {}", vs.key.to_string(), has ? "quorum_up" : "quorum_down"),
            std::chrono::seconds(10));
      }
    }
    if (ops.empty()) continue;
    std::string err;
    // A NAT server coming back is classified before the engines send it anything; one that
    // leaves stays classified while its connections drain (the periodic sync removes it).
    if (xdp_ || steal_) {
      const int bfd = xdp_ ? xdp_->backends_fd() : steal_->backends_fd();
      for (const ctl::Op& op : ops) {
        if (op.kind != ctl::Op::Kind::kAddDest && op.kind != ctl::Op::Kind::kEditDest) continue;
        if (op.dest.fwd != core::Fwd::kNat && op.dest.fwd != core::Fwd::kFullNat) continue;
        for (const uint8_t proto : {net::kProtoTcp, net::kProtoUdp, net::kProtoSctp}) {
          if (vs.key.fwmark == 0 && proto != vs.key.proto) continue;
          err = io::add_endpoint(bfd, io::make_endpoint(proto, op.dest.addr, op.dest.port));
          if (!err.empty()) spdlog::warn("{}", err);
        }
      }
      err.clear();
    }
    for_each_worker([&](core::Engine& e, io::PacketIo&) {
      const core::Status st = ctl::apply(e, ops);
      if (!st.ok()) err = st.message();
    });
    if (!err.empty()) spdlog::error("health change of {}: {}", ev.key.to_string(), err);
    for (const ctl::Op& op : ops) spdlog::debug("health: applied {}", op.to_string());
  }
}

nlohmann::json Director::health_object() {
  nlohmann::json checks = nlohmann::json::array();
  if (monitor_) {
    for (const health::CheckStatus& c : monitor_->status()) {
      checks.push_back(
          {{"service", c.key.service.to_string()},
           {"server", server_label(c.key.addr.to_string(), c.key.port)},
           {"checker", c.keyword},
           {"index", c.index},
           {"up", c.up},
           {"attempts", c.attempts},
           {"failures", c.failures},
           {"transitions", c.transitions},
           {"last",
            {{"ok", c.last.ok}, {"detail", c.last.detail}, {"latency_us", c.last.latency.count()}}},
           {"last_change_ms", c.last_change_ms}});
    }
  }
  nlohmann::json servers = nlohmann::json::array();
  for (const ctl::VirtualServerConf& vs : cfg_.services) {
    for (const ctl::RealServerConf& rs : vs.real_servers) {
      if (rs.checkers.empty()) continue;
      servers.push_back({{"service", vs.key.to_string()},
                         {"server", server_label(rs.addr.to_string(), rs.port)},
                         {"alive", rs.alive},
                         {"weight", ctl::effective_weight(rs)},
                         {"configured_weight", rs.weight}});
    }
  }
  nlohmann::json quorum = nlohmann::json::array();
  for (const ctl::VirtualServerConf& vs : cfg_.services) {
    if (!vs.sorry_server && vs.quorum_up.empty() && vs.quorum_down.empty()) continue;
    const bool has = ctl::has_quorum(vs, vs.quorum_state);
    quorum.push_back({{"service", vs.key.to_string()},
                      {"quorum", has},
                      {"live_weight", ctl::live_weight(vs)},
                      {"sorry_server_in_use", !has && vs.sorry_server.has_value()}});
  }
  return {{"checks", std::move(checks)},
          {"servers", std::move(servers)},
          {"services", std::move(quorum)}};
}

std::string Director::health_metrics() {
  if (!monitor_) return {};
  const std::vector<health::CheckStatus> st = monitor_->status();
  if (st.empty()) return {};
  std::string out;
  const auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const health::CheckStatus& c : st) {
      out +=
          fmt::format("{}{{service=\"{}\",server=\"{}\",checker=\"{}\",index=\"{}\"}} {}\n", name,
                      c.key.service.to_string(), server_label(c.key.addr.to_string(), c.key.port),
                      c.keyword, c.index, value(c));
    }
  };
  family("lvs_health_check_up", "gauge", "1 while the checker passes, 0 while it fails.",
         [](const health::CheckStatus& c) { return yes_no(c.up); });
  family("lvs_health_check_attempts_total", "counter", "Check attempts made.",
         [](const health::CheckStatus& c) { return c.attempts; });
  family("lvs_health_check_failures_total", "counter", "Check attempts that failed.",
         [](const health::CheckStatus& c) { return c.failures; });
  family("lvs_health_check_transitions_total", "counter",
         "Times the checker changed between up and down.",
         [](const health::CheckStatus& c) { return c.transitions; });
  family("lvs_health_check_latency_seconds", "gauge", "How long the last attempt took.",
         [](const health::CheckStatus& c) {
           return fmt::format("{:.6f}", double(c.last.latency.count()) / 1e6);
         });
  return out;
}

}  // namespace lvs::daemon
