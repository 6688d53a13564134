// Where fcgi-call's response bytes go, and which exit status a call earns.
#pragma once

#include <cstdio>
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

  print_options options_;
  std::FILE* out_ = stdout;
  bool write_failed_ = false;
  fcgi::protocol::response_head_parser head_;
};

/// Prints GET_VALUES_RESULT as NAME=VALUE lines; returns the exit status.
int print_values(const fcgi::client::values_answer& answer);

}  // namespace fcgi_call
