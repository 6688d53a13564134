#include <fcgi/pm/backoff.hpp>

namespace fcgi::pm {

std::chrono::milliseconds backoff_delay(unsigned failures, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max) {
  if (failures == 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds delay = initial;
  for (unsigned i = 1; i < failures && delay < max; ++i) delay *= 2;
  return delay < max ? delay : max;
}

std::chrono::milliseconds crash_tracker::on_exit(std::chrono::milliseconds uptime) noexcept {
  if (uptime >= min_uptime_) {
    failures_ = 0;
    return std::chrono::milliseconds(0);
  }
  if (failures_ < 1000000) ++failures_;
  return backoff_delay(failures_, initial_, max_);
}

bool log_limiter::allow(clock::time_point now) noexcept {
  if (any_ && now - last_ < interval_) {
    ++suppressed_;
    return false;
  }
  any_ = true;
  last_ = now;
  suppressed_ = 0;
  return true;
}

}  // namespace fcgi::pm
