// fcgi-pm's log: one line per lifecycle event, with the pool and the worker's pid, as text
// ("2026-12-07T23:10:00.123Z fcgi-pm[41]: pool app: worker 57 started") or as one JSON object
// per line (--log-format json). Each line is one write(2), so lines from the manager and
// from workers sharing the same stderr never interleave within a line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace fcgi::pm {

enum class log_format : std::uint8_t { text, json };
enum class log_level : std::uint8_t { info, warning, error };

struct log_event {
  log_level level = log_level::info;
  std::string_view event;    ///< short machine name: "worker_started", "worker_exited", ...
  std::string_view pool;     ///< empty for manager-wide events
  pid_t pid = 0;             ///< the worker's pid, 0 when none
  std::string_view message;  ///< the sentence for people (without the pool prefix)
};

class logger {
 public:
  /// Writes to `fd` (fcgi-pm: 2). `sink`, when set, receives each formatted line instead
  /// (for tests).
  explicit logger(log_format format = log_format::text, int fd = 2,
                  std::function<void(std::string_view)> sink = {});
  void write(const log_event& event) const;
  [[nodiscard]] std::string format(const log_event& event) const;

 private:
  log_format format_;
  int fd_;
  std::function<void(std::string_view)> sink_;
};

}  // namespace fcgi::pm
