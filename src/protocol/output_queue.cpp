#include <fcgi/protocol/output_queue.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace fcgi::protocol {
namespace {

// Compaction runs when this many consumed segments or owned bytes sit before the head.
constexpr std::size_t compact_segments = 64;
constexpr std::size_t compact_bytes = 64 * 1024;

}  // namespace

bytes_view output_queue::view(const segment& s) const noexcept {
  const std::byte* data = s.external != nullptr ? s.external : owned_.get() + s.offset;
  return {data, s.size};
}

void output_queue::reserve_owned(std::size_t count) {
  if (owned_capacity_ - owned_size_ >= count) return;
  // Bytes already sent at the front are free room: reuse them before growing, or a stream
  // that is written while it is read would grow the buffer by everything it ever sent.
  if (first_pending_owned() != 0) {
    move_pending_owned_to_front();
    if (owned_capacity_ - owned_size_ >= count) return;
  }
  const std::size_t capacity =
      std::max({owned_capacity_ * 2, owned_size_ + count, std::size_t{4096}});
  auto bigger = std::make_unique_for_overwrite<std::byte[]>(capacity);  // NOLINT
  if (owned_size_ != 0) std::memcpy(bigger.get(), owned_.get(), owned_size_);
  owned_ = std::move(bigger);
  owned_capacity_ = capacity;
}

mutable_bytes output_queue::grow_owned(std::size_t count) {
  reserve_owned(count);
  const std::size_t offset = owned_size_;
  owned_size_ += count;
  pending_ += count;
  // Extend the last segment when it is owned and ends where these bytes start.
  if (segments_.size() > head_) {
    segment& last = segments_.back();
    if (last.external == nullptr && last.offset + last.size == offset) {
      last.size += count;
      return {owned_.get() + offset, count};
    }
  }
  segments_.push_back({nullptr, offset, count});
  return {owned_.get() + offset, count};
}

void output_queue::append(bytes_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(grow_owned(bytes.size()).data(), bytes.data(), bytes.size());
}

void output_queue::append_reference(bytes_view bytes) {
  if (bytes.empty()) return;
  segments_.push_back({bytes.data(), 0, bytes.size()});
  pending_ += bytes.size();
}

void output_queue::append_stream(record_type type, std::uint16_t request_id, bytes_view content,
                                 std::size_t reference_threshold) {
  // The threshold applies to the whole payload: every record of a large one is referenced.
  const bool reference = content.size() >= reference_threshold;
  if (!reference) reserve_owned(stream_records_size(content.size()));  // one growth, not many
  while (!content.empty()) {
    const std::size_t chunk = std::min(content.size(), max_aligned_content_length);
    const bytes_view piece = content.first(chunk);
    const std::uint8_t padding = padding_for(chunk);
    if (reference) {
      record_header header;
      header.type = static_cast<std::uint8_t>(type);
      header.request_id = request_id;
      header.content_length = static_cast<std::uint16_t>(chunk);
      header.padding_length = padding;
      encode_header(header, grow_owned(header_size).first<header_size>());
      append_reference(piece);
      if (padding != 0) std::memset(grow_owned(padding).data(), 0, padding);
    } else {
      encode_record(type, request_id, piece, grow_owned(header_size + chunk + padding));
    }
    content = content.subspan(chunk);
  }
}

std::size_t output_queue::gather(std::span<bytes_view> slices) const noexcept {
  std::size_t filled = 0;
  for (std::size_t i = head_; i < segments_.size() && filled < slices.size(); ++i) {
    bytes_view bytes = view(segments_[i]);
    if (i == head_) bytes = bytes.subspan(head_offset_);
    slices[filled++] = bytes;
  }
  return filled;
}

void output_queue::consume(std::size_t count) noexcept {
  count = std::min(count, pending_);
  pending_ -= count;
  while (count != 0) {
    const std::size_t left = segments_[head_].size - head_offset_;
    if (count < left) {
      head_offset_ += count;
      break;
    }
    count -= left;
    ++head_;
    head_offset_ = 0;
  }
  if (pending_ == 0) {
    clear();
    return;
  }
  compact();
}

std::size_t output_queue::first_pending_owned() const noexcept {
  for (std::size_t i = head_; i < segments_.size(); ++i) {
    if (segments_[i].external == nullptr)
      return segments_[i].offset + (i == head_ ? head_offset_ : 0);
  }
  return owned_size_;
}

void output_queue::move_pending_owned_to_front() noexcept {
  const std::size_t first = first_pending_owned();
  if (first == 0) return;
  std::memmove(owned_.get(), owned_.get() + first, owned_size_ - first);
  owned_size_ -= first;
  for (std::size_t i = head_; i < segments_.size(); ++i) {
    segment& s = segments_[i];
    if (s.external != nullptr) continue;
    if (i == head_) {  // its sent part is gone with the prefix
      s.size -= head_offset_;
      head_offset_ = 0;
      s.offset = 0;
    } else {
      s.offset -= first;
    }
  }
}

void output_queue::compact() noexcept {
  const std::size_t first = first_pending_owned();
  // Amortised: the freed prefix must be at least as large as the bytes moved.
  const bool owned_worth_it = first >= compact_bytes && first >= owned_size_ - first;
  if (head_ < compact_segments && !owned_worth_it) return;
  if (owned_worth_it) move_pending_owned_to_front();
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
  head_ = 0;
}

void output_queue::clear() noexcept {
  // An idle connection should not keep the peak of a past large response.
  if (owned_capacity_ > retained_capacity_) {
    owned_.reset();
    owned_capacity_ = 0;
  }
  segments_.clear();
  owned_size_ = 0;
  head_ = 0;
  head_offset_ = 0;
  pending_ = 0;
}

void output_queue::release_memory() noexcept {
  if (pending_ != 0) return;
  clear();
  owned_.reset();
  owned_capacity_ = 0;
  std::vector<segment>().swap(segments_);
}

}  // namespace fcgi::protocol
