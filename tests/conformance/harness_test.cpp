// Tests of the test tools themselves: the text notation, the record builders and the
// transcript parser. A harness that misreads its own notation would pass broken code.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include <fcgi/test/output_decoder.hpp>
#include <fcgi/test/record_builder.hpp>
#include <fcgi/test/scripted_feed.hpp>
#include <fcgi/test/text.hpp>

#include "transcript.hpp"

namespace fcgi::conformance {
namespace {

std::string parsed(std::string_view expression) {
  std::string out;
  std::string error;
  EXPECT_TRUE(test::parse_bytes(expression, out, &error)) << expression << ": " << error;
  return out;
}

TEST(harness_text, render_bytes_writes_literals_escapes_and_runs) {
  EXPECT_EQ(test::render_bytes(""), R"("")");
  EXPECT_EQ(test::render_bytes("Hello"), R"("Hello")");
  EXPECT_EQ(test::render_bytes("a\"b\\c\r\n\t\x01\xff"), R"("a\"b\\c\r\n\t\x01\xff")");
  EXPECT_EQ(test::render_bytes(std::string(20, 'x')), R"("x"*20)");
  EXPECT_EQ(test::render_bytes(std::string(15, 'x')), R"("xxxxxxxxxxxxxxx")");
  EXPECT_EQ(test::render_bytes("ab" + std::string(16, '\0') + "cd"), R"("ab" + "\x00"*16 + "cd")");
}

TEST(harness_text, parse_bytes_reads_what_render_bytes_writes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (const std::string& s :
       {std::string(), all, std::string(70000, 'q') + all + std::string(17, '"')}) {
    EXPECT_EQ(parsed(test::render_bytes(s)), s);
  }
}

TEST(harness_text, parse_bytes_takes_octal_and_unspaced_plus) {
  EXPECT_EQ(parsed(R"("\013\002SERVER_PORT80")"), "\x0b\x02SERVER_PORT80");
  EXPECT_EQ(parsed(R"("a"*3+"b")"), "aaab");
  std::string out;
  EXPECT_FALSE(test::parse_bytes(R"("unterminated)", out));
  EXPECT_FALSE(test::parse_bytes(R"("\x4")", out));
  EXPECT_FALSE(test::parse_bytes(R"("a" "b")", out));
}

TEST(harness_text, render_pairs_quotes_only_what_needs_it) {
  const test::bytes encoded = test::pairs({{"A", "b=c"}, {"EMPTY", ""}, {"SP", "x y"}, {"", "v"}});
  EXPECT_EQ(test::render_pairs(encoded), R"({A=b=c, EMPTY=, SP="x y", ""=v})");
  EXPECT_EQ(test::render_pairs(test::to_bytes("\x05\x01"
                                              "AB")),
            std::nullopt);
}

TEST(harness_builder, records_match_the_spec_layout) {
  // §3.3 header then §5.1 body: role 1, flags 1 (KEEP_CONN), five reserved zeros.
  EXPECT_EQ(test::begin_request(0x0102, protocol::role::responder, true),
            (test::bytes{std::byte{1}, std::byte{1}, std::byte{1}, std::byte{2}, std::byte{0},
                         std::byte{8}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                         std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                         std::byte{0}}));
  // §3.4: 200 needs the four-byte length 0x800000C8.
  EXPECT_EQ(test::length_bytes(200),
            (test::bytes{std::byte{0x80}, std::byte{0}, std::byte{0}, std::byte{0xc8}}));
  EXPECT_EQ(test::length_bytes(5, true),
            (test::bytes{std::byte{0x80}, std::byte{0}, std::byte{0}, std::byte{5}}));
}

TEST(harness_decoder, formats_records_in_the_spec_notation) {
  const test::bytes data = test::cat(
      {test::stdout_record(1, "Hello"), test::end_request(1, 938, 0), test::unknown_type(99),
       test::record(protocol::record_type::stdout_stream, 2, "ab", 3)});
  std::size_t trailing = 1;
  const auto records = test::decode_records(data, &trailing);
  EXPECT_EQ(trailing, 0U);
  EXPECT_EQ(test::format_records(records),
            (std::vector<std::string>{
                R"({STDOUT, 1, "Hello"} padding=0)", "{END_REQUEST, 1, {938, REQUEST_COMPLETE}}",
                "{UNKNOWN_TYPE, 0, {99}}", R"({STDOUT, 2, "ab"} padding=3)"}));
}

TEST(harness_feed, chunks_of_one_stream_merge_whatever_the_split) {
  const test::bytes input =
      test::cat({test::begin_request(1, protocol::role::responder), test::params_end(1),
                 test::stdin_record(1, "abc"), test::stdin_record(1, "def"), test::stdin_end(1)});
  const std::vector<std::string> expected{"params_ready 1 RESPONDER keep_conn=0 {}",
                                          R"(stdin 1 "abcdef")", "stdin_end 1"};
  test::app_driver whole;
  whole.feed(input);
  EXPECT_EQ(whole.take_events(), expected);
  test::app_driver bytewise;
  bytewise.feed_one_byte_at_a_time(input);
  EXPECT_EQ(bytewise.take_events(), expected);
}

TEST(harness_transcript, parse_errors_name_the_line) {
  EXPECT_THROW(parse_transcript("> BEGIN 1 RESPONDER\n", "t"), transcript_error);  // no intent
  try {
    parse_transcript("# intent\n> BEGIN 1 RESPONDER\n> NOPE 1\n", "t");
    ADD_FAILURE() << "an unknown record type was accepted";
  } catch (const transcript_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_transcript("# intent\n! begin RESPONDER\n", "t"), transcript_error);
  EXPECT_THROW(parse_transcript("# intent\nsetting nope=1\n", "t"), transcript_error);
}

TEST(harness_transcript, steps_end_at_actions_and_checks) {
  const transcript t = parse_transcript(
      "# intent\n> BEGIN {1..3} RESPONDER\n= e\n! end_request 2 0 => request_not_active\n"
      "< o\n? active=1\n> PARAMS 1 P[1..2]=v\n",
      "t");
  ASSERT_EQ(t.steps.size(), 3U);
  EXPECT_EQ(t.steps[0].input.size(), 48U);
  EXPECT_EQ(t.steps[0].boundaries, (std::vector<std::size_t>{0, 16, 32}));
  EXPECT_EQ(t.steps[0].events, std::vector<std::string>{"e"});
  ASSERT_TRUE(t.steps[0].act);
  EXPECT_EQ(t.steps[0].act->key.id, 2U);
  EXPECT_EQ(t.steps[0].act->expect, "request_not_active");
  EXPECT_EQ(t.steps[1].output, std::vector<std::string>{"o"});
  ASSERT_TRUE(t.steps[1].chk);
  EXPECT_EQ(t.steps[2].input, test::params(1, {{"P1", "v"}, {"P2", "v"}}));
}

}  // namespace
}  // namespace fcgi::conformance
