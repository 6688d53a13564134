// What a FastCGI call sends and what it gets back, for both the synchronous client
// (client.hpp) and the coroutine client (async.hpp). No Asio here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcgi/protocol/cgi_params.hpp>
#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/record.hpp>
#include <fcgi/protocol/response_head.hpp>

namespace fcgi::client {

/// Where STDIN (or Filter DATA) comes from. Memory is sent in place, without a copy; a file or
/// a pipe is read in chunks as the connection drains, never loaded whole.
class body_source {
 public:
  enum class kind : std::uint8_t { empty, bytes, descriptor };

  body_source() = default;
  /// Owns `bytes`.
  static body_source from_string(std::string bytes);
  /// Does not own `bytes`: keep them alive and unchanged until the call returns.
  static body_source from_view(std::string_view bytes);
  /// Reads `fd` (a regular file, a pipe, a socket) to its end. The fd is closed when the
  /// source is destroyed if `owned`.
  static body_source from_fd(int fd, bool owned);
  /// Opens `path` for reading; throws std::system_error naming the path when it cannot.
  static body_source from_file(const std::string& path);

  [[nodiscard]] kind type() const noexcept { return type_; }
  [[nodiscard]] std::string_view bytes() const noexcept { return view_; }
  [[nodiscard]] int fd() const noexcept { return fd_ ? fd_->fd : -1; }
  /// The size when known in advance (memory, regular file), else -1.
  [[nodiscard]] std::int64_t known_size() const;

 private:
  struct owned_fd {
    int fd = -1;
    bool owned = false;
    owned_fd(int f, bool o) noexcept : fd(f), owned(o) {}
    owned_fd(const owned_fd&) = delete;
    owned_fd& operator=(const owned_fd&) = delete;
    owned_fd(owned_fd&&) = delete;
    owned_fd& operator=(owned_fd&&) = delete;
    ~owned_fd();
  };
  kind type_ = kind::empty;
  std::shared_ptr<const std::string> storage_;
  std::string_view view_;
  std::shared_ptr<owned_fd> fd_;
};

/// Receives response bytes as they arrive (a view valid only during the call). The reader of
/// the connection waits while it runs: a slow sink slows the application down (backpressure)
/// — and, on a multiplexed connection, the other requests sharing it.
using stream_sink = std::function<void(std::string_view bytes)>;

struct request {
  protocol::role role = protocol::role::responder;
  /// The PARAMS stream, in order (build them with build_cgi_params for HTTP-like calls).
  std::vector<std::pair<std::string, std::string>> params;
  body_source body;  ///< STDIN
  body_source data;  ///< DATA, Filter only
  /// When set, STDOUT / STDERR go here instead of into response::out / response::err.
  stream_sink on_stdout;
  stream_sink on_stderr;
};

struct response {
  /// Empty when END_REQUEST{REQUEST_COMPLETE} arrived; else what went wrong (client::errc).
  std::error_code error;
  /// Specifics of `error` for people: the errno text, the protocol rule broken, ...
  std::string detail;
  std::string out;              ///< STDOUT, unless request::on_stdout took it
  std::string err;              ///< STDERR, unless request::on_stderr took it
  std::uint64_t out_bytes = 0;  ///< STDOUT bytes received, streamed or not
  std::uint64_t err_bytes = 0;
  /// STDERR went past pool_settings::max_collected_stderr: `err` holds its beginning only.
  bool err_truncated = false;
  bool ended = false;  ///< END_REQUEST arrived (app_status and protocol_status are real)
  std::uint32_t app_status = 0;
  protocol::protocol_status protocol_status = protocol::protocol_status::request_complete;
  bool reused_connection = false;  ///< the call ran on a connection kept from earlier calls
  std::chrono::nanoseconds first_byte_time{0};  ///< from the start of the call
  std::chrono::nanoseconds total_time{0};

  [[nodiscard]] bool ok() const noexcept { return !error; }
};

enum class multiplexing : std::uint8_t {
  probe,  ///< ask FCGI_MPXS_CONNS with GET_VALUES once (bounded by probe_timeout) and cache it
  on,     ///< trust the application to multiplex (HAProxy's `option mpxs-conns`)
  off,    ///< one request per connection at a time
};

/// Zero means no limit.
struct timeouts {
  std::chrono::milliseconds connect{std::chrono::seconds(5)};
  std::chrono::milliseconds first_byte{std::chrono::seconds(60)};
  std::chrono::milliseconds idle{std::chrono::seconds(60)};
  std::chrono::milliseconds total{0};
};

struct pool_settings {
  /// Connections open at once to the endpoint (lowered to FCGI_MAX_CONNS when the probe
  /// learns it). Calls past the capacity wait for a connection, in order.
  std::size_t max_connections = 16;
  multiplexing mpx = multiplexing::probe;
  /// Requests in flight on one multiplexed connection (lowered to FCGI_MAX_REQS when learnt).
  std::uint32_t max_requests_per_connection = 128;
  /// Keep connections open between calls (FCGI_KEEP_CONN); off: one connection per call.
  bool keep_conn = true;
  /// How long the GET_VALUES probe may wait. Some applications answer it late or never
  /// (libfcgi answers only when more bytes follow); then the pool does not multiplex.
  std::chrono::milliseconds probe_timeout{std::chrono::milliseconds(250)};
  client::timeouts timeouts;
  /// STDIN/DATA bytes queued ahead of the socket per connection before the body source
  /// waits (bounds memory for file and pipe bodies).
  std::size_t max_queued_output = 256 * 1024;
  /// Bounds on what a call without a sink collects (HOSTILE D-51: an application can send
  /// without end). Past max_collected_stdout the call fails with response_too_large and its
  /// request is aborted; stream large responses with request::on_stdout instead. Past
  /// max_collected_stderr the rest of STDERR is counted in err_bytes but dropped
  /// (response::err_truncated): diagnostics never fail the answer they came with.
  std::size_t max_collected_stdout = 64 * 1024 * 1024;
  std::size_t max_collected_stderr = 1024 * 1024;
  /// After ABORT_REQUEST, how long the application has to send END_REQUEST before the
  /// connection is closed (so an application that ignores aborts cannot pin it).
  std::chrono::milliseconds abort_grace{std::chrono::seconds(1)};
  /// Send a call again when the kept connection it ran on turns out closed before any answer
  /// (the application closed it as the request went out: a worker replaced by its process
  /// manager, an idle timeout on its side) — only for idempotent requests (REQUEST_METHOD GET,
  /// HEAD, OPTIONS, TRACE, PUT, DELETE) whose bodies are in memory, as nginx does with its
  /// cached upstream connections. A request without REQUEST_METHOD is never repeated.
  bool retry_on_stale_connection = true;
  /// When set, a line per record sent and stream event received ("> BEGIN_REQUEST ...",
  /// "< STDOUT 512 bytes", ...), prefixed with the request id: what `fcgi-call -v` prints.
  std::function<void(std::string_view line)> trace;
};

struct pool_stats {
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;  ///< calls that found a kept connection
  std::uint64_t calls = 0;
  std::uint64_t failed_calls = 0;
  std::uint64_t retries = 0;  ///< calls sent again after a stale kept connection
  std::size_t open_connections = 0;
  std::size_t in_flight = 0;  ///< calls started and not returned, queued ones included
  /// The most requests that were in progress at once on one connection (multiplexing at work
  /// when above 1).
  std::size_t peak_requests_per_connection = 0;
  bool multiplexing = false;  ///< what the pool decided
  bool probed = false;        ///< the probe ran (answered or timed out)
  bool probe_answered = false;
  std::uint32_t app_max_conns = 0;  ///< FCGI_MAX_CONNS when answered, else 0
  std::uint32_t app_max_reqs = 0;   ///< FCGI_MAX_REQS when answered, else 0
};

}  // namespace fcgi::client

namespace fcgi::client {

/// A Responder request for an HTTP-like call: the CGI/1.1 params of `http` (see
/// protocol::build_cgi_params, which decides what may reach the application) and `body` as
/// STDIN. Set http.content_length to the body's size when it is known.
protocol::result<request> http_request(const protocol::cgi_request& http, body_source body = {});

/// A response's STDOUT split into its parsed CGI head and the body after it.
struct parsed_response {
  protocol::response_head head;
  std::string_view body;  ///< a view into response::out
};
/// Parses response::out (so not for calls that streamed STDOUT to a sink: parse those with a
/// protocol::response_head_parser as the bytes arrive). Fails with the head's error, or
/// response_head_incomplete when STDOUT ended inside the head.
protocol::result<parsed_response> parse_response(
    const response& r, const protocol::response_head_settings& limits = {});

/// The answer to a GET_VALUES query (§4.1).
struct values_answer {
  std::error_code error;  ///< e.g. idle_timeout when the application did not answer in time
  std::string detail;
  std::vector<std::pair<std::string, std::string>> values;
};

}  // namespace fcgi::client
