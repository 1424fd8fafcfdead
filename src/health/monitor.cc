#include "health/monitor.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <random>

#include "health/check_state.h"
#include "health/script.h"

namespace lvs::health {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string TargetKey::to_string() const {
  const std::string a = addr.is_v6() ? fmt::format("[{}]", addr.to_string()) : addr.to_string();
  return fmt::format("{}:{} of {}", a, port, service.to_string());
}

namespace {

bool same_url(const ctl::HttpUrlConf& a, const ctl::HttpUrlConf& b) {
  return a.path == b.path && a.digest == b.digest && a.status_codes == b.status_codes &&
         a.virtualhost == b.virtualhost;
}

}  // namespace

bool same_checker(const ctl::CheckerConf& a, const ctl::CheckerConf& b) {
  if (a.urls.size() != b.urls.size()) return false;
  for (size_t i = 0; i < a.urls.size(); ++i) {
    if (!same_url(a.urls[i], b.urls[i])) return false;
  }
  return a.kind == b.kind && a.keyword == b.keyword && a.connect_ip == b.connect_ip &&
         a.connect_port == b.connect_port && a.bindto == b.bindto && a.bind_port == b.bind_port &&
         a.bind_if == b.bind_if && a.fwmark == b.fwmark &&
         a.connect_timeout_ms == b.connect_timeout_ms && a.delay_loop_ms == b.delay_loop_ms &&
         a.retry == b.retry && a.delay_before_retry_ms == b.delay_before_retry_ms &&
         a.warmup_ms == b.warmup_ms && a.alpha == b.alpha &&
         a.log_all_failures == b.log_all_failures && a.rise == b.rise &&
         a.virtualhost == b.virtualhost && a.http_protocol == b.http_protocol &&
         a.enable_sni == b.enable_sni && a.sni_name == b.sni_name &&
         a.tls_compliant == b.tls_compliant && a.fast_recovery == b.fast_recovery &&
         a.helo_name == b.helo_name && a.dns_type == b.dns_type && a.dns_name == b.dns_name &&
         a.payload == b.payload && a.require_reply == b.require_reply &&
         a.reply_prefix == b.reply_prefix && a.min_reply_length == b.min_reply_length &&
         a.max_reply_length == b.max_reply_length && a.misc_path == b.misc_path &&
         a.misc_timeout_ms == b.misc_timeout_ms && a.misc_dynamic == b.misc_dynamic &&
         a.user == b.user && a.track_file == b.track_file && a.file_path == b.file_path &&
         a.file_weight == b.file_weight && a.file_reverse == b.file_reverse;
}

namespace {

struct Checker {
  Checker(asio::io_context& io, ctl::CheckerConf c, CheckSchedule s)
      : conf(std::move(c)), state(s), timer(io) {}
  TargetKey key;
  std::string name;
  uint32_t index = 0;
  ctl::CheckerConf conf;
  CheckState state;
  std::unique_ptr<Probe> probe;
  asio::steady_timer timer;
  bool removed = false;
};

struct TargetRec {
  Target target;  // its checkers field is left empty: the confs live in `checkers`
  std::vector<std::shared_ptr<Checker>> checkers;
  ServerEvent reported;  // the aggregate on_change last told (a new target: alive, no change)
};

// What to do once the lock is dropped: on_change and notify scripts.
struct Pending {
  std::vector<ServerEvent> events;
  std::vector<std::pair<std::string, std::string>> scripts;  // command, why
};

}  // namespace

struct Monitor::Impl {
  Impl(OnChange cb, MonitorOptions o)
      : on_change(std::move(cb)),
        opts(std::move(o)),
        ssl(asio::ssl::context::tls_client),
        work(asio::make_work_guard(io)),
        t0(Clock::now()) {
    ssl.set_verify_mode(asio::ssl::verify_none);
    if (opts.host_name.empty()) {
      char host[256] = {};
      if (::gethostname(host, sizeof host - 1) == 0) opts.host_name = host;
    }
    env.tls = &ssl;
    env.host_name = opts.host_name;
    rng.seed(opts.seed != 0 ? opts.seed : std::random_device{}());
  }

  OnChange on_change;
  MonitorOptions opts;
  // Declared before io: probes keep pointers into env until the io_context's handlers are gone.
  asio::ssl::context ssl;
  ProbeEnv env;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  Clock::time_point t0;
  std::mt19937_64 rng;
  std::mutex life_mu;  // start/stop
  bool started = false;
  bool stopped = false;

  mutable std::mutex mu;  // targets: written on the loop, read by status()/servers()
  std::map<TargetKey, TargetRec> targets;
  std::atomic<size_t> count{0};
  std::list<std::weak_ptr<Script>> scripts;  // running notify/quorum scripts (loop thread)

  uint64_t now_ms() const {
    return uint64_t(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
  }

  static ServerEvent aggregate(const TargetRec& rec) {
    ServerEvent e;
    e.key = rec.target.key;
    for (const auto& c : rec.checkers) {
      if (!c->state.up()) e.alive = false;
      const auto& w = c->state.weight();
      if (c->conf.kind == ctl::CheckKind::kFile) e.weight_delta += w.value_or(0);
      if (c->conf.kind == ctl::CheckKind::kMisc && c->conf.misc_dynamic && w) e.dynamic_weight = w;
    }
    return e;
  }
  static bool differs(const ServerEvent& a, const ServerEvent& b) {
    return a.alive != b.alive || a.weight_delta != b.weight_delta ||
           a.dynamic_weight != b.dynamic_weight;
  }

  void schedule(const std::shared_ptr<Checker>& c) {
    c->timer.expires_at(t0 + std::chrono::milliseconds(c->state.next_ms()));
    c->timer.async_wait([this, c](const boost::system::error_code& ec) {
      if (ec || c->removed) return;
      std::weak_ptr<Checker> w = c;
      c->probe->start([this, w](ProbeResult r) {
        auto me = w.lock();
        if (me && !me->removed) on_result(me, std::move(r));
      });
    });
  }

  void on_result(const std::shared_ptr<Checker>& c, ProbeResult r) {
    Pending p;
    {
      std::lock_guard lock(mu);
      const std::optional<int32_t> weight_before = c->state.weight();
      const Verdict v = c->state.on_result(now_ms(), r);
      if (v.transition != Transition::kNone) {
        spdlog::info("{}: {} {}: {}", c->name, c->conf.keyword, to_string(v.transition), v.why);
      } else if (!r.ok && c->conf.log_all_failures) {
        spdlog::info(
            "{}: {} failed: {}{}", c->name, c->conf.keyword, r.detail,
            v.retrying ? fmt::format(" (retry {} of {})", c->state.retries(), c->conf.retry) : "");
      }
      // The usual result changes nothing: no lookup, no aggregate (12,000 checks a second).
      const bool same = v.transition == Transition::kNone && c->state.weight() == weight_before;
      auto it = same ? targets.end() : targets.find(c->key);
      if (it != targets.end()) {
        TargetRec& rec = it->second;
        ServerEvent e = aggregate(rec);
        if (differs(e, rec.reported)) {
          e.why = fmt::format("{}: {}", c->conf.keyword,
                              v.transition != Transition::kNone ? v.why : r.detail);
          if (e.alive != rec.reported.alive) {
            const std::string& cmd = e.alive ? rec.target.notify_up : rec.target.notify_down;
            if (!cmd.empty()) {
              p.scripts.emplace_back(
                  cmd,
                  fmt::format("{} {}", e.alive ? "notify_up" : "notify_down", rec.target.name));
            }
          }
          rec.reported = e;
          p.events.push_back(std::move(e));
        }
      }
    }
    schedule(c);
    deliver(p);
  }

  void deliver(Pending& p) {
    for (const auto& e : p.events) {
      if (on_change) on_change(e);
    }
    for (auto& [cmd, why] : p.scripts) run(std::move(cmd), std::move(why), opts.notify_timeout);
  }

  // A notify or quorum script: fire and forget, its result and output logged.
  void run(std::string command, std::string why, std::chrono::milliseconds timeout) {
    scripts.remove_if([](const std::weak_ptr<Script>& w) { return w.expired(); });
    spdlog::info("{}: running {}", why, command);
    auto s = Script::start(io, ScriptSpec{command, "", timeout}, [why, command](ScriptResult r) {
      auto log = r.ok() ? spdlog::level::info : spdlog::level::warn;
      spdlog::log(log, "{}: {}: {}{}{}", why, command, r.describe(),
                  r.output.empty() ? "" : "; output: ",
                  r.output.size() > 1000 ? r.output.substr(0, 1000) : r.output);
    });
    scripts.push_back(s);
  }

  void apply(std::vector<Target> next_targets) {
    Pending p;
    std::vector<std::shared_ptr<Checker>> gone;
    {
      std::lock_guard lock(mu);
      const uint64_t now = now_ms();
      std::map<TargetKey, TargetRec> next;
      size_t n = 0;
      for (auto& t : next_targets) {
        auto old = targets.find(t.key);
        std::vector<std::shared_ptr<Checker>> pool;
        TargetRec rec;
        rec.reported.key = t.key;
        if (old != targets.end()) {
          pool = std::move(old->second.checkers);
          rec.reported = old->second.reported;
        }
        std::vector<ctl::CheckerConf> confs = std::move(t.checkers);
        rec.target = std::move(t);
        for (size_t i = 0; i < confs.size(); ++i) {
          std::shared_ptr<Checker> c;
          for (auto& o : pool) {
            if (o && same_checker(o->conf, confs[i])) {
              c = std::move(o);
              o.reset();
              break;
            }
          }
          if (!c) {
            c = std::make_shared<Checker>(
                io, confs[i], CheckSchedule::of(confs[i], uint64_t(opts.bootstrap.count())));
            c->probe = make_probe(io, c->conf, env);
            if (!c->probe) {
              spdlog::error("{}: {}: no probe for this checker kind; ignored", rec.target.name,
                            confs[i].keyword);
              continue;
            }
            const double f = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            c->state.start(now, f);
            c->key = rec.target.key;
            c->name = rec.target.name;
            schedule(c);
          }
          c->name = rec.target.name;
          c->index = uint32_t(i);
          rec.checkers.push_back(std::move(c));
        }
        for (auto& o : pool) {
          if (o) gone.push_back(std::move(o));
        }
        if (old != targets.end()) targets.erase(old);
        n += rec.checkers.size();
        const TargetKey key = rec.target.key;
        next.insert_or_assign(key, std::move(rec));
      }
      for (auto& [key, rec] : targets) {
        for (auto& c : rec.checkers) gone.push_back(std::move(c));
      }
      targets = std::move(next);
      count = n;
      for (auto& [key, rec] : targets) {
        ServerEvent e = aggregate(rec);
        if (!differs(e, rec.reported)) continue;
        std::string why = "checkers changed";
        for (const auto& c : rec.checkers) {
          if (!c->state.up() && !c->state.has_run()) {
            why = fmt::format("{}: alpha: down until a check succeeds", c->conf.keyword);
            break;
          }
        }
        e.why = why;
        rec.reported = e;
        p.events.push_back(std::move(e));
      }
    }
    for (auto& c : gone) {
      c->removed = true;
      c->timer.cancel();
      c->probe->cancel();
    }
    deliver(p);
  }

  void cancel_all() {
    std::lock_guard lock(mu);
    for (auto& [key, rec] : targets) {
      for (auto& c : rec.checkers) {
        c->removed = true;
        c->timer.cancel();
        c->probe->cancel();
      }
    }
    for (auto& w : scripts) {
      if (auto s = w.lock()) s->cancel();
    }
  }
};

Monitor::Monitor(OnChange on_change, MonitorOptions options)
    : impl_(std::make_unique<Impl>(std::move(on_change), std::move(options))) {}

Monitor::~Monitor() { stop(); }

void Monitor::start() {
  std::lock_guard lock(impl_->life_mu);
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  // A name to find the loop's CPU by (/proc/self/task/*/comm, top -H, perf top -t).
  ::pthread_setname_np(impl_->thread.native_handle(), "lvs-health");
}

void Monitor::stop() {
  std::lock_guard lock(impl_->life_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->thread.joinable()) {
    asio::post(impl_->io, [impl = impl_.get()] {
      impl->cancel_all();
      impl->work.reset();
      impl->io.stop();
    });
    impl_->thread.join();
  } else {
    impl_->cancel_all();
    impl_->work.reset();
    impl_->io.stop();
  }
  // The loop is gone: the checkers (and their probes) go now; handlers still queued in the
  // io_context go with it.
  std::lock_guard l(impl_->mu);
  impl_->targets.clear();
  impl_->count = 0;
}

void Monitor::update(std::vector<Target> targets) {
  asio::post(impl_->io,
             [impl = impl_.get(), t = std::move(targets)]() mutable { impl->apply(std::move(t)); });
}

void Monitor::run_script(std::string command, std::string why, std::chrono::milliseconds timeout) {
  asio::post(impl_->io, [impl = impl_.get(), c = std::move(command), w = std::move(why),
                         timeout]() mutable { impl->run(std::move(c), std::move(w), timeout); });
}

std::vector<CheckStatus> Monitor::status() const {
  std::vector<CheckStatus> out;
  std::lock_guard lock(impl_->mu);
  out.reserve(impl_->count);
  for (const auto& [key, rec] : impl_->targets) {
    for (const auto& c : rec.checkers) {
      CheckStatus s;
      s.key = key;
      s.name = rec.target.name;
      s.index = c->index;
      s.keyword = c->conf.keyword;
      s.up = c->state.up();
      s.attempts = c->state.attempts();
      s.failures = c->state.failures();
      s.transitions = c->state.transitions();
      s.last = c->state.last();
      s.last_change_ms = c->state.last_change_ms();
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<ServerEvent> Monitor::servers() const {
  std::vector<ServerEvent> out;
  std::lock_guard lock(impl_->mu);
  for (const auto& [key, rec] : impl_->targets) out.push_back(rec.reported);
  return out;
}

size_t Monitor::size() const { return impl_->count; }

}  // namespace lvs::health
