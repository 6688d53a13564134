#include <fcgi/protocol/record_reader.hpp>

#include <algorithm>

namespace fcgi::protocol {

record_reader::step record_reader::next(bytes_view& input, bytes_view& chunk) noexcept {
  chunk = {};
  for (;;) {
    switch (state_) {
      case state::header: {
        if (input.empty()) return step::need_more;
        if (header_fill_ == 0) header_offset_ = offset_;
        const std::size_t n = std::min(header_size - header_fill_, input.size());
        if (header_fill_ == 0 && n == header_size) {
          decode_header(input, header_);  // the common case: the whole header is here
        } else {
          std::copy_n(input.begin(), n,
                      header_bytes_.begin() + static_cast<std::ptrdiff_t>(header_fill_));
          header_fill_ += n;
        }
        input = input.subspan(n);
        offset_ += n;
        if (header_fill_ != 0 && header_fill_ < header_size) return step::need_more;
        if (header_fill_ == header_size) decode_header(header_bytes_, header_);
        header_fill_ = 0;
        content_left_ = header_.content_length;
        padding_left_ = header_.padding_length;
        state_ = state::content;
        return step::header;
      }
      case state::content: {
        if (content_left_ == 0) {
          state_ = state::padding;
          return step::content_end;
        }
        if (input.empty()) return step::need_more;
        const std::size_t n = std::min(content_left_, input.size());
        chunk = input.first(n);
        input = input.subspan(n);
        offset_ += n;
        content_left_ -= n;
        return step::content;
      }
      case state::padding: {
        const std::size_t n = std::min(padding_left_, input.size());
        input = input.subspan(n);
        offset_ += n;
        padding_left_ -= n;
        if (padding_left_ != 0) return step::need_more;
        state_ = state::header;
        break;
      }
    }
  }
}

}  // namespace fcgi::protocol
