// The head of a CGI response (RFC 3875 §6) as an application writes it at the start of its
// STDOUT stream, parsed incrementally: feed the STDOUT chunks as they arrive, split anywhere,
// until the parser reports the head complete; the rest of that chunk is the body. Pure: no
// I/O, and the parsed head owns a copy of its bytes, so the chunks need not outlive a feed.
//
// Strict, like a web server guarding its clients (HOSTILE D-47, CVE-2014-3583): lines end
// with LF or CRLF, field names are tokens, values carry no control character but HT, there
// is no obs-fold, and a bad Status is an error, never passed through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/params.hpp>
#include <fcgi/protocol/record.hpp>

namespace fcgi::protocol {

/// What the application asks the web server to do (RFC 3875 §6.2).
enum class response_kind : std::uint8_t {
  document,         ///< §6.2.1: send the response (also a Location with a non-3xx Status)
  local_redirect,   ///< §6.2.2: "Location: /path" without Status: serve that path instead
  client_redirect,  ///< §6.2.3-4: any other Location; status 302 unless Status is given
};

std::string_view to_string(response_kind kind) noexcept;  ///< "document", ...

/// The RFC 9110 §15 reason phrase of a status, e.g. "Not Found"; "" for unregistered codes.
std::string_view default_reason(unsigned status) noexcept;

/// A field of the head: views into the head's own storage, valid while it lives unchanged.
struct response_field {
  std::string_view name;
  std::string_view value;  ///< leading and trailing SP/HT removed
  friend bool operator==(const response_field&, const response_field&) = default;
};

/// A complete response head. Owns its bytes (one buffer, fields as offsets into it), so it can
/// be copied or moved away from the parser and outlive every STDOUT chunk.
class response_head {
 public:
  /// From Status; else 302 for a client redirect, 200 otherwise (RFC 3875 §6.3.3).
  [[nodiscard]] std::uint16_t status() const noexcept { return status_; }
  /// The reason given with Status, or default_reason(status()) when none was given.
  [[nodiscard]] std::string_view reason() const noexcept;
  [[nodiscard]] response_kind kind() const noexcept { return kind_; }

  /// The fields in the order received, Status excluded (it is status() and reason()).
  [[nodiscard]] std::size_t field_count() const noexcept { return fields_.size(); }
  /// Precondition: index < field_count().
  [[nodiscard]] response_field field(std::size_t index) const noexcept;
  [[nodiscard]] std::vector<response_field> fields() const;
  /// The value of the first field named `name`, compared case-insensitively.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;

  [[nodiscard]] std::optional<std::string_view> content_type() const noexcept;
  /// Content-Length, checked to be 1 to 19 digits below 2^63 when the head was parsed.
  [[nodiscard]] std::optional<std::uint64_t> content_length() const noexcept {
    return content_length_;
  }
  [[nodiscard]] std::optional<std::string_view> location() const noexcept;

  /// Authorizer role (spec §6.3): each "Variable-NAME: value" field as (NAME, value), in
  /// order, for the web server to pass as params to later requests. Views into this head.
  [[nodiscard]] std::vector<param> authorizer_variables() const;

  /// The head exactly as received, through its blank line.
  [[nodiscard]] std::string_view raw() const noexcept { return bytes_; }

 private:
  friend class response_head_parser;

  struct span {
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  struct field_spans {
    span name;
    span value;
  };

  [[nodiscard]] std::string_view text(span s) const noexcept;
  [[nodiscard]] std::optional<std::string_view> field_value(
      std::optional<std::size_t> index) const noexcept;

  std::string bytes_;
  std::vector<field_spans> fields_;
  span reason_;
  std::uint16_t status_ = 200;
  response_kind kind_ = response_kind::document;
  std::optional<std::size_t> location_index_;
  std::optional<std::size_t> content_type_index_;
  std::optional<std::uint64_t> content_length_;
};

/// Limits of the parser. A head past them fails; nothing in it is passed on.
struct response_head_settings {
  std::size_t max_bytes = 64 * 1024;  ///< head bytes, line ends and the blank line included
  std::size_t max_fields = 100;       ///< field lines, Status included
};

enum class head_state : std::uint8_t {
  need_more,  ///< every byte given so far belongs to the head: feed more
  complete,   ///< the blank line was seen: head() is ready
  failed,     ///< see error(); the STDOUT stream cannot be a valid response
};

std::string_view to_string(head_state state) noexcept;  ///< "need_more", ...

/// The outcome of one feed.
struct head_progress {
  head_state state = head_state::need_more;
  /// Bytes of this chunk taken into the head. need_more: all of them. complete: up to and
  /// including the blank line's LF; the rest of the chunk is body. failed: up to the end of
  /// the line found bad, or up to max_bytes.
  std::size_t consumed = 0;
  errc error{};
};

/// Resumes at any byte: feeding a head whole, in two parts split anywhere, or one byte at a
/// time gives the same state, error and head. Never reads past `chunk`. Errors are sticky.
class response_head_parser {
 public:
  explicit response_head_parser(response_head_settings settings = {}) noexcept
      : settings_(settings) {}

  /// Takes the head's bytes from the front of `chunk`. Once complete or failed, takes nothing
  /// and repeats the outcome. Fails with:
  ///  - response_head_too_large: more than max_bytes without the blank line.
  ///  - too_many_response_fields: more than max_fields field lines.
  ///  - folded_response_line: a line starting with SP or HT (obs-fold).
  ///  - invalid_response_line: no ':', a name that is not a token, a CR not before the LF,
  ///    or a control character other than HT in a value.
  ///  - invalid_status: Status not 3 digits from 100 to 599, optionally SP and a reason.
  ///  - duplicate_response_field: Status, Location, Content-Type or Content-Length twice.
  ///  - invalid_response_content_length: Content-Length not 1 to 19 digits below 2^63.
  head_progress feed(bytes_view chunk);
  head_progress feed(std::string_view chunk) { return feed(as_bytes(chunk)); }

  /// At the end of STDOUT: errc{} when the head is complete, response_head_incomplete (now
  /// sticky) when the blank line never came, the earlier error when failed.
  errc finish() noexcept;

  [[nodiscard]] head_state state() const noexcept { return state_; }
  [[nodiscard]] errc error() const noexcept { return error_; }
  /// Precondition: state() == head_state::complete.
  [[nodiscard]] const response_head& head() const noexcept { return head_; }
  /// Moves the head out (precondition: complete); head() is empty afterwards.
  [[nodiscard]] response_head take_head() noexcept { return std::exchange(head_, {}); }
  /// Ready for the next response, with the same settings.
  void reset() noexcept;

 private:
  void take_line();
  errc take_field(response_head::span line);
  errc take_status(response_head::span value);
  errc take_special(std::string_view name, std::string_view value);
  void complete() noexcept;
  void fail(errc error) noexcept;

  response_head_settings settings_;
  response_head head_;
  head_state state_ = head_state::need_more;
  errc error_{};
  std::size_t line_start_ = 0;  ///< offset in head_.bytes_ of the line being received
  std::size_t field_lines_ = 0;
  bool status_given_ = false;
};

}  // namespace fcgi::protocol
