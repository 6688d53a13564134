// The handler pool (server_config::handler_threads), request_timeout, and the bounded output
// of handlers on the I/O thread, end to end through real sockets.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <fcgi/server/async.hpp>

#include "harness.hpp"

namespace fcgi::test {
namespace {

using namespace std::chrono_literals;
using boost::asio::awaitable;
using protocol::role;

/// A one-shot event between the test and a handler; every wait has a deadline, so a broken
/// server fails the test instead of hanging it.
class event {
 public:
  void set() {
    {
      std::lock_guard lock(mutex_);
      set_ = true;
    }
    changed_.notify_all();
  }
  bool wait(std::chrono::milliseconds deadline = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool set_ = false;
};

/// Sets an event when the test ends, so a failed assertion cannot leave a handler blocked
/// (the server's destructor waits for pool handlers to return).
class set_at_exit {
 public:
  explicit set_at_exit(event& e) : event_(e) {}
  ~set_at_exit() { event_.set(); }
  set_at_exit(const set_at_exit&) = delete;
  set_at_exit& operator=(const set_at_exit&) = delete;

 private:
  event& event_;
};

request_spec get(std::string_view uri) {
  return {role::responder, true, cgi_params("GET", uri), {}, {}};
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

server_config pool_config(unsigned handler_threads) {
  server_config config;
  config.handler_threads = handler_threads;
  return config;
}

/// Polls `value` until it stops changing for three looks in a row; returns it.
std::uint64_t settled(const std::atomic<std::uint64_t>& value) {
  std::uint64_t seen = value.load();
  for (int stable = 0, looks = 0; stable < 3 && looks < 100; ++looks) {
    std::this_thread::sleep_for(100ms);
    const std::uint64_t now = value.load();
    stable = now == seen ? stable + 1 : 0;
    seen = now;
  }
  return seen;
}

/// Bytes in this process's unlinked temp files (fcgikit's output spill files).
std::uint64_t spilled_bytes(std::size_t* files = nullptr) {
  std::uint64_t total = 0;
  std::size_t count = 0;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ignored)) {
    const std::string target = std::filesystem::read_symlink(entry.path(), ignored).string();
    // O_TMPFILE files show as "/dir/#INODE (deleted)".
    if (target.find("/#") == std::string::npos || !target.ends_with(" (deleted)")) continue;
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) == 0) {
      total += static_cast<std::uint64_t>(info.st_size);
      ++count;
    }
  }
  if (files != nullptr) *files = count;
  return total;
}

/// A client connection whose receive buffer is small and which reads nothing until told.
int slow_reader(const running_server& s) {
  const int fd = s.connect();
  int small = 16 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  return fd;
}

server_config parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return server_config::from_args(static_cast<int>(argv.size()), argv.data());
}

TEST(pool_server, from_args_reads_handler_threads_and_request_timeout) {
  const server_config defaults = parse({"app"});
  EXPECT_EQ(defaults.handler_threads, 0U);
  EXPECT_EQ(defaults.request_timeout, 0ms);
  const server_config set =
      parse({"app", "--handler-threads", "8", "--request-timeout=500ms", "--threads=2"});
  EXPECT_EQ(set.handler_threads, 8U);
  EXPECT_EQ(set.request_timeout, 500ms);
  EXPECT_EQ(set.threads, 2U);
  EXPECT_EQ(parse({"app", "--request-timeout", "30"}).request_timeout, 30s);
  EXPECT_EQ(parse({"app", "--request-timeout", "2m"}).request_timeout, 2min);
  EXPECT_EQ(parse({"app", "--request-timeout", "1h"}).request_timeout, 1h);
  EXPECT_EQ(parse({"app", "--request-timeout", "0"}).request_timeout, 0ms);
  EXPECT_EXIT(parse({"app", "--request-timeout", "soon"}), testing::ExitedWithCode(2), "duration");
  EXPECT_EXIT(parse({"app", "--request-timeout", "-5s"}), testing::ExitedWithCode(2), "duration");
  EXPECT_EXIT(parse({"app", "--handler-threads", "many"}), testing::ExitedWithCode(2), "0..1024");
}

TEST(pool_server, a_blocking_handler_stalls_neither_other_connections_nor_its_neighbours) {
  event entered;
  event release;
  running_server s(pool_config(2), [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/block") {
        entered.set();
        release.wait(30s);
        res.write("unblocked");
        return;
      }
      res.write(req.script_name());
    });
  });
  const set_at_exit open_gate(release);
  client multiplexed(s.connect(), 8);
  const auto blocked = multiplexed.start(get("/block"));
  multiplexed.flush();
  ASSERT_TRUE(entered.wait());

  client other(s.connect());
  const reply elsewhere = other.call(get("/other-connection"));
  ASSERT_TRUE(elsewhere.ended);
  EXPECT_EQ(elsewhere.body(), "/other-connection");
  const reply neighbour = multiplexed.call(get("/same-connection"));
  ASSERT_TRUE(neighbour.ended);
  EXPECT_EQ(neighbour.body(), "/same-connection");

  release.set();
  const reply r = multiplexed.wait(blocked);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.app_status, 0U);
  EXPECT_EQ(r.body(), "unblocked");
}

TEST(pool_server, a_big_response_arrives_whole_and_in_order) {
  const std::string expected = pattern(6 * 1024 * 1024 + 12345);
  running_server s(pool_config(2), [&](server& app) {
    app.responder([&](request&, response& res) {
      res.header("Content-Type", "application/octet-stream");
      // Writes of every size, with STDERR in between, must come out as one ordered stream.
      std::size_t at = 0;
      for (std::size_t size = 1; at < expected.size(); size = size * 3 % 200'003 + 1) {
        const std::size_t n = std::min(size, expected.size() - at);
        if (!res.write(std::string_view(expected).substr(at, n))) return;
        at += n;
        if (size % 7 == 0) res.error_log("note\n");
      }
    });
  });
  client c(s.connect());
  const reply r = c.call(get("/big"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body().size(), expected.size());
  EXPECT_TRUE(r.body() == expected);
  EXPECT_EQ(r.stderr_bytes.find_first_not_of("note\n"), std::string::npos);
}

TEST(pool_server, writes_wait_while_the_peer_does_not_read) {
  constexpr std::size_t bound = 256 * 1024;
  constexpr std::uint64_t total = 32ULL * 1024 * 1024;
  std::atomic<std::uint64_t> produced{0};
  server_config config = pool_config(1);
  config.max_output_buffer = bound;
  running_server s(config, [&](server& app) {
    app.responder([&](request&, response& res) {
      const std::string block(64 * 1024, 'b');
      while (produced < total) {
        if (!res.write(block)) return;
        produced += block.size();
      }
    });
  });
  client c(slow_reader(s));
  const auto key = c.start(get("/big"));
  c.flush();
  // Nobody reads: production stops near the bound (this request's unsent output, plus the
  // connection's queue and the socket buffers), far below the total.
  const std::uint64_t seen = settled(produced);
  std::printf(
      "[ measured ] produced %llu bytes with max_output_buffer %zu and a reader that "
      "does not read\n",
      static_cast<unsigned long long>(seen), bound);
  EXPECT_GE(seen, bound);
  EXPECT_LT(seen, 3U * 1024 * 1024);
  const reply r = c.wait(key);  // reading now lets it finish
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body().size(), total);
  EXPECT_EQ(r.app_status, 0U);
}

TEST(pool_server, abort_wakes_a_writer_waiting_for_the_reader) {
  std::atomic<std::uint64_t> produced{0};
  std::atomic<bool> saw_aborted{false};
  event returned;
  server_config config = pool_config(2);
  config.max_output_buffer = 128 * 1024;
  running_server s(config, [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/hello") {
        res.write("hello");
        return;
      }
      const std::string block(64 * 1024, 'a');
      while (res.write(block)) produced += block.size();
      saw_aborted = res.aborted();
      returned.set();
    });
  });
  client c(slow_reader(s), 4);
  const auto key = c.start(get("/endless"));
  c.flush();
  settled(produced);  // the handler now waits in write()
  c.protocol_state().abort_request(key);
  const reply r = c.wait(key);
  ASSERT_TRUE(r.ended);
  EXPECT_NE(r.app_status, 0U);  // spec 5.4: answered at once, not completed
  ASSERT_TRUE(returned.wait());
  EXPECT_TRUE(saw_aborted.load());
  EXPECT_EQ(c.call(get("/hello")).body(), "hello");  // the connection carries on
}

TEST(pool_server, a_vanished_peer_cancels_a_handler_that_is_not_writing) {
  event entered;
  event returned;
  std::atomic<bool> saw_aborted{false};
  std::atomic<bool> write_failed{false};
  running_server s(pool_config(2), [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/hello") {
        res.write("hello");
        return;
      }
      entered.set();
      // Long work that checks for cancellation now and then.
      const auto until = std::chrono::steady_clock::now() + 10s;
      while (!res.aborted() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(5ms);
      }
      saw_aborted = res.aborted();
      write_failed = !res.write("nobody hears this");
      returned.set();
    });
  });
  {
    client gone(s.connect());
    gone.start(get("/work"));
    gone.flush();
    ASSERT_TRUE(entered.wait());
  }  // closed while the handler works
  ASSERT_TRUE(returned.wait());
  EXPECT_TRUE(saw_aborted.load());
  EXPECT_TRUE(write_failed.load());
  client c(s.connect());
  EXPECT_EQ(c.call(get("/hello")).body(), "hello");
}

awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

/// The log line naming a timed-out request, or empty.
std::string timeout_line(const running_server& s, std::string_view uri) {
  for (const std::string& line : s.log_lines()) {
    if (line.find("request_timeout") != std::string::npos && line.find(uri) != std::string::npos) {
      return line;
    }
  }
  return {};
}

TEST(pool_server, request_timeout_cancels_a_coroutine_that_waits_forever) {
  server_config config;
  config.request_timeout = 300ms;
  std::atomic<bool> cancelled{false};
  running_server s(config, [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> awaitable<void> {
      if (req.script_name() == "/forever") {
        try {
          co_await sleep_for(10min);
        } catch (const boost::system::system_error&) {
          cancelled = true;
          throw;
        }
      }
      co_await res.send("served");
    });
  });
  client c(s.connect(), 4);
  const auto started = std::chrono::steady_clock::now();
  const reply r = c.call(get("/forever"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r.ended);
  EXPECT_NE(r.app_status, 0U);
  EXPECT_NE(r.stderr_bytes.find("request_timeout"), std::string::npos);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 300ms + 5s);  // checked once a second; generous for sanitizer builds
  ASSERT_TRUE(s.wait_for_log("request_timeout"));
  EXPECT_NE(timeout_line(s, "GET /forever").find(" ms"), std::string::npos);
  const reply next = c.call(get("/next"));  // same connection
  ASSERT_TRUE(next.ended);
  EXPECT_EQ(next.body(), "served");
  EXPECT_TRUE(cancelled.load());
}

TEST(pool_server, request_timeout_answers_for_a_pool_handler_that_blocks_forever) {
  server_config config = pool_config(2);
  config.request_timeout = 300ms;
  event release_first;
  event first_returned;
  event second_entered;
  event release_second;
  std::atomic<bool> first_saw_aborted{false};
  std::atomic<bool> first_write_failed{false};
  running_server s(config, [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/forever") {
        release_first.wait(60s);  // blocks "forever": the test releases it at the end
        first_saw_aborted = res.aborted();
        first_write_failed = !res.write("LATE BYTES FROM THE TIMED-OUT HANDLER");
        first_returned.set();
      } else if (req.script_name() == "/second") {
        second_entered.set();
        release_second.wait(30s);
        res.write("second");
      } else {
        res.write("hello");
      }
    });
  });
  const set_at_exit open_first(release_first);
  const set_at_exit open_second(release_second);
  client c(s.connect(), 4);
  const auto started = std::chrono::steady_clock::now();
  const auto first = c.start(get("/forever"));
  const reply r = c.wait(first);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r.ended);
  EXPECT_NE(r.app_status, 0U);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 300ms + 5s);
  ASSERT_TRUE(s.wait_for_log("request_timeout"));
  EXPECT_FALSE(timeout_line(s, "GET /forever").empty());

  // Another request is served while the timed-out handler still holds its thread.
  EXPECT_EQ(c.call(get("/hello")).body(), "hello");

  // The freed id is reused (the client takes the lowest free id): the old handler's late
  // writes must not reach the new request.
  const auto second = c.start(get("/second"));
  c.flush();
  EXPECT_EQ(second.id, first.id);
  ASSERT_TRUE(second_entered.wait());
  release_first.set();
  ASSERT_TRUE(first_returned.wait());
  EXPECT_TRUE(first_saw_aborted.load());
  EXPECT_TRUE(first_write_failed.load());
  release_second.set();
  const reply r2 = c.wait(second);
  ASSERT_TRUE(r2.ended);
  EXPECT_EQ(r2.stdout_bytes, "\r\nsecond");
  EXPECT_EQ(r2.app_status, 0U);
}

TEST(pool_server, a_handler_on_the_io_thread_past_request_timeout_is_logged) {
  server_config config;
  config.request_timeout = 100ms;
  running_server s(config, [](server& app) {
    app.responder([](request&, response& res) {
      std::this_thread::sleep_for(300ms);  // blocks its I/O thread: nothing can interrupt it
      res.write("late but whole");
    });
  });
  client c(s.connect());
  const reply r = c.call(get("/sleepy"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), "late but whole");
  EXPECT_EQ(r.app_status, 0U);
  EXPECT_TRUE(s.wait_for_log("cannot interrupt"));
  EXPECT_FALSE(timeout_line(s, "GET /sleepy").empty());
}

TEST(pool_server, a_pool_handler_that_throws_gets_500_and_the_connection_carries_on) {
  running_server s(pool_config(1), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/boom") throw std::runtime_error("pool kaboom");
      res.write("fine");
    });
  });
  client c(s.connect());
  const reply r = c.call(get("/boom"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.head(), "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n");
  EXPECT_NE(r.app_status, 0U);
  EXPECT_TRUE(s.wait_for_log("pool kaboom"));
  EXPECT_EQ(c.call(get("/ok")).body(), "fine");
}

TEST(pool_server, stop_waits_for_a_running_pool_handler) {
  event entered;
  event release;
  running_server s(pool_config(1), [&](server& app) {
    app.responder([&](request&, response& res) {
      entered.set();
      release.wait(30s);
      res.write("finished");
    });
  });
  const set_at_exit open_gate(release);
  client c(s.connect());
  const auto key = c.start(get("/work"));
  c.flush();
  ASSERT_TRUE(entered.wait());
  std::atomic<bool> returned{false};
  std::atomic<int> status{-1};
  std::thread stopper([&] {
    status = s.stop_and_wait();
    returned = true;
  });
  // Once the server refuses new connections it is stopping; it must not return while the
  // handler still runs.
  bool refused = false;
  for (const auto until = std::chrono::steady_clock::now() + 10s;
       !refused && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(10ms)) {
    try {
      ::close(s.connect());
    } catch (const std::system_error&) {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_FALSE(returned.load());
  release.set();
  const reply r = c.wait(key);
  stopper.join();
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), "finished");
  EXPECT_EQ(status.load(), 0);
}

TEST(pool_server, io_thread_output_past_held_output_memory_goes_to_a_temp_file) {
  constexpr std::size_t memory = 256 * 1024;
  const std::string expected = pattern(10 * 1024 * 1024);
  event returned;
  server_config config;
  config.held_output_memory = memory;
  running_server s(config, [&](server& app) {
    app.responder([&](request&, response& res) {
      res.header("Content-Type", "application/octet-stream");
      for (std::size_t at = 0; at < expected.size(); at += 100'000) {
        res.write(std::string_view(expected).substr(at, 100'000));
      }
      returned.set();
    });
  });
  ASSERT_EQ(spilled_bytes(), 0U);
  client c(slow_reader(s));
  const auto key = c.start(get("/ten-mib"));
  c.flush();
  // The handler runs to completion though nobody reads; what the connection could not send
  // waits on disk, and memory holds at most held_output_memory of it.
  ASSERT_TRUE(returned.wait());
  std::size_t files = 0;
  const std::uint64_t on_disk = spilled_bytes(&files);
  std::printf(
      "[ measured ] %llu of %zu bytes spilled to %zu temp file(s) with "
      "held_output_memory %zu\n",
      static_cast<unsigned long long>(on_disk), expected.size(), files, memory);
  EXPECT_EQ(files, 1U);
  // In memory: the queue (held_output_memory) plus what the sockets buffer; generous margin.
  EXPECT_GT(on_disk, expected.size() - memory - 2U * 1024 * 1024);
  const reply r = c.wait(key);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.app_status, 0U);
  EXPECT_EQ(r.body().size(), expected.size());
  EXPECT_TRUE(r.body() == expected);
  EXPECT_EQ(spilled_bytes(&files), 0U);  // sent whole: the temp file is closed
  EXPECT_EQ(files, 0U);
}

TEST(pool_server, spilled_output_is_dropped_when_the_request_is_aborted) {
  event returned;
  server_config config;
  config.held_output_memory = 64 * 1024;
  running_server s(config, [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/hello") {
        res.write("hello");
        return;
      }
      res.write(pattern(4 * 1024 * 1024));
      returned.set();
    });
  });
  client c(slow_reader(s), 4);
  const auto key = c.start(get("/four-mib"));
  c.flush();
  ASSERT_TRUE(returned.wait());
  c.protocol_state().abort_request(key);
  const reply r = c.wait(key);
  ASSERT_TRUE(r.ended);
  EXPECT_NE(r.app_status, 0U);
  EXPECT_LT(r.body().size(), 4U * 1024 * 1024);  // the rest was dropped, not sent
  EXPECT_EQ(spilled_bytes(), 0U);
  EXPECT_EQ(c.call(get("/hello")).body(), "hello");
}

}  // namespace
}  // namespace fcgi::test
