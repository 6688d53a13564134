// The record codec against golden bytes worked out by hand from the spec.
//
// Every expected array below is written out literally, with a comment deriving each byte from
// the spec's struct definitions (§3.3 FCGI_Header, §5.1 FCGI_BeginRequestBody, §5.5
// FCGI_EndRequestBody, §4.2 FCGI_UnknownTypeBody) and constants (§8). None is computed.
#include <fcgi/protocol/record.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace fcgi::protocol {
namespace {

using fcgi_test::byte_vector;
using fcgi_test::hex;

template <std::size_t N>
byte_vector to_vector(const std::array<std::byte, N>& bytes) {
  return {bytes.begin(), bytes.end()};
}

// ---------------------------------------------------------------------------------------------
// §3.3 header

TEST(record, header_layout_spec_3_3) {
  // §3.3 FCGI_Header: version, type, requestIdB1, requestIdB0, contentLengthB1,
  // contentLengthB0, paddingLength, reserved. Type 6 = FCGI_STDOUT (§8).
  record_header h;
  h.version = version_1;
  h.type = static_cast<std::uint8_t>(record_type::stdout_stream);
  h.request_id = 0x0102;
  h.content_length = 0x0304;
  h.padding_length = 5;
  std::array<std::byte, header_size> out{};
  out.fill(std::byte{0xAA});  // the reserved byte must be written as 0, not left alone
  encode_header(h, out);
  EXPECT_EQ(to_vector(out), hex({0x01,        // version = FCGI_VERSION_1
                                 0x06,        // type = FCGI_STDOUT
                                 0x01, 0x02,  // requestId 0x0102, big-endian (B1 first)
                                 0x03, 0x04,  // contentLength 0x0304, big-endian
                                 0x05,        // paddingLength
                                 0x00}));     // reserved
}

TEST(record, header_big_endian_extremes_spec_3_3) {
  // requestId 0xFFFF and contentLength 0xFFFF use both bytes; 0x00FF checks byte order.
  record_header h;
  h.type = 0xFF;
  h.request_id = 0xFFFF;
  h.content_length = 0x00FF;
  h.padding_length = 0xFF;
  std::array<std::byte, header_size> out{};
  encode_header(h, out);
  EXPECT_EQ(to_vector(out), hex({0x01, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0x00}));
}

TEST(record, decode_header_spec_3_3) {
  // 01 | 0B (UNKNOWN_TYPE) | 12 34 (id 0x1234) | FF FE (length 65534) | 07 | AA (reserved,
  // ignored) | then a ninth byte that is not part of the header.
  const byte_vector in = hex({0x01, 0x0B, 0x12, 0x34, 0xFF, 0xFE, 0x07, 0xAA, 0x99});
  record_header h;
  ASSERT_EQ(decode_header(in, h), header_size);
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.type, 0x0B);
  EXPECT_TRUE(h.is(record_type::unknown_type));
  EXPECT_FALSE(h.is(record_type::get_values_result));
  EXPECT_EQ(h.request_id, 0x1234);
  EXPECT_EQ(h.content_length, 0xFFFE);
  EXPECT_EQ(h.padding_length, 7);
  EXPECT_EQ(h.record_size(), 8U + 0xFFFE + 7);
}

TEST(record, decode_header_keeps_any_version_and_type_spec_3_3) {
  // The codec never judges: version 2 and type 200 come back as they are.
  const byte_vector in = hex({0x02, 0xC8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  record_header h;
  ASSERT_EQ(decode_header(in, h), header_size);
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.type, 200);
  EXPECT_EQ(h.request_id, 0);
  EXPECT_EQ(h.record_size(), 8U);
}

TEST(record, decode_header_needs_eight_bytes_spec_3_3) {
  const byte_vector full = hex({0x01, 0x06, 0x00, 0x01, 0x00, 0x05, 0x03, 0x00});
  for (std::size_t n = 0; n < header_size; ++n) {
    record_header h;
    EXPECT_EQ(decode_header(bytes_view(full).first(n), h), 0U) << "with " << n << " bytes";
  }
}

TEST(record, header_round_trip_spec_3_3) {
  for (unsigned type : {0U, 1U, 6U, 11U, 12U, 255U}) {
    for (unsigned id : {0U, 1U, 0x0100U, 0xFFFFU}) {
      record_header h;
      h.type = static_cast<std::uint8_t>(type);
      h.request_id = static_cast<std::uint16_t>(id);
      h.content_length = static_cast<std::uint16_t>(id ^ 0x5A5A);
      h.padding_length = static_cast<std::uint8_t>(type);
      std::array<std::byte, header_size> out{};
      encode_header(h, out);
      record_header back;
      ASSERT_EQ(decode_header(out, back), header_size);
      EXPECT_EQ(back.version, h.version);
      EXPECT_EQ(back.type, h.type);
      EXPECT_EQ(back.request_id, h.request_id);
      EXPECT_EQ(back.content_length, h.content_length);
      EXPECT_EQ(back.padding_length, h.padding_length);
    }
  }
}

TEST(record, largest_record_size_spec_3_3) {
  // contentLength 65535 + paddingLength 255: sizes must not wrap at 16 bits (HOSTILE A4).
  record_header h;
  h.content_length = 65535;
  h.padding_length = 255;
  EXPECT_EQ(h.record_size(), 65798U);
}

TEST(record, type_constants_spec_8) {
  EXPECT_EQ(static_cast<int>(record_type::begin_request), 1);
  EXPECT_EQ(static_cast<int>(record_type::abort_request), 2);
  EXPECT_EQ(static_cast<int>(record_type::end_request), 3);
  EXPECT_EQ(static_cast<int>(record_type::params), 4);
  EXPECT_EQ(static_cast<int>(record_type::stdin_stream), 5);
  EXPECT_EQ(static_cast<int>(record_type::stdout_stream), 6);
  EXPECT_EQ(static_cast<int>(record_type::stderr_stream), 7);
  EXPECT_EQ(static_cast<int>(record_type::data), 8);
  EXPECT_EQ(static_cast<int>(record_type::get_values), 9);
  EXPECT_EQ(static_cast<int>(record_type::get_values_result), 10);
  EXPECT_EQ(static_cast<int>(record_type::unknown_type), 11);
  EXPECT_EQ(max_known_record_type, 11);
  EXPECT_EQ(static_cast<int>(role::responder), 1);
  EXPECT_EQ(static_cast<int>(role::authorizer), 2);
  EXPECT_EQ(static_cast<int>(role::filter), 3);
  EXPECT_EQ(static_cast<int>(protocol_status::request_complete), 0);
  EXPECT_EQ(static_cast<int>(protocol_status::cant_mpx_conn), 1);
  EXPECT_EQ(static_cast<int>(protocol_status::overloaded), 2);
  EXPECT_EQ(static_cast<int>(protocol_status::unknown_role), 3);
  EXPECT_EQ(keep_conn_flag, 1);
  EXPECT_EQ(version_1, 1);
  EXPECT_EQ(header_size, 8U);
}

// ---------------------------------------------------------------------------------------------
// §5.1 BEGIN_REQUEST

TEST(record, begin_request_responder_keep_conn_spec_5_1) {
  EXPECT_EQ(to_vector(make_begin_request(1, role::responder, true)),
            hex({0x01, 0x01, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00,  // v1, BEGIN_REQUEST, id 1, len 8
                 0x00, 0x01,                                      // roleB1 roleB0 = RESPONDER
                 0x01,                                            // flags = FCGI_KEEP_CONN
                 0x00, 0x00, 0x00, 0x00, 0x00}));                 // reserved[5]
}

TEST(record, begin_request_authorizer_spec_5_1) {
  EXPECT_EQ(to_vector(make_begin_request(0x0203, role::authorizer, false)),
            hex({0x01, 0x01, 0x02, 0x03, 0x00, 0x08, 0x00, 0x00,  // id 0x0203
                 0x00, 0x02,                                      // AUTHORIZER
                 0x00,                                            // no KEEP_CONN
                 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST(record, begin_request_filter_spec_5_1) {
  EXPECT_EQ(to_vector(make_begin_request(0xFFFF, role::filter, true)),
            hex({0x01, 0x01, 0xFF, 0xFF, 0x00, 0x08, 0x00, 0x00,  // id 65535
                 0x00, 0x03,                                      // FILTER
                 0x01,                                            // KEEP_CONN
                 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST(record, decode_begin_request_body_spec_5_1) {
  begin_request_body body;
  // role 0x0102 (unknown, kept raw), flags 0x03 (KEEP_CONN plus an undefined bit).
  ASSERT_TRUE(decode_begin_request_body(hex({0x01, 0x02, 0x03, 0, 0, 0, 0, 0}), body));
  EXPECT_EQ(body.role, 0x0102);
  EXPECT_EQ(body.flags, 0x03);
  EXPECT_TRUE(body.keep_conn());
  ASSERT_TRUE(decode_begin_request_body(hex({0x00, 0x03, 0xFE, 0, 0, 0, 0, 0}), body));
  EXPECT_EQ(body.role, 3);
  EXPECT_FALSE(body.keep_conn());  // only bit 0 is FCGI_KEEP_CONN
}

TEST(record, decode_fixed_bodies_need_exactly_eight_bytes_spec_5_1_5_5_4_2) {
  const byte_vector nine = hex({0, 1, 1, 0, 0, 0, 0, 0, 0});
  for (std::size_t n : {0U, 1U, 7U, 9U}) {
    const bytes_view in = bytes_view(nine).first(n);
    begin_request_body b;
    end_request_body e;
    std::uint8_t t = 0;
    EXPECT_FALSE(decode_begin_request_body(in, b)) << n;
    EXPECT_FALSE(decode_end_request_body(in, e)) << n;
    EXPECT_FALSE(decode_unknown_type_body(in, t)) << n;
  }
}

// ---------------------------------------------------------------------------------------------
// §5.5 END_REQUEST

TEST(record, end_request_app_status_big_endian_spec_5_5) {
  EXPECT_EQ(to_vector(make_end_request(1, 0x01020304, protocol_status::request_complete)),
            hex({0x01, 0x03, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00,  // v1, END_REQUEST, id 1, len 8
                 0x01, 0x02, 0x03, 0x04,                          // appStatusB3..B0
                 0x00,                                            // FCGI_REQUEST_COMPLETE
                 0x00, 0x00, 0x00}));                             // reserved[3]
}

TEST(record, end_request_each_protocol_status_spec_5_5) {
  // §8: REQUEST_COMPLETE 0, CANT_MPX_CONN 1, OVERLOADED 2, UNKNOWN_ROLE 3; appStatus 0.
  const std::array<std::pair<protocol_status, unsigned>, 4> cases = {{
      {protocol_status::request_complete, 0x00},
      {protocol_status::cant_mpx_conn, 0x01},
      {protocol_status::overloaded, 0x02},
      {protocol_status::unknown_role, 0x03},
  }};
  for (const auto& [status, byte] : cases) {
    EXPECT_EQ(to_vector(make_end_request(0x0A0B, 0, status)),
              hex({0x01, 0x03, 0x0A, 0x0B, 0x00, 0x08, 0x00, 0x00,  // id 0x0A0B
                   0x00, 0x00, 0x00, 0x00,                          // appStatus 0
                   byte,                                            // protocolStatus
                   0x00, 0x00, 0x00}))
        << to_string(status);
  }
}

TEST(record, end_request_max_app_status_spec_5_5) {
  EXPECT_EQ(to_vector(make_end_request(2, 0xFFFFFFFF, protocol_status::overloaded)),
            hex({0x01, 0x03, 0x00, 0x02, 0x00, 0x08, 0x00, 0x00,  // END_REQUEST id 2, len 8
                 0xFF, 0xFF, 0xFF, 0xFF,                          // appStatus 2^32 - 1
                 0x02,                                            // FCGI_OVERLOADED
                 0x00, 0x00, 0x00}));                             // reserved[3]
}

TEST(record, decode_end_request_body_spec_5_5) {
  end_request_body body;
  ASSERT_TRUE(decode_end_request_body(hex({0x80, 0x00, 0x00, 0x01, 0x07, 0, 0, 0}), body));
  EXPECT_EQ(body.app_status, 0x80000001U);
  EXPECT_EQ(body.protocol_status, 7);  // unknown statuses stay raw for the client to report
}

// ---------------------------------------------------------------------------------------------
// §4.2 UNKNOWN_TYPE, §5.4 ABORT_REQUEST, §3.3 empty stream records

TEST(record, unknown_type_spec_4_2) {
  EXPECT_EQ(to_vector(make_unknown_type(0x2A)),
            hex({0x01, 0x0B, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,  // UNKNOWN_TYPE on id 0, len 8
                 0x2A,                                            // type
                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));     // reserved[7]
  std::uint8_t type = 0;
  ASSERT_TRUE(decode_unknown_type_body(hex({0xC8, 0, 0, 0, 0, 0, 0, 0}), type));
  EXPECT_EQ(type, 0xC8);
}

TEST(record, abort_request_is_an_empty_record_spec_5_4) {
  EXPECT_EQ(to_vector(make_empty_record(record_type::abort_request, 5)),
            hex({0x01, 0x02, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00}));  // ABORT_REQUEST, id 5
}

TEST(record, empty_stream_records_spec_3_3) {
  // "a series of zero or more non-empty records ... followed by an empty record".
  EXPECT_EQ(to_vector(make_empty_record(record_type::params, 1)),
            hex({0x01, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_vector(make_empty_record(record_type::stdin_stream, 0x0102)),
            hex({0x01, 0x05, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_vector(make_empty_record(record_type::stdout_stream, 3)),
            hex({0x01, 0x06, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_vector(make_empty_record(record_type::stderr_stream, 3)),
            hex({0x01, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_vector(make_empty_record(record_type::data, 0xFFFF)),
            hex({0x01, 0x08, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00}));
}

// ---------------------------------------------------------------------------------------------
// §4.1 GET_VALUES, §3.3 a padded STDOUT record

TEST(record, get_values_with_the_three_names_spec_4_1) {
  // Content: three §3.4 pairs with empty values. Name lengths 14, 13, 15 fit in one byte;
  // total 2+14 + 2+13 + 2+15 = 48 = 0x30, a multiple of 8, so no padding.
  const byte_vector content = hex({
      0x0E, 0x00,                                // nameLength 14, valueLength 0
      0x46, 0x43, 0x47, 0x49, 0x5F, 0x4D, 0x41,  // "FCGI_MA"
      0x58, 0x5F, 0x43, 0x4F, 0x4E, 0x4E, 0x53,  // "X_CONNS"
      0x0D, 0x00,                                // nameLength 13, valueLength 0
      0x46, 0x43, 0x47, 0x49, 0x5F, 0x4D, 0x41,  // "FCGI_MA"
      0x58, 0x5F, 0x52, 0x45, 0x51, 0x53,        // "X_REQS"
      0x0F, 0x00,                                // nameLength 15, valueLength 0
      0x46, 0x43, 0x47, 0x49, 0x5F, 0x4D, 0x50,  // "FCGI_MP"
      0x58, 0x53, 0x5F, 0x43, 0x4F, 0x4E, 0x4E,  // "XS_CONN"
      0x53,                                      // "S"
  });
  ASSERT_EQ(content.size(), 48U);
  ASSERT_EQ(fcgi_test::raw_pairs(
                {{"FCGI_MAX_CONNS", ""}, {"FCGI_MAX_REQS", ""}, {"FCGI_MPXS_CONNS", ""}}),
            content);  // the literal above spells the names right
  byte_vector expected =
      hex({0x01, 0x09, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00});  // GET_VALUES, id 0, len 48
  fcgi_test::append(expected, content);

  byte_vector out(header_size + content.size(), std::byte{0xAA});
  ASSERT_EQ(encode_record(record_type::get_values, 0, content, out), out.size());
  EXPECT_EQ(out, expected);
}

TEST(record, stdout_hello_padded_to_eight_spec_3_3) {
  // Content "Hello" (5 bytes) needs 3 bytes of padding: 8 + 5 + 3 = 16.
  const byte_vector expected =
      hex({0x01, 0x06, 0x00, 0x01, 0x00, 0x05, 0x03, 0x00,  // STDOUT id 1 len 5 pad 3
           0x48, 0x65, 0x6C, 0x6C, 0x6F,                    // "Hello"
           0x00, 0x00, 0x00});                              // padding
  byte_vector out(16, std::byte{0xAA});  // padding must be written, not left as it was
  EXPECT_EQ(encode_record(record_type::stdout_stream, 1, as_bytes("Hello"), out), 16U);
  EXPECT_EQ(out, expected);

  // The same content through the stream encoder is the same single record.
  byte_vector stream(stream_records_size(5), std::byte{0xAA});
  ASSERT_EQ(stream.size(), 16U);
  EXPECT_EQ(encode_stream_records(record_type::stdout_stream, 1, as_bytes("Hello"), stream), 16U);
  EXPECT_EQ(stream, expected);
}

TEST(record, encode_record_empty_and_maximal_spec_3_3) {
  byte_vector out(8, std::byte{0xAA});
  EXPECT_EQ(encode_record(record_type::stdin_stream, 9, {}, out), 8U);
  EXPECT_EQ(out, hex({0x01, 0x05, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00}));

  // 65535 bytes of content: length FF FF, padding 1 (65535 + 1 = 65536 = 8 * 8192).
  const std::string content = fcgi_test::pattern(65535);
  byte_vector big(8 + 65535 + 1, std::byte{0xAA});
  ASSERT_EQ(encode_record(record_type::data, 2, as_bytes(content), big), big.size());
  EXPECT_EQ(byte_vector(big.begin(), big.begin() + 8),
            hex({0x01, 0x08, 0x00, 0x02, 0xFF, 0xFF, 0x01, 0x00}));
  EXPECT_EQ(fcgi_test::text_of(bytes_view(big).subspan(8, 65535)), content);
  EXPECT_EQ(big.back(), std::byte{0});
}

// ---------------------------------------------------------------------------------------------
// Padding and stream splitting (§3.3 "placed on boundaries that are multiples of eight bytes")

TEST(record, padding_for_zero_to_seventeen_spec_3_3) {
  const std::array<unsigned, 18> expected = {0, 7, 6, 5, 4, 3, 2, 1, 0, 7, 6, 5, 4, 3, 2, 1, 0, 7};
  for (std::size_t n = 0; n < expected.size(); ++n) {
    EXPECT_EQ(padding_for(n), expected[n]) << "content length " << n;
  }
  EXPECT_EQ(padding_for(65528), 0);
  EXPECT_EQ(padding_for(65535), 1);
  static_assert(padding_for(5) == 3, "usable in constant expressions");
}

TEST(record, stream_records_size_spec_3_3) {
  // Full records carry 65528 = 8 * 8191 bytes and need no padding: 8 + 65528 = 65536 each.
  EXPECT_EQ(max_aligned_content_length, 65528U);
  EXPECT_EQ(stream_records_size(0), 0U);                // nothing: an empty record ends a stream
  EXPECT_EQ(stream_records_size(1), 16U);               // 8 + 1 + 7
  EXPECT_EQ(stream_records_size(65528), 65536U);        // one full record
  EXPECT_EQ(stream_records_size(65529), 65536U + 16U);  // full + (8 + 1 + 7)
  EXPECT_EQ(stream_records_size(65535), 65536U + 16U);  // full + (8 + 7 + 1)
  EXPECT_EQ(stream_records_size(65536), 65536U + 16U);  // full + (8 + 8 + 0)
  EXPECT_EQ(stream_records_size(1048576), 16U * 65536U + 136U);  // 16 full + (8 + 128)
  static_assert(stream_records_size(8) == 16);
}

void check_stream_encoding(std::size_t length) {
  SCOPED_TRACE("content length " + std::to_string(length));
  const std::string content = fcgi_test::pattern(length, 3);
  const std::size_t size = stream_records_size(length);
  byte_vector out(size + 8, std::byte{0xAA});  // 8 spare bytes must stay untouched
  ASSERT_EQ(encode_stream_records(record_type::stdin_stream, 0x0102, as_bytes(content), out), size);
  for (std::size_t i = size; i < out.size(); ++i) ASSERT_EQ(out[i], std::byte{0xAA});

  const auto records = fcgi_test::parse_records(bytes_view(out).first(size));
  std::string joined;
  for (const auto& r : records) {
    EXPECT_EQ(r.version, 1);
    EXPECT_EQ(r.type, 5);
    EXPECT_EQ(r.id, 0x0102);
    EXPECT_FALSE(r.content.empty()) << "an empty record would end the stream";
    EXPECT_LE(r.content.size(), max_content_length);
    EXPECT_EQ(r.padding, padding_for(r.content.size()));
    joined += r.content;
  }
  EXPECT_EQ(records.size(), (length + max_aligned_content_length - 1) / max_aligned_content_length);
  EXPECT_TRUE(joined == content) << "content does not concatenate back";
}

TEST(record, encode_stream_records_boundaries_spec_3_3) {
  for (std::size_t length : {0U, 1U, 65528U, 65529U, 65535U, 65536U, 1048576U}) {
    check_stream_encoding(length);
  }
}

TEST(record, encode_stream_records_golden_two_records_spec_3_3) {
  // 65529 bytes: one full record (len 0xFFF8, no padding), then 1 byte padded by 7.
  const std::string content(65529, 'z');
  byte_vector out(stream_records_size(content.size()));
  ASSERT_EQ(encode_stream_records(record_type::stdout_stream, 7, as_bytes(content), out),
            out.size());
  EXPECT_EQ(byte_vector(out.begin(), out.begin() + 8),
            hex({0x01, 0x06, 0x00, 0x07, 0xFF, 0xF8, 0x00, 0x00}));
  EXPECT_EQ(byte_vector(out.begin() + 65536, out.end()),
            hex({0x01, 0x06, 0x00, 0x07, 0x00, 0x01, 0x07, 0x00,  // len 1, padding 7
                 0x7A, 0, 0, 0, 0, 0, 0, 0}));                    // 'z' + 7 zero bytes
}

// ---------------------------------------------------------------------------------------------
// to_string

TEST(record, to_string_record_types_spec_8) {
  EXPECT_EQ(to_string(record_type::begin_request), "BEGIN_REQUEST");
  EXPECT_EQ(to_string(record_type::abort_request), "ABORT_REQUEST");
  EXPECT_EQ(to_string(record_type::end_request), "END_REQUEST");
  EXPECT_EQ(to_string(record_type::params), "PARAMS");
  EXPECT_EQ(to_string(record_type::stdin_stream), "STDIN");
  EXPECT_EQ(to_string(record_type::stdout_stream), "STDOUT");
  EXPECT_EQ(to_string(record_type::stderr_stream), "STDERR");
  EXPECT_EQ(to_string(record_type::data), "DATA");
  EXPECT_EQ(to_string(record_type::get_values), "GET_VALUES");
  EXPECT_EQ(to_string(record_type::get_values_result), "GET_VALUES_RESULT");
  EXPECT_EQ(to_string(record_type::unknown_type), "UNKNOWN_TYPE");
  EXPECT_EQ(to_string(static_cast<record_type>(0)), "UNKNOWN");
  EXPECT_EQ(to_string(static_cast<record_type>(12)), "UNKNOWN");
  EXPECT_EQ(to_string(static_cast<record_type>(255)), "UNKNOWN");
}

TEST(record, to_string_roles_spec_5_1) {
  EXPECT_EQ(to_string(role::responder), "RESPONDER");
  EXPECT_EQ(to_string(role::authorizer), "AUTHORIZER");
  EXPECT_EQ(to_string(role::filter), "FILTER");
  EXPECT_EQ(to_string(static_cast<role>(0)), "UNKNOWN");
  EXPECT_EQ(to_string(static_cast<role>(4)), "UNKNOWN");
  EXPECT_EQ(to_string(static_cast<role>(0xFFFF)), "UNKNOWN");
}

TEST(record, to_string_protocol_statuses_spec_5_5) {
  EXPECT_EQ(to_string(protocol_status::request_complete), "REQUEST_COMPLETE");
  EXPECT_EQ(to_string(protocol_status::cant_mpx_conn), "CANT_MPX_CONN");
  EXPECT_EQ(to_string(protocol_status::overloaded), "OVERLOADED");
  EXPECT_EQ(to_string(protocol_status::unknown_role), "UNKNOWN_ROLE");
  EXPECT_EQ(to_string(static_cast<protocol_status>(4)), "UNKNOWN");
}

TEST(record, as_bytes_and_as_chars_are_views) {
  const std::string text = "abc";
  const bytes_view b = as_bytes(text);
  EXPECT_EQ(static_cast<const void*>(b.data()), static_cast<const void*>(text.data()));
  EXPECT_EQ(b.size(), 3U);
  EXPECT_EQ(as_chars(b), "abc");
  EXPECT_EQ(static_cast<const void*>(as_chars(b).data()), static_cast<const void*>(text.data()));
}

}  // namespace
}  // namespace fcgi::protocol
