// The process manager's event loop: keeps every pool at its size, replaces workers that die
// (with the crash-loop brake of backoff.hpp), reloads on SIGHUP without refusing a
// connection, and stops on SIGTERM (graceful), SIGINT or SIGQUIT (fast).
//
// One thread, one poll(2) over a signalfd: SIGCHLD, SIGTERM, SIGINT, SIGQUIT and SIGHUP are
// blocked and read as events, so no code runs in a signal handler and nothing is lost between
// a check and a wait. Timers (backoff, reload settle time, stop deadlines) are the poll
// timeout. The manager opens each pool's listening socket once and keeps it open for the
// pool's life: workers come and go, the socket (and its queue of waiting connections) stays.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <fcgi/pm/config.hpp>
#include <fcgi/pm/log.hpp>

namespace fcgi::pm {

struct supervisor_options {
  /// The pool given on the command line (`-- ./app args`), if any; kept across reloads.
  std::vector<pool_config> command_line_pools;
  /// Re-read on SIGHUP; empty when there is none (SIGHUP then restarts every worker).
  std::string config_file;
  /// Lets workers run as root (php-fpm's -R).
  bool allow_root = false;
  /// Where workers' stdout and stderr go (default: the manager's stderr).
  int worker_log_fd = 2;
  /// When set, the status (status.hpp) is served there by a thread of its own.
  std::string status_listen;
  /// Fast stop (SIGINT, SIGQUIT): how long workers get after SIGTERM before SIGKILL.
  std::chrono::milliseconds fast_stop_grace{std::chrono::seconds(1)};
};

class supervisor {
 public:
  /// Checks the pools (privileges, users, groups) and opens their sockets; throws
  /// config_error or std::system_error naming the pool when it cannot. Blocks the signals it
  /// handles in the calling thread (call it before starting any other thread).
  supervisor(supervisor_options options, const logger& log);
  ~supervisor();
  supervisor(const supervisor&) = delete;
  supervisor& operator=(const supervisor&) = delete;
  supervisor(supervisor&&) = delete;
  supervisor& operator=(supervisor&&) = delete;

  /// Runs until a stop signal has been handled and every worker has exited; returns the exit
  /// status (0). Unix socket files the manager made are removed.
  int run();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fcgi::pm
