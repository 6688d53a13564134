// HOSTILE.md D-52: what client_connection encodes, app_connection decodes exactly, and back:
// bodies of 65535, 65536 and 1 MiB bytes (one below, at and far past the 16-bit record limit,
// where HAProxy once truncated lengths) and a param name of 128 bytes (the first length that
// needs the four-byte encoding, which nginx once got wrong).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <fcgi/protocol.hpp>
#include <fcgi/test/output_decoder.hpp>
#include <fcgi/test/scripted_feed.hpp>

namespace fcgi::conformance {
namespace {

using protocol::app_event;
using protocol::app_event_kind;
using protocol::client_event;
using protocol::client_event_kind;
using protocol::errc;
using protocol::request_key;

/// Bytes that differ from their neighbours, so a byte moved, lost or doubled shows.
std::string pattern(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<char>((i * 131 + i / 251 + seed) % 256);
  return out;
}

/// What the application saw of one request.
struct app_view {
  request_key key;
  std::vector<std::pair<std::string, std::string>> params;
  std::string body;
  bool body_ended = false;
};

/// What the web server saw of one response.
struct client_view {
  std::string out;
  bool out_ended = false;
  bool ended = false;
  protocol::end_request_body end;
};

/// Every record in `data` carries at most 65535 content bytes and is padded to 8 (§3.3).
void expect_well_framed(const test::bytes& data) {
  std::size_t trailing = 0;
  for (const test::decoded_record& r : test::decode_records(data, &trailing)) {
    EXPECT_LE(r.content.size(), protocol::max_content_length) << test::format_record(r);
    EXPECT_EQ((r.content.size() + r.padding) % 8, 0U) << test::format_record(r);
  }
  EXPECT_EQ(trailing, 0U);
}

class round_trip {
 public:
  round_trip() {
    app_.on_event = [this](const app_event& ev) {
      switch (ev.kind) {
        case app_event_kind::params_ready:
          seen_.key = ev.request;
          for (const protocol::param& p : ev.params) seen_.params.emplace_back(p.name, p.value);
          break;
        case app_event_kind::stdin_chunk: seen_.body += protocol::as_chars(ev.bytes); break;
        case app_event_kind::stdin_end: seen_.body_ended = true; break;
        default: break;
      }
    };
    client_.on_event = [this](const client_event& ev) {
      switch (ev.kind) {
        case client_event_kind::stdout_chunk: got_.out += protocol::as_chars(ev.bytes); break;
        case client_event_kind::stdout_end: got_.out_ended = true; break;
        case client_event_kind::request_ended:
          got_.ended = true;
          got_.end = ev.end;
          break;
        default: break;
      }
    };
  }

  /// Client output to the application, cut into reads of `read_size` bytes.
  void to_app(std::size_t read_size) {
    const test::bytes data = test::drain(client_.connection().output());
    expect_well_framed(data);
    feed(app_, data, read_size);
  }
  void to_client(std::size_t read_size) {
    const test::bytes data = test::drain(app_.connection().output());
    expect_well_framed(data);
    feed(client_, data, read_size);
  }

  test::client_driver& client() { return client_; }
  test::app_driver& app() { return app_; }
  const app_view& seen() const { return seen_; }
  const client_view& got() const { return got_; }

 private:
  template <class Driver>
  static void feed(Driver& d, const test::bytes& data, std::size_t read_size) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = read_size; at < data.size(); at += read_size) cuts.push_back(at);
    d.feed_split(data, cuts);
    for (const std::string& line : d.take_events()) {
      EXPECT_NE(line.substr(0, 2), "!!") << line;
      for (const char* bad : {"request_failed", "request_rejected", "connection_error"}) {
        EXPECT_NE(line.rfind(bad, 0), 0U) << line;
      }
    }
  }

  test::app_driver app_;
  test::client_driver client_;
  app_view seen_;
  client_view got_;
};

struct body_case {
  std::size_t size;
  bool reference;  ///< the zero-copy calls (send_stdin_reference, write_stdout_reference)
  std::size_t read_size;
};

class round_trip_body : public ::testing::TestWithParam<body_case> {};

TEST_P(round_trip_body, body_and_params_arrive_exactly) {
  const body_case c = GetParam();
  const std::string body = pattern(c.size, 7);
  const std::string reply = pattern(c.size, 91);
  const std::string long_name(128, 'N');  // 128: the first length written in four bytes
  const std::string long_value = pattern(300, 3);
  const std::string name_127 = "N127" + std::string(123, 'x');
  const std::string value_127(127, 'y');
  const std::string length_text = std::to_string(c.size);

  round_trip rt;
  protocol::client_connection& client = rt.client().connection();
  const auto key = client.begin_request(protocol::role::responder, true);
  ASSERT_TRUE(key);
  const std::vector<protocol::param> params{
      {"CONTENT_LENGTH", length_text}, {long_name, "v"}, {name_127, value_127}, {"V", long_value}};
  ASSERT_EQ(client.send_params(*key, params), errc{});
  ASSERT_EQ(client.end_params(*key), errc{});
  ASSERT_EQ(c.reference ? client.send_stdin_reference(*key, protocol::as_bytes(body))
                        : client.send_stdin(*key, protocol::as_bytes(body)),
            errc{});
  ASSERT_EQ(client.end_stdin(*key), errc{});
  rt.to_app(c.read_size);

  const app_view& seen = rt.seen();
  ASSERT_EQ(seen.params.size(), params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(seen.params[i].first, params[i].name);
    EXPECT_EQ(seen.params[i].second, params[i].value);
  }
  EXPECT_EQ(seen.body.size(), body.size());
  EXPECT_TRUE(seen.body == body) << "the body arrived changed";
  EXPECT_TRUE(seen.body_ended);

  protocol::app_connection& app = rt.app().connection();
  ASSERT_EQ(c.reference ? app.write_stdout_reference(seen.key, protocol::as_bytes(reply))
                        : app.write_stdout(seen.key, protocol::as_bytes(reply)),
            errc{});
  ASSERT_EQ(app.end_request(seen.key, 0), errc{});
  rt.to_client(c.read_size);

  const client_view& got = rt.got();
  EXPECT_EQ(got.out.size(), reply.size());
  EXPECT_TRUE(got.out == reply) << "the response arrived changed";
  EXPECT_TRUE(got.out_ended);
  EXPECT_TRUE(got.ended);
  EXPECT_EQ(got.end.app_status, 0U);
  EXPECT_EQ(client.active_requests(), 0U);
}

std::string body_case_name(const ::testing::TestParamInfo<body_case>& param_info) {
  const body_case& c = param_info.param;
  return "size_" + std::to_string(c.size) + (c.reference ? "_reference" : "") + "_reads_of_" +
         std::to_string(c.read_size);
}

INSTANTIATE_TEST_SUITE_P(
    sizes, round_trip_body,
    ::testing::Values(body_case{1, false, 1 << 20}, body_case{65527, false, 1 << 20},
                      body_case{65528, false, 1 << 20}, body_case{65529, false, 1 << 20},
                      body_case{65535, false, 1 << 20}, body_case{65536, false, 1 << 20},
                      body_case{65536, true, 1 << 20}, body_case{1 << 20, false, 1 << 20},
                      body_case{1 << 20, true, 1 << 20}, body_case{1 << 20, false, 4093},
                      body_case{65536, false, 1}),
    body_case_name);

TEST(round_trip, param_name_of_128_bytes_is_encoded_with_four_byte_length) {
  round_trip rt;
  protocol::client_connection& client = rt.client().connection();
  const auto key = client.begin_request(protocol::role::responder, false);
  ASSERT_TRUE(key);
  const std::string name(128, 'A');
  const std::vector<protocol::param> params{{name, "1"}};
  ASSERT_EQ(client.send_params(*key, params), errc{});
  const test::bytes data = test::drain(client.output());
  const std::vector<test::decoded_record> records = test::decode_records(data);
  ASSERT_EQ(records.size(), 2U);  // BEGIN_REQUEST, PARAMS
  const std::string& content = records[1].content;
  // §3.4: nameLength 128 -> 0x80000080 (four bytes, high bit set); valueLength 1 -> 0x01.
  ASSERT_EQ(content.size(), 4U + 1U + 128U + 1U);
  EXPECT_EQ(content.substr(0, 5), std::string("\x80\x00\x00\x80\x01", 5));
  EXPECT_EQ(content.substr(5, 128), name);
  EXPECT_EQ(content.substr(133), "1");
}

}  // namespace
}  // namespace fcgi::conformance
