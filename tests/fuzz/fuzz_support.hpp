// Shared pieces of the fcgi::protocol fuzz targets: reading control bytes from the fuzz input,
// deterministic decisions, chunked feeding, and an output checker that decodes everything a
// state machine queued with the record codec.
//
// Invariants are checked with FCGI_FUZZ_CHECK, which traps: libFuzzer and the plain regression
// runner both report a trap as a crash with a stack trace, and the failed condition is printed
// first so a reproducer explains itself.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include <fcgi/protocol.hpp>

namespace fcgi_fuzz {

namespace protocol = fcgi::protocol;
using protocol::bytes_view;

[[noreturn]] inline void fail(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, condition);
  std::fflush(stderr);
  __builtin_trap();
}

// A macro so the report names the exact line and condition.
#define FCGI_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::fcgi_fuzz::fail(#condition, __FILE__, __LINE__))
#define FCGI_FUZZ_FAIL(message) ::fcgi_fuzz::fail(message, __FILE__, __LINE__)

/// Reads control values from the front of the fuzz input; past its end every read gives 0,
/// so short inputs still run with default choices.
class input_reader {
 public:
  input_reader(const std::uint8_t* data, std::size_t size) noexcept
      : bytes_(std::as_bytes(std::span<const std::uint8_t>(data, size))) {}

  std::uint8_t byte() noexcept {
    if (bytes_.empty()) return 0;
    const auto value = std::to_integer<std::uint8_t>(bytes_.front());
    bytes_ = bytes_.subspan(1);
    return value;
  }
  std::uint16_t u16() noexcept {
    const auto high = byte();
    return static_cast<std::uint16_t>((high << 8U) | byte());
  }
  /// Up to `count` bytes, fewer if the input runs out.
  bytes_view take(std::size_t count) noexcept {
    const std::size_t n = count < bytes_.size() ? count : bytes_.size();
    const bytes_view taken = bytes_.first(n);
    bytes_ = bytes_.subspan(n);
    return taken;
  }
  bytes_view rest() noexcept { return take(bytes_.size()); }
  [[nodiscard]] std::size_t remaining() const noexcept { return bytes_.size(); }

 private:
  bytes_view bytes_;
};

/// Decisions that must not consume input bytes (so the byte stream stays what the seeds say):
/// splitmix64 seeded from two control bytes.
class decision_source {
 public:
  explicit decision_source(std::uint64_t seed) noexcept : state_(seed) {}

  std::uint64_t next() noexcept {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }
  /// Uniform-ish in [0, bound); 0 when bound is 0.
  std::size_t below(std::size_t bound) noexcept {
    return bound == 0 ? 0 : static_cast<std::size_t>(next() % bound);
  }
  /// True with probability percent/100.
  bool chance(unsigned percent) noexcept { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

/// How a byte stream is cut into reads: the state machines must give the same result for any
/// cut, and resuming at every offset is where parsers break.
class chunker {
 public:
  /// `mode` picks the strategy: whole, one byte at a time, a fixed size, or random sizes
  /// spread over scales from 1 byte to 64 KiB.
  chunker(std::uint8_t mode, bytes_view stream, std::uint64_t seed) noexcept
      : mode_(mode % 4U), fixed_(1U + (mode >> 2U)), stream_(stream), sizes_(seed) {}

  [[nodiscard]] bool done() const noexcept { return stream_.empty(); }

  /// The next read, copied into its own exact-size heap buffer so that AddressSanitizer
  /// reports any read past the end of a read, and any view kept after the next read.
  std::vector<std::byte> next() {
    std::size_t size = stream_.size();
    switch (mode_) {
      case 0: break;
      case 1: size = 1; break;
      case 2: size = fixed_; break;
      default: size = 1 + sizes_.below(std::size_t{1} << sizes_.below(17)); break;
    }
    if (size > stream_.size()) size = stream_.size();
    std::vector<std::byte> read(stream_.begin(),
                                stream_.begin() + static_cast<std::ptrdiff_t>(size));
    stream_ = stream_.subspan(size);
    return read;
  }

 private:
  std::uint8_t mode_;
  std::size_t fixed_;
  bytes_view stream_;
  decision_source sizes_;
};

/// The sum of what gather() reports must equal size(), with any number of slices offered.
inline void check_output_accounting(const protocol::output_queue& queue) {
  std::array<bytes_view, 64> many{};
  const std::size_t filled = queue.gather(many);
  FCGI_FUZZ_CHECK(filled <= many.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < filled; ++i) total += many[i].size();
  if (filled < many.size())
    FCGI_FUZZ_CHECK(total == queue.size());
  else
    FCGI_FUZZ_CHECK(total <= queue.size());
  FCGI_FUZZ_CHECK(queue.empty() == (queue.size() == 0));
  if (queue.size() != 0) FCGI_FUZZ_CHECK(filled > 0);

  std::array<bytes_view, 2> few{};
  const std::size_t few_filled = queue.gather(few);
  FCGI_FUZZ_CHECK(few_filled <= few.size());
  for (std::size_t i = 0; i < few_filled && i < filled; ++i) {
    FCGI_FUZZ_CHECK(few[i].data() == many[i].data() && few[i].size() == many[i].size());
  }
}

/// Which peer wrote a byte stream: decides which record types may appear in it.
enum class sender : std::uint8_t { application, web_server };

/// Receives the records of a checked output stream as they are decoded.
struct record_observer {
  virtual void on_record(const protocol::record_header& header, bytes_view content) = 0;

 protected:
  ~record_observer() = default;
};

/// Drains an output_queue the way a runtime would (gather, write part, consume) and decodes
/// everything consumed as a sequence of well-formed records: version 1, reserved byte 0,
/// padded to a multiple of 8, each type legal for the sender, fixed bodies of 8 bytes, name-value
/// blocks valid, and no stream record after that stream's empty record.
class output_checker {
 public:
  explicit output_checker(sender from) noexcept : from_(from) {}

  void set_observer(record_observer* observer) noexcept { observer_ = observer; }
  /// Keep the consumed bytes for take_delivered() (round trips feed them to the peer).
  void keep_delivered() noexcept { keep_delivered_ = true; }

  /// Consumes up to `limit` bytes (all when limit is SIZE_MAX), in gathers of a few slices.
  void drain(protocol::output_queue& queue, std::size_t limit) {
    check_output_accounting(queue);
    while (limit != 0 && !queue.empty()) {
      std::array<bytes_view, 4> slices{};
      const std::size_t filled = queue.gather(slices);
      FCGI_FUZZ_CHECK(filled > 0);
      std::size_t taken = 0;
      for (std::size_t i = 0; i < filled && taken < limit; ++i) {
        const std::size_t n = slices[i].size() < limit - taken ? slices[i].size() : limit - taken;
        const auto first = slices[i].begin();
        const auto last = first + static_cast<std::ptrdiff_t>(n);
        stream_.insert(stream_.end(), first, last);
        if (keep_delivered_) delivered_.insert(delivered_.end(), first, last);
        taken += n;
      }
      if (taken == 0) break;  // only empty slices: drain_all reports it
      const std::size_t before = queue.size();
      queue.consume(taken);
      FCGI_FUZZ_CHECK(queue.size() == before - taken);
      limit -= taken;
      total_ += taken;
      check_output_accounting(queue);
    }
    decode_records();
  }
  void drain_all(protocol::output_queue& queue) {
    drain(queue, SIZE_MAX);
    FCGI_FUZZ_CHECK(queue.empty());
  }

  /// Everything consumed so far ended on a record boundary.
  [[nodiscard]] bool at_record_boundary() const noexcept { return parsed_ == stream_.size(); }
  [[nodiscard]] std::uint64_t total_bytes() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t records() const noexcept { return records_; }

  /// The bytes consumed since the last call, as the peer would read them (for round trips).
  std::vector<std::byte> take_delivered() {
    std::vector<std::byte> out;
    out.swap(delivered_);
    return out;
  }

 private:
  struct stream_state {
    bool first_ended = false;   ///< STDOUT (application) or PARAMS (web server)
    bool second_ended = false;  ///< STDERR (application) or STDIN (web server)
    bool third_ended = false;   ///< DATA (web server)
  };

  void decode_records() {
    for (;;) {
      const bytes_view rest = bytes_view(stream_).subspan(parsed_);
      protocol::record_header header;
      if (protocol::decode_header(rest, header) == 0) break;
      if (rest.size() < header.record_size()) break;
      FCGI_FUZZ_CHECK(header.version == protocol::version_1);
      FCGI_FUZZ_CHECK(std::to_integer<unsigned>(rest[7]) == 0);  // reserved
      FCGI_FUZZ_CHECK(header.padding_length < 8);
      FCGI_FUZZ_CHECK((header.content_length + header.padding_length) % 8 == 0);
      const bytes_view content = rest.subspan(protocol::header_size, header.content_length);
      if (from_ == sender::application)
        check_application_record(header, content);
      else
        check_web_server_record(header, content);
      if (observer_ != nullptr) observer_->on_record(header, content);
      parsed_ += header.record_size();
      ++records_;
    }
    compact();
  }

  // Keeps memory bounded on long runs: decoded bytes are dropped once they dominate.
  void compact() {
    if (parsed_ < 256 * 1024) return;
    stream_.erase(stream_.begin(), stream_.begin() + static_cast<std::ptrdiff_t>(parsed_));
    parsed_ = 0;
  }

  stream_state& state_of(std::uint16_t id) {
    if (states_.size() <= id) states_.resize(std::size_t{id} + 1);
    return states_[id];
  }

  static void check_stream(bool& ended, std::size_t content_length) {
    FCGI_FUZZ_CHECK(!ended);  // nothing after a stream's empty record, not even another one
    if (content_length == 0) ended = true;
  }

  void check_application_record(const protocol::record_header& header, bytes_view content) {
    using protocol::record_type;
    const bool management = header.request_id == protocol::null_request_id;
    if (header.is(record_type::stdout_stream) || header.is(record_type::stderr_stream)) {
      FCGI_FUZZ_CHECK(!management);
      FCGI_FUZZ_CHECK(content.size() <= protocol::max_aligned_content_length);
      stream_state& s = state_of(header.request_id);
      check_stream(header.is(record_type::stdout_stream) ? s.first_ended : s.second_ended,
                   content.size());
    } else if (header.is(record_type::end_request)) {
      FCGI_FUZZ_CHECK(!management);
      protocol::end_request_body body;
      FCGI_FUZZ_CHECK(protocol::decode_end_request_body(content, body));
      FCGI_FUZZ_CHECK(body.protocol_status <= 3);
      state_of(header.request_id) = stream_state{};
    } else if (header.is(record_type::get_values_result)) {
      FCGI_FUZZ_CHECK(management);
      FCGI_FUZZ_CHECK(protocol::validate_pairs(content, 3) == protocol::errc{});
    } else if (header.is(record_type::unknown_type)) {
      FCGI_FUZZ_CHECK(management);
      std::uint8_t type = 0;
      FCGI_FUZZ_CHECK(protocol::decode_unknown_type_body(content, type));
      // Only types the application does not understand on id 0 are answered this way.
      FCGI_FUZZ_CHECK(type == 0 ||
                      type >= static_cast<std::uint8_t>(record_type::get_values_result));
    } else {
      FCGI_FUZZ_FAIL("record type an application never sends");
    }
  }

  void check_web_server_record(const protocol::record_header& header, bytes_view content) {
    using protocol::record_type;
    const bool management = header.request_id == protocol::null_request_id;
    if (header.is(record_type::begin_request)) {
      FCGI_FUZZ_CHECK(!management);
      protocol::begin_request_body body;
      FCGI_FUZZ_CHECK(protocol::decode_begin_request_body(content, body));
      FCGI_FUZZ_CHECK(body.role >= 1 && body.role <= 3);
      FCGI_FUZZ_CHECK((body.flags & ~protocol::keep_conn_flag) == 0);
      state_of(header.request_id) = stream_state{};
    } else if (header.is(record_type::abort_request)) {
      FCGI_FUZZ_CHECK(!management);
      FCGI_FUZZ_CHECK(content.empty());
    } else if (header.is(record_type::params)) {
      FCGI_FUZZ_CHECK(!management);
      check_stream(state_of(header.request_id).first_ended, content.size());
    } else if (header.is(record_type::stdin_stream)) {
      FCGI_FUZZ_CHECK(!management);
      FCGI_FUZZ_CHECK(state_of(header.request_id).first_ended);  // §6.2: PARAMS ended first
      check_stream(state_of(header.request_id).second_ended, content.size());
    } else if (header.is(record_type::data)) {
      FCGI_FUZZ_CHECK(!management);
      FCGI_FUZZ_CHECK(state_of(header.request_id).second_ended);  // §6.4: STDIN ended first
      check_stream(state_of(header.request_id).third_ended, content.size());
    } else if (header.is(record_type::get_values)) {
      FCGI_FUZZ_CHECK(management);
      FCGI_FUZZ_CHECK(protocol::validate_pairs(content, SIZE_MAX) == protocol::errc{});
    } else {
      FCGI_FUZZ_FAIL("record type a web server never sends");
    }
  }

  sender from_;
  record_observer* observer_ = nullptr;
  bool keep_delivered_ = false;
  std::vector<std::byte> stream_;  ///< consumed bytes from the first not yet decoded record
  std::vector<std::byte> delivered_;
  std::size_t parsed_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t records_ = 0;
  std::vector<stream_state> states_;
};

}  // namespace fcgi_fuzz
