// MISC_CHECK: runs misc_path through /bin/sh -c (script.h) as `user`, bounded by misc_timeout
// (0: the checker's delay_loop, as keepalived's misc_check_thread() uses vs->delay_loop).
// Verdict as check_misc.c misc_check_child_thread(): exit 0 passes; with misc_dynamic an exit
// status 2..255 passes too and asks for weight status - 2 (exit 0 puts the configured weight
// back: weight nullopt); any other exit fails, a signal fails, a timeout fails ("timed out").
// keepalived sends SIGTERM at the timeout and SIGKILL 2 s later; lvs kills the group at once.
#include <fmt/format.h>

#include "health/probe.h"
#include "health/script.h"

namespace lvs::health {
namespace {

class MiscProbe final : public Probe {
 public:
  MiscProbe(boost::asio::io_context& io, const ctl::CheckerConf& conf)
      : io_(io),
        spec_{conf.misc_path, conf.user,
              std::chrono::milliseconds(conf.misc_timeout_ms != 0 ? conf.misc_timeout_ms
                                                                  : conf.delay_loop_ms)},
        dynamic_(conf.misc_dynamic) {}
  ~MiscProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    const bool dynamic = dynamic_;
    script_ = Script::start(io_, spec_, [done = std::move(done), dynamic](ScriptResult r) {
      done(verdict(r, dynamic));
    });
  }

  void cancel() override {
    if (script_) script_->cancel();
    script_.reset();
  }

  static ProbeResult verdict(const ScriptResult& r, bool dynamic) {
    ProbeResult p;
    p.latency = r.elapsed;
    const std::string line = r.first_line();
    const auto with_line = [&](std::string s) {
      return line.empty() ? s : fmt::format("{}: {}", s, line);
    };
    if (!r.started) {
      p.detail = r.describe();
      return p;
    }
    if (r.exited) {
      const int status = r.exit_status;
      if (status == 0) {
        p.ok = true;
        p.detail = with_line("exit status 0");
      } else if (dynamic && status >= 2 && status <= 255) {
        p.ok = true;
        p.weight = status - 2;
        p.detail = with_line(fmt::format("exit status {}: weight {}", status, status - 2));
      } else {
        p.detail = with_line(fmt::format("exited with status {}", status));
      }
      return p;
    }
    p.detail = with_line(r.describe());  // "timed out after N ms", "killed by signal 9 (Killed)"
    return p;
  }

 private:
  boost::asio::io_context& io_;
  ScriptSpec spec_;
  bool dynamic_;
  std::shared_ptr<Script> script_;
};

}  // namespace

std::unique_ptr<Probe> make_misc_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf) {
  return std::make_unique<MiscProbe>(io, conf);
}

}  // namespace lvs::health
