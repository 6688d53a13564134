// client_connection: the web-server side of a connection, one behaviour per test.
//
// What the client encodes is checked as golden bytes or as transcripts of records decoded by
// the independent parser of test_util.hpp; what it decodes is fed as records built byte by byte
// from the spec. Case numbers D-nn refer to /work/shared/HOSTILE.md.
#include <fcgi/protocol/client_connection.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transcript.hpp"

namespace fcgi::protocol {
namespace {

using fcgi_test::byte_vector;
using fcgi_test::client_record;
using fcgi_test::concat;
using fcgi_test::feed;
using fcgi_test::feed_records;
using fcgi_test::hex;
using fcgi_test::lines;
using fcgi_test::output_records;

using namespace fcgi_test::spec_types;  // NOLINT(google-build-using-namespace)

byte_vector rec(std::uint8_t type, std::uint16_t id, std::string_view content = {},
                std::uint8_t padding = 0) {
  return fcgi_test::raw_record(type, id, as_bytes(content), padding);
}

byte_vector rec(std::uint8_t type, std::uint16_t id, const byte_vector& content,
                std::uint8_t padding = 0) {
  return fcgi_test::raw_record(type, id, content, padding);
}

/// §5.5 END_REQUEST: appStatusB3..B0, protocolStatus, reserved[3].
byte_vector end_request(std::uint16_t id, std::uint32_t app_status, unsigned status = 0) {
  return rec(end_type, id,
             hex({app_status >> 24, (app_status >> 16) & 0xff, (app_status >> 8) & 0xff,
                  app_status & 0xff, status, 0, 0, 0}));
}

/// Starts a request and drops the bytes it queued.
request_key begin(client_connection& conn, role r = role::responder, bool keep_conn = true) {
  const result<request_key> key = conn.begin_request(r, keep_conn);
  EXPECT_TRUE(key.has_value()) << to_string(key.error());
  conn.output().clear();
  return key.has_value() ? *key : request_key{};
}

client_settings with_max_requests(std::uint32_t n) {
  client_settings settings;
  settings.max_requests = n;
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Requests out

TEST(client_connection, begin_request_encodes_begin_spec_5_1) {
  client_connection conn;
  const result<request_key> key = conn.begin_request(role::responder, true);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->id, 1);
  EXPECT_EQ(conn.active_requests(), 1U);
  EXPECT_EQ(conn.stats().requests_started, 1U);
  EXPECT_EQ(fcgi_test::drain(conn.output()),
            hex({0x01, 0x01, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00,     // BEGIN_REQUEST id 1 len 8
                 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}));  // RESPONDER, KEEP_CONN
}

TEST(client_connection, begin_request_roles_and_flags_spec_5_1) {
  client_connection conn(with_max_requests(3));
  ASSERT_TRUE(conn.begin_request(role::authorizer, false).has_value());
  ASSERT_TRUE(conn.begin_request(role::filter, true).has_value());
  EXPECT_EQ(output_records(conn.output()),
            (lines{"BEGIN_REQUEST 1 role=2 flags=0", "BEGIN_REQUEST 2 role=3 flags=1"}));
}

TEST(client_connection, lowest_free_id_spec_3_3_D53) {
  client_connection conn(with_max_requests(3));
  const request_key k1 = begin(conn);
  const request_key k2 = begin(conn);
  const request_key k3 = begin(conn);
  EXPECT_EQ(k1.id, 1);
  EXPECT_EQ(k2.id, 2);
  EXPECT_EQ(k3.id, 3);
  EXPECT_EQ(feed(conn, end_request(2, 0)), (lines{"request_ended 2 app=0 REQUEST_COMPLETE"}));
  EXPECT_EQ(begin(conn).id, 2);
  EXPECT_EQ(
      feed(conn, concat({end_request(3, 0), end_request(1, 0)})),
      (lines{"request_ended 3 app=0 REQUEST_COMPLETE", "request_ended 1 app=0 REQUEST_COMPLETE"}));
  EXPECT_EQ(begin(conn).id, 1);
  EXPECT_EQ(begin(conn).id, 3);
}

TEST(client_connection, too_many_active_requests) {
  client_connection conn;  // max_requests 1
  begin(conn);
  const result<request_key> second = conn.begin_request(role::responder, true);
  EXPECT_FALSE(second.has_value());
  EXPECT_EQ(second.error(), errc::too_many_active_requests);
  EXPECT_TRUE(conn.output().empty()) << "nothing is queued for a refused request";
  EXPECT_EQ(conn.active_requests(), 1U);

  client_connection three(with_max_requests(3));
  for (int i = 0; i < 3; ++i) begin(three);
  EXPECT_EQ(three.begin_request(role::filter, true).error(), errc::too_many_active_requests);
}

TEST(client_connection, ids_never_collide_over_many_requests_D53) {
  client_connection conn(with_max_requests(4));
  std::vector<request_key> active;
  for (int i = 0; i < 70000; ++i) {
    if (active.size() == 4) {
      const request_key done = active[static_cast<std::size_t>(i) % 4];
      ASSERT_EQ(feed(conn, end_request(done.id, 0)).size(), 1U);
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) % 4));
    }
    const request_key key = begin(conn);
    for (const request_key& other : active) ASSERT_NE(key.id, other.id);
    ASSERT_GE(key.id, 1);
    ASSERT_LE(key.id, 4);
    active.push_back(key);
  }
}

TEST(client_connection, generation_changes_on_id_reuse_spec_3_3) {
  client_connection conn;
  const request_key old_key = begin(conn);
  feed(conn, end_request(1, 0));
  const request_key new_key = begin(conn);
  EXPECT_EQ(new_key.id, old_key.id);
  EXPECT_NE(new_key.generation, old_key.generation);
  EXPECT_EQ(conn.end_params(old_key), errc::request_not_active);
  EXPECT_EQ(conn.send_stdin(old_key, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.abort_request(old_key), errc::request_not_active);
  EXPECT_TRUE(conn.output().empty());
  EXPECT_EQ(conn.end_params(new_key), errc{});
}

TEST(client_connection, send_params_golden_spec_3_4_5_2) {
  client_connection conn;
  const request_key key = begin(conn);
  const std::vector<param> pairs = {{"A", "1"}};
  ASSERT_EQ(conn.send_params(key, pairs), errc{});
  ASSERT_EQ(conn.end_params(key), errc{});
  EXPECT_EQ(fcgi_test::drain(conn.output()),
            hex({0x01, 0x04, 0x00, 0x01, 0x00, 0x04, 0x04, 0x00,     // PARAMS id 1, len 4, pad 4
                 0x01, 0x01, 0x41, 0x31,                             // 1, 1, "A", "1"
                 0x00, 0x00, 0x00, 0x00,                             // padding
                 0x01, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}));  // empty PARAMS
}

TEST(client_connection, send_params_several_calls_and_long_lengths_spec_3_4) {
  client_connection conn;
  const request_key key = begin(conn);
  const std::string name128(128, 'N');
  const std::string value(70000, 'v');
  const std::vector<param> first = {{"SCRIPT_NAME", "/x"}, {name128, "127"}};
  const std::vector<param> second = {{"BIG", value}};
  ASSERT_EQ(conn.send_params(key, first), errc{});
  ASSERT_EQ(conn.send_params(key, second), errc{});
  ASSERT_EQ(conn.send_params(key, {}), errc{});  // nothing to send, nothing sent
  ASSERT_EQ(conn.end_params(key), errc{});
  const byte_vector bytes = fcgi_test::drain(conn.output());
  std::string stream;
  bool ended = false;
  for (const auto& r : fcgi_test::parse_records(bytes)) {
    EXPECT_EQ(r.type, params_type);
    EXPECT_EQ(r.id, 1);
    EXPECT_FALSE(ended) << "a record after the empty PARAMS";
    if (r.content.empty()) ended = true;
    EXPECT_LE(r.content.size(), max_content_length);
    stream += r.content;
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(fcgi_test::parse_pairs(stream),
            (fcgi_test::pair_list{{"SCRIPT_NAME", "/x"}, {name128, "127"}, {"BIG", value}}));
}

TEST(client_connection, param_too_long_spec_3_4) {
  client_connection conn;
  const request_key key = begin(conn);
  // A view longer than 2^31-1 bytes cannot be encoded; its bytes must never be read, so a
  // small buffer stands behind it.
  const std::string small = "x";
  const std::string_view too_long(small.data(), max_pair_length + 1);
  EXPECT_EQ(conn.send_params(key, std::vector<param>{{too_long, "v"}}), errc::param_too_long);
  EXPECT_EQ(conn.send_params(key, std::vector<param>{{"OK", "1"}, {"N", too_long}}),
            errc::param_too_long);
  EXPECT_TRUE(conn.output().empty()) << "nothing is queued when any pair fails";
}

TEST(client_connection, params_ordering_errors) {
  client_connection conn;
  const request_key key = begin(conn);
  const std::vector<param> pairs = {{"A", "1"}};
  EXPECT_EQ(conn.send_stdin(key, as_bytes("x")), errc::stdin_before_params_end);
  EXPECT_EQ(conn.end_stdin(key), errc::stdin_before_params_end);
  EXPECT_TRUE(conn.output().empty());
  ASSERT_EQ(conn.end_params(key), errc{});
  conn.output().clear();
  EXPECT_EQ(conn.send_params(key, pairs), errc::stream_already_ended);
  EXPECT_EQ(conn.end_params(key), errc::stream_already_ended);
  EXPECT_TRUE(conn.output().empty());
}

TEST(client_connection, stdin_ordering_errors) {
  client_connection conn;
  const request_key key = begin(conn);
  ASSERT_EQ(conn.end_params(key), errc{});
  ASSERT_EQ(conn.send_stdin(key, as_bytes("body")), errc{});
  ASSERT_EQ(conn.end_stdin(key), errc{});
  EXPECT_EQ(output_records(conn.output()), (lines{"PARAMS 1 []", "STDIN 1 \"body\"", "STDIN 1"}));
  EXPECT_EQ(conn.send_stdin(key, as_bytes("more")), errc::stream_already_ended);
  EXPECT_EQ(conn.send_stdin_reference(key, as_bytes("more")), errc::stream_already_ended);
  EXPECT_EQ(conn.end_stdin(key), errc::stream_already_ended);
  EXPECT_TRUE(conn.output().empty());
}

TEST(client_connection, data_for_non_filter_spec_6_4) {
  for (role r : {role::responder, role::authorizer}) {
    client_connection conn;
    const request_key key = begin(conn, r);
    ASSERT_EQ(conn.end_params(key), errc{});
    ASSERT_EQ(conn.end_stdin(key), errc{});
    conn.output().clear();
    EXPECT_EQ(conn.send_data(key, as_bytes("d")), errc::data_for_non_filter) << to_string(r);
    EXPECT_EQ(conn.end_data(key), errc::data_for_non_filter) << to_string(r);
    EXPECT_TRUE(conn.output().empty());
  }
}

TEST(client_connection, data_before_stdin_end_spec_6_4) {
  client_connection conn;
  const request_key key = begin(conn, role::filter);
  ASSERT_EQ(conn.end_params(key), errc{});
  ASSERT_EQ(conn.send_stdin(key, as_bytes("in")), errc{});
  conn.output().clear();
  EXPECT_EQ(conn.send_data(key, as_bytes("d")), errc::data_before_stdin_end);
  EXPECT_EQ(conn.end_data(key), errc::data_before_stdin_end);
  EXPECT_TRUE(conn.output().empty());
}

TEST(client_connection, data_before_params_end_is_data_before_stdin_end_spec_6_4) {
  // send_data documents data_for_non_filter and data_before_stdin_end: DATA while PARAMS are
  // still open is also "before the empty STDIN record".
  client_connection conn;
  const request_key key = begin(conn, role::filter);
  EXPECT_EQ(conn.send_data(key, as_bytes("d")), errc::data_before_stdin_end);
  EXPECT_EQ(conn.end_data(key), errc::data_before_stdin_end);
  EXPECT_TRUE(conn.output().empty());
}

TEST(client_connection, filter_flow_spec_6_4) {
  client_connection conn;
  const request_key key = begin(conn, role::filter);
  const std::vector<param> pairs = {{"FCGI_DATA_LENGTH", "4"}};
  ASSERT_EQ(conn.send_params(key, pairs), errc{});
  ASSERT_EQ(conn.end_params(key), errc{});
  ASSERT_EQ(conn.send_stdin(key, as_bytes("q")), errc{});
  ASSERT_EQ(conn.end_stdin(key), errc{});
  ASSERT_EQ(conn.send_data(key, as_bytes("file")), errc{});
  ASSERT_EQ(conn.send_data(key, {}), errc{});
  ASSERT_EQ(conn.end_data(key), errc{});
  EXPECT_EQ(output_records(conn.output()),
            (lines{"PARAMS 1 [FCGI_DATA_LENGTH=4]", "PARAMS 1 []", "STDIN 1 \"q\"", "STDIN 1",
                   "DATA 1 \"file\"", "DATA 1"}));
  EXPECT_EQ(conn.send_data(key, as_bytes("x")), errc::stream_already_ended);
  EXPECT_EQ(conn.end_data(key), errc::stream_already_ended);
  EXPECT_TRUE(conn.output().empty());
}

TEST(client_connection, operations_on_unknown_keys_fail) {
  client_connection conn;
  const request_key nobody{1, 12345};
  const std::vector<param> pairs = {{"A", "1"}};
  EXPECT_EQ(conn.send_params(nobody, pairs), errc::request_not_active);
  EXPECT_EQ(conn.end_params(nobody), errc::request_not_active);
  EXPECT_EQ(conn.send_stdin(nobody, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.send_stdin_reference(nobody, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.end_stdin(nobody), errc::request_not_active);
  EXPECT_EQ(conn.send_data(nobody, as_bytes("x")), errc::request_not_active);
  EXPECT_EQ(conn.end_data(nobody), errc::request_not_active);
  EXPECT_EQ(conn.abort_request(nobody), errc::request_not_active);
  EXPECT_EQ(conn.abort_request(request_key{}), errc::request_not_active);
  EXPECT_TRUE(conn.output().empty());
}

TEST(client_connection, zero_byte_stdin_sends_nothing_spec_3_3) {
  client_connection conn;
  const request_key key = begin(conn);
  ASSERT_EQ(conn.end_params(key), errc{});
  conn.output().clear();
  EXPECT_EQ(conn.send_stdin(key, {}), errc{});
  EXPECT_EQ(conn.send_stdin_reference(key, {}), errc{});
  EXPECT_TRUE(conn.output().empty()) << "an empty STDIN record would end the body";
}

TEST(client_connection, stdin_split_into_aligned_records_D52) {
  for (std::size_t length : {65535U, 65536U, 1048576U}) {
    client_connection conn;
    const request_key key = begin(conn);
    ASSERT_EQ(conn.end_params(key), errc{});
    conn.output().clear();
    const std::string body = fcgi_test::pattern(length);
    ASSERT_EQ(conn.send_stdin(key, as_bytes(body)), errc{});
    EXPECT_EQ(conn.output().size(), stream_records_size(length));
    std::string joined;
    for (const auto& r : fcgi_test::parse_records(fcgi_test::drain(conn.output()))) {
      EXPECT_EQ(r.type, stdin_type);
      EXPECT_FALSE(r.content.empty());
      EXPECT_LE(r.content.size(), max_aligned_content_length);
      joined += r.content;
    }
    EXPECT_TRUE(joined == body) << length;
  }
}

TEST(client_connection, send_stdin_reference_is_zero_copy) {
  client_settings settings;
  settings.reference_threshold = 1024;
  client_connection conn(settings);
  const request_key key = begin(conn);
  ASSERT_EQ(conn.end_params(key), errc{});
  conn.output().clear();
  const std::string big = fcgi_test::pattern(5000);
  const std::string small = fcgi_test::pattern(10);
  ASSERT_EQ(conn.send_stdin_reference(key, as_bytes(big)), errc{});
  ASSERT_EQ(conn.send_stdin_reference(key, as_bytes(small)), errc{});
  std::vector<bytes_view> slices(16);
  const std::size_t filled = conn.output().gather(slices);
  const std::byte* big_first = as_bytes(big).data();
  const std::byte* small_first = as_bytes(small).data();
  std::size_t referenced = 0;
  for (std::size_t i = 0; i < filled; ++i) {
    const std::byte* p = slices[i].data();
    if (p >= big_first && p < big_first + big.size()) referenced += slices[i].size();
    EXPECT_FALSE(p >= small_first && p < small_first + small.size());
  }
  EXPECT_EQ(referenced, big.size());
  EXPECT_EQ(output_records(conn.output()), (lines{"STDIN 1 " + fcgi_test::in_quotes(big),
                                                  "STDIN 1 " + fcgi_test::in_quotes(small)}));
}

TEST(client_connection, abort_request_spec_5_4_D55) {
  client_connection conn;
  const request_key key = begin(conn);
  EXPECT_EQ(conn.abort_request(key), errc{});
  EXPECT_EQ(fcgi_test::drain(conn.output()),
            hex({0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}));  // ABORT_REQUEST id 1
  EXPECT_EQ(conn.active_requests(), 1U) << "active until its END_REQUEST arrives";
  EXPECT_EQ(feed(conn, concat({rec(stdout_type, 1), end_request(1, 0)})),
            (lines{"stdout_end 1", "request_ended 1 app=0 REQUEST_COMPLETE"}));
  EXPECT_EQ(conn.active_requests(), 0U);
}

TEST(client_connection, query_values_golden_spec_4_1) {
  client_connection conn;
  const std::vector<std::string_view> names = {"FCGI_MAX_CONNS", "FCGI_MAX_REQS",
                                               "FCGI_MPXS_CONNS"};
  ASSERT_EQ(conn.query_values(names), errc{});
  EXPECT_EQ(fcgi_test::drain(conn.output()),
            hex({0x01, 0x09, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00,  // GET_VALUES id 0, len 48
                 0x0E, 0x00,                                      // 14, 0
                 0x46, 0x43, 0x47, 0x49, 0x5F, 0x4D, 0x41,        // "FCGI_MA"
                 0x58, 0x5F, 0x43, 0x4F, 0x4E, 0x4E, 0x53,        // "X_CONNS"
                 0x0D, 0x00,                                      // 13, 0
                 0x46, 0x43, 0x47, 0x49, 0x5F, 0x4D, 0x41,        // "FCGI_MA"
                 0x58, 0x5F, 0x52, 0x45, 0x51, 0x53,              // "X_REQS"
                 0x0F, 0x00,                                      // 15, 0
                 0x46, 0x43, 0x47, 0x49, 0x5F, 0x4D, 0x50,        // "FCGI_MP"
                 0x58, 0x53, 0x5F, 0x43, 0x4F, 0x4E, 0x4E,        // "XS_CONN"
                 0x53}));                                         // "S"
  EXPECT_EQ(conn.active_requests(), 0U);
}

TEST(client_connection, query_values_padding_and_empty_spec_4_1) {
  client_connection conn;
  ASSERT_EQ(conn.query_values(std::vector<std::string_view>{"X"}), errc{});
  ASSERT_EQ(conn.query_values({}), errc{});
  EXPECT_EQ(fcgi_test::drain(conn.output()),
            hex({0x01, 0x09, 0x00, 0x00, 0x00, 0x03, 0x05, 0x00,     // len 3, padding 5
                 0x01, 0x00, 0x58, 0x00, 0x00, 0x00, 0x00, 0x00,     // 1, 0, "X", padding
                 0x01, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));  // an empty query
}

TEST(client_connection, query_values_too_large_spec_4_1) {
  client_connection conn;
  // One name of 65530 bytes encodes to 4 + 1 + 65530 = 65535: the largest record content.
  const std::string fits(65530, 'n');
  ASSERT_EQ(conn.query_values(std::vector<std::string_view>{fits}), errc{});
  const auto records = fcgi_test::parse_records(fcgi_test::drain(conn.output()));
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].content.size(), 65535U);
  const std::string over(65531, 'n');
  EXPECT_EQ(conn.query_values(std::vector<std::string_view>{over}), errc::get_values_too_large);
  std::vector<std::string_view> many(30000, "AB");  // 4 bytes each: 120000
  EXPECT_EQ(conn.query_values(many), errc::get_values_too_large);
  EXPECT_TRUE(conn.output().empty());
}

// ---------------------------------------------------------------------------------------------
// Responses in

TEST(client_connection, decodes_a_response_spec_5_3_5_5) {
  client_connection conn;
  const request_key key = begin(conn);
  const byte_vector input =
      concat({rec(stdout_type, 1, "hi", 6), rec(stderr_type, 1, "oops"), rec(stdout_type, 1, "!"),
              rec(stdout_type, 1), rec(stderr_type, 1), end_request(1, 7)});
  const std::vector<client_record> events = feed_records(conn, input);
  EXPECT_EQ(fcgi_test::render(events),
            (lines{"stdout_chunk 1 \"hi\"", "stderr_chunk 1 \"oops\"", "stdout_chunk 1 \"!\"",
                   "stdout_end 1", "stderr_end 1", "request_ended 1 app=7 REQUEST_COMPLETE"}));
  for (const client_record& r : events) EXPECT_EQ(r.request, key) << fcgi_test::render(r);
  EXPECT_EQ(conn.active_requests(), 0U);
  EXPECT_EQ(conn.stats().requests_ended, 1U);
  EXPECT_FALSE(conn.failed());
  EXPECT_TRUE(conn.reusable());
}

TEST(client_connection, stdout_chunk_is_a_view_into_the_input_spec_5_3) {
  client_connection conn;
  begin(conn);
  const byte_vector input = rec(stdout_type, 1, "zero-copy");
  bytes_view rest = input;
  const client_event ev = conn.next_event(rest);
  ASSERT_EQ(ev.kind, client_event_kind::stdout_chunk);
  EXPECT_EQ(ev.bytes.data(), input.data() + header_size);
  EXPECT_EQ(ev.bytes.size(), 9U);
}

TEST(client_connection, end_request_statuses_spec_5_5_D50) {
  for (unsigned status : {0U, 1U, 2U, 3U, 9U}) {
    client_connection conn;
    const request_key key = begin(conn);
    const std::vector<client_record> events =
        feed_records(conn, end_request(1, 0x01020304, status));
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].kind, client_event_kind::request_ended);
    EXPECT_EQ(events[0].request, key);
    EXPECT_EQ(events[0].end.app_status, 0x01020304U);
    EXPECT_EQ(events[0].end.protocol_status, status);  // raw, even when unknown
    EXPECT_EQ(conn.active_requests(), 0U);
  }
}

TEST(client_connection, values_result_spec_4_1) {
  const byte_vector input = concat(
      {rec(get_values_result_type, 0,
           fcgi_test::raw_pairs(
               {{"FCGI_MAX_CONNS", "10"}, {"FCGI_MAX_REQS", "50"}, {"FCGI_MPXS_CONNS", "1"}}),
           3),
       rec(get_values_result_type, 0)});
  const lines expected = {"values_result [FCGI_MAX_CONNS=10;FCGI_MAX_REQS=50;FCGI_MPXS_CONNS=1]",
                          "values_result []"};
  for (std::size_t chunk : {input.size(), std::size_t{1}, std::size_t{7}}) {
    client_connection conn;
    EXPECT_EQ(fcgi_test::render(feed_records(conn, input, chunk)), expected) << chunk;
    EXPECT_EQ(conn.active_requests(), 0U);
  }
}

TEST(client_connection, unknown_type_answer_spec_4_2) {
  client_connection conn;
  EXPECT_EQ(feed(conn, rec(unknown_type_type, 0, hex({0x2A, 0, 0, 0, 0, 0, 0, 0}))),
            (lines{"unknown_type type=42"}));
  EXPECT_FALSE(conn.failed());
}

TEST(client_connection, unknown_record_types_are_skipped_spec_4_2) {
  client_connection conn;
  begin(conn);
  const byte_vector input = concat({rec(0, 0, "x", 7), rec(12, 1, std::string(300, 'u'), 4),
                                    rec(255, 9), rec(stdout_type, 1, "ok")});
  EXPECT_EQ(feed(conn, input), (lines{"stdout_chunk 1 \"ok\""}));
  EXPECT_EQ(conn.stats().ignored_records, 3U);
  EXPECT_FALSE(conn.failed());
}

TEST(client_connection, multiplexed_responses_reach_their_requests_D45) {
  client_connection conn(with_max_requests(3));
  const request_key k1 = begin(conn);
  const request_key k2 = begin(conn);
  const request_key k3 = begin(conn);
  const byte_vector input =
      concat({rec(stdout_type, 2, "two"), rec(stdout_type, 1, "one"), rec(stderr_type, 3, "three"),
              rec(stdout_type, 2), end_request(2, 2), rec(stdout_type, 1, "!"), rec(stdout_type, 1),
              end_request(1, 1), rec(stdout_type, 3), rec(stderr_type, 3), end_request(3, 3)});
  const std::vector<client_record> events = feed_records(conn, input);
  EXPECT_EQ(fcgi_test::render(events),
            (lines{"stdout_chunk 2 \"two\"", "stdout_chunk 1 \"one\"", "stderr_chunk 3 \"three\"",
                   "stdout_end 2", "request_ended 2 app=2 REQUEST_COMPLETE", "stdout_chunk 1 \"!\"",
                   "stdout_end 1", "request_ended 1 app=1 REQUEST_COMPLETE", "stdout_end 3",
                   "stderr_end 3", "request_ended 3 app=3 REQUEST_COMPLETE"}));
  for (const client_record& r : events) {
    const request_key expected = r.request.id == 1 ? k1 : r.request.id == 2 ? k2 : k3;
    EXPECT_EQ(r.request, expected) << fcgi_test::render(r);
  }
  EXPECT_EQ(conn.active_requests(), 0U);
  EXPECT_EQ(conn.stats().requests_ended, 3U);
}

TEST(client_connection, response_split_at_every_chunk_size) {
  client_connection reference(with_max_requests(2));
  begin(reference);
  begin(reference);
  const byte_vector input =
      concat({rec(stdout_type, 1, "alpha", 3),
              rec(get_values_result_type, 0, fcgi_test::raw_pairs({{"A", "1"}}), 5),
              rec(stderr_type, 2, std::string(200, 'e'), 0), rec(12, 2, "skip", 4),
              rec(stdout_type, 1), rec(unknown_type_type, 0, hex({7, 0, 0, 0, 0, 0, 0, 0})),
              end_request(1, 5), rec(stderr_type, 2), rec(stdout_type, 2), end_request(2, 6, 2)});
  const lines expected = fcgi_test::render(fcgi_test::coalesce(feed_records(reference, input)));
  ASSERT_EQ(expected.size(), 9U);
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    client_connection conn(with_max_requests(2));
    begin(conn);
    begin(conn);
    ASSERT_EQ(fcgi_test::render(fcgi_test::coalesce(feed_records(conn, input, chunk))), expected)
        << "chunk " << chunk;
  }
}

// ---------------------------------------------------------------------------------------------
// Connection errors (close, never reuse)

/// Feeds `input` to a client with requests 1 (and `extra` more) begun; expects one
/// connection_error with `code` at `offset`.
void expect_connection_error(const byte_vector& input, errc code, std::uint16_t id,
                             std::size_t offset, std::uint32_t requests = 1) {
  client_connection conn(with_max_requests(requests));
  for (std::uint32_t i = 0; i < requests; ++i) begin(conn);
  const std::string expected = "connection_error " + std::string(to_string(code)) +
                               " close_connection id=" + std::to_string(id) + " @" +
                               std::to_string(offset);
  const lines events = feed(conn, input);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), expected);
  EXPECT_TRUE(conn.failed());
  EXPECT_FALSE(conn.reusable());
  // Sticky: every later call repeats it.
  EXPECT_EQ(feed(conn, rec(stdout_type, 1, "more")), (lines{expected}));
}

TEST(client_connection, stdout_for_inactive_id_closes_spec_3_3_D45) {
  expect_connection_error(rec(stdout_type, 2, "for nobody"), errc::response_for_inactive_request, 2,
                          0);
  expect_connection_error(rec(stderr_type, 7, "e"), errc::response_for_inactive_request, 7, 0);
  expect_connection_error(end_request(3, 0), errc::response_for_inactive_request, 3, 0);
  expect_connection_error(rec(stdout_type, 0xFFFF), errc::response_for_inactive_request, 0xFFFF, 0);
}

TEST(client_connection, stdout_after_end_request_closes_spec_3_3_D46) {
  const byte_vector head =
      concat({rec(stdout_type, 1, "done"), rec(stdout_type, 1), end_request(1, 0)});
  expect_connection_error(concat({head, rec(stdout_type, 1, "late")}),
                          errc::response_for_inactive_request, 1, head.size());
  expect_connection_error(concat({head, end_request(1, 0)}), errc::response_for_inactive_request, 1,
                          head.size());
}

TEST(client_connection, stream_after_end_closes_spec_3_3) {
  const byte_vector ended_out = rec(stdout_type, 1);
  expect_connection_error(concat({ended_out, rec(stdout_type, 1, "x")}), errc::stream_after_end, 1,
                          8);
  expect_connection_error(concat({ended_out, rec(stdout_type, 1)}), errc::stream_after_end, 1, 8);
  const byte_vector ended_err = rec(stderr_type, 1);
  expect_connection_error(concat({ended_err, rec(stderr_type, 1, "x")}), errc::stream_after_end, 1,
                          8);
  // One stream's end does not end the other.
  client_connection conn;
  begin(conn);
  EXPECT_EQ(feed(conn, concat({ended_out, rec(stderr_type, 1, "e")})),
            (lines{"stdout_end 1", "stderr_chunk 1 \"e\""}));
}

TEST(client_connection, end_request_length_closes_spec_5_5) {
  for (std::size_t length : {0U, 7U, 9U}) {
    expect_connection_error(rec(end_type, 1, std::string(length, '\0')), errc::end_request_length,
                            1, 0);
  }
}

TEST(client_connection, unknown_type_length_closes_spec_4_2) {
  for (std::size_t length : {0U, 1U, 7U, 9U}) {
    expect_connection_error(rec(unknown_type_type, 0, std::string(length, '\0')),
                            errc::unknown_type_length, 0, 0);
  }
}

TEST(client_connection, unsupported_version_closes_spec_3_3) {
  byte_vector bad = rec(stdout_type, 1, "x");
  bad[0] = std::byte{2};
  const byte_vector ok = rec(stdout_type, 1, "ok");
  expect_connection_error(concat({ok, bad}), errc::unsupported_version, 1, ok.size());
  bad[0] = std::byte{0};
  expect_connection_error(bad, errc::unsupported_version, 1, 0);
}

TEST(client_connection, records_an_application_never_sends_close_spec_8) {
  expect_connection_error(rec(begin_type, 1, hex({0, 1, 1, 0, 0, 0, 0, 0})),
                          errc::record_type_wrong_direction, 1, 0);
  expect_connection_error(rec(abort_type, 1), errc::record_type_wrong_direction, 1, 0);
  expect_connection_error(rec(params_type, 1, "x"), errc::record_type_wrong_direction, 1, 0);
  expect_connection_error(rec(stdin_type, 1, "x"), errc::record_type_wrong_direction, 1, 0);
  expect_connection_error(rec(data_type, 1, "x"), errc::record_type_wrong_direction, 1, 0);
  expect_connection_error(rec(get_values_type, 0), errc::record_type_wrong_direction, 0, 0);
}

TEST(client_connection, management_records_on_request_id_close_spec_4_1) {
  expect_connection_error(rec(get_values_result_type, 1, fcgi_test::raw_pairs({{"A", "1"}})),
                          errc::management_record_on_request_id, 1, 0);
  expect_connection_error(rec(unknown_type_type, 1, std::string(8, '\0')),
                          errc::management_record_on_request_id, 1, 0);
}

TEST(client_connection, response_records_on_null_id_close_spec_3_3) {
  expect_connection_error(rec(stdout_type, 0, "x"), errc::application_record_on_null_id, 0, 0);
  expect_connection_error(rec(stderr_type, 0), errc::application_record_on_null_id, 0, 0);
  expect_connection_error(end_request(0, 0), errc::application_record_on_null_id, 0, 0);
}

TEST(client_connection, malformed_values_result_closes_spec_4_1) {
  expect_connection_error(rec(get_values_result_type, 0, hex({0x05, 0x01, 0x41})),
                          errc::truncated_pair, 0, 0);
}

TEST(client_connection, failed_connection_refuses_new_work) {
  client_connection conn;
  feed(conn, rec(stdout_type, 5, "x"));
  ASSERT_TRUE(conn.failed());
  EXPECT_EQ(conn.begin_request(role::responder, true).error(), errc::connection_closed);
  EXPECT_EQ(conn.query_values(std::vector<std::string_view>{"FCGI_MAX_REQS"}),
            errc::connection_closed);
  EXPECT_TRUE(conn.output().empty());
}

// ---------------------------------------------------------------------------------------------
// Reuse (§5.1 KEEP_CONN)

TEST(client_connection, reusable_after_keep_conn_requests_spec_5_1) {
  client_connection conn;
  EXPECT_TRUE(conn.reusable());
  for (int round = 0; round < 3; ++round) {
    begin(conn, role::responder, true);
    feed(conn, concat({rec(stdout_type, 1), end_request(1, 0)}));
    EXPECT_TRUE(conn.reusable());
  }
}

TEST(client_connection, not_reusable_after_a_request_without_keep_conn_spec_5_1) {
  client_connection conn;
  begin(conn, role::responder, false);
  EXPECT_FALSE(conn.reusable()) << "the application will close after this request";
  EXPECT_EQ(feed(conn, concat({rec(stdout_type, 1), end_request(1, 0)})),
            (lines{"stdout_end 1", "request_ended 1 app=0 REQUEST_COMPLETE"}));
  EXPECT_FALSE(conn.reusable());
  EXPECT_FALSE(conn.failed());
}

TEST(client_connection, event_kind_names) {
  EXPECT_EQ(to_string(client_event_kind::need_more), "need_more");
  EXPECT_EQ(to_string(client_event_kind::stdout_chunk), "stdout_chunk");
  EXPECT_EQ(to_string(client_event_kind::stdout_end), "stdout_end");
  EXPECT_EQ(to_string(client_event_kind::stderr_chunk), "stderr_chunk");
  EXPECT_EQ(to_string(client_event_kind::stderr_end), "stderr_end");
  EXPECT_EQ(to_string(client_event_kind::request_ended), "request_ended");
  EXPECT_EQ(to_string(client_event_kind::values_result), "values_result");
  EXPECT_EQ(to_string(client_event_kind::unknown_type), "unknown_type");
  EXPECT_EQ(to_string(client_event_kind::connection_error), "connection_error");
  EXPECT_EQ(to_string(static_cast<client_event_kind>(200)), "unknown");
}

TEST(client_connection, stats_count_records) {
  client_connection conn(with_max_requests(2));
  begin(conn);
  begin(conn);
  feed(conn, concat({rec(stdout_type, 1, "x"), rec(12, 1), rec(stdout_type, 1), end_request(1, 0),
                     rec(get_values_result_type, 0)}));
  EXPECT_EQ(conn.stats().records, 5U);
  EXPECT_EQ(conn.stats().ignored_records, 1U);
  EXPECT_EQ(conn.stats().requests_started, 2U);
  EXPECT_EQ(conn.stats().requests_ended, 1U);
}

}  // namespace
}  // namespace fcgi::protocol
