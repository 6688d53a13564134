// response_head_parser: the CGI response head (RFC 3875 §6) at the start of STDOUT, fed whole,
// at every two-way split and one byte at a time. Case numbers D-nn refer to
// /work/shared/HOSTILE.md section D.
#include <fcgi/protocol/response_head.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace fcgi::protocol {
namespace {

/// Everything observable about a parse, comparable across ways of feeding it.
struct outcome {
  head_state state = head_state::need_more;
  errc error{};
  std::size_t consumed = 0;  ///< summed over the feeds
  std::uint16_t status = 0;
  std::string reason;
  response_kind kind = response_kind::document;
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<std::string> content_type;
  std::optional<std::string> location;
  std::optional<std::uint64_t> content_length;
  std::string raw;
  friend bool operator==(const outcome&, const outcome&) = default;
};

void PrintTo(const outcome& o, std::ostream* out) {
  *out << to_string(o.state) << " " << to_string(o.error) << " consumed=" << o.consumed
       << " status=" << o.status << " reason=\"" << o.reason << "\" kind=" << to_string(o.kind)
       << " fields=" << o.fields.size() << " raw=" << testing::PrintToString(o.raw);
}

std::optional<std::string> owned(std::optional<std::string_view> view) {
  return view ? std::optional<std::string>(std::string(*view)) : std::nullopt;
}

outcome describe_parser(const response_head_parser& parser, std::size_t consumed) {
  outcome out;
  out.state = parser.state();
  out.error = parser.error();
  out.consumed = consumed;
  if (parser.state() != head_state::complete) return out;
  const response_head& head = parser.head();
  out.status = head.status();
  out.reason = std::string(head.reason());
  out.kind = head.kind();
  for (const response_field& f : head.fields()) out.fields.emplace_back(f.name, f.value);
  out.content_type = owned(head.content_type());
  out.location = owned(head.location());
  out.content_length = head.content_length();
  out.raw = std::string(head.raw());
  return out;
}

/// Feeds each chunk from its own exact-size heap buffer (so ASan sees any over-read), and
/// checks that no feed takes more than it was given or anything after the outcome is known.
outcome feed_chunks(const std::vector<std::string_view>& chunks,
                    response_head_settings settings = {}) {
  response_head_parser parser(settings);
  std::size_t consumed = 0;
  for (const std::string_view chunk : chunks) {
    const auto copy = std::make_unique<char[]>(chunk.size() + (chunk.empty() ? 1 : 0));
    if (!chunk.empty()) std::memcpy(copy.get(), chunk.data(), chunk.size());
    const head_state before = parser.state();
    const head_progress progress = parser.feed(std::string_view(copy.get(), chunk.size()));
    EXPECT_LE(progress.consumed, chunk.size());
    EXPECT_EQ(progress.state, parser.state());
    EXPECT_EQ(progress.error, parser.error());
    if (before != head_state::need_more) {
      EXPECT_EQ(progress.consumed, 0U);
    }
    if (progress.state == head_state::need_more) {
      EXPECT_EQ(progress.consumed, chunk.size());
    }
    consumed += progress.consumed;
  }
  return describe_parser(parser, consumed);
}

outcome parse(std::string_view text, response_head_settings settings = {}) {
  return feed_chunks({text}, settings);
}

/// Parses `text` whole, at every two-way split and one byte at a time: all must agree.
outcome parse_every_way(std::string_view text, response_head_settings settings = {}) {
  const outcome whole = parse(text, settings);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(feed_chunks({text.substr(0, cut), text.substr(cut)}, settings), whole)
        << "split at " << cut;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  EXPECT_EQ(feed_chunks(bytes, settings), whole) << "one byte at a time";
  return whole;
}

errc error_of(std::string_view text, response_head_settings settings = {}) {
  const outcome result = parse_every_way(text, settings);
  EXPECT_EQ(result.state, head_state::failed);
  return result.error;
}

using field_list = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------
// Lines, fields and where the body starts

TEST(response_head, document_with_crlf_lines) {
  const std::string head = "Content-Type: text/html\r\nX-Powered-By: fcgikit\r\n\r\n";
  const outcome result = parse_every_way(head + "<p>body</p>");
  EXPECT_EQ(result.state, head_state::complete);
  EXPECT_EQ(result.error, errc{});
  EXPECT_EQ(result.consumed, head.size());  // the rest of the chunk is body
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.reason, "OK");
  EXPECT_EQ(result.kind, response_kind::document);
  EXPECT_EQ(result.fields,
            (field_list{{"Content-Type", "text/html"}, {"X-Powered-By", "fcgikit"}}));
  EXPECT_EQ(result.content_type, "text/html");
  EXPECT_EQ(result.raw, head);
  EXPECT_FALSE(result.location);
  EXPECT_FALSE(result.content_length);
}

TEST(response_head, lf_only_and_mixed_line_ends) {
  const std::string lf_head = "Content-Type: text/plain\nX-A: 1\n\n";
  const outcome lf = parse_every_way(lf_head + "body");
  EXPECT_EQ(lf.state, head_state::complete);
  EXPECT_EQ(lf.consumed, lf_head.size());
  EXPECT_EQ(lf.fields, (field_list{{"Content-Type", "text/plain"}, {"X-A", "1"}}));
  const std::string mixed_head = "X-A: 1\r\nX-B: 2\n\r\n";
  const outcome mixed = parse_every_way(mixed_head + "body");
  EXPECT_EQ(mixed.state, head_state::complete);
  EXPECT_EQ(mixed.consumed, mixed_head.size());
  EXPECT_EQ(mixed.fields, (field_list{{"X-A", "1"}, {"X-B", "2"}}));
}

TEST(response_head, empty_head_is_a_document_with_no_fields) {
  const outcome result = parse_every_way("\r\nbody");
  EXPECT_EQ(result.state, head_state::complete);
  EXPECT_EQ(result.consumed, 2U);
  EXPECT_EQ(result.status, 200);
  EXPECT_TRUE(result.fields.empty());
}

TEST(response_head, values_are_trimmed_and_may_be_empty) {
  const outcome result = parse_every_way("A:  \t x y \t \r\nB:\r\nC:   \r\nD:z\r\n\r\n");
  EXPECT_EQ(result.fields, (field_list{{"A", "x y"}, {"B", ""}, {"C", ""}, {"D", "z"}}));
}

TEST(response_head, tab_and_high_bytes_in_values_pass) {
  const outcome result = parse_every_way("X-A: a\tb caf\xC3\xA9\r\n\r\n");
  EXPECT_EQ(result.fields, (field_list{{"X-A", "a\tb caf\xC3\xA9"}}));
}

TEST(response_head, repeated_ordinary_fields_are_kept_in_order) {
  const outcome result = parse_every_way("Set-Cookie: a=1\r\nX: 0\r\nset-cookie: b=2\r\n\r\n");
  EXPECT_EQ(result.fields, (field_list{{"Set-Cookie", "a=1"}, {"X", "0"}, {"set-cookie", "b=2"}}));
}

TEST(response_head, need_more_until_the_blank_line) {
  const outcome result = parse_every_way("Content-Type: text/plain\r\n\r");
  EXPECT_EQ(result.state, head_state::need_more);
  EXPECT_EQ(result.consumed, 27U);
}

TEST(response_head, empty_chunks_change_nothing) {
  const outcome result = feed_chunks({"", "X: 1\r\n", "", "\r\n", ""});
  EXPECT_EQ(result.state, head_state::complete);
  EXPECT_EQ(result.consumed, 8U);
}

// ---------------------------------------------------------------------------------------------
// Malformed lines

TEST(response_head, line_without_colon_fails_d47) {
  EXPECT_EQ(error_of("Content-Type text/html\r\n\r\n"), errc::invalid_response_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nX: 1\r\n\r\n"), errc::invalid_response_line);
  EXPECT_EQ(error_of("X: 1\r\n<html>\r\n\r\n"), errc::invalid_response_line);
}

TEST(response_head, field_name_must_be_a_token) {
  for (const char* text :
       {": v\r\n\r\n", "Content Type: v\r\n\r\n", "Name : v\r\n\r\n", "Na\"me: v\r\n\r\n",
        "N(a): v\r\n\r\n", "Caf\xC3\xA9: v\r\n\r\n", "N\x01: v\r\n\r\n"}) {
    EXPECT_EQ(error_of(text), errc::invalid_response_line) << text;
  }
}

TEST(response_head, obs_fold_fails) {
  EXPECT_EQ(error_of("X-A: one\r\n two\r\n\r\n"), errc::folded_response_line);
  EXPECT_EQ(error_of("X-A: one\r\n\ttwo\r\n\r\n"), errc::folded_response_line);
  EXPECT_EQ(error_of(" X-A: one\r\n\r\n"), errc::folded_response_line);
}

TEST(response_head, control_characters_in_values_fail) {
  for (const std::string& text :
       {std::string("X: a\rb\r\n\r\n"), std::string("X: a\r\r\n\r\n"),
        std::string("X: a\0b\r\n\r\n", 11), std::string("X: \x01\r\n\r\n"),
        std::string("X: a\x7f\r\n\r\n"), std::string("X: a\x1b[31m\r\n\r\n")}) {
    EXPECT_EQ(error_of(text), errc::invalid_response_line);
  }
}

TEST(response_head, a_bare_cr_line_is_not_a_blank_line) {
  EXPECT_EQ(error_of("X: 1\r\n\r\r\n"), errc::invalid_response_line);
}

TEST(response_head, the_error_stops_at_the_bad_line) {
  const std::string text = "X: 1\r\nbad\r\nY: 2\r\n\r\n";
  const outcome result = parse_every_way(text);
  EXPECT_EQ(result.error, errc::invalid_response_line);
  EXPECT_EQ(result.consumed, 11U);  // through the bad line's LF, nothing after
}

// ---------------------------------------------------------------------------------------------
// Status, RFC 3875 §6.3.3

TEST(response_head, status_with_reason) {
  const outcome result =
      parse_every_way("Status: 404 Not Here\r\nContent-Type: text/plain\r\n\r\n");
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.reason, "Not Here");
  EXPECT_EQ(result.kind, response_kind::document);
  EXPECT_EQ(result.fields, (field_list{{"Content-Type", "text/plain"}}));  // Status excluded
}

TEST(response_head, status_without_reason_takes_the_standard_one) {
  EXPECT_EQ(parse_every_way("Status: 404\r\n\r\n").reason, "Not Found");
  EXPECT_EQ(parse_every_way("status:503   \r\n\r\n").reason, "Service Unavailable");
  const outcome unregistered = parse_every_way("Status: 299\r\n\r\n");
  EXPECT_EQ(unregistered.status, 299);
  EXPECT_EQ(unregistered.reason, "");
}

TEST(response_head, status_reason_is_trimmed) {
  const outcome result = parse_every_way("Status:   201   Created  \r\n\r\n");
  EXPECT_EQ(result.status, 201);
  EXPECT_EQ(result.reason, "Created");
}

TEST(response_head, status_bounds) {
  EXPECT_EQ(parse_every_way("Status: 100\r\n\r\n").status, 100);
  EXPECT_EQ(parse_every_way("Status: 599 Custom\r\n\r\n").status, 599);
}

TEST(response_head, bad_status_fails_never_passes_through_d47) {
  for (const std::string text :
       {"99", "2000", "099", "600", "999", "000", "20", "2", "", "20a", "200OK", "2 00", "-200",
        "+200", "200\tOK", "0x1F", "1e2", "200,", "٢٠٠"}) {
    EXPECT_EQ(error_of("Status: " + text + "\r\n\r\n"), errc::invalid_status) << text;
  }
}

TEST(response_head, duplicate_status_fails) {
  EXPECT_EQ(error_of("Status: 200 OK\r\nStatus: 403 Forbidden\r\n\r\n"),
            errc::duplicate_response_field);
  EXPECT_EQ(error_of("Status: 200\r\nSTATUS: 200\r\n\r\n"), errc::duplicate_response_field);
}

TEST(response_head, status_is_not_a_field) {
  response_head_parser parser;
  ASSERT_EQ(parser.feed("Status: 201\r\nX: 1\r\n\r\n").state, head_state::complete);
  EXPECT_FALSE(parser.head().find("Status"));
  EXPECT_EQ(parser.head().field_count(), 1U);
}

// ---------------------------------------------------------------------------------------------
// Location and the kind of response, RFC 3875 §6.2

TEST(response_head, absolute_location_without_status_is_a_client_redirect_302) {
  const outcome result = parse_every_way("Location: https://example.com/x?y=1\r\n\r\n");
  EXPECT_EQ(result.kind, response_kind::client_redirect);
  EXPECT_EQ(result.status, 302);
  EXPECT_EQ(result.reason, "Found");
  EXPECT_EQ(result.location, "https://example.com/x?y=1");
}

TEST(response_head, local_location_without_status_is_a_local_redirect) {
  const outcome result = parse_every_way("Location: /other/page?x=1\r\n\r\n");
  EXPECT_EQ(result.kind, response_kind::local_redirect);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.location, "/other/page?x=1");
  EXPECT_EQ(parse_every_way("Location: /\n\n").kind, response_kind::local_redirect);
}

TEST(response_head, network_path_and_relative_locations_are_client_redirects) {
  for (const char* text : {"Location: //evil.example/x\r\n\r\n", "Location: page.html\r\n\r\n"}) {
    const outcome result = parse_every_way(text);
    EXPECT_EQ(result.kind, response_kind::client_redirect) << text;
    EXPECT_EQ(result.status, 302) << text;
  }
}

TEST(response_head, location_with_3xx_status_is_a_client_redirect_with_that_status) {
  const outcome result = parse_every_way("Status: 301\r\nLocation: /moved\r\n\r\n");
  EXPECT_EQ(result.kind, response_kind::client_redirect);
  EXPECT_EQ(result.status, 301);
  EXPECT_EQ(result.reason, "Moved Permanently");
}

TEST(response_head, location_with_other_status_is_a_document) {
  const outcome created = parse_every_way("Location: /items/7\r\nStatus: 201\r\n\r\n");
  EXPECT_EQ(created.kind, response_kind::document);
  EXPECT_EQ(created.status, 201);
  const outcome ok = parse_every_way("Status: 200\r\nLocation: http://h/\r\n\r\n");
  EXPECT_EQ(ok.kind, response_kind::document);
  EXPECT_EQ(ok.status, 200);
}

TEST(response_head, duplicate_location_content_type_or_length_fails) {
  EXPECT_EQ(error_of("Location: /a\r\nlocation: /b\r\n\r\n"), errc::duplicate_response_field);
  EXPECT_EQ(error_of("Content-Type: a/b\r\nContent-Type: c/d\r\n\r\n"),
            errc::duplicate_response_field);
  EXPECT_EQ(error_of("Content-Length: 1\r\nContent-Length: 1\r\n\r\n"),
            errc::duplicate_response_field);
}

// ---------------------------------------------------------------------------------------------
// Content-Length

TEST(response_head, content_length_is_parsed_strictly) {
  EXPECT_EQ(parse_every_way("Content-Length: 42\r\n\r\n").content_length, 42U);
  EXPECT_EQ(parse_every_way("content-length:0\r\n\r\n").content_length, 0U);
  EXPECT_EQ(parse_every_way("Content-Length: 9223372036854775807\r\n\r\n").content_length,
            9223372036854775807U);
  for (const std::string value :
       {"", "-1", "+5", "1e3", "0x10", "1,1", "1 1", "١", "9223372036854775808",
        "18446744073709551616", "00000000000000000001"}) {
    EXPECT_EQ(error_of("Content-Length: " + value + "\r\n\r\n"),
              errc::invalid_response_content_length)
        << value;
  }
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST(response_head, head_of_exactly_max_bytes_is_accepted) {
  const std::string head = "X: " + std::string(20, 'v') + "\r\n\r\n";  // 27 bytes
  const outcome result = parse_every_way(head + "body", {.max_bytes = head.size()});
  EXPECT_EQ(result.state, head_state::complete);
  EXPECT_EQ(result.consumed, head.size());
}

TEST(response_head, head_one_byte_over_max_fails) {
  const std::string head = "X: " + std::string(20, 'v') + "\r\n\r\n";
  const outcome result = parse_every_way(head, {.max_bytes = head.size() - 1});
  EXPECT_EQ(result.error, errc::response_head_too_large);
  EXPECT_EQ(result.consumed, head.size() - 1);  // never more than the limit
}

TEST(response_head, body_without_head_hits_the_default_limit) {
  const std::string huge(64 * 1024 + 1, 'x');
  const outcome whole = parse(huge);
  EXPECT_EQ(whole.error, errc::response_head_too_large);
  EXPECT_EQ(whole.consumed, 64U * 1024U);
  const outcome parts =
      feed_chunks({std::string_view(huge).substr(0, 65535), std::string_view(huge).substr(65535)});
  EXPECT_EQ(parts, whole);
  // Exactly at the limit with no line end yet: still waiting.
  EXPECT_EQ(parse(std::string_view(huge).substr(0, 64 * 1024)).state, head_state::need_more);
}

TEST(response_head, a_bad_line_inside_the_limit_wins_over_the_size) {
  const std::string text = "bad\r\n" + std::string(100, 'x');
  EXPECT_EQ(error_of(text, {.max_bytes = 50}), errc::invalid_response_line);
}

TEST(response_head, max_fields_counts_every_field_line_including_status) {
  const std::string three = "Status: 200\r\nA: 1\r\nB: 2\r\n\r\n";
  EXPECT_EQ(parse_every_way(three, {.max_fields = 3}).state, head_state::complete);
  EXPECT_EQ(error_of(three, {.max_fields = 2}), errc::too_many_response_fields);
  std::string many;
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse(many + "\r\n").error, errc::too_many_response_fields);  // default 100
}

TEST(response_head, zero_max_bytes_refuses_any_byte) {
  EXPECT_EQ(error_of("\r\n", {.max_bytes = 0}), errc::response_head_too_large);
}

// ---------------------------------------------------------------------------------------------
// The parser's lifecycle

TEST(response_head, finish_before_the_blank_line_fails_sticky) {
  response_head_parser parser;
  EXPECT_EQ(parser.feed("Content-Type: text/plain\r\n").state, head_state::need_more);
  EXPECT_EQ(parser.finish(), errc::response_head_incomplete);
  EXPECT_EQ(parser.state(), head_state::failed);
  EXPECT_EQ(parser.error(), errc::response_head_incomplete);
  const head_progress again = parser.feed("\r\n");
  EXPECT_EQ(again.state, head_state::failed);
  EXPECT_EQ(again.consumed, 0U);
  EXPECT_EQ(again.error, errc::response_head_incomplete);
}

TEST(response_head, finish_with_nothing_fed_fails) {
  response_head_parser parser;
  EXPECT_EQ(parser.finish(), errc::response_head_incomplete);
}

TEST(response_head, finish_after_complete_or_failed_keeps_the_outcome) {
  response_head_parser done;
  (void)done.feed("X: 1\r\n\r\n");
  EXPECT_EQ(done.finish(), errc{});
  EXPECT_EQ(done.state(), head_state::complete);
  response_head_parser bad;
  (void)bad.feed("nonsense\r\n");
  EXPECT_EQ(bad.finish(), errc::invalid_response_line);
}

TEST(response_head, feeding_after_complete_takes_nothing) {
  response_head_parser parser;
  const head_progress first = parser.feed("X: 1\r\n\r\nbody");
  EXPECT_EQ(first.state, head_state::complete);
  EXPECT_EQ(first.consumed, 8U);
  const head_progress second = parser.feed("Y: 2\r\n\r\n");
  EXPECT_EQ(second.state, head_state::complete);
  EXPECT_EQ(second.consumed, 0U);
  EXPECT_EQ(parser.head().field_count(), 1U);
}

TEST(response_head, head_outlives_the_chunks) {
  response_head_parser parser;
  {
    auto chunk = std::make_unique<std::string>("Status: 418 Teapot\r\nContent-Type: te");
    (void)parser.feed(*chunk);
    std::memset(chunk->data(), 'Z', chunk->size());
    chunk = std::make_unique<std::string>("xt/plain\r\nLocation: /x\r\n\r\nbody");
    (void)parser.feed(*chunk);
    std::memset(chunk->data(), 'Z', chunk->size());
  }
  ASSERT_EQ(parser.state(), head_state::complete);
  EXPECT_EQ(parser.head().reason(), "Teapot");
  EXPECT_EQ(parser.head().content_type(), "text/plain");
  EXPECT_EQ(parser.head().location(), "/x");
}

TEST(response_head, head_can_be_moved_out_and_copied) {
  response_head_parser parser;
  (void)parser.feed("Status: 500 Oops\r\nA: 1\r\nContent-Length: 3\r\n\r\n");
  response_head moved = parser.take_head();
  const response_head copy = moved;
  moved = response_head{};
  EXPECT_EQ(copy.status(), 500);
  EXPECT_EQ(copy.reason(), "Oops");
  EXPECT_EQ(copy.find("a"), "1");
  EXPECT_EQ(copy.content_length(), 3U);
  EXPECT_EQ(copy.field(0), (response_field{"A", "1"}));
  EXPECT_EQ(moved.field_count(), 0U);
}

TEST(response_head, short_heads_survive_a_move) {
  // Small strings live inside the std::string object: views must be rebuilt from offsets.
  response_head_parser parser;
  (void)parser.feed("A:b\n\n");
  const response_head moved = parser.take_head();
  EXPECT_EQ(moved.find("A"), "b");
  EXPECT_EQ(moved.raw(), "A:b\n\n");
}

TEST(response_head, reset_parses_a_new_head_with_the_same_settings) {
  response_head_parser parser({.max_bytes = 10});
  (void)parser.feed("Status: 200 OK, a long line\r\n");
  EXPECT_EQ(parser.error(), errc::response_head_too_large);
  parser.reset();
  EXPECT_EQ(parser.state(), head_state::need_more);
  EXPECT_EQ(parser.feed("X: 1\r\n\r\n").state, head_state::complete);
  EXPECT_EQ(parser.head().find("X"), "1");
  parser.reset();
  EXPECT_EQ(parser.feed("X: 12345\r\n\r\n").error, errc::response_head_too_large);
}

// ---------------------------------------------------------------------------------------------
// Lookups

TEST(response_head, find_is_case_insensitive_and_returns_the_first) {
  response_head_parser parser;
  (void)parser.feed("X-Thing: one\r\nx-thing: two\r\nContent-TYPE: a/b\r\n\r\n");
  const response_head& head = parser.head();
  EXPECT_EQ(head.find("X-THING"), "one");
  EXPECT_EQ(head.find("content-type"), "a/b");
  EXPECT_EQ(head.content_type(), "a/b");
  EXPECT_FALSE(head.find("X-Thin"));
  EXPECT_FALSE(head.find("X-Things"));
}

TEST(response_head, authorizer_variables_spec_6_3) {
  response_head_parser parser;
  (void)parser.feed(
      "Status: 200\r\nVariable-AUTH_USER: bob\r\nX-Other: 1\r\nvariable-Role: admin\r\n"
      "Variable-: empty-name\r\nVariables-X: no\r\nVariable-EMPTY:\r\n\r\n");
  const std::vector<param> variables = parser.head().authorizer_variables();
  const std::vector<param> expected = {{"AUTH_USER", "bob"}, {"Role", "admin"}, {"EMPTY", ""}};
  EXPECT_EQ(variables, expected);
}

TEST(response_head, default_reasons_and_names) {
  EXPECT_EQ(default_reason(200), "OK");
  EXPECT_EQ(default_reason(302), "Found");
  EXPECT_EQ(default_reason(413), "Content Too Large");
  EXPECT_EQ(default_reason(511), "Network Authentication Required");
  EXPECT_EQ(default_reason(100), "Continue");
  EXPECT_EQ(default_reason(0), "");
  EXPECT_EQ(default_reason(306), "");
  EXPECT_EQ(default_reason(600), "");
  EXPECT_EQ(to_string(response_kind::document), "document");
  EXPECT_EQ(to_string(response_kind::local_redirect), "local_redirect");
  EXPECT_EQ(to_string(response_kind::client_redirect), "client_redirect");
  EXPECT_EQ(to_string(head_state::need_more), "need_more");
  EXPECT_EQ(to_string(head_state::complete), "complete");
  EXPECT_EQ(to_string(head_state::failed), "failed");
}

TEST(response_head, a_realistic_php_head_at_every_split) {
  const std::string head =
      "X-Powered-By: PHP/8.2.7\r\nSet-Cookie: PHPSESSID=abc; path=/\r\n"
      "Expires: Thu, 19 Nov 1981 08:52:00 GMT\r\nCache-Control: no-store, no-cache\r\n"
      "Status: 403 Forbidden\r\nContent-type: text/html; charset=UTF-8\r\n\r\n";
  const outcome result = parse_every_way(head + "<h1>403</h1>");
  EXPECT_EQ(result.state, head_state::complete);
  EXPECT_EQ(result.consumed, head.size());
  EXPECT_EQ(result.status, 403);
  EXPECT_EQ(result.content_type, "text/html; charset=UTF-8");
  EXPECT_EQ(result.fields.size(), 5U);
}

}  // namespace
}  // namespace fcgi::protocol
