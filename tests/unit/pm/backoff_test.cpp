#include <fcgi/pm/backoff.hpp>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using fcgi::pm::backoff_delay;

TEST(pm_backoff, doubles_from_initial_up_to_max) {
  EXPECT_EQ(backoff_delay(0, 100ms, 30s), 0ms);
  EXPECT_EQ(backoff_delay(1, 100ms, 30s), 100ms);
  EXPECT_EQ(backoff_delay(2, 100ms, 30s), 200ms);
  EXPECT_EQ(backoff_delay(5, 100ms, 30s), 1600ms);
  EXPECT_EQ(backoff_delay(9, 100ms, 30s), 25600ms);
  EXPECT_EQ(backoff_delay(10, 100ms, 30s), 30s);
  EXPECT_EQ(backoff_delay(4000000000U, 100ms, 30s), 30s);  // no overflow
}

TEST(pm_backoff, quick_exits_count_and_a_long_life_resets) {
  fcgi::pm::crash_tracker tracker(1s, 100ms, 30s);
  EXPECT_FALSE(tracker.is_failing());
  EXPECT_EQ(tracker.on_exit(200ms), 100ms);
  EXPECT_EQ(tracker.on_exit(10ms), 200ms);
  EXPECT_EQ(tracker.on_exit(0ms), 400ms);
  EXPECT_EQ(tracker.failures(), 3U);
  EXPECT_EQ(tracker.on_exit(5s), 0ms);  // lived long enough: a crash, not a failed start
  EXPECT_FALSE(tracker.is_failing());
  tracker.on_exit(1ms);
  tracker.on_survived();
  EXPECT_EQ(tracker.failures(), 0U);
}

TEST(pm_backoff, after_the_ramp_at_most_one_start_per_second) {
  // A worker that always dies at once: over a minute, starts are spaced by the delay; once
  // the delay reaches 1 s there is at most one start per second (HOSTILE E-58).
  fcgi::pm::crash_tracker tracker(1s, 100ms, 30s);
  std::chrono::milliseconds t{0};
  std::chrono::milliseconds ramp_end{-1};
  int starts_after_ramp = 0;
  while (t < 60s) {
    const auto delay = tracker.on_exit(0ms);
    if (ramp_end.count() < 0 && delay >= 1s) ramp_end = t;
    if (ramp_end.count() >= 0) ++starts_after_ramp;
    t += delay;
  }
  EXPECT_LT(ramp_end, 2s);
  EXPECT_LE(starts_after_ramp, 60);
  EXPECT_LE(starts_after_ramp, 8);  // 1.6+3.2+6.4+12.8+25.6+30 s > 58 s
}

TEST(pm_backoff, log_limiter_lets_one_line_a_second) {
  fcgi::pm::log_limiter limiter(1s);
  const auto t0 = fcgi::pm::clock::time_point{} + 100s;
  EXPECT_TRUE(limiter.allow(t0));
  EXPECT_FALSE(limiter.allow(t0 + 100ms));
  EXPECT_FALSE(limiter.allow(t0 + 999ms));
  EXPECT_EQ(limiter.suppressed(), 2U);
  EXPECT_TRUE(limiter.allow(t0 + 1s));
  EXPECT_EQ(limiter.suppressed(), 0U);
  int allowed = 0;
  for (int ms = 0; ms < 10000; ms += 10) {
    if (limiter.allow(t0 + 2s + std::chrono::milliseconds(ms))) ++allowed;
  }
  EXPECT_EQ(allowed, 10);
}

}  // namespace
