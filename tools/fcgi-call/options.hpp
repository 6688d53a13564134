// fcgi-call's command line, read into a client request and printing choices.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <fcgi/client/async.hpp>

namespace fcgi_call {

// Exit statuses (documented in --help and docs/fcgi-call.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 2;
inline constexpr int exit_connect = 3;
inline constexpr int exit_timeout = 4;
inline constexpr int exit_closed = 5;
inline constexpr int exit_protocol = 6;
inline constexpr int exit_refused_request = 7;
inline constexpr int exit_app_status = 8;
inline constexpr int exit_http_error = 9;
inline constexpr int exit_stderr = 10;
inline constexpr int exit_body = 11;
inline constexpr int exit_output = 12;
inline constexpr int exit_interrupted = 130;

/// print: control bytes other than newline and tab escaped as \xHH, so an application cannot
/// drive the terminal (HOSTILE D-51); raw: as sent.
enum class stderr_mode { print, raw, ignore, fail };

struct print_options {
  bool include_head = false;  ///< -i: the CGI head as received, then the body
  bool raw = false;           ///< --raw: STDOUT exactly as received, nothing parsed
  bool fail_on_error_status = false;
  bool authorizer = false;    ///< a non-200 status is a denial (exit 9)
  bool head_request = false;  ///< -X HEAD: a Content-Length with no body is expected
  stderr_mode application_stderr = stderr_mode::print;
  std::string output_file;  ///< -o; empty = stdout
};

struct options {
  std::string endpoint;
  fcgi::client::request request;
  fcgi::client::pool_settings pool;
  print_options print;
  bool get_values = false;
  std::vector<std::string> value_names;
  std::chrono::milliseconds values_timeout{std::chrono::seconds(2)};
  bool exit_now = false;  ///< --help or --version printed
  int exit_status = exit_ok;
};

/// Parses argv; prints the error and returns nothing on a usage error.
std::optional<options> parse(int argc, char** argv);

}  // namespace fcgi_call
