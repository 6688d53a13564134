// record_reader: framing of §3.3 — header, content, padding — resumed at any byte.
#include <fcgi/protocol/record_reader.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fcgi::protocol {
namespace {

/// Feeds `wire` in pieces of `piece` bytes and writes the steps as text.
std::string steps(const std::string& wire, std::size_t piece) {
  record_reader reader;
  std::string log;
  std::string content;
  for (std::size_t at = 0; at < wire.size(); at += piece) {
    bytes_view input = as_bytes(std::string_view(wire).substr(at, piece));
    for (;;) {
      bytes_view chunk;
      const record_reader::step s = reader.next(input, chunk);
      if (s == record_reader::step::need_more) break;
      if (s == record_reader::step::header) {
        log += "header(type=" + std::to_string(reader.header().type) +
               " id=" + std::to_string(reader.header().request_id) +
               " at=" + std::to_string(reader.header_offset()) + ") ";
      }
      if (s == record_reader::step::content) content += as_chars(chunk);
      if (s == record_reader::step::content_end) {
        log += "content(" + content + ") ";
        content.clear();
      }
    }
  }
  return log;
}

std::string record(std::uint8_t type, std::uint16_t id, const std::string& content,
                   std::uint8_t padding) {
  std::string out{'\x01',
                  static_cast<char>(type),
                  static_cast<char>(id >> 8U),
                  static_cast<char>(id & 0xffU),
                  static_cast<char>(content.size() >> 8U),
                  static_cast<char>(content.size() & 0xffU),
                  static_cast<char>(padding),
                  '\0'};
  return out + content + std::string(padding, '\x7f');
}

TEST(record_reader, every_split_gives_the_same_steps_spec_3_3) {
  const std::string wire = record(5, 1, "hello", 3) + record(5, 1, "", 0) + record(6, 2, "x", 255) +
                           record(9, 0, "ab", 6);
  const std::string whole = steps(wire, wire.size());
  EXPECT_EQ(whole,
            "header(type=5 id=1 at=0) content(hello) header(type=5 id=1 at=16) content() "
            "header(type=6 id=2 at=24) content(x) header(type=9 id=0 at=288) content(ab) ");
  for (std::size_t piece = 1; piece < wire.size(); ++piece) {
    ASSERT_EQ(steps(wire, piece), whole) << "pieces of " << piece;
  }
}

TEST(record_reader, largest_record_is_consumed_exactly_hostile_a4) {
  const std::string wire = record(5, 1, std::string(65535, 'c'), 255) + record(5, 1, "", 0);
  const std::string log = steps(wire, 4096);
  EXPECT_NE(log.find("header(type=5 id=1 at=65798)"), std::string::npos);
}

TEST(record_reader, partial_header_waits_for_more) {
  record_reader reader;
  const std::string half = record(5, 1, "", 0).substr(0, 5);
  bytes_view input = as_bytes(half);
  bytes_view chunk;
  EXPECT_EQ(reader.next(input, chunk), record_reader::step::need_more);
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(reader.offset(), 5U);
}

}  // namespace
}  // namespace fcgi::protocol
