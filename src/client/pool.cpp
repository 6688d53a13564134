// The pool: which connection a call gets, the GET_VALUES probe that decides multiplexing,
// the call itself (params, body, wait for END_REQUEST) and the deadline sweep.
#include "pool.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fcgi::client::detail {

namespace {

constexpr std::size_t body_chunk = 64 * 1024;
constexpr std::array<std::string_view, 3> probe_names = {"FCGI_MAX_CONNS", "FCGI_MAX_REQS",
                                                         "FCGI_MPXS_CONNS"};

std::uint32_t parse_u32(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() ? value : 0;
}

errc status_error(protocol::protocol_status status) {
  switch (status) {
    case protocol::protocol_status::request_complete: return errc{};
    case protocol::protocol_status::cant_mpx_conn: return errc::cant_mpx_conn;
    case protocol::protocol_status::overloaded: return errc::overloaded;
    case protocol::protocol_status::unknown_role: return errc::unknown_role;
  }
  return errc::unknown_protocol_status;
}

std::string duration_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

// --- wakeup -------------------------------------------------------------------------------

asio::awaitable<void> wakeup::wait() {
  if (fired_) co_return;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [this](auto handler) {
        slot_ = asio::get_associated_cancellation_slot(handler);
        if (slot_.is_connected() && on_cancel) {
          slot_.assign([this](asio::cancellation_type) {
            if (!fired_ && on_cancel) on_cancel();
          });
        }
        handler_ = std::make_unique<resumer_of<decltype(handler)>>(std::move(handler));
      },
      asio::use_awaitable);
}

void wakeup::fire() {
  fired_ = true;
  if (!handler_) return;
  if (slot_.is_connected()) slot_.clear();
  slot_ = {};
  asio::post(executor_, [h = std::move(handler_)] { h->resume(); });
}

// --- endpoints ----------------------------------------------------------------------------

runtime::endpoint parse_client_endpoint(std::string_view text) {
  if (!text.empty() && (text.front() == '/' || text.starts_with("./"))) {
    runtime::endpoint unix_path;
    unix_path.path = std::string(text);
    return unix_path;
  }
  const bool bare_host_port = !text.starts_with("unix:") && !text.starts_with("tcp:") &&
                              text.find(':') != std::string_view::npos;
  runtime::endpoint where =
      runtime::parse_endpoint(bare_host_port ? "tcp:" + std::string(text) : std::string(text));
  if (where.type == runtime::endpoint::kind::tcp && where.host.empty()) where.host = "127.0.0.1";
  return where;
}

// --- pool ---------------------------------------------------------------------------------

pool::pool(asio::any_io_executor executor, std::string_view endpoint, pool_settings settings)
    : executor_(std::move(executor)),
      endpoint_(parse_client_endpoint(endpoint)),
      settings_(std::move(settings)) {
  if (settings_.max_connections == 0) settings_.max_connections = 1;
  if (settings_.max_requests_per_connection == 0) settings_.max_requests_per_connection = 1;
  if (settings_.mpx != multiplexing::probe) probe_ = probe_state::done;
  stats_.multiplexing = settings_.mpx == multiplexing::on;
}

std::uint32_t pool::requests_per_connection() const noexcept {
  if (!stats_.multiplexing) return 1;
  std::uint32_t n = settings_.max_requests_per_connection;
  if (stats_.app_max_reqs > 0) n = std::min(n, stats_.app_max_reqs);
  return std::max<std::uint32_t>(n, 1);
}

std::size_t pool::connection_limit() const noexcept {
  std::size_t n = settings_.max_connections;
  if (stats_.app_max_conns > 0) n = std::min<std::size_t>(n, stats_.app_max_conns);
  return std::max<std::size_t>(n, 1);
}

pool_stats pool::stats() const {
  pool_stats s = stats_;
  s.open_connections = connections_.size();
  s.in_flight = in_flight_.size();
  return s;
}

std::shared_ptr<connection> pool::pick_connection() const {
  // The least busy usable connection; an idle one is taken at once.
  std::shared_ptr<connection> best;
  for (const std::shared_ptr<connection>& c : connections_) {
    if (!c->usable() || c->probe_answer) continue;
    if (c->active() >= requests_per_connection()) continue;
    if (!best || c->active() < best->active()) best = c;
    if (best->active() == 0) break;
  }
  return best;
}

asio::awaitable<errc> pool::open_connection(const std::shared_ptr<connection>& c,
                                            std::string& detail) {
  using generic_endpoint = asio::generic::stream_protocol::endpoint;
  if (endpoint_.type == runtime::endpoint::kind::unix_socket) {
    co_return co_await c->open(
        generic_endpoint(asio::local::stream_protocol::endpoint(endpoint_.path)), detail);
  }
  boost::system::error_code ec;
  const asio::ip::address numeric = asio::ip::make_address(endpoint_.host, ec);
  if (!ec) {
    co_return co_await c->open(generic_endpoint(asio::ip::tcp::endpoint(numeric, endpoint_.port)),
                               detail);
  }
  asio::ip::tcp::resolver resolver(executor_);
  const auto found = co_await resolver.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
  if (ec || found.empty()) {
    detail = "cannot resolve " + endpoint_.host + ": " + ec.message();
    co_return errc::invalid_endpoint;
  }
  co_return co_await c->open(generic_endpoint(found.begin()->endpoint()), detail);
}

asio::awaitable<std::shared_ptr<connection>> pool::acquire(call_state& call) {
  for (;;) {
    if (closed_) {
      call.fail(errc::pool_closed, "the client was closed");
      co_return nullptr;
    }
    if (probe_ != probe_state::done) {
      if (probe_ == probe_state::needed) {
        probe_ = probe_state::running;
        asio::co_spawn(executor_, probe(), asio::detached);
      }
      wakeup probed(executor_);
      probe_waiters_.push_back(&probed);
      co_await probed.wait();
      continue;
    }
    if (std::shared_ptr<connection> c = pick_connection()) {
      if (c->calls_here() > 0) ++stats_.connections_reused;
      co_return c;
    }
    if (connections_.size() < connection_limit()) {
      auto c = std::make_shared<connection>(*this, executor_, requests_per_connection());
      connections_.push_back(c);
      ++stats_.connections_opened;
      call.stage = call_state::phase::connecting;
      if (settings_.timeouts.connect.count() > 0)
        c->connect_deadline = clock::now() + settings_.timeouts.connect;
      call.conn = c;
      start_sweep();
      std::string detail;
      const errc failed = co_await open_connection(c, detail);
      call.conn.reset();
      if (failed != errc{}) {
        std::erase(connections_, c);
        wake_one_waiter();
        call.fail(failed, "connect to " + endpoint_.to_string() + ": " +
                              (failed == errc::connect_timeout
                                   ? "no answer within " + duration_text(settings_.timeouts.connect)
                                   : detail));
        co_return nullptr;
      }
      if (call.stage == call_state::phase::done) co_return nullptr;  // timed out meanwhile
      co_return c;
    }
    call.stage = call_state::phase::queued;
    waiting_.push_back(&call);
    call.done.reset();
    co_await call.done.wait();
    if (call.stage == call_state::phase::done) co_return nullptr;
    call.done.reset();
  }
}

bool pool::may_retry(const call_state& call) const {
  const response& resp = call.resp;
  if (!settings_.retry_on_stale_connection || closed_ || !resp.reused_connection) return false;
  if (call.got_byte || resp.ended) return false;
  const auto error = static_cast<errc>(resp.error.value());
  if (resp.error.category() != client_category() ||
      (error != errc::reset && error != errc::closed_before_end))
    return false;
  // The body must be sendable again, and the request safe to repeat (RFC 9110 9.2.2).
  const request& r = call.req;
  if (r.body.type() == body_source::kind::descriptor ||
      r.data.type() == body_source::kind::descriptor)
    return false;
  for (const auto& [name, value] : r.params) {
    if (name == "REQUEST_METHOD") {
      return value == "GET" || value == "HEAD" || value == "OPTIONS" || value == "TRACE" ||
             value == "PUT" || value == "DELETE";
    }
  }
  return false;  // not an HTTP-like request: nothing says it is safe to repeat
}

void pool::forget(call_state& call) noexcept {
  // Swap-and-pop: at hundreds of calls in flight a search per call showed in profiles.
  call_state* last = in_flight_.back();
  in_flight_[call.in_flight_index] = last;
  last->in_flight_index = call.in_flight_index;
  in_flight_.pop_back();
  if (!waiting_.empty()) std::erase(waiting_, &call);
}

bool pool::wake_one_waiter() {
  while (!waiting_.empty()) {
    call_state* next = waiting_.front();
    waiting_.pop_front();
    if (next->stage == call_state::phase::done) continue;
    next->done.fire();
    return true;
  }
  return false;
}

std::size_t pool::free_slots() const noexcept {
  const std::uint32_t per_connection = requests_per_connection();
  std::size_t free = 0;
  for (const std::shared_ptr<connection>& c : connections_) {
    if (c->usable() && !c->probe_answer)
      free += per_connection - std::min<std::size_t>(c->active(), per_connection);
  }
  const std::size_t limit = connection_limit();
  if (connections_.size() < limit) free += limit - connections_.size();
  return free;
}

void pool::wake_waiters_that_fit() {
  // A waiter wakes on a posted resumption and then picks a connection itself, so waking more
  // than fit only sends the extra ones back to the queue; waking fewer left a multiplexed
  // connection running one request at a time.
  for (std::size_t n = waiting_.empty() ? 0 : free_slots(); n > 0; --n) {
    if (!wake_one_waiter()) break;
  }
}

void pool::on_slot_freed() { wake_one_waiter(); }

void pool::on_connection_closed(connection& c) {
  std::erase_if(connections_, [&c](const std::shared_ptr<connection>& p) { return p.get() == &c; });
  wake_one_waiter();
}

asio::awaitable<void> pool::probe() {
  auto self = shared_from_this();
  values_answer answer = co_await get_values(
      std::vector<std::string>(probe_names.begin(), probe_names.end()), settings_.probe_timeout);
  stats_.probed = true;
  stats_.probe_answered = !answer.error;
  for (const auto& [name, value] : answer.values) {
    if (name == "FCGI_MPXS_CONNS") stats_.multiplexing = value == "1";
    if (name == "FCGI_MAX_CONNS") stats_.app_max_conns = parse_u32(value);
    if (name == "FCGI_MAX_REQS") stats_.app_max_reqs = parse_u32(value);
  }
  probe_ = probe_state::done;
  std::vector<wakeup*> waiters;
  waiters.swap(probe_waiters_);
  for (wakeup* w : waiters) w->fire();
}

asio::awaitable<values_answer> pool::get_values(std::vector<std::string> names,
                                                std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  values_answer answer;
  // A connection of its own: libfcgi answers GET_VALUES only once more bytes follow, and
  // some applications close after answering it (HOSTILE D-54; php-fpm 8.2 keeps it open, but
  // answers only FCGI_MPXS_CONNS), so a probe shares nothing with the calls.
  auto c = std::make_shared<connection>(*this, executor_, 1);
  wakeup answered(executor_);
  c->probe_answer = &answer;
  c->probe_wakeup = &answered;
  const clock::time_point deadline = clock::now() + timeout;
  c->connect_deadline = deadline;
  std::string detail;
  start_sweep();
  connections_.push_back(c);
  const errc failed = co_await open_connection(c, detail);
  if (settings_.trace) settings_.trace("> GET_VALUES on a connection of its own");
  if (failed != errc{}) {
    std::erase(connections_, c);
    answer.error = failed;
    answer.detail = detail;
    co_return answer;
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  if (const protocol::errc e = c->protocol().query_values(views); e != protocol::errc{}) {
    c->close();
    answer.error = errc::invalid_request;
    answer.detail = std::string(protocol::to_string(e));
    co_return answer;
  }
  const bool sent = co_await c->flush();
  if (sent) {
    asio::steady_timer timer(executor_, deadline);
    asio::co_spawn(
        executor_,
        [&timer, &answered, &answer, timeout]() -> asio::awaitable<void> {
          boost::system::error_code ec;
          co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (ec || answered.fired()) co_return;
          answer.error = errc::idle_timeout;
          answer.detail = "no GET_VALUES_RESULT within " + duration_text(timeout);
          answered.fire();
        },
        asio::detached);
    co_await answered.wait();
    timer.cancel();
    // The spawned waiter may still be queued: let it run before `timer` goes away.
    co_await asio::post(executor_, asio::use_awaitable);
  }
  c->probe_answer = nullptr;
  c->probe_wakeup = nullptr;
  c->close();
  co_return answer;
}

asio::awaitable<response> pool::call(const request& r) {
  auto self = shared_from_this();
  // A cancelled caller must still get its response, and the call must be unregistered and
  // its request aborted on every path: awaits report cancellation instead of throwing.
  co_await asio::this_coro::throw_if_cancelled(false);
  response resp;
  call_state call(r, resp, executor_);
  call.done.on_cancel = [this, &call] {
    call.fail(errc::cancelled, "cancelled by the caller");
    abandon(call);
  };
  call.in_flight_index = in_flight_.size();
  in_flight_.push_back(&call);
  ++stats_.calls;
  start_sweep();
  co_await run(call);
  // A kept connection the application closed while this call was on its way (a worker that
  // stopped, an idle timeout on its side) fails before any answer. Like nginx with cached
  // upstream connections, an idempotent request is then sent again on another connection;
  // each stale connection fails once and is gone, so this ends.
  for (std::size_t attempt = 1; attempt <= connection_limit() && may_retry(call); ++attempt) {
    ++stats_.retries;
    trace(call, "! the kept connection closed before any answer; sending again");
    call.restart();
    co_await run(call);
  }
  const asio::cancellation_state cancel_state = co_await asio::this_coro::cancellation_state;
  if (cancel_state.cancelled() != asio::cancellation_type::none)
    call.fail(errc::cancelled, "cancelled by the caller");
  forget(call);
  if (!resp.ended) abandon(call);
  if (resp.ended && !resp.error) {
    if (const errc e = status_error(resp.protocol_status); e != errc{}) {
      resp.error = e;
      resp.detail = "END_REQUEST protocolStatus " +
                    std::to_string(static_cast<unsigned>(resp.protocol_status));
    }
  }
  if (resp.error) ++stats_.failed_calls;
  co_return resp;
}

asio::awaitable<void> pool::run(call_state& call) {
  const request& r = call.req;
  if (r.role != protocol::role::filter && r.data.type() != body_source::kind::empty) {
    call.fail(errc::invalid_request, "DATA is sent only to the Filter role (spec 6.4)");
    co_return;
  }
  const std::shared_ptr<connection> c = co_await acquire(call);
  if (!c) co_return;
  if (!c->begin(call, settings_.keep_conn)) {
    call.fail(errc::invalid_request, "no free request id on the connection");
    co_return;
  }
  stats_.peak_requests_per_connection = std::max(stats_.peak_requests_per_connection, c->active());
  // Calls that queued while this connection opened may share it now.
  if (c->multiplexed()) wake_waiters_that_fit();
  call.stage = call_state::phase::running;
  call.sent = clock::now();
  call.sending = true;
  if (settings_.trace) {
    trace(call, "> BEGIN_REQUEST role=" + std::string(protocol::to_string(r.role)) +
                    " keep_conn=" + (settings_.keep_conn ? "1" : "0"));
    for (const auto& [name, value] : r.params) {
      std::string line = "> PARAMS ";
      line += name;
      line += '=';
      line += value;
      trace(call, line);
    }
  }
  std::vector<protocol::param> params;
  params.reserve(r.params.size());
  for (const auto& [name, value] : r.params) params.push_back({name, value});
  protocol::client_connection& sm = c->protocol();
  if (const protocol::errc e = sm.send_params(call.key, params); e != protocol::errc{}) {
    call.fail(errc::invalid_request, "params: " + std::string(protocol::to_string(e)));
    co_return;
  }
  sm.end_params(call.key);
  // co_await kept out of conditions: GCC 12 miscompiles it there.
  bool sent = co_await send_body(call, r.body, false);
  if (sent && r.role == protocol::role::filter) sent = co_await send_body(call, r.data, true);
  const asio::cancellation_state cancel_state = co_await asio::this_coro::cancellation_state;
  if (cancel_state.cancelled() != asio::cancellation_type::none) {
    call.fail(errc::cancelled, "cancelled by the caller");
    co_return;
  }
  if (sent && call.stage != call_state::phase::done) co_await c->flush();
  call.sending = false;
  co_await call.done.wait();
}

asio::awaitable<bool> pool::send_body(call_state& call, const body_source& body, bool data_stream) {
  connection& c = *call.conn;
  protocol::client_connection& sm = c.protocol();
  const auto send = [&](protocol::bytes_view bytes, bool reference) {
    if (data_stream) return sm.send_data(call.key, bytes);
    return reference ? sm.send_stdin_reference(call.key, bytes) : sm.send_stdin(call.key, bytes);
  };
  const char* stream = data_stream ? "DATA" : "STDIN";
  std::uint64_t total = 0;
  const auto end = [&] {
    if (settings_.trace)
      trace(call,
            std::string("> ") + stream + " " + std::to_string(total) + " bytes, then its end");
    return data_stream ? sm.end_data(call.key) : sm.end_stdin(call.key);
  };

  if (body.type() == body_source::kind::bytes) {
    const std::string_view bytes = body.bytes();
    total = bytes.size();
    send(protocol::bytes_view(reinterpret_cast<const std::byte*>(bytes.data()),  // NOLINT
                              bytes.size()),
         true);
  } else if (body.type() == body_source::kind::descriptor) {
    std::vector<std::byte> chunk(body_chunk);
    struct stat st {};
    const bool regular = ::fstat(body.fd(), &st) == 0 && S_ISREG(st.st_mode);
    std::unique_ptr<asio::posix::stream_descriptor> pipe;
    if (!regular) {
      pipe = std::make_unique<asio::posix::stream_descriptor>(executor_, ::dup(body.fd()));
      boost::system::error_code ignored;
      pipe->non_blocking(true, ignored);
    }
    for (;;) {
      const bool drained = co_await c.wait_output_below(settings_.max_queued_output);
      if (!drained) co_return false;
      if (call.stage == call_state::phase::done) co_return false;
      std::size_t n = 0;
      if (regular) {
        const ssize_t got = ::read(body.fd(), chunk.data(), chunk.size());
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
          call.fail(errc::body_read_failed,
                    std::string("reading the body: ") + std::strerror(errno));
          co_return false;
        }
        n = static_cast<std::size_t>(got);
      } else {
        boost::system::error_code ec;
        call.body_pipe = pipe.get();
        n = co_await pipe->async_read_some(asio::buffer(chunk),
                                           asio::redirect_error(asio::use_awaitable, ec));
        call.body_pipe = nullptr;
        if (call.stage == call_state::phase::done) co_return false;
        if (ec == asio::error::operation_aborted) {
          call.fail(errc::cancelled, "cancelled by the caller");
          co_return false;
        }
        if (ec && ec != asio::error::eof) {
          call.fail(errc::body_read_failed, "reading the body: " + ec.message());
          co_return false;
        }
      }
      if (n == 0) break;
      total += n;
      send(protocol::bytes_view(chunk.data(), n), false);
    }
  }
  end();
  co_return true;
}

void pool::trace(const call_state& call, const std::string& line) const {
  if (settings_.trace) settings_.trace("[" + std::to_string(call.key.id) + "] " + line);
}

void pool::close() {
  if (closed_) return;
  closed_ = true;
  const std::vector<std::shared_ptr<connection>> open = connections_;
  for (const std::shared_ptr<connection>& c : open)
    c->fail(errc::pool_closed, "the client was closed");
  const std::vector<call_state*> calls = in_flight_;
  for (call_state* call : calls) call->fail(errc::pool_closed, "the client was closed");
  std::vector<wakeup*> waiters;
  waiters.swap(probe_waiters_);
  for (wakeup* w : waiters) w->fire();
}

// --- deadlines ----------------------------------------------------------------------------

clock::duration pool::sweep_interval() const noexcept {
  // A tenth of the shortest timeout, between 5 ms and 100 ms: deadlines are met within
  // about 10 % without a timer per call.
  std::chrono::milliseconds shortest{100 * 10};
  const timeouts& t = settings_.timeouts;
  for (const std::chrono::milliseconds d :
       {t.connect, t.first_byte, t.idle, t.total, settings_.probe_timeout}) {
    if (d.count() > 0) shortest = std::min(shortest, d);
  }
  return std::clamp<clock::duration>(shortest / 10, std::chrono::milliseconds(5),
                                     std::chrono::milliseconds(100));
}

void pool::start_sweep() {
  if (sweeping_) return;
  sweeping_ = true;
  asio::co_spawn(executor_, sweep_loop(shared_from_this()), asio::detached);
}

asio::awaitable<void> pool::sweep_loop(std::shared_ptr<pool> self) {
  asio::steady_timer timer(executor_);
  while (!closed_ && (!in_flight_.empty() || !connections_.empty())) {
    timer.expires_after(sweep_interval());
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    sweep(clock::now());
    if (in_flight_.empty()) {
      const bool pending = std::any_of(connections_.begin(), connections_.end(), [](const auto& c) {
        return c->connect_deadline != clock::time_point::max() ||
               c->abandon_deadline != clock::time_point::max();
      });
      if (!pending) break;
    }
  }
  sweeping_ = false;
  self.reset();
}

void pool::expire(call_state& call, errc code, const char* what) {
  call.fail(code, what);
  abandon(call);
}

void pool::abandon(call_state& call) {
  if (call.body_pipe) call.body_pipe->cancel();
  const std::shared_ptr<connection> c = call.conn;
  if (!c || !c->alive()) return;
  if (call.key.id == 0) {
    c->close();  // still connecting
    return;
  }
  if (!c->holds(call)) return;  // ended, or its connection already failed
  c->release(call);
  if (call.sending) {
    // The request is half written (or the application stopped reading it): closing is the
    // abort the application cannot miss.
    c->close();
    return;
  }
  // ABORT_REQUEST (§5.4); its late records are dropped. The connection is closed if the
  // END_REQUEST does not follow within abort_grace, so a deaf application cannot hold it.
  trace(call, "> ABORT_REQUEST");
  c->protocol().abort_request(call.key);
  c->abandon_deadline = std::min(c->abandon_deadline, clock::now() + settings_.abort_grace);
  start_sweep();
  asio::co_spawn(
      executor_, [c]() -> asio::awaitable<void> { co_await c->flush(); }, asio::detached);
}

void pool::sweep(clock::time_point now) {
  const timeouts& t = settings_.timeouts;
  for (const std::shared_ptr<connection>& c : std::vector(connections_)) {
    if (c->connect_deadline <= now && !c->connect_timed_out) {
      c->connect_timed_out = true;
      c->close();
    }
    if (c->abandon_deadline <= now) c->close();
  }
  for (call_state* call : std::vector(in_flight_)) {
    if (call->stage == call_state::phase::done) continue;
    if (t.total.count() > 0 && now - call->started >= t.total) {
      expire(*call, errc::total_timeout, "the call took longer than the total timeout");
      continue;
    }
    if (call->stage != call_state::phase::running) continue;
    if (!call->got_byte && t.first_byte.count() > 0 && now - call->sent >= t.first_byte) {
      expire(*call, errc::first_byte_timeout, "no response byte within the first-byte timeout");
    } else if (call->got_byte && t.idle.count() > 0 && now - call->last_byte >= t.idle) {
      expire(*call, errc::idle_timeout, "the response stalled past the idle timeout");
    }
  }
}

}  // namespace fcgi::client::detail
