// The scoreboard: what a worker process tells its process manager about itself, through a
// page of shared memory.
//
// FastCGI gives a process manager no view of the requests: its workers accept from a socket
// the manager only holds. So the manager (fcgi-pm) makes one sealed memfd per worker, passes
// it as a file descriptor named by FCGI_PM_SCOREBOARD=FD, and fcgikit's runtime writes into it:
// the request and connection counters once a second, a heartbeat per I/O thread, and what
// each I/O thread's handler is running and since when. Applications that do not know the
// variable (libfcgi, Go) simply never write, and the manager sees "not attached".
//
// The manager never trusts the page (HOSTILE E-60, php-fpm's CVE-2021-21703): a worker may be
// compromised and write anything at any time. One memfd per worker means a worker can only
// spoil its own page; the seals (no shrink, no grow) mean it cannot make the manager's mapping
// fault; every read is bounded, checked and copied out, and a page that fails a check is
// reported as an error for the manager to act on, never used.
//
// Layout (version 1), all integers native-endian, every field a lock-free atomic:
//   header  magic "FCPM", version, thread count, writer pid, counters, time of last publish
//   slots   one per I/O thread: sequence (odd while being written), heartbeat, handler start,
//           and the handler's request ("GET /path?query", truncated) under the sequence
// Times are CLOCK_MONOTONIC nanoseconds, which every process on the machine shares.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fcgi::runtime {

/// The environment variable that names the scoreboard's file descriptor in a worker.
inline constexpr const char* scoreboard_variable = "FCGI_PM_SCOREBOARD";

namespace scoreboard_layout {
inline constexpr std::size_t bytes = 16384;
inline constexpr std::size_t max_threads = 63;
inline constexpr std::size_t what_capacity = 224;  ///< bytes of a handler's description
}  // namespace scoreboard_layout

/// Now, in the scoreboard's time base (CLOCK_MONOTONIC).
std::chrono::nanoseconds monotonic_now() noexcept;

struct scoreboard_thread {
  std::chrono::nanoseconds heartbeat{0};  ///< when the thread last went round its loop
  /// When the handler it is running now started; empty when it runs none.
  std::optional<std::chrono::nanoseconds> handler_started;
  std::string what;  ///< that handler's request; bytes outside printable ASCII shown as '?'
};

struct scoreboard_snapshot {
  bool attached = false;  ///< false: the worker never wrote (not an fcgikit application)
  pid_t pid = 0;
  std::uint64_t requests_completed = 0;
  std::uint64_t requests_in_flight = 0;
  std::uint64_t connections = 0;
  std::uint64_t connections_accepted = 0;
  std::chrono::nanoseconds updated{0};  ///< when the counters were last published
  std::vector<scoreboard_thread> threads;
};

/// The manager's side: owns one worker's page, read-only.
class scoreboard {
 public:
  /// Creates the sealed memfd (close-on-exec; the manager moves it onto the worker's fd) and
  /// maps it. Throws std::system_error.
  static scoreboard create();

  scoreboard(scoreboard&& other) noexcept;
  scoreboard& operator=(scoreboard&& other) noexcept;
  scoreboard(const scoreboard&) = delete;
  scoreboard& operator=(const scoreboard&) = delete;
  ~scoreboard();

  [[nodiscard]] int fd() const noexcept { return fd_; }

  /// A checked copy of the page, or why it cannot be trusted: a wrong magic or version, a
  /// pid other than `expected_pid`, more threads than the layout holds, a time in the
  /// future (past `now`), a slot still being written after a few tries. Never throws for
  /// what the page holds.
  [[nodiscard]] std::variant<scoreboard_snapshot, std::string> read(
      pid_t expected_pid, std::chrono::nanoseconds now = monotonic_now()) const;

  /// The mapping as bytes, for tests and the fuzzer (which play a hostile worker).
  [[nodiscard]] std::byte* bytes() const noexcept { return map_; }

 private:
  scoreboard(int fd, std::byte* map) noexcept : fd_(fd), map_(map) {}
  void release() noexcept;

  int fd_ = -1;
  std::byte* map_ = nullptr;
};

/// Checks and copies a page given as bytes (what scoreboard::read does on its mapping).
std::variant<scoreboard_snapshot, std::string> read_scoreboard(const std::byte* page,
                                                               pid_t expected_pid,
                                                               std::chrono::nanoseconds now);

/// The worker's side. All writes are wait-free and never fail.
class scoreboard_writer {
 public:
  /// Attaches to the page named by FCGI_PM_SCOREBOARD when it is set, for `threads` I/O
  /// threads (at most scoreboard_layout::max_threads are reported), and unsets the variable
  /// so child processes do not inherit it. Returns nothing when the variable is unset; throws
  /// std::runtime_error naming the problem when it is set but unusable (not a number, not a
  /// sealed scoreboard memfd of the right size).
  static std::unique_ptr<scoreboard_writer> attach_from_environment(unsigned threads);
  /// Attaches to `fd` (which it closes).
  static std::unique_ptr<scoreboard_writer> attach(int fd, unsigned threads);

  scoreboard_writer(const scoreboard_writer&) = delete;
  scoreboard_writer& operator=(const scoreboard_writer&) = delete;
  scoreboard_writer(scoreboard_writer&&) = delete;
  scoreboard_writer& operator=(scoreboard_writer&&) = delete;
  ~scoreboard_writer();

  struct counters {
    std::uint64_t requests_completed = 0;
    std::uint64_t requests_in_flight = 0;
    std::uint64_t connections = 0;
    std::uint64_t connections_accepted = 0;
  };
  void publish(const counters& now) noexcept;
  void heartbeat(unsigned thread) noexcept;
  /// Records "METHOD TARGET" (truncated to scoreboard_layout::what_capacity bytes) and the
  /// time. Composed in place: no allocation on the request path.
  void handler_started(unsigned thread, std::string_view method, std::string_view target) noexcept;
  void handler_finished(unsigned thread) noexcept;

 private:
  scoreboard_writer(std::byte* map, unsigned threads) noexcept : map_(map), threads_(threads) {}

  std::byte* map_;
  unsigned threads_;
};

}  // namespace fcgi::runtime
