// The CGI/1.1 variables a web server sends as PARAMS (RFC 3875 §4.1, FastCGI spec §6.2),
// built from an HTTP-like request in one call: what fcgi::client, fcgi-call and fcgi-bench
// send to an application. Pure: no I/O, nothing read from the environment.
//
// The environment is built from scratch. Headers become HTTP_<NAME> params, except those a
// CGI application must never see under an HTTP_ name it could trust (HOSTILE F-64, httpoxy):
// `Proxy`, names with a character outside [A-Za-z0-9-] (so `X_Forwarded-For` cannot pose as
// `X-Forwarded-For`), and `Content-Length` (CONTENT_LENGTH says how much STDIN is sent, and
// only `content_length` decides it). Those are listed in cgi_params::dropped_headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/params.hpp>

namespace fcgi::protocol {

struct http_header {
  std::string name;
  std::string value;
};

/// An HTTP request as a web server would see it, plus where its script lives.
struct cgi_request {
  std::string method = "GET";
  /// Origin-form "/a/b.php/extra?x=1", or absolute-form "http(s)://host[:port]/path?q", which
  /// sets server_name, server_port and https from the URL (replacing those fields) and gives
  /// HTTP_HOST the URL's authority unless a Host header is given (as curl does). Bytes at
  /// or below SP, DEL and '#' are refused; bytes >= 0x80 pass (nginx accepts raw UTF-8).
  std::string target = "/";
  std::vector<http_header> headers;
  /// The body size: CONTENT_LENGTH when set (at most 2^63-1); no CONTENT_LENGTH when absent.
  std::optional<std::uint64_t> content_length;
  /// The decoded path prefix naming the script, matched at a segment boundary: "/app.php"
  /// with "/app.php/x/y" gives SCRIPT_NAME "/app.php", PATH_INFO "/x/y". Empty: the whole
  /// path is SCRIPT_NAME and PATH_INFO is empty.
  std::string script_name;
  /// When set: DOCUMENT_ROOT, SCRIPT_FILENAME = root + SCRIPT_NAME, and PATH_TRANSLATED =
  /// root + PATH_INFO when PATH_INFO is not empty (trailing '/' of the root not doubled).
  std::string document_root;
  /// SCRIPT_FILENAME as given (php-fpm needs one), instead of the one derived from the root.
  std::string script_filename;
  std::string server_name = "localhost";
  std::string server_port = "80";
  std::string server_protocol = "HTTP/1.1";
  std::string remote_addr = "127.0.0.1";
  std::string remote_port;  ///< REMOTE_PORT when not empty
  bool https = false;       ///< HTTPS=on, REQUEST_SCHEME=https
  /// Raw params applied last: one with the name of a generated param replaces its value in
  /// place (never a second copy), others are appended in order (a repeated name: last wins).
  std::vector<std::pair<std::string, std::string>> extra;
};

struct cgi_param {
  std::string name;
  std::string value;
  friend bool operator==(const cgi_param&, const cgi_param&) = default;
};

/// The built params, each name at most once, in a fixed order: the CGI variables, then the
/// HTTP_* headers in the order of their first occurrence, then the extra params.
struct cgi_params {
  std::vector<cgi_param> params;
  /// Header names not passed on, as spelled in the request (each spelling once, in order).
  std::vector<std::string> dropped_headers;

  /// The value of `name` (exact, case-sensitive match), if present.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
  /// Views of `params` for client_connection::send_params; valid while `params` is unchanged.
  [[nodiscard]] std::vector<param> views() const;
  /// Bytes the params take as name-value pairs (§3.4), to check against a PARAMS limit.
  [[nodiscard]] std::size_t encoded_size() const noexcept;
};

/// Builds GATEWAY_INTERFACE=CGI/1.1, SERVER_SOFTWARE=fcgikit, REQUEST_METHOD, REQUEST_URI
/// (origin-form target), REQUEST_SCHEME, DOCUMENT_URI (decoded path), SCRIPT_NAME, PATH_INFO
/// (percent-decoded, dot segments removed, as nginx and Apache do), [PATH_TRANSLATED],
/// QUERY_STRING (raw, never decoded; "" when there is none), [CONTENT_TYPE] (from the
/// Content-Type header), [CONTENT_LENGTH], [DOCUMENT_ROOT], [SCRIPT_FILENAME], SERVER_NAME,
/// SERVER_PORT, SERVER_PROTOCOL, REMOTE_ADDR, [REMOTE_PORT], [HTTPS=on], REDIRECT_STATUS=200
/// (php-cgi with force_cgi_redirect needs it), then HTTP_<NAME> per header (uppercased, '-'
/// to '_'; repeats joined into one param with ", ", Cookie with "; "; values trimmed of SP
/// and HT), then `extra`.
///
/// Fails with:
///  - invalid_method: the method is empty or not a token.
///  - invalid_request_target: not origin-form nor absolute http(s); a byte <= SP, DEL or '#';
///    a '%' not followed by two hex digits in the path; userinfo, an empty host or a port
///    outside 1..65535 in an absolute URL.
///  - unsafe_request_path: the decoded path has a control character (%00, %0A, %0D, ...) or
///    a ".." above the root (HOSTILE F-71: checked before any PATH_INFO split).
///  - script_name_mismatch: script_name does not start with '/' or is not a whole-segment
///    prefix of the decoded path.
///  - invalid_header_value: CR, LF or NUL in a header value.
///  - duplicate_request_header: Host or Content-Type given twice.
///  - invalid_content_length: content_length at or above 2^63.
///  - empty_param_name, nul_in_param_name: in an `extra` name.
///  - param_too_long: a name or value longer than max_pair_length.
result<cgi_params> build_cgi_params(const cgi_request& request);

}  // namespace fcgi::protocol
