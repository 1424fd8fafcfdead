#include "health/check_state.h"

#include <fmt/format.h>

#include <algorithm>

namespace lvs::health {

CheckSchedule CheckSchedule::of(const ctl::CheckerConf& conf, uint64_t bootstrap_ms) {
  CheckSchedule s;
  s.delay_loop_ms = conf.delay_loop_ms;
  s.delay_before_retry_ms = conf.delay_before_retry_ms;
  s.warmup_ms = conf.warmup_ms;
  s.bootstrap_ms = bootstrap_ms;
  s.retry = conf.retry;
  s.rise = conf.rise;
  s.alpha = conf.alpha;
  s.fast_recovery = conf.fast_recovery;
  return s;
}

CheckState::CheckState(CheckSchedule schedule) : schedule_(schedule), up_(!schedule.alpha) {}

uint64_t CheckState::start(uint64_t now_ms, double warmup_fraction) {
  // check_api.c register_checkers_thread(): BOOTSTRAP_DELAY + warmup * random() / RAND_MAX.
  const double f = std::clamp(warmup_fraction, 0.0, 1.0);
  next_ms_ = now_ms + schedule_.bootstrap_ms + uint64_t(double(schedule_.warmup_ms) * f);
  return next_ms_;
}

Verdict CheckState::on_result(uint64_t now_ms, const ProbeResult& result) {
  Verdict v;
  ++attempts_;
  last_ = result;
  uint64_t delay = schedule_.delay_loop_ms;
  if (result.ok) {
    retry_it_ = 0;
    weight_ = result.weight;
    if (!up_) {
      // lvs's rise: keepalived comes up on the first success (rise 1).
      ++rise_count_;
      if (rise_count_ >= std::max<uint32_t>(schedule_.rise, 1)) {
        const uint32_t in_a_row = rise_count_;
        up_ = true;
        rise_count_ = 0;
        ++transitions_;
        last_change_ms_ = int64_t(now_ms);
        v.transition = Transition::kUp;
        v.why = result.detail.empty() ? "ok" : result.detail;
        if (in_a_row > 1) v.why += fmt::format(" ({} successes in a row)", in_a_row);
      } else {
        delay = schedule_.fast_recovery ? 0 : schedule_.delay_before_retry_ms;
        v.retrying = true;
      }
    }
  } else {
    ++failures_;
    rise_count_ = 0;
    // check_tcp.c tcp_epilog(): an up checker (or one that has not run) retries `retry` times
    // delay_before_retry apart, then goes down; a down one waits delay_loop.
    if ((up_ || !has_run_) && retry_it_ >= schedule_.retry) {
      const uint32_t made = retry_it_ + 1;
      retry_it_ = 0;
      if (up_) {
        up_ = false;
        weight_.reset();
        ++transitions_;
        last_change_ms_ = int64_t(now_ms);
        v.transition = Transition::kDown;
        v.why = result.detail.empty() ? "failed" : result.detail;
        if (made > 1) v.why += fmt::format(" (after {} attempts)", made);
      }
    } else if (up_) {
      delay = schedule_.delay_before_retry_ms;
      ++retry_it_;
      v.retrying = true;
    }
  }
  has_run_ = true;
  next_ms_ = now_ms + delay;
  v.next_ms = next_ms_;
  return v;
}

const char* to_string(Transition t) {
  switch (t) {
    case Transition::kNone:
      return "none";
    case Transition::kUp:
      return "up";
    case Transition::kDown:
      return "down";
  }
  return "?";
}

}  // namespace lvs::health
