// HOSTILE.md D-53: tens of thousands of requests on one connection never give two active
// requests the same id (lighttpd r2504 wrapped its request counter into a live id), and a
// request's key never names a later request that reuses its id.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <fcgi/protocol.hpp>
#include <fcgi/test/record_builder.hpp>
#include <fcgi/test/scripted_feed.hpp>

namespace fcgi::conformance {
namespace {

using protocol::errc;
using protocol::request_key;

constexpr std::size_t total_requests = 70'000;

/// Client and application joined back to back, one request at a time or many at once.
class connected_pair {
 public:
  explicit connected_pair(std::uint32_t max_requests)
      : client_(protocol::client_settings{.max_requests = max_requests}), app_([&] {
          protocol::app_settings s;
          s.max_requests = max_requests;
          return s;
        }()) {
    app_.on_event = [this](const protocol::app_event& ev) {
      if (ev.kind == protocol::app_event_kind::params_ready) started_.push_back(ev.request);
      if (ev.kind != protocol::app_event_kind::params_ready &&
          ev.kind != protocol::app_event_kind::stdin_end) {
        ADD_FAILURE() << "unexpected app event " << protocol::to_string(ev.kind);
      }
    };
    client_.on_event = [this](const protocol::client_event& ev) {
      if (ev.kind == protocol::client_event_kind::request_ended) ended_.push_back(ev.request);
    };
  }

  /// Begins a request with empty params and body; returns the client's key and the app's.
  std::pair<request_key, request_key> begin() {
    protocol::client_connection& c = client_.connection();
    const auto key = c.begin_request(protocol::role::responder, true);
    EXPECT_TRUE(key) << protocol::to_string(key.error());
    if (!key) return {};
    EXPECT_EQ(c.end_params(*key), errc{});
    EXPECT_EQ(c.end_stdin(*key), errc{});
    app_.feed(test::drain(c.output()));
    app_.take_events();
    EXPECT_FALSE(started_.empty());
    if (started_.empty()) return {};
    const request_key app_key = started_.back();
    started_.clear();
    return {*key, app_key};
  }

  /// The application ends `app_key`; the client must see that very request end.
  void end(request_key app_key, request_key client_key) {
    ASSERT_EQ(app_.connection().end_request(app_key, 0), errc{});
    client_.feed(test::drain(app_.connection().output()));
    client_.take_events();
    ASSERT_EQ(ended_.size(), 1U);
    EXPECT_EQ(ended_.front(), client_key);
    ended_.clear();
  }

  protocol::app_connection& app() { return app_.connection(); }
  protocol::client_connection& client() { return client_.connection(); }

 private:
  test::client_driver client_;
  test::app_driver app_;
  std::vector<request_key> started_;
  std::vector<request_key> ended_;
};

TEST(many_requests, seventy_thousand_sequential_requests_reuse_id_1_with_fresh_keys) {
  connected_pair pair(1);
  request_key previous_client{};
  request_key previous_app{};
  for (std::size_t i = 0; i < total_requests; ++i) {
    const auto [client_key, app_key] = pair.begin();
    ASSERT_EQ(client_key.id, 1U) << "request " << i;
    ASSERT_EQ(app_key.id, 1U) << "request " << i;
    ASSERT_NE(client_key, previous_client) << "request " << i << " reused a key";
    ASSERT_NE(app_key, previous_app) << "request " << i << " reused a key";
    if (i != 0) {
      // §3.3: output for the request that ended must never reach its successor on id 1.
      ASSERT_EQ(pair.app().write_stdout(previous_app, protocol::as_bytes("late")),
                errc::request_not_active);
      ASSERT_TRUE(pair.app().output().empty());
    }
    pair.end(app_key, client_key);
    previous_client = client_key;
    previous_app = app_key;
  }
  EXPECT_EQ(pair.app().stats().requests_started, total_requests);
  EXPECT_EQ(pair.client().stats().requests_ended, total_requests);
  EXPECT_EQ(pair.client().active_requests(), 0U);
  EXPECT_TRUE(pair.client().reusable());
}

TEST(many_requests, seventy_thousand_requests_eight_at_a_time_never_share_an_id) {
  constexpr std::uint32_t window = 8;
  connected_pair pair(window);
  struct live {
    request_key client;
    request_key app;
  };
  std::vector<live> active;
  std::uint64_t state = 12345;
  std::size_t begun = 0;
  while (begun < total_requests || !active.empty()) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const bool can_begin = begun < total_requests && active.size() < window;
    if (can_begin && (active.empty() || (state >> 40U) % 3 != 0)) {
      const auto [client_key, app_key] = pair.begin();
      ASSERT_GE(client_key.id, 1U);
      ASSERT_LE(client_key.id, window);
      ASSERT_EQ(app_key.id, client_key.id);
      for (const live& l : active) {
        ASSERT_NE(l.client.id, client_key.id) << "request " << begun << " took a live id";
      }
      active.push_back({client_key, app_key});
      ++begun;
    } else {
      // End a pseudo-randomly chosen live request, so ids free up out of order.
      const std::size_t which = static_cast<std::size_t>((state >> 20U) % active.size());
      pair.end(active[which].app, active[which].client);
      ASSERT_EQ(pair.app().write_stdout(active[which].app, protocol::as_bytes("late")),
                errc::request_not_active);
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(which));
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(pair.client().stats().requests_ended, total_requests);
  EXPECT_TRUE(pair.app().output().empty());
}

TEST(many_requests, client_refuses_a_request_past_its_limit_instead_of_reusing_an_id) {
  protocol::client_connection client(protocol::client_settings{.max_requests = 3});
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 3; ++i) {
    const auto key = client.begin_request(protocol::role::responder, true);
    ASSERT_TRUE(key);
    ids.insert(key->id);
  }
  EXPECT_EQ(ids, (std::set<std::uint16_t>{1, 2, 3}));
  const auto refused = client.begin_request(protocol::role::responder, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::too_many_active_requests);
}

}  // namespace
}  // namespace fcgi::conformance
