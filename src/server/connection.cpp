#include "worker.hpp"

#include <fcgi/runtime/socket_io.hpp>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <string>

namespace fcgi::detail {
namespace {

using protocol::app_event;
using protocol::app_event_kind;

/// A handler's output past this is written out while it runs, keeping the queue short.
constexpr std::size_t eager_flush_bytes = 256 * 1024;
/// After a stop, how long a connection that has sent no request yet may take to send its first
/// (checked by the once-a-second sweep, so it closes 1 to 2 s after the stop).
constexpr auto first_request_grace = std::chrono::seconds(1);
/// How far past the bytes received a request body is reserved, towards CONTENT_LENGTH.
constexpr std::size_t reserve_ahead = 1024 * 1024;
/// A connection without input or output for this long gives its buffers back.
constexpr auto idle_release = std::chrono::milliseconds(500);

/// Bridges a response to its request on a connection.
class connection_sink final : public response_sink {
 public:
  connection_sink(connection& c, protocol::request_key key) noexcept : connection_(c), key_(key) {}
  bool write_stdout(std::string_view bytes) override {
    return connection_.write_stdout_or_spill(key_, bytes);
  }
  bool write_stderr(std::string_view bytes) override {
    return connection_.write_stderr(key_, bytes);
  }
  void end(std::uint32_t app_status) override { connection_.finish_request(key_, app_status); }
  [[nodiscard]] bool aborted() const noexcept override { return connection_.request_aborted(key_); }

 private:
  connection& connection_;
  protocol::request_key key_;
};

std::string describe_error(const protocol::protocol_error& e) {
  return std::string(protocol::to_string(e.code)) + " (" + std::string(protocol::describe(e.code)) +
         ") at byte " + std::to_string(e.offset) + ", request id " + std::to_string(e.request_id);
}

std::string milliseconds_text(clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

std::uint32_t invoke_handler(const server::handler& handler, request& req, response& res,
                             const shared_state& shared) {
  std::uint32_t app_status = 0;
  try {
    handler(req, res);
  } catch (const std::exception& e) {
    shared.log(std::string("handler threw: ") + e.what() + " (" + describe(req) + ")");
    app_status = 1;
  } catch (...) {
    shared.log("handler threw a non-exception (" + describe(req) + ")");
    app_status = 1;
  }
  if (app_status != 0 && !res.ended()) {
    // HOSTILE C-32: a 500 without detail if nothing was sent, a note on STDERR, status != 0.
    if (!res.head_sent()) {
      res.status(500, "Internal Server Error").header("Content-Type", "text/plain");
    }
    res.error_log("fcgikit: the request handler failed\n");
  }
  return app_status;
}

std::string_view target_of(const request& req) noexcept {
  return req.request_uri().empty() ? req.script_name() : req.request_uri();
}

std::string describe(const request& req) {
  const std::string_view uri = target_of(req);
  std::string text(req.method());
  if (!text.empty()) text += ' ';
  text += uri.empty() ? std::string_view("(no REQUEST_URI or SCRIPT_NAME)") : uri;
  return text;
}

const server_config& connection::config() const noexcept { return owner_.shared.config; }
shared_state& connection::shared() const noexcept { return owner_.shared; }
asio::io_context& connection::context() const noexcept { return owner_.io; }

connection::connection(worker& owner, int fd, std::string peer)
    : owner_(owner),
      socket_(owner.io, fd),
      peer_(std::move(peer)),
      protocol_(owner.shared.config.protocol),
      last_input_(clock::now()),
      last_output_(last_input_) {
  // The output buffer is kept however large it grew while the connection is busy (a 1 MiB
  // response no longer page-faults fresh memory each time); check_deadlines gives it back
  // once the connection idles.
  protocol_.output().set_retained_capacity(SIZE_MAX);
  owner_.add(*this);
}

connection::~connection() { owner_.remove(*this); }

void connection::start() {
  self_ = shared_from_this();
  wait_readable();
}

void connection::wait_readable() {
  if (read_armed_ || closed_) return;
  read_armed_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->read_armed_ = false;
                       if (!ec) self->on_readable();
                     });
}

void connection::wait_writable() {
  if (write_armed_ || closed_) return;
  write_armed_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->write_armed_ = false;
                       if (!ec) self->after_io();
                     });
}

void connection::on_readable() {
  std::byte* buffer = owner_.read_buffer.get();
  // Reads until a read comes back short: the socket is drained for now, and reading again
  // would only fetch EAGAIN (one wasted system call per request). This is safe although the
  // reactor is edge-triggered because every wait_readable() is an async_wait, for which Asio
  // 1.81's epoll_reactor::start_op always re-arms with EPOLL_CTL_MOD, and the kernel's
  // ep_modify() polls the socket and reports it at once if bytes or an EOF are already
  // pending (a FIN that came with the last bytes is not lost). A full read may leave more.
  for (;;) {
    const ssize_t n = ::read(socket_.native_handle(), buffer, worker::read_buffer_size);
    if (n > 0) {
      last_input_ = clock::now();
      feed({buffer, static_cast<std::size_t>(n)});
      if (closed_) return;
      track_header_phase();
      if (input_paused_) break;  // resumed by resume_input_if_drained
      if (static_cast<std::size_t>(n) < worker::read_buffer_size) break;
      continue;
    }
    if (n == 0) {
      // The web server closed: every request on the connection is cancelled (HOSTILE C-38).
      close();
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    close("read failed");
    return;
  }
  after_io();
}

void connection::after_io() {
  if (closed_) return;
  flush();
  if (closed_) return;
  if (protocol_.wants_close() && protocol_.output().empty()) {
    close();
    return;
  }
  // Stopping: close once idle, but not under a request whose records are still arriving.
  if (stopping_ && had_request_ && requests_.empty() && protocol_.active_requests() == 0 &&
      protocol_.output().empty()) {
    close();
    return;
  }
  if (!input_paused_) wait_readable();
}

void connection::feed(protocol::bytes_view input) {
  in_feed_ = true;
  for (app_event ev = protocol_.next_event(input); ev.kind != app_event_kind::need_more;
       ev = protocol_.next_event(input)) {
    on_event(ev);
    if (closed_ || ev.kind == app_event_kind::connection_error) break;
  }
  in_feed_ = false;
}

void connection::on_event(const app_event& ev) {
  switch (ev.kind) {
    case app_event_kind::need_more: break;
    case app_event_kind::params_ready: on_params_ready(ev); break;
    case app_event_kind::stdin_chunk: on_input_chunk(ev, false); break;
    case app_event_kind::data_chunk: on_input_chunk(ev, true); break;
    case app_event_kind::stdin_end: on_input_end(ev, false); break;
    case app_event_kind::data_end: on_input_end(ev, true); break;
    case app_event_kind::request_aborted:
      if (request_state* state = find(ev.request)) {
        state->aborted = true;
        if (state->async) {
          state->async->abort();  // its coroutine ends it (spec 5.4)
          break;
        }
        // Answer for it now (spec 5.4): it is still waiting for input, or its handler on this
        // thread has returned and left output unsent, or its pool handler is running (it is
        // cancelled and what it writes from now on is dropped).
        end_request(ev.request, owner_.shared.config.protocol.error_app_status);
      }
      break;
    case app_event_kind::request_failed:
      ++owner_.shared.protocol_errors;
      owner_.shared.log("request failed: " + describe_error(ev.error) + " from " + peer_name());
      if (request_state* state = find(ev.request); state != nullptr && state->async) {
        state->async->abort();
      }
      forget(ev.request);
      break;
    case app_event_kind::request_rejected: break;
    case app_event_kind::connection_error:
      ++owner_.shared.protocol_errors;
      close("protocol error: " + describe_error(ev.error));
      break;
  }
}

void connection::on_params_ready(const app_event& ev) {
  shared_state& shared = owner_.shared;
  // During a stop, a request that reaches a connection still open is served, and the connection
  // closes once idle (after_io). The web server sent it before it could know: the first request
  // of a connection accepted before the stop (on a socket shared with the processes replacing
  // this one: an fcgi-pm reload, HOSTILE E-59), or the next request on a kept connection that
  // was busy when the stop began. Refusing it (OVERLOADED) fails it: nginx answers 502 and does
  // not retry. A web server sends one request at a time per connection, so this is at most one
  // request more per connection, and stop_grace bounds the whole stop.
  had_request_ = true;
  if (shared.requests_in_flight.load(std::memory_order_relaxed) >= shared.config.max_requests) {
    ++shared.requests_overloaded;
    protocol_.reject_request(ev.request, protocol::protocol_status::overloaded);
    return;
  }
  shared.requests_in_flight.fetch_add(1, std::memory_order_relaxed);
  request_state& state = requests_.emplace_back();
  state.key = ev.request;
  // Spec 6.3: an Authorizer gets no STDIN (Apache's mod_authnz_fcgi sends none; lighttpd sends
  // an empty one, which then finds the request ended and is ignored): it runs on its params.
  const bool input_complete = ev.request_role == protocol::role::authorizer;
  const async_handler& coroutine = shared.async_handlers[static_cast<std::size_t>(ev.request_role)];
  if (coroutine) {
    start_async(state, ev, coroutine);
    if (input_complete) {
      state.async->input_ended = true;
      state.async->released = true;
    }
    return;
  }
  state.req.emplace(ev.request_role, ev.params, ev.keep_conn);
  if (input_complete) run_handler(state);
}

std::string connection::peer_name() const { return peer_.empty() ? "a unix peer" : peer_; }

void connection::start_async(request_state& state, const app_event& ev, const async_handler& h) {
  state.running = true;  // it runs from now on: input deadlines are its own business
  state.started = clock::now();
  state.async = std::make_shared<async_state>(*this, ev.request, ev.request_role, ev.params,
                                              ev.keep_conn, owner_.io);
  // Posted, not started inline: co_spawn would run the handler inside this read loop, before
  // the rest of the bytes just read (often the whole body) were seen.
  boost::asio::post(owner_.io, [async = state.async, h, shared = &owner_.shared] {
    if (async->aborted) {  // aborted before it ran: answer for it (spec 5.4)
      async->output_sink.end(1);
      return;
    }
    boost::asio::co_spawn(
        async->input_signal.get_executor(), run_coroutine(async, h, shared),
        boost::asio::bind_cancellation_slot(async->cancel.slot(), boost::asio::detached));
  });
}

void connection::on_input_chunk(const app_event& ev, bool is_data) {
  request_state* state = find(ev.request);
  if (state == nullptr) return;
  if (state->async) {
    std::string& pending = is_data ? state->async->data : state->async->input;
    pending.append(protocol::as_chars(ev.bytes));
    state->async->wake_readers();
    if (pending.size() > owner_.shared.config.max_unread_input) input_paused_ = true;
    return;
  }
  std::string& buffer = is_data ? state->req->data_buffer() : state->req->body_buffer();
  const std::size_t max_body = owner_.shared.config.max_body_bytes;
  if (buffer.size() + ev.bytes.size() > max_body) {
    connection_sink sink(*this, ev.request);
    response res(sink);
    res.status(413, "Content Too Large").header("Content-Type", "text/plain");
    res.write("request body too large\n");
    res.end(1);
    return;
  }
  const std::size_t wanted = buffer.size() + ev.bytes.size();
  if (!is_data && buffer.capacity() < wanted) {
    // Grow towards CONTENT_LENGTH at once instead of by doubling (which copies about twice
    // the body), but at most reserve_ahead past what has arrived: a peer that declares
    // 64 MiB and sends one byte gets 1 MiB reserved, not 64. CONTENT_LENGTH was validated by
    // the protocol layer, which also holds STDIN to it.
    if (const std::optional<std::uint64_t> length = state->req->content_length()) {
      const std::uint64_t declared = std::min<std::uint64_t>(*length, max_body);
      const std::uint64_t ahead = std::max<std::uint64_t>(wanted + reserve_ahead, 2 * wanted);
      buffer.reserve(
          static_cast<std::size_t>(std::max<std::uint64_t>(std::min(declared, ahead), wanted)));
    }
  }
  buffer.append(protocol::as_chars(ev.bytes));
}

void connection::on_input_end(const app_event& ev, bool is_data) {
  request_state* state = find(ev.request);
  if (state == nullptr) return;
  if (state->async) {
    const std::shared_ptr<async_state> async = state->async;
    if (is_data) {
      async->data_ended = true;
    } else {
      async->input_ended = true;
      async->released = true;  // the body is complete: held output may go out now
      pump_held_output(*async);
    }
    async->wake_readers();
    return;
  }
  // A Filter's input ends with DATA (spec 6.4); every other role's with STDIN.
  const bool is_filter = state->req->role() == protocol::role::filter;
  if (is_filter != is_data) return;
  run_handler(*state);
}

void connection::run_handler(request_state& state) {
  state.running = true;
  shared_state& shared = owner_.shared;
  const server::handler& handler = shared.handlers[static_cast<std::size_t>(state.req->role())];
  if (shared.pool) {
    state.started = clock::now();
    state.pool =
        std::make_shared<pool_job>(*this, state.key, *state.req, handler, describe(*state.req));
    state.req.reset();
    shared.pool->submit(state.pool);
    return;
  }
  const protocol::request_key key = state.key;
  // The handler may close this connection (a failed write), which drops `state`: work on a
  // moved-out request. Its params stay valid: they live in the protocol's request slot, which
  // nothing frees while the handler runs.
  request req = std::move(*state.req);
  connection_sink sink(*this, key);
  response res(sink);
  const std::chrono::milliseconds limit = shared.config.request_timeout;
  const clock::time_point began = limit.count() > 0 ? clock::now() : clock::time_point{};
  // A handler that blocks this thread stops its heartbeat: the process manager's scoreboard
  // then shows what it is running and since when (a slow log, and a reason to replace it).
  if (shared.scoreboard)
    shared.scoreboard->handler_started(owner_.index, req.method(), target_of(req));
  res.end(invoke_handler(handler, req, res, shared));  // no-op when the handler ended it
  if (shared.scoreboard) shared.scoreboard->handler_finished(owner_.index);
  if (limit.count() > 0 && clock::now() - began > limit) {
    shared.log("request_timeout (" + milliseconds_text(limit) + ") passed: " + describe(req) +
               " ran " + milliseconds_text(clock::now() - began) +
               " on an I/O thread, which cannot interrupt it and served nothing else meanwhile; "
               "run blocking handlers with handler_threads or as coroutines");
  }
}

bool connection::write_stdout(protocol::request_key key, std::string_view bytes) {
  if (closed_) return false;
  if (protocol_.write_stdout(key, protocol::as_bytes(bytes)) != protocol::errc{}) return false;
  if (protocol_.output().size() >= eager_flush_bytes) flush();
  return !closed_;
}

bool connection::write_stdout_or_spill(protocol::request_key key, std::string_view bytes) {
  const std::size_t bound = owner_.shared.config.held_output_memory;
  const std::size_t flush_at = std::min(eager_flush_bytes, bound);
  while (!bytes.empty()) {
    if (protocol_.output().size() >= flush_at) flush();
    if (closed_) return false;
    // Looked up again each turn: a flush may end other requests, moving this one in requests_.
    request_state* state = find(key);
    if (state == nullptr || state->aborted) return false;
    const std::size_t queued = protocol_.output().size();
    if ((state->spill && !state->spill->empty()) || queued >= bound) {
      return spill_stdout(*state, bytes);  // after what is spilled already: order is kept
    }
    const std::string_view piece = bytes.substr(0, bound - queued);
    if (protocol_.write_stdout(key, protocol::as_bytes(piece)) != protocol::errc{}) return false;
    bytes.remove_prefix(piece.size());
  }
  if (protocol_.output().size() >= flush_at) flush();
  return !closed_;
}

bool connection::spill_stdout(request_state& state, std::string_view bytes) {
  if (!state.spill) state.spill = std::make_unique<held_output>();
  if (state.spill->append(bytes, 0)) return true;
  owner_.shared.log("cannot write unsent output to a temp file in $TMPDIR or /tmp (" + peer_name() +
                    "); the request fails");
  state.aborted = true;  // its handler's writes fail; it ends with error_app_status
  state.spill.reset();
  return false;
}

void connection::finish_request(protocol::request_key key, std::uint32_t app_status) {
  request_state* state = find(key);
  if (state != nullptr && !state->aborted && state->spill && !state->spill->empty()) {
    state->end_status = app_status;  // pump_spilled ends it once the temp file is sent
    return;
  }
  const bool failed = state != nullptr && state->aborted;
  end_request(key, failed ? owner_.shared.config.protocol.error_app_status : app_status);
}

void connection::pump_spilled(protocol::request_key key) {
  request_state* state = find(key);
  if (state == nullptr || !state->spill) return;
  if (!send_held(key, *state->spill, owner_.shared.config.held_output_memory)) {
    owner_.shared.log("cannot read spilled output back from its temp file; the request fails (" +
                      peer_name() + ")");
    state->aborted = true;
    state->spill.reset();
  } else if (state->spill->empty()) {
    state->spill.reset();
  } else {
    return;
  }
  if (state->end_status) finish_request(key, *state->end_status);
}

bool connection::send_held(protocol::request_key key, held_output& held, std::size_t bound) {
  const std::string memory = held.take_memory();
  protocol_.write_stdout(key, protocol::as_bytes(memory));
  std::string chunk;
  while (held.spilling() && protocol_.output().size() < bound) {
    if (!held.read_spilled(chunk, std::min<std::size_t>(64 * 1024, bound))) return false;
    protocol_.write_stdout(key, protocol::as_bytes(chunk));
  }
  return true;
}

void connection::on_pool_output(pool_job& job) {
  if (closed_) return;  // close() cancelled the job
  pump_pool_output(job);
  after_io();
}

void connection::pump_pool_output(pool_job& job) {
  const protocol::request_key key = job.key();
  if (find(key) == nullptr) {  // ended (timeout, abort): what the handler writes is dropped
    job.discard();
    return;
  }
  const std::size_t bound = owner_.shared.config.max_output_buffer;
  const std::optional<std::uint32_t> ended = job.take_output(
      [this, key](bool to_stderr, std::string_view bytes) {
        if (to_stderr) {
          protocol_.write_stderr(key, protocol::as_bytes(bytes));
        } else {
          protocol_.write_stdout(key, protocol::as_bytes(bytes));
        }
      },
      [this, bound] { return protocol_.output().empty() || protocol_.output().size() < bound; });
  if (ended) end_request(key, *ended);
}

bool connection::write_stderr(protocol::request_key key, std::string_view bytes) {
  if (closed_) return false;
  return protocol_.write_stderr(key, protocol::as_bytes(bytes)) == protocol::errc{};
}

void connection::end_request(protocol::request_key key, std::uint32_t app_status) {
  if (closed_) return;
  if (protocol_.end_request(key, app_status) == protocol::errc{}) {
    ++owner_.shared.requests_completed;
  }
  forget(key);
  // Outside the read loop (e.g. a later completion) nothing else would send the answer.
  if (!in_feed_) after_io();
}

bool connection::request_aborted(protocol::request_key key) const noexcept {
  for (const request_state& state : requests_) {
    if (state.key == key) return state.aborted || closed_;
  }
  return true;  // ended or unknown: nothing more can be written
}

connection::request_state* connection::find(protocol::request_key key) noexcept {
  for (request_state& state : requests_) {
    if (state.key == key) return &state;
  }
  return nullptr;
}

void connection::forget(protocol::request_key key) noexcept {
  const auto it = std::find_if(requests_.begin(), requests_.end(),
                               [key](const request_state& s) { return s.key == key; });
  if (it == requests_.end()) return;
  if (it->pool) it->pool->cancel();  // over for the web server: its handler's writes now fail
  requests_.erase(it);
  owner_.shared.requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void connection::flush() {
  protocol::output_queue& out = protocol_.output();
  while (!out.empty()) {
    const runtime::write_outcome written = runtime::write_pending(socket_.native_handle(), out);
    if (written.error == EAGAIN) {
      wait_writable();
      return;
    }
    if (written.error != 0 || written.bytes == 0) {
      close("write failed");
      return;
    }
    last_output_ = clock::now();
    if (out.size() <= owner_.shared.config.max_output_buffer) after_output_progress();
    if (closed_) return;
  }
}

void connection::after_output_progress() {
  if (pumping_) return;
  // By index, not range-for: pumping may end a request (erasing it from requests_) or close
  // the connection (emptying requests_); an index re-checked each turn stays valid.
  // NOLINTNEXTLINE(modernize-loop-convert): the body erases from requests_ (see above)
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    request_state& r = requests_[i];
    if (const std::shared_ptr<async_state> async = r.async) {
      if (!async->held.empty() || async->end_status) pump_held_output(*async);
      async->wake_writers();
    } else if (r.pool && r.pool->backlog) {
      const std::shared_ptr<pool_job> job = r.pool;
      pump_pool_output(*job);
    } else if (r.spill) {
      pump_spilled(r.key);
    }
  }
}

void connection::pump_held_output(async_state& state) {
  if (closed_ || pumping_) return;
  pumping_ = true;
  const std::size_t bound = owner_.shared.config.max_output_buffer;
  if (state.aborted) {
    while (!state.held.empty()) {  // an aborted request's output is dropped
      state.held.take_memory();
      std::string skip;
      if (!state.held.read_spilled(skip, 1U << 20U)) break;
    }
  } else if (state.released && !send_held(state.key, state.held, bound)) {
    state.abort();
  }
  const bool finished = (state.released || state.aborted) && state.held.empty() && state.end_status;
  pumping_ = false;
  if (finished) {
    const std::uint32_t status = *std::exchange(state.end_status, std::nullopt);
    end_request(state.key, status);  // flushes when outside the read loop
  } else if (!in_feed_) {
    after_io();
  }
  resume_input_if_drained();
}

void connection::resume_input_if_drained() {
  if (!input_paused_ || closed_) return;
  const std::size_t limit = owner_.shared.config.max_unread_input / 2;
  for (const request_state& r : requests_) {
    if (r.async && (r.async->input.size() > limit || r.async->data.size() > limit)) return;
  }
  input_paused_ = false;
  // Bytes may be waiting already and the reactor reports readiness edges only: read now.
  boost::asio::post(owner_.io, [self = shared_from_this()] {
    if (!self->closed_ && !self->input_paused_) self->on_readable();
  });
}

void connection::track_header_phase() {
  const bool in_header = protocol_.active_requests() > requests_.size() ||
                         (requests_.empty() && protocol_.mid_record());
  if (!in_header) {
    header_since_ = {};
  } else if (header_since_ == clock::time_point{}) {
    header_since_ = last_input_;
  }
}

void connection::check_deadlines(clock::time_point now) {
  if (closed_) return;
  const server_config& config = owner_.shared.config;
  if (stopping_ && !had_request_ && protocol_.active_requests() == 0 &&
      now - stop_since_ >= first_request_grace) {
    close();
    return;
  }
  track_header_phase();
  if (header_since_ != clock::time_point{} && now - header_since_ > config.params_timeout) {
    close("request params not complete within params_timeout");
    return;
  }
  if (config.request_timeout.count() > 0) end_overdue_requests(now);
  if (closed_) return;
  if (!protocol_.output().empty()) {
    if (now - last_output_ > config.output_timeout) close("output not read within output_timeout");
    return;
  }
  // A request waits for input until its handler runs (plain handlers) or until its body has
  // ended (coroutine handlers, which run while it arrives).
  const bool waiting_for_input = std::any_of(
      requests_.begin(), requests_.end(),
      [](const request_state& s) { return s.async ? !s.async->input_ended : !s.running; });
  if (waiting_for_input || protocol_.active_requests() != requests_.size()) {
    if (now - last_input_ > config.input_timeout) close("request input stalled past input_timeout");
    return;
  }
  if (requests_.empty() && now - last_input_ > config.idle_timeout) {
    close();
    return;
  }
  // Idle since the last sweep: give back what it kept for its next request (the output
  // buffer, params buffers), so thousands of idle connections hold almost nothing.
  if (requests_.empty() && protocol_.active_requests() == 0 && now - last_input_ >= idle_release &&
      now - last_output_ >= idle_release) {
    protocol_.release_idle_memory();
  }
}

void connection::end_overdue_requests(clock::time_point now) {
  const server_config& config = owner_.shared.config;
  std::vector<protocol::request_key> overdue;
  for (const request_state& s : requests_) {
    // Only handlers still running: pool handlers that have not returned, coroutines that have
    // not ended (an ended one may still be sending, which output_timeout watches).
    const bool handler_running = s.pool ? !s.pool->finished() : s.async && !s.async->end_status;
    if (handler_running && now - s.started > config.request_timeout) overdue.push_back(s.key);
  }
  for (const protocol::request_key key : overdue) {
    request_state* s = find(key);
    if (s == nullptr) continue;
    const std::uint32_t status = config.protocol.error_app_status;
    owner_.shared.log("request_timeout (" + milliseconds_text(config.request_timeout) +
                      ") passed: " + (s->pool ? s->pool->name() : describe(s->async->req)) +
                      " ran " + milliseconds_text(now - s->started) +
                      "; cancelled it and ended it with app status " + std::to_string(status) +
                      " (" + peer_name() + ")");
    if (s->async) s->async->abort();  // a pool job is cancelled as end_request forgets it
    protocol_.write_stderr(
        key, protocol::as_bytes(
                 std::string_view("fcgikit: request_timeout passed; the request was cancelled\n")));
    end_request(key, status);
    if (closed_) return;
  }
}

void connection::begin_stop() {
  stopping_ = true;
  stop_since_ = clock::now();
  // A connection that has not carried a request yet stays open for its first one (see
  // on_params_ready); check_deadlines closes it after first_request_grace.
  if (had_request_ && requests_.empty() && protocol_.active_requests() == 0 &&
      protocol_.output().empty()) {
    close();
  }
}

void connection::close(std::string_view why) {
  if (closed_) return;
  closed_ = true;
  if (!why.empty()) owner_.shared.log(std::string(why) + " (" + peer_name() + "), closing");
  const std::vector<request_state> dropped = std::move(requests_);
  requests_.clear();
  for (const request_state& state : dropped) {
    owner_.shared.requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
    // The web server is gone: cancel its coroutine or its pool handler.
    if (state.async) state.async->abort();
    if (state.pool) state.pool->cancel();
  }
  protocol_.output().clear();
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
  owner_.shared.connections.fetch_sub(1, std::memory_order_relaxed);
  self_.reset();  // every caller holds its own reference until it returns
}

}  // namespace fcgi::detail
