#include <fcgi/pm/health.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <string>

namespace fcgi::pm {

namespace {

std::string seconds_text(std::chrono::nanoseconds d) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.1f s", static_cast<double>(d.count()) / 1e9);
  return text.data();
}

std::string mib_text(std::uint64_t bytes) {
  return std::to_string((bytes + (1U << 20U) - 1) >> 20U) + " MiB";
}

/// A handler or a thread past request_timeout: the reason to kill, or empty.
std::string stuck_reason(const runtime::scoreboard_snapshot& s, std::chrono::milliseconds limit,
                         std::chrono::nanoseconds now) {
  if (limit.count() == 0) return {};
  for (std::size_t i = 0; i < s.threads.size(); ++i) {
    const runtime::scoreboard_thread& t = s.threads[i];
    const std::string name = "thread " + std::to_string(i);
    if (t.handler_started && now - *t.handler_started > limit) {
      return name + " has run '" + t.what + "' for " + seconds_text(now - *t.handler_started) +
             " (request_timeout " + seconds_text(limit) + ")";
    }
    // The runtime beats once a second while its loop turns; a thread stuck elsewhere stops.
    if (now - t.heartbeat > limit + std::chrono::seconds(2)) {
      return name + " has not turned its event loop for " + seconds_text(now - t.heartbeat) +
             " (request_timeout " + seconds_text(limit) + ")";
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(worker_activity a) noexcept {
  switch (a) {
    case worker_activity::unknown: return "unknown";
    case worker_activity::idle: return "idle";
    case worker_activity::busy: return "busy";
  }
  return "unknown";
}

std::string_view to_string(worker_verdict::action a) noexcept {
  switch (a) {
    case worker_verdict::action::keep: return "keep";
    case worker_verdict::action::recycle: return "recycle";
    case worker_verdict::action::kill: return "kill";
  }
  return "keep";
}

std::string_view to_string(worker_verdict::cause c) noexcept {
  switch (c) {
    case worker_verdict::cause::none: return "none";
    case worker_verdict::cause::untrusted: return "untrusted";
    case worker_verdict::cause::request_timeout: return "request_timeout";
    case worker_verdict::cause::max_requests: return "max_requests";
    case worker_verdict::cause::max_rss: return "max_rss";
  }
  return "none";
}

health_limits limits_of(const pool_config& pool) {
  return {pool.max_requests, pool.max_rss, pool.request_timeout, pool.slowlog_timeout};
}

worker_verdict judge(const health_limits& limits, const worker_observation& seen) {
  worker_verdict v;
  if (const auto* error = std::get_if<std::string>(&seen.board)) {
    v.act = worker_verdict::action::recycle;
    v.why = worker_verdict::cause::untrusted;
    v.reason = "its scoreboard cannot be trusted (" + *error + ")";
    return v;
  }
  const auto& board = std::get<runtime::scoreboard_snapshot>(seen.board);
  if (board.attached) {
    // The counters are published once a second by thread 0; a handler's start is written at
    // once, and is the only sign of life from a thread blocked in it.
    const bool running_handler = std::any_of(
        board.threads.begin(), board.threads.end(),
        [](const runtime::scoreboard_thread& t) { return t.handler_started.has_value(); });
    v.activity = board.requests_in_flight > 0 || running_handler ? worker_activity::busy
                                                                 : worker_activity::idle;
    v.requests_completed = board.requests_completed;
    v.requests_in_flight = board.requests_in_flight;
    for (std::size_t i = 0; i < board.threads.size(); ++i) {
      const runtime::scoreboard_thread& t = board.threads[i];
      if (limits.slowlog_timeout.count() > 0 && t.handler_started &&
          seen.now - *t.handler_started > limits.slowlog_timeout) {
        v.slow.push_back(
            {static_cast<unsigned>(i), t.what, seen.now - *t.handler_started, *t.handler_started});
      }
    }
    std::string stuck = stuck_reason(board, limits.request_timeout, seen.now);
    if (!stuck.empty()) {
      v.act = worker_verdict::action::kill;
      v.why = worker_verdict::cause::request_timeout;
      v.reason = std::move(stuck);
      return v;
    }
    if (limits.max_requests > 0 && board.requests_completed >= limits.max_requests) {
      v.act = worker_verdict::action::recycle;
      v.why = worker_verdict::cause::max_requests;
      v.reason = "it served " + std::to_string(board.requests_completed) +
                 " requests (max_requests " + std::to_string(limits.max_requests) + ")";
      return v;
    }
  }
  if (limits.max_rss > 0 && seen.rss_bytes > limits.max_rss) {
    v.act = worker_verdict::action::recycle;
    v.why = worker_verdict::cause::max_rss;
    v.reason = "its resident memory " + mib_text(seen.rss_bytes) + " is over max_rss " +
               mib_text(limits.max_rss);
  }
  return v;
}

std::uint64_t resident_bytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace fcgi::pm
