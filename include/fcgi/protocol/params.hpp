// Name-value pairs (spec §3.4): the encoding of PARAMS, GET_VALUES and GET_VALUES_RESULT.
//
// A pair is nameLength, valueLength (each 1 byte if < 128, else 4 bytes with the high bit
// set), then the name and value bytes. Decoding never trusts a declared length: a length is
// checked against the caller's limit as soon as it is read, before any byte it covers is
// stored, and never read past the bytes actually present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

#include <fcgi/protocol/errc.hpp>
#include <fcgi/protocol/record.hpp>

namespace fcgi::protocol {

/// A decoded pair: views into the bytes it was decoded from. Values may contain NUL bytes.
struct param {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const param&, const param&) = default;
};

/// The largest length a pair can encode (31 bits).
inline constexpr std::size_t max_pair_length = 0x7fffffff;

constexpr std::size_t encoded_length_size(std::size_t length) noexcept {
  return length < 128 ? 1 : 4;
}
constexpr std::size_t encoded_pair_size(std::string_view name, std::string_view value) noexcept {
  return encoded_length_size(name.size()) + encoded_length_size(value.size()) + name.size() +
         value.size();
}

/// Writes one pair using the shortest length encodings. Preconditions: both lengths are at
/// most max_pair_length and out.size() >= encoded_pair_size(name, value). Returns bytes written.
std::size_t encode_pair(std::string_view name, std::string_view value, mutable_bytes out) noexcept;

/// The outcome of decode_pair: `consumed` > 0 means one pair was decoded; 0 with no error
/// means the pair is not complete in `in` yet (call again with more bytes).
struct pair_status {
  std::size_t consumed = 0;
  errc error{};
};

/// Decodes one pair from the front of `in`. Accepts 4-byte encodings of small lengths.
/// Fails with params_too_large as soon as the lengths are read if the whole pair would be
/// longer than `max_pair_size` bytes, before those bytes are present.
pair_status decode_pair(bytes_view in, param& out, std::size_t max_pair_size) noexcept;

/// A read-only view over a sequence of whole, already validated pairs (from params_scanner or
/// validate_pairs). Iteration decodes on the fly; nothing is copied or allocated.
class param_list {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = param;
    using difference_type = std::ptrdiff_t;
    using pointer = const param*;
    using reference = const param&;

    iterator() = default;
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.rest_.data() == b.rest_.data() && a.rest_.size() == b.rest_.size();
    }

   private:
    friend class param_list;
    explicit iterator(bytes_view rest) noexcept;
    bytes_view rest_;       ///< starts at the current pair; empty at end
    std::size_t size_ = 0;  ///< encoded size of the current pair
    param current_;
    void decode_current() noexcept;
  };

  param_list() = default;
  /// Precondition: `validated` holds only whole pairs (checked by validate_pairs or a scanner).
  explicit param_list(bytes_view validated) noexcept : bytes_(validated) {}

  [[nodiscard]] iterator begin() const noexcept { return iterator(bytes_); }
  [[nodiscard]] iterator end() const noexcept { return iterator(bytes_.subspan(bytes_.size())); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }
  /// The value of the first pair named `name`, if any.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
  /// The encoded pairs, e.g. to copy the whole list in one allocation.
  [[nodiscard]] bytes_view raw() const noexcept { return bytes_; }

 private:
  bytes_view bytes_;
};

/// Limits and policy for a PARAMS stream. Defaults are strict; each leniency says its risk.
struct params_policy {
  std::size_t max_bytes = 128 * 1024;  ///< total encoded size of the stream
  std::uint32_t max_count = 1000;      ///< number of pairs
  /// Accept a second CONTENT_LENGTH, SCRIPT_FILENAME, PATH_INFO, ... (see docs). Risk: the app
  /// and a front that read different copies disagree (request smuggling, CVE-2019-11043).
  /// param_list::find returns the first copy.
  bool allow_duplicate_names = false;
  /// Read CONTENT_LENGTH "-1" (Caddy 2.6 for chunked bodies) as "length unknown". Risk: none
  /// beyond trusting the STDIN stream's end, which fcgikit always does.
  bool accept_minus_one_content_length = false;
};

/// Validates a PARAMS stream as it grows, record by record, resuming mid-pair at any byte.
/// Checks: limits, empty names, NUL in names, duplicate security-relevant names, and that
/// CONTENT_LENGTH is empty (no body) or decimal digits below 2^63.
class params_scanner {
 public:
  static constexpr std::uint64_t no_content_length = ~std::uint64_t{0};

  /// Scans the pairs that became complete in `stream`: all bytes of the stream received so
  /// far, of which the bytes already scanned must not have changed. Errors are sticky.
  errc scan(bytes_view stream, const params_policy& policy) noexcept;
  /// At the end of the stream: truncated_pair if a pair is incomplete.
  [[nodiscard]] errc finish(bytes_view stream) const noexcept;
  void reset() noexcept { *this = params_scanner{}; }

  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  /// The validated CONTENT_LENGTH, or no_content_length if absent, empty or "-1" (lenient).
  [[nodiscard]] std::uint64_t content_length() const noexcept { return content_length_; }

 private:
  errc check_pair(const param& p, const params_policy& policy) noexcept;

  std::size_t scanned_ = 0;
  std::uint32_t count_ = 0;
  std::uint32_t seen_names_ = 0;  ///< bit per security-relevant name already seen
  std::uint64_t content_length_ = no_content_length;
  errc error_{};
};

/// Validates a complete block of pairs (a GET_VALUES body). Returns errc{} when valid.
errc validate_pairs(bytes_view block, std::size_t max_count) noexcept;

}  // namespace fcgi::protocol
