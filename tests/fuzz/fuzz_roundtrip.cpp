// Fuzz target: client_connection and app_connection talking to each other. The input describes
// a few requests (role, params, STDIN, DATA) and their responses (STDOUT, STDERR, appStatus);
// the client encodes the requests, its bytes reach the app in arbitrary reads, the app answers,
// and the answers reach the client in arbitrary reads, all interleaved.
//
// Input layout: [app chunking][client chunking][decision seed: 2 bytes][requests - 1]
// then per request: [flags][param count] per param: [name length][name][value length: 2][value]
// then [stdin length: 2][stdin] [data length: 2][data] (Filter only) [stdout length: 2][stdout]
// [stderr length][stderr] [appStatus: 2]. Lengths past the end of the input are cut short.
//
// Checks (each a trap): the app sees exactly the role, KEEP_CONN, params (in order) and bytes
// the client sent, on the same request id; the client sees exactly what the app wrote and its
// appStatus with REQUEST_COMPLETE; nobody reports an error; everything ends on both sides, and
// a request without KEEP_CONN closes both ends.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace protocol = fcgi::protocol;
using fcgi_fuzz::decision_source;
using protocol::bytes_view;
using protocol::errc;
using protocol::request_key;

std::vector<std::byte> owned(bytes_view bytes) { return {bytes.begin(), bytes.end()}; }

/// One request and its response, as the input describes them. Everything is owned here so the
/// zero-copy calls can reference it until the end of the run.
struct exchange {
  protocol::role role = protocol::role::responder;
  bool keep_conn = true;
  bool split_params = false;
  bool stdin_by_reference = false;
  std::vector<std::string> names;
  std::vector<std::string> values;
  std::vector<std::byte> stdin_bytes;
  std::vector<std::byte> data_bytes;
  std::vector<std::byte> stdout_bytes;
  std::vector<std::byte> stderr_bytes;
  std::uint32_t app_status = 0;

  request_key client_key;
  request_key app_key;
  std::size_t client_step = 0;
  // What arrived on each side.
  bool params_seen = false;
  std::vector<std::byte> app_stdin;
  std::vector<std::byte> app_data;
  bool app_done = false;
  std::vector<std::byte> client_stdout;
  std::vector<std::byte> client_stderr;
  bool stdout_ended = false;
  bool stderr_ended = false;
  bool ended = false;
};

protocol::role role_from(unsigned bits) {
  switch (bits & 3U) {
    case 2: return protocol::role::authorizer;
    case 3: return protocol::role::filter;
    default: return protocol::role::responder;
  }
}

/// A name that is valid and unique whatever the input says: "P<index>_" and the input's bytes
/// without NUL. Guarded names cannot collide, so the default policy accepts every pair.
std::string make_name(std::size_t index, bytes_view raw) {
  std::string name = "P" + std::to_string(index) + "_";
  for (const std::byte b : raw) {
    const auto c = std::to_integer<char>(b);
    name.push_back(c == '\0' ? '0' : c);
  }
  return name;
}

exchange read_exchange(fcgi_fuzz::input_reader& in) {
  exchange x;
  const std::uint8_t flags = in.byte();
  x.role = role_from(flags);
  x.keep_conn = (flags & 4U) == 0;
  const bool send_content_length = (flags & 8U) != 0;
  x.split_params = (flags & 16U) != 0;
  x.stdin_by_reference = (flags & 32U) != 0;
  const unsigned count = in.byte() % 16U;
  for (unsigned i = 0; i < count; ++i) {
    x.names.push_back(make_name(i, in.take(in.byte() % 160U)));
    x.values.emplace_back(protocol::as_chars(in.take(in.u16() % 2000U)));
  }
  x.stdin_bytes = owned(in.take(in.u16()));
  if (x.role == protocol::role::filter) x.data_bytes = owned(in.take(in.u16()));
  x.stdout_bytes = owned(in.take(in.u16()));
  x.stderr_bytes = owned(in.take(in.byte()));
  x.app_status = in.u16();
  if (send_content_length) {
    x.names.emplace_back("CONTENT_LENGTH");
    x.values.push_back(std::to_string(x.stdin_bytes.size()));
  }
  return x;
}

class roundtrip {
 public:
  roundtrip(std::vector<exchange>& exchanges, std::uint8_t app_chunking,
            std::uint8_t client_chunking, std::uint64_t seed)
      : exchanges_(exchanges),
        client_(client_settings(exchanges.size())),
        app_(),
        decide_(seed),
        app_chunking_(app_chunking),
        client_chunking_(client_chunking),
        to_app_(fcgi_fuzz::sender::web_server),
        to_client_(fcgi_fuzz::sender::application) {
    to_app_.keep_delivered();
    to_client_.keep_delivered();
  }

  void run() {
    for (exchange& x : exchanges_) {
      const protocol::result<request_key> key = client_.begin_request(x.role, x.keep_conn);
      FCGI_FUZZ_CHECK(key.has_value());
      x.client_key = *key;
    }
    // Each pass moves some of everything; a bounded number of passes must finish the work.
    for (std::size_t pass = 0; pass < 100000 && !finished(); ++pass) {
      for (std::size_t i = 0, n = 1 + decide_.below(4); i < n; ++i) client_step();
      transfer_to_app(pass % 8 == 7);
      transfer_to_client(pass % 8 == 7);
    }
    FCGI_FUZZ_CHECK(finished());
    for (const exchange& x : exchanges_) check_arrived(x);
    FCGI_FUZZ_CHECK(client_.active_requests() == 0 && app_.active_requests() == 0);
    const bool any_close = std::any_of(exchanges_.begin(), exchanges_.end(),
                                       [](const exchange& x) { return !x.keep_conn; });
    FCGI_FUZZ_CHECK(app_.wants_close() == any_close);
    FCGI_FUZZ_CHECK(client_.reusable() == !any_close);
    FCGI_FUZZ_CHECK(to_app_.at_record_boundary() && to_client_.at_record_boundary());
  }

 private:
  static protocol::client_settings client_settings(std::size_t requests) {
    protocol::client_settings s;
    s.max_requests = static_cast<std::uint32_t>(requests);
    return s;
  }

  bool finished() {  // not const: output() has no const overload
    return std::all_of(exchanges_.begin(), exchanges_.end(),
                       [](const exchange& x) { return x.ended; }) &&
           client_.output().empty() && app_.output().empty();
  }

  /// The client's upload, one call at a time, for a request picked by the input's seed.
  void client_step() {
    exchange& x = exchanges_[decide_.below(exchanges_.size())];
    const bool filter = x.role == protocol::role::filter;
    const std::size_t params_cut = x.split_params ? x.names.size() / 2 : x.names.size();
    const std::size_t stdin_cut = x.stdin_bytes.size() / 3;
    errc result{};
    switch (x.client_step) {
      case 0: result = send_params(x, 0, params_cut); break;
      case 1: result = send_params(x, params_cut, x.names.size()); break;
      case 2: result = client_.end_params(x.client_key); break;
      case 3: result = send_stdin(x, 0, stdin_cut); break;
      case 4: result = send_stdin(x, stdin_cut, x.stdin_bytes.size()); break;
      case 5: result = client_.end_stdin(x.client_key); break;
      case 6:
        if (filter) result = client_.send_data(x.client_key, x.data_bytes);
        break;
      case 7:
        if (filter) result = client_.end_data(x.client_key);
        break;
      default: return;
    }
    // The app may have answered already (it may, §6.2); the request is then no longer active.
    FCGI_FUZZ_CHECK(result == errc{} || (x.ended && result == errc::request_not_active));
    ++x.client_step;
  }

  errc send_params(exchange& x, std::size_t from, std::size_t to) {
    std::vector<protocol::param> params;
    for (std::size_t i = from; i < to; ++i) params.push_back({x.names[i], x.values[i]});
    return client_.send_params(x.client_key, params);
  }

  errc send_stdin(exchange& x, std::size_t from, std::size_t to) {
    const bytes_view part = bytes_view(x.stdin_bytes).subspan(from, to - from);
    return x.stdin_by_reference ? client_.send_stdin_reference(x.client_key, part)
                                : client_.send_stdin(x.client_key, part);
  }

  void transfer_to_app(bool all) {
    to_app_.drain(client_.output(), all ? SIZE_MAX : decide_.below(100000));
    const std::vector<std::byte> bytes = to_app_.take_delivered();
    fcgi_fuzz::chunker reads(app_chunking_, bytes, decide_.next());
    while (!reads.done()) {
      const std::vector<std::byte> read = reads.next();
      bytes_view input(read);
      for (;;) {
        const protocol::app_event ev = app_.next_event(input);
        if (ev.kind == protocol::app_event_kind::need_more) break;
        on_app_event(ev);
      }
    }
  }

  exchange& by_app_id(std::uint16_t id) {
    const auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [id](const exchange& x) {
      return !x.app_done && x.client_key.id == id;
    });
    FCGI_FUZZ_CHECK(it != exchanges_.end());
    return *it;
  }

  void on_app_event(const protocol::app_event& ev) {
    using protocol::app_event_kind;
    exchange& x = by_app_id(ev.request.id);
    switch (ev.kind) {
      case app_event_kind::params_ready: {
        FCGI_FUZZ_CHECK(!x.params_seen);
        FCGI_FUZZ_CHECK(ev.request_role == x.role && ev.keep_conn == x.keep_conn);
        std::size_t i = 0;
        for (const protocol::param& p : ev.params) {
          FCGI_FUZZ_CHECK(i < x.names.size() && p.name == x.names[i] && p.value == x.values[i]);
          ++i;
        }
        FCGI_FUZZ_CHECK(i == x.names.size());
        x.params_seen = true;
        x.app_key = ev.request;
        break;
      }
      case app_event_kind::stdin_chunk:
        FCGI_FUZZ_CHECK(x.params_seen && ev.request == x.app_key);
        x.app_stdin.insert(x.app_stdin.end(), ev.bytes.begin(), ev.bytes.end());
        break;
      case app_event_kind::stdin_end:
        FCGI_FUZZ_CHECK(x.app_stdin == x.stdin_bytes);
        if (x.role != protocol::role::filter) respond(x);
        break;
      case app_event_kind::data_chunk:
        x.app_data.insert(x.app_data.end(), ev.bytes.begin(), ev.bytes.end());
        break;
      case app_event_kind::data_end:
        FCGI_FUZZ_CHECK(x.app_data == x.data_bytes);
        respond(x);
        break;
      default: FCGI_FUZZ_FAIL("the app reported an error for a well-formed request");
    }
  }

  /// The application's answer: STDOUT in two writes (copied, then maybe referenced), STDERR,
  /// END_REQUEST.
  void respond(exchange& x) {
    const bytes_view out(x.stdout_bytes);
    const std::size_t half = decide_.below(out.size() + 1);
    FCGI_FUZZ_CHECK(app_.write_stdout(x.app_key, out.first(half)) == errc{});
    const bytes_view rest = out.subspan(half);
    FCGI_FUZZ_CHECK((decide_.chance(50) ? app_.write_stdout_reference(x.app_key, rest)
                                        : app_.write_stdout(x.app_key, rest)) == errc{});
    FCGI_FUZZ_CHECK(app_.write_stderr(x.app_key, x.stderr_bytes) == errc{});
    FCGI_FUZZ_CHECK(app_.end_request(x.app_key, x.app_status) == errc{});
    x.app_done = true;
  }

  void transfer_to_client(bool all) {
    to_client_.drain(app_.output(), all ? SIZE_MAX : decide_.below(100000));
    const std::vector<std::byte> bytes = to_client_.take_delivered();
    fcgi_fuzz::chunker reads(client_chunking_, bytes, decide_.next());
    while (!reads.done()) {
      const std::vector<std::byte> read = reads.next();
      bytes_view input(read);
      for (;;) {
        const protocol::client_event ev = client_.next_event(input);
        if (ev.kind == protocol::client_event_kind::need_more) break;
        on_client_event(ev);
      }
    }
  }

  void on_client_event(const protocol::client_event& ev) {
    using protocol::client_event_kind;
    const auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&ev](const exchange& x) {
      return !x.ended && x.client_key == ev.request;
    });
    FCGI_FUZZ_CHECK(it != exchanges_.end());
    exchange& x = *it;
    switch (ev.kind) {
      case client_event_kind::stdout_chunk:
        FCGI_FUZZ_CHECK(!x.stdout_ended);
        x.client_stdout.insert(x.client_stdout.end(), ev.bytes.begin(), ev.bytes.end());
        break;
      case client_event_kind::stderr_chunk:
        FCGI_FUZZ_CHECK(!x.stderr_ended);
        x.client_stderr.insert(x.client_stderr.end(), ev.bytes.begin(), ev.bytes.end());
        break;
      case client_event_kind::stdout_end: x.stdout_ended = true; break;
      case client_event_kind::stderr_end: x.stderr_ended = true; break;
      case client_event_kind::request_ended:
        FCGI_FUZZ_CHECK(ev.end.app_status == x.app_status);
        FCGI_FUZZ_CHECK(ev.end.protocol_status ==
                        static_cast<std::uint8_t>(protocol::protocol_status::request_complete));
        x.ended = true;
        break;
      default: FCGI_FUZZ_FAIL("the client reported an error for a well-formed response");
    }
  }

  static void check_arrived(const exchange& x) {
    FCGI_FUZZ_CHECK(x.params_seen && x.app_done && x.ended && x.stdout_ended);
    FCGI_FUZZ_CHECK(x.client_stdout == x.stdout_bytes);
    FCGI_FUZZ_CHECK(x.client_stderr == x.stderr_bytes);
    // The empty STDERR record is sent only when STDERR was used (§6.1).
    FCGI_FUZZ_CHECK(x.stderr_ended == !x.stderr_bytes.empty());
  }

  std::vector<exchange>& exchanges_;
  protocol::client_connection client_;
  protocol::app_connection app_;
  decision_source decide_;
  std::uint8_t app_chunking_;
  std::uint8_t client_chunking_;
  fcgi_fuzz::output_checker to_app_;
  fcgi_fuzz::output_checker to_client_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fcgi_fuzz::input_reader in(data, size);
  const std::uint8_t app_chunking = in.byte();
  const std::uint8_t client_chunking = in.byte();
  const std::uint64_t seed = in.u16();
  const std::size_t requests = 1 + in.byte() % 4U;
  std::vector<exchange> exchanges;
  for (std::size_t i = 0; i < requests; ++i) exchanges.push_back(read_exchange(in));
  roundtrip(exchanges, app_chunking, client_chunking, seed).run();
  return 0;
}
