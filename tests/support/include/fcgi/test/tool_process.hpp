// Runs a built command-line tool (fcgi-call, fcgi-bench) as a user would: a child process with
// its stdin fed from a string and its stdout and stderr collected, killed at a deadline.
#pragma once

#include <chrono>
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

}  // namespace fcgi::test
