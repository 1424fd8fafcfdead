// One checker's schedule and verdict, as keepalived's checkers keep them (check_tcp.c
// tcp_epilog(), the same in check_udp.c, check_ping.c, check_misc.c): pure, no clock and no
// randomness inside. Time is milliseconds on a steady clock the caller owns (the monitor uses
// "ms since the monitor started"); the warmup's random fraction comes in as a number.
//
// Rules (keepalived's unless marked lvs):
//  - The checker starts up, or down with alpha. The first attempt comes bootstrap_ms +
//    fraction × warmup_ms after start (check_api.c register_checkers_thread(): BOOTSTRAP_DELAY
//    plus a random share of warmup).
//  - Success: the retry count resets; a down checker (or one that has not run yet) goes up; the
//    next attempt comes after delay_loop.
//  - Failure of an up checker (or one that has not run yet): with fewer than `retry` retries made
//    the next attempt is a retry after delay_before_retry; otherwise the checker goes down, the
//    retry count resets and the next attempt comes after delay_loop. A down checker that fails
//    just waits delay_loop (keepalived does not retry a checker already known dead).
//  - lvs: rise. A down checker needs `rise` successes in a row before it is up again (rise 1 is
//    keepalived). While rising the next attempt comes after delay_before_retry (0 with
//    fast_recovery), so a recovered server is back after (rise - 1) × delay_before_retry; a
//    failure while rising starts the count again.
//  - ProbeResult::weight (MISC_CHECK misc_dynamic, FILE_CHECK): a success stores it (nullopt
//    clears it: MISC_CHECK exit 0 puts the configured weight back, check_misc.c
//    misc_check_child_thread()); going down clears it (the checker's cur_weight is reset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ctl/config.h"
#include "health/probe.h"

namespace lvs::health {

struct CheckSchedule {
  uint64_t delay_loop_ms = 60000;
  uint64_t delay_before_retry_ms = 1000;
  uint64_t warmup_ms = 0;
  uint64_t bootstrap_ms = 1000;  // keepalived's BOOTSTRAP_DELAY
  uint32_t retry = 1;
  uint32_t rise = 1;
  bool alpha = false;
  bool fast_recovery = false;

  static CheckSchedule of(const ctl::CheckerConf& conf, uint64_t bootstrap_ms = 1000);
};

enum class Transition : uint8_t { kNone, kUp, kDown };

struct Verdict {
  Transition transition = Transition::kNone;
  // With a transition: "connect: Connection refused (after 2 attempts)", "connected".
  std::string why;
  uint64_t next_ms = 0;   // when the next attempt starts
  bool retrying = false;  // the next attempt is a retry of a failing check (or a rise step)
};

class CheckState {
 public:
  explicit CheckState(CheckSchedule schedule);

  // The checker starts at now_ms; returns when its first attempt starts. `warmup_fraction` is
  // the caller's random number in [0, 1] (clamped).
  uint64_t start(uint64_t now_ms, double warmup_fraction);

  // An attempt ended at now_ms with `result`. Decides the checker's state and the next attempt.
  Verdict on_result(uint64_t now_ms, const ProbeResult& result);

  const CheckSchedule& schedule() const { return schedule_; }
  bool up() const { return up_; }
  bool has_run() const { return has_run_; }
  uint64_t next_ms() const { return next_ms_; }
  uint32_t retries() const { return retry_it_; }   // retries made in the failing check
  uint32_t rising() const { return rise_count_; }  // successes in a row while down
  uint64_t attempts() const { return attempts_; }
  uint64_t failures() const { return failures_; }
  uint64_t transitions() const { return transitions_; }
  const ProbeResult& last() const { return last_; }
  bool has_last() const { return attempts_ != 0; }
  int64_t last_change_ms() const { return last_change_ms_; }  // -1: never changed
  const std::optional<int32_t>& weight() const { return weight_; }

 private:
  CheckSchedule schedule_;
  bool up_;
  bool has_run_ = false;
  uint32_t retry_it_ = 0;
  uint32_t rise_count_ = 0;
  uint64_t next_ms_ = 0;
  uint64_t attempts_ = 0;
  uint64_t failures_ = 0;
  uint64_t transitions_ = 0;
  int64_t last_change_ms_ = -1;
  ProbeResult last_;
  std::optional<int32_t> weight_;
};

const char* to_string(Transition t);

}  // namespace lvs::health
