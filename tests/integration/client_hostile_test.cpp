// HOSTILE.md section D (client side), cases 45-56, for fcgi::client and fcgi-call: scripted
// hostile applications (scripted_app.hpp) and our own server. One test per case, named
// client_hostile_D<case>_...; docs/hostile.md maps each case to its test. Cases already
// covered in client_test.cpp are named there and not repeated:
//   D-45 (END_REQUEST for an unused id)  client_hostile_app.end_request_for_an_unused_id_...
//   D-49 (close mid-record)              client_hostile_app.close_mid_record_is_never_success
//   D-54                                 client_hostile_app.close_after_get_values_then_...
//   D-55 (abort on a deaf application)   client_hostile_app.an_application_deaf_to_abort_...
//   D-55 (abort keeps the connection)    async_client.cancelling_a_call_sends_abort_request_...
//   D-56 (silence, first byte)           client_hostile_app.silence_hits_the_first_byte_timeout
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcgi/client/async.hpp>
#include <fcgi/client/client.hpp>
#include <fcgi/protocol/response_head.hpp>

#include <fcgi/test/tool_process.hpp>

#include "harness.hpp"
#include "scripted_app.hpp"

namespace fcgi::test {
namespace {

namespace asio = boost::asio;
namespace fc = fcgi::client;
using namespace std::chrono_literals;
using fc::errc;
using clock_type = std::chrono::steady_clock;

constexpr std::string_view head = "Content-Type: text/plain\r\n\r\n";

fc::request get_request(std::string_view uri) {
  fc::request r;
  r.params = cgi_params("GET", uri);
  return r;
}

/// One connection at a time, no probe, and timeouts that turn a hang into a failure.
fc::pool_settings bounded(fc::multiplexing mpx = fc::multiplexing::off) {
  fc::pool_settings s;
  s.max_connections = 1;
  s.mpx = mpx;
  s.timeouts.connect = 2s;
  s.timeouts.first_byte = 5s;
  s.timeouts.idle = 5s;
  s.timeouts.total = 10s;
  return s;
}

std::string error_text(const fc::response& r) {
  return r.error ? std::string(fc::to_string(static_cast<errc>(r.error.value()))) + ": " + r.detail
                 : "ok";
}

/// Runs `body` as a coroutine on a fresh io_context, `limit` at most.
void run_async(const std::function<asio::awaitable<void>(asio::io_context&)>& body,
               std::chrono::seconds limit = 15s) {
  asio::io_context context;
  bool finished = false;
  asio::co_spawn(context, body(context), [&](std::exception_ptr e) {
    finished = true;
    if (e) std::rethrow_exception(e);
  });
  const auto deadline = clock_type::now() + limit;
  while (!finished && clock_type::now() < deadline) context.run_one_for(100ms);
  EXPECT_TRUE(finished) << "the coroutine did not finish within " << limit.count() << " s";
}

/// A warm-up call, then `requests` at once on an async client: the connection is open
/// before they start, so they share it when the pool multiplexes.
asio::awaitable<std::vector<fc::response>> warm_then_together(
    asio::io_context& context, fc::async_client& c, const std::vector<fc::request>& requests) {
  const fc::response warm = co_await c.call(get_request("/warm"));
  EXPECT_TRUE(warm.ok()) << error_text(warm);
  std::vector<fc::response> out(requests.size());
  std::size_t done = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    asio::co_spawn(
        context,
        [&, i]() -> asio::awaitable<void> {
          out[i] = co_await c.call(requests[i]);
          ++done;
        },
        asio::detached);
  }
  asio::steady_timer tick(context);
  for (const auto deadline = clock_type::now() + 10s;
       done < requests.size() && clock_type::now() < deadline;) {
    tick.expires_after(1ms);
    co_await tick.async_wait(asio::use_awaitable);
  }
  EXPECT_EQ(done, requests.size());
  co_return out;
}

// Peak resident memory, reset by writing 5 to clear_refs (Linux >= 4.0): the growth one call
// causes, whatever earlier tests in this process peaked at.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::size_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stoul(line.substr(6));
  }
  return 0;
}

/// Reads records until the empty PARAMS one; returns the request id, 0 on EOF.
std::uint16_t read_until_params_end(int fd) {
  while (const std::optional<record_in> r = read_record(fd)) {
    if (r->type == 4 && r->content.empty()) return r->id;
  }
  return 0;
}

/// Waits until `flag` is set or `limit` passes.
void hold_until(const std::atomic<bool>& flag, std::chrono::milliseconds limit) {
  for (const auto deadline = clock_type::now() + limit; !flag && clock_type::now() < deadline;)
    std::this_thread::sleep_for(5ms);
}

// --- D-45: STDOUT for another request's id --------------------------------------------------

TEST(client_hostile, D45_stdout_is_routed_by_request_id_on_a_multiplexed_connection) {
  // The application answers the second request first, each body naming its own request.
  scripted_app app([](int fd, int) {
    send_all(fd, whole_response(read_request(fd), std::string(head) + "warm"));
    const std::uint16_t first = read_request(fd);
    const std::uint16_t second = read_request(fd);
    send_all(fd, raw_record(6, second, std::string(head) + "second ") +
                     raw_record(6, first, std::string(head) + "first "));
    send_all(fd, raw_record(6, second, "done") + raw_record(6, second, "") + end_request(second));
    send_all(fd, raw_record(6, first, "done") + raw_record(6, first, "") + end_request(first));
  });
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), app.endpoint(), bounded(fc::multiplexing::on));
    // Named: GCC 12 cannot take a braced list as an argument inside a coroutine.
    const std::vector<fc::request> requests{get_request("/first"), get_request("/second")};
    const std::vector<fc::response> r = co_await warm_then_together(context, c, requests);
    EXPECT_TRUE(r[0].ok()) << error_text(r[0]);
    EXPECT_TRUE(r[1].ok()) << error_text(r[1]);
    EXPECT_EQ(r[0].out, std::string(head) + "first done");
    EXPECT_EQ(r[1].out, std::string(head) + "second done");
    EXPECT_EQ(c.stats().connections_opened, 1U);
  });
}

TEST(client_hostile, D45_stdout_for_an_unused_id_fails_every_call_on_the_connection) {
  // Two calls in flight; the application sends STDOUT for id 9, which neither uses.
  scripted_app app([](int fd, int index) {
    if (index > 0) return;
    send_all(fd, whole_response(read_request(fd), std::string(head) + "warm"));
    const std::uint16_t first = read_request(fd);
    read_request(fd);
    send_all(fd,
             raw_record(6, first, std::string(head) + "partial") + raw_record(6, 9, "for nobody"));
    char byte;
    ::recv(fd, &byte, 1, 0);  // until the client closes
  });
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), app.endpoint(), bounded(fc::multiplexing::on));
    // Named: GCC 12 cannot take a braced list as an argument inside a coroutine.
    const std::vector<fc::request> requests{get_request("/a"), get_request("/b")};
    const std::vector<fc::response> r = co_await warm_then_together(context, c, requests);
    for (const fc::response& each : r) {
      EXPECT_EQ(each.error, errc::protocol_violation) << error_text(each);
      EXPECT_FALSE(each.ended);
      EXPECT_EQ(each.out.find("for nobody"), std::string::npos);
    }
  });
}

TEST(client_hostile, D45_stdout_for_another_id_on_a_plain_connection_is_a_violation) {
  scripted_app app([](int fd, int) {
    const std::uint16_t id = read_request(fd);
    send_all(fd, raw_record(6, static_cast<std::uint16_t>(id + 1), std::string(head) + "stray") +
                     whole_response(id, std::string(head) + "mine"));
  });
  fc::client c(app.endpoint(), bounded());
  const fc::response r = c.call(get_request("/"));
  EXPECT_EQ(r.error, errc::protocol_violation) << error_text(r);
  EXPECT_EQ(r.out.find("stray"), std::string::npos);
}

// --- D-46: STDOUT after END_REQUEST ---------------------------------------------------------

TEST(client_hostile, D46_stdout_after_end_request_closes_the_connection) {
  std::atomic<int> connections{0};
  scripted_app app([&](int fd, int) {
    ++connections;
    const std::uint16_t id = read_request(fd);
    send_all(fd, whole_response(id, std::string(head) + "one") + raw_record(6, id, "late"));
    read_request(fd);  // a reused connection would carry the next request here
  });
  fc::client c(app.endpoint(), bounded());
  const fc::response first = c.call(get_request("/"));
  EXPECT_TRUE(first.ok()) << error_text(first);  // it had ended before the stray record
  EXPECT_EQ(first.out, std::string(head) + "one");
  EXPECT_EQ(c.stats().open_connections, 0U);  // closed, not kept
  const fc::response second = c.call(get_request("/"));
  EXPECT_TRUE(second.ok()) << error_text(second);
  EXPECT_FALSE(second.reused_connection);
  EXPECT_EQ(second.out, std::string(head) + "one");
  EXPECT_EQ(connections, 2);
}

// A stray STDOUT that arrives while the synchronous client is idle (its loop not running) must
// not be read as the next call's STDOUT (the hazard of HOSTILE C-34 on the application side):
// the client polls its loop before a call, so the stray record closes the connection first.
TEST(client_hostile, D46_late_stdout_after_end_request_never_reaches_the_next_call) {
  std::atomic<bool> first_returned{false};
  std::atomic<bool> stray_sent{false};
  scripted_app app([&](int fd, int) {
    const std::uint16_t id = read_request(fd);
    send_all(fd, whole_response(id, std::string(head) + "one"));
    hold_until(first_returned, 10s);          // the client is idle now
    send_all(fd, raw_record(6, id, "late"));  // in the client's socket buffer on return
    stray_sent = true;
    const std::uint16_t next = read_request(fd);
    if (next != 0) send_all(fd, whole_response(next, std::string(head) + "two"));
  });
  fc::client c(app.endpoint(), bounded());
  ASSERT_TRUE(c.call(get_request("/")).ok());
  first_returned = true;
  hold_until(stray_sent, 10s);
  ASSERT_TRUE(stray_sent);
  const fc::response second = c.call(get_request("/"));
  EXPECT_EQ(second.out.find("late"), std::string::npos) << second.out;
  EXPECT_TRUE(second.ok()) << error_text(second);
}

// --- D-47: invalid response heads, through fcgi-call ----------------------------------------

#ifdef FCGI_CALL_TOOL
/// Runs fcgi-call with `args` and an empty stdin.
tool_run run_fcgi_call(const std::vector<std::string>& args) {
  std::vector<std::string> argv{FCGI_CALL_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_tool(argv);
}
#endif

/// An application answering every request with `stdout_bytes`.
scripted_app answering(std::string stdout_bytes) {
  return scripted_app([bytes = std::move(stdout_bytes)](int fd, int) {
    const std::uint16_t id = read_request(fd);
    if (id != 0) send_all(fd, whole_response(id, bytes));
  });
}

TEST(client_hostile, D47_invalid_heads_fail_fcgi_call_with_exit_6_and_no_body) {
#ifdef FCGI_CALL_TOOL
  std::string huge;
  while (huge.size() <= 64 * 1024) huge += "X-Filler: " + std::string(100, 'f') + "\r\n";
  const std::vector<std::pair<std::string, std::string>> heads = {
      {"over the 64 KiB head limit", huge + "\r\n"},
      {"a line without a colon", "Content-Type text/plain\r\n\r\n"},
      {"Status: 99", "Status: 99\r\nContent-Type: text/plain\r\n\r\n"},
      {"Status: 2000", "Status: 2000\r\nContent-Type: text/plain\r\n\r\n"},
  };
  for (const auto& [what, bad_head] : heads) {
    const scripted_app app = answering(bad_head + "BODY");
    const tool_run run = run_fcgi_call({app.endpoint(), "/"});
    EXPECT_EQ(run.status, 6) << what << ": " << run.err;
    EXPECT_EQ(run.out, "") << what;  // nothing of an invalid response is passed on
    EXPECT_NE(run.err.find("invalid response head"), std::string::npos) << what << ": " << run.err;
  }
  // A Status without a reason phrase is valid (nginx fa46a5719).
  const scripted_app no_reason = answering("Status: 404\r\nContent-Type: text/plain\r\n\r\nBODY");
  const tool_run run = run_fcgi_call({"-i", no_reason.endpoint(), "/"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "Status: 404\r\nContent-Type: text/plain\r\n\r\nBODY");
#else
  GTEST_SKIP() << "fcgi-call is not built (FCGI_BUILD_TOOLS=OFF)";
#endif
}

// --- D-48: body longer or shorter than Content-Length ---------------------------------------

TEST(client_hostile, D48_the_library_passes_the_body_through_as_received) {
  // fcgi::client does not interpret the CGI head: the caller gets every STDOUT byte, and
  // response_head_parser gives it Content-Length to compare with.
  for (const std::string& body : {std::string("0123456789"), std::string("abc")}) {
    const std::string answer = "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n" + body;
    const scripted_app app = answering(answer);
    fc::client c(app.endpoint(), bounded());
    const fc::response r = c.call(get_request("/"));
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_EQ(r.out, answer);
    protocol::response_head_parser parser;
    const protocol::head_progress progress = parser.feed(std::string_view(r.out));
    ASSERT_EQ(progress.state, protocol::head_state::complete);
    EXPECT_EQ(parser.head().content_length(), 5U);
    EXPECT_EQ(r.out.size() - progress.consumed, body.size());
  }
}

// fcgi-call keeps to Content-Length as curl does (nginx 1194ba36a: a short body must never
// look complete): longer -> Content-Length bytes printed and a warning; shorter -> exit 5.
TEST(client_hostile, D48_fcgi_call_reports_a_body_that_contradicts_content_length) {
#ifdef FCGI_CALL_TOOL
  const std::string content_length_5 = "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
  const scripted_app longer = answering(content_length_5 + "0123456789");
  const tool_run long_run = run_fcgi_call({longer.endpoint(), "/"});
  EXPECT_EQ(long_run.out, "01234");
  EXPECT_NE(long_run.err.find("Content-Length"), std::string::npos) << long_run.err;
  const scripted_app shorter = answering(content_length_5 + "abc");
  const tool_run short_run = run_fcgi_call({shorter.endpoint(), "/"});
  EXPECT_EQ(short_run.status, 5);
  EXPECT_EQ(short_run.out, "abc");
  EXPECT_NE(short_run.err.find("ended after 3 of 5 bytes"), std::string::npos) << short_run.err;
  const scripted_app exact = answering(content_length_5 + "01234");
  const tool_run exact_run = run_fcgi_call({exact.endpoint(), "/"});
  EXPECT_EQ(exact_run.status, 0) << exact_run.err;
  EXPECT_EQ(exact_run.out, "01234");
  EXPECT_EQ(exact_run.err, "");
  const scripted_app head_only = answering(content_length_5);
  const tool_run head_run = run_fcgi_call({"-X", "HEAD", head_only.endpoint(), "/"});
  EXPECT_EQ(head_run.status, 0) << head_run.err;
#else
  GTEST_SKIP() << "fcgi-call is not built (FCGI_BUILD_TOOLS=OFF)";
#endif
}

// --- D-49: the application closes before END_REQUEST ----------------------------------------

TEST(client_hostile, D49_close_before_any_byte_is_closed_before_end) {
  std::atomic<int> connections{0};
  scripted_app app([&](int fd, int index) {
    ++connections;
    const std::uint16_t id = read_request(fd);
    if (index > 0) send_all(fd, whole_response(id, std::string(head) + "ok"));
  });
  fc::client c(app.endpoint(), bounded());
  const fc::response r = c.call(get_request("/"));
  EXPECT_EQ(r.error, errc::closed_before_end) << error_text(r);
  EXPECT_FALSE(r.ended);
  EXPECT_EQ(r.out_bytes, 0U);  // a web server may still answer 502: nothing was sent
  const fc::response next = c.call(get_request("/"));
  EXPECT_TRUE(next.ok()) << error_text(next);
  EXPECT_EQ(connections, 2);
}

TEST(client_hostile, D49_close_mid_body_is_closed_before_end_with_the_bytes_so_far) {
  scripted_app app([](int fd, int) {
    const std::uint16_t id = read_request(fd);
    send_all(fd, raw_record(6, id, std::string(head) + "partial") + raw_record(7, id, "note"));
  });
  fc::client c(app.endpoint(), bounded());
  const fc::response r = c.call(get_request("/"));
  EXPECT_EQ(r.error, errc::closed_before_end) << error_text(r);
  EXPECT_FALSE(r.ended);
  EXPECT_EQ(r.out, std::string(head) + "partial");  // the caller must abort its own client
  EXPECT_EQ(r.err, "note");
}

// --- D-50: END_REQUEST OVERLOADED / CANT_MPX_CONN -------------------------------------------

TEST(client_hostile, D50_overloaded_and_cant_mpx_conn_are_reported_and_ended) {
  for (const auto& [status, expected] : {std::pair{std::uint8_t{2}, errc::overloaded},
                                         std::pair{std::uint8_t{1}, errc::cant_mpx_conn}}) {
    std::atomic<int> requests{0};
    scripted_app app([&, code = status](int fd, int) {
      for (std::uint16_t id = read_request(fd); id != 0; id = read_request(fd)) {
        send_all(fd, ++requests == 1 ? end_request(id, 7, code)
                                     : whole_response(id, std::string(head) + "ok"));
      }
    });
    fc::client c(app.endpoint(), bounded());
    const fc::response r = c.call(get_request("/"));
    EXPECT_EQ(r.error, expected) << error_text(r);
    EXPECT_TRUE(r.ended);
    EXPECT_EQ(r.app_status, 7U);
    EXPECT_EQ(static_cast<unsigned>(r.protocol_status), unsigned{status});
    EXPECT_EQ(requests, 1);  // reported once, never retried by the library
    const fc::response next = c.call(get_request("/"));  // the id was freed by END_REQUEST
    EXPECT_TRUE(next.ok()) << error_text(next);
    EXPECT_TRUE(next.reused_connection);
  }
}

// --- D-51: a 100 MB STDERR flood -------------------------------------------------------------

constexpr std::size_t flood_records = 1600;  // of 65535 bytes: 104,856,000 bytes
constexpr std::uint64_t flood_bytes = std::uint64_t{flood_records} * 65535;

scripted_app stderr_flood() {
  return scripted_app([](int fd, int) {
    const std::uint16_t id = read_request(fd);
    const std::string record = raw_record(7, id, std::string(65535, 'e'));
    for (std::size_t i = 0; i < flood_records; ++i) send_all(fd, record);
    send_all(fd, raw_record(7, id, "") + whole_response(id, std::string(head) + "ok"));
  });
}

TEST(client_hostile, D51_stderr_flood_streamed_to_a_sink_keeps_memory_bounded) {
  const scripted_app app = stderr_flood();
  fc::client c(app.endpoint(), bounded());
  fc::request r = get_request("/");
  std::uint64_t streamed = 0;
  r.on_stderr = [&](std::string_view bytes) { streamed += bytes.size(); };
  reset_peak_rss();
  const std::size_t before = peak_rss_kib();
  const fc::response resp = c.call(r);
  const std::size_t growth = peak_rss_kib() - before;
  ASSERT_TRUE(resp.ok()) << error_text(resp);
  EXPECT_EQ(streamed, flood_bytes);
  EXPECT_EQ(resp.err_bytes, flood_bytes);
  EXPECT_TRUE(resp.err.empty());
  EXPECT_LT(growth, 8U * 1024) << "peak RSS grew " << growth << " KiB";
  RecordProperty("peak_rss_growth_kib", std::to_string(growth));
}

TEST(client_hostile, D51_stderr_flood_collected_keeps_only_its_first_mebibyte) {
  // Without on_stderr the call collects STDERR up to max_collected_stderr (1 MiB) and counts
  // the rest: the answer still succeeds, and memory stays bounded.
  const scripted_app app = stderr_flood();
  fc::client c(app.endpoint(), bounded());
  reset_peak_rss();
  const std::size_t before = peak_rss_kib();
  const fc::response resp = c.call(get_request("/"));
  const std::size_t growth = peak_rss_kib() - before;
  ASSERT_TRUE(resp.ok()) << error_text(resp);
  EXPECT_EQ(resp.err.size(), fc::pool_settings{}.max_collected_stderr);
  EXPECT_TRUE(resp.err_truncated);
  EXPECT_EQ(resp.err_bytes, flood_bytes);
  EXPECT_EQ(resp.out, std::string(head) + "ok");
  EXPECT_LT(growth, 8U * 1024) << "peak RSS grew " << growth << " KiB";
  RecordProperty("peak_rss_growth_kib", std::to_string(growth));
}

TEST(client_hostile, D51_stdout_flood_collected_fails_past_the_limit_and_the_pool_recovers) {
  scripted_app app([](int fd, int index) {
    const std::uint16_t id = read_request(fd);
    if (index > 0) {
      send_all(fd, whole_response(id, std::string(head) + "ok"));
      return;
    }
    const std::string record = raw_record(6, id, std::string(65535, 'o'));
    for (std::size_t i = 0; i < flood_records; ++i) send_all(fd, record);
    send_all(fd, whole_response(id, ""));  // deaf to the ABORT_REQUEST, as a flood would be
    // The connection was kept (FCGI_KEEP_CONN): later requests on it are answered.
    for (std::uint16_t next = read_request(fd); next != 0; next = read_request(fd))
      send_all(fd, whole_response(next, std::string(head) + "ok"));
  });
  fc::pool_settings settings = bounded();
  settings.max_collected_stdout = 1024 * 1024;
  fc::client c(app.endpoint(), settings);
  reset_peak_rss();
  const std::size_t before = peak_rss_kib();
  const fc::response resp = c.call(get_request("/"));
  const std::size_t growth = peak_rss_kib() - before;
  EXPECT_EQ(resp.error, errc::response_too_large) << error_text(resp);
  EXPECT_LE(resp.out.size(), settings.max_collected_stdout);
  EXPECT_FALSE(resp.ended);
  EXPECT_LT(growth, 8U * 1024) << "peak RSS grew " << growth << " KiB";
  const fc::response next = c.call(get_request("/"));
  EXPECT_TRUE(next.ok()) << error_text(next);
  EXPECT_EQ(next.out, std::string(head) + "ok");
}

// --- D-52: bodies and params at the record and length-encoding edges ------------------------

TEST(client_hostile, D52_bodies_and_long_param_names_round_trip_exactly) {
  running_server app({}, [](server& s) {
    s.responder([](request& req, response& res) {
      res.header("Content-Type", "application/octet-stream");
      std::string names;
      for (const protocol::param& p : req.params()) {
        if (p.name.starts_with("X"))
          names += std::string(p.name) + "=" + std::string(p.value) + ";";
      }
      res.write(std::to_string(names.size()) + "\n" + names);
      res.write(req.body());
    });
  });
  fc::client c("unix:" + app.where().unix_path, bounded());
  // Bytes that show a shift or a lost record: byte i is i % 251.
  const auto body_of = [](std::size_t n) {
    std::string b(n, '\0');
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<char>(i % 251);
    return b;
  };
  const std::string name127 = "X" + std::string(126, 'a');
  const std::string name128 = "X" + std::string(127, 'b');
  const std::string value128 = std::string(128, 'v');
  const std::string value65535 = std::string(65535, 'w');
  for (const std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537},
        std::size_t{1000000}, std::size_t{1024 * 1024}}) {
    fc::request r;
    r.params = cgi_params("POST", "/echo", {{"CONTENT_LENGTH", std::to_string(size)}});
    r.params.emplace_back(name127, "127");
    r.params.emplace_back(name128, value128);
    r.params.emplace_back("X", value65535);
    const std::string body = body_of(size);
    r.body = fc::body_source::from_view(body);
    const fc::response resp = c.call(r);
    ASSERT_TRUE(resp.ok()) << size << ": " << error_text(resp);
    const std::string names =
        name127 + "=127;" + name128 + "=" + value128 + ";X=" + value65535 + ";";
    const std::string expected = "\r\n\r\n" + std::to_string(names.size()) + "\n" + names + body;
    ASSERT_GE(resp.out.size(), expected.size()) << size;
    EXPECT_TRUE(resp.out.ends_with(expected)) << "body of " << size << " bytes differs";
  }
}

// --- D-53: 70k requests on one connection ----------------------------------------------------

TEST(client_hostile, D53_70k_requests_64_in_flight_on_one_connection_never_share_an_id) {
  running_server app({}, [](server& s) {
    s.responder([](request& req, response& res) {
      res.header("Content-Type", "text/plain");
      res.write(req.query_string());
    });
  });
  constexpr int total = 70'000;
  constexpr int workers = 64;
  // The trace shows each BEGIN_REQUEST and END_REQUEST with its id: an id begun while still
  // active would be a collision.
  std::vector<bool> active(65536, false);
  int collisions = 0;
  int in_flight = 0;
  int most_in_flight = 0;
  fc::pool_settings s = bounded(fc::multiplexing::on);
  s.max_requests_per_connection = workers;
  s.trace = [&](std::string_view line) {
    if (!line.starts_with("[")) return;
    const std::size_t id = std::stoul(std::string(line.substr(1)));
    if (line.find("> BEGIN_REQUEST") != std::string_view::npos) {
      if (active[id]) ++collisions;
      active[id] = true;
      most_in_flight = std::max(most_in_flight, ++in_flight);
    } else if (line.find("< END_REQUEST") != std::string_view::npos) {
      active[id] = false;
      --in_flight;
    }
  };
  int matched = 0;
  int failed = 0;
  std::string first_failure;
  run_async(
      [&](asio::io_context& context) -> asio::awaitable<void> {
        fc::async_client c(context.get_executor(), "unix:" + app.where().unix_path, s);
        EXPECT_TRUE((co_await c.call(get_request("/warm?w"))).ok());
        int next = 0;
        int finished_workers = 0;
        for (int w = 0; w < workers; ++w) {
          asio::co_spawn(
              context,
              [&]() -> asio::awaitable<void> {
                while (next < total) {
                  const std::string token = "t" + std::to_string(next++);
                  fc::request r;
                  r.params = {{"REQUEST_METHOD", "GET"}, {"QUERY_STRING", token}};
                  const fc::response resp = co_await c.call(r);
                  if (resp.ok() && resp.out.ends_with("\r\n\r\n" + token)) {
                    ++matched;
                  } else if (++failed == 1) {
                    first_failure = token + ": " + error_text(resp) + " " + resp.out;
                  }
                }
                ++finished_workers;
              },
              asio::detached);
        }
        asio::steady_timer tick(context);
        // About 2 s here; 10 s under ASan on 2 shared cores.
        for (const auto deadline = clock_type::now() + 40s;
             finished_workers < workers && clock_type::now() < deadline;) {
          tick.expires_after(5ms);
          co_await tick.async_wait(asio::use_awaitable);
        }
        EXPECT_EQ(finished_workers, workers);
        EXPECT_EQ(c.stats().connections_opened, 1U);
      },
      45s);
  EXPECT_EQ(matched, total) << first_failure;
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(collisions, 0);
  EXPECT_EQ(most_in_flight, workers);
}

// --- D-55: the caller cancels mid-upload -----------------------------------------------------

/// A pipe body that delivers `first` bytes and then stalls until `release` is set.
struct stalled_pipe {
  int read_end = -1;
  std::thread writer;
  std::atomic<bool> release{false};

  explicit stalled_pipe(std::size_t first) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    read_end = fds[0];
    writer = std::thread([this, first, write_end = fds[1]] {
      const std::string bytes(first, 'u');  // at most the pipe's 64 KiB: never blocks
      [[maybe_unused]] const ssize_t n = ::write(write_end, bytes.data(), bytes.size());
      hold_until(release, 10s);
      ::close(write_end);
    });
  }
  ~stalled_pipe() {
    release = true;
    writer.join();
  }
  stalled_pipe(const stalled_pipe&) = delete;
  stalled_pipe& operator=(const stalled_pipe&) = delete;
};

asio::awaitable<bool> cancelled_after(fc::async_client& c, const fc::request& r,
                                      std::chrono::milliseconds delay) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  const auto first = co_await (c.call(r) || timer.async_wait(asio::use_awaitable));
  co_return first.index() == 1;
}

// A call cancelled while suspended anywhere but its final wait (here reading a pipe body) must
// end as cancelled, close its half-sent request's connection and unregister itself: this once
// left a dangling call_state (use-after-free at close) and a request our server kept running.
TEST(client_hostile, D55_cancel_mid_upload_frees_the_server_slot) {
  // The server takes one request at a time (max_requests = 1): the next call succeeds only
  // once the cancelled request's slot is free again.
  server_config config;
  config.max_requests = 1;
  config.log = [](std::string_view) {};
  running_server app(config, [](server& s) {
    s.responder([](request& req, response& res) {
      res.header("Content-Type", "text/plain");
      res.write(std::to_string(req.body().size()));
    });
  });
  stalled_pipe body(32 * 1024);
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), "unix:" + app.where().unix_path,
                       bounded(fc::multiplexing::on));
    fc::request upload;
    upload.params = cgi_params("POST", "/upload");
    upload.body = fc::body_source::from_fd(body.read_end, true);
    EXPECT_TRUE(co_await cancelled_after(c, upload, 200ms));
    // The server sees the connection close; give it until 2 s to free the slot.
    fc::response next;
    asio::steady_timer pause(context);
    for (const auto deadline = clock_type::now() + 2s; clock_type::now() < deadline;) {
      next = co_await c.call(get_request("/next"));
      if (next.ok()) break;
      pause.expires_after(20ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
    EXPECT_TRUE(next.ok()) << error_text(next);
    EXPECT_TRUE(next.out.ends_with("\r\n\r\n0")) << next.out;
  });
}

TEST(client_hostile, D55_cancel_mid_upload_closes_the_connection) {
  std::atomic<int> seen_eof{0};
  scripted_app app([&](int fd, int) {
    read_until_params_end(fd);
    while (read_record(fd)) {
    }
    ++seen_eof;
  });
  stalled_pipe body(32 * 1024);
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), app.endpoint(), bounded(fc::multiplexing::on));
    fc::request upload;
    upload.params = cgi_params("POST", "/upload");
    upload.body = fc::body_source::from_fd(body.read_end, true);
    EXPECT_TRUE(co_await cancelled_after(c, upload, 200ms));
    // Closed by the cancellation itself, while the client lives on.
    asio::steady_timer tick(context);
    for (const auto deadline = clock_type::now() + 1s;
         seen_eof == 0 && clock_type::now() < deadline;) {
      tick.expires_after(5ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(seen_eof, 1);
  });
}

TEST(client_hostile, D55_cancel_after_the_upload_sends_abort_request_and_keeps_the_connection) {
  // The request is wholly sent, so it is aborted alone (§5.4) and the connection, once the
  // application ended the request, serves the next call.
  std::atomic<int> seen_abort{0};
  scripted_app app([&](int fd, int index) {
    if (index > 0) return;
    const std::uint16_t id = read_request(fd);
    while (const std::optional<record_in> r = read_record(fd)) {
      if (r->type == 2 && r->id == id) break;
    }
    ++seen_abort;
    send_all(fd, end_request(id));
    const std::uint16_t next = read_request(fd);
    if (next != 0) send_all(fd, whole_response(next, std::string(head) + "next"));
  });
  run_async([&](asio::io_context& context) -> asio::awaitable<void> {
    fc::async_client c(context.get_executor(), app.endpoint(), bounded(fc::multiplexing::on));
    const fc::request slow = get_request("/slow");
    EXPECT_TRUE(co_await cancelled_after(c, slow, 200ms));
    const fc::response next = co_await c.call(get_request("/next"));
    EXPECT_TRUE(next.ok()) << error_text(next);
    EXPECT_EQ(next.out, std::string(head) + "next");
    EXPECT_EQ(c.stats().connections_opened, 1U);
  });
  EXPECT_EQ(seen_abort, 1);
}

// --- D-56: refused, stalled connect, an application that never reads STDIN -------------------

TEST(client_hostile, D56_refused_is_reported_at_once) {
  const listener closed = listener::tcp_loopback();
  const std::uint16_t port = closed.port;
  ::close(closed.fd);
  for (const std::string& endpoint :
       {"tcp:127.0.0.1:" + std::to_string(port), std::string("unix:/nonexistent/fcgi.sock")}) {
    fc::client c(endpoint, bounded());
    const auto started = clock_type::now();
    const fc::response r = c.call(get_request("/"));
    EXPECT_EQ(r.error, errc::refused) << endpoint << ": " << error_text(r);
    EXPECT_LT(clock_type::now() - started, 500ms) << endpoint;
  }
}

TEST(client_hostile, D56_a_stalled_connect_hits_the_connect_timeout) {
  // A TCP listener with backlog 0 that never accepts: once its queue is full, the kernel
  // drops further SYNs and connect() hangs.
  const listener full = listener::tcp_loopback();
  ASSERT_EQ(::listen(full.fd, 0), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(full.port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fillers;
  for (int i = 0; i < 16; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    fillers.push_back(fd);
    ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);  // NOLINT
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 100) == 0) break;  // this one hangs: the queue is full
  }
  fc::pool_settings s = bounded();
  s.timeouts.connect = 300ms;
  fc::client c("tcp:127.0.0.1:" + std::to_string(full.port), s);
  const auto started = clock_type::now();
  const fc::response r = c.call(get_request("/"));
  const auto took = clock_type::now() - started;
  EXPECT_EQ(r.error, errc::connect_timeout) << error_text(r);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  for (const int fd : fillers) ::close(fd);
  ::close(full.fd);
}

/// An application that reads BEGIN_REQUEST and PARAMS, optionally answers `first_bytes`, and
/// then never reads again until `done`.
scripted_app deaf_to_stdin(const std::atomic<bool>& done, std::string first_bytes) {
  return scripted_app([&done, bytes = std::move(first_bytes)](int fd, int) {
    const std::uint16_t id = read_until_params_end(fd);
    if (!bytes.empty()) send_all(fd, raw_record(6, id, bytes));
    hold_until(done, 10s);
  });
}

TEST(client_hostile, D56_an_application_that_never_reads_a_10_mib_body_hits_the_total_timeout) {
  std::atomic<bool> done{false};
  const scripted_app app = deaf_to_stdin(done, "");
  const std::string body(10 * 1024 * 1024, 'b');
  fc::pool_settings s = bounded();
  s.timeouts.total = 400ms;
  fc::client c(app.endpoint(), s);
  fc::request r = get_request("/");
  r.body = fc::body_source::from_view(body);
  reset_peak_rss();
  const std::size_t before = peak_rss_kib();
  const auto started = clock_type::now();
  const fc::response resp = c.call(r);
  const auto took = clock_type::now() - started;
  const std::size_t growth = peak_rss_kib() - before;
  done = true;
  EXPECT_EQ(resp.error, errc::total_timeout) << error_text(resp);
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 900ms);
  EXPECT_EQ(c.stats().open_connections, 0U);  // a half-sent request: the connection is closed
  // The body is framed in place, not copied: nothing near its 10 MiB is added.
  EXPECT_LT(growth, 4U * 1024) << "peak RSS grew " << growth << " KiB";
  RecordProperty("peak_rss_growth_kib", std::to_string(growth));
}

TEST(client_hostile, D56_a_64_mib_file_body_the_application_never_reads_stays_bounded) {
  // The application answers a first byte and stops reading: the idle timeout fires, and only
  // about max_queued_output of the file was ever read into memory.
  std::atomic<bool> done{false};
  const scripted_app app = deaf_to_stdin(done, std::string(head));
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("fcgi_client_hostile_" + std::to_string(::getpid()));
  {
    std::ofstream out(file, std::ios::binary);
    const std::string block(1024 * 1024, 'f');
    for (int i = 0; i < 64; ++i) out << block;
  }
  fc::pool_settings s = bounded();
  s.timeouts.idle = 300ms;
  fc::client c(app.endpoint(), s);
  fc::request r = get_request("/");
  r.body = fc::body_source::from_file(file.string());
  reset_peak_rss();
  const std::size_t before = peak_rss_kib();
  const auto started = clock_type::now();
  const fc::response resp = c.call(r);
  const auto took = clock_type::now() - started;
  const std::size_t growth = peak_rss_kib() - before;
  done = true;
  std::filesystem::remove(file);
  EXPECT_EQ(resp.error, errc::idle_timeout) << error_text(resp);
  EXPECT_EQ(resp.out, head);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  EXPECT_EQ(c.stats().open_connections, 0U);
  EXPECT_LT(growth, 4U * 1024) << "peak RSS grew " << growth << " KiB";
  RecordProperty("peak_rss_growth_kib", std::to_string(growth));
}

}  // namespace
}  // namespace fcgi::test
