#include "health/check_state.h"

#include <gtest/gtest.h>

namespace lvs::health {
namespace {

ProbeResult ok(std::string d = "connected", std::optional<int32_t> w = std::nullopt) {
  ProbeResult r;
  r.ok = true;
  r.detail = std::move(d);
  r.weight = w;
  return r;
}
ProbeResult fail(std::string d = "connect: Connection refused") {
  ProbeResult r;
  r.detail = std::move(d);
  return r;
}

CheckSchedule sched(uint32_t retry = 1, uint32_t rise = 1, bool alpha = false) {
  CheckSchedule s;
  s.delay_loop_ms = 1000;
  s.delay_before_retry_ms = 100;
  s.warmup_ms = 2000;
  s.bootstrap_ms = 1000;
  s.retry = retry;
  s.rise = rise;
  s.alpha = alpha;
  return s;
}

TEST(CheckState, FirstAttemptAfterBootstrapPlusWarmupShare) {
  CheckState a(sched());
  EXPECT_EQ(a.start(500, 0.5), 500u + 1000 + 1000);
  CheckState b(sched());
  EXPECT_EQ(b.start(0, 0.0), 1000u);
  CheckState c(sched());
  EXPECT_EQ(c.start(0, 7.0), 3000u);  // clamped to 1
  EXPECT_TRUE(a.up());
  EXPECT_FALSE(a.has_run());
  EXPECT_FALSE(a.has_last());
}

TEST(CheckState, FromConf) {
  ctl::CheckerConf conf;
  conf.delay_loop_ms = 7;
  conf.delay_before_retry_ms = 3;
  conf.warmup_ms = 11;
  conf.retry = 4;
  conf.rise = 2;
  conf.alpha = true;
  conf.fast_recovery = true;
  const CheckSchedule s = CheckSchedule::of(conf, 0);
  EXPECT_EQ(s.delay_loop_ms, 7u);
  EXPECT_EQ(s.delay_before_retry_ms, 3u);
  EXPECT_EQ(s.warmup_ms, 11u);
  EXPECT_EQ(s.bootstrap_ms, 0u);
  EXPECT_EQ(s.retry, 4u);
  EXPECT_EQ(s.rise, 2u);
  EXPECT_TRUE(s.alpha);
  EXPECT_TRUE(s.fast_recovery);
}

TEST(CheckState, SuccessKeepsUpAndWaitsDelayLoop) {
  CheckState s(sched());
  s.start(0, 0);
  const Verdict v = s.on_result(1000, ok());
  EXPECT_EQ(v.transition, Transition::kNone);
  EXPECT_EQ(v.next_ms, 2000u);
  EXPECT_TRUE(s.up());
  EXPECT_EQ(s.attempts(), 1u);
  EXPECT_EQ(s.failures(), 0u);
  EXPECT_EQ(s.last().detail, "connected");
  EXPECT_EQ(s.last_change_ms(), -1);
}

TEST(CheckState, RetriesDelayBeforeRetryApartThenDown) {
  CheckState s(sched(/*retry=*/2));
  s.start(0, 0);
  Verdict v = s.on_result(1000, fail());
  EXPECT_EQ(v.transition, Transition::kNone);
  EXPECT_TRUE(v.retrying);
  EXPECT_EQ(v.next_ms, 1100u);
  EXPECT_EQ(s.retries(), 1u);
  v = s.on_result(1100, fail());
  EXPECT_EQ(v.next_ms, 1200u);
  EXPECT_EQ(s.retries(), 2u);
  EXPECT_TRUE(s.up());
  v = s.on_result(1200, fail("connect: timeout after 50 ms"));
  EXPECT_EQ(v.transition, Transition::kDown);
  EXPECT_EQ(v.why, "connect: timeout after 50 ms (after 3 attempts)");
  EXPECT_EQ(v.next_ms, 2200u);
  EXPECT_FALSE(s.up());
  EXPECT_EQ(s.retries(), 0u);
  EXPECT_EQ(s.failures(), 3u);
  EXPECT_EQ(s.transitions(), 1u);
  EXPECT_EQ(s.last_change_ms(), 1200);
  // A down checker is not retried: failures wait delay_loop, without transitions.
  v = s.on_result(2200, fail());
  EXPECT_EQ(v.transition, Transition::kNone);
  EXPECT_FALSE(v.retrying);
  EXPECT_EQ(v.next_ms, 3200u);
  EXPECT_EQ(s.transitions(), 1u);
  // One success brings it back (rise 1, keepalived).
  v = s.on_result(3200, ok());
  EXPECT_EQ(v.transition, Transition::kUp);
  EXPECT_EQ(v.why, "connected");
  EXPECT_EQ(v.next_ms, 4200u);
  EXPECT_TRUE(s.up());
  EXPECT_EQ(s.transitions(), 2u);
  EXPECT_EQ(s.last_change_ms(), 3200);
}

TEST(CheckState, SuccessResetsTheRetryCount) {
  CheckState s(sched(/*retry=*/1));
  s.start(0, 0);
  s.on_result(1000, fail());
  EXPECT_EQ(s.retries(), 1u);
  s.on_result(1100, ok());
  EXPECT_EQ(s.retries(), 0u);
  Verdict v = s.on_result(2100, fail());
  EXPECT_EQ(v.transition, Transition::kNone);  // a fresh retry, not down
  v = s.on_result(2200, fail());
  EXPECT_EQ(v.transition, Transition::kDown);
  EXPECT_EQ(v.why, "connect: Connection refused (after 2 attempts)");
}

TEST(CheckState, RetryZeroGoesDownOnTheFirstFailure) {
  CheckState s(sched(/*retry=*/0));
  s.start(0, 0);
  const Verdict v = s.on_result(1000, fail("exited with status 1"));
  EXPECT_EQ(v.transition, Transition::kDown);
  EXPECT_EQ(v.why, "exited with status 1");
  EXPECT_EQ(v.next_ms, 2000u);
}

TEST(CheckState, AlphaStartsDownAndNeedsASuccess) {
  CheckState s(sched(/*retry=*/3, 1, /*alpha=*/true));
  s.start(0, 0);
  EXPECT_FALSE(s.up());
  // keepalived: a failing alpha checker is already down, no retries, no transition.
  Verdict v = s.on_result(1000, fail());
  EXPECT_EQ(v.transition, Transition::kNone);
  EXPECT_EQ(v.next_ms, 2000u);
  EXPECT_EQ(s.transitions(), 0u);
  v = s.on_result(2000, ok());
  EXPECT_EQ(v.transition, Transition::kUp);
  EXPECT_TRUE(s.up());
}

TEST(CheckState, RiseNeedsSuccessesInARow) {
  CheckState s(sched(/*retry=*/0, /*rise=*/3));
  s.start(0, 0);
  ASSERT_EQ(s.on_result(1000, fail()).transition, Transition::kDown);
  Verdict v = s.on_result(2000, ok());
  EXPECT_EQ(v.transition, Transition::kNone);
  EXPECT_TRUE(v.retrying);
  EXPECT_EQ(v.next_ms, 2100u);  // delay_before_retry while rising
  EXPECT_EQ(s.rising(), 1u);
  v = s.on_result(2100, ok());
  EXPECT_EQ(s.rising(), 2u);
  v = s.on_result(2200, fail());  // a failure starts the count again
  EXPECT_EQ(s.rising(), 0u);
  EXPECT_EQ(v.next_ms, 3200u);
  EXPECT_FALSE(s.up());
  s.on_result(3200, ok());
  s.on_result(3300, ok());
  v = s.on_result(3400, ok());
  EXPECT_EQ(v.transition, Transition::kUp);
  EXPECT_EQ(v.why, "connected (3 successes in a row)");
  EXPECT_EQ(v.next_ms, 4400u);
  EXPECT_EQ(s.rising(), 0u);
}

TEST(CheckState, FastRecoveryRisesWithoutDelay) {
  CheckSchedule sc = sched(0, 2);
  sc.fast_recovery = true;
  CheckState s(sc);
  s.start(0, 0);
  s.on_result(1000, fail());
  const Verdict v = s.on_result(2000, ok());
  EXPECT_EQ(v.next_ms, 2000u);
  EXPECT_EQ(s.on_result(2000, ok()).transition, Transition::kUp);
}

TEST(CheckState, WeightIsKeptClearedAndDroppedWhenDown) {
  CheckState s(sched(/*retry=*/1));
  s.start(0, 0);
  s.on_result(1000, ok("exit status 12", 10));
  EXPECT_EQ(s.weight(), 10);
  s.on_result(2000, fail());  // retrying: the weight holds
  EXPECT_EQ(s.weight(), 10);
  s.on_result(2100, ok("exit status 0"));  // exit 0: the configured weight again
  EXPECT_EQ(s.weight(), std::nullopt);
  s.on_result(3100, ok("", 4));
  EXPECT_EQ(s.weight(), 4);
  s.on_result(4100, fail());
  EXPECT_EQ(s.on_result(4200, fail()).transition, Transition::kDown);
  EXPECT_EQ(s.weight(), std::nullopt);
}

TEST(CheckState, EmptyDetailsGetAWord) {
  CheckState s(sched(0));
  s.start(0, 0);
  EXPECT_EQ(s.on_result(1, fail("")).why, "failed");
  EXPECT_EQ(s.on_result(2, ok("")).why, "ok");
  EXPECT_STREQ(to_string(Transition::kDown), "down");
  EXPECT_STREQ(to_string(Transition::kUp), "up");
}

}  // namespace
}  // namespace lvs::health
