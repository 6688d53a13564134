// fcgi::client end to end: against our own server runtime on real sockets, and against
// scripted hostile applications (garbage, early close, stray END_REQUEST, silence, a trickle).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcgi/client/async.hpp>
#include <fcgi/client/client.hpp>
#include <fcgi/server/async.hpp>

#include "harness.hpp"
#include "scripted_app.hpp"

namespace fcgi::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
namespace fc = fcgi::client;
using fc::errc;
using protocol::role;

std::vector<std::pair<std::string, std::string>> get_params(std::string_view uri) {
  return cgi_params("GET", uri);
}

fc::pool_settings pool_of(std::size_t max_connections, fc::multiplexing mpx,
                          bool keep_conn = true) {
  fc::pool_settings s;
  s.max_connections = max_connections;
  s.mpx = mpx;
  s.keep_conn = keep_conn;
  return s;
}

fc::request get_request(std::string_view uri) {
  fc::request r;
  r.params = get_params(uri);
  return r;
}

std::string unix_endpoint(const running_server& s) { return "unix:" + s.where().unix_path; }

/// The test app: /hello, /size?n (n bytes), /count (body byte count), /stderr, /wait (a
/// coroutine that waits until aborted), /filter (STDIN + DATA).
void routes(server& app, std::atomic<int>* aborted = nullptr) {
  async_responder(app, [aborted](async_request& req, async_response& res) -> asio::awaitable<void> {
    const std::string_view path = req.script_name();
    if (path == "/wait") {
      asio::steady_timer timer(co_await asio::this_coro::executor, 60s);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec && aborted) ++*aborted;
      co_return;
    }
    std::size_t received = 0;
    for (;;) {
      const std::string_view chunk = co_await req.read_some();
      if (chunk.empty()) break;
      received += chunk.size();
    }
    res.header("Content-Type", "text/plain");
    if (path == "/hello") {
      co_await res.send("Hello, world!\n");
    } else if (path == "/count") {
      co_await res.send(std::to_string(received) + "\n");
    } else if (path == "/size") {
      const std::size_t n = std::stoul(std::string(req.query("n").value_or("0")));
      const std::string block(64 * 1024, 'x');
      for (std::size_t sent = 0; sent < n; sent += block.size())
        co_await res.send(std::string_view(block).substr(0, std::min(block.size(), n - sent)));
    } else if (path == "/stderr") {
      res.error_log("a note");
      co_await res.send("ok");
    }
  });
  app.filter([](request& req, response& res) {
    res.header("Content-Type", "text/plain");
    res.write(req.body());
    res.write(req.data());
  });
}

server_config test_config() {
  server_config config;
  config.idle_timeout = 30s;
  return config;
}

TEST(client, hello_over_unix_and_tcp) {
  running_server unix_app(test_config(), [](server& s) { routes(s); });
  fc::client over_unix(unix_endpoint(unix_app));
  const fc::response r = over_unix.call(get_request("/hello"));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.app_status, 0U);
  EXPECT_NE(r.out.find("\r\n\r\nHello, world!\n"), std::string::npos) << r.out;

  running_server tcp_app(
      test_config(), [](server& s) { routes(s); }, listener::tcp_loopback());
  fc::client over_tcp("tcp:127.0.0.1:" + std::to_string(tcp_app.where().port));
  const fc::response t = over_tcp.call(get_request("/hello"));
  ASSERT_TRUE(t.ok()) << t.detail;
  EXPECT_NE(t.out.find("Hello, world!\n"), std::string::npos);
  fc::client shorthand("127.0.0.1:" + std::to_string(tcp_app.where().port));
  EXPECT_TRUE(shorthand.call(get_request("/hello")).ok());
}

TEST(client, http_request_and_parse_response) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app));
  protocol::cgi_request http;
  http.method = "POST";
  http.target = "/count?x=1";
  http.headers = {{"Proxy", "http://evil"}, {"X-Trace", "7"}};
  http.content_length = 5;
  const protocol::result<fc::request> built =
      fc::http_request(http, fc::body_source::from_string("12345"));
  ASSERT_TRUE(built);
  const auto& params = built.value().params;
  EXPECT_NE(std::find(params.begin(), params.end(),
                      std::pair<std::string, std::string>("HTTP_X_TRACE", "7")),
            params.end());
  EXPECT_TRUE(std::none_of(params.begin(), params.end(),
                           [](const auto& p) { return p.first == "HTTP_PROXY"; }));
  const fc::response r = c.call(built.value());
  ASSERT_TRUE(r.ok()) << r.detail;
  const protocol::result<fc::parsed_response> parsed = fc::parse_response(r);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.value().head.status(), 200);
  EXPECT_EQ(parsed.value().head.content_type(), "text/plain");
  EXPECT_EQ(parsed.value().body, "5\n");

  fc::response cut;
  cut.out = "Content-Type: text/plain\r\n";
  EXPECT_EQ(fc::parse_response(cut).error(), protocol::errc::response_head_incomplete);
  http.target = "/a%00b";
  EXPECT_FALSE(fc::http_request(http));
}

TEST(client, keep_conn_reuses_one_connection) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app), pool_of(16, fc::multiplexing::off));
  for (int i = 0; i < 200; ++i) {
    const fc::response r = c.call(get_request("/hello"));
    ASSERT_TRUE(r.ok()) << i << ": " << r.detail;
    EXPECT_EQ(r.reused_connection, i > 0);
  }
  EXPECT_EQ(c.stats().connections_opened, 1U);
  EXPECT_EQ(c.stats().connections_reused, 199U);
}

TEST(client, without_keep_conn_each_call_has_its_own_connection) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app), pool_of(16, fc::multiplexing::off, false));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.call(get_request("/hello")).ok());
  EXPECT_EQ(c.stats().connections_opened, 20U);
  EXPECT_EQ(c.stats().connections_reused, 0U);
}

TEST(client, posts_10_mib_from_memory_a_file_and_a_pipe) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app));
  const std::string body(10 * 1024 * 1024, 'b');

  fc::request from_memory = get_request("/count");
  from_memory.body = fc::body_source::from_view(body);
  const fc::response m = c.call(from_memory);
  ASSERT_TRUE(m.ok()) << m.detail;
  EXPECT_NE(m.out.find("\r\n\r\n10485760\n"), std::string::npos);

  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("fcgi_client_body_" + std::to_string(::getpid()));
  std::ofstream(file, std::ios::binary) << body;
  fc::request from_file = get_request("/count");
  from_file.body = fc::body_source::from_file(file.string());
  EXPECT_EQ(from_file.body.known_size(), 10 * 1024 * 1024);
  const fc::response f = c.call(from_file);
  std::filesystem::remove(file);
  ASSERT_TRUE(f.ok()) << f.detail;
  EXPECT_NE(f.out.find("\r\n\r\n10485760\n"), std::string::npos);

  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  std::thread writer([&] {
    for (std::size_t sent = 0; sent < body.size();) {
      const ssize_t n = ::write(pipe_fds[1], body.data() + sent,
                                std::min<std::size_t>(100000, body.size() - sent));
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::close(pipe_fds[1]);
  });
  fc::request from_pipe = get_request("/count");
  from_pipe.body = fc::body_source::from_fd(pipe_fds[0], true);
  const fc::response p = c.call(from_pipe);
  writer.join();
  ASSERT_TRUE(p.ok()) << p.detail;
  EXPECT_NE(p.out.find("\r\n\r\n10485760\n"), std::string::npos);
}

TEST(client, streams_a_10_mib_response_to_a_sink) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app));
  fc::request r = get_request("/size?n=10485760");
  std::size_t streamed = 0;
  std::size_t chunks = 0;
  r.on_stdout = [&](std::string_view bytes) {
    streamed += bytes.size();
    ++chunks;
  };
  const fc::response resp = c.call(r);
  ASSERT_TRUE(resp.ok()) << resp.detail;
  EXPECT_TRUE(resp.out.empty());
  EXPECT_EQ(resp.out_bytes, streamed);
  EXPECT_GT(streamed, 10U * 1024 * 1024);
  EXPECT_GT(chunks, 10U);  // delivered as it arrived, not at the end
}

TEST(client, stderr_and_filter_role) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app));
  const fc::response e = c.call(get_request("/stderr"));
  ASSERT_TRUE(e.ok()) << e.detail;
  EXPECT_EQ(e.err, "a note");

  fc::request f = get_request("/filter");
  f.role = role::filter;
  f.body = fc::body_source::from_string("stdin-");
  f.data = fc::body_source::from_string("data");
  const fc::response fr = c.call(f);
  ASSERT_TRUE(fr.ok()) << fr.detail;
  EXPECT_NE(fr.out.find("\r\n\r\nstdin-data"), std::string::npos) << fr.out;

  fc::request bad = get_request("/hello");
  bad.data = fc::body_source::from_string("x");
  EXPECT_EQ(c.call(bad).error, errc::invalid_request);
}

TEST(client, unknown_role_is_reported) {
  running_server app(test_config(), [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app));
  fc::request r = get_request("/hello");
  r.role = role::authorizer;
  const fc::response resp = c.call(r);
  EXPECT_EQ(resp.error, errc::unknown_role);
  EXPECT_TRUE(resp.ended);
  EXPECT_TRUE(c.call(get_request("/hello")).ok());
}

TEST(client, probe_learns_multiplexing_and_limits) {
  server_config config = test_config();
  config.protocol.max_requests = 32;
  running_server app(config, [](server& s) { routes(s); });
  fc::client c(unix_endpoint(app), pool_of(1, fc::multiplexing::probe));
  ASSERT_TRUE(c.call(get_request("/hello")).ok());
  const fc::pool_stats s = c.stats();
  EXPECT_TRUE(s.probed);
  EXPECT_TRUE(s.probe_answered);
  EXPECT_TRUE(s.multiplexing);
  EXPECT_GT(s.app_max_reqs, 0U);

  const fc::values_answer v =
      c.get_values({"FCGI_MPXS_CONNS", "FCGI_MAX_REQS", "FCGI_MAX_CONNS", "UNKNOWN"});
  ASSERT_FALSE(v.error) << v.detail;
  ASSERT_EQ(v.values.size(), 3U);
  EXPECT_EQ(v.values[0], (std::pair<std::string, std::string>("FCGI_MPXS_CONNS", "1")));
}

/// Runs `body` as a coroutine on a fresh io_context until it completes.
void run_async(const std::function<asio::awaitable<void>(asio::io_context&)>& body) {
  asio::io_context context;
  bool finished = false;
  asio::co_spawn(context, body(context), [&](std::exception_ptr e) {
    finished = true;
    if (e) std::rethrow_exception(e);
  });
  context.run_for(30s);
  EXPECT_TRUE(finished);
}

TEST(async_client, multiplexes_64_calls_on_one_connection) {
  running_server app(test_config(), [](server& s) { routes(s); });
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), unix_endpoint(app),
                       pool_of(1, fc::multiplexing::probe));
    const fc::request r = get_request("/hello");
    int ok = 0;
    int done = 0;
    for (int i = 0; i < 64; ++i) {
      asio::co_spawn(
          context,
          [&]() -> asio::awaitable<void> {
            const fc::response resp = co_await c.call(r);
            if (resp.ok() && resp.out.ends_with("Hello, world!\n")) ++ok;
            ++done;
          },
          asio::detached);
    }
    asio::steady_timer tick(context);
    while (done < 64) {
      tick.expires_after(1ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(ok, 64);
    EXPECT_TRUE(c.stats().multiplexing);
    EXPECT_EQ(c.stats().connections_opened, 1U);
    // Request ids in use at once, not calls queued behind one request: all 64 calls start
    // together, so once the connection opens they fit in it side by side.
    EXPECT_GT(c.stats().peak_requests_per_connection, 1U);
  });
}

TEST(async_client, calls_wait_for_a_connection_when_the_pool_is_full) {
  running_server app(test_config(), [](server& s) { routes(s); });
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), unix_endpoint(app),
                       pool_of(2, fc::multiplexing::off));
    const fc::request r = get_request("/hello");
    int ok = 0;
    int done = 0;
    for (int i = 0; i < 20; ++i) {
      asio::co_spawn(
          context,
          [&]() -> asio::awaitable<void> {
            const fc::response resp = co_await c.call(r);
            if (resp.ok()) ++ok;
            ++done;
          },
          asio::detached);
    }
    asio::steady_timer tick(context);
    while (done < 20) {
      EXPECT_LE(c.stats().open_connections, 2U);
      tick.expires_after(1ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(ok, 20);
    EXPECT_EQ(c.stats().connections_opened, 2U);
  });
}

asio::awaitable<void> cancel_then_reuse(asio::io_context& context, std::string endpoint,
                                        fc::multiplexing mode) {
  using namespace asio::experimental::awaitable_operators;
  fc::async_client c(context.get_executor(), endpoint, pool_of(1, mode));
  const fc::request r = get_request("/wait");
  asio::steady_timer timer(context, 200ms);
  auto first = co_await (c.call(r) || timer.async_wait(asio::use_awaitable));
  EXPECT_EQ(first.index(), 1U);  // the timer won; the call was cancelled
  // The same connection serves the next call once the application ended the aborted one.
  const fc::response next = co_await c.call(get_request("/hello"));
  EXPECT_TRUE(next.ok()) << next.detail;
  EXPECT_EQ(c.stats().connections_opened, 1U);
}

TEST(async_client, cancelling_a_call_sends_abort_request_and_keeps_the_connection) {
  for (const fc::multiplexing mode : {fc::multiplexing::on, fc::multiplexing::off}) {
    std::atomic<int> aborted{0};
    running_server app(test_config(), [&](server& s) { routes(s, &aborted); });
    run_async([&](asio::io_context& context) {
      return cancel_then_reuse(context, unix_endpoint(app), mode);
    });
    for (int i = 0; i < 500 && aborted == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(aborted, 1);
  }
}

TEST(client, first_byte_timeout_then_the_pool_recovers) {
  std::atomic<int> aborted{0};
  running_server app(test_config(), [&](server& s) { routes(s, &aborted); });
  for (const fc::multiplexing mode : {fc::multiplexing::off, fc::multiplexing::on}) {
    fc::pool_settings settings = pool_of(1, mode);
    settings.timeouts.first_byte = 200ms;
    fc::client c(unix_endpoint(app), settings);
    const auto started = std::chrono::steady_clock::now();
    const fc::response r = c.call(get_request("/wait"));
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.error, errc::first_byte_timeout) << r.detail;
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 2s);
    const fc::response next = c.call(get_request("/hello"));
    EXPECT_TRUE(next.ok()) << next.detail;
  }
}

TEST(client, refused_endpoints_say_so) {
  fc::client missing("unix:/nonexistent/fcgikit.sock");
  const fc::response r = missing.call(get_request("/"));
  EXPECT_EQ(r.error, errc::refused);
  EXPECT_NE(r.detail.find("/nonexistent/fcgikit.sock"), std::string::npos) << r.detail;

  const listener closed = listener::tcp_loopback();
  const std::uint16_t port = closed.port;
  ::close(closed.fd);
  fc::client nobody("tcp:127.0.0.1:" + std::to_string(port), pool_of(16, fc::multiplexing::off));
  EXPECT_EQ(nobody.call(get_request("/")).error, errc::refused);
  EXPECT_THROW(fc::client("bogus"), std::invalid_argument);
}

// --- scripted hostile applications ------------------------------------------------------

fc::pool_settings plain(std::chrono::milliseconds first_byte = 2s) {
  fc::pool_settings s = pool_of(1, fc::multiplexing::off);
  s.timeouts.first_byte = first_byte;
  s.timeouts.idle = 2s;
  return s;
}

TEST(client_hostile_app, garbage_is_a_protocol_violation) {
  scripted_app app([](int fd, int) {
    if (read_request(fd) != 0) send_all(fd, "HTTP/1.1 200 OK\r\n\r\nnot fastcgi");
  });
  fc::client c(app.endpoint(), plain());
  const fc::response r = c.call(get_request("/"));
  EXPECT_EQ(r.error, errc::protocol_violation);
  EXPECT_NE(r.detail.find("3.3"), std::string::npos) << r.detail;  // names the rule
}

TEST(client_hostile_app, close_mid_record_is_never_success) {
  scripted_app app([](int fd, int) {
    const std::uint16_t id = read_request(fd);
    const std::string out = raw_record(6, id, "Content-Type: text/plain\r\n\r\nhello");
    send_all(fd, std::string_view(out).substr(0, out.size() - 3));
  });
  fc::client c(app.endpoint(), plain());
  const fc::response r = c.call(get_request("/"));
  EXPECT_EQ(r.error, errc::closed_before_end) << r.detail;
  EXPECT_FALSE(r.ended);
}

TEST(client_hostile_app, end_request_for_an_unused_id_closes_and_the_pool_recovers) {
  scripted_app app([](int fd, int index) {
    const std::uint16_t id = read_request(fd);
    if (index == 0) {
      send_all(fd, end_request(static_cast<std::uint16_t>(id + 7)));
    } else {
      send_all(fd,
               raw_record(6, id, "Status: 204\r\n\r\n") + raw_record(6, id, "") + end_request(id));
    }
  });
  fc::client c(app.endpoint(), plain());
  const fc::response bad = c.call(get_request("/"));
  EXPECT_EQ(bad.error, errc::protocol_violation) << bad.detail;
  const fc::response good = c.call(get_request("/"));
  EXPECT_TRUE(good.ok()) << good.detail;
  EXPECT_EQ(c.stats().connections_opened, 2U);
}

TEST(client_hostile_app, silence_hits_the_first_byte_timeout) {
  scripted_app app([](int fd, int) {
    read_request(fd);
    char byte;
    ::recv(fd, &byte, 1, 0);  // until the client gives up and closes
  });
  fc::client c(app.endpoint(), plain(150ms));
  const auto started = std::chrono::steady_clock::now();
  const fc::response r = c.call(get_request("/"));
  EXPECT_EQ(r.error, errc::first_byte_timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(client_hostile_app, a_trickle_one_byte_per_10_ms_is_delivered_whole) {
  const std::string body = "Content-Type: text/plain\r\n\r\ntrickle";
  scripted_app app([&](int fd, int) {
    const std::uint16_t id = read_request(fd);
    const std::string all = raw_record(6, id, body) + raw_record(6, id, "") + end_request(id);
    for (const char byte : all) {
      send_all(fd, std::string_view(&byte, 1));
      std::this_thread::sleep_for(1ms);
    }
  });
  fc::client c(app.endpoint(), plain());
  const fc::response r = c.call(get_request("/"));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.out, body);
}

/// Answers the first request on its first connection, then closes that connection as soon as
/// a second request arrives on it, unanswered: a worker stopped by its process manager while a
/// kept connection sat idle. Later connections are answered normally.
scripted_app closes_a_kept_connection_under_the_next_request() {
  return scripted_app([](int fd, int index) {
    const std::uint16_t id = read_request(fd);
    send_all(fd, raw_record(6, id, "Status: 200\r\n\r\nfirst") + raw_record(6, id, "") +
                     end_request(id));
    if (index == 0) {
      read_request(fd);
      return;  // closed under the request
    }
    for (std::uint16_t next = read_request(fd); next != 0; next = read_request(fd))
      send_all(fd, raw_record(6, next, "Status: 200\r\n\r\nagain") + raw_record(6, next, "") +
                       end_request(next));
  });
}

TEST(client_hostile_app, an_idempotent_call_on_a_stale_kept_connection_is_sent_again) {
  const scripted_app app = closes_a_kept_connection_under_the_next_request();
  fc::client c(app.endpoint(), plain());
  ASSERT_TRUE(c.call(get_request("/")).ok());
  const fc::response r = c.call(get_request("/"));
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.out, "Status: 200\r\n\r\nfirst");  // the answer from the second connection
  EXPECT_FALSE(r.reused_connection);
  EXPECT_EQ(c.stats().retries, 1U);
  EXPECT_EQ(c.stats().connections_opened, 2U);
}

TEST(client_hostile_app, a_post_on_a_stale_kept_connection_is_not_repeated) {
  const scripted_app app = closes_a_kept_connection_under_the_next_request();
  fc::client c(app.endpoint(), plain());
  ASSERT_TRUE(c.call(get_request("/")).ok());
  fc::request post;
  post.params = cgi_params("POST", "/orders", {{"CONTENT_LENGTH", "2"}});
  post.body = fc::body_source::from_string("{}");
  const fc::response r = c.call(post);
  EXPECT_EQ(r.error, errc::closed_before_end) << r.detail;
  EXPECT_EQ(c.stats().retries, 0U);
  fc::pool_settings no_retry = plain();
  no_retry.retry_on_stale_connection = false;
  const scripted_app again = closes_a_kept_connection_under_the_next_request();
  fc::client d(again.endpoint(), no_retry);
  ASSERT_TRUE(d.call(get_request("/")).ok());
  EXPECT_EQ(d.call(get_request("/")).error, errc::closed_before_end);
}

TEST(client_hostile_app, close_after_get_values_then_the_client_reconnects) {
  // php-fpm's behaviour (HOSTILE D-54): answer GET_VALUES, then close.
  scripted_app app([](int fd, int index) {
    if (index == 0) {
      std::array<char, 64> query{};
      ::recv(fd, query.data(), query.size(), 0);
      std::string pairs;
      pairs += '\x0f';
      pairs += '\x01';
      pairs += "FCGI_MPXS_CONNS0";
      send_all(fd, raw_record(10, 0, pairs));
      return;
    }
    const std::uint16_t id = read_request(fd);
    send_all(fd,
             raw_record(6, id, "Status: 204\r\n\r\n") + raw_record(6, id, "") + end_request(id));
  });
  fc::pool_settings settings = plain();
  settings.mpx = fc::multiplexing::probe;
  fc::client c(app.endpoint(), settings);
  const fc::response r = c.call(get_request("/"));
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_TRUE(c.stats().probe_answered);
  EXPECT_FALSE(c.stats().multiplexing);
}

TEST(client_hostile_app, a_probe_nobody_answers_costs_only_the_probe_timeout) {
  // libfcgi answers GET_VALUES only when more bytes follow.
  scripted_app app([](int fd, int index) {
    if (index == 0) {
      char byte;
      while (::recv(fd, &byte, 1, 0) > 0) {
      }
      return;
    }
    const std::uint16_t id = read_request(fd);
    send_all(fd,
             raw_record(6, id, "Status: 204\r\n\r\n") + raw_record(6, id, "") + end_request(id));
  });
  fc::pool_settings settings = plain();
  settings.mpx = fc::multiplexing::probe;
  settings.probe_timeout = 100ms;
  fc::client c(app.endpoint(), settings);
  const auto started = std::chrono::steady_clock::now();
  const fc::response r = c.call(get_request("/"));
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(c.stats().probed);
  EXPECT_FALSE(c.stats().probe_answered);
  EXPECT_FALSE(c.stats().multiplexing);
}

TEST(client_hostile_app, an_application_deaf_to_abort_loses_the_connection_after_the_grace) {
  std::atomic<int> connections{0};
  scripted_app app([&](int fd, int index) {
    ++connections;
    const std::uint16_t id = read_request(fd);
    if (index == 0) {
      char byte;
      while (::recv(fd, &byte, 1, 0) > 0) {  // reads the ABORT_REQUEST, never answers it
      }
      return;
    }
    send_all(fd,
             raw_record(6, id, "Status: 204\r\n\r\n") + raw_record(6, id, "") + end_request(id));
  });
  fc::pool_settings settings = plain(100ms);
  settings.abort_grace = 200ms;
  std::vector<std::string> trace;
  settings.trace = [&](std::string_view line) { trace.emplace_back(line); };
  fc::client c(app.endpoint(), settings);
  EXPECT_EQ(c.call(get_request("/")).error, errc::first_byte_timeout);
  EXPECT_TRUE(std::any_of(trace.begin(), trace.end(), [](const std::string& l) {
    return l.find("> ABORT_REQUEST") != std::string::npos;
  }));
  const fc::response next = c.call(get_request("/"));  // waits for the closed connection
  EXPECT_TRUE(next.ok()) << next.detail;
  EXPECT_EQ(connections, 2);
}

}  // namespace
}  // namespace fcgi::test
