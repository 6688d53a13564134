#include <fcgi/server/response.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fcgi {
namespace {

/// Bodies up to this size written before the head went out share its STDOUT record: one
/// record (and one copy) instead of two for the typical small response, as fcgi2 sends it.
constexpr std::size_t coalesced_body_bytes = 16 * 1024;

/// Room reserved by the first header: a typical head plus a small body, one allocation.
constexpr std::size_t initial_head_capacity = 512;

/// RFC 9110 §5.6.2 token characters, as a table: header() runs for every header of every
/// response, and a table load per character is the cheapest exact test.
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> table{};
  for (char c = 'a'; c <= 'z'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (char c = 'A'; c <= 'Z'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (char c = '0'; c <= '9'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~"))
    table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> token_chars = make_token_table();

bool is_token(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!token_chars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool has_line_break_or_nul(std::string_view text) noexcept {
  for (const char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
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
  // One allocation for a typical head and the small body that may join it (write()), and one
  // resize per line instead of four appends (each a call into libstdc++).
  const std::size_t at = head_.size();
  const std::size_t line = name.size() + 2 + value.size() + 2;
  if (head_.capacity() < at + line) head_.reserve(std::max(at + line, initial_head_capacity));
  head_.resize(at + line);
  char* out = head_.data() + at;
  std::memcpy(out, name.data(), name.size());
  out += name.size();
  *out++ = ':';
  *out++ = ' ';
  if (!value.empty()) std::memcpy(out, value.data(), value.size());
  out += value.size();
  out[0] = '\r';
  out[1] = '\n';
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
  if (!head_sent_ && !bytes.empty() && bytes.size() <= coalesced_body_bytes) {
    head_sent_ = true;  // the head and this first piece of the body go out as one record
    head_.reserve(head_.size() + 2 + bytes.size());
    head_.append("\r\n").append(bytes);
    const bool ok = sink_->write_stdout(head_);
    std::string().swap(head_);
    return ok;
  }
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
