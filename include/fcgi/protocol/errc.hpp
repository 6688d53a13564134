// fcgi::protocol errors: every protocol violation and every misuse of the API has a value here.
//
// Values are append-only: they are logged, compared and stored by users, so a value never
// changes meaning. Each has a short name (to_string) and a reason that names the rule of the
// FastCGI 1.0 specification it enforces (describe).
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace fcgi::protocol {

enum class errc : std::uint8_t {
  // Framing: the byte stream itself cannot be trusted any more (close the connection).
  unsupported_version = 1,          ///< §3.3: version must be FCGI_VERSION_1
  begin_request_length,             ///< §5.1: BEGIN_REQUEST content must be exactly 8 bytes
  begin_request_on_null_id,         ///< §3.3: application records need a non-zero request id
  request_id_already_active,        ///< §3.3: BEGIN_REQUEST for an id that is still active
  application_record_on_null_id,    ///< §3.3: PARAMS/STDIN/DATA/ABORT/... on request id 0
  management_record_on_request_id,  ///< §4.1: GET_VALUES(_RESULT) must use request id 0
  record_type_wrong_direction,      ///< §8: this record type is never sent by this peer
  end_request_length,               ///< §5.5: END_REQUEST content must be exactly 8 bytes
  unknown_type_length,              ///< §4.2: UNKNOWN_TYPE content must be exactly 8 bytes
  response_for_inactive_request,    ///< §3.3: STDOUT/STDERR/END_REQUEST for an id not active
  stream_after_end,                 ///< §3.3: stream record after that stream's empty record

  // Name-value pairs (§3.4) and params (§5.2, §6).
  params_too_large,        ///< the PARAMS stream is longer than the configured limit
  too_many_params,         ///< the PARAMS stream has more pairs than the configured limit
  truncated_pair,          ///< §3.4: a declared length runs past the end of the stream
  empty_param_name,        ///< a pair with an empty name
  nul_in_param_name,       ///< §6.1: a NUL byte in a name
  duplicate_param,         ///< a security-relevant name sent twice (policy, see settings)
  invalid_content_length,  ///< §6.2: CONTENT_LENGTH is not a decimal number
  get_values_too_large,    ///< §4.1: GET_VALUES content past the limit

  // Request lifecycle (§6): the request ends, the connection carries on.
  stdin_before_params_end,            ///< §6.2: STDIN arrived before the empty PARAMS record
  params_after_params_end,            ///< §3.3: PARAMS after the empty PARAMS record
  data_before_stdin_end,              ///< §6.4: DATA arrived before the empty STDIN record
  data_for_non_filter,                ///< §6.4: only the Filter role receives DATA
  stdin_longer_than_content_length,   ///< §6.2: more STDIN bytes than CONTENT_LENGTH
  stdin_shorter_than_content_length,  ///< §6.2: STDIN ended before CONTENT_LENGTH bytes

  // Misuse of the API by the caller; nothing is sent.
  request_not_active,         ///< the request has ended (or its id was reused)
  output_before_input_ready,  ///< §6.2/§6.4: writing before PARAMS (Filter: STDIN) ended
  too_many_active_requests,   ///< client: no free request id under the configured limit
  stream_already_ended,       ///< the caller already ended this stream
  connection_closed,          ///< the connection state machine has stopped (sticky error)
  param_too_long,             ///< a name or value longer than 2^31-1 bytes cannot be encoded

  // Building CGI params from an HTTP-like request (cgi_params.hpp, RFC 3875 §4.1).
  invalid_method,            ///< the method is not an HTTP token (RFC 9110 §9.1)
  invalid_request_target,    ///< not origin-form or an absolute http(s) URL; bad %-encoding
  unsafe_request_path,       ///< decoded path has a control character or climbs above "/"
  script_name_mismatch,      ///< script_name is not a whole-segment prefix of the path
  invalid_header_value,      ///< a request header value with CR, LF or NUL
  duplicate_request_header,  ///< Host or Content-Type repeated: the copies cannot be joined

  // Parsing the CGI response head an application writes on STDOUT (response_head.hpp,
  // RFC 3875 §6).
  response_head_too_large,          ///< the head is longer than the configured limit
  too_many_response_fields,         ///< the head has more fields than the configured limit
  invalid_response_line,            ///< no ':', a name that is not a token, a control char
  folded_response_line,             ///< obs-fold: a line starting with SP or HT
  invalid_status,                   ///< Status is not 3 digits 100..599 [SP reason]
  duplicate_response_field,         ///< Status, Location, Content-Type or Content-Length twice
  invalid_response_content_length,  ///< Content-Length is not a decimal number below 2^63
  response_head_incomplete,         ///< STDOUT ended before the blank line ending the head
};

/// The std::error_category of fcgi::protocol::errc; name() is "fcgi.protocol".
const std::error_category& protocol_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

/// A short identifier, e.g. "unsupported_version"; "success" for errc{}, "unknown" for values
/// not listed above.
std::string_view to_string(errc e) noexcept;

/// One sentence that names the rule, e.g. "version is not FCGI_VERSION_1 (spec 3.3)".
std::string_view describe(errc e) noexcept;

/// What the state machine does after an error: it has already done it when it reports one.
enum class error_action : std::uint8_t {
  close_connection,  ///< framing is untrusted: the connection is done, close it
  end_request,       ///< the request was ended (END_REQUEST queued); others carry on
};

std::string_view to_string(error_action a) noexcept;

/// An error as reported by a state machine: what, what was done, where (for logs).
struct protocol_error {
  errc code{};
  error_action action = error_action::close_connection;
  std::uint16_t request_id = 0;
  std::uint64_t offset = 0;  ///< connection byte offset of the record header that failed
};

/// A value or an error, for the few calls that produce a value (C++20 has no std::expected).
template <class T>
class result {
 public:
  result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit by design
      : value_(std::move(value)) {}
  result(errc error) noexcept : error_(error) {}  // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return error_ == errc{}; }
  explicit operator bool() const noexcept { return has_value(); }
  [[nodiscard]] errc error() const noexcept { return error_; }
  /// Precondition: has_value().
  [[nodiscard]] const T& value() const noexcept { return value_; }
  [[nodiscard]] const T& operator*() const noexcept { return value_; }
  [[nodiscard]] const T* operator->() const noexcept { return &value_; }

 private:
  T value_{};
  errc error_{};
};

}  // namespace fcgi::protocol

template <>
struct std::is_error_code_enum<fcgi::protocol::errc> : std::true_type {};
