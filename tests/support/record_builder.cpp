#include <fcgi/test/record_builder.hpp>

#include <algorithm>

namespace fcgi::test {
namespace {

template <class Integer>
std::byte low_byte(Integer value) {
  return static_cast<std::byte>(static_cast<unsigned>(value) & 0xffU);
}

std::uint8_t type_byte(protocol::record_type t) { return static_cast<std::uint8_t>(t); }

}  // namespace

bytes to_bytes(std::string_view text) {
  const bytes_view view = protocol::as_bytes(text);
  return {view.begin(), view.end()};
}

std::string to_text(bytes_view data) { return std::string(protocol::as_chars(data)); }

bytes& append(bytes& a, bytes_view b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bytes cat(std::initializer_list<bytes_view> parts) {
  bytes out;
  for (const bytes_view part : parts) append(out, part);
  return out;
}

bytes& operator+=(bytes& a, bytes_view b) { return append(a, b); }

bytes operator+(bytes a, bytes_view b) {
  a += b;
  return a;
}

bytes header(std::uint8_t type, std::uint16_t id, std::uint16_t content_length,
             std::uint8_t padding, std::uint8_t version, std::uint8_t reserved) {
  // §3.3 FCGI_Header: version, type, requestIdB1, requestIdB0, contentLengthB1,
  // contentLengthB0, paddingLength, reserved.
  return {std::byte{version},
          std::byte{type},
          low_byte(id >> 8U),
          low_byte(id),
          low_byte(content_length >> 8U),
          low_byte(content_length),
          std::byte{padding},
          std::byte{reserved}};
}

bytes record(std::uint8_t type, std::uint16_t id, bytes_view content, std::uint8_t padding,
             std::uint8_t version, std::byte padding_byte) {
  bytes out = header(type, id, static_cast<std::uint16_t>(content.size()), padding, version);
  out += content;
  out.insert(out.end(), padding, padding_byte);
  return out;
}

bytes record(protocol::record_type type, std::uint16_t id, bytes_view content, std::uint8_t padding,
             std::uint8_t version) {
  return record(type_byte(type), id, content, padding, version);
}

bytes record(std::uint8_t type, std::uint16_t id, std::string_view content, std::uint8_t padding,
             std::uint8_t version) {
  return record(type, id, protocol::as_bytes(content), padding, version);
}

bytes record(protocol::record_type type, std::uint16_t id, std::string_view content,
             std::uint8_t padding, std::uint8_t version) {
  return record(type_byte(type), id, protocol::as_bytes(content), padding, version);
}

bytes begin_request(std::uint16_t id, std::uint16_t role, std::uint8_t flags) {
  // §5.1 FCGI_BeginRequestBody: roleB1, roleB0, flags, reserved[5].
  const bytes body{low_byte(role >> 8U), low_byte(role), std::byte{flags}, std::byte{0},
                   std::byte{0},         std::byte{0},   std::byte{0},     std::byte{0}};
  return record(protocol::record_type::begin_request, id, bytes_view(body));
}

bytes begin_request(std::uint16_t id, protocol::role r, bool keep_conn) {
  return begin_request(id, static_cast<std::uint16_t>(r),
                       keep_conn ? protocol::keep_conn_flag : std::uint8_t{0});
}

bytes length_bytes(std::uint32_t length, bool force_long) {
  if (length < 128 && !force_long) return {low_byte(length)};
  return {low_byte((length >> 24U) | 0x80U), low_byte(length >> 16U), low_byte(length >> 8U),
          low_byte(length)};
}

bytes pair(std::string_view name, std::string_view value, bool force_long) {
  bytes out = length_bytes(static_cast<std::uint32_t>(name.size()), force_long);
  out += length_bytes(static_cast<std::uint32_t>(value.size()), force_long);
  out += protocol::as_bytes(name);
  out += protocol::as_bytes(value);
  return out;
}

bytes pairs(std::span<const protocol::param> list) {
  bytes out;
  for (const protocol::param& p : list) out += pair(p.name, p.value);
  return out;
}

bytes pairs(std::initializer_list<protocol::param> list) {
  return pairs(std::span<const protocol::param>(list.begin(), list.size()));
}

bytes params(std::uint16_t id, std::initializer_list<protocol::param> list) {
  return record(protocol::record_type::params, id, bytes_view(pairs(list)));
}

bytes params_end(std::uint16_t id) { return record(protocol::record_type::params, id); }

bytes stdin_record(std::uint16_t id, std::string_view content) {
  return record(protocol::record_type::stdin_stream, id, content);
}
bytes stdin_end(std::uint16_t id) { return record(protocol::record_type::stdin_stream, id); }
bytes data_record(std::uint16_t id, std::string_view content) {
  return record(protocol::record_type::data, id, content);
}
bytes data_end(std::uint16_t id) { return record(protocol::record_type::data, id); }
bytes stdout_record(std::uint16_t id, std::string_view content) {
  return record(protocol::record_type::stdout_stream, id, content);
}
bytes stdout_end(std::uint16_t id) { return record(protocol::record_type::stdout_stream, id); }
bytes stderr_record(std::uint16_t id, std::string_view content) {
  return record(protocol::record_type::stderr_stream, id, content);
}
bytes stderr_end(std::uint16_t id) { return record(protocol::record_type::stderr_stream, id); }
bytes abort_request(std::uint16_t id) { return record(protocol::record_type::abort_request, id); }

bytes end_request(std::uint16_t id, std::uint32_t app_status, std::uint8_t protocol_status) {
  // §5.5 FCGI_EndRequestBody: appStatusB3..B0, protocolStatus, reserved[3].
  const bytes body{low_byte(app_status >> 24U),
                   low_byte(app_status >> 16U),
                   low_byte(app_status >> 8U),
                   low_byte(app_status),
                   std::byte{protocol_status},
                   std::byte{0},
                   std::byte{0},
                   std::byte{0}};
  return record(protocol::record_type::end_request, id, bytes_view(body));
}

bytes get_values(std::initializer_list<std::string_view> names) {
  bytes content;
  for (const std::string_view name : names) content += pair(name, {});
  return record(protocol::record_type::get_values, protocol::null_request_id, bytes_view(content));
}

bytes get_values_result(std::initializer_list<protocol::param> list) {
  return record(protocol::record_type::get_values_result, protocol::null_request_id,
                bytes_view(pairs(list)));
}

bytes unknown_type(std::uint8_t type) {
  // §4.2 FCGI_UnknownTypeBody: type, reserved[7].
  bytes body(8, std::byte{0});
  body[0] = std::byte{type};
  return record(protocol::record_type::unknown_type, protocol::null_request_id, bytes_view(body));
}

bytes stream(std::uint8_t type, std::uint16_t id, bytes_view content, std::size_t max_record) {
  bytes out;
  max_record = std::clamp<std::size_t>(max_record, 1, protocol::max_content_length);
  while (!content.empty()) {
    const std::size_t n = std::min(content.size(), max_record);
    out += record(type, id, content.first(n));
    content = content.subspan(n);
  }
  return out;
}

bytes stream(protocol::record_type type, std::uint16_t id, std::string_view content,
             std::size_t max_record) {
  return stream(type_byte(type), id, protocol::as_bytes(content), max_record);
}

}  // namespace fcgi::test
