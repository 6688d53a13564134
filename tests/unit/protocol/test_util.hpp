// Small helpers shared by the fcgi::protocol unit tests.
//
// The record and pair builders here are written straight from the spec (§3.3, §3.4) and never
// call the library's encoders, so a test that feeds their bytes to a decoder checks the library
// against the spec rather than against itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <fcgi/protocol/output_queue.hpp>
#include <fcgi/protocol/record.hpp>

namespace fcgi_test {

/// §8 type bytes, spelled as the spec numbers them (raw, so tests can also send unknown ones).
namespace spec_types {
constexpr std::uint8_t begin_type = 1;
constexpr std::uint8_t abort_type = 2;
constexpr std::uint8_t end_type = 3;
constexpr std::uint8_t params_type = 4;
constexpr std::uint8_t stdin_type = 5;
constexpr std::uint8_t stdout_type = 6;
constexpr std::uint8_t stderr_type = 7;
constexpr std::uint8_t data_type = 8;
constexpr std::uint8_t get_values_type = 9;
constexpr std::uint8_t get_values_result_type = 10;
constexpr std::uint8_t unknown_type_type = 11;
}  // namespace spec_types

using byte_vector = std::vector<std::byte>;
using fcgi::protocol::bytes_view;

/// Bytes from a literal list such as {0x01, 0x06, 0x00, 0x01}.
inline byte_vector hex(std::initializer_list<unsigned> values) {
  byte_vector out;
  out.reserve(values.size());
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

inline byte_vector bytes_of(std::string_view text) {
  const bytes_view view = fcgi::protocol::as_bytes(text);
  return {view.begin(), view.end()};
}

inline std::string text_of(bytes_view bytes) {
  return std::string(fcgi::protocol::as_chars(bytes));
}

inline void append(byte_vector& out, bytes_view more) {
  out.insert(out.end(), more.begin(), more.end());
}

inline byte_vector concat(std::initializer_list<byte_vector> parts) {
  byte_vector out;
  for (const byte_vector& part : parts) append(out, part);
  return out;
}

/// A string of `count` bytes following a fixed pattern, so misplaced bytes are visible.
inline std::string pattern(std::size_t count, unsigned seed = 0) {
  std::string out(count, '\0');
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<char>((i * 7 + seed) % 251);
  return out;
}

/// The 8-byte header of §3.3, byte by byte.
inline byte_vector raw_header(std::uint8_t type, std::uint16_t id, std::uint16_t content_length,
                              std::uint8_t padding = 0, std::uint8_t version = 1) {
  return hex({version, type, static_cast<unsigned>(id >> 8), static_cast<unsigned>(id & 0xff),
              static_cast<unsigned>(content_length >> 8),
              static_cast<unsigned>(content_length & 0xff), padding, 0});
}

/// A whole record; padding bytes are 0xEE so a receiver that reads them as content shows.
inline byte_vector raw_record(std::uint8_t type, std::uint16_t id, bytes_view content,
                              std::uint8_t padding = 0, std::uint8_t version = 1) {
  byte_vector out =
      raw_header(type, id, static_cast<std::uint16_t>(content.size()), padding, version);
  append(out, content);
  out.insert(out.end(), padding, std::byte{0xEE});
  return out;
}

inline byte_vector raw_record(std::uint8_t type, std::uint16_t id, std::string_view content,
                              std::uint8_t padding = 0) {
  return raw_record(type, id, fcgi::protocol::as_bytes(content), padding);
}

inline byte_vector raw_record(fcgi::protocol::record_type type, std::uint16_t id,
                              std::string_view content = {}, std::uint8_t padding = 0) {
  return raw_record(static_cast<std::uint8_t>(type), id, fcgi::protocol::as_bytes(content),
                    padding);
}

/// §3.4 length: one byte below 128, else four bytes big-endian with the high bit set.
inline void append_pair_length(byte_vector& out, std::size_t length) {
  if (length < 128) {
    out.push_back(static_cast<std::byte>(length));
    return;
  }
  out.push_back(static_cast<std::byte>(((length >> 24) & 0x7f) | 0x80));
  out.push_back(static_cast<std::byte>((length >> 16) & 0xff));
  out.push_back(static_cast<std::byte>((length >> 8) & 0xff));
  out.push_back(static_cast<std::byte>(length & 0xff));
}

inline byte_vector raw_pair(std::string_view name, std::string_view value) {
  byte_vector out;
  append_pair_length(out, name.size());
  append_pair_length(out, value.size());
  append(out, fcgi::protocol::as_bytes(name));
  append(out, fcgi::protocol::as_bytes(value));
  return out;
}

using pair_list = std::vector<std::pair<std::string, std::string>>;

inline byte_vector raw_pairs(const pair_list& pairs) {
  byte_vector out;
  for (const auto& [name, value] : pairs) append(out, raw_pair(name, value));
  return out;
}

/// Everything pending in the queue, consumed.
inline byte_vector drain(fcgi::protocol::output_queue& queue) {
  byte_vector out;
  std::vector<bytes_view> slices(4);
  while (!queue.empty()) {
    const std::size_t filled = queue.gather(slices);
    std::size_t taken = 0;
    for (std::size_t i = 0; i < filled; ++i) {
      append(out, slices[i]);
      taken += slices[i].size();
    }
    if (taken == 0) {
      ADD_FAILURE() << "gather() returned no bytes while size() = " << queue.size();
      break;
    }
    queue.consume(taken);
  }
  return out;
}

struct parsed_record {
  std::uint8_t version = 0;
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  std::uint8_t padding = 0;
  std::string content;
};

/// Splits well-formed records (an independent §3.3 decoder); reports a failure if the bytes
/// are not whole records or if a record is not padded to a multiple of 8.
inline std::vector<parsed_record> parse_records(bytes_view bytes) {
  std::vector<parsed_record> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 8) {
      ADD_FAILURE() << "trailing " << bytes.size() - at << " bytes are not a header";
      break;
    }
    const auto byte_at = [&](std::size_t i) { return std::to_integer<unsigned>(bytes[at + i]); };
    parsed_record r;
    r.version = static_cast<std::uint8_t>(byte_at(0));
    r.type = static_cast<std::uint8_t>(byte_at(1));
    r.id = static_cast<std::uint16_t>((byte_at(2) << 8) | byte_at(3));
    const std::size_t length = (byte_at(4) << 8) | byte_at(5);
    r.padding = static_cast<std::uint8_t>(byte_at(6));
    if (bytes.size() - at < 8 + length + r.padding) {
      ADD_FAILURE() << "record at " << at << " runs past the end";
      break;
    }
    EXPECT_EQ((length + r.padding) % 8, 0U) << "record at " << at << " is not 8-aligned";
    r.content = text_of(bytes.subspan(at + 8, length));
    out.push_back(std::move(r));
    at += 8 + length + out.back().padding;
  }
  return out;
}

inline std::uint8_t type_byte(fcgi::protocol::record_type t) {
  return static_cast<std::uint8_t>(t);
}

}  // namespace fcgi_test
