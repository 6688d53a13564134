// The bytes a state machine has to send, in order, ready for writev().
//
// Small records are copied into one owned buffer; large payloads may be referenced instead
// of copied (zero-copy), in which case the caller keeps them alive and unchanged until
// consume() has passed them. The queue never performs I/O: a runtime gathers slices, writes
// what the socket takes, and calls consume() with the count written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <fcgi/protocol/record.hpp>

namespace fcgi::protocol {

class output_queue {
 public:
  /// Appends a copy of `bytes`.
  void append(bytes_view bytes);
  /// Appends a reference to `bytes` (not copied): valid until consumed.
  void append_reference(bytes_view bytes);
  /// Appends `type` records carrying `content` (split and padded as encode_stream_records
  /// does). Content of at least `reference_threshold` bytes is referenced, not copied.
  void append_stream(record_type type, std::uint16_t request_id, bytes_view content,
                     std::size_t reference_threshold);

  [[nodiscard]] bool empty() const noexcept { return pending_ == 0; }
  /// Bytes not yet consumed.
  [[nodiscard]] std::size_t size() const noexcept { return pending_; }

  /// Fills `slices` with the pending bytes, in order, from the front; returns how many slices
  /// were filled (fewer than slices.size() means all pending bytes are covered).
  [[nodiscard]] std::size_t gather(std::span<bytes_view> slices) const noexcept;
  /// Drops the first `count` pending bytes (count <= size()).
  void consume(std::size_t count) noexcept;
  /// Drops everything, e.g. when the connection is gone. Owned storage up to the retained
  /// capacity is kept for what comes next; more is given back.
  void clear() noexcept;
  /// How much owned storage the queue keeps when it empties (default 256 KiB, so an idle
  /// connection does not keep the peak of a past large response). A runtime that calls
  /// release_memory() on idle connections itself may keep everything (SIZE_MAX): a busy
  /// connection then reuses one buffer instead of page-faulting a fresh one per response.
  void set_retained_capacity(std::size_t bytes) noexcept { retained_capacity_ = bytes; }
  /// Gives all owned storage back if nothing is pending (does nothing otherwise).
  void release_memory() noexcept;
  /// Bytes of owned storage held (for memory accounting and tests).
  [[nodiscard]] std::size_t capacity() const noexcept { return owned_capacity_; }

 private:
  struct segment {
    const std::byte* external = nullptr;  ///< referenced bytes, or null for owned_
    std::size_t offset = 0;               ///< into owned_ when external is null
    std::size_t size = 0;
  };
  [[nodiscard]] bytes_view view(const segment& s) const noexcept;
  /// Makes room for `count` more owned bytes.
  void reserve_owned(std::size_t count);
  /// Appends `count` uninitialised owned bytes and returns them.
  mutable_bytes grow_owned(std::size_t count);
  /// Drops consumed segments and owned bytes once they are a large share of the queue.
  void compact() noexcept;
  /// Offset in owned_ of the first owned byte not yet consumed (owned_size_ if none).
  [[nodiscard]] std::size_t first_pending_owned() const noexcept;
  /// Moves the pending owned bytes to the front of owned_, dropping the consumed prefix.
  void move_pending_owned_to_front() noexcept;

  // Owned bytes grow without zero-filling (std::vector would memset every copy first).
  std::unique_ptr<std::byte[]> owned_;  // NOLINT(modernize-avoid-c-arrays)
  std::size_t owned_size_ = 0;
  std::size_t owned_capacity_ = 0;
  std::vector<segment> segments_;
  std::size_t head_ = 0;         ///< first segment not fully consumed
  std::size_t head_offset_ = 0;  ///< bytes of segments_[head_] already consumed
  std::size_t pending_ = 0;
  std::size_t retained_capacity_ = 256 * 1024;
};

}  // namespace fcgi::protocol
