// Splits a byte stream into records (spec §3.3), resuming at any byte: the framing shared by
// both connection state machines. It judges nothing: versions, types and lengths are the
// caller's to check when it sees the header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <fcgi/protocol/record.hpp>

namespace fcgi::protocol {

class record_reader {
 public:
  enum class step : std::uint8_t {
    need_more,    ///< the input is used up
    header,       ///< a record's header is complete: see header()
    content,      ///< some content bytes of the current record (a view into the input)
    content_end,  ///< all content of the current record was reported; padding is skipped next
  };

  /// Consumes bytes from the front of `input` (advancing it) up to the next step. For
  /// step::content, `chunk` receives the bytes; it is empty otherwise. Every record gives
  /// exactly one header and one content_end, with content steps (if any) between them.
  step next(bytes_view& input, bytes_view& chunk) noexcept;

  [[nodiscard]] const record_header& header() const noexcept { return header_; }
  /// Connection offset of the current record's first header byte (for error reports).
  [[nodiscard]] std::uint64_t header_offset() const noexcept { return header_offset_; }
  /// Bytes consumed so far.
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  /// True between a record's first byte and its last padding byte: the peer stopped inside a
  /// record (what a slowloris peer does).
  [[nodiscard]] bool mid_record() const noexcept {
    return state_ != state::header || header_fill_ != 0;
  }

 private:
  enum class state : std::uint8_t { header, content, padding };

  state state_ = state::header;
  record_header header_;
  std::array<std::byte, header_size> header_bytes_{};
  std::size_t header_fill_ = 0;
  std::size_t content_left_ = 0;
  std::size_t padding_left_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t header_offset_ = 0;
};

}  // namespace fcgi::protocol
