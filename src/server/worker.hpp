// Internal: one I/O thread's event loop, its acceptors and its connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/runtime/endpoint.hpp>
#include <fcgi/runtime/scoreboard.hpp>
#include <fcgi/server/async.hpp>
#include <fcgi/server/server.hpp>

#include "async_state.hpp"
#include "pool.hpp"

namespace fcgi::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

/// What all I/O threads share: configuration, handlers, process-wide limits and counters.
struct shared_state {
  server_config config;
  std::array<server::handler, 4> handlers;  ///< indexed by protocol::role
  std::array<async_handler, 4> async_handlers;
  runtime::address_allowlist allowlist;
  std::atomic<std::size_t> requests_in_flight{0};
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> requests_completed{0};
  std::atomic<std::uint64_t> requests_overloaded{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  /// Set while run() serves when config.handler_threads > 0.
  std::unique_ptr<handler_pool> pool;
  /// Set when a process manager passed a scoreboard (FCGI_PM_SCOREBOARD): the I/O threads
  /// report their heartbeat and running handler to it, worker 0 the counters.
  std::unique_ptr<runtime::scoreboard_writer> scoreboard;

  void log(std::string_view line) const;
};

/// Runs `handler`; an exception becomes a log line, a 500 (if nothing was sent yet) and a
/// STDERR note (HOSTILE C-32). Returns the app status to end the request with.
std::uint32_t invoke_handler(const server::handler& handler, request& req, response& res,
                             const shared_state& shared);
/// How log lines name a request: its method and REQUEST_URI (else SCRIPT_NAME).
std::string describe(const request& req);
/// REQUEST_URI, else SCRIPT_NAME: what describe() names.
std::string_view target_of(const request& req) noexcept;

class worker;

/// One accepted socket: reads are fed to the protocol state machine, its events run
/// handlers, its output queue is written back. Lives on one worker's thread only.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(worker& owner, int fd, std::string peer);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  connection(connection&&) = delete;
  connection& operator=(connection&&) = delete;

  void start();
  void close(std::string_view why = {});
  /// Called by the worker's sweep: closes the connection past a deadline.
  void check_deadlines(clock::time_point now);
  /// Starts or clears the params deadline after input (see header_since_).
  void track_header_phase();
  /// On stop: close now if no request is in progress, else once they finish.
  void begin_stop();
  [[nodiscard]] bool closed() const noexcept { return closed_; }

  // Used by the response sink of a request on this connection.
  bool write_stdout(protocol::request_key key, std::string_view bytes);
  bool write_stderr(protocol::request_key key, std::string_view bytes);
  /// Handlers on this I/O thread: as write_stdout, but past held_output_memory of unsent
  /// output the rest goes to the request's temp file (they cannot wait for a slow reader).
  bool write_stdout_or_spill(protocol::request_key key, std::string_view bytes);
  /// Ends the request now, or once its spilled output has been sent.
  void finish_request(protocol::request_key key, std::uint32_t app_status);
  void end_request(protocol::request_key key, std::uint32_t app_status);
  [[nodiscard]] bool request_aborted(protocol::request_key key) const noexcept;
  /// Unsent output bytes on this connection.
  [[nodiscard]] std::size_t output_size() noexcept { return protocol_.output().size(); }
  /// Coroutine requests: sends held output once the body ended, and ends the request when
  /// its handler already finished.
  void pump_held_output(async_state& state);
  /// Handler pool: takes the output a pool thread handed over (posted by the pool_job).
  void on_pool_output(pool_job& job);
  [[nodiscard]] const server_config& config() const noexcept;
  [[nodiscard]] shared_state& shared() const noexcept;
  [[nodiscard]] asio::io_context& context() const noexcept;

  connection* prev = nullptr;  ///< the worker's intrusive list
  connection* next = nullptr;

 private:
  struct request_state {
    protocol::request_key key;
    std::optional<request> req;
    std::shared_ptr<async_state> async;  ///< set for coroutine handlers
    std::shared_ptr<pool_job> pool;      ///< set for handlers on the handler pool
    /// Handlers on the I/O thread: output past held_output_memory, waiting in a temp file,
    /// and the status to end with once it has been sent.
    std::unique_ptr<held_output> spill;
    std::optional<std::uint32_t> end_status;
    clock::time_point started;  ///< when a pool or coroutine handler started
    bool aborted = false;
    bool running = false;
  };

  void wait_readable();
  void wait_writable();
  void on_readable();
  void feed(protocol::bytes_view input);
  void on_event(const protocol::app_event& ev);
  void on_params_ready(const protocol::app_event& ev);
  void on_input_chunk(const protocol::app_event& ev, bool is_data);
  void on_input_end(const protocol::app_event& ev, bool is_data);
  void run_handler(request_state& state);
  bool spill_stdout(request_state& state, std::string_view bytes);
  void pump_spilled(protocol::request_key key);
  /// Moves held output of `key` into the queue while it holds less than `bound`; false if
  /// the temp file cannot be read back.
  bool send_held(protocol::request_key key, held_output& held, std::size_t bound);
  void pump_pool_output(pool_job& job);
  void end_overdue_requests(clock::time_point now);
  void start_async(request_state& state, const protocol::app_event& ev, const async_handler& h);
  void after_output_progress();
  void resume_input_if_drained();
  void forget(protocol::request_key key) noexcept;
  request_state* find(protocol::request_key key) noexcept;
  void flush();
  void after_io();
  [[nodiscard]] std::string peer_name() const;

  worker& owner_;
  /// An open connection owns itself: while its reads are paused and its coroutines wait, no
  /// pending operation holds it. close() lets go.
  std::shared_ptr<connection> self_;
  asio::posix::stream_descriptor socket_;
  std::string peer_;
  protocol::app_connection protocol_;
  std::vector<request_state> requests_;
  clock::time_point last_input_;
  /// When the connection entered the header phase (a request without complete params, or a
  /// record cut short with no request running); unset (epoch) otherwise.
  clock::time_point header_since_{};
  clock::time_point last_output_;
  bool read_armed_ = false;
  bool write_armed_ = false;
  bool closed_ = false;
  bool stopping_ = false;
  /// A request reached this connection (admitted or refused). Until then, a stop leaves the
  /// connection open for first_request_grace: it was accepted while the process still
  /// accepted, so its first request is served (see begin_stop).
  bool had_request_ = false;
  clock::time_point stop_since_{};
  bool in_feed_ = false;
  bool input_paused_ = false;  ///< a coroutine handler has too much unread body
  bool pumping_ = false;       ///< guards pump_held_output against re-entry
};

class worker {
 public:
  worker(shared_state& shared, unsigned index, const std::vector<int>& listen_fds,
         bool handle_signals);
  ~worker();  // NOLINT(bugprone-exception-escape): must drain or terminate (worker.cpp)
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  worker(worker&&) = delete;
  worker& operator=(worker&&) = delete;

  void run();
  /// Thread-safe: asks this worker to stop accepting and drain.
  void request_stop();

  shared_state& shared;
  const unsigned index;  ///< 0 .. threads - 1
  /// Run by this worker's thread only, and every descriptor and timer registered with it is
  /// used from that thread only (other threads, the handler pool and stop(), reach the worker
  /// with asio::post, which stays locked). So the reactor's per-descriptor locking is turned
  /// off: UNSAFE_IO drops one mutex lock and unlock per operation start and per readiness
  /// report. Anything that starts or cancels an operation on this context from another thread
  /// must post to it instead.
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  /// One read buffer per thread: a connection reads only when readable and consumes at once,
  /// so idle connections hold no buffer.
  std::unique_ptr<std::byte[]> read_buffer;  // NOLINT(modernize-avoid-c-arrays)
  static constexpr std::size_t read_buffer_size = 64 * 1024;

  void add(connection& c) noexcept;
  void remove(connection& c) noexcept;

  /// Called on this worker's thread when SIGTERM/SIGINT arrives (worker 0 only).
  std::function<void()> on_signal;

 private:
  struct acceptor {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    bool armed = false;
  };
  void arm_accept(acceptor& a);
  void on_acceptable(acceptor& a);
  void arm_sweep();
  /// Heartbeat (and, on worker 0, the counters) for the process manager's scoreboard.
  void report_to_scoreboard();
  void begin_stop();
  void finish_if_drained();

  std::vector<acceptor> acceptors_;
  asio::steady_timer sweep_;
  asio::steady_timer grace_;
  std::unique_ptr<struct signal_waiter> signals_;
  connection* connections_ = nullptr;
  std::size_t connection_count_ = 0;
  bool stopping_ = false;
  bool paused_ = false;
};

}  // namespace fcgi::detail

namespace fcgi {

class server::impl {
 public:
  explicit impl(server_config config) { shared.config = std::move(config); }

  detail::shared_state shared;
  std::vector<std::unique_ptr<detail::worker>> workers;
  std::mutex workers_mutex;  ///< stop() may race run() setting workers up

  std::vector<int> find_listeners();
  void stop_workers();
};

}  // namespace fcgi
