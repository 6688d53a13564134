#include <fcgi/protocol/record.hpp>

#include <algorithm>
#include <cstring>

namespace fcgi::protocol {
namespace {

constexpr std::byte byte_of(unsigned value) noexcept {
  return static_cast<std::byte>(value & 0xffU);
}

std::uint16_t read_u16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8U) |
                                    std::to_integer<unsigned>(p[1]));
}

std::uint32_t read_u32(const std::byte* p) noexcept {
  return (std::to_integer<std::uint32_t>(p[0]) << 24U) |
         (std::to_integer<std::uint32_t>(p[1]) << 16U) |
         (std::to_integer<std::uint32_t>(p[2]) << 8U) | std::to_integer<std::uint32_t>(p[3]);
}

void write_header(std::byte* out, record_type type, std::uint16_t request_id,
                  std::size_t content_length, std::uint8_t padding_length) noexcept {
  out[0] = byte_of(version_1);
  out[1] = byte_of(static_cast<unsigned>(type));
  out[2] = byte_of(request_id >> 8U);
  out[3] = byte_of(request_id);
  out[4] = byte_of(static_cast<unsigned>(content_length >> 8U));
  out[5] = byte_of(static_cast<unsigned>(content_length));
  out[6] = byte_of(padding_length);
  out[7] = std::byte{0};
}

}  // namespace

std::string_view to_string(record_type t) noexcept {
  switch (t) {
    case record_type::begin_request: return "BEGIN_REQUEST";
    case record_type::abort_request: return "ABORT_REQUEST";
    case record_type::end_request: return "END_REQUEST";
    case record_type::params: return "PARAMS";
    case record_type::stdin_stream: return "STDIN";
    case record_type::stdout_stream: return "STDOUT";
    case record_type::stderr_stream: return "STDERR";
    case record_type::data: return "DATA";
    case record_type::get_values: return "GET_VALUES";
    case record_type::get_values_result: return "GET_VALUES_RESULT";
    case record_type::unknown_type: return "UNKNOWN_TYPE";
  }
  return "UNKNOWN";
}

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::responder: return "RESPONDER";
    case role::authorizer: return "AUTHORIZER";
    case role::filter: return "FILTER";
  }
  return "UNKNOWN";
}

std::string_view to_string(protocol_status s) noexcept {
  switch (s) {
    case protocol_status::request_complete: return "REQUEST_COMPLETE";
    case protocol_status::cant_mpx_conn: return "CANT_MPX_CONN";
    case protocol_status::overloaded: return "OVERLOADED";
    case protocol_status::unknown_role: return "UNKNOWN_ROLE";
  }
  return "UNKNOWN";
}

std::size_t decode_header(bytes_view in, record_header& out) noexcept {
  if (in.size() < header_size) return 0;
  const std::byte* p = in.data();
  out.version = std::to_integer<std::uint8_t>(p[0]);
  out.type = std::to_integer<std::uint8_t>(p[1]);
  out.request_id = read_u16(p + 2);
  out.content_length = read_u16(p + 4);
  out.padding_length = std::to_integer<std::uint8_t>(p[6]);
  return header_size;
}

void encode_header(const record_header& header, std::span<std::byte, header_size> out) noexcept {
  write_header(out.data(), static_cast<record_type>(header.type), header.request_id,
               header.content_length, header.padding_length);
  out[0] = byte_of(header.version);
}

std::size_t encode_record(record_type type, std::uint16_t request_id, bytes_view content,
                          mutable_bytes out) noexcept {
  const std::uint8_t padding = padding_for(content.size());
  write_header(out.data(), type, request_id, content.size(), padding);
  if (!content.empty()) std::memcpy(out.data() + header_size, content.data(), content.size());
  std::memset(out.data() + header_size + content.size(), 0, padding);
  return header_size + content.size() + padding;
}

std::size_t encode_stream_records(record_type type, std::uint16_t request_id, bytes_view content,
                                  mutable_bytes out) noexcept {
  std::size_t written = 0;
  while (!content.empty()) {
    const std::size_t chunk = std::min(content.size(), max_aligned_content_length);
    written += encode_record(type, request_id, content.first(chunk), out.subspan(written));
    content = content.subspan(chunk);
  }
  return written;
}

bool decode_begin_request_body(bytes_view content, begin_request_body& out) noexcept {
  if (content.size() != fixed_body_size) return false;
  out.role = read_u16(content.data());
  out.flags = std::to_integer<std::uint8_t>(content[2]);
  return true;
}

bool decode_end_request_body(bytes_view content, end_request_body& out) noexcept {
  if (content.size() != fixed_body_size) return false;
  out.app_status = read_u32(content.data());
  out.protocol_status = std::to_integer<std::uint8_t>(content[4]);
  return true;
}

bool decode_unknown_type_body(bytes_view content, std::uint8_t& type) noexcept {
  if (content.size() != fixed_body_size) return false;
  type = std::to_integer<std::uint8_t>(content[0]);
  return true;
}

fixed_record make_begin_request(std::uint16_t request_id, role r, bool keep_conn) noexcept {
  fixed_record out{};
  write_header(out.data(), record_type::begin_request, request_id, fixed_body_size, 0);
  const auto raw_role = static_cast<unsigned>(r);
  out[8] = byte_of(raw_role >> 8U);
  out[9] = byte_of(raw_role);
  out[10] = keep_conn ? byte_of(keep_conn_flag) : std::byte{0};
  return out;
}

fixed_record make_end_request(std::uint16_t request_id, std::uint32_t app_status,
                              protocol_status status) noexcept {
  fixed_record out{};
  write_header(out.data(), record_type::end_request, request_id, fixed_body_size, 0);
  out[8] = byte_of(app_status >> 24U);
  out[9] = byte_of(app_status >> 16U);
  out[10] = byte_of(app_status >> 8U);
  out[11] = byte_of(app_status);
  out[12] = byte_of(static_cast<unsigned>(status));
  return out;
}

fixed_record make_unknown_type(std::uint8_t type) noexcept {
  fixed_record out{};
  write_header(out.data(), record_type::unknown_type, null_request_id, fixed_body_size, 0);
  out[8] = byte_of(type);
  return out;
}

std::array<std::byte, header_size> make_empty_record(record_type type,
                                                     std::uint16_t request_id) noexcept {
  std::array<std::byte, header_size> out{};
  write_header(out.data(), type, request_id, 0, 0);
  return out;
}

}  // namespace fcgi::protocol
