#include <fcgi/pm/log.hpp>

#include <unistd.h>

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

namespace fcgi::pm {
namespace {

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32] = {};  // NOLINT(modernize-avoid-c-arrays)
  const std::size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::string result(text, n);
  const std::string ms = std::to_string(millis);
  result += "." + std::string(3 - ms.size(), '0') + ms + "Z";
  return result;
}

std::string_view level_name(log_level level) {
  switch (level) {
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "info";
}

}  // namespace

logger::logger(log_format format, int fd, std::function<void(std::string_view)> sink)
    : format_(format), fd_(fd), sink_(std::move(sink)) {}

std::string logger::format(const log_event& event) const {
  if (format_ == log_format::json) {
    nlohmann::json line = {{"time", timestamp()},
                           {"level", level_name(event.level)},
                           {"event", event.event},
                           {"manager_pid", ::getpid()}};
    if (!event.pool.empty()) line["pool"] = event.pool;
    if (event.pid != 0) line["pid"] = event.pid;
    line["message"] = event.message;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string line = timestamp() + " fcgi-pm[" + std::to_string(::getpid()) + "]: ";
  if (event.level != log_level::info) line += std::string(level_name(event.level)) + ": ";
  if (!event.pool.empty()) line += "pool " + std::string(event.pool) + ": ";
  line += event.message;
  line += "\n";
  return line;
}

void logger::write(const log_event& event) const {
  const std::string line = format(event);
  if (sink_) {
    sink_(line);
    return;
  }
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::write(fd_, line.data() + sent, line.size() - sent);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace fcgi::pm
