// The live progress line: once a second on stderr, only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "load.hpp"

namespace fcgi::bench {

class progress_line {
 public:
  /// True when stderr is a terminal (a progress line in a log file is noise).
  static bool stderr_is_terminal() noexcept;

  /// "  3.0 s   125,432 req/s   0 failed   p99 312 us": the rate is over the time since the
  /// previous line.
  std::string format(const progress_snapshot& now);
  /// Rewrites the line on stderr.
  void show(const progress_snapshot& now);
  /// Erases the line, so the report starts on a clean one.
  void clear();

 private:
  std::uint64_t previous_completed_ = 0;
  std::chrono::nanoseconds previous_elapsed_{0};
  bool shown_ = false;
};

}  // namespace fcgi::bench
