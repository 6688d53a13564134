#include <fcgi/protocol/params.hpp>

#include <array>
#include <cstring>
#include <limits>
#include <optional>

namespace fcgi::protocol {
namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

/// Reads one length (§3.4) at `pos`. Returns false when its bytes are not all present.
bool read_length(bytes_view in, std::size_t& pos, std::size_t& length) noexcept {
  if (pos >= in.size()) return false;
  const auto first = std::to_integer<std::size_t>(in[pos]);
  if (first < 0x80) {
    length = first;
    pos += 1;
    return true;
  }
  if (in.size() - pos < 4) return false;
  length = ((first & 0x7fU) << 24U) | (std::to_integer<std::size_t>(in[pos + 1]) << 16U) |
           (std::to_integer<std::size_t>(in[pos + 2]) << 8U) |
           std::to_integer<std::size_t>(in[pos + 3]);
  pos += 4;
  return true;
}

std::size_t write_length(std::size_t length, std::byte* out) noexcept {
  if (length < 128) {
    out[0] = static_cast<std::byte>(length);
    return 1;
  }
  out[0] = static_cast<std::byte>(((length >> 24U) & 0x7fU) | 0x80U);
  out[1] = static_cast<std::byte>((length >> 16U) & 0xffU);
  out[2] = static_cast<std::byte>((length >> 8U) & 0xffU);
  out[3] = static_cast<std::byte>(length & 0xffU);
  return 4;
}

// Names whose second copy could make the application and the front disagree about the
// request (CVE-2019-11043, request smuggling): at most one of each unless allowed.
constexpr std::array<std::string_view, 18> guarded_names{
    "CONTENT_LENGTH",  "CONTENT_TYPE", "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
    "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_METHOD",  "REQUEST_URI", "DOCUMENT_ROOT",
    "DOCUMENT_URI",    "REMOTE_ADDR",  "REMOTE_USER",     "AUTH_TYPE",   "HTTPS",
    "SERVER_NAME",     "SERVER_PORT",  "HTTP_HOST"};
constexpr std::size_t content_length_index = 0;

// Guarded names by a perfect hash, so a typical name costs one table load and at most one
// compare instead of a search: this runs for every pair of every request. The key mixes the
// length with the first and the last four bytes of the name (every guarded name has at least
// five bytes, so both loads stay inside it); name_hash_multiplier was searched for
// (multiply-shift hashing) to give the 18 names 18 different slots, which a static_assert
// below checks.
constexpr std::size_t shortest_guarded = 5;
constexpr std::size_t longest_guarded = 15;
constexpr unsigned name_hash_bits = 5;
constexpr std::uint32_t name_hash_multiplier = 0x43c71b9bU;

constexpr std::uint32_t load32(const char* p) noexcept {  // little-endian; GCC makes it one load
  return static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8U |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16U |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24U;
}

constexpr std::uint64_t load64(const char* p) noexcept {
  return static_cast<std::uint64_t>(load32(p)) | static_cast<std::uint64_t>(load32(p + 4)) << 32U;
}

/// Precondition: shortest_guarded <= name.size() <= longest_guarded.
constexpr std::size_t name_slot(std::string_view name) noexcept {
  const std::uint32_t key = load32(name.data()) ^ ((load32(name.data() + name.size() - 4) * 2U) +
                                                   static_cast<std::uint32_t>(name.size()));
  return (key * name_hash_multiplier) >> (32U - name_hash_bits);
}

using guarded_table = std::array<std::uint8_t, std::size_t{1} << name_hash_bits>;
constexpr std::uint8_t no_guarded_name = 0xff;

/// The table, or an empty optional when two names share a slot or a length is out of range.
constexpr std::optional<guarded_table> make_guarded_table() {
  guarded_table table{};
  table.fill(no_guarded_name);
  for (std::size_t i = 0; i < guarded_names.size(); ++i) {
    const std::string_view name = guarded_names[i];
    if (name.size() < shortest_guarded || name.size() > longest_guarded) return std::nullopt;
    std::uint8_t& slot = table[name_slot(name)];
    if (slot != no_guarded_name) return std::nullopt;
    slot = static_cast<std::uint8_t>(i);
  }
  return table;
}
static_assert(make_guarded_table().has_value(),
              "two guarded names share a hash slot: search another name_hash_multiplier");
constexpr guarded_table guarded_by_hash = *make_guarded_table();

/// Equality of two strings of the same length, 5 to 16 bytes: two overlapping word compares.
bool equal_short(const char* a, const char* b, std::size_t size) noexcept {
  if (size >= 8) {
    return load64(a) == load64(b) && load64(a + size - 8) == load64(b + size - 8);
  }
  return load32(a) == load32(b) && load32(a + size - 4) == load32(b + size - 4);
}

int guarded_index(std::string_view name) noexcept {
  // One unsigned compare for shortest_guarded <= size <= longest_guarded.
  if (name.size() - shortest_guarded > longest_guarded - shortest_guarded) return -1;
  const std::uint8_t i = guarded_by_hash[name_slot(name)];
  if (i == no_guarded_name) return -1;
  const std::string_view candidate = guarded_names[i];
  if (candidate.size() != name.size() || !equal_short(candidate.data(), name.data(), name.size())) {
    return -1;
  }
  return i;
}

/// True when `text` holds a NUL byte: a word at a time (the classic "has a zero byte" test),
/// the last word overlapping, so a short name costs a few instructions instead of a call.
bool has_nul(std::string_view text) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101U;
  constexpr std::uint64_t highs = 0x8080808080808080U;
  const char* p = text.data();
  const std::size_t size = text.size();
  if (size >= 8) {
    for (std::size_t at = 0; at + 8 < size; at += 8) {
      const std::uint64_t word = load64(p + at);
      if (((word - ones) & ~word & highs) != 0) return true;
    }
    const std::uint64_t last = load64(p + size - 8);
    return ((last - ones) & ~last & highs) != 0;
  }
  if (size >= 4) {
    const std::uint64_t word = load32(p) | static_cast<std::uint64_t>(load32(p + size - 4)) << 32U;
    return ((word - ones) & ~word & highs) != 0;
  }
  for (std::size_t at = 0; at < size; ++at) {
    if (p[at] == '\0') return true;
  }
  return false;
}

/// Decodes the pair at the front of `pair` (`left` bytes) when all of it is present; returns
/// its encoded size, or 0 when it is not whole (decode_pair then tells "need more" from "too
/// large"). Inline and without the per-length limit checks, which a whole pair inside a
/// stream no longer than the limit always passes: the common path of scan() and find().
inline std::size_t decode_whole_pair(const char* pair, std::size_t left, param& out) noexcept {
  const auto octet = [pair](std::size_t at) -> std::size_t {
    return static_cast<unsigned char>(pair[at]);
  };
  const auto long_length = [&octet](std::size_t at) -> std::size_t {  // §3.4: high bit set
    return (octet(at) & 0x7fU) << 24U | octet(at + 1) << 16U | octet(at + 2) << 8U | octet(at + 3);
  };
  if (left < 2) return 0;
  std::size_t head = 0;
  std::size_t name_length = octet(0);
  if (name_length < 0x80) {
    head = 1;
  } else {
    if (left < 5) return 0;
    name_length = long_length(0);
    head = 4;
  }
  if (left - head < 1) return 0;
  std::size_t value_length = octet(head);
  if (value_length < 0x80) {
    head += 1;
  } else {
    if (left - head < 4) return 0;
    value_length = long_length(head);
    head += 4;
  }
  // Both lengths are below 2^31: the sums cannot overflow.
  if (left - head < name_length || left - head - name_length < value_length) return 0;
  out.name = std::string_view(pair + head, name_length);
  out.value = std::string_view(pair + head + name_length, value_length);
  return head + name_length + value_length;
}

/// RFC 3875 §4.1.2: CONTENT_LENGTH = 1*digit. We also bound it below 2^63 (19 digits).
bool parse_content_length(std::string_view text, std::uint64_t& value) noexcept {
  if (text.empty() || text.size() > 19) return false;
  std::uint64_t result = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (result > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
  value = result;
  return true;
}

}  // namespace

std::size_t encode_pair(std::string_view name, std::string_view value, mutable_bytes out) noexcept {
  std::byte* p = out.data();
  p += write_length(name.size(), p);
  p += write_length(value.size(), p);
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  p += name.size();
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  return static_cast<std::size_t>(p - out.data());
}

pair_status decode_pair(bytes_view in, param& out, std::size_t max_pair_size) noexcept {
  std::size_t pos = 0;
  std::size_t name_length = 0;
  std::size_t value_length = 0;
  if (!read_length(in, pos, name_length)) return {};
  // Reject as soon as a length is known to be too long, before its bytes arrive (B-21).
  if (name_length > max_pair_size || pos + name_length > max_pair_size) {
    return {0, errc::params_too_large};
  }
  if (!read_length(in, pos, value_length)) return {};
  if (value_length > max_pair_size || pos + name_length + value_length > max_pair_size) {
    return {0, errc::params_too_large};
  }
  const std::size_t total = pos + name_length + value_length;
  if (in.size() < total) return {};
  out.name = as_chars(in.subspan(pos, name_length));
  out.value = as_chars(in.subspan(pos + name_length, value_length));
  return {total, errc{}};
}

void param_list::iterator::decode_current() noexcept {
  if (rest_.empty()) return;
  const std::size_t consumed = decode_whole_pair(as_chars(rest_).data(), rest_.size(), current_);
  if (consumed == 0) {
    // Not a validated list (a broken precondition): end the iteration rather than over-read.
    rest_ = rest_.subspan(rest_.size());
    return;
  }
  size_ = consumed;
}

param_list::iterator::iterator(bytes_view rest) noexcept : rest_(rest) { decode_current(); }

param_list::iterator& param_list::iterator::operator++() noexcept {
  rest_ = rest_.subspan(size_);
  size_ = 0;
  decode_current();
  return *this;
}

std::optional<std::string_view> param_list::find(std::string_view name) const noexcept {
  // The iterator's walk without its bookkeeping: handlers look params up by name often.
  const char* at = as_chars(bytes_).data();
  std::size_t left = bytes_.size();
  param p;
  while (left != 0) {
    const std::size_t consumed = decode_whole_pair(at, left, p);
    if (consumed == 0) break;  // not a validated list (a broken precondition): not found
    if (p.name == name) return p.value;
    at += consumed;
    left -= consumed;
  }
  return std::nullopt;
}

// Inlined into scan(), its only caller: it runs for every pair.
[[gnu::always_inline]] inline errc params_scanner::check_pair(
    const param& p, const params_policy& policy) noexcept {
  if (p.name.empty()) return errc::empty_param_name;
  const int index = guarded_index(p.name);
  if (index < 0) return has_nul(p.name) ? errc::nul_in_param_name : errc{};
  // A guarded name has no NUL: it equals one of guarded_names.
  const std::uint32_t bit = 1U << static_cast<unsigned>(index);
  const bool repeated = (seen_names_ & bit) != 0;
  if (repeated && !policy.allow_duplicate_names) return errc::duplicate_param;
  seen_names_ |= bit;
  if (static_cast<std::size_t>(index) != content_length_index) return errc{};
  std::uint64_t length = no_content_length;
  if (p.value.empty() || (policy.accept_minus_one_content_length && p.value == "-1")) {
    length = no_content_length;
  } else if (!parse_content_length(p.value, length)) {
    return errc::invalid_content_length;
  }
  if (!repeated) content_length_ = length;  // param_list::find sees the first copy too
  return errc{};
}

errc params_scanner::scan(bytes_view stream, const params_policy& policy) noexcept {
  if (error_ != errc{}) return error_;
  if (stream.size() > policy.max_bytes) return error_ = errc::params_too_large;
  const char* const bytes = as_chars(stream).data();
  const std::size_t size = stream.size();
  // The position and the count live in registers for the loop and are stored once after it.
  std::size_t scanned = scanned_;
  std::uint32_t count = count_;
  const std::uint32_t max_count = policy.max_count;
  errc error{};
  param p;  // overwritten by each decode
  while (scanned < size) {
    // The common case inline: the whole pair is present. Such a pair cannot pass max_bytes
    // (the whole stream does not), so only decode_pair's early length checks for a partial
    // pair are left to it.
    std::size_t consumed = decode_whole_pair(bytes + scanned, size - scanned, p);
    if (consumed == 0) {
      const pair_status status =
          decode_pair(stream.subspan(scanned), p, policy.max_bytes - scanned);
      if (status.error != errc{}) {
        error = status.error;
        break;
      }
      if (status.consumed == 0) break;  // the rest of this pair is in a later record
      consumed = status.consumed;
    }
    if (++count > max_count) {
      error = errc::too_many_params;
      break;
    }
    if (const errc e = check_pair(p, policy); e != errc{}) {
      error = e;
      break;
    }
    scanned += consumed;
  }
  scanned_ = scanned;
  count_ = count;
  return error_ = error;
}

errc params_scanner::finish(bytes_view stream) const noexcept {
  if (error_ != errc{}) return error_;
  return scanned_ == stream.size() ? errc{} : errc::truncated_pair;
}

errc validate_pairs(bytes_view block, std::size_t max_count) noexcept {
  std::size_t count = 0;
  while (!block.empty()) {
    param p;
    const pair_status status = decode_pair(block, p, unlimited);
    if (status.consumed == 0) return errc::truncated_pair;
    if (++count > max_count) return errc::too_many_params;
    block = block.subspan(status.consumed);
  }
  return errc{};
}

}  // namespace fcgi::protocol
