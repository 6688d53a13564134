// The HTTP status of a CGI response, read from the head at the start of STDOUT as the chunks
// arrive, without allocating and without keeping the head: what a load generator needs to
// count status classes at a few nanoseconds per response.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fcgi::bench {

/// RFC 3875 §6.3.3: the status is Status when given, else 302 for a Location that is not a
/// local path (a client redirect), else 200. Only the first bytes of each head line are
/// looked at; the fields are not validated (fcgi::protocol::response_head_parser does that).
class cgi_status_scanner {
 public:
  /// A head this long without its blank line is not a CGI response.
  static constexpr std::size_t max_head_bytes = 64 * 1024;

  /// Feeds the next STDOUT chunk, split anywhere; bytes after the head are skipped at once.
  void feed(std::string_view chunk) noexcept;
  /// After the last chunk: the status (100 to 599), or 0 when the head never ended, was
  /// longer than max_head_bytes, or had a Status that is not three digits from 100 to 599.
  [[nodiscard]] unsigned status() const noexcept;
  /// Ready for the next response.
  void reset() noexcept { *this = cgi_status_scanner(); }

 private:
  enum class state : std::uint8_t { head, done, failed };
  void take_byte_run(std::string_view bytes) noexcept;
  void end_line() noexcept;

  std::array<char, 32> line_{};  ///< the first bytes of the line being read
  std::size_t line_size_ = 0;    ///< its bytes so far (may exceed line_)
  std::size_t head_size_ = 0;
  unsigned status_ = 0;  ///< from Status; 0 until one is seen
  bool status_seen_ = false;
  bool client_redirect_ = false;  ///< a Location that is not a local path
  state state_ = state::head;
};

}  // namespace fcgi::bench
