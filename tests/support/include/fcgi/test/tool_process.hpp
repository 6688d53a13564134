// Runs a built command-line tool (fcgi-call, fcgi-bench, fcgi-pm) as a user would: a child
// process with its stdin fed from a string and its stdout and stderr collected, killed at a
// deadline (run_tool); or a long-running one (a daemon such as fcgi-pm) that the test signals
// while it runs, its output going to a file the test reads (background_tool).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fcgi::test {

struct tool_run {
  int status = -1;  ///< the exit status; 128 + signal when killed (at the deadline: SIGKILL)
  std::string out;
  std::string err;
  bool timed_out = false;
};

/// Runs argv[0] with argv[1..]; `input` is its whole stdin (then EOF).
tool_run run_tool(const std::vector<std::string>& argv, const std::string& input = {},
                  std::chrono::seconds deadline = std::chrono::seconds(20));

/// A tool running in the background: stdin from /dev/null, stdout and stderr appended to
/// `output_path`. The destructor SIGKILLs and reaps it if the test did not wait for it.
class background_tool {
 public:
  /// Starts argv[0] with argv[1..]; `environment` ("NAME=VALUE" strings) replaces the test's
  /// environment when given. Throws std::system_error when it cannot fork.
  background_tool(const std::vector<std::string>& argv, const std::string& output_path,
                  const std::optional<std::vector<std::string>>& environment = std::nullopt);
  ~background_tool();
  background_tool(const background_tool&) = delete;
  background_tool& operator=(const background_tool&) = delete;
  background_tool(background_tool&&) = delete;
  background_tool& operator=(background_tool&&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Sends `signal`; false when the process is already reaped.
  bool signal(int signal) const noexcept;
  /// Waits for the exit up to `deadline`: the exit status (128 + signal when killed), or
  /// nullopt when still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds deadline);
  /// What it has written so far.
  [[nodiscard]] std::string output() const;

 private:
  pid_t pid_ = -1;
  std::string output_path_;
};

}  // namespace fcgi::test
