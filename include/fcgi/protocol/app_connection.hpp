// The application side of one FastCGI connection (spec §3.3, §4, §5, §6): a state machine
// fed with the bytes a web server sent, that reports requests as events and queues the
// records the application sends back. It performs no I/O and starts no threads.
//
// Use: feed every byte read from the socket to next_event() until it reports need_more;
// act on each event; write output().gather() to the socket and consume() what was written;
// close when wants_close() or after a connection_error.
//
//   std::span<const std::byte> in = bytes_read;
//   for (app_event ev = conn.next_event(in); ev.kind != app_event_kind::need_more;
//        ev = conn.next_event(in)) { ... }
//
// Requests are named by request_key: the id plus a generation that changes each time the id
// is reused, so output for a request that has ended never reaches its successor (§3.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/output_queue.hpp>
#include <fcgi/protocol/params.hpp>
#include <fcgi/protocol/record.hpp>
#include <fcgi/protocol/record_reader.hpp>

namespace fcgi::protocol {

/// A request on one connection: its id and the generation of that id.
struct request_key {
  std::uint16_t id = 0;
  std::uint32_t generation = 0;
  friend bool operator==(const request_key&, const request_key&) = default;
};

/// Bit for each role in app_settings::accepted_roles.
constexpr std::uint8_t role_bit(role r) noexcept {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(r));
}
inline constexpr std::uint8_t all_roles =
    role_bit(role::responder) | role_bit(role::authorizer) | role_bit(role::filter);

struct app_settings {
  /// Concurrent requests on this connection; a BEGIN_REQUEST past it gets OVERLOADED (§5.5).
  std::uint32_t max_requests = 256;
  /// FCGI_MPXS_CONNS (§4.1). When false a second concurrent request gets CANT_MPX_CONN.
  bool multiplex = true;
  /// The values answered to GET_VALUES for FCGI_MAX_CONNS and FCGI_MAX_REQS (§4.1). They
  /// describe the whole application, so the runtime fills them from its own configuration.
  std::uint32_t advertised_max_conns = 1024;
  std::uint32_t advertised_max_reqs = 256;
  /// Roles the application serves; others get UNKNOWN_ROLE (§5.5).
  std::uint8_t accepted_roles = all_roles;
  params_policy params;
  /// PARAMS bytes held at once by all requests of this connection (memory bound).
  std::size_t max_connection_params_bytes = 1024 * 1024;
  /// appStatus of the END_REQUEST sent when the state machine itself ends a request.
  std::uint32_t error_app_status = 1;
  /// write_stdout/write_stderr payloads of at least this size are framed in place when the
  /// caller uses the *_reference calls; smaller ones are always copied.
  std::size_t reference_threshold = 16 * 1024;
};

enum class app_event_kind : std::uint8_t {
  need_more,         ///< all input consumed; nothing (more) to report
  params_ready,      ///< PARAMS ended: the request can start (role, keep_conn, params)
  stdin_chunk,       ///< bytes of the request body (a view into the input)
  stdin_end,         ///< the body is complete (and matches CONTENT_LENGTH when given)
  data_chunk,        ///< Filter: bytes of the DATA stream (a view into the input)
  data_end,          ///< Filter: the DATA stream is complete
  request_aborted,   ///< ABORT_REQUEST for a started request: end it soon (§5.4)
  request_failed,    ///< the state machine ended the request (END_REQUEST queued): stop it
  request_rejected,  ///< a BEGIN_REQUEST was answered END_REQUEST{rejected_status}
  connection_error,  ///< close the connection; repeated on every later call
};
std::string_view to_string(app_event_kind k) noexcept;

struct app_event {
  app_event_kind kind = app_event_kind::need_more;
  request_key request;
  /// params_ready: the request's role and KEEP_CONN flag.
  role request_role = role::responder;
  bool keep_conn = false;
  /// params_ready: the request's params, valid until that request ends.
  param_list params;
  /// stdin_chunk, data_chunk: valid until the next call to next_event.
  bytes_view bytes;
  /// request_failed, connection_error: what and where.
  protocol_error error;
  /// request_rejected: the protocolStatus sent.
  protocol_status rejected_status = protocol_status::request_complete;
};

/// Counters for logs and metrics; they only grow.
struct app_connection_stats {
  std::uint64_t records = 0;
  std::uint64_t ignored_records = 0;       ///< for inactive ids, or streams already ended (§3.3)
  std::uint64_t unknown_type_records = 0;  ///< unknown types on request ids, skipped
  std::uint64_t requests_started = 0;
  std::uint64_t requests_rejected = 0;
  std::uint64_t requests_failed = 0;
  std::uint64_t get_values = 0;
};

class app_connection {
 public:
  explicit app_connection(const app_settings& settings = {});

  /// Consumes bytes from the front of `input` (advancing it) until there is an event to
  /// report or the input is used up (need_more). Every byte is consumed eventually: partial
  /// headers, bodies and pairs are kept. Records the state machine answers on its own
  /// (GET_VALUES, UNKNOWN_TYPE, rejections, ends on request errors) are queued to output().
  app_event next_event(bytes_view& input);

  /// Appends STDOUT (or STDERR) records carrying a copy of `bytes`. Zero bytes send nothing.
  /// Fails with request_not_active (ended, or the id reused), output_before_input_ready
  /// (Filter before STDIN ended, §6.4) or connection_closed (after a connection_error);
  /// nothing is queued on failure.
  errc write_stdout(request_key request, bytes_view bytes);
  errc write_stderr(request_key request, bytes_view bytes);
  /// As write_stdout, but bytes of at least settings.reference_threshold are not copied: they
  /// must stay alive and unchanged until output() has consumed them.
  errc write_stdout_reference(request_key request, bytes_view bytes);

  /// Ends the request: empty STDOUT, empty STDERR if any was written, END_REQUEST
  /// {REQUEST_COMPLETE, app_status} (§5.5, §6.1). The id becomes inactive. Fails with
  /// request_not_active or connection_closed.
  errc end_request(request_key request, std::uint32_t app_status);
  /// Ends the request with another protocolStatus (e.g. OVERLOADED decided by the runtime).
  /// Fails as end_request does.
  errc reject_request(request_key request, protocol_status status);

  /// The bytes to send.
  output_queue& output() noexcept { return output_; }
  [[nodiscard]] const output_queue& output() const noexcept { return output_; }
  /// Gives back the memory an idle connection keeps for its next request: the output
  /// queue's storage if nothing is pending, and the params buffers of request slots not in use.
  void release_idle_memory() noexcept;

  /// True after a connection_error, or when a request without KEEP_CONN has ended and no
  /// request is active: close once output() is empty (§3.5).
  [[nodiscard]] bool wants_close() const noexcept;
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  /// The input stopped inside a record (runtimes use it for a header deadline).
  [[nodiscard]] bool mid_record() const noexcept { return reader_.mid_record(); }
  [[nodiscard]] std::size_t active_requests() const noexcept { return active_count_; }
  [[nodiscard]] const app_connection_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const app_settings& settings() const noexcept { return settings_; }

 private:
  /// Where the content of the record being read goes.
  enum class content_sink : std::uint8_t {
    discard,
    begin_body,
    params,
    stdin_stream,
    data_stream,
    get_values
  };
  enum class input_phase : std::uint8_t { params, stdin_stream, data_stream, done };

  struct request_slot {
    bool active = false;
    bool started = false;  ///< params_ready reported: the runtime knows this request
    bool aborted = false;
    bool stderr_written = false;
    bool keep_conn = false;
    input_phase phase = input_phase::params;
    role request_role = role::responder;
    request_key key;
    std::uint64_t content_length = params_scanner::no_content_length;
    std::uint64_t stdin_received = 0;
    std::vector<std::byte> params;
    params_scanner scanner;
  };

  app_event on_header();
  app_event on_content(bytes_view chunk);
  app_event on_content_end();
  app_event on_begin_request();
  app_event on_abort_request(request_slot& slot);
  app_event on_params_header(request_slot& slot);
  app_event on_stdin_header(request_slot& slot);
  app_event on_data_header(request_slot& slot);
  app_event on_params_bytes(request_slot& slot, bytes_view bytes);
  app_event answer_get_values(bytes_view content);
  [[nodiscard]] app_event connection_error_event() const noexcept;

  request_slot* find_active(std::uint16_t id) noexcept;
  request_slot* find_active(request_key key) noexcept;
  request_slot& allocate_slot();
  void release(request_slot& slot) noexcept;
  void finish(request_slot& slot, std::uint32_t app_status, protocol_status status);
  app_event reject(std::uint16_t id, protocol_status status, bool keep_conn);
  errc write_stream(request_key request, record_type type, bytes_view bytes, bool reference);
  app_event fail_connection(errc code);
  app_event fail_request(request_slot& slot, errc code);

  app_settings settings_;
  output_queue output_;
  app_connection_stats stats_;
  std::vector<request_slot> slots_;
  std::size_t active_count_ = 0;
  std::size_t params_bytes_ = 0;  ///< PARAMS bytes held by all active slots
  std::uint32_t next_generation_ = 1;

  record_reader reader_;
  record_header header_;  ///< of the record being read
  content_sink sink_ = content_sink::discard;
  request_key current_;  ///< request of the stream record being read
  std::size_t body_fill_ = 0;
  std::array<std::byte, fixed_body_size> body_bytes_{};
  std::vector<std::byte> management_;  ///< GET_VALUES content split across reads
  bool close_pending_ = false;
  bool failed_ = false;
  protocol_error error_;
};

}  // namespace fcgi::protocol
