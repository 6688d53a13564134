// Fuzz target: app_connection fed arbitrary web-server bytes, cut into arbitrary reads, while
// the harness plays the application: it reads every request's params, writes STDOUT/STDERR
// (copied and zero-copy), ends, rejects or abandons requests, writes after the end, and drains
// the output the way a runtime would.
//
// Input layout: [settings bits][chunking mode][decision seed: 2 bytes][web-server bytes...].
// A settings byte of 0 means app_settings{} (see settings_from for the bits).
//
// Invariants (each a trap): after connection_error every later call repeats it; need_more only
// with the input used up; events name only requests the harness knows (fresh keys for new
// requests, never a key that ended); params obey the policy; STDIN never exceeds CONTENT_LENGTH
// and matches it at stdin_end; a key that ended never accepts writes and a failed write queues
// nothing; successful writes and ends queue exactly the documented byte counts; gather() covers
// size(); the output decodes as well-formed records (fuzz_support.hpp); GET_VALUES answers carry
// the settings' values.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace protocol = fcgi::protocol;
using fcgi_fuzz::decision_source;
using protocol::app_event;
using protocol::app_event_kind;
using protocol::bytes_view;
using protocol::errc;
using protocol::request_key;

protocol::app_settings settings_from(std::uint8_t bits) {
  protocol::app_settings s;
  if ((bits & 0x01U) != 0) s.multiplex = false;
  if ((bits & 0x02U) != 0) s.max_requests = 2;
  if ((bits & 0x04U) != 0) s.accepted_roles = protocol::role_bit(protocol::role::responder);
  if ((bits & 0x08U) != 0) {
    s.params.max_bytes = 512;
    s.params.max_count = 8;
  }
  if ((bits & 0x10U) != 0) s.params.allow_duplicate_names = true;
  if ((bits & 0x20U) != 0) s.params.accept_minus_one_content_length = true;
  if ((bits & 0x40U) != 0) s.reference_threshold = 16;
  if ((bits & 0x80U) != 0) {
    s.max_connection_params_bytes = 1024;
    s.error_app_status = 0xdeadbeef;
    s.advertised_max_conns = 7;
  }
  return s;
}

/// Bytes that outlive every queue, for zero-copy writes: a recognisable pattern, not zeros.
const std::array<std::byte, 140000>& static_payload() {
  static const std::array<std::byte, 140000> payload = [] {
    std::array<std::byte, 140000> p{};
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::byte>('a' + i % 26);
    return p;
  }();
  return payload;
}

constexpr std::array<std::string_view, 18> guarded_names{
    "CONTENT_LENGTH",  "CONTENT_TYPE", "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
    "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_METHOD",  "REQUEST_URI", "DOCUMENT_ROOT",
    "DOCUMENT_URI",    "REMOTE_ADDR",  "REMOTE_USER",     "AUTH_TYPE",   "HTTPS",
    "SERVER_NAME",     "SERVER_PORT",  "HTTP_HOST"};

/// FNV-1a over every name and value with lengths, so a changed or moved byte shows.
std::uint64_t fingerprint(const protocol::param_list& params, std::size_t& count) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&h](std::string_view text) {
    for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    h = (h ^ text.size()) * 0x100000001b3ULL;
  };
  count = 0;
  for (const protocol::param& p : params) {
    mix(p.name);
    mix(p.value);
    ++count;
  }
  return h;
}

/// The body length a validated CONTENT_LENGTH announces, if any.
std::optional<std::uint64_t> announced_length(const protocol::param_list& params) {
  const auto text = params.find("CONTENT_LENGTH");
  if (!text || text->empty() || *text == "-1") return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : *text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return value;
}

bool is_digits(std::string_view text) {
  return !text.empty() && text.size() <= 19 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// When the harness ends a request it has seen start.
enum class end_plan : std::uint8_t { now, at_input_end, never };

struct tracked_request {
  request_key key;
  protocol::role role = protocol::role::responder;
  bool keep_conn = false;
  bool stderr_written = false;
  bool aborted = false;
  bool stdin_ended = false;
  bool data_ended = false;
  std::uint64_t stdin_bytes = 0;
  std::optional<std::uint64_t> content_length;
  protocol::param_list params;
  std::uint64_t params_fingerprint = 0;
  std::size_t params_count = 0;
  end_plan plan = end_plan::at_input_end;
};

/// Checks GET_VALUES_RESULT contents against the settings (§4.1).
class values_observer final : public fcgi_fuzz::record_observer {
 public:
  explicit values_observer(const protocol::app_settings& s) : settings_(s) {}

  void on_record(const protocol::record_header& header, bytes_view content) override {
    if (!header.is(protocol::record_type::get_values_result)) return;
    std::set<std::string_view> seen;
    for (const protocol::param& p : protocol::param_list(content)) {
      FCGI_FUZZ_CHECK(seen.insert(p.name).second);
      if (p.name == "FCGI_MAX_CONNS") {
        FCGI_FUZZ_CHECK(p.value == std::to_string(settings_.advertised_max_conns));
      } else if (p.name == "FCGI_MAX_REQS") {
        FCGI_FUZZ_CHECK(p.value == std::to_string(settings_.advertised_max_reqs));
      } else if (p.name == "FCGI_MPXS_CONNS") {
        FCGI_FUZZ_CHECK(p.value == (settings_.multiplex ? "1" : "0"));
      } else {
        FCGI_FUZZ_FAIL("unknown name answered");
      }
    }
  }

 private:
  protocol::app_settings settings_;
};

class app_harness {
 public:
  app_harness(const protocol::app_settings& settings, std::uint64_t seed)
      : settings_(settings),
        connection_(settings),
        decide_(seed),
        output_(fcgi_fuzz::sender::application),
        values_(settings) {
    output_.set_observer(&values_);
  }

  /// Feeds one read; returns false once the connection has failed (and the failure was checked).
  bool feed(bytes_view read) {
    bytes_view input = read;
    const std::size_t event_budget = 2 * read.size() + 8;
    for (std::size_t events = 0;; ++events) {
      FCGI_FUZZ_CHECK(events <= event_budget);  // no event loop without progress
      const std::size_t output_before = connection_.output().size();
      const protocol::app_connection_stats stats_before = connection_.stats();
      const std::size_t input_before = input.size();
      const app_event ev = connection_.next_event(input);
      FCGI_FUZZ_CHECK(input.size() <= input_before);
      check_stats_grow(stats_before, connection_.stats());
      if (ev.kind == app_event_kind::need_more) {
        FCGI_FUZZ_CHECK(input.empty());
        break;
      }
      if (ev.kind == app_event_kind::connection_error) {
        on_connection_error(ev, input);
        return false;
      }
      on_event(ev, output_before);
      act_between_events();
    }
    check_requests_still_readable();
    if (decide_.chance(50)) output_.drain(connection_.output(), decide_.below(70000));
    return true;
  }

  /// The peer closed: end what is still open, drain everything, check the final state.
  void finish() {
    if (!failed_) {
      while (!requests_.empty()) end_request(requests_.back());
      const bool idle = connection_.active_requests() == 0;
      if (close_expected_ && idle) FCGI_FUZZ_CHECK(connection_.wants_close());
    }
    output_.drain_all(connection_.output());
    FCGI_FUZZ_CHECK(output_.at_record_boundary());
  }

 private:
  static void check_stats_grow(const protocol::app_connection_stats& a,
                               const protocol::app_connection_stats& b) {
    FCGI_FUZZ_CHECK(b.records >= a.records && b.ignored_records >= a.ignored_records);
    FCGI_FUZZ_CHECK(b.unknown_type_records >= a.unknown_type_records);
    FCGI_FUZZ_CHECK(b.requests_started >= a.requests_started);
    FCGI_FUZZ_CHECK(b.requests_rejected >= a.requests_rejected);
    FCGI_FUZZ_CHECK(b.requests_failed >= a.requests_failed && b.get_values >= a.get_values);
  }

  void on_connection_error(const app_event& ev, bytes_view& input) {
    FCGI_FUZZ_CHECK(ev.error.action == protocol::error_action::close_connection);
    FCGI_FUZZ_CHECK(ev.error.code != errc{});
    FCGI_FUZZ_CHECK(connection_.failed() && connection_.wants_close());
    if (failed_) FCGI_FUZZ_CHECK(ev.error.code == error_.code);
    failed_ = true;
    error_ = ev.error;
    // Sticky: the same error with the rest of this read, with nothing, and with new bytes.
    const std::array<std::byte, 16> more{};
    bytes_view more_input(more);
    bytes_view nothing;
    for (bytes_view* in : {&input, &nothing, &more_input}) {
      const app_event again = connection_.next_event(*in);
      FCGI_FUZZ_CHECK(again.kind == app_event_kind::connection_error);
      FCGI_FUZZ_CHECK(again.error.code == error_.code);
    }
    // Every later call is refused with connection_closed and queues nothing.
    const std::size_t before = connection_.output().size();
    const bytes_view some = bytes_view(static_payload()).first(10);
    std::vector<request_key> keys = ended_;
    for (const tracked_request& r : requests_) keys.push_back(r.key);
    for (const request_key key : keys) {
      FCGI_FUZZ_CHECK(connection_.write_stdout(key, some) == errc::connection_closed);
      FCGI_FUZZ_CHECK(connection_.write_stderr(key, some) == errc::connection_closed);
      FCGI_FUZZ_CHECK(connection_.write_stdout_reference(key, some) == errc::connection_closed);
      FCGI_FUZZ_CHECK(connection_.end_request(key, 0) == errc::connection_closed);
      FCGI_FUZZ_CHECK(connection_.reject_request(key, protocol::protocol_status::overloaded) ==
                      errc::connection_closed);
    }
    FCGI_FUZZ_CHECK(connection_.output().size() == before);
  }

  tracked_request* find(request_key key) {
    const auto it = std::find_if(requests_.begin(), requests_.end(),
                                 [key](const tracked_request& r) { return r.key == key; });
    return it == requests_.end() ? nullptr : &*it;
  }

  static std::uint64_t key_code(request_key key) {
    return (std::uint64_t{key.generation} << 16U) | key.id;
  }

  void on_event(const app_event& ev, std::size_t output_before) {
    FCGI_FUZZ_CHECK(!failed_);
    switch (ev.kind) {
      case app_event_kind::params_ready: on_params_ready(ev); break;
      case app_event_kind::stdin_chunk: on_stdin_chunk(ev); break;
      case app_event_kind::stdin_end: on_stdin_end(ev); break;
      case app_event_kind::data_chunk:
      case app_event_kind::data_end: on_data(ev); break;
      case app_event_kind::request_aborted: on_aborted(ev); break;
      case app_event_kind::request_failed: on_failed(ev, output_before); break;
      case app_event_kind::request_rejected: on_rejected(ev, output_before); break;
      default: FCGI_FUZZ_FAIL("unexpected event kind");
    }
  }

  void on_params_ready(const app_event& ev) {
    FCGI_FUZZ_CHECK(ev.request.id != protocol::null_request_id);
    FCGI_FUZZ_CHECK(find(ev.request) == nullptr);
    FCGI_FUZZ_CHECK(std::none_of(requests_.begin(), requests_.end(), [&](const tracked_request& r) {
      return r.key.id == ev.request.id;
    }));
    FCGI_FUZZ_CHECK(keys_seen_.insert(key_code(ev.request)).second);  // a fresh generation
    const auto role_value = static_cast<unsigned>(ev.request_role);
    FCGI_FUZZ_CHECK(role_value >= 1 && role_value <= 3);
    FCGI_FUZZ_CHECK((settings_.accepted_roles & protocol::role_bit(ev.request_role)) != 0);
    check_params(ev.params);

    tracked_request r;
    r.key = ev.request;
    r.role = ev.request_role;
    r.keep_conn = ev.keep_conn;
    r.params = ev.params;
    r.params_fingerprint = fingerprint(ev.params, r.params_count);
    r.content_length = announced_length(ev.params);
    const std::size_t plan = decide_.below(100);
    r.plan = plan < 30 ? end_plan::now : plan < 90 ? end_plan::at_input_end : end_plan::never;
    requests_.push_back(r);
    FCGI_FUZZ_CHECK(connection_.active_requests() >= requests_.size());

    if (decide_.chance(10)) {
      reject_request(requests_.back());
      return;
    }
    maybe_write(requests_.back());
    if (requests_.back().plan == end_plan::now) end_request(requests_.back());
  }

  void check_params(const protocol::param_list& params) {
    std::size_t count = 0;
    std::array<int, guarded_names.size()> copies{};
    std::optional<std::string_view> first_script_name;
    for (const protocol::param& p : params) {
      ++count;
      FCGI_FUZZ_CHECK(!p.name.empty());
      FCGI_FUZZ_CHECK(p.name.find('\0') == std::string_view::npos);
      for (std::size_t i = 0; i < guarded_names.size(); ++i) {
        if (p.name == guarded_names[i]) ++copies[i];
      }
      if (p.name == "SCRIPT_NAME" && !first_script_name) first_script_name = p.value;
    }
    FCGI_FUZZ_CHECK(count <= settings_.params.max_count);
    FCGI_FUZZ_CHECK(params.raw().size() <= settings_.params.max_bytes);
    if (!settings_.params.allow_duplicate_names) {
      for (const int n : copies) FCGI_FUZZ_CHECK(n <= 1);
    }
    FCGI_FUZZ_CHECK(params.find("SCRIPT_NAME") == first_script_name);
    if (const auto length = params.find("CONTENT_LENGTH"); length && !length->empty()) {
      const bool minus_one = *length == "-1" && settings_.params.accept_minus_one_content_length;
      FCGI_FUZZ_CHECK(minus_one || is_digits(*length));
      if (!minus_one) FCGI_FUZZ_CHECK(*announced_length(params) < (std::uint64_t{1} << 63U));
    }
  }

  void on_stdin_chunk(const app_event& ev) {
    tracked_request* r = find(ev.request);
    FCGI_FUZZ_CHECK(r != nullptr && !r->stdin_ended);
    FCGI_FUZZ_CHECK(!ev.bytes.empty());
    r->stdin_bytes += ev.bytes.size();
    if (r->content_length) FCGI_FUZZ_CHECK(r->stdin_bytes <= *r->content_length);
    // Echo: a copy must not keep the view, which dies with this read.
    if (decide_.chance(30)) {
      const bool small = ev.bytes.size() < settings_.reference_threshold;
      write(*r, ev.bytes, small && decide_.chance(50) ? write_kind::reference : write_kind::copy);
    }
  }

  void on_stdin_end(const app_event& ev) {
    tracked_request* r = find(ev.request);
    FCGI_FUZZ_CHECK(r != nullptr && !r->stdin_ended);
    r->stdin_ended = true;
    if (r->content_length) FCGI_FUZZ_CHECK(r->stdin_bytes == *r->content_length);
    if (r->role == protocol::role::filter) {
      maybe_write(*r);
      return;
    }
    if (r->plan == end_plan::at_input_end) {
      maybe_write(*r);
      end_request(*r);
    }
  }

  void on_data(const app_event& ev) {
    tracked_request* r = find(ev.request);
    FCGI_FUZZ_CHECK(r != nullptr && r->role == protocol::role::filter);
    FCGI_FUZZ_CHECK(r->stdin_ended && !r->data_ended);
    if (ev.kind == app_event_kind::data_chunk) {
      FCGI_FUZZ_CHECK(!ev.bytes.empty());
      if (decide_.chance(30)) write(*r, ev.bytes, write_kind::copy);
      return;
    }
    r->data_ended = true;
    if (r->plan == end_plan::at_input_end) end_request(*r);
  }

  void on_aborted(const app_event& ev) {
    tracked_request* r = find(ev.request);
    FCGI_FUZZ_CHECK(r != nullptr && !r->aborted);  // reported once
    r->aborted = true;
    if (decide_.chance(80)) end_request(*r);
  }

  void on_failed(const app_event& ev, std::size_t output_before) {
    FCGI_FUZZ_CHECK(ev.error.action == protocol::error_action::end_request);
    FCGI_FUZZ_CHECK(ev.error.request_id == ev.request.id && ev.request.id != 0);
    const auto code = static_cast<unsigned>(ev.error.code);
    const bool params_error = code >= static_cast<unsigned>(errc::params_too_large) &&
                              code <= static_cast<unsigned>(errc::invalid_content_length);
    const bool lifecycle_error =
        code >= static_cast<unsigned>(errc::stdin_before_params_end) &&
        code <= static_cast<unsigned>(errc::stdin_shorter_than_content_length);
    FCGI_FUZZ_CHECK(params_error || lifecycle_error);
    // Empty STDOUT (and STDERR if used) then END_REQUEST were queued by this very call.
    FCGI_FUZZ_CHECK(connection_.output().size() >=
                    output_before + protocol::header_size + protocol::fixed_record_size);
    if (tracked_request* r = find(ev.request)) {
      forget(*r);
    } else {
      FCGI_FUZZ_CHECK(keys_seen_.insert(key_code(ev.request)).second);
      remember_ended(ev.request);
    }
  }

  void on_rejected(const app_event& ev, std::size_t output_before) {
    using protocol::protocol_status;
    FCGI_FUZZ_CHECK(ev.request.id != protocol::null_request_id);
    FCGI_FUZZ_CHECK(std::none_of(requests_.begin(), requests_.end(), [&](const tracked_request& r) {
      return r.key.id == ev.request.id;
    }));
    FCGI_FUZZ_CHECK(ev.rejected_status == protocol_status::cant_mpx_conn ||
                    ev.rejected_status == protocol_status::overloaded ||
                    ev.rejected_status == protocol_status::unknown_role);
    FCGI_FUZZ_CHECK(connection_.output().size() >= output_before + protocol::fixed_record_size);
  }

  enum class write_kind : std::uint8_t { copy, reference, error_stream };

  /// Writes and checks the result and the exact bytes queued (§3.3 framing, 65528-byte records).
  void write(tracked_request& r, bytes_view bytes, write_kind kind) {
    const std::size_t before = connection_.output().size();
    errc result{};
    switch (kind) {
      case write_kind::copy: result = connection_.write_stdout(r.key, bytes); break;
      case write_kind::reference: result = connection_.write_stdout_reference(r.key, bytes); break;
      case write_kind::error_stream: result = connection_.write_stderr(r.key, bytes); break;
    }
    const bool filter_waiting = r.role == protocol::role::filter && !r.stdin_ended;
    if (filter_waiting && !bytes.empty()) {
      FCGI_FUZZ_CHECK(result == errc::output_before_input_ready);
    } else if (filter_waiting) {  // nothing to send: either answer is honest
      FCGI_FUZZ_CHECK(result == errc{} || result == errc::output_before_input_ready);
    } else {
      FCGI_FUZZ_CHECK(result == errc{});
    }
    const std::size_t expected = result == errc{} ? protocol::stream_records_size(bytes.size()) : 0;
    FCGI_FUZZ_CHECK(connection_.output().size() == before + expected);
    if (result == errc{} && kind == write_kind::error_stream && !bytes.empty()) {
      r.stderr_written = true;
    }
  }

  void maybe_write(tracked_request& r) {
    if (decide_.chance(50)) {
      // Mostly small, sometimes past one record (65528 bytes) and past two.
      const std::size_t size = decide_.chance(10)   ? decide_.below(140000)
                               : decide_.chance(50) ? decide_.below(2000)
                                                    : decide_.below(100);
      const bytes_view payload = bytes_view(static_payload()).first(size);
      write(r, payload, decide_.chance(40) ? write_kind::reference : write_kind::copy);
    }
    if (decide_.chance(20)) {
      write(r, bytes_view(static_payload()).first(decide_.below(300)), write_kind::error_stream);
    }
  }

  void end_request(tracked_request& r) {
    const std::size_t before = connection_.output().size();
    const auto status = static_cast<std::uint32_t>(decide_.next());
    FCGI_FUZZ_CHECK(connection_.end_request(r.key, status) == errc{});
    // Empty STDOUT, empty STDERR only if it was used, END_REQUEST (§5.5, §6.1).
    const std::size_t expected =
        protocol::header_size * (r.stderr_written ? 2 : 1) + protocol::fixed_record_size;
    FCGI_FUZZ_CHECK(connection_.output().size() == before + expected);
    forget(r);
  }

  void reject_request(tracked_request& r) {
    const std::size_t before = connection_.output().size();
    FCGI_FUZZ_CHECK(connection_.reject_request(r.key, protocol::protocol_status::overloaded) ==
                    errc{});
    FCGI_FUZZ_CHECK(connection_.output().size() >= before + protocol::fixed_record_size);
    forget(r);
  }

  /// The request has ended: from now on its key must be refused without queuing a byte.
  void forget(tracked_request& r) {
    const request_key key = r.key;
    if (!r.keep_conn) close_expected_ = true;
    requests_.erase(requests_.begin() + (&r - requests_.data()));
    remember_ended(key);
    check_ended(key);
  }

  void remember_ended(request_key key) {
    if (ended_.size() == 16) ended_.erase(ended_.begin());
    ended_.push_back(key);
  }

  void check_ended(request_key key) {
    protocol::output_queue& out = connection_.output();
    const std::size_t before = out.size();
    const bytes_view small = bytes_view(static_payload()).first(decide_.below(40));
    const bytes_view large = bytes_view(static_payload()).first(70000);
    FCGI_FUZZ_CHECK(connection_.write_stdout(key, small) == errc::request_not_active);
    FCGI_FUZZ_CHECK(connection_.write_stderr(key, small) == errc::request_not_active);
    FCGI_FUZZ_CHECK(connection_.write_stdout_reference(key, large) == errc::request_not_active);
    FCGI_FUZZ_CHECK(connection_.end_request(key, 0) == errc::request_not_active);
    FCGI_FUZZ_CHECK(connection_.reject_request(key, protocol::protocol_status::overloaded) ==
                    errc::request_not_active);
    FCGI_FUZZ_CHECK(out.size() == before);
  }

  /// Between events, what a runtime does at any time: drain some output, write for a random
  /// live request, poke at an ended one, end one early.
  void act_between_events() {
    if (decide_.chance(20)) output_.drain(connection_.output(), decide_.below(20000));
    if (!requests_.empty() && decide_.chance(15)) {
      maybe_write(requests_[decide_.below(requests_.size())]);
    }
    if (!ended_.empty() && decide_.chance(15)) check_ended(ended_[decide_.below(ended_.size())]);
    if (!requests_.empty() && decide_.chance(5)) {
      end_request(requests_[decide_.below(requests_.size())]);
    }
    if (decide_.chance(5)) {
      // A key never handed out is not active either.
      const request_key made_up{static_cast<std::uint16_t>(decide_.next()),
                                static_cast<std::uint32_t>(decide_.next() | 0x80000000U)};
      if (find(made_up) == nullptr) check_ended(made_up);
    }
  }

  /// Params stay valid and unchanged until their request ends (the views must not dangle).
  void check_requests_still_readable() {
    if (requests_.empty()) return;
    const tracked_request& r = requests_[decide_.below(requests_.size())];
    std::size_t count = 0;
    FCGI_FUZZ_CHECK(fingerprint(r.params, count) == r.params_fingerprint);
    FCGI_FUZZ_CHECK(count == r.params_count);
  }

  protocol::app_settings settings_;
  protocol::app_connection connection_;
  decision_source decide_;
  fcgi_fuzz::output_checker output_;
  values_observer values_;
  std::vector<tracked_request> requests_;  ///< started (params_ready) and not ended
  std::vector<request_key> ended_;         ///< recently ended keys, to write to again
  std::set<std::uint64_t> keys_seen_;
  bool close_expected_ = false;
  bool failed_ = false;
  protocol::protocol_error error_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fcgi_fuzz::input_reader in(data, size);
  const protocol::app_settings settings = settings_from(in.byte());
  const std::uint8_t chunking = in.byte();
  const std::uint64_t seed = in.u16();
  const bytes_view stream = in.rest();

  app_harness harness(settings, seed);
  fcgi_fuzz::chunker reads(chunking, stream, seed ^ 0x5eedU);
  while (!reads.done()) {
    const std::vector<std::byte> read = reads.next();
    if (!harness.feed(read)) break;
  }
  harness.finish();
  return 0;
}
