// fcgi::server reporting to a process manager's scoreboard (FCGI_PM_SCOREBOARD): counters,
// heartbeats, and the handler a blocked I/O thread is running.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include <fcgi/runtime/scoreboard.hpp>

#include "harness.hpp"

namespace fcgi::test {
namespace {

using namespace std::chrono_literals;

server_config quiet_config() {
  server_config config;
  config.log = [](std::string_view) {};
  return config;
}

request_spec get(std::string_view uri) {
  request_spec spec;
  spec.params = cgi_params("GET", uri);
  return spec;
}

runtime::scoreboard_snapshot read_board(const runtime::scoreboard& board) {
  auto result = board.read(::getpid());
  if (const auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<runtime::scoreboard_snapshot>(result);
}

/// Polls the board until `ready` holds or 5 s pass (the runtime publishes once a second).
template <class Predicate>
runtime::scoreboard_snapshot wait_for(const runtime::scoreboard& board, Predicate ready) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  runtime::scoreboard_snapshot s = read_board(board);
  while (!ready(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    s = read_board(board);
  }
  return s;
}

TEST(scoreboard_report, counters_heartbeats_and_a_blocked_handler_reach_the_manager) {
  const runtime::scoreboard board = runtime::scoreboard::create();
  ::setenv(runtime::scoreboard_variable, std::to_string(::dup(board.fd())).c_str(), 1);
  std::atomic<bool> release{false};
  server_config config = quiet_config();
  config.threads = 2;
  running_server s(config, [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/block") {
        while (!release) std::this_thread::sleep_for(5ms);
      }
      res.header("Content-Type", "text/plain");
      res.write("ok\n");
    });
  });
  for (int i = 0; i < 5; ++i) {
    client c(s.connect());
    EXPECT_TRUE(c.call(get("/hello")).ended);
  }
  runtime::scoreboard_snapshot seen =
      wait_for(board, [](const auto& snap) { return snap.requests_completed >= 5; });
  ASSERT_TRUE(seen.attached);
  EXPECT_EQ(seen.requests_completed, 5U);
  EXPECT_EQ(seen.connections_accepted, 5U);
  EXPECT_EQ(seen.threads.size(), 2U);
  EXPECT_EQ(std::getenv(runtime::scoreboard_variable), nullptr);

  // A handler that blocks its I/O thread shows what it runs; its heartbeat stops.
  std::thread blocked([&] {
    client c(s.connect());
    c.call(get("/block?n=1"));
  });
  seen = wait_for(board, [](const auto& snap) {
    for (const auto& t : snap.threads) {
      if (t.handler_started) return true;
    }
    return false;
  });
  const runtime::scoreboard_thread* busy = nullptr;
  for (const auto& t : seen.threads) {
    if (t.handler_started) busy = &t;
  }
  ASSERT_NE(busy, nullptr);
  EXPECT_EQ(busy->what, "GET /block?n=1");
  // Its heartbeat stops: it ages past 1 s (a thread that kept beating never would, and the
  // wait would end at its deadline).
  const auto stale = [](const runtime::scoreboard_snapshot& snap) {
    for (const auto& t : snap.threads) {
      if (t.handler_started && runtime::monotonic_now() - t.heartbeat >= 1s) return true;
    }
    return false;
  };
  EXPECT_TRUE(stale(wait_for(board, stale))) << "a blocked thread kept beating";
  release = true;
  blocked.join();
  seen = wait_for(board, [](const auto& snap) {
    for (const auto& t : snap.threads) {
      if (t.handler_started) return false;
    }
    return snap.requests_completed >= 6;
  });
  EXPECT_EQ(seen.requests_completed, 6U);
}

TEST(scoreboard_report, a_bad_scoreboard_is_logged_and_the_app_serves) {
  ::setenv(runtime::scoreboard_variable, "not-a-number", 1);
  server_config config;
  running_server s(config, [](server& app) {
    app.responder([](request&, response& res) { res.write("Content-Type: text/plain\r\n\r\nok"); });
  });
  client c(s.connect());
  EXPECT_TRUE(c.call(get("/")).ended);
  EXPECT_TRUE(s.wait_for_log("not reporting to the process manager"));
}

}  // namespace
}  // namespace fcgi::test
