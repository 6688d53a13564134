#include "inputs.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include <fcgi/protocol/cgi_params.hpp>

namespace fcgi::bench {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string read_stream(std::istream& in, const std::string& name) {
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::system_error(errno, std::generic_category(), "cannot read " + name);
  return bytes;
}

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view text) {
  const auto fail = [&]() -> std::invalid_argument {
    return std::invalid_argument("'" + std::string(text) +
                                 "' is not a duration (try 500ms, 10s, 1.5s, 2m, 1h)");
  };
  double number = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), number, std::chars_format::fixed);
  if (ec != std::errc{} || end == text.data() || !std::isfinite(number) || number < 0) throw fail();
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double seconds_per_unit = 0;
  if (unit.empty() || unit == "s") {
    seconds_per_unit = 1;
  } else if (unit == "ms") {
    seconds_per_unit = 1e-3;
  } else if (unit == "us") {
    seconds_per_unit = 1e-6;
  } else if (unit == "m") {
    seconds_per_unit = 60;
  } else if (unit == "h") {
    seconds_per_unit = 3600;
  } else {
    throw fail();
  }
  const double nanoseconds = number * seconds_per_unit * 1e9;
  if (nanoseconds > 1e18) throw fail();  // beyond 30 years: a typo, and past int64 soon
  return std::chrono::nanoseconds(std::llround(nanoseconds));
}

std::pair<std::string, std::string> parse_header(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || trim(text.substr(0, colon)).empty())
    throw std::invalid_argument("header '" + std::string(text) + "' is not 'Name: value'");
  return {std::string(trim(text.substr(0, colon))), std::string(trim(text.substr(colon + 1)))};
}

std::pair<std::string, std::string> parse_param(std::string_view text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0)
    throw std::invalid_argument("param '" + std::string(text) + "' is not NAME=VALUE");
  return {std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

std::string read_body_argument(const std::string& argument) {
  if (!argument.starts_with('@')) return argument;
  const std::string path = argument.substr(1);
  if (path == "-") return read_stream(std::cin, "standard input");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  return read_stream(file, path);
}

param_list read_param_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  param_list params;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (line.ends_with('\r')) line.pop_back();
    if (line.empty() || line.starts_with('#')) continue;
    try {
      params.push_back(parse_param(line));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(path + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  if (file.bad()) throw std::system_error(errno, std::generic_category(), "cannot read " + path);
  return params;
}

std::string method_of(const request_inputs& inputs) {
  if (!inputs.method.empty()) return inputs.method;
  return inputs.body ? "POST" : "GET";
}

param_list build_params(const request_inputs& inputs) {
  if (!inputs.cgi) return inputs.raw_params;
  protocol::cgi_request request;
  request.method = method_of(inputs);
  request.target = inputs.target;
  for (const auto& [name, value] : inputs.headers) request.headers.push_back({name, value});
  if (inputs.body) request.content_length = inputs.body->size();
  request.extra = inputs.raw_params;
  const protocol::result<protocol::cgi_params> built = protocol::build_cgi_params(request);
  if (!built) {
    throw std::invalid_argument("cannot build the CGI params of '" + request.method + " " +
                                inputs.target +
                                "': " + std::string(protocol::describe(built.error())));
  }
  param_list params;
  params.reserve(built->params.size());
  for (const protocol::cgi_param& p : built->params) params.emplace_back(p.name, p.value);
  return params;
}

client::request make_request(const request_inputs& inputs, param_list params) {
  client::request request;
  request.role = inputs.role;
  request.params = std::move(params);
  if (inputs.body) request.body = client::body_source::from_view(*inputs.body);
  if (inputs.filter_data) request.data = client::body_source::from_view(*inputs.filter_data);
  return request;
}

}  // namespace fcgi::bench
