#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "report.hpp"

namespace fcgi::bench {

bool progress_line::stderr_is_terminal() noexcept { return ::isatty(STDERR_FILENO) == 1; }

std::string progress_line::format(const progress_snapshot& now) {
  const std::chrono::nanoseconds span = now.elapsed - previous_elapsed_;
  const std::uint64_t done = now.completed - previous_completed_;
  const double rate =
      span.count() > 0 ? static_cast<double>(done) * 1e9 / static_cast<double>(span.count()) : 0.0;
  previous_elapsed_ = now.elapsed;
  previous_completed_ = now.completed;
  std::array<char, 160> line{};
  const int n = std::snprintf(
      line.data(), line.size(), "%7.1f s  %s%10.0f req/s  %llu failed  p99 %s",
      static_cast<double>(now.elapsed.count()) / 1e9, now.warming_up ? "warm-up " : "", rate,
      static_cast<unsigned long long>(now.failed),  // NOLINT(google-runtime-int): printf's type
      now.latency.count() ? format_latency(static_cast<double>(now.latency.percentile(99))).c_str()
                          : "-");
  return {line.data(), std::min(static_cast<std::size_t>(n > 0 ? n : 0), line.size() - 1)};
}

void progress_line::show(const progress_snapshot& now) {
  const std::string text = format(now);
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void progress_line::clear() {
  if (!shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace fcgi::bench
