// Fuzz target: the name-value pair codec and the PARAMS validator (spec §3.4, §6).
//
// Input layout: [policy bits][pair limit selector][decision seed: 2 bytes][pair bytes...].
//
// Checks (each a trap):
//  - decode_pair under a limit: a decoded pair lies inside its input and accounts for every byte
//    it consumed; a refusal is params_too_large and only when the pair really is longer; the
//    limit never changes a pair that fits.
//  - encode_pair of each decoded pair decodes back to the same name and value; when the input
//    used minimal length encodings, the bytes are identical.
//  - validate_pairs gives the verdict the pair-by-pair decode predicts; param_list over a valid
//    block yields exactly the decoded pairs (same views), and find() returns the first copy.
//  - params_scanner fed growing prefixes reaches the verdict of one scan of the whole block,
//    and that verdict is exactly what the policy says (an independent model below).
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace protocol = fcgi::protocol;
using protocol::bytes_view;
using protocol::errc;
using protocol::param;

constexpr std::array<std::string_view, 18> guarded_names{
    "CONTENT_LENGTH",  "CONTENT_TYPE", "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
    "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_METHOD",  "REQUEST_URI", "DOCUMENT_ROOT",
    "DOCUMENT_URI",    "REMOTE_ADDR",  "REMOTE_USER",     "AUTH_TYPE",   "HTTPS",
    "SERVER_NAME",     "SERVER_PORT",  "HTTP_HOST"};

protocol::params_policy policy_from(std::uint8_t bits) {
  static constexpr std::array<std::size_t, 4> max_bytes{128 * 1024, 512, 64, 4096};
  static constexpr std::array<std::uint32_t, 4> max_count{1000, 8, 1, 100};
  protocol::params_policy policy;
  policy.max_bytes = max_bytes[bits & 3U];
  policy.max_count = max_count[(bits >> 2U) & 3U];
  policy.allow_duplicate_names = (bits & 0x10U) != 0;
  policy.accept_minus_one_content_length = (bits & 0x20U) != 0;
  return policy;
}

std::size_t pair_limit_from(std::uint8_t selector) {
  if (selector < 64) return SIZE_MAX;
  if (selector < 128) return selector - 64U;  // tiny limits: refusals at every length
  return std::size_t{selector} << 6U;         // up to ~16 KiB
}

bool inside(std::string_view part, bytes_view whole) {
  const auto* begin = reinterpret_cast<const char*>(whole.data());  // NOLINT: byte aliasing
  return part.empty() ||
         (part.data() >= begin && part.data() + part.size() <= begin + whole.size());
}

/// The whole block decoded without a limit: its pairs, and whether they cover every byte.
struct decoded_block {
  std::vector<param> pairs;
  std::vector<std::size_t> ends;  ///< offset just past each pair
  bool complete = false;
};

decoded_block decode_all(bytes_view block) {
  decoded_block out;
  std::size_t pos = 0;
  while (pos < block.size()) {
    param p;
    const protocol::pair_status status = protocol::decode_pair(block.subspan(pos), p, SIZE_MAX);
    FCGI_FUZZ_CHECK(status.error == errc{});  // with no limit, nothing is too large
    if (status.consumed == 0) return out;
    pos += status.consumed;
    out.pairs.push_back(p);
    out.ends.push_back(pos);
  }
  out.complete = true;
  return out;
}

void check_reencoding(const param& p, bytes_view original) {
  std::vector<std::byte> buffer(protocol::encoded_pair_size(p.name, p.value));
  FCGI_FUZZ_CHECK(protocol::encode_pair(p.name, p.value, buffer) == buffer.size());
  param back;
  const protocol::pair_status status = protocol::decode_pair(buffer, back, SIZE_MAX);
  FCGI_FUZZ_CHECK(status.error == errc{} && status.consumed == buffer.size());
  FCGI_FUZZ_CHECK(back.name == p.name && back.value == p.value);
  if (original.size() == buffer.size()) {  // minimal encodings in the input: same bytes
    FCGI_FUZZ_CHECK(std::equal(original.begin(), original.end(), buffer.begin()));
  } else {
    FCGI_FUZZ_CHECK(original.size() > buffer.size());  // non-minimal 4-byte lengths
  }
}

/// decode_pair one pair at a time under `limit`, checking each answer against the unlimited
/// decode of the same bytes.
void check_limited_decode(bytes_view block, std::size_t limit, const decoded_block& all) {
  std::size_t pos = 0;
  for (std::size_t index = 0; pos < block.size(); ++index) {
    param p;
    const protocol::pair_status status = protocol::decode_pair(block.subspan(pos), p, limit);
    if (status.error != errc{}) {
      FCGI_FUZZ_CHECK(status.error == errc::params_too_large && status.consumed == 0);
      // Only a pair longer than the limit is refused (complete or not yet).
      if (index < all.pairs.size()) FCGI_FUZZ_CHECK(all.ends[index] - pos > limit);
      return;
    }
    if (status.consumed == 0) {
      FCGI_FUZZ_CHECK(index == all.pairs.size() && !all.complete);
      return;
    }
    FCGI_FUZZ_CHECK(index < all.pairs.size() && pos + status.consumed == all.ends[index]);
    FCGI_FUZZ_CHECK(status.consumed <= limit && status.consumed >= 2);
    FCGI_FUZZ_CHECK(p == all.pairs[index]);
    const bytes_view original = block.subspan(pos, status.consumed);
    FCGI_FUZZ_CHECK(inside(p.name, original) && inside(p.value, original));
    FCGI_FUZZ_CHECK(p.name.size() + p.value.size() + 2 <= status.consumed);
    FCGI_FUZZ_CHECK(p.name.size() + p.value.size() + 8 >= status.consumed);
    check_reencoding(p, original);
    pos += status.consumed;
  }
}

void check_validate_and_list(bytes_view block, std::size_t max_count, const decoded_block& all) {
  errc expected{};
  if (all.pairs.size() > max_count)
    expected = errc::too_many_params;
  else if (!all.complete)
    expected = errc::truncated_pair;
  FCGI_FUZZ_CHECK(protocol::validate_pairs(block, max_count) == expected);
  if (!all.complete) return;

  const protocol::param_list list(block);
  FCGI_FUZZ_CHECK(list.empty() == block.empty());
  std::size_t index = 0;
  for (auto it = list.begin(); it != list.end(); ++it, ++index) {
    FCGI_FUZZ_CHECK(index < all.pairs.size());
    FCGI_FUZZ_CHECK(it->name.data() == all.pairs[index].name.data() &&
                    it->name.size() == all.pairs[index].name.size());
    FCGI_FUZZ_CHECK(it->value.data() == all.pairs[index].value.data() &&
                    it->value.size() == all.pairs[index].value.size());
  }
  FCGI_FUZZ_CHECK(index == all.pairs.size());
  for (const param& p : all.pairs) {
    const auto first = std::find_if(all.pairs.begin(), all.pairs.end(),
                                    [&p](const param& q) { return q.name == p.name; });
    const auto found = list.find(p.name);
    FCGI_FUZZ_CHECK(found && found->data() == first->value.data() &&
                    found->size() == first->value.size());
  }
}

bool valid_content_length(std::string_view text, const protocol::params_policy& policy,
                          std::uint64_t& value) {
  value = protocol::params_scanner::no_content_length;
  if (text.empty()) return true;
  if (text == "-1") return policy.accept_minus_one_content_length;
  if (text.size() > 19) return false;
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v >= (std::uint64_t{1} << 63U)) return false;
  value = v;
  return true;
}

/// What the policy says about a whole block, from first principles: whether it is valid and,
/// if so, which CONTENT_LENGTH it announces.
struct policy_verdict {
  bool valid = false;
  std::uint64_t content_length = protocol::params_scanner::no_content_length;
};

policy_verdict judge(bytes_view block, const protocol::params_policy& policy,
                     const decoded_block& all) {
  policy_verdict verdict;
  if (block.size() > policy.max_bytes || !all.complete) return verdict;
  if (all.pairs.size() > policy.max_count) return verdict;
  std::array<int, guarded_names.size()> copies{};
  bool first_length = true;
  for (const param& p : all.pairs) {
    if (p.name.empty() || p.name.find('\0') != std::string_view::npos) return verdict;
    for (std::size_t i = 0; i < guarded_names.size(); ++i) {
      if (p.name == guarded_names[i] && ++copies[i] > 1 && !policy.allow_duplicate_names) {
        return verdict;
      }
    }
    if (p.name == "CONTENT_LENGTH") {
      std::uint64_t value = 0;
      if (!valid_content_length(p.value, policy, value)) return verdict;
      if (first_length) verdict.content_length = value;
      first_length = false;
    }
  }
  verdict.valid = true;
  return verdict;
}

void check_scanner(bytes_view block, const protocol::params_policy& policy,
                   const decoded_block& all, fcgi_fuzz::decision_source& decide) {
  protocol::params_scanner whole;
  errc whole_verdict = whole.scan(block, policy);
  if (whole_verdict == errc{}) whole_verdict = whole.finish(block);

  // The same stream arriving record by record: prefixes of growing size, then all of it.
  protocol::params_scanner pieces;
  errc first_error{};
  std::size_t fed = 0;
  while (fed < block.size()) {
    fed += 1 + decide.below(std::size_t{1} << decide.below(12));
    if (fed > block.size()) fed = block.size();
    const errc e = pieces.scan(block.first(fed), policy);
    if (first_error != errc{}) FCGI_FUZZ_CHECK(e == first_error);  // sticky
    if (e != errc{}) first_error = e;
  }
  errc pieces_verdict = pieces.scan(block, policy);
  if (first_error != errc{}) FCGI_FUZZ_CHECK(pieces_verdict == first_error);
  if (pieces_verdict == errc{}) pieces_verdict = pieces.finish(block);

  const policy_verdict expected = judge(block, policy, all);
  FCGI_FUZZ_CHECK((whole_verdict == errc{}) == expected.valid);
  FCGI_FUZZ_CHECK((pieces_verdict == errc{}) == expected.valid);
  // A stream past max_bytes is refused by size before its pairs are looked at; otherwise the
  // first fault in stream order decides, however the stream was cut.
  if (block.size() <= policy.max_bytes) FCGI_FUZZ_CHECK(pieces_verdict == whole_verdict);
  if (!expected.valid) return;
  FCGI_FUZZ_CHECK(whole.count() == all.pairs.size() && pieces.count() == all.pairs.size());
  FCGI_FUZZ_CHECK(whole.content_length() == expected.content_length);
  FCGI_FUZZ_CHECK(pieces.content_length() == expected.content_length);

  whole.reset();
  FCGI_FUZZ_CHECK(whole.count() == 0);
  FCGI_FUZZ_CHECK(whole.content_length() == protocol::params_scanner::no_content_length);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fcgi_fuzz::input_reader in(data, size);
  const protocol::params_policy policy = policy_from(in.byte());
  const std::size_t limit = pair_limit_from(in.byte());
  fcgi_fuzz::decision_source decide(in.u16());
  // Own, exact-size copy: any read past the block is a heap overflow for ASan.
  const bytes_view rest = in.rest();
  const std::vector<std::byte> copy(rest.begin(), rest.end());
  const bytes_view block(copy);

  const decoded_block all = decode_all(block);
  check_limited_decode(block, limit, all);
  check_validate_and_list(block, policy.max_count, all);
  check_scanner(block, policy, all, decide);
  return 0;
}
