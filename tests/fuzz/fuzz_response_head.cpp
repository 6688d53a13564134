// Fuzz target: the CGI response head parser (RFC 3875 §6) fed an application's STDOUT.
//
// Input layout: [settings][chunking mode][decision seed: 2 bytes][STDOUT bytes...].
//
// Checks (each a trap):
//  - feeding the bytes whole, cut by the chunker (one byte, a fixed size or random sizes) and
//    split in two at a seed-chosen offset gives the same state, error, bytes taken and head;
//  - no feed takes more than it was given, need_more takes everything, and nothing is taken
//    once the outcome is known; finish() confirms a complete head, repeats an error, and turns
//    need_more into response_head_incomplete;
//  - a complete head: status in 100..599; raw() is exactly the bytes taken, ends with the blank
//    line and fits max_bytes; at most max_fields fields, none named Status; names are tokens;
//    values trimmed, with no control byte but HT; find() gives the first match; the kind agrees
//    with Location and status; Content-Length is the field's decimal value below 2^63; the
//    Authorizer variables are exactly the Variable-NAME fields; copies and a moved-out head
//    read the same;
//  - a failed head: an error, and at most max_bytes taken.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace protocol = fcgi::protocol;
using protocol::bytes_view;
using protocol::errc;
using protocol::head_state;
using protocol::response_head;

protocol::response_head_settings settings_from(std::uint8_t bits) {
  static constexpr std::array<std::size_t, 4> max_bytes{64 * 1024, 64, 16, 1024};
  static constexpr std::array<std::size_t, 4> max_fields{100, 2, 0, 10};
  protocol::response_head_settings settings;
  settings.max_bytes = max_bytes[bits & 3U];
  settings.max_fields = max_fields[(bits >> 2U) & 3U];
  return settings;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_token(std::string_view text) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  if (text.empty()) return false;
  for (const char c : text) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && specials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool clean_value(std::string_view value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c != '\t' && (byte < 0x20 || byte == 0x7f)) return false;
  }
  return value.empty() || (value.front() != ' ' && value.front() != '\t' && value.back() != ' ' &&
                           value.back() != '\t');
}

/// Feeds reads to one parser, checking the contract of every single feed.
class feeder {
 public:
  explicit feeder(protocol::response_head_settings settings) : parser_(settings) {}

  void feed(bytes_view read) {
    const head_state before = parser_.state();
    const protocol::head_progress progress = parser_.feed(read);
    FCGI_FUZZ_CHECK(progress.consumed <= read.size());
    FCGI_FUZZ_CHECK(progress.state == parser_.state());
    FCGI_FUZZ_CHECK(progress.error == parser_.error());
    if (before != head_state::need_more) {
      FCGI_FUZZ_CHECK(progress.consumed == 0 && progress.state == before);
    }
    if (progress.state == head_state::need_more) {
      FCGI_FUZZ_CHECK(progress.consumed == read.size() && progress.error == errc{});
    }
    if (progress.state == head_state::complete) FCGI_FUZZ_CHECK(progress.error == errc{});
    if (progress.state == head_state::failed) FCGI_FUZZ_CHECK(progress.error != errc{});
    consumed_ += progress.consumed;
  }

  [[nodiscard]] bool done() const { return parser_.state() != head_state::need_more; }
  [[nodiscard]] std::size_t consumed() const { return consumed_; }
  protocol::response_head_parser& parser() { return parser_; }

 private:
  protocol::response_head_parser parser_;
  std::size_t consumed_ = 0;
};

void check_same_head(const response_head& a, const response_head& b) {
  FCGI_FUZZ_CHECK(a.status() == b.status());
  FCGI_FUZZ_CHECK(a.reason() == b.reason());
  FCGI_FUZZ_CHECK(a.kind() == b.kind());
  FCGI_FUZZ_CHECK(a.fields() == b.fields());
  FCGI_FUZZ_CHECK(a.content_type() == b.content_type());
  FCGI_FUZZ_CHECK(a.content_length() == b.content_length());
  FCGI_FUZZ_CHECK(a.location() == b.location());
  FCGI_FUZZ_CHECK(a.raw() == b.raw());
  FCGI_FUZZ_CHECK(a.authorizer_variables() == b.authorizer_variables());
}

void check_same_outcome(feeder& a, feeder& b) {
  FCGI_FUZZ_CHECK(a.parser().state() == b.parser().state());
  FCGI_FUZZ_CHECK(a.parser().error() == b.parser().error());
  FCGI_FUZZ_CHECK(a.consumed() == b.consumed());
  if (a.parser().state() == head_state::complete) {
    check_same_head(a.parser().head(), b.parser().head());
  }
}

void check_finish(feeder& f) {
  const head_state before = f.parser().state();
  const errc earlier = f.parser().error();
  const errc finished = f.parser().finish();
  if (before == head_state::complete) FCGI_FUZZ_CHECK(finished == errc{});
  if (before == head_state::failed) FCGI_FUZZ_CHECK(finished == earlier);
  if (before == head_state::need_more) {
    FCGI_FUZZ_CHECK(finished == errc::response_head_incomplete);
    FCGI_FUZZ_CHECK(f.parser().state() == head_state::failed);
  }
}

void check_fields(const response_head& head, const protocol::response_head_settings& settings) {
  FCGI_FUZZ_CHECK(head.field_count() <= settings.max_fields);
  std::size_t variables = 0;
  for (std::size_t i = 0; i < head.field_count(); ++i) {
    const protocol::response_field field = head.field(i);
    FCGI_FUZZ_CHECK(is_token(field.name));
    FCGI_FUZZ_CHECK(!same_name(field.name, "Status"));
    FCGI_FUZZ_CHECK(clean_value(field.value));
    std::size_t first = 0;
    while (!same_name(head.field(first).name, field.name)) ++first;
    FCGI_FUZZ_CHECK(head.find(field.name) == head.field(first).value);
    constexpr std::string_view prefix = "Variable-";
    if (field.name.size() > prefix.size() && same_name(field.name.substr(0, prefix.size()), prefix))
      ++variables;
  }
  FCGI_FUZZ_CHECK(head.authorizer_variables().size() == variables);
  FCGI_FUZZ_CHECK(head.content_type() == head.find("Content-Type"));
  FCGI_FUZZ_CHECK(head.location() == head.find("Location"));
}

void check_content_length(const response_head& head) {
  const std::optional<std::string_view> text = head.find("Content-Length");
  FCGI_FUZZ_CHECK(text.has_value() == head.content_length().has_value());
  if (!text) return;
  std::uint64_t value = 0;
  for (const char c : *text) {
    FCGI_FUZZ_CHECK(c >= '0' && c <= '9');
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  FCGI_FUZZ_CHECK(text->size() <= 19 && value == *head.content_length());
  FCGI_FUZZ_CHECK(value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
}

void check_kind(const response_head& head) {
  const std::optional<std::string_view> location = head.location();
  switch (head.kind()) {
    case protocol::response_kind::local_redirect:
      FCGI_FUZZ_CHECK(location && location->starts_with('/') && !location->starts_with("//"));
      FCGI_FUZZ_CHECK(head.status() == 200);
      break;
    case protocol::response_kind::client_redirect: FCGI_FUZZ_CHECK(location.has_value()); break;
    case protocol::response_kind::document:
      if (location) FCGI_FUZZ_CHECK(head.status() < 300 || head.status() >= 400);
      break;
  }
}

void check_complete(feeder& f, bytes_view stream,
                    const protocol::response_head_settings& settings) {
  const response_head& head = f.parser().head();
  FCGI_FUZZ_CHECK(head.status() >= 100 && head.status() <= 599);
  FCGI_FUZZ_CHECK(clean_value(head.reason()));
  const std::string_view raw = head.raw();
  FCGI_FUZZ_CHECK(raw.size() == f.consumed() && raw.size() <= settings.max_bytes);
  FCGI_FUZZ_CHECK(raw == protocol::as_chars(stream.first(raw.size())));
  FCGI_FUZZ_CHECK(raw == "\n" || raw == "\r\n" || raw.ends_with("\n\n") || raw.ends_with("\n\r\n"));
  check_fields(head, settings);
  check_content_length(head);
  check_kind(head);

  const response_head copy = head;
  check_same_head(copy, head);
  const response_head moved = f.parser().take_head();
  check_same_head(copy, moved);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fcgi_fuzz::input_reader in(data, size);
  const protocol::response_head_settings settings = settings_from(in.byte());
  const std::uint8_t mode = in.byte();
  fcgi_fuzz::decision_source decide(in.u16());
  // Own, exact-size copy: any read past the input is a heap overflow for ASan.
  const bytes_view rest = in.rest();
  const std::vector<std::byte> copy(rest.begin(), rest.end());
  const bytes_view stream(copy);

  feeder whole(settings);
  whole.feed(stream);

  feeder cut(settings);
  fcgi_fuzz::chunker reads(mode, stream, decide.next());
  while (!reads.done()) {
    const bool was_done = cut.done();
    cut.feed(reads.next());
    if (was_done) break;  // one read after the outcome is enough to see it takes nothing
  }

  feeder halves(settings);
  const std::size_t at = decide.below(stream.size() + 1);
  halves.feed(
      std::vector<std::byte>(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(at)));
  halves.feed(
      std::vector<std::byte>(stream.begin() + static_cast<std::ptrdiff_t>(at), stream.end()));

  check_same_outcome(whole, cut);
  check_same_outcome(whole, halves);
  if (whole.parser().state() == head_state::failed) {
    FCGI_FUZZ_CHECK(whole.consumed() <= settings.max_bytes);
  }
  if (whole.parser().state() == head_state::complete) check_complete(whole, stream, settings);
  check_finish(whole);
  check_finish(cut);
  return 0;
}
