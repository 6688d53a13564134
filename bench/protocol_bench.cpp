// Micro-benchmarks of fcgi::protocol: the sans-IO codec and state machines alone, no sockets.
//
// Every loop is a steady state on one long-lived connection, as a runtime would run it: feed
// bytes, act on the events, end the request, gather and consume the output. Inputs are built
// once, before timing; the timed loops allocate nothing themselves, so what is measured is the
// library. Results and the command that reproduces them: docs/BENCHMARKS.md.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include <fcgi/protocol.hpp>

namespace {

/// Every operator new in the process, so each benchmark can report what the library allocates
/// per iteration (the goal is zero in steady state).
std::atomic<std::uint64_t> allocations{0};

}  // namespace

// These replace the global allocation functions, so malloc/free pair up; gcc cannot see that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

namespace protocol = fcgi::protocol;
using protocol::app_event_kind;
using protocol::bytes_view;
using protocol::client_event_kind;
using protocol::request_key;

// What nginx sends with its stock fastcgi_params, plus a typical browser's request headers.
constexpr std::array<protocol::param, 30> nginx_params{{
    {"QUERY_STRING", "page=2&sort=date"},
    {"REQUEST_METHOD", "GET"},
    {"CONTENT_TYPE", ""},
    {"CONTENT_LENGTH", ""},
    {"SCRIPT_NAME", "/index.php"},
    {"REQUEST_URI", "/index.php?page=2&sort=date"},
    {"DOCUMENT_URI", "/index.php"},
    {"DOCUMENT_ROOT", "/var/www/html"},
    {"SERVER_PROTOCOL", "HTTP/1.1"},
    {"REQUEST_SCHEME", "https"},
    {"HTTPS", "on"},
    {"GATEWAY_INTERFACE", "CGI/1.1"},
    {"SERVER_SOFTWARE", "nginx/1.22.1"},
    {"REMOTE_ADDR", "203.0.113.45"},
    {"REMOTE_PORT", "51234"},
    {"SERVER_ADDR", "192.0.2.10"},
    {"SERVER_PORT", "443"},
    {"SERVER_NAME", "www.example.com"},
    {"REDIRECT_STATUS", "200"},
    {"SCRIPT_FILENAME", "/var/www/html/index.php"},
    {"PATH_INFO", ""},
    {"HTTP_HOST", "www.example.com"},
    {"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"},
    {"HTTP_ACCEPT",
     "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"},
    {"HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5"},
    {"HTTP_ACCEPT_ENCODING", "gzip, deflate, br"},
    {"HTTP_CONNECTION", "keep-alive"},
    {"HTTP_COOKIE", "session=3f2a9c1e7b5d4a60; theme=dark"},
    {"HTTP_UPGRADE_INSECURE_REQUESTS", "1"},
    {"HTTP_CACHE_CONTROL", "max-age=0"},
}};

constexpr std::string_view hello_response =
    "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";

constexpr std::size_t mebibyte = 1024 * 1024;

/// Reports allocations per iteration as the counter "allocs": construct it just before the
/// timed loop, call report() after it. Untimed refills inside the loop are counted too.
class allocation_count {
 public:
  allocation_count() : before_(allocations.load(std::memory_order_relaxed)) {}
  void report(benchmark::State& state) const {
    const auto made = allocations.load(std::memory_order_relaxed) - before_;
    state.counters["allocs"] =
        benchmark::Counter(static_cast<double>(made), benchmark::Counter::kAvgIterations);
  }

 private:
  std::uint64_t before_;
};

// --- input builders (run before timing) ------------------------------------------------------

void append(std::vector<std::byte>& out, bytes_view bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

std::vector<std::byte> encode_pairs(std::span<const protocol::param> params) {
  std::size_t size = 0;
  for (const protocol::param& p : params) size += protocol::encoded_pair_size(p.name, p.value);
  std::vector<std::byte> out(size);
  std::size_t at = 0;
  for (const protocol::param& p : params) {
    at += protocol::encode_pair(p.name, p.value, std::span(out).subspan(at));
  }
  return out;
}

void append_record(std::vector<std::byte>& out, protocol::record_type type, std::uint16_t id,
                   bytes_view content) {
  std::vector<std::byte> record(protocol::header_size + content.size() +
                                protocol::padding_for(content.size()));
  protocol::encode_record(type, id, content, record);
  append(out, record);
}

void append_stream(std::vector<std::byte>& out, protocol::record_type type, std::uint16_t id,
                   bytes_view content) {
  std::vector<std::byte> records(protocol::stream_records_size(content.size()));
  protocol::encode_stream_records(type, id, content, records);
  append(out, records);
}

/// BEGIN_REQUEST + one PARAMS record with the 30 params + empty PARAMS, then `body` as STDIN.
std::vector<std::byte> nginx_request(std::uint16_t id, bytes_view body = {}) {
  std::vector<std::byte> out;
  append(out, protocol::make_begin_request(id, protocol::role::responder, true));
  append_record(out, protocol::record_type::params, id, encode_pairs(nginx_params));
  append(out, protocol::make_empty_record(protocol::record_type::params, id));
  append_stream(out, protocol::record_type::stdin_stream, id, body);
  append(out, protocol::make_empty_record(protocol::record_type::stdin_stream, id));
  return out;
}

/// The same bytes cut at record boundaries.
std::vector<bytes_view> split_records(bytes_view stream) {
  std::vector<bytes_view> records;
  while (!stream.empty()) {
    protocol::record_header header;
    protocol::decode_header(stream, header);
    records.push_back(stream.first(header.record_size()));
    stream = stream.subspan(header.record_size());
  }
  return records;
}

/// What an application sends for a hello-world request on `id`.
std::vector<std::byte> hello_response_records(std::uint16_t id) {
  std::vector<std::byte> out;
  append_record(out, protocol::record_type::stdout_stream, id, protocol::as_bytes(hello_response));
  append(out, protocol::make_empty_record(protocol::record_type::stdout_stream, id));
  append(out, protocol::make_end_request(id, 0, protocol::protocol_status::request_complete));
  return out;
}

/// A payload of recognisable bytes.
std::vector<std::byte> payload(std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>('a' + i % 26);
  return out;
}

// --- steady-state helpers (in the timed loops) -----------------------------------------------

/// Hands every pending byte to a pretend writev that takes all of it, as a runtime does.
void flush(protocol::output_queue& queue) {
  std::array<bytes_view, 64> slices;
  while (!queue.empty()) {
    const std::size_t filled = queue.gather(slices);
    std::size_t total = 0;
    for (std::size_t i = 0; i < filled; ++i) {
      benchmark::DoNotOptimize(slices[i].data());
      total += slices[i].size();
    }
    queue.consume(total);
  }
}

/// What an application does with a GET: look up the params it routes on, end the request.
void serve_nginx_requests(protocol::app_connection& conn, bytes_view input) {
  for (protocol::app_event ev = conn.next_event(input); ev.kind != app_event_kind::need_more;
       ev = conn.next_event(input)) {
    if (ev.kind == app_event_kind::params_ready) {
      const auto script = ev.params.find("SCRIPT_NAME");
      const auto query = ev.params.find("QUERY_STRING");
      benchmark::DoNotOptimize(script);
      benchmark::DoNotOptimize(query);
      std::size_t count = 0;
      for (const protocol::param& p : ev.params) {
        benchmark::DoNotOptimize(p.value.data());
        ++count;
      }
      benchmark::DoNotOptimize(count);
    } else if (ev.kind == app_event_kind::stdin_end) {
      conn.end_request(ev.request, 0);
    } else if (ev.kind == app_event_kind::connection_error) {
      std::abort();  // the inputs are well-formed: an error means the benchmark is broken
    }
  }
}

// --- app side --------------------------------------------------------------------------------

/// A typical nginx GET, decoded in one read, params looked up, ended, output flushed.
void app_nginx_request(benchmark::State& state) {
  const std::vector<std::byte> request = nginx_request(1);
  protocol::app_connection conn;
  const allocation_count allocs;
  for (auto _ : state) {
    serve_nginx_requests(conn, request);
    flush(conn.output());
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(request.size()));
}
BENCHMARK(app_nginx_request);

/// The same request arriving one record per read: the cost of resuming between records.
void app_nginx_request_per_record(benchmark::State& state) {
  const std::vector<std::byte> request = nginx_request(1);
  const std::vector<bytes_view> reads = split_records(request);
  protocol::app_connection conn;
  const allocation_count allocs;
  for (auto _ : state) {
    for (const bytes_view read : reads) serve_nginx_requests(conn, read);
    flush(conn.output());
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations());
  state.counters["reads"] = static_cast<double>(reads.size());
}
BENCHMARK(app_nginx_request_per_record);

/// The same request in two reads cut in the middle of the PARAMS record (and of a pair): the
/// cost of holding a partial params block.
void app_nginx_request_two_reads(benchmark::State& state) {
  const std::vector<std::byte> request = nginx_request(1);
  const bytes_view all(request);
  const std::size_t cut = all.size() / 2;
  protocol::app_connection conn;
  const allocation_count allocs;
  for (auto _ : state) {
    serve_nginx_requests(conn, all.first(cut));
    serve_nginx_requests(conn, all.subspan(cut));
    flush(conn.output());
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(app_nginx_request_two_reads);

/// Requests already started (BEGIN, empty PARAMS, empty STDIN on ids 1..N), refilled outside
/// the timed region, so a benchmark can time the response alone.
class started_requests {
 public:
  static constexpr std::uint16_t batch = 256;

  started_requests() {
    for (std::uint16_t id = 1; id <= batch; ++id) {
      append(input_, protocol::make_begin_request(id, protocol::role::responder, true));
      append(input_, protocol::make_empty_record(protocol::record_type::params, id));
      append(input_, protocol::make_empty_record(protocol::record_type::stdin_stream, id));
    }
    keys_.reserve(batch);
  }

  /// The next started request; refills (untimed) when the batch is used up.
  request_key next(benchmark::State& state, protocol::app_connection& conn) {
    if (used_ == keys_.size()) {
      state.PauseTiming();
      refill(conn);
      state.ResumeTiming();
    }
    return keys_[used_++];
  }

  /// A started request, for use before the timed loop.
  request_key next_untimed(protocol::app_connection& conn) {
    if (used_ == keys_.size()) refill(conn);
    return keys_[used_++];
  }

 private:
  void refill(protocol::app_connection& conn) {
    keys_.clear();
    used_ = 0;
    bytes_view in(input_);
    for (protocol::app_event ev = conn.next_event(in); ev.kind != app_event_kind::need_more;
         ev = conn.next_event(in)) {
      if (ev.kind == app_event_kind::params_ready) keys_.push_back(ev.request);
    }
    flush(conn.output());
  }

  std::vector<std::byte> input_;
  std::vector<request_key> keys_;
  std::size_t used_ = 0;
};

/// A hello-world response: write_stdout, end_request, gather and consume.
void app_hello_response(benchmark::State& state) {
  protocol::app_connection conn;
  started_requests requests;
  const bytes_view body = protocol::as_bytes(hello_response);
  const allocation_count allocs;
  for (auto _ : state) {
    const request_key key = requests.next(state, conn);
    conn.write_stdout(key, body);
    conn.end_request(key, 0);
    flush(conn.output());
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(app_hello_response);

/// STDOUT on one long request, copied (first arg 0) or referenced (1), then flushed; the second
/// arg is the size in KiB (1 MiB is the headline; 128 KiB stays under the queue's retained
/// capacity, which shows what re-growing its buffer costs).
void app_stdout(benchmark::State& state) {
  const bool zero_copy = state.range(0) != 0;
  const std::vector<std::byte> body = payload(static_cast<std::size_t>(state.range(1)) * 1024);
  protocol::app_connection conn;
  started_requests requests;
  const request_key key = requests.next_untimed(conn);
  const allocation_count allocs;
  for (auto _ : state) {
    if (zero_copy)
      conn.write_stdout_reference(key, body);
    else
      conn.write_stdout(key, body);
    flush(conn.output());
    benchmark::ClobberMemory();
  }
  allocs.report(state);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.SetLabel(zero_copy ? "write_stdout_reference" : "write_stdout");
}
BENCHMARK(app_stdout)
    ->ArgNames({"zero_copy", "kib"})
    ->Args({0, 1024})
    ->Args({1, 1024})
    ->Args({0, 128});

/// A request with 1 MiB of STDIN in 65528-byte records, delivered as views into the input.
void app_stdin_1mib(benchmark::State& state) {
  const std::vector<std::byte> body = payload(mebibyte);
  const std::vector<std::byte> request = nginx_request(1, body);
  protocol::app_connection conn;
  const allocation_count allocs;
  for (auto _ : state) {
    bytes_view input(request);
    std::size_t received = 0;
    for (protocol::app_event ev = conn.next_event(input); ev.kind != app_event_kind::need_more;
         ev = conn.next_event(input)) {
      if (ev.kind == app_event_kind::stdin_chunk) {
        benchmark::DoNotOptimize(ev.bytes.data());
        received += ev.bytes.size();
      } else if (ev.kind == app_event_kind::stdin_end) {
        conn.end_request(ev.request, 0);
      }
    }
    benchmark::DoNotOptimize(received);
    flush(conn.output());
  }
  allocs.report(state);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(app_stdin_1mib);

// --- client side -----------------------------------------------------------------------------

/// Ids a client has in use, freed (untimed) by feeding END_REQUEST for all of them at once.
class client_ids {
 public:
  static constexpr std::uint16_t batch = 1024;

  client_ids() {
    for (std::uint16_t id = 1; id <= batch; ++id) {
      append(ends_, protocol::make_end_request(id, 0, protocol::protocol_status::request_complete));
    }
  }

  static protocol::client_settings settings() {
    protocol::client_settings s;
    s.max_requests = batch;
    return s;
  }

  void free_all_if_full(benchmark::State& state, protocol::client_connection& conn) {
    if (conn.active_requests() < batch) return;
    state.PauseTiming();
    bytes_view in(ends_);
    while (conn.next_event(in).kind != client_event_kind::need_more) {
    }
    state.ResumeTiming();
  }

 private:
  std::vector<std::byte> ends_;
};

/// Encoding a GET with the 30 nginx params: BEGIN, PARAMS, empty PARAMS, empty STDIN, flushed.
void client_encode_nginx_request(benchmark::State& state) {
  protocol::client_connection conn(client_ids::settings());
  client_ids ids;
  const allocation_count allocs;
  for (auto _ : state) {
    ids.free_all_if_full(state, conn);
    const protocol::result<request_key> key = conn.begin_request(protocol::role::responder, true);
    conn.send_params(*key, nginx_params);
    conn.end_params(*key);
    conn.end_stdin(*key);
    flush(conn.output());
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(client_encode_nginx_request);

/// Decoding a hello-world response (STDOUT, empty STDOUT, END_REQUEST) in one read.
void client_decode_hello_response(benchmark::State& state) {
  constexpr std::uint16_t batch = 1024;
  protocol::client_settings settings;
  settings.max_requests = batch;
  protocol::client_connection conn(settings);
  std::vector<std::vector<std::byte>> responses;
  for (std::uint16_t id = 1; id <= batch; ++id) responses.push_back(hello_response_records(id));
  std::size_t next = batch;
  const allocation_count allocs;
  for (auto _ : state) {
    if (next == batch) {  // start a batch of requests, untimed
      state.PauseTiming();
      for (std::uint16_t i = 0; i < batch; ++i) conn.begin_request(protocol::role::responder, true);
      flush(conn.output());
      next = 0;
      state.ResumeTiming();
    }
    bytes_view in(responses[next++]);
    for (protocol::client_event ev = conn.next_event(in); ev.kind != client_event_kind::need_more;
         ev = conn.next_event(in)) {
      benchmark::DoNotOptimize(ev.bytes.data());
    }
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(client_decode_hello_response);

// --- pair codec ------------------------------------------------------------------------------

void pairs_decode_nginx(benchmark::State& state) {
  const std::vector<std::byte> block = encode_pairs(nginx_params);
  const allocation_count allocs;
  for (auto _ : state) {
    bytes_view rest(block);
    protocol::param p;
    while (!rest.empty()) {
      const protocol::pair_status status = protocol::decode_pair(rest, p, rest.size());
      if (status.consumed == 0) std::abort();  // the block is well-formed
      benchmark::DoNotOptimize(p);
      rest = rest.subspan(status.consumed);
    }
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(nginx_params.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(block.size()));
}
BENCHMARK(pairs_decode_nginx);

void pairs_encode_nginx(benchmark::State& state) {
  std::vector<std::byte> block = encode_pairs(nginx_params);
  const allocation_count allocs;
  for (auto _ : state) {
    std::size_t at = 0;
    for (const protocol::param& p : nginx_params) {
      at += protocol::encode_pair(p.name, p.value, std::span(block).subspan(at));
    }
    benchmark::DoNotOptimize(block.data());
    benchmark::ClobberMemory();
  }
  allocs.report(state);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(nginx_params.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(block.size()));
}
BENCHMARK(pairs_encode_nginx);

}  // namespace

BENCHMARK_MAIN();
