// Where fcgi-call's response bytes go, and which exit status a call earns.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <fcgi/client/request.hpp>
#include <fcgi/protocol/response_head.hpp>

#include "options.hpp"

namespace fcgi_call {

/// Receives STDOUT and STDERR as they arrive: parses the head, writes the body.
class response_printer {
 public:
  explicit response_printer(const print_options& options);
  ~response_printer();
  response_printer(const response_printer&) = delete;
  response_printer& operator=(const response_printer&) = delete;

  void on_stdout(std::string_view bytes);
  void on_stderr(std::string_view bytes);
  /// Reports what went wrong on stderr and returns the exit status.
  int finish(const fcgi::client::response& response);

 private:
  void write_out(std::string_view bytes);
  /// Writes body bytes, keeping to the head's Content-Length when it has one.
  void write_body(std::string_view bytes);
  /// Exit status for a body that contradicts Content-Length (after a warning), else exit_ok.
  int check_content_length();

  print_options options_;
  std::FILE* out_ = stdout;
  bool write_failed_ = false;
  fcgi::protocol::response_head_parser head_;
  std::uint64_t body_bytes_ = 0;     ///< body bytes received after the head
  std::uint64_t dropped_bytes_ = 0;  ///< received past Content-Length, not printed
};

/// `bytes` with control bytes other than newline and tab (and DEL) written as \xHH.
std::string escape_control_bytes(std::string_view bytes);

/// Prints GET_VALUES_RESULT as NAME=VALUE lines; returns the exit status.
int print_values(const fcgi::client::values_answer& answer);

}  // namespace fcgi_call
