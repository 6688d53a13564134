// The crash-loop brake: how long a pool waits before starting a worker again after workers
// die soon after their start, and how often such failures may be logged (HOSTILE E-58,
// CVE-2015-9253: php-fpm respawned a failing child in a tight loop and flooded its log).
//
// Pure computation on times passed in: no clock, no I/O, so it is unit-tested exactly.
#pragma once

#include <chrono>
#include <cstdint>

namespace fcgi::pm {

using clock = std::chrono::steady_clock;

/// The wait before the next start after `failures` failed starts in a row: 0 for none, then
/// `initial`, doubling each time, never above `max` (0.1 s, 0.2 s, 0.4 s, ... 30 s).
std::chrono::milliseconds backoff_delay(unsigned failures, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max);

/// Counts failed starts in a row for one pool. A worker that exits within `min_uptime` of its
/// start is a failed start; one that lived longer (or reached min_uptime while running) resets
/// the count.
class crash_tracker {
 public:
  crash_tracker(std::chrono::milliseconds min_uptime, std::chrono::milliseconds initial,
                std::chrono::milliseconds max) noexcept
      : min_uptime_(min_uptime), initial_(initial), max_(max) {}

  /// A worker exited after `uptime`; returns the delay before the pool may start one again.
  std::chrono::milliseconds on_exit(std::chrono::milliseconds uptime) noexcept;
  /// A running worker has been up min_uptime: the pool is healthy again.
  void on_survived() noexcept { failures_ = 0; }
  [[nodiscard]] unsigned failures() const noexcept { return failures_; }
  [[nodiscard]] bool is_failing() const noexcept { return failures_ > 0; }
  [[nodiscard]] std::chrono::milliseconds min_uptime() const noexcept { return min_uptime_; }

 private:
  std::chrono::milliseconds min_uptime_;
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  unsigned failures_ = 0;
};

/// Lets through at most one line per `interval`; counts the lines it held back so the next
/// line can say how many there were.
class log_limiter {
 public:
  explicit log_limiter(std::chrono::milliseconds interval = std::chrono::seconds(1)) noexcept
      : interval_(interval) {}
  /// True when a line may be written at `now` (and then counts it as written).
  bool allow(clock::time_point now) noexcept;
  /// Lines held back since the last one let through.
  [[nodiscard]] std::uint64_t suppressed() const noexcept { return suppressed_; }

 private:
  std::chrono::milliseconds interval_;
  clock::time_point last_{};
  bool any_ = false;
  std::uint64_t suppressed_ = 0;
};

}  // namespace fcgi::pm
