// Coroutine handlers end to end: streaming input, held output (the nginx/Caddy trap),
// backpressure, cancellation, fairness between multiplexed requests.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <fcgi/server/async.hpp>

#include "harness.hpp"

namespace fcgi::test {
namespace {

using protocol::role;
namespace asio = boost::asio;

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

request_spec post(std::string_view uri, std::string body) {
  request_spec spec{role::responder, true, cgi_params("POST", uri), std::move(body), {}};
  spec.params.emplace_back("CONTENT_LENGTH", std::to_string(spec.body.size()));
  return spec;
}

asio::awaitable<void> sleep_ms(long ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::use_awaitable);
}

TEST(async_server, streams_a_body_it_never_holds_whole) {
  std::atomic<std::size_t> largest_chunk{0};
  running_server s({}, [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      std::uint64_t total = 0;
      for (;;) {
        const std::string_view chunk = co_await req.read_some();
        if (chunk.empty()) break;
        total += chunk.size();
        largest_chunk = std::max(largest_chunk.load(), chunk.size());
      }
      co_await res.send(std::to_string(total));
    });
  });
  client c(s.connect());
  const reply r = c.call(post("/upload", pattern(10 * 1024 * 1024)));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), std::to_string(10 * 1024 * 1024));
  EXPECT_LT(largest_chunk.load(), 10U * 1024 * 1024);  // it came in pieces, not whole
}

TEST(async_server, echoing_while_reading_holds_output_until_the_body_ended) {
  server_config config;
  config.held_output_memory = 64 * 1024;  // force the temp-file spill
  running_server s(config, [](server& app) {
    async_responder(app, [](async_request& req, async_response& res) -> asio::awaitable<void> {
      res.header("Content-Type", "application/octet-stream");
      for (;;) {
        const std::string_view chunk = co_await req.read_some();
        if (chunk.empty()) break;
        if (!co_await res.send(chunk)) co_return;
      }
    });
  });
  // The client sends the whole body before reading anything, as Caddy does: an app that
  // wrote while reading would fill the socket and deadlock.
  const int fd = s.connect();
  int small = 64 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  client c(fd);
  const std::string body = pattern(10 * 1024 * 1024);
  const reply r = c.call(post("/echo", body));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body().size(), body.size());
  EXPECT_TRUE(r.body() == body);
}

TEST(async_server, send_waits_for_a_slow_reader) {
  std::atomic<std::uint64_t> produced{0};
  constexpr std::uint64_t total = 64ULL * 1024 * 1024;
  server_config config;
  config.max_output_buffer = 256 * 1024;
  running_server s(config, [&](server& app) {
    async_responder(app, [&](async_request&, async_response& res) -> asio::awaitable<void> {
      const std::string block(64 * 1024, 'b');
      while (produced < total) {
        if (!co_await res.send(block)) co_return;
        produced += block.size();
      }
    });
  });
  const int fd = s.connect();
  client c(fd);
  c.start({role::responder, true, cgi_params("GET", "/big"), {}, {}});
  c.flush();
  // While nobody reads, production stops at roughly the buffer bound plus socket buffers.
  std::uint64_t seen = 0;
  for (int stable = 0; stable < 3;) {
    const std::uint64_t now = produced.load();
    stable = now == seen ? stable + 1 : 0;
    seen = now;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LT(seen, total / 4);
  const reply r = c.wait({1, 1});
  EXPECT_EQ(r.body().size(), total);
}

TEST(async_server, abort_cancels_a_waiting_coroutine_and_ends_the_request_once) {
  std::atomic<bool> cancelled{false};
  std::mutex mutex;
  std::condition_variable entered_changed;
  bool entered = false;
  running_server s({}, [&](server& app) {
    async_responder(app, [&](async_request&, async_response& res) -> asio::awaitable<void> {
      {
        std::lock_guard lock(mutex);
        entered = true;
      }
      entered_changed.notify_all();
      try {
        co_await sleep_ms(60000);
      } catch (const boost::system::system_error&) {
        cancelled = true;
        throw;
      }
      co_await res.send("too late");
    });
  });
  client c(s.connect());
  const auto key = c.start({role::responder, true, cgi_params("GET", "/slow"), {}, {}});
  c.flush();
  {
    std::unique_lock lock(mutex);  // abort while the handler waits, not before it starts
    ASSERT_TRUE(entered_changed.wait_for(lock, std::chrono::seconds(10), [&] { return entered; }));
  }
  c.protocol_state().abort_request(key);
  const reply r = c.wait(key);  // the client's 10 s read timeout would fail a 60 s wait
  ASSERT_TRUE(r.ended);
  EXPECT_TRUE(cancelled.load());
  EXPECT_EQ(r.protocol_status, 0);
}

TEST(async_server, a_slow_request_does_not_hold_up_its_neighbours) {
  running_server s({}, [](server& app) {
    async_responder(app, [](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/slow") co_await sleep_ms(500);
      co_await res.send(std::string(req.script_name()));
    });
  });
  client c(s.connect(), 8);
  const auto slow = c.start({role::responder, true, cgi_params("GET", "/slow"), {}, {}});
  const auto fast = c.start({role::responder, true, cgi_params("GET", "/fast"), {}, {}});
  c.flush();
  const reply f = c.wait(fast);
  EXPECT_EQ(f.body(), "/fast");
  const reply sl = c.wait(slow);
  EXPECT_EQ(sl.body(), "/slow");
}

TEST(async_server, a_throwing_coroutine_gets_500) {
  running_server s({}, [](server& app) {
    async_responder(app, [](async_request&, async_response&) -> asio::awaitable<void> {
      co_await sleep_ms(1);
      throw std::runtime_error("async kaboom");
    });
  });
  client c(s.connect());
  const reply r = c.call({role::responder, true, cgi_params("GET", "/x"), {}, {}});
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.head(), "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n");
  EXPECT_NE(r.app_status, 0U);
  EXPECT_EQ(c.call({role::responder, true, cgi_params("GET", "/y"), {}, {}}).app_status, 1U);
}

TEST(async_server, filter_streams_data_after_stdin) {
  running_server s({}, [](server& app) {
    async_filter(app, [](async_request& req, async_response& res) -> asio::awaitable<void> {
      const std::string body(co_await req.read_all());
      std::string data;
      for (;;) {
        const std::string_view chunk = co_await req.read_data_some();
        if (chunk.empty()) break;
        data += chunk;
      }
      co_await res.send(body + "|" + data);
    });
  });
  client c(s.connect());
  request_spec spec{role::filter, true, cgi_params("GET", "/f"), "stdin", pattern(300000)};
  const reply r = c.call(spec);
  EXPECT_EQ(r.body(), "stdin|" + pattern(300000));
}

}  // namespace
}  // namespace fcgi::test

namespace fcgi::test {
namespace {

TEST(async_server, a_body_that_stalls_is_cut_after_input_timeout) {
  server_config config;
  config.input_timeout = std::chrono::milliseconds(300);
  running_server s(config, [](server& app) {
    async_responder(app, [](async_request& req, async_response& res) -> asio::awaitable<void> {
      co_await req.read_all();
      co_await res.send("never");
    });
  });
  client c(s.connect());
  request_spec spec = post("/stall", "");
  spec.params.back().second = "100";  // CONTENT_LENGTH 100, but only 10 bytes ever come
  c.send_raw(raw_record(1, 1, std::string("\0\1\1\0\0\0\0\0", 8)));
  std::string pairs;
  for (const auto& [name, value] : spec.params) {
    pairs += static_cast<char>(name.size());
    pairs += static_cast<char>(value.size());
    pairs += name + value;
  }
  c.send_raw(raw_record(4, 1, pairs));
  c.send_raw(raw_record(4, 1, ""));
  c.send_raw(raw_record(5, 1, "0123456789"));
  EXPECT_TRUE(c.wait_closed(std::chrono::seconds(10)));
  EXPECT_TRUE(s.wait_for_log("input_timeout"));
}

}  // namespace
}  // namespace fcgi::test
