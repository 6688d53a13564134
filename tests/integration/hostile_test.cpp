// HOSTILE.md sections A-C end to end: every case against a real fcgi::server on a real socket,
// the hostile bytes sent raw, the exact outcome the case and the FastCGI spec require, then a
// normal request served on another connection (and on the same one when it stays open).
// Tests are named after the case (hostile.A01_... is A-1); hostile.errc_* cover the protocol
// violations errc.hpp names that no case does. C-42 and C-43 run an example app as a child
// process (its own descriptor limit, signals, /proc figures).
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcgi/server/async.hpp>

#include "harness.hpp"

namespace fcgi::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using protocol::role;
using rt = protocol::record_type;
using steady = std::chrono::steady_clock;
using param_pairs = std::vector<std::pair<std::string, std::string>>;

constexpr std::uint8_t type_byte(rt t) noexcept { return static_cast<std::uint8_t>(t); }
constexpr std::uint8_t status_byte(protocol::protocol_status s) noexcept {
  return static_cast<std::uint8_t>(s);
}
constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * 1024;

const std::string hello_reply = "Content-Type: text/plain\r\n\r\nHello, world!\n";

// ---- Encoding hostile input -------------------------------------------------------------

/// A name-value length (spec 3.4): one byte below 128, else four with the high bit set.
std::string length_prefix(std::size_t n) {
  if (n < 128) return std::string(1, static_cast<char>(n));
  return {static_cast<char>(0x80U | ((n >> 24U) & 0x7fU)), static_cast<char>((n >> 16U) & 0xffU),
          static_cast<char>((n >> 8U) & 0xffU), static_cast<char>(n & 0xffU)};
}

std::string pair(std::string_view name, std::string_view value) {
  return length_prefix(name.size()) + length_prefix(value.size()) + std::string(name) +
         std::string(value);
}

std::string pairs(const param_pairs& ps) {
  std::string out;
  for (const auto& [name, value] : ps) out += pair(name, value);
  return out;
}

/// A record whose padding is `padding` (any bytes: the spec says they are ignored).
std::string padded_record(rt type, std::uint16_t id, std::string_view content,
                          std::string_view padding) {
  std::string out = raw_record(type_byte(type), id, content);
  out[6] = static_cast<char>(padding.size());
  return out + std::string(padding);
}

std::string begin_record(std::uint16_t id, std::uint16_t role_code = 1, bool keep_conn = true) {
  std::string body(8, '\0');
  body[0] = static_cast<char>(role_code >> 8U);
  body[1] = static_cast<char>(role_code & 0xffU);
  body[2] = keep_conn ? '\1' : '\0';
  return raw_record(type_byte(rt::begin_request), id, body);
}

std::string abort_record(std::uint16_t id) {
  return raw_record(type_byte(rt::abort_request), id, "");
}

/// A whole stream: records of at most 65535 bytes, then the empty record that ends it.
std::string stream(rt type, std::uint16_t id, std::string_view content) {
  std::string out;
  while (!content.empty()) {
    const std::string_view piece = content.substr(0, protocol::max_content_length);
    out += raw_record(type_byte(type), id, piece);
    content.remove_prefix(piece.size());
  }
  return out + raw_record(type_byte(type), id, "");
}

std::string params_stream(std::uint16_t id, const param_pairs& ps) {
  return stream(rt::params, id, pairs(ps));
}

std::string stdin_stream(std::uint16_t id, std::string_view body) {
  return stream(rt::stdin_stream, id, body);
}

/// BEGIN, PARAMS and STDIN of a whole request.
std::string request_bytes(std::uint16_t id, const param_pairs& ps, std::string_view body = {},
                          bool keep_conn = true) {
  return begin_record(id, 1, keep_conn) + params_stream(id, ps) + stdin_stream(id, body);
}

std::string get_values_record(const std::vector<std::string>& names) {
  std::string content;
  for (const std::string& name : names) content += pair(name, "");
  return raw_record(type_byte(rt::get_values), 0, content);
}

param_pairs get_params(std::string_view uri, param_pairs extra = {}) {
  return cgi_params("GET", uri, std::move(extra));
}

param_pairs post_params(std::string_view uri, std::size_t length) {
  return cgi_params("POST", uri, {{"CONTENT_LENGTH", std::to_string(length)}});
}

param_pairs hello_params() { return get_params("/hello"); }

/// What the probe handler answers for `ps` and `body`.
std::string dump_of(const param_pairs& ps, std::string_view body) {
  std::string out = "Content-Type: text/plain\r\n\r\n";
  for (const auto& [name, value] : ps) out.append(name).append("=").append(value).append("\n");
  return out.append("--\n").append(body);
}

// ---- Reading what the server sends ------------------------------------------------------

struct record_in {
  std::uint8_t version = 0;
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  std::string content;
  std::uint8_t padding = 0;
  [[nodiscard]] bool is(rt t) const noexcept { return type == type_byte(t); }
  [[nodiscard]] std::uint32_t app_status() const {
    const auto b = [this](std::size_t i) { return static_cast<unsigned char>(content.at(i)); };
    return (std::uint32_t{b(0)} << 24U) | (std::uint32_t{b(1)} << 16U) |
           (std::uint32_t{b(2)} << 8U) | b(3);
  }
  [[nodiscard]] std::uint8_t protocol_status() const {
    return static_cast<std::uint8_t>(content.at(4));
  }
};

/// One request's answer as received.
struct answer {
  std::vector<record_in> records;  ///< every record read on the way, of any request
  std::string out;
  std::string err;
  bool ended = false;
  std::uint32_t app_status = 0;
  std::uint8_t protocol_status = 0xff;
  [[nodiscard]] std::string body() const {
    if (out.starts_with("\r\n")) return out.substr(2);
    const auto end = out.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : out.substr(end + 4);
  }
  [[nodiscard]] std::string head() const {
    const auto end = out.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : out.substr(0, end + 2);
  }
};

/// A raw connection to the server: bytes out as given, records in as sent. Every read has a
/// deadline.
class peer {
 public:
  explicit peer(int fd) : fd_(fd) {}
  ~peer() {
    if (fd_ >= 0) ::close(fd_);
  }
  peer(const peer&) = delete;
  peer& operator=(const peer&) = delete;

  /// Sends all of `bytes`; false once the server has gone (never SIGPIPE).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// The next record, or nullopt when the server closed or `deadline` passed.
  std::optional<record_in> next(std::chrono::milliseconds deadline = 10s) {
    const auto until = steady::now() + deadline;
    for (;;) {
      if (auto r = take()) return r;
      if (!fill(until)) return std::nullopt;
    }
  }

  /// Adds the records read to `a` until the END_REQUEST of `id`; false if it did not come.
  bool collect(answer& a, std::uint16_t id, std::chrono::milliseconds deadline = 10s) {
    const auto until = steady::now() + deadline;
    for (;;) {
      while (auto r = take()) {
        a.records.push_back(*r);
        if (r->id != id) continue;
        if (r->is(rt::stdout_stream)) a.out += r->content;
        if (r->is(rt::stderr_stream)) a.err += r->content;
        if (r->is(rt::end_request)) {
          a.ended = true;
          a.app_status = r->app_status();
          a.protocol_status = r->protocol_status();
          return true;
        }
      }
      if (!fill(until)) return false;
    }
  }

  answer until_end(std::uint16_t id, std::chrono::milliseconds deadline = 10s) {
    answer a;
    collect(a, id, deadline);
    return a;
  }

  /// True when the server closes the connection within `deadline`; the records it sent
  /// first are added to `seen`.
  bool closed_within(std::chrono::milliseconds deadline, std::vector<record_in>* seen = nullptr) {
    const auto until = steady::now() + deadline;
    for (;;) {
      while (auto r = take()) {
        if (seen != nullptr) seen->push_back(*r);
      }
      if (eof_) return true;
      if (!fill(until)) return eof_;
    }
  }

  /// Closes with SO_LINGER 0: the kernel sends RST instead of FIN (TCP).
  void reset() {
    const linger hard{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    ::close(fd_);
    fd_ = -1;
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] std::size_t bytes_received() const noexcept { return received_; }

 private:
  std::optional<record_in> take() {
    if (pending_.size() < protocol::header_size) return std::nullopt;
    const auto byte = [this](std::size_t i) { return static_cast<unsigned char>(pending_[i]); };
    const std::size_t length = (std::size_t{byte(4)} << 8U) | byte(5);
    const std::size_t size = protocol::header_size + length + byte(6);
    if (pending_.size() < size) return std::nullopt;
    record_in r;
    r.version = byte(0);
    r.type = byte(1);
    r.id = static_cast<std::uint16_t>((byte(2) << 8U) | byte(3));
    r.content = pending_.substr(protocol::header_size, length);
    r.padding = byte(6);
    pending_.erase(0, size);
    return r;
  }

  bool fill(steady::time_point until) {
    if (eof_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    std::array<char, 65536> buffer{};
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      eof_ = true;  // closed, or reset
      return false;
    }
    pending_.append(buffer.data(), static_cast<std::size_t>(n));
    received_ += static_cast<std::size_t>(n);
    return true;
  }

  int fd_;
  std::string pending_;
  std::size_t received_ = 0;
  bool eof_ = false;
};

// ---- The application under attack ------------------------------------------------------

/// What handlers saw, for the test thread to check.
class call_log {
 public:
  void add(std::string what) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(what));
  }
  [[nodiscard]] std::size_t count(std::string_view what) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count(items_.begin(), items_.end(), what));
  }
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> items_;
};

/// A flag another thread waits for, with a deadline.
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

void hello(response& res) {
  res.header("Content-Type", "text/plain");
  res.write("Hello, world!\n");
}

/// /hello answers hello; any other path answers its params as NAME=VALUE lines (bytes as
/// received), "--", then the body. Every call but /hello is logged by its path, so a test can
/// show a hostile request never reached a handler.
void probe(request& req, response& res, call_log& calls) {
  if (req.script_name() == "/hello") return hello(res);
  calls.add(std::string(req.script_name()));
  std::string text;
  for (const protocol::param& p : req.params()) {
    text.append(p.name).append("=").append(p.value).append("\n");
  }
  res.header("Content-Type", "text/plain");
  res.write(text + "--\n" + std::string(req.body()));
}

/// Responder: probe. Filter: the body, "|", then the DATA.
std::function<void(server&)> probe_app(call_log& calls) {
  return [&calls](server& app) {
    app.responder([&calls](request& req, response& res) { probe(req, res, calls); });
    app.filter([&calls](request& req, response& res) {
      calls.add("filter");
      res.header("Content-Type", "text/plain");
      res.write(std::string(req.body()) + "|" + std::string(req.data()));
    });
  };
}

server_config base_config() {
  server_config config;
  config.idle_timeout = 30s;
  return config;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(ms);
  boost::system::error_code ignored;  // a cancelled sleep just ends early
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

/// Waits (polling every 5 ms, at most 10 s) until `done` holds.
asio::awaitable<void> sleep_until(const std::function<bool()>& done) {
  const auto until = steady::now() + 10s;
  while (!done() && steady::now() < until) co_await sleep_for(5ms);
}

// ---- Outcomes shared by every case -------------------------------------------------------

/// A normal request on `p` with request id `id` is answered, and nothing else arrives first.
void expect_served_on(peer& p, std::uint16_t id = 1) {
  ASSERT_TRUE(p.send(request_bytes(id, hello_params())));
  const answer a = p.until_end(id);
  ASSERT_TRUE(a.ended) << "no END_REQUEST for the normal request " << id;
  EXPECT_EQ(a.out, hello_reply);
  EXPECT_EQ(a.app_status, 0U);
  EXPECT_EQ(a.protocol_status, 0);
  for (const record_in& r : a.records) {
    EXPECT_EQ(r.id, id) << "an unexpected record of type " << int{r.type};
  }
}

/// The "every other connection carries on" half of each case.
void expect_served_on_new_connection(running_server& s) {
  SCOPED_TRACE("on a new connection");
  peer p(s.connect());
  expect_served_on(p, 1);
}

/// The request `id` was ended by the protocol layer: an empty STDOUT, then END_REQUEST
/// {error_app_status 1, REQUEST_COMPLETE} (common.md: request-level violations).
void expect_request_failed(const answer& a, std::uint16_t id) {
  ASSERT_TRUE(a.ended) << "request " << id << " was not ended";
  EXPECT_EQ(a.out, "");
  EXPECT_EQ(a.app_status, 1U);
  EXPECT_EQ(a.protocol_status, status_byte(protocol::protocol_status::request_complete));
  ASSERT_GE(a.records.size(), 2U);
  const record_in& terminator = a.records[a.records.size() - 2];
  EXPECT_TRUE(terminator.is(rt::stdout_stream) && terminator.id == id &&
              terminator.content.empty());
}

std::size_t log_count(const running_server& s, std::string_view text) {
  const std::vector<std::string> lines = s.log_lines();
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [text](const auto& l) {
    return l.find(text) != std::string::npos;
  }));
}

/// The server closed `p` without sending anything, and logged why.
void expect_closed_silently(peer& p, running_server& s, std::string_view logged) {
  std::vector<record_in> seen;
  EXPECT_TRUE(p.closed_within(10s, &seen)) << logged;
  EXPECT_TRUE(seen.empty()) << logged << ": " << seen.size() << " record(s) sent before the close";
  EXPECT_TRUE(s.wait_for_log(logged)) << logged;
}

// ---- A. Framing and records --------------------------------------------------------------

TEST(hostile, A01_version_not_1_closes_the_connection) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  for (const std::uint8_t version : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{255}}) {
    peer p(s.connect());
    // A request in progress, then a record of another version (and a whole request after it
    // that must never be served: once framing is untrusted nothing after it is read).
    p.send(begin_record(1) + params_stream(1, post_params("/in-flight", 3)));
    p.send(raw_record(type_byte(rt::stdin_stream), 1, "abc", 0, version) +
           request_bytes(2, get_params("/after")));
    expect_closed_silently(p, s, "protocol error: unsupported_version");
  }
  EXPECT_EQ(calls.size(), 0U);
  EXPECT_EQ(log_count(s, "unsupported_version"), 3U);
  EXPECT_EQ(s.app().statistics().protocol_errors, 3U);
  expect_served_on_new_connection(s);
}

TEST(hostile, A02_unknown_type_on_id_0_is_answered_unknown_type) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // 0 and >= 12 are unknown; 10 and 11 are types an application never receives (spec 4.2).
  for (const int code : {0, 10, 11, 12, 200, 255}) {
    const auto type = static_cast<std::uint8_t>(code);
    p.send(raw_record(type, 0, "some content", 4));
    const auto r = p.next();
    ASSERT_TRUE(r) << int{type};
    EXPECT_EQ(r->version, 1);
    EXPECT_TRUE(r->is(rt::unknown_type));
    EXPECT_EQ(r->id, 0);
    EXPECT_EQ(r->content, std::string(1, static_cast<char>(type)) + std::string(7, '\0'));
    EXPECT_EQ(r->padding, 0);
  }
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, A03_unknown_type_on_a_request_id_is_skipped) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const param_pairs ps = post_params("/skip", 5);
  p.send(begin_record(1) + params_stream(1, ps));
  // Skipped by length and padding: contents that parse as records (an ABORT of request 1, a
  // BEGIN of it again) would fail the request or the connection if they were read as such.
  p.send(raw_record(12, 1, abort_record(1), 3));
  p.send(padded_record(static_cast<rt>(200), 7, std::string(65535, '\1'), std::string(255, '\1')));
  p.send(padded_record(static_cast<rt>(0), 1, "", begin_record(1).substr(0, 8)));
  p.send(raw_record(255, 1, begin_record(1) + begin_record(1), 0));
  p.send(stdin_stream(1, "hello"));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, dump_of(ps, "hello"));
  EXPECT_EQ(a.app_status, 0U);
  for (const record_in& r : a.records) {
    EXPECT_EQ(r.id, 1) << "nothing is answered for skipped records, type " << int{r.type};
  }
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, A04_largest_content_and_padding_are_consumed_exactly) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  std::string body(2 * 65535, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
  param_pairs ps = post_params("/largest", body.size());
  // One PARAMS record of exactly 65535 content bytes and 255 padding bytes.
  const std::string small = pairs(ps);
  const std::size_t big_value = 65535 - small.size() - 1 - 4 - 5;
  ps.emplace_back("X_BIG", std::string(big_value, 'b'));
  const std::string content = pairs(ps);
  ASSERT_EQ(content.size(), 65535U);
  p.send(begin_record(1) + raw_record(type_byte(rt::params), 1, content, 255) +
         raw_record(type_byte(rt::params), 1, ""));
  p.send(raw_record(type_byte(rt::stdin_stream), 1, std::string_view(body).substr(0, 65535), 255) +
         raw_record(type_byte(rt::stdin_stream), 1, std::string_view(body).substr(65535), 255) +
         raw_record(type_byte(rt::stdin_stream), 1, "", 255));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_TRUE(a.out == dump_of(ps, body));
  EXPECT_EQ(a.app_status, 0U);
  // The next request starts exactly where the padding ended.
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, A05_nonzero_padding_is_ignored) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const param_pairs ps = post_params("/padding", 4);
  // Padding bytes that are records themselves: a BEGIN of request 1 (would close for an
  // active id), an ABORT of it (would end it), 0xFF bytes.
  p.send(padded_record(rt::begin_request, 1, begin_record(1).substr(8), begin_record(1)));
  p.send(padded_record(rt::params, 1, pairs(ps), abort_record(1)));
  p.send(padded_record(rt::params, 1, "", std::string(255, '\xff')));
  p.send(padded_record(rt::stdin_stream, 1, "body", abort_record(1).substr(0, 4)));
  p.send(padded_record(rt::stdin_stream, 1, "", std::string(7, '\x01')));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, dump_of(ps, "body"));
  EXPECT_EQ(a.app_status, 0U);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

/// A request using every framing feature: padding everywhere, a pair split across records,
/// a management record and an unknown type mid-request.
std::string everything_request() {
  const param_pairs ps = post_params("/bytes", 300);
  const std::string encoded = pairs(ps) + pair("X_SPLIT", std::string(200, 's'));
  std::string out = padded_record(rt::begin_request, 1, begin_record(1).substr(8), "\x7f\x01");
  out += padded_record(rt::params, 1, encoded.substr(0, encoded.size() - 150), "\xff\xff\xff");
  out += padded_record(rt::params, 1, encoded.substr(encoded.size() - 150), "");
  out += padded_record(rt::params, 1, "", "\x01\x02\x03\x04\x05");
  out += padded_record(rt::get_values, 0, pair("FCGI_MPXS_CONNS", ""), "\x09");
  out += padded_record(static_cast<rt>(42), 0, "?", "\x01\x01");
  const std::string body(300, 'q');
  out += padded_record(rt::stdin_stream, 1, body.substr(0, 100), std::string(7, '\x01'));
  out += padded_record(rt::stdin_stream, 1, body.substr(100), "\x02");
  out += padded_record(rt::stdin_stream, 1, "", std::string(8, '\x03'));
  return out;
}

TEST(hostile, A06_one_byte_writes_give_the_same_result_as_one_write) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  const std::string bytes = everything_request();
  peer whole(s.connect());
  whole.send(bytes);
  const answer expected = whole.until_end(1);
  ASSERT_TRUE(expected.ended);
  EXPECT_NE(expected.out.find("X_SPLIT=" + std::string(200, 's') + "\n"), std::string::npos);
  EXPECT_TRUE(expected.out.ends_with("--\n" + std::string(300, 'q')));

  peer slow(s.connect());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    ASSERT_TRUE(slow.send(std::string_view(bytes).substr(i, 1)));
    if (i == bytes.size() / 2) expect_served_on_new_connection(s);  // meanwhile, others
  }
  const answer got = slow.until_end(1);
  ASSERT_TRUE(got.ended);
  ASSERT_EQ(got.records.size(), expected.records.size());
  for (std::size_t i = 0; i < got.records.size(); ++i) {
    EXPECT_EQ(got.records[i].type, expected.records[i].type) << i;
    EXPECT_EQ(got.records[i].id, expected.records[i].id) << i;
    EXPECT_EQ(got.records[i].content, expected.records[i].content) << i;
  }
  expect_served_on(slow, 1);
}

TEST(hostile, A07_records_and_the_next_begin_in_one_read_are_processed_in_order) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const std::string third = request_bytes(3, post_params("/three", 5), "three");
  const std::size_t cut = 16 + 10;  // BEGIN and part of the first PARAMS header
  p.send(request_bytes(1, post_params("/one", 3), "one") + get_values_record({"FCGI_MPXS_CONNS"}) +
         request_bytes(2, post_params("/two", 3), "two") + third.substr(0, cut));
  answer a;
  ASSERT_TRUE(p.collect(a, 2));
  std::vector<std::pair<int, int>> order;
  for (const record_in& r : a.records) order.emplace_back(r.type, r.id);
  // Each answer: the head with the body (one record: written before the first flush), the
  // empty STDOUT, END_REQUEST.
  const std::vector<std::pair<int, int>> expected = {{6, 1}, {6, 1}, {3, 1}, {10, 0},
                                                     {6, 2}, {6, 2}, {3, 2}};
  EXPECT_EQ(order, expected);
  EXPECT_EQ(a.records[3].content, pair("FCGI_MPXS_CONNS", "1"));
  EXPECT_EQ(a.out, dump_of(post_params("/two", 3), "two"));
  p.send(third.substr(cut));
  const answer c = p.until_end(3);
  EXPECT_EQ(c.out, dump_of(post_params("/three", 5), "three"));
  expect_served_on_new_connection(s);
}

TEST(hostile, A08_begin_request_length_not_8_closes) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  for (const std::size_t length : {0UL, 7UL, 9UL, 65535UL}) {
    peer p(s.connect());
    p.send(raw_record(type_byte(rt::begin_request), 1, std::string(length, '\1')) +
           request_bytes(2, get_params("/after")));
    expect_closed_silently(p, s, "protocol error: begin_request_length");
  }
  EXPECT_EQ(log_count(s, "begin_request_length"), 4U);
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on_new_connection(s);
}

TEST(hostile, A09_begin_request_on_id_0_closes) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  p.send(request_bytes(0, get_params("/zero")) + request_bytes(1, get_params("/after")));
  expect_closed_silently(p, s, "protocol error: begin_request_on_null_id");
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on_new_connection(s);
}

TEST(hostile, A10_begin_for_an_active_id_closes) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  // A request on another connection is in flight through the whole case.
  peer other(s.connect());
  other.send(begin_record(1) + params_stream(1, post_params("/other", 5)));
  peer p(s.connect());
  p.send(begin_record(1) + params_stream(1, post_params("/first", 5)) + begin_record(1) +
         params_stream(1, get_params("/second")) + stdin_stream(1, ""));
  expect_closed_silently(p, s, "protocol error: request_id_already_active");
  EXPECT_EQ(calls.size(), 0U);
  other.send(stdin_stream(1, "other"));
  const answer a = other.until_end(1);
  EXPECT_EQ(a.out, dump_of(post_params("/other", 5), "other"));
  expect_served_on(other, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, A11_unknown_role_is_answered_unknown_role) {
  call_log calls;
  running_server s(base_config(), [&calls](server& app) {
    app.responder([&calls](request& req, response& res) { probe(req, res, calls); });
  });
  peer p(s.connect());
  // 0, 4 and 0xFFFF are no role; 2 (Authorizer) and 3 (Filter) have no handler here.
  for (const int code : {0, 4, 0xffff, 2, 3}) {
    const auto role_code = static_cast<std::uint16_t>(code);
    p.send(begin_record(5, role_code));
    const auto r = p.next();
    ASSERT_TRUE(r) << role_code;
    EXPECT_TRUE(r->is(rt::end_request));
    EXPECT_EQ(r->id, 5);
    EXPECT_EQ(r->app_status(), 0U);
    EXPECT_EQ(r->protocol_status(), status_byte(protocol::protocol_status::unknown_role));
    // The id stayed inactive: its PARAMS and STDIN are ignored, answered by nothing.
    p.send(params_stream(5, get_params("/ignored")) + stdin_stream(5, "x"));
  }
  expect_served_on(p, 5);  // nothing but this request's records arrives first
  EXPECT_EQ(calls.size(), 0U);
  // Without KEEP_CONN the rejection is the connection's last response (spec 5.1).
  p.send(begin_record(6, 4, false));
  std::vector<record_in> seen;
  EXPECT_TRUE(p.closed_within(10s, &seen));
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].protocol_status(), status_byte(protocol::protocol_status::unknown_role));
  expect_served_on_new_connection(s);
}

TEST(hostile, A12_second_request_without_multiplexing_gets_cant_mpx_conn) {
  server_config config = base_config();
  config.protocol.multiplex = false;
  call_log calls;
  running_server s(config, probe_app(calls));
  peer p(s.connect());
  p.send(get_values_record({"FCGI_MPXS_CONNS"}));
  const auto values = p.next();
  ASSERT_TRUE(values);
  EXPECT_EQ(values->content, pair("FCGI_MPXS_CONNS", "0"));
  p.send(begin_record(1) + params_stream(1, post_params("/first", 3)));
  p.send(begin_record(2) + params_stream(2, get_params("/second")) + stdin_stream(2, ""));
  const auto r = p.next();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is(rt::end_request));
  EXPECT_EQ(r->id, 2);
  EXPECT_EQ(r->app_status(), 0U);
  EXPECT_EQ(r->protocol_status(), status_byte(protocol::protocol_status::cant_mpx_conn));
  p.send(stdin_stream(1, "one"));
  EXPECT_EQ(p.until_end(1).out, dump_of(post_params("/first", 3), "one"));
  EXPECT_EQ(calls.count("/second"), 0U);
  expect_served_on(p, 2);
  expect_served_on_new_connection(s);
}

TEST(hostile, A13_over_capacity_is_answered_overloaded) {
  server_config config = base_config();
  config.max_requests = 2;
  call_log calls;
  running_server s(config, probe_app(calls));
  // Two connections hold the two request slots with bodies that have not ended.
  peer a(s.connect());
  peer b(s.connect());
  a.send(begin_record(1) + params_stream(1, post_params("/a", 1)));
  b.send(begin_record(1) + params_stream(1, post_params("/b", 1)));
  // Both are known to the server once a management answer comes back behind them.
  for (peer* held : {&a, &b}) {
    held->send(get_values_record({"FCGI_MAX_REQS"}));
    const auto r = held->next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->content, pair("FCGI_MAX_REQS", "2"));
  }
  peer c(s.connect());
  c.send(request_bytes(1, get_params("/c")));
  const answer refused = c.until_end(1);  // an answer, never a silent hang
  ASSERT_TRUE(refused.ended);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.app_status, 0U);
  EXPECT_EQ(refused.protocol_status, status_byte(protocol::protocol_status::overloaded));
  EXPECT_EQ(s.app().statistics().requests_overloaded, 1U);
  EXPECT_EQ(calls.count("/c"), 0U);
  a.send(stdin_stream(1, "A"));
  EXPECT_EQ(a.until_end(1).out, dump_of(post_params("/a", 1), "A"));
  b.send(stdin_stream(1, "B"));
  EXPECT_EQ(b.until_end(1).out, dump_of(post_params("/b", 1), "B"));
  expect_served_on(c, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, A14_application_records_on_id_0_close) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  const rt types[] = {rt::params,        rt::stdin_stream,  rt::data,       rt::abort_request,
                      rt::stdout_stream, rt::stderr_stream, rt::end_request};
  for (const rt type : types) {
    peer p(s.connect());
    p.send(begin_record(1) + params_stream(1, post_params("/in-flight", 1)));
    p.send(raw_record(type_byte(type), 0, type == rt::end_request ? std::string(8, '\0') : "x") +
           stdin_stream(1, "x"));
    expect_closed_silently(p, s, "protocol error: application_record_on_null_id");
  }
  EXPECT_EQ(log_count(s, "application_record_on_null_id"), std::size(types));
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on_new_connection(s);
}

TEST(hostile, A15_records_for_an_inactive_id_are_ignored) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // Every record type a web server sends, for id 7 that was never begun: no state is made,
  // so nothing of it (REMOTE_USER!) can reach the request that later uses id 7.
  p.send(params_stream(7, {{"REMOTE_USER", "mallory"}, {"CONTENT_LENGTH", "2"}}) +
         stdin_stream(7, "xx") + stream(rt::data, 7, "dd") + abort_record(7));
  const param_pairs ps = post_params("/seven", 2);
  p.send(request_bytes(7, ps, "ok"));
  const answer a = p.until_end(7);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, dump_of(ps, "ok"));
  EXPECT_EQ(a.records.size(), 3U);  // head and body, empty STDOUT, END_REQUEST: nothing else
  EXPECT_EQ(calls.size(), 1U);
  expect_served_on(p, 7);
  expect_served_on_new_connection(s);
}

TEST(hostile, A16_abort_for_an_unknown_id_sends_nothing) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  p.send(abort_record(9) + abort_record(0xffff));
  expect_served_on(p, 1);
  p.send(abort_record(1));  // request 1 has ended: unknown again
  // Anything sent for the aborts would arrive before the next answer: it must not.
  expect_served_on(p, 2);
  expect_served_on_new_connection(s);
}

TEST(hostile, A17_abort_of_an_active_request) {
  // A plain handler never ran: the request waits for its body. One END_REQUEST, and the body
  // that follows the abort is ignored.
  call_log calls;
  running_server plain(base_config(), probe_app(calls));
  peer p(plain.connect());
  p.send(begin_record(1) + params_stream(1, post_params("/aborted", 10)) +
         raw_record(type_byte(rt::stdin_stream), 1, "01234"));
  p.send(abort_record(1));
  const answer a = p.until_end(1);
  expect_request_failed(a, 1);
  p.send(raw_record(type_byte(rt::stdin_stream), 1, "56789") + stdin_stream(1, ""));
  expect_served_on(p, 1);
  EXPECT_EQ(calls.size(), 0U);

  // A coroutine reading the body: its read ends early, its writes fail, exactly one
  // END_REQUEST is sent, and without KEEP_CONN the connection closes after it.
  event read_half;
  event finished;
  std::atomic<std::size_t> bytes_read{0};
  std::atomic<bool> saw_abort{false};
  std::atomic<bool> late_send{true};
  running_server coroutine(base_config(), [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      try {
        for (;;) {
          const std::string_view chunk = co_await req.read_some();
          if (chunk.empty()) break;
          bytes_read += chunk.size();
          read_half.set();
        }
      } catch (const boost::system::system_error&) {
        // Cancelled at a wait (async.hpp): what follows still runs to check the writes.
      }
      saw_abort = res.aborted();
      late_send = res.write("after the abort");
      finished.set();
    });
  });
  peer q(coroutine.connect());
  q.send(begin_record(1, 1, false) + params_stream(1, post_params("/aborted", 10)) +
         raw_record(type_byte(rt::stdin_stream), 1, "01234"));
  ASSERT_TRUE(read_half.wait());
  q.send(abort_record(1));
  std::vector<record_in> seen;
  EXPECT_TRUE(q.closed_within(10s, &seen));
  ASSERT_TRUE(finished.wait());
  EXPECT_EQ(bytes_read.load(), 5U);
  EXPECT_TRUE(saw_abort.load());
  EXPECT_FALSE(late_send.load());
  std::size_t ends = 0;
  for (const record_in& r : seen) {
    if (r.is(rt::end_request)) ++ends;
    if (r.is(rt::stdout_stream)) {
      EXPECT_EQ(r.content, "");
    }
  }
  EXPECT_EQ(ends, 1U);
  expect_served_on_new_connection(coroutine);
  expect_served_on_new_connection(plain);
}

TEST(hostile, A18_stdin_before_params_end_or_params_after_it_fail_the_request) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // STDIN while PARAMS are still open, the last pair cut in half.
  const std::string open_params = pairs(get_params("/partial")) + pair("HTTP_X", "abcdef");
  p.send(begin_record(1) +
         raw_record(type_byte(rt::params), 1, open_params.substr(0, open_params.size() - 3)) +
         raw_record(type_byte(rt::stdin_stream), 1, "body"));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: stdin_before_params_end"));
  // PARAMS after their terminator (the request is waiting for its body).
  p.send(begin_record(2) + params_stream(2, post_params("/late-params", 4)) +
         raw_record(type_byte(rt::params), 2, pair("REMOTE_USER", "mallory")));
  expect_request_failed(p.until_end(2), 2);
  EXPECT_TRUE(s.wait_for_log("request failed: params_after_params_end"));
  p.send(stdin_stream(2, "body"));  // for an ended request: ignored
  EXPECT_EQ(calls.size(), 0U);      // no handler saw either request
  expect_served_on(p, 1);
  expect_served_on(p, 2);
  expect_served_on_new_connection(s);
}

TEST(hostile, A19_stdin_after_its_terminator_is_ignored) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // A Filter's body has ended but the request is still active, waiting for DATA.
  p.send(begin_record(1, 3) + params_stream(1, get_params("/file")) + stdin_stream(1, "body") +
         raw_record(type_byte(rt::stdin_stream), 1, "EXTRA") + stdin_stream(1, "MORE") +
         stream(rt::data, 1, "data"));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.body(), "body|data");
  EXPECT_EQ(a.app_status, 0U);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, A20_thousand_begins_never_completed_stop_at_the_advertised_cap) {
  server_config config = base_config();
  config.max_requests = 100;
  call_log calls;
  running_server s(config, probe_app(calls));
  peer p(s.connect());
  p.send(get_values_record({"FCGI_MAX_REQS"}));
  const auto values = p.next();
  ASSERT_TRUE(values);
  ASSERT_EQ(values->content, pair("FCGI_MAX_REQS", "100"));
  const std::size_t rss_before = rss_kib();
  std::string flood;
  for (std::uint16_t id = 1; id <= 1000; ++id) flood += begin_record(id);
  p.send(flood);
  // Every BEGIN past the advertised cap is refused at once; the first 100 hold their ids.
  std::set<std::uint16_t> overloaded;
  while (overloaded.size() < 900) {
    const auto r = p.next();
    ASSERT_TRUE(r) << "only " << overloaded.size() << " OVERLOADED answers";
    ASSERT_TRUE(r->is(rt::end_request));
    EXPECT_EQ(r->app_status(), 0U);
    EXPECT_EQ(r->protocol_status(), status_byte(protocol::protocol_status::overloaded));
    overloaded.insert(r->id);
  }
  EXPECT_EQ(*overloaded.begin(), 101);
  EXPECT_EQ(*overloaded.rbegin(), 1000);
  const std::size_t rss_after = rss_kib();
  EXPECT_LT(rss_after, rss_before + 16 * kib) << "KiB";
  expect_served_on_new_connection(s);
  // Aborting the held ones answers each once and frees its id.
  std::string aborts;
  for (std::uint16_t id = 1; id <= 100; ++id) aborts += abort_record(id);
  p.send(aborts);
  std::set<std::uint16_t> ended;
  while (ended.size() < 100) {
    const auto r = p.next();
    ASSERT_TRUE(r) << "only " << ended.size() << " aborts answered";
    if (!r->is(rt::end_request)) continue;
    EXPECT_EQ(r->app_status(), 1U);
    EXPECT_TRUE(ended.insert(r->id).second) << "a second END_REQUEST for " << r->id;
  }
  expect_served_on(p, 1);
  EXPECT_EQ(calls.size(), 0U);
}

// ---- B. Name-value pairs and params ------------------------------------------------------

TEST(hostile, B21_length_0x7fffffff_is_rejected_on_its_length_bytes) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const std::size_t rss_before = rss_kib();
  // Name length 0x7FFFFFFF, then a value length 0x7FFFFFFF: the request fails as soon as the
  // length is read, with no terminator and none of the data sent.
  p.send(begin_record(1) +
         raw_record(type_byte(rt::params), 1, std::string("\xff\xff\xff\xff\x01", 5)));
  expect_request_failed(p.until_end(1), 1);
  p.send(begin_record(2) +
         raw_record(type_byte(rt::params), 2, std::string("\x04\xff\xff\xff\xffNAME", 9)));
  expect_request_failed(p.until_end(2), 2);
  EXPECT_EQ(log_count(s, "request failed: params_too_large"), 2U);
  EXPECT_LT(rss_kib(), rss_before + 16 * kib);
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, B22_declared_length_past_the_stream_fails_the_request) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // SCRIPT_NAME declares a 200-byte value and the stream ends after 4 bytes of it.
  p.send(
      begin_record(1) +
      raw_record(type_byte(rt::params), 1,
                 pairs(get_params("/x")) + std::string("\x0b\x80\x00\x00\xc8SCRIPT_NAME/abc", 20)) +
      raw_record(type_byte(rt::params), 1, "") + stdin_stream(1, ""));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: truncated_pair"));
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, B23_pair_straddling_two_params_records_is_decoded) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const param_pairs ps = {{"SCRIPT_NAME", "/split"},
                          {"HTTP_X_LONG", std::string(200, 'L')},
                          {std::string(130, 'N'), "v"}};
  const std::string encoded = pairs(ps);
  // Every split point, including inside the 4-byte lengths.
  for (std::size_t cut = 1; cut < encoded.size(); ++cut) {
    p.send(begin_record(1) + raw_record(type_byte(rt::params), 1, encoded.substr(0, cut)) +
           raw_record(type_byte(rt::params), 1, encoded.substr(cut)) +
           raw_record(type_byte(rt::params), 1, "") + stdin_stream(1, ""));
    const answer a = p.until_end(1);
    ASSERT_TRUE(a.ended) << cut;
    ASSERT_EQ(a.out, dump_of(ps, "")) << cut;
  }
  expect_served_on_new_connection(s);
}

TEST(hostile, B24_length_127_128_and_non_minimal_encodings_are_accepted) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const std::string name127(127, 'A');
  const std::string value128(128, 'v');
  // SCRIPT_NAME with both lengths in the 4-byte form though they fit one byte.
  const std::string content = std::string("\x80\x00\x00\x0b\x80\x00\x00\x04", 8) + "SCRIPT_NAME" +
                              "/len" + pair(name127, "x") + pair("L128", value128) +
                              std::string("\x80\x00\x00\x01\x00", 5) + "E";
  p.send(begin_record(1) + raw_record(type_byte(rt::params), 1, content) +
         raw_record(type_byte(rt::params), 1, "") + stdin_stream(1, ""));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out,
            dump_of({{"SCRIPT_NAME", "/len"}, {name127, "x"}, {"L128", value128}, {"E", ""}}, ""));
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, B25_params_flood_fails_at_the_cap_with_memory_bounded) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const std::size_t rss_before = rss_kib();
  p.send(begin_record(1));
  // Records of 65528 bytes, each one pair: the stream crosses the 128 KiB cap at the third.
  std::size_t sent = 0;
  answer a;
  for (int i = 0; sent < mib && !a.ended; ++i) {
    const std::string name = "P" + std::to_string(i);
    const std::string record =
        raw_record(type_byte(rt::params), 1, pair(name, std::string(65528 - 5 - name.size(), 'v')));
    ASSERT_TRUE(p.send(record));
    sent += record.size();
    p.collect(a, 1, 100ms);
  }
  expect_request_failed(a, 1);
  EXPECT_LE(sent, 3 * (65528 + 8U)) << "bytes sent before the request failed";
  EXPECT_TRUE(s.wait_for_log("request failed: params_too_large"));
  // The rest of the gigabyte is ignored as it comes: records for an ended request.
  const std::string ignored =
      raw_record(type_byte(rt::params), 1, pair("P", std::string(65528 - 6, 'v')));
  for (std::size_t more = 0; more < 32 * mib; more += ignored.size()) {
    ASSERT_TRUE(p.send(ignored));
  }
  expect_served_on(p, 2);
  EXPECT_LT(rss_kib(), rss_before + 16 * kib) << "KiB";
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on_new_connection(s);
}

TEST(hostile, B26_hundred_thousand_tiny_params_hit_the_count_cap) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  p.send(begin_record(1));
  const std::string tiny = pair("a", "");
  std::string record_content;
  while (record_content.size() + tiny.size() <= protocol::max_content_length) {
    record_content += tiny;
  }
  const std::string record = raw_record(type_byte(rt::params), 1, record_content);
  answer a;
  for (std::size_t sent_pairs = 0; sent_pairs < 100000 && !a.ended;
       sent_pairs += record_content.size() / tiny.size()) {
    ASSERT_TRUE(p.send(record));
    p.collect(a, 1, 100ms);
  }
  expect_request_failed(a, 1);
  EXPECT_TRUE(s.wait_for_log("request failed: too_many_params"));
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on(p, 2);
  expect_served_on_new_connection(s);
}

TEST(hostile, B27_empty_name_and_nul_in_name_fail_nul_in_value_is_kept) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  p.send(begin_record(1) + params_stream(1, {{"SCRIPT_NAME", "/a"}, {"", "value"}}) +
         stdin_stream(1, ""));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: empty_param_name"));
  p.send(begin_record(1) +
         params_stream(1, {{"SCRIPT_NAME", "/b"}, {std::string("HTTP_A\0B", 8), "v"}}) +
         stdin_stream(1, ""));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: nul_in_param_name"));
  const param_pairs kept = {{"SCRIPT_NAME", "/c"}, {"HTTP_X", std::string("a\0b\0", 4)}};
  p.send(request_bytes(1, kept));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, dump_of(kept, ""));  // all four bytes of the value, never truncated
  EXPECT_EQ(calls.size(), 1U);
  expect_served_on_new_connection(s);
}

TEST(hostile, B28_duplicate_security_params_are_rejected) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const param_pairs twice_filename = {{"SCRIPT_NAME", "/dup"},
                                      {"SCRIPT_FILENAME", "/srv/www/index.php"},
                                      {"SCRIPT_FILENAME", "/etc/passwd"}};
  const param_pairs twice_length = {
      {"SCRIPT_NAME", "/dup"}, {"CONTENT_LENGTH", "4"}, {"CONTENT_LENGTH", "4"}};
  for (const param_pairs& ps : {twice_filename, twice_length}) {
    p.send(request_bytes(1, ps, "body"));
    expect_request_failed(p.until_end(1), 1);
  }
  EXPECT_EQ(log_count(s, "request failed: duplicate_param"), 2U);
  // Names that carry no security meaning may repeat (docs: the first copy is the one read).
  const param_pairs headers = {
      {"SCRIPT_NAME", "/headers"}, {"HTTP_X_TAG", "one"}, {"HTTP_X_TAG", "two"}};
  p.send(request_bytes(1, headers));
  EXPECT_EQ(p.until_end(1).out, dump_of(headers, ""));
  EXPECT_EQ(calls.size(), 1U);
  expect_served_on_new_connection(s);
}

TEST(hostile, B29_bad_content_length_and_body_length_mismatch_fail) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  const std::vector<std::string> bad = {
      "-1", "1e3", " 10", "10 ", "18446744073709551616", "+5", "0x10", "9223372036854775808"};
  for (const std::string& length : bad) {
    p.send(request_bytes(1, {{"SCRIPT_NAME", "/cl"}, {"CONTENT_LENGTH", length}}, ""));
    expect_request_failed(p.until_end(1), 1);
  }
  EXPECT_EQ(log_count(s, "request failed: invalid_content_length"), bad.size());
  // Shorter: the empty STDIN comes early. Longer: the STDIN record that overruns fails at once.
  p.send(request_bytes(1, post_params("/short", 10), "abc"));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: stdin_shorter_than_content_length"));
  p.send(begin_record(1) + params_stream(1, post_params("/long", 3)) +
         raw_record(type_byte(rt::stdin_stream), 1, "abcdef"));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: stdin_longer_than_content_length"));
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on(p, 1);

  // A coroutine reading that body sees its read end early and the request aborted; it gets
  // exactly one END_REQUEST, the protocol's.
  event read_some;
  event finished;
  std::atomic<std::size_t> bytes_read{0};
  std::atomic<bool> saw_abort{false};
  running_server streaming(base_config(), [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      for (;;) {
        const std::string_view chunk = co_await req.read_some();
        if (chunk.empty()) break;
        bytes_read += chunk.size();
        read_some.set();
      }
      saw_abort = res.aborted();
      finished.set();
    });
  });
  peer q(streaming.connect());
  q.send(begin_record(1) + params_stream(1, post_params("/long", 10)) +
         raw_record(type_byte(rt::stdin_stream), 1, "01234"));
  ASSERT_TRUE(read_some.wait());  // the overrun comes while the handler reads
  q.send(raw_record(type_byte(rt::stdin_stream), 1, "567890123") + stdin_stream(1, ""));
  expect_request_failed(q.until_end(1), 1);
  ASSERT_TRUE(finished.wait());
  EXPECT_EQ(bytes_read.load(), 5U);
  EXPECT_TRUE(saw_abort.load());
  expect_served_on(q, 1);  // no second END_REQUEST for the first request arrives first
  expect_served_on_new_connection(streaming);
}

TEST(hostile, B30_long_script_name_and_empty_path_info_do_not_underflow) {
  running_server s(base_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      res.header("Content-Type", "text/plain");
      res.write("script_name=" + std::string(req.script_name()) +
                "\npath_info=" + std::string(req.path_info()) + "\npath=" + req.path() +
                "\nquery=" + std::string(req.query("a").value_or("<none>")) +
                "\nlength=" + (req.content_length() ? "set" : "none") + "\n");
    });
  });
  peer p(s.connect());
  // CVE-2019-11043: SCRIPT_NAME longer than SCRIPT_FILENAME, PATH_INFO present but empty.
  p.send(request_bytes(1, {{"SCRIPT_FILENAME", "/a.php"},
                           {"SCRIPT_NAME", "/a/much/longer/script/name/than/the/file.php"},
                           {"PATH_INFO", ""},
                           {"QUERY_STRING", "a"}}));
  EXPECT_EQ(p.until_end(1).body(),
            "script_name=/a/much/longer/script/name/than/the/file.php\npath_info=\n"
            "path=/a/much/longer/script/name/than/the/file.php\nquery=\nlength=none\n");
  // No SCRIPT_NAME, an empty REQUEST_URI, a query of separators only, CONTENT_LENGTH empty.
  p.send(request_bytes(1, {{"REQUEST_URI", ""},
                           {"PATH_INFO", "/x\n"},
                           {"QUERY_STRING", "&&=&"},
                           {"CONTENT_LENGTH", ""}}));
  EXPECT_EQ(p.until_end(1).body(),
            "script_name=\npath_info=/x\n\npath=/x\n\nquery=<none>\nlength=none\n");
  // REQUEST_URI that is only a query.
  p.send(request_bytes(1, {{"REQUEST_URI", "?a=1"}, {"QUERY_STRING", "a=1"}}));
  EXPECT_EQ(p.until_end(1).body(), "script_name=\npath_info=\npath=\nquery=1\nlength=none\n");
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, B31_get_values_on_a_request_id_closes_and_10k_names_get_a_bounded_answer) {
  server_config config = base_config();
  config.max_connections = 77;
  config.max_requests = 55;
  call_log calls;
  running_server s(config, probe_app(calls));
  peer p(s.connect());
  std::vector<std::string> names;
  for (int i = 0; i < 10000; ++i) {
    // Mostly unknown 4-byte names (the whole query must fit one record), the known ones
    // repeated; first asked: FCGI_MAX_CONNS (0), FCGI_MAX_REQS (983), FCGI_MPXS_CONNS (991).
    names.push_back(i % 997 == 0   ? "FCGI_MAX_CONNS"
                    : i % 991 == 0 ? "FCGI_MPXS_CONNS"
                    : i % 983 == 0 ? "FCGI_MAX_REQS"
                                   : "N" + std::to_string(i % 900 + 100));
  }
  const std::string query = get_values_record(names);
  ASSERT_LE(query.size(), 8 + protocol::max_content_length);
  p.send(query);
  const auto r = p.next();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is(rt::get_values_result));
  EXPECT_EQ(r->id, 0);
  // Each known name once, in the order first asked, nothing for the rest.
  EXPECT_EQ(r->content, pair("FCGI_MAX_CONNS", "77") + pair("FCGI_MAX_REQS", "55") +
                            pair("FCGI_MPXS_CONNS", "1"));
  expect_served_on(p, 1);

  peer bad(s.connect());
  bad.send(raw_record(type_byte(rt::get_values), 1, pair("FCGI_MAX_CONNS", "")) +
           request_bytes(1, hello_params()));
  expect_closed_silently(bad, s, "protocol error: management_record_on_request_id");
  expect_served_on_new_connection(s);
}

// ---- C. Lifecycle, output, resources -----------------------------------------------------

/// Plain and coroutine handlers that throw a std::exception or anything else.
void expect_throwing_handlers_get_500(running_server& s) {
  peer p(s.connect());
  // A request of the same connection is in progress across the failures.
  p.send(begin_record(1) + params_stream(1, post_params("/pending", 2)));
  for (const std::uint16_t id : {std::uint16_t{2}, std::uint16_t{3}}) {
    p.send(request_bytes(id, get_params(id == 2 ? "/throw-std" : "/throw-other")));
    const answer a = p.until_end(id);
    ASSERT_TRUE(a.ended) << id;
    EXPECT_EQ(a.head(), "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n");
    EXPECT_EQ(a.body(), "");  // no detail leaks to the client
    EXPECT_EQ(a.err, "fcgikit: the request handler failed\n");
    EXPECT_EQ(a.app_status, 1U);
    EXPECT_EQ(a.protocol_status, 0);
  }
  EXPECT_TRUE(s.wait_for_log("handler threw: kaboom ("));
  EXPECT_TRUE(s.wait_for_log("/throw-std)"));
  EXPECT_TRUE(s.wait_for_log("handler threw a non-exception ("));
  EXPECT_TRUE(s.wait_for_log("/throw-other)"));
  p.send(stdin_stream(1, "ok"));
  const answer pending = p.until_end(1);
  EXPECT_EQ(pending.body(), "ok");
  expect_served_on(p, 2);
  expect_served_on_new_connection(s);
}

TEST(hostile, C32_handler_that_throws_gets_500_and_the_connection_carries_on) {
  running_server plain(base_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      if (req.script_name() == "/throw-std") throw std::runtime_error("kaboom");
      if (req.script_name() == "/throw-other") throw 42;  // NOLINT: the hostile case itself
      res.write(req.body());
    });
  });
  expect_throwing_handlers_get_500(plain);
  running_server coroutine(base_config(), [](server& app) {
    async_responder(app, [](async_request& req, async_response& res) -> asio::awaitable<void> {
      co_await sleep_for(1ms);
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      if (req.script_name() == "/throw-std") throw std::runtime_error("kaboom");
      if (req.script_name() == "/throw-other") throw 42;  // NOLINT: the hostile case itself
      co_await res.send(co_await req.read_all());
    });
  });
  expect_throwing_handlers_get_500(coroutine);
}

TEST(hostile, C33_handler_that_never_finishes_is_cancelled_at_request_timeout) {
  // A coroutine waiting forever is cancelled (its wait throws) and its request answered.
  server_config config = base_config();
  config.request_timeout = 300ms;
  event cancelled;
  running_server coroutine(config, [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      asio::steady_timer forever(co_await asio::this_coro::executor);
      forever.expires_after(24h);
      try {
        co_await forever.async_wait(asio::use_awaitable);
      } catch (const boost::system::system_error&) {
        cancelled.set();
        throw;
      }
    });
  });
  peer p(coroutine.connect());
  const auto start = steady::now();
  p.send(request_bytes(1, get_params("/forever")));
  expect_served_on(p, 2);  // the same connection, while it waits
  expect_served_on_new_connection(coroutine);
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_LT(steady::now() - start, config.request_timeout + 2500ms);  // swept once a second
  EXPECT_TRUE(cancelled.wait());
  EXPECT_EQ(a.out, "");
  EXPECT_EQ(a.err, "fcgikit: request_timeout passed; the request was cancelled\n");
  EXPECT_EQ(a.app_status, 1U);
  EXPECT_EQ(a.protocol_status, 0);
  EXPECT_TRUE(coroutine.wait_for_log("request_timeout (300 ms) passed: GET /forever"));
  expect_served_on(p, 1);

  // A plain handler on the only pool thread, blocked: its request is answered at the deadline
  // all the same; once it returns, its writes fail and nothing of them is sent.
  config.handler_threads = 1;
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  event blocked;
  event returned;
  std::atomic<bool> aborted_seen{false};
  std::atomic<bool> late_write{true};
  running_server pool(config, [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      blocked.set();
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return release; });
      }
      aborted_seen = res.aborted();
      late_write = res.write("LATE");
      returned.set();
    });
  });
  peer q(pool.connect());
  q.send(request_bytes(1, get_params("/block")));
  ASSERT_TRUE(blocked.wait());
  const answer b = q.until_end(1);
  ASSERT_TRUE(b.ended);
  EXPECT_EQ(b.out, "");
  EXPECT_EQ(b.app_status, 1U);
  EXPECT_TRUE(pool.wait_for_log("request_timeout (300 ms) passed: GET /block"));
  // The one pool thread is taken: a request now waits for it, and is served once it is free.
  peer waiting(pool.connect());
  waiting.send(request_bytes(1, hello_params()));
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  ASSERT_TRUE(returned.wait());
  EXPECT_TRUE(aborted_seen.load());
  EXPECT_FALSE(late_write.load());
  const answer served = waiting.until_end(1);
  EXPECT_EQ(served.out, hello_reply);
  expect_served_on(q, 1);  // nothing of "LATE" arrives first
}

TEST(hostile, C34_writes_after_the_request_ended_emit_nothing) {
  event started;
  std::atomic<bool> reused{false};
  std::atomic<bool> late_done{false};
  std::atomic<bool> late_write{true};
  std::atomic<bool> late_log{true};
  running_server s(base_config(), [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      if (req.script_name() == "/successor") {
        reused = true;
        co_await sleep_until([&] { return late_done.load(); });
        res.header("Content-Type", "text/plain");
        co_await res.send("successor");
        co_return;
      }
      // "/ended": the protocol ends this request under it (its body overruns CONTENT_LENGTH)
      // and the web server reuses its id; this handler carries on regardless.
      co_await asio::this_coro::throw_if_cancelled(false);
      started.set();
      co_await sleep_until([&] { return reused.load(); });
      late_write = res.write("LEAK-OUT");
      late_log = res.error_log("LEAK-ERR");
      late_done = true;
    });
  });
  peer p(s.connect());
  p.send(begin_record(1) + params_stream(1, post_params("/ended", 3)));
  ASSERT_TRUE(started.wait());
  p.send(raw_record(type_byte(rt::stdin_stream), 1, "abcdef"));
  expect_request_failed(p.until_end(1), 1);
  p.send(request_bytes(1, get_params("/successor")));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, "Content-Type: text/plain\r\n\r\nsuccessor");
  EXPECT_EQ(a.err, "");
  EXPECT_EQ(a.app_status, 0U);
  for (const record_in& r : a.records) EXPECT_EQ(r.content.find("LEAK"), std::string::npos);
  EXPECT_TRUE(late_done.load());
  EXPECT_FALSE(late_write.load());
  EXPECT_FALSE(late_log.load());
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, C35_one_mebibyte_write_is_split_into_records_of_at_most_65535) {
  running_server s(base_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      std::string block(mib, '\0');
      for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i % 251);
      res.write(block);
    });
  });
  peer p(s.connect());
  p.send(request_bytes(1, get_params("/big")));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  std::size_t stdout_records = 0;
  for (const record_in& r : a.records) {
    EXPECT_LE(r.content.size(), protocol::max_content_length);
    EXPECT_EQ((r.content.size() + r.padding) % 8, 0U);  // spec 3.3: padded to 8 (recommended)
    if (r.is(rt::stdout_stream) && !r.content.empty()) ++stdout_records;
  }
  EXPECT_GE(stdout_records, mib / protocol::max_content_length + 1);
  const std::string body = a.body();
  ASSERT_EQ(body.size(), mib);
  for (std::size_t i = 0; i < body.size(); ++i) {
    ASSERT_EQ(static_cast<unsigned char>(body[i]), i % 251) << i;
  }
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

std::vector<std::pair<int, std::string>> kinds(const answer& a) {
  std::vector<std::pair<int, std::string>> out;
  for (const record_in& r : a.records) {
    out.emplace_back(r.type, r.is(rt::end_request) ? std::string() : r.content);
  }
  return out;
}

TEST(hostile, C36_zero_byte_writes_send_nothing_and_the_end_is_exact) {
  running_server s(base_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      if (req.script_name() == "/silent") return;  // no head, no body: only the end
      res.header("Content-Type", "text/plain");
      res.write("");
      res.write(std::span<const std::byte>());
      res.write("abc");
      res.write("");
      res.error_log("");
      if (req.script_name() == "/with-stderr") res.error_log("note");
      res.write("");
    });
  });
  peer p(s.connect());
  const std::string head = "Content-Type: text/plain\r\n\r\n";
  p.send(request_bytes(1, get_params("/zero")));
  const std::vector<std::pair<int, std::string>> plain = {{6, head}, {6, "abc"}, {6, ""}, {3, ""}};
  EXPECT_EQ(kinds(p.until_end(1)), plain);
  p.send(request_bytes(1, get_params("/with-stderr")));
  const std::vector<std::pair<int, std::string>> with_stderr = {{6, head}, {6, "abc"}, {7, "note"},
                                                                {6, ""},   {7, ""},    {3, ""}};
  EXPECT_EQ(kinds(p.until_end(1)), with_stderr);
  p.send(request_bytes(1, get_params("/silent")));
  const std::vector<std::pair<int, std::string>> silent = {{6, "\r\n"}, {6, ""}, {3, ""}};
  EXPECT_EQ(kinds(p.until_end(1)), silent);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, C37_line_breaks_and_nul_in_headers_are_refused_and_no_type_is_invented) {
  running_server s(base_config(), [](server& app) {
    app.responder([](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      const std::vector<std::pair<std::string, std::string>> attempts = {
          {"X-A", "a\rSet-Cookie: x=1"},
          {"X-B", "a\nSet-Cookie: x=1"},
          {"X-C", std::string("a\0Set-Cookie: x=1", 17)},
          {"X-D\r\nSet-Cookie", "x=1"},
          {"X-E\nSet-Cookie", "x=1"},
          {std::string("X-F\0", 4), "v"},
          {"X G", "v"},
          {"X:H", "v"},
          {"", "v"}};
      int refused = 0;
      for (const auto& [name, value] : attempts) {
        try {
          res.header(name, value);
        } catch (const std::invalid_argument&) {
          ++refused;
        }
      }
      for (const std::string_view reason :
           {std::string_view("OK\r\nSet-Cookie: x=1"), std::string_view("OK\0", 3)}) {
        try {
          res.status(200, reason);
        } catch (const std::invalid_argument&) {
          ++refused;
        }
      }
      res.write(std::to_string(refused) + " refused");
    });
  });
  peer p(s.connect());
  p.send(request_bytes(1, get_params("/inject")));
  const answer a = p.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, "\r\n11 refused");  // an empty head: no Content-Type invented
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, C38_peer_closing_mid_record_cancels_its_requests) {
  server_config config = base_config();
  config.max_requests = 2;  // a request the close failed to release would overload the next
  call_log calls;
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  int cancelled = 0;
  const auto count = [&](int& counter) {
    {
      std::lock_guard lock(mutex);
      ++counter;
    }
    changed.notify_all();
  };
  const auto wait_for = [&](const int& counter, int value) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return counter == value; });
  };
  running_server s(config, [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      count(started);
      bool late = true;
      try {
        co_await req.read_all();
        late = res.write("late");
      } catch (const boost::system::system_error&) {
        late = false;  // cancelled at its next wait (async.hpp)
      }
      if (res.aborted() && !late) count(cancelled);
    });
    app.filter([&calls](request&, response&) { calls.add("filter"); });
  });
  // A coroutine reading its body and a Filter waiting for its DATA, on one connection.
  const std::string two_requests = begin_record(1) + params_stream(1, post_params("/body", 100)) +
                                   raw_record(type_byte(rt::stdin_stream), 1, "0123456789") +
                                   begin_record(2, 3) + params_stream(2, get_params("/filter")) +
                                   stdin_stream(2, "x");
  const std::string record = padded_record(rt::stdin_stream, 1, "0123456789", "\1\2\3\4\5\6");
  const std::vector<std::size_t> cuts = {3, 8 + 4, 8 + 10 + 2};  // header, content, padding
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const int round = static_cast<int>(i) + 1;
    {
      peer p(s.connect());
      ASSERT_TRUE(p.send(two_requests));
      ASSERT_TRUE(wait_for(started, round));
      ASSERT_TRUE(p.send(record.substr(0, cuts[i])));
    }
    EXPECT_TRUE(wait_for(cancelled, round)) << "cut at " << cuts[i];
  }
  EXPECT_EQ(calls.size(), 0U);
  EXPECT_EQ(s.app().statistics().requests_overloaded, 0U);
  expect_served_on_new_connection(s);
  // Both request slots are free again: neither request is refused.
  peer again(s.connect());
  again.send(two_requests + get_values_record({"FCGI_MAX_REQS"}));
  for (;;) {
    const auto r = again.next();
    ASSERT_TRUE(r);
    if (r->is(rt::get_values_result)) break;
    EXPECT_FALSE(r->is(rt::end_request)) << "request " << r->id << " refused";
  }
  EXPECT_EQ(s.app().statistics().requests_overloaded, 0U);
  again.send(abort_record(1) + abort_record(2));
  std::set<std::uint16_t> ended;
  while (ended.size() < 2) {
    const auto r = again.next();
    ASSERT_TRUE(r);
    if (r->is(rt::end_request)) ended.insert(r->id);
  }
  expect_served_on(again, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, C39_peer_reset_while_the_app_writes_is_no_sigpipe) {
  std::atomic<int> finished{0};
  std::atomic<bool> last_write{true};
  const auto setup = [&](server& app) {
    app.responder([&](request& req, response& res) {
      if (req.script_name() == "/hello") return hello(res);
      res.header("Content-Type", "application/octet-stream");
      const std::string block(64 * kib, 'r');
      bool ok = true;
      for (int i = 0; i < 160 && ok; ++i) ok = res.write(block);
      last_write = ok;
      ++finished;
    });
  };
  std::atomic<bool> coroutine_ok{true};
  event coroutine_done;
  const auto async_setup = [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      const std::string block(64 * kib, 'r');
      bool ok = true;
      for (int i = 0; i < 160 && ok; ++i) ok = co_await res.send(block);
      coroutine_ok = ok;
      coroutine_done.set();
    });
  };
  running_server plain(base_config(), setup, listener::tcp_loopback());
  running_server coroutine(base_config(), async_setup, listener::tcp_loopback());
  expect_served_on_new_connection(plain);  // both run: their SIG_IGN is in place
  expect_served_on_new_connection(coroutine);
  // A write without MSG_NOSIGNAL would now kill the test process.
  const auto previous = std::signal(SIGPIPE, SIG_DFL);
  for (running_server* s : {&plain, &coroutine}) {
    const int fd = s->connect();
    const int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    peer p(fd);
    p.send(request_bytes(1, get_params("/ten-mib")));
    ASSERT_TRUE(p.next());  // the response is flowing
    p.reset();
  }
  const auto until = steady::now() + 10s;
  while (finished.load() == 0 && steady::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(finished.load(), 1);
  ASSERT_TRUE(coroutine_done.wait());
  EXPECT_FALSE(coroutine_ok.load());  // its send failed once the peer was gone
  EXPECT_TRUE(coroutine.wait_for_log("failed (127.0.0.1"));
  EXPECT_TRUE(plain.wait_for_log("failed (127.0.0.1"));
  {
    SCOPED_TRACE("plain handler's server, after the reset");
    expect_served_on_new_connection(plain);
  }
  {
    SCOPED_TRACE("coroutine's server, after the reset");
    expect_served_on_new_connection(coroutine);
  }
  std::signal(SIGPIPE, previous);
}

TEST(hostile, C40_peer_that_never_reads_is_cut_with_its_output_bounded) {
  server_config config = base_config();
  config.output_timeout = 500ms;
  std::atomic<std::uint64_t> produced{0};
  event producer_done;
  running_server s(config, [&](server& app) {
    async_responder(app, [&](async_request& req, async_response& res) -> asio::awaitable<void> {
      if (req.script_name() == "/hello") {
        hello(res);
        co_return;
      }
      const std::string block(64 * kib, 'z');
      while (produced < 1024 * mib && co_await res.send(block)) produced += block.size();
      producer_done.set();
    });
  });
  const int fd = s.connect();
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  peer stalled(fd);
  const auto start = steady::now();
  stalled.send(request_bytes(1, get_params("/endless")));
  // While the stalled request waits, another connection keeps being served.
  peer other(s.connect());
  for (int i = 0; i < 50; ++i) expect_served_on(other, 1);
  EXPECT_TRUE(s.wait_for_log("output not read within output_timeout", 5s));
  ASSERT_TRUE(producer_done.wait());
  EXPECT_LT(steady::now() - start, config.output_timeout + 2500ms);
  EXPECT_LT(produced.load(), 16 * mib) << "the producer was not held back";
  EXPECT_TRUE(stalled.closed_within(10s));
  expect_served_on(other, 1);
  expect_served_on_new_connection(s);
}

// DISABLED: the runtime has no header/params deadline. input_timeout is "no byte for
// input_timeout", so a peer trickling one byte per (input_timeout / 5) keeps a request in
// its params phase forever (and idle_timeout is reset by every byte too). See docs/hostile.md.
TEST(hostile, C41_slowloris_is_cut_at_the_params_deadline) {
  server_config config = base_config();
  config.params_timeout = 500ms;
  call_log calls;
  running_server s(config, probe_app(calls));
  peer slow(s.connect());
  const std::string bytes = request_bytes(1, get_params("/slowloris"));
  const auto start = steady::now();
  bool closed = false;
  for (std::size_t i = 0; i < bytes.size() && !closed && steady::now() - start < 5s; ++i) {
    closed = !slow.send(std::string_view(bytes).substr(i, 1)) || slow.closed_within(100ms);
    if (i == 5) expect_served_on_new_connection(s);  // meanwhile, others
  }
  EXPECT_TRUE(closed) << "still open after trickling for 5 s";
  EXPECT_LT(steady::now() - start, config.params_timeout + 2500ms);
  EXPECT_EQ(calls.size(), 0U);
  EXPECT_TRUE(s.wait_for_log("params_timeout"));
  expect_served_on_new_connection(s);
}

#if defined(FCGI_EXAMPLE_ECHO)
TEST(hostile, C43_sigterm_with_a_request_in_flight_finishes_it_and_exits_0) {
  child_app app(FCGI_EXAMPLE_ECHO);
  peer in_flight(app.connect());
  in_flight.send(begin_record(1) +
                 params_stream(1, {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "10"}}) +
                 raw_record(type_byte(rt::stdin_stream), 1, "01234"));
  // A management answer behind the request shows the app has read it.
  in_flight.send(get_values_record({"FCGI_MPXS_CONNS"}));
  ASSERT_TRUE(in_flight.next());
  app.send_signal(SIGTERM);
  ASSERT_TRUE(app.wait_for_stderr("received SIGTERM, stopping gracefully"));
  // A connection made now is not served: accepting has stopped.
  peer late(app.connect());
  late.send(request_bytes(1, hello_params()));
  in_flight.send(raw_record(type_byte(rt::stdin_stream), 1, "56789") + stdin_stream(1, ""));
  const answer a = in_flight.until_end(1);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out,
            "Content-Type: text/plain\r\n\r\nREQUEST_METHOD=POST\nCONTENT_LENGTH=10\n0123456789");
  EXPECT_EQ(app.wait_exit(10s), 0);
  std::vector<record_in> seen;
  EXPECT_TRUE(late.closed_within(10s, &seen));
  EXPECT_TRUE(seen.empty());
}
#endif

TEST(hostile, C44_remote_user_of_one_request_is_never_seen_by_the_next) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // A's params are longer than B's: a view past B's own bytes would show A's leftovers.
  const param_pairs a_params = get_params("/a", {{"REMOTE_USER", "alice"},
                                                 {"AUTH_TYPE", "Basic"},
                                                 {"HTTP_AUTHORIZATION", std::string(300, 'a')}});
  const param_pairs b_params = get_params("/b");
  p.send(request_bytes(1, a_params));
  EXPECT_EQ(p.until_end(1).out, dump_of(a_params, ""));
  p.send(request_bytes(1, b_params));  // the same id, the same connection, the same slot
  EXPECT_EQ(p.until_end(1).out, dump_of(b_params, ""));
  // Multiplexed: B runs while A is in progress.
  p.send(begin_record(1) +
         params_stream(
             1, cgi_params("POST", "/a", {{"REMOTE_USER", "alice"}, {"CONTENT_LENGTH", "1"}})));
  p.send(request_bytes(2, b_params));
  EXPECT_EQ(p.until_end(2).out, dump_of(b_params, ""));
  p.send(stdin_stream(1, "x"));
  EXPECT_NE(p.until_end(1).out.find("REMOTE_USER=alice\n"), std::string::npos);
  EXPECT_EQ(std::getenv("REMOTE_USER"), nullptr);  // nothing went through the environment
  expect_served_on_new_connection(s);
}

// ---- Protocol violations errc.hpp names that no case above covers --------------------------

TEST(hostile, errc_record_type_wrong_direction_closes) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  for (const rt type : {rt::stdout_stream, rt::stderr_stream, rt::end_request}) {
    peer p(s.connect());
    p.send(begin_record(1) + params_stream(1, post_params("/active", 1)));
    p.send(raw_record(type_byte(type), 1, type == rt::end_request ? std::string(8, '\0') : "x") +
           stdin_stream(1, "x"));
    expect_closed_silently(p, s, "protocol error: record_type_wrong_direction");
  }
  EXPECT_EQ(log_count(s, "record_type_wrong_direction"), 3U);
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on_new_connection(s);
}

TEST(hostile, errc_management_answers_on_a_request_id_close) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  for (const rt type : {rt::get_values_result, rt::unknown_type}) {
    peer p(s.connect());
    p.send(raw_record(type_byte(type), 3, std::string(8, '\0')) + request_bytes(1, hello_params()));
    expect_closed_silently(p, s, "protocol error: management_record_on_request_id");
  }
  EXPECT_EQ(log_count(s, "management_record_on_request_id"), 2U);
  expect_served_on_new_connection(s);
}

TEST(hostile, errc_malformed_get_values_closes) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  // A 14-byte name of which 9 bytes are there.
  p.send(raw_record(type_byte(rt::get_values), 0, std::string("\x0e\x00", 2) + "FCGI_MAX_") +
         request_bytes(1, hello_params()));
  expect_closed_silently(p, s, "protocol error: truncated_pair");
  expect_served_on_new_connection(s);
}

TEST(hostile, errc_data_before_stdin_end_fails_the_request) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  p.send(begin_record(1, 3) + params_stream(1, get_params("/file")) +
         raw_record(type_byte(rt::stdin_stream), 1, "body") + stream(rt::data, 1, "data"));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: data_before_stdin_end"));
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

TEST(hostile, errc_data_for_non_filter_fails_the_request) {
  call_log calls;
  running_server s(base_config(), probe_app(calls));
  peer p(s.connect());
  p.send(begin_record(1) + params_stream(1, get_params("/responder")) +
         stream(rt::data, 1, "data") + stdin_stream(1, ""));
  expect_request_failed(p.until_end(1), 1);
  EXPECT_TRUE(s.wait_for_log("request failed: data_for_non_filter"));
  EXPECT_EQ(calls.size(), 0U);
  expect_served_on(p, 1);
  expect_served_on_new_connection(s);
}

// ---- C-42: 10k connections and descriptor exhaustion, in a child server process -----------

#if defined(FCGI_EXAMPLE_HELLO)
const std::string example_hello_reply =
    "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";

void expect_example_serves(peer& p, std::uint16_t id = 1) {
  ASSERT_TRUE(p.send(request_bytes(id, hello_params())));
  const answer a = p.until_end(id);
  ASSERT_TRUE(a.ended);
  EXPECT_EQ(a.out, example_hello_reply);
}

/// Raises this process's RLIMIT_NOFILE towards `wanted` (up to the hard limit); returns it.
rlim_t raise_file_limit(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min(limit.rlim_max, std::max(limit.rlim_cur, wanted));
  ::setrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

/// Descriptors the test opened, closed with the scope.
struct fd_set_guard {
  std::vector<int> fds;
  fd_set_guard() = default;
  fd_set_guard(const fd_set_guard&) = delete;
  fd_set_guard& operator=(const fd_set_guard&) = delete;
  ~fd_set_guard() { close_all(); }
  void close_all() {
    for (const int fd : fds) ::close(fd);
    fds.clear();
  }
};

/// Waits until `done` holds, polling; false if it did not within `deadline`.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto until = steady::now() + deadline;
  while (!done()) {
    if (steady::now() >= until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Instrumented builds add shadow memory to every byte the server holds (TSan measures about
// 6 KiB per idle connection): only HAProxy's ~33 kB per connection, the outer reference, holds.
constexpr double idle_connection_budget = 32 * 1024;
#else
constexpr double idle_connection_budget = 4 * 1024;  // HOSTILE targets: <= 4 KiB each
#endif

TEST(hostile, C42_ten_thousand_idle_connections) {
  // The server is a child process, so each side of the connections needs its own ~10k
  // descriptors (the hard limit here may be 20,000 for both sides together).
  constexpr std::size_t wanted = 10000;  // also hello's max_connections (the default)
  constexpr rlim_t spare = 200;
  const rlim_t limit = raise_file_limit(wanted + spare);
  ASSERT_GT(limit, 2 * spare) << "RLIMIT_NOFILE hard limit";
  const std::size_t count = std::min<std::size_t>(wanted, limit - spare);
  if (count < wanted) {
    std::cout << "RLIMIT_NOFILE " << limit << ": scaled down to " << count << " connections\n";
  }
  child_app app(FCGI_EXAMPLE_HELLO);
  peer first(app.connect());
  expect_example_serves(first);  // first-use allocations happen before the baseline
  const std::size_t fds_before = app.open_fds();
  const std::size_t rss_before = rss_kib(app.pid());

  fd_set_guard idle;
  for (std::size_t i = 1; i < count; ++i) idle.fds.push_back(app.connect());
  ASSERT_TRUE(eventually([&] { return app.open_fds() >= fds_before + count - 1; }, 30s))
      << "accepted " << app.open_fds() - fds_before << " of " << count - 1;
  const std::size_t rss_after = rss_kib(app.pid());
  const double per_connection = static_cast<double>(rss_after - std::min(rss_before, rss_after)) *
                                1024.0 / static_cast<double>(count - 1);
  std::cout << count << " connections: RSS " << rss_before << " -> " << rss_after << " KiB, "
            << per_connection << " bytes per connection\n";
  RecordProperty("bytes_per_idle_connection", static_cast<int>(per_connection));
  EXPECT_LE(per_connection, idle_connection_budget);
  expect_example_serves(first);  // an accepted connection is served meanwhile

  if (count == wanted) {
    // At max_connections the next connection waits in the listen queue, served once one closes.
    peer extra(app.connect());
    ASSERT_TRUE(extra.send(request_bytes(1, hello_params())));
    answer held;
    EXPECT_FALSE(extra.collect(held, 1, 300ms)) << "accepted past max_connections";
    ::close(idle.fds.back());
    idle.fds.pop_back();
    EXPECT_TRUE(extra.collect(held, 1, 10s));
    EXPECT_EQ(held.out, example_hello_reply);
  }
  idle.close_all();
  EXPECT_TRUE(eventually([&] { return app.open_fds() <= fds_before + 1; }, 30s))
      << app.open_fds() << " descriptors open, " << fds_before << " before";
  peer last(app.connect());
  expect_example_serves(last);
}

TEST(hostile, C42_out_of_descriptors_pauses_accepting_without_spinning) {
  child_app app(FCGI_EXAMPLE_HELLO, 64);
  peer early(app.connect());
  expect_example_serves(early);
  fd_set_guard flood;
  for (int i = 0; i < 200; ++i) flood.fds.push_back(app.connect());
  ASSERT_TRUE(app.wait_for_stderr("accept: out of file descriptors"));
  const std::uint64_t ticks_before = app.cpu_ticks();
  const auto start = steady::now();
  std::this_thread::sleep_for(1500ms);  // the window the CPU time is measured over
  expect_example_serves(early);         // an accepted connection is served meanwhile
  const std::uint64_t ticks = app.cpu_ticks() - ticks_before;
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  const auto ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::cout << "out of descriptors: " << ticks << " CPU ticks in " << seconds << " s\n";
  EXPECT_LT(static_cast<double>(ticks), 0.2 * seconds * ticks_per_second) << "a busy loop";
  // Retried once per sweep (1 s), one line each time: rate limited.
  const std::string log = app.stderr_text();
  std::size_t lines = 0;
  for (auto at = log.find("out of file descriptors"); at != std::string::npos;
       at = log.find("out of file descriptors", at + 1)) {
    ++lines;
  }
  EXPECT_LE(static_cast<double>(lines), seconds + 3);
  flood.close_all();
  peer after(app.connect());
  expect_example_serves(after);  // accepting resumed
}
#endif

}  // namespace
}  // namespace fcgi::test
