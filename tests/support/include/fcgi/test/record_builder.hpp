// Builders for the bytes a peer sends: records (§3.3) and name-value pairs (§3.4).
//
// They are written from the spec, byte by byte, and never call the library's encoders, so a
// test that feeds their output to fcgi::protocol checks the library against the spec rather
// than against itself. Nothing here validates: a builder writes exactly what it is asked to,
// which is how hostile input is made (a wrong version, a lying length, padding of 255).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fcgi/protocol/params.hpp>
#include <fcgi/protocol/record.hpp>

namespace fcgi::test {

using bytes = std::vector<std::byte>;
using protocol::bytes_view;

bytes to_bytes(std::string_view text);
std::string to_text(bytes_view data);
/// Appends `b` to `a`; returns `a`.
bytes& append(bytes& a, bytes_view b);
/// The parts, one after the other: cat({begin(1, 1), params_end(1)}).
bytes cat(std::initializer_list<bytes_view> parts);
/// Operators for the same; outside namespace fcgi::test, bring them in with
/// `using fcgi::test::operator+;` (argument-dependent lookup only looks in std).
bytes& operator+=(bytes& a, bytes_view b);
bytes operator+(bytes a, bytes_view b);

/// One record: header, `content`, then `padding` bytes of `padding_byte`.
bytes record(std::uint8_t type, std::uint16_t id, bytes_view content, std::uint8_t padding = 0,
             std::uint8_t version = protocol::version_1, std::byte padding_byte = std::byte{0});
bytes record(protocol::record_type type, std::uint16_t id, bytes_view content,
             std::uint8_t padding = 0, std::uint8_t version = protocol::version_1);
bytes record(std::uint8_t type, std::uint16_t id, std::string_view content,
             std::uint8_t padding = 0, std::uint8_t version = protocol::version_1);
bytes record(protocol::record_type type, std::uint16_t id, std::string_view content = {},
             std::uint8_t padding = 0, std::uint8_t version = protocol::version_1);

/// An 8-byte header alone; `content_length` may lie about what follows.
bytes header(std::uint8_t type, std::uint16_t id, std::uint16_t content_length,
             std::uint8_t padding = 0, std::uint8_t version = protocol::version_1,
             std::uint8_t reserved = 0);

/// BEGIN_REQUEST (§5.1) with a raw role and flags, so unknown roles can be sent.
bytes begin_request(std::uint16_t id, std::uint16_t role, std::uint8_t flags = 0);
bytes begin_request(std::uint16_t id, protocol::role r, bool keep_conn = false);
/// Short names for the above.
inline bytes begin(std::uint16_t id, std::uint16_t role, std::uint8_t flags = 0) {
  return begin_request(id, role, flags);
}
inline bytes begin(std::uint16_t id, protocol::role r, bool keep_conn = false) {
  return begin_request(id, r, keep_conn);
}

/// §3.4 length bytes: one byte below 128, else four with the high bit set. `force_long`
/// writes the four-byte form even for small lengths (legal, and a classic parser trap).
bytes length_bytes(std::uint32_t length, bool force_long = false);
/// One encoded pair; `force_long` uses four-byte lengths for both name and value.
bytes pair(std::string_view name, std::string_view value, bool force_long = false);
/// Encoded pairs without any record header.
bytes pairs(std::initializer_list<protocol::param> list);
bytes pairs(std::span<const protocol::param> list);

/// One PARAMS record carrying the encoded pairs (at most 65535 bytes of them).
bytes params(std::uint16_t id, std::initializer_list<protocol::param> list);
/// The empty PARAMS record that ends the stream.
bytes params_end(std::uint16_t id);

bytes stdin_record(std::uint16_t id, std::string_view content);
bytes stdin_end(std::uint16_t id);
bytes data_record(std::uint16_t id, std::string_view content);
bytes data_end(std::uint16_t id);
bytes stdout_record(std::uint16_t id, std::string_view content);
bytes stdout_end(std::uint16_t id);
bytes stderr_record(std::uint16_t id, std::string_view content);
bytes stderr_end(std::uint16_t id);
bytes abort_request(std::uint16_t id);
/// END_REQUEST (§5.5) with a raw protocolStatus.
bytes end_request(std::uint16_t id, std::uint32_t app_status, std::uint8_t protocol_status = 0);
/// GET_VALUES on id 0 asking for `names` (pairs with empty values, §4.1).
bytes get_values(std::initializer_list<std::string_view> names);
bytes get_values_result(std::initializer_list<protocol::param> list);
/// UNKNOWN_TYPE (§4.2) on id 0.
bytes unknown_type(std::uint8_t type);

/// `content` as records of `type`, each at most `max_record` bytes, unpadded, without the
/// empty end-of-stream record. Empty content gives no bytes.
bytes stream(std::uint8_t type, std::uint16_t id, bytes_view content,
             std::size_t max_record = protocol::max_content_length);
bytes stream(protocol::record_type type, std::uint16_t id, std::string_view content,
             std::size_t max_record = protocol::max_content_length);

}  // namespace fcgi::test
