// What a handler writes: a CGI/1.1 response (spec §6.2) — a head of `Name: value` lines, a
// blank line, then the body — plus the STDERR stream and the application status.
//
// The head is sent with the first body write (or at the end). Header names and values are
// checked: CR, LF and NUL are refused (no response splitting), names must be HTTP tokens.
// No Content-Type is invented: a handler that sets none sends none.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fcgi {

/// Where a response's bytes go: a FastCGI request on a connection, or CGI's stdout.
class response_sink {
 public:
  virtual ~response_sink() = default;
  /// False when the request can no longer be written (aborted, peer gone).
  virtual bool write_stdout(std::string_view bytes) = 0;
  virtual bool write_stderr(std::string_view bytes) = 0;
  virtual void end(std::uint32_t app_status) = 0;
  [[nodiscard]] virtual bool aborted() const noexcept = 0;

 protected:
  response_sink() = default;
  response_sink(const response_sink&) = default;
  response_sink& operator=(const response_sink&) = default;
  response_sink(response_sink&&) = default;
  response_sink& operator=(response_sink&&) = default;
};

class response {
 public:
  explicit response(response_sink& sink) noexcept : sink_(&sink) {}
  response(const response&) = delete;
  response& operator=(const response&) = delete;
  response(response&&) = delete;
  response& operator=(response&&) = delete;
  ~response() = default;

  /// Sets the status line sent as `Status: CODE REASON` (default 200 OK: no Status line).
  /// Throws std::invalid_argument outside 100..999 or std::logic_error after the head was sent.
  response& status(int code, std::string_view reason = {});
  /// Adds a header. Throws std::invalid_argument on a name that is not an HTTP token or a
  /// value with CR, LF or NUL; std::logic_error after the head was sent.
  response& header(std::string_view name, std::string_view value);
  /// Writes body bytes (sending the head first). Returns false if the request was aborted.
  /// On the handler pool (server_config::handler_threads) it waits while more than
  /// max_output_buffer of this request's output is unsent, and returns false as soon as the
  /// request is cancelled.
  bool write(std::string_view bytes);
  bool write(std::span<const std::byte> bytes);
  /// Writes to the FastCGI STDERR stream (the web server's error log).
  bool error_log(std::string_view text);
  /// Sends the head if not yet sent and ends the request with `app_status`. Idempotent; the
  /// runtime calls end(0) after the handler returns.
  void end(std::uint32_t app_status = 0);

  [[nodiscard]] bool head_sent() const noexcept { return head_sent_; }
  [[nodiscard]] bool ended() const noexcept { return ended_; }
  /// True once nothing more can reach the web server: ABORT_REQUEST, the connection closed,
  /// or request_timeout passed. A long-running handler checks it to stop early (it is safe to
  /// call from a handler-pool thread while the I/O thread cancels the request).
  [[nodiscard]] bool aborted() const noexcept { return sink_->aborted(); }
  [[nodiscard]] int status_code() const noexcept { return status_; }

 private:
  bool send_head();

  response_sink* sink_;
  std::string head_;
  int status_ = 200;
  bool head_sent_ = false;
  bool ended_ = false;
};

}  // namespace fcgi
