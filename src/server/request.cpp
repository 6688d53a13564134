#include <fcgi/server/request.hpp>

#include <charconv>

namespace fcgi {

std::string_view request::param(std::string_view name, std::string_view fallback) const noexcept {
  return params_.find(name).value_or(fallback);
}

bool request::has_param(std::string_view name) const noexcept {
  return params_.find(name).has_value();
}

std::string request::path() const {
  const std::string_view uri = request_uri();
  if (!uri.empty()) return std::string(uri.substr(0, uri.find('?')));
  return std::string(script_name()) + std::string(path_info());
}

std::optional<std::uint64_t> request::content_length() const noexcept {
  const auto text = params_.find("CONTENT_LENGTH");
  if (!text || text->empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return value;
}

std::optional<std::string_view> request::header(std::string_view http_name) const {
  std::string name = "HTTP_";
  name.reserve(5 + http_name.size());
  for (const char c : http_name) {
    name += c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return params_.find(name);
}

std::optional<std::string_view> request::query(std::string_view key) const noexcept {
  std::string_view rest = query_string();
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = item.find('=');
    if (item.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    }
  }
  return std::nullopt;
}

}  // namespace fcgi
