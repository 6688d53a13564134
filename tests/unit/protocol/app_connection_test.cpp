// app_connection: the application side of a connection, one behaviour per test.
//
// Input records are built byte by byte from the spec (test_util.hpp); events and output records
// are compared as transcripts (transcript.hpp): "params_ready 1 RESPONDER keep_conn [A=1]",
// "END_REQUEST 1 app=0 REQUEST_COMPLETE", ... Case numbers A-nn, B-nn, C-nn refer to
// /work/shared/HOSTILE.md.
#include <fcgi/protocol/app_connection.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transcript.hpp"

namespace fcgi::protocol {
namespace {

using fcgi_test::app_record;
using fcgi_test::byte_vector;
using fcgi_test::concat;
using fcgi_test::feed;
using fcgi_test::feed_records;
using fcgi_test::hex;
using fcgi_test::lines;
using fcgi_test::output_records;
using fcgi_test::pair_list;

using namespace fcgi_test::spec_types;  // NOLINT(google-build-using-namespace)

constexpr unsigned keep = 1;
constexpr unsigned close_after = 0;

byte_vector rec(std::uint8_t type, std::uint16_t id, std::string_view content = {},
                std::uint8_t padding = 0) {
  return fcgi_test::raw_record(type, id, as_bytes(content), padding);
}

byte_vector rec(std::uint8_t type, std::uint16_t id, const byte_vector& content,
                std::uint8_t padding = 0) {
  return fcgi_test::raw_record(type, id, content, padding);
}

/// §5.1 BEGIN_REQUEST: roleB1 roleB0 flags reserved[5].
byte_vector begin(std::uint16_t id, unsigned role_value = 1, unsigned flags = keep) {
  return rec(begin_type, id, hex({role_value >> 8, role_value & 0xff, flags, 0, 0, 0, 0, 0}));
}

/// One PARAMS record carrying `pairs`, then the empty PARAMS record.
byte_vector params(std::uint16_t id, const pair_list& pairs) {
  const byte_vector block = fcgi_test::raw_pairs(pairs);
  if (block.empty()) return rec(params_type, id);
  return concat({rec(params_type, id, block, fcgi::protocol::padding_for(block.size())),
                 rec(params_type, id)});
}

byte_vector stdin_record(std::uint16_t id, std::string_view content) {
  return rec(stdin_type, id, content, padding_for(content.size()));
}

/// BEGIN, PARAMS and the empty PARAMS: the request is ready after this.
byte_vector started(std::uint16_t id, const pair_list& pairs = {{"REQUEST_METHOD", "GET"}},
                    unsigned role_value = 1, unsigned flags = keep) {
  return concat({begin(id, role_value, flags), params(id, pairs)});
}

/// The key reported with the params_ready of `id`.
request_key key_of(const std::vector<app_record>& records, std::uint16_t id) {
  for (const app_record& r : records) {
    if (r.kind == app_event_kind::params_ready && r.request.id == id) return r.request;
  }
  ADD_FAILURE() << "no params_ready for id " << id;
  return {};
}

request_key start(app_connection& conn, std::uint16_t id, unsigned role_value = 1,
                  unsigned flags = keep, const pair_list& pairs = {{"REQUEST_METHOD", "GET"}}) {
  return key_of(feed_records(conn, started(id, pairs, role_value, flags)), id);
}

/// Output records without the empty STDOUT that precedes a state machine's END_REQUEST.
lines without_empty_stdout(const lines& records) {
  lines out;
  for (const std::string& line : records) {
    if (line.rfind("STDOUT ", 0) == 0 && line.find('"') == std::string::npos) continue;
    out.push_back(line);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// §6.2 Responder

TEST(app_connection, responder_flow_spec_6_2) {
  app_connection conn;
  const byte_vector input =
      concat({begin(1, 1, keep), params(1, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "5"}}),
              stdin_record(1, "hello"), rec(stdin_type, 1)});
  const std::vector<app_record> events = feed_records(conn, input);
  EXPECT_EQ(fcgi_test::render(events),
            (lines{"params_ready 1 RESPONDER keep_conn [REQUEST_METHOD=POST;CONTENT_LENGTH=5]",
                   "stdin_chunk 1 \"hello\"", "stdin_end 1"}));
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(conn.active_requests(), 1U);

  const request_key key = key_of(events, 1);
  EXPECT_EQ(key.id, 1);
  EXPECT_EQ(events[1].request, key);
  EXPECT_EQ(events[2].request, key);
  EXPECT_EQ(conn.write_stdout(key, as_bytes("Status: 200 OK\r\n\r\nhi")), errc{});
  EXPECT_EQ(conn.end_request(key, 0), errc{});
  // §6.1: the stream ends with its empty record; no STDERR was written, so none is sent.
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 1 \"Status: 200 OK\\x0d\\x0a\\x0d\\x0ahi\"", "STDOUT 1",
                   "END_REQUEST 1 app=0 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.active_requests(), 0U);
  EXPECT_FALSE(conn.wants_close());
  EXPECT_FALSE(conn.failed());
}

TEST(app_connection, release_idle_memory_keeps_active_requests_whole) {
  app_connection conn;
  const request_key ended = start(conn, 1);
  ASSERT_EQ(conn.end_request(ended, 0), errc{});
  fcgi_test::drain(conn.output());
  // Request 2 is active: its params (and the events it reports later) must survive.
  const byte_vector input = started(2, {{"REQUEST_METHOD", "PUT"}, {"QUERY_STRING", "a=1"}});
  bytes_view in = input;
  const app_event ready = conn.next_event(in);
  ASSERT_EQ(ready.kind, app_event_kind::params_ready);
  const request_key key = ready.request;
  conn.release_idle_memory();
  EXPECT_EQ(conn.output().capacity(), 0U);
  // The views still point into the active slot's params (ASan would see a freed buffer).
  EXPECT_EQ(ready.params.find("QUERY_STRING"), std::optional<std::string_view>("a=1"));
  EXPECT_EQ(ready.params.find("REQUEST_METHOD"), std::optional<std::string_view>("PUT"));
  EXPECT_EQ(conn.write_stdout(key, as_bytes("x")), errc{});
  conn.release_idle_memory();  // output pending: kept
  EXPECT_GT(conn.output().capacity(), 0U);
  EXPECT_EQ(conn.end_request(key, 0), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 2 \"x\"", "STDOUT 2", "END_REQUEST 2 app=0 REQUEST_COMPLETE"}));
  // And the connection serves the next request after giving everything back.
  fcgi_test::drain(conn.output());
  conn.release_idle_memory();
  const request_key next = start(conn, 1, 1, keep, {{"REQUEST_URI", "/next"}});
  EXPECT_EQ(conn.end_request(next, 0), errc{});
}

TEST(app_connection, responder_may_write_before_stdin_ends_spec_6_2) {
  app_connection conn;
  const request_key key = start(conn, 1);
  EXPECT_EQ(conn.write_stdout(key, as_bytes("early")), errc{});
  EXPECT_EQ(conn.write_stderr(key, as_bytes("note")), errc{});
  EXPECT_EQ(output_records(conn.output()), (lines{"STDOUT 1 \"early\"", "STDERR 1 \"note\""}));
  EXPECT_EQ(feed(conn, concat({stdin_record(1, "body"), rec(stdin_type, 1)})),
            (lines{"stdin_chunk 1 \"body\"", "stdin_end 1"}));
}

TEST(app_connection, stdin_chunk_is_a_view_into_the_input_spec_5_3) {
  app_connection conn;
  start(conn, 1);
  const byte_vector input = stdin_record(1, "zero-copy");
  bytes_view rest = input;
  const app_event ev = conn.next_event(rest);
  ASSERT_EQ(ev.kind, app_event_kind::stdin_chunk);
  EXPECT_EQ(ev.bytes.data(), input.data() + header_size);
  EXPECT_EQ(ev.bytes.size(), 9U);
}

TEST(app_connection, params_ready_params_outlive_the_input_spec_5_2) {
  app_connection conn;
  byte_vector input = started(1, {{"SCRIPT_NAME", "/x"}, {"HTTP_HOST", "h"}});
  bytes_view rest = input;
  const app_event ev = conn.next_event(rest);
  ASSERT_EQ(ev.kind, app_event_kind::params_ready);
  std::fill(input.begin(), input.end(), std::byte{0});  // the caller reuses its read buffer
  EXPECT_EQ(fcgi_test::copy_pairs(ev.params),
            (pair_list{{"SCRIPT_NAME", "/x"}, {"HTTP_HOST", "h"}}));
  EXPECT_EQ(ev.params.find("HTTP_HOST"), std::optional<std::string_view>("h"));
}

TEST(app_connection, empty_params_spec_5_2) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({begin(1), rec(params_type, 1)})),
            (lines{"params_ready 1 RESPONDER keep_conn []"}));
}

TEST(app_connection, end_with_stderr_sends_empty_stderr_spec_6_1_C36) {
  app_connection conn;
  const request_key key = start(conn, 1);
  EXPECT_EQ(conn.write_stderr(key, as_bytes("warn")), errc{});
  EXPECT_EQ(conn.write_stdout(key, as_bytes("x")), errc{});
  EXPECT_EQ(conn.end_request(key, 7), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDERR 1 \"warn\"", "STDOUT 1 \"x\"", "STDOUT 1", "STDERR 1",
                   "END_REQUEST 1 app=7 REQUEST_COMPLETE"}));
}

TEST(app_connection, zero_byte_writes_queue_nothing_C36) {
  app_connection conn;
  const request_key key = start(conn, 1);
  EXPECT_EQ(conn.write_stdout(key, {}), errc{});
  EXPECT_EQ(conn.write_stderr(key, {}), errc{});
  EXPECT_EQ(conn.write_stdout_reference(key, {}), errc{});
  EXPECT_TRUE(conn.output().empty()) << "an empty record would end the stream early";
  EXPECT_EQ(conn.end_request(key, 0), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 1", "END_REQUEST 1 app=0 REQUEST_COMPLETE"}));
}

TEST(app_connection, large_write_is_split_into_aligned_records_C35) {
  app_connection conn;
  const request_key key = start(conn, 3);
  const std::string payload = fcgi_test::pattern(1024 * 1024);
  EXPECT_EQ(conn.write_stdout(key, as_bytes(payload)), errc{});
  EXPECT_EQ(conn.output().size(), stream_records_size(payload.size()));
  const byte_vector bytes = fcgi_test::drain(conn.output());
  std::string joined;
  for (const auto& r : fcgi_test::parse_records(bytes)) {
    EXPECT_EQ(r.type, stdout_type);
    EXPECT_EQ(r.id, 3);
    EXPECT_FALSE(r.content.empty());
    EXPECT_LE(r.content.size(), max_aligned_content_length);
    joined += r.content;
  }
  EXPECT_TRUE(joined == payload);
}

TEST(app_connection, write_stdout_reference_is_zero_copy) {
  app_settings settings;
  settings.reference_threshold = 1024;
  app_connection conn(settings);
  const request_key key = start(conn, 1);
  const std::string big = fcgi_test::pattern(4096);
  const std::string small = fcgi_test::pattern(100);
  ASSERT_EQ(conn.write_stdout_reference(key, as_bytes(big)), errc{});
  ASSERT_EQ(conn.write_stdout_reference(key, as_bytes(small)), errc{});
  std::vector<bytes_view> slices(16);
  const std::size_t filled = conn.output().gather(slices);
  const auto* big_first = as_bytes(big).data();
  const auto* small_first = as_bytes(small).data();
  std::size_t referenced = 0;
  for (std::size_t i = 0; i < filled; ++i) {
    const std::byte* p = slices[i].data();
    if (p >= big_first && p < big_first + big.size()) referenced += slices[i].size();
    EXPECT_FALSE(p >= small_first && p < small_first + small.size())
        << "bytes below the threshold must be copied";
  }
  EXPECT_EQ(referenced, big.size());
  EXPECT_EQ(output_records(conn.output()), (lines{"STDOUT 1 " + fcgi_test::in_quotes(big),
                                                  "STDOUT 1 " + fcgi_test::in_quotes(small)}));
}

TEST(app_connection, write_stdout_copies_even_above_threshold) {
  app_settings settings;
  settings.reference_threshold = 16;
  app_connection conn(settings);
  const request_key key = start(conn, 1);
  std::string text(1000, 'a');
  ASSERT_EQ(conn.write_stdout(key, as_bytes(text)), errc{});
  text.assign(1000, 'b');  // write_stdout promised a copy
  EXPECT_EQ(output_records(conn.output()), (lines{"STDOUT 1 \"" + std::string(1000, 'a') + "\""}));
}

// ---------------------------------------------------------------------------------------------
// §6.3 Authorizer, §6.4 Filter

TEST(app_connection, authorizer_flow_spec_6_3) {
  app_connection conn;
  const std::vector<app_record> events = feed_records(
      conn,
      concat({begin(2, 2, close_after), params(2, {{"REMOTE_USER", "bob"}}), rec(stdin_type, 2)}));
  EXPECT_EQ(fcgi_test::render(events),
            (lines{"params_ready 2 AUTHORIZER close [REMOTE_USER=bob]", "stdin_end 2"}));
  const request_key key = key_of(events, 2);
  EXPECT_EQ(conn.write_stdout(key, as_bytes("Status: 200\r\nVariable-AUTH_METHOD: db\r\n\r\n")),
            errc{});
  EXPECT_EQ(conn.end_request(key, 0), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 2 \"Status: 200\\x0d\\x0aVariable-AUTH_METHOD: db\\x0d\\x0a\\x0d\\x0a\"",
                   "STDOUT 2", "END_REQUEST 2 app=0 REQUEST_COMPLETE"}));
  EXPECT_TRUE(conn.wants_close());  // no KEEP_CONN
}

TEST(app_connection, filter_flow_spec_6_4) {
  app_connection conn;
  const byte_vector input =
      concat({begin(1, 3), params(1, {{"FCGI_DATA_LENGTH", "4"}, {"FCGI_DATA_LAST_MOD", "86400"}}),
              stdin_record(1, "q=1"), rec(stdin_type, 1), rec(data_type, 1, "file", 4),
              rec(data_type, 1)});
  EXPECT_EQ(feed(conn, input),
            (lines{"params_ready 1 FILTER keep_conn [FCGI_DATA_LENGTH=4;FCGI_DATA_LAST_MOD=86400]",
                   "stdin_chunk 1 \"q=1\"", "stdin_end 1", "data_chunk 1 \"file\"", "data_end 1"}));
}

TEST(app_connection, filter_output_before_stdin_end_spec_6_4) {
  app_connection conn;
  const request_key key = start(conn, 1, 3);
  // §6.4: "The application must wait to finish reading FCGI_STDIN before it begins writing".
  EXPECT_EQ(conn.write_stdout(key, as_bytes("x")), errc::output_before_input_ready);
  EXPECT_EQ(conn.write_stderr(key, as_bytes("x")), errc::output_before_input_ready);
  EXPECT_EQ(conn.write_stdout_reference(key, as_bytes("x")), errc::output_before_input_ready);
  EXPECT_EQ(feed(conn, stdin_record(1, "part")), (lines{"stdin_chunk 1 \"part\""}));
  EXPECT_EQ(conn.write_stdout(key, as_bytes("x")), errc::output_before_input_ready);
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(feed(conn, rec(stdin_type, 1)), (lines{"stdin_end 1"}));
  // "... but it needn't finish reading from FCGI_DATA before it begins writing".
  EXPECT_EQ(conn.write_stdout(key, as_bytes("out")), errc{});
  EXPECT_EQ(feed(conn, concat({rec(data_type, 1, "d", 7), rec(data_type, 1)})),
            (lines{"data_chunk 1 \"d\"", "data_end 1"}));
  EXPECT_EQ(conn.end_request(key, 0), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 1 \"out\"", "STDOUT 1", "END_REQUEST 1 app=0 REQUEST_COMPLETE"}));
}

TEST(app_connection, filter_data_after_its_end_is_ignored_spec_6_4) {
  app_connection conn;
  start(conn, 1, 3);
  EXPECT_EQ(feed(conn, concat({rec(stdin_type, 1), rec(data_type, 1)})),
            (lines{"stdin_end 1", "data_end 1"}));
  const std::uint64_t ignored = conn.stats().ignored_records;
  EXPECT_EQ(feed(conn, concat({rec(data_type, 1, "late"), rec(data_type, 1)})), lines{});
  EXPECT_EQ(conn.stats().ignored_records, ignored + 2);
  EXPECT_TRUE(conn.output().empty());
}

// ---------------------------------------------------------------------------------------------
// §3.3 request ids, §8 directions, §3.3 framing

TEST(app_connection, begin_request_on_null_id_closes_spec_3_3_A9) {
  app_connection conn;
  EXPECT_EQ(feed(conn, begin(0)),
            (lines{"connection_error begin_request_on_null_id close_connection id=0 @0"}));
  EXPECT_TRUE(conn.failed());
  EXPECT_TRUE(conn.wants_close());
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, begin_request_length_closes_spec_5_1_A8) {
  for (std::size_t length : {0U, 7U, 9U, 16U}) {
    app_connection conn;
    const byte_vector body(length, std::byte{0});
    EXPECT_EQ(feed(conn, concat({rec(begin_type, 1, body), begin(2)})),
              (lines{"connection_error begin_request_length close_connection id=1 @0"}))
        << length;
  }
}

TEST(app_connection, begin_for_active_id_closes_spec_3_3_A10) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({begin(1), begin(1)})),
            (lines{"connection_error request_id_already_active close_connection id=1 @16"}));
  app_connection started_conn;
  start(started_conn, 4);
  EXPECT_EQ(feed(started_conn, begin(4)),
            (lines{"connection_error request_id_already_active close_connection id=4 @" +
                   std::to_string(started(4).size())}));
}

TEST(app_connection, application_records_on_null_id_close_spec_3_3_A14) {
  for (std::uint8_t type :
       {params_type, stdin_type, data_type, abort_type, stdout_type, stderr_type, end_type}) {
    app_connection conn;
    const std::string content = type == end_type ? std::string(8, '\0') : std::string("x");
    EXPECT_EQ(feed(conn, rec(type, 0, content)),
              (lines{"connection_error application_record_on_null_id close_connection id=0 @0"}))
        << to_string(static_cast<record_type>(type));
  }
}

TEST(app_connection, records_for_inactive_id_are_ignored_spec_3_3_A15) {
  app_connection conn;
  const byte_vector input = concat(
      {rec(params_type, 5, fcgi_test::raw_pairs({{"REMOTE_USER", "admin"}})), rec(params_type, 5),
       stdin_record(5, "body"), rec(stdin_type, 5), rec(data_type, 5, "d"), rec(abort_type, 5),
       rec(stdout_type, 5, "o"), rec(stderr_type, 5, "e"), rec(end_type, 5, std::string(8, '\0'))});
  EXPECT_EQ(feed(conn, input), lines{});
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(conn.stats().ignored_records, 9U);
  EXPECT_EQ(conn.active_requests(), 0U);
  // Nothing was remembered for id 5: its request starts clean (HOSTILE C-44).
  EXPECT_EQ(feed(conn, started(5, {{"A", "1"}})),
            (lines{"params_ready 5 RESPONDER keep_conn [A=1]"}));
}

TEST(app_connection, response_records_for_active_id_close_spec_8) {
  for (std::uint8_t type : {stdout_type, stderr_type, end_type}) {
    app_connection conn;
    const byte_vector first = begin(1);
    const std::string content = type == end_type ? std::string(8, '\0') : std::string("x");
    EXPECT_EQ(feed(conn, concat({first, rec(type, 1, content)})),
              (lines{"connection_error record_type_wrong_direction close_connection id=1 @16"}))
        << int{type};
  }
}

TEST(app_connection, unsupported_version_closes_spec_3_3_A1) {
  for (std::uint8_t version : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{255}}) {
    app_connection conn;
    byte_vector bad = begin(1);
    bad[0] = static_cast<std::byte>(version);
    EXPECT_EQ(feed(conn, bad),
              (lines{"connection_error unsupported_version close_connection id=1 @0"}))
        << int{version};
  }
}

TEST(app_connection, unknown_type_on_null_id_answered_spec_4_2_A2) {
  for (unsigned type : {0U, 10U, 11U, 12U, 200U, 255U}) {
    app_connection conn;
    const byte_vector input =
        concat({rec(static_cast<std::uint8_t>(type), 0, std::string(11, 'u'), 5), started(1)});
    EXPECT_EQ(feed(conn, input), (lines{"params_ready 1 RESPONDER keep_conn [REQUEST_METHOD=GET]"}))
        << type;
    EXPECT_EQ(output_records(conn.output()), (lines{"UNKNOWN_TYPE 0 type=" + std::to_string(type)}))
        << type;
    EXPECT_FALSE(conn.failed());
  }
}

TEST(app_connection, unknown_type_on_request_id_skipped_spec_4_2_A3) {
  app_connection conn;
  start(conn, 1);
  const byte_vector input = concat({rec(12, 1, std::string(100, 'u'), 4),  // active id
                                    rec(0, 7, std::string(3, 'u'), 5),     // inactive id
                                    rec(255, 0xFFFF), stdin_record(1, "ok")});
  EXPECT_EQ(feed(conn, input), (lines{"stdin_chunk 1 \"ok\""}));
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(conn.stats().unknown_type_records, 3U);
}

TEST(app_connection, management_records_on_request_id_close_spec_4_1_B31) {
  for (std::uint8_t type : {get_values_type, get_values_result_type, unknown_type_type}) {
    app_connection conn;
    const std::string content = type == unknown_type_type ? std::string(8, '\0') : std::string();
    EXPECT_EQ(feed(conn, rec(type, 1, content)),
              (lines{"connection_error management_record_on_request_id close_connection id=1 @0"}))
        << int{type};
  }
}

TEST(app_connection, largest_record_is_skipped_exactly_spec_3_3_A4) {
  app_connection conn;
  // contentLength 65535 + paddingLength 255 on an unknown type: 65798 bytes in all.
  const byte_vector huge = rec(200, 1, std::string(65535, 'x'), 255);
  ASSERT_EQ(huge.size(), 65798U);
  EXPECT_EQ(feed(conn, concat({huge, started(1)})),
            (lines{"params_ready 1 RESPONDER keep_conn [REQUEST_METHOD=GET]"}));
  EXPECT_EQ(conn.stats().unknown_type_records, 1U);
}

TEST(app_connection, padding_bytes_are_ignored_spec_3_3_A5) {
  // raw_record pads with 0xEE: were padding read as content, these pairs would not decode.
  app_connection conn;
  const byte_vector block = fcgi_test::raw_pairs({{"A", "1"}});
  EXPECT_EQ(
      feed(conn, concat({begin(1), rec(params_type, 1, block, 255), rec(params_type, 1, "", 9),
                         rec(stdin_type, 1, "b", 200), rec(stdin_type, 1, "", 1)})),
      (lines{"params_ready 1 RESPONDER keep_conn [A=1]", "stdin_chunk 1 \"b\"", "stdin_end 1"}));
}

// ---------------------------------------------------------------------------------------------
// §4.1 GET_VALUES

byte_vector get_values(const std::vector<std::string>& names, std::uint8_t padding = 0) {
  pair_list pairs;
  for (const std::string& name : names) pairs.emplace_back(name, "");
  return rec(get_values_type, 0, fcgi_test::raw_pairs(pairs), padding);
}

TEST(app_connection, get_values_answers_from_settings_spec_4_1) {
  app_settings settings;
  settings.advertised_max_conns = 7;
  settings.advertised_max_reqs = 3;
  settings.multiplex = false;
  app_connection conn(settings);
  EXPECT_EQ(feed(conn, get_values({"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"})),
            lines{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"GET_VALUES_RESULT 0 [FCGI_MAX_CONNS=7;FCGI_MAX_REQS=3;FCGI_MPXS_CONNS=0]"}));
  EXPECT_EQ(conn.stats().get_values, 1U);
  EXPECT_FALSE(conn.failed());
}

TEST(app_connection, get_values_order_unknown_names_and_repeats_spec_4_1) {
  app_connection conn;  // defaults: 1024 connections, 256 requests, multiplexing on
  EXPECT_EQ(feed(conn, get_values({"FCGI_MPXS_CONNS", "FOO", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS",
                                   "fcgi_max_conns", "FCGI_MAX_CONNS", "FCGI_MAX_REQS"},
                                  3)),
            lines{});
  EXPECT_EQ(
      output_records(conn.output()),
      (lines{"GET_VALUES_RESULT 0 [FCGI_MPXS_CONNS=1;FCGI_MAX_REQS=256;FCGI_MAX_CONNS=1024]"}));
}

TEST(app_connection, get_values_empty_answer_is_still_a_record_spec_4_1) {
  app_connection conn;
  feed(conn, concat({get_values({"FOO"}), get_values({})}));
  EXPECT_EQ(output_records(conn.output()),
            (lines{"GET_VALUES_RESULT 0 []", "GET_VALUES_RESULT 0 []"}));
}

TEST(app_connection, get_values_answers_with_values_the_server_sent_ignored_spec_4_1) {
  // The query's values should be empty; a value sent anyway does not change the answer.
  app_settings settings;
  settings.advertised_max_reqs = 9;
  app_connection conn(settings);
  feed(conn, rec(get_values_type, 0, fcgi_test::raw_pairs({{"FCGI_MAX_REQS", "500"}})));
  EXPECT_EQ(output_records(conn.output()), (lines{"GET_VALUES_RESULT 0 [FCGI_MAX_REQS=9]"}));
}

TEST(app_connection, get_values_split_at_every_byte_spec_4_1) {
  const byte_vector input =
      concat({get_values({"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"}, 6), started(1)});
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    app_connection conn;
    EXPECT_EQ(fcgi_test::render(feed_records(conn, input, chunk)),
              (lines{"params_ready 1 RESPONDER keep_conn [REQUEST_METHOD=GET]"}))
        << chunk;
    EXPECT_EQ(
        output_records(conn.output()),
        (lines{"GET_VALUES_RESULT 0 [FCGI_MAX_CONNS=1024;FCGI_MAX_REQS=256;FCGI_MPXS_CONNS=1]"}))
        << chunk;
  }
}

TEST(app_connection, get_values_malformed_closes_spec_4_1) {
  app_connection conn;
  // nameLength 14, valueLength 0, but only 3 name bytes in the record.
  EXPECT_EQ(feed(conn, rec(get_values_type, 0, hex({0x0E, 0x00, 0x46, 0x43, 0x47}))),
            (lines{"connection_error truncated_pair close_connection id=0 @0"}));
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, get_values_with_many_names_is_bounded_B31) {
  std::vector<std::string> names;
  for (int i = 0; names.size() < 5000; ++i) names.push_back("NAME_" + std::to_string(i));
  names.insert(names.begin() + 2500, "FCGI_MAX_REQS");
  names.emplace_back("FCGI_MAX_REQS");
  const byte_vector input = get_values(names);
  ASSERT_LE(input.size(), 8U + 65535U);
  for (std::size_t chunk : {input.size(), std::size_t{1000}, std::size_t{7}}) {
    app_connection conn;
    EXPECT_EQ(feed_records(conn, input, chunk).size(), 0U);
    EXPECT_EQ(output_records(conn.output()), (lines{"GET_VALUES_RESULT 0 [FCGI_MAX_REQS=256]"}));
  }
}

// ---------------------------------------------------------------------------------------------
// §5.1 roles and KEEP_CONN

TEST(app_connection, unknown_role_rejected_spec_5_1_A11) {
  for (unsigned role_value : {0U, 4U, 0x0101U, 0xFFFFU}) {
    app_connection conn;
    EXPECT_EQ(feed(conn, begin(1, role_value)), (lines{"request_rejected 1 UNKNOWN_ROLE"}))
        << role_value;
    EXPECT_EQ(output_records(conn.output()), (lines{"END_REQUEST 1 app=0 UNKNOWN_ROLE"}));
    EXPECT_EQ(conn.active_requests(), 0U);
    EXPECT_EQ(conn.stats().requests_rejected, 1U);
    // The id stayed inactive: its PARAMS are ignored, and a new BEGIN is welcome.
    EXPECT_EQ(feed(conn, params(1, {{"A", "1"}})), lines{});
    EXPECT_EQ(conn.stats().ignored_records, 2U);
    EXPECT_EQ(feed(conn, started(1)),
              (lines{"params_ready 1 RESPONDER keep_conn [REQUEST_METHOD=GET]"}));
    EXPECT_FALSE(conn.failed());
  }
}

TEST(app_connection, accepted_roles_setting_spec_5_1) {
  app_settings settings;
  settings.accepted_roles = role_bit(role::responder);
  app_connection conn(settings);
  EXPECT_EQ(feed(conn, concat({begin(1, 2), begin(2, 3), begin(3, 1)})),
            (lines{"request_rejected 1 UNKNOWN_ROLE", "request_rejected 2 UNKNOWN_ROLE"}));
  EXPECT_EQ(output_records(conn.output()),
            (lines{"END_REQUEST 1 app=0 UNKNOWN_ROLE", "END_REQUEST 2 app=0 UNKNOWN_ROLE"}));
  EXPECT_EQ(conn.active_requests(), 1U);
}

TEST(app_connection, keep_conn_is_bit_zero_of_flags_spec_5_1) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({started(1, {}, 1, 0xFE), started(2, {}, 1, 0xFF)})),
            (lines{"params_ready 1 RESPONDER close []", "params_ready 2 RESPONDER keep_conn []"}));
}

TEST(app_connection, keep_conn_0_wants_close_after_the_request_spec_5_1) {
  app_connection conn;
  const request_key key = start(conn, 1, 1, close_after);
  EXPECT_FALSE(conn.wants_close());  // not while the request runs
  EXPECT_EQ(conn.end_request(key, 0), errc{});
  EXPECT_TRUE(conn.wants_close());
  EXPECT_FALSE(conn.failed());
}

TEST(app_connection, keep_conn_1_keeps_the_connection_spec_5_1) {
  app_connection conn;
  for (int round = 0; round < 3; ++round) {
    const request_key key = start(conn, 1, 1, keep);
    EXPECT_EQ(conn.end_request(key, 0), errc{});
    EXPECT_FALSE(conn.wants_close());
  }
}

TEST(app_connection, keep_conn_0_waits_for_other_requests_spec_5_1) {
  app_connection conn;
  const request_key closing = start(conn, 1, 1, close_after);
  const request_key kept = start(conn, 2, 1, keep);
  EXPECT_EQ(conn.end_request(closing, 0), errc{});
  EXPECT_FALSE(conn.wants_close()) << "request 2 is still active";
  EXPECT_EQ(conn.end_request(kept, 0), errc{});
  EXPECT_TRUE(conn.wants_close());
}

TEST(app_connection, keep_conn_0_rejected_request_wants_close_spec_5_1) {
  // §5.1: without KEEP_CONN "the application closes the connection after responding to this
  // request"; §5.5: a rejection is such a response (END_REQUEST{UNKNOWN_ROLE}).
  app_connection conn;
  EXPECT_EQ(feed(conn, begin(1, 9, close_after)), (lines{"request_rejected 1 UNKNOWN_ROLE"}));
  EXPECT_TRUE(conn.wants_close());
}

// ---------------------------------------------------------------------------------------------
// §5.4 ABORT_REQUEST

TEST(app_connection, abort_for_unknown_id_is_ignored_spec_5_4_A16) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({rec(abort_type, 3), rec(abort_type, 0xFFFF)})), lines{});
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(conn.stats().ignored_records, 2U);
}

TEST(app_connection, abort_right_after_begin_answers_at_once_spec_5_4) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({begin(1), rec(abort_type, 1)})), lines{});
  EXPECT_EQ(without_empty_stdout(output_records(conn.output())),
            (lines{"END_REQUEST 1 app=1 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.active_requests(), 0U);
}

TEST(app_connection, abort_during_params_answers_at_once_spec_5_4) {
  app_settings settings;
  settings.error_app_status = 77;
  app_connection conn(settings);
  const byte_vector partial =
      rec(params_type, 1, fcgi_test::raw_pairs({{"SCRIPT_FILENAME", "/x.php"}}));
  EXPECT_EQ(feed(conn, concat({begin(1), partial, rec(abort_type, 1)})), lines{})
      << "the runtime never saw this request: no event";
  EXPECT_EQ(without_empty_stdout(output_records(conn.output())),
            (lines{"END_REQUEST 1 app=77 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.active_requests(), 0U);
  // Its remaining records are for an inactive id now; the id can start again.
  EXPECT_EQ(feed(conn, rec(params_type, 1)), lines{});
  EXPECT_EQ(feed(conn, started(1, {{"B", "2"}})),
            (lines{"params_ready 1 RESPONDER keep_conn [B=2]"}));
}

TEST(app_connection, abort_after_params_ready_is_reported_once_spec_5_4_A17) {
  app_connection conn;
  const request_key key = start(conn, 1);
  EXPECT_EQ(feed(conn, rec(abort_type, 1)), (lines{"request_aborted 1"}));
  EXPECT_EQ(feed(conn, rec(abort_type, 1)), lines{});
  EXPECT_TRUE(conn.output().empty()) << "the application answers an abort, not the library";
  EXPECT_EQ(conn.active_requests(), 1U);
  EXPECT_EQ(conn.end_request(key, 3), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 1", "END_REQUEST 1 app=3 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.end_request(key, 3), errc::request_not_active);  // exactly one END_REQUEST
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, abort_during_stdin_spec_5_4) {
  app_connection conn;
  const std::vector<app_record> events = feed_records(
      conn,
      concat({started(1, {{"CONTENT_LENGTH", "10"}}), stdin_record(1, "ab"), rec(abort_type, 1)}));
  EXPECT_EQ(fcgi_test::render(events),
            (lines{"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=10]", "stdin_chunk 1 \"ab\"",
                   "request_aborted 1"}));
  EXPECT_EQ(events[2].request, events[0].request);
}

TEST(app_connection, abort_after_stdin_end_spec_5_4) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({started(1), rec(stdin_type, 1), rec(abort_type, 1)})),
            (lines{"params_ready 1 RESPONDER keep_conn [REQUEST_METHOD=GET]", "stdin_end 1",
                   "request_aborted 1"}));
}

TEST(app_connection, abort_after_end_request_is_ignored_spec_5_4) {
  app_connection conn;
  const request_key key = start(conn, 1);
  ASSERT_EQ(conn.end_request(key, 0), errc{});
  fcgi_test::drain(conn.output());
  EXPECT_EQ(feed(conn, rec(abort_type, 1)), lines{});
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, abort_before_start_without_keep_conn_wants_close_spec_5_4) {
  app_connection conn;
  feed(conn, concat({begin(1, 1, close_after), rec(abort_type, 1)}));
  EXPECT_TRUE(conn.wants_close());
}

// ---------------------------------------------------------------------------------------------
// §5.5 protocol statuses

TEST(app_connection, overloaded_past_max_requests_spec_5_5_A13) {
  app_settings settings;
  settings.max_requests = 2;
  app_connection conn(settings);
  EXPECT_EQ(feed(conn, concat({begin(1), begin(2), begin(3)})),
            (lines{"request_rejected 3 OVERLOADED"}));
  EXPECT_EQ(output_records(conn.output()), (lines{"END_REQUEST 3 app=0 OVERLOADED"}));
  EXPECT_EQ(conn.active_requests(), 2U);
  // Ending request 1 makes room again.
  const request_key first = key_of(feed_records(conn, params(1, {})), 1);
  ASSERT_EQ(conn.end_request(first, 0), errc{});
  fcgi_test::drain(conn.output());
  EXPECT_EQ(feed(conn, started(3, {})), (lines{"params_ready 3 RESPONDER keep_conn []"}));
}

TEST(app_connection, many_unfinished_begins_are_capped_A20) {
  app_connection conn;  // max_requests 256
  byte_vector input;
  for (unsigned id = 1; id <= 1000; ++id)
    fcgi_test::append(input, begin(static_cast<std::uint16_t>(id)));
  const std::vector<app_record> events = feed_records(conn, input);
  EXPECT_EQ(events.size(), 1000U - 256U);
  for (const app_record& r : events) {
    EXPECT_EQ(r.kind, app_event_kind::request_rejected);
    EXPECT_EQ(r.rejected_status, protocol_status::overloaded);
    EXPECT_GT(r.request.id, 256);
  }
  EXPECT_EQ(conn.active_requests(), 256U);
  EXPECT_EQ(conn.stats().requests_rejected, 1000U - 256U);
}

TEST(app_connection, cant_mpx_conn_without_multiplexing_spec_5_5_A12) {
  app_settings settings;
  settings.multiplex = false;
  app_connection conn(settings);
  const request_key first = start(conn, 1);
  EXPECT_EQ(feed(conn, begin(2)), (lines{"request_rejected 2 CANT_MPX_CONN"}));
  EXPECT_EQ(output_records(conn.output()), (lines{"END_REQUEST 2 app=0 CANT_MPX_CONN"}));
  ASSERT_EQ(conn.end_request(first, 0), errc{});
  fcgi_test::drain(conn.output());
  EXPECT_EQ(feed(conn, started(2, {})), (lines{"params_ready 2 RESPONDER keep_conn []"}));
}

TEST(app_connection, end_request_app_status_bytes_spec_5_5) {
  app_connection conn;
  const request_key key = start(conn, 0x0102);
  ASSERT_EQ(conn.end_request(key, 0x01020304), errc{});
  EXPECT_EQ(fcgi_test::drain(conn.output()),
            hex({0x01, 0x06, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,     // empty STDOUT, id 0x0102
                 0x01, 0x03, 0x01, 0x02, 0x00, 0x08, 0x00, 0x00,     // END_REQUEST, len 8
                 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00}));  // appStatus, COMPLETE
}

TEST(app_connection, reject_request_sends_the_status_spec_5_5) {
  for (protocol_status status : {protocol_status::overloaded, protocol_status::cant_mpx_conn,
                                 protocol_status::unknown_role}) {
    app_connection conn;
    const request_key key = start(conn, 1);
    EXPECT_EQ(conn.reject_request(key, status), errc{});
    const lines out = output_records(conn.output());
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().rfind("END_REQUEST 1 app=", 0), 0U) << out.back();
    EXPECT_NE(out.back().find(std::string(" ") + std::string(to_string(status))), std::string::npos)
        << out.back();
    EXPECT_EQ(conn.active_requests(), 0U);
    EXPECT_EQ(conn.write_stdout(key, as_bytes("x")), errc::request_not_active);
    EXPECT_EQ(conn.reject_request(key, status), errc::request_not_active);
  }
}

// ---------------------------------------------------------------------------------------------
// Request-level violations: the request ends, the connection carries on

struct request_error_case {
  const char* name;
  byte_vector input;  // after BEGIN(1): what breaks the request
  errc expected;
  std::size_t failing_offset;  // of the failing record's header, from the start of input
  lines events_before;         // reported before the failure
};

// The checks common to every request-level error: one request_failed, the END_REQUEST queued,
// the id inactive, the rest of the record skipped and the next request served.
void expect_request_error(const request_error_case& c, const app_settings& settings = {}) {
  SCOPED_TRACE(c.name);
  app_connection conn(settings);
  const byte_vector next = started(2, {{"NEXT", "yes"}});
  const byte_vector input = concat({c.input, next});
  lines expected = c.events_before;
  expected.push_back("request_failed 1 " + std::string(to_string(c.expected)) +
                     " end_request id=1 @" + std::to_string(c.failing_offset));
  expected.emplace_back("params_ready 2 RESPONDER keep_conn [NEXT=yes]");
  const std::vector<app_record> events = feed_records(conn, input);
  EXPECT_EQ(fcgi_test::render(events), expected);
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 1", "END_REQUEST 1 app=" + std::to_string(settings.error_app_status) +
                                   " REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.active_requests(), 1U);  // only request 2
  EXPECT_FALSE(conn.failed());
  EXPECT_EQ(conn.stats().requests_failed, 1U);
  // The same at every chunk size: the failure does not depend on how the bytes arrive.
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{13}}) {
    app_connection split(settings);
    EXPECT_EQ(fcgi_test::render(fcgi_test::coalesce(feed_records(split, input, chunk))),
              fcgi_test::render(fcgi_test::coalesce(events)))
        << "chunk " << chunk;
  }
}

TEST(app_connection, stdin_before_params_end_ends_request_spec_6_2_A18) {
  const byte_vector partial = rec(params_type, 1, fcgi_test::raw_pairs({{"A", "1"}}), 3);
  const byte_vector head = concat({begin(1), partial});
  // The handler never sees partial params: no params_ready.
  expect_request_error({"stdin",
                        concat({head, stdin_record(1, "x")}),
                        errc::stdin_before_params_end,
                        head.size(),
                        {}});
  expect_request_error({"empty stdin",
                        concat({head, rec(stdin_type, 1)}),
                        errc::stdin_before_params_end,
                        head.size(),
                        {}});
}

TEST(app_connection, params_after_params_end_ends_request_spec_3_3_A18) {
  const byte_vector head = started(1, {{"A", "1"}});
  expect_request_error(
      {"params again",
       concat({head, rec(params_type, 1, fcgi_test::raw_pairs({{"REMOTE_USER", "x"}}))}),
       errc::params_after_params_end,
       head.size(),
       {"params_ready 1 RESPONDER keep_conn [A=1]"}});
}

TEST(app_connection, data_before_stdin_end_ends_request_spec_6_4) {
  const byte_vector head = started(1, {{"A", "1"}}, 3);
  expect_request_error({"data",
                        concat({head, rec(data_type, 1, "d")}),
                        errc::data_before_stdin_end,
                        head.size(),
                        {"params_ready 1 FILTER keep_conn [A=1]"}});
}

TEST(app_connection, data_for_non_filter_ends_request_spec_6_4) {
  const byte_vector head = concat({started(1, {{"A", "1"}}), rec(stdin_type, 1)});
  expect_request_error({"data",
                        concat({head, rec(data_type, 1, "d")}),
                        errc::data_for_non_filter,
                        head.size(),
                        {"params_ready 1 RESPONDER keep_conn [A=1]", "stdin_end 1"}});
}

TEST(app_connection, stdin_longer_than_content_length_spec_6_2_B29) {
  const byte_vector head = started(1, {{"CONTENT_LENGTH", "3"}});
  // Detected at the header of the record that would exceed: none of its bytes are delivered.
  expect_request_error({"one record",
                        concat({head, stdin_record(1, "abcd")}),
                        errc::stdin_longer_than_content_length,
                        head.size(),
                        {"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=3]"}});
  const byte_vector first = concat({head, stdin_record(1, "ab")});
  expect_request_error(
      {"second record",
       concat({first, stdin_record(1, "cd")}),
       errc::stdin_longer_than_content_length,
       first.size(),
       {"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=3]", "stdin_chunk 1 \"ab\""}});
}

TEST(app_connection, stdin_shorter_than_content_length_spec_6_2_B29) {
  const byte_vector head = concat({started(1, {{"CONTENT_LENGTH", "5"}}), stdin_record(1, "abc")});
  expect_request_error(
      {"short",
       concat({head, rec(stdin_type, 1)}),
       errc::stdin_shorter_than_content_length,
       head.size(),
       {"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=5]", "stdin_chunk 1 \"abc\""}});
}

TEST(app_connection, stdin_matching_content_length_spec_6_2) {
  app_connection conn;
  EXPECT_EQ(feed(conn, concat({started(1, {{"CONTENT_LENGTH", "5"}}), stdin_record(1, "he"),
                               stdin_record(1, "llo"), rec(stdin_type, 1)})),
            (lines{"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=5]", "stdin_chunk 1 \"he\"",
                   "stdin_chunk 1 \"llo\"", "stdin_end 1"}));
  // Without CONTENT_LENGTH (or empty) any body length is accepted.
  app_connection open_length;
  EXPECT_EQ(feed(open_length, concat({started(1, {{"CONTENT_LENGTH", ""}}), stdin_record(1, "xyz"),
                                      rec(stdin_type, 1)})),
            (lines{"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=]", "stdin_chunk 1 \"xyz\"",
                   "stdin_end 1"}));
}

TEST(app_connection, request_ended_before_its_body_ignores_the_rest_spec_3_3) {
  // A responder may answer without reading the body; what still arrives for the ended id is
  // ignored, and a new request on the id starts clean.
  app_connection conn;
  const request_key key = start(conn, 1, 1, keep, {{"CONTENT_LENGTH", "6"}});
  ASSERT_EQ(conn.end_request(key, 0), errc{});
  fcgi_test::drain(conn.output());
  EXPECT_EQ(
      feed(conn, concat({stdin_record(1, "abc"), stdin_record(1, "def"), rec(stdin_type, 1)})),
      lines{});
  EXPECT_EQ(conn.stats().ignored_records, 3U);
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(
      feed(conn, concat({started(1, {}), stdin_record(1, "new"), rec(stdin_type, 1)})),
      (lines{"params_ready 1 RESPONDER keep_conn []", "stdin_chunk 1 \"new\"", "stdin_end 1"}));
}

TEST(app_connection, stdin_after_its_end_is_ignored_A19) {
  app_connection conn;
  feed(conn, concat({started(1), rec(stdin_type, 1)}));
  EXPECT_EQ(feed(conn, concat({stdin_record(1, "late"), rec(stdin_type, 1)})), lines{});
  EXPECT_EQ(conn.stats().ignored_records, 2U);
  EXPECT_TRUE(conn.output().empty());
  EXPECT_FALSE(conn.failed());
}

TEST(app_connection, params_errors_end_the_request_spec_5_2_B27_B28_B29) {
  struct params_case {
    const char* name;
    byte_vector block;
    errc expected;
  };
  const std::vector<params_case> cases = {
      {"empty name", fcgi_test::raw_pairs({{"A", "1"}, {"", "x"}}), errc::empty_param_name},
      {"nul in name", fcgi_test::raw_pairs({{std::string("PATH\0INFO", 9), "x"}}),
       errc::nul_in_param_name},
      {"duplicate", fcgi_test::raw_pairs({{"SCRIPT_FILENAME", "/a"}, {"SCRIPT_FILENAME", "/b"}}),
       errc::duplicate_param},
      {"content length", fcgi_test::raw_pairs({{"CONTENT_LENGTH", "1e3"}}),
       errc::invalid_content_length},
      {"content length -1", fcgi_test::raw_pairs({{"CONTENT_LENGTH", "-1"}}),
       errc::invalid_content_length},
      {"huge length", hex({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
       errc::params_too_large},
  };
  for (const params_case& c : cases) {
    // Detected while the PARAMS record is read: the failing offset is that record's header.
    expect_request_error({c.name,
                          concat({begin(1), rec(params_type, 1, c.block), rec(params_type, 1)}),
                          c.expected,
                          16,
                          {}});
  }
  // A pair cut short by the end of the stream is known only at the empty PARAMS.
  const byte_vector cut = concat({begin(1), rec(params_type, 1, hex({0x03, 0x05, 0x61, 0x62}))});
  expect_request_error(
      {"truncated", concat({cut, rec(params_type, 1)}), errc::truncated_pair, cut.size(), {}});
}

TEST(app_connection, params_leniencies_are_settings_B28_B29) {
  app_settings settings;
  settings.params.allow_duplicate_names = true;
  settings.params.accept_minus_one_content_length = true;
  app_connection conn(settings);
  EXPECT_EQ(feed(conn, started(1, {{"CONTENT_LENGTH", "-1"}, {"HTTPS", "on"}, {"HTTPS", "off"}})),
            (lines{"params_ready 1 RESPONDER keep_conn [CONTENT_LENGTH=-1;HTTPS=on;HTTPS=off]"}));
  // Length unknown: any body is accepted.
  EXPECT_EQ(feed(conn, concat({stdin_record(1, "abc"), rec(stdin_type, 1)})),
            (lines{"stdin_chunk 1 \"abc\"", "stdin_end 1"}));
}

TEST(app_connection, nul_in_param_value_is_kept_B27) {
  app_connection conn;
  const std::string value("/index.php\0.jpg", 15);
  const std::vector<app_record> events =
      feed_records(conn, started(1, {{"SCRIPT_FILENAME", value}}));
  ASSERT_EQ(events.size(), 1U);
  ASSERT_EQ(events[0].params.size(), 1U);
  EXPECT_EQ(events[0].params[0].second.size(), 15U);
  EXPECT_TRUE(events[0].params[0].second == value);
}

TEST(app_connection, pair_straddling_params_records_B23) {
  const byte_vector block = fcgi_test::raw_pairs(
      {{"QUERY_STRING", "a=1&b=2"}, {std::string(128, 'N'), std::string(300, 'v')}});
  for (std::size_t cut = 1; cut < block.size(); ++cut) {
    app_connection conn;
    const byte_vector input =
        concat({begin(1),
                rec(params_type, 1,
                    byte_vector(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(cut))),
                rec(params_type, 1,
                    byte_vector(block.begin() + static_cast<std::ptrdiff_t>(cut), block.end())),
                rec(params_type, 1)});
    const std::vector<app_record> events = feed_records(conn, input);
    ASSERT_EQ(events.size(), 1U) << cut;
    EXPECT_EQ(events[0].params, (pair_list{{"QUERY_STRING", "a=1&b=2"},
                                           {std::string(128, 'N'), std::string(300, 'v')}}))
        << cut;
  }
}

TEST(app_connection, too_many_params_B26) {
  app_settings settings;
  settings.params.max_count = 3;
  expect_request_error(
      {"count",
       concat(
           {begin(1),
            rec(params_type, 1, fcgi_test::raw_pairs({{"A", ""}, {"B", ""}, {"C", ""}, {"D", ""}})),
            rec(params_type, 1)}),
       errc::too_many_params,
       16,
       {}},
      settings);
}

TEST(app_connection, hundred_thousand_tiny_params_B26) {
  // 100k pairs "Xn" = "" over many PARAMS records: the default count cap ends the request in
  // the first record; the rest are for an inactive id and ignored.
  byte_vector block;
  for (int i = 0; i < 100000; ++i)
    fcgi_test::append(block, fcgi_test::raw_pair("X" + std::to_string(i % 10), ""));
  byte_vector input = begin(1);
  std::size_t records = 0;
  for (std::size_t at = 0; at < block.size(); at += max_aligned_content_length) {
    const std::size_t n = std::min(max_aligned_content_length, block.size() - at);
    fcgi_test::append(input, rec(params_type, 1,
                                 byte_vector(block.begin() + static_cast<std::ptrdiff_t>(at),
                                             block.begin() + static_cast<std::ptrdiff_t>(at + n))));
    ++records;
  }
  fcgi_test::append(input, rec(params_type, 1));
  app_connection conn;
  EXPECT_EQ(feed(conn, input), (lines{"request_failed 1 too_many_params end_request id=1 @16"}));
  EXPECT_EQ(conn.stats().ignored_records, records);  // the later PARAMS and the empty one
}

TEST(app_connection, params_too_large_at_record_header_B25) {
  app_settings settings;
  settings.params.max_bytes = 100;
  // After the first record the stream holds 96 bytes; a second record of 9 would take it to
  // 105: it fails at its header, before any of its content is stored.
  const byte_vector pair96 = fcgi_test::raw_pair("N", std::string(93, 'v'));
  ASSERT_EQ(pair96.size(), 96U);
  const byte_vector first = concat({begin(1), rec(params_type, 1, pair96)});
  expect_request_error({"second record",
                        concat({first, rec(params_type, 1, fcgi_test::raw_pair("A", "123456"))}),
                        errc::params_too_large,
                        first.size(),
                        {}},
                       settings);
  // Exactly at the limit is fine: 96 + 4 = 100.
  app_connection conn(settings);
  EXPECT_EQ(feed(conn, concat({first, rec(params_type, 1, fcgi_test::raw_pair("A", "1")),
                               rec(params_type, 1)})),
            (lines{"params_ready 1 RESPONDER keep_conn [N=" + std::string(93, 'v') + ";A=1]"}));
}

TEST(app_connection, params_of_a_gigabyte_rejected_at_the_cap_B25) {
  // 16k records of 64 KiB would be 1 GiB. Pairs of 8191 bytes (1 + 4 + 5 + 8181) tile full
  // records of 65528 = 8 * 8191 exactly, so no pair crosses the 128 KiB cap inside a record:
  // the third record passes it and fails at its header.
  byte_vector block;
  for (int i = 0; i < 24; ++i) {
    const std::string name = "P" + std::string(i < 10 ? "000" : "00") + std::to_string(i);
    fcgi_test::append(block, fcgi_test::raw_pair(name, std::string(8181, 'v')));
  }
  ASSERT_EQ(block.size(), 3 * max_aligned_content_length);
  byte_vector input = begin(1);
  for (std::size_t record = 0; record < 3; ++record) {
    const auto from =
        block.begin() + static_cast<std::ptrdiff_t>(record * max_aligned_content_length);
    fcgi_test::append(
        input,
        rec(params_type, 1,
            byte_vector(from, from + static_cast<std::ptrdiff_t>(max_aligned_content_length))));
  }
  app_connection conn;
  EXPECT_EQ(feed(conn, input), (lines{"request_failed 1 params_too_large end_request id=1 @" +
                                      std::to_string(16 + 2 * (8 + max_aligned_content_length))}));
}

TEST(app_connection, error_app_status_setting_spec_5_5) {
  app_settings settings;
  settings.error_app_status = 500;
  const byte_vector head =
      concat({begin(1), rec(params_type, 1, fcgi_test::raw_pairs({{"A", "1"}}))});
  expect_request_error({"custom status",
                        concat({head, stdin_record(1, "x")}),
                        errc::stdin_before_params_end,
                        head.size(),
                        {}},
                       settings);
}

TEST(app_connection, failure_after_stderr_sends_empty_stderr_spec_6_1) {
  app_connection conn;
  const request_key key = start(conn, 1, 1, keep, {{"CONTENT_LENGTH", "1"}});
  ASSERT_EQ(conn.write_stderr(key, as_bytes("oops")), errc{});
  const std::vector<app_record> events = feed_records(conn, stdin_record(1, "too long"));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, app_event_kind::request_failed);
  EXPECT_EQ(events[0].request, key);
  EXPECT_EQ(events[0].error.action, error_action::end_request);
  EXPECT_EQ(output_records(conn.output()), (lines{"STDERR 1 \"oops\"", "STDOUT 1", "STDERR 1",
                                                  "END_REQUEST 1 app=1 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.write_stdout(key, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.end_request(key, 0), errc::request_not_active);
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, failed_request_without_keep_conn_wants_close_spec_5_1) {
  app_connection conn;
  feed(conn,
       concat({begin(1, 1, close_after), rec(params_type, 1, fcgi_test::raw_pairs({{"", "x"}}))}));
  EXPECT_TRUE(conn.wants_close());
  EXPECT_FALSE(conn.failed());
}

// ---------------------------------------------------------------------------------------------
// Output after the end: request_not_active, zero bytes (HOSTILE C-34)

TEST(app_connection, write_after_end_request_fails_C34) {
  app_connection conn;
  const request_key key = start(conn, 1);
  ASSERT_EQ(conn.end_request(key, 0), errc{});
  fcgi_test::drain(conn.output());
  EXPECT_EQ(conn.write_stdout(key, as_bytes("late")), errc::request_not_active);
  EXPECT_EQ(conn.write_stderr(key, as_bytes("late")), errc::request_not_active);
  const std::string big(100000, 'b');
  EXPECT_EQ(conn.write_stdout_reference(key, as_bytes(big)), errc::request_not_active);
  EXPECT_EQ(conn.write_stdout(key, {}), errc::request_not_active);
  EXPECT_EQ(conn.end_request(key, 0), errc::request_not_active);
  EXPECT_EQ(conn.reject_request(key, protocol_status::overloaded), errc::request_not_active);
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, write_with_key_of_reused_id_fails_spec_3_3_C34) {
  app_connection conn;
  const request_key old_key = start(conn, 1);
  ASSERT_EQ(conn.end_request(old_key, 0), errc{});
  fcgi_test::drain(conn.output());
  const request_key new_key = start(conn, 1);
  EXPECT_EQ(new_key.id, old_key.id);
  EXPECT_NE(new_key.generation, old_key.generation) << "the generation must change on reuse";
  EXPECT_FALSE(new_key == old_key);
  EXPECT_EQ(conn.write_stdout(old_key, as_bytes("for the old request")), errc::request_not_active);
  EXPECT_EQ(conn.write_stderr(old_key, as_bytes("for the old request")), errc::request_not_active);
  EXPECT_EQ(conn.end_request(old_key, 9), errc::request_not_active);
  EXPECT_TRUE(conn.output().empty()) << "zero bytes for the successor";
  EXPECT_EQ(conn.write_stdout(new_key, as_bytes("mine")), errc{});
  EXPECT_EQ(output_records(conn.output()), (lines{"STDOUT 1 \"mine\""}));
}

TEST(app_connection, unknown_keys_are_not_active) {
  app_connection conn;
  EXPECT_EQ(conn.write_stdout({}, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.write_stdout({1, 0}, as_bytes("x")), errc::request_not_active);
  const request_key key = start(conn, 1);
  EXPECT_EQ(conn.write_stdout({2, key.generation}, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.write_stdout({1, key.generation + 1}, as_bytes("x")), errc::request_not_active);
  EXPECT_TRUE(conn.output().empty());
}

TEST(app_connection, request_keys_are_distinct_spec_3_3) {
  app_connection conn;
  std::vector<request_key> keys;
  for (int round = 0; round < 5; ++round) {
    for (std::uint16_t id : {std::uint16_t{1}, std::uint16_t{2}}) keys.push_back(start(conn, id));
    for (std::size_t i = keys.size() - 2; i < keys.size(); ++i)
      ASSERT_EQ(conn.end_request(keys[i], 0), errc{});
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = i + 1; j < keys.size(); ++j)
      EXPECT_FALSE(keys[i] == keys[j]) << i << "," << j;
  }
}

// ---------------------------------------------------------------------------------------------
// Multiplexing (§3.3): three requests interleaved record by record

byte_vector interleaved_three_requests() {
  const byte_vector p1 = fcgi_test::raw_pairs({{"SCRIPT_NAME", "/one"}, {"CONTENT_LENGTH", "4"}});
  const byte_vector p2 = fcgi_test::raw_pairs({{"SCRIPT_NAME", "/two"}});
  const auto half = [](const byte_vector& v, bool first) {
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    return first ? byte_vector(v.begin(), mid) : byte_vector(mid, v.end());
  };
  return concat({begin(1),
                 begin(2),
                 begin(3, 3),
                 rec(params_type, 2, half(p2, true)),
                 rec(params_type, 1, half(p1, true), 1),
                 params(3, {{"SCRIPT_NAME", "/three"}}),
                 rec(params_type, 1, half(p1, false), 2),
                 rec(params_type, 1),
                 stdin_record(3, "c1"),
                 rec(params_type, 2, half(p2, false)),
                 rec(params_type, 2),
                 stdin_record(1, "a1"),
                 stdin_record(2, "b1"),
                 stdin_record(3, "c2"),
                 stdin_record(1, "a2"),
                 rec(stdin_type, 1),
                 stdin_record(2, "b2"),
                 rec(stdin_type, 3),
                 rec(data_type, 3, "d3"),
                 rec(stdin_type, 2),
                 rec(data_type, 3)});
}

const lines& interleaved_transcript() {
  static const lines expected = {
      "params_ready 3 FILTER keep_conn [SCRIPT_NAME=/three]",
      "params_ready 1 RESPONDER keep_conn [SCRIPT_NAME=/one;CONTENT_LENGTH=4]",
      "stdin_chunk 3 \"c1\"",
      "params_ready 2 RESPONDER keep_conn [SCRIPT_NAME=/two]",
      "stdin_chunk 1 \"a1\"",
      "stdin_chunk 2 \"b1\"",
      "stdin_chunk 3 \"c2\"",
      "stdin_chunk 1 \"a2\"",
      "stdin_end 1",
      "stdin_chunk 2 \"b2\"",
      "stdin_end 3",
      "data_chunk 3 \"d3\"",
      "stdin_end 2",
      "data_end 3",
  };
  return expected;
}

TEST(app_connection, multiplexed_interleaving_of_three_requests_spec_3_3) {
  app_connection conn;
  const std::vector<app_record> events = feed_records(conn, interleaved_three_requests());
  EXPECT_EQ(fcgi_test::render(events), interleaved_transcript());
  // Every event of an id carries that id's key, and the keys differ.
  const request_key k1 = key_of(events, 1);
  const request_key k2 = key_of(events, 2);
  const request_key k3 = key_of(events, 3);
  EXPECT_FALSE(k1 == k2);
  EXPECT_FALSE(k2 == k3);
  EXPECT_FALSE(k1 == k3);
  for (const app_record& r : events) {
    const request_key expected = r.request.id == 1 ? k1 : r.request.id == 2 ? k2 : k3;
    EXPECT_EQ(r.request, expected) << fcgi_test::render(r);
  }
  // Answers go out in the order they are written, each under its own id.
  EXPECT_EQ(conn.write_stdout(k2, as_bytes("to two")), errc{});
  EXPECT_EQ(conn.write_stdout(k3, as_bytes("to three")), errc{});
  EXPECT_EQ(conn.write_stderr(k1, as_bytes("to one")), errc{});
  EXPECT_EQ(conn.end_request(k3, 3), errc{});
  EXPECT_EQ(conn.end_request(k1, 1), errc{});
  EXPECT_EQ(conn.end_request(k2, 2), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"STDOUT 2 \"to two\"", "STDOUT 3 \"to three\"", "STDERR 1 \"to one\"",
                   "STDOUT 3", "END_REQUEST 3 app=3 REQUEST_COMPLETE", "STDOUT 1", "STDERR 1",
                   "END_REQUEST 1 app=1 REQUEST_COMPLETE", "STDOUT 2",
                   "END_REQUEST 2 app=2 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.active_requests(), 0U);
}

TEST(app_connection, multiplexed_interleaving_at_every_chunk_size_A6_A7) {
  const byte_vector input = interleaved_three_requests();
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    app_connection conn;
    ASSERT_EQ(fcgi_test::render(fcgi_test::coalesce(feed_records(conn, input, chunk))),
              interleaved_transcript())
        << "chunk size " << chunk;
  }
}

TEST(app_connection, multiplexed_interleaving_split_at_every_offset_A6) {
  const byte_vector input = interleaved_three_requests();
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    app_connection conn;
    std::vector<app_record> events = feed_records(conn, bytes_view(input).first(cut));
    for (app_record& r : feed_records(conn, bytes_view(input).subspan(cut)))
      events.push_back(std::move(r));
    ASSERT_EQ(fcgi_test::render(fcgi_test::coalesce(events)), interleaved_transcript())
        << "cut at " << cut;
  }
}

// ---------------------------------------------------------------------------------------------
// Connection-wide accounting

TEST(app_connection, stats_count_every_kind_of_record) {
  app_settings settings;
  settings.max_requests = 2;
  app_connection conn(settings);
  const byte_vector input = concat({
      started(1),                     // 3 records, started 1
      begin(2, 7),                    // rejected (unknown role)
      rec(params_type, 2, "x"),       // ignored: id 2 inactive
      rec(12, 1, "u"),                // unknown type on id 1
      rec(12, 0, "u"),                // unknown type on id 0: answered
      get_values({"FCGI_MAX_REQS"}),  // get_values
      begin(3), rec(stdin_type, 3),   // started 2, then failed
  });
  feed(conn, input);
  const app_connection_stats& s = conn.stats();
  EXPECT_EQ(s.records, 10U);
  EXPECT_EQ(s.ignored_records, 1U);
  EXPECT_EQ(s.unknown_type_records, 1U);
  EXPECT_EQ(s.requests_started, 2U);
  EXPECT_EQ(s.requests_rejected, 1U);
  EXPECT_EQ(s.requests_failed, 1U);
  EXPECT_EQ(s.get_values, 1U);
}

TEST(app_connection, connection_params_budget_across_requests) {
  app_settings settings;
  settings.max_connection_params_bytes = 200;
  settings.params.max_bytes = 150;
  app_connection conn(settings);
  const auto block = [](char name) {
    return fcgi_test::raw_pair(std::string(1, name), std::string(117, 'v'));
  };
  ASSERT_EQ(block('A').size(), 120U);
  // Request 1 holds 120 bytes of params while it runs.
  const request_key first = key_of(
      feed_records(conn, concat({begin(1), rec(params_type, 1, block('A')), rec(params_type, 1)})),
      1);
  // Request 2 would bring the connection to 240 > 200.
  const byte_vector second_head = begin(2);
  // Offsets: BEGIN 16 + PARAMS 8 + 120 + empty PARAMS 8 = 152, then BEGIN 16: 168.
  EXPECT_EQ(feed(conn, concat({second_head, rec(params_type, 2, block('B'))})),
            (lines{"request_failed 2 params_too_large end_request id=2 @168"}));
  fcgi_test::drain(conn.output());
  // Once request 1 ends its bytes are free again.
  ASSERT_EQ(conn.end_request(first, 0), errc{});
  EXPECT_EQ(feed(conn, concat({begin(3), rec(params_type, 3, block('C')), rec(params_type, 3)})),
            (lines{"params_ready 3 RESPONDER keep_conn [C=" + std::string(117, 'v') + "]"}));
}

// ---------------------------------------------------------------------------------------------
// Connection errors are sticky and carry the offset of the failing header

TEST(app_connection, connection_error_is_sticky) {
  app_connection conn;
  byte_vector bad = rec(params_type, 0, "x");
  const lines expected = {
      "connection_error application_record_on_null_id close_connection id=0 @0"};
  EXPECT_EQ(feed(conn, bad), expected);
  // Every later call repeats it, whatever the input.
  const byte_vector good = started(1);
  EXPECT_EQ(feed(conn, good), expected);
  bytes_view nothing;
  EXPECT_EQ(conn.next_event(nothing).kind, app_event_kind::connection_error);
  EXPECT_EQ(conn.next_event(nothing).error.code, errc::application_record_on_null_id);
  EXPECT_TRUE(conn.failed());
  EXPECT_TRUE(conn.wants_close());
  EXPECT_EQ(conn.active_requests(), 0U);
}

TEST(app_connection, error_offset_is_the_failing_header) {
  const byte_vector head = concat({started(1, {{"A", "1"}}), stdin_record(1, "body"),
                                   get_values({"FCGI_MAX_REQS"}, 2), rec(200, 0, "?", 7)});
  byte_vector bad = rec(stdin_type, 1, "x");
  bad[0] = std::byte{2};
  const byte_vector input = concat({head, bad});
  const lines expected = {
      "params_ready 1 RESPONDER keep_conn [A=1]", "stdin_chunk 1 \"body\"",
      "connection_error unsupported_version close_connection id=1 @" + std::to_string(head.size())};
  for (std::size_t chunk : {input.size(), std::size_t{1}, std::size_t{5}, std::size_t{9}}) {
    app_connection conn;
    EXPECT_EQ(fcgi_test::render(fcgi_test::coalesce(feed_records(conn, input, chunk))), expected)
        << chunk;
  }
}

TEST(app_connection, event_kind_names) {
  EXPECT_EQ(to_string(app_event_kind::need_more), "need_more");
  EXPECT_EQ(to_string(app_event_kind::params_ready), "params_ready");
  EXPECT_EQ(to_string(app_event_kind::stdin_chunk), "stdin_chunk");
  EXPECT_EQ(to_string(app_event_kind::stdin_end), "stdin_end");
  EXPECT_EQ(to_string(app_event_kind::data_chunk), "data_chunk");
  EXPECT_EQ(to_string(app_event_kind::data_end), "data_end");
  EXPECT_EQ(to_string(app_event_kind::request_aborted), "request_aborted");
  EXPECT_EQ(to_string(app_event_kind::request_failed), "request_failed");
  EXPECT_EQ(to_string(app_event_kind::request_rejected), "request_rejected");
  EXPECT_EQ(to_string(app_event_kind::connection_error), "connection_error");
  EXPECT_EQ(to_string(static_cast<app_event_kind>(200)), "unknown");
}

TEST(app_connection, settings_are_kept) {
  app_settings settings;
  settings.max_requests = 5;
  settings.error_app_status = 42;
  const app_connection conn(settings);
  EXPECT_EQ(conn.settings().max_requests, 5U);
  EXPECT_EQ(conn.settings().error_app_status, 42U);
  EXPECT_FALSE(conn.wants_close());
  EXPECT_FALSE(conn.failed());
  EXPECT_EQ(conn.active_requests(), 0U);
}

}  // namespace
}  // namespace fcgi::protocol
