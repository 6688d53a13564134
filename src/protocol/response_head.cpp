#include <fcgi/protocol/response_head.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace fcgi::protocol {
namespace {

char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// RFC 9110 §5.6.2 tchar.
bool is_token(std::string_view text) noexcept {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           specials.find(c) != std::string_view::npos;
  });
}

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

/// RFC 9110 §5.5: a field value is VCHAR, obs-text, SP and HT; any other control is refused.
bool valid_value_byte(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return c == '\t' || (byte >= 0x20 && byte != 0x7f);
}

/// 1 to 19 digits below 2^63, the bound the rest of fcgikit uses for lengths.
std::optional<std::uint64_t> parse_length(std::string_view text) noexcept {
  if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), is_digit)) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (const char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return value;
}

/// RFC 3986 path-absolute: "/" not followed by "/" ("//host" is a network-path reference).
bool is_local_path(std::string_view location) noexcept {
  return !location.empty() && location[0] == '/' && (location.size() == 1 || location[1] != '/');
}

struct reason_entry {
  std::uint16_t status;
  std::string_view reason;
};

// RFC 9110 §15 plus the registered WebDAV and RFC 6585 codes, sorted by status.
constexpr auto reasons = std::to_array<reason_entry>({
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {510, "Not Extended"},
    {511, "Network Authentication Required"},
});

constexpr std::string_view variable_prefix = "Variable-";

}  // namespace

std::string_view to_string(response_kind kind) noexcept {
  switch (kind) {
    case response_kind::document: return "document";
    case response_kind::local_redirect: return "local_redirect";
    case response_kind::client_redirect: return "client_redirect";
  }
  return "unknown";
}

std::string_view to_string(head_state state) noexcept {
  switch (state) {
    case head_state::need_more: return "need_more";
    case head_state::complete: return "complete";
    case head_state::failed: return "failed";
  }
  return "unknown";
}

std::string_view default_reason(unsigned status) noexcept {
  const auto found = std::lower_bound(
      reasons.begin(), reasons.end(), status,
      [](const reason_entry& entry, unsigned code) { return entry.status < code; });
  return found != reasons.end() && found->status == status ? found->reason : std::string_view{};
}

// ---------------------------------------------------------------------------------------------
// response_head

std::string_view response_head::text(span s) const noexcept {
  return std::string_view(bytes_).substr(s.offset, s.size);
}

std::string_view response_head::reason() const noexcept {
  return reason_.size == 0 ? default_reason(status_) : text(reason_);
}

response_field response_head::field(std::size_t index) const noexcept {
  const field_spans& f = fields_[index];
  return {text(f.name), text(f.value)};
}

std::vector<response_field> response_head::fields() const {
  std::vector<response_field> out;
  out.reserve(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) out.push_back(field(i));
  return out;
}

std::optional<std::string_view> response_head::find(std::string_view name) const noexcept {
  for (const field_spans& f : fields_) {
    if (equals_ignoring_case(text(f.name), name)) return text(f.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> response_head::field_value(
    std::optional<std::size_t> index) const noexcept {
  if (!index) return std::nullopt;
  return text(fields_[*index].value);
}

std::optional<std::string_view> response_head::content_type() const noexcept {
  return field_value(content_type_index_);
}

std::optional<std::string_view> response_head::location() const noexcept {
  return field_value(location_index_);
}

std::vector<param> response_head::authorizer_variables() const {
  std::vector<param> out;
  for (const field_spans& f : fields_) {
    const std::string_view name = text(f.name);
    if (name.size() > variable_prefix.size() &&
        equals_ignoring_case(name.substr(0, variable_prefix.size()), variable_prefix)) {
      out.push_back({name.substr(variable_prefix.size()), text(f.value)});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// response_head_parser

head_progress response_head_parser::feed(bytes_view chunk) {
  if (state_ != head_state::need_more) return {state_, 0, error_};
  // Bytes past max_bytes are never looked at, so a split cannot change which error is found.
  const std::size_t room = settings_.max_bytes - head_.bytes_.size();
  const std::string_view window = as_chars(chunk.first(std::min(chunk.size(), room)));
  std::size_t taken = 0;
  while (taken < window.size()) {
    const std::size_t line_feed = window.find('\n', taken);
    const std::size_t end = line_feed == std::string_view::npos ? window.size() : line_feed + 1;
    head_.bytes_.append(window.substr(taken, end - taken));
    taken = end;
    if (line_feed == std::string_view::npos) break;
    take_line();
    if (state_ != head_state::need_more) return {state_, taken, error_};
  }
  if (taken < chunk.size()) fail(errc::response_head_too_large);
  return {state_, taken, error_};
}

errc response_head_parser::finish() noexcept {
  if (state_ == head_state::need_more) fail(errc::response_head_incomplete);
  return error_;
}

void response_head_parser::reset() noexcept {
  const response_head_settings settings = settings_;
  *this = response_head_parser(settings);
}

void response_head_parser::take_line() {
  const std::string_view bytes = head_.bytes_;
  std::size_t end = bytes.size() - 1;  // the LF
  if (end > line_start_ && bytes[end - 1] == '\r') --end;
  const response_head::span line{line_start_, end - line_start_};
  line_start_ = bytes.size();
  if (line.size == 0) {
    complete();
    return;
  }
  if (const errc e = take_field(line); e != errc{}) fail(e);
}

errc response_head_parser::take_field(response_head::span line) {
  const std::string_view text = head_.text(line);
  if (is_blank(text.front())) return errc::folded_response_line;
  if (++field_lines_ > settings_.max_fields) return errc::too_many_response_fields;
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return errc::invalid_response_line;
  const std::string_view name = text.substr(0, colon);
  std::string_view value = text.substr(colon + 1);
  if (!is_token(name) || !std::all_of(value.begin(), value.end(), valid_value_byte)) {
    return errc::invalid_response_line;
  }
  while (!value.empty() && is_blank(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_blank(value.back())) value.remove_suffix(1);
  const response_head::span value_span{
      line.offset + static_cast<std::size_t>(value.data() - text.data()), value.size()};
  if (equals_ignoring_case(name, "Status")) return take_status(value_span);
  if (const errc e = take_special(name, value); e != errc{}) return e;
  head_.fields_.push_back({{line.offset, name.size()}, value_span});
  return errc{};
}

/// RFC 3875 §6.3.3: Status = 3digit [SP reason-phrase]; a missing reason is accepted (nginx
/// fa46a5719) and filled from the table.
errc response_head_parser::take_status(response_head::span value) {
  if (std::exchange(status_given_, true)) return errc::duplicate_response_field;
  const std::string_view text = head_.text(value);
  if (text.size() < 3 || !std::all_of(text.begin(), text.begin() + 3, is_digit) ||
      (text.size() > 3 && text[3] != ' ')) {
    return errc::invalid_status;
  }
  const auto code =
      static_cast<std::uint16_t>((text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0'));
  if (code < 100 || code > 599) return errc::invalid_status;
  head_.status_ = code;
  std::size_t reason_start = std::min<std::size_t>(4, text.size());
  while (reason_start < text.size() && is_blank(text[reason_start])) ++reason_start;
  head_.reason_ = {value.offset + reason_start, text.size() - reason_start};
  return errc{};
}

/// Fields the web server acts on: a second copy would make it pick one the client may not.
errc response_head_parser::take_special(std::string_view name, std::string_view value) {
  const std::size_t index = head_.fields_.size();
  const auto once = [&](std::optional<std::size_t>& slot) {
    if (slot) return errc::duplicate_response_field;
    slot = index;
    return errc{};
  };
  if (equals_ignoring_case(name, "Location")) return once(head_.location_index_);
  if (equals_ignoring_case(name, "Content-Type")) return once(head_.content_type_index_);
  if (!equals_ignoring_case(name, "Content-Length")) return errc{};
  if (head_.content_length_) return errc::duplicate_response_field;
  head_.content_length_ = parse_length(value);
  return head_.content_length_ ? errc{} : errc::invalid_response_content_length;
}

/// RFC 3875 §6.2: the kind follows from Location and Status; a Location without Status is a
/// local redirect for a local path, else a client redirect with 302 (as Apache and nginx do).
void response_head_parser::complete() noexcept {
  state_ = head_state::complete;
  const std::optional<std::string_view> location = head_.location();
  if (!location) return;
  if (!status_given_) {
    const bool local = is_local_path(*location);
    head_.kind_ = local ? response_kind::local_redirect : response_kind::client_redirect;
    head_.status_ = local ? 200 : 302;
  } else if (head_.status_ >= 300 && head_.status_ < 400) {
    head_.kind_ = response_kind::client_redirect;
  }
}

void response_head_parser::fail(errc error) noexcept {
  state_ = head_state::failed;
  error_ = error;
}

}  // namespace fcgi::protocol
