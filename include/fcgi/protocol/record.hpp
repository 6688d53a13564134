// The FastCGI record codec (spec §3.3, §4, §5, §8): pure functions over byte spans.
//
// Nothing here allocates, does I/O or keeps state; policy (limits, leniency, what a record
// means in a connection's state) lives in the state machines. Decoders report "bytes
// consumed, 0 = need more"; encoders write into caller memory of a size the caller asked for.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace fcgi::protocol {

using bytes_view = std::span<const std::byte>;
using mutable_bytes = std::span<std::byte>;

/// Views the characters of a string as bytes (no copy).
inline bytes_view as_bytes(std::string_view text) noexcept {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

/// Views bytes as characters (no copy).
inline std::string_view as_chars(bytes_view bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};  // NOLINT: byte aliasing
}

inline constexpr std::size_t header_size = 8;
inline constexpr std::uint8_t version_1 = 1;
inline constexpr std::size_t max_content_length = 65535;
/// Stream content is split at this size: a multiple of 8, so full records need no padding.
inline constexpr std::size_t max_aligned_content_length = 65528;
inline constexpr std::uint16_t null_request_id = 0;
inline constexpr std::uint8_t keep_conn_flag = 1;

/// Record types of §8. Decoded headers keep the raw byte, since unknown types must survive.
enum class record_type : std::uint8_t {
  begin_request = 1,
  abort_request = 2,
  end_request = 3,
  params = 4,
  stdin_stream = 5,
  stdout_stream = 6,
  stderr_stream = 7,
  data = 8,
  get_values = 9,
  get_values_result = 10,
  unknown_type = 11,
};
inline constexpr std::uint8_t max_known_record_type = 11;

/// Roles of §5.1 and §6.
enum class role : std::uint16_t { responder = 1, authorizer = 2, filter = 3 };

/// protocolStatus of §5.5.
enum class protocol_status : std::uint8_t {
  request_complete = 0,
  cant_mpx_conn = 1,
  overloaded = 2,
  unknown_role = 3,
};

std::string_view to_string(record_type t) noexcept;  ///< "STDOUT", ...; "UNKNOWN" otherwise
std::string_view to_string(role r) noexcept;         ///< "RESPONDER", ...; "UNKNOWN" otherwise
std::string_view to_string(protocol_status s) noexcept;

/// The fixed 8-byte prefix of every record (§3.3).
///
///      0         1         2         3         4         5         6         7
///  +---------+---------+---------+---------+---------+---------+---------+---------+
///  | version |  type   | requestId (BE)    | contentLength (BE)| padding | reserved|
///  +---------+---------+---------+---------+---------+---------+---------+---------+
///  followed by contentLength bytes of content and paddingLength bytes of padding.
struct record_header {
  std::uint8_t version = version_1;
  std::uint8_t type = 0;  ///< raw byte; compare with record_type via is()
  std::uint16_t request_id = 0;
  std::uint16_t content_length = 0;
  std::uint8_t padding_length = 0;

  [[nodiscard]] bool is(record_type t) const noexcept {
    return type == static_cast<std::uint8_t>(t);
  }
  /// Header + content + padding: at most 8 + 65535 + 255 = 65798 bytes.
  [[nodiscard]] std::size_t record_size() const noexcept {
    return header_size + std::size_t{content_length} + padding_length;
  }
};

/// Reads a header from the front of `in`. Returns 8, or 0 if fewer than 8 bytes are there.
/// Never fails: whether the version or type is acceptable is the caller's decision.
std::size_t decode_header(bytes_view in, record_header& out) noexcept;

/// Writes the 8 header bytes (the reserved byte as 0).
void encode_header(const record_header& header, std::span<std::byte, header_size> out) noexcept;

/// Padding that brings `content_length` to a multiple of 8 (§3.3 recommends it).
constexpr std::uint8_t padding_for(std::size_t content_length) noexcept {
  return static_cast<std::uint8_t>((8 - content_length % 8) % 8);
}

/// Bytes needed to send `content_length` bytes of a stream as records of at most
/// max_aligned_content_length each, padded, excluding the empty end-of-stream record.
/// Zero content takes zero bytes: an empty record would end the stream.
constexpr std::size_t stream_records_size(std::size_t content_length) noexcept {
  const std::size_t full = content_length / max_aligned_content_length;
  const std::size_t rest = content_length % max_aligned_content_length;
  std::size_t size = full * (header_size + max_aligned_content_length);
  if (rest != 0) size += header_size + rest + padding_for(rest);
  return size;
}

/// Writes `content` as records of `type` for `request_id` (see stream_records_size).
/// Precondition: out.size() >= stream_records_size(content.size()). Returns bytes written.
std::size_t encode_stream_records(record_type type, std::uint16_t request_id, bytes_view content,
                                  mutable_bytes out) noexcept;

/// Writes one record with `content` (at most 65535 bytes) padded to 8.
/// Precondition: out.size() >= header_size + content.size() + padding_for(content.size()).
/// Returns bytes written.
std::size_t encode_record(record_type type, std::uint16_t request_id, bytes_view content,
                          mutable_bytes out) noexcept;

/// FCGI_BeginRequestBody (§5.1). role is raw: unknown roles are answered, not dropped.
struct begin_request_body {
  std::uint16_t role = 0;
  std::uint8_t flags = 0;
  [[nodiscard]] bool keep_conn() const noexcept { return (flags & keep_conn_flag) != 0; }
};

/// FCGI_EndRequestBody (§5.5). protocol_status is raw: a client reports unknown values.
struct end_request_body {
  std::uint32_t app_status = 0;
  std::uint8_t protocol_status = 0;
};

inline constexpr std::size_t fixed_body_size = 8;  ///< BEGIN_REQUEST, END_REQUEST, UNKNOWN_TYPE

/// Body decoders return false when content is not exactly 8 bytes.
bool decode_begin_request_body(bytes_view content, begin_request_body& out) noexcept;
bool decode_end_request_body(bytes_view content, end_request_body& out) noexcept;
bool decode_unknown_type_body(bytes_view content, std::uint8_t& type) noexcept;

/// Whole fixed-size records (header + 8-byte body, no padding needed): 16 bytes.
inline constexpr std::size_t fixed_record_size = header_size + fixed_body_size;
using fixed_record = std::array<std::byte, fixed_record_size>;

fixed_record make_begin_request(std::uint16_t request_id, role r, bool keep_conn) noexcept;
fixed_record make_end_request(std::uint16_t request_id, std::uint32_t app_status,
                              protocol_status status) noexcept;
fixed_record make_unknown_type(std::uint8_t type) noexcept;
/// ABORT_REQUEST and the empty end-of-stream records are bare headers: 8 bytes.
std::array<std::byte, header_size> make_empty_record(record_type type,
                                                     std::uint16_t request_id) noexcept;

}  // namespace fcgi::protocol
