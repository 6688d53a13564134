// fcgi::server end to end through real sockets: behaviour, limits and hostile peers.
// Each hostile case also shows that a concurrent normal request is still served.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "harness.hpp"

namespace fcgi::test {
namespace {

using protocol::role;

void hello(request&, response& res) {
  res.header("Content-Type", "text/plain");
  res.write("Hello, world!\n");
}

void echo_body(request& req, response& res) {
  res.header("Content-Type", "application/octet-stream");
  res.write(req.body());
}

void sized(request& req, response& res) {
  const std::size_t size = std::stoul(std::string(req.query("size").value_or("0")));
  res.header("Content-Type", "application/octet-stream");
  std::string block(size, 'z');
  res.write(block);
}

/// Every test server also answers /hello, so expect_still_serving works against any of them.
server::handler with_hello(server::handler h) {
  return [h = std::move(h)](request& req, response& res) {
    if (req.script_name() == "/hello") return hello(req, res);
    h(req, res);
  };
}

server_config quiet_config() {
  server_config config;
  config.idle_timeout = std::chrono::seconds(30);
  return config;
}

request_spec get(std::string_view uri) {
  return {role::responder, true, cgi_params("GET", uri), {}, {}};
}

/// A normal request on a fresh connection still works (the "others carry on" half of every
/// hostile test).
void expect_still_serving(running_server& s) {
  client c(s.connect());
  const reply r = c.call(get("/hello"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), "Hello, world!\n");
}

TEST(server, hello_over_unix_socket) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client c(s.connect());
  const reply r = c.call(get("/hello"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.protocol_status, 0);
  EXPECT_EQ(r.app_status, 0U);
  EXPECT_EQ(r.head(), "Content-Type: text/plain\r\n");
  EXPECT_EQ(r.body(), "Hello, world!\n");
}

TEST(server, hello_over_tcp) {
  running_server s(
      quiet_config(), [](server& app) { app.responder(hello); }, listener::tcp_loopback());
  expect_still_serving(s);
}

TEST(server, keep_conn_serves_many_requests_on_one_connection) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client c(s.connect());
  for (int i = 0; i < 200; ++i) {
    const reply r = c.call(get("/hello"));
    ASSERT_TRUE(r.ended) << i;
    ASSERT_EQ(r.body(), "Hello, world!\n");
  }
}

TEST(server, without_keep_conn_the_application_closes) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client c(s.connect());
  request_spec spec = get("/hello");
  spec.keep_conn = false;
  const reply r = c.call(spec);
  ASSERT_TRUE(r.ended);
  EXPECT_TRUE(c.wait_closed());  // spec 5.1: the application closes after responding
}

TEST(server, multiplexed_requests_get_their_own_answers) {
  running_server s(quiet_config(), [](server& app) { app.responder(with_hello(echo_body)); });
  client c(s.connect(), 16);
  std::vector<std::pair<protocol::request_key, std::string>> sent;
  for (int i = 0; i < 16; ++i) {
    request_spec spec{role::responder,
                      true,
                      cgi_params("POST", "/echo"),
                      "body of request " + std::to_string(i) +
                          std::string(static_cast<std::size_t>(i) * 1000, 'x'),
                      {}};
    spec.params.emplace_back("CONTENT_LENGTH", std::to_string(spec.body.size()));
    sent.emplace_back(c.start(spec), spec.body);
  }
  c.flush();
  for (const auto& [key, body] : sent) {
    const reply r = c.wait(key);
    ASSERT_TRUE(r.ended);
    EXPECT_EQ(r.body(), body);
  }
}

TEST(server, post_of_10_mib_is_received_whole) {
  running_server s(quiet_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      res.header("Content-Type", "text/plain");
      std::uint64_t sum = 0;
      for (const char ch : req.body()) sum += static_cast<unsigned char>(ch);
      res.write(std::to_string(req.body().size()) + " " + std::to_string(sum) + "\n");
    });
  });
  std::string body(10 * 1024 * 1024, '\0');
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>(i % 251);
    sum += i % 251;
  }
  client c(s.connect());
  request_spec spec{role::responder, true, cgi_params("POST", "/upload"), body, {}};
  spec.params.emplace_back("CONTENT_LENGTH", std::to_string(body.size()));
  const reply r = c.call(spec);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), std::to_string(body.size()) + " " + std::to_string(sum) + "\n");
}

TEST(server, response_of_10_mib_arrives_whole) {
  running_server s(quiet_config(), [](server& app) { app.responder(with_hello(sized)); });
  client c(s.connect());
  const reply r = c.call(get("/big?size=10485760"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body().size(), 10485760U);
  EXPECT_EQ(r.body().find_first_not_of('z'), std::string::npos);
}

TEST(server, get_values_answers_the_real_configuration) {
  server_config config = quiet_config();
  config.max_connections = 77;
  config.max_requests = 55;
  running_server s(config, [](server& app) { app.responder(hello); });
  client c(s.connect());
  const auto values = c.get_values({"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS", "OTHER"});
  EXPECT_EQ(values.size(), 3U);
  EXPECT_EQ(values.at("FCGI_MAX_CONNS"), "77");
  EXPECT_EQ(values.at("FCGI_MAX_REQS"), "55");
  EXPECT_EQ(values.at("FCGI_MPXS_CONNS"), "1");
}

TEST(server, a_role_without_handler_is_answered_unknown_role) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client c(s.connect());
  request_spec spec = get("/auth");
  spec.role = role::authorizer;
  const reply r = c.call(spec);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.protocol_status, static_cast<std::uint8_t>(protocol::protocol_status::unknown_role));
  expect_still_serving(s);
}

TEST(server, authorizer_and_filter_roles) {
  running_server s(quiet_config(), [](server& app) {
    app.authorizer([](request& req, response& res) {
      if (req.header("Authorization") == "secret") {
        res.header("Variable-USER", "alice");
      } else {
        res.status(403, "Forbidden").header("Content-Type", "text/plain");
        res.write("no\n");
      }
    });
    app.filter([](request& req, response& res) {
      std::string out(req.data());
      for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      res.header("Content-Type", "text/plain");
      res.write(out);
    });
  });
  client c(s.connect());
  request_spec allow{
      role::authorizer, true, cgi_params("GET", "/x", {{"HTTP_AUTHORIZATION", "secret"}}), {}, {}};
  EXPECT_EQ(c.call(allow).head(), "Variable-USER: alice\r\n");
  request_spec deny{role::authorizer, true, cgi_params("GET", "/x"), {}, {}};
  EXPECT_EQ(c.call(deny).head(), "Status: 403 Forbidden\r\nContent-Type: text/plain\r\n");
  request_spec filt{role::filter,
                    true,
                    cgi_params("GET", "/file.txt", {{"FCGI_DATA_LENGTH", "11"}}),
                    {},
                    "hello world"};
  EXPECT_EQ(c.call(filt).body(), "HELLO WORLD");
}

TEST(server, authorizer_runs_on_its_params_without_stdin) {
  running_server s(quiet_config(), [](server& app) {
    app.authorizer([](request&, response& res) { res.header("Variable-OK", "1"); });
  });
  client c(s.connect());
  // Apache's mod_authnz_fcgi: BEGIN (Authorizer), PARAMS, empty PARAMS, and no STDIN (spec 6.3).
  c.send_raw(raw_record(1, 1, std::string("\0\2\0\0\0\0\0\0", 8)));
  c.send_raw(raw_record(4, 1, std::string("\x0b\x01SCRIPT_NAME/", 14)));
  c.send_raw(raw_record(4, 1, ""));
  const raw_reply r = read_raw_reply(c.fd(), 1);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.stdout_bytes, "Variable-OK: 1\r\n\r\n");
}

TEST(server, handler_that_throws_gets_500_and_the_connection_carries_on) {
  running_server s(quiet_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/boom") throw std::runtime_error("kaboom");
      hello(req, res);
    });
  });
  client c(s.connect());
  const reply r = c.call(get("/boom"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.head(), "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n");
  EXPECT_EQ(r.body(), "");  // no detail leaks to the client
  EXPECT_NE(r.app_status, 0U);
  EXPECT_FALSE(r.stderr_bytes.empty());
  EXPECT_EQ(c.call(get("/hello")).body(), "Hello, world!\n");  // same connection
}

TEST(server, handler_that_throws_after_the_head_ends_with_nonzero_status) {
  running_server s(quiet_config(), [](server& app) {
    app.responder([](request&, response& res) {
      res.header("Content-Type", "text/plain");
      res.write("partial");
      throw std::runtime_error("late");
    });
  });
  client c(s.connect());
  const reply r = c.call(get("/late"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), "partial");
  EXPECT_NE(r.app_status, 0U);
}

TEST(server, header_injection_is_refused) {
  running_server s(quiet_config(), [](server& app) {
    app.responder([](request&, response& res) { res.header("X-Evil", "a\r\nSet-Cookie: x=1"); });
  });
  client c(s.connect());
  const reply r = c.call(get("/inject"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.stdout_bytes.find("Set-Cookie"), std::string::npos);
  EXPECT_NE(r.app_status, 0U);
}

TEST(server, bad_version_closes_only_that_connection) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client bad(s.connect());
  bad.send_raw(raw_record(1, 1, std::string("\0\1\1\0\0\0\0\0", 8), 0, 2));
  EXPECT_TRUE(bad.wait_closed());
  expect_still_serving(s);
}

TEST(server, params_bomb_is_rejected_and_others_carry_on) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client bad(s.connect());
  bad.send_raw(raw_record(1, 1, std::string("\0\1\1\0\0\0\0\0", 8)));
  // A pair claiming a 0x7FFFFFFF-byte value: rejected as soon as its length is read (B-21).
  bad.send_raw(raw_record(4, 1,
                          std::string("\x01\xff\xff\xff\xff"
                                      "A",
                                      6)));
  const raw_reply r = read_raw_reply(bad.fd(), 1);
  ASSERT_TRUE(r.ended);
  EXPECT_NE(r.app_status, 0U);
  EXPECT_EQ(r.protocol_status, 0);
  expect_still_serving(s);
}

TEST(server, one_byte_at_a_time_writer_is_served) {
  running_server s(quiet_config(), [](server& app) { app.responder(with_hello(echo_body)); });
  const int fd = s.connect();
  client c(fd);
  request_spec spec{
      role::responder, true, cgi_params("POST", "/slow", {{"CONTENT_LENGTH", "5"}}), "abcde", {}};
  const auto key = c.start(spec);
  protocol::output_queue& out = c.protocol_state().output();
  std::string bytes;
  std::array<protocol::bytes_view, 64> slices;
  const std::size_t n = out.gather(slices);
  for (std::size_t i = 0; i < n; ++i) bytes += protocol::as_chars(slices[i]);
  out.consume(out.size());
  for (const char ch : bytes) c.send_raw(std::string_view(&ch, 1));
  const reply r = c.wait(key);
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.body(), "abcde");
}

TEST(server, peer_vanishing_mid_request_does_not_disturb_others) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  {
    client gone(s.connect());
    std::string partial = raw_record(1, 1, std::string("\0\1\1\0\0\0\0\0", 8));
    partial += raw_record(4, 1, std::string("\x0b\x04SCRIPT_NAME/abc", 17)).substr(0, 12);
    gone.send_raw(partial);
  }  // closed mid-record
  expect_still_serving(s);
}

TEST(server, peer_that_never_reads_is_cut_after_output_timeout) {
  server_config config = quiet_config();
  config.output_timeout = std::chrono::milliseconds(300);
  running_server s(config, [](server& app) { app.responder(with_hello(sized)); });
  const int fd = s.connect();
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  client c(fd);
  c.start(get("/big?size=33554432"));
  c.flush();
  // Not reading: the server's output stalls, and it gives up within the deadline.
  expect_still_serving(s);
  EXPECT_TRUE(s.wait_for_log("output_timeout"));
  expect_still_serving(s);
}

TEST(server, slowloris_is_cut_after_input_timeout) {
  server_config config = quiet_config();
  config.input_timeout = std::chrono::milliseconds(300);
  running_server s(config, [](server& app) { app.responder(hello); });
  client c(s.connect());
  c.send_raw(raw_record(1, 1, std::string("\0\1\1\0\0\0\0\0", 8)));
  c.send_raw(raw_record(4, 1, std::string("\x0b\x04SCRIPT_NAME/abc", 17)));
  // Params never end.
  EXPECT_TRUE(c.wait_closed(std::chrono::seconds(10)));
  expect_still_serving(s);
}

TEST(server, past_max_requests_new_requests_get_overloaded) {
  server_config config = quiet_config();
  config.max_requests = 2;
  running_server s(config, [](server& app) { app.responder(with_hello(echo_body)); });
  client c(s.connect(), 8);
  // Two requests whose bodies never end hold both slots.
  for (std::uint16_t id = 1; id <= 2; ++id) {
    c.send_raw(raw_record(1, id, std::string("\0\1\1\0\0\0\0\0", 8)));
    c.send_raw(raw_record(4, id, ""));
  }
  c.send_raw(raw_record(1, 3, std::string("\0\1\1\0\0\0\0\0", 8)));
  c.send_raw(raw_record(4, 3, ""));
  std::array<char, 64> buffer{};
  const ssize_t n = ::recv(c.fd(), buffer.data(), buffer.size(), 0);
  ASSERT_GE(n, 16);
  // {END_REQUEST, 3, {0, OVERLOADED}} possibly after an empty STDOUT.
  const std::string got(buffer.data(), static_cast<std::size_t>(n));
  EXPECT_NE(got.find(std::string("\x01\x03\x00\x03\x00\x08\x00\x00\x00\x00\x00\x00\x02", 13)),
            std::string::npos);
}

TEST(server, thousand_idle_connections_do_not_stop_service) {
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(s.connect());
  expect_still_serving(s);
  for (const int fd : idle) ::close(fd);
  expect_still_serving(s);
}

TEST(server, two_threads_serve_concurrent_clients) {
  server_config config = quiet_config();
  config.threads = 2;
  running_server s(config, [](server& app) { app.responder(hello); });
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      client c(s.connect());
      for (int i = 0; i < 100; ++i) {
        if (c.call(get("/hello")).body() == "Hello, world!\n") ++ok;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST(server, stop_finishes_in_flight_requests_then_run_returns_zero) {
  running_server s(quiet_config(), [](server& app) { app.responder(with_hello(echo_body)); });
  client c(s.connect());
  c.send_raw(raw_record(1, 1, std::string("\0\1\1\0\0\0\0\0", 8)));
  c.send_raw(raw_record(4, 1, ""));
  c.send_raw(raw_record(5, 1, "part one "));
  // Let the server see the request before stopping it.
  expect_still_serving(s);
  std::thread stopper([&] { s.app().stop(); });
  c.send_raw(raw_record(5, 1, "part two"));
  c.send_raw(raw_record(5, 1, ""));
  const raw_reply r = read_raw_reply(c.fd(), 1);
  stopper.join();
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.stdout_bytes.substr(r.stdout_bytes.find("\r\n\r\n") + 4), "part one part two");
  EXPECT_EQ(s.stop_and_wait(), 0);
}

TEST(server, stop_serves_the_first_request_of_a_connection_accepted_before_it) {
  // A web server that connected while the process still accepted (on a socket it shares with
  // the processes replacing it, HOSTILE E-59) gets its request answered, not the connection
  // closed under it; an idle kept connection closes; a silent one closes within 2 s.
  running_server s(quiet_config(), [](server& app) { app.responder(hello); });
  client fresh(s.connect());
  const int silent = s.connect();
  client used(s.connect());
  EXPECT_EQ(used.call(get("/hello")).body(), "Hello, world!\n");  // all three accepted (FIFO)
  const auto stopped_at = std::chrono::steady_clock::now();
  s.app().stop();
  EXPECT_TRUE(used.wait_closed(std::chrono::seconds(2)));
  const reply r = fresh.call(get("/hello"));
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.protocol_status, 0);
  EXPECT_EQ(r.body(), "Hello, world!\n");
  EXPECT_TRUE(fresh.wait_closed(std::chrono::seconds(2)));
  EXPECT_EQ(s.stop_and_wait(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::milliseconds(3500));
  ::close(silent);
}

TEST(server, stop_serves_the_next_request_on_a_kept_connection_then_closes_it) {
  // nginx with fastcgi_keep_conn sends its next request as soon as it has an answer; one that
  // meets a stop must be answered (an OVERLOADED reply is a 502 nginx never retries), and the
  // connection then closes.
  running_server s(quiet_config(), [](server& app) { app.responder(with_hello(echo_body)); });
  client c(s.connect());
  const std::string keep_conn_begin("\0\1\1\0\0\0\0\0", 8);
  c.send_raw(raw_record(1, 1, keep_conn_begin) + raw_record(4, 1, "") + raw_record(5, 1, "one"));
  expect_still_serving(s);  // the server has seen request 1 begin
  s.app().stop();
  c.send_raw(raw_record(5, 1, "") + raw_record(1, 2, keep_conn_begin) + raw_record(4, 2, "") +
             raw_record(5, 2, "two") + raw_record(5, 2, ""));
  // Everything until the server closes, then both answers out of it.
  std::string answer;
  std::array<char, 4096> chunk{};
  for (ssize_t n = 0; (n = ::recv(c.fd(), chunk.data(), chunk.size(), 0)) > 0;)
    answer.append(chunk.data(), static_cast<std::size_t>(n));
  std::map<std::uint16_t, std::string> out;
  std::map<std::uint16_t, int> status;
  for (protocol::record_header h; protocol::decode_header(protocol::as_bytes(answer), h) != 0 &&
                                  answer.size() >= h.record_size();
       answer.erase(0, h.record_size())) {
    const std::string content = answer.substr(protocol::header_size, h.content_length);
    if (h.is(protocol::record_type::stdout_stream)) out[h.request_id] += content;
    if (h.is(protocol::record_type::end_request)) status[h.request_id] = content.at(4);
  }
  ASSERT_EQ(status.count(1), 1U);
  ASSERT_EQ(status.count(2), 1U) << "request 2 was never answered";
  EXPECT_EQ(status[2], 0);  // REQUEST_COMPLETE, not OVERLOADED
  EXPECT_TRUE(out[2].ends_with("two")) << out[2];
  EXPECT_EQ(s.stop_and_wait(), 0);
}

TEST(server, web_server_addrs_allowlist_refuses_other_peers) {
  ::setenv("FCGI_WEB_SERVER_ADDRS", "10.1.2.3", 1);
  {
    running_server s(
        quiet_config(), [](server& app) { app.responder(hello); }, listener::tcp_loopback());
    client c(s.connect());
    EXPECT_TRUE(c.wait_closed());  // 127.0.0.1 is not in the list: spec 3.2
  }
  ::setenv("FCGI_WEB_SERVER_ADDRS", "10.1.2.3, 127.0.0.1", 1);
  {
    running_server s(
        quiet_config(), [](server& app) { app.responder(hello); }, listener::tcp_loopback());
    expect_still_serving(s);
  }
  ::unsetenv("FCGI_WEB_SERVER_ADDRS");
}

}  // namespace
}  // namespace fcgi::test
