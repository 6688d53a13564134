#include "status.hpp"

#include <algorithm>
#include <cstring>

namespace fcgi::bench {

namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != prefix[i]) return false;
  }
  return true;
}

std::string_view skip_blanks(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// "404", "404 Not Found", "404\r": the code, or 0 when it is not one.
unsigned parse_status(std::string_view value) noexcept {
  if (value.size() < 3 || !is_digit(value[0]) || !is_digit(value[1]) || !is_digit(value[2]))
    return 0;
  if (value.size() > 3 && value[3] != ' ' && value[3] != '\r') return 0;
  const auto code =
      static_cast<unsigned>((value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0'));
  return code >= 100 && code <= 599 ? code : 0;
}

}  // namespace

void cgi_status_scanner::feed(std::string_view chunk) noexcept {
  while (state_ == state::head && !chunk.empty()) {
    const void* found = std::memchr(chunk.data(), '\n', chunk.size());
    const std::size_t end =
        found ? static_cast<std::size_t>(static_cast<const char*>(found) - chunk.data())
              : chunk.size();
    take_byte_run(chunk.substr(0, end));
    if (state_ != state::head) return;
    if (!found) return;
    ++head_size_;
    end_line();
    chunk.remove_prefix(end + 1);
  }
}

void cgi_status_scanner::take_byte_run(std::string_view bytes) noexcept {
  head_size_ += bytes.size();
  if (head_size_ > max_head_bytes) {
    state_ = state::failed;
    return;
  }
  if (line_size_ < line_.size()) {
    const std::size_t room = std::min(line_.size() - line_size_, bytes.size());
    std::memcpy(line_.data() + line_size_, bytes.data(), room);
  }
  line_size_ += bytes.size();
}

void cgi_status_scanner::end_line() noexcept {
  const std::string_view line(line_.data(), std::min(line_size_, line_.size()));
  line_size_ = 0;
  if (line.empty() || line == "\r") {
    state_ = state::done;
    return;
  }
  if (!status_seen_ && starts_with_ignoring_case(line, "status:")) {
    status_seen_ = true;
    status_ = parse_status(skip_blanks(line.substr(7)));
    if (status_ == 0) state_ = state::failed;
  } else if (starts_with_ignoring_case(line, "location:")) {
    // "Location: /path" asks the web server to serve that path itself (a local redirect).
    const std::string_view target = skip_blanks(line.substr(9));
    client_redirect_ = target.empty() || target.front() != '/';
  }
}

unsigned cgi_status_scanner::status() const noexcept {
  if (state_ != state::done) return 0;
  if (status_seen_) return status_;
  return client_redirect_ ? 302 : 200;
}

}  // namespace fcgi::bench
