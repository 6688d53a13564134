#include <fcgi/protocol/cgi_params.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fcgi::protocol {
namespace {

char to_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_upper(x) == to_upper(y);
         });
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() &&
         equals_ignoring_case(text.substr(0, prefix.size()), prefix);
}

bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// RFC 9110 §5.6.2 tchar.
bool is_token(std::string_view text) noexcept {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return is_alnum(c) || specials.find(c) != std::string_view::npos;
  });
}

bool is_control(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view text) noexcept {
  constexpr std::string_view blanks = " \t";
  const std::size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

/// The parts of a target that the params are made of.
struct target_parts {
  std::string request_uri;  ///< origin-form
  std::string_view authority;
  std::string_view host;
  std::string_view port;  ///< empty: the scheme's default
  bool absolute = false;
  bool https = false;
};

/// RFC 3986 §3.2.2 host: an IP literal of hex digits, ':' and '.', or a reg-name.
bool valid_host(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string_view inner = host.substr(1, host.size() - 2);
    return !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
      return hex_value(c) >= 0 || c == ':' || c == '.';
    });
  }
  constexpr std::string_view allowed = "-._~!$&'()*+,;=%";
  return !host.empty() && std::all_of(host.begin(), host.end(), [&](char c) {
    return is_alnum(c) || allowed.find(c) != std::string_view::npos;
  });
}

bool valid_port(std::string_view port) noexcept {
  if (port.empty()) return true;  // RFC 3986 allows "host:", meaning the default port
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) return false;
  unsigned value = 0;
  for (const char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
  return value >= 1 && value <= 65535;
}

/// Splits "host[:port]" (userinfo is refused: RFC 9110 §4.2.4 forbids it in http URIs).
bool split_authority(std::string_view authority, target_parts& out) noexcept {
  if (authority.find('@') != std::string_view::npos) return false;
  std::size_t host_end = authority.find(':');
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host_end = close + 1 == authority.size() ? std::string_view::npos : close + 1;
    if (host_end != std::string_view::npos && authority[host_end] != ':') return false;
  }
  out.host = authority.substr(0, host_end);
  out.port =
      host_end == std::string_view::npos ? std::string_view{} : authority.substr(host_end + 1);
  return valid_host(out.host) && valid_port(out.port);
}

/// RFC 9112 §3.2: origin-form, or absolute-form for http and https.
errc parse_target(std::string_view target, target_parts& out) {
  const bool refused = std::any_of(target.begin(), target.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#';
  });
  if (refused || target.empty()) return errc::invalid_request_target;
  if (target.front() == '/') {
    out.request_uri = target;
    return errc{};
  }
  if (starts_with_ignoring_case(target, "https://")) {
    out.https = true;
    target.remove_prefix(8);
  } else if (starts_with_ignoring_case(target, "http://")) {
    target.remove_prefix(7);
  } else {
    return errc::invalid_request_target;
  }
  out.absolute = true;
  const std::size_t authority_end = std::min(target.find_first_of("/?"), target.size());
  out.authority = target.substr(0, authority_end);
  if (!split_authority(out.authority, out)) return errc::invalid_request_target;
  const std::string_view rest = target.substr(authority_end);
  out.request_uri =
      rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return errc{};
}

/// Percent-decodes a path; a decoded control character is refused before anything splits
/// the path (HOSTILE F-71, HAProxy 28cb36613).
errc decode_path(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (raw.size() - i < 3) return errc::invalid_request_target;
      const int high = hex_value(raw[i + 1]);
      const int low = hex_value(raw[i + 2]);
      if (high < 0 || low < 0) return errc::invalid_request_target;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (is_control(c)) return errc::unsafe_request_path;
    out.push_back(c);
  }
  return errc{};
}

/// RFC 3986 §5.2.4 on a path starting with '/', as nginx does after decoding (so "%2e%2e"
/// counts). False when a ".." would climb above the root, which a web server answers 400.
bool remove_dot_segments(std::string& path) {
  std::vector<std::string_view> kept;
  bool ends_in_dot_segment = false;
  std::size_t start = 1;
  for (;;) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = std::string_view(path).substr(start, end - start);
    ends_in_dot_segment = segment == "." || segment == "..";
    if (segment == "..") {
      if (kept.empty()) return false;
      kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    if (end == path.size()) break;
    start = end + 1;
  }
  std::string normalized;
  normalized.reserve(path.size());
  for (const std::string_view segment : kept) normalized.append("/").append(segment);
  if (normalized.empty() || ends_in_dot_segment) normalized.push_back('/');
  path = std::move(normalized);
  return true;
}

/// Splits the decoded path into SCRIPT_NAME and PATH_INFO at a segment boundary.
errc split_script_name(const std::string& path, std::string_view script_name, std::string& script,
                       std::string& path_info) {
  if (script_name.empty()) {
    script = path;
    path_info.clear();
    return errc{};
  }
  const bool whole_segments =
      script_name.front() == '/' && path.starts_with(script_name) &&
      (path.size() == script_name.size() || path[script_name.size()] == '/');
  if (!whole_segments) return errc::script_name_mismatch;
  script = script_name;
  path_info = path.substr(script_name.size());
  return errc{};
}

std::string without_trailing_slashes(std::string_view root) {
  while (!root.empty() && root.back() == '/') root.remove_suffix(1);
  return std::string(root);
}

/// Header names that may become params: a name with any other byte could be confused with
/// another header once '-' turns into '_' (HOSTILE F-64).
bool forwardable_name(std::string_view name) noexcept {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

std::string http_param_name(std::string_view header) {
  std::string name = "HTTP_";
  for (const char c : header) name.push_back(c == '-' ? '_' : to_upper(c));
  return name;
}

cgi_param* find_param(std::vector<cgi_param>& params, std::string_view name) noexcept {
  const auto found = std::find_if(params.begin(), params.end(),
                                  [&](const cgi_param& p) { return p.name == name; });
  return found == params.end() ? nullptr : &*found;
}

/// RFC 9110 §5.3: repeated fields join with ", "; RFC 6265 §5.4: cookies with "; ".
void join_value(cgi_param& existing, std::string_view more) {
  if (more.empty()) return;
  if (!existing.value.empty()) existing.value.append(existing.name == "HTTP_COOKIE" ? "; " : ", ");
  existing.value.append(more);
}

/// The headers sorted into what becomes CONTENT_TYPE, what becomes HTTP_*, what is dropped.
struct header_params {
  std::optional<std::string> content_type;
  bool has_host = false;
  std::vector<cgi_param> http;
  std::vector<std::string> dropped;
};

void drop(header_params& out, const std::string& name) {
  if (std::find(out.dropped.begin(), out.dropped.end(), name) == out.dropped.end()) {
    out.dropped.push_back(name);
  }
}

errc add_header(header_params& out, const http_header& header) {
  if (header.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return errc::invalid_header_value;
  }
  const std::string_view value = trim(header.value);
  // httpoxy: HTTP_PROXY would read as the proxy setting of the app's HTTP client.
  if (!forwardable_name(header.name) || equals_ignoring_case(header.name, "Proxy") ||
      equals_ignoring_case(header.name, "Content-Length")) {
    drop(out, header.name);
    return errc{};
  }
  if (equals_ignoring_case(header.name, "Content-Type")) {
    if (out.content_type) return errc::duplicate_request_header;
    out.content_type = std::string(value);
    return errc{};
  }
  const bool is_host = equals_ignoring_case(header.name, "Host");
  if (is_host && std::exchange(out.has_host, true)) return errc::duplicate_request_header;
  std::string name = http_param_name(header.name);
  if (cgi_param* existing = find_param(out.http, name)) {
    join_value(*existing, value);
  } else {
    out.http.push_back({std::move(name), std::string(value)});
  }
  return errc{};
}

errc apply_extra(std::vector<cgi_param>& params,
                 const std::vector<std::pair<std::string, std::string>>& extra) {
  for (const auto& [name, value] : extra) {
    if (name.empty()) return errc::empty_param_name;
    if (name.find('\0') != std::string::npos) return errc::nul_in_param_name;
    if (cgi_param* existing = find_param(params, name)) {
      existing->value = value;
    } else {
      params.push_back({name, value});
    }
  }
  return errc{};
}

/// Everything derived from the target, before the params are laid out.
struct request_paths {
  target_parts target;
  std::string path;  ///< decoded, dot segments removed
  std::string query;
  std::string script;
  std::string path_info;
};

errc derive_paths(const cgi_request& request, request_paths& out) {
  if (const errc e = parse_target(request.target, out.target); e != errc{}) return e;
  const std::string_view uri = out.target.request_uri;
  const std::size_t query_start = std::min(uri.find('?'), uri.size());
  out.query = uri.substr(std::min(query_start + 1, uri.size()));
  if (const errc e = decode_path(uri.substr(0, query_start), out.path); e != errc{}) return e;
  if (!remove_dot_segments(out.path)) return errc::unsafe_request_path;
  return split_script_name(out.path, request.script_name, out.script, out.path_info);
}

std::vector<cgi_param> layout(const cgi_request& request, const request_paths& paths,
                              header_params& headers) {
  const target_parts& target = paths.target;
  const bool https = target.absolute ? target.https : request.https;
  std::string server_port = request.server_port;
  if (target.absolute) server_port = target.port.empty() ? (https ? "443" : "80") : target.port;
  const std::string root = without_trailing_slashes(request.document_root);

  std::vector<cgi_param> params;
  params.reserve(24 + headers.http.size() + request.extra.size());
  const auto add = [&](std::string_view name, std::string value) {
    params.push_back({std::string(name), std::move(value)});
  };
  add("GATEWAY_INTERFACE", "CGI/1.1");
  add("SERVER_SOFTWARE", "fcgikit");
  add("REQUEST_METHOD", request.method);
  add("REQUEST_URI", target.request_uri);
  add("REQUEST_SCHEME", https ? "https" : "http");
  add("DOCUMENT_URI", paths.path);
  add("SCRIPT_NAME", paths.script);
  add("PATH_INFO", paths.path_info);
  if (!request.document_root.empty() && !paths.path_info.empty()) {
    add("PATH_TRANSLATED", root + paths.path_info);
  }
  add("QUERY_STRING", paths.query);
  if (headers.content_type) add("CONTENT_TYPE", std::move(*headers.content_type));
  if (request.content_length) add("CONTENT_LENGTH", std::to_string(*request.content_length));
  if (!request.document_root.empty()) add("DOCUMENT_ROOT", request.document_root);
  if (!request.script_filename.empty()) {
    add("SCRIPT_FILENAME", request.script_filename);
  } else if (!request.document_root.empty()) {
    add("SCRIPT_FILENAME", root + paths.script);
  }
  add("SERVER_NAME", target.absolute ? std::string(target.host) : request.server_name);
  add("SERVER_PORT", std::move(server_port));
  add("SERVER_PROTOCOL", request.server_protocol);
  add("REMOTE_ADDR", request.remote_addr);
  if (!request.remote_port.empty()) add("REMOTE_PORT", request.remote_port);
  if (https) add("HTTPS", "on");
  add("REDIRECT_STATUS", "200");
  if (target.absolute && !headers.has_host) add("HTTP_HOST", std::string(target.authority));
  for (cgi_param& header : headers.http) params.push_back(std::move(header));
  return params;
}

bool fits_a_pair(const cgi_param& p) noexcept {
  return p.name.size() <= max_pair_length && p.value.size() <= max_pair_length;
}

}  // namespace

std::optional<std::string_view> cgi_params::find(std::string_view name) const noexcept {
  const auto found = std::find_if(params.begin(), params.end(),
                                  [&](const cgi_param& p) { return p.name == name; });
  if (found == params.end()) return std::nullopt;
  return std::string_view(found->value);
}

std::vector<param> cgi_params::views() const {
  std::vector<param> out;
  out.reserve(params.size());
  for (const cgi_param& p : params) out.push_back({p.name, p.value});
  return out;
}

std::size_t cgi_params::encoded_size() const noexcept {
  std::size_t size = 0;
  for (const cgi_param& p : params) size += encoded_pair_size(p.name, p.value);
  return size;
}

result<cgi_params> build_cgi_params(const cgi_request& request) {
  if (!is_token(request.method)) return errc::invalid_method;
  constexpr auto max_body_length = static_cast<std::uint64_t>(
      std::numeric_limits<std::int64_t>::max());  // the bound the app side enforces
  if (request.content_length && *request.content_length > max_body_length) {
    return errc::invalid_content_length;
  }
  request_paths paths;
  if (const errc e = derive_paths(request, paths); e != errc{}) return e;
  header_params headers;
  for (const http_header& header : request.headers) {
    if (const errc e = add_header(headers, header); e != errc{}) return e;
  }
  cgi_params out;
  out.params = layout(request, paths, headers);
  out.dropped_headers = std::move(headers.dropped);
  if (const errc e = apply_extra(out.params, request.extra); e != errc{}) return e;
  if (!std::all_of(out.params.begin(), out.params.end(), fits_a_pair)) {
    return errc::param_too_long;
  }
  return out;
}

}  // namespace fcgi::protocol
