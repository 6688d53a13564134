#include <fcgi/protocol/errc.hpp>

#include <array>
#include <string>

namespace fcgi::protocol {
namespace {

struct errc_text {
  std::string_view name;
  std::string_view reason;
};

// Indexed by the enum value; entry 0 is unused (0 means success in std::error_code).
constexpr std::array<errc_text, 46> errc_texts{{
    {"success", "success"},
    {"unsupported_version", "record version is not FCGI_VERSION_1 (spec 3.3)"},
    {"begin_request_length", "BEGIN_REQUEST content is not 8 bytes (spec 5.1)"},
    {"begin_request_on_null_id",
     "BEGIN_REQUEST on request id 0, which is for management records (spec 3.3)"},
    {"request_id_already_active",
     "BEGIN_REQUEST for a request id that is already active (spec 3.3)"},
    {"application_record_on_null_id",
     "application record on request id 0, which is for management records (spec 3.3)"},
    {"management_record_on_request_id",
     "management record on a non-zero request id (spec 3.3, 4.1)"},
    {"record_type_wrong_direction", "record type that this peer never sends (spec 8)"},
    {"end_request_length", "END_REQUEST content is not 8 bytes (spec 5.5)"},
    {"unknown_type_length", "UNKNOWN_TYPE content is not 8 bytes (spec 4.2)"},
    {"response_for_inactive_request",
     "STDOUT, STDERR or END_REQUEST for a request id that is not active (spec 3.3)"},
    {"stream_after_end", "stream record after the stream's empty end record (spec 3.3)"},
    {"params_too_large", "PARAMS stream longer than the configured limit (spec 3.4, 5.2)"},
    {"too_many_params", "PARAMS stream has more pairs than the configured limit (spec 5.2)"},
    {"truncated_pair", "name-value pair length runs past the end of its stream (spec 3.4)"},
    {"empty_param_name", "name-value pair with an empty name (spec 3.4)"},
    {"nul_in_param_name", "NUL byte in a parameter name (spec 6.1)"},
    {"duplicate_param", "security-relevant parameter sent twice (spec 6.2; policy)"},
    {"invalid_content_length", "CONTENT_LENGTH is not a decimal number (spec 6.2, RFC 3875 4.1.2)"},
    {"get_values_too_large", "GET_VALUES query does not fit one record (spec 4.1)"},
    {"stdin_before_params_end", "STDIN before the empty PARAMS record (spec 6.2)"},
    {"params_after_params_end", "PARAMS after the empty PARAMS record (spec 3.3)"},
    {"data_before_stdin_end", "DATA before the empty STDIN record (spec 6.4)"},
    {"data_for_non_filter", "DATA for a request whose role is not Filter (spec 6.4)"},
    {"stdin_longer_than_content_length", "more STDIN bytes than CONTENT_LENGTH (spec 6.2)"},
    {"stdin_shorter_than_content_length", "STDIN ended before CONTENT_LENGTH bytes (spec 6.2)"},
    {"request_not_active", "request has ended or its id was reused (spec 3.3)"},
    {"output_before_input_ready", "output before PARAMS (Filter: STDIN) ended (spec 6.2, 6.4)"},
    {"too_many_active_requests", "no free request id under the configured limit"},
    {"stream_already_ended", "stream already ended with its empty record (spec 3.3)"},
    {"connection_closed", "connection state machine stopped after an earlier error"},
    {"param_too_long", "name or value longer than 2^31-1 bytes (spec 3.4)"},
    {"invalid_method", "request method is not an HTTP token (RFC 9110 9.1)"},
    {"invalid_request_target",
     "request target is neither origin-form nor an absolute http(s) URL, or is badly "
     "percent-encoded (RFC 9112 3.2)"},
    {"unsafe_request_path",
     "decoded request path has a control character or climbs above the root (RFC 3875 4.1.5)"},
    {"script_name_mismatch",
     "script name is not a whole-segment prefix of the decoded request path (RFC 3875 4.1.13)"},
    {"invalid_header_value", "request header value contains CR, LF or NUL (RFC 9110 5.5)"},
    {"duplicate_request_header",
     "Host or Content-Type header sent twice: the copies cannot be joined (RFC 9110 5.3)"},
    {"response_head_too_large", "response head longer than the configured limit (RFC 3875 6.2)"},
    {"too_many_response_fields",
     "response head has more fields than the configured limit (RFC 3875 6.2)"},
    {"invalid_response_line",
     "response head line without ':', with a name that is not a token, or with a control "
     "character (RFC 3875 6.3)"},
    {"folded_response_line", "response head line folded onto the previous one (RFC 9112 5.2)"},
    {"invalid_status",
     "Status is not a 3-digit code from 100 to 599 with an optional reason (RFC 3875 6.3.3)"},
    {"duplicate_response_field",
     "Status, Location, Content-Type or Content-Length appears twice in the response head"},
    {"invalid_response_content_length",
     "Content-Length in the response head is not a decimal number below 2^63 (RFC 9110 8.6)"},
    {"response_head_incomplete",
     "STDOUT ended before the blank line that ends the response head (RFC 3875 6.2)"},
}};

static_assert(errc_texts.size() == static_cast<std::size_t>(errc::response_head_incomplete) + 1,
              "every errc needs a name and a reason");

class protocol_error_category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "fcgi.protocol"; }
  [[nodiscard]] std::string message(int value) const override {
    return std::string(describe(static_cast<errc>(value)));
  }
};

}  // namespace

const std::error_category& protocol_category() noexcept {
  static const protocol_error_category category;
  return category;
}

std::string_view to_string(errc e) noexcept {
  const auto index = static_cast<std::size_t>(e);
  return index < errc_texts.size() ? errc_texts[index].name : "unknown";
}

std::string_view describe(errc e) noexcept {
  const auto index = static_cast<std::size_t>(e);
  return index < errc_texts.size() ? errc_texts[index].reason : "unknown error";
}

std::string_view to_string(error_action a) noexcept {
  switch (a) {
    case error_action::close_connection: return "close_connection";
    case error_action::end_request: return "end_request";
  }
  return "unknown";
}

}  // namespace fcgi::protocol
