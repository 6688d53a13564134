// What a handler receives: the role, the CGI/1.1 params and the request's input streams.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fcgi/protocol/params.hpp>
#include <fcgi/protocol/record.hpp>

namespace fcgi {

class request {
 public:
  request(protocol::role role, protocol::param_list params, bool keep_conn) noexcept
      : role_(role), params_(params), keep_conn_(keep_conn) {}

  [[nodiscard]] protocol::role role() const noexcept { return role_; }
  [[nodiscard]] bool keep_conn() const noexcept { return keep_conn_; }

  /// Every param as the web server sent it (views valid for the handler's whole run).
  [[nodiscard]] const protocol::param_list& params() const noexcept { return params_; }
  /// The value of `name`, or `fallback` when absent.
  [[nodiscard]] std::string_view param(std::string_view name,
                                       std::string_view fallback = {}) const noexcept;
  [[nodiscard]] bool has_param(std::string_view name) const noexcept;

  // The CGI/1.1 variables (RFC 3875 §4.1) most handlers need; empty when absent.
  [[nodiscard]] std::string_view method() const noexcept { return param("REQUEST_METHOD"); }
  [[nodiscard]] std::string_view script_name() const noexcept { return param("SCRIPT_NAME"); }
  [[nodiscard]] std::string_view path_info() const noexcept { return param("PATH_INFO"); }
  [[nodiscard]] std::string_view query_string() const noexcept { return param("QUERY_STRING"); }
  [[nodiscard]] std::string_view request_uri() const noexcept { return param("REQUEST_URI"); }
  [[nodiscard]] std::string_view content_type() const noexcept { return param("CONTENT_TYPE"); }
  [[nodiscard]] std::string_view remote_addr() const noexcept { return param("REMOTE_ADDR"); }
  /// The path of the request: REQUEST_URI without its query, else SCRIPT_NAME + PATH_INFO.
  [[nodiscard]] std::string path() const;
  /// CONTENT_LENGTH when present and valid (the protocol layer already rejected invalid ones).
  [[nodiscard]] std::optional<std::uint64_t> content_length() const noexcept;
  /// An HTTP request header by its HTTP name ("User-Agent" reads HTTP_USER_AGENT).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view http_name) const;
  /// The value of `key` in QUERY_STRING (not percent-decoded), if present.
  [[nodiscard]] std::optional<std::string_view> query(std::string_view key) const noexcept;

  /// The request body: the whole STDIN stream, complete when the handler runs.
  [[nodiscard]] std::string_view body() const noexcept { return body_; }
  /// Filter role: the whole DATA stream (the file to filter).
  [[nodiscard]] std::string_view data() const noexcept { return data_; }

  /// The runtime fills the input streams before the handler runs.
  std::string& body_buffer() noexcept { return body_; }
  std::string& data_buffer() noexcept { return data_; }

 private:
  protocol::role role_;
  protocol::param_list params_;
  bool keep_conn_;
  std::string body_;
  std::string data_;
};

}  // namespace fcgi
