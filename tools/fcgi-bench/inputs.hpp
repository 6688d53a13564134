// The values fcgi-bench reads from its command line and files, checked once before the run:
// durations, headers, raw params, bodies, and the request they make.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcgi/client/request.hpp>
#include <fcgi/protocol/record.hpp>

namespace fcgi::bench {

using param_list = std::vector<std::pair<std::string, std::string>>;

/// "500ms", "10s", "1.5s", "2m", "1h", "250us", or a bare number of seconds. Throws
/// std::invalid_argument naming the text and the accepted forms.
std::chrono::nanoseconds parse_duration(std::string_view text);

/// "Name: value" (curl's -H). Throws std::invalid_argument when there is no ':' or no name.
std::pair<std::string, std::string> parse_header(std::string_view text);

/// "NAME=VALUE" (VALUE may be empty). Throws std::invalid_argument when there is no '=' or
/// no name.
std::pair<std::string, std::string> parse_param(std::string_view text);

/// A body argument as curl reads -d: "@FILE" is the file's contents, "@-" standard input,
/// anything else the bytes themselves. Throws std::system_error naming the file.
std::string read_body_argument(const std::string& argument);

/// One NAME=VALUE per line; blank lines and lines starting with '#' are skipped, a trailing
/// CR is dropped. Throws std::system_error naming the file, std::invalid_argument naming the
/// line that has no '='.
param_list read_param_file(const std::string& path);

/// What every request of a run carries.
struct request_inputs {
  std::string method;  ///< empty: GET, or POST when there is a body
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  param_list raw_params;  ///< -p and --param-file, applied last
  /// false: send only raw_params (no CGI variables built from the target and headers).
  bool cgi = true;
  protocol::role role = protocol::role::responder;
  std::optional<std::string> body;         ///< STDIN
  std::optional<std::string> filter_data;  ///< DATA (Filter role)
};

/// REQUEST_METHOD: the one given, else POST with a body and GET without.
std::string method_of(const request_inputs& inputs);

/// The params of every request: the CGI/1.1 set built by fcgi::protocol::build_cgi_params
/// (CONTENT_LENGTH from the body) with the raw params applied last, or only the raw params.
/// Throws std::invalid_argument naming what build_cgi_params refused.
param_list build_params(const request_inputs& inputs);

/// A request whose body and DATA are views of `inputs` (which must outlive it).
client::request make_request(const request_inputs& inputs, param_list params);

}  // namespace fcgi::bench
