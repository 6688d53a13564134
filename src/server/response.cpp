#include <fcgi/server/response.hpp>

#include <stdexcept>
#include <string>

namespace fcgi {
namespace {

/// RFC 9110 §5.6.2 token characters.
bool is_token(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool has_line_break_or_nul(std::string_view text) noexcept {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

response& response::status(int code, std::string_view reason) {
  if (head_sent_) throw std::logic_error("response::status after the head was sent");
  if (code < 100 || code > 999) throw std::invalid_argument("response::status: code out of range");
  if (has_line_break_or_nul(reason)) {
    throw std::invalid_argument("response::status: CR, LF or NUL in the reason phrase");
  }
  status_ = code;
  if (code == 200 && reason.empty()) return *this;
  // CGI/1.1 §6.3.3: the Status header carries the code and reason to the web server.
  std::string line = "Status: " + std::to_string(code);
  if (!reason.empty()) line.append(" ").append(reason);
  line += "\r\n";
  const auto existing = head_.find("Status: ");
  if (existing == 0) {
    head_.replace(0, head_.find("\r\n") + 2, line);
  } else {
    head_.insert(0, line);
  }
  return *this;
}

response& response::header(std::string_view name, std::string_view value) {
  if (head_sent_) throw std::logic_error("response::header after the head was sent");
  if (!is_token(name)) throw std::invalid_argument("response::header: name is not an HTTP token");
  if (has_line_break_or_nul(value)) {
    throw std::invalid_argument("response::header: CR, LF or NUL in the value");
  }
  head_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

bool response::send_head() {
  if (head_sent_) return true;
  head_sent_ = true;
  head_ += "\r\n";
  const bool ok = sink_->write_stdout(head_);
  std::string().swap(head_);
  return ok;
}

bool response::write(std::string_view bytes) {
  if (ended_) return false;
  if (!send_head()) return false;
  return bytes.empty() || sink_->write_stdout(bytes);
}

bool response::write(std::span<const std::byte> bytes) {
  return write(std::string_view(reinterpret_cast<const char*>(bytes.data()),  // NOLINT
                                bytes.size()));
}

bool response::error_log(std::string_view text) {
  if (ended_) return false;
  return sink_->write_stderr(text);
}

void response::end(std::uint32_t app_status) {
  if (ended_) return;
  send_head();
  ended_ = true;
  sink_->end(app_status);
}

}  // namespace fcgi
