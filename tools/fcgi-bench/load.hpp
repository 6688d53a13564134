// The load engine: threads, each with its own io_context and async_client, driving requests
// in a closed loop (a fixed number in flight) or an open loop (a fixed rate, latencies
// measured from each request's intended start, as wrk2 does), and what they count.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <fcgi/client/errc.hpp>
#include <fcgi/client/request.hpp>

#include "histogram.hpp"

namespace fcgi::bench {

using clock = std::chrono::steady_clock;

struct load_plan {
  /// As fcgi::client reads it: unix:PATH, tcp:HOST:PORT, /PATH, HOST:PORT.
  std::string endpoint;
  /// Sent by every call; its body and DATA views must outlive the run.
  client::request request;
  unsigned threads = 1;
  /// Requests in flight at once over all threads (the cap on outstanding requests in the
  /// open loop).
  std::size_t concurrency = 32;
  /// Connections over all threads; each thread gets its share (at least one).
  std::size_t connections = 32;
  client::multiplexing mpx = client::multiplexing::probe;
  bool keep_conn = true;
  std::chrono::nanoseconds duration{std::chrono::seconds(10)};
  /// > 0: stop after this many measured requests instead of after `duration`.
  std::uint64_t requests = 0;
  /// Requests started during the warm-up are sent but not counted.
  std::chrono::nanoseconds warmup{0};
  /// > 0: the open loop, at this many requests per second over all threads.
  double rate = 0;
  /// Total time of one request; zero: none.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

/// What the threads counted, merged.
struct tally {
  /// client::errc values index `errors`; slot 0 counts errors of another category.
  static constexpr std::size_t error_slots = 32;

  /// Latencies of the responses with a valid CGI head, whatever their status.
  latency_histogram latency;
  /// Responses with a valid CGI head, by status class: [1] 1xx ... [5] 5xx.
  std::array<std::uint64_t, 6> status_classes{};
  /// Calls that failed with a client::errc, by its value.
  std::array<std::uint64_t, error_slots> errors{};
  /// Responses whose STDOUT did not start with a CGI head a web server would accept.
  std::uint64_t invalid_heads = 0;
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
  /// Open loop: requests in the measured window that should have started.
  std::uint64_t scheduled = 0;
  /// Open loop: requests started after their intended time because `concurrency` requests
  /// were already in flight.
  std::uint64_t late = 0;
  /// Open loop: scheduled requests the run ended before starting.
  std::uint64_t missed = 0;

  void merge(const tally& other) noexcept;
  [[nodiscard]] std::uint64_t responses() const noexcept;
  [[nodiscard]] std::uint64_t failed() const noexcept;
  [[nodiscard]] std::uint64_t completed() const noexcept { return responses() + failed(); }
  [[nodiscard]] std::uint64_t connect_failures() const noexcept;
};

/// The slot of `code` in tally::errors (0 for an error of another category).
std::size_t error_slot(const std::error_code& code) noexcept;

struct run_result {
  tally totals;
  /// The measured window: from the end of the warm-up to the end of the run (the later of
  /// the planned end and the last measured response).
  std::chrono::nanoseconds elapsed{0};
  /// Set when the start-up call could not connect: what went wrong. Nothing was run.
  std::optional<std::string> unreachable;
  /// SIGINT or SIGTERM ended the run early.
  bool interrupted = false;
  /// Summed over the threads' pools; `multiplexing` and `probe_answered` are thread 0's.
  client::pool_stats pool;
};

struct progress_snapshot {
  std::chrono::nanoseconds elapsed{0};  ///< since the start line, warm-up included
  bool warming_up = false;
  std::uint64_t completed = 0;  ///< requests ended, warm-up included
  std::uint64_t failed = 0;     ///< measured requests that failed
  latency_histogram latency;    ///< of the measured responses
};

using progress_sink = std::function<void(const progress_snapshot&)>;

/// Runs `plan` on plan.threads threads and waits for it. Each thread first makes one call
/// alone (never counted): it opens the first connection, lets the multiplexing probe finish
/// and tells whether the application can be reached at all; then all threads start together.
/// SIGINT and SIGTERM end the run early (requests in flight finish, the report follows); a
/// second one exits at once with status 130. `progress`, when set, is called from this thread
/// about once a second. Throws std::invalid_argument for an endpoint fcgi::client refuses.
run_result run_load(const load_plan& plan, const progress_sink& progress);

}  // namespace fcgi::bench
