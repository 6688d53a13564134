// Name-value pairs (§3.4) and the PARAMS policy: encode/decode, the scanner, param_list.
// Case numbers B-nn refer to /work/shared/HOSTILE.md section B.
#include <fcgi/protocol/params.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace fcgi::protocol {
namespace {

using fcgi_test::byte_vector;
using fcgi_test::hex;
using fcgi_test::pair_list;
using fcgi_test::raw_pair;
using fcgi_test::raw_pairs;

constexpr std::size_t unlimited = ~std::size_t{0};

byte_vector encode(std::string_view name, std::string_view value) {
  byte_vector out(encoded_pair_size(name, value) + 4, std::byte{0xAA});
  const std::size_t written = encode_pair(name, value, out);
  EXPECT_EQ(written, encoded_pair_size(name, value));
  for (std::size_t i = written; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte{0xAA});
  out.resize(written);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Length encoding, §3.4

TEST(params, encoded_length_size_spec_3_4) {
  EXPECT_EQ(encoded_length_size(0), 1U);
  EXPECT_EQ(encoded_length_size(127), 1U);
  EXPECT_EQ(encoded_length_size(128), 4U);
  EXPECT_EQ(encoded_length_size(max_pair_length), 4U);
  EXPECT_EQ(encoded_pair_size("ab", "cde"), 7U);
  EXPECT_EQ(encoded_pair_size(std::string(128, 'n'), ""), 133U);
}

TEST(params, encode_golden_short_lengths_spec_3_4) {
  // nameLength 4 (one byte), valueLength 3 (one byte), "NAME", "val".
  EXPECT_EQ(encode("NAME", "val"), hex({0x04, 0x03, 0x4E, 0x41, 0x4D, 0x45, 0x76, 0x61, 0x6C}));
  EXPECT_EQ(encode("", ""), hex({0x00, 0x00}));
}

TEST(params, encode_golden_long_lengths_spec_3_4) {
  // 128 is the first length that needs four bytes: B3 gets the high bit, 0x80 00 00 80.
  const std::string n128(128, 'n');
  const byte_vector e128 = encode(n128, "v");
  ASSERT_EQ(e128.size(), 4U + 1U + 128U + 1U);
  EXPECT_EQ(byte_vector(e128.begin(), e128.begin() + 5), hex({0x80, 0x00, 0x00, 0x80, 0x01}));
  // valueLength 65536 = 0x00010000 -> 80 01 00 00, after a one-byte nameLength 127 (0x7F).
  const std::string n127(127, 'n');
  const std::string v65536(65536, 'v');
  const byte_vector e = encode(n127, v65536);
  EXPECT_EQ(byte_vector(e.begin(), e.begin() + 5), hex({0x7F, 0x80, 0x01, 0x00, 0x00}));
}

struct length_case {
  std::size_t length;
  std::vector<unsigned> encoding;  // §3.4, worked out by hand
};

const std::vector<length_case>& length_cases() {
  static const std::vector<length_case> cases = {
      {0, {0x00}},
      {1, {0x01}},
      {127, {0x7F}},
      {128, {0x80, 0x00, 0x00, 0x80}},
      {255, {0x80, 0x00, 0x00, 0xFF}},
      {65535, {0x80, 0x00, 0xFF, 0xFF}},
      {65536, {0x80, 0x01, 0x00, 0x00}},
  };
  return cases;
}

byte_vector to_bytes(const std::vector<unsigned>& values) {
  byte_vector out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(params, name_lengths_round_trip_spec_3_4) {
  for (const length_case& c : length_cases()) {
    SCOPED_TRACE("name length " + std::to_string(c.length));
    const std::string name = fcgi_test::pattern(c.length, 1);
    const byte_vector encoded = encode(name, "v");
    byte_vector expected = to_bytes(c.encoding);
    expected.push_back(std::byte{0x01});  // valueLength 1
    fcgi_test::append(expected, as_bytes(name));
    expected.push_back(std::byte{'v'});
    EXPECT_TRUE(encoded == expected);

    param p;
    const pair_status s = decode_pair(encoded, p, unlimited);
    EXPECT_EQ(s.error, errc{});
    EXPECT_EQ(s.consumed, encoded.size());
    EXPECT_TRUE(p.name == name);
    EXPECT_EQ(p.value, "v");
  }
}

TEST(params, value_lengths_round_trip_spec_3_4) {
  for (const length_case& c : length_cases()) {
    SCOPED_TRACE("value length " + std::to_string(c.length));
    const std::string value = fcgi_test::pattern(c.length, 2);
    const byte_vector encoded = encode("N", value);
    byte_vector expected = hex({0x01});  // nameLength 1
    fcgi_test::append(expected, to_bytes(c.encoding));
    expected.push_back(std::byte{'N'});
    fcgi_test::append(expected, as_bytes(value));
    EXPECT_TRUE(encoded == expected);

    param p;
    const pair_status s = decode_pair(encoded, p, unlimited);
    EXPECT_EQ(s.error, errc{});
    EXPECT_EQ(s.consumed, encoded.size());
    EXPECT_EQ(p.name, "N");
    EXPECT_TRUE(p.value == value);
  }
}

TEST(params, decode_returns_views_into_the_input_spec_3_4) {
  const byte_vector in = hex({0x04, 0x03, 0x4E, 0x41, 0x4D, 0x45, 0x76, 0x61, 0x6C, 0x00});
  param p;
  const pair_status s = decode_pair(in, p, unlimited);
  ASSERT_EQ(s.error, errc{});
  ASSERT_EQ(s.consumed, 9U);  // the trailing byte belongs to the next pair
  EXPECT_EQ(p.name, "NAME");
  EXPECT_EQ(p.value, "val");
  EXPECT_EQ(static_cast<const void*>(p.name.data()), static_cast<const void*>(in.data() + 2));
  EXPECT_EQ(static_cast<const void*>(p.value.data()), static_cast<const void*>(in.data() + 6));
}

TEST(params, decode_accepts_non_minimal_four_byte_lengths_spec_3_4_B24) {
  // nameLength 1 and valueLength 2 written in four bytes each (high bit set on B3).
  const byte_vector in = hex({0x80, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x02, 0x61, 0x62, 0x63});
  param p;
  const pair_status s = decode_pair(in, p, unlimited);
  EXPECT_EQ(s.error, errc{});
  EXPECT_EQ(s.consumed, 11U);
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(p.value, "bc");

  // Mixed: one-byte nameLength, four-byte valueLength 0.
  const byte_vector mixed = hex({0x01, 0x80, 0x00, 0x00, 0x00, 0x78});
  const pair_status m = decode_pair(mixed, p, unlimited);
  EXPECT_EQ(m.error, errc{});
  EXPECT_EQ(m.consumed, 6U);
  EXPECT_EQ(p.name, "x");
  EXPECT_EQ(p.value, "");
}

TEST(params, decode_needs_more_at_every_prefix_spec_3_4) {
  const byte_vector full = raw_pair(std::string(130, 'n'), "value");
  for (std::size_t n = 0; n < full.size(); ++n) {
    param p;
    const pair_status s = decode_pair(bytes_view(full).first(n), p, unlimited);
    EXPECT_EQ(s.consumed, 0U) << "prefix " << n;
    EXPECT_EQ(s.error, errc{}) << "prefix " << n;
  }
  param p;
  EXPECT_EQ(decode_pair(full, p, unlimited).consumed, full.size());
}

TEST(params, decode_limit_is_inclusive_spec_3_4) {
  const byte_vector pair = raw_pair("NAME", "val");  // 9 bytes in all
  param p;
  EXPECT_EQ(decode_pair(pair, p, 9).consumed, 9U);
  const pair_status over = decode_pair(pair, p, 8);
  EXPECT_EQ(over.error, errc::params_too_large);
  EXPECT_EQ(over.consumed, 0U);
}

TEST(params, decode_huge_length_fails_before_data_B21) {
  // nameLength = valueLength = 0x7FFFFFFF (FF FF FF FF with the high bit as the marker) and
  // nothing else: the limit must trip on the 8 length bytes alone, before any data arrives.
  const byte_vector lengths = hex({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  param p;
  const pair_status s = decode_pair(lengths, p, 1024);
  EXPECT_EQ(s.error, errc::params_too_large);
  EXPECT_EQ(s.consumed, 0U);

  // The same with a one-byte valueLength: 5 bytes present.
  const pair_status s5 = decode_pair(hex({0xFF, 0xFF, 0xFF, 0xFF, 0x00}), p, 1024);
  EXPECT_EQ(s5.error, errc::params_too_large);
}

TEST(params, decode_declared_length_past_end_needs_more_B22) {
  // nameLength 3, valueLength 5, but only 4 data bytes: never read past them.
  const byte_vector in = hex({0x03, 0x05, 0x61, 0x62, 0x63, 0x64});
  param p;
  const pair_status s = decode_pair(in, p, unlimited);
  EXPECT_EQ(s.consumed, 0U);
  EXPECT_EQ(s.error, errc{});
}

// ---------------------------------------------------------------------------------------------
// params_scanner

errc scan_all(const byte_vector& stream, const params_policy& policy = {},
              params_scanner* out = nullptr) {
  params_scanner scanner;
  errc e = scanner.scan(stream, policy);
  if (e == errc{}) e = scanner.finish(stream);
  if (out != nullptr) *out = scanner;
  return e;
}

TEST(params, scanner_accepts_an_empty_stream_spec_5_2) {
  params_scanner s;
  EXPECT_EQ(s.scan({}, params_policy{}), errc{});
  EXPECT_EQ(s.finish({}), errc{});
  EXPECT_EQ(s.count(), 0U);
  EXPECT_EQ(s.content_length(), params_scanner::no_content_length);
}

TEST(params, scanner_counts_pairs_and_reads_content_length_spec_6_2) {
  params_scanner s;
  ASSERT_EQ(scan_all(raw_pairs({{"REQUEST_METHOD", "POST"},
                                {"CONTENT_LENGTH", "12"},
                                {"HTTP_HOST", "example"}}),
                     {}, &s),
            errc{});
  EXPECT_EQ(s.count(), 3U);
  EXPECT_EQ(s.content_length(), 12U);
}

TEST(params, scanner_truncated_pair_at_finish_B22) {
  const byte_vector in = hex({0x03, 0x05, 0x61, 0x62, 0x63, 0x64});
  params_scanner s;
  EXPECT_EQ(s.scan(in, params_policy{}), errc{});  // not an error yet: more may come
  EXPECT_EQ(s.finish(in), errc::truncated_pair);
  // Cut inside a four-byte length.
  byte_vector cut = raw_pair("a", "b");
  fcgi_test::append(cut, hex({0x80, 0x00, 0x00}));
  params_scanner t;
  EXPECT_EQ(t.scan(cut, params_policy{}), errc{});
  EXPECT_EQ(t.finish(cut), errc::truncated_pair);
  EXPECT_EQ(t.count(), 1U);
}

TEST(params, scanner_pair_straddling_at_every_split_B23) {
  const byte_vector stream = raw_pairs({{"REQUEST_METHOD", "POST"},
                                        {std::string(128, 'N'), fcgi_test::pattern(300)},
                                        {"CONTENT_LENGTH", "12"},
                                        {"X", std::string("a\0b", 3)}});
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    params_scanner s;
    ASSERT_EQ(s.scan(bytes_view(stream).first(split), params_policy{}), errc{}) << split;
    ASSERT_EQ(s.scan(stream, params_policy{}), errc{}) << split;
    ASSERT_EQ(s.finish(stream), errc{}) << split;
    EXPECT_EQ(s.count(), 4U) << split;
    EXPECT_EQ(s.content_length(), 12U) << split;
  }
}

TEST(params, scanner_one_byte_at_a_time_B23) {
  const byte_vector stream =
      raw_pairs({{"A", "1"}, {std::string(200, 'B'), "2"}, {"C", std::string(129, 'c')}});
  params_scanner s;
  for (std::size_t n = 0; n <= stream.size(); ++n) {
    ASSERT_EQ(s.scan(bytes_view(stream).first(n), params_policy{}), errc{}) << n;
  }
  EXPECT_EQ(s.finish(stream), errc{});
  EXPECT_EQ(s.count(), 3U);
}

TEST(params, scanner_rejects_empty_name_B27) {
  EXPECT_EQ(scan_all(raw_pairs({{"A", "1"}, {"", "x"}})), errc::empty_param_name);
  EXPECT_EQ(scan_all(raw_pairs({{"", ""}})), errc::empty_param_name);
}

TEST(params, scanner_rejects_nul_in_name_B27) {
  EXPECT_EQ(scan_all(raw_pairs({{std::string("SCRIPT_FILENAME\0.php", 20), "x"}})),
            errc::nul_in_param_name);
  EXPECT_EQ(scan_all(raw_pairs({{std::string("\0", 1), "x"}})), errc::nul_in_param_name);
}

TEST(params, scanner_rejects_nul_at_every_position_of_every_name_length_B27) {
  // Names are checked a word at a time: a NUL must be found in every byte of every word,
  // including the overlapping last word and names shorter than one word.
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      std::string name(length, 'N');
      name[at] = '\0';
      EXPECT_EQ(scan_all(raw_pairs({{"A", "1"}, {name, "x"}})), errc::nul_in_param_name)
          << length << " " << at;
    }
    EXPECT_EQ(scan_all(raw_pairs({{std::string(length, '\x01'), "x"}})), errc{}) << length;
    EXPECT_EQ(scan_all(raw_pairs({{std::string(length, '\x80'), "x"}})), errc{}) << length;
    EXPECT_EQ(scan_all(raw_pairs({{std::string(length, '\xff'), "x"}})), errc{}) << length;
  }
}

TEST(params, scanner_guards_only_the_exact_names_B28) {
  // The guarded names are found by a hash: a name differing in any one byte, or one byte
  // longer or shorter, is an ordinary name that may repeat.
  for (const char* guarded :
       {"CONTENT_LENGTH", "CONTENT_TYPE", "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
        "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_METHOD", "REQUEST_URI", "DOCUMENT_ROOT",
        "DOCUMENT_URI", "REMOTE_ADDR", "REMOTE_USER", "AUTH_TYPE", "HTTPS", "SERVER_NAME",
        "SERVER_PORT", "HTTP_HOST"}) {
    const std::string name = guarded;
    for (std::size_t at = 0; at < name.size(); ++at) {
      std::string near = name;
      near[at] = near[at] == 'X' ? 'Y' : 'X';
      EXPECT_EQ(scan_all(raw_pairs({{near, "1"}, {near, "2"}})), errc{}) << near;
    }
    EXPECT_EQ(scan_all(raw_pairs({{name + "X", "1"}, {name + "X", "2"}})), errc{}) << name;
    const std::string shorter = name.substr(0, name.size() - 1);
    EXPECT_EQ(scan_all(raw_pairs({{shorter, "1"}, {shorter, "2"}})), errc{}) << name;
    EXPECT_EQ(scan_all(raw_pairs({{name, "1"}, {name, "2"}})), errc::duplicate_param) << name;
  }
}

TEST(params, scanner_four_byte_lengths_at_every_split_spec_3_4) {
  // Short names with long values (four-byte value lengths), long names, and four-byte
  // encodings of small lengths, cut at every byte and fed in two steps.
  byte_vector stream = raw_pairs({{"HTTP_COOKIE", std::string(300, 'c')},
                                  {std::string(130, 'N'), "v"},
                                  {"CONTENT_LENGTH", "7"}});
  fcgi_test::append(stream, hex({0x80, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x02, 'Q', 'v', 'w'}));
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    params_scanner s;
    ASSERT_EQ(s.scan(bytes_view(stream).first(split), params_policy{}), errc{}) << split;
    ASSERT_EQ(s.scan(stream, params_policy{}), errc{}) << split;
    ASSERT_EQ(s.finish(stream), errc{}) << split;
    EXPECT_EQ(s.count(), 4U) << split;
    EXPECT_EQ(s.content_length(), 7U) << split;
  }
}

TEST(params, scanner_keeps_nul_in_value_B27) {
  const std::string value("/var/www/a.php\0.jpg", 19);
  const byte_vector stream = raw_pairs({{"QUERY_STRING", value}});
  ASSERT_EQ(scan_all(stream), errc{});
  const std::optional<std::string_view> found = param_list(stream).find("QUERY_STRING");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->size(), 19U);  // never truncated at the NUL
  EXPECT_TRUE(*found == value);
}

TEST(params, scanner_errors_are_sticky) {
  const byte_vector bad = raw_pairs({{"", "x"}});
  params_scanner s;
  EXPECT_EQ(s.scan(bad, params_policy{}), errc::empty_param_name);
  byte_vector more = bad;
  fcgi_test::append(more, raw_pair("OK", "1"));
  EXPECT_EQ(s.scan(more, params_policy{}), errc::empty_param_name);
  s.reset();
  EXPECT_EQ(s.scan(raw_pair("OK", "1"), params_policy{}), errc{});
  EXPECT_EQ(s.count(), 1U);
}

const std::vector<std::string>& security_names() {
  static const std::vector<std::string> names = {
      "CONTENT_LENGTH",  "CONTENT_TYPE", "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
      "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_METHOD",  "REQUEST_URI", "DOCUMENT_ROOT",
      "DOCUMENT_URI",    "REMOTE_ADDR",  "REMOTE_USER",     "AUTH_TYPE",   "HTTPS",
      "SERVER_NAME",     "SERVER_PORT",  "HTTP_HOST"};
  return names;
}

TEST(params, scanner_rejects_duplicate_security_names_by_default_B28) {
  for (const std::string& name : security_names()) {
    EXPECT_EQ(scan_all(raw_pairs({{name, "1"}, {"OTHER", "x"}, {name, "2"}})),
              errc::duplicate_param)
        << name;
  }
}

TEST(params, scanner_allows_duplicates_when_asked_B28) {
  params_policy lenient;
  lenient.allow_duplicate_names = true;
  for (const std::string& name : security_names()) {
    const byte_vector stream = raw_pairs({{name, "1"}, {name, "2"}});
    EXPECT_EQ(scan_all(stream, lenient), errc{}) << name;
    EXPECT_EQ(param_list(stream).find(name), std::optional<std::string_view>("1")) << name;
  }
}

TEST(params, scanner_allows_duplicate_ordinary_names_B28) {
  EXPECT_EQ(scan_all(raw_pairs({{"HTTP_X_FORWARDED_FOR", "a"}, {"HTTP_X_FORWARDED_FOR", "b"}})),
            errc{});
  // Names are exact: a different spelling is a different name.
  EXPECT_EQ(scan_all(raw_pairs({{"CONTENT_LENGTH", "1"}, {"HTTP_CONTENT_LENGTH", "2"}})), errc{});
}

struct content_length_case {
  std::string value;
  bool ok;
  std::uint64_t expected;
};

TEST(params, scanner_content_length_validation_B29) {
  const std::vector<content_length_case> cases = {
      {"", true, params_scanner::no_content_length},
      {"0", true, 0},
      {"10", true, 10},
      {"0000000000000000001", true, 1},                       // 19 digits: still within 1..19
      {"9223372036854775807", true, 9223372036854775807ULL},  // 2^63 - 1
      {"9223372036854775808", false, 0},                      // 2^63
      {"18446744073709551616", false, 0},                     // 2^64
      {"99999999999999999999", false, 0},
      {"00000000000000000001", false, 0},  // 20 digits
      {"-1", false, 0},
      {"1e3", false, 0},
      {" 10", false, 0},
      {"10 ", false, 0},
      {"+1", false, 0},
      {"0x10", false, 0},
      {"1,0", false, 0},
      {std::string("1\0", 2), false, 0},
  };
  for (const content_length_case& c : cases) {
    params_scanner s;
    const errc e = scan_all(raw_pairs({{"CONTENT_LENGTH", c.value}}), {}, &s);
    if (c.ok) {
      EXPECT_EQ(e, errc{}) << '"' << c.value << '"';
      EXPECT_EQ(s.content_length(), c.expected) << '"' << c.value << '"';
    } else {
      EXPECT_EQ(e, errc::invalid_content_length) << '"' << c.value << '"';
    }
  }
}

TEST(params, scanner_minus_one_content_length_is_opt_in_B29) {
  const byte_vector stream = raw_pairs({{"CONTENT_LENGTH", "-1"}});
  EXPECT_EQ(scan_all(stream), errc::invalid_content_length);
  params_policy lenient;
  lenient.accept_minus_one_content_length = true;
  params_scanner s;
  EXPECT_EQ(scan_all(stream, lenient, &s), errc{});
  EXPECT_EQ(s.content_length(), params_scanner::no_content_length);
  // The leniency is for exactly "-1", nothing else negative.
  EXPECT_EQ(scan_all(raw_pairs({{"CONTENT_LENGTH", "-2"}}), lenient), errc::invalid_content_length);
  EXPECT_EQ(scan_all(raw_pairs({{"CONTENT_LENGTH", "-10"}}), lenient),
            errc::invalid_content_length);
}

byte_vector numbered_pairs(std::size_t count) {
  byte_vector out;
  for (std::size_t i = 0; i < count; ++i)
    fcgi_test::append(out, raw_pair("P" + std::to_string(i), ""));
  return out;
}

TEST(params, scanner_count_limit_B26) {
  params_policy policy;  // max_count 1000 by default
  EXPECT_EQ(policy.max_count, 1000U);
  params_scanner s;
  EXPECT_EQ(scan_all(numbered_pairs(1000), policy, &s), errc{});
  EXPECT_EQ(s.count(), 1000U);
  EXPECT_EQ(scan_all(numbered_pairs(1001), policy), errc::too_many_params);

  policy.max_count = 2;
  EXPECT_EQ(scan_all(numbered_pairs(2), policy), errc{});
  EXPECT_EQ(scan_all(numbered_pairs(3), policy), errc::too_many_params);
}

TEST(params, scanner_byte_limit_is_inclusive_B25) {
  params_policy policy;
  EXPECT_EQ(policy.max_bytes, 128U * 1024U);
  policy.max_bytes = 1000;
  // One pair of exactly 1000 bytes: 1 (nameLength) + 4 (valueLength) + 1 + 994.
  const byte_vector exact = raw_pair("N", std::string(994, 'v'));
  ASSERT_EQ(exact.size(), 1000U);
  EXPECT_EQ(scan_all(exact, policy), errc{});
  const byte_vector over = raw_pair("N", std::string(995, 'v'));
  EXPECT_EQ(scan_all(over, policy), errc::params_too_large);
  // Many small pairs adding up past the limit.
  byte_vector many;
  while (many.size() <= 1000) fcgi_test::append(many, raw_pair("NAME", "value-value"));
  EXPECT_EQ(scan_all(many, policy), errc::params_too_large);
}

TEST(params, scanner_rejects_declared_length_past_limit_before_data_B21_B25) {
  params_policy policy;
  policy.max_bytes = 100;
  // 3 bytes of a whole pair, then lengths announcing a 103-byte pair (97 bytes left): fail on
  // the length bytes alone.
  byte_vector stream = raw_pair("a", "x");
  fcgi_test::append(stream, hex({0x01, 0x80, 0x00, 0x00, 0x61}));
  params_scanner s;
  EXPECT_EQ(s.scan(stream, policy), errc::params_too_large);

  // A 1 GiB value (HOSTILE B-25): lengths only.
  params_scanner g;
  EXPECT_EQ(g.scan(hex({0x01, 0xC0, 0x00, 0x00, 0x00}), params_policy{}), errc::params_too_large);

  // 0x7FFFFFFF lengths (B-21) against the default limit.
  params_scanner h;
  EXPECT_EQ(h.scan(hex({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), params_policy{}),
            errc::params_too_large);
}

// ---------------------------------------------------------------------------------------------
// param_list

TEST(params, param_list_iterates_in_order) {
  const pair_list pairs = {{"A", "1"}, {std::string(128, 'B'), ""}, {"C", std::string(200, 'c')}};
  const byte_vector stream = raw_pairs(pairs);
  const param_list list(stream);
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(list.raw().data(), stream.data());
  EXPECT_EQ(list.raw().size(), stream.size());
  std::size_t i = 0;
  for (const param& p : list) {
    ASSERT_LT(i, pairs.size());
    EXPECT_TRUE(p.name == pairs[i].first) << i;
    EXPECT_TRUE(p.value == pairs[i].second) << i;
    ++i;
  }
  EXPECT_EQ(i, pairs.size());
}

TEST(params, param_list_iterator_is_a_forward_iterator) {
  static_assert(std::forward_iterator<param_list::iterator>);
  const byte_vector stream = raw_pairs({{"A", "1"}, {"B", "2"}});
  const param_list list(stream);
  auto it = list.begin();
  const auto before = it++;
  EXPECT_EQ(before->name, "A");
  EXPECT_EQ(it->name, "B");
  EXPECT_EQ((*it).value, "2");
  EXPECT_NE(before, it);
  ++it;
  EXPECT_EQ(it, list.end());
  EXPECT_EQ(std::distance(list.begin(), list.end()), 2);
}

TEST(params, param_list_find) {
  const byte_vector stream = raw_pairs({{"HTTP_HOST", "a"}, {"EMPTY", ""}, {"X", "1"}, {"X", "2"}});
  const param_list list(stream);
  EXPECT_EQ(list.find("HTTP_HOST"), std::optional<std::string_view>("a"));
  EXPECT_EQ(list.find("EMPTY"), std::optional<std::string_view>(""));  // present but empty
  EXPECT_EQ(list.find("X"), std::optional<std::string_view>("1"));     // the first copy
  EXPECT_EQ(list.find("MISSING"), std::nullopt);
  EXPECT_EQ(list.find("HTTP_HOS"), std::nullopt);  // no prefix matches
  EXPECT_EQ(list.find("HTTP_HOSTS"), std::nullopt);
  EXPECT_EQ(list.find(""), std::nullopt);
}

TEST(params, param_list_empty) {
  const param_list none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.begin(), none.end());
  EXPECT_EQ(none.find("A"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// validate_pairs (GET_VALUES bodies, §4.1)

TEST(params, validate_pairs_spec_4_1) {
  EXPECT_EQ(validate_pairs({}, 10), errc{});
  EXPECT_EQ(validate_pairs(raw_pairs({{"FCGI_MAX_CONNS", ""}, {"FCGI_MAX_REQS", ""}}), 10), errc{});
  EXPECT_EQ(validate_pairs(raw_pairs({{"A", ""}, {"B", ""}}), 2), errc{});
  EXPECT_EQ(validate_pairs(raw_pairs({{"A", ""}, {"B", ""}, {"C", ""}}), 2), errc::too_many_params);
  EXPECT_EQ(validate_pairs(hex({0x03, 0x05, 0x61, 0x62, 0x63, 0x64}), 10), errc::truncated_pair);
  EXPECT_EQ(validate_pairs(hex({0x0E}), 10), errc::truncated_pair);
  EXPECT_EQ(validate_pairs(hex({0xFF, 0xFF, 0xFF, 0xFF, 0x00}), 10), errc::truncated_pair);
}

}  // namespace
}  // namespace fcgi::protocol
