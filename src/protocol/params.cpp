#include <fcgi/protocol/params.hpp>

#include <array>
#include <cstring>
#include <limits>

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

// Guarded names by length (5..15 bytes), so a typical name is rejected by one table load
// instead of 18 compares: this runs for every pair of every request.
constexpr std::size_t longest_guarded = 15;
constexpr std::size_t max_same_length = 8;
using length_bucket = std::array<std::int8_t, max_same_length>;

constexpr std::array<length_bucket, longest_guarded + 1> make_buckets() {
  std::array<length_bucket, longest_guarded + 1> buckets{};
  for (length_bucket& b : buckets) b.fill(-1);
  for (std::size_t i = 0; i < guarded_names.size(); ++i) {
    length_bucket& b = buckets[guarded_names[i].size()];
    std::size_t slot = 0;
    while (b[slot] >= 0) ++slot;
    b[slot] = static_cast<std::int8_t>(i);
  }
  return buckets;
}
constexpr auto guarded_by_length = make_buckets();

int guarded_index(std::string_view name) noexcept {
  if (name.size() > longest_guarded) return -1;
  for (const std::int8_t i : guarded_by_length[name.size()]) {
    if (i < 0) return -1;
    const std::string_view candidate =
        guarded_names[static_cast<std::size_t>(static_cast<unsigned char>(i))];
    if (candidate[0] == name[0] && candidate == name) return i;
  }
  return -1;
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
  const pair_status status = decode_pair(rest_, current_, unlimited);
  if (status.consumed == 0) {
    // Not a validated list (a broken precondition): end the iteration rather than over-read.
    rest_ = rest_.subspan(rest_.size());
    return;
  }
  size_ = status.consumed;
}

param_list::iterator::iterator(bytes_view rest) noexcept : rest_(rest) { decode_current(); }

param_list::iterator& param_list::iterator::operator++() noexcept {
  rest_ = rest_.subspan(size_);
  size_ = 0;
  decode_current();
  return *this;
}

std::optional<std::string_view> param_list::find(std::string_view name) const noexcept {
  for (const param& p : *this) {
    if (p.name == name) return p.value;
  }
  return std::nullopt;
}

errc params_scanner::scan(bytes_view stream, const params_policy& policy) noexcept {
  if (error_ != errc{}) return error_;
  if (stream.size() > policy.max_bytes) return error_ = errc::params_too_large;
  while (scanned_ < stream.size()) {
    param p;
    const pair_status status =
        decode_pair(stream.subspan(scanned_), p, policy.max_bytes - scanned_);
    if (status.error != errc{}) return error_ = status.error;
    if (status.consumed == 0) break;  // the rest of this pair is in a later record
    if (++count_ > policy.max_count) return error_ = errc::too_many_params;
    if (const errc e = check_pair(p, policy); e != errc{}) return error_ = e;
    scanned_ += status.consumed;
  }
  return errc{};
}

errc params_scanner::finish(bytes_view stream) const noexcept {
  if (error_ != errc{}) return error_;
  return scanned_ == stream.size() ? errc{} : errc::truncated_pair;
}

errc params_scanner::check_pair(const param& p, const params_policy& policy) noexcept {
  if (p.name.empty()) return errc::empty_param_name;
  if (std::memchr(p.name.data(), 0, p.name.size()) != nullptr) return errc::nul_in_param_name;
  const int index = guarded_index(p.name);
  if (index < 0) return errc{};
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
