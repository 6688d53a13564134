// Integration harness: a real fcgi::server on a real socket, driven by a blocking client
// that speaks through fcgi::protocol::client_connection. Every wait has a deadline, so a
// broken server fails a test instead of hanging it.
#pragma once

#include <fcgi/protocol.hpp>
#include <fcgi/server/server.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fcgi::test {

/// A listening socket made by the test: unix (in a fresh temp dir) or TCP on 127.0.0.1:0.
struct listener {
  int fd = -1;
  std::string unix_path;  ///< empty for TCP
  std::uint16_t port = 0;
  static listener unix_socket();
  static listener tcp_loopback();
};

/// A server running on its own thread for the lifetime of the object.
class running_server {
 public:
  running_server(server_config config, const std::function<void(server&)>& setup,
                 listener where = listener::unix_socket());
  ~running_server();
  running_server(const running_server&) = delete;
  running_server& operator=(const running_server&) = delete;

  /// Opens a new connection to the server (blocking, with 10 s I/O timeouts).
  [[nodiscard]] int connect() const;
  server& app() { return *server_; }
  /// Stops the server and returns run()'s exit status (waits for the thread).
  int stop_and_wait();
  [[nodiscard]] const listener& where() const noexcept { return where_; }
  /// Log lines the server wrote.
  [[nodiscard]] std::vector<std::string> log_lines() const;
  /// Waits until a log line contains `text`; false if none did within `deadline`.
  bool wait_for_log(std::string_view text,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  listener where_;
  std::unique_ptr<server> server_;
  std::thread thread_;
  int exit_status_ = -1;
  bool joined_ = false;
  struct log_store;
  std::shared_ptr<log_store> log_;
};

/// What one request got back.
struct reply {
  std::string stdout_bytes;
  std::string stderr_bytes;
  std::uint32_t app_status = 0;
  std::uint8_t protocol_status = 0;
  bool ended = false;
  /// The body after the CGI head (split at the first blank line).
  [[nodiscard]] std::string body() const;
  [[nodiscard]] std::string head() const;
};

struct request_spec {
  protocol::role role = protocol::role::responder;
  bool keep_conn = true;
  std::vector<std::pair<std::string, std::string>> params;
  std::string body;
  std::string data;  ///< Filter only
};

/// A blocking FastCGI client on one connection, for tests.
class client {
 public:
  explicit client(int fd, std::uint32_t max_requests = 1);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Queues a whole request (BEGIN, PARAMS, STDIN[, DATA]) and returns its key.
  protocol::request_key start(const request_spec& spec);
  /// Sends what is queued (blocking).
  void flush();
  /// Sends raw bytes as they are.
  void send_raw(std::string_view bytes);
  /// Reads until `key` ended (or the connection closed / a deadline passed).
  reply wait(protocol::request_key key);
  /// One request, start to end.
  reply call(const request_spec& spec);
  /// Reads until the peer closes; true if it closed within `deadline`.
  bool wait_closed(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  /// Sends GET_VALUES and returns the answer as name=value pairs.
  std::map<std::string, std::string> get_values(const std::vector<std::string_view>& names);

  protocol::client_connection& protocol_state() noexcept { return protocol_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] bool closed() const noexcept { return closed_; }

 private:
  bool read_some();
  void dispatch(const protocol::client_event& ev);

  int fd_;
  protocol::client_connection protocol_;
  std::map<std::uint16_t, reply> replies_;
  std::map<std::string, std::string> values_;
  bool values_ready_ = false;
  bool closed_ = false;
};

/// A reply read straight off the socket, for requests sent as raw bytes (the client state
/// machine does not know about them).
struct raw_reply {
  std::string stdout_bytes;
  std::string stderr_bytes;
  std::uint32_t app_status = 0;
  std::uint8_t protocol_status = 0;
  bool ended = false;
};
/// Reads records until END_REQUEST for `id` (other ids are skipped) or the peer closes.
raw_reply read_raw_reply(int fd, std::uint16_t id);

/// Params a web server would send for `GET uri` (plus `extra`).
std::vector<std::pair<std::string, std::string>> cgi_params(
    std::string_view method, std::string_view uri,
    std::vector<std::pair<std::string, std::string>> extra = {});

/// Encodes one raw record (for hostile input).
std::string raw_record(std::uint8_t type, std::uint16_t id, std::string_view content,
                       std::uint8_t padding = 0, std::uint8_t version = 1);

/// Resident memory of a process in KiB (VmRSS in /proc/<pid>/status); pid 0 is this process.
std::size_t rss_kib(int pid = 0);

/// An example application in a child process, serving a listening socket on its fd 0 (as web
/// servers, spawn-fcgi and fcgi-pm start applications), with its stderr captured. The object
/// kills and reaps it if it is still running.
class child_app {
 public:
  /// `max_files` > 0 lowers the child's RLIMIT_NOFILE to it before exec.
  explicit child_app(const std::string& program, std::uint64_t max_files = 0);
  ~child_app();
  child_app(const child_app&) = delete;
  child_app& operator=(const child_app&) = delete;

  /// Opens a new connection to the child (blocking, with 10 s I/O timeouts).
  [[nodiscard]] int connect() const;
  [[nodiscard]] int pid() const noexcept { return pid_; }
  void send_signal(int number) const;
  /// The exit status (128 + signal if killed), or nullopt while it still runs after `deadline`.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  /// What the child wrote to stderr so far.
  std::string stderr_text();
  /// Waits until the child's stderr contains `text`; false if it did not within `deadline`.
  bool wait_for_stderr(std::string_view text,
                       std::chrono::milliseconds deadline = std::chrono::seconds(10));
  /// From /proc/<pid>: open descriptors, and user + system CPU time in clock ticks.
  [[nodiscard]] std::size_t open_fds() const;
  [[nodiscard]] std::uint64_t cpu_ticks() const;

 private:
  listener where_;
  int pid_ = -1;
  int stderr_fd_ = -1;
  std::string stderr_;
};

}  // namespace fcgi::test
