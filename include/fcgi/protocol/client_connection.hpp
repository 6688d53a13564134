// The web-server side of one FastCGI connection: a state machine that encodes requests
// (BEGIN_REQUEST, PARAMS, STDIN, DATA, ABORT_REQUEST, GET_VALUES) into output() and is fed
// the application's bytes, reporting STDOUT, STDERR, END_REQUEST, GET_VALUES_RESULT and
// UNKNOWN_TYPE as events. It performs no I/O and starts no threads.
//
// A response for an id that is not active, a stream record after its stream ended, or any
// malformed record is a connection_error: the connection must be closed and never reused,
// so bytes meant for one request can never be delivered to another.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/output_queue.hpp>
#include <fcgi/protocol/params.hpp>
#include <fcgi/protocol/record.hpp>
#include <fcgi/protocol/record_reader.hpp>

namespace fcgi::protocol {

struct client_settings {
  /// Concurrent requests this connection may carry (ids 1..max_requests). Use 1 unless the
  /// application answered FCGI_MPXS_CONNS=1.
  std::uint32_t max_requests = 1;
  /// STDIN/DATA payloads of at least this size are framed in place by the *_reference calls.
  std::size_t reference_threshold = 16 * 1024;
};

enum class client_event_kind : std::uint8_t {
  need_more,         ///< all input consumed; nothing (more) to report
  stdout_chunk,      ///< response bytes (a view into the input)
  stdout_end,        ///< the empty STDOUT record
  stderr_chunk,      ///< error-stream bytes (a view into the input)
  stderr_end,        ///< the empty STDERR record
  request_ended,     ///< END_REQUEST: the id is free again
  values_result,     ///< GET_VALUES_RESULT pairs
  unknown_type,      ///< the application did not understand a management record we sent
  connection_error,  ///< close the connection; repeated on every later call
};
std::string_view to_string(client_event_kind k) noexcept;

struct client_event {
  client_event_kind kind = client_event_kind::need_more;
  request_key request;
  /// stdout_chunk, stderr_chunk: valid until the next call to next_event.
  bytes_view bytes;
  /// request_ended: appStatus and the raw protocolStatus (§5.5).
  end_request_body end;
  /// values_result: valid until the next call to next_event.
  param_list values;
  /// unknown_type: the type the application did not understand.
  std::uint8_t unknown_type = 0;
  protocol_error error;
};

struct client_connection_stats {
  std::uint64_t records = 0;
  std::uint64_t ignored_records = 0;  ///< unknown types, skipped
  std::uint64_t requests_started = 0;
  std::uint64_t requests_ended = 0;
};

class client_connection {
 public:
  explicit client_connection(const client_settings& settings = {});

  /// Queues BEGIN_REQUEST on the lowest free id. Fails with too_many_active_requests.
  result<request_key> begin_request(role r, bool keep_conn);
  /// Queues PARAMS records carrying `params` (may be called several times). Fails with
  /// request_not_active, stream_already_ended, param_too_long, connection_closed.
  errc send_params(request_key request, std::span<const param> params);
  /// Queues the empty PARAMS record.
  errc end_params(request_key request);
  /// Queues STDIN records (zero bytes send nothing). Fails with request_not_active,
  /// stdin_before_params_end, stream_already_ended.
  errc send_stdin(request_key request, bytes_view bytes);
  /// As send_stdin; bytes of at least reference_threshold are referenced, not copied: keep them
  /// alive and unchanged until output() has consumed them.
  errc send_stdin_reference(request_key request, bytes_view bytes);
  errc end_stdin(request_key request);
  /// Filter only, after STDIN ended (§6.4). Fails also with data_for_non_filter,
  /// data_before_stdin_end.
  errc send_data(request_key request, bytes_view bytes);
  errc end_data(request_key request);
  /// Queues ABORT_REQUEST (§5.4); the request stays active until its END_REQUEST arrives.
  errc abort_request(request_key request);
  /// Queues GET_VALUES asking for `names` (§4.1). Fails with get_values_too_large.
  errc query_values(std::span<const std::string_view> names);

  /// Consumes the application's bytes; see app_connection::next_event.
  client_event next_event(bytes_view& input);

  output_queue& output() noexcept { return output_; }
  [[nodiscard]] const output_queue& output() const noexcept { return output_; }

  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] std::size_t active_requests() const noexcept { return active_count_; }
  /// False once failed, or once a request sent without KEEP_CONN: the application closes.
  [[nodiscard]] bool reusable() const noexcept { return !failed_ && !closing_; }
  [[nodiscard]] const client_connection_stats& stats() const noexcept { return stats_; }

 private:
  enum class content_sink : std::uint8_t {
    discard,
    stdout_stream,
    stderr_stream,
    end_request,
    unknown_type,
    values
  };
  enum class send_phase : std::uint8_t { params, stdin_stream, data_stream, done };

  struct request_slot {
    bool active = false;
    bool stdout_ended = false;
    bool stderr_ended = false;
    bool abort_sent = false;
    role request_role = role::responder;
    send_phase phase = send_phase::params;
    request_key key;
  };

  client_event on_header();
  client_event on_content(bytes_view chunk);
  client_event on_stream_header(record_type type);
  client_event on_content_end(bytes_view whole_content);
  client_event fail_connection(errc code);
  [[nodiscard]] client_event connection_error_event() const noexcept;
  request_slot* allocate_slot() noexcept;
  request_slot* find_active(std::uint16_t id) noexcept;
  request_slot* find_active(request_key key) noexcept;
  /// The slot of `request` when its `phase` stream may be written now; else null and `error`
  /// says why.
  request_slot* stream_slot(request_key request, send_phase phase, errc& error);
  errc send_stream(request_key request, send_phase phase, record_type type, bytes_view bytes,
                   bool reference);
  errc end_stream(request_key request, send_phase phase, record_type type);

  client_settings settings_;
  output_queue output_;
  client_connection_stats stats_;
  std::vector<request_slot> slots_;  ///< index i holds id i + 1
  std::size_t active_count_ = 0;
  std::uint32_t next_generation_ = 1;

  record_reader reader_;
  record_header header_;  ///< of the record being read
  content_sink sink_ = content_sink::discard;
  std::size_t body_fill_ = 0;
  std::array<std::byte, fixed_body_size> body_bytes_{};
  std::vector<std::byte> management_;  ///< GET_VALUES_RESULT content split across reads
  std::vector<std::byte> scratch_;     ///< encoded pairs before framing
  request_key current_;                ///< request of the record being read
  bool closing_ = false;
  bool failed_ = false;
  protocol_error error_;
};

}  // namespace fcgi::protocol
