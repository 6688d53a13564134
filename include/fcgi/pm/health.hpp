// What the manager makes of a worker: how busy it is and whether it must be replaced, from its
// scoreboard (fcgikit applications report there, see runtime/scoreboard.hpp) and its memory.
//
// Pure: the caller reads the scoreboard and /proc, and acts on the verdict. A worker that is
// not an fcgikit application has no scoreboard: it is judged on memory alone, and its activity
// is unknown (the manager then sizes the pool from the listen queue).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <fcgi/pm/config.hpp>
#include <fcgi/runtime/scoreboard.hpp>

namespace fcgi::pm {

enum class worker_activity : std::uint8_t {
  unknown,  ///< no scoreboard (not an fcgikit application), or not readable this time
  idle,     ///< attached, no request in progress
  busy,     ///< attached, at least one request in progress or one handler running
};
std::string_view to_string(worker_activity a) noexcept;

/// A handler that has run longer than the slow-log threshold.
struct slow_handler {
  unsigned thread = 0;
  std::string what;  ///< "GET /report?year=2026", as the worker reported it (printable ASCII)
  std::chrono::nanoseconds running{0};
  std::chrono::nanoseconds started{0};  ///< tells one run of a handler from the next
};

struct worker_verdict {
  enum class action : std::uint8_t {
    keep,
    recycle,  ///< replace gracefully: start a new worker, then SIGTERM this one
    kill,     ///< stuck: SIGTERM now, SIGKILL after a short grace
  };
  /// Why, as a word for counters ("restarts by reason"); none when act is keep.
  enum class cause : std::uint8_t { none, untrusted, request_timeout, max_requests, max_rss };
  worker_activity activity = worker_activity::unknown;
  std::uint64_t requests_completed = 0;
  std::uint64_t requests_in_flight = 0;
  action act = action::keep;
  cause why = cause::none;
  std::string reason;  ///< why, for the log, when act is not keep
  std::vector<slow_handler> slow;
};
std::string_view to_string(worker_verdict::action a) noexcept;
/// "untrusted", "request_timeout", "max_requests", "max_rss" ("none").
std::string_view to_string(worker_verdict::cause c) noexcept;

struct worker_observation {
  /// scoreboard::read's result; a string is a page that failed its checks (HOSTILE E-60).
  std::variant<runtime::scoreboard_snapshot, std::string> board;
  std::uint64_t rss_bytes = 0;  ///< 0: unknown
  std::chrono::nanoseconds now{0};
};

struct health_limits {
  std::uint64_t max_requests = 0;                ///< 0: unlimited
  std::uint64_t max_rss = 0;                     ///< bytes; 0: unlimited
  std::chrono::milliseconds request_timeout{0};  ///< 0: none
  std::chrono::milliseconds slowlog_timeout{0};  ///< 0: no slow log
};
health_limits limits_of(const pool_config& pool);

/// The verdict on one worker. In order: an untrusted scoreboard is recycled; a handler
/// running past request_timeout, or an I/O thread with no heartbeat for that long, is killed
/// (only killing stops a handler that blocks its thread); past max_requests or max_rss the
/// worker is recycled.
worker_verdict judge(const health_limits& limits, const worker_observation& seen);

/// Resident memory of a process (/proc/PID/statm), 0 when it cannot be read.
std::uint64_t resident_bytes(pid_t pid);

}  // namespace fcgi::pm
