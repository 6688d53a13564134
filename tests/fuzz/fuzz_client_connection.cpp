// Fuzz target: client_connection (the web-server side). The harness starts a few requests,
// sends params, STDIN, DATA, aborts and GET_VALUES as the input decides, then feeds the rest of
// the input as the application's bytes, cut into arbitrary reads, starting new requests on the
// ids that come free.
//
// Input layout: [settings bits][chunking mode][decision seed: 2 bytes][requests to start]
// [roles: 2 bits per request][keep-conn bits][application bytes...]. Request ids are handed out
// lowest first, so a seed's responses name ids 1, 2, ... in the order the requests started.
//
// Invariants (each a trap): every API call returns exactly the documented result for the
// request's state, and a failed call queues nothing; begin_request takes the lowest free id
// with a fresh generation; events name only active requests, never a stream after its end,
// never a request after request_ended; active_requests() and reusable() match the harness's
// model; after connection_error every later call repeats it; the output decodes as
// well-formed web-server records (fuzz_support.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace protocol = fcgi::protocol;
using fcgi_fuzz::decision_source;
using protocol::bytes_view;
using protocol::client_event;
using protocol::client_event_kind;
using protocol::errc;
using protocol::request_key;

const std::array<std::byte, 140000>& static_payload() {
  static const std::array<std::byte, 140000> payload = [] {
    std::array<std::byte, 140000> p{};
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::byte>('A' + i % 26);
    return p;
  }();
  return payload;
}

const std::string_view long_value =
    "/var/www/a-rather-long-path-that-needs-a-four-byte-length-encoding/because/it/is/longer/"
    "than/one-hundred-and-twenty-seven/bytes/index.php";

const std::array<protocol::param, 8> param_table{{
    {"SCRIPT_FILENAME", long_value},
    {"QUERY_STRING", "a=1&b=2"},
    {"REQUEST_METHOD", "POST"},
    {"CONTENT_TYPE", "text/plain"},
    {"SCRIPT_NAME", "/index.php"},
    {"HTTP_USER_AGENT", "fuzz"},
    {"EMPTY_VALUE", ""},
    {"REMOTE_ADDR", "127.0.0.1"},
}};

enum class phase : std::uint8_t { params, stdin_stream, data_stream, done };

struct tracked_request {
  request_key key;
  protocol::role role = protocol::role::responder;
  phase sending = phase::params;
  bool abort_sent = false;
  bool stdout_ended = false;
  bool stderr_ended = false;
};

protocol::role role_from(unsigned bits) {
  switch (bits & 3U) {
    case 2: return protocol::role::authorizer;
    case 3: return protocol::role::filter;
    default: return protocol::role::responder;
  }
}

class client_harness {
 public:
  client_harness(const protocol::client_settings& settings, std::uint64_t seed)
      : settings_(settings),
        connection_(settings),
        decide_(seed),
        output_(fcgi_fuzz::sender::web_server) {}

  void begin(protocol::role role, bool keep_conn) {
    const std::size_t before = out().size();
    const protocol::result<request_key> key = connection_.begin_request(role, keep_conn);
    if (failed_) {
      FCGI_FUZZ_CHECK(!key.has_value() && out().size() == before);
      return;
    }
    const std::uint16_t expected = lowest_free_id();
    if (expected == 0) {
      FCGI_FUZZ_CHECK(key.error() == errc::too_many_active_requests);
      FCGI_FUZZ_CHECK(out().size() == before);
      return;
    }
    FCGI_FUZZ_CHECK(key.has_value() && key->id == expected);
    FCGI_FUZZ_CHECK(generations_.insert(key->generation).second);
    FCGI_FUZZ_CHECK(out().size() == before + protocol::fixed_record_size);
    if (!keep_conn) closing_ = true;
    requests_.push_back({*key, role});
    check_model();
    advance(requests_.back(), 1 + decide_.below(6));
  }

  /// Feeds one read of application bytes; false once the connection failed.
  bool feed(bytes_view read) {
    bytes_view input = read;
    const std::size_t event_budget = 2 * read.size() + 8;
    for (std::size_t events = 0;; ++events) {
      FCGI_FUZZ_CHECK(events <= event_budget);
      const std::size_t input_before = input.size();
      const std::uint64_t ended_before = connection_.stats().requests_ended;
      const client_event ev = connection_.next_event(input);
      FCGI_FUZZ_CHECK(input.size() <= input_before);
      if (ev.kind == client_event_kind::need_more) {
        FCGI_FUZZ_CHECK(input.empty());
        break;
      }
      if (ev.kind == client_event_kind::connection_error) {
        on_connection_error(ev, input);
        return false;
      }
      on_event(ev, ended_before);
      check_model();
      act_between_events();
    }
    if (decide_.chance(50)) output_.drain(out(), decide_.below(70000));
    return true;
  }

  void finish() {
    if (!failed_) {
      for (tracked_request& r : requests_) advance(r, 6);
    }
    output_.drain_all(out());
    FCGI_FUZZ_CHECK(output_.at_record_boundary());
  }

 private:
  protocol::output_queue& out() { return connection_.output(); }

  std::uint16_t lowest_free_id() const {
    for (std::uint32_t id = 1; id <= settings_.max_requests && id <= 0xffff; ++id) {
      const bool used = std::any_of(requests_.begin(), requests_.end(),
                                    [id](const tracked_request& r) { return r.key.id == id; });
      if (!used) return static_cast<std::uint16_t>(id);
    }
    return 0;
  }

  void check_model() {
    FCGI_FUZZ_CHECK(connection_.active_requests() == requests_.size());
    FCGI_FUZZ_CHECK(connection_.failed() == failed_);
    FCGI_FUZZ_CHECK(connection_.reusable() == (!failed_ && !closing_));
  }

  tracked_request* find(request_key key) {
    const auto it = std::find_if(requests_.begin(), requests_.end(),
                                 [key](const tracked_request& r) { return r.key == key; });
    return it == requests_.end() ? nullptr : &*it;
  }

  /// Checks a call's result: `expected` on a live connection, connection_closed on a failed
  /// one, and nothing queued on failure.
  void expect(errc result, std::size_t before, errc expected) {
    FCGI_FUZZ_CHECK(result == (failed_ ? errc::connection_closed : expected));
    if (result != errc{}) FCGI_FUZZ_CHECK(out().size() == before);
  }

  /// Takes `steps` steps of the request's upload, in order, with a few calls out of order to
  /// check that they are refused.
  void advance(tracked_request& r, std::size_t steps) {
    for (std::size_t i = 0; i < steps && r.sending != phase::done; ++i) {
      if (decide_.chance(15)) poke_out_of_order(r);
      switch (r.sending) {
        case phase::params: step_params(r); break;
        case phase::stdin_stream: step_stream(r, phase::stdin_stream); break;
        case phase::data_stream: step_stream(r, phase::data_stream); break;
        case phase::done: break;
      }
    }
    if (decide_.chance(10)) abort(r);
  }

  void step_params(tracked_request& r) {
    const std::size_t before = out().size();
    if (decide_.chance(30)) {
      FCGI_FUZZ_CHECK(connection_.end_params(r.key) == errc{});
      FCGI_FUZZ_CHECK(out().size() == before + protocol::header_size);
      r.sending = phase::stdin_stream;
      return;
    }
    const std::size_t first = decide_.below(param_table.size());
    const std::size_t count = decide_.below(param_table.size() - first + 1);
    const std::span<const protocol::param> params(param_table.data() + first, count);
    std::size_t encoded = 0;
    for (const protocol::param& p : params) encoded += protocol::encoded_pair_size(p.name, p.value);
    FCGI_FUZZ_CHECK(connection_.send_params(r.key, params) == errc{});
    const std::size_t queued = out().size() - before;
    // No empty record (it would end the stream early), padded records, all the pairs.
    if (encoded == 0)
      FCGI_FUZZ_CHECK(queued == 0);
    else
      FCGI_FUZZ_CHECK(queued >= encoded + protocol::header_size && queued % 8 == 0);
  }

  void step_stream(tracked_request& r, phase which) {
    const bool data = which == phase::data_stream;
    const std::size_t before = out().size();
    if (decide_.chance(35)) {
      FCGI_FUZZ_CHECK((data ? connection_.end_data(r.key) : connection_.end_stdin(r.key)) ==
                      errc{});
      FCGI_FUZZ_CHECK(out().size() == before + protocol::header_size);
      r.sending = data || r.role != protocol::role::filter ? phase::done : phase::data_stream;
      return;
    }
    // Mostly small, sometimes past one record (65528 bytes) and past two.
    const std::size_t size = decide_.chance(10)   ? decide_.below(140000)
                             : decide_.chance(50) ? decide_.below(3000)
                                                  : decide_.below(100);
    const bytes_view payload = bytes_view(static_payload()).first(size);
    errc result{};
    if (data)
      result = connection_.send_data(r.key, payload);
    else if (decide_.chance(50))
      result = connection_.send_stdin(r.key, payload);
    else
      result = connection_.send_stdin_reference(r.key, payload);
    FCGI_FUZZ_CHECK(result == errc{});
    FCGI_FUZZ_CHECK(out().size() == before + protocol::stream_records_size(payload.size()));
  }

  /// Calls that the request's state forbids: each must be refused with its documented error.
  /// Where two rules apply, the role is checked before the order of streams.
  void poke_out_of_order(const tracked_request& r) {
    const std::size_t before = out().size();
    const bytes_view some = bytes_view(static_payload()).first(1 + decide_.below(50));
    const bool filter = r.role == protocol::role::filter;
    const protocol::param one{"X", "y"};
    switch (r.sending) {
      case phase::params:
        expect(connection_.send_stdin(r.key, some), before, errc::stdin_before_params_end);
        expect(connection_.end_stdin(r.key), before, errc::stdin_before_params_end);
        expect(connection_.send_data(r.key, some), before,
               filter ? errc::data_before_stdin_end : errc::data_for_non_filter);
        expect(connection_.end_data(r.key), before,
               filter ? errc::data_before_stdin_end : errc::data_for_non_filter);
        break;
      case phase::stdin_stream:
        expect(connection_.send_params(r.key, std::span(&one, 1)), before,
               errc::stream_already_ended);
        expect(connection_.end_params(r.key), before, errc::stream_already_ended);
        expect(connection_.send_data(r.key, some), before,
               filter ? errc::data_before_stdin_end : errc::data_for_non_filter);
        expect(connection_.end_data(r.key), before,
               filter ? errc::data_before_stdin_end : errc::data_for_non_filter);
        break;
      case phase::data_stream:
      case phase::done:
        expect(connection_.send_stdin(r.key, some), before, errc::stream_already_ended);
        expect(connection_.end_stdin(r.key), before, errc::stream_already_ended);
        if (!filter) {
          expect(connection_.send_data(r.key, some), before, errc::data_for_non_filter);
          expect(connection_.end_data(r.key), before, errc::data_for_non_filter);
        } else if (r.sending == phase::done) {
          expect(connection_.send_data(r.key, some), before, errc::stream_already_ended);
          expect(connection_.end_data(r.key), before, errc::stream_already_ended);
        }
        break;
    }
  }

  void abort(tracked_request& r) {
    const std::size_t before = out().size();
    const errc result = connection_.abort_request(r.key);
    if (!r.abort_sent) {
      FCGI_FUZZ_CHECK(result == errc{});
      FCGI_FUZZ_CHECK(out().size() == before + protocol::header_size);
    } else {
      // One ABORT_REQUEST per request, however often the caller asks (§5.4).
      FCGI_FUZZ_CHECK(out().size() == before);
    }
    r.abort_sent = true;
  }

  /// Every call on a key that is not active is refused and queues nothing.
  void check_inactive(request_key key) {
    const std::size_t before = out().size();
    const bytes_view some = bytes_view(static_payload()).first(decide_.below(70000));
    const protocol::param one{"X", "y"};
    const errc gone = errc::request_not_active;
    FCGI_FUZZ_CHECK(connection_.send_params(key, std::span(&one, 1)) == gone);
    FCGI_FUZZ_CHECK(connection_.end_params(key) == gone);
    FCGI_FUZZ_CHECK(connection_.send_stdin(key, some) == gone);
    FCGI_FUZZ_CHECK(connection_.send_stdin_reference(key, some) == gone);
    FCGI_FUZZ_CHECK(connection_.end_stdin(key) == gone);
    FCGI_FUZZ_CHECK(connection_.send_data(key, some) == gone);
    FCGI_FUZZ_CHECK(connection_.end_data(key) == gone);
    FCGI_FUZZ_CHECK(connection_.abort_request(key) == gone);
    FCGI_FUZZ_CHECK(out().size() == before);
  }

  void on_event(const client_event& ev, std::uint64_t ended_before) {
    FCGI_FUZZ_CHECK(!failed_);
    if (ev.kind == client_event_kind::values_result) {
      for (const protocol::param& p : ev.values) FCGI_FUZZ_CHECK(p.name.data() != nullptr);
      return;
    }
    if (ev.kind == client_event_kind::unknown_type) return;
    tracked_request* r = find(ev.request);
    FCGI_FUZZ_CHECK(r != nullptr);  // events only for active requests
    switch (ev.kind) {
      case client_event_kind::stdout_chunk:
        FCGI_FUZZ_CHECK(!r->stdout_ended && !ev.bytes.empty());
        break;
      case client_event_kind::stderr_chunk:
        FCGI_FUZZ_CHECK(!r->stderr_ended && !ev.bytes.empty());
        break;
      case client_event_kind::stdout_end:
        FCGI_FUZZ_CHECK(!r->stdout_ended);
        r->stdout_ended = true;
        break;
      case client_event_kind::stderr_end:
        FCGI_FUZZ_CHECK(!r->stderr_ended);
        r->stderr_ended = true;
        break;
      case client_event_kind::request_ended: on_request_ended(*r, ended_before); break;
      default: FCGI_FUZZ_FAIL("unexpected event kind");
    }
  }

  void on_request_ended(tracked_request& r, std::uint64_t ended_before) {
    FCGI_FUZZ_CHECK(connection_.stats().requests_ended == ended_before + 1);
    const request_key key = r.key;
    requests_.erase(requests_.begin() + (&r - requests_.data()));
    check_inactive(key);
    ended_.push_back(key);
    // The id is free: take it again sometimes, so that late records meet a new generation.
    if (decide_.chance(40)) begin(role_from(static_cast<unsigned>(decide_.next())), true);
  }

  void on_connection_error(const client_event& ev, bytes_view& input) {
    FCGI_FUZZ_CHECK(ev.error.action == protocol::error_action::close_connection);
    FCGI_FUZZ_CHECK(ev.error.code != errc{});
    failed_ = true;
    check_model();
    const std::array<std::byte, 16> more{};
    bytes_view more_input(more);
    bytes_view nothing;
    for (bytes_view* in : {&input, &nothing, &more_input}) {
      const client_event again = connection_.next_event(*in);
      FCGI_FUZZ_CHECK(again.kind == client_event_kind::connection_error);
      FCGI_FUZZ_CHECK(again.error.code == ev.error.code);
    }
    // Every later call is refused with connection_closed and queues nothing.
    const std::size_t before = out().size();
    const protocol::result<request_key> late =
        connection_.begin_request(protocol::role::responder, true);
    FCGI_FUZZ_CHECK(late.error() == errc::connection_closed);
    const std::string_view name = "FCGI_MAX_CONNS";
    FCGI_FUZZ_CHECK(connection_.query_values(std::span(&name, 1)) == errc::connection_closed);
    for (const tracked_request& r : requests_) poke_out_of_order(r);
    for (const tracked_request& r : requests_) {
      expect(connection_.send_stdin(r.key, bytes_view(static_payload()).first(8)), before, errc{});
      expect(connection_.abort_request(r.key), before, errc{});
    }
    FCGI_FUZZ_CHECK(out().size() == before);
  }

  void act_between_events() {
    // Not after every event: 1-byte reads make many events, and each action adds output.
    if (!decide_.chance(25)) return;
    if (decide_.chance(20)) output_.drain(out(), decide_.below(20000));
    if (!requests_.empty() && decide_.chance(20)) {
      advance(requests_[decide_.below(requests_.size())], 1 + decide_.below(3));
    }
    if (!ended_.empty() && decide_.chance(10)) check_inactive(ended_[decide_.below(ended_.size())]);
    if (decide_.chance(10)) begin(role_from(static_cast<unsigned>(decide_.next())), true);
    if (decide_.chance(5)) query_values();
  }

  void query_values() {
    static constexpr std::array<std::string_view, 4> names{"FCGI_MAX_CONNS", "FCGI_MAX_REQS",
                                                           "FCGI_MPXS_CONNS", "X_UNKNOWN"};
    const std::size_t before = out().size();
    const std::size_t count = decide_.below(names.size() + 1);
    FCGI_FUZZ_CHECK(connection_.query_values(std::span(names.data(), count)) == errc{});
    FCGI_FUZZ_CHECK(out().size() >= before + protocol::header_size);
  }

  protocol::client_settings settings_;
  protocol::client_connection connection_;
  decision_source decide_;
  fcgi_fuzz::output_checker output_;
  std::vector<tracked_request> requests_;
  std::vector<request_key> ended_;
  std::set<std::uint32_t> generations_;
  bool closing_ = false;
  bool failed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fcgi_fuzz::input_reader in(data, size);
  const std::uint8_t settings_bits = in.byte();
  const std::uint8_t chunking = in.byte();
  const std::uint64_t seed = in.u16();
  const unsigned starts = in.byte() & 7U;
  const unsigned roles = in.u16();
  const std::uint8_t keep_conn_bits = in.byte();

  protocol::client_settings settings;
  settings.max_requests = 1 + (settings_bits & 3U);
  if ((settings_bits & 4U) != 0) settings.reference_threshold = 16;

  client_harness harness(settings, seed);
  for (unsigned i = 0; i < starts; ++i) {
    // keep_conn bits are inverted so that a zero byte means "keep the connection".
    harness.begin(role_from(roles >> (2 * i)), ((keep_conn_bits >> i) & 1U) == 0);
  }
  fcgi_fuzz::chunker reads(chunking, in.rest(), seed ^ 0xc11e47U);
  while (!reads.done()) {
    const std::vector<std::byte> read = reads.next();
    if (!harness.feed(read)) break;
  }
  harness.finish();
  return 0;
}
