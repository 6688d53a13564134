// fcgi::server: the application runtime. Register handlers per role, then run().
//
//   int main(int argc, char** argv) {
//     fcgi::server app(fcgi::server_config::from_args(argc, argv));
//     app.responder([](fcgi::request& req, fcgi::response& res) {
//       res.header("Content-Type", "text/plain").write("Hello, world!\n");
//     });
//     return app.run();
//   }
//
// run() finds its socket the way FastCGI applications always have: fd 0 when it is a
// listening socket (web servers, spawn-fcgi and fcgi-pm start apps so), else the sockets of
// systemd socket activation, else the configured `listen` endpoints; when none applies and
// the process was started as a CGI program, it serves that one request CGI-style and exits.
//
// Handlers run once the request's input is complete (the body, and DATA for Filter): they
// never wait for the network, and a front that sends the body before reading the response
// (Caddy) or stops sending it once it has a response head (nginx) can never deadlock them.
//
// Where they run (docs/server.md, "Threading model"):
// - handler_threads = 0 (default): on the I/O thread that owns the connection, to completion.
//   The fastest path, for handlers that compute and answer. A handler that blocks (a database
//   call, a sleep) holds up every connection of its thread, and nothing can interrupt it.
//   Output the peer does not take yet stays in memory up to `held_output_memory` per
//   connection; the rest goes to an unlinked temp file and is sent from there, so a large
//   response to a slow reader costs disk, not memory.
// - handler_threads = N: on a pool of N threads, for handlers that block. The I/O threads keep
//   the sockets and the protocol; a handler's output is handed to its connection's I/O thread,
//   and response::write() waits while more than `max_output_buffer` of its request's output is
//   unsent. Once the request is aborted, its web server is gone or `request_timeout` passed,
//   response::aborted() turns true and writes fail at once.
// - coroutine handlers (async.hpp): on the I/O thread, suspended while they wait.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/server/request.hpp>
#include <fcgi/server/response.hpp>

namespace fcgi {

struct server_config {
  /// Endpoints to listen on when no socket was inherited (fd 0 or systemd).
  std::vector<std::string> listen;
  /// Listening sockets already open (e.g. made by an embedding program or a test); the server
  /// takes ownership. When set, fd 0, systemd and `listen` are not consulted.
  std::vector<int> listen_fds;
  /// I/O threads, each with its own event loop; 1 is a lock-free configuration.
  unsigned threads = 1;
  /// Threads that run handlers registered with responder()/authorizer()/filter(): 0 runs them
  /// on the I/O threads (see above); N > 0 runs them on a pool of N threads, so a blocking
  /// handler holds up only its own request. At most N blocking handlers run at once; later
  /// requests wait for a free thread. Coroutine handlers always run on the I/O threads.
  unsigned handler_threads = 0;
  /// Connections held at once; past it, new connections wait in the listen queue.
  std::size_t max_connections = 10000;
  /// Requests in progress at once, over all connections; past it: END_REQUEST{OVERLOADED}.
  std::size_t max_requests = 10000;
  /// Per-connection protocol settings (params limits, multiplexing, requests per connection).
  protocol::app_settings protocol;
  /// Largest request body (and Filter DATA) held for a handler; past it the request fails.
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  /// Output kept in memory before the rest goes to an unlinked temp file (in $TMPDIR, else
  /// /tmp): a coroutine's output held while its body is still arriving, and, per connection,
  /// the unsent output of handlers on the I/O threads (which cannot wait for a slow reader).
  std::size_t held_output_memory = 1024 * 1024;
  /// Coroutine handlers: send() waits while a connection has more unsent output than this.
  /// Handler-pool handlers: write() waits while their request has more unsent output.
  std::size_t max_output_buffer = 1024 * 1024;
  /// Coroutine handlers: reading from the socket pauses while a request has this much body
  /// received but not yet read by its handler (FastCGI has no per-request flow control, so
  /// this holds back the whole connection).
  std::size_t max_unread_input = 4 * 1024 * 1024;
  /// Deadlines. A connection with no request and no byte received for `idle_timeout` is
  /// closed; a request whose input stalls (no byte for `input_timeout`, e.g. slowloris) or
  /// whose output is not read for `output_timeout` fails and its connection closes.
  /// A connection that started a request (or stopped inside a record) must complete the
  /// request's params within this long, however slowly it trickles (slowloris, HOSTILE C-41).
  std::chrono::milliseconds params_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds input_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds output_timeout{std::chrono::seconds(60)};
  /// A request whose handler is still running this long after it started (HOSTILE C-33) is
  /// cancelled and answered at once: END_REQUEST with protocol.error_app_status, a note on
  /// STDERR and a log line naming it. A coroutine is cancelled as by ABORT_REQUEST; a pool
  /// handler sees response::aborted() and failing writes, and what it writes later is dropped.
  /// A handler on an I/O thread cannot be interrupted: it is only logged when it returns.
  /// Checked once a second. 0 (the default, as php-fpm's request_terminate_timeout) turns it
  /// off: long downloads and streams are legitimate, and the web server has its own timeouts
  /// (its abort cancels the request).
  std::chrono::milliseconds request_timeout{0};
  /// After a stop request, in-flight requests get this long before connections are cut.
  std::chrono::milliseconds stop_grace{std::chrono::seconds(30)};
  /// Stop gracefully on SIGTERM and SIGINT (turn off when embedding in a program that
  /// handles signals itself).
  bool handle_signals = true;
  /// Unix socket permissions for the listen endpoints (0 = leave to the umask).
  unsigned socket_mode = 0;
  /// Log lines go here (default: stderr with a timestamp). Called from I/O threads and
  /// handler-pool threads, so it must be thread-safe when either count is above 1.
  std::function<void(std::string_view line)> log;

  /// Reads `--listen ENDPOINT` (repeatable), `--threads N`, `--handler-threads N`,
  /// `--request-timeout DURATION`, `--socket-mode MODE`, `--content-length-minus-one` and
  /// `--help` from a command line.
  /// Unknown options print a usage and exit(2); --help prints it and exits(0).
  static server_config from_args(int argc, char** argv);
};

class server {
 public:
  using handler = std::function<void(request&, response&)>;

  explicit server(server_config config = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  server(server&&) = delete;
  server& operator=(server&&) = delete;

  /// Registers the handler of a role; a role without a handler is answered UNKNOWN_ROLE.
  server& responder(handler h);
  server& authorizer(handler h);
  server& filter(handler h);

  /// Serves until stop() or SIGTERM/SIGINT, then finishes in-flight requests within
  /// stop_grace (past it their connections are cut and their requests cancelled) and waits
  /// for handler-pool handlers to return. Returns the process exit status: 0 on a clean stop, 1
  /// when it cannot start (no socket, an endpoint taken, ...), after logging why and how to fix it.
  int run();
  /// As run(), but start-up failures are thrown (std::system_error, std::invalid_argument).
  int run_or_throw();
  /// Asks run() to stop; safe from any thread and from signal handlers' threads.
  void stop() noexcept;

  struct stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t requests_completed = 0;
    std::uint64_t requests_overloaded = 0;
    std::uint64_t protocol_errors = 0;
  };
  /// Counters summed over all I/O threads (approximate while running).
  [[nodiscard]] stats statistics() const noexcept;

  class impl;
  /// fcgikit's own extensions (coroutine handlers) reach the runtime through this.
  impl& implementation() noexcept { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace fcgi
