// Round-trip properties: what one side encodes, the other decodes exactly, however the bytes
// are cut on the way (HOSTILE A-6, B-23, D-52).
//
// Random requests (role, KEEP_CONN, 0-40 params with lengths around the 127/128 boundary and
// binary values, bodies of 0-200 KiB, several requests multiplexed) are encoded by
// client_connection and decoded by app_connection; random responses (STDOUT and STDERR writes
// interleaved across requests) go the other way. Seeds are fixed: a failure names its seed and
// replays exactly.
#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/protocol/client_connection.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transcript.hpp"

namespace fcgi::protocol {
namespace {

using fcgi_test::app_record;
using fcgi_test::byte_vector;
using fcgi_test::client_record;
using fcgi_test::pair_list;

constexpr std::uint32_t iterations = 200;

/// A value in [low, high]; modulo keeps the sequence the same on every standard library.
std::size_t uniform(std::mt19937& rng, std::size_t low, std::size_t high) {
  return low + static_cast<std::size_t>(rng()) % (high - low + 1);
}

bool chance(std::mt19937& rng, unsigned percent) { return rng() % 100 < percent; }

/// Lengths that hit the one-byte/four-byte boundary of §3.4 often.
std::size_t pair_length(std::mt19937& rng, std::size_t max_random) {
  static constexpr std::size_t boundaries[] = {0, 1, 126, 127, 128, 129, 255, 256};
  return chance(rng, 50) ? boundaries[uniform(rng, 0, 7)] : uniform(rng, 0, max_random);
}

std::string random_bytes(std::mt19937& rng, std::size_t count) {
  std::string out(count, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

/// Lower-case names never collide with the guarded (upper-case) names, and carry no NUL.
std::string random_name(std::mt19937& rng) {
  std::size_t length = pair_length(rng, 300);
  if (length == 0) length = 1;
  std::string out(length, 'a');
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);
  return out;
}

std::size_t body_length(std::mt19937& rng) {
  static constexpr std::size_t boundaries[] = {0, 1, 65527, 65528, 65529, 65535, 65536};
  if (chance(rng, 30)) return boundaries[uniform(rng, 0, 6)];
  if (chance(rng, 40)) return uniform(rng, 0, 4096);
  return uniform(rng, 0, 200 * 1024);
}

// How the bytes travel from one side to the other.
enum class chunking { whole, random_pieces, one_byte };

std::vector<chunking> strategies_for(std::size_t size) {
  if (size <= 16 * 1024) return {chunking::whole, chunking::random_pieces, chunking::one_byte};
  return {chunking::whole, chunking::random_pieces};
}

const char* name_of(chunking c) {
  switch (c) {
    case chunking::whole: return "whole";
    case chunking::random_pieces: return "random pieces";
    case chunking::one_byte: return "one byte at a time";
  }
  return "?";
}

/// Cuts `input` the way `how` says; calls `feed` with each piece in order.
template <class Feed>
void deliver(bytes_view input, chunking how, std::mt19937& rng, Feed feed) {
  while (!input.empty()) {
    std::size_t n = input.size();
    if (how == chunking::one_byte) n = 1;
    if (how == chunking::random_pieces) {
      // Mostly small pieces that cut headers and pairs, sometimes large ones.
      n = std::min(input.size(), chance(rng, 70) ? uniform(rng, 1, 64) : uniform(rng, 1, 70000));
    }
    if (!feed(input.first(n))) return;
    input = input.subspan(n);
  }
}

// ---------------------------------------------------------------------------------------------
// Requests: client_connection -> app_connection

struct random_request {
  role request_role = role::responder;
  bool keep_conn = true;
  pair_list params;
  std::string body;
  std::string data;  // Filter only
};

random_request make_request(std::mt19937& rng) {
  random_request r;
  r.request_role = static_cast<role>(uniform(rng, 1, 3));
  r.keep_conn = chance(rng, 50);
  const std::size_t count = uniform(rng, 0, 40);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t value_length =
        chance(rng, 3) ? uniform(rng, 65000, 70000) : pair_length(rng, 1000);
    r.params.emplace_back(random_name(rng), random_bytes(rng, value_length));
  }
  r.body = random_bytes(rng, body_length(rng));
  if (chance(rng, 30)) {
    // A correct CONTENT_LENGTH makes the app check the body length too.
    r.params.insert(
        r.params.begin() + static_cast<std::ptrdiff_t>(uniform(rng, 0, r.params.size())),
        std::pair<std::string, std::string>{"CONTENT_LENGTH", std::to_string(r.body.size())});
  }
  if (r.request_role == role::filter) r.data = random_bytes(rng, uniform(rng, 0, 8192));
  return r;
}

// What the client still has to send for one request.
struct send_progress {
  request_key key;
  std::size_t params_sent = 0;
  bool params_ended = false;
  std::size_t body_sent = 0;
  bool body_ended = false;
  std::size_t data_sent = 0;
  bool data_ended = false;
  [[nodiscard]] bool done(const random_request& r) const {
    return params_ended && body_ended && (r.request_role != role::filter || data_ended);
  }
};

/// Performs the next step of one request: a group of params, a piece of a stream, or an end.
void send_step(client_connection& client, const random_request& r, send_progress& p,
               std::mt19937& rng) {
  if (!p.params_ended) {
    if (p.params_sent < r.params.size() && chance(rng, 80)) {
      const std::size_t n = uniform(rng, 1, r.params.size() - p.params_sent);
      std::vector<param> group;
      for (std::size_t i = 0; i < n; ++i) {
        const auto& [name, value] = r.params[p.params_sent + i];
        group.push_back({name, value});
      }
      ASSERT_EQ(client.send_params(p.key, group), errc{});
      p.params_sent += n;
    } else if (p.params_sent == r.params.size()) {
      ASSERT_EQ(client.end_params(p.key), errc{});
      p.params_ended = true;
    }
    return;
  }
  const auto send_piece = [&](const std::string& stream, std::size_t& sent, bool& ended,
                              bool is_data) {
    if (sent < stream.size() && chance(rng, 85)) {
      const std::size_t n = std::min(stream.size() - sent, uniform(rng, 1, 90000));
      const bytes_view piece = as_bytes(std::string_view(stream).substr(sent, n));
      errc e{};
      if (is_data) {
        e = client.send_data(p.key, piece);
      } else {
        e = chance(rng, 50) ? client.send_stdin_reference(p.key, piece)
                            : client.send_stdin(p.key, piece);
      }
      ASSERT_EQ(e, errc{});
      sent += n;
    } else if (sent == stream.size()) {
      ASSERT_EQ(is_data ? client.end_data(p.key) : client.end_stdin(p.key), errc{});
      ended = true;
    }
  };
  if (!p.body_ended) {
    send_piece(r.body, p.body_sent, p.body_ended, false);
  } else {
    send_piece(r.data, p.data_sent, p.data_ended, true);
  }
}

// What the app decoded for one request.
struct received_request {
  int params_ready = 0;
  role request_role{};
  bool keep_conn = false;
  pair_list params;
  std::string body;
  int stdin_end = 0;
  std::string data;
  int data_end = 0;
  std::vector<std::string> errors;
};

void record_app_event(const app_record& e, std::map<std::uint16_t, received_request>& out) {
  received_request& r = out[e.request.id];
  switch (e.kind) {
    case app_event_kind::params_ready:
      ++r.params_ready;
      r.request_role = e.request_role;
      r.keep_conn = e.keep_conn;
      r.params = e.params;
      break;
    case app_event_kind::stdin_chunk:
      if (r.stdin_end != 0) r.errors.push_back("stdin_chunk after stdin_end");
      r.body += e.bytes;
      break;
    case app_event_kind::stdin_end: ++r.stdin_end; break;
    case app_event_kind::data_chunk:
      if (r.stdin_end == 0) r.errors.push_back("data before stdin_end");
      r.data += e.bytes;
      break;
    case app_event_kind::data_end: ++r.data_end; break;
    default: r.errors.push_back(fcgi_test::render(e)); break;
  }
}

void check_request_round_trip(std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::size_t count = uniform(rng, 1, 3);
  std::vector<random_request> requests;
  for (std::size_t i = 0; i < count; ++i) requests.push_back(make_request(rng));

  client_settings client_config;
  client_config.max_requests = 3;
  client_config.reference_threshold = uniform(rng, 1, 32 * 1024);
  client_connection client(client_config);
  std::vector<send_progress> progress(count);
  for (std::size_t i = 0; i < count; ++i) {
    const result<request_key> key =
        client.begin_request(requests[i].request_role, requests[i].keep_conn);
    ASSERT_TRUE(key.has_value());
    progress[i].key = *key;
  }
  // Interleave the requests' steps at random: the byte stream multiplexes them (§3.3).
  for (;;) {
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < count; ++i) {
      if (!progress[i].done(requests[i])) pending.push_back(i);
    }
    if (pending.empty()) break;
    const std::size_t i = pending[uniform(rng, 0, pending.size() - 1)];
    send_step(client, requests[i], progress[i], rng);
    if (testing::Test::HasFatalFailure()) return;
  }
  const byte_vector wire = fcgi_test::drain(client.output());  // bodies are still alive here

  app_settings app_config;
  app_config.params.max_bytes = 4 * 1024 * 1024;  // random params may exceed the 128 KiB default
  app_config.max_connection_params_bytes = 16 * 1024 * 1024;
  for (chunking how : strategies_for(wire.size())) {
    SCOPED_TRACE(std::string("seed ") + std::to_string(seed) + ", " + name_of(how));
    app_connection app(app_config);
    std::map<std::uint16_t, received_request> received;
    deliver(wire, how, rng, [&](bytes_view piece) {
      for (const app_record& e : fcgi_test::feed_records(app, piece)) record_app_event(e, received);
      return !app.failed();
    });
    ASSERT_EQ(received.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
      const random_request& sent = requests[i];
      const received_request& got = received[progress[i].key.id];
      EXPECT_EQ(got.errors, std::vector<std::string>{}) << "request " << i;
      EXPECT_EQ(got.params_ready, 1);
      EXPECT_EQ(got.request_role, sent.request_role);
      EXPECT_EQ(got.keep_conn, sent.keep_conn);
      EXPECT_TRUE(got.params == sent.params) << "params of request " << i << " differ";
      EXPECT_EQ(got.body.size(), sent.body.size());
      EXPECT_TRUE(got.body == sent.body) << "body of request " << i << " differs";
      EXPECT_EQ(got.stdin_end, 1);
      if (sent.request_role == role::filter) {
        EXPECT_TRUE(got.data == sent.data) << "data of request " << i << " differs";
        EXPECT_EQ(got.data_end, 1);
      }
    }
    EXPECT_TRUE(app.output().empty()) << "the app answered something on its own";
    EXPECT_FALSE(app.failed());
  }
}

TEST(roundtrip, requests_client_to_app) {
  for (std::uint32_t seed = 1; seed <= iterations; ++seed) {
    check_request_round_trip(seed);
    if (HasFailure()) {
      ADD_FAILURE() << "stopping at seed " << seed;
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Responses: app_connection -> client_connection

struct expected_response {
  std::string out;
  std::string err;
  std::uint32_t app_status = 0;
};

struct received_response {
  std::string out;
  std::string err;
  int stdout_end = 0;
  int stderr_end = 0;
  int ended = 0;
  end_request_body end;
  std::vector<std::string> errors;
};

std::size_t payload_length(std::mt19937& rng) {
  static constexpr std::size_t boundaries[] = {0, 1, 7, 8, 65528, 65529};
  if (chance(rng, 25)) return boundaries[uniform(rng, 0, 5)];
  if (chance(rng, 70)) return uniform(rng, 0, 3000);
  return uniform(rng, 0, 100000);
}

void record_client_event(const client_record& e, std::map<std::uint16_t, received_response>& out) {
  received_response& r = out[e.request.id];
  if (r.ended != 0) r.errors.push_back("event after request_ended: " + fcgi_test::render(e));
  switch (e.kind) {
    case client_event_kind::stdout_chunk:
      if (r.stdout_end != 0) r.errors.push_back("stdout after its end");
      r.out += e.bytes;
      break;
    case client_event_kind::stderr_chunk:
      if (r.stderr_end != 0) r.errors.push_back("stderr after its end");
      r.err += e.bytes;
      break;
    case client_event_kind::stdout_end: ++r.stdout_end; break;
    case client_event_kind::stderr_end: ++r.stderr_end; break;
    case client_event_kind::request_ended:
      ++r.ended;
      r.end = e.end;
      break;
    default: r.errors.push_back(fcgi_test::render(e)); break;
  }
}

void check_response_round_trip(std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::size_t count = uniform(rng, 1, 3);

  // Open the requests: the client's bytes make the app start them.
  client_settings client_config;
  client_config.max_requests = 3;
  client_connection client(client_config);
  std::vector<request_key> client_keys;
  for (std::size_t i = 0; i < count; ++i) {
    const result<request_key> key = client.begin_request(role::responder, true);
    ASSERT_TRUE(key.has_value());
    ASSERT_EQ(client.end_params(*key), errc{});
    ASSERT_EQ(client.end_stdin(*key), errc{});
    client_keys.push_back(*key);
  }
  app_settings app_config;
  app_config.reference_threshold = uniform(rng, 1, 32 * 1024);
  app_connection app(app_config);
  std::map<std::uint16_t, request_key> app_keys;
  for (const app_record& e : fcgi_test::feed_records(app, fcgi_test::drain(client.output()))) {
    if (e.kind == app_event_kind::params_ready) app_keys[e.request.id] = e.request;
  }
  ASSERT_EQ(app_keys.size(), count);

  // Interleaved writes across the requests, then the ends in a random order.
  std::map<std::uint16_t, expected_response> expected;
  const std::size_t writes = uniform(rng, 0, 30);
  // Referenced bytes must stay put until the drain below: no reallocation may move a short
  // (in-place) string, hence the reserve.
  std::vector<std::string> payloads;
  payloads.reserve(writes);
  for (std::size_t w = 0; w < writes; ++w) {
    const request_key key = app_keys[client_keys[uniform(rng, 0, count - 1)].id];
    payloads.push_back(random_bytes(rng, payload_length(rng)));
    const bytes_view bytes = as_bytes(payloads.back());
    switch (rng() % 3) {
      case 0:
        ASSERT_EQ(app.write_stdout(key, bytes), errc{});
        expected[key.id].out += payloads.back();
        break;
      case 1:
        ASSERT_EQ(app.write_stdout_reference(key, bytes), errc{});
        expected[key.id].out += payloads.back();
        break;
      default:
        ASSERT_EQ(app.write_stderr(key, bytes), errc{});
        expected[key.id].err += payloads.back();
        break;
    }
  }
  std::vector<request_key> order;
  for (const auto& [id, key] : app_keys) order.push_back(key);
  std::shuffle(order.begin(), order.end(), rng);
  for (const request_key& key : order) {
    const auto status = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(app.end_request(key, status), errc{});
    expected[key.id].app_status = status;
  }
  const byte_vector wire = fcgi_test::drain(app.output());

  for (chunking how : strategies_for(wire.size())) {
    SCOPED_TRACE(std::string("seed ") + std::to_string(seed) + ", " + name_of(how));
    client_connection receiver(client_config);
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_TRUE(receiver.begin_request(role::responder, true).has_value());
    }
    receiver.output().clear();
    std::map<std::uint16_t, received_response> received;
    deliver(wire, how, rng, [&](bytes_view piece) {
      for (const client_record& e : fcgi_test::feed_records(receiver, piece))
        record_client_event(e, received);
      return !receiver.failed();
    });
    ASSERT_EQ(received.size(), count);
    for (const auto& [id, want] : expected) {
      const received_response& got = received[id];
      EXPECT_EQ(got.errors, std::vector<std::string>{}) << "id " << id;
      EXPECT_TRUE(got.out == want.out) << "stdout of id " << id << " differs";
      EXPECT_TRUE(got.err == want.err) << "stderr of id " << id << " differs";
      EXPECT_EQ(got.stdout_end, 1) << "id " << id;
      // §6.1 via end_request: an empty STDERR only when STDERR was written.
      EXPECT_EQ(got.stderr_end, want.err.empty() ? 0 : 1) << "id " << id;
      EXPECT_EQ(got.ended, 1) << "id " << id;
      EXPECT_EQ(got.end.app_status, want.app_status) << "id " << id;
      EXPECT_EQ(got.end.protocol_status, 0) << "id " << id;
    }
    EXPECT_EQ(receiver.active_requests(), 0U);
    EXPECT_FALSE(receiver.failed());
    EXPECT_TRUE(receiver.reusable());
  }
}

TEST(roundtrip, responses_app_to_client) {
  for (std::uint32_t seed = 1; seed <= iterations; ++seed) {
    check_response_round_trip(seed);
    if (HasFailure()) {
      ADD_FAILURE() << "stopping at seed " << seed;
      return;
    }
  }
}

}  // namespace
}  // namespace fcgi::protocol
