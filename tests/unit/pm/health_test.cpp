// The manager's verdict on a worker from its scoreboard and memory (health.hpp).
#include <fcgi/pm/health.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

namespace fcgi::pm {
namespace {

using namespace std::chrono_literals;
using action = worker_verdict::action;

constexpr std::chrono::nanoseconds now = 1000s;

runtime::scoreboard_snapshot attached(std::uint64_t completed, std::uint64_t in_flight) {
  runtime::scoreboard_snapshot s;
  s.attached = true;
  s.requests_completed = completed;
  s.requests_in_flight = in_flight;
  s.threads.push_back({.heartbeat = now - 500ms, .handler_started = std::nullopt, .what = ""});
  return s;
}

worker_verdict judged(const health_limits& limits, runtime::scoreboard_snapshot board,
                      std::uint64_t rss = 0) {
  return judge(limits, {.board = std::move(board), .rss_bytes = rss, .now = now});
}

TEST(health, a_foreign_app_is_of_unknown_activity_and_kept) {
  const worker_verdict v = judged({.max_requests = 10}, {});
  EXPECT_EQ(v.activity, worker_activity::unknown);
  EXPECT_EQ(v.act, action::keep);
}

TEST(health, activity_comes_from_requests_in_flight) {
  EXPECT_EQ(judged({}, attached(5, 0)).activity, worker_activity::idle);
  const worker_verdict busy = judged({}, attached(5, 2));
  EXPECT_EQ(busy.activity, worker_activity::busy);
  EXPECT_EQ(busy.requests_in_flight, 2U);
  EXPECT_EQ(busy.requests_completed, 5U);
}

TEST(health, a_running_handler_is_busy_before_the_counters_say_so) {
  runtime::scoreboard_snapshot board = attached(5, 0);
  board.threads[0].handler_started = now - 100ms;  // thread 0 blocked: no publish yet
  EXPECT_EQ(judged({}, board).activity, worker_activity::busy);
}

TEST(health, an_untrusted_scoreboard_is_recycled) {
  const worker_verdict v =
      judge({}, {.board = std::string("bad magic"), .rss_bytes = 0, .now = now});
  EXPECT_EQ(v.act, action::recycle);
  EXPECT_NE(v.reason.find("cannot be trusted (bad magic)"), std::string::npos) << v.reason;
}

TEST(health, max_requests_recycles) {
  EXPECT_EQ(judged({.max_requests = 100}, attached(99, 1)).act, action::keep);
  const worker_verdict v = judged({.max_requests = 100}, attached(100, 0));
  EXPECT_EQ(v.act, action::recycle);
  EXPECT_EQ(v.reason, "it served 100 requests (max_requests 100)");
  EXPECT_EQ(to_string(v.why), "max_requests");
}

TEST(health, max_rss_recycles_any_app) {
  const health_limits limits{.max_rss = 256ULL << 20U};
  EXPECT_EQ(judged(limits, {}, 200ULL << 20U).act, action::keep);
  const worker_verdict v = judged(limits, {}, 300ULL << 20U);
  EXPECT_EQ(v.act, action::recycle);
  EXPECT_EQ(v.reason, "its resident memory 300 MiB is over max_rss 256 MiB");
}

TEST(health, a_handler_past_request_timeout_is_killed_and_named) {
  runtime::scoreboard_snapshot board = attached(3, 1);
  board.threads[0].handler_started = now - 31s;
  board.threads[0].what = "GET /report?year=2026";
  const worker_verdict v = judged({.request_timeout = 30s, .slowlog_timeout = 5s}, board);
  EXPECT_EQ(v.act, action::kill);
  EXPECT_EQ(v.reason,
            "thread 0 has run 'GET /report?year=2026' for 31.0 s (request_timeout 30.0 s)");
  ASSERT_EQ(v.slow.size(), 1U);
  EXPECT_EQ(v.slow[0].what, "GET /report?year=2026");
  EXPECT_EQ(v.slow[0].running, 31s);
  EXPECT_EQ(v.slow[0].started, now - 31s);
  EXPECT_EQ(v.why, worker_verdict::cause::request_timeout);
}

TEST(health, slow_handlers_are_reported_below_the_timeout) {
  runtime::scoreboard_snapshot board = attached(3, 1);
  board.threads[0].handler_started = now - 6s;
  const worker_verdict v = judged({.request_timeout = 30s, .slowlog_timeout = 5s}, board);
  EXPECT_EQ(v.act, action::keep);
  EXPECT_EQ(v.slow.size(), 1U);
  EXPECT_TRUE(judged({.request_timeout = 30s, .slowlog_timeout = 10s}, board).slow.empty());
}

TEST(health, a_thread_without_heartbeat_is_killed) {
  runtime::scoreboard_snapshot board = attached(3, 0);
  board.threads[0].heartbeat = now - 40s;
  const worker_verdict v = judged({.request_timeout = 30s}, board);
  EXPECT_EQ(v.act, action::kill);
  EXPECT_NE(v.reason.find("has not turned its event loop for 40.0 s"), std::string::npos);
  EXPECT_EQ(judged({}, board).act, action::keep);  // no request_timeout: never killed
}

TEST(health, resident_bytes_of_this_process) {
  EXPECT_GT(resident_bytes(::getpid()), 1U << 20U);
  EXPECT_EQ(resident_bytes(-1), 0U);
}

}  // namespace
}  // namespace fcgi::pm
